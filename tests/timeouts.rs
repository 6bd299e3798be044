//! Timed sends and receives: zero, short and huge timeouts and deadlines, and
//! timeouts racing values (a notify that meets a timeout is never lost).

use std::thread;
use std::time::{Duration, Instant};

use weir::{Block, RecvTimeoutError, SendTimeoutError};

#[test]
fn zero_timeouts_act_like_try() {
    let (tx, rx) = weir::bounded::<u32, Block>(1);
    assert_eq!(
        rx.recv_timeout(Duration::ZERO),
        Err(RecvTimeoutError::Timeout)
    );
    assert_eq!(tx.send_timeout(1, Duration::ZERO), Ok(()));
    assert_eq!(
        tx.send_timeout(2, Duration::ZERO),
        Err(SendTimeoutError::Timeout(2))
    );
    assert_eq!(rx.recv_timeout(Duration::ZERO), Ok(1));
    let past = Instant::now() - Duration::from_millis(1);
    assert_eq!(rx.recv_deadline(past), Err(RecvTimeoutError::Timeout));
    assert_eq!(tx.send_deadline(3, past), Ok(()));
    assert_eq!(tx.send_deadline(4, past), Err(SendTimeoutError::Timeout(4)));
}

#[test]
fn short_timeouts_expire_and_return_the_value() {
    let (tx, rx) = weir::bounded::<u32, Block>(1);
    tx.send(1).unwrap();
    let start = Instant::now();
    assert_eq!(
        tx.send_timeout(2, Duration::from_millis(20)),
        Err(SendTimeoutError::Timeout(2))
    );
    assert!(start.elapsed() >= Duration::from_millis(20));
    rx.recv().unwrap();
    let start = Instant::now();
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(20)),
        Err(RecvTimeoutError::Timeout)
    );
    assert!(start.elapsed() >= Duration::from_millis(20));
}

#[test]
fn huge_timeouts_do_not_overflow() {
    let (tx, rx) = weir::bounded::<u32, Block>(1);
    let t = thread::spawn(move || rx.recv_timeout(Duration::MAX));
    tx.send_timeout(7, Duration::MAX).unwrap();
    assert_eq!(t.join().unwrap(), Ok(7));
}

#[test]
fn a_value_arriving_during_a_timed_wait_is_received() {
    let (tx, rx) = weir::bounded::<u32, Block>(1);
    let t = thread::spawn(move || rx.recv_timeout(Duration::from_secs(10)));
    thread::sleep(Duration::from_millis(10));
    tx.send(3).unwrap();
    assert_eq!(t.join().unwrap(), Ok(3));
}

/// Many short timed receives race a steady sender: every value is received
/// exactly once, in order, whatever mix of timeouts and wakeups happens.
#[test]
fn timeouts_racing_sends_lose_nothing() {
    let n: u32 = if cfg!(miri) { 50 } else { 20_000 };
    let (tx, rx) = weir::bounded::<u32, Block>(2);
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let rx = rx.clone();
            thread::spawn(move || {
                let mut got = Vec::new();
                let mut timeouts = 0u32;
                loop {
                    match rx.recv_timeout(Duration::from_micros(50)) {
                        Ok(v) => got.push(v),
                        Err(RecvTimeoutError::Timeout) => timeouts += 1,
                        Err(RecvTimeoutError::Disconnected) => return (got, timeouts),
                    }
                }
            })
        })
        .collect();
    drop(rx);
    let producer = thread::spawn(move || {
        for i in 0..n {
            // Timed sends too, retried until they go through.
            let mut v = i;
            loop {
                match tx.send_timeout(v, Duration::from_micros(30)) {
                    Ok(()) => break,
                    Err(SendTimeoutError::Timeout(back)) => v = back,
                    Err(SendTimeoutError::Disconnected(_)) => panic!("receivers alive"),
                }
            }
        }
    });
    producer.join().unwrap();
    let mut all = Vec::new();
    for c in consumers {
        let (got, _timeouts) = c.join().unwrap();
        assert!(
            got.windows(2).all(|w| w[0] < w[1]),
            "each consumer sees FIFO"
        );
        all.extend(got);
    }
    all.sort_unstable();
    assert_eq!(all, (0..n).collect::<Vec<_>>());
}

/// Timed sends from several producers on a channel of one slot, so that
/// their timeouts race receivers moving their lent values into the ring
/// (and the timed receiver's races values landing in its place):
/// every value arrives exactly once and in each producer's order, and a
/// value that timed out comes back to be sent again. Boxed, so a value
/// handed off twice or lost is a double free or a leak under Miri.
#[test]
fn timed_sends_racing_hand_offs_lose_nothing() {
    let per: u64 = if cfg!(miri) { 30 } else { 10_000 };
    let producers = 3u64;
    let (tx, rx) = weir::bounded::<Box<(u64, u64)>, Block>(1);
    let handles: Vec<_> = (0..producers)
        .map(|p| {
            let tx = tx.clone();
            thread::spawn(move || {
                let mut timeouts = 0u64;
                for i in 0..per {
                    let mut v = Box::new((p, i));
                    loop {
                        match tx.send_timeout(v, Duration::from_micros(5)) {
                            Ok(()) => break,
                            Err(SendTimeoutError::Timeout(back)) => {
                                assert_eq!(*back, (p, i), "the value that timed out comes back");
                                timeouts += 1;
                                v = back;
                            }
                            Err(SendTimeoutError::Disconnected(_)) => panic!("receiver alive"),
                        }
                    }
                }
                timeouts
            })
        })
        .collect();
    drop(tx);
    let mut next = vec![0u64; producers as usize];
    loop {
        // Timed too, so that a receiver's timeout races a value landing in
        // its waiting place.
        let v = match rx.recv_timeout(Duration::from_micros(5)) {
            Ok(v) => v,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let (p, i) = *v;
        assert_eq!(
            i, next[p as usize],
            "producer {p} in order, each value once"
        );
        next[p as usize] += 1;
    }
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(next, vec![per; producers as usize]);
}
