//! The ring: a bounded MPMC queue of slots with sequence stamps, and the single
//! allocation that holds it. This is the crate's one unsafe data module; it
//! knows nothing of policies, waiting or the public API.
//!
//! # The algorithm
//!
//! The design is Dmitry Vyukov's bounded MPMC queue, in the variant that
//! crossbeam uses for arbitrary capacities. Positions `head` (next to pop) and
//! `tail` (next to push) pack `{ lap, index }`: the low bits are an index below
//! `cap`, the bits from `one_lap` up count laps. `one_lap` is the power of two
//! above `2 * cap`, which leaves one free bit, `mark_bit = one_lap / 2`, that
//! `tail` carries once the channel is disconnected.
//!
//! Each slot has a stamp. For a slot at index `i` in lap `l`:
//!
//! * stamp `{ l, i }`: empty, ready for the push at position `{ l, i }`;
//! * stamp `{ l, i } + 1`: full, holding the value pushed at `{ l, i }`,
//!   ready for the pop at that position.
//!
//! A push at `tail` claims its slot by CAS on `tail` when the slot's stamp
//! equals `tail`, writes the value, then publishes it by storing
//! `stamp = tail + 1` (Release). A pop at `head` claims by CAS on `head` when
//! the stamp equals `head + 1`, reads the value, then frees the slot for the
//! next lap by storing `stamp = head + one_lap` (Release).
//!
//! A run of values moves with one CAS: a batch push checks that the slots
//! from `tail` on are free for this lap, one after the other, then moves
//! `tail` past all of them at once, writes each value and publishes each
//! slot in order; a batch pop does the same from `head` with full slots.
//! Every value still has its own position, so capacity, FIFO order, the
//! readings and eviction behave as if the run had been pushed (or popped)
//! one value at a time with nothing in between.
//!
//! Eviction (drop-oldest) happens only when the ring is full, that is when
//! `head + one_lap == tail`: both point at the same slot, which holds the
//! oldest value. The evicting sender claims that slot by CAS on `head` (the
//! same CAS a receiver would make, so exactly one of them wins), moves `tail`
//! on by one, swaps its value for the old one and republishes the slot as full
//! for the new lap. No value is popped and pushed separately, so no other
//! sender can take the freed room in between, and one send evicts at most one
//! value. The evicting sender does not first confirm that the ring is full
//! (a fence and a load of `head`, as a refusing push does): its CAS expects
//! `head` exactly one lap behind the `tail` it read, which holds only while
//! the ring is full, so the CAS decides. If it fails because `head` has
//! moved, a receiver took the oldest value first or another eviction holds
//! the flag, and the sender waits for that claim as a push does before it
//! retries (if the `tail` it read was stale, nothing is in flight and it
//! retries at once).
//!
//! The eviction's CAS writes the new `head` with `mark_bit` set (the
//! *eviction flag*; `head` never carries the disconnect mark, so the bit is
//! free there), and the evictor clears it with a plain store right after it
//! moves `tail`, before it swaps its value into the slot. Between the CAS
//! and the move of `tail` the two indices alone would show one value fewer
//! than the ring holds (at capacity 1, `head == tail`: an empty-looking full
//! ring); the flag tells a reader that an eviction is under way, and an
//! eviction only ever runs on a full ring,
//! so `len` reads `cap` (invariant 7). While the flag is set no other thread
//! can move `head`: a receiver's or another evictor's CAS expects a `head`
//! without the flag, and a receiver that loaded the flagged `head` finds that
//! the slot's stamp matches neither of its conditions and waits, as it does
//! for any claimed slot.
//!
//! # Invariants
//!
//! 1. `slots` points to `cap` initialized `Slot`s inside the same allocation
//!    as the `Ring`, valid until `Shared` frees it.
//! 2. A slot's value is initialized exactly when its stamp is `pos + 1` for
//!    the position `pos` last pushed into it, or while a pop that claimed the
//!    slot at `pos` has not yet read it out.
//! 3. Between a successful CAS claiming position `pos` (of `tail` for a push,
//!    of `head` for a pop or an eviction; a run's CAS claims each position it
//!    moves the index past) and the Release store of the slot's next stamp,
//!    the claiming thread alone may touch the slot's value. Other
//!    threads see a stamp that matches neither their push nor pop condition and
//!    wait, or see the moved index and move on.
//! 4. During an eviction, from the CAS on `head` to the store that clears
//!    the eviction flag (right after the move of `tail`), no other thread
//!    moves either index. `head` carries the flag, which no other thread's
//!    CAS expects. Before the move of `tail`, its slot's stamp is not `tail`,
//!    so no push can claim it; after it, the slot at the new `tail` holds a
//!    value, a push that confirms against the flagged `head` sees a ring
//!    that is not full, and an evictor's CAS, which expects no flag, fails:
//!    both wait. Once the flag is cleared the evictor
//!    still owns its slot until its stamp store (invariant 3), as any
//!    claimer does; the indices already show the ring full.
//!    The disconnect mark is added to `tail` with `fetch_or`, which the
//!    eviction's `fetch_add` preserves.
//! 5. When `Shared`'s count of references reaches zero no other thread can
//!    reach the allocation, so every slot between `head` and `tail` is full
//!    (invariant 2) and is dropped exactly once.
//! 6. Evictions never overlap in their flagged window: each runs from its
//!    CAS on `head` to the Release store that clears the flag (invariant 4),
//!    and the next evictor's CAS (`SeqCst`, so an acquire) reads that store
//!    or a later read-modify-write of `head` in its release sequence. So
//!    everything one evictor did up to its clear, the count included,
//!    happens before the next one starts: the count is read and written by
//!    one thread at a time, each seeing the last write, and needs no
//!    read-modify-write. The count
//!    is stored with Release inside the flagged window.
//! 7. Readings. `len` takes `head` and `tail` at one instant (`tail` read
//!    twice around `head` without change) and reads `cap` while `head`
//!    carries the flag, so a ring that holds `cap` values reads `cap` at
//!    every instant. `snapshot` reads the eviction count (and the caller's
//!    counters) before and after the positions and retries unless none of
//!    them changed and `head` carried no flag: then the count is exactly the
//!    number of evictions that the `head` it read includes. A count it read
//!    before `head` with Acquire includes only evictions whose CAS came
//!    before (so `head` includes them), and the count read after includes
//!    every eviction whose flag was cleared before `head` was read (by the
//!    release sequence of invariant 6).
//! 8. Refilling. A pop that has claimed and read its slot at `head` may,
//!    before freeing it, claim the push at the slot's next position
//!    (`head + one_lap`) by the push's own CAS on `tail`, expecting exactly
//!    that position. The CAS succeeds only if `tail` is there, unmarked:
//!    every other slot is full and the channel is connected. Until the
//!    pop's stamp store no push can claim the slot (its stamp is still last
//!    lap's full one), so the refilling thread alone writes it, and its one
//!    stamp store publishes the slot full for the next lap (the next
//!    position plus one) instead of freeing it. To every other thread this
//!    is a pop followed by a push of one value at the next position:
//!    capacity, FIFO order and the readings are as for any push.
//! 9. Landing. A push that has claimed its position at `tail` may, before
//!    publishing, claim the pop of that same position by the pop's own CAS
//!    on `head`, expecting exactly that position: it succeeds only if no
//!    other value is in the ring. The value then goes straight to a waiting
//!    receiver and never enters the slot, whose stamp stays "empty for this
//!    lap" (no receiver can claim it: its pop condition never held, and
//!    `head` has moved past it) until the one stamp store frees it for the
//!    next lap. To every other thread this is a push followed by the pop of
//!    that value.
//! 10. Hints. `push_hint` and `pop_hint` hold positions that `tail` and
//!     `head` held, without the disconnect mark, at some earlier instant:
//!     each is stored, Relaxed, with the position a single push or pop
//!     moved its index to, once that operation has published its slot (and
//!     the push hint by an eviction, once it has cleared its flag). So a
//!     hint never carries the mark or the eviction flag, and may be older
//!     than anything the reading thread has seen of the index (a thread
//!     preempted before its store writes an old position late). A single
//!     push or pop starts from its hint instead of a load of the index, and
//!     uses it only when the slot's stamp there invites a claim; the claim's
//!     CAS expects the hint, so it succeeds only if the index still holds
//!     it, and a stale hint costs a failed CAS, which returns the index's
//!     value. Any other stamp sends the operation to a fresh load of the
//!     index before it decides anything (full, empty, disconnected, wait;
//!     the loop's test for the mark runs on a hint too, and never fires
//!     there). If the index has moved, the operation starts over from it.
//!     If it still holds the hint, the operation decides with the stamp it
//!     loaded before the index, as if it had loaded the index first: full
//!     and empty are confirmed by the load of the other index after the
//!     fence, which the stamp's age does not change, and a stamp that has
//!     changed since only costs a wait step or another turn of the loop.
//!     Hints select a slot and nothing else, and a position's index is
//!     always below `cap`, so a hint of any age selects a real slot. Loom
//!     models run without hints ([`Hint`]).

#![allow(unsafe_code)]

use core::alloc::Layout;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::ptr::{self, NonNull};
use std::alloc::{alloc, dealloc};
use std::collections::VecDeque;

use crossbeam_utils::CachePadded;

use crate::sync::{fence, AtomicUsize, Backoff, InFlight, Ordering, UnsafeCell};
use crate::unwind::FirstPanic;

/// Where the last single push or pop left its index (invariant 10), on a
/// cache line of its own, so that the next one does not start by loading the
/// line the previous CAS just wrote: one thread sending and receiving at
/// capacity 1024 took 43 ns per value starting from `tail` and `head`, 36 ns
/// from a push hint kept on `tail`'s line, 29 ns from hints on lines of their
/// own.
///
/// Under loom a hint holds nothing and [`start`](Self::start) loads the index
/// itself, so the models check the code as it runs without hints: the hints'
/// own stores, and the fallback's load of the index, multiplied the models'
/// states (the hand-off models ran 7 times longer, the batch models 3 times).
/// Correctness does not rest on a hint's age, since only the claim's CAS uses
/// it; the unit tests `stale_hints_decide_nothing` and
/// `a_hint_at_a_claimed_position_loses_its_cas` run the hinted code from hints
/// of many ages, one thread at a time.
struct Hint {
    #[cfg(not(loom))]
    pos: CachePadded<AtomicUsize>,
}

