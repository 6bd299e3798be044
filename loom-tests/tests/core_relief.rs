//! Loom models of waiting for relief (`wait_normal`, `wait_normal_async`): a
//! sender asleep while the level is at or above the low watermark is woken
//! by the receive that takes it below, whether by a single pop or a batch,
//! and by a close from either end or the last receiver's drop, which fails
//! the wait. A lost wakeup shows as a loom deadlock.
//!
//! Every channel here has capacity 2 and a low watermark of one value, so
//! only an empty channel is relieved. The waiter runs on a spawned thread,
//! as a blocking call or as a task under `block_on`; the thread that makes
//! the change yields first, so that the waiter is asleep when it comes (loom
//! runs a yielded thread only once no other can run), and keeps its handle
//! until the waiter returned: a drop would disconnect and wake the waiter
//! anyway.

use loom::future::block_on;
use loom::thread;
use weir::{Block, Builder, Pressure, Receiver, Sender, WaitError};

/// What a waiter's thread hands back.
type Waited = (Result<(), WaitError>, Sender<u32, Block>);

/// How the waiter waits.
#[derive(Clone, Copy, Debug)]
enum Waiter {
    Thread,
    Task,
}

impl Waiter {
    /// Spawns the wait on its own thread; the join hands back the result
    /// and the sender. Nothing in these models sends while the waiter waits,
    /// so relief, once seen, lasts: a waiter that returns `Ok` finds the
    /// channel empty.
    fn spawn(self, tx: Sender<u32, Block>) -> thread::JoinHandle<Waited> {
        thread::spawn(move || {
            let result = match self {
                Waiter::Thread => tx.wait_normal(),
                Waiter::Task => block_on(tx.wait_normal_async()),
            };
            if result.is_ok() {
                assert_eq!(tx.len(), 0, "relieved, so below the watermark");
            }
            (result, tx)
        })
    }
}

/// A channel of capacity 2 whose low watermark is one value, holding
/// `queued` values: at or above the watermark, so a relief wait sleeps.
fn elevated(queued: u32) -> (Sender<u32, Block>, Receiver<u32>) {
    let (tx, rx) = Builder::new(2)
        .watermarks(0.5, 1.0)
        .build::<u32, Block>()
        .unwrap();
    assert_eq!(tx.low_watermark(), 1);
    for i in 0..queued {
        tx.send(i).unwrap();
    }
    assert_ne!(tx.pressure(), Pressure::Normal);
    (tx, rx)
}

/// One value queued; a receiver takes it, crossing the watermark: the waiter
/// returns `Ok`.
fn relief_by_pop(waiter: Waiter) {
    loom::model(move || {
        let (tx, rx) = elevated(1);
        let waiting = waiter.spawn(tx);
        let receiver = thread::spawn(move || {
            thread::yield_now();
            assert_eq!(rx.try_recv(), Ok(0));
            rx
        });
        let (result, tx) = waiting.join().unwrap();
        assert_eq!(result, Ok(()));
        let rx = receiver.join().unwrap();
        drop((tx, rx));
    });
}

#[test]
fn relief_by_pop_wakes_a_thread_cap2() {
    relief_by_pop(Waiter::Thread);
}

#[test]
fn relief_by_pop_wakes_a_task_cap2() {
    relief_by_pop(Waiter::Task);
}

/// Two values queued; the receiver takes both in one batch (one CAS), which
/// must relieve the waiter as two single pops would.
fn relief_by_batch(waiter: Waiter) {
    loom::model(move || {
        let (tx, rx) = elevated(2);
        let waiting = waiter.spawn(tx);
        let receiver = thread::spawn(move || {
            thread::yield_now();
            let mut batch = Vec::new();
            assert_eq!(rx.try_recv_batch(&mut batch, 2), 2);
            assert_eq!(batch, [0, 1]);
            rx
        });
        let (result, tx) = waiting.join().unwrap();
        assert_eq!(result, Ok(()));
        let rx = receiver.join().unwrap();
        drop((tx, rx));
    });
}

#[test]
fn relief_by_batch_wakes_a_thread_cap2() {
    relief_by_batch(Waiter::Thread);
}

#[test]
fn relief_by_batch_wakes_a_task_cap2() {
    relief_by_batch(Waiter::Task);
}

