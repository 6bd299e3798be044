//! The flow-control calls, one behaviour at a time: waiting for relief
//! (`wait_normal` and its timed, deadline and async forms), batch sends
//! (`try_send_batch`, `send_batch`, `send_batch_async`) and batch receives
//! (`try_recv_batch`, `recv_batch`, `recv_batch_linger`,
//! `recv_batch_deadline`, `batches`, `recv_batch_async`).
//!
//! Covered: timeouts and deadlines (a past one is a single attempt), a
//! `max` of 0, lingers that flush by time and by size, runs across the
//! ring's wrap-around, relief racing pops, close racing blocked threads and
//! tasks from either end, batches larger than the channel, and the
//! accounting invariant under every policy.
//!
//! A test that sleeps does so only to make a race likely; each one passes
//! whichever way the race goes. `PATIENCE` is a hang guard.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

use weir::{
    Block, Builder, DropNewest, DropOldest, Policy, Receiver, RecvError, RecvTimeoutError, Sample,
    SampleError, SendError, Sender, TrySendError, WaitError, WaitTimeoutError,
};

/// No wait in these tests comes near this; reaching it means a hang.
const PATIENCE: Duration = Duration::from_secs(10);

/// A pause that gives a spawned thread time to reach its wait, so that the
/// race the test is about is likely to happen. Never needed for a pass.
const SETTLE: Duration = Duration::from_millis(if cfg!(miri) { 5 } else { 30 });

// ----- test support ------------------------------------------------------------

/// A waker that counts its wakes and unparks the thread that made it.
struct Counting {
    wakes: AtomicUsize,
    thread: thread::Thread,
}

impl Wake for Counting {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        self.thread.unpark();
    }
}

impl Counting {
    fn count(&self) -> usize {
        self.wakes.load(Ordering::SeqCst)
    }
}

fn counting() -> (Arc<Counting>, Waker) {
    let counter = Arc::new(Counting {
        wakes: AtomicUsize::new(0),
        thread: thread::current(),
    });
    (counter.clone(), Waker::from(counter))
}

fn poll_once<F: Future>(future: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(waker))
}

/// Runs `future` to completion on this thread, parking between polls; a
/// future that is not woken within `PATIENCE` fails the test.
fn block_on<F: Future>(future: F) -> F::Output {
    block_on_within(future).unwrap_or_else(|| panic!("a future was not woken in {PATIENCE:?}"))
}

/// As `block_on`, giving up with `None` once `PATIENCE` has passed.
fn block_on_within<F: Future>(future: F) -> Option<F::Output> {
    let (_, waker) = counting();
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    let start = Instant::now();
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return Some(out);
        }
        if start.elapsed() >= PATIENCE {
            return None;
        }
        thread::park_timeout(PATIENCE);
    }
}

/// The result of a call made on another thread, waited for at most
/// `PATIENCE`: a call that hangs fails the test instead of hanging it.
struct Pending<T>(mpsc::Receiver<T>);

fn spawn<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Pending<T> {
    let (done, result) = mpsc::channel();
    thread::spawn(move || {
        let _ = done.send(f());
    });
    Pending(result)
}

impl<T> Pending<T> {
    fn get(self, what: &str) -> T {
        self.get_within(what, PATIENCE)
    }

    fn get_within(self, what: &str, limit: Duration) -> T {
        self.0
            .recv_timeout(limit)
            .unwrap_or_else(|e| panic!("{what}: no result ({e:?})"))
    }
}

/// A small deterministic pseudo-random source (xorshift64*).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    }
}

/// Where one offered value went.
#[derive(Debug, PartialEq, Eq)]
enum Outcome<T> {
    Queued,
    Evicted(T),
    Refused(T),
    SampledOut(T),
    Disconnected(T),
}

/// The policies' `send`, sorted by where the value went, and a batch send
/// that never waits in a single-threaded test.
trait Offer: Policy {
    fn offer<T>(tx: &Sender<T, Self>, value: T) -> Outcome<T>;

    /// Moves values from the front of `values`; returns how many (0 once
    /// disconnected). `Block` uses `send_batch` when the batch fits (so it
    /// cannot wait), the others `try_send_batch`.
    fn batch<T>(tx: &Sender<T, Self>, values: &mut VecDeque<T>) -> usize {
        tx.try_send_batch(values).unwrap_or(0)
    }
}

fn from_try<T>(result: Result<(), TrySendError<T>>) -> Outcome<T> {
    match result {
        Ok(()) => Outcome::Queued,
        Err(TrySendError::Full(v)) => Outcome::Refused(v),
        Err(TrySendError::Disconnected(v)) => Outcome::Disconnected(v),
    }
}

impl Offer for Block {
    fn offer<T>(tx: &Sender<T, Self>, value: T) -> Outcome<T> {
        if tx.is_full() {
            // One thread: the channel stays full, and `send` would wait.
            from_try(tx.try_send(value))
        } else {
            match tx.send(value) {
                Ok(()) => Outcome::Queued,
                Err(SendError(v)) => Outcome::Disconnected(v),
            }
        }
    }

    fn batch<T>(tx: &Sender<T, Self>, values: &mut VecDeque<T>) -> usize {
        let n = values.len();
        if tx.len() + n <= tx.capacity() {
            match tx.send_batch(values.drain(..).collect::<Vec<_>>()) {
                Ok(()) => n,
                Err(SendError((taken, rest))) => {
                    values.extend(taken.into_iter().chain(rest));
                    n - values.len()
                }
            }
        } else {
            tx.try_send_batch(values).unwrap_or(0)
        }
    }
}

impl Offer for DropOldest {
    fn offer<T>(tx: &Sender<T, Self>, value: T) -> Outcome<T> {
        match tx.send(value) {
            Ok(None) => Outcome::Queued,
            Ok(Some(old)) => Outcome::Evicted(old),
            Err(SendError(v)) => Outcome::Disconnected(v),
        }
    }
}

impl Offer for DropNewest {
    fn offer<T>(tx: &Sender<T, Self>, value: T) -> Outcome<T> {
        from_try(tx.send(value))
    }
}

impl Offer for Sample {
    fn offer<T>(tx: &Sender<T, Self>, value: T) -> Outcome<T> {
        match tx.send(value) {
            Ok(()) => Outcome::Queued,
            Err(SampleError::SampledOut(v)) => Outcome::SampledOut(v),
            Err(SampleError::Full(v)) => Outcome::Refused(v),
            Err(SampleError::Disconnected(v)) => Outcome::Disconnected(v),
        }
    }
}

/// Capacity 8, low watermark 4, high 6.
fn eight<P: Policy>() -> (Sender<u32, P>, Receiver<u32>) {
    let pair = Builder::new(8).watermarks(0.5, 0.75).build().unwrap();
    assert_eq!(pair.1.low_watermark(), 4);
    pair
}

fn close_from<T, P: Policy>(from_receiver: bool, tx: &Sender<T, P>, rx: &Receiver<T>) {
    let closed = if from_receiver {
        rx.close()
    } else {
        tx.close()
    };
    assert!(closed, "the first close closes");
}

// ----- wait_normal ---------------------------------------------------------------

/// Below the low watermark every form of the wait returns at once, and at
/// it none does.
fn relieved_at_once<P: Policy>() {
    let (tx, rx) = eight::<P>();
    let (_, waker) = counting();
    for level in 0..4 {
        assert_eq!(tx.len(), level);
        assert_eq!(tx.wait_normal(), Ok(()), "{} at {level}", P::NAME);
        assert_eq!(tx.wait_normal_timeout(Duration::ZERO), Ok(()));
        assert_eq!(tx.wait_normal_deadline(Instant::now()), Ok(()));
        assert_eq!(
            poll_once(pin!(tx.wait_normal_async()), &waker),
            Poll::Ready(Ok(()))
        );
        tx.try_send(level as u32).unwrap();
    }
    assert_eq!(
        tx.wait_normal_timeout(Duration::ZERO),
        Err(WaitTimeoutError::Timeout),
        "{}: 4 of 8 is at the low watermark, not below it",
        P::NAME
    );
    assert!(poll_once(pin!(tx.wait_normal_async()), &waker).is_pending());
    assert_eq!(rx.len(), 4, "waiting takes nothing");
}

#[test]
fn wait_normal_returns_at_once_below_the_low_watermark() {
    relieved_at_once::<Block>();
    relieved_at_once::<DropOldest>();
    relieved_at_once::<DropNewest>();
    relieved_at_once::<Sample>();
}

