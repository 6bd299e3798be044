//! A wait point: where threads and tasks wait until the ring changes, and how
//! they are woken.
//!
//! A channel has three: one for senders waiting on a full ring, one for
//! receivers waiting on an empty ring, and one for senders waiting for
//! relief (the level below the low watermark). Each keeps one FIFO queue of
//! waiters
//! under a small lock, threads and tasks alike, so every waiter on one side
//! is woken in the order it registered. A waiter is a [`Node`] that lives
//! where the waiting happens: on the stack of a blocking call, inside a
//! pinned future, or in the one allocation a stream or sink makes. Nothing
//! is allocated per wait.
//!
//! # The handshake
//!
//! A waiter and a notifier race in the store-buffering pattern:
//!
//! ```text
//! waiter                               notifier
//! link; waiters.fetch_add(1) (SeqCst)  publish: CAS head or tail  (SeqCst)
//! re-check the ring          (SeqCst)  waiters.load()             (SeqCst)
//! ```
//!
//! All four accesses are `SeqCst`, so they sit in one total order and at least
//! one side sees the other: either the notifier sees a waiter and wakes the
//! first one queued, or the waiter's re-check sees the published change and
//! does not sleep. The count is raised under the queue's lock after the node
//! is linked, so a notifier that sees it finds a node to wake once it takes
//! the lock. When nobody waits, notifying costs one load.
//!
//! # Wakeups are passed on, never absorbed
//!
//! A wakeup means "retry", never "here is a value": the ring alone hands out
//! values. A waiter woken from its sleep retries its operation, and if that
//! fails it registers again. The waiter that must pass a wakeup on is one
//! that received it without acting on it: a future dropped after it was
//! notified, or a waiter whose re-check after registering already said
//! "retry" while a notify arrived. Those call [`WaitPoint::notify_one`]
//! again, which at worst wakes a waiter for nothing.
//!
//! The relief wait point is the exception: its notifier wakes every waiter
//! that registered before it saw the relief ([`WaitPoint::wake_all_if`]),
//! and a woken waiter is done (the relief happened during its wait). Its
//! waiters pass nothing on ([`WaitPoint::wait_for_broadcast`]): every waiter
//! queued then was woken too, and a wakeup passed on would reach one that
//! registered after the relief.
//!
//! # Threads that lend a place are armed only to park
//!
//! A blocked sender or receiver that lends a place ([`WaitPoint::hand_off`])
//! registers with no wakeup: while it spins and yields it polls its own
//! node, and a notifier only unlinks the node and marks it `NOTIFIED`. Only
//! before it first parks does the owner register the node again, now with
//! its thread to unpark: under the lock, that either keeps the node's place
//! (a notify that comes after unparks the thread) or reports the notify
//! that came first. On a busy core, where nearly every such
//! wait ends while the waiter yields, no wait pays for a thread handle or
//! an unpark.
//!
//! # Invariants
//!
//! 1. A node is linked into at most one queue at a time, and only while its
//!    state is `LINKED`. A linked node stays at its address and alive until it
//!    is unlinked: by its owner (under the lock), or by a notifier, which sets
//!    `NOTIFIED` as its last access to the node.
//! 2. A node's links (`prev`, `next`) and its wakeup are read and written only
//!    under the lock of the queue it is linked into, or by its owner while
//!    it is not linked.
//! 3. `waiters` counts the linked nodes; it changes only under the lock.
//! 4. Only the owner moves a node from `NOTIFIED` back to `IDLE`, and from
//!    `IDLE` to `LINKED` (under the lock); only a notifier moves it from
//!    `LINKED` to `NOTIFIED` (under the lock).
//! 5. No user code (a waker's `wake`, `clone` or `drop`) runs under the lock.
//! 6. A node's `offer`, when not null, is a place its owner (a blocked
//!    thread) lends while the node is linked and does not touch until it has
//!    seen the node unlinked: on the senders' wait point an initialized value
//!    of the channel's item type ([`OfferWait`]), on the receivers' room for
//!    one ([`LandWait`]); the typed wait point is the only way to lend or
//!    use one, so every place on a wait point has the type it expects. Only
//!    a hand-off ([`WaitPoint::hand_off`]) uses the place, under the lock,
//!    moving the value out of it or into it, and then sets `taken` before
//!    its `NOTIFIED` store; the owner reads `taken` after seeing `NOTIFIED`.
//!    A sender's value is still its own exactly when `taken` is false; a
//!    receiver's place holds a value exactly when it is true.

