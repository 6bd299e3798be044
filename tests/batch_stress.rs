//! Multi-producer multi-consumer stress mixing single and batch operations
//! on both ends, under every policy.
//!
//! Producers offer `(producer, seq)` through a pseudo-random mix of `send`,
//! `try_send`, `try_send_batch` and (for `Block`) `send_batch`; consumers
//! take through `recv`, `try_recv_batch`, `recv_batch_linger` and
//! `recv_batch_deadline`. Each run checks that every offered value was
//! received or handed back exactly once, that each consumer sees each
//! producer's values in order, and that the final `stats()` match the
//! counts the threads kept themselves, field by field.

use std::collections::{HashSet, VecDeque};
use std::thread;
use std::time::{Duration, Instant};

use weir::{
    Block, Builder, DropNewest, DropOldest, Policy, RecvTimeoutError, Sample, SampleError,
    SendError, Sender, TrySendError,
};

/// How long a consumer may wait for a value before the run counts as hung.
const PATIENCE: Duration = Duration::from_secs(20);

type Value = (usize, u32);

fn per_producer() -> u32 {
    if cfg!(miri) {
        40
    } else {
        40_000
    }
}

/// A small deterministic pseudo-random source (xorshift64*).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    }
}

/// What one producer saw come back, by kind.
#[derive(Debug, Default)]
struct Returned {
    /// Every value handed back to this producer, its own or (evicted)
    /// another's.
    values: Vec<Value>,
    refused: u64,
    sampled_out: u64,
    evicted: u64,
}

impl Returned {
    fn refused(&mut self, v: Value) {
        self.refused += 1;
        self.values.push(v);
    }

    fn try_send<P: Policy>(&mut self, tx: &Sender<Value, P>, v: Value) {
        match tx.try_send(v) {
            Ok(()) => {}
            Err(TrySendError::Full(v)) => self.refused(v),
            Err(TrySendError::Disconnected(v)) => panic!("{v:?}: disconnected"),
        }
    }
}

fn try_send_batch<P: Policy>(tx: &Sender<Value, P>, values: &mut VecDeque<Value>) {
    let n = values.len();
    match tx.try_send_batch(values) {
        Ok(moved) => assert_eq!(moved + values.len(), n),
        Err(SendError(())) => panic!("try_send_batch: disconnected"),
    }
}

/// The policy's `send` and its batch send, with each handed-back value
/// sorted by kind.
trait Stressed: Policy {
    fn offer(tx: &Sender<Value, Self>, v: Value, back: &mut Returned);

    /// The policy's batch send of `values`.
    fn offer_batch(tx: &Sender<Value, Self>, mut values: VecDeque<Value>, back: &mut Returned) {
        try_send_batch(tx, &mut values);
        for v in values {
            back.refused(v);
        }
    }
}

impl Stressed for Block {
    fn offer(tx: &Sender<Value, Self>, v: Value, _: &mut Returned) {
        if let Err(SendError(v)) = tx.send(v) {
            panic!("{v:?}: disconnected");
        }
    }

    /// Half of them wait for room with `send_batch`, the others try.
    fn offer_batch(tx: &Sender<Value, Self>, mut values: VecDeque<Value>, back: &mut Returned) {
        if values[0].1 % 2 == 0 {
            if tx.send_batch(values).is_err() {
                panic!("send_batch: disconnected");
            }
        } else {
            try_send_batch(tx, &mut values);
            for v in values {
                back.refused(v);
            }
        }
    }
}

impl Stressed for DropOldest {
    fn offer(tx: &Sender<Value, Self>, v: Value, back: &mut Returned) {
        match tx.send(v) {
            Ok(None) => {}
            Ok(Some(old)) => {
                back.evicted += 1;
                back.values.push(old);
            }
            Err(SendError(v)) => panic!("{v:?}: disconnected"),
        }
    }
}

impl Stressed for DropNewest {
    fn offer(tx: &Sender<Value, Self>, v: Value, back: &mut Returned) {
        back.try_send(tx, v);
    }
}

impl Stressed for Sample {
    fn offer(tx: &Sender<Value, Self>, v: Value, back: &mut Returned) {
        match tx.send(v) {
            Ok(()) => {}
            Err(SampleError::SampledOut(v)) => {
                back.sampled_out += 1;
                back.values.push(v);
            }
            Err(SampleError::Full(v)) => back.refused(v),
            Err(SampleError::Disconnected(v)) => panic!("{v:?}: disconnected"),
        }
    }
}

/// Offers `seq` 0..n of producer `id` in runs of 1 to 8, each run through
/// one of the four sends.
fn produce<P: Stressed>(tx: Sender<Value, P>, id: usize, n: u32) -> Returned {
    let mut rng = Rng::new(id as u64 + 1);
    let mut back = Returned::default();
    let mut seq = 0;
    while seq < n {
        let k = (1 + rng.below(8) as u32).min(n - seq);
        let run = (seq..seq + k).map(|s| (id, s));
        match rng.below(4) {
            0 => run.for_each(|v| P::offer(&tx, v, &mut back)),
            1 => run.for_each(|v| back.try_send(&tx, v)),
            _ => P::offer_batch(&tx, run.collect(), &mut back),
        }
        seq += k;
        if rng.below(16) == 0 {
            thread::yield_now();
        }
    }
    back
}

