//! The synchronization facade: every atomic, cell, yield and backoff the crate
//! uses comes from here, so the same core compiles against `std` or, under
//! `--cfg loom`, against loom's model-checked primitives.
//!
//! Three things differ under loom beyond the type swap:
//!
//! * [`Backoff`] yields on every step, so a thread spinning on another's
//!   claimed slot lets the model run it. `crossbeam_utils::Backoff` switches
//!   on a cfg of its own and would spin invisibly to loom.
//! * [`Patience`] parks at once, so models reach "the waiter is asleep, then
//!   the change it waits for".
//! * [`seq_cst_point`] is a `fence(SeqCst)`. Outside loom it compiles to
//!   nothing; see its documentation for why that is sound.

#[cfg(not(loom))]
pub(crate) use core::sync::atomic::{fence, AtomicPtr, AtomicUsize, Ordering};
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicPtr, AtomicUsize, Ordering};

#[cfg(loom)]
pub(crate) use loom::sync::Arc;
/// Shared ownership for `weir::mpsc`'s list and rendezvous flavours.
#[cfg(not(loom))]
pub(crate) use std::sync::Arc;

#[cfg(loom)]
pub(crate) use loom::thread::yield_now;

/// The lock of a wait point's queue, and the thread handles its thread
/// waiters park and unpark with.
#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};
#[cfg(loom)]
pub(crate) use loom::thread::{current as current_thread, park, Thread};
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};
#[cfg(not(loom))]
pub(crate) use std::thread::{current as current_thread, park, park_timeout, Thread};

/// Marks a point that sits between two `SeqCst` accesses to *different*
/// atomics in a store-buffering handshake (a waiter registers then re-checks
/// the ring; a notifier publishes then reads the waiter count).
///
/// The C++/Rust memory model puts all `SeqCst` operations in one total order
/// that respects program order, so two `SeqCst` accesses already forbid the
/// outcome where both threads miss each other; no fence is needed, and on
/// x86-64 none is emitted. Loom, however, models `SeqCst` *accesses* as
/// acquire/release only (it does model `SeqCst` *fences* exactly), so under
/// loom this is a real `fence(SeqCst)`: the model then checks the same
/// guarantee the accesses give on real hardware, instead of reporting a lost
/// wakeup that cannot happen.
#[inline(always)]
pub(crate) fn seq_cst_point() {
    #[cfg(loom)]
    fence(Ordering::SeqCst);
}

/// An `UnsafeCell` with loom's closure-based access API.
///
/// Loom's cell tracks every access to detect data races; the std version
/// has the same shape and compiles to direct pointer access.
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(core::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        Self(core::cell::UnsafeCell::new(value))
    }

    /// Runs `f` with a const pointer to the contents.
    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Runs `f` with a mutable pointer to the contents.
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;

/// Exponential backoff for spin loops.
#[cfg(not(loom))]
pub(crate) use crossbeam_utils::Backoff;

/// Loom's stand-in for `crossbeam_utils::Backoff`: every step yields to the
/// model scheduler.
#[cfg(loom)]
#[derive(Debug, Default)]
pub(crate) struct Backoff {}

#[cfg(loom)]
impl Backoff {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn spin(&self) {
        loom::thread::yield_now();
    }

    pub(crate) fn snooze(&self) {
        loom::thread::yield_now();
    }
}

/// How long a thread that waits for the other side of a channel (a sender on
/// a full ring, a receiver on an empty one) keeps retrying before it parks.
///
/// Parking and unparking cost tens of microseconds, far more than a handoff
/// between two running threads, so a waiter retries for a while first, in
/// two phases:
///
/// 1. Up to [`SPIN_STEPS`] steps of spinning, each twice as long as the one
///    before (1, 2, 4, ... spin hints, 127 in all, a microsecond or two). A
///    waiter that keeps its core catches a handoff from a thread running on
///    another core in the time one context switch would take. When more
///    threads wait than there are cores, yielding at once is the worst
///    choice: every failed retry hands the core to another waiter that fails
///    too, and the thread that would make progress waits its turn behind
///    them (measured on two cores with one sender and four receivers at
///    capacity 1: 0.06x crossbeam-channel's rate when yielding at once, 1.0x
///    with the spin).
/// 2. Up to [`YIELDS_BEFORE_PARK`] retries between yields, which let the
///    thread the waiter depends on run if it shares this core.
///
/// How many spinning steps a wait takes is learned per side of the channel
/// ([`SpinBudget`]). Spinning pays only when the thread the waiter depends on
/// runs on another core at the same time; when it shares the waiter's core
/// (a busy machine, or a process pinned to one core) every spin is time taken
/// from it, and the waiter should yield at once. So a wait that ended while
/// spinning raises its side's budget by one step, a wait that had to yield
/// halves it, and one wait in [`PROBE_EVERY`] per thread spins the full
/// [`SPIN_STEPS`] to find out whether spinning pays again (if it does, the
/// budget goes back to the full spin at once; if it does not, the thread's
/// next probe comes twice as many waits later, up to [`PROBE_EVERY_MAX`]).
///
/// Both phases are bounded, so a waiter on an idle channel parks after a few
/// tens of microseconds and then costs no CPU.
///
/// Under loom the waiter parks at once. A yield there would let the model
/// run the other thread to its end first: loom schedules a thread that
/// yielded only when no other can run, so a model would rarely reach "the
/// waiter is asleep, then the change it waits for", the order in which a
/// missing wakeup shows as a deadlock.
#[derive(Debug)]
pub(crate) struct Patience {
    #[cfg(not(loom))]
    steps: core::cell::Cell<u32>,
    /// Spinning steps this wait takes before it yields.
    #[cfg(not(loom))]
    limit: u32,
    /// Whether this wait is a probe (see [`PROBE_EVERY`]).
    #[cfg(not(loom))]
    probe: bool,
}

