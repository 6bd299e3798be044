//! The public API: `bounded`, `Builder`, `Sender`, `Receiver` and the
//! receiving iterators.

use core::fmt;
use core::marker::PhantomData;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::time::{Duration, Instant};

use crate::chan::{Chan, Config};
use std::collections::VecDeque;

use crate::error::{
    BuildError, RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, WaitError,
    WaitTimeoutError,
};
use crate::future::{RecvBatchFut, RecvFut, SendBatchFut, SendFut, WaitNormalFut};
#[cfg(feature = "futures")]
use crate::future::{RecvStream, SendSink};
use crate::policy::{Block, Policy};
use crate::pressure::{Pressure, Stats};
use crate::TrySendError;

/// Creates a channel of exactly `capacity` slots whose senders follow policy
/// `P` when it is full, with the default watermarks (0.5 and 0.8) and sample
/// rate (1 in 10). The channel's memory is allocated once, here.
///
/// Use [`Builder`] to choose the watermarks and sample rate, or to get an
/// error instead of a panic for a bad capacity.
///
/// # Panics
///
/// Panics when `capacity` is 0, with a message that points to
/// [`mpsc::sync_channel(0)`](crate::mpsc::sync_channel) for a rendezvous
/// channel, and with a message that says so when the ring for `capacity`
/// values is too large to index or could not be allocated.
///
/// # Examples
///
/// ```
/// let (tx, rx) = weir::bounded::<&str, weir::DropOldest>(2);
/// tx.send("a").unwrap();
/// tx.send("b").unwrap();
/// assert_eq!(tx.send("c"), Ok(Some("a"))); // "a" evicted, handed back
/// assert_eq!(rx.recv(), Ok("b"));
/// ```
///
/// `Sender` defaults its policy to [`Block`], so a channel whose handle
/// types are written out without one blocks (a [`Receiver`]'s type never
/// names the policy):
///
/// ```
/// use weir::{Receiver, Sender};
///
/// let (tx, rx): (Sender<u8>, Receiver<u8>) = weir::bounded(16);
/// tx.send(1).unwrap();
/// assert_eq!(rx.recv(), Ok(1));
/// ```
pub fn bounded<T, P: Policy>(capacity: usize) -> (Sender<T, P>, Receiver<T>) {
    match Builder::new(capacity).build() {
        Ok(pair) => pair,
        Err(error) => panic!("weir::bounded: {error}"),
    }
}

/// Builds a channel with chosen watermarks and sample rate.
///
/// Watermarks are fractions of the capacity in `0.0..=1.0`, low at most high.
/// They become item counts when the channel is built: a channel is at or
/// above a watermark `w` when its length is at least `ceil(w * capacity)`,
/// and at least 1, so an empty channel is always `Normal`. The product is
/// exact for the decimal written: `0.07` of 100 is 7 (floating point would
/// make it 8). See [`Pressure`] for what small capacities read.
///
/// ```
/// use weir::{Builder, DropNewest, Pressure};
///
/// let (tx, rx) = Builder::new(100)
///     .watermarks(0.25, 0.9)
///     .build::<u64, DropNewest>()?;
/// assert_eq!((rx.low_watermark(), rx.high_watermark()), (25, 90));
/// for i in 0..30 {
///     tx.send(i).unwrap();
/// }
/// assert_eq!(rx.pressure(), Pressure::Elevated);
/// # Ok::<(), weir::BuildError>(())
/// ```
#[derive(Debug, Clone, Copy)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct Builder {
    config: Config,
}

impl Builder {
    /// Starts a channel of exactly `capacity` slots with the default
    /// watermarks (0.5 and 0.8) and sample rate (1 in 10).
    pub fn new(capacity: usize) -> Self {
        Self {
            config: Config {
                capacity,
                low: 0.5,
                high: 0.8,
                sample_every: 10,
            },
        }
    }

    /// Sets both watermarks, as fractions of the capacity.
    pub fn watermarks(mut self, low: f64, high: f64) -> Self {
        self.config.low = low;
        self.config.high = high;
        self
    }

    /// Sets the low watermark: below it the channel is `Normal`, and a
    /// [`Sample`](crate::Sample) channel queues every value.
    pub fn low_watermark(mut self, low: f64) -> Self {
        self.config.low = low;
        self
    }

    /// Sets the high watermark: from it on the channel is `Critical`.
    pub fn high_watermark(mut self, high: f64) -> Self {
        self.config.high = high;
        self
    }

    /// Sets the sample rate of a [`Sample`](crate::Sample) channel: under
    /// pressure it keeps one in `every` offered values. Other policies ignore
    /// it.
    pub fn sample_rate(mut self, every: usize) -> Self {
        self.config.sample_every = every;
        self
    }

    /// Creates the channel.
    ///
    /// # Errors
    ///
    /// [`BuildError`] when the capacity is zero, too large or cannot be
    /// allocated, when a watermark is outside `0.0..=1.0` or low is above
    /// high, or when the sample rate is zero.
    ///
    /// ```
    /// use weir::{BuildError, Builder, Block};
    ///
    /// assert_eq!(Builder::new(0).build::<u8, Block>().unwrap_err(), BuildError::ZeroCapacity);
    /// assert!(matches!(
    ///     Builder::new(8).watermarks(0.9, 0.1).build::<u8, Block>(),
    ///     Err(BuildError::InvalidWatermarks { .. })
    /// ));
    /// assert_eq!(
    ///     Builder::new(8).sample_rate(0).build::<u8, Block>().unwrap_err(),
    ///     BuildError::ZeroSampleRate
    /// );
    /// assert!(matches!(
    ///     Builder::new(usize::MAX).build::<u8, Block>(),
    ///     Err(BuildError::CapacityTooLarge(_))
    /// ));
    /// ```
    pub fn build<T, P: Policy>(self) -> Result<(Sender<T, P>, Receiver<T>), BuildError> {
        let chan = Chan::new(self.config, P::NAME)?;
        let receiver_chan = chan.first_receiver();
        Ok((
            Sender {
                chan,
                _policy: PhantomData,
            },
            Receiver {
                chan: receiver_chan,
            },
        ))
    }
}

/// The sending half of a channel. Clone it for more producers.
///
/// `P` is the [`Policy`] for a full channel. `Sender<T, P>` is one pointer
/// wide, and `Send + Sync` exactly when `T: Send`.
pub struct Sender<T, P = Block> {
    chan: Chan<T>,
    _policy: PhantomData<P>,
}

