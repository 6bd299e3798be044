//! Loom models of waiting: a thread that sleeps on a full or empty channel is
//! always woken, whether by a value, by room, by a disconnect, or by its own
//! timeout racing a notify; and a timed-out wait never swallows a value.

mod common;

use std::time::Duration;

use common::{count, counter, Tracked};
use loom::thread;
use weir::{Block, RecvTimeoutError, SendTimeoutError, TryRecvError};

const LONG: Duration = Duration::from_secs(3600);

/// A receiver asleep on an empty channel is woken by a send.
#[test]
fn recv_woken_by_send_1s1r_cap1() {
    loom::model(|| {
        let (tx, rx) = weir::bounded::<u32, Block>(1);
        // The sender outlives the receive: its drop would wake the receiver
        // anyway and hide a send that forgot to.
        let t = thread::spawn(move || {
            // Let the receiver go first, so that it is asleep when the
            // value comes (loom's search does not always try that order).
            thread::yield_now();
            tx.send(7).unwrap();
            tx
        });
        assert_eq!(rx.recv(), Ok(7));
        drop(t.join().unwrap());
    });
}

/// A receiver asleep on an empty channel is woken when the last sender goes.
#[test]
fn recv_woken_by_disconnect_1s1r_cap1() {
    loom::model(|| {
        let (tx, rx) = weir::bounded::<u32, Block>(1);
        let t = thread::spawn(move || drop(tx));
        assert_eq!(rx.recv(), Err(weir::RecvError));
        t.join().unwrap();
    });
}

/// A sender asleep on a full channel is woken by a receive.
#[test]
fn send_woken_by_recv_1s1r_cap1() {
    loom::model(|| {
        let (tx, rx) = weir::bounded::<u32, Block>(1);
        tx.send(1).unwrap();
        let t = thread::spawn(move || {
            tx.send(2).unwrap();
        });
        // Let the sender go first, so that it is asleep on the full ring
        // when the receive makes room.
        thread::yield_now();
        assert_eq!(rx.recv(), Ok(1));
        assert_eq!(rx.recv(), Ok(2));
        t.join().unwrap();
    });
}

/// A sender asleep on a full channel is woken, with its value back, when the
/// last receiver goes; the queued value is dropped exactly once.
#[test]
fn send_woken_by_disconnect_1s1r_cap1() {
    loom::model(|| {
        let drops = counter();
        let (tx, rx) = weir::bounded::<Tracked, Block>(1);
        tx.send(Tracked::new(1, &drops)).unwrap();
        let d = drops.clone();
        let t = thread::spawn(move || {
            let err = tx.send(Tracked::new(2, &d)).unwrap_err();
            assert_eq!(err.0.id, 2);
        });
        drop(rx);
        t.join().unwrap();
        assert_eq!(count(&drops), 2);
    });
}

/// Two receivers asleep; two values sent: both receivers are woken (a notify
/// goes to one sleeper each, none is lost on the other).
#[test]
fn two_receivers_woken_1s2r_cap2() {
    loom::model(|| {
        let (tx, rx) = weir::bounded::<u32, Block>(2);
        let rx2 = rx.clone();
        let t = thread::spawn(move || rx2.recv().unwrap());
        let s = thread::spawn(move || {
            tx.send(1).unwrap();
            tx.send(2).unwrap();
        });
        let mine = rx.recv().unwrap();
        let theirs = t.join().unwrap();
        s.join().unwrap();
        let mut got = [mine, theirs];
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
    });
}

/// A timed receive racing a send: it returns the value or times out, and on a
/// timeout the value is still there. Nothing is lost or duplicated.
#[test]
fn recv_timeout_races_send_1s1r_cap1() {
    loom::model(|| {
        let (tx, rx) = weir::bounded::<u32, Block>(1);
        let t = thread::spawn(move || {
            tx.send(5).unwrap();
            tx
        });
        let first = rx.recv_timeout(LONG);
        let _tx = t.join().unwrap();
        match first {
            Ok(v) => {
                assert_eq!(v, 5);
                assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
            }
            Err(RecvTimeoutError::Timeout) => assert_eq!(rx.try_recv(), Ok(5)),
            Err(RecvTimeoutError::Disconnected) => panic!("sender still alive"),
        }
    });
}

/// A timed send on a full channel racing a receive: it succeeds or hands its
/// value back, and a timeout does not swallow the wakeup of an untimed
/// receiver behind it.
#[test]
fn send_timeout_races_recv_1s1r_cap1() {
    loom::model(|| {
        let (tx, rx) = weir::bounded::<u32, Block>(1);
        tx.send(1).unwrap();
        let t = {
            let rx = rx.clone();
            thread::spawn(move || rx.recv().unwrap())
        };
        let result = tx.send_timeout(2, LONG);
        assert_eq!(t.join().unwrap(), 1);
        match result {
            Ok(()) => assert_eq!(tx.len(), 1),
            Err(SendTimeoutError::Timeout(v)) => {
                assert_eq!(v, 2);
                assert_eq!(tx.len(), 0);
            }
            Err(SendTimeoutError::Disconnected(_)) => panic!("a receiver is alive"),
        }
        drop(rx);
    });
}

/// A timed receiver and an untimed one sleep; one value arrives. Whichever
/// the notify picks, the value is received by exactly one of them, and the
/// untimed receiver is not left asleep holding a stolen wakeup: the sender's
/// drop ends it.
#[test]
fn timed_and_untimed_receivers_1s2r_cap1() {
    loom::model(|| {
        let (tx, rx) = weir::bounded::<u32, Block>(1);
        let rx2 = rx.clone();
        let untimed = thread::spawn(move || rx2.recv().ok());
        let sender = thread::spawn(move || {
            tx.send(9).unwrap();
        });
        let timed = rx.recv_timeout(LONG).ok();
        sender.join().unwrap();
        let other = untimed.join().unwrap();
        let rest = rx.try_recv().ok();
        let mut got: Vec<u32> = [timed, other, rest].into_iter().flatten().collect();
        got.sort_unstable();
        assert_eq!(got, [9]);
    });
}
