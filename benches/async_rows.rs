//! The async rows of the comparison: tasks on a tokio runtime with two
//! workers sending and receiving through each peer's async API, and a thread
//! sending into a task.

use std::future::Future;
use std::time::{Duration, Instant};

/// A channel with async handles, as a workload sees it.
pub trait AsyncPeer: 'static {
    const NAME: &'static str;
    type Tx: Clone + Send + Sync + 'static;
    type Rx: Send + 'static;
    fn bounded(cap: usize) -> (Self::Tx, Self::Rx);
    fn send(tx: &Self::Tx, value: usize) -> impl Future<Output = ()> + Send + '_;
    /// `None` once every sender is gone and the channel is empty.
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = Option<usize>> + Send + '_;
    /// A send from a plain thread, outside the runtime.
    fn send_blocking(tx: &Self::Tx, value: usize);
    /// A second receiver, or `None` where the channel has a single consumer.
    fn clone_rx(rx: &Self::Rx) -> Option<Self::Rx>;
}

pub struct Weir;
impl AsyncPeer for Weir {
    const NAME: &'static str = "weir";
    type Tx = weir::Sender<usize>;
    type Rx = weir::Receiver<usize>;
    fn bounded(cap: usize) -> (Self::Tx, Self::Rx) {
        weir::bounded(cap)
    }
    async fn send(tx: &Self::Tx, value: usize) {
        tx.send_async(value).await.unwrap();
    }
    async fn recv(rx: &mut Self::Rx) -> Option<usize> {
        rx.recv_async().await.ok()
    }
    fn send_blocking(tx: &Self::Tx, value: usize) {
        tx.send(value).unwrap();
    }
    fn clone_rx(rx: &Self::Rx) -> Option<Self::Rx> {
        Some(rx.clone())
    }
}

pub struct Tokio;
impl AsyncPeer for Tokio {
    const NAME: &'static str = "tokio";
    type Tx = tokio::sync::mpsc::Sender<usize>;
    type Rx = tokio::sync::mpsc::Receiver<usize>;
    fn bounded(cap: usize) -> (Self::Tx, Self::Rx) {
        tokio::sync::mpsc::channel(cap)
    }
    async fn send(tx: &Self::Tx, value: usize) {
        tx.send(value).await.unwrap();
    }
    async fn recv(rx: &mut Self::Rx) -> Option<usize> {
        rx.recv().await
    }
    fn send_blocking(tx: &Self::Tx, value: usize) {
        tx.blocking_send(value).unwrap();
    }
    fn clone_rx(_: &Self::Rx) -> Option<Self::Rx> {
        None
    }
}

pub struct AsyncChannel;
impl AsyncPeer for AsyncChannel {
    const NAME: &'static str = "async-channel";
    type Tx = async_channel::Sender<usize>;
    type Rx = async_channel::Receiver<usize>;
    fn bounded(cap: usize) -> (Self::Tx, Self::Rx) {
        async_channel::bounded(cap)
    }
    async fn send(tx: &Self::Tx, value: usize) {
        tx.send(value).await.unwrap();
    }
    async fn recv(rx: &mut Self::Rx) -> Option<usize> {
        rx.recv().await.ok()
    }
    fn send_blocking(tx: &Self::Tx, value: usize) {
        tx.send_blocking(value).unwrap();
    }
    fn clone_rx(rx: &Self::Rx) -> Option<Self::Rx> {
        Some(rx.clone())
    }
}

pub struct Flume;
impl AsyncPeer for Flume {
    const NAME: &'static str = "flume";
    type Tx = flume::Sender<usize>;
    type Rx = flume::Receiver<usize>;
    fn bounded(cap: usize) -> (Self::Tx, Self::Rx) {
        flume::bounded(cap)
    }
    async fn send(tx: &Self::Tx, value: usize) {
        tx.send_async(value).await.unwrap();
    }
    async fn recv(rx: &mut Self::Rx) -> Option<usize> {
        rx.recv_async().await.ok()
    }
    fn send_blocking(tx: &Self::Tx, value: usize) {
        tx.send(value).unwrap();
    }
    fn clone_rx(rx: &Self::Rx) -> Option<Self::Rx> {
        Some(rx.clone())
    }
}

pub struct Kanal;
impl AsyncPeer for Kanal {
    const NAME: &'static str = "kanal";
    type Tx = kanal::AsyncSender<usize>;
    type Rx = kanal::AsyncReceiver<usize>;
    fn bounded(cap: usize) -> (Self::Tx, Self::Rx) {
        kanal::bounded_async(cap)
    }
    async fn send(tx: &Self::Tx, value: usize) {
        tx.send(value).await.unwrap();
    }
    async fn recv(rx: &mut Self::Rx) -> Option<usize> {
        rx.recv().await.ok()
    }
    fn send_blocking(tx: &Self::Tx, value: usize) {
        tx.as_sync().send(value).unwrap();
    }
    fn clone_rx(rx: &Self::Rx) -> Option<Self::Rx> {
        Some(rx.clone())
    }
}

