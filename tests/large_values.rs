//! Values far larger than a thread's stack: the channel never builds one on
//! the stack itself, neither when it is made nor when it discards what is
//! left, so a thread with a small stack can make and drop a channel of them.
//! Debug builds (the test profile) are where a temporary of the value's size
//! shows up.

use std::thread;

use weir::{Block, DropOldest};

type Big = [u8; 1 << 20];

const SMALL_STACK: usize = 256 * 1024;

fn on_small_stack<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not model a thread's stack size")]
fn a_channel_of_large_values_is_made_on_a_small_stack() {
    on_small_stack(|| {
        let (tx, rx) = weir::bounded::<Big, Block>(2);
        assert_eq!(rx.capacity(), 2);
        drop((tx, rx));
        let (tx, rx) = weir::Builder::new(3).build::<Big, DropOldest>().unwrap();
        drop((rx, tx));
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not model a thread's stack size")]
fn queued_large_values_are_discarded_on_a_small_stack() {
    // Filling the channel moves values through the sender's stack, so it is
    // done on a thread with room for them.
    let (tx, rx) = thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(|| {
            let (tx, rx) = weir::bounded::<Big, Block>(2);
            tx.send([1; 1 << 20]).unwrap();
            tx.send([2; 1 << 20]).unwrap();
            (tx, rx)
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(rx.len(), 2);
    let stats = on_small_stack(move || {
        drop(rx); // the last receiver discards both values here
        let stats = tx.stats();
        drop(tx);
        stats
    });
    assert_eq!((stats.sent, stats.discarded), (2, 2));
}
