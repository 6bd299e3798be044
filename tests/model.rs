//! Property tests: random single-threaded sequences of operations on every
//! policy, checked step by step against a sequential model built on a
//! `VecDeque` and written from the documentation, not from the code: every
//! result, `len`, `utilization`, `pressure` and `stats` after each step.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use weir::{
    Block, DropNewest, DropOldest, Policy, Pressure, Receiver, RecvTimeoutError, SampleError,
    SendError, SendTimeoutError, Sender, Stats, TryRecvError, TrySendError, WaitTimeoutError,
};

/// What a send did, in one vocabulary for every policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Queued,
    Evicted(u32),
    Refused(u32),
    SampledOut(u32),
    Disconnected(u32),
    TimedOut(u32),
}

/// Each policy's `send`, translated into `Outcome`. `Block` would wait on a
/// full channel, which a single thread cannot survive, so when the model says
/// the channel is full it sends with a zero timeout instead.
trait Harness: Policy {
    fn send_outcome(tx: &Sender<u32, Self>, value: u32, model_full: bool) -> Outcome;

    /// `Block`'s `send_batch`, where the model says it will not wait: the
    /// values not sent, or `None` for a policy without it.
    fn send_batch(_: &Sender<u32, Self>, _: &[u32]) -> Option<Vec<u32>> {
        None
    }
}

impl Harness for Block {
    fn send_batch(tx: &Sender<u32, Self>, values: &[u32]) -> Option<Vec<u32>> {
        Some(match tx.send_batch(values.iter().copied()) {
            Ok(()) => Vec::new(),
            Err(SendError((taken, rest))) => taken.into_iter().chain(rest).collect(),
        })
    }

    fn send_outcome(tx: &Sender<u32, Self>, value: u32, model_full: bool) -> Outcome {
        if model_full {
            match tx.send_timeout(value, Duration::ZERO) {
                Ok(()) => Outcome::Queued,
                Err(SendTimeoutError::Timeout(v)) => Outcome::TimedOut(v),
                Err(SendTimeoutError::Disconnected(v)) => Outcome::Disconnected(v),
            }
        } else {
            match tx.send(value) {
                Ok(()) => Outcome::Queued,
                Err(SendError(v)) => Outcome::Disconnected(v),
            }
        }
    }
}

impl Harness for DropOldest {
    fn send_outcome(tx: &Sender<u32, Self>, value: u32, _: bool) -> Outcome {
        match tx.send(value) {
            Ok(None) => Outcome::Queued,
            Ok(Some(old)) => Outcome::Evicted(old),
            Err(SendError(v)) => Outcome::Disconnected(v),
        }
    }
}

impl Harness for DropNewest {
    fn send_outcome(tx: &Sender<u32, Self>, value: u32, _: bool) -> Outcome {
        from_try(tx.send(value))
    }
}

impl Harness for weir::Sample {
    fn send_outcome(tx: &Sender<u32, Self>, value: u32, _: bool) -> Outcome {
        match tx.send(value) {
            Ok(()) => Outcome::Queued,
            Err(SampleError::SampledOut(v)) => Outcome::SampledOut(v),
            Err(SampleError::Full(v)) => Outcome::Refused(v),
            Err(SampleError::Disconnected(v)) => Outcome::Disconnected(v),
        }
    }
}

