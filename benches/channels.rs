//! Criterion benches of weir against crossbeam-channel, std, flume and kanal.
//!
//! One macro stamps the same body per implementation; each bench runs the
//! workload once with its checks before criterion starts timing, and
//! `iter_custom` times only the transfer (threads meet at a `Barrier`, see
//! `common`). `cargo bench --bench channels -- spsc`, in `benches/`, runs one
//! group.

mod common;

use std::time::Duration;

use common::*;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};

type Group<'a> = BenchmarkGroup<'a, criterion::measurement::WallTime>;

fn group<'a>(c: &'a mut Criterion, name: &str, elements: usize) -> Group<'a> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .throughput(Throughput::Elements(elements as u64));
    g
}

/// Stamps one bench per implementation: check once, then time `iters` runs.
macro_rules! per_peer {
    ($g:expr, [$($peer:ty),*], |$p:ident| $run:expr) => {
        $({
            type $p = $peer;
            let check: Option<Duration> = $run;
            if check.is_some() {
                $g.bench_function(<$peer as Peer>::NAME, |b| {
                    b.iter_custom(|iters| (0..iters).map(|_| $run.unwrap()).sum())
                });
            }
        })*
    };
}

macro_rules! all_peers {
    ($g:expr, |$p:ident| $run:expr) => {
        per_peer!($g, [Weir, Crossbeam, Std, Flume, Kanal], |$p| $run)
    };
}

fn bench_seq(c: &mut Criterion) {
    for cap in [1, 1024] {
        let n = 1 << 16;
        let mut g = group(c, &format!("seq/cap{cap}"), n);
        all_peers!(g, |P| Some(seq::<P>(cap, n)));
        seq_array_queue(cap, n);
        g.bench_function("ArrayQueue", |b| {
            b.iter_custom(|iters| (0..iters).map(|_| seq_array_queue(cap, n)).sum())
        });
        seq_vecdeque(cap, n);
        g.bench_function("VecDeque", |b| {
            b.iter_custom(|iters| (0..iters).map(|_| seq_vecdeque(cap, n)).sum())
        });
        g.finish();
    }
}

fn bench_threads(c: &mut Criterion) {
    for (name, p, cons) in [
        ("spsc", 1, 1),
        ("mpsc", 4, 1),
        ("spmc", 1, 4),
        ("mpmc", 4, 4),
    ] {
        for cap in [1, 1024] {
            let n = if cap == 1 { 1 << 14 } else { 1 << 16 };
            let mut g = group(c, &format!("{name}/cap{cap}"), n);
            all_peers!(g, |P| threads::<P>(cap, p, cons, n));
            g.finish();
        }
    }
}

fn bench_ping_pong(c: &mut Criterion) {
    let trips = 1 << 12;
    let mut g = group(c, "ping-pong", trips);
    all_peers!(g, |P| Some(ping_pong::<P>(trips)));
    g.finish();
}

fn bench_lossy(c: &mut Criterion) {
    let (cap, producers, per, work) = (64, 2, 1 << 14, 40);
    for (name, which) in [("drop-oldest", 0), ("drop-newest", 1)] {
        let mut g = group(c, &format!("{name}/cap{cap}"), producers * per);
        macro_rules! lossy_bench {
            ($l:ty) => {{
                let run = lossy::<$l>(cap, producers, per, work);
                eprintln!(
                    "{}: consumer share {:.1}%",
                    <$l as Lossy>::NAME,
                    run.share() * 100.0
                );
                g.bench_function(<$l as Lossy>::NAME, |b| {
                    b.iter_custom(|iters| {
                        (0..iters)
                            .map(|_| lossy::<$l>(cap, producers, per, work).producer_time)
                            .sum()
                    })
                });
            }};
        }
        if which == 0 {
            lossy_bench!(WeirDropOldest);
            lossy_bench!(ArrayQueueForcePush);
        } else {
            lossy_bench!(WeirDropNewest);
            lossy_bench!(CrossbeamTrySend);
        }
        g.finish();
    }
}

criterion_group!(
    benches,
    bench_seq,
    bench_threads,
    bench_ping_pong,
    bench_lossy
);
criterion_main!(benches);