#[test]
fn wait_normal_timeout_and_deadline_expire_at_the_watermark() {
    let (tx, rx) = eight::<DropNewest>();
    for i in 0..6 {
        tx.send(i).unwrap();
    }
    let wait = Duration::from_millis(20);
    let start = Instant::now();
    assert_eq!(tx.wait_normal_timeout(wait), Err(WaitTimeoutError::Timeout));
    assert!(start.elapsed() >= wait, "returned before the timeout");

    let deadline = Instant::now() + wait;
    assert_eq!(
        tx.wait_normal_deadline(deadline),
        Err(WaitTimeoutError::Timeout)
    );
    assert!(Instant::now() >= deadline, "returned before the deadline");

    // Pops that leave the level at the watermark are no relief.
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(
        tx.wait_normal_timeout(Duration::from_millis(5)),
        Err(WaitTimeoutError::Timeout)
    );
    assert_eq!(rx.len(), 4);
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(tx.wait_normal_timeout(wait), Ok(()));
}

#[test]
fn wait_normal_with_a_past_deadline_is_a_single_check() {
    let (tx, rx) = eight::<Block>();
    let past = Instant::now();
    for i in 0..5 {
        tx.send(i).unwrap();
    }
    // Nobody will ever receive here: a wait would never end.
    assert_eq!(
        tx.wait_normal_deadline(past),
        Err(WaitTimeoutError::Timeout)
    );
    assert_eq!(
        tx.wait_normal_deadline(past - Duration::from_millis(1)),
        Err(WaitTimeoutError::Timeout)
    );
    assert_eq!(
        tx.wait_normal_timeout(Duration::ZERO),
        Err(WaitTimeoutError::Timeout)
    );
    let mut batch = Vec::new();
    assert_eq!(rx.try_recv_batch(&mut batch, 2), 2);
    assert_eq!(tx.wait_normal_deadline(past), Ok(()));
    assert!(rx.close());
    assert_eq!(
        tx.wait_normal_deadline(past),
        Err(WaitTimeoutError::Disconnected)
    );
}

#[test]
fn a_huge_wait_normal_timeout_does_not_overflow() {
    let (tx, rx) = eight::<Block>();
    for i in 0..4 {
        tx.send(i).unwrap();
    }
    let waiter = spawn(move || tx.wait_normal_timeout(Duration::MAX));
    thread::sleep(SETTLE);
    assert_eq!(rx.recv(), Ok(0));
    assert_eq!(waiter.get("wait_normal_timeout(MAX)"), Ok(()));
}

#[test]
fn a_pop_below_the_watermark_wakes_a_waiting_thread() {
    for how in 0..4 {
        let (tx, rx) = eight::<Block>();
        for i in 0..8 {
            tx.send(i).unwrap();
        }
        let waiter = spawn(move || (tx.wait_normal(), tx));
        thread::sleep(SETTLE);
        // From 8 to 3, in the ways a receiver can pop.
        let mut batch = Vec::new();
        match how {
            0 => (0..5).for_each(|_| assert!(rx.try_recv().is_ok())),
            1 => assert_eq!(rx.try_recv_batch(&mut batch, 5), 5),
            2 => assert_eq!(rx.recv_batch_linger(&mut batch, 5, PATIENCE), Ok(5)),
            _ => assert_eq!(block_on(rx.recv_batch_async(&mut batch, 5)), Ok(5)),
        }
        let (result, tx) = waiter.get("wait_normal");
        assert_eq!(result, Ok(()), "popped by way {how}");
        assert_eq!(tx.len(), 3);
    }
}

/// Deterministic on one thread: a pop that leaves the level at or above the
/// watermark wakes nobody; the one that takes it below wakes the task, and
/// the woken task returns `Ok` even if the level has risen again since.
#[test]
fn only_a_pop_below_the_watermark_wakes_a_relief_task() {
    let (tx, rx) = eight::<DropOldest>();
    for i in 0..8 {
        tx.send(i).unwrap();
    }
    let (counter, waker) = counting();
    let mut wait = pin!(tx.wait_normal_async());
    assert!(poll_once(wait.as_mut(), &waker).is_pending());
    for expected in 0..4 {
        assert_eq!(rx.try_recv(), Ok(expected)); // 8 down to 4
    }
    assert_eq!(counter.count(), 0, "still at the low watermark");
    assert!(poll_once(wait.as_mut(), &waker).is_pending());
    assert_eq!(counter.count(), 0);
    let mut batch = Vec::new();
    assert_eq!(rx.try_recv_batch(&mut batch, 1), 1); // 3 < 4
    assert_eq!(counter.count(), 1, "relief wakes the task");
    for i in 8..13 {
        tx.send(i).unwrap();
    }
    assert_eq!(tx.len(), 8, "full again before the task runs");
    assert_eq!(poll_once(wait.as_mut(), &waker), Poll::Ready(Ok(())));
}

/// The wake is a broadcast: one pop below the watermark releases every
/// thread and task waiting, however many.
#[test]
fn one_relieving_pop_wakes_every_waiter() {
    let (tx, rx) = eight::<DropNewest>();
    for i in 0..4 {
        tx.send(i).unwrap();
    }
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let tx = tx.clone();
            spawn(move || tx.wait_normal_timeout(PATIENCE))
        })
        .collect();
    let tasks: Vec<_> = (0..2)
        .map(|_| {
            let tx = tx.clone();
            spawn(move || block_on(tx.wait_normal_async()))
        })
        .collect();
    let local: Vec<_> = (0..3).map(|_| counting()).collect();
    let mut futures: Vec<_> = local
        .iter()
        .map(|_| Box::pin(tx.wait_normal_async()))
        .collect();
    for (future, (_, waker)) in futures.iter_mut().zip(&local) {
        assert!(poll_once(future.as_mut(), waker).is_pending());
    }
    thread::sleep(SETTLE);
    assert_eq!(rx.recv(), Ok(0)); // 3 < 4: one pop
    for (future, (counter, waker)) in futures.iter_mut().zip(&local) {
        assert_eq!(counter.count(), 1, "every pending task is woken");
        assert_eq!(poll_once(future.as_mut(), waker), Poll::Ready(Ok(())));
    }
    for t in threads {
        assert_eq!(t.get("a waiting thread"), Ok(()));
    }
    for t in tasks {
        assert_eq!(t.get("a waiting task"), Ok(()));
    }
}