/// The receiving half of a channel. Clone it for more consumers; each value
/// goes to exactly one of them.
///
/// A receiver's type does not name the senders' policy: receiving works the
/// same whatever a full channel does, so consumer code takes a
/// `Receiver<T>` from a channel of any policy.
///
/// ```
/// fn total(rx: weir::Receiver<u32>) -> u32 {
///     rx.try_iter().sum()
/// }
///
/// let (tx, rx) = weir::bounded::<u32, weir::DropOldest>(2);
/// tx.send(1).unwrap();
/// tx.send(2).unwrap();
/// tx.send(3).unwrap(); // evicts 1
/// assert_eq!(total(rx), 5);
///
/// let (tx, rx) = weir::bounded::<u32, weir::Block>(2);
/// tx.send(4).unwrap();
/// assert_eq!(total(rx), 4);
/// ```
///
/// `Receiver<T>` is one pointer wide, and `Send + Sync` exactly when
/// `T: Send`.
///
/// # Dropping the last receiver
///
/// Nobody can receive the values still queued, so the last receiver drops
/// them, each once, where they lie in the ring, and counts them in
/// [`Stats::discarded`]. If destructors panic, the drain still drops every
/// value and then continues the first panic out of `drop`; the others are
/// discarded. If the thread is already panicking, every such panic is
/// discarded, since a panic during a panic would abort the process.
///
/// ```
/// use std::panic::{catch_unwind, AssertUnwindSafe};
///
/// struct Loud;
/// impl Drop for Loud {
///     fn drop(&mut self) {
///         panic!("a destructor that panics");
///     }
/// }
///
/// let (tx, rx) = weir::bounded::<Loud, weir::Block>(2);
/// tx.send(Loud).unwrap();
/// tx.send(Loud).unwrap();
/// assert!(catch_unwind(AssertUnwindSafe(move || drop(rx))).is_err());
/// assert_eq!(tx.stats().discarded, 2); // both dropped, the process lives
/// ```
pub struct Receiver<T> {
    chan: Chan<T>,
}

/// The read-only view shared by both ends. Every method reads atomics only:
/// no lock, no system call.
macro_rules! observers {
    (impl [$($generics:tt)*] $handle:ty, $end:literal) => {
        impl<$($generics)*> $handle {
            /// The number of values in the channel.
            ///
            /// A snapshot: other threads may change it the moment it returns.
            /// A value whose send has claimed a slot but not finished counts.
            ///
            /// ```
            /// let (tx, rx) = weir::bounded::<u8, weir::Block>(4);
            /// tx.send(1).unwrap();
            #[doc = concat!("assert_eq!(", $end, ".len(), 1);")]
            /// ```
            pub fn len(&self) -> usize {
                self.chan.len()
            }

            /// The number of slots, exactly as asked for.
            ///
            /// ```
            /// let (tx, rx) = weir::bounded::<u8, weir::Block>(1000);
            #[doc = concat!("assert_eq!(", $end, ".capacity(), 1000);")]
            /// # drop((tx, rx));
            /// ```
            pub fn capacity(&self) -> usize {
                self.chan.capacity()
            }

            /// Whether the channel holds no value. A snapshot, as for
            /// [`len`](Self::len).
            ///
            /// ```
            /// let (tx, rx) = weir::bounded::<u8, weir::Block>(4);
            #[doc = concat!("assert!(", $end, ".is_empty());")]
            /// # drop((tx, rx));
            /// ```
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            /// Whether every slot holds a value. A snapshot, as for
            /// [`len`](Self::len).
            ///
            /// ```
            /// let (tx, rx) = weir::bounded::<u8, weir::Block>(1);
            /// tx.send(1).unwrap();
            #[doc = concat!("assert!(", $end, ".is_full());")]
            /// ```
            pub fn is_full(&self) -> bool {
                self.len() == self.capacity()
            }

            /// The fraction of slots in use, from 0.0 to 1.0. A snapshot, as
            /// for [`len`](Self::len).
            ///
            /// ```
            /// let (tx, rx) = weir::bounded::<u8, weir::Block>(4);
            /// tx.send(1).unwrap();
            #[doc = concat!("assert_eq!(", $end, ".utilization(), 0.25);")]
            /// ```
            pub fn utilization(&self) -> f64 {
                self.len() as f64 / self.capacity() as f64
            }

            /// The watermark state. A snapshot, as for [`len`](Self::len).
            ///
            /// ```
            /// let (tx, rx) = weir::bounded::<u8, weir::Block>(2);
            /// tx.send(1).unwrap();
            /// tx.send(2).unwrap();
            #[doc = concat!("assert_eq!(", $end, ".pressure(), weir::Pressure::Full);")]
            /// ```
            pub fn pressure(&self) -> Pressure {
                self.chan.pressure()
            }

            /// The channel's counters. A snapshot; see [`Stats`].
            ///
            /// ```
            /// let (tx, rx) = weir::bounded::<u8, weir::DropNewest>(1);
            /// tx.send(1).unwrap();
            /// assert!(tx.send(2).is_err());
            #[doc = concat!("let stats = ", $end, ".stats();")]
            /// assert_eq!((stats.sent, stats.refused), (1, 1));
            /// ```
            pub fn stats(&self) -> Stats {
                self.chan.stats()
            }

            /// The low watermark as a length: at or above it the channel is
            /// under pressure.
            ///
            /// ```
            /// let (tx, rx) = weir::bounded::<u8, weir::Block>(10);
            #[doc = concat!("assert_eq!(", $end, ".low_watermark(), 5);")]
            /// # drop((tx, rx));
            /// ```
            pub fn low_watermark(&self) -> usize {
                self.chan.thresholds().low
            }

            /// The high watermark as a length: at or above it (and not full)
            /// the channel is `Critical`.
            ///
            /// ```
            /// let (tx, rx) = weir::bounded::<u8, weir::Block>(10);
            #[doc = concat!("assert_eq!(", $end, ".high_watermark(), 8);")]
            /// # drop((tx, rx));
            /// ```
            pub fn high_watermark(&self) -> usize {
                self.chan.thresholds().high
            }

            /// The sample rate N: a `Sample` channel under pressure keeps one
            /// in N offered values.
            ///
            /// ```
            /// let (tx, rx) = weir::bounded::<u8, weir::Sample>(10);
            #[doc = concat!("assert_eq!(", $end, ".sample_rate(), 10);")]
            /// # drop((tx, rx));
            /// ```
            pub fn sample_rate(&self) -> usize {
                self.chan.sample_every()
            }

            /// Whether the channel is disconnected: it was
            /// [closed](Self::close), or every receiver is gone, or every
            /// sender is (receivers can still drain what is left).
            ///
            /// ```
            /// let (tx, rx) = weir::bounded::<u8, weir::Block>(1);
            /// drop(tx);
            /// assert!(rx.is_disconnected());
            /// ```
            pub fn is_disconnected(&self) -> bool {
                self.chan.is_disconnected()
            }

            /// Closes the channel, from either end, while handles live.
            ///
            /// From then on every send, under every policy, returns its value
            /// in the policy's disconnected error. Receivers still take every
            /// value queued before the close, then get the disconnected error;
            /// [`pressure`](Self::pressure) reads
            /// [`Draining`](crate::Pressure::Draining) while values remain.
            /// Every thread and task waiting to send or receive is woken.
            ///
            /// Returns `true` for the call that closed the channel, `false`
            /// if it was already closed or disconnected (a no-op).
            ///
            /// ```
            /// use weir::{Pressure, RecvError, SendError};
            ///
            /// let (tx, rx) = weir::bounded::<u32, weir::Block>(4);
            /// tx.send(1).unwrap();
            /// tx.send(2).unwrap();
            #[doc = concat!("assert!(", $end, ".close());")]
            #[doc = concat!("assert!(!", $end, ".close()); // already closed")]
            /// assert_eq!(tx.send(3), Err(SendError(3)));
            /// assert_eq!(rx.pressure(), Pressure::Draining);
            /// assert_eq!(rx.recv(), Ok(1)); // what was queued still arrives
            /// assert_eq!(rx.recv(), Ok(2));
            /// assert_eq!(rx.recv(), Err(RecvError));
            /// ```
            pub fn close(&self) -> bool {
                self.chan.close()
            }

            /// The number of [`Sender`] handles of this channel alive now,
            /// clones included. A snapshot, as for [`len`](Self::len).
            ///
            /// ```
            /// let (tx, rx) = weir::bounded::<u8, weir::Block>(1);
            /// let tx2 = tx.clone();
            #[doc = concat!("assert_eq!(", $end, ".sender_count(), 2);")]
            /// drop(tx2);
            #[doc = concat!("assert_eq!(", $end, ".sender_count(), 1);")]
            /// # drop((tx, rx));
            /// ```
            pub fn sender_count(&self) -> usize {
                self.chan.sender_count()
            }

            /// The number of [`Receiver`] handles of this channel alive now,
            /// clones included. A snapshot, as for [`len`](Self::len).
            ///
            /// ```
            /// let (tx, rx) = weir::bounded::<u8, weir::Block>(1);
            /// let rx2 = rx.clone();
            #[doc = concat!("assert_eq!(", $end, ".receiver_count(), 2);")]
            /// drop(rx2);
            #[doc = concat!("assert_eq!(", $end, ".receiver_count(), 1);")]
            /// # drop((tx, rx));
            /// ```
            pub fn receiver_count(&self) -> usize {
                self.chan.receiver_count()
            }
        }
    };
}