/// Two values queued and two receivers, one pop each: only the second pop
/// crosses the watermark, whichever order they run in, and it must wake the
/// waiter even when the first pop's check saw the level still elevated.
#[test]
fn relief_by_the_second_of_two_pops_cap2() {
    loom::model(|| {
        let (tx, rx) = elevated(2);
        let waiting = Waiter::Task.spawn(tx);
        let receivers: Vec<_> = (0..2)
            .map(|_| {
                let rx = rx.clone();
                thread::spawn(move || {
                    thread::yield_now();
                    rx.try_recv().unwrap()
                })
            })
            .collect();
        let (result, tx) = waiting.join().unwrap();
        assert_eq!(result, Ok(()));
        let mut got: Vec<u32> = receivers.into_iter().map(|r| r.join().unwrap()).collect();
        got.sort_unstable();
        assert_eq!(got, [0, 1]);
        drop((tx, rx));
    });
}

/// Who ends the wait in the close models.
#[derive(Clone, Copy, Debug)]
enum Closer {
    /// `close` on another sender.
    Sender,
    /// `close` on the receiver.
    Receiver,
    /// The last receiver's drop.
    LastReceiver,
}

/// One value queued and nothing received, so no relief can come: the close
/// must wake the waiter with the error. The receiver is handed back unless
/// its drop is the close, so that the value stays queued.
fn close_wakes_relief_waiter(waiter: Waiter, closer: Closer) {
    loom::model(move || {
        let (tx, rx) = elevated(1);
        let other = tx.clone();
        let waiting = waiter.spawn(tx);
        let closing = thread::spawn(move || {
            thread::yield_now();
            let rx = match closer {
                Closer::Sender => {
                    assert!(other.close());
                    Some(rx)
                }
                Closer::Receiver => {
                    assert!(rx.close());
                    Some(rx)
                }
                Closer::LastReceiver => {
                    drop(rx);
                    None
                }
            };
            (other, rx)
        });
        let (result, tx) = waiting.join().unwrap();
        assert_eq!(result, Err(WaitError));
        let (other, rx) = closing.join().unwrap();
        if let Some(rx) = rx {
            assert_eq!(rx.try_recv(), Ok(0), "a close keeps what was queued");
        }
        drop((tx, other));
    });
}

#[test]
fn sender_close_wakes_a_relief_thread_cap2() {
    close_wakes_relief_waiter(Waiter::Thread, Closer::Sender);
}

#[test]
fn sender_close_wakes_a_relief_task_cap2() {
    close_wakes_relief_waiter(Waiter::Task, Closer::Sender);
}

#[test]
fn receiver_close_wakes_a_relief_thread_cap2() {
    close_wakes_relief_waiter(Waiter::Thread, Closer::Receiver);
}

#[test]
fn receiver_close_wakes_a_relief_task_cap2() {
    close_wakes_relief_waiter(Waiter::Task, Closer::Receiver);
}

#[test]
fn last_receiver_gone_wakes_a_relief_task_cap2() {
    close_wakes_relief_waiter(Waiter::Task, Closer::LastReceiver);
}

/// The same with a thread waiting. The last receiver's drop marks the
/// channel disconnected, then drops the queued value, which empties it. A
/// waiting thread that read "connected" just before the mark and the level
/// just after the drain once returned `Ok`, for a channel that was never
/// both connected and relieved; it now reads the level first and the mark
/// after, as the task's poll does.
#[test]
fn last_receiver_gone_wakes_a_relief_thread_cap2() {
    close_wakes_relief_waiter(Waiter::Thread, Closer::LastReceiver);
}

/// A pop that relieves and a close race: the waiter returns, with `Ok` (then
/// only after the pop, which the waiter's own check of the level confirms)
/// or with the error, and never sleeps on.
#[test]
fn relief_racing_a_close_cap2() {
    loom::model(|| {
        let (tx, rx) = elevated(1);
        let other = tx.clone();
        let waiting = Waiter::Thread.spawn(tx);
        let receiver = thread::spawn(move || {
            thread::yield_now();
            let got = rx.try_recv();
            (got, rx)
        });
        thread::yield_now();
        other.close();
        let (result, tx) = waiting.join().unwrap();
        let (got, rx) = receiver.join().unwrap();
        // The value was queued before the close: a receive still gets it.
        assert_eq!(got, Ok(0));
        assert!(matches!(result, Ok(()) | Err(WaitError)));
        drop((tx, other, rx));
    });
}