pub const ASYNC_PEERS: [&str; 5] = ["weir", "tokio", "async-channel", "flume", "kanal"];

/// One async workload.
#[derive(Clone, Copy)]
pub struct AsyncWork {
    pub cap: usize,
    /// Producer tasks; 0 means one producer on a plain thread.
    pub producers: usize,
    pub consumers: usize,
    pub n: usize,
}

impl AsyncWork {
    pub fn label(&self) -> String {
        let kind = match (self.producers, self.consumers) {
            (0, _) => "thread → task".to_string(),
            (1, 1) => "spsc".to_string(),
            (p, 1) => format!("mpsc {p}:1"),
            (p, c) => format!("mpmc {p}:{c}"),
        };
        format!("async {kind} cap {}", self.cap)
    }

    /// Rate (messages per second) of peer `i`, or `None` where it has no
    /// such shape.
    pub fn run(&self, rt: &tokio::runtime::Runtime, i: usize) -> Option<f64> {
        let d = match i {
            0 => self.run_peer::<Weir>(rt),
            1 => self.run_peer::<Tokio>(rt),
            2 => self.run_peer::<AsyncChannel>(rt),
            3 => self.run_peer::<Flume>(rt),
            _ => self.run_peer::<Kanal>(rt),
        }?;
        Some(self.n as f64 / d.as_secs_f64().max(1e-9))
    }

    /// Producers send `n` values in all, each its own range in order, to
    /// consumers that receive until the channel disconnects. Checks the
    /// count, the sum and FIFO order per producer per consumer.
    fn run_peer<P: AsyncPeer>(&self, rt: &tokio::runtime::Runtime) -> Option<Duration> {
        let (tx, rx) = P::bounded(self.cap);
        let mut rxs = Vec::with_capacity(self.consumers);
        for _ in 1..self.consumers {
            rxs.push(P::clone_rx(&rx)?);
        }
        rxs.push(rx);
        let producers = self.producers.max(1);
        let per = self.n / producers;
        let start = Instant::now();
        let consumers: Vec<_> = rxs
            .into_iter()
            .map(|mut rx| {
                rt.spawn(async move {
                    let mut last = vec![None::<usize>; producers];
                    let (mut count, mut sum) = (0usize, 0usize);
                    while let Some(v) = P::recv(&mut rx).await {
                        let p = v / per;
                        assert!(last[p].is_none_or(|l| l < v), "{}: FIFO", P::NAME);
                        last[p] = Some(v);
                        count += 1;
                        sum = sum.wrapping_add(v);
                    }
                    (count, sum)
                })
            })
            .collect();
        let thread = if self.producers == 0 {
            Some(std::thread::spawn(move || {
                for v in 0..per {
                    P::send_blocking(&tx, v);
                }
            }))
        } else {
            for p in 0..producers {
                let tx = tx.clone();
                rt.spawn(async move {
                    for v in p * per..(p + 1) * per {
                        P::send(&tx, v).await;
                    }
                });
            }
            drop(tx);
            None
        };
        let (count, sum) = rt.block_on(async {
            let (mut count, mut sum) = (0usize, 0usize);
            for c in consumers {
                let (n, s) = c.await.unwrap();
                count += n;
                sum = sum.wrapping_add(s);
            }
            (count, sum)
        });
        let elapsed = start.elapsed();
        if let Some(t) = thread {
            t.join().unwrap();
        }
        let n = per * producers;
        assert_eq!(count, n, "{}: count", P::NAME);
        assert_eq!(
            sum,
            (0..n).fold(0usize, |a, v| a.wrapping_add(v)),
            "{}: sum",
            P::NAME
        );
        Some(elapsed)
    }
}

/// The async workloads, `n` shortened by `k`.
pub fn async_works(k: impl Fn(usize) -> usize) -> Vec<AsyncWork> {
    let mut works = Vec::new();
    for (producers, consumers) in [(1, 1), (4, 1), (4, 4), (0, 1)] {
        for cap in [1, 1024] {
            let n = if cap == 1 { 1 << 17 } else { 1 << 20 };
            works.push(AsyncWork {
                cap,
                producers,
                consumers,
                n: k(n),
            });
        }
    }
    works
}

/// The tokio runtime the async rows run on: two workers.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("a tokio runtime")
}
