//! Error types. Every error from a send gives the value back.
//!
//! The names follow `std::sync::mpsc` and crossbeam-channel, so code that
//! matches on those errors reads the same with weir.

use core::fmt;

/// A value could not be sent because every receiver is gone or the channel
/// was [closed](crate::Sender::close). The value is
/// inside.
///
/// ```
/// let (tx, rx) = weir::bounded::<u32, weir::Block>(1);
/// drop(rx);
/// assert_eq!(tx.send(7), Err(weir::SendError(7)));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> SendError<T> {
    /// Takes the value back out of the error.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError { .. }")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sending on a disconnected channel")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// Why [`Sender::try_send`](crate::Sender::try_send) handed a value back.
///
/// ```
/// use weir::TrySendError;
///
/// let (tx, rx) = weir::bounded::<u32, weir::Block>(1);
/// tx.try_send(1).unwrap();
/// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
/// drop(rx);
/// assert_eq!(tx.try_send(3), Err(TrySendError::Disconnected(3)));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// The channel was full; the value was not queued.
    Full(T),
    /// Every receiver is gone, or the channel was closed; the value was not
    /// queued.
    Disconnected(T),
}

impl<T> TrySendError<T> {
    /// Takes the value back out of the error.
    pub fn into_inner(self) -> T {
        match self {
            Self::Full(value) | Self::Disconnected(value) => value,
        }
    }

    /// Whether the channel was full.
    pub fn is_full(&self) -> bool {
        matches!(self, Self::Full(_))
    }

    /// Whether every receiver is gone or the channel was closed.
    pub fn is_disconnected(&self) -> bool {
        matches!(self, Self::Disconnected(_))
    }
}

impl<T> From<SendError<T>> for TrySendError<T> {
    fn from(error: SendError<T>) -> Self {
        Self::Disconnected(error.0)
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("Full(..)"),
            Self::Disconnected(_) => f.write_str("Disconnected(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("sending on a full channel"),
            Self::Disconnected(_) => f.write_str("sending on a disconnected channel"),
        }
    }
}

impl<T> std::error::Error for TrySendError<T> {}

/// Why a [`Block`](crate::Block) sender's
/// [`send_timeout`](crate::Sender::send_timeout) or
/// [`send_deadline`](crate::Sender::send_deadline) handed a value back.
///
/// ```
/// use std::time::Duration;
/// use weir::SendTimeoutError;
///
/// let (tx, _rx) = weir::bounded::<u32, weir::Block>(1);
/// tx.send(1).unwrap();
/// let err = tx.send_timeout(2, Duration::from_millis(5)).unwrap_err();
/// assert_eq!(err, SendTimeoutError::Timeout(2));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SendTimeoutError<T> {
    /// The channel stayed full until the deadline; the value was not queued.
    Timeout(T),
    /// Every receiver is gone, or the channel was closed; the value was not
    /// queued.
    Disconnected(T),
}

impl<T> SendTimeoutError<T> {
    /// Takes the value back out of the error.
    pub fn into_inner(self) -> T {
        match self {
            Self::Timeout(value) | Self::Disconnected(value) => value,
        }
    }

    /// Whether the deadline passed.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout(_))
    }

    /// Whether every receiver is gone or the channel was closed.
    pub fn is_disconnected(&self) -> bool {
        matches!(self, Self::Disconnected(_))
    }
}

impl<T> From<SendError<T>> for SendTimeoutError<T> {
    fn from(error: SendError<T>) -> Self {
        Self::Disconnected(error.0)
    }
}

impl<T> fmt::Debug for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout(_) => f.write_str("Timeout(..)"),
            Self::Disconnected(_) => f.write_str("Disconnected(..)"),
        }
    }
}

impl<T> fmt::Display for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout(_) => f.write_str("timed out waiting on send operation"),
            Self::Disconnected(_) => f.write_str("sending on a disconnected channel"),
        }
    }
}

impl<T> std::error::Error for SendTimeoutError<T> {}

