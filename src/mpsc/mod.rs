//! A drop-in replacement for [`std::sync::mpsc`], on weir's channels.
//!
//! Replace `use std::sync::mpsc;` with `use weir::mpsc;` and threaded code
//! compiles and behaves as before: the same functions, types, methods, trait
//! implementations, error values and error messages, the same disconnection
//! rules, and values left in a channel dropped when the receiver goes.
//!
//! The replacement is at the source level: the types are weir's own, not
//! std's, and neither converts into the other. Where another crate's API
//! takes or returns `std::sync::mpsc::Sender` (or any std channel type),
//! that channel must still be std's.
//!
//! ```
//! use std::thread;
//! use weir::mpsc; // was: use std::sync::mpsc;
//!
//! let (tx, rx) = mpsc::channel();
//! for id in 0..4 {
//!     let tx = tx.clone();
//!     thread::spawn(move || tx.send(id).unwrap());
//! }
//! drop(tx);
//! let mut got: Vec<u32> = rx.iter().collect();
//! got.sort_unstable();
//! assert_eq!(got, [0, 1, 2, 3]);
//! ```
//!
//! # The flavours
//!
//! * [`sync_channel(n)`](sync_channel) with `n >= 1` is a weir ring of exactly
//!   `n` slots whose senders block when it is full: the
//!   [`Block`] policy of [`weir::bounded`](crate::bounded).
//! * [`sync_channel(0)`](sync_channel) is a rendezvous channel: a `send`
//!   returns only once the receiver has taken the value, and `try_send`
//!   succeeds only if the receiver is waiting in a receive right then.
//! * [`channel()`](channel) is unbounded: a lock-free linked list of blocks of
//!   31 values, allocated as it grows. A sender never waits.
//!
//! # Where weir differs: destructors that panic
//!
//! When the receiver is dropped with values queued and a value's destructor
//! panics, `std::sync::mpsc` stops there and leaks the rest. weir drops
//! every value, each once, then continues the first panic out of `drop`
//! (and discards them all if the thread is already panicking); a second
//! panicking destructor never aborts the process.
//!
//! # What weir adds
//!
//! [`Receiver`] also has [`len`](Receiver::len),
//! [`is_empty`](Receiver::is_empty), [`capacity`](Receiver::capacity) and
//! [`pressure`](Receiver::pressure), so code that migrates can watch how full
//! its channel runs. For the other policies (drop the oldest, refuse the
//! newest, sample), watermarks and counters, use [`weir::bounded`] or
//! [`weir::Builder`](crate::Builder) directly.
//!
//! [`weir::bounded`]: crate::bounded

use core::fmt;
use core::marker::PhantomData;
use std::cell::Cell;
use std::error;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::time::{Duration, Instant};

use crate::policy::Block;
use crate::pressure::Pressure;

mod list;
mod zero;

// ----- constructors -----------------------------------------------------------

/// Creates an unbounded channel, as [`std::sync::mpsc::channel`] does.
///
/// Values are received in the order they were sent by one sender. A sender
/// never waits: the channel grows, a block of 31 values at a time, as long as
/// the receiver falls behind. There is **no backpressure**: a producer that
/// outruns its consumer makes the queue, its memory and the latency of every
/// value grow without bound. Where that can happen, use [`sync_channel`], or
/// [`weir::bounded`](crate::bounded) with the policy that fits.
///
/// # Examples
///
/// ```
/// use std::thread;
/// use weir::mpsc::channel;
///
/// let (tx, rx) = channel();
/// thread::spawn(move || {
///     tx.send("hello").unwrap();
/// });
/// assert_eq!(rx.recv(), Ok("hello"));
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let (tx, rx) = list::channel();
    (
        Sender { inner: tx },
        Receiver::new(ReceiverFlavor::List(rx)),
    )
}