/// A waiter on a spawned thread (or task) against a consumer that pops
/// across the low watermark just as the waiter starts: whichever comes
/// first, the waiter returns `Ok`. A lost wakeup strands it until its
/// timeout.
#[test]
fn relief_racing_pops_always_releases_the_waiter() {
    let rounds = if cfg!(miri) { 10 } else { 2_000 };
    let waiters = 2;
    let (tx, rx) = eight::<DropNewest>();
    let start = Arc::new(Barrier::new(waiters + 1));
    let (done_tx, done_rx) = mpsc::channel();
    let handles: Vec<_> = (0..waiters)
        .map(|w| {
            let (tx, start, done_tx) = (tx.clone(), start.clone(), done_tx.clone());
            thread::spawn(move || {
                for round in 0..rounds {
                    start.wait();
                    // Released only by its hang guard counts as stranded,
                    // even though the level is low by then.
                    let result = if (round + w) % 2 == 0 {
                        let deadline = Instant::now() + PATIENCE;
                        match tx.wait_normal_deadline(deadline) {
                            Ok(()) if Instant::now() >= deadline => Err(WaitTimeoutError::Timeout),
                            other => other,
                        }
                    } else {
                        block_on_within(tx.wait_normal_async())
                            .unwrap_or(Err(WaitError))
                            .map_err(|_| WaitTimeoutError::Timeout)
                    };
                    done_tx.send((round, result)).unwrap();
                }
            })
        })
        .collect();
    let mut batch = Vec::new();
    for round in 0..rounds {
        while tx.try_send(round as u32).is_ok() {}
        assert_eq!(rx.len(), 8);
        start.wait();
        // From 8 to 3: below the watermark, staying there until the round
        // is over.
        batch.clear();
        match round % 3 {
            0 => (0..5).for_each(|_| assert!(rx.try_recv().is_ok())),
            1 => assert_eq!(rx.try_recv_batch(&mut batch, 5), 5),
            _ => assert_eq!(rx.recv_batch(&mut batch, 5), Ok(5)),
        }
        for _ in 0..waiters {
            let (r, result) = done_rx.recv_timeout(2 * PATIENCE).expect("a waiter");
            assert_eq!((r, result), (round, Ok(())), "round {round}");
        }
        while rx.try_recv().is_ok() {}
    }
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn a_zero_low_watermark_means_empty_and_the_wait_still_ends() {
    for high in [0.0, 0.5] {
        let (tx, rx) = Builder::new(4)
            .watermarks(0.0, high)
            .build::<u32, Block>()
            .unwrap();
        assert_eq!(tx.low_watermark(), 1, "a watermark counts at least one");
        assert_eq!(tx.wait_normal(), Ok(()), "empty is relieved");
        tx.send(1).unwrap();
        tx.send(2).unwrap();
        assert_eq!(
            tx.wait_normal_deadline(Instant::now()),
            Err(WaitTimeoutError::Timeout)
        );
        let (counter, waker) = counting();
        let mut task = pin!(tx.wait_normal_async());
        assert!(poll_once(task.as_mut(), &waker).is_pending());
        let tx2 = tx.clone();
        let waiter = spawn(move || tx2.wait_normal());
        thread::sleep(SETTLE);
        assert_eq!(rx.recv(), Ok(1));
        assert_eq!(counter.count(), 0, "one value left is not empty");
        assert_eq!(rx.recv(), Ok(2));
        assert_eq!(waiter.get("waiting for empty"), Ok(()));
        assert_eq!(counter.count(), 1);
        assert_eq!(poll_once(task.as_mut(), &waker), Poll::Ready(Ok(())));
    }
}

#[test]
fn wait_normal_fails_once_disconnected_whatever_the_level() {
    let (_, waker) = counting();
    for end in ["sender", "receiver", "receivers gone"] {
        for level in [0, 1, 6] {
            let (tx, rx) = eight::<Block>();
            for i in 0..level {
                tx.send(i).unwrap();
            }
            match end {
                "sender" => assert!(tx.close()),
                "receiver" => assert!(rx.close()),
                _ => drop(rx),
            }
            assert_eq!(tx.wait_normal(), Err(WaitError), "{end}, {level} queued");
            assert_eq!(
                tx.wait_normal_timeout(PATIENCE),
                Err(WaitTimeoutError::Disconnected)
            );
            assert_eq!(
                tx.wait_normal_deadline(Instant::now()),
                Err(WaitTimeoutError::Disconnected)
            );
            assert_eq!(
                poll_once(pin!(tx.wait_normal_async()), &waker),
                Poll::Ready(Err(WaitError))
            );
        }
    }
}

#[test]
fn close_wakes_relief_waiters_from_either_end() {
    for end in ["sender", "receiver", "receivers gone"] {
        let (tx, rx) = Builder::new(2).build::<u32, Block>().unwrap();
        tx.send(0).unwrap();
        tx.send(1).unwrap();
        let forever = {
            let tx = tx.clone();
            spawn(move || tx.wait_normal())
        };
        let timed = {
            let tx = tx.clone();
            spawn(move || tx.wait_normal_timeout(PATIENCE))
        };
        let task = {
            let tx = tx.clone();
            spawn(move || block_on(tx.wait_normal_async()))
        };
        let (counter, waker) = counting();
        let mut local = pin!(tx.wait_normal_async());
        assert!(poll_once(local.as_mut(), &waker).is_pending());
        thread::sleep(SETTLE);
        match end {
            "sender" => assert!(tx.close()),
            "receiver" => assert!(rx.close()),
            _ => drop(rx),
        }
        assert_eq!(forever.get("wait_normal"), Err(WaitError), "{end}");
        assert_eq!(timed.get("timed"), Err(WaitTimeoutError::Disconnected));
        assert_eq!(task.get("task"), Err(WaitError));
        assert_eq!(counter.count(), 1, "{end}: the pending task is woken");
        assert_eq!(
            poll_once(local.as_mut(), &waker),
            Poll::Ready(Err(WaitError))
        );
        assert!(!tx.close(), "closing a closed channel is a no-op");
    }
}

/// A relief future dropped while queued leaves the queue: later reliefs
/// and closes wake the others and touch nothing of it.
#[test]
fn a_dropped_relief_future_leaves_the_queue() {
    let (tx, rx) = eight::<Block>();
    for i in 0..8 {
        tx.send(i).unwrap();
    }
    let (dropped, waker_a) = counting();
    let (kept, waker_b) = counting();
    let mut b = Box::pin(tx.wait_normal_async());
    {
        let mut a = Box::pin(tx.wait_normal_async());
        assert!(poll_once(a.as_mut(), &waker_a).is_pending());
        assert!(poll_once(b.as_mut(), &waker_b).is_pending());
    }
    let mut batch = Vec::new();
    assert_eq!(rx.try_recv_batch(&mut batch, 5), 5);
    assert_eq!((dropped.count(), kept.count()), (0, 1));
    assert_eq!(poll_once(b.as_mut(), &waker_b), Poll::Ready(Ok(())));
    drop(b);
    // Woken, then dropped without a poll: nothing is owed to anyone.
    while tx.len() < 8 {
        tx.send(0).unwrap();
    }
    let (c, waker_c) = counting();
    let mut woken = Box::pin(tx.wait_normal_async());
    assert!(poll_once(woken.as_mut(), &waker_c).is_pending());
    assert_eq!(rx.try_recv_batch(&mut batch, 5), 5);
    assert_eq!(c.count(), 1);
    drop(woken);
    assert!(tx.close());
}

// ----- try_send_batch -----------------------------------------------------------

/// Moves what fits, oldest first, leaves the rest in order and counts it as
/// refused; never evicts (`DropOldest`) and never samples (`Sample`, here
/// above its low watermark).
fn try_send_batch_moves_what_fits<P: Policy>() {
    let (tx, rx) = Builder::new(4)
        .watermarks(0.25, 0.5)
        .sample_rate(2)
        .build::<u32, P>()
        .unwrap();
    tx.try_send(100).unwrap();
    let mut values: VecDeque<u32> = (0..6).collect();
    assert_eq!(tx.try_send_batch(&mut values), Ok(3), "{}", P::NAME);
    assert_eq!(values, [3, 4, 5]);
    let stats = rx.stats();
    assert_eq!(
        (stats.sent, stats.refused, stats.evicted, stats.sampled_out),
        (4, 3, 0, 0),
        "{}",
        P::NAME
    );
    // Full: nothing moves, and the whole batch is refused again.
    assert_eq!(tx.try_send_batch(&mut values), Ok(0));
    assert_eq!(values, [3, 4, 5]);
    assert_eq!(rx.stats().refused, 6);
    // An empty batch counts nothing.
    assert_eq!(tx.try_send_batch(&mut VecDeque::new()), Ok(0));
    assert_eq!(rx.stats().refused, 6);
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), [100, 0, 1, 2]);
    // After a close the values stay and the disconnect is reported; they
    // are not refused, as `try_send` reports the disconnect instead.
    assert!(rx.close());
    assert_eq!(tx.try_send_batch(&mut values), Err(SendError(())));
    assert_eq!(values, [3, 4, 5]);
    assert!(tx.try_send(9).unwrap_err().is_disconnected());
    assert_eq!(rx.stats().refused, 6, "{}", P::NAME);
    assert_eq!(rx.stats().sent, 4);
}

#[test]
fn try_send_batch_moves_what_fits_under_every_policy() {
    try_send_batch_moves_what_fits::<Block>();
    try_send_batch_moves_what_fits::<DropOldest>();
    try_send_batch_moves_what_fits::<DropNewest>();
    try_send_batch_moves_what_fits::<Sample>();
}

/// A batch of ten times the capacity: the capacity goes in, the rest stays
/// in the deque in order and is refused.
fn oversized_try_send_batch<P: Policy>() {
    let (tx, rx) = weir::bounded::<u32, P>(4);
    let mut values: VecDeque<u32> = (0..40).collect();
    assert_eq!(tx.try_send_batch(&mut values), Ok(4), "{}", P::NAME);
    assert!(
        values.iter().copied().eq(4..40),
        "{}: the rest, in order",
        P::NAME
    );
    let stats = rx.stats();
    assert_eq!((stats.sent, stats.refused, stats.evicted), (4, 36, 0));
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), [0, 1, 2, 3]);
}

#[test]
fn a_batch_larger_than_the_channel_is_handed_back_in_part() {
    oversized_try_send_batch::<Block>();
    oversized_try_send_batch::<DropOldest>();
    oversized_try_send_batch::<DropNewest>();
    oversized_try_send_batch::<Sample>();
}

