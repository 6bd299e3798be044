//! The unbounded flavour behind [`channel`](super::channel): a lock-free
//! linked list of fixed-size blocks, written by any number of senders and read
//! by exactly one receiver.
//!
//! # The algorithm
//!
//! Values get consecutive positions. `tail` packs the next position to claim
//! as `index << SHIFT`, with `MARK` (bit 0) set once the channel is
//! disconnected. Each block covers one lap of `LAP` indices: offsets
//! `0..BLOCK_CAP` are slots, and the last offset, `BLOCK_CAP`, is never a slot:
//! while `tail` shows it, the sender that claimed the block's last slot is
//! installing the next block, and other senders wait for it.
//!
//! A sender claims a position by CAS on `tail`, reading the block to write
//! into from `tail_block`. If it claimed the last slot of a block, it installs
//! the next one (allocated before the CAS, so the wait is short): it stores
//! the new block in `tail_block`, moves `tail` past the `BLOCK_CAP` offset,
//! and links the new block from the old one's `next`. Then it writes its value
//! and sets the slot's `written` flag (Release). A sender never waits for the
//! receiver: the channel has no bound.
//!
//! The receiver alone reads. It keeps its own cursor (`head` position and
//! `head_block`), so reading needs no CAS: it waits for the slot at `head` to
//! be written, reads it, and moves on. After reading the last slot of a block,
//! it follows `next` and frees the block. A block is freed only after every
//! one of its slots was read, which is why no sender can still be in it.
//!
//! # Invariants
//!
//! 1. Every block from the receiver's `head_block` to `tail_block`, linked by
//!    `next`, is live. A block is allocated by the channel's constructor or by
//!    the sender that claims the last slot of the block before it, and freed
//!    only by the receiver (or, when the receiver goes, by its drop), exactly
//!    once.
//! 2. A sender touches a block only after its CAS on `tail` claimed a position
//!    in that block: `tail_block` is stored before `tail` moves into the
//!    block's range, so a successful CAS at a position read together with
//!    `tail_block` proves the block is that position's block. The sender's
//!    last access to the block is the Release store of its slot's `written`
//!    flag; the installer of the next block links it (`next`) before that
//!    store.
//! 3. A slot's value is initialized exactly when `written` is set and the
//!    receiver has not yet read it out; the receiver reads each slot once, in
//!    order, and its cursor passes the slot as it does.
//! 4. There is one receiver: only a [`Receiver`] reads slots, moves the cursor
//!    or frees blocks, and it is neither `Clone` nor `Sync`, so one thread at
//!    a time does so.
//! 5. Once `MARK` is set, no new position is claimed; each position claimed
//!    before it gets its `written` flag, and a block install that started
//!    before it finishes (it moves `tail` with `fetch_add`, which keeps the
//!    mark).
//! 6. When the receiver is dropped, it sets `MARK`, waits for an install in
//!    progress, then reads out and drops every value up to `tail`, frees every
//!    block, and leaves no block behind: the channel itself owns no memory
//!    once the receiver is gone.

#![allow(unsafe_code)]

use core::cell::Cell;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::ptr;
use std::time::Instant;

use crossbeam_utils::CachePadded;

use crate::park::{WaitPoint, Wake};
use crate::sync::{Arc, AtomicPtr};
use crate::sync::{AtomicUsize, Backoff, InFlight, Ordering, Patience, UnsafeCell};
use crate::unwind::FirstPanic;

/// Indices per block: `BLOCK_CAP` slots and the one offset that marks an
/// install in progress. Loom explores every interleaving of every operation,
/// so its models use blocks of two slots to cross block boundaries with few
/// values; the algorithm does not depend on the size.
#[cfg(not(loom))]
const LAP: usize = 32;
#[cfg(loom)]
const LAP: usize = 3;

/// Slots per block.
const BLOCK_CAP: usize = LAP - 1;

/// `tail` keeps the disconnect mark below the index.
const SHIFT: usize = 1;
const MARK: usize = 1;
/// One index in position units.
const STEP: usize = 1 << SHIFT;

/// The offset of a position inside its block, in `0..=BLOCK_CAP`.
#[inline]
fn offset(pos: usize) -> usize {
    (pos >> SHIFT) % LAP
}

/// Values queued between two positions (`head <= tail`, both unmarked).
#[inline]
fn distance(head: usize, tail: usize) -> usize {
    let (head, tail) = (head >> SHIFT, tail >> SHIFT);
    // Indices wrap at `usize::MAX >> SHIFT`, a whole number of laps when
    // `LAP` is a power of two; lap counts wrap with them.
    let laps = (tail / LAP).wrapping_sub(head / LAP) & ((usize::MAX >> SHIFT) / LAP);
    // The tail may sit on the install offset, which counts as a full block.
    let tail_offset = (tail % LAP).min(BLOCK_CAP);
    laps.wrapping_mul(BLOCK_CAP)
        .wrapping_add(tail_offset)
        .wrapping_sub(head % LAP)
}