/// Creates a bounded channel, as [`std::sync::mpsc::sync_channel`] does.
///
/// With `bound >= 1` the channel holds at most `bound` values and a
/// [`SyncSender::send`] on a full channel waits for room: it is a weir ring
/// with the [`Block`] policy, allocated once, here.
///
/// With `bound == 0` it is a rendezvous channel: `send` waits until the
/// receiver has taken the value, and `try_send` succeeds only when the
/// receiver is waiting for a value at that moment.
///
/// # Panics
///
/// Panics if a ring of `bound` values is too large to index or to allocate.
///
/// # Examples
///
/// ```
/// use std::thread;
/// use weir::mpsc::sync_channel;
///
/// let (tx, rx) = sync_channel(1);
/// tx.send(1).unwrap(); // room for one
/// thread::spawn(move || {
///     tx.send(2).unwrap(); // waits until the receiver takes 1
/// });
/// assert_eq!(rx.recv(), Ok(1));
/// assert_eq!(rx.recv(), Ok(2));
/// ```
///
/// A rendezvous:
///
/// ```
/// use std::thread;
/// use weir::mpsc::{sync_channel, TrySendError};
///
/// let (tx, rx) = sync_channel(0);
/// assert_eq!(tx.try_send(1), Err(TrySendError::Full(1))); // nobody receiving
/// let sender = thread::spawn(move || tx.send(2).unwrap()); // waits for `recv`
/// assert_eq!(rx.recv(), Ok(2));
/// sender.join().unwrap();
/// ```
pub fn sync_channel<T>(bound: usize) -> (SyncSender<T>, Receiver<T>) {
    if bound == 0 {
        let (tx, rx) = zero::channel();
        (
            SyncSender {
                inner: SyncFlavor::Zero(tx),
            },
            Receiver::new(ReceiverFlavor::Zero(rx)),
        )
    } else {
        let (tx, rx) = crate::channel::bounded::<T, Block>(bound);
        (
            SyncSender {
                inner: SyncFlavor::Ring(tx),
            },
            Receiver::new(ReceiverFlavor::Ring(rx)),
        )
    }
}

// ----- Sender -----------------------------------------------------------------

/// The sending half of a [`channel`]. Clone it for more producers.
///
/// `Sender<T>` is `Send` and `Sync` when `T` is `Send`, as in std.
///
/// ```
/// use std::thread;
/// use weir::mpsc::channel;
///
/// let (tx, rx) = channel();
/// let tx2 = tx.clone();
/// thread::spawn(move || tx.send(1).unwrap());
/// thread::spawn(move || tx2.send(2).unwrap());
/// let mut got = [rx.recv().unwrap(), rx.recv().unwrap()];
/// got.sort_unstable();
/// assert_eq!(got, [1, 2]);
/// ```
pub struct Sender<T> {
    inner: list::Sender<T>,
}

impl<T> Sender<T> {
    /// Queues `value` for the receiver. Never waits.
    ///
    /// # Errors
    ///
    /// If the receiver is gone, the value comes back in [`SendError`]. An
    /// `Ok` does not mean the value will be received: the receiver may go
    /// first, and then the value is dropped with it.
    ///
    /// ```
    /// use weir::mpsc::{channel, SendError};
    ///
    /// let (tx, rx) = channel();
    /// assert_eq!(tx.send(1), Ok(()));
    /// drop(rx);
    /// assert_eq!(tx.send(2), Err(SendError(2)));
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.inner.send(value).map_err(SendError)
    }
}