impl Hint {
    /// Whether operations start from hints at all.
    const ON: bool = cfg!(not(loom));

    fn new() -> Self {
        Self {
            #[cfg(not(loom))]
            pos: CachePadded::new(AtomicUsize::new(0)),
        }
    }

    /// The position an operation on `index` starts from: the hint, or under
    /// loom `index` itself.
    #[inline(always)]
    fn start(&self, index: &AtomicUsize) -> usize {
        #[cfg(not(loom))]
        let _ = index;
        #[cfg(not(loom))]
        let start = self.pos.load(Ordering::Relaxed);
        #[cfg(loom)]
        let start = index.load(Ordering::Relaxed);
        start
    }

    /// Records where an operation left its index.
    #[inline(always)]
    fn set(&self, pos: usize) {
        #[cfg(not(loom))]
        self.pos.store(pos, Ordering::Relaxed);
        #[cfg(loom)]
        let _ = pos;
    }
}

/// Why a ring could not be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RingError {
    /// The capacity was zero.
    ZeroCapacity,
    /// The capacity does not fit the position encoding or the address space.
    TooLarge,
    /// The allocator could not provide the memory.
    AllocFailed,
}

/// A failed push; the value comes back.
#[derive(Debug)]
pub(crate) enum PushError<T> {
    Full(T),
    Disconnected(T),
}

/// A failed no-wait push ([`Ring::push_nowait`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TryPush<T> {
    Full(T),
    Disconnected(T),
    /// Another thread's claimed operation on the slot needed had not finished
    /// after a brief spin.
    Busy(T),
}

/// A failed pop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PopError {
    Empty,
    Disconnected,
}

/// A failed no-wait pop ([`Ring::pop_nowait`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TryPop {
    Empty,
    Disconnected,
    /// As [`TryPush::Busy`].
    Busy,
}

/// One cell of the ring: a stamp and room for one value. The stamp is the
/// only per-slot overhead: one `usize`.
struct Slot<T> {
    stamp: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
}

/// The sending end's cache line: `tail` and the count of evictions.
struct Back {
    tail: AtomicUsize,
    /// Values evicted so far. Written with a plain load and store, not a
    /// read-modify-write: see invariant 6.
    evicted: AtomicUsize,
}

/// The ring's indices and the pointer to its slots.
pub(crate) struct Ring<T> {
    /// Next position to pop. Written by receivers and evicting senders.
    head: CachePadded<AtomicUsize>,
    /// Next position to push, plus `mark_bit` once disconnected. Written by
    /// senders and by `disconnect`. Shares its cache line with the count of
    /// evictions, which only evicting senders write, right before they move
    /// `tail`.
    back: CachePadded<Back>,
    /// Number of slots, exactly as requested.
    cap: usize,
    /// The bit of `tail` that marks a disconnected channel.
    mark_bit: usize,
    /// One lap in position units: `2 * mark_bit`.
    one_lap: usize,
    /// The slots; see invariant 1.
    slots: NonNull<Slot<T>>,
    /// Where threads wait out another thread's claimed operation (zero-sized
    /// outside loom).
    in_flight: InFlight,
    /// Where the last push left `tail`: the next push's first guess
    /// (invariant 10).
    push_hint: Hint,
    /// Where the last pop left `head`, as `push_hint`.
    pop_hint: Hint,
    _owns: PhantomData<T>,
}

impl<T> Ring<T> {
    /// Capacity as requested.
    #[inline]
    pub(crate) fn capacity(&self) -> usize {
        self.cap
    }

    #[inline]
    fn slot(&self, index: usize) -> &Slot<T> {
        debug_assert!(index < self.cap, "slot index {index} out of {}", self.cap);
        // SAFETY: invariant 1, and `index < cap` because every index comes
        // from a position masked below `mark_bit` and positions never carry an
        // index at or above `cap`.
        unsafe { &*self.slots.as_ptr().add(index) }
    }

    /// The position after `pos`: the next index, or index 0 of the next lap.
    #[inline]
    fn next(&self, pos: usize) -> usize {
        let index = pos & (self.mark_bit - 1);
        if index + 1 < self.cap {
            pos + 1
        } else {
            (pos & !(self.one_lap - 1)).wrapping_add(self.one_lap)
        }
    }

    /// Pushes `value` if there is room. Never fails spuriously: `Full` means
    /// that at one instant during the call every slot held a value.
    #[inline]
    pub(crate) fn push(&self, value: T) -> Result<(), PushError<T>> {
        self.push_or_else::<_, _, true, false>(
            value,
            |value, _, _, _, _| Err(PushError::Full(value)),
            |_, value| ((), Err(value)),
        )
    }

    /// As `push` (with `CONFIRM_FULL`) or `push_or_wait` (without); once the
    /// push is claimed, `land` gets the value and may hand it straight to a
    /// waiting receiver through [`Landing::land`], returning the proof, or
    /// return the value for the push to write. Returns what `land` returned
    /// first.
    #[inline]
    pub(crate) fn push_landing<L, const CONFIRM_FULL: bool>(
        &self,
        value: T,
        land: impl FnOnce(Landing<'_, T>, T) -> (L, Result<Landed<'_>, T>),
    ) -> Result<L, PushError<T>> {
        self.push_or_else::<_, _, CONFIRM_FULL, false>(
            value,
            |value, _, _, _, _| Err(PushError::Full(value)),
            land,
        )
    }

    /// As `push`, for a caller that must not wait (a `poll`): where `push`
    /// waits for another thread's claimed operation on the slot it needs,
    /// this spins briefly and then returns `Busy` with the value. It never
    /// yields or parks (outside loom, where it yields once before giving up
    /// so that the model can run the thread it waits for).
    #[inline]
    pub(crate) fn push_nowait(&self, value: T) -> Result<(), TryPush<T>> {
        self.push_or_else::<_, _, true, true>(
            value,
            |value, _, _, _, _| Err(TryPush::Full(value)),
            |_, value| ((), Err(value)),
        )
    }

    /// Pushes `value` if the slot at `tail` is free, for a sender that waits
    /// when it is not. Unlike `push`, it does not tell a full ring from one
    /// whose oldest value a receiver is taking out right now: both return
    /// `Full`, and in both the slot's stamp changes when the sender can go
    /// on. Skipping that check spares the receivers' `head` line, which a
    /// sender on a full ring would otherwise read on every attempt.
    #[cfg(test)]
    #[inline]
    pub(crate) fn push_or_wait(&self, value: T) -> Result<(), PushError<T>> {
        self.push_or_else::<_, _, false, false>(
            value,
            |value, _, _, _, _| Err(PushError::Full(value)),
            |_, value| ((), Err(value)),
        )
    }

    /// Pushes `value`; if the ring is full, evicts the oldest value to make
    /// room and returns it. Fails only when the channel is disconnected.
    #[inline]
    pub(crate) fn force_push(&self, value: T) -> Result<Option<T>, T> {
        // Without `CONFIRM_FULL`: the `head` CAS below decides whether the
        // ring is full, so the fence and `head` load that would confirm it
        // first are left out.
        let result = self.push_or_else::<_, _, false, false>(
            value,
            |value, tail, new_tail, slot, backoff| {
                let head = tail.wrapping_sub(self.one_lap);
                let new_head = new_tail.wrapping_sub(self.one_lap);
                // Claim the oldest value exactly as a receiver would; whoever
                // wins this CAS owns the slot (invariant 3). It succeeds only
                // while `head` is one lap behind our `tail`, unflagged: the
                // ring is full at that instant (`head` still at that position
                // means nobody has claimed it, and no push can claim `tail`
                // before the pop of that position frees the slot, so `tail`
                // has not moved). The flag
                // keeps `len` at `cap` and `head` ours until it is cleared
                // (invariants 4, 7).
                if let Err(current) = self.head.compare_exchange_weak(
                    head,
                    new_head | self.mark_bit,
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    if current != head {
                        // A receiver took the oldest value first and is
                        // reading it out of this slot, or another eviction
                        // holds the flag: wait for it, as a push waits for a
                        // claimed slot, rather than evict a value that is not
                        // the oldest. Then retry from a fresh `tail`.
                        let stamp = tail.wrapping_add(1).wrapping_sub(self.one_lap);
                        self.in_flight.wait(backoff, || {
                            slot.stamp.load(Ordering::Relaxed) == stamp
                                && self.back.tail.load(Ordering::Relaxed) == tail
                                && self.head.load(Ordering::Relaxed) == current
                        });
                    }
                    return Ok(value);
                }
                // Count the eviction while no other eviction can run (invariant
                // 6); Release, for `snapshot` (invariant 7). Then move `tail` on:
                // nothing but a disconnect can have changed it (invariant 4), and
                // adding the distance keeps its mark.
                let evicted = self.back.evicted.load(Ordering::Relaxed);
                self.back
                    .evicted
                    .store(evicted.wrapping_add(1), Ordering::Release);
                self.back
                    .tail
                    .fetch_add(new_tail.wrapping_sub(tail), Ordering::SeqCst);
                // Clear the flag: the indices alone now show a full ring, and
                // `head` is free again for receivers, who may take the next value
                // while we swap ours in (a different slot unless `cap == 1`,
                // where its stamp keeps them waiting). Release publishes the
                // count to the next evictor and to `snapshot` (invariants 6, 7).
                self.head.store(new_head, Ordering::Release);
                self.push_hint.set(new_tail);
                // SAFETY: we own the slot (invariant 3) and it holds the value
                // pushed at `head` (invariant 2: its stamp was `head + 1`).
                let old = slot.value.with_mut(|p| unsafe {
                    ptr::replace(p, MaybeUninit::new(value)).assume_init()
                });
                // Publish our value as the one pushed at `tail`; pairs with the
                // Acquire stamp load of the receiver that pops it.
                slot.stamp.store(tail.wrapping_add(1), Ordering::Release);
                self.in_flight.finished();
                Err(Ok(Some(old)))
            },
            |_, value| ((), Err(value)),
        );
        match result {
            Ok(()) => Ok(None),
            Err(evicted_or_disconnected) => evicted_or_disconnected,
        }
    }

