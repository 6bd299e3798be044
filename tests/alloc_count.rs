//! Allocation counts, in a test binary of its own because it installs a
//! counting global allocator: one allocation when a channel is made, none per
//! message, whatever the policy.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::thread;

use weir::{Block, DropNewest, DropOldest, Policy, Sample, SendOutcome};

struct Counting;

thread_local! {
    /// Only allocations made by the thread under test are counted, so the
    /// test harness's own threads do not disturb the figures.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    /// Kept per thread too: tests run side by side, and a shared count would
    /// add one test's allocations to another's whenever they overlap (they
    /// do under ThreadSanitizer and Miri, which slow every test down).
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards every call to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Counts the allocations `f` makes on this thread.
fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.with(Cell::get) - before
}

fn one_allocation_per_channel<P: Policy>() {
    let n = allocations(|| {
        let (tx, rx) = weir::bounded::<u64, P>(1000);
        let (tx2, rx2) = (tx.clone(), rx.clone());
        drop((tx, rx, tx2, rx2));
    });
    assert_eq!(
        n,
        1,
        "{}: allocations to make, clone and drop a channel",
        P::NAME
    );
}

fn no_allocation_per_message<P: Policy>() {
    let (tx, rx) = weir::bounded::<u64, P>(64);
    let n = allocations(|| {
        let n = if cfg!(miri) { 300 } else { 10_000u64 };
        for i in 0..n {
            // Make room first: a `Block` send on a full channel would wait
            // for a receiver this single thread cannot be.
            while tx.is_full() {
                let _ = rx.try_recv();
            }
            let _ = tx.send(i).handed_back();
            if i % 3 == 0 {
                let _ = rx.try_recv();
            }
            let _ = tx.try_send(i);
        }
        while rx.try_recv().is_ok() {}
        let _ = (tx.len(), tx.pressure(), tx.stats(), rx.utilization());
    });
    assert_eq!(n, 0, "{}: allocations per message", P::NAME);
}

#[test]
fn block_allocates_once() {
    one_allocation_per_channel::<Block>();
    no_allocation_per_message::<Block>();
}

#[test]
fn drop_oldest_allocates_once() {
    one_allocation_per_channel::<DropOldest>();
    no_allocation_per_message::<DropOldest>();
}

#[test]
fn drop_newest_allocates_once() {
    one_allocation_per_channel::<DropNewest>();
    no_allocation_per_message::<DropNewest>();
}

#[test]
fn sample_allocates_once() {
    one_allocation_per_channel::<Sample>();
    no_allocation_per_message::<Sample>();
}

/// Waiting and waking allocate nothing per message either, once each thread
/// has parked once: the parking lot makes per-thread data (and may grow its
/// table) the first time a thread parks, which is not a per-message cost.
#[test]
fn blocking_handoffs_allocate_nothing_after_warm_up() {
    use std::time::Duration;
    // Long enough that a waiter runs out of yields and parks; Miri runs the
    // spinning and yielding far more slowly, so it needs longer.
    let pause = Duration::from_millis(if cfg!(miri) { 1_000 } else { 50 });
    let total: u64 = if cfg!(miri) { 300 } else { 5_000 };
    let (tx, rx) = weir::bounded::<u64, Block>(1);
    let consumer = thread::spawn(move || {
        // Warm-up 1: the channel is empty until the producer's pause ends,
        // so this receive parks.
        let mut sum = rx.recv().unwrap();
        // Warm-up 2: stay away while the producer finds the channel full,
        // so its send parks.
        thread::sleep(pause);
        sum += rx.recv().unwrap();
        let n = allocations(|| {
            while let Ok(v) = rx.recv() {
                sum += v;
            }
        });
        (sum, n)
    });
    thread::sleep(pause);
    tx.send(0).unwrap();
    tx.send(1).unwrap();
    tx.send(2).unwrap(); // waits for the consumer's second receive
    let n = allocations(|| {
        for i in 3..total {
            tx.send(i).unwrap();
        }
    });
    drop(tx);
    let (sum, consumer_allocations) = consumer.join().unwrap();
    assert_eq!(sum, (0..total).sum::<u64>());
    assert_eq!((n, consumer_allocations), (0, 0));
}

/// A waker that does nothing, made before counting starts (`Waker::noop`
/// needs a newer compiler than the library's minimum).
fn idle_waker() -> std::task::Waker {
    struct Idle;
    impl std::task::Wake for Idle {
        fn wake(self: std::sync::Arc<Self>) {}
    }
    std::task::Waker::from(std::sync::Arc::new(Idle))
}

