//! Loom models of the rendezvous handshake behind `weir::mpsc::sync_channel(0)`:
//! a value passes only when sender and receiver meet, a send returns only once
//! the value is taken (or handed back), and a receive that gives up never
//! swallows a value a sender handed over.

mod common;

use std::time::Duration;

use common::{count, counter, Tracked};
use loom::sync::atomic::{AtomicBool, Ordering};
use loom::sync::Arc;
use loom::thread;
use weir::mpsc::{self, RecvError, RecvTimeoutError, SendError, TryRecvError, TrySendError};

const LONG: Duration = Duration::from_secs(3600);

/// The basic rendezvous: whoever comes first waits for the other, and the
/// send cannot have returned before the receiver took the value (checked by
/// a receiver that looks at the flag before it receives).
#[test]
fn zero_send_waits_for_the_receiver_1s1r() {
    loom::model(|| {
        let (tx, rx) = mpsc::sync_channel::<usize>(0);
        let returned = Arc::new(AtomicBool::new(false));
        let flag = returned.clone();
        let t = thread::spawn(move || {
            tx.send(1).unwrap();
            flag.store(true, Ordering::SeqCst);
        });
        assert!(
            !returned.load(Ordering::SeqCst),
            "send returned before recv"
        );
        assert_eq!(rx.recv(), Ok(1));
        t.join().unwrap();
        assert!(returned.load(Ordering::SeqCst));
        assert_eq!(rx.recv(), Err(RecvError));
    });
}

/// `try_send` racing a timed receive: if `try_send` succeeded the receiver
/// got the value (a receive that times out withdraws first, or is committed);
/// if the receiver timed out, `try_send` found nobody and got its value back.
#[test]
fn zero_try_send_vs_recv_timeout_1s1r() {
    loom::model(|| {
        let (tx, rx) = mpsc::sync_channel::<usize>(0);
        let t = thread::spawn(move || tx.try_send(3));
        let got = rx.recv_timeout(LONG);
        let sent = t.join().unwrap();
        match sent {
            Ok(()) => assert_eq!(got, Ok(3)),
            Err(TrySendError::Full(3)) => assert_ne!(got, Ok(3)),
            Err(e) => panic!("unexpected {e:?}"),
        }
        assert!(matches!(
            got,
            Ok(3) | Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected)
        ));
    });
}

/// A blocking send racing a timed receive, then the receiver goes: the value
/// is received, or handed back to the sender; dropped exactly once.
#[test]
fn zero_send_vs_recv_timeout_then_drop_1s1r() {
    loom::model(|| {
        let drops = counter();
        let (tx, rx) = mpsc::sync_channel::<Tracked>(0);
        let d = drops.clone();
        let t = thread::spawn(move || tx.send(Tracked::new(1, &d)).map_err(|SendError(v)| v.id));
        let got = rx.recv_timeout(LONG).map(|v| v.id);
        drop(rx);
        let sent = t.join().unwrap();
        match got {
            Ok(1) => assert_eq!(sent, Ok(())),
            Err(RecvTimeoutError::Timeout) => assert_eq!(sent, Err(1)),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(count(&drops), 1);
    });
}

/// Two senders, one receiver: each receive takes one sender's value and that
/// sender returns; the other waits for the slot and is served next.
#[test]
fn zero_two_senders_2s1r() {
    loom::model(|| {
        let (tx, rx) = mpsc::sync_channel::<usize>(0);
        let tx2 = tx.clone();
        let a = thread::spawn(move || tx.send(1).unwrap());
        let b = thread::spawn(move || tx2.send(2).unwrap());
        let mut got = [rx.recv().unwrap(), rx.recv().unwrap()];
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
        a.join().unwrap();
        b.join().unwrap();
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    });
}

/// The receiver goes while a sender offers: the sender takes its value back.
#[test]
fn zero_receiver_drop_hands_value_back_1s1r() {
    loom::model(|| {
        let drops = counter();
        let (tx, rx) = mpsc::sync_channel::<Tracked>(0);
        let d = drops.clone();
        let t = thread::spawn(move || {
            let SendError(v) = tx.send(Tracked::new(9, &d)).unwrap_err();
            v.id
        });
        drop(rx);
        assert_eq!(t.join().unwrap(), 9);
        assert_eq!(count(&drops), 1);
    });
}

/// A receiver waiting for a hand-off is woken when the last sender goes.
#[test]
fn zero_recv_woken_by_disconnect_1s1r() {
    loom::model(|| {
        let (tx, rx) = mpsc::sync_channel::<usize>(0);
        let t = thread::spawn(move || drop(tx));
        assert_eq!(rx.recv(), Err(RecvError));
        t.join().unwrap();
    });
}

/// A blocking send and a `try_send` from two senders against one receiver
/// that receives once and then once more with a timeout: the blocked sender's
/// value is always received; the `try_send` value is received exactly when
/// `try_send` reported success.
#[test]
fn zero_send_and_try_send_2s1r() {
    loom::model(|| {
        let (tx, rx) = mpsc::sync_channel::<usize>(0);
        let tx2 = tx.clone();
        let a = thread::spawn(move || tx.send(1).unwrap());
        let b = thread::spawn(move || tx2.try_send(2).is_ok());
        let mut got = vec![rx.recv().unwrap()];
        if let Ok(v) = rx.recv_timeout(LONG) {
            got.push(v);
        }
        let delivered = b.join().unwrap();
        if !got.contains(&1) {
            // The first receive took the `try_send` value and the second
            // timed out before the blocked sender offered: take it now.
            got.push(rx.recv().unwrap());
        }
        a.join().unwrap();
        got.sort_unstable();
        let expected: &[usize] = if delivered { &[1, 2] } else { &[1] };
        assert_eq!(got, expected);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    });
}
