//! The overload scenario: a producer at 10,000 messages per second feeds a
//! consumer that handles 1,000 per second, for a few seconds, once per weir
//! policy and once through an unbounded `std::sync::mpsc::channel` (no
//! backpressure at all).
//!
//! Once a second each run prints its state; at the end a table compares what
//! each run sent, delivered and handed back, how long the queue grew, how much
//! memory it took, and how long messages waited between send and receive.
//! Every figure is measured while the run goes: memory by a counting global
//! allocator, queue length by sampling, latency by timestamps in the messages.
//!
//! ```text
//! cargo run --release --example overload            # 3 seconds per run
//! cargo run --release --example overload -- --secs 5
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use weir::{Block, DropNewest, DropOldest, Policy, Pressure, Sample, SendOutcome};

const PRODUCER_RATE: u64 = 10_000;
const CONSUMER_RATE: u64 = 1_000;
const CAPACITY: usize = 500;
const PAYLOAD: usize = 240;

// ----- memory: a global allocator that counts live bytes and their peak -----

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to the system allocator unchanged and only
// updates counters beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

// ----- the message ----------------------------------------------------------

/// A message of about 256 bytes, stamped when it is sent.
struct Event {
    sent_at: Instant,
    _payload: [u8; PAYLOAD],
}

impl Event {
    fn new() -> Self {
        Self {
            sent_at: Instant::now(),
            _payload: [0x5a; PAYLOAD],
        }
    }
}

// ----- one lane: the channel under test, behind a common face ---------------

/// What a send did with the message.
enum Sent {
    Queued,
    /// The channel handed a value back (evicted, refused or sampled out).
    HandedBack,
    Disconnected,
}

trait Lane: Send + Sync + 'static {
    fn send(&self, event: Event) -> Sent;
    fn recv(&self, timeout: Duration) -> Option<Event>;
    fn len(&self) -> usize;
    /// Watermark state and capacity, where the channel has them.
    fn pressure(&self) -> Option<(Pressure, usize)>;
}

struct Weir<P: Policy> {
    tx: weir::Sender<Event, P>,
    rx: weir::Receiver<Event>,
}

impl<P: Policy> Weir<P> {
    fn new() -> Self {
        let (tx, rx) = weir::bounded::<Event, P>(CAPACITY);
        Self { tx, rx }
    }
}

impl<P: Policy> Lane for Weir<P> {
    fn send(&self, event: Event) -> Sent {
        let outcome = self.tx.send(event);
        if outcome.is_disconnected() {
            Sent::Disconnected
        } else if outcome.handed_back().is_some() {
            Sent::HandedBack
        } else {
            Sent::Queued
        }
    }

    fn recv(&self, timeout: Duration) -> Option<Event> {
        self.rx.recv_timeout(timeout).ok()
    }

    fn len(&self) -> usize {
        self.rx.len()
    }

    fn pressure(&self) -> Option<(Pressure, usize)> {
        Some((self.rx.pressure(), self.rx.capacity()))
    }
}

/// The baseline: std's unbounded channel, with a counter kept beside it since
/// it cannot report its length.
struct Unbounded {
    tx: mpsc::Sender<Event>,
    rx: Mutex<mpsc::Receiver<Event>>,
    queued: AtomicUsize,
}

impl Unbounded {
    fn new() -> Self {
        let (tx, rx) = mpsc::channel();
        Self {
            tx,
            rx: Mutex::new(rx),
            queued: AtomicUsize::new(0),
        }
    }
}

impl Lane for Unbounded {
    fn send(&self, event: Event) -> Sent {
        // Count first, so the counter never reads below the true length.
        self.queued.fetch_add(1, Ordering::Relaxed);
        match self.tx.send(event) {
            Ok(()) => Sent::Queued,
            Err(_) => {
                self.queued.fetch_sub(1, Ordering::Relaxed);
                Sent::Disconnected
            }
        }
    }