// ----- send_batch ---------------------------------------------------------------

#[test]
fn send_batch_of_ten_times_the_capacity_goes_in_runs() {
    for cap in [1, 3, 8] {
        let n = 10 * cap as u32;
        let (tx, rx) = weir::bounded::<u32, Block>(cap);
        let consumer = spawn(move || {
            let got: Vec<u32> = rx.batches(cap, Duration::ZERO).flatten().collect();
            (got, rx.stats())
        });
        assert!(tx.send_batch(0..n).is_ok());
        assert!(tx.send_batch(Vec::new()).is_ok(), "nothing to send");
        drop(tx);
        let (got, stats) = consumer.get("the consumer");
        assert!(got.iter().copied().eq(0..n), "cap {cap}: {got:?}");
        assert_eq!((stats.sent, stats.received), (u64::from(n), u64::from(n)));
        assert_eq!(stats.handed_back(), 0);
    }
}

#[test]
fn send_batch_to_a_closed_channel_hands_the_values_back() {
    let (tx, rx) = weir::bounded::<u32, Block>(4);
    assert!(tx.close());
    let Err(SendError((taken, rest))) = tx.send_batch(vec![1, 2, 3]) else {
        panic!("sent into a closed channel");
    };
    assert_eq!(taken.into_iter().chain(rest).collect::<Vec<_>>(), [1, 2, 3]);
    // At most one run (the capacity) is taken from the iterator; the rest
    // comes back in it, untouched.
    let mut values = 0..10;
    let Err(SendError((taken, rest))) = tx.send_batch(values.by_ref()) else {
        panic!("sent into a closed channel");
    };
    assert!(taken.len() <= 4, "{taken:?}");
    assert!(taken.iter().copied().eq(0..taken.len() as u32));
    assert_eq!(rest.next(), Some(taken.len() as u32));
    assert!(values.eq(taken.len() as u32 + 1..10), "nothing more taken");
    // Endless iterators: the call does not hang, and nothing is lost.
    let Err(SendError((taken, mut rest))) = tx.send_batch(0u32..) else {
        panic!("sent into a closed channel");
    };
    assert!(taken.len() <= 4 && taken.iter().copied().eq(0..taken.len() as u32));
    assert_eq!(rest.next(), Some(taken.len() as u32));
    let mut made = 0u32;
    let counted = std::iter::from_fn(|| {
        made += 1;
        Some(made - 1)
    });
    let Err(SendError((taken, mut rest))) = tx.send_batch(counted) else {
        panic!("sent into a closed channel");
    };
    assert!(taken.len() <= 4 && taken.iter().copied().eq(0..taken.len() as u32));
    assert_eq!(rest.next(), Some(taken.len() as u32));
    let stats = rx.stats();
    assert_eq!((stats.sent, stats.refused), (0, 0));
}

/// A `send_batch` waiting for room when the channel is closed or its
/// receivers go: what was sent, what comes back in the error and what the
/// iterator still holds are the whole input, in order.
#[test]
fn send_batch_waiting_for_room_hands_back_the_rest_on_disconnect() {
    for end in ["sender", "receiver", "receivers gone"] {
        for endless in [false, true] {
            let (tx, rx) = weir::bounded::<u32, Block>(4);
            let closer = tx.clone();
            // What was taken but not sent, and the next values of the rest.
            let sender = spawn(move || {
                if endless {
                    tx.send_batch(0u32..)
                        .map_err(|SendError((taken, rest))| (taken, rest.take(3).collect()))
                } else {
                    tx.send_batch(0..20)
                        .map_err(|SendError((taken, rest))| (taken, rest.collect::<Vec<_>>()))
                }
            });
            let start = Instant::now();
            while rx.len() < 4 {
                assert!(start.elapsed() < PATIENCE, "the first run never came");
                thread::sleep(Duration::from_millis(1));
            }
            thread::sleep(SETTLE);
            match end {
                "sender" => assert!(closer.close()),
                "receiver" => assert!(rx.close()),
                _ => drop(rx),
            }
            let Err((taken, rest)) = sender.get("send_batch") else {
                panic!("{end}: a send_batch into a full channel succeeded");
            };
            let stats = closer.stats();
            assert_eq!(stats.sent, 4, "{end}");
            assert_eq!(taken.first(), Some(&4), "{end}: oldest unsent first");
            let unsent: Vec<u32> = taken.iter().chain(&rest).copied().collect();
            let expected = if endless { 4 + unsent.len() } else { 20 };
            assert!(
                unsent.iter().copied().eq(4..expected as u32),
                "{end}: {unsent:?}"
            );
            if end == "receivers gone" {
                assert_eq!(stats.discarded, 4);
            }
        }
    }
}

// ----- send_batch_async ---------------------------------------------------------

#[test]
fn send_batch_async_sends_everything_through_a_small_channel() {
    let (tx, rx) = weir::bounded::<u32, Block>(2);
    let consumer = spawn(move || rx.iter().collect::<Vec<_>>());
    let mut values: VecDeque<u32> = (0..50).collect();
    assert_eq!(block_on(tx.send_batch_async(&mut values)), Ok(()));
    assert!(values.is_empty());
    let mut none = VecDeque::new();
    assert_eq!(block_on(tx.send_batch_async(&mut none)), Ok(()));
    drop(tx);
    let got = consumer.get("the consumer");
    assert!(got.iter().copied().eq(0..50), "{got:?}");
}

/// Woken by room, and cancel safe: dropped while pending, it leaves every
/// value it did not send in the deque, in order.
#[test]
fn send_batch_async_is_woken_by_room_and_cancel_safe() {
    let (tx, rx) = weir::bounded::<u32, Block>(2);
    let mut values: VecDeque<u32> = (0..5).collect();
    let (counter, waker) = counting();
    {
        let mut send = pin!(tx.send_batch_async(&mut values));
        assert!(poll_once(send.as_mut(), &waker).is_pending());
        assert_eq!(rx.try_recv(), Ok(0));
        assert_eq!(counter.count(), 1, "room wakes the task");
        assert!(poll_once(send.as_mut(), &waker).is_pending());
    }
    assert_eq!(values, [3, 4]);
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), [1, 2]);
    // The dropped future owes nobody a wakeup: a waiting thread still
    // gets its room.
    tx.send(10).unwrap();
    tx.send(11).unwrap();
    let tx2 = tx.clone();
    let blocked = spawn(move || tx2.send_timeout(12, PATIENCE));
    thread::sleep(SETTLE);
    assert_eq!(rx.recv(), Ok(10));
    assert_eq!(blocked.get("a blocked send"), Ok(()));
    assert_eq!(rx.stats().sent, 6);
}

#[test]
fn close_fails_a_pending_send_batch_async_and_keeps_the_values() {
    for from_receiver in [false, true] {
        let (tx, rx) = weir::bounded::<u32, Block>(2);
        let mut values: VecDeque<u32> = (0..5).collect();
        let (counter, waker) = counting();
        {
            let mut send = pin!(tx.send_batch_async(&mut values));
            assert!(poll_once(send.as_mut(), &waker).is_pending());
            close_from(from_receiver, &tx, &rx);
            assert_eq!(counter.count(), 1, "the close wakes the task");
            assert_eq!(
                poll_once(send.as_mut(), &waker),
                Poll::Ready(Err(SendError(())))
            );
        }
        assert_eq!(values, [2, 3, 4], "the values not sent stay, in order");
        assert_eq!(rx.try_iter().collect::<Vec<_>>(), [0, 1]);
        assert_eq!(rx.recv(), Err(RecvError));
        // A fresh call on the closed channel fails at once, values intact.
        assert_eq!(
            poll_once(pin!(tx.send_batch_async(&mut values)), &waker),
            Poll::Ready(Err(SendError(())))
        );
        assert_eq!(values, [2, 3, 4]);
    }
}

// ----- receiving batches ----------------------------------------------------------

