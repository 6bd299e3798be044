//! Pressure: the watermark state of a channel, and its counters.
//!
//! Everything here is computed from numbers the ring already keeps: its
//! positions give the length and the counts of values sent and taken out;
//! only the paths that hand values back pay for a counter of their own.

use core::fmt;

/// The watermark state of a channel, from its length at one instant.
///
/// With the default watermarks (0.5 and 0.8) and a capacity of 10: 0 to 4
/// values is `Normal`, 5 to 7 `Elevated`, 8 or 9 `Critical`, 10 `Full`. Once
/// the channel is [closed](crate::Sender::close) or every sender is gone,
/// any values still queued read as `Draining`.
///
/// What the edges read:
///
/// * An empty channel is always `Normal`: each watermark counts at least one
///   value, so `watermarks(0.0, 0.0)` makes one queued value `Critical`
///   (or `Full` at capacity 1), not an empty channel.
/// * At small capacities a state can be skipped. The high watermark rounds
///   up, and a length that reaches the capacity reads `Full`, so with the
///   default watermarks capacities 1 to 4 never read `Critical` (capacity 4:
///   `Normal` for 0 or 1 value, `Elevated` for 2 or 3, `Full` for 4), and
///   capacity 1 reads only `Normal` and `Full`.
/// * Once every receiver is gone the channel has discarded its values, so it
///   reads `Normal` (its length is 0); [`is_disconnected`] says why.
///
/// `Pressure` is not ordered: `Draining` is not a fill level, and a
/// comparison such as `p >= Pressure::Critical` would be true for a draining
/// channel holding one value of a hundred. Match the states you mean, or
/// compare the length with the watermarks:
///
/// ```
/// use weir::Pressure;
///
/// let (tx, rx) = weir::bounded::<u32, weir::DropNewest>(10);
/// for i in 0..9 {
///     let _ = tx.send(i);
/// }
/// let shed = matches!(rx.pressure(), Pressure::Critical | Pressure::Full);
/// assert!(shed);
/// assert!(rx.len() >= rx.high_watermark()); // the same question, by level
/// ```
///
/// ```compile_fail
/// let (_tx, rx) = weir::bounded::<u32, weir::Block>(10);
/// let _ = rx.pressure() >= weir::Pressure::Critical; // no ordering
/// ```
///
/// [`is_disconnected`]: crate::Receiver::is_disconnected
///
/// ```
/// use weir::Pressure;
///
/// let (tx, rx) = weir::bounded::<u32, weir::DropNewest>(10);
/// assert_eq!(rx.pressure(), Pressure::Normal);
/// for i in 0..8 {
///     let _ = tx.send(i);
/// }
/// assert_eq!(rx.pressure(), Pressure::Critical);
/// drop(tx);
/// assert_eq!(rx.pressure(), Pressure::Draining);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Pressure {
    /// Below the low watermark.
    Normal,
    /// At or above the low watermark, below the high one.
    Elevated,
    /// At or above the high watermark, not full.
    Critical,
    /// Every slot holds a value.
    Full,
    /// The channel is closed, or every sender is gone, and values remain for
    /// the receivers.
    Draining,
}

impl Pressure {
    /// The state's name in upper case, as printed by `Display`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "NORMAL",
            Self::Elevated => "ELEVATED",
            Self::Critical => "CRITICAL",
            Self::Full => "FULL",
            Self::Draining => "DRAINING",
        }
    }
}