    /// The push loop. `on_full` runs when the ring was confirmed full at
    /// `tail` (with `CONFIRM_FULL`), or as soon as the slot at `tail` still
    /// holds last lap's value (without); it returns `Ok(value)` to retry or
    /// `Err(e)` to return `e`. With `NOWAIT`, waiting for another thread's
    /// claimed operation gives up after `NOWAIT_SPINS` sightings.
    ///
    /// Once the push is claimed, `land` may give the value straight to a
    /// waiting receiver through [`Landing::land`] (invariant 9), or return
    /// it to be written; what it returns first is returned. The value and
    /// the landing travel by value, so that a push nobody waits for keeps
    /// its value in registers.
    #[inline(always)]
    fn push_or_else<L, E: PushStop<T>, const CONFIRM_FULL: bool, const NOWAIT: bool>(
        &self,
        mut value: T,
        mut on_full: impl FnMut(T, usize, usize, &Slot<T>, &Backoff) -> Result<T, E>,
        land: impl FnOnce(Landing<'_, T>, T) -> (L, Result<Landed<'_>, T>),
    ) -> Result<L, E> {
        let backoff = Backoff::new();
        let mut busy = 0u32;
        // The first attempt starts from the hint; until a CAS or a load of
        // `tail` confirms it (or a load replaces it), nothing but a claim is
        // decided from it (invariant 10).
        let mut tail = self.push_hint.start(&self.back.tail);
        let mut guess = Hint::ON;
        loop {
            if tail & self.mark_bit != 0 {
                return Err(E::disconnected(value));
            }
            let index = tail & (self.mark_bit - 1);
            let new_tail = self.next(tail);
            let slot = self.slot(index);
            // Pairs with the Release stamp store of the pop that freed this
            // slot: its read of the old value happens before our write.
            let stamp = slot.stamp.load(Ordering::Acquire);
            if tail != stamp && core::mem::replace(&mut guess, false) {
                // The hint's slot does not invite a push: decide from `tail`.
                // If `tail` still holds the hint, go on with the stamp just
                // loaded rather than load it again (invariant 10).
                let fresh = self.back.tail.load(Ordering::Relaxed);
                if fresh != tail {
                    tail = fresh;
                    continue;
                }
            }

            if tail == stamp {
                // The slot is empty for this lap: claim it.
                match self.back.tail.compare_exchange_weak(
                    tail,
                    new_tail,
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        let landing = Landing {
                            ring: self,
                            pos: tail,
                            new_pos: new_tail,
                            _brand: PhantomData,
                        };
                        let (landed, outcome) = land(landing, value);
                        let stamp = match outcome {
                            Err(value) => {
                                // SAFETY: the CAS gave us the slot (invariant
                                // 3) and its stamp says it is empty
                                // (invariant 2).
                                slot.value
                                    .with_mut(|p| unsafe { p.write(MaybeUninit::new(value)) });
                                tail.wrapping_add(1)
                            }
                            // Landed: pushed and popped at once, so the slot
                            // is free for the next lap (invariant 9). Only
                            // `Landing::land` makes the proof.
                            Ok(Landed { .. }) => tail.wrapping_add(self.one_lap),
                        };
                        // Publish; pairs with the Acquire stamp load of the
                        // receiver that pops the value, or of the next push.
                        slot.stamp.store(stamp, Ordering::Release);
                        self.in_flight.finished();
                        self.push_hint.set(new_tail);
                        return Ok(landed);
                    }
                    Err(current) => {
                        tail = current;
                        // A stale hint is not contention: retry at once.
                        if !core::mem::replace(&mut guess, false) {
                            backoff.spin();
                        }
                    }
                }
            } else if stamp.wrapping_add(self.one_lap) == tail.wrapping_add(1) {
                // The slot still holds last lap's value. The ring is full only
                // if no receiver has claimed it yet: confirm against `head`.
                // The fence orders our stamp load before the `head` load, so a
                // `head` older than the stamp we saw cannot make us report a
                // full ring that a receiver already emptied. Without
                // `CONFIRM_FULL` the caller waits on the slot either way.
                // A `head` with the eviction flag is never full here: the
                // eviction under way finishes first.
                let head = if CONFIRM_FULL {
                    fence(Ordering::SeqCst);
                    self.head.load(Ordering::Relaxed)
                } else {
                    tail.wrapping_sub(self.one_lap)
                };
                if head.wrapping_add(self.one_lap) == tail {
                    value = on_full(value, tail, new_tail, slot, &backoff)?;
                    backoff.spin();
                } else if NOWAIT {
                    if give_up(&mut busy) {
                        return Err(E::busy(value));
                    }
                } else {
                    // A receiver is reading this slot out, or an evictor has
                    // yet to clear its flag: wait for it rather than report a
                    // spurious `Full`.
                    self.in_flight.wait(&backoff, || {
                        slot.stamp.load(Ordering::Relaxed) == stamp
                            && self.back.tail.load(Ordering::Relaxed) == tail
                            && self.head.load(Ordering::Relaxed) == head
                    });
                }
                tail = self.back.tail.load(Ordering::Relaxed);
            } else {
                // Another sender claimed this position and has not published
                // yet, or our `tail` is stale: wait and reload.
                if self.wait_in_flight_or_give_up::<NOWAIT>(
                    &backoff,
                    &mut busy,
                    slot,
                    stamp,
                    &self.back.tail,
                    tail,
                ) {
                    return Err(E::busy(value));
                }
                tail = self.back.tail.load(Ordering::Relaxed);
            }
        }
    }

    /// Pops the oldest value. Never fails spuriously: `Empty` means that at
    /// one instant during the call no slot held a value and no push had
    /// claimed one.
    #[inline]
    pub(crate) fn pop(&self) -> Result<T, PopError> {
        self.pop_with::<_, _, _, false>(
            |slot| {
                // SAFETY: `pop_with` runs this between its claim and the
                // slot's release (invariant 3), with the slot full
                // (invariant 2).
                slot.value.with(|p| unsafe { ptr::read(p).assume_init() })
            },
            |_| ((), None),
        )
        .map(|(value, ())| value)
    }

    /// As `pop`, and before the slot is freed, `refill` may push a value
    /// into it through [`Refill::fill`]: the push at the slot's next
    /// position, made without letting the slot go (see invariant 8), and
    /// return the proof that it did. Returns the value popped and what
    /// `refill` returned first.
    #[inline]
    pub(crate) fn pop_refilling<R>(
        &self,
        refill: impl FnOnce(Refill<'_, T>) -> (R, Option<Filled<'_>>),
    ) -> Result<(T, R), PopError> {
        self.pop_with::<_, _, _, false>(
            |slot| {
                // SAFETY: as in `pop`.
                slot.value.with(|p| unsafe { ptr::read(p).assume_init() })
            },
            refill,
        )
    }

    /// As `pop`, for a caller that must not wait; gives up with `Busy` as
    /// [`push_nowait`](Self::push_nowait) does.
    #[inline]
    pub(crate) fn pop_nowait(&self) -> Result<T, TryPop> {
        self.pop_with::<_, _, _, true>(
            |slot| {
                // SAFETY: as in `pop`.
                slot.value.with(|p| unsafe { ptr::read(p).assume_init() })
            },
            |_| ((), None),
        )
        .map(|(value, ())| value)
    }

    /// Pops the oldest value and drops it where it lies, for a drain: a value
    /// never passes through the stack, however large. `claimed` runs once
    /// the value is claimed, before its destructor; a panic in the destructor
    /// is caught into `panics`, and the slot is freed either way.
    pub(crate) fn pop_and_drop(
        &self,
        claimed: impl FnOnce(),
        panics: &mut FirstPanic,
    ) -> Result<(), PopError> {
        self.pop_with::<_, _, _, false>(
            |slot| {
                claimed();
                if core::mem::needs_drop::<T>() {
                    panics.catch(|| {
                        // SAFETY: as in `pop`, the slot is ours and full;
                        // the value is dropped once here and never read
                        // again, since the slot is freed for the next lap
                        // right after.
                        slot.value
                            .with_mut(|p| unsafe { ptr::drop_in_place((*p).as_mut_ptr()) });
                    });
                }
            },
            |_| ((), None),
        )
        .map(|((), ())| ())
    }

    /// The pop loop. `take` runs once a slot is claimed and full, then
    /// `refill` with the slot emptied, before the slot is freed (or, if
    /// `refill` returns the proof that it filled it, published full for its
    /// next lap); neither may panic.
    #[inline(always)]
    fn pop_with<R, F, E: PopStop, const NOWAIT: bool>(
        &self,
        take: impl FnOnce(&Slot<T>) -> R,
        refill: impl FnOnce(Refill<'_, T>) -> (F, Option<Filled<'_>>),
    ) -> Result<(R, F), E> {
        let backoff = Backoff::new();
        let mut busy = 0u32;
        // Consecutive sightings of an eviction's flag (see below).
        let mut flagged = 0u32;
        // As in `push_or_else`: the hint only ever feeds a claim (invariant
        // 10).
        let mut head = self.pop_hint.start(&self.head);
        let mut guess = Hint::ON;
        loop {
            let index = head & (self.mark_bit - 1);
            let slot = self.slot(index);
            // Pairs with the Release stamp store that published the value.
            let stamp = slot.stamp.load(Ordering::Acquire);
            if head.wrapping_add(1) != stamp && core::mem::replace(&mut guess, false) {
                // As in `push_or_else`: decide from `head`, with this stamp
                // if `head` still holds the hint.
                let fresh = self.head.load(Ordering::Relaxed);
                if fresh != head {
                    head = fresh;
                    continue;
                }
            }

            if head.wrapping_add(1) == stamp {
                let new_head = self.next(head);
                match self.head.compare_exchange_weak(
                    head,
                    new_head,
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // The CAS gave us the slot (invariant 3) and its stamp
                        // says it is full (invariant 2).
                        let value = take(slot);
                        let next_lap = head.wrapping_add(self.one_lap);
                        let offer = Refill {
                            ring: self,
                            slot,
                            pos: next_lap,
                            _brand: PhantomData,
                        };
                        let (refilled, filled) = refill(offer);
                        // Free the slot for the next lap, or publish the
                        // value `refill` pushed at that lap (invariant 8;
                        // only `Refill::fill` makes the proof); pairs with
                        // the Acquire stamp load of the next push or pop
                        // here.
                        let stamp = if filled.is_some() {
                            next_lap.wrapping_add(1)
                        } else {
                            next_lap
                        };
                        slot.stamp.store(stamp, Ordering::Release);
                        self.in_flight.finished();
                        self.pop_hint.set(new_head);
                        return Ok((value, refilled));
                    }
                    Err(current) => {
                        // Lost to another receiver or an evicting sender (or
                        // the hint was stale). Retry at once with the fresh
                        // head: backing off here would let a stream of
                        // evictions starve receivers.
                        head = current;
                        guess = false;
                        yield_if_loom();
                    }
                }
            } else if stamp == head {
                // The slot is empty for this lap. Confirm against `tail`; the
                // fence orders the stamp load before the `tail` load.
                fence(Ordering::SeqCst);
                let tail = self.back.tail.load(Ordering::Relaxed);
                if tail & !self.mark_bit == head {
                    return Err(if tail & self.mark_bit != 0 {
                        E::disconnected()
                    } else {
                        E::empty()
                    });
                }
                // A sender has claimed this slot and not published yet: wait
                // for it rather than report a spurious `Empty`.
                if self.wait_in_flight_or_give_up::<NOWAIT>(
                    &backoff, &mut busy, slot, stamp, &self.head, head,
                ) {
                    return Err(E::busy());
                }
                head = self.head.load(Ordering::Relaxed);
            } else if head & self.mark_bit != 0 && flagged < FLAGGED_SPINS {
                // An eviction is a few instructions from clearing its flag.
                // Watch `head` without backing off, as after a lost CAS: a
                // receiver whose backoff grew while evictions stream in would
                // keep missing the gap between them and starve. Past the
                // bound the evictor is likely preempted: back off as below.
                flagged += 1;
                #[cfg(not(loom))]
                core::hint::spin_loop();
                #[cfg(loom)]
                if NOWAIT {
                    if give_up(&mut busy) {
                        return Err(E::busy());
                    }
                } else {
                    self.in_flight
                        .wait(&backoff, || self.head.load(Ordering::Relaxed) == head);
                }
                head = self.head.load(Ordering::Relaxed);
            } else {
                // Our `head` is stale, or last lap's receiver here has not
                // freed the slot yet: wait and reload.
                if self.wait_in_flight_or_give_up::<NOWAIT>(
                    &backoff, &mut busy, slot, stamp, &self.head, head,
                ) {
                    return Err(E::busy());
                }
                head = self.head.load(Ordering::Relaxed);
            }
        }
    }

    // ----- runs ----------------------------------------------------------------

    /// Pushes a run of values from the front of `values`, oldest first, with
    /// one CAS on `tail`, and returns how many it pushed: up to
    /// `values.len()` and the room there is.
    ///
    /// Returns 0 when the ring is full (or looks full: an eviction under
    /// way, or, with `NOWAIT`, another thread's operation in flight on the
    /// slot at `tail`) or the channel is disconnected; a single push tells
    /// those apart.
    ///
    /// Waiting (`NOWAIT == false`), the run is as long as the room that
    /// `head` shows: every position below `head + cap` has had last lap's
    /// value claimed (a receiver's or an evictor's CAS moved `head` past it),
    /// so once our CAS gives us the run, each slot is ours as soon as that
    /// claim's stamp store frees it, which we wait for slot by slot, as a
    /// single push waits for a claimed pop. `head` may be stale; it only
    /// grows, so the room it shows is never more than there is. Without
    /// waiting (`NOWAIT`, for a poll), the run is the slots in a row from
    /// `tail` already free, checked stamp by stamp before the CAS: a free
    /// slot at or after `tail` stays free until `tail` moves past it, which
    /// fails our CAS.
    pub(crate) fn push_run<const NOWAIT: bool>(&self, values: &mut VecDeque<T>) -> usize {
        let want = values.len().min(self.cap);
        if want == 0 {
            return 0;
        }
        let backoff = Backoff::new();
        let mut tail = self.back.tail.load(Ordering::Relaxed);
        loop {
            if tail & self.mark_bit != 0 {
                return 0;
            }
            let (end, run) = if NOWAIT {
                self.run_from(tail, want, 0)
            } else {
                let head = self.head.load(Ordering::Relaxed);
                if head & self.mark_bit != 0 {
                    // An eviction is under way: the ring is full.
                    return 0;
                }
                let Some(len) = self.values_between(head, tail) else {
                    // Our `tail` is older than the `head` we read: the CAS
                    // would fail. Read it again.
                    tail = self.back.tail.load(Ordering::Relaxed);
                    backoff.spin();
                    continue;
                };
                // A stale `head` shows more values than there are, so less
                // room: never a claim of a slot whose value is still there.
                let run = want.min(self.cap.saturating_sub(len));
                (self.advance(tail, run), run)
            };
            if run == 0 {
                return 0;
            }
            match self.back.tail.compare_exchange_weak(
                tail,
                end,
                Ordering::SeqCst,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    // The values, oldest first: the deque's front run, in
                    // at most two slices.
                    let (front, back) = values.as_slices();
                    let mut src = front.iter().chain(back);
                    self.for_each_slot(tail, run, |slot, pos| {
                        if !NOWAIT && slot.stamp.load(Ordering::Acquire) != pos {
                            self.wait_for_stamp(slot, pos, &backoff);
                        }
                        // There are `run` values: the run is no longer than
                        // `values`, and nothing here can panic.
                        if let Some(value) = src.next() {
                            // SAFETY: the CAS gave us every slot of the run
                            // (invariant 3), and this one is empty
                            // (invariant 2: its stamp is its position, read
                            // with Acquire before the CAS or just above, so
                            // the pop that freed it is done with it). The
                            // value is copied out of the deque, which gives
                            // it up right below without dropping it.
                            slot.value.with_mut(|p| unsafe {
                                p.write(MaybeUninit::new(ptr::read(value)));
                            });
                        }
                        // Publish, in order; pairs with the receiver's
                        // Acquire stamp load.
                        slot.stamp.store(pos.wrapping_add(1), Ordering::Release);
                        self.in_flight.finished();
                    });
                    // The ring owns those values now: take them off the
                    // deque without dropping them (each was copied out
                    // above, and `forget` ends this copy).
                    values.drain(..run).for_each(core::mem::forget);
                    return run;
                }
                Err(current) => {
                    tail = current;
                    backoff.spin();
                }
            }
        }
    }

    /// Pops a run of values with one CAS on `head`, appending them to `out`
    /// oldest first, and returns how many it popped: up to `max` and the
    /// values there are.
    ///
    /// Returns 0 when the ring is empty (or, with `NOWAIT`, the slot at
    /// `head` is still being written) or an eviction is under way; a single
    /// pop tells those apart and waits. As for [`push_run`](Self::push_run):
    /// waiting, the run is as long as `tail` shows, every position below it
    /// claimed by a push, and each slot is read once that push's stamp
    /// store publishes it; without waiting, it is the slots in a row from
    /// `head` already published, checked before the CAS.
    pub(crate) fn pop_run<const NOWAIT: bool>(&self, out: &mut Vec<T>, max: usize) -> usize {
        let want = max.min(self.cap);
        if want == 0 {
            return 0;
        }
        let backoff = Backoff::new();
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            if head & self.mark_bit != 0 {
                return 0;
            }
            let (end, run) = if NOWAIT {
                self.run_from(head, want, 1)
            } else {
                let tail = self.back.tail.load(Ordering::Relaxed) & !self.mark_bit;
                let Some(len) = self.values_between(head, tail) else {
                    // The `tail` read is older than our `head`: read it
                    // again.
                    yield_if_loom();
                    continue;
                };
                // A stale `tail` shows fewer values than there are: never a
                // claim of a position no push has claimed. (A stale `head`
                // fails the CAS.)
                let run = want.min(len);
                (self.advance(head, run), run)
            };
            if run == 0 {
                return 0;
            }
            // Before the claim: growing `out` may allocate, and a panic there
            // must not leave claimed slots behind. Room for this run only,
            // not for `max`: a caller may ask for everything.
            out.reserve(run);
            match self
                .head
                .compare_exchange_weak(head, end, Ordering::SeqCst, Ordering::Relaxed)
            {
                Ok(_) => {
                    let one_lap = self.one_lap;
                    let len = out.len();
                    let dst = out.spare_capacity_mut().as_mut_ptr();
                    let mut taken = 0;
                    self.for_each_slot(head, run, |slot, pos| {
                        let full = pos.wrapping_add(1);
                        if !NOWAIT && slot.stamp.load(Ordering::Acquire) != full {
                            self.wait_for_stamp(slot, full, &backoff);
                        }
                        // SAFETY: the CAS gave us every slot of the run
                        // (invariant 3), and this one is full (invariant 2:
                        // its stamp is its position + 1, read with Acquire
                        // before the CAS or just above); read once, then
                        // freed. `dst + taken` is inside the spare capacity
                        // reserved above: `taken < run`.
                        slot.value.with(|p| unsafe {
                            dst.add(taken).write(ptr::read(p));
                        });
                        taken += 1;
                        // Free the slot for the next lap; pairs with the
                        // Acquire stamp load of the next push here.
                        slot.stamp
                            .store(pos.wrapping_add(one_lap), Ordering::Release);
                        self.in_flight.finished();
                    });
                    debug_assert_eq!(taken, run);
                    // SAFETY: the first `run` places of the spare capacity
                    // were just written, one value each.
                    unsafe { out.set_len(len + run) };
                    return run;
                }
                Err(current) => {
                    // As in `pop_with`: retry at once with the fresh head.
                    head = current;
                    yield_if_loom();
                }
            }
        }
    }

    /// Calls `f` with each slot of the `len` positions from `start`, and its
    /// position, in order: at most two stretches of consecutive indices, the
    /// second from index 0 of the next lap.
    #[inline(always)]
    fn for_each_slot(&self, start: usize, len: usize, mut f: impl FnMut(&Slot<T>, usize)) {
        let slots = self.slots.as_ptr();
        let index = start & (self.mark_bit - 1);
        let lap = start - index;
        let first = len.min(self.cap - index);
        let next_lap = lap.wrapping_add(self.one_lap);
        for i in index..index + first {
            // SAFETY: invariant 1; `i < index + (cap - index) = cap`.
            f(unsafe { &*slots.add(i) }, lap.wrapping_add(i));
        }
        for i in 0..len - first {
            // SAFETY: invariant 1; `i < len - first <= cap`, since `len`
            // is at most `cap`.
            f(unsafe { &*slots.add(i) }, next_lap.wrapping_add(i));
        }
    }

    /// Waits until `slot`'s stamp reads `stamp`: for a run's claimed slot
    /// whose previous claim has not stored its stamp yet. Acquire, as the
    /// check before it.
    #[cold]
    #[inline(never)]
    fn wait_for_stamp(&self, slot: &Slot<T>, stamp: usize, backoff: &Backoff) {
        while slot.stamp.load(Ordering::Acquire) != stamp {
            self.in_flight
                .wait(backoff, || slot.stamp.load(Ordering::Relaxed) != stamp);
        }
    }

    /// The position `count` after `pos` (at most `cap`).
    #[inline]
    fn advance(&self, pos: usize, count: usize) -> usize {
        let index = pos & (self.mark_bit - 1);
        if index + count < self.cap {
            pos + count
        } else {
            (pos - index)
                .wrapping_add(self.one_lap)
                .wrapping_add(index + count - self.cap)
        }
    }

    /// How many values lie from `head` to `tail` (neither marked), counting
    /// laps, so readings of the two indices at different times can never
    /// pass for a ring that holds fewer or more than they say: a `head` read
    /// earlier than `tail` gives at least the values there are at the later
    /// reading (possibly more than `cap`), a `tail` read earlier gives at
    /// most. `None` when `tail` reads before `head`, which only a `tail`
    /// older than `head` can do.
    #[inline]
    fn values_between(&self, head: usize, tail: usize) -> Option<usize> {
        let count = |pos: usize| {
            let laps = pos >> self.one_lap.trailing_zeros();
            laps.wrapping_mul(self.cap)
                .wrapping_add(pos & (self.mark_bit - 1))
        };
        let len = count(tail).wrapping_sub(count(head));
        // Positions count up to `usize::MAX / one_lap` laps before they
        // wrap, far more than any run of the ring ever gets, so a "negative"
        // difference is a reversed pair, not a wrap.
        (len as isize >= 0).then_some(len)
    }

    /// The slots in a row from `start`, at most `want`, whose stamps read
    /// their position plus `offset` (0: free for a push, 1: full for a pop).
    /// Returns the position after the run and its length. Each Acquire load
    /// pairs with the Release stamp store that made the slot so.
    #[inline]
    fn run_from(&self, start: usize, want: usize, offset: usize) -> (usize, usize) {
        let mut run = 0;
        let mut pos = start;
        while run < want
            && self
                .slot(pos & (self.mark_bit - 1))
                .stamp
                .load(Ordering::Acquire)
                == pos.wrapping_add(offset)
        {
            pos = self.next(pos);
            run += 1;
        }
        (pos, run)
    }

    /// As [`wait_in_flight`](Self::wait_in_flight) for a waiting caller;
    /// a no-wait caller (`NOWAIT`) takes one [`give_up`] step instead.
    /// Returns `true` when the no-wait caller should give up.
    #[inline(always)]
    fn wait_in_flight_or_give_up<const NOWAIT: bool>(
        &self,
        backoff: &Backoff,
        busy: &mut u32,
        slot: &Slot<T>,
        stamp: usize,
        index: &AtomicUsize,
        pos: usize,
    ) -> bool {
        if NOWAIT {
            give_up(busy)
        } else {
            self.wait_in_flight(backoff, slot, stamp, index, pos);
            false
        }
    }

    /// Waits for another thread's claimed operation to finish: while `slot`
    /// still shows `stamp` and `index` still reads `pos`, nothing this thread
    /// can do will succeed. Every claim ends with a stamp store, which ends the
    /// wait.
    #[inline(always)]
    fn wait_in_flight(
        &self,
        backoff: &Backoff,
        slot: &Slot<T>,
        stamp: usize,
        index: &AtomicUsize,
        pos: usize,
    ) {
        self.in_flight.wait(backoff, || {
            slot.stamp.load(Ordering::Relaxed) == stamp && index.load(Ordering::Relaxed) == pos
        });
    }

    /// A hint for a sender waiting on a full ring: `false` while the slot at
    /// `tail` still holds last lap's value, so a push would find the ring
    /// full again. Reads `tail` and that slot's stamp, never `head`, so a
    /// waiting sender does not pull the receivers' index out of their cache.
    /// Only a hint: the push that follows decides.
    #[inline]
    pub(crate) fn push_may_succeed(&self) -> bool {
        let tail = self.back.tail.load(Ordering::Relaxed);
        let stamp = self
            .slot(tail & (self.mark_bit - 1))
            .stamp
            .load(Ordering::Relaxed);
        stamp.wrapping_add(self.one_lap) != tail.wrapping_add(1)
    }

    /// A hint for a receiver waiting on an empty ring: `false` while the slot
    /// at `head` is still empty for this lap. Reads `head` and that slot's
    /// stamp, never `tail`, for the same reason as `push_may_succeed`. A
    /// disconnect does not show here; waiters retry in full once they stop
    /// spinning.
    #[inline]
    pub(crate) fn pop_may_succeed(&self) -> bool {
        let head = self.head.load(Ordering::Relaxed);
        let stamp = self
            .slot(head & (self.mark_bit - 1))
            .stamp
            .load(Ordering::Relaxed);
        stamp != head
    }

    /// Marks the ring disconnected. Returns `true` if this call set the mark.
    pub(crate) fn disconnect(&self) -> bool {
        self.back.tail.fetch_or(self.mark_bit, Ordering::SeqCst) & self.mark_bit == 0
    }

    /// Whether the ring has been marked disconnected.
    #[inline]
    pub(crate) fn is_disconnected(&self) -> bool {
        self.back.tail.load(Ordering::SeqCst) & self.mark_bit != 0
    }

    /// For a sleeping sender's re-check: full and still connected.
    pub(crate) fn is_full_and_connected(&self) -> bool {
        let tail = self.back.tail.load(Ordering::SeqCst);
        let head = self.head.load(Ordering::SeqCst);
        tail & self.mark_bit == 0 && head.wrapping_add(self.one_lap) == tail
    }

    /// For a sleeping receiver's re-check: empty and still connected.
    pub(crate) fn is_empty_and_connected(&self) -> bool {
        let tail = self.back.tail.load(Ordering::SeqCst);
        let head = self.head.load(Ordering::SeqCst);
        tail & self.mark_bit == 0 && head == tail
    }

    /// A consistent `(head, tail)` pair: `tail` read twice around `head`
    /// with no change, so both held at one instant. `tail` comes without its
    /// disconnect mark, `head` with its eviction flag if it had one.
    fn positions(&self) -> (usize, usize) {
        loop {
            let tail = self.back.tail.load(Ordering::SeqCst);
            let head = self.head.load(Ordering::SeqCst);
            if self.back.tail.load(Ordering::SeqCst) == tail {
                return (head, tail & !self.mark_bit);
            }
            yield_if_loom();
        }
    }

    /// Number of values in the ring (claimed pushes included), in `0..=cap`:
    /// `cap` while an eviction runs (invariant 7).
    pub(crate) fn len(&self) -> usize {
        let (head, tail) = self.positions();
        if head & self.mark_bit != 0 {
            return self.cap;
        }
        let head_index = head & (self.mark_bit - 1);
        let tail_index = tail & (self.mark_bit - 1);
        let len = if head_index < tail_index {
            tail_index - head_index
        } else if head_index > tail_index {
            self.cap - head_index + tail_index
        } else if tail == head {
            0
        } else {
            self.cap
        };
        debug_assert!(len <= self.cap);
        len
    }

    /// The counts of pushes, pops (evictions included) and evictions at one
    /// instant, with `read`'s counters at the same instant (invariant 7).
    /// `read` must read counters that only grow, each bumped with Release
    /// right after a claim on `head` that it counts.
    ///
    /// Retries while another thread changes the eviction count or `read`'s
    /// counters between the reads, and while an eviction is under way;
    /// evictions are a few instructions long, so this waits at most for a
    /// preempted evictor to run again, as any operation that meets a claimed
    /// slot does.
    pub(crate) fn snapshot<R: PartialEq>(&self, read: impl Fn() -> R) -> Snapshot<R> {
        let backoff = Backoff::new();
        loop {
            let evicted = self.back.evicted.load(Ordering::Acquire);
            let counters = read();
            let (head, tail) = self.positions();
            if head & self.mark_bit == 0
                && read() == counters
                && self.back.evicted.load(Ordering::Acquire) == evicted
            {
                return Snapshot {
                    pushed: self.position_count(tail),
                    popped: self.position_count(head),
                    evicted: evicted as u64,
                    counters,
                };
            }
            backoff.snooze();
        }
    }

    fn position_count(&self, pos: usize) -> u64 {
        let laps = (pos / self.one_lap) as u64;
        let index = (pos & (self.mark_bit - 1)) as u64;
        laps.wrapping_mul(self.cap as u64).wrapping_add(index)
    }

    /// Drops every value still queued, each once, catching their panics into
    /// `panics`. Needs exclusive access (`&mut`).
    fn drop_values(&mut self, panics: &mut FirstPanic) {
        if !core::mem::needs_drop::<T>() {
            return;
        }
        // Exclusive access: plain reads of the indices are current, and no
        // eviction is under way, so `head` carries no flag.
        let mut pos = self.head.load(Ordering::Relaxed);
        let tail = self.back.tail.load(Ordering::Relaxed) & !self.mark_bit;
        debug_assert_eq!(pos & self.mark_bit, 0, "an eviction outlived its sender");
        while pos != tail {
            let slot = self.slot(pos & (self.mark_bit - 1));
            pos = self.next(pos);
            panics.catch(|| {
                // SAFETY: exclusive access and invariant 5: the slot between
                // head and tail is full; `pos` already moved past it, so it
                // is dropped once, whether or not its destructor panics.
                slot.value
                    .with_mut(|p| unsafe { ptr::drop_in_place((*p).as_mut_ptr()) });
            });
        }
    }
}

