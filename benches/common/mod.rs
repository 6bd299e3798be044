//! Workloads shared by the criterion benches and the `compare` summary.
//!
//! Every channel under test is wrapped by the `peer!` macro into a `Peer`
//! impl, so each workload is one generic body stamped per implementation.
//! Every workload checks what it received (count, sum, and FIFO order per
//! producer) and returns only the time of the transfer: threads meet at a
//! `Barrier`, each takes its own start and end instants, and the transfer
//! spans the earliest start to the latest end.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;

/// A bounded channel of `usize` as the workloads see it.
pub trait Peer: 'static {
    const NAME: &'static str;
    type Tx: Clone + Send + 'static;
    type Rx: Send + 'static;
    fn bounded(cap: usize) -> (Self::Tx, Self::Rx);
    fn send(tx: &Self::Tx, value: usize);
    /// `None` once every sender is gone and the channel is empty.
    fn recv(rx: &Self::Rx) -> Option<usize>;
    /// A second receiver, or `None` where the channel has a single consumer.
    fn clone_rx(rx: &Self::Rx) -> Option<Self::Rx>;
}

/// Stamps a `Peer` impl: the same workload bodies then run on every channel.
macro_rules! peer {
    ($ty:ident, $name:literal, $tx:ty, $rx:ty,
     new = $new:expr, send = $send:expr, recv = $recv:expr, clone_rx = $clone:expr) => {
        pub struct $ty;
        impl Peer for $ty {
            const NAME: &'static str = $name;
            type Tx = $tx;
            type Rx = $rx;
            #[inline]
            fn bounded(cap: usize) -> (Self::Tx, Self::Rx) {
                ($new)(cap)
            }
            #[inline]
            fn send(tx: &Self::Tx, value: usize) {
                ($send)(tx, value)
            }
            #[inline]
            fn recv(rx: &Self::Rx) -> Option<usize> {
                ($recv)(rx)
            }
            #[inline]
            fn clone_rx(rx: &Self::Rx) -> Option<Self::Rx> {
                ($clone)(rx)
            }
        }
    };
}

peer!(
    Weir,
    "weir",
    weir::Sender<usize>,
    weir::Receiver<usize>,
    new = weir::bounded::<usize, weir::Block>,
    send = |tx: &weir::Sender<usize>, v| tx.send(v).unwrap(),
    recv = |rx: &weir::Receiver<usize>| rx.recv().ok(),
    clone_rx = |rx: &weir::Receiver<usize>| Some(rx.clone())
);

peer!(
    Crossbeam,
    "crossbeam",
    crossbeam_channel::Sender<usize>,
    crossbeam_channel::Receiver<usize>,
    new = crossbeam_channel::bounded::<usize>,
    send = |tx: &crossbeam_channel::Sender<usize>, v| tx.send(v).unwrap(),
    recv = |rx: &crossbeam_channel::Receiver<usize>| rx.recv().ok(),
    clone_rx = |rx: &crossbeam_channel::Receiver<usize>| Some(rx.clone())
);

peer!(
    Std,
    "std",
    std::sync::mpsc::SyncSender<usize>,
    std::sync::mpsc::Receiver<usize>,
    new = std::sync::mpsc::sync_channel::<usize>,
    send = |tx: &std::sync::mpsc::SyncSender<usize>, v| tx.send(v).unwrap(),
    recv = |rx: &std::sync::mpsc::Receiver<usize>| rx.recv().ok(),
    clone_rx = |_: &std::sync::mpsc::Receiver<usize>| None
);

peer!(
    Flume,
    "flume",
    flume::Sender<usize>,
    flume::Receiver<usize>,
    new = flume::bounded::<usize>,
    send = |tx: &flume::Sender<usize>, v| tx.send(v).unwrap(),
    recv = |rx: &flume::Receiver<usize>| rx.recv().ok(),
    clone_rx = |rx: &flume::Receiver<usize>| Some(rx.clone())
);

peer!(
    Kanal,
    "kanal",
    kanal::Sender<usize>,
    kanal::Receiver<usize>,
    new = kanal::bounded::<usize>,
    send = |tx: &kanal::Sender<usize>, v| tx.send(v).unwrap(),
    recv = |rx: &kanal::Receiver<usize>| rx.recv().ok(),
    clone_rx = |rx: &kanal::Receiver<usize>| Some(rx.clone())
);

