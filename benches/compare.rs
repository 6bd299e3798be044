//! A one-command summary: `cargo bench --bench compare`, run in `benches/`.
//!
//! Runs every workload on every peer interleaved (A B C A B C ...; the order
//! rotates each round), several rounds, and reports medians: messages per
//! second and the median of the per-round ratios to crossbeam-channel, so a
//! noisy moment hits all peers of one round alike. Prints a markdown table and
//! writes it, with an SVG chart, to `results/` beside this file.
//!
//! `COMPARE_ROUNDS=n` sets the number of rounds (default 7); `COMPARE_QUICK=1`
//! shortens every workload eightfold and defaults to 3 rounds.

mod async_rows;
mod batch_rows;
mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;

// ----- allocation counting (on only while sizes are measured) ---------------

struct Counting;
static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to `System` unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
            BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        }
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
            BYTES.fetch_add(new_size.saturating_sub(layout.size()), Ordering::Relaxed);
        }
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations and bytes for one channel of `cap`, filled once and drained
/// (so lazily grown buffers count too).
fn allocation<P: Peer>(cap: usize) -> (usize, usize) {
    ALLOCS.store(0, Ordering::SeqCst);
    BYTES.store(0, Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    let (tx, rx) = P::bounded(cap);
    for v in 0..cap {
        P::send(&tx, v);
    }
    for _ in 0..cap {
        P::recv(&rx);
    }
    COUNTING.store(false, Ordering::SeqCst);
    drop((tx, rx));
    (ALLOCS.load(Ordering::SeqCst), BYTES.load(Ordering::SeqCst))
}

// ----- workloads ----------------------------------------------------------

const PEERS: [&str; 7] = [
    "weir",
    "crossbeam",
    "std",
    "flume",
    "kanal",
    "ArrayQueue",
    "VecDeque",
];
const CB: usize = 1;
const CHANNELS: usize = 5;

#[derive(Clone, Copy)]
enum Work {
    Seq {
        cap: usize,
        n: usize,
    },
    Threads {
        cap: usize,
        p: usize,
        c: usize,
        n: usize,
    },
    PingPong {
        trips: usize,
    },
}

impl Work {
    fn label(&self) -> String {
        match *self {
            Work::Seq { cap, .. } => format!("seq cap {cap}"),
            Work::Threads { cap, p, c, .. } => {
                let kind = match (p, c) {
                    (1, 1) => "spsc".to_string(),
                    (_, 1) => format!("mpsc {p}:1"),
                    (1, _) => format!("spmc 1:{c}"),
                    _ => format!("mpmc {p}:{c}"),
                };
                format!("{kind} cap {cap}")
            }
            Work::PingPong { .. } => "ping-pong cap 1 (ns/trip)".to_string(),
        }
    }

    fn is_mpmc(&self) -> bool {
        matches!(*self, Work::Threads { p, c, .. } if p > 1 && c > 1)
    }

    /// Rate (operations per second; round trips for ping-pong) of peer `i`.
    fn run(&self, i: usize) -> Option<f64> {
        match i {
            0 => self.run_peer::<Weir>(),
            1 => self.run_peer::<Crossbeam>(),
            2 => self.run_peer::<Std>(),
            3 => self.run_peer::<Flume>(),
            4 => self.run_peer::<Kanal>(),
            5 => match *self {
                Work::Seq { cap, n } => Some(rate(n, seq_array_queue(cap, n))),
                _ => None,
            },
            _ => match *self {
                Work::Seq { cap, n } => Some(rate(n, seq_vecdeque(cap, n))),
                _ => None,
            },
        }
    }

    fn run_peer<P: Peer>(&self) -> Option<f64> {
        match *self {
            Work::Seq { cap, n } => Some(rate(n, seq::<P>(cap, n))),
            Work::Threads { cap, p, c, n } => threads::<P>(cap, p, c, n).map(|d| rate(n, d)),
            Work::PingPong { trips } => Some(rate(trips, ping_pong::<P>(trips))),
        }
    }
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// Per workload and peer: the rate of every round.
struct Samples {
    work: Work,
    rates: Vec<Vec<f64>>,
}

impl Samples {
    fn median_rate(&self, i: usize) -> Option<f64> {
        let mut v = self.rates[i].clone();
        (!v.is_empty()).then(|| median(&mut v))
    }

    /// Median over rounds of the ratio peer / crossbeam in the same round.
    fn median_ratio(&self, i: usize) -> Option<f64> {
        let mut v: Vec<f64> = self.rates[i]
            .iter()
            .zip(&self.rates[CB])
            .map(|(a, b)| a / b)
            .collect();
        (!v.is_empty()).then(|| median(&mut v))
    }

    fn spread(&self, i: usize) -> Option<(f64, f64)> {
        let v = &self.rates[i];
        (!v.is_empty()).then(|| {
            let min = v.iter().cloned().fold(f64::INFINITY, f64::min);
            let max = v.iter().cloned().fold(0.0, f64::max);
            (min, max)
        })
    }
}

/// Producer counts of the lossy runs: one producer per core on two cores,
/// then one more producer than there are cores left for the consumer.
const LOSSY_PRODUCERS: [usize; 2] = [1, 2];
/// Rounds of `consumer_work` per item: the consumer is several times slower
/// than the producers, so the ring stays full and every peer must evict or
/// refuse.
const LOSSY_WORK: u32 = 40;

fn lossy_run(i: usize, producers: usize, per: usize) -> LossyRun {
    const CAP: usize = 64;
    match i {
        0 => lossy::<WeirDropOldest>(CAP, producers, per, LOSSY_WORK),
        1 => lossy::<ArrayQueueForcePush>(CAP, producers, per, LOSSY_WORK),
        2 => lossy::<WeirDropNewest>(CAP, producers, per, LOSSY_WORK),
        _ => lossy::<CrossbeamTrySend>(CAP, producers, per, LOSSY_WORK),
    }
}
const LOSSY: [&str; 4] = [
    "weir DropOldest",
    "ArrayQueue::force_push",
    "weir DropNewest",
    "crossbeam try_send",
];

fn main() {
    let quick = std::env::var("COMPARE_QUICK").is_ok_and(|v| v == "1");
    let rounds: usize = std::env::var("COMPARE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 3 } else { 7 })
        .max(1);
    let div = if quick { 8 } else { 1 };
    let k = |n: usize| (n / div).max(64);

    let mut works = vec![
        Work::Seq {
            cap: 1,
            n: k(1 << 20),
        },
        Work::Seq {
            cap: 1024,
            n: k(1 << 21),
        },
        Work::Threads {
            cap: 1,
            p: 1,
            c: 1,
            n: k(1 << 18),
        },
        Work::Threads {
            cap: 1024,
            p: 1,
            c: 1,
            n: k(1 << 21),
        },
        Work::Threads {
            cap: 1,
            p: 4,
            c: 1,
            n: k(1 << 17),
        },
        Work::Threads {
            cap: 1024,
            p: 4,
            c: 1,
            n: k(1 << 20),
        },
        Work::Threads {
            cap: 1,
            p: 1,
            c: 4,
            n: k(1 << 17),
        },
        Work::Threads {
            cap: 1024,
            p: 1,
            c: 4,
            n: k(1 << 20),
        },
        Work::Threads {
            cap: 1,
            p: 4,
            c: 4,
            n: k(1 << 17),
        },
        Work::Threads {
            cap: 1024,
            p: 4,
            c: 4,
            n: k(1 << 20),
        },
        Work::PingPong { trips: k(1 << 15) },
    ];
    if let Ok(only) = std::env::var("COMPARE_ONLY") {
        works.retain(|w| w.label().contains(&only));
    }
    let mut samples: Vec<Samples> = works
        .iter()
        .map(|&work| Samples {
            work,
            rates: vec![Vec::new(); PEERS.len()],
        })
        .collect();
    let mut async_samples: Vec<(async_rows::AsyncWork, Vec<Vec<f64>>)> = async_rows::async_works(k)
        .into_iter()
        .filter(|w| std::env::var("COMPARE_ONLY").map_or(true, |only| w.label().contains(&only)))
        .map(|w| (w, vec![Vec::new(); async_rows::ASYNC_PEERS.len()]))
        .collect();
    let rt = async_rows::runtime();
    let lossy_total = k(1 << 22);
    let mut lossy_samples: Vec<Vec<Vec<LossyRun>>> =
        vec![vec![Vec::new(); LOSSY.len()]; LOSSY_PRODUCERS.len()];
    let run_lossy = std::env::var("COMPARE_ONLY").map_or(true, |o| o == "lossy");

    if std::env::var("COMPARE_ONLY").is_ok_and(|o| o == "evict") {
        evict_only(rounds);
        return;
    }
    if std::env::var("COMPARE_ONLY").is_ok_and(|o| o == "batch") {
        batch_only(rounds, k);
        return;
    }
    let started = std::time::Instant::now();
    for round in 0..rounds {
        for s in &mut samples {
            for j in 0..PEERS.len() {
                let i = (j + round) % PEERS.len();
                if let Some(r) = s.work.run(i) {
                    s.rates[i].push(r);
                }
            }
        }
        for (work, rates) in &mut async_samples {
            let peers = async_rows::ASYNC_PEERS.len();
            for j in 0..peers {
                let i = (j + round) % peers;
                if let Some(r) = work.run(&rt, i) {
                    rates[i].push(r);
                }
            }
        }
        if run_lossy {
            for (c, &producers) in LOSSY_PRODUCERS.iter().enumerate() {
                for j in 0..LOSSY.len() {
                    let i = (j + round) % LOSSY.len();
                    let run = lossy_run(i, producers, lossy_total / producers);
                    lossy_samples[c][i].push(run);
                }
            }
        }
        eprintln!(
            "round {}/{rounds} done ({:.0} s)",
            round + 1,
            started.elapsed().as_secs_f64()
        );
    }

    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mut cmd = String::from("cd benches && cargo bench --bench compare");
    for var in ["COMPARE_ROUNDS", "COMPARE_QUICK", "COMPARE_ONLY"] {
        if let Ok(v) = std::env::var(var) {
            cmd = format!("{var}={v} {cmd}");
        }
    }
    let mut md = report(&samples, &lossy_samples, rounds, cores, &cmd);
    md.push_str(&async_report(&async_samples));
    println!("{md}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("results");
    let _ = std::fs::create_dir_all(&dir);
    if let Err(e) = std::fs::write(dir.join("compare.md"), &md) {
        eprintln!("could not write compare.md: {e}");
    }
    let svg = chart(&samples, rounds, cores, &cmd);
    if let Err(e) = std::fs::write(dir.join("compare.svg"), svg) {
        eprintln!("could not write compare.svg: {e}");
    }
}

/// Eviction cost alone: two producers force-pushing into a full ring with no
/// consumer (`COMPARE_ONLY=evict`).
fn evict_only(rounds: usize) {
    use std::sync::{Arc, Barrier};
    fn run<Q: Send + Sync + 'static>(q: Q, f: fn(&Q, usize) -> usize) -> f64 {
        let q = Arc::new(q);
        let n = 1 << 21;
        let b = Arc::new(Barrier::new(2));
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let (q, b) = (q.clone(), b.clone());
                std::thread::spawn(move || {
                    b.wait();
                    let t = std::time::Instant::now();
                    let mut e = 0;
                    for v in 0..n {
                        e += f(&q, v);
                    }
                    assert!(e > 0);
                    t.elapsed()
                })
            })
            .collect();
        let t = hs.into_iter().map(|h| h.join().unwrap()).max().unwrap();
        (2 * n) as f64 / t.as_secs_f64() / 1e6
    }
    let mut ratios = Vec::new();
    for _ in 0..rounds {
        let (tx, rx) = weir::bounded::<usize, weir::DropOldest>(64);
        let w = run((tx, rx), |q, v| usize::from(q.0.send(v).unwrap().is_some()));
        let a = run(crossbeam_queue::ArrayQueue::new(64), |q, v| {
            usize::from(q.force_push(v).is_some())
        });
        println!("weir {w:.2} M/s, ArrayQueue {a:.2} M/s, ratio {:.2}", w / a);
        ratios.push(w / a);
    }
    println!("median ratio {:.2}", median(&mut ratios));
}

/// weir's batches of 64 against its per-value calls (`COMPARE_ONLY=batch`):
/// both in every round, the order alternating, medians of the rates and of
/// the per-round ratios.
fn batch_only(rounds: usize, k: impl Fn(usize) -> usize) {
    let rows = batch_rows::rows(k);
    let mut rates = vec![(Vec::new(), Vec::new()); rows.len()];
    for round in 0..rounds {
        for (row, (_, items, batches)) in rows.iter().enumerate() {
            let (a, b) = if round % 2 == 0 {
                let a = items();
                (a, batches())
            } else {
                let b = batches();
                (items(), b)
            };
            rates[row].0.push(a);
            rates[row].1.push(b);
        }
        eprintln!("round {}/{rounds} done", round + 1);
    }
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "Batches of {} against one value at a time (M msg/s, medians)",
        batch_rows::BATCH
    );
    println!("| workload | per value | batches | ratio |");
    println!("| --- | ---: | ---: | ---: |");
    for ((label, _, _), (items, batches)) in rows.iter().zip(&mut rates) {
        let mut ratios: Vec<f64> = batches
            .iter()
            .zip(items.iter())
            .map(|(b, a)| b / a)
            .collect();
        println!(
            "| {label} | {:.2} | {:.2} | {:.2}x |",
            median(items),
            median(batches),
            median(&mut ratios)
        );
    }
    println!(
        "\n{}",
        stamp(
            rounds,
            cores,
            "COMPARE_ONLY=batch cargo bench --bench compare"
        )
    );
}