impl<T> Clone for Sender<T> {
    /// Another sender into the same channel. The receiver sees the channel
    /// disconnected only once every sender is gone.
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

// A panic cannot leave a channel half-updated for another handle to see, so
// the handles are unwind safe, as std's are.
impl<T> UnwindSafe for Sender<T> {}
impl<T> RefUnwindSafe for Sender<T> {}

// ----- SyncSender -------------------------------------------------------------

/// The sending half of a [`sync_channel`]. Clone it for more producers.
///
/// `SyncSender<T>` is `Send` and `Sync` when `T` is `Send`, as in std.
///
/// ```
/// use std::thread;
/// use weir::mpsc::sync_channel;
///
/// let (tx, rx) = sync_channel(4);
/// let tx2 = tx.clone();
/// thread::spawn(move || tx.send(1).unwrap());
/// thread::spawn(move || tx2.send(2).unwrap());
/// let mut got = [rx.recv().unwrap(), rx.recv().unwrap()];
/// got.sort_unstable();
/// assert_eq!(got, [1, 2]);
/// ```
pub struct SyncSender<T> {
    inner: SyncFlavor<T>,
}

enum SyncFlavor<T> {
    Ring(crate::Sender<T, Block>),
    Zero(zero::Sender<T>),
}

impl<T> SyncSender<T> {
    /// Sends `value`, waiting for room if the channel is full; on a
    /// rendezvous channel, waiting until the receiver has taken it.
    ///
    /// # Errors
    ///
    /// If the receiver is gone, before or while this waits, the value comes
    /// back in [`SendError`].
    ///
    /// ```
    /// use std::thread;
    /// use weir::mpsc::{sync_channel, SendError};
    ///
    /// let (tx, rx) = sync_channel(1);
    /// tx.send(1).unwrap();
    /// let sender = thread::spawn(move || tx.send(2)); // full: waits
    /// drop(rx);
    /// assert_eq!(sender.join().unwrap(), Err(SendError(2)));
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        match &self.inner {
            SyncFlavor::Ring(tx) => tx.send(value).map_err(|e| SendError(e.0)),
            SyncFlavor::Zero(tx) => tx.send(value).map_err(SendError),
        }
    }

    /// Sends `value` if that needs no waiting: if there is room now, or, on a
    /// rendezvous channel, if the receiver is waiting in a receive now.
    ///
    /// # Errors
    ///
    /// The value comes back in [`TrySendError::Full`] if the channel is full
    /// (or no receiver is waiting on a rendezvous channel), and in
    /// [`TrySendError::Disconnected`] if the receiver is gone.
    ///
    /// ```
    /// use weir::mpsc::{sync_channel, TrySendError};
    ///
    /// let (tx, rx) = sync_channel(1);
    /// assert_eq!(tx.try_send(1), Ok(()));
    /// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    /// drop(rx);
    /// assert_eq!(tx.try_send(3), Err(TrySendError::Disconnected(3)));
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match &self.inner {
            SyncFlavor::Ring(tx) => tx.try_send(value).map_err(|e| match e {
                crate::TrySendError::Full(v) => TrySendError::Full(v),
                crate::TrySendError::Disconnected(v) => TrySendError::Disconnected(v),
            }),
            SyncFlavor::Zero(tx) => tx.try_send(value).map_err(|e| match e {
                zero::TrySendFailed::Full(v) => TrySendError::Full(v),
                zero::TrySendFailed::Disconnected(v) => TrySendError::Disconnected(v),
            }),
        }
    }
}

impl<T> Clone for SyncSender<T> {
    /// Another sender into the same channel.
    fn clone(&self) -> Self {
        Self {
            inner: match &self.inner {
                SyncFlavor::Ring(tx) => SyncFlavor::Ring(tx.clone()),
                SyncFlavor::Zero(tx) => SyncFlavor::Zero(tx.clone()),
            },
        }
    }
}

impl<T> fmt::Debug for SyncSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyncSender").finish_non_exhaustive()
    }
}

impl<T> UnwindSafe for SyncSender<T> {}
impl<T> RefUnwindSafe for SyncSender<T> {}

// ----- Receiver ---------------------------------------------------------------

/// The receiving half of a [`channel`] or [`sync_channel`]. There is one per
/// channel: it is `Send` when `T` is, but neither `Sync` nor `Clone`, as in
/// std.
///
/// ```
/// use std::thread;
/// use weir::mpsc::channel;
///
/// let (tx, rx) = channel();
/// thread::spawn(move || {
///     tx.send("hello").unwrap();
/// });
/// assert_eq!(rx.recv().unwrap(), "hello");
/// assert!(rx.recv().is_err()); // the sender is gone
/// ```
pub struct Receiver<T> {
    inner: ReceiverFlavor<T>,
    /// One receiving thread at a time, as std promises (the ring's receiver
    /// alone would be `Sync`).
    _not_sync: PhantomData<Cell<()>>,
}

