//! Threads and tasks on one channel under real executors: tokio's
//! multi-thread runtime and futures' thread pool. Thread to task, task to
//! thread, tasks to tasks; mixed ends with per-producer FIFO at every
//! receiver; receives cancelled by timeouts and by `select!`, thousands of
//! times, losing nothing; disconnect both ways with tasks waiting; `forward`
//! from a stream into a sink; lossy policies waking async receivers; and the
//! accounting invariant for every policy with async receivers.
//!
//! Not run under Miri: the runtimes' own machinery dominates there. The same
//! paths run under Miri in `async_wait.rs`, on a hand-written executor.
#![cfg(not(miri))]

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use weir::{Block, DropNewest, DropOldest, Policy, RecvError, Sample, SendError, SendOutcome};

/// Messages per producer.
const MESSAGES: u64 = 20_000;

/// How long any one test may wait for a value before it counts as a hang.
const PATIENCE: Duration = Duration::from_secs(20);

/// A tokio runtime with two workers, as the async benchmark rows use.
fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .expect("a tokio runtime")
}

/// Receives until disconnected, checking that `producers` producers' values,
/// `(producer, seq)`, arrive in order; returns how many arrived.
async fn drain_checking_fifo(rx: weir::Receiver<(u64, u64)>, producers: usize) -> u64 {
    let mut last = vec![None::<u64>; producers];
    let mut count = 0;
    while let Ok((id, seq)) = rx.recv_async().await {
        let prev = last[id as usize].replace(seq);
        assert!(
            prev.map_or(true, |p| p < seq),
            "producer {id}: {prev:?} then {seq}"
        );
        count += 1;
    }
    count
}

/// The same on a thread.
fn drain_checking_fifo_blocking(rx: weir::Receiver<(u64, u64)>, producers: usize) -> u64 {
    let mut last = vec![None::<u64>; producers];
    let mut count = 0;
    loop {
        match rx.recv_timeout(PATIENCE) {
            Ok((id, seq)) => {
                let prev = last[id as usize].replace(seq);
                assert!(
                    prev.map_or(true, |p| p < seq),
                    "producer {id}: {prev:?} then {seq}"
                );
                count += 1;
            }
            Err(weir::RecvTimeoutError::Disconnected) => return count,
            Err(weir::RecvTimeoutError::Timeout) => panic!("a thread waited {PATIENCE:?}"),
        }
    }
}

#[test]
fn thread_to_task_on_tokio() {
    for cap in [1, 8] {
        let rt = tokio_rt();
        let (tx, rx) = weir::bounded::<(u64, u64), Block>(cap);
        let producer = thread::spawn(move || {
            for seq in 0..MESSAGES {
                tx.send((0, seq)).unwrap();
            }
        });
        let got = rt.block_on(rt.spawn(drain_checking_fifo(rx, 1))).unwrap();
        producer.join().unwrap();
        assert_eq!(got, MESSAGES, "capacity {cap}");
    }
}

#[test]
fn task_to_thread_on_tokio() {
    for cap in [1, 8] {
        let rt = tokio_rt();
        let (tx, rx) = weir::bounded::<(u64, u64), Block>(cap);
        let producer = rt.spawn(async move {
            for seq in 0..MESSAGES {
                tx.send_async((0, seq)).await.unwrap();
            }
        });
        let got = drain_checking_fifo_blocking(rx, 1);
        rt.block_on(producer).unwrap();
        assert_eq!(got, MESSAGES, "capacity {cap}");
    }
}

#[test]
fn tasks_to_tasks_on_tokio() {
    for cap in [1, 8] {
        let rt = tokio_rt();
        let (tx, rx) = weir::bounded::<(u64, u64), Block>(cap);
        for id in 0..2 {
            let tx = tx.clone();
            rt.spawn(async move {
                for seq in 0..MESSAGES {
                    tx.send_async((id, seq)).await.unwrap();
                }
            });
        }
        drop(tx);
        let consumers: Vec<_> = (0..2)
            .map(|_| rt.spawn(drain_checking_fifo(rx.clone(), 2)))
            .collect();
        drop(rx);
        let total: u64 = rt.block_on(async {
            let mut total = 0;
            for c in consumers {
                total += c.await.unwrap();
            }
            total
        });
        assert_eq!(total, 2 * MESSAGES, "capacity {cap}");
    }
}

