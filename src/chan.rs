//! The shared state of a channel and the operations every handle uses: the
//! ring, the three wait points, the counters of handed-back values and the
//! handle counts. Safe code composing the ring's operations.
//!
//! # Waiting
//!
//! A [`Block`](crate::Block) sender on a full ring and a receiver on an
//! empty ring wait for the ring to change; a sender of any policy can also
//! wait for relief (`wait_normal`), which every pop that leaves the level
//! below the low watermark announces to all relief waiters at once. A
//! sender or receiver waiting for the ring spins, then retries between
//! yields, for a while, then parks on its wait point. How long it spins is
//! learned per side, from how that side's recent waits ended (`Patience` and
//! `SpinBudget` in the sync facade): spinning pays only while the thread it
//! waits for runs on another core. Every successful push notifies the
//! receivers' wait point and every successful pop the senders', which costs
//! one load when nobody sleeps. A disconnect wakes everyone.
//!
//! A thread that is done spinning lends a place through its waiter record
//! before it yields or parks: a `Block` sender its value, a receiver room
//! for one (`OfferWait`, `LandWait`). A receive that frees a slot while the
//! first waiting sender lends a value moves that value into the slot before
//! letting it go (`Ring::pop_refilling`), and a `Block` push into an empty
//! ring while the first waiting receiver lends a place claims the pop of
//! its own value for that receiver (`Ring::push_landing`). Either way the
//! waiter's operation is done when it is woken, and every value still
//! passes through the positions, so capacity, FIFO order, the readings and
//! the counts are as if the waiter had run. On a busy core this is what
//! moves more than one value per context switch: the receiver takes the
//! value in the slot and the one a blocked sender lent, and the sender's
//! next value lands in the waiting receiver. A receive skips the hand-off
//! while anyone waits for relief, so that its pop still lowers the level.
//!
//! A thread woken for any reason (a notify, a timeout, a spurious wakeup)
//! retries its operation before it looks at its deadline, so a notify that
//! races a timeout is never swallowed.
//!
//! A waiting end keeps its hands off the other end's index. A sender that
//! read `head` on every retry would keep taking that cache line from the
//! receivers, whose next CAS must then fetch it back (and a receiver reading
//! `tail`, likewise). So while it spins a waiter watches only the stamp of
//! the slot its next attempt would use (`Ring::push_may_succeed`,
//! `Ring::pop_may_succeed`), and a `Block` sender pushes as
//! `Ring::push_or_wait` does, without reading `head` to tell a full ring from
//! a receiver that is freeing the slot: it waits in both cases. Only its last
//! attempt after a deadline makes the full check, so a timeout still means
//! the ring was full. Measured at capacity 1024 on two cores, medians of 9
//! side-by-side runs against crossbeam-channel: watching the slot took SPSC
//! from 0.56x (and 1.26x in a second set) to 1.48x (1.64x); skipping the
//! `head` check then took SPSC from 1.55x to 2.26x and MPSC 4:1 from 0.80x to
//! 1.97x. At capacity 1 the slot and both indices are equally hot and plain
//! retries measured slightly better while spinning, so the watch is skipped
//! there.

use core::pin::Pin;
use core::task::{Context, Poll};
use std::collections::VecDeque;
use std::time::Instant;

use crossbeam_utils::CachePadded;

use crate::error::RecvError;
use crate::error::{
    BuildError, RecvTimeoutError, SampleError, SendError, SendTimeoutError, TryRecvError,
    TrySendError, WaitError, WaitTimeoutError,
};
use crate::park::{deadline_passed, LandWait, Landed, Node, OfferWait, Offered, WaitPoint, Wake};
use crate::pressure::{Pressure, Stats, Thresholds};
use crate::ring::{PopError, PushError, Ring, RingError, Shared, TryPop, TryPush};
use crate::sync::{AtomicUsize, Ordering, Patience, SpinBudget};
use crate::unwind::FirstPanic;

/// Counters of values handed back or thrown away, on a cache line of their
/// own so the hot indices never share it.
#[derive(Debug)]
struct Counters {
    /// Values refused (`refused`) and sampled out (`sampled_out`): stripes
    /// each owned by one thread at a time, and one that threads without a
    /// stripe of their own share (see [`stripes`]).
    stripes: [CachePadded<Stripe>; stripes::COUNT],
    discarded: AtomicUsize,
    /// Values offered to `Sample` senders under pressure by threads whose
    /// own count of this channel was not at hand (see `sampling`).
    offered_under_pressure: AtomicUsize,
}

/// One stripe of the counts that senders bump when they hand a value back,
/// on a cache line of its own.
#[derive(Debug)]
struct Stripe {
    refused: AtomicUsize,
    sampled_out: AtomicUsize,
}

impl Counters {
    /// Adds `n` to one count of the calling thread's stripe.
    ///
    /// A thread that owns its stripe (see [`stripes`]) is the only one that
    /// writes it, so it adds with a load and a store; on the stripe that
    /// threads share, it adds with a read-modify-write. Either way readers see
    /// the count only grow, one addition at a time.
    #[inline]
    fn add(&self, count: impl Fn(&Stripe) -> &AtomicUsize, n: usize) {
        let index = stripes::mine();
        let count = count(&self.stripes[index]);
        if index == stripes::SHARED {
            count.fetch_add(n, Ordering::Relaxed);
        } else {
            // Nobody else writes this count while the thread owns the
            // stripe, and the owner before it handed the stripe over with a
            // release that the claim acquired, so this load reads the count's
            // latest value and the store loses no addition.
            count.store(
                count.load(Ordering::Relaxed).wrapping_add(n),
                Ordering::Relaxed,
            );
        }
    }

