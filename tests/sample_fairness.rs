//! `Sample` keeps one in N of each producer's own values under pressure.
//!
//! Producers take strict turns offering into a channel held at or above its
//! low watermark (and never full), so each offer is sampled. Counted by one
//! shared number, offers in lock-step hand out the kept values by arrival
//! order: with two producers and an even rate, every kept value goes to the
//! same one. Counted per producer, each keeps about one in N.

use std::sync::{Arc, Condvar, Mutex};
use std::thread;

use weir::{Builder, Sample, SampleError, Sender};

fn offers_per_producer() -> usize {
    if cfg!(miri) {
        120
    } else {
        3_000
    }
}

/// A turn counter: producer `i` of `n` may go when `turn % n == i`.
struct Turns {
    turn: Mutex<usize>,
    changed: Condvar,
}

impl Turns {
    fn take(&self, me: usize, of: usize, then: impl FnOnce()) {
        let mut turn = self.turn.lock().unwrap();
        while *turn % of != me {
            turn = self.changed.wait(turn).unwrap();
        }
        then();
        *turn += 1;
        self.changed.notify_all();
    }
}

/// `producers` threads offering `offers` values each into one `Sample`
/// channel of rate `rate`, strictly in turn. Returns how many of each
/// producer's values were kept.
fn kept_in_lock_step(rate: usize, producers: usize, offers: usize) -> Vec<usize> {
    let capacity = producers * offers + 1;
    let (tx, rx) = Builder::new(capacity)
        .watermarks(0.0, 0.0) // low watermark: one value
        .sample_rate(rate)
        .build::<u64, Sample>()
        .unwrap();
    // Below the low watermark: queued without being counted. From here on
    // every offer is made under pressure.
    tx.send(u64::MAX).unwrap();
    let turns = Arc::new(Turns {
        turn: Mutex::new(0),
        changed: Condvar::new(),
    });
    let handles: Vec<_> = (0..producers)
        .map(|me| {
            let (tx, turns): (Sender<u64, Sample>, _) = (tx.clone(), turns.clone());
            thread::spawn(move || {
                let mut kept = 0;
                for i in 0..offers {
                    turns.take(me, producers, || {
                        assert!(tx.len() >= tx.low_watermark(), "under pressure");
                        match tx.send((me * offers + i) as u64) {
                            Ok(()) => kept += 1,
                            Err(SampleError::SampledOut(_)) => {}
                            Err(e) => panic!("producer {me}: {e:?}"),
                        }
                    });
                }
                kept
            })
        })
        .collect();
    let kept: Vec<usize> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let stats = rx.stats();
    let total = producers * offers;
    assert_eq!(stats.sent as usize, 1 + kept.iter().sum::<usize>());
    assert_eq!(
        (stats.sampled_out as usize),
        total - kept.iter().sum::<usize>()
    );
    assert_eq!(stats.refused, 0, "the channel was never full");
    kept
}

/// Each producer's share of kept values lies within a factor of two of one
/// in `rate`.
fn assert_fair(rate: usize, producers: usize) {
    let offers = offers_per_producer();
    let kept = kept_in_lock_step(rate, producers, offers);
    for (producer, &k) in kept.iter().enumerate() {
        let (low, high) = (offers / (2 * rate), 2 * offers / rate);
        assert!(
            (low..=high).contains(&k),
            "rate {rate}, {producers} producers in lock-step: producer {producer} \
             kept {k} of {offers}, outside {low}..={high} (all: {kept:?})"
        );
    }
}

// A shared count gives every kept value to one of two alternating producers
// when the rate is even, and to one of three at rate 3; at an odd rate two
// producers happen to share fairly even so.

#[test]
fn two_producers_in_lock_step_at_rate_2_each_keep_about_half() {
    assert_fair(2, 2);
}

#[test]
fn two_producers_in_lock_step_at_rate_3_each_keep_about_a_third() {
    assert_fair(3, 2);
}

#[test]
fn two_producers_in_lock_step_at_rate_4_each_keep_about_a_quarter() {
    assert_fair(4, 2);
}

#[test]
fn three_producers_in_lock_step_at_rate_3_each_keep_about_a_third() {
    assert_fair(3, 3);
}

/// One producer that cycles through more channels than a thread keeps
/// counts for still keeps one in N on each channel.
#[test]
fn a_producer_cycling_through_many_channels_keeps_one_in_n_on_each() {
    let offers = offers_per_producer();
    let rate = 4;
    let channels: Vec<_> = (0..6)
        .map(|_| {
            let (tx, rx) = Builder::new(offers + 1)
                .watermarks(0.0, 0.0)
                .sample_rate(rate)
                .build::<usize, Sample>()
                .unwrap();
            tx.send(usize::MAX).unwrap();
            (tx, rx)
        })
        .collect();
    let kept = thread::spawn(move || {
        let mut kept = vec![0usize; channels.len()];
        for i in 0..offers {
            for (c, (tx, _)) in channels.iter().enumerate() {
                match tx.send(i) {
                    Ok(()) => kept[c] += 1,
                    Err(SampleError::SampledOut(_)) => {}
                    Err(e) => panic!("channel {c}: {e:?}"),
                }
            }
        }
        kept
    })
    .join()
    .unwrap();
    for (c, &k) in kept.iter().enumerate() {
        assert!(
            k.abs_diff(offers / rate) <= 1,
            "channel {c}: kept {k} of {offers} at rate {rate}"
        );
    }
}
