//! Differential test: random single-threaded sequences of operations applied
//! to `std::sync::mpsc` and to `weir::mpsc` side by side, for the unbounded,
//! bounded (small bounds) and rendezvous flavours. After every step both must
//! have returned the same thing (values, error variants, the values inside
//! errors, error messages) and dropped the same number of values.
//!
//! Blocking calls are issued only when std's own answers so far prove they
//! return at once (a value is queued, a side is gone); otherwise the step is
//! skipped on both sides, so the test never hangs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;

/// A value that counts its drops.
#[derive(Debug)]
pub struct Tracked {
    id: u32,
    drops: Arc<AtomicUsize>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Unbounded,
    Bounded(usize),
}

#[derive(Debug, Clone, Copy)]
pub enum Op {
    /// Blocking send through the sender at this index (modulo the live ones).
    Send(usize),
    TrySend(usize),
    /// Blocking receive.
    Recv,
    TryRecv,
    /// `recv_timeout` with no wait at all, or a very short one.
    RecvTimeout(bool),
    /// Takes at most this many values through `try_iter`.
    TryIter(usize),
    /// Takes values through `iter` until it ends (only once senders are gone).
    IterToEnd,
    CloneSender(usize),
    DropSender(usize),
    DropReceiver,
}

/// What an operation returned, with the values inside errors and their
/// messages, so that both implementations can be compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Out {
    Sent,
    Got(u32),
    SendError(u32, String, String),
    Full(u32, String, String),
    Disconnected(u32, String, String),
    Empty(String, String),
    RecvDisconnected(String, String),
    Timeout(String, String),
    RecvError(String, String),
    Many(Vec<u32>),
    Done,
    Skipped,
}

fn strings(e: &(impl std::fmt::Debug + std::fmt::Display)) -> (String, String) {
    (format!("{e:?}"), e.to_string())
}

