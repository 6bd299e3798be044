//! Loom models of the read-only view and of freeing: readings stay within
//! bounds while others run, and the last handle frees the values exactly once
//! whichever side leaves last.

mod common;

use common::{count, counter, Tracked};
use loom::thread;
use weir::{DropOldest, Pressure};

/// A reader samples `len`, `utilization`, `pressure` and `stats` while a
/// sender evicts and a receiver takes: every reading is within bounds.
#[test]
fn pressure_within_bounds_while_running_cap2() {
    loom::model(|| {
        let (tx, rx) = weir::bounded::<u32, DropOldest>(2);
        tx.send(0).unwrap();
        let observer = {
            let rx = rx.clone();
            thread::spawn(move || {
                let len = rx.len();
                assert!(len <= 2, "len {len}");
                let u = rx.utilization();
                assert!((0.0..=1.0).contains(&u), "utilization {u}");
                let p = rx.pressure();
                assert_ne!(p, Pressure::Draining, "a sender is alive");
                let s = rx.stats();
                assert!(s.sent <= 3 && s.received <= s.sent, "{s:?}");
            })
        };
        let sender = {
            let tx = tx.clone();
            thread::spawn(move || {
                let _ = tx.send(1);
                let _ = tx.send(2);
            })
        };
        let _ = rx.try_recv();
        sender.join().unwrap();
        observer.join().unwrap();
        let s = rx.stats();
        assert_eq!(s.sent, s.received + s.evicted + rx.len() as u64);
        drop(tx);
    });
}

/// The sender and the receiver are dropped at the same time with values still
/// queued: each value is dropped exactly once and the memory freed once.
#[test]
fn last_handle_frees_once_cap2() {
    loom::model(|| {
        let drops = counter();
        let (tx, rx) = weir::bounded::<Tracked, weir::Block>(2);
        tx.send(Tracked::new(0, &drops)).unwrap();
        tx.send(Tracked::new(1, &drops)).unwrap();
        let t = thread::spawn(move || drop(tx));
        drop(rx);
        t.join().unwrap();
        assert_eq!(count(&drops), 2);
    });
}

/// Once every sender is gone, values still queued read as `Draining` and
/// `is_disconnected` is seen from the receiver.
#[test]
fn draining_after_senders_gone_cap1() {
    loom::model(|| {
        let (tx, rx) = weir::bounded::<u32, weir::Block>(1);
        tx.send(1).unwrap();
        let t = thread::spawn(move || drop(tx));
        let p = rx.pressure();
        assert!(p == Pressure::Full || p == Pressure::Draining, "{p:?}");
        t.join().unwrap();
        assert_eq!(rx.pressure(), Pressure::Draining);
        assert!(rx.is_disconnected());
        assert_eq!(rx.recv(), Ok(1));
        assert_eq!(rx.pressure(), Pressure::Normal);
    });
}

/// A `DropOldest` ring that is full before the model starts and only ever
/// evicts: an observer on a spawned thread reads `len == cap` and `Full` at
/// every instant, whichever step of the eviction it lands on. (With the
/// observer on the main thread loom did not reach the failing schedule.)
fn always_full_reads_full(cap: usize) {
    loom::model(move || {
        let (tx, rx) = weir::bounded::<u32, DropOldest>(cap);
        for i in 0..cap as u32 {
            tx.send(i).unwrap();
        }
        let observer = thread::spawn(move || {
            for _ in 0..2 {
                assert_eq!(rx.len(), cap);
                assert_eq!(rx.pressure(), Pressure::Full);
                assert!(rx.is_full());
            }
            rx
        });
        let sender = thread::spawn(move || {
            assert_eq!(tx.send(10), Ok(Some(0)));
            tx
        });
        let tx = sender.join().unwrap();
        let rx = observer.join().unwrap();
        assert_eq!(rx.len(), cap);
        drop((tx, rx));
    });
}

#[test]
fn always_full_reads_full_while_evicting_cap1() {
    always_full_reads_full(1);
}

#[test]
fn always_full_reads_full_while_evicting_cap2() {
    always_full_reads_full(2);
}

/// Nobody receives, so every snapshot of the counters, taken on a spawned
/// thread while two evictions run, says so: `received` is 0 and what was sent
/// is what was evicted plus what the ring holds.
#[test]
fn stats_exact_while_evicting_cap1() {
    loom::model(|| {
        let (tx, rx) = weir::bounded::<u32, DropOldest>(1);
        tx.send(0).unwrap();
        let observer = thread::spawn(move || {
            let s = rx.stats();
            assert_eq!(s.received, 0, "{s:?}");
            assert_eq!(s.sent, s.evicted + 1, "{s:?}");
            rx
        });
        let sender = thread::spawn(move || {
            assert_eq!(tx.send(1), Ok(Some(0)));
            assert_eq!(tx.send(2), Ok(Some(1)));
            tx
        });
        let tx = sender.join().unwrap();
        let rx = observer.join().unwrap();
        let s = rx.stats();
        assert_eq!((s.sent, s.received, s.evicted), (3, 0, 2));
        drop((tx, rx));
    });
}

/// A receiver and an evictor race for the oldest value while an observer
/// takes a snapshot: whatever it reads adds up, and never counts a value as
/// received that the receiver has not taken.
#[test]
fn stats_add_up_while_evicting_and_receiving_cap1() {
    loom::model(|| {
        let (tx, rx) = weir::bounded::<u32, DropOldest>(1);
        tx.send(0).unwrap();
        let observer = {
            let rx = rx.clone();
            thread::spawn(move || {
                let s = rx.stats();
                assert!(s.received <= 1 && s.evicted <= 1, "{s:?}");
                assert!(s.sent <= 2, "{s:?}");
                let out = s.received + s.evicted;
                assert!(out <= s.sent && s.sent - out <= 1, "{s:?}");
            })
        };
        let sender = thread::spawn(move || {
            let evicted = tx.send(1).unwrap();
            (tx, evicted)
        });
        let got = rx.try_recv();
        let (tx, evicted) = sender.join().unwrap();
        observer.join().unwrap();
        let s = rx.stats();
        assert_eq!(s.evicted, u64::from(evicted.is_some()));
        assert_eq!(s.sent, s.received + s.evicted + rx.len() as u64);
        assert_eq!(s.received, u64::from(got.is_ok()));
        drop(tx);
    });
}
