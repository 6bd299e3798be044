//! Threads and tasks on one `DropOldest` channel: two producers on tokio
//! tasks and one on a plain thread feed an async consumer that is slower
//! than all three together. The channel stays bounded, the oldest values are
//! evicted and handed back to whichever producer pushed them out, and the
//! pressure is printed once a second from a task of its own.
//!
//! ```text
//! cargo run --release --example async_pipeline            # 3 seconds
//! cargo run --release --example async_pipeline -- --secs 5
//! ```

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use weir::DropOldest;

/// A reading, with the producer that made it and when.
#[derive(Debug)]
struct Reading {
    producer: usize,
    seq: u64,
    taken: Instant,
}

/// Each producer offers one reading every this often (3 producers: 3,000
/// readings a second in all)...
const PRODUCE_EVERY: Duration = Duration::from_millis(1);
/// ...and the consumer handles one every this often (1,000 a second).
const CONSUME_EVERY: Duration = Duration::from_micros(1_000);
const CAPACITY: usize = 256;

fn main() {
    let secs = parse_secs();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .expect("a tokio runtime");

    let (tx, rx) = weir::Builder::new(CAPACITY)
        .watermarks(0.5, 0.9)
        .build::<Reading, DropOldest>()
        .expect("a valid configuration");
    let stop = Arc::new(AtomicBool::new(false));
    let evicted_seen = Arc::new(AtomicU64::new(0));

    // Two producers on tokio tasks. A DropOldest send never waits, so the
    // plain `send` is right inside a task; what it evicts comes back here.
    let mut producers = Vec::new();
    for producer in 0..2 {
        let tx = tx.clone();
        let stop = stop.clone();
        let evicted_seen = evicted_seen.clone();
        producers.push(runtime.spawn(async move {
            let mut ticker = tokio::time::interval(PRODUCE_EVERY);
            let mut seq = 0;
            while !stop.load(Ordering::Relaxed) {
                ticker.tick().await;
                let reading = Reading {
                    producer,
                    seq,
                    taken: Instant::now(),
                };
                if let Ok(Some(_oldest)) = tx.send(reading) {
                    evicted_seen.fetch_add(1, Ordering::Relaxed);
                }
                seq += 1;
            }
            seq
        }));
    }

    // A third producer on a thread, on the same channel.
    let thread_producer = {
        let tx = tx.clone();
        let stop = stop.clone();
        let evicted_seen = evicted_seen.clone();
        thread::spawn(move || {
            let mut seq = 0;
            let mut next = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                next += PRODUCE_EVERY;
                thread::sleep(next.saturating_duration_since(Instant::now()));
                let reading = Reading {
                    producer: 2,
                    seq,
                    taken: Instant::now(),
                };
                if let Ok(Some(_oldest)) = tx.send(reading) {
                    evicted_seen.fetch_add(1, Ordering::Relaxed);
                }
                seq += 1;
            }
            seq
        })
    };

    // The pressure, once a second, read from the sending side without a lock.
    let monitor = {
        let tx = tx.clone();
        runtime.spawn(async move {
            let mut ticker = tokio::time::interval(Duration::from_secs(1));
            ticker.tick().await;
            for second in 1..=secs {
                ticker.tick().await;
                let stats = tx.stats();
                println!(
                    "t={second}s  len {:>3}/{}  {:<9} sent {:>5}  received {:>5}  evicted {:>5}",
                    tx.len(),
                    tx.capacity(),
                    format!("{:?}", tx.pressure()),
                    stats.sent,
                    stats.received,
                    stats.evicted,
                );
            }
        })
    };
    drop(tx);

    // The async consumer: slower than the producers together, and it drains
    // whatever is left once they stop.
    let consumer = runtime.spawn(async move {
        let mut ticker = tokio::time::interval(CONSUME_EVERY);
        let mut received = 0u64;
        let mut last_seq = [None::<u64>; 3];
        let mut oldest_age = Duration::ZERO;
        while let Ok(reading) = rx.recv_async().await {
            let prev = last_seq[reading.producer].replace(reading.seq);
            assert!(prev.map_or(true, |p| p < reading.seq), "per-producer order");
            oldest_age = oldest_age.max(reading.taken.elapsed());
            received += 1;
            ticker.tick().await;
        }
        (received, oldest_age)
    });

    runtime.block_on(async {
        monitor.await.expect("the monitor task");
    });
    stop.store(true, Ordering::Relaxed);
    let mut offered = thread_producer.join().expect("the thread producer");
    let (received, oldest_age) = runtime.block_on(async {
        for p in producers {
            offered += p.await.expect("a producer task");
        }
        consumer.await.expect("the consumer task")
    });
    let evicted = evicted_seen.load(Ordering::Relaxed);
    println!(
        "offered {offered}, received {received}, evicted and handed back {evicted}; \
         every reading accounted for: {}",
        offered == received + evicted
    );
    println!(
        "the channel never held more than {CAPACITY} readings; the oldest one received had waited {} ms",
        oldest_age.as_millis()
    );
    assert_eq!(offered, received + evicted, "every reading accounted for");
}

/// `--secs N` (default 3).
fn parse_secs() -> u64 {
    let mut args = std::env::args().skip(1);
    let mut secs = 3;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--secs" => {
                secs = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&s| s > 0)
                    .unwrap_or_else(|| {
                        eprintln!("--secs needs a whole number of seconds, at least 1");
                        std::process::exit(2)
                    })
            }
            other => {
                eprintln!("unknown argument {other:?}; usage: async_pipeline [--secs N]");
                std::process::exit(2)
            }
        }
    }
    secs
}