impl fmt::Display for Pressure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The counters of a channel at one instant.
///
/// `sent` and the sum of the counts taken out come from the ring's positions;
/// the others are counted where values are handed back.
///
/// `sent`, `received`, `evicted` and `discarded` are read at one instant,
/// even while other threads send and receive: the snapshot is retried until
/// the positions and the counters it reads did not change in between, and
/// never taken while an eviction is half done. At that instant
/// `sent == received + evicted + discarded + len` holds, where `len` counts
/// every value in the ring, sends that have claimed a slot but not finished
/// included. The only values a snapshot can place in the wrong field are
/// those of operations in flight at that instant: a receive or an eviction
/// that has claimed its value counts as done, and a value that the last
/// receiver's drop has claimed but not yet counted as discarded reads as
/// received (at most one). `refused` and `sampled_out` are read after the
/// positions, each summed over the stripes the sending threads count in:
/// each lies between its total when the reading of it began and its total
/// when it ended (a batch refused on one stripe while another is read can
/// make the sum a value between those totals that the count never held
/// exactly). Once the channel is quiet, everything is exact.
///
/// ```
/// let (tx, rx) = weir::bounded::<u32, weir::DropOldest>(2);
/// for i in 0..5 {
///     let _ = tx.send(i);
/// }
/// rx.recv().unwrap();
/// let stats = rx.stats();
/// assert_eq!((stats.sent, stats.received, stats.evicted), (5, 1, 3));
/// assert_eq!(stats.sent, stats.received + stats.evicted + stats.discarded + rx.len() as u64);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct Stats {
    /// Values the channel accepted into the ring.
    pub sent: u64,
    /// Values taken out by receivers.
    pub received: u64,
    /// Values evicted to make room ([`DropOldest`](crate::DropOldest)) and
    /// handed back to their senders.
    pub evicted: u64,
    /// Values turned away because the channel was full: by a
    /// [`DropNewest`](crate::DropNewest) or [`Sample`](crate::Sample) send, or
    /// by `try_send` under any policy.
    pub refused: u64,
    /// Values a [`Sample`](crate::Sample) sender handed back under pressure.
    pub sampled_out: u64,
    /// Values dropped by the channel because every receiver was gone.
    pub discarded: u64,
}

impl Stats {
    /// Everything handed back to senders: evicted, refused and sampled out.
    pub fn handed_back(&self) -> u64 {
        self.evicted + self.refused + self.sampled_out
    }

    /// What happened between `earlier` and `self`: each counter of `self`
    /// minus the same counter of `earlier`. Also written `self - earlier`.
    ///
    /// Every counter of a channel only grows from one snapshot to the next,
    /// so for two snapshots of one channel taken in that order the result is
    /// exact, field by field. Given snapshots in the wrong order, or of two
    /// channels, a counter that would go below zero reads 0 instead of
    /// wrapping or panicking.
    ///
    /// A rate per second is one line:
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let (tx, rx) = weir::bounded::<u32, weir::DropNewest>(4);
    /// let (before, start) = (rx.stats(), Instant::now());
    /// for i in 0..10 {
    ///     let _ = tx.send(i); // 4 accepted, 6 refused
    /// }
    /// let delta = rx.stats().since(&before);
    /// assert_eq!((delta.sent, delta.refused), (4, 6));
    /// let elapsed = start.elapsed().max(Duration::from_nanos(1));
    /// let refused_per_second = delta.refused as f64 / elapsed.as_secs_f64();
    /// assert!(refused_per_second > 0.0);
    /// assert_eq!(rx.stats() - before, delta);
    /// ```
    #[must_use]
    pub fn since(&self, earlier: &Stats) -> Stats {
        Stats {
            sent: self.sent.saturating_sub(earlier.sent),
            received: self.received.saturating_sub(earlier.received),
            evicted: self.evicted.saturating_sub(earlier.evicted),
            refused: self.refused.saturating_sub(earlier.refused),
            sampled_out: self.sampled_out.saturating_sub(earlier.sampled_out),
            discarded: self.discarded.saturating_sub(earlier.discarded),
        }
    }
}

/// `later - earlier` is [`later.since(&earlier)`](Stats::since).
impl core::ops::Sub for Stats {
    type Output = Stats;

    fn sub(self, earlier: Stats) -> Stats {
        self.since(&earlier)
    }
}

/// The watermarks of a channel as item counts, fixed when it is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Thresholds {
    /// `Elevated` from this length on.
    pub(crate) low: usize,
    /// `Critical` from this length on.
    pub(crate) high: usize,
}

impl Thresholds {
    /// Turns fractions of `cap` into lengths: `ceil(fraction * cap)`, at
    /// least 1, so a non-empty length is at or above a watermark exactly when
    /// `len / cap >= fraction`. The caller has checked
    /// `0 <= low <= high <= 1`.
    pub(crate) fn new(cap: usize, low: f64, high: f64) -> Self {
        Self {
            low: items(low, cap).max(1),
            high: items(high, cap).max(1),
        }
    }

    /// The state for `len` values, and whether the channel is closed (or
    /// every sender is gone).
    #[inline]
    pub(crate) fn pressure(&self, len: usize, cap: usize, closed: bool) -> Pressure {
        if closed && len > 0 {
            Pressure::Draining
        } else if len >= cap {
            Pressure::Full
        } else if len >= self.high {
            Pressure::Critical
        } else if len >= self.low {
            Pressure::Elevated
        } else {
            Pressure::Normal
        }
    }
}