/// Why `try_recv` found no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Empty {
    /// Nothing queued; senders remain.
    Empty,
    /// Nothing queued and every sender is gone.
    Disconnected,
}

/// Why `recv` returned no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecvFailed {
    Timeout,
    Disconnected,
}

struct Slot<T> {
    value: UnsafeCell<MaybeUninit<T>>,
    /// Non-zero once the value is written (invariant 3).
    written: AtomicUsize,
}

struct Block<T> {
    next: AtomicPtr<Block<T>>,
    slots: [Slot<T>; BLOCK_CAP],
}

impl<T> Block<T> {
    /// Allocates an empty block. Outside loom the memory is zeroed, which is a
    /// valid empty block (null `next`, unwritten slots, uninitialized values),
    /// so a block of large values is never built on the stack.
    #[cfg(not(loom))]
    fn new() -> Box<Self> {
        use std::alloc::{alloc_zeroed, handle_alloc_error, Layout};
        let layout = Layout::new::<Self>();
        // SAFETY: the layout is not zero-sized: a block holds an `AtomicPtr`.
        let raw = unsafe { alloc_zeroed(layout) }.cast::<Self>();
        if raw.is_null() {
            handle_alloc_error(layout);
        }
        // SAFETY: `raw` was allocated by the global allocator with the layout
        // of `Self`, as `Box` requires, and all-zero bytes are a valid `Self`:
        // a null `AtomicPtr`, zero `AtomicUsize`s and `MaybeUninit` values.
        unsafe { Box::from_raw(raw) }
    }

    /// Under loom the atomics must be constructed to be tracked.
    #[cfg(loom)]
    fn new() -> Box<Self> {
        Box::new(Self {
            next: AtomicPtr::new(ptr::null_mut()),
            slots: core::array::from_fn(|_| Slot {
                value: UnsafeCell::new(MaybeUninit::uninit()),
                written: AtomicUsize::new(0),
            }),
        })
    }
}

/// The state shared by every handle.
struct Channel<T> {
    /// The next position to claim, `MARK` set once disconnected, and the
    /// block that holds it. Written by senders.
    tail: CachePadded<Tail<T>>,
    /// Live senders; the last one to go sets `MARK`.
    senders: AtomicUsize,
    /// Where the receiver sleeps on an empty channel.
    recv_wait: CachePadded<WaitPoint>,
    /// Where threads wait out a claimed position's write or a block install.
    in_flight: InFlight,
    /// The channel moves `T` values from thread to thread.
    _values: PhantomData<T>,
}

struct Tail<T> {
    pos: AtomicUsize,
    block: AtomicPtr<Block<T>>,
}

// SAFETY: values of `T` are moved between threads through the slots, never
// shared by reference, so sending and sharing the channel is sound whenever
// `T` can be sent. The raw blocks are managed by invariants 1 to 6.
unsafe impl<T: Send> Send for Channel<T> {}
// SAFETY: as for `Send`.
unsafe impl<T: Send> Sync for Channel<T> {}

/// Creates an unbounded channel: one sender, one receiver, one empty block.
pub(crate) fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let first = Box::into_raw(Block::<T>::new());
    let chan = Arc::new(Channel {
        tail: CachePadded::new(Tail {
            pos: AtomicUsize::new(0),
            block: AtomicPtr::new(first),
        }),
        senders: AtomicUsize::new(1),
        recv_wait: CachePadded::new(WaitPoint::new()),
        in_flight: InFlight::default(),
        _values: PhantomData,
    });
    let receiver = Receiver {
        chan: chan.clone(),
        head: Cell::new(0),
        head_block: Cell::new(first),
    };
    (Sender { chan }, receiver)
}

/// A sending handle.
pub(crate) struct Sender<T> {
    chan: Arc<Channel<T>>,
}