#[test]
fn try_recv_batch_and_recv_batch_take_up_to_max_in_order() {
    let (tx, rx) = weir::bounded::<u32, DropOldest>(8);
    let mut batch = vec![99]; // appended to, never cleared
    assert_eq!(rx.try_recv_batch(&mut batch, 4), 0);
    for i in 0..6 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.try_recv_batch(&mut batch, 4), 4);
    assert_eq!(rx.recv_batch(&mut batch, 4), Ok(2));
    assert_eq!(batch, [99, 0, 1, 2, 3, 4, 5]);
    // A max beyond any length takes everything there.
    for i in 10..13 {
        tx.send(i).unwrap();
    }
    let mut all = Vec::new();
    assert_eq!(rx.try_recv_batch(&mut all, usize::MAX), 3);
    tx.send(13).unwrap();
    assert_eq!(rx.recv_batch(&mut all, usize::MAX), Ok(1));
    assert_eq!(all, [10, 11, 12, 13]);
    let rx2 = rx.clone();
    let waiting = spawn(move || {
        let mut batch = Vec::new();
        (rx2.recv_batch(&mut batch, 4), batch)
    });
    thread::sleep(SETTLE);
    tx.send(6).unwrap();
    assert_eq!(waiting.get("recv_batch"), (Ok(1), vec![6]));
    drop(tx);
    assert_eq!(rx.recv_batch(&mut batch, 4), Err(RecvError));
    assert_eq!(rx.try_recv_batch(&mut batch, 4), 0);
    let stats = rx.stats();
    assert_eq!((stats.sent, stats.received), (11, 11));
}

/// Every batch receive takes what is left after the senders went, then
/// (on the next call) reports the disconnect.
#[test]
fn batch_receives_drain_before_they_report_the_disconnect() {
    for call in 0..5 {
        let (tx, rx) = weir::bounded::<u32, Block>(8);
        for i in 0..3 {
            tx.send(i).unwrap();
        }
        drop(tx);
        let recv = |batch: &mut Vec<u32>| -> Result<usize, RecvError> {
            match call {
                0 => rx.recv_batch(batch, 8),
                1 => rx.recv_batch_linger(batch, 8, 2 * PATIENCE),
                2 => rx
                    .recv_batch_deadline(batch, 8, Instant::now() + 2 * PATIENCE)
                    .map_err(|e| {
                        assert_eq!(e, RecvTimeoutError::Disconnected);
                        RecvError
                    }),
                3 => block_on(rx.recv_batch_async(batch, 8)),
                _ => {
                    let next = rx.batches(8, 2 * PATIENCE).next().ok_or(RecvError)?;
                    let n = next.len();
                    batch.extend(next);
                    Ok(n)
                }
            }
        };
        let start = Instant::now();
        let mut batch = Vec::new();
        assert_eq!(recv(&mut batch), Ok(3), "call {call}");
        assert_eq!(batch, [0, 1, 2]);
        assert_eq!(recv(&mut batch), Err(RecvError), "call {call}");
        assert!(
            start.elapsed() < PATIENCE,
            "call {call} waited out its linger"
        );
    }
}

#[test]
fn a_max_of_zero_returns_at_once_from_every_batch_call() {
    let (tx, rx) = weir::bounded::<u32, Block>(4);
    let (tx, rx) = spawn(move || {
        let (_, waker) = counting();
        // Connected, and each state in turn: empty (where any wait would
        // last forever), holding a value, and disconnected and empty.
        for state in ["empty", "holding a value", "disconnected"] {
            match state {
                "holding a value" => tx.send(1).unwrap(),
                "disconnected" => {
                    assert_eq!(rx.recv(), Ok(1));
                    assert!(tx.close());
                }
                _ => {}
            }
            let mut batch = vec![7];
            assert_eq!(rx.try_recv_batch(&mut batch, 0), 0, "{state}");
            assert_eq!(rx.recv_batch(&mut batch, 0), Ok(0), "{state}");
            assert_eq!(rx.recv_batch_linger(&mut batch, 0, PATIENCE), Ok(0));
            let later = Instant::now() + PATIENCE;
            assert_eq!(rx.recv_batch_deadline(&mut batch, 0, later), Ok(0));
            assert_eq!(
                poll_once(pin!(rx.recv_batch_async(&mut batch, 0)), &waker),
                Poll::Ready(Ok(0)),
                "{state}"
            );
            assert_eq!(batch, [7], "{state}: nothing taken");
            if state != "disconnected" {
                assert_eq!(tx.try_send_batch(&mut VecDeque::new()), Ok(0));
            }
        }
        (tx, rx)
    })
    .get("max == 0");
    assert!(rx.is_empty());
    assert_eq!(rx.stats().received, 1);
    drop(tx);
}

#[test]
#[should_panic(expected = "Receiver::batches needs a max batch size of at least 1")]
fn batches_of_zero_panic() {
    let (_tx, rx) = weir::bounded::<u32, Block>(4);
    let _ = rx.batches(0, Duration::ZERO);
}

// ----- lingers ---------------------------------------------------------------------

/// Values slower than the linger: each batch is flushed by time, holding
/// the one value that came. The next value is sent only after the batch
/// came back, so no timing can make a batch hold two.
#[test]
fn a_linger_flushes_by_time_when_values_trickle_in() {
    let linger = Duration::from_millis(if cfg!(miri) { 1 } else { 5 });
    let n = if cfg!(miri) { 3 } else { 10 };
    for through_batches in [false, true] {
        let (tx, rx) = weir::bounded::<u32, Block>(16);
        let (ack_tx, ack_rx) = mpsc::channel::<()>();
        let producer = spawn(move || {
            for i in 0..n {
                tx.send(i).unwrap();
                ack_rx.recv_timeout(PATIENCE).expect("the batch came back");
            }
        });
        let mut batches = rx.batches(100, linger);
        for i in 0..n {
            let start = Instant::now();
            let batch = if through_batches {
                batches.next().expect("a batch")
            } else {
                let mut batch = Vec::new();
                assert_eq!(rx.recv_batch_linger(&mut batch, 100, linger), Ok(1));
                batch
            };
            assert_eq!(batch, [i]);
            assert!(start.elapsed() >= linger, "flushed before the linger");
            ack_tx.send(()).unwrap();
        }
        producer.get("the producer");
        assert_eq!(batches.next(), None);
        assert_eq!(
            rx.recv_batch_linger(&mut Vec::new(), 100, linger),
            Err(RecvError)
        );
    }
}

/// A burst with a linger far longer than the test: only the size can end a
/// batch, so every batch is full.
#[test]
fn a_linger_fills_batches_to_max_in_a_burst() {
    let (tx, rx) = weir::bounded::<u32, Block>(16);
    let producer = spawn(move || {
        for i in 0..32 {
            tx.send(i).unwrap();
        }
        tx.send_batch(32..64).is_ok()
    });
    let mut all = Vec::new();
    for _ in 0..8 {
        let mut batch = Vec::new();
        assert_eq!(rx.recv_batch_linger(&mut batch, 8, 2 * PATIENCE), Ok(8));
        all.extend(batch);
    }
    assert!(producer.get("the producer"));
    assert!(all.iter().copied().eq(0..64), "{all:?}");

    // A linger too long for the clock still ends at max.
    let (tx, rx) = weir::bounded::<u32, Block>(32);
    tx.send_batch(0..24).unwrap();
    let mut batch = Vec::new();
    assert_eq!(rx.recv_batch_linger(&mut batch, 4, Duration::MAX), Ok(4));
    assert!(batch.iter().copied().eq(0..4));

    // Queued already, senders gone: full batches, then what is left.
    drop(tx);
    let start = Instant::now();
    let sizes: Vec<usize> = rx.batches(8, 2 * PATIENCE).map(|b| b.len()).collect();
    assert_eq!(sizes, [8, 8, 4]);
    assert!(
        start.elapsed() < PATIENCE,
        "the disconnect ends the last batch"
    );
}

#[test]
fn a_zero_linger_takes_what_is_there_after_the_first_value() {
    // The sender stays connected throughout: a linger that waited for more
    // would never end, so each call runs under a hang guard.
    let (tx, rx) = weir::bounded::<u32, Block>(8);
    for i in 0..3 {
        tx.send(i).unwrap();
    }
    let (tx, rx, batch) = spawn(move || {
        let mut batch = Vec::new();
        assert_eq!(rx.recv_batch_linger(&mut batch, 10, Duration::ZERO), Ok(3));
        tx.send(3).unwrap();
        assert_eq!(rx.recv_batch_linger(&mut batch, 10, Duration::ZERO), Ok(1));
        (tx, rx, batch)
    })
    .get("a zero linger with values there");
    // Waits for the first value, then takes no more than is there.
    let tx2 = tx.clone();
    let producer = spawn(move || {
        thread::sleep(SETTLE);
        tx2.send(4).unwrap();
        tx2
    });
    let (result, rx) = spawn(move || {
        let mut batch = Vec::new();
        let result = rx.recv_batch_linger(&mut batch, 10, Duration::ZERO);
        ((result, batch), rx)
    })
    .get("a zero linger");
    assert_eq!(result, (Ok(1), vec![4]));
    let _tx2 = producer.get("the producer");
    assert_eq!(batch, [0, 1, 2, 3]);
    assert!(rx.is_empty());
}