/// Closes the channel if the consumer holding it fails, so that producers
/// blocked on a full channel fail too instead of waiting forever.
struct CloseOnPanic<'a>(&'a weir::Receiver<Value>);

impl Drop for CloseOnPanic<'_> {
    fn drop(&mut self) {
        if thread::panicking() {
            self.0.close();
        }
    }
}

/// Receives until the channel is disconnected and empty, through a mix of
/// the receiving calls, checking that each producer's values arrive here
/// in order. Returns what it received.
fn consume(rx: weir::Receiver<Value>, seed: u64, producers: usize) -> Vec<Value> {
    let _guard = CloseOnPanic(&rx);
    let mut rng = Rng::new(seed);
    let mut last = vec![None::<u32>; producers];
    let mut got = Vec::new();
    let mut batch = Vec::new();
    loop {
        batch.clear();
        let max = 1 + rng.below(8);
        let ended = match rng.below(4) {
            0 => match rx.recv_timeout(PATIENCE) {
                Ok(v) => {
                    batch.push(v);
                    false
                }
                Err(RecvTimeoutError::Disconnected) => true,
                Err(RecvTimeoutError::Timeout) => panic!("no value in {PATIENCE:?}"),
            },
            1 => {
                if rx.try_recv_batch(&mut batch, max) == 0 {
                    if rx.is_disconnected() && rx.is_empty() {
                        break;
                    }
                    thread::yield_now();
                }
                false
            }
            2 => rx
                .recv_batch_linger(&mut batch, max, Duration::from_micros(100))
                .is_err(),
            _ => match rx.recv_batch_deadline(&mut batch, max, Instant::now() + PATIENCE) {
                Ok(_) => false,
                Err(RecvTimeoutError::Disconnected) => true,
                Err(RecvTimeoutError::Timeout) => panic!("no value in {PATIENCE:?}"),
            },
        };
        for &(id, seq) in &batch {
            let prev = last[id].replace(seq);
            assert!(
                prev.map_or(true, |p| p < seq),
                "producer {id} out of order at a consumer: {prev:?} then {seq}"
            );
        }
        got.append(&mut batch);
        if ended {
            return got;
        }
    }
    got
}

fn stress<P: Stressed>(capacity: usize, producers: usize, consumers: usize) {
    let n = per_producer();
    let (tx, rx) = Builder::new(capacity)
        .sample_rate(3)
        .build::<Value, P>()
        .unwrap();
    let senders: Vec<_> = (0..producers)
        .map(|id| {
            let tx = tx.clone();
            thread::spawn(move || produce(tx, id, n))
        })
        .collect();
    drop(tx);
    let receivers: Vec<_> = (0..consumers)
        .map(|c| {
            let rx = rx.clone();
            thread::spawn(move || consume(rx, 1_000 + c as u64, producers))
        })
        .collect();

    let mut back = Returned::default();
    for s in senders {
        let r = s.join().unwrap();
        back.values.extend(r.values);
        back.refused += r.refused;
        back.sampled_out += r.sampled_out;
        back.evicted += r.evicted;
    }
    let received: Vec<Value> = receivers
        .into_iter()
        .flat_map(|r| r.join().unwrap())
        .collect();

    let offered = producers * n as usize;
    let mut seen = HashSet::with_capacity(offered);
    for v in received.iter().chain(&back.values) {
        assert!(seen.insert(*v), "{v:?} received or handed back twice");
    }
    assert_eq!(
        seen.len(),
        offered,
        "{}: received {} + handed back {} != offered {offered}",
        P::NAME,
        received.len(),
        back.values.len()
    );
    let stats = rx.stats();
    assert_eq!(rx.len(), 0);
    assert_eq!(stats.received, received.len() as u64, "{}", P::NAME);
    assert_eq!(stats.evicted, back.evicted, "{}", P::NAME);
    assert_eq!(stats.refused, back.refused, "{}", P::NAME);
    assert_eq!(stats.sampled_out, back.sampled_out, "{}", P::NAME);
    assert_eq!(stats.discarded, 0);
    assert_eq!(stats.sent, stats.received + stats.evicted, "{}", P::NAME);
    assert_eq!(
        stats.sent + stats.refused + stats.sampled_out,
        offered as u64,
        "{}: every offer queued or handed back",
        P::NAME
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
    block_3p2c_cap1: Block, 1, 3, 2;
    block_3p2c_cap5: Block, 5, 3, 2;
    block_3p1c_cap16: Block, 16, 3, 1;
    drop_oldest_3p2c_cap2: DropOldest, 2, 3, 2;
    drop_oldest_3p1c_cap16: DropOldest, 16, 3, 1;
    drop_newest_3p2c_cap3: DropNewest, 3, 3, 2;
    drop_newest_3p1c_cap16: DropNewest, 16, 3, 1;
    sample_3p2c_cap4: Sample, 4, 3, 2;
    sample_3p1c_cap16: Sample, 16, 3, 1;
    // More producers than the channel has stripes of hand-back counts, so
    // stripes are shared and the counts are summed over all of them.
    drop_newest_6p1c_cap4: DropNewest, 4, 6, 1;
    sample_6p1c_cap4: Sample, 4, 6, 1;
}
