//! Destructors that panic while a channel drops what is left in it.
//!
//! Every drain (the last receiver of a `weir::bounded` channel of any
//! policy, and each flavour of `weir::mpsc`) drops each value exactly once,
//! counts it, never aborts the process however many destructors panic, and
//! passes the first panic on to the caller once the drain is complete. A
//! drain that runs while the thread is already unwinding swallows those
//! panics instead, since a second panic would abort.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};

use weir::{Block, DropNewest, DropOldest, Policy, Sample};

const BOMB: &str = "this destructor panics";
const ORIGINAL: &str = "the original panic";

/// Keeps the panics these tests cause on purpose out of the output (a
/// backtrace for each is slow to print, under Miri above all); any other
/// panic, a failed assertion among them, goes to the default hook.
fn quiet() {
    static QUIET: Once = Once::new();
    QUIET.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let message = info.payload().downcast_ref::<&str>().copied();
            if !matches!(message, Some(BOMB | ORIGINAL)) {
                default(info);
            }
        }));
    });
}

/// Counts its drops; panics in `drop` when asked to.
#[derive(Debug)]
struct Bomb {
    drops: Arc<AtomicUsize>,
    panics: bool,
}

impl Drop for Bomb {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
        if self.panics {
            std::panic::panic_any(BOMB);
        }
    }
}

/// `pattern[i]` says whether value `i` panics when dropped.
fn bombs(drops: &Arc<AtomicUsize>, pattern: &[bool]) -> Vec<Bomb> {
    pattern
        .iter()
        .map(|&panics| Bomb {
            drops: drops.clone(),
            panics,
        })
        .collect()
}

const PATTERNS: [&[bool]; 4] = [
    &[false, true, false],
    &[true, true],
    &[true, true, true],
    &[true, false, true, false, true],
];

fn last_receiver_drain<P: Policy>() {
    quiet();
    for pattern in PATTERNS {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = weir::bounded::<Bomb, P>(8);
        for bomb in bombs(&drops, pattern) {
            assert!(tx.try_send(bomb).is_ok());
        }
        let unwound = catch_unwind(AssertUnwindSafe(move || drop(rx)));
        let n = pattern.len();
        assert!(unwound.is_err(), "the first panic reaches the caller");
        assert_eq!(
            drops.load(Ordering::SeqCst),
            n,
            "{pattern:?}: each dropped once"
        );
        let s = tx.stats();
        assert_eq!(
            (s.sent, s.received, s.discarded),
            (n as u64, 0, n as u64),
            "{pattern:?}: every value is counted as discarded"
        );
        assert!(tx.is_disconnected());
        drop(tx);
        assert_eq!(drops.load(Ordering::SeqCst), n);
    }
}

#[test]
fn last_receiver_drain_survives_panicking_destructors_block() {
    last_receiver_drain::<Block>();
}

#[test]
fn last_receiver_drain_survives_panicking_destructors_drop_oldest() {
    last_receiver_drain::<DropOldest>();
}

#[test]
fn last_receiver_drain_survives_panicking_destructors_drop_newest() {
    last_receiver_drain::<DropNewest>();
}

#[test]
fn last_receiver_drain_survives_panicking_destructors_sample() {
    last_receiver_drain::<Sample>();
}

/// crossbeam-channel's `panic_on_drop`, against weir: two queued values
/// whose destructors panic, then the last receiver dropped inside
/// `catch_unwind`. The sender goes last here.
#[test]
fn panic_on_drop_with_the_sender_dropped_last() {
    quiet();
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = weir::bounded::<Bomb, Block>(2);
    for bomb in bombs(&drops, &[true, true]) {
        tx.send(bomb).unwrap();
    }
    assert!(catch_unwind(AssertUnwindSafe(|| drop(rx))).is_err());
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    drop(tx);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

/// A receiver dropped while its thread is already unwinding: the drain's
/// panics are swallowed (a second panic would abort), every value is still
/// dropped once, and the original panic is what the caller sees.
#[test]
fn a_drain_during_unwinding_does_not_abort() {
    quiet();
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = weir::bounded::<Bomb, DropOldest>(4);
    for bomb in bombs(&drops, &[true, true, true]) {
        tx.send(bomb).unwrap();
    }
    let payload = catch_unwind(AssertUnwindSafe(move || {
        let _rx = rx;
        std::panic::panic_any(ORIGINAL);
    }))
    .unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&ORIGINAL));
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    assert_eq!(tx.stats().discarded, 3);
}

/// `weir::mpsc::sync_channel(n)`, where `std::sync::mpsc` survives the same
/// program: the drop-in must not turn it into an abort.
#[test]
fn mpsc_sync_channel_drain_survives_panicking_destructors() {
    quiet();
    for pattern in PATTERNS {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = weir::mpsc::sync_channel::<Bomb>(8);
        for bomb in bombs(&drops, pattern) {
            tx.send(bomb).unwrap();
        }
        assert!(catch_unwind(AssertUnwindSafe(move || drop(rx))).is_err());
        assert_eq!(drops.load(Ordering::SeqCst), pattern.len(), "{pattern:?}");
        drop(tx);
        assert_eq!(drops.load(Ordering::SeqCst), pattern.len(), "{pattern:?}");
    }
}

/// `weir::mpsc::channel()`, the unbounded list, with values across more than
/// one block of the list.
#[test]
fn mpsc_channel_drain_survives_panicking_destructors() {
    quiet();
    for pattern in PATTERNS {
        for filler in [0, 40] {
            let drops = Arc::new(AtomicUsize::new(0));
            let (tx, rx) = weir::mpsc::channel::<Bomb>();
            for bomb in bombs(&drops, &vec![false; filler]) {
                tx.send(bomb).unwrap();
            }
            for bomb in bombs(&drops, pattern) {
                tx.send(bomb).unwrap();
            }
            assert!(catch_unwind(AssertUnwindSafe(move || drop(rx))).is_err());
            let n = filler + pattern.len();
            assert_eq!(
                drops.load(Ordering::SeqCst),
                n,
                "{pattern:?} after {filler}"
            );
            drop(tx);
            assert_eq!(
                drops.load(Ordering::SeqCst),
                n,
                "{pattern:?} after {filler}"
            );
        }
    }
}

/// `weir::mpsc::sync_channel(0)` holds at most one value, and only while a
/// `send` is in progress, so no drain can meet two. A panicking value handed
/// back to a sender whose receiver left is dropped once, by the sender.
#[test]
fn mpsc_rendezvous_hands_a_panicking_value_back_once() {
    quiet();
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = weir::mpsc::sync_channel::<Bomb>(0);
    drop(rx);
    let bomb = bombs(&drops, &[true]).pop().unwrap();
    let err = tx.send(bomb).unwrap_err();
    assert!(catch_unwind(AssertUnwindSafe(move || drop(err))).is_err());
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

/// The unbounded list dropped during unwinding, with panicking values left.
#[test]
fn mpsc_channel_drain_during_unwinding_does_not_abort() {
    quiet();
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = weir::mpsc::channel::<Bomb>();
    for bomb in bombs(&drops, &[true, true]) {
        tx.send(bomb).unwrap();
    }
    let payload = catch_unwind(AssertUnwindSafe(move || {
        let _rx = rx;
        std::panic::panic_any(ORIGINAL);
    }))
    .unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&ORIGINAL));
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}