#![allow(unsafe_code)]

use core::fmt;
use core::marker::{PhantomData, PhantomPinned};
use core::mem::MaybeUninit;
use core::pin::Pin;
use core::ptr;
use core::task::Waker;
use std::time::Instant;

use crate::ring::{Filled, Landed as LandedPop, Landing, Refill};
use crate::sync::{
    current_thread, park, seq_cst_point, AtomicUsize, Mutex, MutexGuard, Ordering, Thread,
    UnsafeCell,
};

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

/// What ended a [`WaitPoint::wait_offering`].
#[derive(Debug)]
pub(crate) enum Offered<T> {
    /// A receiver moved the value into the ring: the send is done.
    Taken,
    /// As [`Wake::Retry`], with the value back.
    Retry(T),
    /// As [`Wake::TimedOut`], with the value back.
    TimedOut(T),
}

/// What ended a [`LandWait::wait_landing`].
#[derive(Debug)]
pub(crate) enum Landed<T> {
    /// A sender moved a value into the place: the receive is done.
    Value(T),
    /// As [`Wake::Retry`].
    Retry,
    /// As [`Wake::TimedOut`].
    TimedOut,
}

/// Not in any queue.
const IDLE: usize = 0;
/// In a queue, waiting for a notify.
const LINKED: usize = 1;
/// Taken off the queue by a notify that the owner has not seen yet.
const NOTIFIED: usize = 2;

/// How to wake a waiter.
enum Wakeup {
    Thread(Thread),
    Task(Waker),
}

impl Wakeup {
    fn wake(self) {
        match self {
            Self::Thread(thread) => thread.unpark(),
            Self::Task(waker) => waker.wake(),
        }
    }
}

/// One waiter's place in a queue. See the module's invariants.
pub(crate) struct Node {
    state: AtomicUsize,
    prev: UnsafeCell<*const Node>,
    next: UnsafeCell<*const Node>,
    wakeup: UnsafeCell<Option<Wakeup>>,
    /// A place lent for a hand-off, or null (invariant 6).
    offer: UnsafeCell<*mut ()>,
    /// Set by a hand-off that used `offer`.
    taken: UnsafeCell<bool>,
    /// The queue's count of registrations when this node was linked: older
    /// nodes have smaller tickets (wrapping), and sit nearer the head.
    ticket: UnsafeCell<usize>,
    /// A linked node is pointed to by its neighbours: it must not move.
    _pinned: PhantomPinned,
}

// SAFETY: the raw pointers are only followed under the queue's lock
// (invariant 2), and `Thread` and `Waker` are `Send + Sync`.
unsafe impl Send for Node {}
// SAFETY: as for `Send`; every field shared between threads is an atomic or
// is accessed under the lock.
unsafe impl Sync for Node {}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state.load(Ordering::Relaxed) {
            IDLE => "idle",
            LINKED => "linked",
            _ => "notified",
        };
        f.debug_struct("Node").field("state", &state).finish()
    }
}

impl Node {
    pub(crate) fn new() -> Self {
        Self {
            state: AtomicUsize::new(IDLE),
            prev: UnsafeCell::new(ptr::null()),
            next: UnsafeCell::new(ptr::null()),
            wakeup: UnsafeCell::new(None),
            offer: UnsafeCell::new(ptr::null_mut()),
            taken: UnsafeCell::new(false),
            ticket: UnsafeCell::new(0),
            _pinned: PhantomPinned,
        }
    }

    /// If a notify took the node off its queue, returns `true` and makes the
    /// node idle: the owner has now seen the notify (invariant 4).
    #[inline]
    pub(crate) fn take_notified(&self) -> bool {
        // Acquire: pairs with the notifier's Release store of `NOTIFIED`,
        // after which the notifier no longer touches the node.
        if self.state.load(Ordering::Acquire) == NOTIFIED {
            self.state.store(IDLE, Ordering::Relaxed);
            true
        } else {
            false
        }
    }
}