/// One thread sends `cap` values then receives them, `n` values in all.
pub fn seq<P: Peer>(cap: usize, n: usize) -> Duration {
    let (tx, rx) = P::bounded(cap);
    let start = Instant::now();
    let mut next = 0;
    let mut expect = 0;
    while next < n {
        let chunk = cap.min(n - next);
        for _ in 0..chunk {
            P::send(&tx, next);
            next += 1;
        }
        for _ in 0..chunk {
            let v = P::recv(&rx).expect("a value was queued");
            assert_eq!(v, expect, "{}: seq out of order", P::NAME);
            expect += 1;
        }
    }
    let elapsed = start.elapsed();
    assert_eq!(expect, n);
    elapsed
}

/// The ceiling for `seq`: a plain `VecDeque` with the same push/pop loop.
pub fn seq_vecdeque(cap: usize, n: usize) -> Duration {
    let mut q = VecDeque::with_capacity(cap);
    let start = Instant::now();
    let mut next = 0;
    let mut expect = 0;
    while next < n {
        let chunk = cap.min(n - next);
        for _ in 0..chunk {
            black_box(&mut q).push_back(next);
            next += 1;
        }
        for _ in 0..chunk {
            let v = black_box(&mut q).pop_front().expect("a value was queued");
            assert_eq!(v, expect);
            expect += 1;
        }
    }
    let elapsed = start.elapsed();
    assert_eq!(expect, n);
    elapsed
}

/// `seq` on `crossbeam_queue::ArrayQueue` (no waiting, no disconnect).
pub fn seq_array_queue(cap: usize, n: usize) -> Duration {
    let q = ArrayQueue::new(cap);
    let start = Instant::now();
    let mut next = 0;
    let mut expect = 0;
    while next < n {
        let chunk = cap.min(n - next);
        for _ in 0..chunk {
            q.push(next).expect("room was left");
            next += 1;
        }
        for _ in 0..chunk {
            let v = q.pop().expect("a value was queued");
            assert_eq!(v, expect);
            expect += 1;
        }
    }
    let elapsed = start.elapsed();
    assert_eq!(expect, n);
    elapsed
}

/// `producers` threads send `n` values in all (each its own range, in order)
/// to `consumers` threads that receive until the channel disconnects.
/// Checks the count, the sum, and FIFO order per producer per consumer.
/// `None` where the peer has no multi-consumer receiver.
pub fn threads<P: Peer>(
    cap: usize,
    producers: usize,
    consumers: usize,
    n: usize,
) -> Option<Duration> {
    let per = n / producers;
    let n = per * producers;
    let (tx, rx) = P::bounded(cap);
    let mut rxs = Vec::with_capacity(consumers);
    for _ in 1..consumers {
        rxs.push(P::clone_rx(&rx)?);
    }
    rxs.push(rx);
    let barrier = Arc::new(Barrier::new(producers + consumers));
    let mut handles = Vec::new();
    for p in 0..producers {
        let tx = tx.clone();
        let barrier = barrier.clone();
        handles.push(thread::spawn(move || {
            barrier.wait();
            let start = Instant::now();
            for v in p * per..(p + 1) * per {
                P::send(&tx, v);
            }
            (start, Instant::now(), 0usize, 0usize)
        }));
    }
    drop(tx);
    for rx in rxs {
        let barrier = barrier.clone();
        handles.push(thread::spawn(move || {
            let mut last = vec![usize::MAX; producers];
            let (mut count, mut sum) = (0usize, 0usize);
            barrier.wait();
            let start = Instant::now();
            while let Some(v) = P::recv(&rx) {
                let p = v / per;
                assert!(
                    last[p] == usize::MAX || last[p] < v,
                    "{}: out of order",
                    P::NAME
                );
                last[p] = v;
                count += 1;
                sum = sum.wrapping_add(v);
            }
            (start, Instant::now(), count, sum)
        }));
    }
    let mut first = None::<Instant>;
    let mut end = None::<Instant>;
    let (mut count, mut sum) = (0usize, 0usize);
    for h in handles {
        let (s, e, c, x) = h.join().expect("a bench thread panicked");
        first = Some(first.map_or(s, |f| f.min(s)));
        end = Some(end.map_or(e, |f| f.max(e)));
        count += c;
        sum = sum.wrapping_add(x);
    }
    assert_eq!(count, n, "{}: lost or duplicated messages", P::NAME);
    assert_eq!(
        sum,
        n.wrapping_mul(n.wrapping_sub(1)) / 2,
        "{}: wrong values",
        P::NAME
    );
    Some(end.unwrap() - first.unwrap())
}

