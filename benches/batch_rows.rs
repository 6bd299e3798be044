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
/// (`send_batch` of 64, `recv_batch`). Checks per-producer order and the
/// count. A value carries its producer in its low bits, so the check costs
/// a mask and a compare: a division per value (as in `v / per`) would make
/// the consumer's own bookkeeping the bound of both rows.
fn mpsc(cap: usize, producers: usize, n: usize, batches: bool) -> Duration {
    let per = n / producers;
    let shift = producers.next_power_of_two().trailing_zeros();
    let tag = move |p: usize, i: usize| (i << shift) | p;
    let (tx, rx) = weir::bounded::<usize, weir::Block>(cap);
    let barrier = Arc::new(Barrier::new(producers + 1));
    let handles: Vec<_> = (0..producers)
        .map(|p| {
            let (tx, barrier) = (tx.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                if batches {
                    let mut i = 0;
                    while i < per {
                        let end = (i + BATCH).min(per);
                        tx.send_batch((i..end).map(|i| tag(p, i))).unwrap();
                        i = end;
                    }
                } else {
                    for i in 0..per {
                        tx.send(tag(p, i)).unwrap();
                    }
                }
            })
        })
        .collect();
    drop(tx);
    barrier.wait();
    let start = Instant::now();
    let mask = (1 << shift) - 1;
    let mut next = vec![0usize; 1 << shift];
    let mut count = 0;
    let mut check = |v: usize| {
        let p = v & mask;
        assert_eq!(v >> shift, next[p], "out of order");
        next[p] += 1;
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