// ----- the report -----------------------------------------------------------

fn stamp(rounds: usize, cores: usize, cmd: &str) -> String {
    format!("{} UTC, {cores} cores, {rounds} rounds, `{cmd}`", utc_now())
}

/// The current UTC date and time, from days since the epoch to the civil
/// calendar (the proleptic Gregorian era arithmetic).
fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60
    )
}

fn fmt_rate(work: &Work, r: f64) -> String {
    match work {
        Work::PingPong { .. } => format!("{:.0}", 1e9 / r),
        _ => format!("{:.2}", r / 1e6),
    }
}

fn report(
    samples: &[Samples],
    lossy: &[Vec<Vec<LossyRun>>],
    rounds: usize,
    cores: usize,
    cmd: &str,
) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "### weir against its peers\n");
    let _ = writeln!(md, "{}\n", stamp(rounds, cores, cmd));
    let _ = writeln!(
        md,
        "Median M msg/s over rounds (ping-pong: ns per round trip), then the median of \
         per-round ratios to crossbeam-channel (higher is better; for ping-pong, \
         crossbeam's time over the peer's). mpmc rows show the min..max of rounds.\n"
    );
    let _ = writeln!(
        md,
        "| workload | weir | crossbeam | std | flume | kanal | weir/cb | std/cb | flume/cb | kanal/cb | weir/best peer |"
    );
    let _ = writeln!(
        md,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for s in samples {
        let mut row = format!("| {} |", s.work.label());
        for i in 0..CHANNELS {
            match s.median_rate(i) {
                Some(r) if s.work.is_mpmc() => {
                    let (lo, hi) = s.spread(i).unwrap();
                    let _ = write!(
                        row,
                        " {} ({}..{}) |",
                        fmt_rate(&s.work, r),
                        fmt_rate(&s.work, lo),
                        fmt_rate(&s.work, hi)
                    );
                }
                Some(r) => {
                    let _ = write!(row, " {} |", fmt_rate(&s.work, r));
                }
                None => row.push_str(" n/a |"),
            }
        }
        for i in [0, 2, 3, 4] {
            match s.median_ratio(i) {
                Some(x) => {
                    let _ = write!(row, " {x:.2}x |");
                }
                None => row.push_str(" n/a |"),
            }
        }
        let best = (1..CHANNELS)
            .filter_map(|i| s.median_ratio(i))
            .fold(0.0, f64::max);
        let _ = write!(row, " {:.2}x |", s.median_ratio(0).unwrap_or(0.0) / best);
        let _ = writeln!(md, "{row}");
    }

    if samples.iter().any(|s| !s.rates[6].is_empty()) {
        let _ = writeln!(
            md,
            "\n`seq` against non-channel queues (M msg/s, ratio to crossbeam-channel):\n"
        );
        let _ = writeln!(md, "| workload | weir | ArrayQueue | VecDeque (ceiling) |");
        let _ = writeln!(md, "|---|---:|---:|---:|");
        for s in samples.iter().filter(|s| !s.rates[6].is_empty()) {
            let cell = |i: usize| {
                format!(
                    "{:.2} ({:.2}x)",
                    s.median_rate(i).unwrap_or(0.0) / 1e6,
                    s.median_ratio(i).unwrap_or(0.0)
                )
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                s.work.label(),
                cell(0),
                cell(5),
                cell(6)
            );
        }
    }

    if lossy.iter().flatten().all(|v| !v.is_empty()) {
        let _ = writeln!(
            md,
            "\nLossy sends into capacity 64, one consumer with fixed work per item; \
             received + handed back == sent is checked every run. Consumer share = \
             received / sent.\n"
        );
        let _ = writeln!(
            md,
            "| producers | sender | producer M msg/s | consumer share | consumer M msg/s |"
        );
        let _ = writeln!(md, "|---:|---|---:|---:|---:|");
        for (c, per_peer) in lossy.iter().enumerate() {
            for (i, runs) in per_peer.iter().enumerate() {
                let mut rate: Vec<f64> = runs.iter().map(LossyRun::producer_rate).collect();
                let mut share: Vec<f64> = runs.iter().map(LossyRun::share).collect();
                let mut consumed: Vec<f64> = runs
                    .iter()
                    .map(|r| r.received as f64 / r.producer_time.as_secs_f64())
                    .collect();
                let _ = writeln!(
                    md,
                    "| {} | {} | {:.2} | {:.2}% | {:.2} |",
                    LOSSY_PRODUCERS[c],
                    LOSSY[i],
                    median(&mut rate) / 1e6,
                    median(&mut share) * 100.0,
                    median(&mut consumed) / 1e6,
                );
            }
        }
        let _ = writeln!(md, "\nMedians of per-round ratios:\n");
        let _ = writeln!(
            md,
            "| producers | producer rate, weir DropOldest / force_push | consumer share, weir DropOldest / weir DropNewest | consumer share, force_push / weir DropNewest | producer rate, weir DropNewest / crossbeam try_send |"
        );
        let _ = writeln!(md, "|---:|---:|---:|---:|---:|");
        for (c, runs) in lossy.iter().enumerate() {
            let ratio = |a: usize, b: usize, f: fn(&LossyRun) -> f64| {
                let mut v: Vec<f64> = runs[a]
                    .iter()
                    .zip(&runs[b])
                    .map(|(x, y)| f(x) / f(y))
                    .collect();
                median(&mut v)
            };
            let _ = writeln!(
                md,
                "| {} | {:.2}x | {:.2}x | {:.2}x | {:.2}x |",
                LOSSY_PRODUCERS[c],
                ratio(0, 1, LossyRun::producer_rate),
                ratio(0, 2, LossyRun::share),
                ratio(1, 2, LossyRun::share),
                ratio(2, 3, LossyRun::producer_rate),
            );
        }
    }

    let _ = writeln!(md, "\n{}", sizes());
    md
}

