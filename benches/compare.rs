//! A one-command summary: `cargo bench --bench compare`, run in `benches/`.
//!
//! The command measures two passes and reports them side by side: one with
//! the cores free, and one with the whole benchmark pinned to one core
//! (`taskset -c 0`, the case of a busy server). Each pass is this same binary
//! run again as a child process, told which pass it is by `COMPARE_PASS`; the
//! child measures and prints every sample to stdout as a dump (see `dump`),
//! its round progress goes to stderr, which the parent passes on with the
//! pass's name in front of each line. The parent parses the dumps and writes
//! one report.
//!
//! Within a pass every workload runs on every peer interleaved (A B C A B C
//! ...; the order rotates each round), several rounds: the sync workloads, the
//! async rows, the lossy runs, and eviction with no consumer. The report gives
//! medians of the rates with the min..max of rounds, and medians of per-round
//! ratios, so a noisy moment hits all peers of one round alike. `weir/best
//! peer` is the median over rounds of weir's rate over the rate of the best
//! channel peer in that same round. The markdown goes to stdout and to
//! `results/compare.md` beside this file, with one SVG chart per pass
//! (`results/compare.svg` for free cores, `results/compare-one-core.svg`).
//!
//! Environment:
//!
//! - `COMPARE_ROUNDS=n`: rounds per pass (default 7).
//! - `COMPARE_QUICK=1`: shortens every workload eightfold and defaults to 3
//!   rounds.
//! - `COMPARE_ONLY=s`: only the workloads whose label contains `s`; `lossy`
//!   runs only the lossy sends, `evict` only the eviction runs (in both
//!   passes, its tables printed and nothing written), and `batch` weir's
//!   batches against its per-value calls (one pass, in this process, printed
//!   only).
//! - `COMPARE_PASSES=free|one-core|both`: which passes to run (default
//!   `both`). Where `taskset` is missing or cannot pin, the one-core pass is
//!   reported as n/a.
//! - `COMPARE_PASS=free|one-core`: set by the parent on its children (which
//!   inherit the variables above); it makes the binary measure one pass and
//!   print its dump instead of a report.