/// The reference count, for tests that take it to its limit.
#[cfg(test)]
impl<H, T> Shared<H, T> {
    pub(crate) fn refs_for_test(&self) -> &AtomicUsize {
        &self.inner().refs
    }
}

/// Test hooks that stop a receiver between its claim and its release, which
/// no black-box test can arrange.
#[cfg(test)]
impl<T> Ring<T> {
    /// Claims and reads the oldest value as `pop` does, but leaves its slot
    /// unfreed; returns the value and the position to pass to `finish_pop`.
    /// Panics if the ring holds no value.
    pub(crate) fn start_pop(&self) -> (T, usize) {
        let head = self.head.load(Ordering::SeqCst);
        let slot = self.slot(head & (self.mark_bit - 1));
        assert_eq!(slot.stamp.load(Ordering::Acquire), head.wrapping_add(1));
        self.head
            .compare_exchange(head, self.next(head), Ordering::SeqCst, Ordering::SeqCst)
            .expect("start_pop runs alone");
        // SAFETY: the CAS gave us the slot (invariant 3) and its stamp says
        // it is full (invariant 2).
        let value = slot.value.with(|p| unsafe { ptr::read(p).assume_init() });
        (value, head)
    }

    /// Frees the slot of a `start_pop` at `head`, as `pop` does.
    pub(crate) fn finish_pop(&self, head: usize) {
        let slot = self.slot(head & (self.mark_bit - 1));
        slot.stamp
            .store(head.wrapping_add(self.one_lap), Ordering::Release);
        self.in_flight.finished();
    }
}

