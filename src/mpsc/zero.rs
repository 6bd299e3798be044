//! The rendezvous flavour behind [`sync_channel(0)`](super::sync_channel): no
//! buffer; a value passes from a sender to the receiver only when both are
//! there.
//!
//! # The algorithm
//!
//! One slot holds at most one value in passage, and one atomic word, `state`,
//! says what the slot is doing: a phase (3 bits), two disconnect flags and a
//! sequence number that counts the values taken. There is one receiver, so
//! only senders race for the slot.
//!
//! ```text
//!              receiver waits                sender finds it waiting
//!   EMPTY ───────────────────> RECV_WAITING ─────────────────────────> HANDING
//!     ^  <─────────────────────     │                                    │ +1
//!     │   receiver gives up         │                                    v
//!     │   (timeout, disconnect)     └─── receiver takes, seq + 1 ───── HANDED
//!     │
//!     │   sender finds it empty              +1
//!     └───────────────────────> OFFERING ─────────> OFFERED
//!       <──────────────────────────────────────────────┘
//!         receiver takes, seq + 1; or the sender takes it back
//!         once the receiver is gone
//! ```
//!
//! * A receiver that finds a value `OFFERED` takes it; otherwise it posts
//!   `RECV_WAITING` and sleeps. A sender that finds `RECV_WAITING` claims it
//!   (`HANDING`), writes its value, marks it `HANDED` and returns: the receiver
//!   is committed to take it (a receiver whose wait times out withdraws by CAS
//!   from `RECV_WAITING`, which fails once a sender has claimed it).
//! * A sender that finds the slot `EMPTY` claims it (`OFFERING`), writes its
//!   value, marks it `OFFERED` and sleeps until the sequence number moves on
//!   (the receiver took it) or the receiver is gone (it takes the value back).
//!   `try_send` never offers: without a waiting receiver it reports `Full`.
//! * Other senders wait until the slot is claimable again.
//!
//! # Invariants
//!
//! 1. The slot's value is initialized exactly in the phases `OFFERED` and
//!    `HANDED`, and while the thread that will read it out holds it (see 2).
//! 2. A phase names who may touch the value: the sender that moved the state
//!    to `OFFERING` or `HANDING` (by CAS) until its Release `+1` step; in
//!    `OFFERED`, the receiver, or, once `RECEIVER_GONE` is set, the offering
//!    sender; in `HANDED`, the receiver. Nobody else reads or writes the value.
//! 3. There is one receiver: only a [`Receiver`] takes values or posts
//!    `RECV_WAITING`, and it is neither `Clone` nor `Sync`. `RECV_WAITING`,
//!    `HANDING` and `HANDED` occur only inside one of its calls, which leaves
//!    the phase `EMPTY` or `OFFERED`.
//! 4. While a sender is in `OFFERING` or `OFFERED` it is alive, so
//!    `SENDERS_GONE` is clear; while the receiver is inside a call,
//!    `RECEIVER_GONE` is clear. Otherwise flags may be set at any time, by
//!    `fetch_or`, so every transition that can race one is a CAS or a
//!    `fetch_add` on the phase bits, which keeps them.

#![allow(unsafe_code)]

use core::cell::Cell;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::ptr;
use std::time::Instant;

use crate::park::{WaitPoint, Wake};
use crate::sync::Arc;
use crate::sync::{AtomicUsize, Ordering, Patience, UnsafeCell};

const PHASE: usize = 0b111;
const EMPTY: usize = 0;
const RECV_WAITING: usize = 1;
const HANDING: usize = 2;
const HANDED: usize = HANDING + 1;
const OFFERING: usize = 4;
const OFFERED: usize = OFFERING + 1;
const SENDERS_GONE: usize = 1 << 3;
const RECEIVER_GONE: usize = 1 << 4;
/// One step of the sequence number, in the bits above the flags.
const SEQ_ONE: usize = 1 << 5;

#[inline]
fn with_phase(state: usize, phase: usize) -> usize {
    (state & !PHASE) | phase
}

/// The state after the receiver takes the value: the same flags, phase
/// `EMPTY`, the next sequence number.
#[inline]
fn taken(state: usize) -> usize {
    with_phase(state, EMPTY).wrapping_add(SEQ_ONE)
}

#[inline]
fn seq(state: usize) -> usize {
    state & !(SEQ_ONE - 1)
}

