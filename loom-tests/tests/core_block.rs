//! Loom models of the `Block` policy: waiting senders and receivers are
//! always woken, by a value, by room, by a disconnect or by their timeout.

mod common;

use common::{count, counter, Tracked};
use loom::thread;

/// Two senders race for one slot while a receiver drains: every value
/// arrives once, each sender's values in order, and nobody sleeps forever.
#[test]
fn block_2s1r_cap1() {
    loom::model(|| {
        let drops = counter();
        let (tx, rx) = weir::bounded::<Tracked, weir::Block>(1);
        let senders: Vec<_> = (0..2)
            .map(|s| {
                let tx = tx.clone();
                let drops = drops.clone();
                thread::spawn(move || {
                    tx.send(Tracked::new(s * 10, &drops)).unwrap();
                    tx.send(Tracked::new(s * 10 + 1, &drops)).unwrap();
                })
            })
            .collect();
        drop(tx);
        let mut got = Vec::new();
        while let Ok(v) = rx.recv() {
            got.push(v.id);
        }
        for s in senders {
            s.join().unwrap();
        }
        got.sort_unstable();
        assert_eq!(got, [0, 1, 10, 11]);
        assert_eq!(count(&drops), 4);
    });
}