    fn recv(&self, timeout: Duration) -> Option<Event> {
        let event = self.rx.lock().unwrap().recv_timeout(timeout).ok()?;
        self.queued.fetch_sub(1, Ordering::Relaxed);
        Some(event)
    }

    fn len(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    fn pressure(&self) -> Option<(Pressure, usize)> {
        None
    }
}

// ----- a run ------------------------------------------------------------------

#[derive(Default)]
struct Counts {
    offered: AtomicU64,
    handed_back: AtomicU64,
    delivered: AtomicU64,
}

struct Report {
    name: &'static str,
    offered: u64,
    delivered: u64,
    handed_back: u64,
    left: u64,
    peak_queue: usize,
    peak_bytes: usize,
    p50: Duration,
    p99: Duration,
}

/// Sleeps until `due`, or returns at once if it has passed.
fn sleep_until(due: Instant) {
    let now = Instant::now();
    if due > now {
        thread::sleep(due - now);
    }
}

/// Builds a fresh lane for a run.
type MakeLane = fn() -> Arc<dyn Lane>;

fn run(name: &'static str, make: MakeLane, secs: u64) -> Report {
    let run_for = Duration::from_secs(secs);
    let counts = Arc::new(Counts::default());
    let stop = Arc::new(AtomicBool::new(false));
    // Room for every latency sample, allocated before the memory baseline.
    let mut latencies: Vec<Duration> = Vec::with_capacity((CONSUMER_RATE * secs * 2) as usize);
    let baseline = LIVE.load(Ordering::Relaxed);
    PEAK.store(baseline, Ordering::Relaxed);
    // Made after the baseline, so the channel's own memory counts.
    let lane = make();
    let start = Instant::now();

    let producer = {
        let (lane, counts, stop) = (lane.clone(), counts.clone(), stop.clone());
        thread::spawn(move || {
            let interval = Duration::from_nanos(1_000_000_000 / PRODUCER_RATE);
            let mut due = start;
            while !stop.load(Ordering::Relaxed) {
                // Send every message that is due, then sleep until the next.
                while due <= Instant::now() && !stop.load(Ordering::Relaxed) {
                    counts.offered.fetch_add(1, Ordering::Relaxed);
                    match lane.send(Event::new()) {
                        Sent::Queued => {}
                        Sent::HandedBack => {
                            counts.handed_back.fetch_add(1, Ordering::Relaxed);
                        }
                        Sent::Disconnected => return,
                    }
                    due += interval;
                }
                sleep_until(due);
            }
        })
    };

    let consumer = {
        let (lane, counts, stop) = (lane.clone(), counts.clone(), stop.clone());
        thread::spawn(move || {
            let interval = Duration::from_nanos(1_000_000_000 / CONSUMER_RATE);
            let mut due = start;
            while !stop.load(Ordering::Relaxed) {
                if let Some(event) = lane.recv(Duration::from_millis(50)) {
                    latencies.push(event.sent_at.elapsed());
                    counts.delivered.fetch_add(1, Ordering::Relaxed);
                    // The work: this consumer handles one message per interval.
                    due = due.max(Instant::now() - interval) + interval;
                    sleep_until(due);
                }
            }
            latencies
        })
    };

    // Watch: sample the queue length every millisecond, print once a second.
    let mut peak_queue = 0;
    let mut next_print = start + Duration::from_secs(1);
    while start.elapsed() < run_for {
        peak_queue = peak_queue.max(lane.len());
        if Instant::now() >= next_print {
            print_line(name, &*lane, &counts, start.elapsed());
            next_print += Duration::from_secs(1);
        }
        thread::sleep(Duration::from_millis(1));
    }
    print_line(name, &*lane, &counts, run_for);
    stop.store(true, Ordering::Relaxed);
    let mut latencies = consumer.join().unwrap();
    peak_queue = peak_queue.max(lane.len());
    // A `Block` producer may be waiting for room that the stopped consumer
    // will never make: take values out (they count as left in the queue)
    // until it sees the stop.
    let mut left = 0;
    while !producer.is_finished() {
        left += u64::from(lane.recv(Duration::from_millis(1)).is_some());
    }
    producer.join().unwrap();

    // Both ends stopped: what is left in the queue is dropped with it.
    left += lane.len() as u64;
    let peak_bytes = PEAK.load(Ordering::Relaxed).saturating_sub(baseline);
    drop(lane);

    latencies.sort_unstable();
    let percentile = |p: usize| {
        latencies
            .get((latencies.len() * p / 100).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    let report = Report {
        name,
        offered: counts.offered.load(Ordering::Relaxed),
        delivered: counts.delivered.load(Ordering::Relaxed),
        handed_back: counts.handed_back.load(Ordering::Relaxed),
        left,
        peak_queue,
        peak_bytes,
        p50: percentile(50),
        p99: percentile(99),
    };
    assert_eq!(
        report.offered,
        report.delivered + report.handed_back + report.left,
        "{name}: every message offered must be delivered, handed back or left in the queue"
    );
    report
}

fn print_line(name: &str, lane: &dyn Lane, counts: &Counts, elapsed: Duration) {
    const WIDTH: usize = 20;
    let len = lane.len();
    let (bar, state) = match lane.pressure() {
        Some((pressure, cap)) => {
            let filled = (len * WIDTH).div_ceil(cap).min(WIDTH);
            let bar = format!("{}{}", "#".repeat(filled), ".".repeat(WIDTH - filled));
            (
                format!("[{bar}] {:>3.0}%", 100.0 * len as f64 / cap as f64),
                pressure.to_string(),
            )
        }
        None => (
            format!("[{}] {:>4}", "?".repeat(WIDTH), "n/a"),
            "UNBOUNDED".to_string(),
        ),
    };
    println!(
        "{name:<11} {:>2}s {bar} {state:<9} queued {len:>6}  handed back {:>6}  delivered {:>5}",
        elapsed.as_secs(),
        counts.handed_back.load(Ordering::Relaxed),
        counts.delivered.load(Ordering::Relaxed),
    );
}

fn human_bytes(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}

fn human_duration(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{:.2} s", d.as_secs_f64())
    } else {
        format!("{:.1} ms", d.as_secs_f64() * 1e3)
    }
}

fn main() {
    let mut secs = 3;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--secs" => {
                secs = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .filter(|&s| s > 0)
                    .unwrap_or_else(|| {
                        eprintln!("--secs needs a whole number of seconds above 0");
                        std::process::exit(2)
                    })
            }
            "-h" | "--help" => {
                println!("usage: overload [--secs N]   (default 3 seconds per run)");
                return;
            }
            other => {
                eprintln!("unknown argument {other:?}; try --help");
                std::process::exit(2)
            }
        }
    }

    println!(
        "producer {PRODUCER_RATE}/s, consumer {CONSUMER_RATE}/s, {secs} s per run, \
         weir capacity {CAPACITY}, messages of {} bytes\n",
        std::mem::size_of::<Event>()
    );
    let lanes: [(&'static str, MakeLane); 5] = [
        ("Block", || Arc::new(Weir::<Block>::new())),
        ("DropOldest", || Arc::new(Weir::<DropOldest>::new())),
        ("DropNewest", || Arc::new(Weir::<DropNewest>::new())),
        ("Sample", || Arc::new(Weir::<Sample>::new())),
        ("std mpsc", || Arc::new(Unbounded::new())),
    ];
    let mut reports = Vec::new();
    for (name, make) in lanes {
        reports.push(run(name, make, secs));
        println!();
    }

    println!(
        "| run | sent | delivered | handed back | left in queue | peak queue | peak memory | p50 latency | p99 latency |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &reports {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.name,
            r.offered,
            r.delivered,
            r.handed_back,
            r.left,
            r.peak_queue,
            human_bytes(r.peak_bytes),
            human_duration(r.p50),
            human_duration(r.p99),
        );
    }
    println!(
        "\nsent = delivered + handed back + left in queue, checked for every run. \
         Memory is the peak of live heap bytes during the run, channel and queued messages included."
    );
}