/// A batch lingering for more when the channel closes returns what it has.
#[test]
fn a_close_ends_a_lingering_batch() {
    for (deadline, from_receiver) in [(false, false), (false, true), (true, false), (true, true)] {
        let (tx, rx) = weir::bounded::<u32, Block>(8);
        tx.send(1).unwrap();
        let rx2 = rx.clone();
        let start = Instant::now();
        let lingering = spawn(move || {
            let mut batch = Vec::new();
            let result = if deadline {
                rx2.recv_batch_deadline(&mut batch, 8, Instant::now() + 2 * PATIENCE)
                    .map_err(|_| RecvError)
            } else {
                rx2.recv_batch_linger(&mut batch, 8, 2 * PATIENCE)
            };
            (result, batch)
        });
        thread::sleep(SETTLE);
        tx.send(2).unwrap();
        close_from(from_receiver, &tx, &rx);
        assert_eq!(lingering.get("a lingering batch"), (Ok(2), vec![1, 2]));
        assert!(start.elapsed() < PATIENCE);
        assert_eq!(rx.recv_batch(&mut Vec::new(), 8), Err(RecvError));
    }
}

// ----- recv_batch_deadline --------------------------------------------------------

#[test]
fn recv_batch_deadline_times_out_then_waits_until_the_deadline_for_more() {
    let (tx, rx) = weir::bounded::<u32, Block>(8);
    let mut batch = Vec::new();
    let wait = Duration::from_millis(20);
    let deadline = Instant::now() + wait;
    assert_eq!(
        rx.recv_batch_deadline(&mut batch, 4, deadline),
        Err(RecvTimeoutError::Timeout)
    );
    assert!(Instant::now() >= deadline, "timed out early");
    tx.send(1).unwrap();
    let deadline = Instant::now() + wait;
    assert_eq!(rx.recv_batch_deadline(&mut batch, 4, deadline), Ok(1));
    assert!(
        Instant::now() >= deadline,
        "a batch short of max ends at the deadline"
    );
    // Values that arrive before the deadline join the batch, up to max.
    let tx2 = tx.clone();
    let producer = spawn(move || {
        for i in 2..8 {
            tx2.send(i).unwrap();
            thread::sleep(Duration::from_millis(1));
        }
    });
    let far = Instant::now() + 2 * PATIENCE;
    assert_eq!(rx.recv_batch_deadline(&mut batch, 4, far), Ok(4));
    producer.get("the producer");
    drop(tx); // the disconnect, not the far deadline, ends the last batch
    assert_eq!(rx.recv_batch_deadline(&mut batch, 4, far), Ok(2));
    assert_eq!(batch, [1, 2, 3, 4, 5, 6, 7]);
}

/// A deadline already past: what is there now, without waiting; `Timeout`
/// on an empty channel whose sender lives, `Disconnected` once it is gone.
#[test]
fn recv_batch_deadline_already_past_is_a_non_waiting_attempt() {
    // The sender stays connected: a call that waited would not end, so the
    // calls run under a hang guard.
    spawn(|| {
        let (tx, rx) = weir::bounded::<u32, Block>(8);
        let past = Instant::now();
        let mut batch = Vec::new();
        assert_eq!(
            rx.recv_batch_deadline(&mut batch, 4, past),
            Err(RecvTimeoutError::Timeout)
        );
        for i in 0..5 {
            tx.send(i).unwrap();
        }
        assert_eq!(rx.recv_batch_deadline(&mut batch, 2, past), Ok(2));
        assert_eq!(rx.recv_batch_deadline(&mut batch, 10, past), Ok(3));
        assert_eq!(
            rx.recv_batch_deadline(&mut batch, 10, past - Duration::from_millis(1)),
            Err(RecvTimeoutError::Timeout)
        );
        assert_eq!(batch, [0, 1, 2, 3, 4]);
        tx.send(5).unwrap();
        drop(tx);
        assert_eq!(rx.recv_batch_deadline(&mut batch, 10, past), Ok(1));
        assert_eq!(
            rx.recv_batch_deadline(&mut batch, 10, past),
            Err(RecvTimeoutError::Disconnected)
        );
    })
    .get("a past deadline");
}

// ----- recv_batch_async -----------------------------------------------------------

#[test]
fn recv_batch_async_waits_for_a_first_value_then_takes_what_is_there() {
    let (tx, rx) = weir::bounded::<u32, DropNewest>(8);
    let mut batch = Vec::new();
    let (counter, waker) = counting();
    {
        let mut recv = pin!(rx.recv_batch_async(&mut batch, 4));
        assert!(poll_once(recv.as_mut(), &waker).is_pending());
        tx.send(0).unwrap();
        assert_eq!(counter.count(), 1, "a value wakes the task");
        for i in 1..6 {
            tx.send(i).unwrap();
        }
        assert_eq!(poll_once(recv.as_mut(), &waker), Poll::Ready(Ok(4)));
    }
    assert_eq!(batch, [0, 1, 2, 3]);
    assert_eq!(block_on(rx.recv_batch_async(&mut batch, 4)), Ok(2));
    let tx2 = tx.clone();
    let producer = spawn(move || {
        thread::sleep(SETTLE);
        tx2.send(6).unwrap();
    });
    assert_eq!(block_on(rx.recv_batch_async(&mut batch, 4)), Ok(1));
    producer.get("the producer");
    drop(tx);
    assert_eq!(block_on(rx.recv_batch_async(&mut batch, 4)), Err(RecvError));
    assert!(batch.iter().copied().eq(0..7));
}

/// Dropped while pending, it takes nothing; dropped after a value woke it,
/// it passes the wakeup to the next waiting receiver.
#[test]
fn recv_batch_async_is_cancel_safe_and_passes_its_wakeup_on() {
    let (tx, rx) = weir::bounded::<u32, Block>(4);
    let (first, waker_a) = counting();
    let (second, waker_b) = counting();
    let mut batch_a = Vec::new();
    let mut batch_b = Vec::new();
    let mut b = Box::pin(rx.recv_batch_async(&mut batch_b, 4));
    {
        let mut a = Box::pin(rx.recv_batch_async(&mut batch_a, 4));
        assert!(poll_once(a.as_mut(), &waker_a).is_pending());
        assert!(poll_once(b.as_mut(), &waker_b).is_pending());
        tx.send(1).unwrap();
        assert_eq!((first.count(), second.count()), (1, 0), "FIFO");
    }
    assert_eq!(second.count(), 1, "the dropped future's wakeup moves on");
    assert_eq!(poll_once(b.as_mut(), &waker_b), Poll::Ready(Ok(1)));
    drop(b);
    assert!(batch_a.is_empty());
    assert_eq!(batch_b, [1]);
    // A thread waiting behind a dropped future gets its value too.
    let (c, waker_c) = counting();
    let mut batch_c = Vec::new();
    let mut dropped = Box::pin(rx.recv_batch_async(&mut batch_c, 4));
    assert!(poll_once(dropped.as_mut(), &waker_c).is_pending());
    let rx2 = rx.clone();
    let thread_waiter = spawn(move || rx2.recv_timeout(PATIENCE));
    thread::sleep(SETTLE);
    tx.send(2).unwrap();
    drop(dropped);
    assert!(c.count() <= 1);
    assert_eq!(thread_waiter.get("a waiting thread"), Ok(2));
}

// ----- close racing blocked calls ---------------------------------------------------