enum ReceiverFlavor<T> {
    Ring(crate::Receiver<T>),
    List(list::Receiver<T>),
    Zero(zero::Receiver<T>),
}

impl<T> Receiver<T> {
    fn new(inner: ReceiverFlavor<T>) -> Self {
        Self {
            inner,
            _not_sync: PhantomData,
        }
    }

    /// Takes a value if one is ready now; never waits for a sender.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if no value is ready, and
    /// [`TryRecvError::Disconnected`] if, in addition, every sender is gone.
    ///
    /// ```
    /// use weir::mpsc::{channel, TryRecvError};
    ///
    /// let (tx, rx) = channel();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(1).unwrap();
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Ok(1)); // values outlive their senders
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    /// ```
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        let empty = |e| match e {
            list::Empty::Empty => TryRecvError::Empty,
            list::Empty::Disconnected => TryRecvError::Disconnected,
        };
        match &self.inner {
            ReceiverFlavor::Ring(rx) => rx.try_recv().map_err(|e| match e {
                crate::TryRecvError::Empty => TryRecvError::Empty,
                crate::TryRecvError::Disconnected => TryRecvError::Disconnected,
            }),
            ReceiverFlavor::List(rx) => rx.try_recv().map_err(empty),
            ReceiverFlavor::Zero(rx) => rx.try_recv().map_err(empty),
        }
    }

    /// Takes a value, waiting for one if none is ready.
    ///
    /// Once every sender is gone, the values still queued are received first;
    /// then this returns [`RecvError`].
    ///
    /// # Errors
    ///
    /// [`RecvError`] when the channel is empty and every sender is gone.
    ///
    /// ```
    /// use std::thread;
    /// use weir::mpsc::{sync_channel, RecvError};
    ///
    /// let (tx, rx) = sync_channel(2);
    /// thread::spawn(move || {
    ///     tx.send(1).unwrap();
    ///     tx.send(2).unwrap();
    /// });
    /// assert_eq!(rx.recv(), Ok(1));
    /// assert_eq!(rx.recv(), Ok(2));
    /// assert_eq!(rx.recv(), Err(RecvError));
    /// ```
    pub fn recv(&self) -> Result<T, RecvError> {
        self.recv_until(None).map_err(|_| RecvError)
    }

    /// Takes a value, waiting at most `timeout` for one.
    ///
    /// A timeout too large to add to the clock means no deadline.
    ///
    /// # Errors
    ///
    /// [`RecvTimeoutError::Timeout`] if no value came in time, and
    /// [`RecvTimeoutError::Disconnected`] if the channel is empty and every
    /// sender is gone (that is reported at once, without waiting).
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir::mpsc::{channel, RecvTimeoutError};
    ///
    /// let (tx, rx) = channel::<u32>();
    /// let timeout = Duration::from_millis(10);
    /// assert_eq!(rx.recv_timeout(timeout), Err(RecvTimeoutError::Timeout));
    /// drop(tx);
    /// assert_eq!(rx.recv_timeout(timeout), Err(RecvTimeoutError::Disconnected));
    /// ```
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.recv_until(Instant::now().checked_add(timeout))
    }

    /// Takes a value, waiting for one until `deadline`.
    ///
    /// std has this as an unstable method; weir's is stable.
    ///
    /// # Errors
    ///
    /// As [`recv_timeout`](Self::recv_timeout).
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use weir::mpsc::{channel, RecvTimeoutError};
    ///
    /// let (tx, rx) = channel();
    /// tx.send(1).unwrap();
    /// let deadline = Instant::now() + Duration::from_millis(10);
    /// assert_eq!(rx.recv_deadline(deadline), Ok(1));
    /// assert_eq!(rx.recv_deadline(deadline), Err(RecvTimeoutError::Timeout));
    /// ```
    pub fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        self.recv_until(Some(deadline))
    }

    fn recv_until(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        let failed = |e| match e {
            list::RecvFailed::Timeout => RecvTimeoutError::Timeout,
            list::RecvFailed::Disconnected => RecvTimeoutError::Disconnected,
        };
        match &self.inner {
            ReceiverFlavor::Ring(rx) => {
                let result = match deadline {
                    Some(deadline) => rx.recv_deadline(deadline),
                    None => rx.recv().map_err(|_| crate::RecvTimeoutError::Disconnected),
                };
                result.map_err(|e| match e {
                    crate::RecvTimeoutError::Timeout => RecvTimeoutError::Timeout,
                    crate::RecvTimeoutError::Disconnected => RecvTimeoutError::Disconnected,
                })
            }
            ReceiverFlavor::List(rx) => rx.recv(deadline).map_err(failed),
            ReceiverFlavor::Zero(rx) => rx.recv(deadline).map_err(failed),
        }
    }

    /// An iterator that waits for each value and ends once the channel is
    /// empty and every sender is gone.
    ///
    /// ```
    /// use std::thread;
    /// use weir::mpsc::channel;
    ///
    /// let (tx, rx) = channel();
    /// thread::spawn(move || {
    ///     for i in 1..=3 {
    ///         tx.send(i).unwrap();
    ///     }
    /// });
    /// assert_eq!(rx.iter().collect::<Vec<_>>(), [1, 2, 3]);
    /// ```
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { rx: self }
    }

    /// An iterator over the values ready now; it never waits and ends at the
    /// first empty look.
    ///
    /// ```
    /// use weir::mpsc::channel;
    ///
    /// let (tx, rx) = channel();
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// assert_eq!(rx.try_iter().collect::<Vec<_>>(), [1, 2]);
    /// assert_eq!(rx.try_iter().next(), None);
    /// ```
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter { rx: self }
    }

    /// The number of values queued. Not in std.
    ///
    /// A snapshot: senders may change it the moment it returns. A value whose
    /// send has begun but not finished counts. A rendezvous channel holds no
    /// values: its length is always 0.
    ///
    /// ```
    /// use weir::mpsc::{channel, sync_channel};
    ///
    /// let (tx, rx) = channel();
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// assert_eq!(rx.len(), 2);
    ///
    /// let (tx, rx) = sync_channel(8);
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        match &self.inner {
            ReceiverFlavor::Ring(rx) => rx.len(),
            ReceiverFlavor::List(rx) => rx.len(),
            ReceiverFlavor::Zero(_) => 0,
        }
    }

    /// Whether no value is queued. A snapshot, as for [`len`](Self::len).
    /// Not in std.
    ///
    /// ```
    /// let (tx, rx) = weir::mpsc::channel::<u8>();
    /// assert!(rx.is_empty());
    /// # drop(tx);
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many values the channel can hold: `Some(bound)` for a
    /// [`sync_channel`] (`Some(0)` for a rendezvous), `None` for an unbounded
    /// [`channel`]. Not in std.
    ///
    /// ```
    /// use weir::mpsc::{channel, sync_channel};
    ///
    /// assert_eq!(sync_channel::<u8>(16).1.capacity(), Some(16));
    /// assert_eq!(sync_channel::<u8>(0).1.capacity(), Some(0));
    /// assert_eq!(channel::<u8>().1.capacity(), None);
    /// ```
    pub fn capacity(&self) -> Option<usize> {
        match &self.inner {
            ReceiverFlavor::Ring(rx) => Some(rx.capacity()),
            ReceiverFlavor::List(_) => None,
            ReceiverFlavor::Zero(_) => Some(0),
        }
    }

    /// The watermark state of a buffered [`sync_channel`] (`bound >= 1`),
    /// with weir's default watermarks: `Normal` below half full, `Elevated`
    /// from 50%, `Critical` from 80%, `Full`, and `Draining` once every sender
    /// is gone with values left. Not in std.
    ///
    /// `None` for an unbounded [`channel`], which has no bound to measure
    /// against (watch [`len`](Self::len) instead), and for a rendezvous, which
    /// has no buffer. A snapshot, as for [`len`](Self::len).
    ///
    /// ```
    /// use weir::mpsc::{channel, sync_channel};
    /// use weir::Pressure;
    ///
    /// let (tx, rx) = sync_channel(4);
    /// assert_eq!(rx.pressure(), Some(Pressure::Normal));
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// assert_eq!(rx.pressure(), Some(Pressure::Elevated));
    /// drop(tx);
    /// assert_eq!(rx.pressure(), Some(Pressure::Draining));
    ///
    /// assert_eq!(channel::<u8>().1.pressure(), None);
    /// ```
    pub fn pressure(&self) -> Option<Pressure> {
        match &self.inner {
            ReceiverFlavor::Ring(rx) => Some(rx.pressure()),
            ReceiverFlavor::List(_) | ReceiverFlavor::Zero(_) => None,
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}

impl<T> UnwindSafe for Receiver<T> {}
impl<T> RefUnwindSafe for Receiver<T> {}

// ----- iterators --------------------------------------------------------------

/// A waiting iterator over a [`Receiver`], from [`Receiver::iter`] or `for x
/// in &rx`. It ends once the channel is empty and every sender is gone.
///
/// ```
/// use weir::mpsc::channel;
///
/// let (tx, rx) = channel();
/// tx.send(1).unwrap();
/// drop(tx);
/// for value in &rx {
///     assert_eq!(value, 1);
/// }
/// ```
#[derive(Debug)]
pub struct Iter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

/// A non-waiting iterator over a [`Receiver`], from [`Receiver::try_iter`].
///
/// ```
/// use weir::mpsc::channel;
///
/// let (tx, rx) = channel();
/// tx.send(1).unwrap();
/// assert_eq!(rx.try_iter().sum::<i32>(), 1);
/// # drop(tx);
/// ```
#[derive(Debug)]
pub struct TryIter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.rx.try_recv().ok()
    }
}