    /// One count summed over the stripes.
    ///
    /// Each hand-back adds to exactly one stripe, once, and counts only
    /// grow, so the sum of stripes read one after another lies between the
    /// total when the first was read and the total when the last was:
    /// nothing is lost or counted twice. With additions of one at a time it
    /// is a value the total held at some instant of the reading; a batch
    /// refusal adds several at once, and with batches on two stripes the sum
    /// can be a value in between that the total skipped.
    fn sum(&self, count: impl Fn(&Stripe) -> &AtomicUsize) -> u64 {
        self.stripes
            .iter()
            .map(|s| count(s).load(Ordering::Relaxed) as u64)
            .fold(0, u64::wrapping_add)
    }
}

/// Which stripe of the hand-back counts a thread bumps.
///
/// With one shared count every refusal was a read-modify-write on a line
/// that every refusing sender writes, and two senders refused on separate
/// cores spent most of their time passing that line between them. Even
/// uncontended, a locked add right after the fence of a refusal's full check
/// costs about as much as the rest of the refusal.
///
/// So stripes `1..COUNT` are owned: a thread that hands a value back takes
/// the lowest one that is not taken, and then it alone writes that stripe of
/// every channel, with a plain load and store. It gives the stripe back when
/// its thread-locals are dropped as it exits, with a release that the next
/// owner's claim acquires, so the next owner's first load sees every addition
/// of the one before. (A thread whose locals are never dropped keeps its
/// stripe: a stripe lost, never a count.) A thread that finds every owned
/// stripe taken counts on stripe [`SHARED`] with a read-modify-write, and
/// tries to claim one again at its next hand-back; so does a thread whose
/// local is already gone, and every thread under loom.
///
/// Every change to the bitmask of taken stripes is a read-modify-write, so
/// that each owner's release heads a release sequence that the next claim
/// reads from; a plain store to it would break the hand-over.
mod stripes {
    /// Stripes per channel.
    pub(super) const COUNT: usize = 4;

    /// The stripe that threads without one of their own share.
    pub(super) const SHARED: usize = 0;

    #[cfg(not(loom))]
    mod owned {
        use core::cell::Cell;
        use core::sync::atomic::{AtomicUsize, Ordering};

        use super::{COUNT, SHARED};

        /// Bit `i` set: a living thread owns stripe `i`.
        static TAKEN: AtomicUsize = AtomicUsize::new(0);

        /// The stripes that can be owned.
        const OWNABLE: usize = ((1 << COUNT) - 1) & !(1 << SHARED);

        /// A thread's stripe, given back when the thread exits: [`SHARED`]
        /// until it owns one (before its first hand-back, or while none is
        /// free).
        pub(super) struct Owner(Cell<usize>);

        impl Owner {
            #[inline]
            pub(super) fn index(&self) -> usize {
                let index = self.0.get();
                if index != SHARED {
                    return index;
                }
                let index = claim();
                self.0.set(index);
                index
            }
        }

        impl Drop for Owner {
            fn drop(&mut self) {
                let index = self.0.get();
                if index != SHARED {
                    // Release: this thread's last store to the stripe of
                    // every channel happens before the next owner's claim.
                    TAKEN.fetch_and(!(1 << index), Ordering::Release);
                }
            }
        }

        /// The lowest stripe not taken, now owned by the caller, or
        /// [`SHARED`] if every one is taken.
        #[cold]
        fn claim() -> usize {
            let mut taken = TAKEN.load(Ordering::Relaxed);
            loop {
                let free = !taken & OWNABLE;
                if free == 0 {
                    return SHARED;
                }
                let bit = free & free.wrapping_neg();
                // Acquire: pairs with the release of the stripe's last owner.
                match TAKEN.compare_exchange_weak(
                    taken,
                    taken | bit,
                    Ordering::Acquire,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return bit.trailing_zeros() as usize,
                    Err(now) => taken = now,
                }
            }
        }

        std::thread_local! {
            pub(super) static MINE: Owner = const { Owner(Cell::new(SHARED)) };
        }
    }

    /// The calling thread's stripe, in `0..COUNT`: its own, or [`SHARED`].
    #[cfg(not(loom))]
    #[inline]
    pub(super) fn mine() -> usize {
        // During thread teardown, once the thread's local is gone (and its
        // stripe perhaps owned by another thread), it counts on the shared
        // stripe.
        owned::MINE.try_with(owned::Owner::index).unwrap_or(SHARED)
    }

    /// Under loom every thread shares one stripe: the sum over stripes is
    /// the same code either way, and loom's thread locals would only add
    /// states.
    #[cfg(loom)]
    #[inline]
    pub(super) fn mine() -> usize {
        SHARED
    }
}

/// Everything in the channel's allocation beside the ring.
pub(crate) struct Header<T> {
    senders: AtomicUsize,
    receivers: AtomicUsize,
    /// Where `Block` senders wait for room.
    send_wait: CachePadded<OfferWait<T>>,
    /// Where receivers wait for values.
    recv_wait: CachePadded<LandWait<T>>,
    /// Where senders wait for relief: the level below the low watermark.
    /// Notified by broadcast, by a receiver that saw the level below it.
    relief_wait: CachePadded<WaitPoint>,
    /// How long waiting senders (`[0]`) and receivers (`[1]`) spin before
    /// they yield, learned from their recent waits. Apart from the wait
    /// points, whose counts every push and pop reads.
    spin: CachePadded<[SpinBudget; 2]>,
    counters: CachePadded<Counters>,
    thresholds: Thresholds,
    sample_every: usize,
    /// This channel among all channels the process made, for the per-thread
    /// sample counts: an address could be reused by a later channel.
    id: usize,
    /// The senders' policy, for `Debug` (the receiver's type does not say).
    policy: &'static str,
}

impl<T> core::fmt::Debug for Header<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Header")
            .field("senders", &self.senders)
            .field("receivers", &self.receivers)
            .field("send_wait", &self.send_wait)
            .field("recv_wait", &self.recv_wait)
            .field("relief_wait", &self.relief_wait)
            .field("spin", &self.spin)
            .field("counters", &self.counters)
            .field("thresholds", &self.thresholds)
            .field("sample_every", &self.sample_every)
            .field("id", &self.id)
            .field("policy", &self.policy)
            .finish()
    }
}