/// How many times in a row a receiver re-reads a `head` that carries the
/// eviction flag with a bare spin hint before it backs off.
const FLAGGED_SPINS: u32 = 256;

/// Keeps a lifetime invariant, so that a proof made for one [`Refill`] or
/// [`Landing`] cannot pass for another's.
type Brand<'a> = PhantomData<fn(&'a ()) -> &'a ()>;

/// The slot a pop has claimed and read out, offered for the push at the
/// slot's next position before it is freed ([`Ring::pop_refilling`]).
pub(crate) struct Refill<'a, T> {
    ring: &'a Ring<T>,
    slot: &'a Slot<T>,
    /// The slot's position in the next lap: the stamp that frees it.
    pos: usize,
    _brand: Brand<'a>,
}

/// The proof that [`Refill::fill`] pushed a value into its slot. Only
/// `fill` makes one, and its lifetime is that of the refill it came from.
pub(crate) struct Filled<'a> {
    _brand: Brand<'a>,
}

impl<'a, T> Refill<'a, T> {
    /// Pushes the value that `value` returns into the slot, if that push is
    /// the next one (`tail` is at the slot's next position: every other slot
    /// holds a value, and the channel is connected). `value` runs only then,
    /// after the claim, and must not panic. Returns the proof if it pushed.
    #[inline]
    pub(crate) fn fill(self, value: impl FnOnce() -> T) -> Option<Filled<'a>> {
        let tail = &self.ring.back.tail;
        if tail.load(Ordering::Relaxed) != self.pos {
            return None;
        }
        // The same claim as a push's (invariant 8); a disconnected `tail`
        // carries the mark and fails it.
        tail.compare_exchange(
            self.pos,
            self.ring.next(self.pos),
            Ordering::SeqCst,
            Ordering::Relaxed,
        )
        .ok()?;
        let value = value();
        // SAFETY: the pop's claim on `head` still holds the slot (invariant
        // 3) and its value was read out, so it is uninitialized (invariant
        // 2); our CAS also claimed the push at the slot's next position, so
        // no other thread will write it. `pop_with` publishes it.
        self.slot.value.with_mut(|p| unsafe { (*p).write(value) });
        Some(Filled {
            _brand: PhantomData,
        })
    }
}

