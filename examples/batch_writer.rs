//! A batch writer with adaptive flushing, pause and resume, and a graceful
//! drain: producers push events into one channel, and a consumer writes them
//! to a simulated database in batches of up to 100, flushed by size or by a
//! linger that starts at 50 ms.
//!
//! * **The database** costs a fixed round trip per write plus a cost per row
//!   that grows with the rows written over the last second, so it slows down
//!   as the load rises.
//! * **The linger adapts** to the last write, as a flush controller would: a
//!   write slower than 1.5 times the target lengthens it by half (bigger
//!   batches, fewer round trips), one faster than half the target shortens it
//!   by a fifth (fresher data while the database has room).
//! * **Producers pause** when `pressure()` reads `Critical` (or `Full`) and
//!   resume when `wait_normal()` returns, below the low watermark. While a
//!   producer is paused its events wait upstream, at the source, and it
//!   catches up in chunks once it resumes.
//! * **The policy is `DropOldest`**, the choice for events where fresh ones
//!   matter more than old ones. Pausing keeps the ring from filling only if
//!   the chunks fit above the high watermark: when the level crosses it, each
//!   producer may have one chunk on its way, sent after it looked. Here that
//!   is up to 4 x 100 events on top of 800, more than the 1,000 slots, so
//!   producers racing past the watermark together can fill the ring; then
//!   each send evicts the oldest event and hands it back to the producer,
//!   which counts it as dropped. Most runs drop nothing; with
//!   `PRODUCERS * CHUNK` at most `capacity - high watermark`, none could.
//!   (Where no event may be lost, use `Block`: a full channel then makes
//!   `send` wait.)
//! * **The drain**: after the run time, `close()` shuts the channel. Producers
//!   see it at their next send or pause and stop; the consumer writes every
//!   event still queued and ends when `recv_batch_linger` reports the
//!   channel closed and empty. A real service would make the same `close()`
//!   call from its signal handler on Ctrl-C; this example has no signal
//!   handling (the standard library has no portable one), so interrupting it
//!   ends the process without the drain or the report.
//!
//! The load goes through four phases: quiet, a spike beyond what the
//! database can take, calm, and a second spike that the close lands in.
//! Every event is accounted for at the end:
//! offered = written + dropped (evicted, or refused at the close), and the
//! example asserts it, against the channel's own counters too.
//!
//! ```text
//! cargo run --release --example batch_writer            # 3 seconds
//! cargo run --release --example batch_writer -- 5       # or --secs 5
//! ```

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use weir::{DropOldest, Pressure, Receiver, Sender};

const PRODUCERS: usize = 4;
const CAPACITY: usize = 1_000;
/// Pause at 80% (`Critical`), resume below 50% (`Normal`).
const WATERMARKS: (f64, f64) = (0.5, 0.8);
/// The most events a producer reads from its source and sends between two
/// looks at the pressure.
const CHUNK: usize = 100;
/// How often a producer looks at its source.
const TICK: Duration = Duration::from_millis(1);

const MAX_BATCH: usize = 100;
const FIRST_LINGER: Duration = Duration::from_millis(50);
const MIN_LINGER: Duration = Duration::from_millis(5);
const MAX_LINGER: Duration = Duration::from_millis(200);
/// The write time the linger is tuned around.
const TARGET_WRITE: Duration = Duration::from_millis(8);

/// The simulated database: each write pays a round trip, plus a cost per
/// row that rises by 15 ns for every row written in the last second.
const ROUND_TRIP: Duration = Duration::from_millis(1);
const ROW_COST: Duration = Duration::from_micros(5);
const LOAD_COST_PER_ROW: Duration = Duration::from_nanos(15);

/// Events per second offered by all producers together: a quiet phase, a
/// spike beyond what the database can take, a calm one, and a second spike
/// that the close lands in, so the drain has a backlog to write.
const QUIET_RATE: f64 = 1_000.0;
const SPIKE_RATE: f64 = 12_000.0;
const CALM_RATE: f64 = 1_500.0;

/// One event, stamped when its producer offered it.
#[derive(Debug)]
struct Event {
    producer: usize,
    seq: u64,
    offered_at: Instant,
}