/// The most spinning steps a waiter takes before it yields; step `i` spins
/// `2^i` times.
#[cfg(not(loom))]
const SPIN_STEPS: u32 = 7;

/// Yields after the spinning steps, before a waiter parks.
#[cfg(not(loom))]
const YIELDS_BEFORE_PARK: u32 = 64;

/// One wait in this many, per thread, spins the full [`SPIN_STEPS`] whatever
/// the budget says, so a side whose budget fell to nothing on a busy core
/// finds out when cores are free again; the interval after a probe that
/// paid.
#[cfg(not(loom))]
const PROBE_EVERY: u32 = 32;

/// The longest interval between a thread's probes. A probe that did not pay
/// (its wait still had to yield) doubles the interval up to this: on a core
/// that stays busy, a probe's full spin is time taken from the thread the
/// waiter waits for, and at one probe in 32 waits it cost a thread sending
/// into a capacity-1 channel on one core about 5% of its rate.
#[cfg(not(loom))]
const PROBE_EVERY_MAX: u32 = 1024;

/// Spinning step `step`: `2^step` spin hints.
#[cfg(not(loom))]
#[inline(always)]
fn spin_step(step: u32) {
    for _ in 0..1u32 << step {
        core::hint::spin_loop();
    }
}

/// The spinning steps waiters on one side of a channel take before they
/// yield, learned from how that side's recent waits ended (see
/// [`Patience`]).
///
/// Read when a wait starts and when it ends, and written when one ends, only
/// if the value changes, so waiters whose budget has settled share the line
/// read-only. Nothing on a fast path touches it. The value is a hint: any
/// value in `0..=SPIN_STEPS` is correct, and a lost update costs at most one
/// badly sized spin.
#[derive(Debug)]
pub(crate) struct SpinBudget {
    #[cfg(not(loom))]
    steps: core::sync::atomic::AtomicU32,
}

impl SpinBudget {
    /// A budget of the full spin: on free cores spinning pays, and a busy
    /// core is found out by the first waits.
    pub(crate) fn new() -> Self {
        Self {
            #[cfg(not(loom))]
            steps: core::sync::atomic::AtomicU32::new(SPIN_STEPS),
        }
    }

    /// The current budget, in spinning steps.
    #[cfg(not(loom))]
    fn steps(&self) -> u32 {
        self.steps.load(core::sync::atomic::Ordering::Relaxed)
    }

    #[cfg(not(loom))]
    fn set(&self, steps: u32) {
        if self.steps.load(core::sync::atomic::Ordering::Relaxed) != steps {
            self.steps
                .store(steps, core::sync::atomic::Ordering::Relaxed);
        }
    }
}

#[cfg(not(loom))]
std::thread_local! {
    /// Waits this thread has started since its last probe, and how many
    /// make the interval to the next ([`PROBE_EVERY`] to
    /// [`PROBE_EVERY_MAX`]).
    static PROBES: core::cell::Cell<(u32, u32)> =
        const { core::cell::Cell::new((0, PROBE_EVERY)) };
}

impl Patience {
    /// Starts a wait on the side whose spinning is governed by `budget`.
    #[inline]
    pub(crate) fn new(budget: &SpinBudget) -> Self {
        #[cfg(not(loom))]
        {
            // `try_with` fails only while this thread's locals are being
            // destroyed; such a wait simply does not probe.
            let probe = PROBES
                .try_with(|p| {
                    let (waits, every) = p.get();
                    let probe = waits + 1 >= every;
                    p.set((if probe { 0 } else { waits + 1 }, every));
                    probe
                })
                .unwrap_or(false);
            Self {
                steps: core::cell::Cell::new(0),
                limit: if probe { SPIN_STEPS } else { budget.steps() },
                probe,
            }
        }
        #[cfg(loom)]
        {
            let _ = budget;
            Self {}
        }
    }

