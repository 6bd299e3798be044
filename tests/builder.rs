//! Bad input gets a clear error from the builder or a documented panic from
//! `bounded`; never undefined behaviour, an abort or a hang.

use weir::{Block, BuildError, Builder, DropOldest};

#[test]
fn zero_capacity_is_an_error() {
    let err = Builder::new(0).build::<u8, Block>().unwrap_err();
    assert_eq!(err, BuildError::ZeroCapacity);
    assert_eq!(err.to_string(), "capacity must be at least 1; for a rendezvous channel, where each send waits for a receiver, use weir::mpsc::sync_channel(0)");
}

#[test]
fn impossible_capacities_are_errors_not_aborts() {
    for cap in [usize::MAX, usize::MAX / 2, isize::MAX as usize, 1 << 62] {
        let err = Builder::new(cap).build::<u64, Block>().unwrap_err();
        assert!(
            matches!(err, BuildError::CapacityTooLarge(c) if c == cap),
            "capacity {cap}: {err:?}"
        );
        assert!(err.to_string().contains("too large"));
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri reports a huge allocation as resource exhaustion")]
fn a_capacity_the_allocator_refuses_is_an_error() {
    // Fits the address space on paper (about 2^46 bytes), but no machine has it.
    let err = Builder::new(1 << 42).build::<[u8; 8], Block>().unwrap_err();
    assert!(
        matches!(
            err,
            BuildError::AllocationFailed(_) | BuildError::CapacityTooLarge(_)
        ),
        "{err:?}"
    );
}

#[test]
fn watermarks_out_of_range_are_errors() {
    for (low, high) in [
        (-0.1, 0.5),
        (0.5, 1.5),
        (0.9, 0.1),
        (f64::NAN, 0.5),
        (0.2, f64::NAN),
        (f64::INFINITY, f64::INFINITY),
    ] {
        let err = Builder::new(8)
            .watermarks(low, high)
            .build::<u8, Block>()
            .unwrap_err();
        assert!(
            matches!(err, BuildError::InvalidWatermarks { .. }),
            "({low}, {high}): {err:?}"
        );
        assert!(err.to_string().starts_with("watermarks must satisfy"));
    }
}

#[test]
fn the_edges_of_the_watermark_range_are_allowed() {
    for (low, high) in [(0.0, 0.0), (0.0, 1.0), (1.0, 1.0), (0.5, 0.5)] {
        let (tx, _rx) = Builder::new(10)
            .watermarks(low, high)
            .build::<u8, Block>()
            .unwrap();
        // Each watermark counts at least one value: an empty channel is
        // always `Normal`.
        assert_eq!(tx.low_watermark(), ((low * 10.0) as usize).max(1));
        assert_eq!(tx.high_watermark(), ((high * 10.0) as usize).max(1));
    }
    // Setting one watermark at a time.
    let (tx, _rx) = Builder::new(4)
        .low_watermark(0.25)
        .high_watermark(0.75)
        .build::<u8, Block>()
        .unwrap();
    assert_eq!((tx.low_watermark(), tx.high_watermark()), (1, 3));
}

#[test]
fn watermarks_round_up_to_whole_items() {
    let (tx, _rx) = Builder::new(3)
        .watermarks(0.5, 0.8)
        .build::<u8, Block>()
        .unwrap();
    // ceil(1.5) = 2, ceil(2.4) = 3
    assert_eq!((tx.low_watermark(), tx.high_watermark()), (2, 3));
}

/// Fractions are taken as the decimals they are written as: in floating
/// point `0.07 * 100.0` rounds up to 8.
#[test]
fn watermarks_are_exact_for_decimal_fractions() {
    for (cap, low, high, expected) in [
        (100, 0.07, 0.5, (7, 50)),
        (25, 0.28, 0.56, (7, 14)),
        (1000, 0.001, 0.999, (1, 999)),
    ] {
        let (tx, _rx) = Builder::new(cap)
            .watermarks(low, high)
            .build::<u8, Block>()
            .unwrap();
        assert_eq!((tx.low_watermark(), tx.high_watermark()), expected);
    }
}

/// What the edges read, as `Pressure` documents.
#[test]
fn pressure_at_the_edges() {
    use weir::{DropNewest, Pressure};

    // Zero watermarks: empty is `Normal`, one value `Critical`, or `Full`
    // at capacity 1, where that value fills the channel.
    for (cap, one_value) in [(10, Pressure::Critical), (1, Pressure::Full)] {
        let (tx, rx) = Builder::new(cap)
            .watermarks(0.0, 0.0)
            .build::<u8, DropNewest>()
            .unwrap();
        assert_eq!(rx.pressure(), Pressure::Normal, "capacity {cap}, empty");
        tx.send(1).unwrap();
        assert_eq!(rx.pressure(), one_value, "capacity {cap}, one value");
    }

    // Default watermarks at capacities 1 to 5: the states each length reads.
    let states = |cap: usize| {
        let (tx, rx) = weir::bounded::<usize, DropNewest>(cap);
        let mut seen = vec![rx.pressure()];
        for i in 0..cap {
            tx.send(i).unwrap();
            seen.push(rx.pressure());
        }
        seen
    };
    use Pressure::{Critical as C, Elevated as E, Full as F, Normal as N};
    assert_eq!(states(1), [N, F]);
    assert_eq!(states(2), [N, E, F]);
    assert_eq!(states(3), [N, N, E, F]);
    assert_eq!(states(4), [N, N, E, E, F]);
    assert_eq!(states(5), [N, N, N, E, C, F]);

    // Every receiver gone: the values are discarded, the channel is empty.
    let (tx, rx) = weir::bounded::<u8, DropNewest>(4);
    tx.send(1).unwrap();
    drop(rx);
    assert_eq!(tx.pressure(), Pressure::Normal);
    assert!(tx.is_disconnected());
}

#[test]
fn zero_sample_rate_is_an_error() {
    let err = Builder::new(8)
        .sample_rate(0)
        .build::<u8, Block>()
        .unwrap_err();
    assert_eq!(err, BuildError::ZeroSampleRate);
    assert_eq!(err.to_string(), "sample rate must be at least 1");
}

#[test]
#[should_panic(
    expected = "weir::bounded: capacity must be at least 1; for a rendezvous channel, where each \
                send waits for a receiver, use weir::mpsc::sync_channel(0)"
)]
fn bounded_panics_on_zero_capacity() {
    let _ = weir::bounded::<u8, Block>(0);
}