#[test]
fn threads_and_tasks_on_futures_thread_pool() {
    use futures_util::task::SpawnExt;
    let pool = futures_executor::ThreadPool::builder()
        .pool_size(2)
        .create()
        .expect("a thread pool");
    for cap in [1, 8] {
        // Tasks to tasks, with a thread producing beside them.
        let (tx, rx) = weir::bounded::<(u64, u64), Block>(cap);
        for id in 0..2 {
            let tx = tx.clone();
            pool.spawn(async move {
                for seq in 0..MESSAGES {
                    tx.send_async((id, seq)).await.unwrap();
                }
            })
            .unwrap();
        }
        let thread_producer = thread::spawn(move || {
            for seq in 0..MESSAGES {
                tx.send((2, seq)).unwrap();
            }
        });
        // The pool's task reports its count through a channel of its own.
        let (done_tx, done_rx) = weir::bounded::<u64, Block>(1);
        let task_rx = rx.clone();
        pool.spawn(async move {
            let count = drain_checking_fifo(task_rx, 3).await;
            done_tx.send_async(count).await.unwrap();
        })
        .unwrap();
        // A consumer on `block_on`, futures' single-thread executor.
        let here = futures_executor::block_on(drain_checking_fifo(rx, 3));
        let total = here + futures_executor::block_on(done_rx.recv_async()).unwrap();
        thread_producer.join().unwrap();
        assert_eq!(total, 3 * MESSAGES, "capacity {cap}");
    }
}

#[test]
fn mixed_thread_and_task_ends_keep_per_producer_fifo_on_tokio() {
    // Producers 0 and 1 are threads, 2 and 3 are tasks; two thread and two
    // task receivers share the values.
    for cap in [1, 8] {
        let rt = tokio_rt();
        let (tx, rx) = weir::bounded::<(u64, u64), Block>(cap);
        let mut threads = Vec::new();
        for id in 0..2 {
            let tx = tx.clone();
            threads.push(thread::spawn(move || {
                for seq in 0..MESSAGES {
                    tx.send((id, seq)).unwrap();
                }
            }));
        }
        for id in 2..4 {
            let tx = tx.clone();
            rt.spawn(async move {
                for seq in 0..MESSAGES {
                    tx.send_async((id, seq)).await.unwrap();
                }
            });
        }
        drop(tx);
        let tasks: Vec<_> = (0..2)
            .map(|_| rt.spawn(drain_checking_fifo(rx.clone(), 4)))
            .collect();
        let thread_rx: Vec<_> = (0..2)
            .map(|_| {
                let rx = rx.clone();
                thread::spawn(move || drain_checking_fifo_blocking(rx, 4))
            })
            .collect();
        drop(rx);
        let mut total: u64 = thread_rx.into_iter().map(|h| h.join().unwrap()).sum();
        total += rt.block_on(async {
            let mut sum = 0;
            for t in tasks {
                sum += t.await.unwrap();
            }
            sum
        });
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(total, 4 * MESSAGES, "capacity {cap}");
    }
}