mod async_rows;
mod batch_rows;
mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_rows::{AsyncWork, ASYNC_PEERS};
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
/// The channel peers weir is ranked against: crossbeam, std, flume, kanal
/// (ArrayQueue and VecDeque are not channels).
const CHANNEL_PEERS: [usize; 4] = [1, 2, 3, 4];

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
    /// The label of the tables, also the workload's key in a dump and what
    /// `COMPARE_ONLY` matches.
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

    /// The label of the chart, which plots ratios only.
    fn chart_label(&self) -> String {
        match *self {
            Work::PingPong { .. } => "ping-pong cap 1 (time ratio)".to_string(),
            _ => self.label(),
        }
    }

    fn unit(&self) -> Unit {
        match *self {
            Work::PingPong { .. } => Unit::NsPerTrip,
            _ => Unit::Mps,
        }
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

/// The sync workloads, `n` shortened by `k`.
fn works(k: impl Fn(usize) -> usize) -> Vec<Work> {
    vec![
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
    ]
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
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

/// Producer counts of the eviction runs.
const EVICT_PRODUCERS: [usize; 2] = [1, 2];
const EVICT: [&str; 2] = ["weir DropOldest", "ArrayQueue::force_push"];

/// Eviction cost alone: `producers` threads each force `n` values into a
/// full ring of 64 with no consumer, so every send past the first 64 evicts.
/// Returns messages per second, over the slowest producer's time.
fn evict_run(i: usize, producers: usize, n: usize) -> f64 {
    use std::sync::{Arc, Barrier};
    fn run<Q: Send + Sync + 'static>(
        q: Q,
        producers: usize,
        n: usize,
        f: fn(&Q, usize) -> usize,
    ) -> f64 {
        let q = Arc::new(q);
        let b = Arc::new(Barrier::new(producers));
        let hs: Vec<_> = (0..producers)
            .map(|_| {
                let (q, b) = (q.clone(), b.clone());
                std::thread::spawn(move || {
                    b.wait();
                    let t = Instant::now();
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
        (producers * n) as f64 / t.as_secs_f64().max(1e-9)
    }
    match i {
        0 => {
            let (tx, rx) = weir::bounded::<usize, weir::DropOldest>(64);
            run((tx, rx), producers, n, |q, v| {
                usize::from(q.0.send(v).unwrap().is_some())
            })
        }
        _ => run(
            crossbeam_queue::ArrayQueue::new(64),
            producers,
            n,
            |q, v| usize::from(q.force_push(v).is_some()),
        ),
    }
}

// ----- samples ------------------------------------------------------------

fn median(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

fn min_max(v: &[f64]) -> Option<(f64, f64)> {
    let min = v.iter().copied().reduce(f64::min)?;
    let max = v.iter().copied().reduce(f64::max)?;
    Some((min, max))
}

/// Round by round, `a` over `b`.
fn ratios(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x / y).collect()
}

/// weir (index 0 of `rates`) against the best of `peers`, round by round.
struct Best {
    /// The peer best in most rounds (ties: the higher median rate).
    peer: usize,
    /// Median over rounds of weir's rate over the best peer's in that round.
    ratio: f64,
}

/// In every round, the fastest of `peers` in that round; `None` where weir
/// or every peer has no samples.
fn best_peer(rates: &[Vec<f64>], peers: &[usize]) -> Option<Best> {
    let mut wins = vec![0usize; rates.len()];
    let mut per_round = Vec::new();
    for (round, &mine) in rates[0].iter().enumerate() {
        let best = peers
            .iter()
            .filter_map(|&p| rates[p].get(round).map(|&r| (p, r)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((p, r)) = best {
            wins[p] += 1;
            per_round.push(mine / r);
        }
    }
    let ratio = median(&per_round)?;
    let by_median = |p: usize| median(&rates[p]).unwrap_or(0.0);
    let peer = peers
        .iter()
        .copied()
        .filter(|&p| wins[p] > 0)
        .max_by(|&a, &b| {
            wins[a]
                .cmp(&wins[b])
                .then(by_median(a).total_cmp(&by_median(b)))
        })?;
    Some(Best { peer, ratio })
}

/// Per sync workload and peer: the rate of every round.
struct Samples {
    work: Work,
    rates: Vec<Vec<f64>>,
}

impl Samples {
    /// Round by round, peer `i` over crossbeam.
    fn to_cb(&self, i: usize) -> Vec<f64> {
        ratios(&self.rates[i], &self.rates[CB])
    }
}

/// Per async workload and peer (`ASYNC_PEERS`): the rate of every round.
struct AsyncSamples {
    work: AsyncWork,
    rates: Vec<Vec<f64>>,
}

/// Per sender (`LOSSY`): every round's run.
struct LossySamples {
    producers: usize,
    runs: Vec<Vec<LossyRun>>,
}

/// Per peer (`EVICT`): the rate of every round.
struct EvictSamples {
    producers: usize,
    rates: Vec<Vec<f64>>,
}

// ----- passes -------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum PassKind {
    Free,
    OneCore,
}

impl PassKind {
    /// The value of `COMPARE_PASS` (and of `COMPARE_PASSES`) for this pass.
    fn env(self) -> &'static str {
        match self {
            PassKind::Free => "free",
            PassKind::OneCore => "one-core",
        }
    }

    fn from_env(s: &str) -> Option<Self> {
        [PassKind::Free, PassKind::OneCore]
            .into_iter()
            .find(|k| k.env() == s)
    }

    /// Short name, for column heads and progress lines.
    fn name(self) -> &'static str {
        match self {
            PassKind::Free => "free cores",
            PassKind::OneCore => "one core",
        }
    }

    fn heading(self) -> &'static str {
        match self {
            PassKind::Free => "Free cores",
            PassKind::OneCore => "One core (`taskset -c 0`)",
        }
    }

    fn chart_file(self) -> &'static str {
        match self {
            PassKind::Free => "compare.svg",
            PassKind::OneCore => "compare-one-core.svg",
        }
    }
}

/// What the environment asks for, the same in the parent and its children.
struct Config {
    rounds: usize,
    div: usize,
    only: Option<String>,
}

impl Config {
    fn from_env() -> Self {
        let quick = std::env::var("COMPARE_QUICK").is_ok_and(|v| v == "1");
        let rounds = std::env::var("COMPARE_ROUNDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(if quick { 3 } else { 7 })
            .max(1);
        Config {
            rounds,
            div: if quick { 8 } else { 1 },
            only: std::env::var("COMPARE_ONLY").ok(),
        }
    }

    /// `n` shortened for `COMPARE_QUICK`.
    fn k(&self, n: usize) -> usize {
        (n / self.div).max(64)
    }

    fn only_is(&self, s: &str) -> bool {
        self.only.as_deref() == Some(s)
    }

    /// Whether a sync or async workload of this label runs.
    fn wants(&self, label: &str) -> bool {
        self.only.as_deref().is_none_or(|o| label.contains(o))
    }

    fn runs_lossy(&self) -> bool {
        self.only.as_deref().is_none_or(|o| o == "lossy")
    }

    fn runs_evict(&self) -> bool {
        self.only.as_deref().is_none_or(|o| o == "evict")
    }
}

/// Everything one pass measured.
struct Pass {
    kind: PassKind,
    /// The cores the measuring process could run on.
    cores: usize,
    rounds: usize,
    sync: Vec<Samples>,
    asyncs: Vec<AsyncSamples>,
    lossy: Vec<LossySamples>,
    evict: Vec<EvictSamples>,
}

impl Pass {
    /// The workloads `cfg` asks for, with no samples yet.
    fn empty(cfg: &Config, kind: PassKind) -> Self {
        let k = |n| cfg.k(n);
        Pass {
            kind,
            cores: available_cores(),
            rounds: cfg.rounds,
            sync: works(k)
                .into_iter()
                .filter(|w| cfg.wants(&w.label()))
                .map(|work| Samples {
                    work,
                    rates: vec![Vec::new(); PEERS.len()],
                })
                .collect(),
            asyncs: async_rows::async_works(k)
                .into_iter()
                .filter(|w| cfg.wants(&w.label()))
                .map(|work| AsyncSamples {
                    work,
                    rates: vec![Vec::new(); ASYNC_PEERS.len()],
                })
                .collect(),
            lossy: if cfg.runs_lossy() {
                LOSSY_PRODUCERS
                    .iter()
                    .map(|&producers| LossySamples {
                        producers,
                        runs: vec![Vec::new(); LOSSY.len()],
                    })
                    .collect()
            } else {
                Vec::new()
            },
            evict: if cfg.runs_evict() {
                EVICT_PRODUCERS
                    .iter()
                    .map(|&producers| EvictSamples {
                        producers,
                        rates: vec![Vec::new(); EVICT.len()],
                    })
                    .collect()
            } else {
                Vec::new()
            },
        }
    }

    /// Runs every round of the pass in this process.
    fn measure(cfg: &Config, kind: PassKind) -> Self {
        let mut pass = Pass::empty(cfg, kind);
        let rt = async_rows::runtime();
        let lossy_total = cfg.k(1 << 22);
        let evict_per_producer = cfg.k(1 << 21);
        let rounds = pass.rounds;
        let started = Instant::now();
        for round in 0..rounds {
            for s in &mut pass.sync {
                for j in 0..PEERS.len() {
                    let i = (j + round) % PEERS.len();
                    if let Some(r) = s.work.run(i) {
                        s.rates[i].push(r);
                    }
                }
            }
            for a in &mut pass.asyncs {
                let peers = ASYNC_PEERS.len();
                for j in 0..peers {
                    let i = (j + round) % peers;
                    if let Some(r) = a.work.run(&rt, i) {
                        a.rates[i].push(r);
                    }
                }
            }
            for l in &mut pass.lossy {
                for j in 0..LOSSY.len() {
                    let i = (j + round) % LOSSY.len();
                    let run = lossy_run(i, l.producers, lossy_total / l.producers);
                    l.runs[i].push(run);
                }
            }
            for e in &mut pass.evict {
                for j in 0..EVICT.len() {
                    let i = (j + round) % EVICT.len();
                    e.rates[i].push(evict_run(i, e.producers, evict_per_producer));
                }
            }
            eprintln!(
                "round {}/{rounds} done ({:.0} s)",
                round + 1,
                started.elapsed().as_secs_f64()
            );
        }
        pass
    }
}

fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(0, |n| n.get())
}

/// A pass as the report sees it.
enum Outcome {
    Measured(Pass),
    /// The pass could not run here; the reason is printed in its place.
    Unavailable(&'static str),
}

// ----- the dump -------------------------------------------------------------

/// The first line of a dump: its name and format version.
const DUMP_HEAD: &str = "weir-compare-dump\t1";

/// Every sample of a pass, one per line, tab-separated:
///
/// ```text
/// weir-compare-dump  1
/// pass    free | one-core
/// cores   <cores the child could run on>
/// rounds  <rounds>
/// sync    <workload label>  <peer>    <round>  <ops/s; round trips/s for ping-pong>
/// async   <workload label>  <peer>    <round>  <msg/s>
/// lossy   <producers>       <sender>  <round>  <producer ns>  <sent>  <received>  <handed back>
/// evict   <producers>       <peer>    <round>  <msg/s>
/// end
/// ```
///
/// Rounds count from 0 and come in order. A peer that cannot run a workload
/// has no lines for it; `end` marks a complete dump.
fn dump(pass: &Pass) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{DUMP_HEAD}");
    let _ = writeln!(out, "pass\t{}", pass.kind.env());
    let _ = writeln!(out, "cores\t{}", pass.cores);
    let _ = writeln!(out, "rounds\t{}", pass.rounds);
    for s in &pass.sync {
        for (i, rates) in s.rates.iter().enumerate() {
            for (round, r) in rates.iter().enumerate() {
                let _ = writeln!(out, "sync\t{}\t{}\t{round}\t{r}", s.work.label(), PEERS[i]);
            }
        }
    }
    for a in &pass.asyncs {
        for (i, rates) in a.rates.iter().enumerate() {
            for (round, r) in rates.iter().enumerate() {
                let label = a.work.label();
                let _ = writeln!(out, "async\t{label}\t{}\t{round}\t{r}", ASYNC_PEERS[i]);
            }
        }
    }
    for l in &pass.lossy {
        for (i, runs) in l.runs.iter().enumerate() {
            for (round, run) in runs.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "lossy\t{}\t{}\t{round}\t{}\t{}\t{}\t{}",
                    l.producers,
                    LOSSY[i],
                    run.producer_time.as_nanos(),
                    run.sent,
                    run.received,
                    run.handed_back
                );
            }
        }
    }
    for e in &pass.evict {
        for (i, rates) in e.rates.iter().enumerate() {
            for (round, r) in rates.iter().enumerate() {
                let _ = writeln!(out, "evict\t{}\t{}\t{round}\t{r}", e.producers, EVICT[i]);
            }
        }
    }
    out.push_str("end\n");
    out
}