impl<T> Sender<T> {
    /// Queues `value`, or hands it back if the receiver is gone. Never waits
    /// for the receiver.
    pub(crate) fn send(&self, value: T) -> Result<(), T> {
        let chan = &*self.chan;
        let backoff = Backoff::new();
        // Allocated before claiming the last slot of a block, so the senders
        // that wait for the install wait only for a few stores.
        let mut next_block: Option<Box<Block<T>>> = None;
        // Acquire pairs with the Release of the install that moved `tail` into
        // this block, so the `tail_block` load below sees that block or later.
        let mut tail = chan.tail.pos.load(Ordering::Acquire);
        loop {
            if tail & MARK != 0 {
                return Err(value);
            }
            let offset = offset(tail);
            if offset == BLOCK_CAP {
                // Another sender is installing the next block.
                chan.in_flight
                    .wait(&backoff, || chan.tail.pos.load(Ordering::Relaxed) == tail);
                tail = chan.tail.pos.load(Ordering::Acquire);
                continue;
            }
            let last_slot = offset + 1 == BLOCK_CAP;
            if last_slot && next_block.is_none() {
                next_block = Some(Block::new());
            }
            let block = chan.tail.block.load(Ordering::Acquire);
            // SeqCst: the publication half of the receiver's sleep handshake
            // (see `park`): the receiver re-checks `tail` after registering.
            match chan.tail.pos.compare_exchange_weak(
                tail,
                tail.wrapping_add(STEP),
                Ordering::SeqCst,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    if last_slot {
                        let next = Box::into_raw(next_block.take().expect("allocated above"));
                        // Release: senders that see the moved `tail` (Acquire)
                        // see the block's initialization and this store.
                        chan.tail.block.store(next, Ordering::Release);
                        chan.tail.pos.fetch_add(STEP, Ordering::Release);
                        // SAFETY: our CAS claimed a slot of `block` (invariant
                        // 2), so it is live until our `written` store
                        // (invariant 1).
                        unsafe { (*block).next.store(next, Ordering::Release) };
                        chan.in_flight.finished();
                    }
                    // SAFETY: as above; `offset < BLOCK_CAP` indexes a slot.
                    let slot = unsafe { &(*block).slots[offset] };
                    // SAFETY: the CAS gave this position to us alone and the
                    // slot is unwritten (invariant 3).
                    slot.value
                        .with_mut(|p| unsafe { p.write(MaybeUninit::new(value)) });
                    // Publish; pairs with the receiver's Acquire load. Our last
                    // access to the block (invariant 2).
                    slot.written.store(1, Ordering::Release);
                    chan.in_flight.finished();
                    chan.recv_wait.notify_one();
                    return Ok(());
                }
                Err(current) => {
                    tail = current;
                    backoff.spin();
                }
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
        // AcqRel: the last sender's mark is ordered after every other sender's
        // operations, so the receiver that sees the mark sees all their claims.
        if self.chan.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.chan.tail.pos.fetch_or(MARK, Ordering::SeqCst);
            self.chan.recv_wait.notify_all();
        }
    }
}

/// The receiving handle. It owns the read cursor.
pub(crate) struct Receiver<T> {
    chan: Arc<Channel<T>>,
    /// The next position to read (unmarked). Only this handle moves it.
    head: Cell<usize>,
    /// The block holding `head` (invariant 1).
    head_block: Cell<*mut Block<T>>,
}

// SAFETY: the cursor is this handle's alone; moving the handle to another
// thread moves the right to read, which is sound whenever `T` can be sent.
// `Receiver` stays `!Sync` (its cells), as invariant 4 requires.
unsafe impl<T: Send> Send for Receiver<T> {}

impl<T> Receiver<T> {
    /// Takes the value at `head` if one is queued. Never reports `Empty`
    /// spuriously: if a sender claimed the position and has not finished
    /// writing, this waits for it.
    pub(crate) fn try_recv(&self) -> Result<T, Empty> {
        let backoff = Backoff::new();
        let head = self.head.get();
        let slot = self.slot_at_head();
        loop {
            // Pairs with the sender's Release store of `written`.
            if slot.written.load(Ordering::Acquire) != 0 {
                // SAFETY: the slot at `head` is written (invariant 3).
                return Ok(unsafe { self.take() });
            }
            // Acquire: if the mark is set, the last sender's operations, and
            // so every claim before the mark, are visible (invariant 5).
            let tail = self.chan.tail.pos.load(Ordering::Acquire);
            if tail & !MARK == head {
                return Err(if tail & MARK != 0 {
                    Empty::Disconnected
                } else {
                    Empty::Empty
                });
            }
            // A sender claimed `head` and is still writing.
            self.chan
                .in_flight
                .wait(&backoff, || slot.written.load(Ordering::Relaxed) == 0);
        }
    }

    /// Takes a value, waiting until `deadline` (forever if `None`).
    pub(crate) fn recv(&self, deadline: Option<Instant>) -> Result<T, RecvFailed> {
        let patience = Patience::full();
        let mut timed_out = false;
        loop {
            match self.try_recv() {
                Ok(value) => return Ok(value),
                Err(Empty::Disconnected) => return Err(RecvFailed::Disconnected),
                Err(Empty::Empty) => {}
            }
            if timed_out || crate::park::deadline_passed(deadline) {
                return Err(RecvFailed::Timeout);
            }
            if patience.step() {
                continue;
            }
            let head = self.head.get();
            let tail = &self.chan.tail.pos;
            // Sleep while nothing was claimed and the mark is not set. SeqCst:
            // the re-check half of the handshake with the sender's CAS.
            let wake = self
                .chan
                .recv_wait
                .wait(|| tail.load(Ordering::SeqCst) == head, deadline);
            timed_out = wake == Wake::TimedOut;
        }
    }

