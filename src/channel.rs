//! The public API: `bounded`, `Builder`, `Sender`, `Receiver` and the
//! receiving iterators.

use core::fmt;
use core::marker::PhantomData;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::time::{Duration, Instant};

use crate::chan::{Chan, Config};
use crate::error::{BuildError, RecvError, RecvTimeoutError, SendTimeoutError, TryRecvError};
use crate::future::{RecvFut, SendFut};
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
    /// is gone.
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
    /// `batch` oldest first; never waits. Returns how many were taken.
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
        let before = batch.len();
        batch.extend(self.try_iter().take(max));
        batch.len() - before
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