/// The phase of the load at `elapsed` into a run of `run_for`: a quarter
/// each.
fn phase(elapsed: Duration, run_for: Duration) -> (&'static str, f64) {
    match (elapsed.as_secs_f64() / run_for.as_secs_f64() * 4.0) as u32 {
        0 => ("quiet", QUIET_RATE),
        1 => ("spike", SPIKE_RATE),
        2 => ("calm", CALM_RATE),
        _ => ("spike", SPIKE_RATE),
    }
}

// ----- the database ---------------------------------------------------------

/// A table that gets slower the more it is written to.
struct Database {
    rows: u64,
    /// The writes of the last second: when, and how many rows.
    recent: VecDeque<(Instant, usize)>,
    recent_rows: usize,
}

impl Database {
    fn new() -> Self {
        Self {
            rows: 0,
            recent: VecDeque::new(),
            recent_rows: 0,
        }
    }

    /// Writes `batch` and returns how long the write took.
    fn write(&mut self, batch: &[Event]) -> Duration {
        let start = Instant::now();
        while let Some(&(at, rows)) = self.recent.front() {
            if start.duration_since(at) < Duration::from_secs(1) {
                break;
            }
            self.recent.pop_front();
            self.recent_rows -= rows;
        }
        let per_row = ROW_COST + LOAD_COST_PER_ROW * self.recent_rows as u32;
        thread::sleep(ROUND_TRIP + per_row * batch.len() as u32);
        self.recent.push_back((start, batch.len()));
        self.recent_rows += batch.len();
        self.rows += batch.len() as u64;
        start.elapsed()
    }
}

/// The linger for the next batch, from the time the last write took.
fn adapt_linger(linger: Duration, last_write: Duration) -> Duration {
    if last_write > TARGET_WRITE * 3 / 2 {
        (linger * 3 / 2).min(MAX_LINGER)
    } else if last_write < TARGET_WRITE / 2 {
        (linger * 4 / 5).max(MIN_LINGER)
    } else {
        linger
    }
}

// ----- what the threads share with the monitor ------------------------------

/// Readings the producers and the consumer publish for the status lines.
#[derive(Default)]
struct Gauges {
    paused_now: AtomicUsize,
    written: AtomicU64,
    dropped: AtomicU64,
    linger_us: AtomicU64,
    last_batch: AtomicUsize,
    last_write_us: AtomicU64,
}

/// What one producer did.
#[derive(Default)]
struct ProducerReport {
    offered: u64,
    evicted: u64,
    refused_at_close: u64,
    pauses: u64,
    paused_for: Duration,
    /// Events that had arrived at the source but were never offered.
    left_upstream: u64,
}

/// What the consumer did.
struct ConsumerReport {
    written: u64,
    batches: u64,
    /// Batches written after the close.
    drain_batches: u64,
    /// When the last batch was written and the channel read closed and empty.
    finished_at: Instant,
    oldest_written: Duration,
    final_linger: Duration,
}

// ----- the producers --------------------------------------------------------

fn produce(
    id: usize,
    tx: Sender<Event, DropOldest>,
    gauges: &Gauges,
    start: Instant,
    run_for: Duration,
) -> ProducerReport {
    let mut report = ProducerReport::default();
    let mut seq = 0;
    // Events that have arrived at this producer's source and are not yet
    // offered, fractions included.
    let mut due = 0.0_f64;
    let mut last_look = start;
    loop {
        let now = Instant::now();
        let (_, rate) = phase(now - start, run_for);
        due += rate / PRODUCERS as f64 * (now - last_look).as_secs_f64();
        last_look = now;

        while due >= 1.0 {
            if matches!(tx.pressure(), Pressure::Critical | Pressure::Full) {
                // Pause: stop reading the source until the consumer has
                // brought the level under the low watermark.
                report.pauses += 1;
                gauges.paused_now.fetch_add(1, Ordering::Relaxed);
                let paused_at = Instant::now();
                let relieved = tx.wait_normal();
                report.paused_for += paused_at.elapsed();
                gauges.paused_now.fetch_sub(1, Ordering::Relaxed);
                if relieved.is_err() {
                    // Closed while paused.
                    report.left_upstream = due as u64;
                    return report;
                }
            }
            let chunk = (due as usize).min(CHUNK);
            for _ in 0..chunk {
                let event = Event {
                    producer: id,
                    seq,
                    offered_at: Instant::now(),
                };
                seq += 1;
                report.offered += 1;
                due -= 1.0;
                match tx.send(event) {
                    Ok(None) => {}
                    Ok(Some(_oldest)) => {
                        // Full: the oldest queued event was evicted for this
                        // one and handed back here.
                        report.evicted += 1;
                        gauges.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_refused) => {
                        // Closed: the event comes back; stop producing.
                        report.refused_at_close += 1;
                        gauges.dropped.fetch_add(1, Ordering::Relaxed);
                        report.left_upstream = due as u64;
                        return report;
                    }
                }
            }
        }
        thread::sleep(TICK);
    }
}

