//! Readings under load: `len`, `pressure` and `stats` taken while other
//! threads send, evict and receive must be right at that instant, not only
//! once the channel is quiet.
//!
//! Each test runs the observer on a thread of its own, beside the threads
//! that change the channel, and compares what it reads with what must hold
//! at every instant: a ring that always holds `cap` values reads `cap`, and
//! every counter lies between what the workers had finished before the
//! reading and what they had started by its end.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;

use weir::{
    Block, DropNewest, DropOldest, Policy, Pressure, Sample, SampleError, SendError, SendOutcome,
    TrySendError,
};

fn rounds(native: usize) -> usize {
    if cfg!(miri) {
        40
    } else {
        native
    }
}

/// One sender evicts in a loop from a ring it filled, nobody receives: the
/// ring holds `cap` values at every instant, so every reading says so.
fn always_full_reads_full(cap: usize) {
    let (tx, rx) = weir::bounded::<u64, DropOldest>(cap);
    for i in 0..cap as u64 {
        assert_eq!(tx.send(i), Ok(None));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let evictor = {
        let stop = stop.clone();
        thread::spawn(move || {
            let mut i = cap as u64;
            while !stop.load(Ordering::Relaxed) {
                assert!(tx.send(i).unwrap().is_some(), "a full ring evicts");
                i += 1;
            }
            tx
        })
    };
    let observer = thread::spawn(move || {
        let mut wrong = 0usize;
        let mut worst = cap;
        let reads = rounds(300_000);
        for _ in 0..reads {
            let len = rx.len();
            let pressure = rx.pressure();
            if len != cap || pressure != Pressure::Full {
                wrong += 1;
                worst = worst.min(len);
            }
        }
        (wrong, worst, reads, rx)
    });
    let (wrong, worst, reads, rx) = observer.join().unwrap();
    stop.store(true, Ordering::Relaxed);
    let tx = evictor.join().unwrap();
    assert_eq!(
        wrong, 0,
        "capacity {cap}: {wrong} of {reads} readings of an always-full ring were not full \
         (lowest len {worst})"
    );
    assert_eq!(tx.len(), cap);
    drop(rx);
}

#[test]
fn an_always_full_ring_reads_full_while_evicting_cap1() {
    always_full_reads_full(1);
}

#[test]
fn an_always_full_ring_reads_full_while_evicting_cap2() {
    always_full_reads_full(2);
}

#[test]
fn an_always_full_ring_reads_full_while_evicting_cap7() {
    always_full_reads_full(7);
}

/// One `DropOldest` sender evicts in a loop, nobody receives: `received`
/// stays 0 in every snapshot, and what was sent is what was evicted plus
/// what the ring holds.
#[test]
fn stats_say_nothing_was_received_when_nobody_receives() {
    let cap = 4;
    let (tx, rx) = weir::bounded::<u64, DropOldest>(cap);
    let stop = Arc::new(AtomicBool::new(false));
    let sender = {
        let stop = stop.clone();
        thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                tx.send(i).unwrap();
                i += 1;
            }
        })
    };
    let observer = thread::spawn(move || {
        let mut worst = 0;
        for _ in 0..rounds(300_000) {
            let s = rx.stats();
            worst = worst.max(s.received);
            assert!(s.sent <= s.evicted + cap as u64 + 1, "{s:?}");
        }
        (worst, rx)
    });
    let (worst, rx) = observer.join().unwrap();
    stop.store(true, Ordering::Relaxed);
    sender.join().unwrap();
    drop(rx);
    assert_eq!(worst, 0, "a snapshot said {worst} values were received");
}

/// What the workers have finished, counted by the workers themselves.
#[derive(Default)]
struct Truth {
    /// Sends that returned having queued their value.
    queued: AtomicU64,
    /// Values received.
    received: AtomicU64,
    /// Values handed back by a send whose value was evicted.
    evicted: AtomicU64,
    /// Values handed back because the channel was full.
    refused: AtomicU64,
    /// Values handed back because they were not the one in N kept.
    sampled_out: AtomicU64,
}

impl Truth {
    fn read(&self) -> [u64; 5] {
        [
            self.queued.load(Ordering::SeqCst),
            self.received.load(Ordering::SeqCst),
            self.evicted.load(Ordering::SeqCst),
            self.refused.load(Ordering::SeqCst),
            self.sampled_out.load(Ordering::SeqCst),
        ]
    }
}