#[test]
#[should_panic(expected = "weir::bounded: capacity")]
fn bounded_panics_on_impossible_capacity() {
    let _ = weir::bounded::<u64, DropOldest>(usize::MAX);
}

/// `bounded` documents a panic, with a message that says so, when the ring
/// cannot be allocated: never an abort.
#[test]
#[cfg_attr(miri, ignore = "Miri reports a huge allocation as resource exhaustion")]
fn bounded_panics_with_a_message_when_the_allocator_refuses() {
    let panic = std::panic::catch_unwind(|| weir::bounded::<[u8; 8], Block>(1 << 42))
        .expect_err("a ring of 2^46 bytes");
    let message = panic.downcast_ref::<String>().expect("a formatted message");
    assert!(
        message
            == &format!(
                "weir::bounded: could not allocate a ring of {} slots",
                1u64 << 42
            )
            || message == &format!("weir::bounded: capacity {} is too large", 1u64 << 42),
        "{message}"
    );
}

#[test]
fn capacity_is_exactly_what_was_asked() {
    // Under Miri every send costs milliseconds: keep capacities either side
    // of a power of two, but small ones.
    let caps: &[usize] = if cfg!(miri) {
        &[1, 2, 3, 7, 10, 31, 33]
    } else {
        &[1, 2, 3, 7, 10, 1000, 1023, 1025]
    };
    for &cap in caps {
        let (tx, rx) = weir::bounded::<u8, DropOldest>(cap);
        assert_eq!(tx.capacity(), cap);
        for i in 0..cap * 2 {
            let _ = tx.send(i as u8);
        }
        assert_eq!(rx.len(), cap, "holds exactly {cap}");
        assert!(rx.is_full());
    }
}
