//! Loom models of the unbounded list behind `weir::mpsc::channel`. Under loom
//! a block holds two values, so three values cross a block boundary: the
//! sender that takes a block's last slot installs the next block while the
//! receiver may already be reading, and the receiver frees a block as soon as
//! it has read it.

mod common;

use std::time::Duration;

use common::{count, counter, Tracked};
use loom::thread;
use weir::mpsc::{self, RecvError, RecvTimeoutError, TryRecvError};

/// One sender sends three values (block A holds 0 and 1, block B gets 2, and
/// the sender of 1 installs B); the receiver takes them in order, freeing A
/// while the sender may still be writing into B.
#[test]
fn list_block_handoff_1s1r() {
    loom::model(|| {
        let (tx, rx) = mpsc::channel::<usize>();
        let t = thread::spawn(move || {
            for i in 0..3 {
                tx.send(i).unwrap();
            }
        });
        for i in 0..3 {
            assert_eq!(rx.recv(), Ok(i));
        }
        assert_eq!(rx.recv(), Err(RecvError));
        t.join().unwrap();
    });
}

/// Two senders race for the slots of the first block and the install of the
/// second: one claims the last slot of block A and installs B while the other
/// finds the install offset and waits for it. Each sender's values arrive in
/// its order; none is lost or duplicated.
#[test]
fn list_install_race_2s1r() {
    loom::model(|| {
        let (tx, rx) = mpsc::channel::<usize>();
        let tx2 = tx.clone();
        let a = thread::spawn(move || {
            tx.send(0).unwrap();
            tx.send(1).unwrap();
        });
        let b = thread::spawn(move || {
            tx2.send(10).unwrap();
        });
        let mut got = Vec::new();
        while let Ok(v) = rx.recv() {
            got.push(v);
        }
        a.join().unwrap();
        b.join().unwrap();
        let pos = |v| got.iter().position(|&x| x == v).unwrap();
        assert_eq!(got.len(), 3);
        assert!(pos(0) < pos(1), "one sender's values in order: {got:?}");
        assert!(got.contains(&10));
    });
}

/// The receiver is dropped while the sender is mid-stream, possibly in the
/// middle of writing into a block, or of installing the next one, that the
/// receiver's drop is about to free. Every value is dropped exactly once:
/// the ones still queued by the receiver's drop, the ones refused by their
/// sender.
#[test]
fn list_receiver_drop_frees_blocks_in_use_1s1r() {
    loom::model(|| {
        let drops = counter();
        let (tx, rx) = mpsc::channel::<Tracked>();
        let d = drops.clone();
        let t = thread::spawn(move || {
            let mut created = 0;
            for i in 0..3 {
                created += 1;
                if let Err(e) = tx.send(Tracked::new(i, &d)) {
                    assert_eq!(e.0.id, i);
                    break;
                }
            }
            created
        });
        let first = rx.try_recv();
        drop(rx);
        drop(first);
        let created = t.join().unwrap();
        assert_eq!(count(&drops), created);
    });
}

/// A receiver asleep on an empty list is woken by a send.
#[test]
fn list_recv_woken_by_send_1s1r() {
    loom::model(|| {
        let (tx, rx) = mpsc::channel::<usize>();
        let t = thread::spawn(move || tx.send(7).unwrap());
        assert_eq!(rx.recv(), Ok(7));
        t.join().unwrap();
    });
}

/// A receiver asleep on an empty list is woken when the last of two senders
/// goes, and a value the other sent first is still received.
#[test]
fn list_recv_woken_by_last_sender_2s1r() {
    loom::model(|| {
        let (tx, rx) = mpsc::channel::<usize>();
        let tx2 = tx.clone();
        let a = thread::spawn(move || tx.send(1).unwrap());
        let b = thread::spawn(move || drop(tx2));
        assert_eq!(rx.recv(), Ok(1));
        assert_eq!(rx.recv(), Err(RecvError));
        a.join().unwrap();
        b.join().unwrap();
    });
}

/// A timed receive racing a send: it returns the value or times out, and
/// after a timeout the value is still there.
#[test]
fn list_recv_timeout_races_send_1s1r() {
    loom::model(|| {
        let (tx, rx) = mpsc::channel::<usize>();
        let t = thread::spawn(move || {
            tx.send(5).unwrap();
            tx
        });
        let first = rx.recv_timeout(Duration::from_secs(3600));
        let tx = t.join().unwrap();
        match first {
            Ok(v) => assert_eq!(v, 5),
            Err(RecvTimeoutError::Timeout) => assert_eq!(rx.try_recv(), Ok(5)),
            Err(RecvTimeoutError::Disconnected) => panic!("sender alive"),
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        drop(tx);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    });
}

/// Two senders cross a block boundary while the receiver is dropped: the
/// drop waits for an install in progress and for every claimed slot, frees
/// every block once, and each value is dropped exactly once.
#[test]
fn list_receiver_drop_during_install_2s1r() {
    loom::model(|| {
        let drops = counter();
        let (tx, rx) = mpsc::channel::<Tracked>();
        tx.send(Tracked::new(0, &drops)).unwrap();
        let senders: Vec<_> = (1..3)
            .map(|id| {
                let (tx, d) = (tx.clone(), drops.clone());
                thread::spawn(move || {
                    if let Err(e) = tx.send(Tracked::new(id, &d)) {
                        assert_eq!(e.0.id, id);
                    }
                })
            })
            .collect();
        drop(tx);
        drop(rx);
        for s in senders {
            s.join().unwrap();
        }
        assert_eq!(count(&drops), 3);
    });
}