/// An owning waiting iterator over a [`Receiver`], from `rx.into_iter()` or
/// `for x in rx`.
///
/// ```
/// use weir::mpsc::channel;
///
/// let (tx, rx) = channel();
/// tx.send(1).unwrap();
/// tx.send(2).unwrap();
/// drop(tx);
/// assert_eq!(rx.into_iter().collect::<Vec<_>>(), [1, 2]);
/// ```
#[derive(Debug)]
pub struct IntoIter<T> {
    rx: Receiver<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;

    fn into_iter(self) -> IntoIter<T> {
        IntoIter { rx: self }
    }
}

// ----- errors -----------------------------------------------------------------
//
// Defined here rather than re-exported from the crate root, because std's
// messages differ from crossbeam's, which the root types follow: a program
// that prints or compares them sees std's text.

/// The receiver is gone; the value that could not be sent is inside, as
/// `.0`.
///
/// ```
/// use weir::mpsc::{channel, SendError};
///
/// let (tx, rx) = channel();
/// drop(rx);
/// let SendError(value) = tx.send("lost").unwrap_err();
/// assert_eq!(value, "lost");
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError").finish_non_exhaustive()
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        "sending on a closed channel".fmt(f)
    }
}

impl<T> error::Error for SendError<T> {}

/// Why [`SyncSender::try_send`] handed its value back.
///
/// ```
/// use weir::mpsc::{sync_channel, TrySendError};
///
/// let (tx, rx) = sync_channel(1);
/// tx.send(1).unwrap();
/// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
/// drop(rx);
/// assert_eq!(tx.try_send(3), Err(TrySendError::Disconnected(3)));
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum TrySendError<T> {
    /// The channel is full (or, on a rendezvous channel, no receiver is
    /// waiting); the value is inside.
    Full(T),
    /// The receiver is gone; the value is inside.
    Disconnected(T),
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // What std prints: the value is not shown, so `T` need not be
        // `Debug`. Written out, as `DebugTuple::finish_non_exhaustive` is
        // newer than the crate's minimum Rust; the output is the same in
        // every mode.
        match self {
            Self::Full(..) => f.write_str("TrySendError::Full(..)"),
            Self::Disconnected(..) => f.write_str("TrySendError::Disconnected(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(..) => "sending on a full channel".fmt(f),
            Self::Disconnected(..) => "sending on a closed channel".fmt(f),
        }
    }
}