/// Reads a child's dump back into the workloads `cfg` asks for.
fn parse_dump(cfg: &Config, kind: PassKind, text: &str) -> Result<Pass, String> {
    fn num<T: std::str::FromStr>(s: &str) -> Option<T> {
        s.parse().ok()
    }
    /// Appends `x` as round `round`, which must be the next one.
    fn push<T>(v: &mut Vec<T>, round: &str, x: Option<T>) -> Option<()> {
        let x = x?;
        (num::<usize>(round)? == v.len()).then(|| v.push(x))
    }
    fn peer(names: &[&str], name: &str) -> Option<usize> {
        names.iter().position(|n| *n == name)
    }
    let mut lines = text.lines();
    if lines.next() != Some(DUMP_HEAD) {
        return Err("the output does not start with a dump".to_string());
    }
    let mut pass = Pass::empty(cfg, kind);
    for line in lines {
        let fields: Vec<&str> = line.split('\t').collect();
        let ok = match fields.as_slice() {
            ["pass", name] => (*name == kind.env()).then_some(()),
            ["cores", n] => num(n).map(|n| pass.cores = n),
            ["rounds", n] => num(n).map(|n| pass.rounds = n),
            ["sync", label, name, round, r] => pass
                .sync
                .iter_mut()
                .find(|s| s.work.label() == *label)
                .zip(peer(&PEERS, name))
                .and_then(|(s, i)| push(&mut s.rates[i], round, num(r))),
            ["async", label, name, round, r] => pass
                .asyncs
                .iter_mut()
                .find(|a| a.work.label() == *label)
                .zip(peer(&ASYNC_PEERS, name))
                .and_then(|(a, i)| push(&mut a.rates[i], round, num(r))),
            ["lossy", producers, name, round, ns, sent, received, handed_back] => {
                let run = (|| {
                    Some(LossyRun {
                        producer_time: Duration::from_nanos(num(ns)?),
                        sent: num(sent)?,
                        received: num(received)?,
                        handed_back: num(handed_back)?,
                    })
                })();
                pass.lossy
                    .iter_mut()
                    .find(|l| num(producers) == Some(l.producers))
                    .zip(peer(&LOSSY, name))
                    .and_then(|(l, i)| push(&mut l.runs[i], round, run))
            }
            ["evict", producers, name, round, r] => pass
                .evict
                .iter_mut()
                .find(|e| num(producers) == Some(e.producers))
                .zip(peer(&EVICT, name))
                .and_then(|(e, i)| push(&mut e.rates[i], round, num(r))),
            ["end"] => return Ok(pass),
            _ => None,
        };
        if ok.is_none() {
            return Err(format!("unexpected dump line {line:?}"));
        }
    }
    Err("the dump ends early (no `end` line)".to_string())
}