macro_rules! side {
    ($name:ident, $module:path) => {
        pub mod $name {
            use super::*;
            use $module as mpsc;

            enum Tx {
                Unbounded(mpsc::Sender<Tracked>),
                Sync(mpsc::SyncSender<Tracked>),
            }

            pub struct Side {
                txs: Vec<Tx>,
                pub rx: Option<mpsc::Receiver<Tracked>>,
                pub drops: Arc<AtomicUsize>,
            }

            impl Side {
                pub fn new(flavor: Flavor) -> Self {
                    let (tx, rx) = match flavor {
                        Flavor::Unbounded => {
                            let (tx, rx) = mpsc::channel();
                            (Tx::Unbounded(tx), rx)
                        }
                        Flavor::Bounded(bound) => {
                            let (tx, rx) = mpsc::sync_channel(bound);
                            (Tx::Sync(tx), rx)
                        }
                    };
                    Self {
                        txs: vec![tx],
                        rx: Some(rx),
                        drops: Arc::new(AtomicUsize::new(0)),
                    }
                }

                fn value(&self, id: u32) -> Tracked {
                    Tracked {
                        id,
                        drops: self.drops.clone(),
                    }
                }

                fn pick(&self, index: usize) -> Option<usize> {
                    (!self.txs.is_empty()).then(|| index % self.txs.len())
                }

                fn send_error(e: mpsc::SendError<Tracked>) -> Out {
                    let (d, s) = strings(&e);
                    Out::SendError(e.0.id, d, s)
                }

                fn try_send_error(e: mpsc::TrySendError<Tracked>) -> Out {
                    let (d, s) = strings(&e);
                    match e {
                        mpsc::TrySendError::Full(v) => Out::Full(v.id, d, s),
                        mpsc::TrySendError::Disconnected(v) => Out::Disconnected(v.id, d, s),
                    }
                }

                /// Applies `op`; `id` is the value to send, if it sends.
                pub fn apply(&mut self, op: Op, id: u32) -> Out {
                    match op {
                        Op::Send(i) | Op::TrySend(i) => {
                            let Some(i) = self.pick(i) else {
                                return Out::Skipped;
                            };
                            let value = self.value(id);
                            let result = match (&self.txs[i], op) {
                                (Tx::Unbounded(tx), _) => tx.send(value).map_err(Self::send_error),
                                (Tx::Sync(tx), Op::Send(_)) => {
                                    tx.send(value).map_err(Self::send_error)
                                }
                                (Tx::Sync(tx), _) => {
                                    tx.try_send(value).map_err(Self::try_send_error)
                                }
                            };
                            result.map_or_else(|e| e, |()| Out::Sent)
                        }
                        Op::Recv => match &self.rx {
                            None => Out::Skipped,
                            Some(rx) => match rx.recv() {
                                Ok(v) => Out::Got(v.id),
                                Err(e) => {
                                    let (d, s) = strings(&e);
                                    Out::RecvError(d, s)
                                }
                            },
                        },
                        Op::TryRecv => match &self.rx {
                            None => Out::Skipped,
                            Some(rx) => match rx.try_recv() {
                                Ok(v) => Out::Got(v.id),
                                Err(e) => {
                                    let (d, s) = strings(&e);
                                    match e {
                                        mpsc::TryRecvError::Empty => Out::Empty(d, s),
                                        mpsc::TryRecvError::Disconnected => {
                                            Out::RecvDisconnected(d, s)
                                        }
                                    }
                                }
                            },
                        },
                        Op::RecvTimeout(short) => match &self.rx {
                            None => Out::Skipped,
                            Some(rx) => {
                                let timeout = if short {
                                    Duration::from_micros(200)
                                } else {
                                    Duration::ZERO
                                };
                                match rx.recv_timeout(timeout) {
                                    Ok(v) => Out::Got(v.id),
                                    Err(e) => {
                                        let (d, s) = strings(&e);
                                        match e {
                                            mpsc::RecvTimeoutError::Timeout => Out::Timeout(d, s),
                                            mpsc::RecvTimeoutError::Disconnected => {
                                                Out::RecvDisconnected(d, s)
                                            }
                                        }
                                    }
                                }
                            }
                        },
                        Op::TryIter(max) => match &self.rx {
                            None => Out::Skipped,
                            Some(rx) => Out::Many(rx.try_iter().take(max).map(|v| v.id).collect()),
                        },
                        Op::IterToEnd => match &self.rx {
                            None => Out::Skipped,
                            Some(rx) => Out::Many(rx.iter().map(|v| v.id).collect()),
                        },
                        Op::CloneSender(i) => match self.pick(i) {
                            None => Out::Skipped,
                            Some(i) => {
                                let clone = match &self.txs[i] {
                                    Tx::Unbounded(tx) => Tx::Unbounded(tx.clone()),
                                    Tx::Sync(tx) => Tx::Sync(tx.clone()),
                                };
                                self.txs.push(clone);
                                Out::Done
                            }
                        },
                        Op::DropSender(i) => match self.pick(i) {
                            None => Out::Skipped,
                            Some(i) => {
                                self.txs.swap_remove(i);
                                Out::Done
                            }
                        },
                        Op::DropReceiver => match self.rx.take() {
                            None => Out::Skipped,
                            Some(rx) => {
                                drop(rx);
                                Out::Done
                            }
                        },
                    }
                }

                pub fn drops(&self) -> usize {
                    self.drops.load(Ordering::SeqCst)
                }

                pub fn senders(&self) -> usize {
                    self.txs.len()
                }

                pub fn close(&mut self) {
                    self.txs.clear();
                    self.rx = None;
                }
            }
        }
    };
}

side!(on_std, std::sync::mpsc);
side!(on_weir, weir::mpsc);

/// What std's answers so far say about the channel: enough to know whether a
/// blocking call would return at once.
struct Model {
    flavor: Flavor,
    queued: usize,
}

impl Model {
    /// Whether `op` may wait forever in a single thread; if so it is skipped.
    fn would_block(&self, op: Op, std: &on_std::Side) -> bool {
        let receiver = std.rx.is_some();
        let senders = std.senders() > 0;
        match op {
            Op::Send(_) => match self.flavor {
                Flavor::Unbounded => false,
                Flavor::Bounded(bound) => receiver && senders && self.queued >= bound,
            },
            Op::Recv => receiver && self.queued == 0 && senders,
            Op::IterToEnd => receiver && senders,
            _ => false,
        }
    }

