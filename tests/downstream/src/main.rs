//! Uses weir as a dependent crate would: threads on channels of each
//! policy, a consumer that takes a `Receiver<T>` of any policy, the
//! pressure reading, `Stats` differences, the channel's state published as
//! JSON through the `serde` feature, `recv_async` and `send_async` between
//! a task and a thread, and `weir::mpsc` in place of std's.
//! Every step checks what it got; any mismatch panics.

use std::thread;

use serde::{Deserialize, Serialize};
use weir::{Block, DropNewest, DropOldest, Pressure, Receiver, Sample, SendOutcome, Sender, Stats};

/// A consumer written once for the receiver of any policy.
fn consume(rx: Receiver<u64>) -> (u64, u64) {
    let mut count = 0;
    let mut sum = 0;
    for value in rx {
        count += 1;
        sum += value;
    }
    (count, sum)
}

/// A producer generic over the policy: what was not kept comes back.
fn produce<P: weir::Policy>(tx: &Sender<u64, P>, n: u64) -> u64 {
    (0..n)
        .filter(|&i| tx.send(i).handed_back().is_some())
        .count() as u64
}

/// What a service might publish about its channel.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct FlowControl {
    pressure: Pressure,
    utilization: f64,
    stats: Stats,
}

/// One producer and one consumer thread on a channel of policy `P`;
/// returns what the channel counted.
fn run<P: weir::Policy>(n: u64) -> Stats {
    let (tx, rx) = weir::bounded::<u64, P>(64);
    let observer = rx.clone();
    let consumer = thread::spawn(move || consume(rx));
    let handed_back = produce(&tx, n);
    drop(tx);
    let (received, _) = consumer.join().unwrap();
    let stats = observer.stats();
    assert_eq!(stats.received, received, "{}", P::NAME);
    assert_eq!(
        received + handed_back,
        n,
        "{}: every value accounted for",
        P::NAME
    );
    // Evicted values were sent, then handed back; the rest never entered.
    assert_eq!(
        stats.sent + stats.refused + stats.sampled_out,
        n,
        "{}",
        P::NAME
    );
    assert_eq!(stats.received + stats.evicted, stats.sent, "{}", P::NAME);
    stats
}

fn main() {
    let n = 20_000;
    let block = run::<Block>(n);
    assert_eq!((block.sent, block.handed_back()), (n, 0));
    assert_eq!(run::<DropOldest>(n).refused, 0);
    assert_eq!(run::<DropNewest>(n).evicted, 0);
    assert_eq!(run::<Sample>(n).evicted, 0);

    // Pressure, stats differences and their JSON form.
    let (tx, rx) = weir::bounded::<u64, DropNewest>(4);
    let before = rx.stats();
    for i in 0..7 {
        let _ = tx.send(i);
    }
    let delta = rx.stats() - before;
    assert_eq!((delta.sent, delta.refused), (4, 3));
    let state = FlowControl {
        pressure: rx.pressure(),
        utilization: rx.utilization(),
        stats: rx.stats(),
    };
    assert_eq!(state.pressure, Pressure::Full);
    let json = serde_json::to_string(&state).unwrap();
    assert_eq!(
        json,
        r#"{"pressure":"Full","utilization":1.0,"stats":{"sent":4,"received":0,"evicted":0,"refused":3,"sampled_out":0,"discarded":0}}"#
    );
    let back: FlowControl = serde_json::from_str(&json).unwrap();
    assert_eq!(back, state);
    assert_eq!(
        serde_json::from_str::<Pressure>(r#""Draining""#).unwrap(),
        Pressure::Draining
    );
    assert!(serde_json::from_str::<Pressure>(r#""Overflowing""#).is_err());

    // weir::mpsc where std::sync::mpsc was.
    let (tx, rx) = weir::mpsc::sync_channel::<u64>(8);
    let producer = thread::spawn(move || (0..1000).for_each(|i| tx.send(i).unwrap()));
    assert_eq!(rx.iter().sum::<u64>(), 499_500);
    producer.join().unwrap();

    // A task on a minimal executor sends to a thread, which answers.
    let (to_thread, from_task) = weir::bounded::<u64, Block>(1);
    let (to_task, from_thread) = weir::bounded::<u64, DropOldest>(1);
    let echo = thread::spawn(move || {
        for value in from_task {
            to_task.send(value * 2).unwrap();
        }
    });
    let total = block_on(async move {
        let mut total = 0;
        for i in 0..1000 {
            to_thread.send_async(i).await.unwrap();
            total += from_thread.recv_async().await.unwrap();
        }
        total
    });
    assert_eq!(total, 999_000);
    echo.join().unwrap();

    println!("weir downstream check passed: {json}");
}

/// Polls `future` to completion, parking the thread between polls.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    struct Unpark(thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::sync::Arc::new(Unpark(thread::current())).into();
    let mut cx = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        thread::park();
    }
}