/// Runs one pass as a child process and reads its dump. `Err` where the
/// child failed (a workload's check, for one); `Unavailable` where the
/// one-core pass cannot be pinned here.
fn run_pass(cfg: &Config, kind: PassKind) -> Result<Outcome, String> {
    let exe = std::env::current_exe().map_err(|e| format!("no path to this binary: {e}"))?;
    // The child inherits the environment, COMPARE_ROUNDS, COMPARE_QUICK and
    // COMPARE_ONLY with it.
    let mut cmd = match kind {
        PassKind::Free => Command::new(&exe),
        PassKind::OneCore => {
            if !taskset_pins(&exe) {
                return Ok(Outcome::Unavailable("taskset not available"));
            }
            let mut cmd = Command::new("taskset");
            cmd.arg("-c").arg("0").arg(&exe);
            cmd
        }
    };
    cmd.env("COMPARE_PASS", kind.env())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    eprintln!("[{}] starting", kind.name());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("the {} pass did not start: {e}", kind.name()))?;
    let stderr = child.stderr.take().expect("stderr is piped");
    let forward = std::thread::spawn(move || {
        let mut stderr = BufReader::new(stderr);
        let mut line = Vec::new();
        while stderr.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
            let text = String::from_utf8_lossy(&line);
            eprintln!("[{}] {}", kind.name(), text.trim_end());
            line.clear();
        }
    });
    let mut out = String::new();
    let read = child
        .stdout
        .take()
        .expect("stdout is piped")
        .read_to_string(&mut out);
    let status = child.wait();
    let _ = forward.join();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => return Err(format!("the {} pass failed ({s})", kind.name())),
        Err(e) => return Err(format!("the {} pass was lost: {e}", kind.name())),
    }
    read.map_err(|e| format!("the {} pass's dump: {e}", kind.name()))?;
    parse_dump(cfg, kind, &out)
        .map(Outcome::Measured)
        .map_err(|e| format!("the {} pass's dump: {e}", kind.name()))
}

/// Whether `taskset -c 0` can run this binary here: it runs it once in its
/// probe mode, which only answers.
fn taskset_pins(exe: &Path) -> bool {
    Command::new("taskset")
        .arg("-c")
        .arg("0")
        .arg(exe)
        .env("COMPARE_PASS", "probe")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success() && o.stdout.starts_with(b"probe ok"))
}

fn main() {
    let cfg = Config::from_env();
    if let Ok(pass) = std::env::var("COMPARE_PASS") {
        if pass == "probe" {
            println!("probe ok, {} cores", available_cores());
            return;
        }
        let Some(kind) = PassKind::from_env(&pass) else {
            eprintln!("COMPARE_PASS={pass}: expected free or one-core");
            std::process::exit(2);
        };
        print!("{}", dump(&Pass::measure(&cfg, kind)));
        return;
    }
    if cfg.only_is("batch") {
        batch_only(cfg.rounds, |n| cfg.k(n));
        return;
    }
    let kinds = match std::env::var("COMPARE_PASSES").as_deref() {
        Err(_) | Ok("both") => vec![PassKind::Free, PassKind::OneCore],
        Ok(s) => match PassKind::from_env(s) {
            Some(kind) => vec![kind],
            None => {
                eprintln!("COMPARE_PASSES={s}: expected free, one-core or both");
                std::process::exit(2);
            }
        },
    };
    let mut passes = Vec::new();
    for kind in kinds {
        match run_pass(&cfg, kind) {
            Ok(outcome) => passes.push(outcome),
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        }
    }
    let cmd = command_line();
    if cfg.only_is("evict") {
        println!("{}", evict_only(&passes, cfg.rounds, &cmd));
        return;
    }
    let measured: Vec<&Pass> = passes
        .iter()
        .filter_map(|o| match o {
            Outcome::Measured(p) => Some(p),
            Outcome::Unavailable(_) => None,
        })
        .collect();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("results");
    let charts: Vec<&Pass> = measured
        .iter()
        .copied()
        .filter(|p| !p.sync.is_empty())
        .collect();
    let md = report(&passes, &charts, cfg.rounds, &cmd);
    println!("{md}");
    if measured.is_empty() {
        eprintln!("no pass could run; nothing written to {}", dir.display());
        return;
    }
    let _ = std::fs::create_dir_all(&dir);
    if let Err(e) = std::fs::write(dir.join("compare.md"), &md) {
        eprintln!("could not write compare.md: {e}");
    }
    for pass in charts {
        let file = pass.kind.chart_file();
        if let Err(e) = std::fs::write(dir.join(file), chart(pass, &cmd)) {
            eprintln!("could not write {file}: {e}");
        }
    }
}