/// The async table: median M msg/s per peer, then weir's rate over each
/// peer's (medians of per-round ratios).
fn async_report(samples: &[(async_rows::AsyncWork, Vec<Vec<f64>>)]) -> String {
    let mut md = String::new();
    if samples.is_empty() {
        return md;
    }
    let peers = async_rows::ASYNC_PEERS;
    let _ = writeln!(
        md,
        "\n### Async: tasks on a tokio runtime with 2 workers\n\n\
         Median M msg/s, then the median of per-round ratios weir / peer (above 1: weir is \
         faster). tokio's channel has a single receiver, so it has no mpmc rows. \
         `thread → task`: one plain thread sends with each peer's blocking send, one task \
         receives.\n"
    );
    let mut head = String::from("| workload |");
    let mut rule = String::from("|---|");
    for p in peers {
        let _ = write!(head, " {p} |");
        rule.push_str("---:|");
    }
    for p in &peers[1..] {
        let _ = write!(head, " weir/{p} |");
        rule.push_str("---:|");
    }
    head.push_str(" weir/best peer |");
    rule.push_str("---:|");
    let _ = writeln!(md, "{head}\n{rule}");
    for (work, rates) in samples {
        let mut row = format!("| {} |", work.label());
        for r in rates {
            if r.is_empty() {
                row.push_str(" n/a |");
            } else {
                let _ = write!(row, " {:.2} |", median(&mut r.clone()) / 1e6);
            }
        }
        let ratio = |i: usize| -> Option<f64> {
            let mut v: Vec<f64> = rates[0].iter().zip(&rates[i]).map(|(w, p)| w / p).collect();
            (!v.is_empty()).then(|| median(&mut v))
        };
        let mut worst = f64::INFINITY;
        for i in 1..peers.len() {
            match ratio(i) {
                Some(x) => {
                    worst = worst.min(x);
                    let _ = write!(row, " {x:.2}x |");
                }
                None => row.push_str(" n/a |"),
            }
        }
        let _ = write!(row, " {worst:.2}x |");
        let _ = writeln!(md, "{row}");
    }
    md
}