    /// Values queued, claimed positions included. A snapshot.
    pub(crate) fn len(&self) -> usize {
        let tail = self.chan.tail.pos.load(Ordering::Acquire) & !MARK;
        distance(self.head.get(), tail)
    }

    #[inline]
    fn slot_at_head(&self) -> &Slot<T> {
        let block = self.head_block.get();
        // SAFETY: `head_block` is live while the receiver holds it
        // (invariant 1) and `offset(head) < BLOCK_CAP`: the cursor skips the
        // install offset.
        unsafe { &(*block).slots[offset(self.head.get())] }
    }

    /// Reads the value at `head` and moves the cursor past it, freeing the
    /// block once its last slot is read.
    ///
    /// # Safety
    ///
    /// The slot at `head` must be written (its `written` flag seen with
    /// Acquire).
    unsafe fn take(&self) -> T {
        let head = self.head.get();
        let block = self.head_block.get();
        let slot = self.slot_at_head();
        // SAFETY: the caller saw `written`, so the value is initialized and
        // ours to move out (invariants 3 and 4).
        let value = slot.value.with(|p| unsafe { ptr::read(p).assume_init() });
        if offset(head) + 1 == BLOCK_CAP {
            // SAFETY: the block is live (invariant 1). Its installer linked
            // `next` before writing this last slot, which we saw (invariant
            // 2), so `next` is set.
            let next = unsafe { (*block).next.load(Ordering::Acquire) };
            debug_assert!(!next.is_null(), "the last slot is written after `next`");
            self.head_block.set(next);
            self.head.set(head.wrapping_add(2 * STEP));
            // SAFETY: every slot of the block is read, so no sender will touch
            // it again (invariant 2); only the receiver frees (invariant 1)
            // and it has moved off the block.
            drop(unsafe { Box::from_raw(block) });
        } else {
            self.head.set(head.wrapping_add(STEP));
        }
        value
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let chan = &*self.chan;
        // No position is claimed from here on (invariant 5).
        let mut tail = chan.tail.pos.fetch_or(MARK, Ordering::SeqCst) | MARK;
        let backoff = Backoff::new();
        while offset(tail) == BLOCK_CAP {
            chan.in_flight
                .wait(&backoff, || chan.tail.pos.load(Ordering::Relaxed) == tail);
            tail = chan.tail.pos.load(Ordering::Acquire);
        }
        let end = tail & !MARK;

        // Drop what is left, each value once, catching panicking
        // destructors so that a second one cannot abort the process; then
        // free the last block and pass the first panic on.
        let mut panics = FirstPanic::new();
        while self.head.get() != end {
            let slot = self.slot_at_head();
            let backoff = Backoff::new();
            // Claimed before the mark: the write will come (invariant 5).
            while slot.written.load(Ordering::Acquire) == 0 {
                chan.in_flight
                    .wait(&backoff, || slot.written.load(Ordering::Relaxed) == 0);
            }
            // SAFETY: the slot at `head` is written.
            panics.drop_value(unsafe { self.take() });
        }
        let block = self.head_block.replace(ptr::null_mut());
        if !block.is_null() {
            // SAFETY: the cursor reached `end`, so `block` is the tail block,
            // the last live one; no sender can claim a slot in it any more
            // (invariant 5) and it is freed once, here.
            drop(unsafe { Box::from_raw(block) });
        }
        panics.resume();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_slots_not_indices() {
        let pos = |index: usize| index << SHIFT;
        assert_eq!(distance(pos(0), pos(0)), 0);
        assert_eq!(distance(pos(0), pos(BLOCK_CAP)), BLOCK_CAP);
        assert_eq!(distance(pos(0), pos(LAP)), BLOCK_CAP);
        assert_eq!(distance(pos(1), pos(LAP + 1)), BLOCK_CAP);
        assert_eq!(distance(pos(LAP - 2), pos(LAP)), 1);
        // Across the wrap of the index space: from offset LAP - 2 of the last
        // lap to offset 1 of lap 0.
        let last = (usize::MAX >> SHIFT) - 1;
        assert_eq!(offset(pos(last)), BLOCK_CAP - 1);
        assert_eq!(distance(pos(last), pos(1)), 2);
    }
}
