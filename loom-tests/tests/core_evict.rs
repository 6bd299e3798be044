//! Loom models of eviction (`DropOldest`): the sender claims the oldest value
//! the way a receiver would, so each value is received or evicted exactly once
//! and each send evicts at most one value.

mod common;

use common::{count, counter, Tracked};
use loom::thread;
use weir::DropOldest;

/// A full channel of capacity 1: a sender evicts while a receiver takes.
/// Either the receiver gets the old value and the send finds room, or the
/// send evicts the old value and the receiver gets the new one (or nothing,
/// if it looked before the send published).
#[test]
fn drop_oldest_evict_vs_recv_1s1r_cap1() {
    loom::model(|| {
        let drops = counter();
        let (tx, rx) = weir::bounded::<Tracked, DropOldest>(1);
        tx.send(Tracked::new(0, &drops)).unwrap();
        let d = drops.clone();
        let t = thread::spawn(move || {
            let evicted = tx.send(Tracked::new(1, &d)).unwrap();
            evicted.map(|v| v.id)
        });
        let taken = rx.try_recv().ok().map(|v| v.id);
        let evicted = t.join().unwrap();
        let left: Vec<usize> = rx.try_iter().map(|v| v.id).collect();
        let mut all: Vec<usize> = taken.into_iter().chain(evicted).chain(left).collect();
        all.sort_unstable();
        assert_eq!(all, [0, 1], "taken {taken:?}, evicted {evicted:?}");
        assert_eq!(count(&drops), 2);
    });
}

/// The same race with the roles swapped: loom's search keeps only the last
/// access to each atomic, so a thread that loads before it writes can hide an
/// ordering from it; running each side first in the default schedule covers
/// both orders.
#[test]
fn drop_oldest_recv_vs_evict_1s1r_cap1() {
    loom::model(|| {
        let drops = counter();
        let (tx, rx) = weir::bounded::<Tracked, DropOldest>(1);
        tx.send(Tracked::new(0, &drops)).unwrap();
        let receiver = thread::spawn(move || {
            let taken = rx.try_recv().ok().map(|v| v.id);
            (taken, rx)
        });
        let evicted = tx.send(Tracked::new(1, &drops)).unwrap().map(|v| v.id);
        let (taken, rx) = receiver.join().unwrap();
        let left: Vec<usize> = rx.try_iter().map(|v| v.id).collect();
        let mut all: Vec<usize> = taken.into_iter().chain(evicted).chain(left).collect();
        all.sort_unstable();
        assert_eq!(all, [0, 1], "taken {taken:?}, evicted {evicted:?}");
        drop((tx, rx));
        assert_eq!(count(&drops), 2);
    });
}

/// Two senders evict from a full ring of capacity 2 while a receiver takes
/// one value: every value ends in exactly one place, each send evicts at most
/// one, and the ring never holds more than its capacity.
#[test]
fn drop_oldest_two_evictors_and_receiver_2s1r_cap2() {
    loom::model(|| {
        let drops = counter();
        let (tx, rx) = weir::bounded::<Tracked, DropOldest>(2);
        tx.send(Tracked::new(0, &drops)).unwrap();
        tx.send(Tracked::new(1, &drops)).unwrap();
        let senders: Vec<_> = [10, 20]
            .into_iter()
            .map(|id| {
                let tx = tx.clone();
                let d = drops.clone();
                thread::spawn(move || tx.send(Tracked::new(id, &d)).unwrap().map(|v| v.id))
            })
            .collect();
        let taken = rx.try_recv().ok().map(|v| v.id);
        assert!(rx.len() <= 2);
        let evicted: Vec<usize> = senders
            .into_iter()
            .filter_map(|s| s.join().unwrap())
            .collect();
        let left: Vec<usize> = rx.try_iter().map(|v| v.id).collect();
        // FIFO: what is left is in the order it was queued, and 0 before 1.
        assert!(!(left.contains(&0) && left.contains(&1)) || left[0] == 0);
        let mut all: Vec<usize> = taken
            .into_iter()
            .chain(evicted.clone())
            .chain(left)
            .collect();
        all.sort_unstable();
        assert_eq!(all, [0, 1, 10, 20], "taken {taken:?}, evicted {evicted:?}");
        assert_eq!(rx.stats().evicted as usize, evicted.len());
        drop((tx, rx));
        assert_eq!(count(&drops), 4);
    });
}