observers!(impl [T, P: Policy] Sender<T, P>, "tx");
observers!(impl [T] Receiver<T>, "rx");

impl<T, P: Policy> Sender<T, P> {
    /// Sends `value`, doing what policy `P` does when the channel is full.
    ///
    /// | policy | returns | when full |
    /// | --- | --- | --- |
    /// | [`Block`] | `Result<(), SendError<T>>` | waits for room |
    /// | [`DropOldest`](crate::DropOldest) | `Result<Option<T>, SendError<T>>` | evicts the oldest, returns it in `Ok(Some(_))` |
    /// | [`DropNewest`](crate::DropNewest) | `Result<(), TrySendError<T>>` | returns `value` in `Err(Full(_))` |
    /// | [`Sample`](crate::Sample) | `Result<(), SampleError<T>>` | returns `value` in `Err(Full(_))`; under pressure also `Err(SampledOut(_))` |
    ///
    /// Every policy returns `value` inside an error when every receiver is
    /// gone. Only `Block` ever waits.
    ///
    /// ```
    /// let (tx, rx) = weir::bounded::<u32, weir::DropOldest>(1);
    /// assert_eq!(tx.send(1), Ok(None));
    /// assert_eq!(tx.send(2), Ok(Some(1)));
    /// drop(rx);
    /// assert_eq!(tx.send(3), Err(weir::SendError(3)));
    /// ```
    #[inline]
    pub fn send(&self, value: T) -> P::Output<T> {
        P::send(&self.chan, value)
    }

