//! `close` from either end: what sends and receives return afterwards under
//! every policy, the pressure while values remain, idempotence, and closing
//! while threads and tasks wait or race it, with every value accounted for.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

use weir::{
    Block, DropNewest, DropOldest, Policy, Pressure, RecvError, RecvTimeoutError, Sample,
    SendError, SendOutcome, TryRecvError,
};

const PATIENCE: Duration = Duration::from_secs(10);

/// Closing from `end` (a sender or a receiver): later sends of policy `P`
/// hand their value back as disconnected, queued values still arrive, the
/// channel reads `Draining` until they have, and a second close says `false`.
fn close_semantics<P: Policy>(from_receiver: bool) {
    let (tx, rx) = weir::bounded::<u32, P>(4);
    assert!(tx.send(1).handed_back().is_none());
    assert!(tx.send(2).handed_back().is_none());
    let closed = if from_receiver {
        rx.close()
    } else {
        tx.close()
    };
    assert!(closed, "{}: the first close closes", P::NAME);
    assert!(
        !tx.close() && !rx.close(),
        "{}: closing again is a no-op",
        P::NAME
    );
    assert!(tx.is_disconnected() && rx.is_disconnected());
    let outcome = tx.send(3);
    assert!(outcome.is_disconnected(), "{}: a send after close", P::NAME);
    assert_eq!(
        outcome.handed_back(),
        Some(3),
        "{}: the value comes back",
        P::NAME
    );
    assert!(tx.try_send(4).unwrap_err().is_disconnected());
    assert_eq!(rx.pressure(), Pressure::Draining, "{}", P::NAME);
    assert_eq!(rx.recv(), Ok(1));
    assert_eq!(tx.pressure(), Pressure::Draining);
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.pressure(), Pressure::Normal, "{}: drained", P::NAME);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    assert_eq!(rx.recv(), Err(RecvError));
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(1)),
        Err(RecvTimeoutError::Disconnected)
    );
    let stats = rx.stats();
    assert_eq!((stats.sent, stats.received), (2, 2), "{}", P::NAME);
    assert_eq!(rx.iter().count(), 0);
}

#[test]
fn close_from_a_sender_under_every_policy() {
    close_semantics::<Block>(false);
    close_semantics::<DropOldest>(false);
    close_semantics::<DropNewest>(false);
    close_semantics::<Sample>(false);
}

#[test]
fn close_from_a_receiver_under_every_policy() {
    close_semantics::<Block>(true);
    close_semantics::<DropOldest>(true);
    close_semantics::<DropNewest>(true);
    close_semantics::<Sample>(true);
}

#[test]
fn close_after_disconnect_returns_false() {
    let (tx, rx) = weir::bounded::<u32, Block>(2);
    drop(tx);
    assert!(!rx.close());
    let (tx, rx) = weir::bounded::<u32, Block>(2);
    drop(rx);
    assert!(!tx.close());
}

#[test]
fn values_queued_before_a_close_are_dropped_once_with_the_channel() {
    let drops = Arc::new(AtomicUsize::new(0));
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let (tx, rx) = weir::bounded::<Counted, DropOldest>(4);
    for _ in 0..3 {
        assert!(tx.send(Counted(drops.clone())).unwrap().is_none());
    }
    assert!(tx.close());
    // Handed back, so the caller drops it.
    match tx.send(Counted(drops.clone())) {
        Err(SendError(back)) => drop(back),
        Ok(_) => panic!("a send after close was accepted"),
    }
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(rx.recv().unwrap());
    drop(rx); // the last receiver drops the two left
    assert_eq!(drops.load(Ordering::SeqCst), 4);
    assert_eq!(tx.stats().discarded, 2);
}

#[test]
fn close_wakes_blocked_threads_on_both_sides() {
    // Receivers waiting on an empty channel.
    let (tx, rx) = weir::bounded::<u32, Block>(1);
    let waiting: Vec<_> = (0..4)
        .map(|_| {
            let rx = rx.clone();
            thread::spawn(move || rx.recv_timeout(PATIENCE))
        })
        .collect();
    thread::sleep(Duration::from_millis(100));
    assert!(tx.close());
    for w in waiting {
        assert_eq!(w.join().unwrap(), Err(RecvTimeoutError::Disconnected));
    }

    // Senders waiting on a full channel, closed by a receiver.
    let (tx, rx) = weir::bounded::<u32, Block>(1);
    tx.send(0).unwrap();
    let waiting: Vec<_> = (1..5)
        .map(|i| {
            let tx = tx.clone();
            thread::spawn(move || (i, tx.send(i)))
        })
        .collect();
    thread::sleep(Duration::from_millis(100));
    assert!(rx.close());
    for w in waiting {
        let (i, result) = w.join().unwrap();
        assert_eq!(result, Err(SendError(i)), "each sender gets its value back");
    }
    assert_eq!(rx.recv(), Ok(0), "the value queued before the close");
    assert_eq!(rx.recv(), Err(RecvError));
}