/// The configuration checked by the builder.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Config {
    pub(crate) capacity: usize,
    pub(crate) low: f64,
    pub(crate) high: f64,
    pub(crate) sample_every: usize,
}

/// One reference to a channel. Each `Sender` and `Receiver` holds one; the
/// handle types keep the sender and receiver counts.
///
/// Public only so the sealed `Policy` trait can name it; it cannot be reached
/// from outside the crate.
pub struct Chan<T> {
    shared: Shared<Header<T>, T>,
}

impl<T> core::fmt::Debug for Chan<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Chan")
            .field("header", self.header())
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

/// What a `Block` push did about waiting receivers ([`Chan::push_block`]).
enum Pushed {
    /// No receiver was waiting: nobody to wake.
    NobodyWaits,
    /// Receivers wait, and the value is in the ring for them.
    Waiters,
    /// The value went to the first waiting receiver.
    Landed,
}

/// What a receive's pop did with the slot it freed ([`Chan::try_recv`]).
enum Refilled {
    /// No sender was waiting: nobody to wake.
    NobodyWaits,
    /// Senders wait, and the slot was freed for them.
    No,
    /// The first waiting sender's value was moved into the slot.
    HandedOff,
}

impl<T> Chan<T> {
    /// Builds a channel with one sender and one receiver counted, for
    /// senders of the policy named `policy`.
    pub(crate) fn new(config: Config, policy: &'static str) -> Result<Self, BuildError> {
        let Config {
            capacity,
            low,
            high,
            sample_every,
        } = config;
        let valid = |w: f64| (0.0..=1.0).contains(&w);
        if !(valid(low) && valid(high) && low <= high) {
            return Err(BuildError::InvalidWatermarks { low, high });
        }
        if sample_every == 0 {
            return Err(BuildError::ZeroSampleRate);
        }
        let header = Header {
            senders: AtomicUsize::new(1),
            receivers: AtomicUsize::new(1),
            send_wait: CachePadded::new(OfferWait::new()),
            recv_wait: CachePadded::new(LandWait::new()),
            relief_wait: CachePadded::new(WaitPoint::new()),
            spin: CachePadded::new([SpinBudget::new(), SpinBudget::new()]),
            counters: CachePadded::new(Counters {
                stripes: core::array::from_fn(|_| {
                    CachePadded::new(Stripe {
                        refused: AtomicUsize::new(0),
                        sampled_out: AtomicUsize::new(0),
                    })
                }),
                discarded: AtomicUsize::new(0),
                offered_under_pressure: AtomicUsize::new(0),
            }),
            thresholds: Thresholds::new(capacity, low, high),
            sample_every,
            id: next_channel_id(),
            policy,
        };
        let shared = Shared::new(capacity, header).map_err(|e| match e {
            RingError::ZeroCapacity => BuildError::ZeroCapacity,
            RingError::TooLarge => BuildError::CapacityTooLarge(capacity),
            RingError::AllocFailed => BuildError::AllocationFailed(capacity),
        })?;
        Ok(Self { shared })
    }

    #[inline]
    fn header(&self) -> &Header<T> {
        self.shared.header()
    }

    #[inline]
    fn ring(&self) -> &Ring<T> {
        self.shared.ring()
    }

    // ----- handles -----------------------------------------------------------

    /// The second reference made with the channel, for its first receiver:
    /// `new` already counted one sender and one receiver.
    pub(crate) fn first_receiver(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }

    /// A reference for a new sender. The reference is taken first: it is
    /// what can panic (too many handles), and a panic must leave the sender
    /// count as it was, or that side would never disconnect.
    pub(crate) fn add_sender(&self) -> Self {
        let shared = self.shared.clone();
        self.header().senders.fetch_add(1, Ordering::Relaxed);
        Self { shared }
    }

    /// A reference for a new receiver; ordered as `add_sender`.
    pub(crate) fn add_receiver(&self) -> Self {
        let shared = self.shared.clone();
        self.header().receivers.fetch_add(1, Ordering::Relaxed);
        Self { shared }
    }