/// The eviction tables alone (`COMPARE_ONLY=evict`), one per pass.
fn evict_only(passes: &[Outcome], rounds: usize, cmd: &str) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "{} UTC, {} per pass, `{cmd}`",
        utc_now(),
        count(rounds, "round")
    );
    for outcome in passes {
        match outcome {
            Outcome::Measured(pass) => {
                let _ = writeln!(md, "\n#### Eviction, {}\n", pass.kind.name());
                md.push_str(&evict_table(pass));
            }
            Outcome::Unavailable(why) => {
                let _ = writeln!(md, "\n#### Eviction, one core\n\nn/a ({why})");
            }
        }
    }
    md
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
    println!(
        "Batches of {} against one value at a time (M msg/s, medians)",
        batch_rows::BATCH
    );
    println!("| workload | per value | batches | ratio |");
    println!("| --- | ---: | ---: | ---: |");
    for ((label, _, _), (items, batches)) in rows.iter().zip(&rates) {
        println!(
            "| {label} | {:.2} | {:.2} | {:.2}x |",
            median(items).unwrap_or(0.0),
            median(batches).unwrap_or(0.0),
            median(&ratios(batches, items)).unwrap_or(0.0)
        );
    }
    println!("\n{}", stamp(rounds, available_cores(), &command_line()));
}

// ----- the report -----------------------------------------------------------

