//! `recv_async` and `send_async` with threads and tasks on one channel, on a
//! hand-written executor: wakeups passed on by dropped futures, waker swaps,
//! FIFO order across kinds of waiters, disconnect, and no busy polling.

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

use weir::{Block, DropOldest, RecvError, RecvTimeoutError, SendError};

const PATIENCE: Duration = Duration::from_secs(10);

/// Messages per producer in the streaming tests; fewer under Miri.
const MESSAGES: u64 = if cfg!(miri) { 100 } else { 10_000 };

/// A waker that counts its wakes and unparks the thread that made it.
struct Counting {
    wakes: AtomicUsize,
    thread: thread::Thread,
}

impl Wake for Counting {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        self.thread.unpark();
    }
}

fn counting() -> (Arc<Counting>, Waker) {
    let counter = Arc::new(Counting {
        wakes: AtomicUsize::new(0),
        thread: thread::current(),
    });
    (counter.clone(), Waker::from(counter))
}

/// Runs `future` to completion on this thread, parking between polls.
/// Returns the output and how many times it was polled.
fn block_on<F: Future>(future: F) -> (F::Output, usize) {
    let (_, waker) = counting();
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    let mut polls = 0;
    loop {
        polls += 1;
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return (out, polls);
        }
        thread::park_timeout(PATIENCE);
    }
}

fn poll_once<F: Future>(future: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(waker))
}

#[test]
fn a_task_receives_from_a_thread_and_a_thread_from_a_task() {
    let (tx, rx) = weir::bounded::<u64, Block>(2);
    let producer = thread::spawn(move || {
        for i in 0..MESSAGES {
            tx.send(i).unwrap();
        }
    });
    let (sum, _) = block_on(async {
        let mut sum = 0;
        while let Ok(v) = rx.recv_async().await {
            sum += v;
        }
        sum
    });
    assert_eq!(sum, MESSAGES * (MESSAGES - 1) / 2);
    producer.join().unwrap();

    let (tx, rx) = weir::bounded::<u64, Block>(2);
    let consumer = thread::spawn(move || rx.iter().collect::<Vec<_>>());
    block_on(async {
        for i in 0..MESSAGES {
            tx.send_async(i).await.unwrap();
        }
    });
    drop(tx);
    assert_eq!(consumer.join().unwrap(), (0..MESSAGES).collect::<Vec<_>>());
}

/// How long a waiter given its wakeup may take; one stranded without it
/// waits out its whole `PATIENCE`.
const QUICK: Duration = Duration::from_secs(3);

#[test]
fn a_notified_then_dropped_future_passes_the_wakeup_to_a_thread() {
    let (tx, rx) = weir::bounded::<u32, Block>(1);
    let (_, waker) = counting();
    let mut first = Box::pin(rx.recv_async());
    assert!(poll_once(first.as_mut(), &waker).is_pending()); // queued first
    let rx2 = rx.clone();
    let (result_tx, result_rx) = std::sync::mpsc::channel();
    thread::spawn(move || result_tx.send(rx2.recv_timeout(PATIENCE)));
    // Let the thread spin out its patience and queue behind the future.
    thread::sleep(Duration::from_millis(300));
    tx.send(7).unwrap(); // the notify goes to the future, queued first
    drop(first); // never polled again: the thread must get the wakeup
    assert_eq!(result_rx.recv_timeout(QUICK), Ok(Ok(7)));
}

#[test]
fn a_notified_then_dropped_future_passes_the_wakeup_to_a_task() {
    let (tx, rx) = weir::bounded::<u32, Block>(1);
    let (_, waker_a) = counting();
    let (counter_b, waker_b) = counting();
    let mut a = Box::pin(rx.recv_async());
    let mut b = Box::pin(rx.recv_async());
    assert!(poll_once(a.as_mut(), &waker_a).is_pending());
    assert!(poll_once(b.as_mut(), &waker_b).is_pending());
    tx.send(1).unwrap(); // wakes a, queued first
    assert_eq!(counter_b.wakes.load(Ordering::SeqCst), 0);
    drop(a);
    assert_eq!(counter_b.wakes.load(Ordering::SeqCst), 1, "a passed it on");
    assert_eq!(poll_once(b.as_mut(), &waker_b), Poll::Ready(Ok(1)));
}