    /// Sends `value` if there is room now; never waits for room and never
    /// evicts, whatever the policy.
    ///
    /// `Full` is never spurious, so there is one thing it does wait for:
    /// another thread's operation on the slot it needs, already claimed but
    /// not finished (a receiver reading the oldest value out, a sender
    /// writing into the slot, or an eviction). That takes a few instructions
    /// unless the other thread is preempted in between; `try_send` spins,
    /// then yields, until it finishes. It never parks and never waits for a
    /// thread that has not started its operation.
    ///
    /// ```
    /// use weir::TrySendError;
    ///
    /// let (tx, _rx) = weir::bounded::<u32, weir::DropOldest>(1);
    /// assert_eq!(tx.try_send(1), Ok(()));
    /// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    /// ```
    #[inline]
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.chan.try_send(value)
    }

    /// Moves as many values as fit now from the front of `values` into the
    /// channel, oldest first, and returns how many it moved; never waits for
    /// room and never evicts, whatever the policy. The values that did not
    /// fit stay in `values`, in order, and count as
    /// [`refused`](crate::Stats::refused), as for [`try_send`](Self::try_send)
    /// (so a call that leaves values behind counts them again each time).
    ///
    /// The values go in runs: one CAS claims every free slot in a row, so a
    /// batch costs one atomic read-modify-write instead of one per value. It
    /// waits, as `try_send` does, only for another thread's operation
    /// already under way on a slot it needs. Values of one call arrive in
    /// order with no other sender's values between two of a run; runs of
    /// concurrent senders may interleave.
    ///
    /// # Errors
    ///
    /// `SendError(())` if every receiver is gone or the channel is closed
    /// before the first value moved; every value is still in `values`. A
    /// disconnect after some values moved returns their count, and the next
    /// call the error. An empty `values` returns `Ok(0)` at once.
    ///
    /// ```
    /// use std::collections::VecDeque;
    ///
    /// let (tx, rx) = weir::bounded::<u32, weir::DropNewest>(4);
    /// let mut values: VecDeque<u32> = (0..6).collect();
    /// assert_eq!(tx.try_send_batch(&mut values), Ok(4));
    /// assert_eq!(values, [4, 5]); // handed back, still in order
    /// assert_eq!(rx.stats().refused, 2);
    /// assert_eq!(rx.try_iter().collect::<Vec<_>>(), [0, 1, 2, 3]);
    /// rx.close();
    /// assert_eq!(tx.try_send_batch(&mut values), Err(weir::SendError(())));
    /// assert_eq!(values, [4, 5]);
    /// ```
    pub fn try_send_batch(&self, values: &mut VecDeque<T>) -> Result<usize, SendError<()>> {
        self.chan.try_send_batch(values)
    }

    /// Waits until the channel holds fewer values than its low watermark:
    /// [`Pressure::Normal`]. Returns at once if it already does. With the
    /// low watermark at 0 that means empty, so the wait can always end.
    ///
    /// This is hysteresis for a producer: pause when
    /// [`pressure`](Self::pressure) reaches
    /// [`Critical`](Pressure::Critical), resume when this returns.
    ///
    /// A receiver that finds the level below the watermark right after its
    /// pop wakes every waiter that was already waiting, and a woken waiter
    /// returns at once: the level was below the watermark at some instant
    /// after the call began, even if other senders have raised it again
    /// since. A dip that a sender refills before the receiver looks goes
    /// unannounced; the waiter is woken by the next pop that finds the level
    /// low. Nothing is paid for this while nobody waits but one load per
    /// receive.
    ///
    /// # Errors
    ///
    /// [`WaitError`] if the channel is closed or every receiver is gone,
    /// whatever its level: no send could succeed.
    ///
    /// ```
    /// use weir::Pressure;
    ///
    /// let (tx, rx) = weir::Builder::new(8).watermarks(0.25, 0.75).build::<u32, weir::Block>()?;
    /// let consumer = std::thread::spawn(move || {
    ///     std::thread::sleep(std::time::Duration::from_millis(10));
    ///     while rx.recv().is_ok() {}
    /// });
    /// for i in 0..100 {
    ///     if matches!(tx.pressure(), Pressure::Critical | Pressure::Full) {
    ///         tx.wait_normal()?; // paused until fewer than 2 are queued
    ///     }
    ///     tx.send(i)?;
    /// }
    /// drop(tx);
    /// consumer.join().unwrap();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn wait_normal(&self) -> Result<(), WaitError> {
        self.chan.wait_normal_until(None).map_err(|_| WaitError)
    }

    /// As [`wait_normal`](Self::wait_normal), waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`WaitTimeoutError::Timeout`] if the level was still at or above the
    /// low watermark when `timeout` ran out, [`WaitTimeoutError::Disconnected`]
    /// as for `wait_normal`.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let (tx, rx) = weir::Builder::new(4).watermarks(0.5, 0.75).build::<u32, weir::DropNewest>()?;
    /// tx.send(1)?;
    /// tx.send(2)?;
    /// assert!(tx.wait_normal_timeout(Duration::from_millis(5)).unwrap_err().is_timeout());
    /// rx.recv()?;
    /// assert_eq!(tx.wait_normal_timeout(Duration::from_millis(5)), Ok(()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn wait_normal_timeout(&self, timeout: Duration) -> Result<(), WaitTimeoutError> {
        // A timeout too large for the clock means no deadline at all.
        self.chan
            .wait_normal_until(Instant::now().checked_add(timeout))
    }

    /// As [`wait_normal`](Self::wait_normal), waiting until `deadline`. A
    /// deadline already past makes one check without waiting.
    ///
    /// # Errors
    ///
    /// As [`wait_normal_timeout`](Self::wait_normal_timeout).
    ///
    /// ```
    /// use std::time::Instant;
    ///
    /// let (tx, _rx) = weir::bounded::<u32, weir::DropOldest>(4);
    /// assert_eq!(tx.wait_normal_deadline(Instant::now()), Ok(())); // empty
    /// ```
    pub fn wait_normal_deadline(&self, deadline: Instant) -> Result<(), WaitTimeoutError> {
        self.chan.wait_normal_until(Some(deadline))
    }

    /// As [`wait_normal`](Self::wait_normal), from async code, without
    /// blocking the thread. The future allocates nothing and works on any
    /// executor; for a timeout, race it against your runtime's timer.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it takes nothing from the channel, and dropping it only
    /// leaves the queue of relief waiters.
    ///
    /// # Errors
    ///
    /// As [`wait_normal`](Self::wait_normal).
    ///
    /// ```
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     struct Unpark(std::thread::Thread);
    /// #     impl std::task::Wake for Unpark {
    /// #         fn wake(self: std::sync::Arc<Self>) { self.0.unpark() }
    /// #     }
    /// #     let waker = std::sync::Arc::new(Unpark(std::thread::current())).into();
    /// #     let mut cx = std::task::Context::from_waker(&waker);
    /// #     let mut f = std::pin::pin!(f);
    /// #     loop {
    /// #         match f.as_mut().poll(&mut cx) {
    /// #             std::task::Poll::Ready(out) => return out,
    /// #             std::task::Poll::Pending => std::thread::park(),
    /// #         }
    /// #     }
    /// # }
    /// let (tx, rx) = weir::Builder::new(4).watermarks(0.5, 0.75).build::<u32, weir::Block>()?;
    /// tx.send(1)?;
    /// tx.send(2)?;
    /// // The consumer hands its receiver back: were it dropped, the wait
    /// // would fail, since no send could succeed.
    /// let consumer = std::thread::spawn(move || (rx.recv(), rx));
    /// block_on(tx.wait_normal_async())?; // the consumer took one: 1 < 2
    /// assert_eq!(consumer.join().unwrap().0, Ok(1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn wait_normal_async(&self) -> WaitNormalFut<'_, T> {
        WaitNormalFut::new(&self.chan)
    }

    /// Whether `self` and `other` send into the same channel.
    ///
    /// ```
    /// let (tx, _rx) = weir::bounded::<u8, weir::Block>(1);
    /// assert!(tx.same_channel(&tx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        self.chan.same_channel(&other.chan)
    }
}

impl<T> Sender<T, Block> {
    /// Sends `value`, waiting at most `timeout` for room.
    ///
    /// # Errors
    ///
    /// Returns `value` in [`SendTimeoutError::Timeout`] if the channel stayed
    /// full, or in [`SendTimeoutError::Disconnected`] if every receiver is
    /// gone.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let (tx, rx) = weir::bounded::<u32, weir::Block>(1);
    /// tx.send_timeout(1, Duration::from_millis(10)).unwrap();
    /// assert!(tx.send_timeout(2, Duration::from_millis(10)).unwrap_err().is_timeout());
    /// rx.recv().unwrap();
    /// tx.send_timeout(3, Duration::from_millis(10)).unwrap();
    /// ```
    pub fn send_timeout(&self, value: T, timeout: Duration) -> Result<(), SendTimeoutError<T>> {
        // A timeout too large for the clock means no deadline at all.
        self.chan
            .send_until(value, Instant::now().checked_add(timeout))
    }

    /// Sends every value of `values`, oldest first, waiting for room as
    /// [`send`](Self::send) does; a batch larger than the channel goes in as
    /// many runs as it takes. Each run claims its free slots with one CAS.
    ///
    /// Values are taken from the iterator a run at a time (as many as the
    /// capacity, at most 256), so the iterator's own code never runs while
    /// slots are claimed. This allocates a buffer for one run per call.
    ///
    /// # Errors
    ///
    /// If every receiver is gone or the channel is closed, nothing more is
    /// sent and [`SendError`](crate::SendError) holds everything that was
    /// not: the values already taken from the iterator, oldest first, and
    /// the iterator with the rest, untouched. Nothing is lost, and an endless
    /// iterator does not hang the call. An empty iterator sends nothing and
    /// returns `Ok(())`, closed channel or not.
    ///
    /// ```
    /// let (tx, rx) = weir::bounded::<u32, weir::Block>(4);
    /// let consumer = std::thread::spawn(move || rx.iter().collect::<Vec<_>>());
    /// tx.send_batch(0..10).unwrap(); // 10 values through 4 slots
    /// drop(tx);
    /// assert_eq!(consumer.join().unwrap(), (0..10).collect::<Vec<_>>());
    ///
    /// let (tx, rx) = weir::bounded::<u32, weir::Block>(4);
    /// drop(rx);
    /// let weir::SendError((taken, rest)) = tx.send_batch(vec![1, 2, 3]).unwrap_err();
    /// let unsent: Vec<u32> = taken.into_iter().chain(rest).collect();
    /// assert_eq!(unsent, [1, 2, 3]);
    /// ```
    #[allow(clippy::type_complexity)]
    pub fn send_batch<I: IntoIterator<Item = T>>(
        &self,
        values: I,
    ) -> Result<(), SendError<(Vec<T>, I::IntoIter)>> {
        let mut values = values.into_iter();
        let run = self.capacity().min(MAX_BUFFERED_RUN);
        let mut buffer = VecDeque::with_capacity(run.min(values.size_hint().0.max(1)));
        loop {
            buffer.extend(values.by_ref().take(run));
            if buffer.is_empty() {
                return Ok(());
            }
            if self.chan.send_batch_waiting(&mut buffer).is_err() {
                return Err(SendError((buffer.into(), values)));
            }
        }
    }