// ----- the consumer ---------------------------------------------------------

fn consume(rx: Receiver<Event>, gauges: &Gauges, closed: &AtomicBool) -> ConsumerReport {
    let mut db = Database::new();
    let mut linger = FIRST_LINGER;
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut last_seq = [None::<u64>; PRODUCERS];
    let mut batches = 0;
    let mut drain_batches = 0;
    let mut oldest_written = Duration::ZERO;
    gauges
        .linger_us
        .store(linger.as_micros() as u64, Ordering::Relaxed);

    // Up to MAX_BATCH events, or what came within `linger` of the first.
    // After the close it takes what is queued without lingering, and once
    // the channel is empty it reports the disconnect: the drain is done.
    while rx.recv_batch_linger(&mut batch, MAX_BATCH, linger).is_ok() {
        for event in &batch {
            // Per producer, events arrive in the order offered (evictions
            // leave gaps, never reorder).
            let prev = last_seq[event.producer].replace(event.seq);
            assert!(prev.map_or(true, |p| p < event.seq), "per-producer order");
            oldest_written = oldest_written.max(event.offered_at.elapsed());
        }
        let took = db.write(&batch);
        linger = adapt_linger(linger, took);
        batches += 1;
        if closed.load(Ordering::Relaxed) {
            drain_batches += 1;
        }
        gauges
            .written
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        gauges.last_batch.store(batch.len(), Ordering::Relaxed);
        gauges
            .last_write_us
            .store(took.as_micros() as u64, Ordering::Relaxed);
        gauges
            .linger_us
            .store(linger.as_micros() as u64, Ordering::Relaxed);
        batch.clear();
    }
    ConsumerReport {
        written: db.rows,
        batches,
        drain_batches,
        finished_at: Instant::now(),
        oldest_written,
        final_linger: linger,
    }
}

// ----- the run --------------------------------------------------------------