#[test]
fn receives_cancelled_by_timeouts_thousands_of_times_lose_nothing() {
    // Pauses longer than the timeout, so that receives wait, time out and
    // are dropped while queued, some just as a value arrives. tokio's timer
    // ticks in milliseconds, so this takes a few seconds.
    const PAUSES: u64 = 1_500;
    const BURST: u64 = 8;
    let rt = tokio_rt();
    let (tx, rx) = weir::bounded::<u64, Block>(4);
    let producer = thread::spawn(move || {
        for seq in 0..PAUSES * BURST {
            if seq % BURST == 0 {
                thread::sleep(Duration::from_micros(2_500));
            }
            tx.send(seq).unwrap();
        }
    });
    let (got, cancelled) = rt
        .block_on(rt.spawn(async move {
            let mut next = 0;
            let mut cancelled = 0u64;
            loop {
                match tokio::time::timeout(Duration::from_micros(300), rx.recv_async()).await {
                    Ok(Ok(value)) => {
                        assert_eq!(value, next, "a value was lost or reordered");
                        next += 1;
                    }
                    Ok(Err(RecvError)) => return (next, cancelled),
                    Err(_elapsed) => cancelled += 1,
                }
            }
        }))
        .unwrap();
    producer.join().unwrap();
    assert_eq!(got, PAUSES * BURST);
    assert!(
        cancelled >= 1_000,
        "only {cancelled} receives were cancelled"
    );
}

/// One receive's outcome in the select test: the next value of its channel,
/// in order, or that channel's disconnect.
fn expect_next(got: Result<u64, RecvError>, next: &mut u64, open: &mut bool) {
    match got {
        Ok(v) => {
            assert_eq!(v, *next, "a value was lost or reordered");
            *next += 1;
        }
        Err(RecvError) => *open = false,
    }
}

/// Cancellations of queued receives, as `select!` makes of the branch that
/// loses: `queued` counts receives dropped after a poll returned `Pending`
/// (so they were queued) and before they completed; `notified` those of them
/// whose waker had been woken, so the drop had a wakeup to pass on.
#[derive(Default)]
struct Cancels {
    queued: AtomicUsize,
    notified: AtomicUsize,
}

/// The waker a [`Counted`] gives the receive it wraps: it notes the wake,
/// then wakes the task.
struct NoteWake {
    woken: AtomicBool,
    task: std::sync::Mutex<Option<std::task::Waker>>,
}

impl std::task::Wake for NoteWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        if let Some(task) = self.task.lock().unwrap().as_ref() {
            task.wake_by_ref();
        }
    }
}

/// A receive that reports its own cancellation to [`Cancels`].
struct Counted<'c, F> {
    inner: Pin<Box<F>>,
    note: Arc<NoteWake>,
    waker: std::task::Waker,
    waited: bool,
    done: bool,
    cancels: &'c Cancels,
}

impl<'c, F: Future> Counted<'c, F> {
    fn new(inner: F, cancels: &'c Cancels) -> Self {
        let note = Arc::new(NoteWake {
            woken: AtomicBool::new(false),
            task: std::sync::Mutex::new(None),
        });
        Self {
            inner: Box::pin(inner),
            waker: note.clone().into(),
            note,
            waited: false,
            done: false,
            cancels,
        }
    }
}

impl<F: Future> Future for Counted<'_, F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        *this.note.task.lock().unwrap() = Some(cx.waker().clone());
        match this
            .inner
            .as_mut()
            .poll(&mut Context::from_waker(&this.waker))
        {
            Poll::Ready(out) => {
                this.done = true;
                Poll::Ready(out)
            }
            Poll::Pending => {
                this.waited = true;
                Poll::Pending
            }
        }
    }
}