/// Under loom, whether a wait with a deadline should time out at once.
///
/// Loom runs a thread that yields only once every other thread is blocked or
/// yielding too, and under loom both the waiting steps (`Patience`) and a
/// timed wait point yield. A receiver whose timeout went through them would
/// never see it fire while a sender is between loading `RECV_WAITING` and its
/// claiming CAS: exactly the race the withdrawing CAS must win or lose
/// cleanly. So in models a timed wait in `RECV_WAITING` ends at once, without
/// yielding; untimed waits, and the wake-ups they need, run as they do
/// outside loom.
#[inline(always)]
fn loom_times_out_now(deadline: Option<Instant>) -> bool {
    cfg!(loom) && deadline.is_some()
}

/// Why `try_send` handed the value back.
#[derive(Debug)]
pub(crate) enum TrySendFailed<T> {
    /// No receiver was waiting.
    Full(T),
    /// The receiver is gone.
    Disconnected(T),
}

pub(crate) use super::list::{Empty, RecvFailed};

struct Channel<T> {
    state: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
    senders: AtomicUsize,
    /// Where the receiver sleeps in `RECV_WAITING` or during a claim.
    recv_wait: WaitPoint,
    /// Where the sender that offered its value sleeps until it is taken.
    owner_wait: WaitPoint,
    /// Where other senders sleep until the slot is claimable.
    slot_wait: WaitPoint,
    _values: PhantomData<T>,
}

// SAFETY: a value of `T` is moved from one thread to another through the slot,
// never shared by reference, so sending and sharing the channel is sound
// whenever `T` can be sent; access to the slot follows invariant 2.
unsafe impl<T: Send> Send for Channel<T> {}
// SAFETY: as for `Send`.
unsafe impl<T: Send> Sync for Channel<T> {}

impl<T> Channel<T> {
    /// Writes the value into the slot.
    ///
    /// # Safety
    ///
    /// The caller holds the slot in `OFFERING` or `HANDING` (invariant 2).
    unsafe fn write(&self, value: T) {
        // SAFETY: the caller alone may touch the value now, and it is
        // uninitialized (invariants 1 and 2).
        self.value
            .with_mut(|p| unsafe { p.write(MaybeUninit::new(value)) });
    }

    /// Moves the value out of the slot.
    ///
    /// # Safety
    ///
    /// The caller may read the value in the current phase (invariant 2) and
    /// saw that phase with Acquire.
    unsafe fn read(&self) -> T {
        // SAFETY: the value is initialized (invariant 1) and ours to move.
        self.value.with(|p| unsafe { ptr::read(p).assume_init() })
    }
}

impl<T> Drop for Channel<T> {
    fn drop(&mut self) {
        // Every handle is gone, so no call is in progress: by invariant 3 and
        // the sender's take-back the phase is `EMPTY`. Drop a value anyway if
        // a future change broke that, rather than leak it.
        let phase = self.state.load(Ordering::Relaxed) & PHASE;
        debug_assert_eq!(phase, EMPTY, "a value left in a rendezvous slot");
        if phase == OFFERED || phase == HANDED {
            // SAFETY: exclusive access, and the value is initialized in these
            // phases (invariant 1).
            drop(unsafe { self.read() });
        }
    }
}

/// Creates a rendezvous channel.
pub(crate) fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let chan = Arc::new(Channel {
        state: AtomicUsize::new(EMPTY),
        value: UnsafeCell::new(MaybeUninit::uninit()),
        senders: AtomicUsize::new(1),
        recv_wait: WaitPoint::new(),
        owner_wait: WaitPoint::new(),
        slot_wait: WaitPoint::new(),
        _values: PhantomData,
    });
    let receiver = Receiver {
        chan: chan.clone(),
        _not_sync: PhantomData,
    };
    (Sender { chan }, receiver)
}

/// A sending handle.
pub(crate) struct Sender<T> {
    chan: Arc<Channel<T>>,
}

impl<T> Sender<T> {
    /// Hands `value` to the receiver, waiting for it to come; hands the value
    /// back if the receiver is gone.
    pub(crate) fn send(&self, value: T) -> Result<(), T> {
        let chan = &*self.chan;
        let patience = Patience::full();
        let mut state = chan.state.load(Ordering::Acquire);
        loop {
            if state & RECEIVER_GONE != 0 {
                return Err(value);
            }
            match state & PHASE {
                RECV_WAITING => match self.claim(state, HANDING) {
                    Ok(()) => {
                        self.hand(value);
                        return Ok(());
                    }
                    Err(current) => state = current,
                },
                EMPTY => match self.claim(state, OFFERING) {
                    Ok(()) => return self.offer(value),
                    Err(current) => state = current,
                },
                _ => {
                    // Another sender holds the slot. Sleep until it is
                    // claimable: every move back to `EMPTY` wakes one of us.
                    if !patience.step() {
                        let seen = state;
                        chan.slot_wait
                            .wait(|| chan.state.load(Ordering::SeqCst) == seen, None);
                    }
                    state = chan.state.load(Ordering::Acquire);
                }
            }
        }
    }

