//! What a send does when the ring is full: the `Policy` type parameter.
//!
//! Each policy is a zero-sized marker type. The policy is fixed when the
//! channel is made and lives in the handle types, so [`Sender::send`]
//! compiles to that policy's code alone; nothing branches on a strategy at
//! run time.
//!
//! [`Sender::send`]: crate::Sender::send

use core::fmt::Debug;

use crate::chan::Chan;
use crate::error::{SampleError, SendError, TrySendError};

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Block {}
    impl Sealed for super::DropOldest {}
    impl Sealed for super::DropNewest {}
    impl Sealed for super::Sample {}

    impl<T> Sealed for Result<(), crate::SendError<T>> {}
    impl<T> Sealed for Result<Option<T>, crate::SendError<T>> {}
    impl<T> Sealed for Result<(), crate::TrySendError<T>> {}
    impl<T> Sealed for Result<(), crate::SampleError<T>> {}
}

/// What [`Sender::send`](crate::Sender::send) does when the channel is full.
///
/// Sealed: the four policies are [`Block`], [`DropOldest`], [`DropNewest`]
/// and [`Sample`]. Code can be generic over the policy:
///
/// ```
/// use weir::{Policy, SendOutcome, Sender};
///
/// /// Sends every value and counts the ones the channel handed back.
/// fn send_all<P: Policy>(tx: &Sender<u32, P>, values: impl IntoIterator<Item = u32>) -> usize {
///     values
///         .into_iter()
///         .filter(|&v| tx.send(v).handed_back().is_some())
///         .count()
/// }
///
/// let (tx, _rx) = weir::bounded::<u32, weir::DropNewest>(4);
/// assert_eq!(send_all(&tx, 0..10), 6);
/// ```
pub trait Policy: sealed::Sealed + Copy + Default + Debug + Send + Sync + Unpin + 'static {
    /// What `send` returns under this policy. Every value the channel did not
    /// keep is inside it.
    type Output<T>: SendOutcome<T>;

    /// The policy's name, for logs and reports.
    const NAME: &'static str;

    #[doc(hidden)]
    fn send<T>(chan: &Chan<T>, value: T) -> Self::Output<T>;
}

/// The result of a send under any policy, seen generically.
///
/// Implemented by every [`Policy::Output`], so code generic over the policy
/// can still account for every value.
///
/// ```
/// use weir::SendOutcome;
///
/// let (tx, rx) = weir::bounded::<u32, weir::DropOldest>(1);
/// assert_eq!(tx.send(1).handed_back(), None);
/// assert_eq!(tx.send(2).handed_back(), Some(1)); // 1 was evicted
/// drop(rx);
/// assert!(tx.send(3).is_disconnected());
/// ```
pub trait SendOutcome<T>: sealed::Sealed + Sized {
    /// The value the channel did not keep, if any: an evicted, refused or
    /// sampled-out value, or the value sent to a disconnected channel.
    fn handed_back(self) -> Option<T>;

    /// Whether the send failed because every receiver is gone.
    fn is_disconnected(&self) -> bool;
}

impl<T> SendOutcome<T> for Result<(), SendError<T>> {
    fn handed_back(self) -> Option<T> {
        self.err().map(SendError::into_inner)
    }

    fn is_disconnected(&self) -> bool {
        self.is_err()
    }
}

impl<T> SendOutcome<T> for Result<Option<T>, SendError<T>> {
    fn handed_back(self) -> Option<T> {
        match self {
            Ok(evicted) => evicted,
            Err(SendError(value)) => Some(value),
        }
    }

    fn is_disconnected(&self) -> bool {
        self.is_err()
    }
}

impl<T> SendOutcome<T> for Result<(), TrySendError<T>> {
    fn handed_back(self) -> Option<T> {
        self.err().map(TrySendError::into_inner)
    }

    fn is_disconnected(&self) -> bool {
        matches!(self, Err(TrySendError::Disconnected(_)))
    }
}

impl<T> SendOutcome<T> for Result<(), SampleError<T>> {
    fn handed_back(self) -> Option<T> {
        self.err().map(SampleError::into_inner)
    }

    fn is_disconnected(&self) -> bool {
        matches!(self, Err(SampleError::Disconnected(_)))
    }
}

/// When full, the sender waits for room. Nothing is lost.
///
/// `send` returns `Result<(), SendError<T>>` and fails only when every
/// receiver is gone. `Block` senders also have
/// [`send_timeout`](crate::Sender::send_timeout) and
/// [`send_deadline`](crate::Sender::send_deadline).
///
/// ```
/// let (tx, rx) = weir::bounded::<u32, weir::Block>(1);
/// tx.send(1).unwrap();
/// let consumer = std::thread::spawn(move || rx.iter().collect::<Vec<_>>());
/// tx.send(2).unwrap(); // waits until the consumer makes room
/// drop(tx);
/// assert_eq!(consumer.join().unwrap(), [1, 2]);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Block;

