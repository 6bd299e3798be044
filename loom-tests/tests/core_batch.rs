//! Loom models of runs: a batch send or receive moves several values with one
//! CAS while single operations and evictions race it. Every value ends in
//! exactly one place (received, evicted, handed back in the caller's deque,
//! or still queued), in the order it was sent, the counts a batch call
//! returns are what moved, and `stats` adds up afterwards. A run of values
//! also wakes as many sleeping receivers as it made values.

mod common;

use std::collections::VecDeque;

use common::{count, counter, Tracked};
use loom::future::block_on;
use loom::thread;
use weir::{Block, DropOldest};

/// A `Block` channel of capacity 2 holding `queued` values `0..queued`; one
/// thread sends `[10, 11]` as a batch while another takes one value. The
/// batch moves what fits, oldest first, and hands back the rest in order;
/// the receive gets the oldest value there; nothing is lost or doubled.
fn batch_send_vs_pop(queued: u32) {
    loom::model(move || {
        let (tx, rx) = weir::bounded::<u32, Block>(2);
        for i in 0..queued {
            tx.send(i).unwrap();
        }
        let sender = thread::spawn(move || {
            let mut values: VecDeque<u32> = [10, 11].into();
            let sent = tx.try_send_batch(&mut values).unwrap();
            (sent, values, tx)
        });
        let receiver = thread::spawn(move || {
            let got = rx.try_recv().ok();
            (got, rx)
        });
        let (sent, left, tx) = sender.join().unwrap();
        let (got, rx) = receiver.join().unwrap();
        if queued > 0 {
            assert_eq!(got, Some(0), "a value was there from the start");
        } else {
            // A run publishes in order: 11 cannot be seen before 10.
            assert!(got.is_none() || got == Some(10), "got {got:?}");
        }
        // A free slot at the start is always there for the batch.
        assert!((1..=2).contains(&sent), "sent {sent}");
        assert_eq!(sent + left.len(), 2);
        let batch: Vec<u32> = [10, 11].into_iter().take(sent).collect();
        assert_eq!(left.iter().copied().collect::<Vec<_>>(), [10, 11][sent..]);
        let drained: Vec<u32> = rx.try_iter().collect();
        let received: Vec<u32> = got.into_iter().chain(drained.iter().copied()).collect();
        let expected: Vec<u32> = (0..queued).chain(batch).collect();
        assert_eq!(received, expected, "FIFO, each value once");
        let s = rx.stats();
        assert_eq!(s.sent, u64::from(queued) + sent as u64, "{s:?}");
        assert_eq!(s.received, received.len() as u64, "{s:?}");
        assert_eq!(s.refused, left.len() as u64, "{s:?}");
        assert_eq!((s.evicted, s.discarded), (0, 0), "{s:?}");
        drop(tx);
    });
}

#[test]
fn batch_send_vs_pop_one_queued_cap2() {
    batch_send_vs_pop(1);
}

#[test]
fn batch_send_vs_pop_empty_cap2() {
    batch_send_vs_pop(0);
}

/// A batch receive and a single receive race for two queued values: either
/// the batch takes both, or the single receive takes the oldest and the
/// batch the next; the count returned is what the batch got.
#[test]
fn batch_recv_vs_pop_cap2() {
    loom::model(|| {
        let (tx, rx) = weir::bounded::<u32, Block>(2);
        tx.send(0).unwrap();
        tx.send(1).unwrap();
        let batcher = {
            let rx = rx.clone();
            thread::spawn(move || {
                let mut batch = Vec::new();
                let n = rx.try_recv_batch(&mut batch, 2);
                assert_eq!(n, batch.len());
                batch
            })
        };
        let single = thread::spawn(move || {
            let got = rx.try_recv().ok();
            (got, rx)
        });
        let batch = batcher.join().unwrap();
        let (got, rx) = single.join().unwrap();
        match got {
            None => assert_eq!(batch, [0, 1]),
            Some(v) => {
                assert_eq!(v, 0, "the oldest value goes first");
                assert_eq!(batch, [1]);
            }
        }
        assert!(rx.try_recv().is_err(), "nothing left");
        let s = rx.stats();
        assert_eq!((s.sent, s.received, s.evicted), (2, 2, 0), "{s:?}");
        drop(tx);
    });
}

/// A batch receive racing a single send into a ring holding one value: the
/// batch gets the old value and, if the send published in time, the new one
/// after it; otherwise the new one is still queued.
#[test]
fn batch_recv_vs_push_cap2() {
    loom::model(|| {
        let (tx, rx) = weir::bounded::<u32, Block>(2);
        tx.send(0).unwrap();
        let sender = thread::spawn(move || {
            tx.try_send(1).unwrap();
            tx
        });
        let batcher = thread::spawn(move || {
            let mut batch = Vec::new();
            let n = rx.try_recv_batch(&mut batch, 2);
            assert_eq!(n, batch.len());
            (batch, rx)
        });
        let tx = sender.join().unwrap();
        let (batch, rx) = batcher.join().unwrap();
        let drained: Vec<u32> = rx.try_iter().collect();
        let all: Vec<u32> = batch.iter().copied().chain(drained).collect();
        assert_eq!(all, [0, 1], "batch {batch:?}");
        let s = rx.stats();
        assert_eq!((s.sent, s.received, s.refused), (2, 2, 0), "{s:?}");
        drop(tx);
    });
}