/// A waker that counts its wakes.
struct Counting(AtomicUsize);

impl Wake for Counting {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn close_wakes_waiting_tasks_on_both_sides() {
    let counter = Arc::new(Counting(AtomicUsize::new(0)));
    let waker = Waker::from(counter.clone());
    let mut cx = Context::from_waker(&waker);

    let (tx, rx) = weir::bounded::<u32, Block>(1);
    let mut recv = pin!(rx.recv_async());
    assert!(recv.as_mut().poll(&mut cx).is_pending());
    tx.send(7).unwrap(); // wakes the receive once
    let mut send = pin!(tx.send_async(8));
    assert!(
        send.as_mut().poll(&mut cx).is_pending(),
        "the channel is full"
    );
    let before = counter.0.load(Ordering::SeqCst);
    assert!(rx.close());
    assert!(
        counter.0.load(Ordering::SeqCst) > before,
        "the pending send was woken"
    );
    assert_eq!(send.as_mut().poll(&mut cx), Poll::Ready(Err(SendError(8))));
    assert_eq!(recv.as_mut().poll(&mut cx), Poll::Ready(Ok(7)));
    let mut after = pin!(rx.recv_async());
    assert_eq!(after.as_mut().poll(&mut cx), Poll::Ready(Err(RecvError)));

    // A receive still waiting when the channel is closed.
    let (tx, rx) = weir::bounded::<u32, Block>(1);
    let mut recv = pin!(rx.recv_async());
    assert!(recv.as_mut().poll(&mut cx).is_pending());
    let before = counter.0.load(Ordering::SeqCst);
    assert!(tx.close());
    assert_eq!(counter.0.load(Ordering::SeqCst), before + 1);
    assert_eq!(recv.as_mut().poll(&mut cx), Poll::Ready(Err(RecvError)));
}

/// Senders and receivers busy on a small channel while another thread
/// closes it: every value is received or handed back exactly once, each
/// receiver sees each producer in order, and everyone returns.
fn close_racing_traffic<P: Policy>(cap: usize, from_receiver: bool) {
    let per: u64 = if cfg!(miri) { 50 } else { 20_000 };
    let (tx, rx) = weir::bounded::<(u64, u64), P>(cap);
    let senders: Vec<_> = (0..2)
        .map(|id| {
            let tx = tx.clone();
            thread::spawn(move || {
                let mut back = Vec::new();
                for seq in 0..per {
                    if let Some(v) = tx.send((id, seq)).handed_back() {
                        back.push(v);
                    }
                }
                back
            })
        })
        .collect();
    let receivers: Vec<_> = (0..2)
        .map(|_| {
            let rx = rx.clone();
            thread::spawn(move || {
                let mut last = [None::<u64>; 2];
                let mut got = Vec::new();
                loop {
                    match rx.recv_timeout(PATIENCE) {
                        Ok((id, seq)) => {
                            let prev = last[id as usize].replace(seq);
                            assert!(prev.map_or(true, |p| p < seq), "FIFO of {id}");
                            got.push((id, seq));
                        }
                        Err(RecvTimeoutError::Disconnected) => return got,
                        Err(RecvTimeoutError::Timeout) => panic!("waited {PATIENCE:?}"),
                    }
                }
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(if cfg!(miri) { 1 } else { 5 }));
    let closed = if from_receiver {
        rx.close()
    } else {
        tx.close()
    };
    assert!(closed);
    let back: Vec<_> = senders
        .into_iter()
        .flat_map(|s| s.join().unwrap())
        .collect();
    let got: Vec<_> = receivers
        .into_iter()
        .flat_map(|r| r.join().unwrap())
        .collect();
    let mut seen = std::collections::HashSet::new();
    for v in got.iter().chain(&back) {
        assert!(seen.insert(*v), "{v:?} twice");
    }
    assert_eq!(
        seen.len() as u64,
        2 * per,
        "{}: every value accounted for",
        P::NAME
    );
    assert_eq!(rx.stats().received, got.len() as u64);
}

#[test]
fn close_racing_senders_and_receivers_every_policy() {
    for from_receiver in [false, true] {
        for cap in [1, 8] {
            close_racing_traffic::<Block>(cap, from_receiver);
            close_racing_traffic::<DropOldest>(cap, from_receiver);
            close_racing_traffic::<DropNewest>(cap, from_receiver);
            close_racing_traffic::<Sample>(cap, from_receiver);
        }
    }
}
