//! Loom models of tasks waiting on a channel beside threads: a task woken by
//! a thread and the reverse, a thread and a task waiting on one side, and a
//! future that was queued, notified and dropped passing its wakeup on. Every
//! observer runs on a spawned thread. A lost wakeup shows as a loom deadlock.

use std::future::Future;
use std::task::{Context, Waker};

use loom::future::block_on;
use loom::sync::atomic::Ordering::SeqCst;
use loom::thread;
use weir::{Block, DropOldest, RecvError};

/// A task waiting to receive is woken by a thread's send.
#[test]
fn task_recv_woken_by_thread_send_cap1() {
    loom::model(|| {
        let (tx, rx) = weir::bounded::<u32, Block>(1);
        let task = thread::spawn(move || block_on(rx.recv_async()));
        tx.send(7).unwrap();
        assert_eq!(task.join().unwrap(), Ok(7));
    });
}

/// A task waiting to send on a full channel is woken by a thread's receive.
#[test]
fn task_send_woken_by_thread_recv_cap1() {
    loom::model(|| {
        let (tx, rx) = weir::bounded::<u32, Block>(1);
        tx.send(1).unwrap();
        let task = thread::spawn(move || block_on(tx.send_async(2)));
        assert_eq!(rx.recv(), Ok(1));
        assert_eq!(rx.recv(), Ok(2));
        assert_eq!(task.join().unwrap(), Ok(()));
    });
}

/// A thread waiting to receive is woken by a task's send.
#[test]
fn thread_recv_woken_by_task_send_cap1() {
    loom::model(|| {
        let (tx, rx) = weir::bounded::<u32, Block>(1);
        let thread_rx = thread::spawn(move || rx.recv());
        block_on(tx.send_async(3)).unwrap();
        assert_eq!(thread_rx.join().unwrap(), Ok(3));
    });
}

/// A thread and a task wait on the receiving side; two sends finish both.
#[test]
fn thread_and_task_receivers_both_finish_cap1() {
    loom::model(|| {
        let (tx, rx) = weir::bounded::<u32, Block>(1);
        let rx2 = rx.clone();
        let task = thread::spawn(move || block_on(rx2.recv_async()));
        let thread_rx = thread::spawn(move || rx.recv());
        tx.send(1).unwrap();
        tx.send(2).unwrap();
        let mut got = [
            task.join().unwrap().unwrap(),
            thread_rx.join().unwrap().unwrap(),
        ];
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
    });
}

/// A waker that counts its wakes in a loom atomic.
struct Counting(loom::sync::atomic::AtomicUsize);

impl std::task::Wake for Counting {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// Two receive futures queued, the first dropped without another poll while
/// a send races it. The send's wakeup may reach the first; it must then be
/// passed to the second, which is never polled again, so only its waker
/// tells it there is a value.
#[test]
fn dropped_notified_future_passes_the_wakeup_on_cap1() {
    loom::model(|| {
        let (tx, rx) = weir::bounded::<u32, Block>(1);
        let mut first = Box::pin(rx.recv_async());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(first.as_mut().poll(&mut cx).is_pending());
        let counter = std::sync::Arc::new(Counting(loom::sync::atomic::AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let mut second = Box::pin(rx.recv_async());
        assert!(second
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());

        let sender = thread::spawn(move || {
            tx.send(5).unwrap();
            tx
        });
        drop(first);
        let tx = sender.join().unwrap();
        assert_eq!(counter.0.load(SeqCst), 1, "the second future was woken");
        let poll = second.as_mut().poll(&mut Context::from_waker(&waker));
        assert_eq!(poll, std::task::Poll::Ready(Ok(5)));
        drop(tx);
    });
}

/// A lossy send wakes an async receiver.
#[test]
fn task_recv_woken_by_drop_oldest_send_cap1() {
    loom::model(|| {
        let (tx, rx) = weir::bounded::<u32, DropOldest>(1);
        let task = thread::spawn(move || block_on(rx.recv_async()));
        assert_eq!(tx.send(4), Ok(None));
        assert_eq!(task.join().unwrap(), Ok(4));
    });
}

/// Disconnect wakes a waiting task.
#[test]
fn task_recv_woken_by_disconnect_cap1() {
    loom::model(|| {
        let (tx, rx) = weir::bounded::<u32, Block>(1);
        let task = thread::spawn(move || block_on(rx.recv_async()));
        drop(tx);
        assert_eq!(task.join().unwrap(), Err(RecvError));
    });
}
