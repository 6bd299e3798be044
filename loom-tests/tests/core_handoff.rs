//! Loom models of the hand-off: a `Block` sender waiting on a full channel
//! lends its value, and a receiver that frees a slot moves the value straight
//! into it. Each model races a hand-off against what could end the sender's
//! wait first (its timeout, the last receiver's drop, a close, a second
//! sender), and checks that every value is received, handed back or dropped
//! with the channel exactly once, and that the sender's result says which.
//! The other direction too: a receiver waiting on an empty channel lends a
//! place, and a sender moves its value straight there.

mod common;

use std::time::Duration;

use common::{count, counter, Tracked};
use loom::thread;
use weir::{Block, Builder, RecvError, RecvTimeoutError, SendTimeoutError, TryRecvError};

const LONG: Duration = Duration::from_secs(3600);

/// A sender's timeout races the receive that would hand its value off: the
/// send succeeds with the value in the channel, or times out with the value
/// back, never both and never neither.
#[test]
fn hand_off_races_the_senders_timeout_1s1r_cap1() {
    loom::model(|| {
        let (tx, rx) = weir::bounded::<u32, Block>(1);
        let sender = {
            let tx = tx.clone();
            thread::spawn(move || {
                tx.send(1).unwrap();
                tx.send_timeout(2, LONG)
            })
        };
        let receiver = {
            let rx = rx.clone();
            thread::spawn(move || rx.recv().unwrap())
        };
        let result = sender.join().unwrap();
        assert_eq!(receiver.join().unwrap(), 1);
        match result {
            Ok(()) => assert_eq!(rx.try_recv(), Ok(2)),
            Err(SendTimeoutError::Timeout(v)) => {
                assert_eq!(v, 2);
                assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
            }
            Err(SendTimeoutError::Disconnected(_)) => panic!("a receiver is alive"),
        }
        drop(tx);
    });
}

/// The last receiver goes right after the receive that may hand a waiting
/// sender's value off: the sender gets its value back or its send succeeded
/// into a channel that then frees it; each value is dropped exactly once.
#[test]
fn hand_off_races_the_last_receivers_drop_1s1r_cap1() {
    loom::model(|| {
        let drops = counter();
        let (tx, rx) = weir::bounded::<Tracked, Block>(1);
        let sender = {
            let drops = drops.clone();
            thread::spawn(move || {
                tx.send(Tracked::new(1, &drops)).unwrap();
                match tx.send(Tracked::new(2, &drops)) {
                    Ok(()) => None,
                    Err(err) => Some(err.0.id),
                }
            })
        };
        let receiver = thread::spawn(move || {
            assert_eq!(rx.recv().unwrap().id, 1);
        });
        receiver.join().unwrap();
        let handed_back = sender.join().unwrap();
        assert!(matches!(handed_back, None | Some(2)));
        assert_eq!(count(&drops), 2);
    });
}