impl<F> Drop for Counted<'_, F> {
    fn drop(&mut self) {
        if self.waited && !self.done {
            self.cancels.queued.fetch_add(1, Ordering::Relaxed);
            if self.note.woken.load(Ordering::SeqCst) {
                self.cancels.notified.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

#[test]
fn receives_cancelled_by_select_over_two_channels_lose_nothing() {
    let rt = tokio_rt();
    let (tx_a, rx_a) = weir::bounded::<u64, Block>(2);
    let (tx_b, rx_b) = weir::bounded::<u64, Block>(2);
    let producers: Vec<_> = [tx_a, tx_b]
        .into_iter()
        .map(|tx| {
            thread::spawn(move || {
                for seq in 0..MESSAGES {
                    if seq % 16 == 0 {
                        thread::yield_now();
                    }
                    tx.send(seq).unwrap();
                }
            })
        })
        .collect();
    let (a, b, cancels) = rt
        .block_on(rt.spawn(async move {
            let (mut a, mut b) = (0u64, 0u64);
            let (mut a_open, mut b_open) = (true, true);
            let cancels = Cancels::default();
            while a_open || b_open {
                if a_open && b_open {
                    // `select!` polls the two receives in a random order and
                    // drops the one that loses, often while it is queued, and
                    // sometimes after a notify reached it (counted below: in
                    // 10,000 to 25,000 of some 40,000 selects the loser was
                    // queued, and 10 to 12,000 of those had been notified,
                    // the most with the runtime on one core).
                    tokio::select! {
                        got = Counted::new(rx_a.recv_async(), &cancels) => {
                            expect_next(got, &mut a, &mut a_open)
                        }
                        got = Counted::new(rx_b.recv_async(), &cancels) => {
                            expect_next(got, &mut b, &mut b_open)
                        }
                    }
                } else if a_open {
                    expect_next(rx_a.recv_async().await, &mut a, &mut a_open);
                } else {
                    expect_next(rx_b.recv_async().await, &mut b, &mut b_open);
                }
            }
            (a, b, cancels)
        }))
        .unwrap();
    for p in producers {
        p.join().unwrap();
    }
    assert_eq!((a, b), (MESSAGES, MESSAGES));
    let queued = cancels.queued.into_inner();
    let notified = cancels.notified.into_inner();
    eprintln!("{queued} queued receives cancelled, {notified} of them notified");
    // The test is about those: without them it would check nothing.
    assert!(queued >= 100, "only {queued} queued receives cancelled");
}

#[test]
fn disconnect_wakes_waiting_tasks_both_ways_on_tokio() {
    let rt = tokio_rt();

    // Receivers waiting on an empty channel; the last sender goes.
    let (tx, rx) = weir::bounded::<u32, Block>(4);
    let waiting: Vec<_> = (0..16)
        .map(|_| {
            let rx = rx.clone();
            rt.spawn(async move { rx.recv_async().await })
        })
        .collect();
    thread::sleep(Duration::from_millis(50));
    drop(tx);
    rt.block_on(async {
        for w in waiting {
            assert_eq!(w.await.unwrap(), Err(RecvError));
        }
    });
    drop(rx);

    // Senders waiting on a full channel; the last receiver goes. Each gets
    // its own value back.
    let (tx, rx) = weir::bounded::<u32, Block>(1);
    tx.send(u32::MAX).unwrap();
    let waiting: Vec<_> = (0..16)
        .map(|i| {
            let tx = tx.clone();
            rt.spawn(async move { (i, tx.send_async(i).await) })
        })
        .collect();
    thread::sleep(Duration::from_millis(50));
    drop(rx);
    rt.block_on(async {
        for w in waiting {
            let (i, result) = w.await.unwrap();
            assert_eq!(result, Err(SendError(i)));
        }
    });
}

#[test]
fn sixty_four_waiting_tasks_then_sixty_four_values_on_tokio() {
    let rt = tokio_rt();
    let (tx, rx) = weir::bounded::<u32, Block>(8);
    let waiting: Vec<_> = (0..64)
        .map(|_| {
            let rx = rx.clone();
            rt.spawn(async move { rx.recv_async().await.unwrap() })
        })
        .collect();
    thread::sleep(Duration::from_millis(50));
    for value in 0..64 {
        tx.send(value).unwrap();
    }
    let mut got: Vec<u32> = rt.block_on(async {
        let mut got = Vec::new();
        for w in waiting {
            got.push(w.await.unwrap());
        }
        got
    });
    got.sort_unstable();
    assert_eq!(got, (0..64).collect::<Vec<_>>());
}

#[test]
fn stream_forwards_into_a_sink_on_tokio() {
    let rt = tokio_rt();
    let (tx_in, rx_in) = weir::bounded::<u64, Block>(4);
    let (tx_out, rx_out) = weir::bounded::<u64, Block>(4);
    // A task feeds the first channel through its sink, a second forwards
    // the first channel's stream into the second's sink, and a third
    // collects the second's stream.
    let feed = rt.spawn(async move {
        let mut values = futures_util::stream::iter(0..MESSAGES).map(Ok);
        tx_in.into_sink().send_all(&mut values).await
    });
    let forward = rt.spawn(rx_in.into_stream().map(Ok).forward(tx_out.into_sink()));
    let collect = rt.spawn(rx_out.into_stream().collect::<Vec<u64>>());
    let got = rt.block_on(async {
        feed.await.unwrap().unwrap();
        forward.await.unwrap().unwrap();
        collect.await.unwrap()
    });
    assert_eq!(got, (0..MESSAGES).collect::<Vec<_>>());
}

/// A future that counts its polls.
struct CountPolls<F> {
    inner: Pin<Box<F>>,
    polls: Arc<AtomicUsize>,
}

impl<F: Future> Future for CountPolls<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.fetch_add(1, Ordering::Relaxed);
        self.inner.as_mut().poll(cx)
    }
}

#[test]
fn an_idle_pending_receive_on_tokio_is_polled_a_handful_of_times() {
    let rt = tokio_rt();
    let (tx, rx) = weir::bounded::<u32, Block>(4);
    let polls = Arc::new(AtomicUsize::new(0));
    let counted = CountPolls {
        inner: Box::pin(async move { rx.recv_async().await }),
        polls: polls.clone(),
    };
    let task = rt.spawn(counted);
    thread::sleep(Duration::from_secs(1));
    tx.send(9).unwrap();
    assert_eq!(rt.block_on(task).unwrap(), Ok(9));
    let polls = polls.load(Ordering::Relaxed);
    assert!(polls <= 4, "polled {polls} times in a second of idling");
}

/// A value for the accounting runs: where it came from, and a count of its
/// drops.
#[derive(Debug)]
struct Msg {
    producer: u64,
    seq: u64,
    drops: Arc<AtomicUsize>,
}

impl Drop for Msg {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::Relaxed);
    }
}