/// The queue behind the lock: linked nodes, oldest at `head`.
struct Queue {
    head: *const Node,
    tail: *const Node,
    /// The ticket of the next node linked.
    next_ticket: usize,
}

// SAFETY: the pointers are only followed by the lock's holder (invariant 2).
unsafe impl Send for Queue {}

/// How many waiters a `notify_all` wakes per turn of the lock: it collects
/// their wakeups on the stack, so it allocates nothing.
const WAKE_BATCH: usize = 16;

/// A place for threads and tasks to wait on one condition of a channel.
pub(crate) struct WaitPoint {
    /// Linked nodes (invariant 3). Notifiers skip the lock when this is zero.
    waiters: AtomicUsize,
    queue: Mutex<Queue>,
}

impl fmt::Debug for WaitPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitPoint")
            .field("waiters", &self.waiters.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl WaitPoint {
    pub(crate) fn new() -> Self {
        Self {
            waiters: AtomicUsize::new(0),
            queue: Mutex::new(Queue {
                head: ptr::null(),
                tail: ptr::null(),
                next_ticket: 0,
            }),
        }
    }

    /// The queue's lock. No code that holds it can panic except through a
    /// bug, so a poisoned lock still guards a consistent queue.
    fn lock(&self) -> MutexGuard<'_, Queue> {
        match self.queue.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    // ----- registering ---------------------------------------------------------

    /// Queues `node` behind every waiter already here, to be woken through
    /// `wakeup` (for `None`, only marked notified, until its owner registers
    /// it again with one); if it is already queued, only replaces its
    /// wakeup, keeping its place. The caller re-checks the ring after this
    /// returns (the handshake).
    ///
    /// Returns `true`, changing nothing, if a notify has taken the node off
    /// the queue and the owner has not seen it yet; the node is then idle
    /// again (the notify is seen now) and the caller retries its operation.
    fn register(&self, node: Pin<&Node>, wakeup: Option<Wakeup>) -> bool {
        let node: &Node = node.get_ref();
        let old = {
            let mut queue = self.lock();
            if node.state.load(Ordering::Relaxed) == NOTIFIED {
                drop(queue);
                node.state.store(IDLE, Ordering::Relaxed);
                drop(wakeup);
                return true;
            }
            // SAFETY: we hold the lock (invariant 2).
            let old = node
                .wakeup
                .with_mut(|p| unsafe { core::mem::replace(&mut *p, wakeup) });
            if node.state.load(Ordering::Relaxed) == IDLE {
                let this: *const Node = node;
                // SAFETY: we hold the lock, so the tail node (if any) is
                // linked and alive (invariant 1) and its links are ours to
                // write (invariant 2); `node` is pinned by the caller, so it
                // stays where the queue points until it is unlinked.
                unsafe {
                    node.prev.with_mut(|p| *p = queue.tail);
                    node.next.with_mut(|p| *p = ptr::null());
                    node.ticket.with_mut(|p| *p = queue.next_ticket);
                    if queue.tail.is_null() {
                        queue.head = this;
                    } else {
                        (*queue.tail).next.with_mut(|p| *p = this);
                    }
                }
                queue.tail = this;
                queue.next_ticket = queue.next_ticket.wrapping_add(1);
                node.state.store(LINKED, Ordering::Relaxed);
                self.waiters.fetch_add(1, Ordering::SeqCst);
            }
            old
        };
        // Outside the lock: dropping a waker runs its code (invariant 5).
        drop(old);
        seq_cst_point();
        false
    }

    /// Registers a task's node, or refreshes the waker of one already queued
    /// when the task polls with a different one. Returns `true` as
    /// [`register`](Self::register) does.
    pub(crate) fn register_task(&self, node: Pin<&Node>, waker: &Waker) -> bool {
        // An idle node (every new future's, and one whose notify was seen)
        // can leave `IDLE` only through its owner, which is us (invariant
        // 4): nothing to look at under the lock, so `register` takes it once.
        // The load reads our own last store or a notifier's later one, so
        // `IDLE` here is the node's state now.
        if node.state.load(Ordering::Relaxed) != IDLE {
            let _queue = self.lock();
            match node.state.load(Ordering::Relaxed) {
                NOTIFIED => {
                    node.state.store(IDLE, Ordering::Relaxed);
                    return true;
                }
                LINKED => {
                    // SAFETY: we hold the lock and the node is linked
                    // (invariant 2). `will_wake` compares data and vtable
                    // pointers only; it runs no waker code (invariant 5).
                    let same = node.wakeup.with(|p| unsafe {
                        matches!(&*p, Some(Wakeup::Task(stored)) if stored.will_wake(waker))
                    });
                    if same {
                        // Queued with this waker already: the registration
                        // that linked it, and its handshake, still stand.
                        return false;
                    }
                }
                _ => {}
            }
        }
        // Cloning runs the waker's code: outside the lock (invariant 5).
        self.register(node, Some(Wakeup::Task(waker.clone())))
    }

    /// [`unregister`](Self::unregister) for a future that completes or is
    /// dropped: inlined, since such a node is nearly always idle, which then
    /// costs one load and no call.
    #[inline]
    pub(crate) fn leave(&self, node: Pin<&Node>) -> bool {
        if node.state.load(Ordering::Acquire) == IDLE {
            return false;
        }
        self.unregister(node)
    }

    /// Takes `node` off the queue if it is still there. Returns `true` if a
    /// notify took it off first and the owner had not seen it: the caller
    /// then either acts on that notify (retries its operation) or passes it
    /// on with [`notify_one`](Self::notify_one).
    pub(crate) fn unregister(&self, node: Pin<&Node>) -> bool {
        let node: &Node = node.get_ref();
        match node.state.load(Ordering::Acquire) {
            IDLE => return false,
            NOTIFIED => return node.take_notified(),
            _ => {}
        }
        let old = {
            let mut queue = self.lock();
            if node.state.load(Ordering::Relaxed) != LINKED {
                // A notifier unlinked it between our load and the lock.
                drop(queue);
                return node.take_notified();
            }
            // SAFETY: we hold the lock; the node and its neighbours are
            // linked and alive (invariant 1), their links ours (invariant 2).
            unsafe {
                let prev = node.prev.with(|p| *p);
                let next = node.next.with(|p| *p);
                if prev.is_null() {
                    queue.head = next;
                } else {
                    (*prev).next.with_mut(|p| *p = next);
                }
                if next.is_null() {
                    queue.tail = prev;
                } else {
                    (*next).prev.with_mut(|p| *p = prev);
                }
            }
            self.uncount();
            node.state.store(IDLE, Ordering::Relaxed);
            // SAFETY: we hold the lock (invariant 2).
            node.wakeup.with_mut(|p| unsafe { (*p).take() })
        };
        drop(old);
        false
    }

    // ----- waiting on a thread -------------------------------------------------

    /// Sleeps the calling thread until notified or until `deadline`, unless
    /// `should_sleep` (evaluated after registering) says the condition
    /// already changed.
    ///
    /// Returns on spurious wakeups too; callers loop.
    pub(crate) fn wait(&self, should_sleep: impl Fn() -> bool, deadline: Option<Instant>) -> Wake {
        self.wait_inner(should_sleep, deadline, true)
    }

    /// As [`wait`](Self::wait), on a wait point whose notifiers wake every
    /// waiter at once ([`wake_all`](Self::wake_all)) to say "what you wait
    /// for happened": a waiter that does not act on a notify has nothing to
    /// pass on, since every waiter queued then got one too, and one passed
    /// on would reach a waiter that registered after the event.
    pub(crate) fn wait_for_broadcast(
        &self,
        should_sleep: impl Fn() -> bool,
        deadline: Option<Instant>,
    ) -> Wake {
        self.wait_inner(should_sleep, deadline, false)
    }

    fn wait_inner(
        &self,
        should_sleep: impl Fn() -> bool,
        deadline: Option<Instant>,
        pass_on: bool,
    ) -> Wake {
        let node = Node::new();
        // SAFETY: `node` is a local that is never moved; every path below
        // unregisters it (or sees it notified, hence unlinked) before
        // returning, and nothing in between can panic.
        let node = unsafe { Pin::new_unchecked(&node) };
        let _ = self.register(node, Some(Wakeup::Thread(current_thread())));
        if !should_sleep() {
            // A notify that arrived in between went to a waiter that is not
            // going to sleep on it: pass it on.
            if self.unregister(node) && pass_on {
                self.notify_one();
            }
            return Wake::Retry;
        }
        loop {
            if node.take_notified() {
                return Wake::Retry;
            }
            match deadline {
                None => park(),
                Some(deadline) => {
                    #[cfg(not(loom))]
                    let now = Instant::now();
                    // Loom has no clock: a timed waiter takes the timeout
                    // path at once, so models explore a timeout racing every
                    // notify.
                    #[cfg(loom)]
                    let now = deadline;
                    if now >= deadline {
                        // Notified after all: the caller retries and so acts
                        // on it.
                        if self.unregister(node) {
                            return Wake::Retry;
                        }
                        return Wake::TimedOut;
                    }
                    #[cfg(not(loom))]
                    crate::sync::park_timeout(deadline - now);
                }
            }
        }
    }

    // ----- handing off -----------------------------------------------------------

    /// Waits as [`wait`](Self::wait) does, for a thread that lends `place`
    /// through its node while it waits: a blocked sender's value, or a
    /// blocked receiver's empty landing spot. The other side may move a
    /// value out of it or into it ([`hand_off`](Self::hand_off)), completing
    /// the wait's operation. Between checks of its node it calls `step` (a
    /// spin or a yield), and parks once that returns `false`.
    ///
    /// Returns whether a hand-off used `place`, and whether the wait timed
    /// out (never both).
    ///
    /// # Safety
    ///
    /// `place` is valid for the hand-offs of this wait point (the typed
    /// wrappers below decide what that means) and stays valid and untouched
    /// by the caller until this returns.
    unsafe fn wait_lending(
        &self,
        place: *mut (),
        should_sleep: impl Fn() -> bool,
        deadline: Option<Instant>,
        mut step: impl FnMut() -> bool,
    ) -> (bool, bool) {
        let node = Node::new();
        // SAFETY: the owner writes its node while it is not linked
        // (invariant 2).
        node.offer.with_mut(|p| unsafe { *p = place });
        // SAFETY: `node` is a local that is never moved; every path below
        // unregisters it (or sees it notified, hence unlinked) before
        // returning, and nothing in between can panic.
        let node = unsafe { Pin::new_unchecked(&node) };
        // SAFETY: the owner reads `taken` once it has seen its node unlinked
        // (invariants 2 and 6).
        let taken = |node: Pin<&Node>| node.taken.with(|p| unsafe { *p });
        // Registered unarmed: while the owner steps (spins and yields) it
        // polls its node's state, and a notifier has no thread to unpark.
        let _ = self.register(node, None);
        if !should_sleep() {
            let notified = self.unregister(node);
            let taken = taken(node);
            if notified && !taken {
                // A plain notify reached a waiter that will not sleep on it.
                self.notify_one();
            }
            return (taken, false);
        }
        let mut armed = false;
        loop {
            if node.take_notified() {
                return (taken(node), false);
            }
            if step() {
                continue;
            }
            if !armed {
                // About to park: registering again, now with a thread to
                // unpark, keeps the node's place, or reports the notify
                // that took it off the queue first.
                if self.register(node, Some(Wakeup::Thread(current_thread()))) {
                    return (taken(node), false);
                }
                armed = true;
            }
            match deadline {
                None => park(),
                Some(deadline) => {
                    #[cfg(not(loom))]
                    let now = Instant::now();
                    // As in `wait_inner`: under loom a timeout is at once.
                    #[cfg(loom)]
                    let now = deadline;
                    if now >= deadline {
                        // Notified after all: the caller retries (or is done).
                        let notified = self.unregister(node);
                        return (notified && taken(node), !notified);
                    }
                    #[cfg(not(loom))]
                    crate::sync::park_timeout(deadline - now);
                }
            }
        }
    }

    /// Offers the place lent by the first waiter, if it lends one
    /// ([`wait_lending`](Self::wait_lending)), to `fill`, which returns
    /// whether it used it; if it did, the waiter's operation is complete and
    /// it is woken. Returns what `fill` returned, or `false` if there was
    /// no place to offer. Waiters behind the first are never considered, so
    /// hand-offs keep the wake order. `fill` runs under the lock: crate
    /// code only (invariant 5).
    ///
    /// # Safety
    ///
    /// `fill` uses the place as the typed wrapper that lent it says.
    #[inline(never)]
    unsafe fn hand_off(&self, fill: impl FnOnce(*mut ()) -> bool) -> bool {
        self.wake_head_if(|head| {
            // SAFETY: `wake_head_if` lends the head node under the lock
            // (invariant 2).
            let place = head.offer.with(|p| unsafe { *p });
            if place.is_null() || !fill(place) {
                return false;
            }
            // SAFETY: as above; `taken` is set before the node is unlinked
            // and marked notified (invariant 6).
            head.taken.with_mut(|p| unsafe { *p = true });
            true
        })
    }

    /// Under the lock, shows the first node, if any, to `wake`; if that
    /// returns `true`, takes the node off the queue and wakes it outside
    /// the lock. Returns whether it woke one. `wake` runs under the lock:
    /// crate code only (invariant 5).
    #[inline(always)]
    fn wake_head_if(&self, wake: impl FnOnce(&Node) -> bool) -> bool {
        let wakeup = {
            let mut queue = self.lock();
            // SAFETY: we hold the lock, so the head node, if any, is linked
            // and alive (invariant 1) until we release the lock or unlink it.
            let Some(head) = (unsafe { queue.head.as_ref() }) else {
                return false;
            };
            if !wake(head) {
                return false;
            }
            // SAFETY: we hold the lock and the queue is not empty.
            unsafe { self.notify_head(&mut queue) }
        };
        // Outside the lock (invariant 5).
        if let Some(wakeup) = wakeup {
            wakeup.wake();
        }
        true
    }

    /// Unlinks the first node and marks it notified; returns its wakeup.
    ///
    /// # Safety
    ///
    /// `queue` is this wait point's locked queue and is not empty.
    unsafe fn notify_head(&self, queue: &mut Queue) -> Option<Wakeup> {
        let node = queue.head;
        // SAFETY: we hold the lock; the head node is linked and alive
        // (invariant 1), its fields ours (invariant 2).
        unsafe {
            let next = (*node).next.with(|p| *p);
            queue.head = next;
            if next.is_null() {
                queue.tail = ptr::null();
            } else {
                (*next).prev.with_mut(|p| *p = ptr::null());
            }
            let wakeup = (*node).wakeup.with_mut(|p| (*p).take());
            self.uncount();
            // The last access: from here the owner may free the node
            // (invariant 1). Release pairs with the owner's Acquire in
            // `take_notified`.
            (*node).state.store(NOTIFIED, Ordering::Release);
            wakeup
        }
    }

    /// Counts one node fewer, for a node just unlinked. Called under the
    /// lock: only its holder changes the count (invariant 3), so a load and
    /// a store do what a read-modify-write would, without its locked
    /// instruction.
    #[inline(always)]
    fn uncount(&self) {
        let linked = self.waiters.load(Ordering::Relaxed);
        self.waiters.store(linked - 1, Ordering::Relaxed);
    }

    // ----- notifying -----------------------------------------------------------

    /// Wakes the first waiter, if any. Call after publishing the change the
    /// waiters wait for.
    #[inline]
    pub(crate) fn notify_one(&self) {
        seq_cst_point();
        if self.waiters.load(Ordering::SeqCst) != 0 {
            self.wake_one();
        }
    }

    /// Takes the first waiter off the queue, if any, and wakes it outside
    /// the lock: [`wake`](Self::wake) for a count of one, without the batch
    /// it keeps on the stack. Cold, as `wake` is: a notify with nobody
    /// waiting stays the path laid out for.
    #[cold]
    fn wake_one(&self) {
        self.wake_head_if(|_| true);
    }

    /// Wakes up to `count` waiters, oldest first: after publishing `count`
    /// changes at once (a run of values pushed or popped with one CAS).
    #[inline]
    pub(crate) fn notify_many(&self, count: usize) {
        seq_cst_point();
        if self.waiters.load(Ordering::SeqCst) != 0 {
            self.wake(count, None);
        }
    }

    /// The notifier's half of the handshake, for one that decides only
    /// afterwards whether to notify: whether anyone waits here now. Call
    /// after publishing the change; if `true`, check the condition the
    /// waiters wait for and call [`wake_all`](Self::wake_all) if it holds.
    #[inline]
    pub(crate) fn has_waiters(&self) -> bool {
        seq_cst_point();
        self.waiters.load(Ordering::SeqCst) != 0
    }

    /// After [`has_waiters`](Self::has_waiters): if `happened` holds, wakes
    /// every waiter that registered before it was checked, and none that
    /// registered after (those re-check for themselves). `happened` runs
    /// under the queue's lock, so it must be the crate's own code (atomic
    /// loads), never user code (invariant 5).
    #[cold]
    pub(crate) fn wake_all_if(&self, happened: impl FnOnce() -> bool) {
        let ticket = {
            let queue = self.lock();
            if !happened() {
                return;
            }
            queue.next_ticket
        };
        self.wake(usize::MAX, Some(ticket));
    }

    /// Wakes every waiter. Call after publishing a disconnect.
    pub(crate) fn notify_all(&self) {
        seq_cst_point();
        if self.waiters.load(Ordering::SeqCst) != 0 {
            self.wake(usize::MAX, None);
        }
    }

    /// Takes up to `count` waiters off the queue, oldest first, and wakes
    /// them outside the lock, `WAKE_BATCH` per turn of the lock; with
    /// `before`, only waiters whose ticket is older than it.
    #[cold]
    fn wake(&self, mut count: usize, before: Option<usize>) {
        loop {
            let mut batch: [Option<Wakeup>; WAKE_BATCH] = Default::default();
            let mut taken = 0;
            let more = {
                let mut queue = self.lock();
                let older = |node: *const Node| match before {
                    None => true,
                    // SAFETY: called with the head node while we hold the
                    // lock: it is linked and alive (invariant 1), and its
                    // ticket is ours to read (invariant 2).
                    Some(before) => unsafe {
                        ((*node).ticket.with(|p| *p).wrapping_sub(before) as isize) < 0
                    },
                };
                while taken < WAKE_BATCH && count > 0 && !queue.head.is_null() && older(queue.head)
                {
                    // SAFETY: we hold the lock and the queue is not empty.
                    batch[taken] = unsafe { self.notify_head(&mut queue) };
                    taken += 1;
                    count -= 1;
                }
                count > 0 && !queue.head.is_null() && older(queue.head)
            };
            // Outside the lock (invariant 5).
            for wakeup in batch.iter_mut().take(taken) {
                if let Some(wakeup) = wakeup.take() {
                    wakeup.wake();
                }
            }
            if !more {
                return;
            }
        }
    }
}

/// The senders' wait point of a channel of `T`: a [`WaitPoint`] whose
/// thread waiters may lend their values for a receiver to move into the
/// ring. Lending and handing off go only through this type, so every place
/// on its wait point is an initialized `T` while lent (invariant 6).
pub(crate) struct OfferWait<T> {
    wait: WaitPoint,
    _places: PhantomData<fn(T) -> T>,
}

impl<T> OfferWait<T> {
    pub(crate) fn new() -> Self {
        Self {
            wait: WaitPoint::new(),
            _places: PhantomData,
        }
    }

    /// Waits for room as [`WaitPoint::wait`] does, lending `value` to the
    /// receivers meanwhile ([`WaitPoint::wait_lending`]).
    pub(crate) fn wait_offering(
        &self,
        value: T,
        should_sleep: impl Fn() -> bool,
        deadline: Option<Instant>,
        step: impl FnMut() -> bool,
    ) -> Offered<T> {
        let mut offer = MaybeUninit::new(value);
        // SAFETY: the place is an initialized `T` in this frame, untouched
        // until the wait returns, as `hand_off` below expects.
        let (taken, timed_out) = unsafe {
            self.wait
                .wait_lending(offer.as_mut_ptr().cast(), should_sleep, deadline, step)
        };
        if taken {
            return Offered::Taken;
        }
        // SAFETY: not taken, so the value is still ours and initialized
        // (invariant 6); it is read out once.
        let value = unsafe { offer.assume_init_read() };
        if timed_out {
            Offered::TimedOut(value)
        } else {
            Offered::Retry(value)
        }
    }

    /// Moves the first waiting sender's value into the slot `refill`
    /// offers, if that sender lends one and [`Refill::fill`] takes it.
    /// Returns the proof that it did.
    #[inline]
    pub(crate) fn hand_off<'a>(&self, refill: Refill<'a, T>) -> Option<Filled<'a>> {
        let mut filled = None;
        // SAFETY: every place on this wait point is an initialized `T` while
        // its node is linked (`wait_offering`); `fill` reads it at most once,
        // and only when it keeps the value, which `hand_off` then records.
        unsafe {
            self.wait.hand_off(|place| {
                filled = refill.fill(|| ptr::read(place.cast::<T>()));
                filled.is_some()
            });
        }
        filled
    }
}

