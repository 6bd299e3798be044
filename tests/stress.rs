//! Multi-producer multi-consumer stress on every policy.
//!
//! Every value carries `(producer, seq)` and counts its drops. Each run checks
//! the accounting invariant — every value sent is received or handed back
//! exactly once, and dropped exactly once — and FIFO order per producer as
//! seen by each consumer.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use weir::{Block, DropNewest, DropOldest, Policy, Sample, SendOutcome};

/// A message that knows where it came from and counts its drops.
#[derive(Debug)]
struct Msg {
    producer: usize,
    seq: usize,
    drops: Arc<AtomicUsize>,
}

impl Drop for Msg {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::Relaxed);
    }
}

fn per_producer() -> usize {
    if cfg!(miri) {
        30
    } else {
        20_000
    }
}

/// Runs `producers` senders and `consumers` receivers over one channel and
/// checks everything that can be checked about where each value went.
fn stress<P: Policy>(capacity: usize, producers: usize, consumers: usize) {
    let n = per_producer();
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = weir::Builder::new(capacity)
        .sample_rate(3)
        .build::<Msg, P>()
        .unwrap();

    let senders: Vec<_> = (0..producers)
        .map(|producer| {
            let tx = tx.clone();
            let drops = drops.clone();
            thread::spawn(move || {
                let mut handed_back = Vec::new();
                for seq in 0..n {
                    let msg = Msg {
                        producer,
                        seq,
                        drops: drops.clone(),
                    };
                    if let Some(back) = tx.send(msg).handed_back() {
                        handed_back.push((back.producer, back.seq));
                    }
                }
                handed_back
            })
        })
        .collect();
    drop(tx);

    let receivers: Vec<_> = (0..consumers)
        .map(|_| {
            let rx = rx.clone();
            thread::spawn(move || {
                let mut last = vec![None::<usize>; producers];
                let mut got = Vec::new();
                while let Ok(msg) = rx.recv() {
                    let prev = last[msg.producer].replace(msg.seq);
                    assert!(
                        prev.map_or(true, |p| p < msg.seq),
                        "producer {} out of order at a consumer: {:?} then {}",
                        msg.producer,
                        prev,
                        msg.seq
                    );
                    got.push((msg.producer, msg.seq));
                }
                got
            })
        })
        .collect();

    let handed_back: Vec<(usize, usize)> = senders
        .into_iter()
        .flat_map(|s| s.join().unwrap())
        .collect();
    let received: Vec<(usize, usize)> = receivers
        .into_iter()
        .flat_map(|r| r.join().unwrap())
        .collect();

    let sent = producers * n;
    let mut seen = HashSet::with_capacity(sent);
    for id in received.iter().chain(&handed_back) {
        assert!(seen.insert(*id), "{id:?} delivered or handed back twice");
    }
    assert_eq!(
        seen.len(),
        sent,
        "received {} + handed back {} != sent {sent}",
        received.len(),
        handed_back.len()
    );
    let stats = rx.stats();
    assert_eq!(stats.received as usize, received.len());
    assert_eq!(stats.handed_back() as usize, handed_back.len());
    assert_eq!(stats.sent, stats.received + stats.evicted);
    drop(rx);
    assert_eq!(
        drops.load(Ordering::Relaxed),
        sent,
        "every value dropped once"
    );
}

macro_rules! stress_tests {
    ($($name:ident: $policy:ty, $cap:expr, $p:expr, $c:expr;)*) => {$(
        #[test]
        fn $name() {
            stress::<$policy>($cap, $p, $c);
        }
    )*};
}

stress_tests! {
    block_4p4c_cap1: Block, 1, 4, 4;
    block_4p4c_cap2: Block, 2, 4, 4;
    block_4p4c_cap7: Block, 7, 4, 4;
    block_4p1c_cap64: Block, 64, 4, 1;
    block_1p4c_cap64: Block, 64, 1, 4;
    drop_oldest_4p4c_cap1: DropOldest, 1, 4, 4;
    drop_oldest_4p4c_cap7: DropOldest, 7, 4, 4;
    drop_oldest_4p1c_cap64: DropOldest, 64, 4, 1;
    drop_newest_4p4c_cap1: DropNewest, 1, 4, 4;
    drop_newest_4p4c_cap7: DropNewest, 7, 4, 4;
    drop_newest_4p1c_cap64: DropNewest, 64, 4, 1;
    sample_4p4c_cap2: Sample, 2, 4, 4;
    sample_4p4c_cap7: Sample, 7, 4, 4;
    sample_4p1c_cap64: Sample, 64, 4, 1;
}