/// Why a [`Sample`](crate::Sample) sender handed a value back.
///
/// ```
/// use weir::SampleError;
///
/// // With a low watermark of 0, the channel is under pressure from its
/// // first queued value on: then keep 1 in 2.
/// let (tx, _rx) = weir::Builder::new(8)
///     .watermarks(0.0, 0.5)
///     .sample_rate(2)
///     .build::<u32, weir::Sample>()
///     .unwrap();
/// assert_eq!(tx.send(0), Ok(())); // empty: queued
/// assert_eq!(tx.send(1), Ok(())); // offered #0 under pressure: kept
/// assert_eq!(tx.send(2), Err(SampleError::SampledOut(2)));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SampleError<T> {
    /// The channel was at or above its low watermark and this value was not
    /// the one in N that is kept.
    SampledOut(T),
    /// The value was picked, but the channel was full.
    Full(T),
    /// Every receiver is gone, or the channel was closed.
    Disconnected(T),
}

impl<T> SampleError<T> {
    /// Takes the value back out of the error.
    pub fn into_inner(self) -> T {
        match self {
            Self::SampledOut(value) | Self::Full(value) | Self::Disconnected(value) => value,
        }
    }

    /// Whether every receiver is gone or the channel was closed.
    pub fn is_disconnected(&self) -> bool {
        matches!(self, Self::Disconnected(_))
    }
}

impl<T> fmt::Debug for SampleError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SampledOut(_) => f.write_str("SampledOut(..)"),
            Self::Full(_) => f.write_str("Full(..)"),
            Self::Disconnected(_) => f.write_str("Disconnected(..)"),
        }
    }
}

impl<T> fmt::Display for SampleError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SampledOut(_) => f.write_str("value sampled out under pressure"),
            Self::Full(_) => f.write_str("sending on a full channel"),
            Self::Disconnected(_) => f.write_str("sending on a disconnected channel"),
        }
    }
}

impl<T> std::error::Error for SampleError<T> {}

/// Every sender is gone, or the channel was
/// [closed](crate::Receiver::close), and the channel is empty.
///
/// ```
/// let (tx, rx) = weir::bounded::<u32, weir::Block>(1);
/// drop(tx);
/// assert_eq!(rx.recv(), Err(weir::RecvError));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("receiving on an empty and disconnected channel")
    }
}

impl std::error::Error for RecvError {}

/// Why [`Receiver::try_recv`](crate::Receiver::try_recv) returned no value.
///
/// ```
/// use weir::TryRecvError;
///
/// let (tx, rx) = weir::bounded::<u32, weir::Block>(1);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// The channel was empty.
    Empty,
    /// Every sender is gone, or the channel was closed, and the channel is
    /// empty.
    Disconnected,
}

impl TryRecvError {
    /// Whether the channel was empty.
    pub fn is_empty(&self) -> bool {
        matches!(self, Self::Empty)
    }

    /// Whether every sender is gone (or the channel was closed) and the
    /// channel is empty.
    pub fn is_disconnected(&self) -> bool {
        matches!(self, Self::Disconnected)
    }
}

impl From<RecvError> for TryRecvError {
    fn from(_: RecvError) -> Self {
        Self::Disconnected
    }
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("receiving on an empty channel"),
            Self::Disconnected => f.write_str("receiving on an empty and disconnected channel"),
        }
    }
}

impl std::error::Error for TryRecvError {}

/// Why [`Receiver::recv_timeout`](crate::Receiver::recv_timeout) or
/// [`Receiver::recv_deadline`](crate::Receiver::recv_deadline) returned no
/// value.
///
/// ```
/// use std::time::Duration;
/// use weir::RecvTimeoutError;
///
/// let (_tx, rx) = weir::bounded::<u32, weir::Block>(1);
/// let err = rx.recv_timeout(Duration::from_millis(5)).unwrap_err();
/// assert_eq!(err, RecvTimeoutError::Timeout);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvTimeoutError {
    /// No value arrived before the deadline.
    Timeout,
    /// Every sender is gone, or the channel was closed, and the channel is
    /// empty.
    Disconnected,
}

impl RecvTimeoutError {
    /// Whether the deadline passed.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout)
    }

    /// Whether every sender is gone (or the channel was closed) and the
    /// channel is empty.
    pub fn is_disconnected(&self) -> bool {
        matches!(self, Self::Disconnected)
    }
}