#[test]
fn a_repolled_future_is_woken_through_its_new_waker() {
    let (tx, rx) = weir::bounded::<u32, Block>(1);
    let (old, old_waker) = counting();
    let (new, new_waker) = counting();
    let mut fut = Box::pin(rx.recv_async());
    assert!(poll_once(fut.as_mut(), &old_waker).is_pending());
    assert!(poll_once(fut.as_mut(), &new_waker).is_pending());
    tx.send(5).unwrap();
    assert_eq!(old.wakes.load(Ordering::SeqCst), 0);
    assert_eq!(new.wakes.load(Ordering::SeqCst), 1);
    assert_eq!(poll_once(fut.as_mut(), &new_waker), Poll::Ready(Ok(5)));
}

#[test]
fn tasks_waiting_on_one_side_are_woken_in_fifo_order() {
    let (tx, rx) = weir::bounded::<u32, Block>(1);
    let wakers: Vec<_> = (0..4).map(|_| counting()).collect();
    let mut futs: Vec<_> = (0..4).map(|_| Box::pin(rx.recv_async())).collect();
    for (fut, (_, waker)) in futs.iter_mut().zip(&wakers) {
        assert!(poll_once(fut.as_mut(), waker).is_pending());
    }
    for (i, (counter, waker)) in wakers.iter().enumerate() {
        tx.send(i as u32).unwrap();
        for (j, (other, _)) in wakers.iter().enumerate() {
            let expected = usize::from(j == i);
            assert_eq!(
                other.wakes.load(Ordering::SeqCst),
                expected,
                "send {i}, task {j}"
            );
        }
        assert_eq!(
            poll_once(futs[i].as_mut(), waker),
            Poll::Ready(Ok(i as u32))
        );
        counter.wakes.store(0, Ordering::SeqCst);
    }
}

/// Long enough for a thread to spin out its patience and queue; Miri runs
/// the spinning far more slowly.
const SETTLE: Duration = Duration::from_millis(if cfg!(miri) { 2_000 } else { 300 });

/// Threads and tasks queue on one list: task a, thread 1, task b, thread 2
/// are woken in that order, one per value.
#[test]
fn threads_and_tasks_receiving_are_woken_in_fifo_order() {
    let (tx, rx) = weir::bounded::<u32, Block>(1);
    let (task_a, waker_a) = counting();
    let (task_b, waker_b) = counting();
    let (got_tx, got_rx) = std::sync::mpsc::channel();
    let receiving_thread = |id: u32| {
        let (rx, got) = (rx.clone(), got_tx.clone());
        thread::spawn(move || got.send((id, rx.recv_timeout(PATIENCE))).unwrap())
    };
    let mut a = Box::pin(rx.recv_async());
    assert!(poll_once(a.as_mut(), &waker_a).is_pending());
    let thread_1 = receiving_thread(1);
    thread::sleep(SETTLE);
    let mut b = Box::pin(rx.recv_async());
    assert!(poll_once(b.as_mut(), &waker_b).is_pending());
    let thread_2 = receiving_thread(2);
    thread::sleep(SETTLE);

    tx.send(10).unwrap();
    assert_eq!(task_a.wakes.load(Ordering::SeqCst), 1, "task a first");
    assert_eq!(poll_once(a.as_mut(), &waker_a), Poll::Ready(Ok(10)));
    tx.send(11).unwrap();
    assert_eq!(got_rx.recv_timeout(QUICK), Ok((1, Ok(11))), "thread 1 next");
    assert_eq!(task_b.wakes.load(Ordering::SeqCst), 0);
    tx.send(12).unwrap();
    assert_eq!(task_b.wakes.load(Ordering::SeqCst), 1, "task b next");
    assert!(got_rx.try_recv().is_err(), "thread 2 is still waiting");
    assert_eq!(poll_once(b.as_mut(), &waker_b), Poll::Ready(Ok(12)));
    tx.send(13).unwrap();
    assert_eq!(got_rx.recv_timeout(QUICK), Ok((2, Ok(13))), "thread 2 last");
    thread_1.join().unwrap();
    thread_2.join().unwrap();
}