fn sizes() -> String {
    use std::mem::size_of;
    let mut md = String::new();
    let _ = writeln!(
        md,
        "Sizes (`usize` messages): handle sizes, allocations for one channel of capacity 1024 \
         filled once and drained, and bytes per slot beyond the value, from the allocated bytes \
         at capacity 1024 and 1.\n"
    );
    let _ = writeln!(
        md,
        "| channel | Sender | Receiver | allocations | bytes at cap 1024 | overhead per slot |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|");
    fn row<P: Peer>(md: &mut String) {
        let (allocs, bytes) = allocation::<P>(1024);
        let (_, bytes1) = allocation::<P>(1);
        let per_slot = (bytes as f64 - bytes1 as f64) / 1023.0 - size_of::<usize>() as f64;
        let _ = writeln!(
            md,
            "| {} | {} B | {} B | {allocs} | {bytes} | {per_slot:.1} B |",
            P::NAME,
            size_of::<P::Tx>(),
            size_of::<P::Rx>()
        );
    }
    row::<Weir>(&mut md);
    row::<Crossbeam>(&mut md);
    row::<Std>(&mut md);
    row::<Flume>(&mut md);
    row::<Kanal>(&mut md);
    md
}

// ----- the chart ------------------------------------------------------------

fn chart(samples: &[Samples], rounds: usize, cores: usize, cmd: &str) -> String {
    const SHOWN: [usize; 4] = [0, 2, 3, 4];
    const COLORS: [&str; 5] = ["#d62728", "#888888", "#1f77b4", "#2ca02c", "#ff7f0e"];
    let bar = 11.0;
    let group = bar * SHOWN.len() as f64 + 12.0;
    let left = 190.0;
    let width = 560.0;
    let top = 58.0;
    let height = top + group * samples.len() as f64 + 40.0;
    let max = samples
        .iter()
        .flat_map(|s| SHOWN.iter().filter_map(|&i| s.median_ratio(i)))
        .fold(1.0f64, f64::max);
    // Bars past 4x are clipped (their value is still printed), so that one
    // outlier does not flatten every other bar.
    let scale_max = (max * 1.1).ceil().clamp(2.0, 4.0);
    let x = |r: f64| left + width * (r / scale_max);
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{height}" font-family="sans-serif" font-size="11">"#,
        left + width + 70.0
    );
    let _ = writeln!(
        svg,
        r##"<rect width="100%" height="100%" fill="#ffffff"/>"##
    );
    let _ = writeln!(
        svg,
        r#"<text x="10" y="18" font-size="14" font-weight="bold">Throughput relative to crossbeam-channel (1.0 = crossbeam; higher is better; bars clipped at 4x)</text>"#
    );
    let _ = writeln!(
        svg,
        r#"<text x="10" y="34">{}</text>"#,
        xml_escape(&stamp(rounds, cores, cmd))
    );
    for (k, &i) in SHOWN.iter().enumerate() {
        let lx = left + k as f64 * 90.0;
        let _ = writeln!(
            svg,
            r#"<rect x="{lx}" y="42" width="10" height="10" fill="{}"/><text x="{}" y="51">{}</text>"#,
            COLORS[i],
            lx + 14.0,
            PEERS[i]
        );
    }
    for (g, s) in samples.iter().enumerate() {
        let gy = top + g as f64 * group;
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            left - 8.0,
            gy + group / 2.0,
            xml_escape(&s.work.label())
        );
        for (k, &i) in SHOWN.iter().enumerate() {
            let y = gy + k as f64 * bar;
            if let Some(r) = s.median_ratio(i) {
                let _ = writeln!(
                    svg,
                    r#"<rect x="{left}" y="{y}" width="{:.1}" height="{}" fill="{}"/><text x="{:.1}" y="{}" font-size="9">{r:.2}</text>"#,
                    (x(r.min(scale_max)) - left).max(0.5),
                    bar - 2.0,
                    COLORS[i],
                    x(r.min(scale_max)) + 3.0,
                    y + bar - 3.0
                );
            }
        }
    }
    let bottom = top + group * samples.len() as f64;
    let mut t = 0.0;
    while t <= scale_max + 1e-9 {
        let _ = writeln!(
            svg,
            r##"<line x1="{0:.1}" y1="{top}" x2="{0:.1}" y2="{bottom}" stroke="{1}" stroke-width="{2}"/><text x="{0:.1}" y="{3}" text-anchor="middle">{t:.1}x</text>"##,
            x(t),
            if t == 1.0 { "#000000" } else { "#dddddd" },
            if t == 1.0 { 1.5 } else { 1.0 },
            bottom + 14.0
        );
        t += if scale_max > 6.0 { 1.0 } else { 0.5 };
    }
    svg.push_str("</svg>\n");
    svg
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('`', "")
}
