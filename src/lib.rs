//! Lock-free bounded MPMC channels with backpressure built in.
//!
//! A weir is a low dam that keeps a river's level and lets the excess spill
//! in a controlled way. A `weir` channel does the same for a threaded
//! pipeline: it holds at most `capacity` values, and what happens to the
//! excess when producers outrun consumers is a decision you make in the type,
//! never an accident.
//!
//! # A tour
//!
//! ```
//! use weir::{Block, DropNewest, DropOldest, Pressure, Sample, TrySendError};
//!
//! // Block: the sender waits for room. Nothing is lost.
//! let (tx, rx) = weir::bounded::<u32, Block>(2);
//! tx.send(1).unwrap();
//! tx.send(2).unwrap();
//! assert!(tx.try_send(3).is_err()); // full; `send` would wait here
//! assert_eq!(rx.recv(), Ok(1));
//!
//! // DropOldest: the oldest value is evicted and handed back.
//! let (tx, rx) = weir::bounded::<u32, DropOldest>(2);
//! tx.send(1).unwrap();
//! tx.send(2).unwrap();
//! assert_eq!(tx.send(3), Ok(Some(1)));
//! assert_eq!(rx.try_iter().collect::<Vec<_>>(), [2, 3]);
//!
//! // DropNewest: the new value is refused and handed back.
//! let (tx, _rx) = weir::bounded::<u32, DropNewest>(1);
//! tx.send(1).unwrap();
//! assert_eq!(tx.send(2), Err(TrySendError::Full(2)));
//!
//! // Sample: under pressure keep one in N offered values.
//! let (tx, _rx) = weir::Builder::new(4).sample_rate(2).build::<u32, Sample>().unwrap();
//! let kept: Vec<u32> = (0..10).filter(|&i| tx.send(i).is_ok()).collect();
//! assert_eq!(kept, [0, 1, 2, 4]); // all below the low watermark (2), then 1 in 2
//!
//! // Pressure can be read from either end, at any time, without locks.
//! assert_eq!(tx.pressure(), Pressure::Full);
//! let stats = tx.stats();
//! assert_eq!((stats.sampled_out, stats.refused), (4, 2)); // picked 6 and 8 found it full
//! ```
//!
//! # Guarantees
//!
//! * Every value sent is received, handed back to a caller (evicted, refused,
//!   sampled out, or returned in an error), or dropped exactly once by the
//!   channel when it can no longer be received. Never silently lost.
//! * Values from one sender are received in the order they were sent.
//! * `send`, `try_send`, `recv` and `try_recv` take no lock and make no system
//!   call on their fast path; waiting parks the thread after a short spin,
//!   and waking costs one atomic load when nobody sleeps.
//! * The ring is lock-free in the sense that no operation takes a lock. It is
//!   not lock-free in the strict progress sense: a thread preempted between
//!   claiming a slot and publishing it holds up the operations that reach
//!   that slot next, which wait (spin, then yield) until it finishes.
//! * One allocation per channel, none per message.
//!
//! # Feature overview
//!
//! * [`bounded`] and [`Builder`] make channels; [`Sender`] and [`Receiver`]
//!   are both `Clone`.
//! * [`Policy`] is implemented by [`Block`], [`DropOldest`], [`DropNewest`]
//!   and [`Sample`].
//! * [`Pressure`] and [`Stats`] report what the channel is going through;
//!   [`Stats::since`] gives what happened between two snapshots.
//! * Flow control: [`Sender::close`] and [`Receiver::close`] shut a channel
//!   and let receivers drain it; [`Sender::wait_normal`] pauses a producer
//!   until the level is back below the low watermark; batches move with one
//!   CAS per run of slots ([`Sender::try_send_batch`], [`Sender::send_batch`],
//!   [`Receiver::try_recv_batch`]), and [`Receiver::recv_batch_linger`] and
//!   [`Receiver::batches`] flush by size or after a linger.
//! * Async: the waiting calls `recv`, `send`, `recv_batch`, `send_batch`
//!   and `wait_normal` have future twins ([`Receiver::recv_async`],
//!   [`Sender::send_async`], [`Sender::wait_normal_async`], ...), on any
//!   executor, in one FIFO wait order with threads.
//! * [`mpsc`] is a drop-in replacement for `std::sync::mpsc`.
//!
//! # Cargo features
//!
//! * `futures` (on by default): `Stream` for the receiving streams and
//!   `Sink` for the sending sinks, through futures-core and futures-sink.
//! * `serde` (off by default): `Serialize` and `Deserialize` for [`Stats`]
//!   and [`Pressure`].

#![deny(missing_docs, unsafe_op_in_unsafe_fn, unsafe_code)]
#![warn(
    clippy::undocumented_unsafe_blocks,
    missing_debug_implementations,
    rust_2018_idioms
)]

mod chan;
mod channel;
mod error;
mod future;
pub mod mpsc;
mod park;
mod policy;
mod pressure;
mod ring;
mod sync;
mod unwind;

pub use channel::{bounded, Batches, Builder, IntoIter, Iter, Receiver, Sender, TryIter};
pub use error::{
    BuildError, RecvError, RecvTimeoutError, SampleError, SendError, SendTimeoutError,
    TryRecvError, TrySendError, WaitError, WaitTimeoutError,
};
pub use future::{RecvBatchFut, RecvFut, SendBatchFut, SendFut, WaitNormalFut};
#[cfg(feature = "futures")]
pub use future::{RecvStream, SendSink};
pub use policy::{Block, DropNewest, DropOldest, Policy, Sample, SendOutcome};
pub use pressure::{Pressure, Stats};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