fn stamp(rounds: usize, cores: usize, cmd: &str) -> String {
    format!(
        "{} UTC, {}, {}, `{cmd}`",
        utc_now(),
        count(cores, "core"),
        count(rounds, "round")
    )
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

/// The command that reproduces this run, with the variables it was given.
fn command_line() -> String {
    let mut cmd = String::from("cd benches &&");
    for var in [
        "COMPARE_ROUNDS",
        "COMPARE_QUICK",
        "COMPARE_ONLY",
        "COMPARE_PASSES",
    ] {
        if let Ok(v) = std::env::var(var) {
            let plain = !v.is_empty()
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.,:/".contains(c));
            if plain {
                let _ = write!(cmd, " {var}={v}");
            } else {
                let _ = write!(cmd, " {var}='{}'", v.replace('\'', r"'\''"));
            }
        }
    }
    cmd.push_str(" cargo bench --bench compare");
    cmd
}

/// The first `model name` of /proc/cpuinfo.
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, model)| model.trim().to_string())
        })
        .filter(|model| !model.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// The peer crates whose versions the page names.
const PEER_CRATES: [&str; 6] = [
    "crossbeam-channel",
    "crossbeam-queue",
    "flume",
    "kanal",
    "tokio",
    "async-channel",
];

/// Each peer crate with the version `Cargo.lock` resolved it to.
fn peer_versions() -> String {
    const LOCK: &str = include_str!("Cargo.lock");
    let mut locked = Vec::new();
    let mut name = None;
    for line in LOCK.lines().map(str::trim) {
        if line.starts_with('[') {
            name = None;
        } else if let Some(v) = line.strip_prefix("name = ") {
            name = Some(v.trim_matches('"'));
        } else if let Some(v) = line.strip_prefix("version = ") {
            if let Some(n) = name.take() {
                locked.push((n, v.trim_matches('"')));
            }
        }
    }
    PEER_CRATES
        .iter()
        .map(|&krate| {
            let versions: Vec<&str> = locked
                .iter()
                .filter(|(n, _)| *n == krate)
                .map(|(_, v)| *v)
                .collect();
            if versions.is_empty() {
                format!("{krate} (not in Cargo.lock)")
            } else {
                format!("{krate} {}", versions.join(" and "))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// How a rate is shown.
#[derive(Clone, Copy)]
enum Unit {
    /// Millions of messages per second.
    Mps,
    /// Nanoseconds per round trip, from round trips per second.
    NsPerTrip,
    /// A fraction, as a percentage.
    Share,
}

impl Unit {
    fn show(self, x: f64) -> String {
        match self {
            Unit::Mps => format!("{:.2}", x / 1e6),
            Unit::NsPerTrip => format!("{:.0}", 1e9 / x),
            Unit::Share => format!("{:.2}%", x * 100.0),
        }
    }
}

fn na() -> String {
    "n/a".to_string()
}

/// The median of the rounds, then their min..max in parentheses (lowest
/// first as shown), or n/a where there are none.
fn cell(v: &[f64], unit: Unit) -> String {
    let (Some(m), Some((lo, hi))) = (median(v), min_max(v)) else {
        return na();
    };
    if v.len() < 2 {
        return unit.show(m);
    }
    let (a, b) = match unit {
        Unit::NsPerTrip => (hi, lo),
        _ => (lo, hi),
    };
    format!("{} ({}..{})", unit.show(m), unit.show(a), unit.show(b))
}

fn times(x: Option<f64>) -> String {
    x.map_or_else(na, |x| format!("{x:.2}x"))
}

/// weir/best peer with the peer's name.
fn best_cell(rates: &[Vec<f64>], peers: &[usize], names: &[&str]) -> String {
    best_peer(rates, peers).map_or_else(na, |b| format!("{:.2}x ({})", b.ratio, names[b.peer]))
}

/// `n` and `noun`, plural unless `n` is 1.
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// One summary row of one pass: weir's median rate, the best peer's name
/// and median rate, weir/best peer.
fn summary_cells(rates: &[Vec<f64>], peers: &[usize], names: &[&str], unit: Unit) -> [String; 3] {
    let weir = median(&rates[0]).map_or_else(na, |r| unit.show(r));
    match best_peer(rates, peers) {
        Some(b) => {
            let peer_rate = median(&rates[b.peer]).map_or_else(na, |r| unit.show(r));
            [
                weir,
                format!("{} {peer_rate}", names[b.peer]),
                format!("{:.2}x", b.ratio),
            ]
        }
        None => [weir, na(), na()],
    }
}

/// A summary row of one pass: the label and the cells of `summary_cells`.
type SummaryRow = (String, [String; 3]);

/// The summary rows of one pass: sync, async, then eviction.
fn summary_rows(pass: &Pass) -> Vec<SummaryRow> {
    let mut rows = Vec::new();
    for s in &pass.sync {
        let label = match s.work {
            Work::PingPong { .. } => {
                "ping-pong cap 1 (ns/trip; ratio: best peer's time / weir's)".to_string()
            }
            _ => s.work.label(),
        };
        let cells = summary_cells(&s.rates, &CHANNEL_PEERS, &PEERS, s.work.unit());
        rows.push((label, cells));
    }
    for a in &pass.asyncs {
        let cells = summary_cells(&a.rates, &[1, 2, 3, 4], &ASYNC_PEERS, Unit::Mps);
        rows.push((a.work.label(), cells));
    }
    for e in &pass.evict {
        let label = format!("evict, no consumer, {}", count(e.producers, "producer"));
        rows.push((label, summary_cells(&e.rates, &[1], &EVICT, Unit::Mps)));
    }
    rows
}

fn report(passes: &[Outcome], charts: &[&Pass], rounds: usize, cmd: &str) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "### weir against its peers\n");
    let _ = writeln!(
        md,
        "- Run: {} UTC, {} per pass",
        utc_now(),
        count(rounds, "round")
    );
    let _ = writeln!(md, "- Command: `{cmd}`");
    let cores: Vec<String> = passes
        .iter()
        .map(|o| match o {
            Outcome::Measured(p) => format!("{} ({})", p.cores, p.kind.name()),
            Outcome::Unavailable(why) => format!("n/a (one core: {why})"),
        })
        .collect();
    let _ = writeln!(md, "- CPU: {}; cores: {}", cpu_model(), cores.join(", "));
    let _ = writeln!(md, "- Compiler: {}", env!("COMPARE_RUSTC_VERSION"));
    let _ = writeln!(
        md,
        "- Peers, as locked in `benches/Cargo.lock`: {}",
        peer_versions()
    );
    if !charts.is_empty() {
        let files: Vec<String> = charts
            .iter()
            .map(|p| format!("`results/{}` ({})", p.kind.chart_file(), p.kind.name()))
            .collect();
        let _ = writeln!(md, "- Charts: {}", files.join(", "));
    }

    let _ = writeln!(
        md,
        "\n#### Summary\n\n\
         One row per workload, the passes side by side: weir's median rate, the best peer \
         (the one fastest in most rounds) with its median rate, and weir/best peer: the median \
         over rounds of weir's rate over the rate of the fastest peer in that same round (above \
         1: weir is faster). M msg/s; ping-pong in ns per round trip. Peers: crossbeam, std, \
         flume and kanal for the sync rows (ArrayQueue and VecDeque are not channels), tokio, \
         async-channel, flume and kanal for the async rows, `ArrayQueue::force_push` for \
         eviction. The lossy runs are in the tables of each pass.\n"
    );
    let rows: Vec<Option<Vec<SummaryRow>>> = passes
        .iter()
        .map(|o| match o {
            Outcome::Measured(p) => Some(summary_rows(p)),
            Outcome::Unavailable(_) => None,
        })
        .collect();
    match rows.iter().flatten().next() {
        None => {
            let _ = writeln!(md, "n/a: no pass could run.");
        }
        Some(first) => {
            let mut head = String::from("| workload |");
            let mut rule = String::from("|---|");
            for o in passes {
                let name = match o {
                    Outcome::Measured(p) => p.kind.name(),
                    Outcome::Unavailable(_) => PassKind::OneCore.name(),
                };
                let _ = write!(
                    head,
                    " weir, {name} | best peer, {name} | weir/best, {name} |"
                );
                rule.push_str("---:|---:|---:|");
            }
            let _ = writeln!(md, "{head}\n{rule}");
            for (r, (label, _)) in first.iter().enumerate() {
                let mut line = format!("| {label} |");
                for pass_rows in &rows {
                    match pass_rows.as_ref().and_then(|rows| rows.get(r)) {
                        Some((_, cells)) => {
                            for c in cells {
                                let _ = write!(line, " {c} |");
                            }
                        }
                        None => line.push_str(" n/a | n/a | n/a |"),
                    }
                }
                let _ = writeln!(md, "{line}");
            }
        }
    }

    for o in passes {
        match o {
            Outcome::Measured(pass) => {
                let _ = writeln!(
                    md,
                    "\n#### {}\n\n{}, {}.",
                    pass.kind.heading(),
                    count(pass.cores, "core"),
                    count(pass.rounds, "round")
                );
                md.push_str(&sync_table(pass));
                md.push_str(&seq_table(pass));
                md.push_str(&lossy_table(pass));
                if !pass.evict.is_empty() {
                    let _ = writeln!(md, "\n##### Eviction with no consumer\n");
                    md.push_str(&evict_table(pass));
                }
                md.push_str(&async_table(pass));
            }
            Outcome::Unavailable(why) => {
                let _ = writeln!(md, "\n#### {}\n\nn/a ({why})", PassKind::OneCore.heading());
            }
        }
    }

    let _ = writeln!(md, "\n#### Sizes\n\n{}", sizes());
    md
}

/// The sync API: every peer's rate, the ratios to crossbeam-channel, and
/// weir against the best channel peer.
fn sync_table(pass: &Pass) -> String {
    let mut md = String::new();
    if pass.sync.is_empty() {
        return md;
    }
    let _ = writeln!(
        md,
        "\n##### Sync API\n\n\
         Median M msg/s over rounds (ping-pong: ns per round trip), the min..max of rounds in \
         parentheses, then the median of per-round ratios to crossbeam-channel (higher is \
         better; for ping-pong, crossbeam's time over the peer's), and weir/best peer with the \
         peer best in most rounds. std has a single receiver, so it has no spmc or mpmc rows.\n"
    );
    let _ = writeln!(
        md,
        "| workload | weir | crossbeam | std | flume | kanal | weir/cb | std/cb | flume/cb | kanal/cb | weir/best peer |"
    );
    let _ = writeln!(
        md,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for s in &pass.sync {
        let mut row = format!("| {} |", s.work.label());
        for i in 0..CHANNELS {
            let _ = write!(row, " {} |", cell(&s.rates[i], s.work.unit()));
        }
        for i in [0, 2, 3, 4] {
            let _ = write!(row, " {} |", times(median(&s.to_cb(i))));
        }
        let _ = write!(row, " {} |", best_cell(&s.rates, &CHANNEL_PEERS, &PEERS));
        let _ = writeln!(md, "{row}");
    }
    md
}

/// `seq` against the queues that are not channels.
fn seq_table(pass: &Pass) -> String {
    let mut md = String::new();
    let rows: Vec<&Samples> = pass
        .sync
        .iter()
        .filter(|s| !s.rates[6].is_empty())
        .collect();
    if rows.is_empty() {
        return md;
    }
    let _ = writeln!(
        md,
        "\n`seq` against non-channel queues: M msg/s (min..max of rounds), then the median of \
         per-round ratios to crossbeam-channel.\n"
    );
    let _ = writeln!(
        md,
        "| workload | weir | ArrayQueue | VecDeque (ceiling) | weir/cb | ArrayQueue/cb | VecDeque/cb |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|");
    for s in rows {
        let mut row = format!("| {} |", s.work.label());
        for i in [0, 5, 6] {
            let _ = write!(row, " {} |", cell(&s.rates[i], Unit::Mps));
        }
        for i in [0, 5, 6] {
            let _ = write!(row, " {} |", times(median(&s.to_cb(i))));
        }
        let _ = writeln!(md, "{row}");
    }
    md
}

/// The lossy sends: each sender's producer rate, consumer share and
/// consumer rate, then the ratios between senders.
fn lossy_table(pass: &Pass) -> String {
    let mut md = String::new();
    if pass.lossy.is_empty() || pass.lossy.iter().any(|l| l.runs.iter().any(Vec::is_empty)) {
        return md;
    }
    let _ = writeln!(
        md,
        "\n##### Lossy sends\n\n\
         Lossy sends into capacity 64, one consumer with fixed work per item; received + \
         handed back == sent is checked every run. Consumer share = received / sent. Medians, \
         the min..max of rounds in parentheses.\n"
    );
    let _ = writeln!(
        md,
        "| producers | sender | producer M msg/s | consumer share | consumer M msg/s |"
    );
    let _ = writeln!(md, "|---:|---|---:|---:|---:|");
    for l in &pass.lossy {
        for (i, runs) in l.runs.iter().enumerate() {
            let rate: Vec<f64> = runs.iter().map(LossyRun::producer_rate).collect();
            let share: Vec<f64> = runs.iter().map(LossyRun::share).collect();
            let consumed: Vec<f64> = runs
                .iter()
                .map(|r| r.received as f64 / r.producer_time.as_secs_f64().max(1e-9))
                .collect();
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                l.producers,
                LOSSY[i],
                cell(&rate, Unit::Mps),
                cell(&share, Unit::Share),
                cell(&consumed, Unit::Mps),
            );
        }
    }
    let _ = writeln!(md, "\nMedians of per-round ratios:\n");
    let _ = writeln!(
        md,
        "| producers | producer rate, weir DropOldest / force_push | consumer share, weir DropOldest / weir DropNewest | consumer share, force_push / weir DropNewest | producer rate, weir DropNewest / crossbeam try_send |"
    );
    let _ = writeln!(md, "|---:|---:|---:|---:|---:|");
    for l in &pass.lossy {
        let ratio = |a: usize, b: usize, f: fn(&LossyRun) -> f64| {
            let v: Vec<f64> = l.runs[a]
                .iter()
                .zip(&l.runs[b])
                .map(|(x, y)| f(x) / f(y))
                .collect();
            times(median(&v))
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} |",
            l.producers,
            ratio(0, 1, LossyRun::producer_rate),
            ratio(0, 2, LossyRun::share),
            ratio(1, 2, LossyRun::share),
            ratio(2, 3, LossyRun::producer_rate),
        );
    }
    md
}

/// Eviction with no consumer: weir `DropOldest` against
/// `ArrayQueue::force_push`.
fn evict_table(pass: &Pass) -> String {
    let mut md = String::new();
    if pass.evict.is_empty() {
        return md;
    }
    let _ = writeln!(
        md,
        "Producers force values into a ring of 64 and nothing receives, so once it is full \
         every send evicts the oldest value. M msg/s over the slowest producer's time (min..max of rounds \
         in parentheses), then the median of per-round ratios.\n"
    );
    let _ = writeln!(
        md,
        "| producers | weir DropOldest | ArrayQueue::force_push | weir / force_push |"
    );
    let _ = writeln!(md, "|---:|---:|---:|---:|");
    for e in &pass.evict {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            e.producers,
            cell(&e.rates[0], Unit::Mps),
            cell(&e.rates[1], Unit::Mps),
            times(median(&ratios(&e.rates[0], &e.rates[1]))),
        );
    }
    md
}

/// The async rows: every peer's rate, weir over each peer (medians of
/// per-round ratios), and weir against the best peer.
fn async_table(pass: &Pass) -> String {
    let mut md = String::new();
    if pass.asyncs.is_empty() {
        return md;
    }
    let _ = writeln!(
        md,
        "\n##### Async: tasks on a tokio runtime with 2 workers\n\n\
         Median M msg/s, the min..max of rounds in parentheses, then the median of per-round \
         ratios weir / peer (above 1: weir is faster), and weir/best peer with the peer best in \
         most rounds. tokio's channel has a single receiver, so it has no mpmc rows. `thread → \
         task`: one plain thread sends with each peer's blocking send, one task receives.\n"
    );
    let mut head = String::from("| workload |");
    let mut rule = String::from("|---|");
    for p in ASYNC_PEERS {
        let _ = write!(head, " {p} |");
        rule.push_str("---:|");
    }
    for p in &ASYNC_PEERS[1..] {
        let _ = write!(head, " weir/{p} |");
        rule.push_str("---:|");
    }
    head.push_str(" weir/best peer |");
    rule.push_str("---:|");
    let _ = writeln!(md, "{head}\n{rule}");
    for a in &pass.asyncs {
        let mut row = format!("| {} |", a.work.label());
        for r in &a.rates {
            let _ = write!(row, " {} |", cell(r, Unit::Mps));
        }
        for i in 1..ASYNC_PEERS.len() {
            let _ = write!(
                row,
                " {} |",
                times(median(&ratios(&a.rates[0], &a.rates[i])))
            );
        }
        let _ = write!(
            row,
            " {} |",
            best_cell(&a.rates, &[1, 2, 3, 4], &ASYNC_PEERS)
        );
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

/// One pass's sync rows: each peer's rate as a ratio to crossbeam-channel,
/// the median of rounds as a bar and their min..max as a whisker.
fn chart(pass: &Pass, cmd: &str) -> String {
    const SHOWN: [usize; 4] = [0, 2, 3, 4];
    const COLORS: [&str; 5] = ["#d62728", "#888888", "#1f77b4", "#2ca02c", "#ff7f0e"];
    let samples = &pass.sync;
    let bar = 11.0;
    let group = bar * SHOWN.len() as f64 + 12.0;
    let left = 190.0;
    let width = 560.0;
    let top = 62.0;
    let bottom = top + group * samples.len() as f64;
    let height = bottom + 50.0;
    let max = samples
        .iter()
        .flat_map(|s| SHOWN.iter().filter_map(|&i| median(&s.to_cb(i))))
        .fold(1.0f64, f64::max);
    // Bars and whiskers past the scale are clipped (their value is still
    // printed), so that one outlier does not flatten every other bar.
    let scale_max = (max * 1.1).ceil().clamp(2.0, 4.0);
    let x = |r: f64| left + width * (r.min(scale_max) / scale_max);
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
        r#"<text x="10" y="18" font-size="14" font-weight="bold">Rate relative to crossbeam-channel, {} (1.0 = crossbeam; higher is better; bars clipped at {scale_max:.0}x)</text>"#,
        pass.kind.name()
    );
    let _ = writeln!(
        svg,
        r#"<text x="10" y="34">{}</text>"#,
        xml_escape(&format!(
            "{}: {}",
            pass.kind.name(),
            stamp(pass.rounds, pass.cores, cmd)
        ))
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
    let wx = left + SHOWN.len() as f64 * 90.0;
    let _ = writeln!(
        svg,
        r##"<line x1="{wx}" y1="47" x2="{0}" y2="47" stroke="#222222"/><line x1="{wx}" y1="44" x2="{wx}" y2="50" stroke="#222222"/><line x1="{0}" y1="44" x2="{0}" y2="50" stroke="#222222"/><text x="{1}" y="51">min..max of rounds</text>"##,
        wx + 14.0,
        wx + 20.0
    );
    for (g, s) in samples.iter().enumerate() {
        let gy = top + g as f64 * group;
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            left - 8.0,
            gy + group / 2.0,
            xml_escape(&s.work.chart_label())
        );
        for (k, &i) in SHOWN.iter().enumerate() {
            let y = gy + k as f64 * bar;
            let per_round = s.to_cb(i);
            let (Some(r), Some((lo, hi))) = (median(&per_round), min_max(&per_round)) else {
                let _ = writeln!(
                    svg,
                    r##"<text x="{}" y="{}" font-size="9" fill="#666666">n/a</text>"##,
                    left + 3.0,
                    y + bar - 3.0
                );
                continue;
            };
            let _ = writeln!(
                svg,
                r#"<rect x="{left}" y="{y}" width="{:.1}" height="{}" fill="{}"/>"#,
                (x(r) - left).max(0.5),
                bar - 2.0,
                COLORS[i]
            );
            let mut end = x(r);
            if per_round.len() > 1 {
                let cy = y + (bar - 2.0) / 2.0;
                let _ = writeln!(
                    svg,
                    r##"<line x1="{0:.1}" y1="{cy}" x2="{1:.1}" y2="{cy}" stroke="#222222"/><line x1="{0:.1}" y1="{2}" x2="{0:.1}" y2="{3}" stroke="#222222"/><line x1="{1:.1}" y1="{2}" x2="{1:.1}" y2="{3}" stroke="#222222"/>"##,
                    x(lo),
                    x(hi),
                    cy - 3.0,
                    cy + 3.0
                );
                end = end.max(x(hi));
            }
            let _ = writeln!(
                svg,
                r#"<text x="{:.1}" y="{}" font-size="9">{r:.2}</text>"#,
                end + 3.0,
                y + bar - 3.0
            );
        }
    }
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
    let _ = writeln!(
        svg,
        r#"<text x="10" y="{}">Every row is a ratio of rates; for ping-pong, crossbeam's time per round trip over the peer's. n/a: no such channel (std has a single receiver).</text>"#,
        bottom + 34.0
    );
    svg.push_str("</svg>\n");
    svg
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('`', "")
}