#[test]
fn no_allocation_per_async_wait() {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll};

    let waker = idle_waker();
    let mut cx = Context::from_waker(&waker);
    let (tx, rx) = weir::bounded::<u64, Block>(1);
    let cycles = if cfg!(miri) { 50 } else { 5_000u64 };
    let n = allocations(|| {
        for i in 0..cycles {
            // A receive that waits, is woken by a send and completes.
            let mut recv = pin!(rx.recv_async());
            assert!(recv.as_mut().poll(&mut cx).is_pending());
            tx.send(i).unwrap();
            assert_eq!(recv.as_mut().poll(&mut cx), Poll::Ready(Ok(i)));
            // A send that waits on a full channel, is woken by a receive
            // and completes.
            tx.send(i).unwrap();
            let mut send = pin!(tx.send_async(i + 1));
            assert!(send.as_mut().poll(&mut cx).is_pending());
            assert_eq!(rx.recv(), Ok(i));
            assert_eq!(send.as_mut().poll(&mut cx), Poll::Ready(Ok(())));
            assert_eq!(rx.recv(), Ok(i + 1));
        }
    });
    assert_eq!(
        n, 0,
        "allocations over {cycles} Pending -> wake cycles each way"
    );
}

#[test]
fn no_allocation_per_async_batch_or_relief_wait() {
    use std::collections::VecDeque;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll};

    let waker = idle_waker();
    let mut cx = Context::from_waker(&waker);
    let (tx, rx) = weir::Builder::new(4)
        .watermarks(0.5, 0.75)
        .build::<u64, Block>()
        .unwrap();
    // Room made before counting: the batches themselves never grow.
    let mut batch = Vec::with_capacity(4);
    let mut values = VecDeque::with_capacity(8);
    let cycles = if cfg!(miri) { 50 } else { 5_000u64 };
    let n = allocations(|| {
        for i in 0..cycles {
            // A batch receive that waits on an empty channel, is woken by a
            // send and completes.
            batch.clear();
            let mut recv = pin!(rx.recv_batch_async(&mut batch, 4));
            assert!(recv.as_mut().poll(&mut cx).is_pending());
            tx.send(i).unwrap();
            assert_eq!(recv.as_mut().poll(&mut cx), Poll::Ready(Ok(1)));
            // A batch send that fills the channel, waits, is woken by a
            // receive and sends the rest.
            values.extend([i, i + 1, i + 2, i + 3, i + 4]);
            let mut send = pin!(tx.send_batch_async(&mut values));
            assert!(send.as_mut().poll(&mut cx).is_pending());
            assert_eq!(rx.recv(), Ok(i));
            assert_eq!(send.as_mut().poll(&mut cx), Poll::Ready(Ok(())));
            // A wait for relief: 4 queued, pending until fewer than 2 are.
            let mut relief = pin!(tx.wait_normal_async());
            assert!(relief.as_mut().poll(&mut cx).is_pending());
            for k in 1..4 {
                assert_eq!(rx.recv(), Ok(i + k));
            }
            assert_eq!(relief.as_mut().poll(&mut cx), Poll::Ready(Ok(())));
            assert_eq!(rx.recv(), Ok(i + 4));
        }
    });
    assert_eq!(
        n, 0,
        "allocations over {cycles} Pending -> wake cycles of each kind"
    );
}

/// A stream or a sink allocates its waiter record once, when it is made, and
/// nothing per wait after that.
#[cfg(feature = "futures")]
#[test]
fn a_stream_or_sink_allocates_once_and_never_per_wait() {
    use futures_util::{Sink, Stream};
    use std::pin::Pin;
    use std::task::{Context, Poll};

    let waker = idle_waker();
    let mut cx = Context::from_waker(&waker);
    let (tx, rx) = weir::bounded::<u64, Block>(1);
    let mut stream = None;
    let mut sink = None;
    assert_eq!(allocations(|| stream = Some(rx.stream())), 1, "stream()");
    assert_eq!(allocations(|| sink = Some(tx.sink())), 1, "sink()");
    let (mut stream, mut sink) = (stream.unwrap(), sink.unwrap());
    let cycles = if cfg!(miri) { 50 } else { 5_000u64 };
    let n = allocations(|| {
        for i in 0..cycles {
            assert!(Pin::new(&mut stream).poll_next(&mut cx).is_pending());
            tx.send(i).unwrap(); // fills the channel
            assert_eq!(
                Pin::new(&mut stream).poll_next(&mut cx),
                Poll::Ready(Some(i))
            );
            tx.send(i).unwrap();
            // The sink's item waits for the room a receive makes.
            assert!(matches!(
                Pin::new(&mut sink).poll_ready(&mut cx),
                Poll::Ready(Ok(()))
            ));
            Pin::new(&mut sink).start_send(i + 1).unwrap();
            assert!(Pin::new(&mut sink).poll_flush(&mut cx).is_pending());
            assert_eq!(rx.recv(), Ok(i));
            assert!(matches!(
                Pin::new(&mut sink).poll_flush(&mut cx),
                Poll::Ready(Ok(()))
            ));
            assert_eq!(rx.recv(), Ok(i + 1));
        }
    });
    assert_eq!(
        n, 0,
        "allocations over {cycles} Pending -> wake cycles each way"
    );
}