    /// Starts a wait that always spins the full [`SPIN_STEPS`] (for waits
    /// with no budget to learn from).
    #[inline]
    pub(crate) fn full() -> Self {
        Self {
            #[cfg(not(loom))]
            steps: core::cell::Cell::new(0),
            #[cfg(not(loom))]
            limit: SPIN_STEPS,
            #[cfg(not(loom))]
            probe: false,
        }
    }

    /// Records how this wait ended, once it succeeded: a wait that never
    /// yielded raises `budget`, one that had to yield halves it. A wait that
    /// ended while spinning past the budget as it now stands (a probe, or a
    /// wait that started before another waiter lowered it) restores the full
    /// spin: spinning that long paid just now.
    #[inline]
    pub(crate) fn succeeded(&self, budget: &SpinBudget) {
        #[cfg(not(loom))]
        {
            let steps = self.steps.get();
            let current = budget.steps();
            if steps <= self.limit {
                let raised = if steps > current {
                    SPIN_STEPS
                } else {
                    (current + 1).min(SPIN_STEPS)
                };
                budget.set(raised);
            } else {
                budget.set(current / 2);
            }
            if self.probe {
                let paid = steps <= self.limit;
                // As in `new`: no locals left means no probes to space.
                let _ = PROBES.try_with(|p| {
                    let (waits, every) = p.get();
                    let every = if paid {
                        PROBE_EVERY
                    } else {
                        (every * 2).min(PROBE_EVERY_MAX)
                    };
                    p.set((waits, every));
                });
            }
        }
        #[cfg(loom)]
        {
            let _ = budget;
        }
    }

    /// Runs the rest of the spinning phase, checking `ready` after each step
    /// and stopping early once it holds. Returns `false`, doing nothing, once
    /// the spinning phase is over (and always under loom).
    ///
    /// `ready` should read only what the operation's next attempt depends on
    /// most closely (the stamp of the slot it would use), so that a spinning
    /// waiter does not keep pulling the other side's hot index away from it.
    #[inline]
    pub(crate) fn spin_until(&self, ready: impl Fn() -> bool) -> bool {
        #[cfg(not(loom))]
        {
            let mut step = self.steps.get();
            if step >= self.limit {
                return false;
            }
            while step < self.limit {
                spin_step(step);
                step += 1;
                if ready() {
                    break;
                }
            }
            self.steps.set(step);
            true
        }
        #[cfg(loom)]
        {
            let _ = ready;
            false
        }
    }

    /// Spins one step and returns `true`, or returns `false`, doing nothing,
    /// once the spinning phase is over (and always under loom); the
    /// yielding phase of [`step`](Self::step) is left for later.
    #[inline]
    pub(crate) fn spin(&self) -> bool {
        #[cfg(not(loom))]
        {
            let step = self.steps.get();
            if step < self.limit {
                self.steps.set(step + 1);
                spin_step(step);
                return true;
            }
            false
        }
        #[cfg(loom)]
        {
            false
        }
    }

    /// Waits one step and returns `true`, or returns `false` once the caller
    /// should park.
    #[inline]
    pub(crate) fn step(&self) -> bool {
        #[cfg(not(loom))]
        {
            if self.spin() {
                return true;
            }
            let step = self.steps.get();
            if step < self.limit + YIELDS_BEFORE_PARK {
                self.steps.set(step + 1);
                std::thread::yield_now();
                return true;
            }
            false
        }
        #[cfg(loom)]
        {
            false
        }
    }
}

/// Where a thread waits for another thread's claimed ring operation to finish
/// (a slot claimed but not yet published or freed).
///
/// Outside loom this is a zero-sized type and waiting is a backoff step.
/// Under loom, spinning threads that yield to one another let the model
/// explore schedules in which the thread they wait for never runs again
/// (yield switches cost no preemption), so such waits block on a condition
/// variable instead, re-checked under its mutex, and every stamp store
/// signals it. The mutex adds ordering only on this waiting path; executions
/// that read a published stamp without waiting still rely on the stamp's own
/// Acquire/Release pairing, which the model checks.
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    #[cfg(loom)]
    lock: loom::sync::Mutex<()>,
    #[cfg(loom)]
    condvar: loom::sync::Condvar,
}

impl InFlight {
    /// Signals that a claimed operation finished: a slot stamp was stored.
    #[inline(always)]
    pub(crate) fn finished(&self) {
        #[cfg(loom)]
        {
            let _guard = self.lock.lock().unwrap();
            self.condvar.notify_all();
        }
    }