/// A batch receive racing a sender of two values and a receiver taking two:
/// each value is received once, whoever takes it, and the batch receive
/// never waits for a value that is not there.
///
/// This once deadlocked: the batch read `head` 8 (both values sent and
/// taken) and a `tail` from before the sends (1, Relaxed, not ordered after
/// the `head` it read), and counting without laps saw one value in an empty
/// ring; its CAS on `head` succeeded, it claimed position 8, which no send
/// would fill, and waited for ever. The count now includes laps, and a
/// `tail` that reads before `head` is read again.
#[test]
fn batch_recv_vs_pops_and_pushes_cap2() {
    loom::model(|| {
        let (tx, rx) = weir::bounded::<u32, Block>(2);
        let sender = thread::spawn(move || {
            tx.try_send(0).unwrap();
            tx.try_send(1).unwrap();
            tx
        });
        let receiver = {
            let rx = rx.clone();
            thread::spawn(move || [rx.try_recv().ok(), rx.try_recv().ok()])
        };
        let batcher = {
            let rx = rx.clone();
            thread::spawn(move || {
                let mut batch = Vec::new();
                let n = rx.try_recv_batch(&mut batch, 2);
                assert_eq!(n, batch.len());
                batch
            })
        };
        let tx = sender.join().unwrap();
        let singles = receiver.join().unwrap();
        let batch = batcher.join().unwrap();
        let mut sorted = batch.clone();
        sorted.sort_unstable();
        assert_eq!(batch, sorted, "a batch is in order");
        let rest: Vec<u32> = rx.try_iter().collect();
        let mut all: Vec<u32> = singles
            .into_iter()
            .flatten()
            .chain(batch)
            .chain(rest)
            .collect();
        all.sort_unstable();
        assert_eq!(all, [0, 1]);
        let s = rx.stats();
        assert_eq!((s.sent, s.received), (2, 2), "{s:?}");
        drop(tx);
    });
}

/// Where each value of an eviction model ended.
fn ids(values: impl IntoIterator<Item = Tracked>) -> Vec<usize> {
    values.into_iter().map(|v| v.id).collect()
}

/// A `DropOldest` channel of capacity 2 holding value 0. One thread sends
/// `[1, 2]` as a batch (never evicting), another sends 10 (evicting if the
/// ring is full), a third takes one value. Every value is received, evicted,
/// handed back or still queued, exactly once; what is received comes in the
/// order it was sent; each count in `stats` matches.
///
/// This once deadlocked: after its first run filled the ring and the send
/// evicted, the batch's second run read the new `tail` (9) with a `head`
/// from before the eviction (0, Relaxed, not ordered after the `tail` it
/// read), and counting without laps found one slot of room where there was
/// none. Its CAS on `tail` succeeded, it claimed position 9, whose slot still
/// held the value of position 1, and the `try_` call waited for ever for a
/// receive that had already run. Counting laps, a stale `head` shows more
/// values, never less room than there is.
#[test]
fn batch_send_vs_eviction_and_pop_cap2() {
    loom::model(|| {
        let drops = counter();
        let (tx, rx) = weir::bounded::<Tracked, DropOldest>(2);
        tx.send(Tracked::new(0, &drops)).unwrap();
        let batcher = {
            let tx = tx.clone();
            let d = drops.clone();
            thread::spawn(move || {
                let mut values: VecDeque<Tracked> =
                    [Tracked::new(1, &d), Tracked::new(2, &d)].into();
                let sent = tx.try_send_batch(&mut values).unwrap();
                (sent, ids(values))
            })
        };
        let evictor = {
            let d = drops.clone();
            thread::spawn(move || {
                let evicted = tx.send(Tracked::new(10, &d)).unwrap();
                (evicted.map(|v| v.id), tx)
            })
        };
        let receiver = {
            let rx = rx.clone();
            thread::spawn(move || rx.try_recv().ok().map(|v| v.id))
        };
        let (sent, left) = batcher.join().unwrap();
        let (evicted, tx) = evictor.join().unwrap();
        let taken = receiver.join().unwrap();
        assert_eq!(sent + left.len(), 2);
        assert_eq!(left, [1, 2][sent..], "the rest handed back in order");
        let queued = ids(rx.try_iter());
        let received: Vec<usize> = taken.into_iter().chain(queued.iter().copied()).collect();
        // FIFO: 0 before 1 before 2 among what was received.
        let ordered: Vec<usize> = received.iter().copied().filter(|&v| v < 10).collect();
        assert!(ordered.windows(2).all(|w| w[0] < w[1]), "{received:?}");
        let mut all: Vec<usize> = received
            .iter()
            .copied()
            .chain(evicted)
            .chain(left.iter().copied())
            .collect();
        all.sort_unstable();
        assert_eq!(
            all,
            [0, 1, 2, 10],
            "taken {taken:?}, evicted {evicted:?}, sent {sent}, queued {queued:?}"
        );
        let s = rx.stats();
        assert_eq!(s.sent, 2 + sent as u64, "{s:?}");
        assert_eq!(s.evicted, u64::from(evicted.is_some()), "{s:?}");
        assert_eq!(s.refused, left.len() as u64, "{s:?}");
        assert_eq!(s.received, received.len() as u64, "{s:?}");
        drop((tx, rx));
        assert_eq!(count(&drops), 4, "each value dropped once");
    });
}

