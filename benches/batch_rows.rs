//! Batch rows (`COMPARE_ONLY=batch`): weir's batch calls against its own
//! per-value calls, side by side in one run, rounds interleaved. Each value
//! still goes through the ring; a batch claims its run of slots with one CAS.

use std::collections::VecDeque;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

/// Values per batch.
pub const BATCH: usize = 64;

/// One value at a time: `send` a ring's worth, then `recv` it, as `seq`.
fn seq_items(cap: usize, n: usize) -> Duration {
    let (tx, rx) = weir::bounded::<usize, weir::Block>(cap);
    let start = Instant::now();
    let (mut next, mut expect) = (0, 0);
    while next < n {
        let chunk = cap.min(n - next);
        for _ in 0..chunk {
            tx.send(next).unwrap();
            next += 1;
        }
        for _ in 0..chunk {
            assert_eq!(rx.recv(), Ok(expect), "seq out of order");
            expect += 1;
        }
    }
    let elapsed = start.elapsed();
    assert_eq!(expect, n);
    elapsed
}

/// The same work in batches: `try_send_batch` from a `VecDeque` the
/// producer refills, `try_recv_batch` into a `Vec` the consumer empties.
fn seq_batches(cap: usize, n: usize) -> Duration {
    let (tx, rx) = weir::bounded::<usize, weir::Block>(cap);
    let mut out: VecDeque<usize> = VecDeque::with_capacity(BATCH);
    let mut got: Vec<usize> = Vec::with_capacity(BATCH);
    let start = Instant::now();
    let (mut next, mut expect) = (0, 0);
    while next < n {
        let chunk = cap.min(n - next);
        let mut queued = 0;
        while queued < chunk {
            let b = BATCH.min(chunk - queued);
            out.extend(next..next + b);
            assert_eq!(tx.try_send_batch(&mut out), Ok(b), "room for the batch");
            next += b;
            queued += b;
        }
        let mut taken = 0;
        while taken < chunk {
            got.clear();
            let k = rx.try_recv_batch(&mut got, BATCH.min(chunk - taken));
            assert!(k > 0, "values were queued");
            for &v in &got {
                assert_eq!(v, expect, "seq out of order");
                expect += 1;
            }
            taken += k;
        }
    }
    let elapsed = start.elapsed();
    assert_eq!(expect, n);
    elapsed
}

/// Producers and one consumer; per value (`send`, `recv`) or in batches
/// (`send_batch` of a range, `recv_batch`). Checks per-producer order and
/// the count.
fn mpsc(cap: usize, producers: usize, n: usize, batches: bool) -> Duration {
    let per = n / producers;
    let (tx, rx) = weir::bounded::<usize, weir::Block>(cap);
    let barrier = Arc::new(Barrier::new(producers + 1));
    let handles: Vec<_> = (0..producers)
        .map(|p| {
            let (tx, barrier) = (tx.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                let (from, to) = (p * per, (p + 1) * per);
                if batches {
                    let mut v = from;
                    while v < to {
                        let end = (v + BATCH).min(to);
                        tx.send_batch(v..end).unwrap();
                        v = end;
                    }
                } else {
                    for v in from..to {
                        tx.send(v).unwrap();
                    }
                }
            })
        })
        .collect();
    drop(tx);
    barrier.wait();
    let start = Instant::now();
    let mut last = vec![usize::MAX; producers];
    let mut count = 0;
    let mut check = |v: usize| {
        let p = v / per;
        assert!(last[p] == usize::MAX || last[p] < v, "out of order");
        last[p] = v;
        count += 1;
    };
    if batches {
        let mut got = Vec::with_capacity(BATCH);
        while rx.recv_batch(&mut got, BATCH).is_ok() {
            got.drain(..).for_each(&mut check);
        }
    } else {
        while let Ok(v) = rx.recv() {
            check(v);
        }
    }
    let elapsed = start.elapsed();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(count, per * producers);
    elapsed
}

/// One run of a row, returning M msg/s.
pub type Run = Box<dyn Fn() -> f64>;

/// The rows: label, per-value run, batch run.
pub fn rows(k: impl Fn(usize) -> usize) -> Vec<(String, Run, Run)> {
    let rate = |n: usize, d: Duration| n as f64 / d.as_secs_f64().max(1e-9) / 1e6;
    let n_seq = k(1 << 21);
    let n_mpsc = k(1 << 20);
    vec![
        (
            "seq cap 1024".to_string(),
            Box::new(move || rate(n_seq, seq_items(1024, n_seq))),
            Box::new(move || rate(n_seq, seq_batches(1024, n_seq))),
        ),
        (
            "mpsc 4:1 cap 1024".to_string(),
            Box::new(move || rate(n_mpsc / 4 * 4, mpsc(1024, 4, n_mpsc, false))),
            Box::new(move || rate(n_mpsc / 4 * 4, mpsc(1024, 4, n_mpsc, true))),
        ),
    ]
}
