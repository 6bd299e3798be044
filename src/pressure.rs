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
/// every sender is gone, any values still queued read as `Draining`.
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pressure {
    /// Below the low watermark.
    Normal,
    /// At or above the low watermark, below the high one.
    Elevated,
    /// At or above the high watermark, not full.
    Critical,
    /// Every slot holds a value.
    Full,
    /// Every sender is gone and values remain for the receivers.
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
/// the others are counted where values are handed back. The fields are read
/// one after another while other threads run, so a snapshot taken under load
/// may be off by the operations in flight; once the channel is quiet, the
/// identity `sent == received + evicted + discarded + len` holds exactly.
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
    /// Turns fractions of `cap` into lengths: `ceil(fraction * cap)`, so a
    /// length is at or above a watermark exactly when `len / cap >= fraction`.
    /// The caller has checked `0 <= low <= high <= 1`.
    pub(crate) fn new(cap: usize, low: f64, high: f64) -> Self {
        let items = |fraction: f64| ((fraction * cap as f64).ceil() as usize).min(cap);
        Self {
            low: items(low),
            high: items(high),
        }
    }

    /// The state for `len` values when senders remain (`connected`) or not.
    #[inline]
    pub(crate) fn pressure(&self, len: usize, cap: usize, senders_gone: bool) -> Pressure {
        if senders_gone && len > 0 {
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