/// The receivers' wait point of a channel of `T`: a [`WaitPoint`] whose
/// thread waiters may lend an empty landing place for a sender to move a
/// value into, as [`OfferWait`] for the other side.
pub(crate) struct LandWait<T> {
    wait: WaitPoint,
    _places: PhantomData<fn(T) -> T>,
}

impl<T> LandWait<T> {
    pub(crate) fn new() -> Self {
        Self {
            wait: WaitPoint::new(),
            _places: PhantomData,
        }
    }

    /// Waits for a value as [`WaitPoint::wait`] does, lending a landing
    /// place to the senders meanwhile; returns the value if one landed.
    pub(crate) fn wait_landing(
        &self,
        should_sleep: impl Fn() -> bool,
        deadline: Option<Instant>,
        step: impl FnMut() -> bool,
    ) -> Landed<T> {
        let mut place = MaybeUninit::<T>::uninit();
        // SAFETY: the place is room for a `T` in this frame, untouched until
        // the wait returns, as `hand_off` below expects.
        let (taken, timed_out) = unsafe {
            self.wait
                .wait_lending(place.as_mut_ptr().cast(), should_sleep, deadline, step)
        };
        if taken {
            // SAFETY: a hand-off wrote a value into the place before it set
            // `taken` (invariant 6).
            return Landed::Value(unsafe { place.assume_init() });
        }
        if timed_out {
            Landed::TimedOut
        } else {
            Landed::Retry
        }
    }