fn from_try(result: Result<(), TrySendError<u32>>) -> Outcome {
    match result {
        Ok(()) => Outcome::Queued,
        Err(TrySendError::Full(v)) => Outcome::Refused(v),
        Err(TrySendError::Disconnected(v)) => Outcome::Disconnected(v),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Block,
    DropOldest,
    DropNewest,
    Sample,
}

/// The sequential model, from the crate's documentation.
#[derive(Debug)]
struct Model {
    kind: Kind,
    queue: VecDeque<u32>,
    cap: usize,
    low: usize,
    high: usize,
    sample_every: usize,
    offered_under_pressure: usize,
    senders: usize,
    receivers: usize,
    disconnected: bool,
    stats: Stats,
}

impl Model {
    fn full(&self) -> bool {
        self.queue.len() == self.cap
    }

    fn push(&mut self, value: u32) -> Outcome {
        self.queue.push_back(value);
        self.stats.sent += 1;
        Outcome::Queued
    }

    fn try_send(&mut self, value: u32) -> Outcome {
        if self.disconnected {
            Outcome::Disconnected(value)
        } else if self.full() {
            self.stats.refused += 1;
            Outcome::Refused(value)
        } else {
            self.push(value)
        }
    }

    fn send(&mut self, value: u32) -> Outcome {
        match self.kind {
            Kind::Block if self.disconnected => Outcome::Disconnected(value),
            Kind::Block if self.full() => Outcome::TimedOut(value),
            Kind::Block => self.push(value),
            Kind::DropOldest if self.disconnected => Outcome::Disconnected(value),
            Kind::DropOldest if self.full() => {
                let old = self.queue.pop_front().unwrap();
                self.stats.evicted += 1;
                self.push(value);
                Outcome::Evicted(old)
            }
            Kind::DropOldest => self.push(value),
            Kind::DropNewest => self.try_send(value),
            Kind::Sample => {
                if self.queue.len() >= self.low {
                    let k = self.offered_under_pressure;
                    self.offered_under_pressure += 1;
                    if k % self.sample_every != 0 {
                        if self.disconnected {
                            return Outcome::Disconnected(value);
                        }
                        self.stats.sampled_out += 1;
                        return Outcome::SampledOut(value);
                    }
                }
                self.try_send(value)
            }
        }
    }

    fn try_recv(&mut self) -> Result<u32, TryRecvError> {
        match self.queue.pop_front() {
            Some(v) => {
                self.stats.received += 1;
                Ok(v)
            }
            None if self.disconnected => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }

    /// `try_send_batch`: the values moved from the front, oldest first;
    /// those left behind by a full channel count as refused.
    fn try_send_batch(&mut self, values: &mut VecDeque<u32>) -> Result<usize, SendError<()>> {
        if values.is_empty() {
            return Ok(0);
        }
        if self.disconnected {
            return Err(SendError(()));
        }
        let mut moved = 0;
        while !self.full() {
            let Some(v) = values.pop_front() else { break };
            self.push(v);
            moved += 1;
        }
        self.stats.refused += values.len() as u64;
        Ok(moved)
    }

    /// Takes up to `max` values, oldest first.
    fn take(&mut self, max: usize) -> Vec<u32> {
        let n = max.min(self.queue.len());
        self.stats.received += n as u64;
        self.queue.drain(..n).collect()
    }

    /// `wait_normal_deadline` with a deadline already past.
    fn wait_normal_now(&self) -> Result<(), WaitTimeoutError> {
        if self.disconnected {
            Err(WaitTimeoutError::Disconnected)
        } else if self.queue.len() < self.low {
            Ok(())
        } else {
            Err(WaitTimeoutError::Timeout)
        }
    }

    fn pressure(&self) -> Pressure {
        let len = self.queue.len();
        if self.disconnected && len > 0 {
            Pressure::Draining
        } else if len == self.cap {
            Pressure::Full
        } else if len >= self.high {
            Pressure::Critical
        } else if len >= self.low {
            Pressure::Elevated
        } else {
            Pressure::Normal
        }
    }

    fn drop_sender(&mut self) {
        self.senders -= 1;
        if self.senders == 0 {
            self.disconnected = true;
        }
    }

    fn drop_receiver(&mut self) {
        self.receivers -= 1;
        if self.receivers == 0 {
            self.disconnected = true;
            self.stats.discarded += self.queue.len() as u64;
            self.queue.clear();
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Send(u32),
    TrySend(u32),
    TryRecv,
    RecvTimeoutZero,
    CloneSender,
    DropSender,
    CloneReceiver,
    DropReceiver,
    /// `close` from a sender (`false`) or a receiver (`true`).
    Close(bool),
    TrySendBatch(Vec<u32>),
    /// `Block`'s `send_batch`, made only when it will not wait.
    SendBatch(Vec<u32>),
    TryRecvBatch(usize),
    /// `recv_batch_deadline` with a deadline already past.
    RecvBatchDeadlinePast(usize),
    /// `recv_batch_linger` with a zero linger, made only when it will not
    /// wait for a first value.
    RecvBatchLingerZero(usize),
    /// `wait_normal_deadline` with a deadline already past.
    WaitNormalNow,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => any::<u32>().prop_map(Op::Send),
        2 => any::<u32>().prop_map(Op::TrySend),
        4 => Just(Op::TryRecv),
        1 => Just(Op::RecvTimeoutZero),
        1 => Just(Op::CloneSender),
        1 => Just(Op::DropSender),
        1 => Just(Op::CloneReceiver),
        1 => Just(Op::DropReceiver),
        1 => any::<bool>().prop_map(Op::Close),
        2 => prop::collection::vec(any::<u32>(), 0..12).prop_map(Op::TrySendBatch),
        1 => prop::collection::vec(any::<u32>(), 0..6).prop_map(Op::SendBatch),
        2 => (0usize..12).prop_map(Op::TryRecvBatch),
        1 => (0usize..12).prop_map(Op::RecvBatchDeadlinePast),
        1 => (0usize..12).prop_map(Op::RecvBatchLingerZero),
        1 => Just(Op::WaitNormalNow),
    ]
}

/// Watermarks in hundredths, low at most high.
fn watermarks() -> impl Strategy<Value = (u32, u32)> {
    let points = prop::sample::select(vec![0, 7, 10, 25, 28, 50, 56, 75, 80, 90, 100]);
    (points.clone(), points).prop_map(|(a, b)| if a <= b { (a, b) } else { (b, a) })
}

/// `ceil(hundredths / 100 * cap)` in integers, at least 1, as the builder
/// documents.
fn items(hundredths: u32, cap: usize) -> usize {
    (hundredths as usize * cap).div_ceil(100).max(1)
}

fn check<P: Harness>(
    kind: Kind,
    cap: usize,
    (low, high): (u32, u32),
    sample_every: usize,
    ops: &[Op],
) -> Result<(), TestCaseError> {
    let (tx, rx) = weir::Builder::new(cap)
        .watermarks(f64::from(low) / 100.0, f64::from(high) / 100.0)
        .sample_rate(sample_every)
        .build::<u32, P>()
        .unwrap();
    let mut senders = vec![tx];
    let mut receivers: Vec<Receiver<u32>> = vec![rx];
    let mut model = Model {
        kind,
        queue: VecDeque::new(),
        cap,
        low: items(low, cap),
        high: items(high, cap),
        sample_every,
        offered_under_pressure: 0,
        senders: 1,
        receivers: 1,
        disconnected: false,
        stats: Stats::default(),
    };

    for (step, op) in ops.iter().enumerate() {
        match *op {
            Op::Send(v) => {
                if let Some(tx) = senders.first() {
                    let got = P::send_outcome(tx, v, model.full());
                    prop_assert_eq!(got, model.send(v), "step {} {:?}", step, op);
                }
            }
            Op::TrySend(v) => {
                if let Some(tx) = senders.first() {
                    prop_assert_eq!(from_try(tx.try_send(v)), model.try_send(v), "step {}", step);
                }
            }
            Op::TryRecv => {
                if let Some(rx) = receivers.first() {
                    prop_assert_eq!(rx.try_recv(), model.try_recv(), "step {}", step);
                }
            }
            Op::RecvTimeoutZero => {
                if let Some(rx) = receivers.first() {
                    let expected = model.try_recv().map_err(|e| match e {
                        TryRecvError::Empty => RecvTimeoutError::Timeout,
                        TryRecvError::Disconnected => RecvTimeoutError::Disconnected,
                    });
                    prop_assert_eq!(rx.recv_timeout(Duration::ZERO), expected, "step {}", step);
                }
            }
            Op::CloneSender => {
                if let Some(tx) = senders.first() {
                    senders.push(tx.clone());
                    model.senders += 1;
                }
            }
            Op::DropSender => {
                if senders.pop().is_some() {
                    model.drop_sender();
                }
            }
            Op::CloneReceiver => {
                if let Some(rx) = receivers.first() {
                    receivers.push(rx.clone());
                    model.receivers += 1;
                }
            }
            Op::DropReceiver => {
                if receivers.pop().is_some() {
                    model.drop_receiver();
                }
            }
            Op::Close(from_receiver) => {
                let closed = match (from_receiver, senders.first(), receivers.first()) {
                    (true, _, Some(rx)) | (false, None, Some(rx)) => Some(rx.close()),
                    (false, Some(tx), _) | (true, Some(tx), None) => Some(tx.close()),
                    (_, None, None) => None,
                };
                if let Some(closed) = closed {
                    // Only the call that closes an open channel says so.
                    prop_assert_eq!(closed, !model.disconnected, "step {}", step);
                    model.disconnected = true;
                }
            }
            Op::TrySendBatch(ref values) => {
                if let Some(tx) = senders.first() {
                    let mut got: VecDeque<u32> = values.iter().copied().collect();
                    let mut expected = got.clone();
                    let moved = tx.try_send_batch(&mut got);
                    prop_assert_eq!(moved, model.try_send_batch(&mut expected), "step {}", step);
                    prop_assert_eq!(got, expected, "values left, step {}", step);
                }
            }
            Op::SendBatch(ref values) => {
                let fits = model.queue.len() + values.len() <= cap;
                if let (Some(tx), true) = (senders.first(), fits || model.disconnected) {
                    if let Some(unsent) = P::send_batch(tx, values) {
                        if model.disconnected {
                            prop_assert_eq!(&unsent, values, "step {}", step);
                        } else {
                            prop_assert!(unsent.is_empty(), "step {}", step);
                            for &v in values {
                                model.push(v);
                            }
                        }
                    }
                }
            }
            Op::TryRecvBatch(max) => {
                if let Some(rx) = receivers.first() {
                    let mut got = vec![7];
                    let n = rx.try_recv_batch(&mut got, max);
                    let mut expected = vec![7];
                    expected.extend(model.take(max));
                    prop_assert_eq!(n, expected.len() - 1, "step {}", step);
                    prop_assert_eq!(got, expected, "step {}", step);
                }
            }
            Op::RecvBatchDeadlinePast(max) => {
                if let Some(rx) = receivers.first() {
                    let mut got = Vec::new();
                    let result = rx.recv_batch_deadline(&mut got, max, Instant::now());
                    let expected = if max == 0 {
                        Ok(0)
                    } else if model.queue.is_empty() {
                        Err(if model.disconnected {
                            RecvTimeoutError::Disconnected
                        } else {
                            RecvTimeoutError::Timeout
                        })
                    } else {
                        let taken = model.take(max);
                        prop_assert_eq!(&got, &taken, "step {}", step);
                        Ok(taken.len())
                    };
                    prop_assert_eq!(result, expected, "step {}", step);
                }
            }
            Op::RecvBatchLingerZero(max) => {
                let will_not_wait = max == 0 || !model.queue.is_empty() || model.disconnected;
                if let (Some(rx), true) = (receivers.first(), will_not_wait) {
                    let mut got = Vec::new();
                    let result = rx.recv_batch_linger(&mut got, max, Duration::ZERO);
                    let expected = if max == 0 {
                        Ok(0)
                    } else if model.queue.is_empty() {
                        Err(weir::RecvError)
                    } else {
                        let taken = model.take(max);
                        prop_assert_eq!(&got, &taken, "step {}", step);
                        Ok(taken.len())
                    };
                    prop_assert_eq!(result, expected, "step {}", step);
                }
            }
            Op::WaitNormalNow => {
                if let Some(tx) = senders.first() {
                    prop_assert_eq!(
                        tx.wait_normal_deadline(Instant::now()),
                        model.wait_normal_now(),
                        "step {}",
                        step
                    );
                }
            }
        }

        // Observe from whichever end is still held.
        let (len, utilization, pressure, stats, disconnected) =
            match (senders.first(), receivers.first()) {
                (Some(tx), _) => (
                    tx.len(),
                    tx.utilization(),
                    tx.pressure(),
                    tx.stats(),
                    tx.is_disconnected(),
                ),
                (None, Some(rx)) => (
                    rx.len(),
                    rx.utilization(),
                    rx.pressure(),
                    rx.stats(),
                    rx.is_disconnected(),
                ),
                (None, None) => return Ok(()),
            };
        prop_assert_eq!(len, model.queue.len(), "len after step {} {:?}", step, op);
        prop_assert_eq!(utilization, model.queue.len() as f64 / cap as f64);
        prop_assert_eq!(
            pressure,
            model.pressure(),
            "pressure after step {} {:?}",
            step,
            op
        );
        prop_assert_eq!(stats, model.stats, "stats after step {} {:?}", step, op);
        prop_assert_eq!(disconnected, model.disconnected);
        if let Some(tx) = senders.first() {
            prop_assert_eq!(tx.low_watermark(), model.low);
            prop_assert_eq!(tx.high_watermark(), model.high);
            prop_assert_eq!(tx.is_full(), model.full());
            prop_assert_eq!(tx.is_empty(), model.queue.is_empty());
        }
    }
    Ok(())
}

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(if cfg!(miri) { 2 } else { 256 })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn block_matches_model(cap in 1usize..=9, w in watermarks(), n in 1usize..=4,
                           ops in prop::collection::vec(op(), 0..60)) {
        check::<Block>(Kind::Block, cap, w, n, &ops)?;
    }

    #[test]
    fn drop_oldest_matches_model(cap in 1usize..=9, w in watermarks(), n in 1usize..=4,
                                 ops in prop::collection::vec(op(), 0..60)) {
        check::<DropOldest>(Kind::DropOldest, cap, w, n, &ops)?;
    }

    #[test]
    fn drop_newest_matches_model(cap in 1usize..=9, w in watermarks(), n in 1usize..=4,
                                 ops in prop::collection::vec(op(), 0..60)) {
        check::<DropNewest>(Kind::DropNewest, cap, w, n, &ops)?;
    }

    #[test]
    fn sample_matches_model(cap in 1usize..=9, w in watermarks(), n in 1usize..=4,
                            ops in prop::collection::vec(op(), 0..60)) {
        check::<weir::Sample>(Kind::Sample, cap, w, n, &ops)?;
    }
}