impl From<RecvError> for RecvTimeoutError {
    fn from(_: RecvError) -> Self {
        Self::Disconnected
    }
}

impl fmt::Display for RecvTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout => f.write_str("timed out waiting on receive operation"),
            Self::Disconnected => f.write_str("channel is empty and sending half is closed"),
        }
    }
}

impl std::error::Error for RecvTimeoutError {}

/// Why [`Sender::wait_normal`](crate::Sender::wait_normal) or its async twin
/// returned without relief: the channel was closed, or every receiver is
/// gone, so no send can succeed and waiting for the level to drop is
/// pointless.
///
/// ```
/// let (tx, rx) = weir::bounded::<u32, weir::Block>(4);
/// drop(rx);
/// assert_eq!(tx.wait_normal(), Err(weir::WaitError));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitError;

impl fmt::Display for WaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("waiting for relief on a disconnected channel")
    }
}

impl std::error::Error for WaitError {}

/// Why [`Sender::wait_normal_timeout`](crate::Sender::wait_normal_timeout) or
/// [`Sender::wait_normal_deadline`](crate::Sender::wait_normal_deadline)
/// returned without relief.
///
/// ```
/// use std::time::Duration;
/// use weir::WaitTimeoutError;
///
/// let (tx, _rx) = weir::Builder::new(4).watermarks(0.5, 0.75).build::<u32, weir::Block>()?;
/// tx.send(1)?;
/// tx.send(2)?; // 2 of 4: at the low watermark, not below it
/// let err = tx.wait_normal_timeout(Duration::from_millis(5)).unwrap_err();
/// assert_eq!(err, WaitTimeoutError::Timeout);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitTimeoutError {
    /// The channel still held at least its low watermark at the deadline.
    Timeout,
    /// The channel was closed, or every receiver is gone.
    Disconnected,
}

impl WaitTimeoutError {
    /// Whether the deadline passed.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout)
    }

    /// Whether the channel was closed or every receiver is gone.
    pub fn is_disconnected(&self) -> bool {
        matches!(self, Self::Disconnected)
    }
}

impl From<WaitError> for WaitTimeoutError {
    fn from(_: WaitError) -> Self {
        Self::Disconnected
    }
}

impl fmt::Display for WaitTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout => {
                f.write_str("timed out waiting for the channel to drain below its low watermark")
            }
            Self::Disconnected => f.write_str("waiting for relief on a disconnected channel"),
        }
    }
}

impl std::error::Error for WaitTimeoutError {}

/// Why a channel could not be built.
///
/// ```
/// use weir::BuildError;
///
/// let err = weir::Builder::new(0).build::<u32, weir::Block>().unwrap_err();
/// assert_eq!(err, BuildError::ZeroCapacity);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum BuildError {
    /// A capacity of zero was asked for; a bounded channel needs at least
    /// one slot. A rendezvous channel, where each send waits for a receiver
    /// to take the value, is [`mpsc::sync_channel(0)`](crate::mpsc::sync_channel).
    ZeroCapacity,
    /// The capacity is too large to index or to allocate.
    CapacityTooLarge(usize),
    /// The allocator could not provide the ring's memory.
    AllocationFailed(usize),
    /// A watermark was outside `0.0..=1.0` (or NaN), or low was above high.
    InvalidWatermarks {
        /// The low watermark asked for.
        low: f64,
        /// The high watermark asked for.
        high: f64,
    },
    /// A sample rate of zero was asked for; one in N needs N of at least 1.
    ZeroSampleRate,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ZeroCapacity => f.write_str(
                "capacity must be at least 1; for a rendezvous channel, where each send \
                 waits for a receiver, use weir::mpsc::sync_channel(0)",
            ),
            Self::CapacityTooLarge(cap) => write!(f, "capacity {cap} is too large"),
            Self::AllocationFailed(cap) => {
                write!(f, "could not allocate a ring of {cap} slots")
            }
            Self::InvalidWatermarks { low, high } => write!(
                f,
                "watermarks must satisfy 0.0 <= low <= high <= 1.0 (got low {low}, high {high})"
            ),
            Self::ZeroSampleRate => f.write_str("sample rate must be at least 1"),
        }
    }
}

impl std::error::Error for BuildError {}