    /// Moves every value from the front of `values` into the channel from
    /// async code, oldest first, waiting while it is full without blocking
    /// the thread. Waiting senders, threads and tasks, are woken in the order
    /// they began to wait.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a value leaves `values` only once it is in the channel,
    /// so dropping the future leaves every value not yet sent in `values`,
    /// in order.
    ///
    /// # Errors
    ///
    /// `SendError(())` if every receiver is gone or the channel is closed;
    /// the values not sent are still in `values`. An empty `values` is done
    /// at once: `Ok(())`, closed channel or not.
    ///
    /// ```
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     struct Unpark(std::thread::Thread);
    /// #     impl std::task::Wake for Unpark {
    /// #         fn wake(self: std::sync::Arc<Self>) { self.0.unpark() }
    /// #     }
    /// #     let waker = std::sync::Arc::new(Unpark(std::thread::current())).into();
    /// #     let mut cx = std::task::Context::from_waker(&waker);
    /// #     let mut f = std::pin::pin!(f);
    /// #     loop {
    /// #         match f.as_mut().poll(&mut cx) {
    /// #             std::task::Poll::Ready(out) => return out,
    /// #             std::task::Poll::Pending => std::thread::park(),
    /// #         }
    /// #     }
    /// # }
    /// use std::collections::VecDeque;
    ///
    /// let (tx, rx) = weir::bounded::<u32, weir::Block>(2);
    /// let consumer = std::thread::spawn(move || rx.iter().collect::<Vec<_>>());
    /// let mut values: VecDeque<u32> = (0..5).collect();
    /// block_on(tx.send_batch_async(&mut values)).unwrap();
    /// assert!(values.is_empty());
    /// drop(tx);
    /// assert_eq!(consumer.join().unwrap(), [0, 1, 2, 3, 4]);
    /// ```
    pub fn send_batch_async<'a>(&'a self, values: &'a mut VecDeque<T>) -> SendBatchFut<'a, T> {
        SendBatchFut::new(&self.chan, values)
    }

    /// Sends `value` from async code, waiting while the channel is full
    /// without blocking the thread.
    ///
    /// Threads and tasks waiting to send on one channel are woken in the
    /// order they began to wait. The future allocates nothing, and works on
    /// any executor.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before it completes never sends `value`: the
    /// value is dropped with the future.
    ///
    /// # Errors
    ///
    /// Returns `value` in [`SendError`](crate::SendError) if every receiver
    /// is gone or the channel is closed.
    ///
    /// ```
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     struct Unpark(std::thread::Thread);
    /// #     impl std::task::Wake for Unpark {
    /// #         fn wake(self: std::sync::Arc<Self>) { self.0.unpark() }
    /// #     }
    /// #     let waker = std::sync::Arc::new(Unpark(std::thread::current())).into();
    /// #     let mut cx = std::task::Context::from_waker(&waker);
    /// #     let mut f = std::pin::pin!(f);
    /// #     loop {
    /// #         match f.as_mut().poll(&mut cx) {
    /// #             std::task::Poll::Ready(out) => return out,
    /// #             std::task::Poll::Pending => std::thread::park(),
    /// #         }
    /// #     }
    /// # }
    /// let (tx, rx) = weir::bounded::<u32, weir::Block>(1);
    /// block_on(async {
    ///     tx.send_async(1).await.unwrap();
    ///     let consumer = std::thread::spawn(move || (rx.recv(), rx.recv()));
    ///     tx.send_async(2).await.unwrap(); // waits until the thread takes 1
    ///     assert_eq!(consumer.join().unwrap(), (Ok(1), Ok(2)));
    /// });
    /// ```
    pub fn send_async(&self, value: T) -> SendFut<'_, T> {
        SendFut::new(&self.chan, value)
    }

    /// A [`Sink`](futures_sink::Sink) that sends into this channel through
    /// this sender, waiting while the channel is full. See [`SendSink`] for
    /// how it buffers and what is cancel safe.
    ///
    /// Makes one allocation, for the sink's waiter record.
    ///
    /// ```
    /// use futures_util::{SinkExt, StreamExt};
    ///
    /// let (tx, rx) = weir::bounded::<u32, weir::Block>(2);
    /// futures_executor::block_on(async {
    ///     let mut sink = tx.sink();
    ///     sink.send(1).await.unwrap(); // sent: `send` flushes
    ///     sink.feed(2).await.unwrap(); // buffered in the sink
    ///     sink.flush().await.unwrap(); // now sent
    ///     drop(sink);
    ///     drop(tx);
    ///     assert_eq!(rx.stream().collect::<Vec<_>>().await, [1, 2]);
    /// });
    /// ```
    #[cfg(feature = "futures")]
    pub fn sink(&self) -> SendSink<'_, T> {
        SendSink::borrowed(self)
    }

    /// As [`sink`](Self::sink), owning the sender: the channel disconnects
    /// for receivers once the sink (and every other sender) is dropped.
    ///
    /// ```
    /// use futures_util::{stream, SinkExt, StreamExt};
    ///
    /// let (tx, rx) = weir::bounded::<u32, weir::Block>(2);
    /// let consumer = std::thread::spawn(move || rx.iter().collect::<Vec<_>>());
    /// futures_executor::block_on(async {
    ///     let mut values = stream::iter(0..10).map(Ok);
    ///     tx.into_sink().send_all(&mut values).await.unwrap();
    /// });
    /// assert_eq!(consumer.join().unwrap(), (0..10).collect::<Vec<_>>());
    /// ```
    #[cfg(feature = "futures")]
    pub fn into_sink(self) -> SendSink<'static, T>
    where
        T: 'static,
    {
        SendSink::owned(self)
    }

    /// Sends `value`, waiting for room until `deadline`.
    ///
    /// # Errors
    ///
    /// As [`send_timeout`](Self::send_timeout).
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let (tx, _rx) = weir::bounded::<u32, weir::Block>(1);
    /// let deadline = Instant::now() + Duration::from_millis(10);
    /// tx.send_deadline(1, deadline).unwrap();
    /// assert!(tx.send_deadline(2, deadline).unwrap_err().is_timeout());
    /// ```
    pub fn send_deadline(&self, value: T, deadline: Instant) -> Result<(), SendTimeoutError<T>> {
        self.chan.send_until(value, Some(deadline))
    }
}