/// Threads and tasks blocked in every batch call, on an empty channel
/// (receivers) and a full one (senders): a close from either end wakes
/// each, and each returns its error with every value accounted for.
#[test]
fn close_wakes_every_blocked_batch_call_from_either_end() {
    for from_receiver in [false, true] {
        let (tx, rx) = weir::bounded::<u32, Block>(4);
        let receivers: Vec<Pending<Result<usize, RecvError>>> = (0..5)
            .map(|call| {
                let rx = rx.clone();
                spawn(move || {
                    let mut batch = Vec::new();
                    let result = match call {
                        0 => rx.recv_batch(&mut batch, 4),
                        1 => rx.recv_batch_linger(&mut batch, 4, 2 * PATIENCE),
                        2 => rx
                            .recv_batch_deadline(&mut batch, 4, Instant::now() + PATIENCE)
                            .map_err(|e| {
                                assert!(e.is_disconnected(), "{e:?}");
                                RecvError
                            }),
                        3 => rx
                            .batches(4, PATIENCE)
                            .next()
                            .map(|b| b.len())
                            .ok_or(RecvError),
                        _ => block_on(rx.recv_batch_async(&mut batch, 4)),
                    };
                    assert!(batch.is_empty());
                    result
                })
            })
            .collect();

        let (full_tx, full_rx) = weir::bounded::<u32, Block>(2);
        full_tx.send_batch([0, 1]).unwrap();
        let batch_sender = {
            let tx = full_tx.clone();
            spawn(move || {
                tx.send_batch(10..15)
                    .map_err(|SendError((taken, rest))| taken.into_iter().chain(rest).collect())
            })
        };
        let async_sender = {
            let tx = full_tx.clone();
            spawn(move || {
                let mut values: VecDeque<u32> = (20..25).collect();
                let result = block_on(tx.send_batch_async(&mut values));
                (result, values)
            })
        };
        let relief = {
            let tx = full_tx.clone();
            spawn(move || tx.wait_normal())
        };
        let async_relief = {
            let tx = full_tx.clone();
            spawn(move || block_on(tx.wait_normal_async()))
        };
        thread::sleep(SETTLE);
        close_from(from_receiver, &tx, &rx);
        close_from(from_receiver, &full_tx, &full_rx);

        for (call, r) in receivers.into_iter().enumerate() {
            assert_eq!(r.get("a blocked receive"), Err(RecvError), "call {call}");
        }
        assert_eq!(
            batch_sender.get("send_batch"),
            Err::<(), Vec<u32>>((10..15).collect())
        );
        assert_eq!(
            async_sender.get("send_batch_async"),
            (Err(SendError(())), (20..25).collect())
        );
        assert_eq!(relief.get("wait_normal"), Err(WaitError));
        assert_eq!(async_relief.get("wait_normal_async"), Err(WaitError));
        assert_eq!(full_rx.try_iter().collect::<Vec<_>>(), [0, 1]);
        let stats = full_rx.stats();
        assert_eq!((stats.sent, stats.received, stats.refused), (2, 2, 0));
        assert!(!tx.close() && !rx.close(), "a second close is a no-op");
    }
}

