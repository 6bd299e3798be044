//! Loom models of `close` racing waiters and traffic: a waiting receive and
//! a waiting send are woken, and a send racing a close and a receive is
//! received if and only if it was accepted. Observers run on spawned threads.
//!
//! The waiters are tasks: a thread waiting under loom yields before it
//! parks, and loom runs a yielding thread only once every other thread is
//! blocked, so a model cannot reach "the thread parked, then the close"
//! without spending its preemptions. A task's poll does not yield; it
//! registers and its `block_on` parks at once. The closer yields once before
//! it closes: loom 0.7's search remembers only the last access to each
//! atomic, and without the yield it never runs the waiter before the close
//! (a close that forgot to wake anyone passed). With it, it does, and that
//! close deadlocks the first two models.

use loom::future::block_on;
use loom::thread;
use weir::{Block, RecvError, SendError};

/// A task waiting on an empty channel is woken by a sender's close.
#[test]
fn close_wakes_a_waiting_recv_cap1() {
    loom::model(|| {
        let (tx, rx) = weir::bounded::<u32, Block>(1);
        let receiver = thread::spawn(move || block_on(rx.recv_async()));
        thread::yield_now();
        assert!(tx.close());
        assert_eq!(receiver.join().unwrap(), Err(RecvError));
    });
}

/// A task waiting on a full channel is woken by a receiver's close and gets
/// its value back; the value queued before the close still arrives.
#[test]
fn close_wakes_a_waiting_send_cap1() {
    loom::model(|| {
        let (tx, rx) = weir::bounded::<u32, Block>(1);
        tx.send(1).unwrap();
        let sender = thread::spawn(move || block_on(tx.send_async(2)));
        thread::yield_now();
        assert!(rx.close());
        assert_eq!(sender.join().unwrap(), Err(SendError(2)));
        assert_eq!(rx.recv(), Ok(1));
        assert_eq!(rx.recv(), Err(RecvError));
    });
}

/// A send, a receive and a close all at once: the receive gets the value
/// exactly when the send was accepted, never the disconnected error while an
/// accepted value is still to come.
#[test]
fn close_racing_a_send_and_a_recv_cap1() {
    loom::model(|| {
        let (tx, rx) = weir::bounded::<u32, Block>(1);
        let closer = tx.clone();
        let sender = thread::spawn(move || tx.send(5));
        let receiver = thread::spawn(move || block_on(rx.recv_async()));
        thread::yield_now();
        closer.close();
        let sent = sender.join().unwrap();
        let got = receiver.join().unwrap();
        match sent {
            Ok(()) => assert_eq!(got, Ok(5)),
            Err(SendError(v)) => {
                assert_eq!(v, 5);
                assert_eq!(got, Err(RecvError));
            }
        }
    });
}