impl<T> error::Error for TrySendError<T> {}

impl<T> From<SendError<T>> for TrySendError<T> {
    /// A [`SendError`] is a [`TrySendError::Disconnected`] with the same
    /// value.
    ///
    /// ```
    /// use weir::mpsc::{SendError, TrySendError};
    ///
    /// assert_eq!(TrySendError::from(SendError(1)), TrySendError::Disconnected(1));
    /// ```
    fn from(error: SendError<T>) -> Self {
        Self::Disconnected(error.0)
    }
}

/// The channel is empty and every sender is gone.
///
/// ```
/// use weir::mpsc::{channel, RecvError};
///
/// let (tx, rx) = channel::<u8>();
/// drop(tx);
/// assert_eq!(rx.recv(), Err(RecvError));
/// ```
#[derive(PartialEq, Eq, Clone, Copy, Debug)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        "receiving on a closed channel".fmt(f)
    }
}

impl error::Error for RecvError {}

/// Why [`Receiver::try_recv`] returned no value.
///
/// ```
/// use weir::mpsc::{channel, TryRecvError};
///
/// let (tx, rx) = channel::<u8>();
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
/// ```
#[derive(PartialEq, Eq, Clone, Copy, Debug)]
pub enum TryRecvError {
    /// No value is ready now; senders remain.
    Empty,
    /// The channel is empty and every sender is gone.
    Disconnected,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => "receiving on an empty channel".fmt(f),
            Self::Disconnected => "receiving on a closed channel".fmt(f),
        }
    }
}

