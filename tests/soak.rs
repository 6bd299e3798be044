//! Soak: a long run of every policy, with the books balanced exactly at the
//! end and the counters watched on the way.
//!
//! Ignored by default; run with
//!
//! ```text
//! cargo test --release --test soak -- --ignored soak --nocapture
//! ```
//!
//! For each policy, [`PRODUCERS`] senders push `WEIR_SOAK_MESSAGES` values
//! in all (default 10^8) through a channel of capacity [`CAPACITY`] to
//! [`CONSUMERS`] receivers, while a further thread samples `stats()`. The
//! soaks take a lock so they run one at a time and their times mean
//! something; each prints its time.
//!
//! Values are plain `u64`s, the producer in the high bits and its sequence
//! number in the low ones, so the channel does no allocation and the checks
//! stay cheap:
//!
//! * each consumer sees each producer's values in increasing order;
//! * per producer, the values received plus those handed back to senders
//!   (evicted, refused, sampled out) match what it offered, in number, in
//!   sum and in sum of squares: a value lost, duplicated or invented would
//!   have to be cancelled out in all three at once;
//! * at the end the channel's counters agree exactly with those tallies
//!   (`sent == received + evicted`, `handed_back()` equals what senders got
//!   back, nothing discarded, nothing left);
//! * at every sample, no counter has shrunk since the last one (`received`
//!   included: a snapshot never counts an eviction half done),
//!   `sent - (received + evicted + discarded)` lies in `0..=capacity` (the
//!   snapshot is taken at one instant, where this is the length), and the
//!   counters a policy never touches stay zero.
//!
//! What it cannot check: the sums make exactly-once overwhelmingly likely,
//! not certain (`tests/stress.rs` checks it exactly, with drop counts, at a
//! smaller size); `tests/readings.rs` checks each field of a snapshot
//! against the workers' own counts, which this soak does not; and a soak
//! finds only the interleavings this machine happens to produce. Values are never dropped by the channel here (receivers outlive
//! senders), so `discarded` is only checked to stay zero.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use weir::{Block, DropNewest, DropOldest, Policy, Sample, SendOutcome, Stats};

const PRODUCERS: usize = 4;
const CONSUMERS: usize = 4;
const CAPACITY: usize = 64;

/// Bits of a value that hold the sequence number.
const SEQ_BITS: u32 = 48;

/// Soaks run one at a time, so each has the machine to itself.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn messages() -> u64 {
    match std::env::var("WEIR_SOAK_MESSAGES") {
        Ok(s) => s
            .replace('_', "")
            .parse()
            .unwrap_or_else(|e| panic!("WEIR_SOAK_MESSAGES={s:?}: {e}")),
        Err(_) => 100_000_000,
    }
}

fn encode(producer: usize, seq: u64) -> u64 {
    (producer as u64) << SEQ_BITS | seq
}

fn decode(value: u64) -> (usize, u64) {
    ((value >> SEQ_BITS) as usize, value & ((1 << SEQ_BITS) - 1))
}

/// Count, sum and sum of squares of sequence numbers, per producer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Tally {
    count: u64,
    sum: u64,
    squares: u64,
}

impl Tally {
    #[inline]
    fn add(&mut self, seq: u64) {
        self.count += 1;
        self.sum = self.sum.wrapping_add(seq);
        self.squares = self.squares.wrapping_add(seq.wrapping_mul(seq));
    }

    fn merge(&mut self, other: &Tally) {
        self.count += other.count;
        self.sum = self.sum.wrapping_add(other.sum);
        self.squares = self.squares.wrapping_add(other.squares);
    }

    /// The tally of `0..n`, modulo 2^64 as `add` computes it.
    fn of_range(n: u64) -> Self {
        let n = u128::from(n);
        let sum = n * n.saturating_sub(1) / 2;
        let squares = n.saturating_sub(1) * n * (2 * n).saturating_sub(1) / 6;
        Self {
            count: n as u64,
            sum: sum as u64,
            squares: squares as u64,
        }
    }
}

type Tallies = [Tally; PRODUCERS];

fn merge_all(parts: impl IntoIterator<Item = Tallies>) -> Tallies {
    let mut all = Tallies::default();
    for part in parts {
        for (a, p) in all.iter_mut().zip(&part) {
            a.merge(p);
        }
    }
    all
}

/// Values producer `p` offers.
fn share(total: u64, p: usize) -> u64 {
    total / PRODUCERS as u64 + u64::from((p as u64) < total % PRODUCERS as u64)
}

/// The counters a policy may move besides `sent` and `received`:
/// `(evicted, refused, sampled_out)`.
fn moves<P: Policy>() -> (bool, bool, bool) {
    match P::NAME {
        "Block" => (false, false, false),
        "DropOldest" => (true, false, false),
        "DropNewest" => (false, true, false),
        "Sample" => (false, true, true),
        other => panic!("unknown policy {other}"),
    }
}

