//! A wait point: where threads sleep until the ring changes, and how they are
//! woken.
//!
//! A channel has two: one for senders waiting on a full ring and one for
//! receivers waiting on an empty ring. Threads park through
//! `parking_lot_core`, keyed on the wait point's own address, so a channel
//! needs no mutex and no per-thread allocation.
//!
//! # The handshake
//!
//! A waiter and a notifier race in the store-buffering pattern:
//!
//! ```text
//! waiter                               notifier
//! waiters.fetch_add(1)     (SeqCst)    publish: CAS head or tail  (SeqCst)
//! re-check the ring        (SeqCst)    waiters.load()             (SeqCst)
//! ```
//!
//! All four accesses are `SeqCst`, so they sit in one total order and at least
//! one side sees the other: either the notifier sees a waiter and unparks, or
//! the waiter's re-check sees the published change and does not sleep. The
//! re-check runs in `validate`, under the parking lot's bucket lock, and
//! `unpark_*` takes the same lock, so a waiter cannot slip into the queue
//! between a notifier's check and its unpark. When nobody waits, notifying
//! costs one load.
//!
//! # Invariants
//!
//! 1. A `WaitPoint` is never zero-sized, so its address is a key no other wait
//!    point shares while it is alive.
//! 2. A thread only parks on a wait point inside a channel it holds a handle
//!    to, so the key stays valid (the memory is not freed or reused) while any
//!    thread sleeps on it.
//! 3. The closures passed to the parking lot only load atomics: they cannot
//!    panic and never call back into the parking lot.

#![allow(unsafe_code)]

use std::time::Instant;

use crate::sync::{seq_cst_point, AtomicUsize, Ordering};

/// Whether `deadline` has passed (never, for `None`).
#[inline]
pub(crate) fn deadline_passed(deadline: Option<Instant>) -> bool {
    matches!(deadline, Some(d) if Instant::now() >= d)
}

/// What ended a [`WaitPoint::wait`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wake {
    /// Woken by a notify, or the re-check found no reason to sleep. The caller
    /// must retry its operation.
    Retry,
    /// The deadline passed while asleep. The caller should retry its
    /// operation once more (a notify may have raced the timeout) and then
    /// report the timeout.
    TimedOut,
}

/// A place for threads to sleep on one condition of a channel.
#[derive(Debug)]
pub(crate) struct WaitPoint {
    /// Threads that are registered to sleep here (between increment and
    /// decrement in [`WaitPoint::wait`]). Notifiers skip the parking lot when
    /// this is zero.
    waiters: AtomicUsize,
    #[cfg(loom)]
    lock: loom::sync::Mutex<()>,
    #[cfg(loom)]
    condvar: loom::sync::Condvar,
}

impl WaitPoint {
    pub(crate) fn new() -> Self {
        Self {
            waiters: AtomicUsize::new(0),
            #[cfg(loom)]
            lock: loom::sync::Mutex::new(()),
            #[cfg(loom)]
            condvar: loom::sync::Condvar::new(),
        }
    }

    /// Sleeps until notified or until `deadline`, unless `should_sleep`
    /// (evaluated after registering, under the wait point's lock) says the
    /// condition already changed.
    ///
    /// Returns on spurious wakeups too; callers loop.
    pub(crate) fn wait(&self, should_sleep: impl Fn() -> bool, deadline: Option<Instant>) -> Wake {
        self.waiters.fetch_add(1, Ordering::SeqCst);
        seq_cst_point();
        let wake = self.sleep(should_sleep, deadline);
        // A stale non-zero count only costs a notifier one needless trip to
        // the parking lot, so the decrement needs no ordering.
        self.waiters.fetch_sub(1, Ordering::Relaxed);
        wake
    }

    /// Wakes one sleeping thread, if any. Call after publishing the change the
    /// sleeper waits for.
    #[inline]
    pub(crate) fn notify_one(&self) {
        seq_cst_point();
        if self.waiters.load(Ordering::SeqCst) != 0 {
            self.unpark(false);
        }
    }

    /// Wakes every sleeping thread. Call after publishing a disconnect.
    pub(crate) fn notify_all(&self) {
        seq_cst_point();
        if self.waiters.load(Ordering::SeqCst) != 0 {
            self.unpark(true);
        }
    }

    #[cfg(not(loom))]
    fn key(&self) -> usize {
        self as *const Self as usize
    }

    #[cfg(not(loom))]
    fn sleep(&self, should_sleep: impl Fn() -> bool, deadline: Option<Instant>) -> Wake {
        use parking_lot_core::{ParkResult, DEFAULT_PARK_TOKEN};
        // SAFETY: the key is this wait point's address, unique and live while
        // we sleep (invariants 1 and 2); `should_sleep` and the timeout
        // callback only load atomics and cannot panic or re-enter the parking
        // lot (invariant 3).
        let result = unsafe {
            parking_lot_core::park(
                self.key(),
                should_sleep,
                || {},
                |_, _| {},
                DEFAULT_PARK_TOKEN,
                deadline,
            )
        };
        match result {
            ParkResult::TimedOut => Wake::TimedOut,
            ParkResult::Unparked(_) | ParkResult::Invalid => Wake::Retry,
        }
    }

    #[cfg(not(loom))]
    #[cold]
    fn unpark(&self, all: bool) {
        use parking_lot_core::DEFAULT_UNPARK_TOKEN;
        if all {
            // SAFETY: key as in `sleep` (invariants 1 and 2); no callback.
            unsafe { parking_lot_core::unpark_all(self.key(), DEFAULT_UNPARK_TOKEN) };
        } else {
            // SAFETY: key as in `sleep` (invariants 1 and 2); the callback
            // returns a constant and cannot panic (invariant 3).
            unsafe { parking_lot_core::unpark_one(self.key(), |_| DEFAULT_UNPARK_TOKEN) };
        }
    }

    /// Under loom a mutex and condition variable stand in for the parking lot,
    /// with the re-check under the mutex as the bucket lock would hold it.
    /// Loom has no clock, so a wait with a deadline takes the timeout path at
    /// once, without sleeping: the thread goes on while the others may be
    /// anywhere, so the model explores a timeout racing every notify. (A yield
    /// here would let loom run the timeout only once every other thread is
    /// blocked, hiding those races.) Callers retry their operation once after
    /// a timeout, so this cannot loop.
    #[cfg(loom)]
    fn sleep(&self, should_sleep: impl Fn() -> bool, deadline: Option<Instant>) -> Wake {
        let guard = self.lock.lock().unwrap();
        if !should_sleep() {
            return Wake::Retry;
        }
        match deadline {
            None => {
                drop(self.condvar.wait(guard).unwrap());
                Wake::Retry
            }
            Some(_) => {
                drop(guard);
                Wake::TimedOut
            }
        }
    }

    #[cfg(loom)]
    fn unpark(&self, all: bool) {
        let _guard = self.lock.lock().unwrap();
        if all {
            self.condvar.notify_all();
        } else {
            self.condvar.notify_one();
        }
    }
}