    /// Called once by each dropped sender; the last one disconnects.
    pub(crate) fn release_sender(&self) {
        if self.header().senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            let _ = self.disconnect();
        }
    }

    /// Called once by each dropped receiver; the last one disconnects and
    /// drops the values left in the ring, since nobody can receive them.
    ///
    /// Each value is counted as discarded the moment it is claimed and
    /// dropped where it lies. A destructor that panics does not stop the
    /// drain: every value is dropped once, then the first panic is passed on
    /// (or swallowed, if this thread is already unwinding).
    pub(crate) fn release_receiver(&self) {
        if self.header().receivers.fetch_sub(1, Ordering::AcqRel) == 1 {
            let _ = self.disconnect();
            // The mark is set, so no new value can enter: pop until empty. A
            // push that claimed a slot before the mark is waited for by `pop`.
            let discarded = &self.header().counters.discarded;
            let mut panics = FirstPanic::new();
            // Release: `stats` reads the count with Acquire around the
            // positions (see `Ring::snapshot`).
            let count = || {
                discarded.fetch_add(1, Ordering::Release);
            };
            while self.ring().pop_and_drop(count, &mut panics).is_ok() {}
            panics.resume();
        }
    }

    /// Closes the channel from either end: marks the ring disconnected, so
    /// no value enters from now on and receivers get the disconnected error
    /// once it is empty, and wakes every waiter on both sides. Returns
    /// whether this call set the mark.
    pub(crate) fn close(&self) -> bool {
        self.disconnect()
    }

    fn disconnect(&self) -> bool {
        if self.ring().disconnect() {
            self.header().send_wait.notify_all();
            self.header().recv_wait.notify_all();
            self.header().relief_wait.notify_all();
            true
        } else {
            false
        }
    }

    // ----- sending -----------------------------------------------------------

    /// `Block`: waits for room for as long as it takes.
    #[inline]
    pub(crate) fn send_waiting(&self, value: T) -> Result<(), SendError<T>> {
        // Fast path: room on the first try.
        match self.push_block::<false>(value) {
            Ok(()) => Ok(()),
            Err(PushError::Disconnected(value)) => Err(SendError(value)),
            Err(PushError::Full(value)) => match self.send_until(value, None) {
                Ok(()) => Ok(()),
                Err(SendTimeoutError::Disconnected(value)) => Err(SendError(value)),
                Err(SendTimeoutError::Timeout(_)) => unreachable!("no deadline, no timeout"),
            },
        }
    }

    /// One push attempt of a `Block` send, as `Ring::push` (`STRICT`) or
    /// `Ring::push_or_wait`; a receiver waiting with a landing place gets
    /// the value straight from the push, so it need not run to take it.
    #[inline(always)]
    fn push_block<const STRICT: bool>(&self, value: T) -> Result<(), PushError<T>> {
        let header = self.header();
        let pushed = self
            .ring()
            .push_landing::<_, STRICT>(value, |landing, value| {
                // The handshake with a waiting receiver: our claim on `tail` came
                // first (SeqCst), then this load of the waiter count (SeqCst).
                if !header.recv_wait.has_waiters() {
                    return (Pushed::NobodyWaits, Err(value));
                }
                match header.recv_wait.hand_off(landing, value) {
                    Ok(landed) => (Pushed::Landed, Ok(landed)),
                    Err(value) => (Pushed::Waiters, Err(value)),
                }
            })?;
        match pushed {
            Pushed::NobodyWaits => {}
            Pushed::Waiters => header.recv_wait.notify_one(),
            // Pushed and popped at once: as after any pop, senders may wait
            // for the slot (one that looked while the push was claimed saw
            // the ring full) and relief waiters for the level.
            Pushed::Landed => self.popped(1),
        }
        Ok(())
    }

    /// `Block`: waits for room until `deadline` (forever if `None`).
    pub(crate) fn send_until(
        &self,
        mut value: T,
        deadline: Option<Instant>,
    ) -> Result<(), SendTimeoutError<T>> {
        let budget = &self.header().spin[0];
        let patience = Patience::new(budget);
        let mut timed_out = false;
        // Once the sender stops spinning and yielding, its attempts make the
        // full check: before parking it must know the ring is full, and it
        // must wait out a receiver that is freeing the slot rather than loop
        // on a wait point whose re-check says "not full".
        let mut strict = false;
        loop {
            let attempt = if strict {
                self.push_block::<true>(value)
            } else {
                self.push_block::<false>(value)
            };
            match attempt {
                Ok(()) => {
                    patience.succeeded(budget);
                    return Ok(());
                }
                Err(PushError::Disconnected(v)) => return Err(SendTimeoutError::Disconnected(v)),
                Err(PushError::Full(v)) => value = v,
            }
            if timed_out || deadline_passed(deadline) {
                if strict {
                    return Err(SendTimeoutError::Timeout(value));
                }
                // `push_or_wait` cannot tell a full ring from a receiver
                // freeing the slot; a timeout is reported only for the first,
                // after one strict attempt.
                strict = true;
                continue;
            }
            let ring = self.ring();
            if !strict {
                if !((ring.capacity() > 1 && patience.spin_until(|| ring.push_may_succeed()))
                    || patience.spin())
                {
                    strict = true;
                }
                continue;
            }
            // Past the spin, the sender lends its value to the receivers
            // before it yields or parks: a receiver that frees a slot moves
            // the value straight in (`try_recv`), so each turn of a busy
            // core moves more than one value.
            let offered = self.header().send_wait.wait_offering(
                value,
                || ring.is_full_and_connected(),
                deadline,
                || patience.step(),
            );
            match offered {
                Offered::Taken => {
                    patience.succeeded(budget);
                    return Ok(());
                }
                Offered::Retry(v) => value = v,
                Offered::TimedOut(v) => {
                    value = v;
                    timed_out = true;
                }
            }
        }
    }

    /// Any policy's `try_send`, and `DropNewest`'s `send`.
    #[inline]
    pub(crate) fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.ring().push(value) {
            Ok(()) => {
                self.header().recv_wait.notify_one();
                Ok(())
            }
            Err(PushError::Full(value)) => {
                self.header().counters.add(|s| &s.refused, 1);
                Err(TrySendError::Full(value))
            }
            Err(PushError::Disconnected(value)) => Err(TrySendError::Disconnected(value)),
        }
    }

    /// `DropOldest`: queues the value, evicting the oldest if full.
    #[inline]
    pub(crate) fn send_evicting(&self, value: T) -> Result<Option<T>, SendError<T>> {
        match self.ring().force_push(value) {
            Ok(evicted) => {
                // The ring counts evictions itself.
                self.header().recv_wait.notify_one();
                Ok(evicted)
            }
            Err(value) => Err(SendError(value)),
        }
    }

    /// `Sample`: below the low watermark, queue; at or above it, keep one in
    /// `sample_every` offered values.
    #[inline]
    pub(crate) fn send_sampled(&self, value: T) -> Result<(), SampleError<T>> {
        let header = self.header();
        if self.ring().len() >= header.thresholds.low {
            let offered = sampling::offered(header.id, &header.counters.offered_under_pressure);
            if offered % header.sample_every != 0 {
                if self.ring().is_disconnected() {
                    return Err(SampleError::Disconnected(value));
                }
                header.counters.add(|s| &s.sampled_out, 1);
                return Err(SampleError::SampledOut(value));
            }
        }
        self.try_send(value).map_err(|e| match e {
            TrySendError::Full(value) => SampleError::Full(value),
            TrySendError::Disconnected(value) => SampleError::Disconnected(value),
        })
    }

    // ----- sending runs ------------------------------------------------------

    /// Any policy's `try_send_batch`: moves values from the front of
    /// `values` into the ring while there is room, in runs of one CAS each,
    /// and returns how many it moved, or `Err` if the channel was
    /// disconnected before the first. Values left behind because the ring
    /// was full count as refused, as `try_send` counts its value.
    pub(crate) fn try_send_batch(&self, values: &mut VecDeque<T>) -> Result<usize, SendError<()>> {
        match self.send_runs::<false>(values) {
            (sent, Some(RunStop::Full)) => {
                self.header().counters.add(|s| &s.refused, values.len());
                Ok(sent)
            }
            (0, Some(RunStop::Disconnected)) => Err(SendError(())),
            (sent, _) => Ok(sent),
        }
    }

    /// `Block`: moves every value of `values` into the ring, oldest first,
    /// waiting for room as a `send` does. On disconnect the values not sent
    /// are left in `values` and `Err` comes back.
    pub(crate) fn send_batch_waiting(&self, values: &mut VecDeque<T>) -> Result<(), ()> {
        loop {
            match self.send_runs::<false>(values).1 {
                None => return Ok(()),
                Some(RunStop::Disconnected) => return Err(()),
                Some(RunStop::Full) => {}
            }
            // Full: wait for room for the oldest value as `send` does, then
            // go on in runs with the rest.
            let Some(value) = values.pop_front() else {
                return Ok(());
            };
            if let Err(SendTimeoutError::Disconnected(value) | SendTimeoutError::Timeout(value)) =
                self.send_until(value, None)
            {
                values.push_front(value);
                return Err(());
            }
        }
    }

    /// For a poll (`send_batch_async`): pushes runs from the front of
    /// `values` without waiting. `Ok(true)` once `values` is empty,
    /// `Ok(false)` when the ring is full or the slot needed is still in
    /// another thread's hands, `Err` when disconnected.
    pub(crate) fn send_runs_nowait(&self, values: &mut VecDeque<T>) -> Result<bool, ()> {
        match self.send_runs::<true>(values).1 {
            None => Ok(true),
            Some(RunStop::Full) => Ok(false),
            Some(RunStop::Disconnected) => Err(()),
        }
    }

    /// Pushes runs from the front of `values` until it is empty (`None`) or
    /// a single push found the ring full or disconnected; every push wakes
    /// as many receivers as it made values. With `NOWAIT`, an operation in
    /// flight on the slot needed stops it as `Full` does.
    fn send_runs<const NOWAIT: bool>(&self, values: &mut VecDeque<T>) -> (usize, Option<RunStop>) {
        let mut sent = 0;
        loop {
            let run = self.ring().push_run::<NOWAIT>(values);
            if run > 0 {
                sent += run;
                self.header().recv_wait.notify_many(run);
                continue;
            }
            // The slot at `tail` was not free: one push tells a full ring
            // from an operation in flight (which it waits out) and from a
            // disconnect.
            let Some(value) = values.pop_front() else {
                return (sent, None);
            };
            let single = if NOWAIT {
                self.ring().push_nowait(value).map_err(|e| match e {
                    TryPush::Full(value) | TryPush::Busy(value) => PushError::Full(value),
                    TryPush::Disconnected(value) => PushError::Disconnected(value),
                })
            } else {
                self.ring().push(value)
            };
            match single {
                Ok(()) => {
                    sent += 1;
                    self.header().recv_wait.notify_one();
                }
                Err(PushError::Full(value)) => {
                    values.push_front(value);
                    return (sent, Some(RunStop::Full));
                }
                Err(PushError::Disconnected(value)) => {
                    values.push_front(value);
                    return (sent, Some(RunStop::Disconnected));
                }
            }
        }
    }

    // ----- receiving ---------------------------------------------------------

    #[inline]
    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
        let header = self.header();
        let popped = self.ring().pop_refilling(|refill| {
            // The handshake with a waiting sender: our claim on `head` came
            // first (SeqCst), then this load of the waiter count (SeqCst).
            if !header.send_wait.has_waiters() {
                return (Refilled::NobodyWaits, None);
            }
            // A hand-off keeps the level where it was: leave the freed slot
            // to the senders when someone waits for relief, so that the pop
            // that crosses the low watermark is seen by `popped`.
            if header.relief_wait.has_waiters() {
                return (Refilled::No, None);
            }
            match header.send_wait.hand_off(refill) {
                Some(filled) => (Refilled::HandedOff, Some(filled)),
                None => (Refilled::No, None),
            }
        });
        match popped {
            Ok((value, Refilled::NobodyWaits)) => {
                if header.relief_wait.has_waiters() {
                    header.relief_wait.wake_all_if(|| self.is_relieved());
                }
                Ok(value)
            }
            Ok((value, Refilled::No)) => {
                self.popped(1);
                Ok(value)
            }
            Ok((value, Refilled::HandedOff)) => {
                // A waiting sender's value took the slot: a value was pushed
                // and none was freed.
                header.recv_wait.notify_one();
                Ok(value)
            }
            Err(PopError::Empty) => Err(TryRecvError::Empty),
            Err(PopError::Disconnected) => Err(TryRecvError::Disconnected),
        }
    }

    /// After `count` values left the ring: wakes as many waiting senders, and
    /// the relief waiters if the level is now below the low watermark. With
    /// nobody waiting for relief that costs one load.
    #[inline]
    fn popped(&self, count: usize) {
        let header = self.header();
        // Relief first: a sender woken below could refill the ring before we
        // look. The handshake with `wait_normal_until`: our claim on `head`
        // came first (SeqCst), then this load of the waiter count (SeqCst).
        if header.relief_wait.has_waiters() {
            header.relief_wait.wake_all_if(|| self.is_relieved());
        }
        if count == 1 {
            header.send_wait.notify_one();
        } else {
            header.send_wait.notify_many(count);
        }
    }

    /// Below the low watermark (which is at least 1, so an empty channel is
    /// always relieved).
    fn is_relieved(&self) -> bool {
        self.len() < self.header().thresholds.low
    }

    /// Takes the values there now, up to `max`, in runs of one CAS each,
    /// appending them to `batch`; returns how many. With `NOWAIT` (a poll)
    /// it stops rather than wait for a push in flight; without, it waits for
    /// it as `try_recv` does, so 0 means the ring was empty at one instant.
    pub(crate) fn try_recv_batch<const NOWAIT: bool>(
        &self,
        batch: &mut Vec<T>,
        max: usize,
    ) -> usize {
        let mut taken = 0;
        while taken < max {
            let run = self.ring().pop_run::<NOWAIT>(batch, max - taken);
            if run > 0 {
                taken += run;
                self.popped(run);
                continue;
            }
            let single = if NOWAIT {
                self.ring().pop_nowait().ok()
            } else {
                self.ring().pop().ok()
            };
            match single {
                Some(value) => {
                    batch.push(value);
                    taken += 1;
                    self.popped(1);
                }
                None => break,
            }
        }
        taken
    }

    /// Waits for a value until `deadline` (forever if `None`).
    ///
    /// The first attempt is inlined into the caller, as for sending: a value
    /// that is already there costs no call into the waiting loop.
    #[inline]
    pub(crate) fn recv_until(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        match self.try_recv() {
            Ok(value) => Ok(value),
            Err(TryRecvError::Disconnected) => Err(RecvTimeoutError::Disconnected),
            Err(TryRecvError::Empty) => self.recv_waiting(deadline),
        }
    }

    /// The waiting loop of `recv_until`, entered once the channel was found
    /// empty.
    #[inline(never)]
    fn recv_waiting(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        let budget = &self.header().spin[1];
        let patience = Patience::new(budget);
        let mut timed_out = false;
        loop {
            match self.try_recv() {
                Ok(value) => {
                    patience.succeeded(budget);
                    return Ok(value);
                }
                Err(TryRecvError::Disconnected) => return Err(RecvTimeoutError::Disconnected),
                Err(TryRecvError::Empty) => {}
            }
            if timed_out || deadline_passed(deadline) {
                return Err(RecvTimeoutError::Timeout);
            }
            let ring = self.ring();
            if (ring.capacity() > 1 && patience.spin_until(|| ring.pop_may_succeed()))
                || patience.spin()
            {
                continue;
            }
            // Past the spin, the receiver lends a landing place to the
            // senders before it yields or parks: a `Block` sender that
            // pushes into the empty ring moves its value straight there
            // (`push_block`).
            match self.header().recv_wait.wait_landing(
                || ring.is_empty_and_connected(),
                deadline,
                || patience.step(),
            ) {
                Landed::Value(value) => {
                    patience.succeeded(budget);
                    return Ok(value);
                }
                Landed::Retry => {}
                Landed::TimedOut => timed_out = true,
            }
        }
    }

    // ----- waiting in a task ---------------------------------------------------

    /// One poll of a task's receive. `node` is the task's waiter record,
    /// pinned inside its future (or its stream's allocation).
    ///
    /// A value leaves the ring only when this returns it. `Pending` is
    /// returned only with `node` queued after a re-check of the indices that
    /// still found the ring empty and connected, or, when another thread's
    /// claimed operation is still in flight after a brief spin, with the task
    /// woken at once to poll again; it never blocks or yields the thread.
    pub(crate) fn poll_recv(
        &self,
        node: Pin<&Node>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<T, RecvError>> {
        let wait = &self.header().recv_wait;
        // A notify seen now is acted on by this poll's attempt. One that
        // arrives later in the poll, after the node was queued again, is
        // passed on if the poll completes: the value taken may not be the
        // one it announced.
        node.take_notified();
        let mut pass_on = false;
        loop {
            match self.ring().pop_nowait() {
                Ok(value) => {
                    self.popped(1);
                    Self::leave(wait, node, pass_on);
                    return Poll::Ready(Ok(value));
                }
                Err(TryPop::Disconnected) => {
                    Self::leave(wait, node, pass_on);
                    return Poll::Ready(Err(RecvError));
                }
                Err(TryPop::Busy) => {
                    // Stay queued (a notify still reaches us), and poll again
                    // soon: the operation in flight takes a few instructions.
                    if wait.register_task(node, cx.waker()) {
                        pass_on = true;
                        continue;
                    }
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                Err(TryPop::Empty) => {}
            }
            if wait.register_task(node, cx.waker()) {
                pass_on = true;
                continue;
            }
            if self.ring().is_empty_and_connected() {
                return Poll::Pending;
            }
            // Something arrived (or the channel disconnected) between the
            // attempt and the registration: try again, still queued.
        }
    }

    /// One poll of a task's `Block` send of the value in `value` (taken out
    /// when it is sent or returned, put back when the poll is `Pending`). As
    /// `poll_recv`, with the roles of the two wait points swapped.
    pub(crate) fn poll_send(
        &self,
        node: Pin<&Node>,
        value: &core::cell::Cell<Option<T>>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), SendError<T>>> {
        let wait = &self.header().send_wait;
        node.take_notified();
        let mut pass_on = false;
        loop {
            let Some(item) = value.take() else {
                panic!("a send future was polled after it completed");
            };
            match self.ring().push_nowait(item) {
                Ok(()) => {
                    self.header().recv_wait.notify_one();
                    Self::leave(wait, node, pass_on);
                    return Poll::Ready(Ok(()));
                }
                Err(TryPush::Disconnected(item)) => {
                    Self::leave(wait, node, pass_on);
                    return Poll::Ready(Err(SendError(item)));
                }
                Err(TryPush::Busy(item)) => {
                    value.set(Some(item));
                    if wait.register_task(node, cx.waker()) {
                        pass_on = true;
                        continue;
                    }
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                Err(TryPush::Full(item)) => value.set(Some(item)),
            }
            if wait.register_task(node, cx.waker()) {
                pass_on = true;
                continue;
            }
            if self.ring().is_full_and_connected() {
                return Poll::Pending;
            }
        }
    }

    /// A task's waiter leaves `wait` for good (its future completed or is
    /// dropped), passing on any notify it holds but will not act on.
    pub(crate) fn leave(wait: &WaitPoint, node: Pin<&Node>, pass_on: bool) {
        if wait.leave(node) || pass_on {
            wait.notify_one();
        }
    }

    /// A receive future or stream is dropped: it leaves the receivers' queue.
    pub(crate) fn cancel_recv(&self, node: Pin<&Node>) {
        Self::leave(&self.header().recv_wait, node, false);
    }

    /// A send future or sink is dropped: it leaves the senders' queue.
    pub(crate) fn cancel_send(&self, node: Pin<&Node>) {
        Self::leave(&self.header().send_wait, node, false);
    }

    // ----- waiting for relief --------------------------------------------------

    /// Waits until the channel holds fewer values than its low watermark, or
    /// until `deadline` (forever if `None`). Fails once the channel is
    /// disconnected, whatever its level.
    ///
    /// A receiver that sees the level below the watermark after its pop wakes
    /// every relief waiter, and a woken waiter returns `Ok` without looking
    /// again: the level was below the watermark at an instant after it
    /// registered, even if senders have filled it since.
    pub(crate) fn wait_normal_until(
        &self,
        deadline: Option<Instant>,
    ) -> Result<(), WaitTimeoutError> {
        if let Some(result) = self.relief_state() {
            return result.map_err(WaitTimeoutError::from);
        }
        if deadline_passed(deadline) {
            return Err(WaitTimeoutError::Timeout);
        }
        let wait = &self.header().relief_wait;
        match wait.wait_for_broadcast(|| self.relief_state().is_none(), deadline) {
            // Notified (by relief or by a disconnect), or the re-check after
            // registering found a reason not to sleep.
            Wake::Retry => self.woken_for_relief().map_err(WaitTimeoutError::from),
            Wake::TimedOut => match self.relief_state() {
                Some(result) => result.map_err(WaitTimeoutError::from),
                None => Err(WaitTimeoutError::Timeout),
            },
        }
    }

    /// Where a relief waiter stands: `Some(Ok(()))` relieved and connected,
    /// `Some(Err(_))` disconnected, `None` neither yet.
    ///
    /// The level first, then the disconnect: a disconnect is for good, so
    /// "connected" read after "relieved" means both held when the level was
    /// read. (The other order could read "connected", then see the level the
    /// last receiver's drain left, and report relief on a channel that was
    /// never both.)
    fn relief_state(&self) -> Option<Result<(), WaitError>> {
        let relieved = self.is_relieved();
        if self.is_disconnected() {
            Some(Err(WaitError))
        } else if relieved {
            Some(Ok(()))
        } else {
            None
        }
    }

    /// The answer of a relief waiter that was woken or found a reason not to
    /// sleep: a wakeup comes from a receiver that saw relief or from a
    /// disconnect, and the disconnect, read now, tells which.
    fn woken_for_relief(&self) -> Result<(), WaitError> {
        if self.is_disconnected() {
            Err(WaitError)
        } else {
            Ok(())
        }
    }

    /// One poll of `wait_normal_async`: as `wait_normal_until` without a
    /// deadline. `Pending` only with `node` queued after a re-check that
    /// still found the level at or above the watermark and the channel
    /// connected.
    pub(crate) fn poll_wait_normal(
        &self,
        node: Pin<&Node>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), WaitError>> {
        let wait = &self.header().relief_wait;
        let done = |node| {
            // A broadcast is never passed on (see `wait_for_broadcast`).
            let _ = wait.unregister(node);
            Poll::Ready(self.woken_for_relief())
        };
        if node.take_notified() {
            return done(node);
        }
        loop {
            if self.relief_state().is_some() {
                return done(node);
            }
            if wait.register_task(node, cx.waker()) {
                // Notified between our checks and the registration.
                return done(node);
            }
            if self.relief_state().is_none() {
                return Poll::Pending;
            }
        }
    }

    /// A relief future is dropped: it leaves the queue; a broadcast it holds
    /// has nothing to pass on.
    pub(crate) fn cancel_wait_normal(&self, node: Pin<&Node>) {
        let _ = self.header().relief_wait.unregister(node);
    }

    // ----- observing ---------------------------------------------------------

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.ring().len()
    }

    #[inline]
    pub(crate) fn capacity(&self) -> usize {
        self.ring().capacity()
    }

    pub(crate) fn is_disconnected(&self) -> bool {
        self.ring().is_disconnected()
    }

    pub(crate) fn pressure(&self) -> Pressure {
        // Disconnected: closed, or every sender (or receiver) gone. Values
        // left then are draining; once receivers are gone there are none.
        let closed = self.ring().is_disconnected();
        self.header()
            .thresholds
            .pressure(self.len(), self.capacity(), closed)
    }

    pub(crate) fn thresholds(&self) -> Thresholds {
        self.header().thresholds
    }

    pub(crate) fn sample_every(&self) -> usize {
        self.header().sample_every
    }

    pub(crate) fn policy_name(&self) -> &'static str {
        self.header().policy
    }

    /// Live `Sender` handles. Relaxed: a count, not a synchronization point.
    pub(crate) fn sender_count(&self) -> usize {
        self.header().senders.load(Ordering::Relaxed)
    }

    /// Live `Receiver` handles, as `sender_count`.
    pub(crate) fn receiver_count(&self) -> usize {
        self.header().receivers.load(Ordering::Relaxed)
    }

    pub(crate) fn stats(&self) -> Stats {
        let counters = &self.header().counters;
        let snap = self
            .ring()
            .snapshot(|| counters.discarded.load(Ordering::Acquire));
        let (evicted, discarded, popped, pushed) =
            (snap.evicted, snap.counters as u64, snap.popped, snap.pushed);
        Stats {
            sent: pushed,
            received: popped.saturating_sub(evicted).saturating_sub(discarded),
            evicted,
            refused: counters.sum(|s| &s.refused),
            sampled_out: counters.sum(|s| &s.sampled_out),
            discarded,
        }
    }

    pub(crate) fn same_channel(&self, other: &Self) -> bool {
        self.shared.ptr_eq(&other.shared)
    }
}