/// How a task sends under each policy: `Block` waits through `send_async`;
/// the lossy policies never wait, so their plain `send` is right in a task.
trait TaskSend: Policy {
    fn task_send(tx: &weir::Sender<Msg, Self>, msg: Msg) -> BoxedSend<'_>;
}

type BoxedSend<'a> = Pin<Box<dyn Future<Output = Option<Msg>> + Send + 'a>>;

impl TaskSend for Block {
    fn task_send(tx: &weir::Sender<Msg, Self>, msg: Msg) -> BoxedSend<'_> {
        Box::pin(async move { tx.send_async(msg).await.err().map(|e| e.0) })
    }
}

macro_rules! lossy_task_send {
    ($($policy:ty),*) => {$(
        impl TaskSend for $policy {
            fn task_send(tx: &weir::Sender<Msg, Self>, msg: Msg) -> BoxedSend<'_> {
                Box::pin(std::future::ready(tx.send(msg).handed_back()))
            }
        }
    )*};
}
lossy_task_send!(DropOldest, DropNewest, Sample);

/// Two thread producers and one task producer into two task receivers and
/// one receiver on futures' `block_on`, on a tokio runtime. Checks that
/// every value was received or handed back exactly once and dropped exactly
/// once, that each receiver saw each producer's values in order, and that
/// the channel's stats agree.
fn accounting_with_async_receivers<P: TaskSend>(cap: usize) {
    let rt = tokio_rt();
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = weir::Builder::new(cap)
        .sample_rate(3)
        .build::<Msg, P>()
        .unwrap();
    let mut threads = Vec::new();
    for producer in 0..2 {
        let tx = tx.clone();
        let drops = drops.clone();
        threads.push(thread::spawn(move || {
            let mut back = Vec::new();
            for seq in 0..MESSAGES {
                let msg = Msg {
                    producer,
                    seq,
                    drops: drops.clone(),
                };
                if let Some(msg) = tx.send(msg).handed_back() {
                    back.push((msg.producer, msg.seq));
                }
            }
            back
        }));
    }
    let task_producer = {
        let drops = drops.clone();
        rt.spawn(async move {
            let mut back = Vec::new();
            for seq in 0..MESSAGES {
                let msg = Msg {
                    producer: 2,
                    seq,
                    drops: drops.clone(),
                };
                if let Some(msg) = P::task_send(&tx, msg).await {
                    back.push((msg.producer, msg.seq));
                }
                if seq % 64 == 0 {
                    tokio::task::yield_now().await;
                }
            }
            back
        })
    };
    let receive = |rx: weir::Receiver<Msg>| async move {
        let mut last = [None::<u64>; 3];
        let mut got = Vec::new();
        while let Ok(msg) = rx.recv_async().await {
            let prev = last[msg.producer as usize].replace(msg.seq);
            assert!(
                prev.map_or(true, |p| p < msg.seq),
                "FIFO of {}",
                msg.producer
            );
            got.push((msg.producer, msg.seq));
        }
        got
    };
    let tasks: Vec<_> = (0..2).map(|_| rt.spawn(receive(rx.clone()))).collect();
    let on_thread = {
        let rx = rx.clone();
        thread::spawn(move || futures_executor::block_on(receive(rx)))
    };
    let started = Instant::now();
    let mut received: Vec<(u64, u64)> = on_thread.join().unwrap();
    let mut handed_back = Vec::new();
    rt.block_on(async {
        for t in tasks {
            received.extend(t.await.unwrap());
        }
        handed_back.extend(task_producer.await.unwrap());
    });
    assert!(started.elapsed() < PATIENCE, "the run took too long");
    handed_back.extend(threads.into_iter().flat_map(|t| t.join().unwrap()));
    let sent = 3 * MESSAGES;
    let mut seen = HashSet::new();
    for id in received.iter().chain(&handed_back) {
        assert!(seen.insert(*id), "{id:?} received or handed back twice");
    }
    assert_eq!(
        seen.len() as u64,
        sent,
        "{}: received {} + handed back {} != sent {sent}",
        P::NAME,
        received.len(),
        handed_back.len()
    );
    let stats = rx.stats();
    assert_eq!(stats.sent + stats.refused + stats.sampled_out, sent);
    assert_eq!(stats.received, received.len() as u64);
    assert_eq!(stats.handed_back(), handed_back.len() as u64);
    drop(rx);
    assert_eq!(
        drops.load(Ordering::Relaxed) as u64,
        sent,
        "dropped once each"
    );
}