/// When full, the oldest queued value is evicted to make room and handed back
/// to the sender. The sender never waits for room; like
/// [`try_send`](crate::Sender::try_send), it only waits out another thread's
/// operation already under way on the slot it needs.
///
/// `send` returns `Result<Option<T>, SendError<T>>`: `Ok(None)` when the value
/// was queued into free room, `Ok(Some(oldest))` when it was queued by
/// evicting `oldest`. Each send evicts at most one value, even with other
/// senders and receivers running.
///
/// ```
/// let (tx, rx) = weir::bounded::<u32, weir::DropOldest>(2);
/// assert_eq!(tx.send(1), Ok(None));
/// assert_eq!(tx.send(2), Ok(None));
/// assert_eq!(tx.send(3), Ok(Some(1))); // 1 was the oldest
/// assert_eq!(rx.try_iter().collect::<Vec<_>>(), [2, 3]);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct DropOldest;

/// When full, the new value is refused and handed back. The sender never
/// waits for room; it is [`try_send`](crate::Sender::try_send), and waits
/// only as that does.
///
/// `send` returns `Result<(), TrySendError<T>>`: `Err(Full(value))` when the
/// channel was full.
///
/// ```
/// use weir::TrySendError;
///
/// let (tx, rx) = weir::bounded::<u32, weir::DropNewest>(2);
/// assert_eq!(tx.send(1), Ok(()));
/// assert_eq!(tx.send(2), Ok(()));
/// assert_eq!(tx.send(3), Err(TrySendError::Full(3)));
/// assert_eq!(rx.try_iter().collect::<Vec<_>>(), [1, 2]);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct DropNewest;

/// Under pressure, keeps one in N offered values and hands the rest back. The
/// sender never waits for room; a kept value is sent with
/// [`try_send`](crate::Sender::try_send), which waits only as its docs say.
///
/// Below the low watermark every value is queued. At or above it, each
/// thread numbers the values it offers to the channel 0, 1, 2, ... and value
/// k is kept when k is a multiple of the sample rate N
/// ([`Builder::sample_rate`], default 10); the rest come back as
/// [`SampleError::SampledOut`]. A kept value that finds the channel full
/// comes back as [`SampleError::Full`]. The count is of *offered* values, so
/// a steady overload still delivers one in N, and it is kept per thread, so
/// producers offering in lock-step each keep one in N of their own. A thread
/// remembers its counts for the last four `Sample` channels it offered to;
/// on a fifth its offers share the channel's own count, which keeps one in N
/// overall. Tasks on one executor thread share that thread's count.
///
/// ```
/// use weir::SampleError;
///
/// let (tx, rx) = weir::Builder::new(4)
///     .watermarks(0.5, 0.75)
///     .sample_rate(3)
///     .build::<u32, weir::Sample>()
///     .unwrap();
/// assert_eq!(tx.send(0), Ok(())); // below the low watermark (2 of 4)
/// assert_eq!(tx.send(1), Ok(()));
/// assert_eq!(tx.send(2), Ok(())); // under pressure: offered #0, kept
/// assert_eq!(tx.send(3), Err(SampleError::SampledOut(3))); // #1
/// assert_eq!(tx.send(4), Err(SampleError::SampledOut(4))); // #2
/// assert_eq!(tx.send(5), Ok(())); // #3, kept
/// assert_eq!(rx.len(), 4);
/// ```
///
/// [`Builder::sample_rate`]: crate::Builder::sample_rate
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Sample;

impl Policy for Block {
    type Output<T> = Result<(), SendError<T>>;
    const NAME: &'static str = "Block";

    #[inline]
    fn send<T>(chan: &Chan<T>, value: T) -> Self::Output<T> {
        chan.send_waiting(value)
    }
}

impl Policy for DropOldest {
    type Output<T> = Result<Option<T>, SendError<T>>;
    const NAME: &'static str = "DropOldest";

    #[inline]
    fn send<T>(chan: &Chan<T>, value: T) -> Self::Output<T> {
        chan.send_evicting(value)
    }
}

impl Policy for DropNewest {
    type Output<T> = Result<(), TrySendError<T>>;
    const NAME: &'static str = "DropNewest";

    #[inline]
    fn send<T>(chan: &Chan<T>, value: T) -> Self::Output<T> {
        chan.try_send(value)
    }
}

impl Policy for Sample {
    type Output<T> = Result<(), SampleError<T>>;
    const NAME: &'static str = "Sample";

    #[inline]
    fn send<T>(chan: &Chan<T>, value: T) -> Self::Output<T> {
        chan.send_sampled(value)
    }
}