    /// Waits for some claimed operation to finish, while `still_blocked`
    /// holds.
    #[inline(always)]
    pub(crate) fn wait(&self, backoff: &Backoff, still_blocked: impl FnOnce() -> bool) {
        #[cfg(not(loom))]
        {
            let _ = still_blocked;
            backoff.snooze();
        }
        #[cfg(loom)]
        {
            let _ = backoff;
            let guard = self.lock.lock().unwrap();
            if still_blocked() {
                drop(self.condvar.wait(guard).unwrap());
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// Ends a wait on `budget` after `steps` calls to `step`.
    fn wait(budget: &SpinBudget, steps: u32) {
        let patience = Patience::new(budget);
        for _ in 0..steps {
            assert!(patience.step());
        }
        patience.succeeded(budget);
    }

    #[test]
    fn a_wait_that_yields_halves_the_budget_and_one_that_spins_raises_it() {
        // A thread of its own, so that no probe falls among these waits
        // (the probe count is per thread and starts at zero).
        std::thread::spawn(|| {
            let budget = SpinBudget::new();
            assert_eq!(budget.steps(), SPIN_STEPS);
            wait(&budget, SPIN_STEPS + 1);
            assert_eq!(budget.steps(), SPIN_STEPS / 2);
            wait(&budget, SPIN_STEPS / 2 + 1);
            assert_eq!(budget.steps(), SPIN_STEPS / 4);
            wait(&budget, 0);
            assert_eq!(budget.steps(), SPIN_STEPS / 4 + 1);
            for _ in 0..4 {
                wait(&budget, 1);
            }
            wait(&budget, 0);
            assert_eq!(budget.steps(), SPIN_STEPS, "never above the full spin");
            for _ in 0..3 {
                wait(&budget, SPIN_STEPS + 5);
            }
            assert_eq!(budget.steps(), 0);
            // With no budget the first step yields, and the wait still ends.
            let patience = Patience::new(&budget);
            assert!(patience.step());
            assert!(!patience.spin_until(|| true), "no spinning phase left");
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_probe_spins_the_full_steps_and_restores_the_budget_when_that_paid() {
        std::thread::spawn(|| {
            let budget = SpinBudget::new();
            budget.set(0);
            // Waits 1 to PROBE_EVERY - 1 of this thread are not probes: with
            // no budget they yield at once, and the budget stays at 0.
            for _ in 1..PROBE_EVERY {
                wait(&budget, 1);
            }
            assert_eq!(budget.steps(), 0);
            // The next is a probe: it may spin, and a wait that ended while
            // spinning past the budget restores the full spin.
            let probe = Patience::new(&budget);
            assert!(probe.spin_until(|| false));
            assert_eq!(probe.steps.get(), SPIN_STEPS);
            probe.succeeded(&budget);
            assert_eq!(budget.steps(), SPIN_STEPS);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn probes_that_do_not_pay_grow_further_apart_and_one_that_pays_brings_them_back() {
        std::thread::spawn(|| {
            let budget = SpinBudget::new();
            budget.set(0);
            // Ends `waits` waits that yield; returns which of them probed.
            let yielding = |waits: u32| -> Vec<u32> {
                (1..=waits)
                    .filter(|_| {
                        let patience = Patience::new(&budget);
                        let probe = patience.probe;
                        while patience.steps.get() <= patience.limit {
                            assert!(patience.step());
                        }
                        patience.succeeded(&budget);
                        probe
                    })
                    .collect()
            };
            let gaps = |probes: &[u32]| -> Vec<u32> {
                let mut last = 0;
                probes
                    .iter()
                    .map(|&p| p - core::mem::replace(&mut last, p))
                    .collect()
            };
            let probes = yielding(32 + 64 + 128 + 256 + 512 + 3 * 1024);
            assert_eq!(
                gaps(&probes),
                [32, 64, 128, 256, 512, 1024, 1024, 1024],
                "each probe that yielded doubles the interval, up to the most"
            );
            assert_eq!(budget.steps(), 0);
            // Up to the next probe, which pays: it ends while spinning.
            assert!(yielding(1023).is_empty());
            let probe = Patience::new(&budget);
            assert!(probe.probe);
            assert!(probe.spin());
            probe.succeeded(&budget);
            assert_eq!(budget.steps(), SPIN_STEPS, "the probe restored the spin");
            budget.set(0);
            assert_eq!(gaps(&yielding(32 + 64)), [32, 64], "and the interval");
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_waiter_parks_after_the_spins_and_yields() {
        let budget = SpinBudget::new();
        let patience = Patience::new(&budget);
        let mut steps = 0;
        while patience.step() {
            steps += 1;
        }
        assert!((YIELDS_BEFORE_PARK..=SPIN_STEPS + YIELDS_BEFORE_PARK).contains(&steps));
        let full = Patience::full();
        assert!(full.spin_until(|| false));
        assert_eq!(full.steps.get(), SPIN_STEPS);
    }
}