    fn update(&mut self, out: &Out) {
        match out {
            Out::Sent => self.queued += 1,
            Out::Got(_) => self.queued -= 1,
            Out::Many(values) => self.queued -= values.len(),
            _ => {}
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..4usize).prop_map(Op::Send),
        4 => (0..4usize).prop_map(Op::TrySend),
        2 => Just(Op::Recv),
        4 => Just(Op::TryRecv),
        2 => any::<bool>().prop_map(Op::RecvTimeout),
        1 => (0..6usize).prop_map(Op::TryIter),
        1 => Just(Op::IterToEnd),
        1 => (0..4usize).prop_map(Op::CloneSender),
        1 => (0..4usize).prop_map(Op::DropSender),
        1 => Just(Op::DropReceiver),
    ]
}

fn flavor() -> impl Strategy<Value = Flavor> {
    prop_oneof![
        Just(Flavor::Unbounded),
        Just(Flavor::Bounded(0)),
        (1..=4usize).prop_map(Flavor::Bounded),
    ]
}

/// Aborts the binary if a test runs past its limit: a blocking call that std
/// answered at once but weir does not would otherwise hang the suite.
fn watchdog() -> std::sync::mpsc::Sender<()> {
    let limit = Duration::from_secs(if cfg!(miri) { 3_600 } else { 300 });
    let (done, wait) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(limit) {
            eprintln!("a differential test ran past {limit:?}: aborting");
            std::process::abort();
        }
    });
    done
}

fn run(flavor: Flavor, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut std = on_std::Side::new(flavor);
    let mut weir = on_weir::Side::new(flavor);
    let mut model = Model { flavor, queued: 0 };
    for (step, &op) in ops.iter().enumerate() {
        let id = step as u32;
        if model.would_block(op, &std) {
            continue;
        }
        let expected = std.apply(op, id);
        let got = weir.apply(op, id);
        prop_assert_eq!(&got, &expected, "step {} {:?} on {:?}", step, op, flavor);
        model.update(&expected);
        prop_assert_eq!(
            weir.drops(),
            std.drops(),
            "drops after step {} {:?}",
            step,
            op
        );
        if let Some(rx) = &weir.rx {
            // What weir adds: the length of the queue, exact when nothing runs
            // concurrently.
            let len = if flavor == Flavor::Bounded(0) {
                0
            } else {
                model.queued
            };
            prop_assert_eq!(rx.len(), len, "len after step {} {:?}", step, op);
            prop_assert_eq!(rx.is_empty(), len == 0);
            let capacity = match flavor {
                Flavor::Unbounded => None,
                Flavor::Bounded(bound) => Some(bound),
            };
            prop_assert_eq!(rx.capacity(), capacity);
        }
    }
    std.close();
    weir.close();
    prop_assert_eq!(weir.drops(), std.drops(), "drops once every handle is gone");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 6 } else { 512 },
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn same_observable_behaviour(
        flavor in flavor(),
        ops in prop::collection::vec(op(), 1..if cfg!(miri) { 40 } else { 160 }),
    ) {
        let _watchdog = watchdog();
        run(flavor, &ops)?;
    }
}

/// A fixed sequence that crosses several blocks of the unbounded list and
/// wraps the bounded ring a few times, so the long paths are always covered.
#[test]
fn long_fixed_sequence() {
    let _watchdog = watchdog();
    for flavor in [Flavor::Unbounded, Flavor::Bounded(1), Flavor::Bounded(3)] {
        let mut ops = Vec::new();
        for round in 0..40 {
            for _ in 0..round % 5 + 1 {
                ops.push(Op::TrySend(round));
                ops.push(Op::Send(round));
            }
            ops.push(Op::TryIter(round % 4));
            if round % 7 == 3 {
                ops.push(Op::CloneSender(0));
            }
            if round % 11 == 5 {
                ops.push(Op::DropSender(1));
            }
        }
        ops.push(Op::DropSender(0));
        ops.push(Op::DropSender(0));
        ops.push(Op::DropSender(0));
        ops.push(Op::DropSender(0));
        ops.push(Op::DropSender(0));
        ops.push(Op::IterToEnd);
        ops.push(Op::Recv);
        run(flavor, &ops).unwrap();
    }
}