/// Consumers leave while producers still send: what was queued is discarded
/// when the last receiver goes, later sends come back as disconnected, and
/// every value is still dropped exactly once.
fn consumers_leave_early<P: Policy>() {
    let n = per_producer();
    let drops = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = weir::bounded::<Msg, P>(8);
    let senders: Vec<_> = (0..2)
        .map(|producer| {
            let tx = tx.clone();
            let drops = drops.clone();
            let finished = finished.clone();
            thread::spawn(move || {
                let mut back = 0;
                for seq in 0..n {
                    let msg = Msg {
                        producer,
                        seq,
                        drops: drops.clone(),
                    };
                    let outcome = tx.send(msg);
                    let disconnected = outcome.is_disconnected();
                    back += usize::from(outcome.handed_back().is_some());
                    if disconnected {
                        break;
                    }
                }
                finished.fetch_add(1, Ordering::Release);
                back
            })
        })
        .collect();
    // Consumers stop after a quarter of the values, or once the producers
    // are done and nothing is left (lossy producers may finish first; the
    // sender kept below for the statistics keeps the channel connected).
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let rx = rx.clone();
            let finished = finished.clone();
            thread::spawn(move || {
                let mut count = 0;
                while count < n / 4 {
                    match rx.recv_timeout(Duration::from_millis(5)) {
                        Ok(_) => count += 1,
                        Err(_) if finished.load(Ordering::Acquire) == 2 && rx.is_empty() => break,
                        Err(_) => {}
                    }
                }
                count
            })
        })
        .collect();
    let received: usize = consumers.into_iter().map(|c| c.join().unwrap()).sum();
    let stats_before_leaving = rx.stats();
    drop(rx);
    let handed_back: usize = senders.into_iter().map(|s| s.join().unwrap()).sum();
    let stats = tx.stats();
    assert!(tx.is_disconnected());
    assert_eq!(stats.received as usize, received);
    assert!(stats.received >= stats_before_leaving.received);
    // Every value that entered the ring was received, evicted or discarded.
    assert_eq!(stats.sent, stats.received + stats.evicted + stats.discarded);
    let sent_attempts = drops.load(Ordering::Relaxed);
    assert_eq!(
        sent_attempts,
        received + handed_back + stats.discarded as usize,
        "every value created is accounted for and dropped once"
    );
    drop(tx);
    assert_eq!(drops.load(Ordering::Relaxed), sent_attempts);
}

#[test]
fn block_consumers_leave_early() {
    consumers_leave_early::<Block>();
}

#[test]
fn drop_oldest_consumers_leave_early() {
    consumers_leave_early::<DropOldest>();
}

#[test]
fn drop_newest_consumers_leave_early() {
    consumers_leave_early::<DropNewest>();
}

#[test]
fn sample_consumers_leave_early() {
    consumers_leave_early::<Sample>();
}

/// Zero-sized values go through every path: nothing to store, but the
/// counts and the order of operations still hold.
#[test]
fn zero_sized_values() {
    let n = per_producer();
    let (tx, rx) = weir::bounded::<(), Block>(3);
    let producers: Vec<_> = (0..3)
        .map(|_| {
            let tx = tx.clone();
            thread::spawn(move || {
                for _ in 0..n {
                    tx.send(()).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let count = rx.iter().count();
    for p in producers {
        p.join().unwrap();
    }
    assert_eq!(count, 3 * n);

    let (tx, rx) = weir::bounded::<(), DropOldest>(2);
    let evicted = (0..10).filter(|_| tx.send(()).unwrap().is_some()).count();
    assert_eq!((evicted, rx.len()), (8, 2));
}

/// Boxed values: heap memory moves through the ring and is freed exactly once
/// (Miri and the drop counts would see a double free or a leak).
#[test]
fn boxed_values_through_eviction() {
    let n = per_producer();
    let (tx, rx) = weir::bounded::<Box<usize>, DropOldest>(4);
    let producer = thread::spawn(move || {
        let mut evicted = 0usize;
        for i in 0..n {
            if let Some(old) = tx.send(Box::new(i)).unwrap() {
                assert!(*old < i);
                evicted += 1;
            }
        }
        evicted
    });
    let mut received = 0;
    let mut last = None;
    loop {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(v) => {
                assert!(last.map_or(true, |l| l < *v));
                last = Some(*v);
                received += 1;
            }
            Err(weir::RecvTimeoutError::Disconnected) => break,
            Err(weir::RecvTimeoutError::Timeout) => panic!("producer stalled"),
        }
    }
    let evicted = producer.join().unwrap();
    assert_eq!(received + evicted, n);
}
