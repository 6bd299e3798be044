//! What each policy does at every fill level, with the values it hands back
//! and the counters it keeps.

use weir::{
    Block, Builder, DropNewest, DropOldest, Policy, Pressure, Sample, SampleError, SendOutcome,
    SendTimeoutError, TrySendError,
};

#[test]
fn block_queues_until_full_then_waits() {
    let (tx, rx) = weir::bounded::<u32, Block>(3);
    for i in 0..3 {
        assert_eq!(tx.send(i), Ok(()));
    }
    assert!(tx.is_full());
    // `send` would wait now; the timed form shows it.
    assert_eq!(
        tx.send_timeout(9, std::time::Duration::from_millis(1)),
        Err(SendTimeoutError::Timeout(9))
    );
    assert_eq!(tx.try_send(9), Err(TrySendError::Full(9)));
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), [0, 1, 2]);
    let stats = rx.stats();
    assert_eq!((stats.sent, stats.received, stats.refused), (3, 3, 1));
    assert_eq!(stats.handed_back(), 1);
}

#[test]
fn drop_oldest_evicts_exactly_one_per_send_when_full() {
    let (tx, rx) = weir::bounded::<u32, DropOldest>(3);
    for i in 0..3 {
        assert_eq!(tx.send(i), Ok(None));
    }
    for i in 3..10 {
        assert_eq!(tx.send(i), Ok(Some(i - 3)), "send {i} evicts {}", i - 3);
        assert_eq!(tx.len(), 3);
    }
    // try_send never evicts.
    assert_eq!(tx.try_send(99), Err(TrySendError::Full(99)));
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), [7, 8, 9]);
    let stats = rx.stats();
    assert_eq!(
        (stats.sent, stats.received, stats.evicted, stats.refused),
        (10, 3, 7, 1)
    );
}

#[test]
fn drop_oldest_after_partial_drain_fills_room_first() {
    let (tx, rx) = weir::bounded::<u32, DropOldest>(2);
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    assert_eq!(rx.recv(), Ok(1));
    assert_eq!(tx.send(3), Ok(None), "room was made, nothing to evict");
    assert_eq!(tx.send(4), Ok(Some(2)));
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), [3, 4]);
}

#[test]
fn drop_newest_refuses_when_full_and_keeps_the_queue() {
    let (tx, rx) = weir::bounded::<u32, DropNewest>(2);
    assert_eq!(tx.send(1), Ok(()));
    assert_eq!(tx.send(2), Ok(()));
    for i in 3..8 {
        assert_eq!(tx.send(i), Err(TrySendError::Full(i)));
    }
    assert_eq!(rx.recv(), Ok(1));
    assert_eq!(tx.send(8), Ok(()));
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), [2, 8]);
    let stats = rx.stats();
    assert_eq!((stats.sent, stats.refused, stats.evicted), (3, 5, 0));
}

#[test]
fn sample_keeps_everything_below_the_low_watermark() {
    let (tx, rx) = Builder::new(10)
        .watermarks(0.5, 0.8)
        .sample_rate(4)
        .build::<u32, Sample>()
        .unwrap();
    for i in 0..5 {
        assert_eq!(tx.send(i), Ok(()));
    }
    assert_eq!(rx.pressure(), Pressure::Elevated);
    assert_eq!(rx.stats().sampled_out, 0);
}

