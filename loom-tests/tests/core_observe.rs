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
