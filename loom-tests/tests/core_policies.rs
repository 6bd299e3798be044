//! Loom models run for every policy: two senders and one receiver at
//! capacities 1 and 2, with the accounting invariant checked in every
//! interleaving: each value is received or handed back exactly once, and
//! dropped exactly once.

mod common;

use common::{count, counter, Tracked};
use loom::thread;
use weir::{Block, DropNewest, DropOldest, Policy, Sample, SendOutcome};

/// Sender 0 sends ids 0 and 1, sender 1 sends id 10; the receiver takes
/// values until the channel disconnects.
fn two_senders_one_receiver<P: Policy>(capacity: usize) {
    loom::model(move || {
        let drops = counter();
        let (tx, rx) = weir::Builder::new(capacity)
            .watermarks(0.0, 1.0)
            .sample_rate(2)
            .build::<Tracked, P>()
            .unwrap();
        let plan: [&[usize]; 2] = [&[0, 1], &[10]];
        let senders: Vec<_> = plan
            .iter()
            .map(|ids| {
                let tx = tx.clone();
                let drops = drops.clone();
                let ids = ids.to_vec();
                thread::spawn(move || {
                    let mut back = Vec::new();
                    for id in ids {
                        if let Some(v) = tx.send(Tracked::new(id, &drops)).handed_back() {
                            back.push(v.id);
                        }
                    }
                    back
                })
            })
            .collect();
        drop(tx);
        let mut received = Vec::new();
        while let Ok(v) = rx.recv() {
            received.push(v.id);
        }
        let mut handed_back = Vec::new();
        for s in senders {
            handed_back.extend(s.join().unwrap());
        }
        // Sender 0's values arrive in the order sent.
        let from_0: Vec<_> = received.iter().filter(|&&id| id < 10).collect();
        assert!(from_0.windows(2).all(|w| w[0] < w[1]), "{received:?}");
        let mut all = received.clone();
        all.extend(&handed_back);
        all.sort_unstable();
        assert_eq!(
            all,
            [0, 1, 10],
            "received {received:?}, handed back {handed_back:?}"
        );
        assert_eq!(count(&drops), 3);
        let stats = rx.stats();
        assert_eq!(stats.received as usize, received.len());
        assert_eq!(stats.handed_back() as usize, handed_back.len());
        assert!(rx.is_empty());
    });
}

#[test]
fn block_2s1r_cap1() {
    two_senders_one_receiver::<Block>(1);
}

#[test]
fn block_2s1r_cap2() {
    two_senders_one_receiver::<Block>(2);
}

#[test]
fn drop_oldest_2s1r_cap1() {
    two_senders_one_receiver::<DropOldest>(1);
}

#[test]
fn drop_oldest_2s1r_cap2() {
    two_senders_one_receiver::<DropOldest>(2);
}

#[test]
fn drop_newest_2s1r_cap1() {
    two_senders_one_receiver::<DropNewest>(1);
}

#[test]
fn drop_newest_2s1r_cap2() {
    two_senders_one_receiver::<DropNewest>(2);
}

#[test]
fn sample_2s1r_cap1() {
    two_senders_one_receiver::<Sample>(1);
}

#[test]
fn sample_2s1r_cap2() {
    two_senders_one_receiver::<Sample>(2);
}