#[test]
fn sample_counts_offered_values_so_overload_still_delivers_one_in_n() {
    // The flaw this avoids: counting accepted values would drop everything
    // after the first kept one. Offered values are counted, so a steady
    // overload with a consumer keeping the queue at the watermark still gets
    // exactly one in N through.
    let (tx, rx) = Builder::new(4)
        .watermarks(0.0, 1.0)
        .sample_rate(5)
        .build::<u32, Sample>()
        .unwrap();
    // An empty channel is below every watermark, so the first value is
    // queued; from then on one value stays queued, at the low watermark.
    tx.send(u32::MAX).unwrap();
    let mut kept = Vec::new();
    for i in 0..100 {
        match tx.send(i) {
            Ok(()) => kept.push(rx.try_recv().unwrap()),
            Err(SampleError::SampledOut(v)) => assert_eq!(v, i),
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    let expected: Vec<u32> = [u32::MAX].into_iter().chain((0..95).step_by(5)).collect();
    assert_eq!(kept, expected);
    assert_eq!(rx.try_recv(), Ok(95));
    assert_eq!(rx.stats().sampled_out, 80);
}

#[test]
fn sample_hands_back_a_picked_value_when_full() {
    let (tx, _rx) = Builder::new(2)
        .watermarks(0.0, 1.0)
        .sample_rate(1)
        .build::<u32, Sample>()
        .unwrap();
    assert_eq!(tx.send(1), Ok(()));
    assert_eq!(tx.send(2), Ok(()));
    assert_eq!(tx.send(3), Err(SampleError::Full(3)));
    let stats = tx.stats();
    assert_eq!((stats.refused, stats.sampled_out), (1, 0));
}

#[test]
fn pressure_walks_through_every_state_and_back() {
    let (tx, rx) = weir::bounded::<u32, DropNewest>(10);
    let mut seen = Vec::new();
    for i in 0..10 {
        seen.push(rx.pressure());
        tx.send(i).unwrap();
    }
    seen.push(rx.pressure());
    use Pressure::*;
    assert_eq!(
        seen,
        [
            Normal, Normal, Normal, Normal, Normal, Elevated, Elevated, Elevated, Critical,
            Critical, Full
        ]
    );
    assert_eq!(rx.utilization(), 1.0);
    for _ in 0..6 {
        rx.recv().unwrap();
    }
    assert_eq!(rx.pressure(), Normal);
    drop(tx);
    assert_eq!(rx.pressure(), Draining);
    while rx.try_recv().is_ok() {}
    assert_eq!(rx.pressure(), Normal);
    assert_eq!(rx.utilization(), 0.0);
}

/// Generic code sees every policy through `SendOutcome`.
fn send_and_count<P: Policy>(tx: &weir::Sender<u32, P>, n: u32) -> (u32, u32) {
    let mut back = 0;
    let mut disconnected = 0;
    for i in 0..n {
        let outcome = tx.send(i);
        disconnected += u32::from(outcome.is_disconnected());
        back += u32::from(outcome.handed_back().is_some());
    }
    (back, disconnected)
}

#[test]
fn send_outcome_reports_every_policy_generically() {
    let (tx, _rx) = weir::bounded::<u32, DropOldest>(4);
    assert_eq!(send_and_count(&tx, 10), (6, 0));
    let (tx, _rx) = weir::bounded::<u32, DropNewest>(4);
    assert_eq!(send_and_count(&tx, 10), (6, 0));
    let (tx, _rx) = weir::bounded::<u32, Block>(16);
    assert_eq!(send_and_count(&tx, 10), (0, 0));
    let (tx, rx) = weir::bounded::<u32, Sample>(4);
    drop(rx);
    assert_eq!(send_and_count(&tx, 3), (3, 3));
}

#[test]
fn debug_output_names_the_policy() {
    let (tx, rx) = weir::bounded::<u32, DropOldest>(4);
    tx.send(1).unwrap();
    for text in [format!("{tx:?}"), format!("{rx:?}")] {
        assert!(
            text.contains("DropOldest") && text.contains("len: 1") && text.contains("capacity: 4"),
            "{text}"
        );
    }
    // The receiver's type does not name the policy; its Debug still does.
    let (_tx, rx) = weir::bounded::<u32, weir::Sample>(4);
    assert!(format!("{rx:?}").contains("Sample"));
}

#[test]
fn stats_since_an_earlier_snapshot_is_what_happened_in_between() {
    let (tx, rx) = weir::bounded::<u32, DropOldest>(2);
    tx.send(1).unwrap();
    let earlier = rx.stats();
    for i in 2..6 {
        let _ = tx.send(i); // 2 fills the ring; 3, 4 and 5 evict 1, 2 and 3
    }
    assert_eq!(rx.recv(), Ok(4));
    let later = rx.stats();
    let delta = later.since(&earlier);
    assert_eq!(
        (delta.sent, delta.received, delta.evicted, delta.refused),
        (4, 1, 3, 0)
    );
    assert_eq!(later - earlier, delta);
    assert_eq!(later.since(&later), weir::Stats::default());
    // Given in the wrong order, nothing goes below zero.
    assert_eq!(earlier.since(&later), weir::Stats::default());
    assert_eq!(earlier - later, weir::Stats::default());
    // Adding the difference back gives the later snapshot, field by field.
    assert_eq!(earlier.sent + delta.sent, later.sent);
    assert_eq!(
        earlier.handed_back() + delta.handed_back(),
        later.handed_back()
    );
}