impl error::Error for TryRecvError {}

impl From<RecvError> for TryRecvError {
    /// A [`RecvError`] is a [`TryRecvError::Disconnected`].
    ///
    /// ```
    /// use weir::mpsc::{RecvError, TryRecvError};
    ///
    /// assert_eq!(TryRecvError::from(RecvError), TryRecvError::Disconnected);
    /// ```
    fn from(_: RecvError) -> Self {
        Self::Disconnected
    }
}

/// Why [`Receiver::recv_timeout`] returned no value.
///
/// ```
/// use std::time::Duration;
/// use weir::mpsc::{channel, RecvTimeoutError};
///
/// let (tx, rx) = channel::<u8>();
/// let timeout = Duration::from_millis(1);
/// assert_eq!(rx.recv_timeout(timeout), Err(RecvTimeoutError::Timeout));
/// drop(tx);
/// assert_eq!(rx.recv_timeout(timeout), Err(RecvTimeoutError::Disconnected));
/// ```
#[derive(PartialEq, Eq, Clone, Copy, Debug)]
pub enum RecvTimeoutError {
    /// No value came before the deadline; senders remain.
    Timeout,
    /// The channel is empty and every sender is gone.
    Disconnected,
}

impl fmt::Display for RecvTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout => "timed out waiting on channel".fmt(f),
            Self::Disconnected => "channel is empty and sending half is closed".fmt(f),
        }
    }
}

impl error::Error for RecvTimeoutError {}

impl From<RecvError> for RecvTimeoutError {
    /// A [`RecvError`] is a [`RecvTimeoutError::Disconnected`].
    ///
    /// ```
    /// use weir::mpsc::{RecvError, RecvTimeoutError};
    ///
    /// assert_eq!(RecvTimeoutError::from(RecvError), RecvTimeoutError::Disconnected);
    /// ```
    fn from(_: RecvError) -> Self {
        Self::Disconnected
    }
}