/// The same on the sending side: senders waiting on a full channel get the
/// slots freed one by one in the order they began to wait.
#[test]
fn threads_and_tasks_sending_are_woken_in_fifo_order() {
    let (tx, rx) = weir::bounded::<u32, Block>(1);
    tx.send(0).unwrap();
    let (task_a, waker_a) = counting();
    let (task_b, waker_b) = counting();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let sending_thread = |id: u32, value: u32| {
        let (tx, done) = (tx.clone(), done_tx.clone());
        thread::spawn(move || done.send((id, tx.send_timeout(value, PATIENCE))).unwrap())
    };
    let mut a = Box::pin(tx.send_async(1));
    assert!(poll_once(a.as_mut(), &waker_a).is_pending());
    let thread_1 = sending_thread(1, 2);
    thread::sleep(SETTLE);
    let mut b = Box::pin(tx.send_async(3));
    assert!(poll_once(b.as_mut(), &waker_b).is_pending());
    let thread_2 = sending_thread(2, 4);
    thread::sleep(SETTLE);

    assert_eq!(rx.recv(), Ok(0));
    assert_eq!(task_a.wakes.load(Ordering::SeqCst), 1, "task a first");
    assert_eq!(poll_once(a.as_mut(), &waker_a), Poll::Ready(Ok(())));
    assert_eq!(rx.recv(), Ok(1));
    assert_eq!(
        done_rx.recv_timeout(QUICK),
        Ok((1, Ok(()))),
        "thread 1 next"
    );
    assert_eq!(task_b.wakes.load(Ordering::SeqCst), 0);
    assert_eq!(rx.recv(), Ok(2));
    assert_eq!(task_b.wakes.load(Ordering::SeqCst), 1, "task b next");
    assert!(done_rx.try_recv().is_err(), "thread 2 is still waiting");
    assert_eq!(poll_once(b.as_mut(), &waker_b), Poll::Ready(Ok(())));
    assert_eq!(rx.recv(), Ok(3));
    assert_eq!(
        done_rx.recv_timeout(QUICK),
        Ok((2, Ok(()))),
        "thread 2 last"
    );
    assert_eq!(rx.recv(), Ok(4));
    thread_1.join().unwrap();
    thread_2.join().unwrap();
}