/// A full `DropOldest` channel of capacity `cap`: a batch receive of up to
/// `cap` values races a send that evicts. Each value is received, evicted or
/// still queued exactly once, and received in order.
fn batch_recv_vs_eviction(cap: usize) {
    loom::model(move || {
        let drops = counter();
        let (tx, rx) = weir::bounded::<Tracked, DropOldest>(cap);
        for i in 0..cap {
            tx.send(Tracked::new(i, &drops)).unwrap();
        }
        let evictor = {
            let d = drops.clone();
            thread::spawn(move || {
                let evicted = tx.send(Tracked::new(10, &d)).unwrap();
                (evicted.map(|v| v.id), tx)
            })
        };
        let batcher = thread::spawn(move || {
            let mut batch = Vec::new();
            let n = rx.try_recv_batch(&mut batch, cap);
            assert_eq!(n, batch.len());
            (ids(batch), rx)
        });
        let (evicted, tx) = evictor.join().unwrap();
        let (batch, rx) = batcher.join().unwrap();
        // Nothing was ever missing: the batch saw at least one value.
        assert!(!batch.is_empty());
        let queued = ids(rx.try_iter());
        let received: Vec<usize> = batch
            .iter()
            .copied()
            .chain(queued.iter().copied())
            .collect();
        let mut sorted = received.clone();
        sorted.sort_unstable();
        assert_eq!(received, sorted, "FIFO");
        if let Some(e) = evicted {
            assert_eq!(e, 0, "the oldest value is the one evicted");
        }
        let mut all: Vec<usize> = received.iter().copied().chain(evicted).collect();
        all.sort_unstable();
        let expected: Vec<usize> = (0..cap).chain([10]).collect();
        assert_eq!(
            all, expected,
            "batch {batch:?}, evicted {evicted:?}, queued {queued:?}"
        );
        let s = rx.stats();
        assert_eq!(s.sent, cap as u64 + 1, "{s:?}");
        assert_eq!(s.evicted, u64::from(evicted.is_some()), "{s:?}");
        assert_eq!(s.received, received.len() as u64, "{s:?}");
        drop((tx, rx));
        assert_eq!(count(&drops), cap + 1, "each value dropped once");
    });
}

#[test]
fn batch_recv_vs_eviction_cap1() {
    batch_recv_vs_eviction(1);
}

#[test]
fn batch_recv_vs_eviction_cap2() {
    batch_recv_vs_eviction(2);
}

/// Two receivers asleep on an empty channel, `tasks` of them tasks and the
/// others threads; one batch of two values arrives with one CAS. Both must be
/// woken: a run wakes as many receivers as it made values. The sender yields
/// first, so that both are asleep when the run comes, and keeps its handle
/// until both finished (its drop would wake them anyway).
///
/// Two tasks need a lower preemption bound: a task that finds a push in
/// flight yields and polls again, and loom may then switch between two such
/// tasks for ever (a switch after a yield costs no preemption) while the
/// sender, preempted inside its run, never runs again; at a bound of 2 the
/// model exceeds loom's branch limit. A waiting thread blocks instead, so
/// the other two mixes run at the suite's bound.
fn batch_send_wakes_two_receivers(tasks: usize) {
    let mut model = loom::model::Builder::new();
    if tasks == 2 {
        model.preemption_bound = Some(model.preemption_bound.map_or(1, |b| b.min(1)));
    }
    model.check(move || {
        let (tx, rx) = weir::bounded::<u32, Block>(2);
        let receivers: Vec<_> = (0..2)
            .map(|i| {
                let rx = rx.clone();
                thread::spawn(move || {
                    if i < tasks {
                        block_on(rx.recv_async())
                    } else {
                        rx.recv()
                    }
                })
            })
            .collect();
        drop(rx);
        thread::yield_now();
        let mut values: VecDeque<u32> = [1, 2].into();
        assert_eq!(tx.try_send_batch(&mut values).unwrap(), 2);
        let mut got: Vec<u32> = receivers
            .into_iter()
            .map(|r| r.join().unwrap().unwrap())
            .collect();
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
        drop(tx);
    });
}

#[test]
fn batch_send_wakes_two_thread_receivers_cap2() {
    batch_send_wakes_two_receivers(0);
}

#[test]
fn batch_send_wakes_a_task_and_a_thread_cap2() {
    batch_send_wakes_two_receivers(1);
}

#[test]
fn batch_send_wakes_two_tasks_cap2() {
    batch_send_wakes_two_receivers(2);
}