/// `ceil(fraction * cap)` for `fraction` in `0.0..=1.0`, computed exactly for
/// the decimal the user wrote.
///
/// In floating point, `0.07 * 100.0` is `7.000000000000001`, whose ceiling
/// is 8: the `f64` nearest 0.07 is a little above it. So the fraction is
/// taken as the shortest decimal that reads back as the same `f64` (what
/// `Display` prints, `0.07`), and the product is rounded up in integers.
/// The decimal is read as it is printed, without allocating.
fn items(fraction: f64, cap: usize) -> usize {
    use core::fmt::Write;

    debug_assert!((0.0..=1.0).contains(&fraction));
    let mut decimal = Decimal::default();
    write!(decimal, "{fraction}").expect("a decimal reader takes any digits");
    if decimal.whole != 0 {
        // 1.0 prints as "1": every slot.
        return cap;
    }
    if decimal.places > 38 {
        // The shortest decimal ends in a non-zero digit, at most 17 digits
        // after the first: this is a positive fraction below 1e-21, under one
        // item times any capacity.
        return 1;
    }
    if decimal.numerator == 0 {
        return 0;
    }
    // `fraction == numerator / 10^places`; the numerator has at most 17
    // digits, so the product is below 10^17 * 2^64 < 2^121.
    let denominator = 10u128.pow(decimal.places);
    let items = (decimal.numerator * cap as u128).div_ceil(denominator);
    items.min(cap as u128) as usize
}

/// Reads a printed non-negative decimal such as `0.07`: the whole part, and
/// the fraction as `numerator / 10^places`.
#[derive(Debug, Default)]
struct Decimal {
    whole: u128,
    numerator: u128,
    places: u32,
    in_fraction: bool,
}

impl core::fmt::Write for Decimal {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        for c in text.chars() {
            match (c, c.to_digit(10)) {
                ('.', _) => self.in_fraction = true,
                (_, Some(d)) if self.in_fraction => {
                    self.places += 1;
                    if self.places <= 38 {
                        self.numerator = self.numerator * 10 + u128::from(d);
                    }
                }
                (_, Some(d)) => self.whole = self.whole.saturating_mul(10) + u128::from(d),
                _ => return Err(core::fmt::Error),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decimal_fractions_are_exact() {
        assert_eq!(items(0.07, 100), 7);
        assert_eq!(items(0.28, 25), 7);
        assert_eq!(items(0.56, 25), 14);
        assert_eq!(items(0.5, 3), 2);
        assert_eq!(items(0.8, 3), 3);
        assert_eq!(items(0.0, 10), 0);
        assert_eq!(items(1.0, 10), 10);
        assert_eq!(items(1e-300, usize::MAX), 1);
        assert_eq!(items(5e-324, 1), 1);
        assert_eq!(items(0.1, usize::MAX), usize::MAX / 10 + 1);
        let t = Thresholds::new(10, 0.0, 0.0);
        assert_eq!((t.low, t.high), (1, 1));
    }

    proptest! {
        /// Against exact rational arithmetic: `p / 10^k` of `cap`, rounded up.
        #[test]
        fn items_match_rational_arithmetic(
            k in 1u32..=9,
            p in any::<u64>(),
            cap in prop_oneof![1usize..=1_000, 1usize..=(1 << 48), Just(usize::MAX)],
        ) {
            let q = 10u64.pow(k);
            let p = p % (q + 1);
            let fraction = p as f64 / q as f64;
            // The f64 must read back as this decimal for the case to say
            // what the user wrote; with k <= 9 it always does.
            prop_assume!(fraction.to_string().parse::<f64>() == Ok(fraction));
            let exact = (u128::from(p) * cap as u128).div_ceil(u128::from(q));
            prop_assert_eq!(items(fraction, cap) as u128, exact, "{}/{} of {}", p, q, cap);
        }

        /// Whatever the fractions, the thresholds count at least one value,
        /// keep their order and stay within the capacity.
        #[test]
        fn thresholds_are_ordered_and_in_range(
            a in 0.0f64..=1.0,
            b in 0.0f64..=1.0,
            cap in 1usize..=1_000_000,
        ) {
            let (low, high) = if a <= b { (a, b) } else { (b, a) };
            let t = Thresholds::new(cap, low, high);
            prop_assert!(1 <= t.low && t.low <= t.high && t.high <= cap);
        }
    }
}