/// A value that counts its drops in the shared counter it carries.
struct Counted(u32, Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.1.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_dropped_pending_send_never_sends_and_drops_its_value_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = weir::bounded::<Counted, Block>(1);
    tx.send(Counted(0, drops.clone())).unwrap();
    let (_, waker) = counting();
    let mut fut = Box::pin(tx.send_async(Counted(1, drops.clone())));
    assert!(poll_once(fut.as_mut(), &waker).is_pending());
    drop(fut);
    assert_eq!(drops.load(Ordering::SeqCst), 1, "the pending value, once");
    assert_eq!(tx.stats().sent, 1);
    drop(rx.recv().unwrap());
    assert!(rx.try_recv().is_err(), "nothing else was sent");
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

#[test]
fn a_dropped_pending_send_passes_its_wakeup_to_a_blocked_sender() {
    let (tx, rx) = weir::bounded::<u32, Block>(1);
    tx.send(0).unwrap();
    let (_, waker) = counting();
    let mut fut = Box::pin(tx.send_async(1));
    assert!(poll_once(fut.as_mut(), &waker).is_pending());
    let tx2 = tx.clone();
    let (result_tx, result_rx) = std::sync::mpsc::channel();
    thread::spawn(move || result_tx.send(tx2.send_timeout(2, PATIENCE)));
    thread::sleep(Duration::from_millis(300));
    assert_eq!(rx.recv(), Ok(0)); // wakes the future, queued first
    drop(fut);
    assert_eq!(result_rx.recv_timeout(QUICK), Ok(Ok(())));
    assert_eq!(rx.recv_timeout(PATIENCE), Ok(2));
}

#[test]
fn disconnect_wakes_every_waiting_task() {
    let (tx, rx) = weir::bounded::<u32, Block>(1);
    let wakers: Vec<_> = (0..40).map(|_| counting()).collect();
    let mut futs: Vec<_> = (0..40).map(|_| Box::pin(rx.recv_async())).collect();
    for (fut, (_, waker)) in futs.iter_mut().zip(&wakers) {
        assert!(poll_once(fut.as_mut(), waker).is_pending());
    }
    drop(tx);
    for (fut, (counter, waker)) in futs.iter_mut().zip(&wakers) {
        assert_eq!(counter.wakes.load(Ordering::SeqCst), 1);
        assert_eq!(poll_once(fut.as_mut(), waker), Poll::Ready(Err(RecvError)));
    }

    let (tx, rx) = weir::bounded::<u32, Block>(1);
    tx.send(0).unwrap();
    let (counter, waker) = counting();
    let mut fut = Box::pin(tx.send_async(1));
    assert!(poll_once(fut.as_mut(), &waker).is_pending());
    drop(rx);
    assert_eq!(counter.wakes.load(Ordering::SeqCst), 1);
    assert_eq!(
        poll_once(fut.as_mut(), &waker),
        Poll::Ready(Err(SendError(1)))
    );
}

#[test]
fn sixty_four_waiting_tasks_then_sixty_four_values() {
    let (tx, rx) = weir::bounded::<u32, DropOldest>(8);
    let wakers: Vec<_> = (0..64).map(|_| counting()).collect();
    let mut futs: Vec<_> = (0..64).map(|_| Box::pin(rx.recv_async())).collect();
    for (fut, (_, waker)) in futs.iter_mut().zip(&wakers) {
        assert!(poll_once(fut.as_mut(), waker).is_pending());
    }
    let mut got = Vec::new();
    for i in 0..64 {
        assert_eq!(tx.send(i), Ok(None)); // a lossy send wakes a task too
        let (counter, waker) = &wakers[i as usize];
        assert_eq!(counter.wakes.load(Ordering::SeqCst), 1);
        match poll_once(futs[i as usize].as_mut(), waker) {
            Poll::Ready(Ok(v)) => got.push(v),
            other => panic!("task {i}: {other:?}"),
        }
    }
    assert_eq!(got, (0..64).collect::<Vec<_>>());
}

#[test]
fn an_idle_pending_receive_is_not_polled_in_a_loop() {
    let (tx, rx) = weir::bounded::<u32, Block>(4);
    let sender = thread::spawn(move || {
        thread::sleep(Duration::from_secs(1));
        tx.send(1).unwrap();
    });
    let (got, polls) = block_on(rx.recv_async());
    assert_eq!(got, Ok(1));
    assert!(polls <= 4, "polled {polls} times while idle");
    sender.join().unwrap();
}

#[test]
fn mixed_thread_and_task_ends_keep_per_producer_fifo() {
    for cap in [1, 8] {
        const PER_PRODUCER: u64 = 2 * MESSAGES;
        let (tx, rx) = weir::bounded::<(u64, u64), Block>(cap);
        let mut handles = Vec::new();
        for id in 0..2 {
            let tx = tx.clone();
            handles.push(thread::spawn(move || {
                for seq in 0..PER_PRODUCER {
                    if id == 0 {
                        tx.send((id, seq)).unwrap();
                    } else {
                        block_on(tx.send_async((id, seq))).0.unwrap();
                    }
                }
            }));
        }
        drop(tx);
        let mut consumers = Vec::new();
        for kind in 0..2 {
            let rx = rx.clone();
            consumers.push(thread::spawn(move || {
                let mut last = [None::<u64>; 2];
                let mut count = 0u64;
                loop {
                    let next = if kind == 0 {
                        rx.recv_timeout(PATIENCE)
                            .map_err(|e| e == RecvTimeoutError::Timeout)
                    } else {
                        block_on(rx.recv_async()).0.map_err(|_| false)
                    };
                    match next {
                        Ok((id, seq)) => {
                            let prev = last[id as usize].replace(seq);
                            assert!(prev.map_or(true, |p| p < seq), "FIFO of producer {id}");
                            count += 1;
                        }
                        Err(timed_out) => {
                            assert!(!timed_out, "a receiver waited {PATIENCE:?}");
                            return count;
                        }
                    }
                }
            }));
        }
        drop(rx);
        for h in handles {
            h.join().unwrap();
        }
        let total: u64 = consumers.into_iter().map(|c| c.join().unwrap()).sum();
        assert_eq!(total, 2 * PER_PRODUCER, "capacity {cap}");
    }
}

#[cfg(feature = "futures")]
mod streams {
    use super::*;
    use futures_core::stream::{FusedStream, Stream};
    use futures_sink::Sink;

    #[test]
    fn a_stream_yields_every_value_then_ends() {
        let (tx, rx) = weir::bounded::<u32, DropOldest>(4);
        let producer = thread::spawn(move || {
            for i in 0..MESSAGES as u32 {
                tx.send(i).unwrap();
            }
        });
        let mut stream = rx.into_stream();
        let mut got = Vec::new();
        let (_, waker) = counting();
        let mut cx = Context::from_waker(&waker);
        loop {
            match Pin::new(&mut stream).poll_next(&mut cx) {
                Poll::Ready(Some(v)) => got.push(v),
                Poll::Ready(None) => break,
                Poll::Pending => thread::park_timeout(PATIENCE),
            }
        }
        producer.join().unwrap();
        assert!(stream.is_terminated());
        assert_eq!(Pin::new(&mut stream).poll_next(&mut cx), Poll::Ready(None));
        // Evictions may have taken some; what came is in order.
        assert!(got.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(*got.last().unwrap(), MESSAGES as u32 - 1);
    }

    #[test]
    fn a_woken_stream_that_is_dropped_strands_nobody() {
        let (tx, rx) = weir::bounded::<u32, Block>(1);
        let (_, waker) = counting();
        let mut stream = rx.stream();
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut stream).poll_next(&mut cx).is_pending());
        let rx2 = rx.clone();
        let (result_tx, result_rx) = std::sync::mpsc::channel();
        thread::spawn(move || result_tx.send(rx2.recv_timeout(PATIENCE)));
        thread::sleep(Duration::from_millis(300));
        tx.send(3).unwrap(); // wakes the stream, queued first
        drop(stream);
        assert_eq!(result_rx.recv_timeout(QUICK), Ok(Ok(3)));
    }

    #[test]
    fn a_woken_stream_that_is_not_polled_again_strands_nobody() {
        let (tx, rx) = weir::bounded::<u32, Block>(2);
        let (stream_waker, waker) = counting();
        let mut stream = rx.stream();
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut stream).poll_next(&mut cx).is_pending());
        let rx2 = rx.clone();
        let (result_tx, result_rx) = std::sync::mpsc::channel();
        thread::spawn(move || result_tx.send(rx2.recv_timeout(PATIENCE)));
        thread::sleep(Duration::from_millis(300));
        tx.send(1).unwrap(); // wakes the stream, queued first; it is not polled
        assert_eq!(stream_waker.wakes.load(Ordering::SeqCst), 1);
        tx.send(2).unwrap(); // the next wakeup goes to the thread behind it
        let got = result_rx.recv_timeout(QUICK).expect("the thread was woken");
        assert_eq!(got, Ok(1), "the thread takes the oldest value");
        // The stream, polled at last, takes what is left and is not queued
        // any more: a later value wakes nobody through it.
        assert_eq!(
            Pin::new(&mut stream).poll_next(&mut cx),
            Poll::Ready(Some(2))
        );
        tx.send(3).unwrap();
        assert_eq!(stream_waker.wakes.load(Ordering::SeqCst), 1);
        assert_eq!(rx.try_recv(), Ok(3));
    }

    #[test]
    fn a_stream_that_took_a_value_is_no_longer_queued() {
        // A stream queued behind a thread takes a value before the thread
        // wakes (the value was announced to the thread). After that `Ready`
        // the stream must have left the queue: if it stayed, the next value's
        // wakeup would go to the stream, busy with its value, and strand the
        // thread. The stream must win the race for that; retry until it does.
        for _attempt in 0..50 {
            let (tx, rx) = weir::bounded::<u32, Block>(2);
            let (_, waker) = counting();
            let rx2 = rx.clone();
            let (result_tx, result_rx) = std::sync::mpsc::channel();
            thread::spawn(move || {
                let first = rx2.recv_timeout(PATIENCE);
                let _ = result_tx.send(first);
                let _ = result_tx.send(rx2.recv_timeout(PATIENCE));
            });
            thread::sleep(Duration::from_millis(100)); // the thread is queued
            let mut stream = rx.stream();
            let mut cx = Context::from_waker(&waker);
            assert!(Pin::new(&mut stream).poll_next(&mut cx).is_pending());
            // Announced to the thread, queued first. `try_send`, because a
            // blocking `send` would land the value in the waiting thread's
            // place, and the stream could never win.
            tx.try_send(1).unwrap();
            if Pin::new(&mut stream).poll_next(&mut cx) != Poll::Ready(Some(1)) {
                continue; // the thread took it first
            }
            // The thread found nothing and waits again.
            thread::sleep(Duration::from_millis(100));
            tx.send(2).unwrap();
            assert_eq!(
                result_rx.recv_timeout(QUICK),
                Ok(Ok(2)),
                "the thread was stranded behind a stream that had its value"
            );
            drop(stream);
            drop(tx);
            assert!(result_rx.recv_timeout(PATIENCE).unwrap().is_err());
            return;
        }
        panic!("the stream never won the race in 50 attempts");
    }

    #[test]
    fn a_sink_buffers_one_item_and_flushes_it_when_there_is_room() {
        let (tx, rx) = weir::bounded::<u32, Block>(1);
        let (counter, waker) = counting();
        let mut cx = Context::from_waker(&waker);
        let mut sink = tx.sink();
        assert_eq!(Pin::new(&mut sink).poll_ready(&mut cx), Poll::Ready(Ok(())));
        Pin::new(&mut sink).start_send(1).unwrap();
        assert_eq!(Pin::new(&mut sink).poll_flush(&mut cx), Poll::Ready(Ok(())));
        Pin::new(&mut sink).start_send(2).unwrap();
        assert!(Pin::new(&mut sink).poll_ready(&mut cx).is_pending(), "full");
        assert_eq!(rx.recv(), Ok(1));
        assert_eq!(counter.wakes.load(Ordering::SeqCst), 1);
        assert_eq!(Pin::new(&mut sink).poll_close(&mut cx), Poll::Ready(Ok(())));
        assert_eq!(rx.recv(), Ok(2));
        // An item buffered when every receiver is gone comes back in the error.
        Pin::new(&mut sink).start_send(3).unwrap();
        drop(rx);
        assert_eq!(
            Pin::new(&mut sink).poll_flush(&mut cx),
            Poll::Ready(Err(SendError(3)))
        );
    }

    /// The item a sink still buffers when it is dropped is dropped with it,
    /// once, and never sent; a sink woken for room it never used passes the
    /// wakeup to the sender queued behind it.
    #[test]
    fn a_dropped_sink_drops_its_buffered_item_and_passes_its_wakeup_on() {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = weir::bounded::<Counted, Block>(1);
        tx.send(Counted(0, drops.clone())).unwrap();
        let (_, waker) = counting();
        let mut cx = Context::from_waker(&waker);
        let mut sink = tx.sink();
        assert!(matches!(
            Pin::new(&mut sink).poll_ready(&mut cx),
            Poll::Ready(Ok(()))
        ));
        Pin::new(&mut sink)
            .start_send(Counted(1, drops.clone()))
            .unwrap();
        assert!(Pin::new(&mut sink).poll_flush(&mut cx).is_pending(), "full");
        let tx2 = tx.clone();
        let item = Counted(2, drops.clone());
        let (result_tx, result_rx) = std::sync::mpsc::channel();
        thread::spawn(move || result_tx.send(tx2.send_timeout(item, PATIENCE).is_ok()));
        thread::sleep(SETTLE);
        assert_eq!(rx.recv().unwrap().0, 0); // wakes the sink, queued first
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        drop(sink);
        assert_eq!(drops.load(Ordering::SeqCst), 2, "the buffered item, once");
        assert_eq!(result_rx.recv_timeout(QUICK), Ok(true), "the thread sent");
        assert_eq!(rx.recv().unwrap().0, 2, "and the sink's item never was");
        assert!(rx.try_recv().is_err());
        assert_eq!(tx.stats().sent, 2);
        assert_eq!(drops.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn stream_and_sink_are_unpin_and_send() {
        fn check<X: Unpin + Send>(_: &X) {}
        let (tx, rx) = weir::bounded::<std::cell::Cell<u8>, Block>(1);
        check(&rx.stream());
        check(&tx.sink());
        check(&tx.into_sink());
        check(&rx.into_stream());
    }
}