/// A close races a sender waiting with its value lent and the receives that
/// may take it: a send that succeeded is received before the disconnect
/// error, and one that failed has its value back.
#[test]
fn hand_off_races_a_close_1s1r_cap1() {
    loom::model(|| {
        let (tx, rx) = weir::bounded::<u32, Block>(1);
        tx.send(1).unwrap();
        let sender = thread::spawn(move || tx.send(2).map_err(|err| err.0));
        let receiver = {
            let rx = rx.clone();
            thread::spawn(move || {
                let first = rx.recv();
                let second = rx.recv();
                (first, second)
            })
        };
        rx.close();
        let sent = sender.join().unwrap();
        let (first, second) = receiver.join().unwrap();
        assert_eq!(first, Ok(1));
        match sent {
            Ok(()) => assert_eq!(second, Ok(2)),
            Err(v) => {
                assert_eq!(v, 2);
                assert_eq!(second, Err(RecvError));
            }
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    });
}

/// Two senders wait on a full channel of one slot, each lending a value; one
/// receiver takes everything. Each value arrives exactly once, the first
/// value first, and both senders return. Four threads: one preemption keeps
/// the model within a minute.
#[test]
fn hand_offs_from_two_waiting_senders_2s1r_cap1() {
    let mut model = loom::model::Builder::new();
    model.preemption_bound = Some(1);
    model.check(|| {
        let (tx, rx) = weir::bounded::<u32, Block>(1);
        tx.send(0).unwrap();
        let senders: Vec<_> = [10, 20]
            .into_iter()
            .map(|v| {
                let tx = tx.clone();
                thread::spawn(move || tx.send(v).unwrap())
            })
            .collect();
        drop(tx);
        let receiver = thread::spawn(move || {
            let got: Vec<u32> = (0..3).map(|_| rx.recv().unwrap()).collect();
            assert_eq!(rx.recv(), Err(RecvError));
            got
        });
        for sender in senders {
            sender.join().unwrap();
        }
        let got = receiver.join().unwrap();
        assert_eq!(got[0], 0);
        let mut rest = got[1..].to_vec();
        rest.sort_unstable();
        assert_eq!(rest, [10, 20]);
    });
}

/// A receiver's timeout races the send that would land a value straight in
/// its waiting place: the receive returns the value, or times out with the
/// value still in the channel.
#[test]
fn landing_races_the_receivers_timeout_1s1r_cap1() {
    loom::model(|| {
        let (tx, rx) = weir::bounded::<u32, Block>(1);
        let receiver = {
            let rx = rx.clone();
            thread::spawn(move || rx.recv_timeout(LONG))
        };
        let sender = {
            let tx = tx.clone();
            thread::spawn(move || tx.send(5).unwrap())
        };
        sender.join().unwrap();
        match receiver.join().unwrap() {
            Ok(v) => {
                assert_eq!(v, 5);
                assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
            }
            Err(RecvTimeoutError::Timeout) => assert_eq!(rx.try_recv(), Ok(5)),
            Err(RecvTimeoutError::Disconnected) => panic!("a sender is alive"),
        }
        drop(tx);
    });
}

/// Three values through one slot between a sender and a receiver that both
/// wait: values land in the waiting receiver's place and move from the
/// waiting sender's into the freed slot, in every order the model finds,
/// and arrive once each, in order; each is dropped exactly once.
#[test]
fn landings_and_hand_offs_keep_order_1s1r_cap1() {
    loom::model(|| {
        let drops = counter();
        let (tx, rx) = weir::bounded::<Tracked, Block>(1);
        let sender = {
            let drops = drops.clone();
            thread::spawn(move || {
                for id in 1..=3 {
                    tx.send(Tracked::new(id, &drops)).unwrap();
                }
            })
        };
        let receiver = thread::spawn(move || {
            let ids: Vec<usize> = (0..3).map(|_| rx.recv().unwrap().id).collect();
            assert!(rx.recv().is_err(), "the sender is gone");
            ids
        });
        sender.join().unwrap();
        assert_eq!(receiver.join().unwrap(), [1, 2, 3]);
        assert_eq!(count(&drops), 3);
    });
}

/// A value lands in a waiting receiver's place while a sender waits for
/// relief: the level was one value for an instant (the push claimed, the
/// landing pop not yet), and a relief waiter that looked then is woken when
/// it drops back to empty.
#[test]
fn relief_after_a_landing_2s1r_cap2() {
    loom::model(|| {
        let (tx, rx) = Builder::new(2)
            .watermarks(0.5, 1.0)
            .build::<u32, Block>()
            .unwrap();
        let receiver = thread::spawn(move || {
            let v = rx.recv().unwrap();
            (v, rx)
        });
        let waiter = {
            let tx = tx.clone();
            thread::spawn(move || (tx.wait_normal(), tx))
        };
        tx.send(7).unwrap();
        let (v, rx) = receiver.join().unwrap();
        let (relief, _tx) = waiter.join().unwrap();
        assert_eq!(v, 7);
        assert_eq!(relief, Ok(()));
        drop(rx);
    });
}

/// A sender finds the one slot full and registers; the receiver takes that
/// value and waits again; a second sender's value lands in the receiver's
/// place while the first sender re-checks, and that re-check, made while
/// the landing push was claimed, saw the channel full. The landing frees
/// the slot again, so it must wake that sender.
#[test]
fn landing_wakes_a_sender_that_saw_the_claim_2s1r_cap1() {
    loom::model(|| {
        let (tx, rx) = weir::bounded::<u32, Block>(1);
        tx.send(0).unwrap();
        let receiver = thread::spawn(move || {
            let got: Vec<u32> = (0..3).map(|_| rx.recv().unwrap()).collect();
            (got, rx)
        });
        let waiting = {
            let tx = tx.clone();
            thread::spawn(move || tx.send(2).unwrap())
        };
        tx.send(1).unwrap();
        waiting.join().unwrap();
        let (mut got, _rx) = receiver.join().unwrap();
        assert_eq!(got[0], 0);
        got.sort_unstable();
        assert_eq!(got, [0, 1, 2]);
    });
}