/// How a run of pushes stopped before `values` was empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RunStop {
    Full,
    Disconnected,
}

/// A process-wide number for each channel.
fn next_channel_id() -> usize {
    // Not a synchronization point (and outside what loom models): only
    // uniqueness matters.
    static NEXT: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);
    NEXT.fetch_add(1, core::sync::atomic::Ordering::Relaxed)
}

/// `Sample`'s 1-in-N count, kept per thread and per channel, so producers
/// sending under pressure in lock-step each keep one in N of their own
/// values (one shared count hands out its multiples of N by the order the
/// producers arrive in, and two producers that alternate can find every
/// kept value going to one of them).
///
/// Each thread keeps the counts of the last `WAYS` channels it sampled on,
/// most recent first. A channel not among them starts from the channel's
/// shared count, so a thread that cycles through more channels than that
/// still samples one in N overall, as every thread did before, only without
/// the per-producer fairness.
mod sampling {
    use core::cell::Cell;

    use crate::sync::{AtomicUsize, Ordering};

    const WAYS: usize = 4;

    // `(channel id + 1, offers so far)`; 0 marks an empty entry. Loom's
    // macro takes no `const` initializer.
    #[cfg(not(loom))]
    std::thread_local! {
        static COUNTS: Cell<[(usize, usize); WAYS]> = const { Cell::new([(0, 0); WAYS]) };
    }
    #[cfg(loom)]
    loom::thread_local! {
        static COUNTS: Cell<[(usize, usize); WAYS]> = Cell::new([(0, 0); WAYS]);
    }