    /// Hands `value` to a receiver waiting now; never waits.
    pub(crate) fn try_send(&self, value: T) -> Result<(), TrySendFailed<T>> {
        let mut state = self.chan.state.load(Ordering::Acquire);
        loop {
            if state & RECEIVER_GONE != 0 {
                return Err(TrySendFailed::Disconnected(value));
            }
            if state & PHASE != RECV_WAITING {
                return Err(TrySendFailed::Full(value));
            }
            match self.claim(state, HANDING) {
                Ok(()) => {
                    self.hand(value);
                    return Ok(());
                }
                Err(current) => state = current,
            }
        }
    }

    /// Claims the slot by moving it from `state` to `phase`. Acquire pairs
    /// with the receiver's Release when it emptied the slot, so its read of
    /// the previous value happens before our write.
    fn claim(&self, state: usize, phase: usize) -> Result<(), usize> {
        self.chan
            .state
            .compare_exchange(
                state,
                with_phase(state, phase),
                Ordering::SeqCst,
                Ordering::Acquire,
            )
            .map(drop)
    }

    /// Writes `value` for the receiver that waits, after claiming `HANDING`.
    fn hand(&self, value: T) {
        let chan = &*self.chan;
        // SAFETY: we claimed `HANDING`.
        unsafe { chan.write(value) };
        // HANDING -> HANDED, flags kept. Release publishes the value; SeqCst
        // is the publication half of the receiver's sleep handshake.
        chan.state.fetch_add(1, Ordering::SeqCst);
        chan.recv_wait.notify_one();
    }

    /// Offers `value` after claiming `OFFERING`, and waits until it is taken
    /// or the receiver is gone.
    fn offer(&self, value: T) -> Result<(), T> {
        let chan = &*self.chan;
        // SAFETY: we claimed `OFFERING`.
        unsafe { chan.write(value) };
        // OFFERING -> OFFERED, flags kept (`RECEIVER_GONE` may race us).
        let offered = chan.state.fetch_add(1, Ordering::SeqCst) + 1;
        chan.recv_wait.notify_one();
        let patience = Patience::full();
        loop {
            // Acquire pairs with the receiver's Release once it took the
            // value: its read happens before we return.
            let state = chan.state.load(Ordering::Acquire);
            if seq(state) != seq(offered) {
                return Ok(());
            }
            debug_assert_eq!(state & PHASE, OFFERED);
            if state & RECEIVER_GONE != 0 {
                // SAFETY: the value is still ours to take back (invariant 2:
                // `OFFERED` with the receiver gone), and we saw it with
                // Acquire.
                let value = unsafe { chan.read() };
                // Nobody else changes the state now (invariant 4: senders
                // remain, the receiver is gone).
                chan.state
                    .store(with_phase(state, EMPTY), Ordering::Release);
                return Err(value);
            }
            if !patience.step() {
                chan.owner_wait
                    .wait(|| chan.state.load(Ordering::SeqCst) == state, None);
            }
        }
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.senders.fetch_add(1, Ordering::Relaxed);
        Self {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.chan.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.chan.state.fetch_or(SENDERS_GONE, Ordering::SeqCst);
            self.chan.recv_wait.notify_all();
        }
    }
}

/// The receiving handle.
pub(crate) struct Receiver<T> {
    chan: Arc<Channel<T>>,
    /// One receiver at a time (invariant 3).
    _not_sync: PhantomData<Cell<()>>,
}

impl<T> Receiver<T> {
    /// Takes a value a sender is offering now; never waits.
    pub(crate) fn try_recv(&self) -> Result<T, Empty> {
        let state = self.chan.state.load(Ordering::Acquire);
        if state & PHASE == OFFERED {
            // SAFETY: seen `OFFERED` with Acquire; no sender takes it back
            // while we are here (invariant 4).
            return Ok(unsafe { self.take(state) });
        }
        debug_assert!(state & PHASE == EMPTY || state & PHASE == OFFERING);
        Err(if state & SENDERS_GONE != 0 {
            Empty::Disconnected
        } else {
            Empty::Empty
        })
    }