fn main() {
    let secs = parse_secs();
    let run_for = Duration::from_secs(secs);
    let (tx, rx) = weir::Builder::new(CAPACITY)
        .watermarks(WATERMARKS.0, WATERMARKS.1)
        .build::<Event, DropOldest>()
        .expect("a valid configuration");
    println!(
        "{PRODUCERS} producers ({QUIET_RATE}/s quiet, {SPIKE_RATE}/s spike, {CALM_RATE}/s calm, spike again), \
         DropOldest channel of {CAPACITY} (pause at {}, resume below {}), \
         batches of up to {MAX_BATCH}, linger {} ms to start, {secs} s\n",
        tx.high_watermark(),
        tx.low_watermark(),
        FIRST_LINGER.as_millis(),
    );

    let gauges = Arc::new(Gauges::default());
    // Set at the close, so the consumer can count the batches of the drain.
    let closed = Arc::new(AtomicBool::new(false));
    let start = Instant::now();

    let producers: Vec<_> = (0..PRODUCERS)
        .map(|id| {
            let tx = tx.clone();
            let gauges = gauges.clone();
            thread::spawn(move || produce(id, tx, &gauges, start, run_for))
        })
        .collect();
    let consumer = {
        let gauges = gauges.clone();
        let closed = closed.clone();
        thread::spawn(move || consume(rx, &gauges, &closed))
    };

    // A status line every quarter of a second, read from a sender of our own.
    let every = Duration::from_millis(250);
    let mut next = start + every;
    while next <= start + run_for {
        thread::sleep(next.saturating_duration_since(Instant::now()));
        // Named after the phase of the quarter second it sums up.
        let (phase, _) = phase(next - start - every / 2, run_for);
        print_status(&tx, &gauges, start.elapsed(), phase);
        next += every;
    }

    // Shut down: the same call a signal handler would make.
    let queued_at_close = tx.len();
    let close_instant = Instant::now();
    closed.store(true, Ordering::Relaxed);
    assert!(tx.close(), "this is the call that closes the channel");
    println!(
        "closed at {:.2} s with {queued_at_close} events queued ({})",
        (close_instant - start).as_secs_f64(),
        tx.pressure(),
    );

    let reports: Vec<ProducerReport> = producers
        .into_iter()
        .map(|p| p.join().expect("a producer"))
        .collect();
    let consumer = consumer.join().expect("the consumer");
    let drain = consumer
        .finished_at
        .saturating_duration_since(close_instant);
    let stats = tx.stats();

    let offered: u64 = reports.iter().map(|r| r.offered).sum();
    let evicted: u64 = reports.iter().map(|r| r.evicted).sum();
    let refused: u64 = reports.iter().map(|r| r.refused_at_close).sum();
    let pauses: u64 = reports.iter().map(|r| r.pauses).sum();
    let paused_for: Duration = reports.iter().map(|r| r.paused_for).sum();
    let left_upstream: u64 = reports.iter().map(|r| r.left_upstream).sum();
    let dropped = evicted + refused;

    println!(
        "drained in {:.1} ms, {} writes after the close; {} events left in the channel",
        drain.as_secs_f64() * 1e3,
        consumer.drain_batches,
        tx.len(),
    );
    println!(
        "\noffered {offered} = written {} + dropped {dropped} \
         (evicted and handed back {evicted}, refused at the close {refused})",
        consumer.written,
    );
    println!(
        "{} batches, {:.1} events each on average; the linger ended at {} ms",
        consumer.batches,
        consumer.written as f64 / consumer.batches.max(1) as f64,
        consumer.final_linger.as_millis(),
    );
    println!(
        "producers paused {pauses} times, {:.2} s summed over the producers; {left_upstream} events were still \
         at their sources when they stopped (never offered)",
        paused_for.as_secs_f64(),
    );
    println!(
        "the channel never held more than {CAPACITY} events; the oldest one written had waited {:.1} ms",
        consumer.oldest_written.as_secs_f64() * 1e3,
    );

    assert_eq!(
        offered,
        consumer.written + dropped,
        "every event offered is written or dropped"
    );
    // The channel's own counters agree: what went in was received or
    // evicted, and nothing is left.
    assert_eq!(stats.sent, offered - refused);
    assert_eq!(stats.received, consumer.written);
    assert_eq!(stats.evicted, evicted);
    assert!(tx.is_empty());
}

fn print_status(tx: &Sender<Event, DropOldest>, gauges: &Gauges, elapsed: Duration, phase: &str) {
    const WIDTH: usize = 20;
    let len = tx.len();
    let filled = (len * WIDTH).div_ceil(CAPACITY).min(WIDTH);
    println!(
        "t={:>5.2}s {phase:<6} [{}{}] {len:>4} {:<8} paused {}/{PRODUCERS}  linger {:>3} ms  \
         batch {:>3}  write {:>4.1} ms  written {:>6}  dropped {:>4}",
        elapsed.as_secs_f64(),
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
        tx.pressure(),
        gauges.paused_now.load(Ordering::Relaxed),
        gauges.linger_us.load(Ordering::Relaxed) / 1_000,
        gauges.last_batch.load(Ordering::Relaxed),
        gauges.last_write_us.load(Ordering::Relaxed) as f64 / 1e3,
        gauges.written.load(Ordering::Relaxed),
        gauges.dropped.load(Ordering::Relaxed),
    );
}

/// `N` or `--secs N` (default 3).
fn parse_secs() -> u64 {
    let mut args = std::env::args().skip(1);
    let mut secs = 3;
    let parse = |v: Option<String>| {
        v.and_then(|v| v.parse().ok())
            .filter(|&s| s > 0)
            .unwrap_or_else(|| {
                eprintln!("the run time is a whole number of seconds, at least 1");
                std::process::exit(2)
            })
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--secs" => secs = parse(args.next()),
            "-h" | "--help" => {
                println!("usage: batch_writer [[--secs] N]   (default 3 seconds)");
                std::process::exit(0)
            }
            _ if arg.starts_with(|c: char| c.is_ascii_digit()) => secs = parse(Some(arg)),
            other => {
                eprintln!("unknown argument {other:?}; usage: batch_writer [[--secs] N]");
                std::process::exit(2)
            }
        }
    }
    secs
}