/// Producers sending in batches and consumers receiving in batches while
/// another thread closes the channel: every value is received or handed
/// back exactly once, and each consumer sees each producer in order.
fn close_racing_batch_traffic<P: Offer>(from_receiver: bool) {
    let per: u32 = if cfg!(miri) { 40 } else { 4_000 };
    let (tx, rx) = weir::bounded::<(u32, u32), P>(8);
    let producers: Vec<_> = (0..2u32)
        .map(|id| {
            let tx = tx.clone();
            spawn(move || {
                let mut rng = Rng::new(u64::from(id) + 7);
                let mut back = Vec::new();
                let mut seq = 0;
                while seq < per {
                    let k = (1 + rng.below(8) as u32).min(per - seq);
                    let mut values: VecDeque<_> = (seq..seq + k).map(|s| (id, s)).collect();
                    seq += k;
                    if rng.below(3) == 0 {
                        for v in values {
                            match P::offer(&tx, v) {
                                Outcome::Queued => {}
                                Outcome::Evicted(v)
                                | Outcome::Refused(v)
                                | Outcome::SampledOut(v)
                                | Outcome::Disconnected(v) => back.push(v),
                            }
                        }
                    } else {
                        P::batch(&tx, &mut values);
                        back.extend(values);
                    }
                }
                back
            })
        })
        .collect();
    let consumers: Vec<_> = (0..2u64)
        .map(|c| {
            let rx = rx.clone();
            spawn(move || {
                let mut rng = Rng::new(c + 100);
                let mut last = [None::<u32>; 2];
                let mut got = Vec::new();
                let mut batch = Vec::new();
                loop {
                    batch.clear();
                    let done = match rng.below(3) {
                        0 => rx.recv_batch(&mut batch, 4).is_err(),
                        1 => rx
                            .recv_batch_linger(&mut batch, 6, Duration::from_micros(50))
                            .is_err(),
                        _ => {
                            if rx.try_recv_batch(&mut batch, 8) == 0 {
                                if rx.is_disconnected() && rx.is_empty() {
                                    break;
                                }
                                thread::yield_now();
                            }
                            false
                        }
                    };
                    for &(id, seq) in &batch {
                        let prev = last[id as usize].replace(seq);
                        assert!(prev.map_or(true, |p| p < seq), "{id}: {prev:?} then {seq}");
                    }
                    got.append(&mut batch);
                    if done {
                        break;
                    }
                }
                got
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(if cfg!(miri) { 1 } else { 5 }));
    close_from(from_receiver, &tx, &rx);
    let back: Vec<_> = producers
        .into_iter()
        .flat_map(|p| p.get("a producer"))
        .collect();
    let got: Vec<_> = consumers
        .into_iter()
        .flat_map(|c| c.get("a consumer"))
        .collect();
    let mut seen = HashSet::new();
    for v in got.iter().chain(&back) {
        assert!(seen.insert(*v), "{v:?} twice");
    }
    assert_eq!(seen.len() as u32, 2 * per, "{}: every value", P::NAME);
    let stats = rx.stats();
    assert_eq!(stats.received, got.len() as u64);
    assert_eq!(stats.sent, stats.received + stats.evicted);
}

#[test]
fn close_racing_batch_traffic_under_every_policy() {
    for from_receiver in [false, true] {
        close_racing_batch_traffic::<Block>(from_receiver);
        close_racing_batch_traffic::<DropOldest>(from_receiver);
        close_racing_batch_traffic::<DropNewest>(from_receiver);
        close_racing_batch_traffic::<Sample>(from_receiver);
    }
}

/// The same race with tasks on tokio's multi-thread runtime:
/// `send_batch_async` producers and `recv_batch_async` consumers.
#[cfg(not(miri))]
#[test]
fn close_racing_async_batch_tasks() {
    for from_receiver in [false, true] {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()
            .unwrap();
        let per = 5_000u32;
        let (tx, rx) = weir::bounded::<(u32, u32), Block>(8);
        let producers: Vec<_> = (0..2u32)
            .map(|id| {
                let tx = tx.clone();
                rt.spawn(async move {
                    let mut back = Vec::new();
                    for start in (0..per).step_by(5) {
                        let mut values: VecDeque<_> =
                            (start..(start + 5).min(per)).map(|s| (id, s)).collect();
                        if tx.send_batch_async(&mut values).await.is_err() {
                            back.extend(values);
                        } else {
                            assert!(values.is_empty());
                        }
                    }
                    back
                })
            })
            .collect();
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let rx = rx.clone();
                rt.spawn(async move {
                    let mut last = [None::<u32>; 2];
                    let mut got = Vec::new();
                    let mut batch = Vec::new();
                    while rx.recv_batch_async(&mut batch, 4).await.is_ok() {
                        for &(id, seq) in &batch {
                            let prev = last[id as usize].replace(seq);
                            assert!(prev.map_or(true, |p| p < seq));
                        }
                        got.append(&mut batch);
                    }
                    got
                })
            })
            .collect();
        thread::sleep(Duration::from_millis(5));
        close_from(from_receiver, &tx, &rx);
        let (back, got) = rt.block_on(async {
            let mut back = Vec::new();
            for p in producers {
                back.extend(tokio::time::timeout(PATIENCE, p).await.unwrap().unwrap());
            }
            let mut got = Vec::new();
            for c in consumers {
                got.extend(tokio::time::timeout(PATIENCE, c).await.unwrap().unwrap());
            }
            (back, got)
        });
        let mut seen = HashSet::new();
        for v in got.iter().chain(&back) {
            assert!(seen.insert(*v), "{v:?} twice");
        }
        assert_eq!(seen.len() as u32, 2 * per);
        assert_eq!(rx.stats().received, got.len() as u64);
    }
}

// ----- runs across the wrap-around ------------------------------------------------------

/// Capacity 5 with head and tail at index 3: a batch of 4 takes slots 3, 4,
/// 0 and 1, and comes out in order, with exact counts.
#[test]
fn batch_runs_across_the_ring_wrap_around() {
    for way in 0..4 {
        let (tx, rx) = weir::bounded::<u32, Block>(5);
        for i in 0..3 {
            tx.send(i).unwrap();
            assert_eq!(rx.recv(), Ok(i));
        }
        let mut batch = Vec::new();
        match way {
            0 => {
                let mut values: VecDeque<u32> = (10..14).collect();
                assert_eq!(tx.try_send_batch(&mut values), Ok(4));
                assert_eq!(rx.try_recv_batch(&mut batch, 4), 4);
            }
            1 => {
                tx.send_batch(10..14).unwrap();
                assert_eq!(rx.recv_batch(&mut batch, 4), Ok(4));
            }
            2 => {
                let mut values: VecDeque<u32> = (10..14).collect();
                assert_eq!(block_on(tx.send_batch_async(&mut values)), Ok(()));
                assert_eq!(block_on(rx.recv_batch_async(&mut batch, 4)), Ok(4));
            }
            _ => {
                tx.send_batch(10..14).unwrap();
                let far = Instant::now() + PATIENCE;
                assert_eq!(rx.recv_batch_deadline(&mut batch, 4, far), Ok(4));
            }
        }
        assert_eq!(batch, [10, 11, 12, 13], "way {way}");
        let stats = rx.stats();
        assert_eq!((stats.sent, stats.received), (7, 7));
        assert_eq!(stats.handed_back(), 0);
        // Once more round, filling every slot from index 2.
        let mut values: VecDeque<u32> = (20..27).collect();
        assert_eq!(tx.try_send_batch(&mut values), Ok(5));
        assert_eq!(values, [25, 26]);
        batch.clear();
        assert_eq!(rx.try_recv_batch(&mut batch, 9), 5);
        assert_eq!(batch, [20, 21, 22, 23, 24]);
        let stats = rx.stats();
        assert_eq!((stats.sent, stats.received, stats.refused), (12, 12, 2));
    }
}

/// Every start index, fill level, batch size and take for small
/// capacities, against a `VecDeque` model.
#[test]
fn batch_runs_from_every_start_index_match_a_model() {
    let caps = if cfg!(miri) { 1usize..=3 } else { 1..=6 };
    for cap in caps {
        for offset in 0..cap {
            for queued in 0..=cap {
                for n in 0..=cap + 1 {
                    for take in [0, 1, cap.saturating_sub(1), cap, cap + 1] {
                        let (tx, rx) = weir::bounded::<usize, DropOldest>(cap);
                        for i in 0..offset {
                            tx.send(i).unwrap();
                            assert_eq!(rx.try_recv(), Ok(i));
                        }
                        let mut model: VecDeque<usize> = VecDeque::new();
                        for i in 0..queued {
                            assert_eq!(tx.send(100 + i), Ok(None));
                            model.push_back(100 + i);
                        }
                        let mut values: VecDeque<usize> = (200..200 + n).collect();
                        let moved = tx.try_send_batch(&mut values).unwrap();
                        let fits = n.min(cap - queued);
                        let case = format!("cap {cap} at {offset}, {queued} queued, {n} sent");
                        assert_eq!(moved, fits, "{case}");
                        model.extend(200..200 + fits);
                        assert!(values.iter().copied().eq(200 + fits..200 + n), "{case}");
                        let mut batch = Vec::new();
                        let taken = rx.try_recv_batch(&mut batch, take);
                        let expected: Vec<usize> = model.drain(..take.min(model.len())).collect();
                        assert_eq!(batch, expected, "{case}, {take} taken");
                        assert_eq!(taken, expected.len());
                        let stats = rx.stats();
                        let (sent, received) = (offset + queued + fits, offset + taken);
                        assert_eq!(
                            (stats.sent, stats.received, stats.refused, stats.evicted),
                            (sent as u64, received as u64, (n - fits) as u64, 0),
                            "{case}"
                        );
                        assert_eq!(rx.len(), model.len(), "{case}");
                        assert!(rx.try_iter().eq(model.drain(..)), "{case}");
                    }
                }
            }
        }
    }
}

// ----- accounting under every policy --------------------------------------------------

/// One thread, a pseudo-random mix of single and batch operations on both
/// ends: after every step `sent == received + evicted + discarded + len`,
/// every offered value was queued or handed back, and the test's own
/// counts match `stats()` exactly.
fn accounting_with_batches<P: Offer>(seed: u64) {
    let steps = if cfg!(miri) { 150 } else { 4_000 };
    let (tx, rx) = Builder::new(6)
        .watermarks(0.5, 0.75)
        .sample_rate(3)
        .build::<u32, P>()
        .unwrap();
    let mut rng = Rng::new(seed);
    let mut next = 0u32;
    let mut received: Vec<u32> = Vec::new();
    let (mut evicted, mut refused, mut sampled_out) = (0u64, 0u64, 0u64);
    for step in 0..steps {
        let k = 1 + rng.below(8);
        match rng.below(7) {
            0 | 1 => {
                match P::offer(&tx, next) {
                    Outcome::Queued => {}
                    Outcome::Evicted(old) => {
                        assert!(old < next);
                        evicted += 1;
                    }
                    Outcome::Refused(v) => {
                        assert_eq!(v, next);
                        refused += 1;
                    }
                    Outcome::SampledOut(v) => {
                        assert_eq!(v, next);
                        sampled_out += 1;
                    }
                    Outcome::Disconnected(v) => panic!("{v}: disconnected"),
                }
                next += 1;
            }
            2 => {
                if tx.try_send(next).is_err() {
                    refused += 1;
                }
                next += 1;
            }
            3 => {
                let mut values: VecDeque<u32> = (next..next + k as u32).collect();
                next += k as u32;
                let before = tx.len();
                let moved = P::batch(&tx, &mut values);
                assert_eq!(moved, k.min(tx.capacity() - before), "step {step}");
                assert_eq!(moved + values.len(), k);
                refused += values.len() as u64;
            }
            4 => {
                rx.try_recv_batch(&mut received, k);
            }
            5 => {
                let past = Instant::now();
                let _ = rx.recv_batch_deadline(&mut received, k, past);
            }
            _ => {
                if rx.is_empty() {
                    let _ = rx.try_recv();
                } else if rng.below(2) == 0 {
                    rx.recv_batch_linger(&mut received, k, Duration::ZERO)
                        .unwrap();
                } else {
                    received.push(rx.recv().unwrap());
                }
            }
        }
        let stats = rx.stats();
        let len = rx.len() as u64;
        assert_eq!(
            stats.sent,
            stats.received + stats.evicted + stats.discarded + len,
            "{} step {step}",
            P::NAME
        );
        assert_eq!(
            u64::from(next),
            stats.sent + stats.refused + stats.sampled_out,
            "{} step {step}: every offer was queued or handed back",
            P::NAME
        );
        assert_eq!(
            (
                stats.received,
                stats.evicted,
                stats.refused,
                stats.sampled_out
            ),
            (received.len() as u64, evicted, refused, sampled_out),
            "{} step {step}",
            P::NAME
        );
    }
    assert!(
        received.windows(2).all(|w| w[0] < w[1]),
        "{}: FIFO",
        P::NAME
    );
    let left = rx.len() as u64;
    drop(rx);
    let stats = tx.stats();
    assert_eq!(stats.discarded, left);
    assert_eq!(
        u64::from(next),
        received.len() as u64 + stats.handed_back() + stats.discarded,
        "{}: offered == received + handed back + discarded",
        P::NAME
    );
    match P::NAME {
        "Block" | "DropNewest" => assert_eq!(stats.evicted + stats.sampled_out, 0),
        "DropOldest" => assert!(stats.evicted > 0 && stats.sampled_out == 0),
        _ => assert!(stats.sampled_out > 0 && stats.evicted == 0),
    }
    assert!(
        stats.refused > 0,
        "{}: the batches met a full channel",
        P::NAME
    );
}

#[test]
fn batch_sends_keep_the_accounting_invariant_under_every_policy() {
    // On another thread: a zero linger or a past deadline that waited
    // would hang this one-threaded mix.
    let limit = if cfg!(miri) {
        30 * PATIENCE
    } else {
        2 * PATIENCE
    };
    spawn(|| {
        for seed in 1..=3 {
            accounting_with_batches::<Block>(seed);
            accounting_with_batches::<DropOldest>(seed);
            accounting_with_batches::<DropNewest>(seed);
            accounting_with_batches::<Sample>(seed);
        }
    })
    .get_within("the accounting mix", limit);
}