/// Whether a send's outcome was a value sampled out, so that the workers can
/// count `refused` and `sampled_out` apart, as the channel does.
trait SampledOut {
    fn sampled_out(&self) -> bool;
}

impl SampledOut for Result<(), SendError<u64>> {
    fn sampled_out(&self) -> bool {
        false
    }
}

impl SampledOut for Result<Option<u64>, SendError<u64>> {
    fn sampled_out(&self) -> bool {
        false
    }
}

impl SampledOut for Result<(), TrySendError<u64>> {
    fn sampled_out(&self) -> bool {
        false
    }
}

impl SampledOut for Result<(), SampleError<u64>> {
    fn sampled_out(&self) -> bool {
        matches!(self, Err(SampleError::SampledOut(_)))
    }
}

/// Senders and receivers of policy `P` run while an observer compares each
/// snapshot with what the workers had finished just before it and just after
/// it. Each counter may be off only by operations in flight during the
/// snapshot: at most one per worker thread.
fn stats_match_the_workers<P: Policy>(senders: usize, receivers: usize, cap: usize)
where
    P::Output<u64>: SampledOut,
{
    let per_sender = rounds(100_000) as u64;
    let (tx, rx) = weir::Builder::new(cap)
        .sample_rate(3)
        .build::<u64, P>()
        .unwrap();
    let truth = Arc::new(Truth::default());
    let done = Arc::new(AtomicBool::new(false));

    let mut workers = Vec::new();
    for _ in 0..senders {
        let tx = tx.clone();
        let truth = truth.clone();
        workers.push(thread::spawn(move || {
            for i in 0..per_sender {
                let outcome = tx.send(i);
                let evicting = P::NAME == "DropOldest";
                let sampled_out = outcome.sampled_out();
                match outcome.handed_back() {
                    None => {
                        truth.queued.fetch_add(1, Ordering::SeqCst);
                    }
                    Some(_) if evicting => {
                        truth.queued.fetch_add(1, Ordering::SeqCst);
                        truth.evicted.fetch_add(1, Ordering::SeqCst);
                    }
                    Some(_) if sampled_out => {
                        truth.sampled_out.fetch_add(1, Ordering::SeqCst);
                    }
                    Some(_) => {
                        truth.refused.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }
        }));
    }
    for _ in 0..receivers {
        let rx = rx.clone();
        let truth = truth.clone();
        workers.push(thread::spawn(move || {
            while rx.recv().is_ok() {
                truth.received.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    let observer = {
        let rx = rx.clone();
        let truth = truth.clone();
        let done = done.clone();
        thread::spawn(move || {
            let slack = (senders + receivers) as u64;
            let mut snapshots = 0u64;
            while !done.load(Ordering::SeqCst) {
                let before = truth.read();
                let s = rx.stats();
                let after = truth.read();
                snapshots += 1;
                let fields = [
                    ("sent", s.sent),
                    ("received", s.received),
                    ("evicted", s.evicted),
                    ("refused", s.refused),
                    ("sampled_out", s.sampled_out),
                ];
                for ((name, read), (lo, hi)) in fields.iter().zip(before.iter().zip(&after)) {
                    assert!(
                        *lo <= *read && *read <= *hi + slack,
                        "{}: {name} read {read}, workers had finished {lo} before the \
                         snapshot and {hi} after it; {s:?}",
                        P::NAME
                    );
                }
                // No receiver leaves while values remain, so none is
                // discarded.
                assert_eq!(s.discarded, 0, "{}: {s:?}", P::NAME);
                let out = s.received + s.evicted + s.discarded;
                assert!(
                    out <= s.sent && s.sent - out <= cap as u64 + slack,
                    "{}: sent {} but received + evicted + discarded is {out}",
                    P::NAME,
                    s.sent
                );
            }
            snapshots
        })
    };
    drop(tx);
    for worker in workers {
        worker.join().unwrap();
    }
    done.store(true, Ordering::SeqCst);
    assert!(observer.join().unwrap() > 0);
    let end = rx.stats();
    drop(rx);
    let [queued, received, evicted, refused, sampled_out] = truth.read();
    assert_eq!(queued + refused + sampled_out, per_sender * senders as u64);
    assert_eq!(queued, received + evicted);
    assert_eq!(
        [
            end.sent,
            end.received,
            end.evicted,
            end.refused,
            end.sampled_out,
            end.discarded,
        ],
        [queued, received, evicted, refused, sampled_out, 0],
        "{}: the final stats",
        P::NAME
    );
}

#[test]
fn stats_match_the_workers_block() {
    stats_match_the_workers::<Block>(2, 2, 4);
}

#[test]
fn stats_match_the_workers_drop_oldest() {
    stats_match_the_workers::<DropOldest>(2, 1, 4);
}

#[test]
fn stats_match_the_workers_drop_newest() {
    stats_match_the_workers::<DropNewest>(2, 1, 4);
}

#[test]
fn stats_match_the_workers_sample() {
    stats_match_the_workers::<Sample>(2, 1, 8);
}

/// More refusing senders than the channel has stripes of hand-back counts:
/// the summed `refused` still lies between what the senders had finished and
/// what they had started.
#[test]
fn stats_match_the_workers_drop_newest_six_senders() {
    stats_match_the_workers::<DropNewest>(6, 1, 4);
}

#[test]
fn stats_match_the_workers_sample_six_senders() {
    stats_match_the_workers::<Sample>(6, 1, 8);
}

/// Threads that exit give their stripe of the hand-back counts to the next
/// threads that refuse: waves of refusing threads, more in each wave than
/// there are stripes, on two channels at once. No refusal may be lost when a
/// stripe changes hands or when threads without one share a stripe.
#[test]
fn refusals_stay_exact_as_threads_come_and_go() {
    let per_thread = rounds(20_000) as u64;
    let (waves, threads) = if cfg!(miri) { (2, 5) } else { (6, 6) };
    let channels: Vec<_> = (0..2)
        .map(|_| {
            let (tx, rx) = weir::bounded::<u64, DropNewest>(1);
            assert!(tx.send(0).is_ok());
            (tx, rx)
        })
        .collect();
    for wave in 0..waves {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let tx = channels[t % 2].0.clone();
                thread::spawn(move || {
                    for i in 0..per_thread {
                        assert!(tx.send(i).is_err(), "a full ring refuses");
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.join().unwrap();
        }
        let refused: u64 = channels.iter().map(|(_, rx)| rx.stats().refused).sum();
        assert_eq!(refused, (wave + 1) as u64 * threads as u64 * per_thread);
    }
}

/// Sets its flag when the thread-locals of its thread are dropped.
struct SetOnExit(std::cell::RefCell<Option<Arc<AtomicBool>>>);

impl Drop for SetOnExit {
    fn drop(&mut self) {
        if let Some(flag) = self.0.borrow_mut().take() {
            flag.store(true, Ordering::Relaxed);
        }
    }
}

thread_local! {
    static ON_EXIT: SetOnExit = const { SetOnExit(std::cell::RefCell::new(None)) };
}

/// A stripe handed from an exiting thread to the next, with nothing else
/// ordering the two: the first thread's counts must be seen by the second,
/// which goes on from them. The second thread starts refusing once the
/// first one's locals are gone (its stripe given back), seen through a
/// relaxed flag that gives no happens-before of its own; only the stripe's
/// hand-over orders the first thread's additions before the second's.
/// Under Miri, which explores weak memory, weakening the hand-over's
/// release and acquire makes this fail.
#[test]
fn a_stripe_handed_over_keeps_its_count() {
    let per_thread = 3;
    for _ in 0..rounds(200) / 5 {
        let (tx, rx) = weir::bounded::<u64, DropNewest>(1);
        assert!(tx.send(0).is_ok());
        let gone = Arc::new(AtomicBool::new(false));
        let first = {
            let (tx, gone) = (tx.clone(), gone.clone());
            thread::spawn(move || {
                // Registered before the stripe's local, so dropped after it.
                ON_EXIT.with(|on_exit| *on_exit.0.borrow_mut() = Some(gone));
                for i in 0..per_thread {
                    assert!(tx.send(i).is_err(), "a full ring refuses");
                }
            })
        };
        let second = thread::spawn(move || {
            while !gone.load(Ordering::Relaxed) {
                thread::yield_now();
            }
            for i in 0..per_thread {
                assert!(tx.send(i).is_err(), "a full ring refuses");
            }
        });
        first.join().unwrap();
        second.join().unwrap();
        assert_eq!(rx.stats().refused, 2 * per_thread);
    }
}