/// Checks what must hold of any one snapshot, and of two in a row.
fn check_sample<P: Policy>(prev: &Stats, now: &Stats, len: usize) {
    let name = P::NAME;
    let grows = [
        ("sent", prev.sent, now.sent),
        ("received", prev.received, now.received),
        ("evicted", prev.evicted, now.evicted),
        ("refused", prev.refused, now.refused),
        ("sampled_out", prev.sampled_out, now.sampled_out),
        ("discarded", prev.discarded, now.discarded),
    ];
    // Each snapshot is taken at one instant, so every counter only grows
    // from one to the next, `received` under DropOldest included (an
    // eviction under way is never half counted).
    for (field, before, after) in grows {
        assert!(
            after >= before,
            "{name}: {field} went back from {before} to {after}: {prev:?} then {now:?}"
        );
    }
    let taken = now.received + now.evicted + now.discarded;
    assert!(
        now.sent >= taken && now.sent - taken <= CAPACITY as u64,
        "{name}: sent - (received + evicted + discarded) outside 0..={CAPACITY}: {now:?}"
    );
    assert!(len <= CAPACITY, "{name}: len {len}");
    let (evicts, refuses, samples) = moves::<P>();
    assert!(evicts || now.evicted == 0, "{name}: evicted: {now:?}");
    assert!(refuses || now.refused == 0, "{name}: refused: {now:?}");
    assert!(
        samples || now.sampled_out == 0,
        "{name}: sampled out: {now:?}"
    );
    assert_eq!(now.discarded, 0, "{name}: discarded with receivers alive");
}

fn soak<P: Policy>() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let name = P::NAME;
    let total = messages();
    assert!(
        share(total, 0) < 1 << SEQ_BITS,
        "WEIR_SOAK_MESSAGES too large"
    );
    let (tx, rx) = weir::bounded::<u64, P>(CAPACITY);
    let start = Instant::now();

    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let tx = tx.clone();
            thread::spawn(move || {
                let mut back = Tallies::default();
                for seq in 0..share(total, p) {
                    let outcome = tx.send(encode(p, seq));
                    assert!(!outcome.is_disconnected(), "{name}: receivers gone");
                    if let Some(value) = outcome.handed_back() {
                        let (q, s) = decode(value);
                        back[q].add(s);
                    }
                }
                back
            })
        })
        .collect();
    drop(tx);

    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| {
            let rx = rx.clone();
            thread::spawn(move || {
                let mut got = Tallies::default();
                let mut next = [0u64; PRODUCERS];
                while let Ok(value) = rx.recv() {
                    let (p, seq) = decode(value);
                    assert!(p < PRODUCERS, "{name}: {value:#x} was never sent");
                    assert!(
                        seq >= next[p],
                        "{name}: producer {p}: {seq} after {} at one consumer",
                        next[p].wrapping_sub(1)
                    );
                    next[p] = seq + 1;
                    got[p].add(seq);
                }
                got
            })
        })
        .collect();

    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (rx, done) = (rx.clone(), done.clone());
        thread::spawn(move || {
            let mut prev = Stats::default();
            let mut samples = 0u64;
            while !done.load(Ordering::Acquire) {
                let now = rx.stats();
                check_sample::<P>(&prev, &now, rx.len());
                let _ = rx.pressure();
                prev = now;
                samples += 1;
                thread::sleep(Duration::from_millis(1));
            }
            (prev, samples)
        })
    };

    let back = merge_all(producers.into_iter().map(|t| t.join().unwrap()));
    let got = merge_all(consumers.into_iter().map(|t| t.join().unwrap()));
    let elapsed = start.elapsed();
    done.store(true, Ordering::Release);
    let (last_sample, samples) = sampler.join().unwrap();

    // Every value offered was received or handed back, exactly once.
    for p in 0..PRODUCERS {
        let mut both = got[p];
        both.merge(&back[p]);
        assert_eq!(
            both,
            Tally::of_range(share(total, p)),
            "{name}: producer {p}: received {:?} + handed back {:?} != offered",
            got[p],
            back[p]
        );
    }
    let received: u64 = got.iter().map(|t| t.count).sum();
    let handed_back: u64 = back.iter().map(|t| t.count).sum();
    assert_eq!(received + handed_back, total, "{name}");

    // The counters, now that the channel is quiet, agree exactly.
    let stats = rx.stats();
    check_sample::<P>(&last_sample, &stats, rx.len());
    assert_eq!(rx.len(), 0, "{name}");
    assert_eq!(stats.received, received, "{name}: {stats:?}");
    assert_eq!(stats.handed_back(), handed_back, "{name}: {stats:?}");
    assert_eq!(
        stats.sent,
        stats.received + stats.evicted,
        "{name}: {stats:?}"
    );
    assert_eq!(
        stats.received + stats.handed_back() + stats.discarded,
        total,
        "{name}: {stats:?}"
    );

    let secs = elapsed.as_secs_f64();
    eprintln!(
        "soak {name}: {total} messages in {elapsed:.2?} ({:.1} M/s offered); \
         received {received}, handed back {handed_back} \
         (evicted {}, refused {}, sampled out {}); {samples} stats samples",
        total as f64 / secs / 1e6,
        stats.evicted,
        stats.refused,
        stats.sampled_out,
    );
}

#[test]
#[ignore = "long: run with --ignored soak, in release"]
fn soak_block() {
    soak::<Block>();
}

#[test]
#[ignore = "long: run with --ignored soak, in release"]
fn soak_drop_oldest() {
    soak::<DropOldest>();
}

#[test]
#[ignore = "long: run with --ignored soak, in release"]
fn soak_drop_newest() {
    soak::<DropNewest>();
}

#[test]
#[ignore = "long: run with --ignored soak, in release"]
fn soak_sample() {
    soak::<Sample>();
}