/// A push just claimed, before it is published, offered to a waiting
/// receiver ([`Ring::push_landing`]).
pub(crate) struct Landing<'a, T> {
    ring: &'a Ring<T>,
    /// The position the push claimed.
    pos: usize,
    /// The position after it.
    new_pos: usize,
    _brand: Brand<'a>,
}

/// The proof that [`Landing::land`] claimed the pop of the value pushed.
/// Only `land` makes one, and its lifetime is that of the landing it came
/// from.
pub(crate) struct Landed<'a> {
    _brand: Brand<'a>,
}

impl<'a, T> Landing<'a, T> {
    /// Claims the pop of the value just pushed, if that pop is the next one
    /// (`head` is at the push's position: the ring held nothing else), and
    /// gives `value` to `place`, which must not panic. Returns the proof, or
    /// the value if the pop was not the next one.
    #[inline]
    pub(crate) fn land(self, value: T, place: impl FnOnce(T)) -> Result<Landed<'a>, T> {
        let head = &self.ring.head;
        if head.load(Ordering::Relaxed) != self.pos {
            return Err(value);
        }
        // The same claim as a pop's (invariant 9).
        if head
            .compare_exchange(self.pos, self.new_pos, Ordering::SeqCst, Ordering::Relaxed)
            .is_err()
        {
            return Err(value);
        }
        place(value);
        Ok(Landed {
            _brand: PhantomData,
        })
    }
}

/// What [`Ring::snapshot`] read at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot<R> {
    /// Values pushed so far (claimed pushes included).
    pub(crate) pushed: u64,
    /// Values popped so far: received, evicted or discarded.
    pub(crate) popped: u64,
    /// Values evicted so far.
    pub(crate) evicted: u64,
    /// The caller's counters.
    pub(crate) counters: R,
}

/// How a push loop stops without pushing: the value handed back on
/// disconnect, or by a no-wait push that gave up (`busy`, which only the
/// no-wait error can express; the loop never calls it otherwise).
trait PushStop<T> {
    fn disconnected(value: T) -> Self;
    fn busy(value: T) -> Self;
}

impl<T> PushStop<T> for PushError<T> {
    fn disconnected(value: T) -> Self {
        PushError::Disconnected(value)
    }

    fn busy(_: T) -> Self {
        unreachable!("a waiting push never gives up")
    }
}

impl<T> PushStop<T> for TryPush<T> {
    fn disconnected(value: T) -> Self {
        TryPush::Disconnected(value)
    }

    fn busy(value: T) -> Self {
        TryPush::Busy(value)
    }
}

/// How a pop loop stops without a value; as [`PushStop`].
trait PopStop {
    fn empty() -> Self;
    fn disconnected() -> Self;
    fn busy() -> Self;
}

impl PopStop for PopError {
    fn empty() -> Self {
        PopError::Empty
    }

    fn disconnected() -> Self {
        PopError::Disconnected
    }

    fn busy() -> Self {
        unreachable!("a waiting pop never gives up")
    }
}

impl PopStop for TryPop {
    fn empty() -> Self {
        TryPop::Empty
    }

    fn disconnected() -> Self {
        TryPop::Disconnected
    }

    fn busy() -> Self {
        TryPop::Busy
    }
}

impl<T> PushStop<T> for Result<Option<T>, T> {
    fn disconnected(value: T) -> Self {
        Err(value)
    }

    fn busy(_: T) -> Self {
        unreachable!("an evicting push waits; it is never a no-wait push")
    }
}

/// Sightings of another thread's claimed operation a no-wait operation spins
/// through before it gives up.
const NOWAIT_SPINS: u32 = 64;

/// One sighting for a no-wait operation: spins once and returns `false`, or
/// returns `true` once the operation should give up. Under loom it yields
/// instead of spinning, so the model runs the thread being waited for.
#[inline(always)]
fn give_up(busy: &mut u32) -> bool {
    *busy += 1;
    if *busy > NOWAIT_SPINS {
        return true;
    }
    #[cfg(not(loom))]
    core::hint::spin_loop();
    #[cfg(loom)]
    crate::sync::yield_now();
    false
}

/// Gives the loom scheduler a turn in loops that retry without a backoff.
#[inline(always)]
fn yield_if_loom() {
    #[cfg(loom)]
    crate::sync::yield_now();
}

/// The single allocation of a channel: a reference count, a header `H` of the
/// caller's, the ring, and the ring's slots right behind it.
#[repr(C)]
struct Inner<H, T> {
    refs: AtomicUsize,
    header: H,
    ring: Ring<T>,
}