    /// Gives the first waiting receiver `value`, the value of the push
    /// `landing` offers, if that receiver lends a place and
    /// [`Landing::land`] claims the pop for it. Returns the proof that it
    /// did, or the value.
    #[inline]
    pub(crate) fn hand_off<'a>(
        &self,
        landing: Landing<'a, T>,
        value: T,
    ) -> Result<LandedPop<'a>, T> {
        let mut value = Some(value);
        let mut landed = None;
        // SAFETY: every place on this wait point is room for a `T` while its
        // node is linked (`wait_landing`); `land` writes it at most once, and
        // `hand_off` records that it did.
        unsafe {
            self.wait.hand_off(|place| {
                let Some(v) = value.take() else {
                    return false;
                };
                match landing.land(v, |v| ptr::write(place.cast::<T>(), v)) {
                    Ok(proof) => {
                        landed = Some(proof);
                        true
                    }
                    Err(v) => {
                        value = Some(v);
                        false
                    }
                }
            });
        }
        match (landed, value) {
            (Some(proof), _) => Ok(proof),
            (None, Some(value)) => Err(value),
            (None, None) => unreachable!("a value that did not land is given back"),
        }
    }
}

impl<T> core::ops::Deref for LandWait<T> {
    type Target = WaitPoint;

    fn deref(&self) -> &WaitPoint {
        &self.wait
    }
}

impl<T> fmt::Debug for LandWait<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.wait.fmt(f)
    }
}

impl<T> core::ops::Deref for OfferWait<T> {
    type Target = WaitPoint;

    fn deref(&self) -> &WaitPoint {
        &self.wait
    }
}

impl<T> fmt::Debug for OfferWait<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.wait.fmt(f)
    }
}
