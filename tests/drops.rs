//! Every value is dropped exactly once, whichever handle goes last, and a
//! value whose destructor panics neither leaks the others nor is dropped twice.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use weir::{Block, DropNewest, DropOldest, Sample};

#[derive(Debug)]
struct Counted {
    drops: Arc<AtomicUsize>,
    panic_on_drop: bool,
}

impl Counted {
    fn new(drops: &Arc<AtomicUsize>) -> Self {
        Self {
            drops: drops.clone(),
            panic_on_drop: false,
        }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
        if self.panic_on_drop {
            panic!("drop panics on purpose");
        }
    }
}

fn drops() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

#[test]
fn queued_values_dropped_once_when_the_sender_goes_last() {
    let d = drops();
    let (tx, rx) = weir::bounded::<Counted, Block>(4);
    for _ in 0..3 {
        tx.send(Counted::new(&d)).unwrap();
    }
    let rx2 = rx.clone();
    drop(rx);
    assert_eq!(d.load(Ordering::SeqCst), 0, "a receiver is still alive");
    drop(rx2);
    assert_eq!(
        d.load(Ordering::SeqCst),
        3,
        "the last receiver discards at once"
    );
    drop(tx);
    assert_eq!(d.load(Ordering::SeqCst), 3);
}

#[test]
fn queued_values_dropped_once_when_the_receiver_goes_last() {
    let d = drops();
    let (tx, rx) = weir::bounded::<Counted, DropNewest>(4);
    for _ in 0..6 {
        let _ = tx.send(Counted::new(&d));
    }
    assert_eq!(d.load(Ordering::SeqCst), 2, "the two refused values");
    let tx2 = tx.clone();
    drop((tx, tx2));
    assert_eq!(d.load(Ordering::SeqCst), 2, "the receiver can still drain");
    drop(rx.recv().unwrap());
    drop(rx);
    assert_eq!(d.load(Ordering::SeqCst), 6);
}

#[test]
fn evicted_and_sampled_values_are_the_callers_to_drop() {
    let d = drops();
    let (tx, rx) = weir::bounded::<Counted, DropOldest>(2);
    let mut evicted = Vec::new();
    for _ in 0..5 {
        evicted.extend(tx.send(Counted::new(&d)).unwrap());
    }
    assert_eq!(evicted.len(), 3);
    assert_eq!(
        d.load(Ordering::SeqCst),
        0,
        "nothing dropped behind the caller's back"
    );
    drop(evicted);
    drop((tx, rx));
    assert_eq!(d.load(Ordering::SeqCst), 5);

    let d = drops();
    let (tx, rx) = weir::Builder::new(2)
        .watermarks(0.0, 1.0)
        .sample_rate(2)
        .build::<Counted, Sample>()
        .unwrap();
    let back: Vec<_> = (0..6)
        .filter_map(|_| tx.send(Counted::new(&d)).err())
        .collect();
    assert_eq!(d.load(Ordering::SeqCst), 0);
    assert_eq!(back.len(), 4);
    drop(back);
    drop((tx, rx));
    assert_eq!(d.load(Ordering::SeqCst), 6);
}

#[test]
fn a_panicking_destructor_does_not_leak_or_double_drop_the_rest() {
    let d = drops();
    let (tx, rx) = weir::bounded::<Counted, Block>(4);
    tx.send(Counted::new(&d)).unwrap();
    tx.send(Counted {
        drops: d.clone(),
        panic_on_drop: true,
    })
    .unwrap();
    tx.send(Counted::new(&d)).unwrap();
    drop(tx);
    // The last handle frees the channel; the second value panics in its drop.
    let result = catch_unwind(AssertUnwindSafe(move || drop(rx)));
    assert!(result.is_err(), "the destructor's panic reaches the caller");
    assert_eq!(
        d.load(Ordering::SeqCst),
        3,
        "every value dropped exactly once"
    );
}

#[test]
fn zero_sized_values_are_dropped_too() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    struct Zst;
    impl Drop for Zst {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Ordering::SeqCst);
        }
    }
    let (tx, rx) = weir::bounded::<Zst, DropOldest>(3);
    for _ in 0..5 {
        drop(tx.send(Zst).unwrap());
    }
    assert_eq!(DROPS.load(Ordering::SeqCst), 2);
    drop(rx.recv().unwrap());
    drop((tx, rx));
    assert_eq!(DROPS.load(Ordering::SeqCst), 5);
}