/// A counted, thin, shared pointer to one channel allocation. Cloning adds a
/// reference; dropping the last frees the values left in the ring and the
/// memory, exactly once.
pub(crate) struct Shared<H, T> {
    ptr: NonNull<Inner<H, T>>,
    _owns: PhantomData<Inner<H, T>>,
}

// SAFETY: a `Shared` hands out `&H` and moves `T` values between threads
// through the ring; that is sound to share across threads when `H` is `Sync`
// and `T` is `Send` (values are moved, never shared by reference).
unsafe impl<H: Send + Sync, T: Send> Send for Shared<H, T> {}
// SAFETY: as for `Send`.
unsafe impl<H: Send + Sync, T: Send> Sync for Shared<H, T> {}

/// Handles beyond this count are refused, as `Arc` does, so the count can
/// never wrap.
pub(crate) const MAX_REFS: usize = isize::MAX as usize;

impl<H, T> Shared<H, T> {
    /// Allocates a ring of exactly `cap` slots with `header` beside it, in one
    /// allocation.
    pub(crate) fn new(cap: usize, header: H) -> Result<Self, RingError> {
        if cap == 0 {
            return Err(RingError::ZeroCapacity);
        }
        let mark_bit = cap
            .checked_add(1)
            .and_then(usize::checked_next_power_of_two)
            .ok_or(RingError::TooLarge)?;
        let one_lap = mark_bit.checked_mul(2).ok_or(RingError::TooLarge)?;
        let (layout, offset) = Self::layout(cap)?;

        // SAFETY: the layout has a non-zero size: `Inner` holds atomics.
        let base = NonNull::new(unsafe { alloc(layout) }).ok_or(RingError::AllocFailed)?;
        // SAFETY: `offset` is inside the allocation and aligned for `Slot<T>`
        // (it comes from `Layout::extend`); the pointer keeps the provenance of
        // the whole allocation, which invariant 1 relies on.
        let slots = unsafe { base.as_ptr().add(offset) }.cast::<Slot<T>>();
        for index in 0..cap {
            // SAFETY: `index < cap` slots fit behind `offset` (the layout
            // holds an array of `cap`); each is written once, before sharing.
            // Outside loom only the stamp is written: the value cell is an
            // `UnsafeCell<MaybeUninit<T>>`, for which uninitialized memory is
            // valid, and building a whole `Slot` would put a `T`-sized
            // temporary on the stack in debug builds. Loom's cell has state
            // of its own and is built in full.
            unsafe {
                let slot = slots.add(index);
                #[cfg(not(loom))]
                ptr::addr_of_mut!((*slot).stamp).write(AtomicUsize::new(index));
                #[cfg(loom)]
                slot.write(Slot {
                    stamp: AtomicUsize::new(index),
                    value: UnsafeCell::new(MaybeUninit::uninit()),
                });
            }
        }
        let ptr = base.cast::<Inner<H, T>>();
        // SAFETY: the allocation starts with room for an `Inner`, aligned.
        unsafe {
            ptr.as_ptr().write(Inner {
                refs: AtomicUsize::new(1),
                header,
                ring: Ring {
                    head: CachePadded::new(AtomicUsize::new(0)),
                    back: CachePadded::new(Back {
                        tail: AtomicUsize::new(0),
                        evicted: AtomicUsize::new(0),
                    }),
                    cap,
                    mark_bit,
                    one_lap,
                    // SAFETY: derived from a non-null base plus an offset.
                    slots: NonNull::new_unchecked(slots),
                    in_flight: InFlight::default(),
                    push_hint: Hint::new(),
                    pop_hint: Hint::new(),
                    _owns: PhantomData,
                },
            });
        }
        Ok(Self {
            ptr,
            _owns: PhantomData,
        })
    }

    fn layout(cap: usize) -> Result<(Layout, usize), RingError> {
        let slots = Layout::array::<Slot<T>>(cap).map_err(|_| RingError::TooLarge)?;
        let (layout, offset) = Layout::new::<Inner<H, T>>()
            .extend(slots)
            .map_err(|_| RingError::TooLarge)?;
        Ok((layout.pad_to_align(), offset))
    }

    #[inline]
    fn inner(&self) -> &Inner<H, T> {
        // SAFETY: this handle holds a reference, so the allocation is live
        // (invariant 5), and `Inner` is only ever accessed shared.
        unsafe { self.ptr.as_ref() }
    }

    /// The caller's header.
    #[inline]
    pub(crate) fn header(&self) -> &H {
        &self.inner().header
    }

    /// The ring.
    #[inline]
    pub(crate) fn ring(&self) -> &Ring<T> {
        &self.inner().ring
    }

    /// Whether two handles point to the same allocation.
    #[inline]
    pub(crate) fn ptr_eq(&self, other: &Self) -> bool {
        self.ptr == other.ptr
    }

    #[cold]
    #[inline(never)]
    fn free(&mut self) {
        let mut panics = FirstPanic::new();
        // SAFETY: the count reached zero, so this is the last reference and
        // no other thread can reach the allocation (invariant 5). We drop the
        // queued values (catching their panics), then the `Inner` in place,
        // then release the memory with the layout it was allocated with; the
        // guard releases it even if the header's destructor panics.
        unsafe {
            let inner = self.ptr.as_ptr();
            let cap = (*inner).ring.cap;
            let free_memory = FreeOnDrop::<H, T> { ptr: self.ptr, cap };
            (*inner).ring.drop_values(&mut panics);
            let mut slots = (*inner).ring.slots.as_ptr();
            for _ in 0..cap {
                ptr::drop_in_place(slots);
                slots = slots.add(1);
            }
            ptr::drop_in_place(inner);
            drop(free_memory);
        }
        panics.resume();
    }
}

/// Releases the memory even if a value's destructor panics while `free` runs.
struct FreeOnDrop<H, T> {
    ptr: NonNull<Inner<H, T>>,
    cap: usize,
}

impl<H, T> Drop for FreeOnDrop<H, T> {
    fn drop(&mut self) {
        let (layout, _) = Shared::<H, T>::layout(self.cap)
            .expect("the layout was computed successfully at allocation");
        // SAFETY: the memory was allocated with this layout by
        // `Shared::new`, and this is the only release of it (invariant 5).
        unsafe { dealloc(self.ptr.as_ptr().cast(), layout) };
    }
}

impl<H, T> Clone for Shared<H, T> {
    fn clone(&self) -> Self {
        // Relaxed suffices as for `Arc`: a new reference is made from an
        // existing one, which already keeps the allocation alive.
        let old = self.inner().refs.fetch_add(1, Ordering::Relaxed);
        if old >= MAX_REFS {
            self.inner().refs.fetch_sub(1, Ordering::Relaxed);
            panic!("weir: too many handles to one channel");
        }
        Self {
            ptr: self.ptr,
            _owns: PhantomData,
        }
    }
}