#[test]
fn accounting_with_async_receivers_block() {
    accounting_with_async_receivers::<Block>(1);
    accounting_with_async_receivers::<Block>(8);
}

#[test]
fn accounting_with_async_receivers_drop_oldest() {
    accounting_with_async_receivers::<DropOldest>(1);
    accounting_with_async_receivers::<DropOldest>(8);
}

#[test]
fn accounting_with_async_receivers_drop_newest() {
    accounting_with_async_receivers::<DropNewest>(1);
    accounting_with_async_receivers::<DropNewest>(8);
}

#[test]
fn accounting_with_async_receivers_sample() {
    accounting_with_async_receivers::<Sample>(1);
    accounting_with_async_receivers::<Sample>(8);
}

#[test]
fn lossy_sends_wake_a_waiting_task() {
    fn one<P: Policy>() {
        let rt = tokio_rt();
        let (tx, rx) = weir::bounded::<u32, P>(2);
        let waiting = rt.spawn(async move { rx.recv_async().await });
        thread::sleep(Duration::from_millis(20));
        assert!(tx.send(5).handed_back().is_none());
        assert_eq!(rt.block_on(waiting).unwrap(), Ok(5), "{}", P::NAME);
    }
    one::<DropOldest>();
    one::<DropNewest>();
    one::<Sample>();
}