/// Round trips between two threads over two capacity-1 channels.
pub fn ping_pong<P: Peer>(trips: usize) -> Duration {
    let (tx_a, rx_a) = P::bounded(1);
    let (tx_b, rx_b) = P::bounded(1);
    let barrier = Arc::new(Barrier::new(2));
    let echo = {
        let barrier = barrier.clone();
        thread::spawn(move || {
            barrier.wait();
            while let Some(v) = P::recv(&rx_a) {
                P::send(&tx_b, v + 1);
            }
        })
    };
    barrier.wait();
    let start = Instant::now();
    for i in 0..trips {
        P::send(&tx_a, i);
        assert_eq!(P::recv(&rx_b), Some(i + 1), "{}: bad echo", P::NAME);
    }
    let elapsed = start.elapsed();
    drop(tx_a);
    echo.join().expect("echo thread panicked");
    elapsed
}

// ----- lossy channels: drop-oldest and drop-newest ---------------------------

/// A channel that never blocks its producers: it evicts or refuses.
pub trait Lossy: 'static {
    const NAME: &'static str;
    type Tx: Clone + Send + 'static;
    type Rx: Send + 'static;
    fn bounded(cap: usize, producers: usize) -> (Self::Tx, Self::Rx);
    /// Sends; returns how many values were handed back (evicted or refused).
    fn send(tx: &Self::Tx, value: usize) -> usize;
    /// Receives, waiting; `None` once every producer is done and it is empty.
    fn recv(rx: &Self::Rx) -> Option<usize>;
    /// Called by each producer when it is done (a channel disconnects by
    /// dropping the sender instead).
    fn done(tx: Self::Tx);
}

pub struct WeirDropOldest;
impl Lossy for WeirDropOldest {
    const NAME: &'static str = "weir DropOldest";
    type Tx = weir::Sender<usize, weir::DropOldest>;
    type Rx = weir::Receiver<usize>;
    fn bounded(cap: usize, _producers: usize) -> (Self::Tx, Self::Rx) {
        weir::bounded(cap)
    }
    #[inline]
    fn send(tx: &Self::Tx, value: usize) -> usize {
        usize::from(tx.send(value).unwrap().is_some())
    }
    #[inline]
    fn recv(rx: &Self::Rx) -> Option<usize> {
        rx.recv().ok()
    }
    fn done(tx: Self::Tx) {
        drop(tx)
    }
}