impl<H, T> Drop for Shared<H, T> {
    fn drop(&mut self) {
        // Release publishes this handle's last uses of the channel to the
        // thread that frees it; that thread's Acquire fence pairs with it.
        if self.inner().refs.fetch_sub(1, Ordering::Release) != 1 {
            return;
        }
        // Acquire pairs with every other handle's Release decrement. A load
        // rather than `fence(Acquire)`, which ThreadSanitizer does not model:
        // as cheap on x86, and it keeps the suite free of false reports.
        self.inner().refs.load(Ordering::Acquire);
        self.free();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    //! White-box checks of the rule that `push` never reports `Full` and
    //! `pop` never reports `Empty` while another thread is between claiming a
    //! slot and finishing with it. The test plays that other thread by hand,
    //! stopping it exactly between its CAS and its stamp store, which no
    //! black-box test can arrange.

    use super::*;
    use std::sync::mpsc;
    use std::thread;
    use std::time::Duration;

    fn ring_of_one() -> Shared<(), u32> {
        Shared::new(1, ()).unwrap()
    }

    /// A receiver has claimed the only value (head moved) but not freed the
    /// slot. A push must wait for it, not report `Full`.
    #[test]
    fn push_waits_out_a_claimed_pop_instead_of_reporting_full() {
        let shared = ring_of_one();
        let ring = shared.ring();
        ring.push(1).unwrap();
        // Claim position 0 as `pop` would, and stop there.
        let next = ring.next(0);
        ring.head
            .compare_exchange(0, next, Ordering::SeqCst, Ordering::SeqCst)
            .unwrap();

        let (done_tx, done_rx) = mpsc::channel();
        thread::scope(|s| {
            s.spawn(|| done_tx.send(shared.ring().push(2).map_err(|_| ())).unwrap());
            // The push cannot finish while the slot is claimed.
            assert!(done_rx.recv_timeout(Duration::from_millis(50)).is_err());
            // Finish the pop: the value is a `u32`, nothing to drop.
            ring.slot(0).stamp.store(ring.one_lap, Ordering::Release);
            assert_eq!(done_rx.recv_timeout(Duration::from_secs(10)), Ok(Ok(())));
        });
        assert_eq!(ring.pop(), Ok(2));
    }

    /// A sender has claimed a slot (tail moved) but not published it. A pop
    /// must wait for it, not report `Empty`.
    #[test]
    fn pop_waits_out_a_claimed_push_instead_of_reporting_empty() {
        let shared = ring_of_one();
        let ring = shared.ring();
        // Claim position 0 as `push` would, and stop there.
        let next = ring.next(0);
        ring.back
            .tail
            .compare_exchange(0, next, Ordering::SeqCst, Ordering::SeqCst)
            .unwrap();

        let (done_tx, done_rx) = mpsc::channel();
        thread::scope(|s| {
            s.spawn(|| done_tx.send(shared.ring().pop()).unwrap());
            assert!(done_rx.recv_timeout(Duration::from_millis(50)).is_err());
            // SAFETY: we claimed the slot by the CAS above (invariant 3) and
            // it is empty (invariant 2).
            ring.slot(0)
                .value
                .with_mut(|p| unsafe { p.write(MaybeUninit::new(9)) });
            ring.slot(0).stamp.store(1, Ordering::Release);
            assert_eq!(done_rx.recv_timeout(Duration::from_secs(10)), Ok(Ok(9)));
        });
    }

    /// Freeing the ring drops every value left, each once, however many
    /// destructors panic (two panicking during unwinding would abort), and
    /// passes the first panic on.
    #[test]
    fn free_drops_the_rest_when_destructors_panic() {
        use std::panic::{catch_unwind, AssertUnwindSafe};
        use std::sync::atomic::AtomicUsize as Count;

        struct Noisy<'a>(&'a Count, bool);
        impl Drop for Noisy<'_> {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
                assert!(!self.1, "this destructor panics");
            }
        }
        let patterns: [&[bool]; 4] = [
            &[true, false, false],
            &[false, true, true],
            &[true, true, true],
            &[true, false, true, true],
        ];
        for pattern in patterns {
            let drops = Count::new(0);
            let shared = Shared::<(), Noisy<'_>>::new(4, ()).unwrap();
            for &panics in pattern {
                assert!(shared.ring().push(Noisy(&drops, panics)).is_ok());
            }
            assert!(catch_unwind(AssertUnwindSafe(move || drop(shared))).is_err());
            assert_eq!(drops.load(Ordering::SeqCst), pattern.len(), "{pattern:?}");
        }
    }

    /// An evicting push never hands back a value a receiver already holds:
    /// with the slot claimed by a receiver, `force_push` waits and then finds
    /// room instead of evicting.
    #[test]
    fn force_push_does_not_evict_a_claimed_value() {
        let shared = ring_of_one();
        let ring = shared.ring();
        ring.push(1).unwrap();
        let next = ring.next(0);
        ring.head
            .compare_exchange(0, next, Ordering::SeqCst, Ordering::SeqCst)
            .unwrap();

        let (done_tx, done_rx) = mpsc::channel();
        thread::scope(|s| {
            s.spawn(|| done_tx.send(shared.ring().force_push(2)).unwrap());
            assert!(done_rx.recv_timeout(Duration::from_millis(50)).is_err());
            ring.slot(0).stamp.store(ring.one_lap, Ordering::Release);
            assert_eq!(done_rx.recv_timeout(Duration::from_secs(10)), Ok(Ok(None)));
        });
        assert_eq!(ring.len(), 1);
    }

    /// `push_or_wait` hands the value back where `push` would wait out a
    /// receiver that claimed the oldest value, and both push once it is
    /// freed.
    #[test]
    fn push_or_wait_does_not_wait_out_a_claimed_pop() {
        let shared = ring_of_one();
        let ring = shared.ring();
        assert!(matches!(ring.push_or_wait(1), Ok(())));
        assert!(matches!(ring.push_or_wait(2), Err(PushError::Full(2))));
        let (old, head) = ring.start_pop();
        assert!(matches!(ring.push_or_wait(3), Err(PushError::Full(3))));
        assert_eq!(old, 1);
        ring.finish_pop(head);
        assert!(matches!(ring.push_or_wait(4), Ok(())));
        assert_eq!(ring.pop(), Ok(4));
        ring.disconnect();
        assert!(matches!(
            ring.push_or_wait(5),
            Err(PushError::Disconnected(5))
        ));
    }

    /// Position hints of any age decide nothing (invariant 10): before every
    /// operation both hints are set back to a position their index held at
    /// some earlier step, and the ring still answers as a `VecDeque` does,
    /// over many laps, with evictions, and on a full ring after a disconnect
    /// (where a hint that looks current must not turn `Disconnected` into
    /// `Full` or into an eviction).
    #[test]
    fn stale_hints_decide_nothing() {
        const CAP: usize = 3;
        let shared: Shared<(), u32> = Shared::new(CAP, ()).unwrap();
        let ring = shared.ring();
        let mut model = VecDeque::new();
        let (mut tails, mut heads) = (vec![0usize], vec![0usize]);
        let mut seed = 0x9e37_79b9_u32;
        let mut random = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed as usize
        };
        // Mostly one of the last few positions (current, one behind, a lap
        // behind), now and then any earlier one.
        let pick = |history: &[usize], r: usize| {
            let back = if r % 8 == 0 {
                r / 8 % history.len()
            } else {
                r / 8 % history.len().min(2 * CAP + 2)
            };
            history[history.len() - 1 - back]
        };
        let mut set_hints = |tails: &[usize], heads: &[usize]| {
            let r = random();
            ring.push_hint.set(pick(tails, r & 0xffff));
            ring.pop_hint.set(pick(heads, r >> 16));
            r
        };
        for step in 0..3000u32 {
            match set_hints(&tails, &heads) % 3 {
                0 => match ring.push(step) {
                    Ok(()) => {
                        assert!(model.len() < CAP, "step {step}: pushed into a full ring");
                        model.push_back(step);
                    }
                    Err(PushError::Full(v)) => {
                        assert_eq!((v, model.len()), (step, CAP), "step {step}: false full");
                    }
                    Err(PushError::Disconnected(_)) => panic!("step {step}: not disconnected"),
                },
                1 => assert_eq!(ring.pop().ok(), model.pop_front(), "step {step}"),
                _ => {
                    let evicted = if model.len() == CAP {
                        model.pop_front()
                    } else {
                        None
                    };
                    assert_eq!(ring.force_push(step), Ok(evicted), "step {step}");
                    model.push_back(step);
                }
            }
            assert_eq!(ring.len(), model.len(), "step {step}");
            tails.push(ring.back.tail.load(Ordering::SeqCst));
            heads.push(ring.head.load(Ordering::SeqCst));
        }
        while model.len() < CAP {
            ring.push(7).unwrap();
            model.push_back(7);
            tails.push(ring.back.tail.load(Ordering::SeqCst));
        }
        assert!(ring.disconnect());
        // Full and disconnected: every recent hint, the current position
        // first, which the slot's stamp alone would call full.
        for &hint in tails.iter().rev().take(3 * CAP) {
            ring.push_hint.set(hint);
            assert!(
                matches!(ring.push(1), Err(PushError::Disconnected(1))),
                "hint {hint}: a push after the disconnect"
            );
            ring.push_hint.set(hint);
            assert_eq!(
                ring.force_push(2),
                Err(2),
                "hint {hint}: an eviction after it"
            );
        }
        while let Some(expected) = model.pop_front() {
            set_hints(&tails, &heads);
            assert_eq!(ring.pop(), Ok(expected));
        }
        set_hints(&tails, &heads);
        assert_eq!(ring.pop(), Err(PopError::Disconnected));
    }

    /// A hint at a position that another operation has claimed and not
    /// finished invites a claim there (the stamp still shows the slot free,
    /// or full); the claim's CAS fails, and the operation goes on from the
    /// index the CAS returned, without waiting for the other operation or
    /// touching its slot.
    #[test]
    fn a_hint_at_a_claimed_position_loses_its_cas() {
        let shared: Shared<(), u32> = Shared::new(4, ()).unwrap();
        let ring = shared.ring();
        // A push stopped between its claim and its write, while a second
        // push starts from the claimed position.
        ring.push_landing::<_, true>(1, |landing, value| {
            ring.push_hint.set(landing.pos);
            ring.push(2).unwrap();
            ((), Err(value))
        })
        .unwrap();
        assert_eq!((ring.pop(), ring.pop()), (Ok(1), Ok(2)));
        // A pop stopped between its claim and its release, while a second
        // pop starts from the claimed position.
        ring.push(3).unwrap();
        ring.push(4).unwrap();
        let (value, head) = ring.start_pop();
        ring.pop_hint.set(head);
        assert_eq!(ring.pop(), Ok(4));
        ring.finish_pop(head);
        assert_eq!(value, 3);
        assert_eq!(ring.pop(), Err(PopError::Empty));
    }

    /// The waiting hints follow the slot the next attempt would use, over
    /// several laps and with a claimed but unfinished operation in between.
    #[test]
    fn may_succeed_hints_follow_the_next_slot() {
        let shared: Shared<(), u32> = Shared::new(3, ()).unwrap();
        let ring = shared.ring();
        for lap in 0..4 {
            assert!(!ring.pop_may_succeed(), "lap {lap}: empty ring");
            assert!(ring.push_may_succeed(), "lap {lap}: empty ring");
            for v in 0..3 {
                ring.push(v).unwrap();
                assert!(ring.pop_may_succeed(), "lap {lap}: {v} queued");
            }
            assert!(!ring.push_may_succeed(), "lap {lap}: full ring");
            assert_eq!(ring.pop(), Ok(0));
            assert!(ring.push_may_succeed(), "lap {lap}: one slot freed");
            ring.push(3).unwrap();
            assert!(!ring.push_may_succeed(), "lap {lap}: full again");
            for v in 1..4 {
                assert_eq!(ring.pop(), Ok(v));
            }
        }
        // A push that claimed its slot but has not published: the slot at
        // `head` changes only when it does.
        let tail = ring.back.tail.load(Ordering::SeqCst);
        let index = tail & (ring.mark_bit - 1);
        ring.back
            .tail
            .compare_exchange(tail, ring.next(tail), Ordering::SeqCst, Ordering::SeqCst)
            .unwrap();
        assert!(!ring.pop_may_succeed());
        // SAFETY: we claimed the slot by the CAS above (invariant 3) and it
        // is empty (invariant 2).
        ring.slot(index)
            .value
            .with_mut(|p| unsafe { p.write(MaybeUninit::new(9)) });
        ring.slot(index)
            .stamp
            .store(tail.wrapping_add(1), Ordering::Release);
        assert!(ring.pop_may_succeed());
        assert_eq!(ring.pop(), Ok(9));
    }
}