impl<T> Receiver<T> {
    /// Takes the oldest value, waiting for one if the channel is empty.
    ///
    /// Once every sender is gone, the values left are still received; then
    /// this returns [`RecvError`].
    ///
    /// ```
    /// let (tx, rx) = weir::bounded::<u32, weir::Block>(4);
    /// std::thread::spawn(move || tx.send(7).unwrap());
    /// assert_eq!(rx.recv(), Ok(7));
    /// assert_eq!(rx.recv(), Err(weir::RecvError));
    /// ```
    pub fn recv(&self) -> Result<T, RecvError> {
        self.chan.recv_until(None).map_err(|_| RecvError)
    }

    /// Takes the oldest value if there is one now; never waits for a sender
    /// that has not started.
    ///
    /// `Empty` is never spurious, so it does wait for one thing: a sender
    /// that has claimed the slot at the head but not finished writing into
    /// it, or an operation on that slot from the last lap (or an eviction)
    /// still finishing. `try_recv` spins, then yields, until it does; it
    /// never parks.
    ///
    /// ```
    /// use weir::TryRecvError;
    ///
    /// let (tx, rx) = weir::bounded::<u32, weir::Block>(4);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    /// Takes the oldest value, waiting at most `timeout` for one.
    ///
    /// # Errors
    ///
    /// [`RecvTimeoutError::Timeout`] if no value came in time,
    /// [`RecvTimeoutError::Disconnected`] if every sender is gone and the
    /// channel is empty.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir::RecvTimeoutError;
    ///
    /// let (tx, rx) = weir::bounded::<u32, weir::Block>(4);
    /// assert_eq!(rx.recv_timeout(Duration::from_millis(5)), Err(RecvTimeoutError::Timeout));
    /// drop(tx);
    /// assert_eq!(rx.recv_timeout(Duration::from_millis(5)), Err(RecvTimeoutError::Disconnected));
    /// ```
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.chan.recv_until(Instant::now().checked_add(timeout))
    }

    /// Takes the oldest value, waiting for one until `deadline`.
    ///
    /// # Errors
    ///
    /// As [`recv_timeout`](Self::recv_timeout).
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let (tx, rx) = weir::bounded::<u32, weir::Block>(4);
    /// tx.send(1).unwrap();
    /// let deadline = Instant::now() + Duration::from_millis(5);
    /// assert_eq!(rx.recv_deadline(deadline), Ok(1));
    /// assert!(rx.recv_deadline(deadline).unwrap_err().is_timeout());
    /// ```
    pub fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        self.chan.recv_until(Some(deadline))
    }

    /// Takes the oldest value from async code, waiting for one without
    /// blocking the thread.
    ///
    /// Threads and tasks waiting to receive on one channel are woken in the
    /// order they began to wait. Senders of every policy wake it. The future
    /// allocates nothing, and works on any executor; weir does no
    /// cooperative budgeting of its own.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a value leaves the channel only when the future returns
    /// it, so dropping the future (in a `select!`, or on a timeout) loses no
    /// value, and a wakeup it received is passed on to the next waiter.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once every sender is gone and the channel is empty.
    ///
    /// ```
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     struct Unpark(std::thread::Thread);
    /// #     impl std::task::Wake for Unpark {
    /// #         fn wake(self: std::sync::Arc<Self>) { self.0.unpark() }
    /// #     }
    /// #     let waker = std::sync::Arc::new(Unpark(std::thread::current())).into();
    /// #     let mut cx = std::task::Context::from_waker(&waker);
    /// #     let mut f = std::pin::pin!(f);
    /// #     loop {
    /// #         match f.as_mut().poll(&mut cx) {
    /// #             std::task::Poll::Ready(out) => return out,
    /// #             std::task::Poll::Pending => std::thread::park(),
    /// #         }
    /// #     }
    /// # }
    /// let (tx, rx) = weir::bounded::<u32, weir::DropOldest>(4);
    /// let producer = std::thread::spawn(move || {
    ///     for i in 0..3 {
    ///         tx.send(i).unwrap();
    ///     }
    /// });
    /// block_on(async {
    ///     let mut got = Vec::new();
    ///     while let Ok(value) = rx.recv_async().await {
    ///         got.push(value);
    ///     }
    ///     assert_eq!(got, [0, 1, 2]);
    /// });
    /// producer.join().unwrap();
    /// ```
    pub fn recv_async(&self) -> RecvFut<'_, T> {
        RecvFut::new(&self.chan)
    }

    /// A [`Stream`](futures_core::Stream) of this channel's values, ending
    /// once every sender is gone and the channel is empty. See
    /// [`RecvStream`] for what is cancel safe.
    ///
    /// Makes one allocation, for the stream's waiter record.
    ///
    /// ```
    /// use futures_util::StreamExt;
    ///
    /// let (tx, rx) = weir::bounded::<u32, weir::DropNewest>(8);
    /// for i in 0..3 {
    ///     tx.send(i).unwrap();
    /// }
    /// drop(tx);
    /// let doubled: Vec<u32> =
    ///     futures_executor::block_on(rx.stream().map(|v| v * 2).collect());
    /// assert_eq!(doubled, [0, 2, 4]);
    /// ```
    #[cfg(feature = "futures")]
    pub fn stream(&self) -> RecvStream<'_, T> {
        RecvStream::borrowed(self)
    }

    /// As [`stream`](Self::stream), owning the receiver, so the stream can
    /// move into a spawned task.
    ///
    /// ```
    /// use futures_util::StreamExt;
    ///
    /// let (tx, rx) = weir::bounded::<u32, weir::Block>(4);
    /// let mut stream = rx.into_stream();
    /// let producer = std::thread::spawn(move || tx.send(7).unwrap());
    /// assert_eq!(futures_executor::block_on(stream.next()), Some(7));
    /// producer.join().unwrap();
    /// assert_eq!(futures_executor::block_on(stream.next()), None); // sender gone
    /// ```
    #[cfg(feature = "futures")]
    pub fn into_stream(self) -> RecvStream<'static, T>
    where
        T: 'static,
    {
        RecvStream::owned(self)
    }

    /// Waits for a value, then takes every value available at once, up to
    /// `max` in all, appending them to `batch` oldest first. Returns how many
    /// were taken: at least one, unless `max` is 0.
    ///
    /// For consumers that do better work in batches (a database insert, a
    /// write call): the batch is as large as the backlog, so it grows under
    /// pressure and shrinks to single values when the consumer keeps up.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once every sender is gone and the channel is empty.
    ///
    /// ```
    /// let (tx, rx) = weir::bounded::<u32, weir::Block>(8);
    /// for i in 0..5 {
    ///     tx.send(i).unwrap();
    /// }
    /// let mut batch = Vec::new();
    /// assert_eq!(rx.recv_batch(&mut batch, 3), Ok(3));
    /// assert_eq!(rx.recv_batch(&mut batch, 3), Ok(2));
    /// assert_eq!(batch, [0, 1, 2, 3, 4]);
    /// drop(tx);
    /// assert_eq!(rx.recv_batch(&mut batch, 3), Err(weir::RecvError));
    /// ```
    pub fn recv_batch(&self, batch: &mut Vec<T>, max: usize) -> Result<usize, RecvError> {
        if max == 0 {
            return Ok(0);
        }
        batch.push(self.recv()?);
        Ok(1 + self.try_recv_batch(batch, max - 1))
    }

    /// Takes the values available now, up to `max`, appending them to
    /// `batch` oldest first; never waits for a value. Returns how many were
    /// taken.
    ///
    /// The values come out in runs: one CAS claims every full slot in a row,
    /// so a batch costs one atomic read-modify-write instead of one per
    /// value. `batch` grows before any value is claimed.
    ///
    /// ```
    /// let (tx, rx) = weir::bounded::<u32, weir::Block>(8);
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// let mut batch = Vec::with_capacity(8);
    /// assert_eq!(rx.try_recv_batch(&mut batch, 8), 2);
    /// assert_eq!(rx.try_recv_batch(&mut batch, 8), 0);
    /// assert_eq!(batch, [1, 2]);
    /// ```
    pub fn try_recv_batch(&self, batch: &mut Vec<T>, max: usize) -> usize {
        self.chan.try_recv_batch::<false>(batch, max)
    }

    /// Waits for a first value, then keeps taking values until `max` are
    /// taken or `linger` has passed since the first arrived, appending them
    /// to `batch` oldest first; returns how many were taken. This is a
    /// flush-by-size-or-time loop's one call: Kafka's `linger.ms`, or
    /// `chunks_timeout` in tokio-stream.
    ///
    /// `max == 0` returns `Ok(0)` at once. A zero `linger` takes what is
    /// already there once the first value arrived. The wait for the first
    /// value has no limit; see [`recv_batch_deadline`](Self::recv_batch_deadline)
    /// for one.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if every sender is gone (or the channel was closed) and
    /// the channel is empty before a first value arrives. Once a first value
    /// is in, the call returns what it took; the next call reports the
    /// disconnect.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let (tx, rx) = weir::bounded::<u32, weir::Block>(64);
    /// std::thread::spawn(move || {
    ///     for i in 0..5 {
    ///         tx.send(i).unwrap();
    ///     }
    /// }); // then tx is dropped
    /// let mut written = Vec::new();
    /// let mut batch = Vec::new();
    /// while let Ok(n) = rx.recv_batch_linger(&mut batch, 100, Duration::from_millis(20)) {
    ///     assert_eq!(n, batch.len());
    ///     written.append(&mut batch); // write the batch out
    /// }
    /// assert_eq!(written, [0, 1, 2, 3, 4]);
    /// ```
    pub fn recv_batch_linger(
        &self,
        batch: &mut Vec<T>,
        max: usize,
        linger: Duration,
    ) -> Result<usize, RecvError> {
        if max == 0 {
            return Ok(0);
        }
        batch.push(self.recv()?);
        // A linger too long for the clock lingers until `max` or disconnect.
        Ok(1 + self.fill_batch(batch, max - 1, Instant::now().checked_add(linger)))
    }

    /// Takes at least one value by `deadline`, then keeps taking values
    /// until `max` are taken or `deadline` passes, appending them to `batch`
    /// oldest first; returns how many were taken. A deadline already past
    /// takes what is there now without waiting.
    ///
    /// `max == 0` returns `Ok(0)` at once.
    ///
    /// # Errors
    ///
    /// [`RecvTimeoutError::Timeout`] if no value arrived by `deadline`;
    /// [`RecvTimeoutError::Disconnected`] if every sender is gone (or the
    /// channel was closed) and the channel is empty before a first value.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use weir::RecvTimeoutError;
    ///
    /// let (tx, rx) = weir::bounded::<u32, weir::Block>(8);
    /// let mut batch = Vec::new();
    /// let soon = Instant::now() + Duration::from_millis(5);
    /// assert_eq!(rx.recv_batch_deadline(&mut batch, 4, soon), Err(RecvTimeoutError::Timeout));
    /// for i in 0..6 {
    ///     tx.send(i).unwrap();
    /// }
    /// assert_eq!(rx.recv_batch_deadline(&mut batch, 4, soon), Ok(4));
    /// assert_eq!(rx.recv_batch_deadline(&mut batch, 4, soon), Ok(2));
    /// assert_eq!(batch, [0, 1, 2, 3, 4, 5]);
    /// ```
    pub fn recv_batch_deadline(
        &self,
        batch: &mut Vec<T>,
        max: usize,
        deadline: Instant,
    ) -> Result<usize, RecvTimeoutError> {
        if max == 0 {
            return Ok(0);
        }
        batch.push(self.chan.recv_until(Some(deadline))?);
        Ok(1 + self.fill_batch(batch, max - 1, Some(deadline)))
    }

    /// Takes up to `max` more values, waiting for each until `deadline`
    /// (forever if `None`), in runs; stops at the deadline or on disconnect.
    fn fill_batch(&self, batch: &mut Vec<T>, max: usize, deadline: Option<Instant>) -> usize {
        let mut taken = 0;
        while taken < max {
            taken += self.try_recv_batch(batch, max - taken);
            if taken == max {
                break;
            }
            match self.chan.recv_until(deadline) {
                Ok(value) => {
                    batch.push(value);
                    taken += 1;
                }
                Err(_) => break,
            }
        }
        taken
    }

    /// An iterator of batches: each is [`recv_batch_linger`](Self::recv_batch_linger)
    /// into a new `Vec`, so it holds 1 to `max` values, and the iterator ends
    /// once every sender is gone (or the channel was closed) and the channel
    /// is empty.
    ///
    /// # Panics
    ///
    /// Panics if `max` is 0: every batch would be empty, and the iterator
    /// would never end.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let (tx, rx) = weir::bounded::<u32, weir::Block>(16);
    /// for i in 0..10 {
    ///     tx.send(i).unwrap();
    /// }
    /// drop(tx);
    /// let sizes: Vec<usize> = rx.batches(4, Duration::from_millis(1)).map(|b| b.len()).collect();
    /// assert_eq!(sizes, [4, 4, 2]);
    /// ```
    pub fn batches(&self, max: usize, linger: Duration) -> Batches<'_, T> {
        assert!(
            max > 0,
            "Receiver::batches needs a max batch size of at least 1"
        );
        Batches {
            rx: self,
            max,
            linger,
        }
    }

    /// Waits for a first value from async code, without blocking the thread,
    /// then takes what else is there now, up to `max` in all, appending to
    /// `batch` oldest first; returns how many were taken. `max == 0` returns
    /// `Ok(0)` at once.
    ///
    /// There is no timer inside weir: for a linger, race this against your
    /// runtime's timer, or call it again until the batch is full or the timer
    /// fires.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: values leave the channel only when the future returns
    /// their count, so dropping it loses nothing.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once every sender is gone and the channel is empty.
    ///
    /// ```
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     struct Unpark(std::thread::Thread);
    /// #     impl std::task::Wake for Unpark {
    /// #         fn wake(self: std::sync::Arc<Self>) { self.0.unpark() }
    /// #     }
    /// #     let waker = std::sync::Arc::new(Unpark(std::thread::current())).into();
    /// #     let mut cx = std::task::Context::from_waker(&waker);
    /// #     let mut f = std::pin::pin!(f);
    /// #     loop {
    /// #         match f.as_mut().poll(&mut cx) {
    /// #             std::task::Poll::Ready(out) => return out,
    /// #             std::task::Poll::Pending => std::thread::park(),
    /// #         }
    /// #     }
    /// # }
    /// let (tx, rx) = weir::bounded::<u32, weir::Block>(8);
    /// for i in 0..3 {
    ///     tx.send(i).unwrap();
    /// }
    /// let mut batch = Vec::new();
    /// assert_eq!(block_on(rx.recv_batch_async(&mut batch, 2)), Ok(2));
    /// assert_eq!(block_on(rx.recv_batch_async(&mut batch, 2)), Ok(1));
    /// assert_eq!(batch, [0, 1, 2]);
    /// ```
    pub fn recv_batch_async<'a>(
        &'a self,
        batch: &'a mut Vec<T>,
        max: usize,
    ) -> RecvBatchFut<'a, T> {
        RecvBatchFut::new(&self.chan, batch, max)
    }

    /// An iterator that waits for each value and ends once every sender is
    /// gone and the channel is empty.
    ///
    /// ```
    /// let (tx, rx) = weir::bounded::<u32, weir::Block>(4);
    /// std::thread::spawn(move || {
    ///     for i in 0..10 {
    ///         tx.send(i).unwrap();
    ///     }
    /// });
    /// assert_eq!(rx.iter().sum::<u32>(), 45);
    /// ```
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { receiver: self }
    }

    /// An iterator over the values available now; it never waits.
    ///
    /// ```
    /// let (tx, rx) = weir::bounded::<u32, weir::Block>(4);
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// assert_eq!(rx.try_iter().collect::<Vec<_>>(), [1, 2]);
    /// ```
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter { receiver: self }
    }

    /// Whether `self` and `other` receive from the same channel.
    ///
    /// ```
    /// let (_tx, rx) = weir::bounded::<u8, weir::Block>(1);
    /// assert!(rx.same_channel(&rx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        self.chan.same_channel(&other.chan)
    }
}