pub struct WeirDropNewest;
impl Lossy for WeirDropNewest {
    const NAME: &'static str = "weir DropNewest";
    type Tx = weir::Sender<usize, weir::DropNewest>;
    type Rx = weir::Receiver<usize>;
    fn bounded(cap: usize, _producers: usize) -> (Self::Tx, Self::Rx) {
        weir::bounded(cap)
    }
    #[inline]
    fn send(tx: &Self::Tx, value: usize) -> usize {
        match tx.send(value) {
            Ok(()) => 0,
            Err(weir::TrySendError::Full(_)) => 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    #[inline]
    fn recv(rx: &Self::Rx) -> Option<usize> {
        rx.recv().ok()
    }
    fn done(tx: Self::Tx) {
        drop(tx)
    }
}

pub struct CrossbeamTrySend;
impl Lossy for CrossbeamTrySend {
    const NAME: &'static str = "crossbeam try_send";
    type Tx = crossbeam_channel::Sender<usize>;
    type Rx = crossbeam_channel::Receiver<usize>;
    fn bounded(cap: usize, _producers: usize) -> (Self::Tx, Self::Rx) {
        crossbeam_channel::bounded(cap)
    }
    #[inline]
    fn send(tx: &Self::Tx, value: usize) -> usize {
        match tx.try_send(value) {
            Ok(()) => 0,
            Err(crossbeam_channel::TrySendError::Full(_)) => 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    #[inline]
    fn recv(rx: &Self::Rx) -> Option<usize> {
        rx.recv().ok()
    }
    fn done(tx: Self::Tx) {
        drop(tx)
    }
}

/// `ArrayQueue::force_push` with a consumer that polls: the queue has no
/// waiting, so the consumer spins and yields, and stops once every producer
/// has said it is done and the queue is empty.
pub struct ArrayQueueForcePush;
pub struct AqShared {
    queue: ArrayQueue<usize>,
    producers_left: std::sync::atomic::AtomicUsize,
}
#[derive(Clone)]
pub struct AqTx(Arc<AqShared>);
impl Lossy for ArrayQueueForcePush {
    const NAME: &'static str = "ArrayQueue::force_push";
    type Tx = AqTx;
    type Rx = Arc<AqShared>;
    fn bounded(cap: usize, producers: usize) -> (Self::Tx, Self::Rx) {
        let shared = Arc::new(AqShared {
            queue: ArrayQueue::new(cap),
            producers_left: std::sync::atomic::AtomicUsize::new(producers),
        });
        (AqTx(shared.clone()), shared)
    }
    #[inline]
    fn send(tx: &Self::Tx, value: usize) -> usize {
        usize::from(tx.0.queue.force_push(value).is_some())
    }
    #[inline]
    fn recv(rx: &Self::Rx) -> Option<usize> {
        let backoff = crossbeam_utils::Backoff::new();
        loop {
            if let Some(v) = rx.queue.pop() {
                return Some(v);
            }
            if rx.producers_left.load(Ordering::Acquire) == 0 {
                return rx.queue.pop();
            }
            backoff.snooze();
        }
    }
    fn done(tx: Self::Tx) {
        tx.0.producers_left.fetch_sub(1, Ordering::Release);
    }
}

/// What one lossy run measured.
#[derive(Debug, Clone, Copy)]
pub struct LossyRun {
    /// From the first producer's start to the last producer's end.
    pub producer_time: Duration,
    pub sent: usize,
    pub received: usize,
    pub handed_back: usize,
}

impl LossyRun {
    pub fn producer_rate(&self) -> f64 {
        self.sent as f64 / self.producer_time.as_secs_f64()
    }
    pub fn share(&self) -> f64 {
        self.received as f64 / self.sent as f64
    }
}

/// The consumer's fixed work per item.
#[inline(never)]
pub fn consumer_work(v: usize, rounds: u32) -> usize {
    let mut x = v;
    for _ in 0..rounds {
        x = black_box(x.wrapping_mul(31).wrapping_add(7));
    }
    x
}

/// `producers` threads each send `per_producer` values without waiting into
/// a ring of `cap`; one consumer receives with `work` rounds of work per item.
/// Checks received + handed back == sent.
pub fn lossy<L: Lossy>(cap: usize, producers: usize, per_producer: usize, work: u32) -> LossyRun {
    let (tx, rx) = L::bounded(cap, producers);
    let barrier = Arc::new(Barrier::new(producers + 1));
    // Producers start only once the consumer runs: otherwise a short run can
    // end before the scheduler gives the consumer a core at all.
    let consumer_running = Arc::new(AtomicBool::new(false));
    let consumer = {
        let barrier = barrier.clone();
        let running = consumer_running.clone();
        thread::spawn(move || {
            barrier.wait();
            running.store(true, Ordering::Release);
            let (mut count, mut acc) = (0usize, 0usize);
            while let Some(v) = L::recv(&rx) {
                acc = acc.wrapping_add(consumer_work(v, work));
                count += 1;
            }
            black_box(acc);
            count
        })
    };
    let mut handles = Vec::new();
    for _ in 0..producers {
        let tx = tx.clone();
        let barrier = barrier.clone();
        let running = consumer_running.clone();
        handles.push(thread::spawn(move || {
            barrier.wait();
            while !running.load(Ordering::Acquire) {
                thread::yield_now();
            }
            let start = Instant::now();
            let mut handed_back = 0;
            for v in 0..per_producer {
                handed_back += L::send(&tx, v);
            }
            let end = Instant::now();
            L::done(tx);
            (start, end, handed_back)
        }));
    }
    drop(tx);
    let mut first = None::<Instant>;
    let mut last = None::<Instant>;
    let mut handed_back = 0;
    for h in handles {
        let (s, e, hb) = h.join().expect("producer panicked");
        first = Some(first.map_or(s, |f| f.min(s)));
        last = Some(last.map_or(e, |f| f.max(e)));
        handed_back += hb;
    }
    let received = consumer.join().expect("consumer panicked");
    let sent = producers * per_producer;
    assert_eq!(
        received + handed_back,
        sent,
        "{}: received {received} + handed back {handed_back} != sent {sent}",
        L::NAME
    );
    LossyRun {
        producer_time: last.unwrap() - first.unwrap(),
        sent,
        received,
        handed_back,
    }
}