    /// Takes a value, waiting for a sender until `deadline` (forever if
    /// `None`).
    pub(crate) fn recv(&self, deadline: Option<Instant>) -> Result<T, RecvFailed> {
        let chan = &*self.chan;
        let patience = Patience::full();
        let mut timed_out = false;
        loop {
            let state = chan.state.load(Ordering::Acquire);
            match state & PHASE {
                OFFERED => {
                    // SAFETY: as in `try_recv`.
                    return Ok(unsafe { self.take(state) });
                }
                EMPTY => {
                    if state & SENDERS_GONE != 0 {
                        return Err(RecvFailed::Disconnected);
                    }
                    if timed_out || crate::park::deadline_passed(deadline) {
                        return Err(RecvFailed::Timeout);
                    }
                    let waiting = with_phase(state, RECV_WAITING);
                    if chan
                        .state
                        .compare_exchange(state, waiting, Ordering::SeqCst, Ordering::Relaxed)
                        .is_ok()
                    {
                        return self.await_hand_off(deadline);
                    }
                }
                _ => {
                    // `OFFERING`: a sender is writing its offer, and notifies
                    // us once it is `OFFERED`.
                    debug_assert_eq!(state & PHASE, OFFERING);
                    if timed_out || crate::park::deadline_passed(deadline) {
                        return Err(RecvFailed::Timeout);
                    }
                    if !patience.step() {
                        let wake = chan
                            .recv_wait
                            .wait(|| chan.state.load(Ordering::SeqCst) == state, deadline);
                        timed_out = wake == Wake::TimedOut;
                    }
                }
            }
        }
    }

    /// Waits in `RECV_WAITING` for a sender to hand a value over, until
    /// `deadline`, or withdraws.
    fn await_hand_off(&self, deadline: Option<Instant>) -> Result<T, RecvFailed> {
        let chan = &*self.chan;
        let patience = Patience::full();
        let mut timed_out = false;
        loop {
            let state = chan.state.load(Ordering::Acquire);
            match state & PHASE {
                HANDED => {
                    // SAFETY: seen `HANDED` with Acquire; the value is ours
                    // (invariant 2).
                    return Ok(unsafe { self.take(state) });
                }
                HANDING => {
                    // A sender claimed us: we are committed, deadline or not.
                    // It notifies us once the value is `HANDED`.
                    if !patience.step() {
                        chan.recv_wait
                            .wait(|| chan.state.load(Ordering::SeqCst) == state, None);
                    }
                }
                _ => {
                    debug_assert_eq!(state & PHASE, RECV_WAITING);
                    let gone = state & SENDERS_GONE != 0;
                    if gone || timed_out || crate::park::deadline_passed(deadline) {
                        // Withdraw, unless a sender claims us first.
                        if chan
                            .state
                            .compare_exchange(
                                state,
                                with_phase(state, EMPTY),
                                Ordering::SeqCst,
                                Ordering::Relaxed,
                            )
                            .is_ok()
                        {
                            return Err(if gone {
                                RecvFailed::Disconnected
                            } else {
                                RecvFailed::Timeout
                            });
                        }
                        continue;
                    }
                    if loom_times_out_now(deadline) {
                        timed_out = true;
                    } else if !patience.step() {
                        let wake = chan
                            .recv_wait
                            .wait(|| chan.state.load(Ordering::SeqCst) == state, deadline);
                        timed_out = wake == Wake::TimedOut;
                    }
                }
            }
        }
    }

    /// Moves the value out in phase `OFFERED` or `HANDED` (seen as `state`
    /// with Acquire) and empties the slot for the next value.
    ///
    /// # Safety
    ///
    /// The value is the receiver's to take (invariant 2).
    unsafe fn take(&self, mut state: usize) -> T {
        let chan = &*self.chan;
        // SAFETY: the caller's contract.
        let value = unsafe { chan.read() };
        // Release: our read happens before the next claim's write (its CAS is
        // Acquire) and before the offering sender returns. SeqCst: the
        // publication half of the senders' sleep handshakes. A CAS loop,
        // since `SENDERS_GONE` may be set after a hand-off (invariant 4).
        while let Err(current) = chan.state.compare_exchange_weak(
            state,
            taken(state),
            Ordering::SeqCst,
            Ordering::Relaxed,
        ) {
            debug_assert_eq!(current & PHASE, state & PHASE);
            state = current;
        }
        chan.owner_wait.notify_all();
        chan.slot_wait.notify_one();
        value
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let chan = &*self.chan;
        let before = chan.state.fetch_or(RECEIVER_GONE, Ordering::SeqCst);
        debug_assert!(matches!(before & PHASE, EMPTY | OFFERING | OFFERED));
        chan.owner_wait.notify_all();
        chan.slot_wait.notify_all();
    }
}