impl<T, P> Clone for Sender<T, P> {
    fn clone(&self) -> Self {
        Self {
            chan: self.chan.add_sender(),
            _policy: PhantomData,
        }
    }
}

impl<T, P> Sender<T, P> {
    #[cfg(feature = "futures")]
    pub(crate) fn chan(&self) -> &Chan<T> {
        &self.chan
    }
}

impl<T> Receiver<T> {
    #[cfg(feature = "futures")]
    pub(crate) fn chan(&self) -> &Chan<T> {
        &self.chan
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        Self {
            chan: self.chan.add_receiver(),
        }
    }
}

impl<T, P> Drop for Sender<T, P> {
    fn drop(&mut self) {
        self.chan.release_sender();
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.chan.release_receiver();
    }
}

// Handles are never pinned, whatever `T` is: moving one moves a pointer, and
// the waiter records that must not move live in the futures and streams.
impl<T, P> Unpin for Sender<T, P> {}
impl<T> Unpin for Receiver<T> {}

// A panic cannot leave the channel half-updated for another handle to see:
// every change to the shared state is a single atomic step, and the only
// user code the channel runs is a value's destructor in a drain, whose panic
// is caught and the drain finished first (`tests/panics.rs`). So the handles
// are unwind safe whatever `T` and `P` are, as crossbeam's and std's are.
impl<T, P> UnwindSafe for Sender<T, P> {}
impl<T, P> RefUnwindSafe for Sender<T, P> {}
impl<T> UnwindSafe for Receiver<T> {}
impl<T> RefUnwindSafe for Receiver<T> {}