    /// The index of this offer among the calling thread's offers under
    /// pressure to channel `id`: 0 for the first.
    pub(super) fn offered(id: usize, shared: &AtomicUsize) -> usize {
        let key = id.wrapping_add(1);
        let local = COUNTS.try_with(|cell| {
            let mut counts = cell.get();
            let found = counts.iter().position(|&(k, _)| k == key);
            let (way, offered) = match found {
                Some(way) => (way, counts[way].1),
                None => (WAYS - 1, shared.fetch_add(1, Ordering::Relaxed)),
            };
            // Move this channel to the front, its count advanced.
            counts.copy_within(0..way, 1);
            counts[0] = (key, offered.wrapping_add(1));
            cell.set(counts);
            offered
        });
        // During thread teardown the thread's counts are gone.
        local.unwrap_or_else(|_| shared.fetch_add(1, Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::thread;
    use std::time::Duration;

    /// A channel of capacity 1 whose senders block.
    fn chan_of_one() -> Chan<u32> {
        let config = Config {
            capacity: 1,
            low: 0.5,
            high: 0.9,
            sample_every: 1,
        };
        Chan::new(config, "Block").unwrap()
    }

    /// A `Block` sender waits on a full-looking slot without asking whether
    /// a receiver is freeing it; its answer after the deadline must still be
    /// `Timeout` only for a full ring. With the only value claimed but its
    /// slot not yet freed, a send whose deadline has passed waits for the
    /// receiver and succeeds.
    #[test]
    fn a_timeout_is_reported_only_for_a_full_ring() {
        let chan = chan_of_one();
        chan.try_send(1).unwrap();
        let (value, head) = chan.ring().start_pop();
        assert_eq!(value, 1);

        let (done_tx, done_rx) = mpsc::channel();
        thread::scope(|s| {
            s.spawn(|| {
                let result = chan.send_until(2, Some(Instant::now()));
                done_tx.send(result.map_err(|e| e.into_inner())).unwrap();
            });
            assert!(done_rx.recv_timeout(Duration::from_millis(50)).is_err());
            chan.ring().finish_pop(head);
            assert_eq!(done_rx.recv_timeout(Duration::from_secs(10)), Ok(Ok(())));
        });
        assert_eq!(chan.try_recv(), Ok(2));

        // Really full: the same call times out at once.
        chan.try_send(3).unwrap();
        assert!(matches!(
            chan.send_until(4, Some(Instant::now())),
            Err(SendTimeoutError::Timeout(4))
        ));
    }
    /// A handle refused at the reference limit leaves the handle counts as
    /// they were, so the last real sender or receiver still disconnects.
    #[test]
    fn a_refused_handle_leaves_the_counts_right() {
        use std::panic::{catch_unwind, AssertUnwindSafe};

        let chan = chan_of_one();
        let refs = chan.shared.refs_for_test();
        let real = refs.load(Ordering::SeqCst);
        refs.store(crate::ring::MAX_REFS, Ordering::SeqCst);
        let sender = catch_unwind(AssertUnwindSafe(|| chan.add_sender()));
        let receiver = catch_unwind(AssertUnwindSafe(|| chan.add_receiver()));
        assert!(sender.is_err() && receiver.is_err(), "both refused");
        assert_eq!(refs.load(Ordering::SeqCst), crate::ring::MAX_REFS);
        refs.store(real, Ordering::SeqCst);
        assert_eq!(chan.header().senders.load(Ordering::SeqCst), 1);
        assert_eq!(chan.header().receivers.load(Ordering::SeqCst), 1);
        chan.release_sender();
        assert!(chan.is_disconnected(), "the one real sender disconnects");
    }
}