impl<T, P: Policy> fmt::Debug for Sender<T, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("policy", &P::NAME)
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("policy", &self.chan.policy_name())
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .finish_non_exhaustive()
    }
}

/// The most values [`Sender::send_batch`] takes from its iterator at a time.
const MAX_BUFFERED_RUN: usize = 256;

/// An iterator of batches of values, made by [`Receiver::batches`]: each
/// batch holds 1 to `max` values, flushed by size or by the linger, and the
/// iterator ends once every sender is gone (or the channel was closed) and
/// the channel is empty.
#[must_use = "iterators are lazy and do nothing unless consumed"]
pub struct Batches<'a, T> {
    rx: &'a Receiver<T>,
    max: usize,
    linger: Duration,
}

impl<T> Iterator for Batches<'_, T> {
    type Item = Vec<T>;

    fn next(&mut self) -> Option<Vec<T>> {
        let mut batch = Vec::with_capacity(self.max.min(self.rx.capacity()));
        self.rx
            .recv_batch_linger(&mut batch, self.max, self.linger)
            .ok()
            .map(|_| batch)
    }
}

/// Once it has ended (disconnected and empty) the channel can never hold a
/// value again, so it stays ended.
impl<T> core::iter::FusedIterator for Batches<'_, T> {}

impl<T> fmt::Debug for Batches<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batches")
            .field("max", &self.max)
            .field("linger", &self.linger)
            .finish_non_exhaustive()
    }
}

/// A waiting iterator over a [`Receiver`]; see [`Receiver::iter`].
#[must_use = "iterators are lazy and do nothing unless consumed"]
pub struct Iter<'a, T> {
    receiver: &'a Receiver<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.receiver.recv().ok()
    }
}

impl<T> fmt::Debug for Iter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter").finish_non_exhaustive()
    }
}

/// A non-waiting iterator over a [`Receiver`]; see [`Receiver::try_iter`].
#[must_use = "iterators are lazy and do nothing unless consumed"]
pub struct TryIter<'a, T> {
    receiver: &'a Receiver<T>,
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.receiver.try_recv().ok()
    }
}

impl<T> fmt::Debug for TryIter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryIter").finish_non_exhaustive()
    }
}

/// An owning waiting iterator over a [`Receiver`], from `into_iter`.
///
/// ```
/// let (tx, rx) = weir::bounded::<u32, weir::Block>(4);
/// tx.send(1).unwrap();
/// drop(tx);
/// assert_eq!(rx.into_iter().collect::<Vec<_>>(), [1]);
/// ```
#[must_use = "iterators are lazy and do nothing unless consumed"]
pub struct IntoIter<T> {
    receiver: Receiver<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.receiver.recv().ok()
    }
}

impl<T> fmt::Debug for IntoIter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoIter").finish_non_exhaustive()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;

    fn into_iter(self) -> IntoIter<T> {
        IntoIter { receiver: self }
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}
