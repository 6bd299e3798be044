//! What `weir::mpsc` adds to std (`len`, `is_empty`, `capacity`, `pressure`,
//! `recv_deadline`),
//! and stress tests of its races: values crossing block boundaries from many
//! senders, a receiver dropped while senders run, and rendezvous timeouts
//! racing hand-offs. Each stress test checks the accounting: every value is
//! received, handed back, or dropped by the channel, exactly once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use weir::mpsc::{self, RecvTimeoutError, TryRecvError, TrySendError};
use weir::Pressure;

const fn scaled(n: usize) -> usize {
    if cfg!(miri) {
        n / 50 + 2
    } else {
        n
    }
}

#[derive(Debug)]
struct Tracked {
    id: usize,
    drops: Arc<AtomicUsize>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

/// Aborts the binary if a test runs past its limit instead of hanging.
fn watchdog() -> std::sync::mpsc::Sender<()> {
    let limit = Duration::from_secs(if cfg!(miri) { 3_600 } else { 120 });
    let (done, wait) = std::sync::mpsc::channel::<()>();
    thread::spawn(move || {
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(limit) {
            eprintln!("a test ran past {limit:?}: aborting");
            std::process::abort();
        }
    });
    done
}

#[test]
fn capacity_by_flavour() {
    assert_eq!(mpsc::channel::<u8>().1.capacity(), None);
    assert_eq!(mpsc::sync_channel::<u8>(0).1.capacity(), Some(0));
    assert_eq!(mpsc::sync_channel::<u8>(1).1.capacity(), Some(1));
    assert_eq!(mpsc::sync_channel::<u8>(1000).1.capacity(), Some(1000));
}

#[test]
fn len_follows_sends_and_receives() {
    let (tx, rx) = mpsc::channel();
    assert!(rx.is_empty());
    for i in 0..100 {
        tx.send(i).unwrap();
        assert_eq!(rx.len(), i + 1);
    }
    for i in 0..100 {
        rx.recv().unwrap();
        assert_eq!(rx.len(), 99 - i);
    }
    assert!(rx.is_empty());

    let (tx, rx) = mpsc::sync_channel(3);
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    assert_eq!(rx.len(), 2);
    drop(tx);
    assert_eq!(rx.len(), 2, "values outlive their senders");

    let (tx, rx) = mpsc::sync_channel::<u8>(0);
    assert_eq!(rx.len(), 0);
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    assert_eq!(rx.len(), 0);
}

/// `recv_deadline`, which std has only as an unstable method, on each of
/// the three flavours: a deadline already past, a value sent while the
/// receiver waits, a deadline that passes with nothing sent, and disconnect.
#[test]
fn recv_deadline_by_flavour() {
    let (tx, rx) = mpsc::channel();
    check_recv_deadline("channel()", rx, move |v| tx.send(v).unwrap());
    let (tx, rx) = mpsc::sync_channel(4);
    check_recv_deadline("sync_channel(4)", rx, move |v| tx.send(v).unwrap());
    let (tx, rx) = mpsc::sync_channel(0);
    check_recv_deadline("sync_channel(0)", rx, move |v| tx.send(v).unwrap());
}

/// `send` owns the channel's only sender, so dropping it disconnects.
fn check_recv_deadline(name: &str, rx: mpsc::Receiver<u32>, send: impl Fn(u32) + Send + 'static) {
    use std::time::Instant;
    let short = Duration::from_millis(if cfg!(miri) { 200 } else { 20 });
    let patience = Duration::from_secs(if cfg!(miri) { 600 } else { 20 });
    let (go, wait) = std::sync::mpsc::channel::<()>();
    let sender = thread::spawn(move || {
        thread::sleep(short);
        send(1);
        wait.recv().unwrap();
        drop(send);
    });
    assert_eq!(
        rx.recv_deadline(Instant::now()),
        Err(RecvTimeoutError::Timeout),
        "{name}: past"
    );
    assert_eq!(
        rx.recv_deadline(Instant::now() + patience),
        Ok(1),
        "{name}: sent while waiting"
    );
    let start = Instant::now();
    assert_eq!(
        rx.recv_deadline(start + short),
        Err(RecvTimeoutError::Timeout),
        "{name}: idle"
    );
    assert!(
        start.elapsed() >= short,
        "{name}: returned before its deadline"
    );
    go.send(()).unwrap();
    sender.join().unwrap();
    assert_eq!(
        rx.recv_deadline(Instant::now() + patience),
        Err(RecvTimeoutError::Disconnected),
        "{name}: disconnected"
    );
}

#[test]
fn pressure_of_a_sync_channel() {
    let (tx, rx) = mpsc::sync_channel(10);
    let expect = [
        (0, Pressure::Normal),
        (4, Pressure::Normal),
        (5, Pressure::Elevated),
        (7, Pressure::Elevated),
        (8, Pressure::Critical),
        (9, Pressure::Critical),
        (10, Pressure::Full),
    ];
    let mut sent = 0;
    for (len, pressure) in expect {
        while sent < len {
            tx.send(sent).unwrap();
            sent += 1;
        }
        assert_eq!(rx.pressure(), Some(pressure), "at {len} of 10");
    }
    drop(tx);
    assert_eq!(rx.pressure(), Some(Pressure::Draining));
    while rx.try_recv().is_ok() {}
    assert_eq!(rx.pressure(), Some(Pressure::Normal));
    assert_eq!(mpsc::channel::<u8>().1.pressure(), None);
    assert_eq!(mpsc::sync_channel::<u8>(0).1.pressure(), None);
}

/// Many senders, one receiver, values crossing many block boundaries of the
/// unbounded list; per-sender order and totals checked.
#[test]
fn unbounded_many_senders_across_blocks() {
    let _w = watchdog();
    let senders = 4;
    // Under Miri, 100 values per sender still cross a dozen 31-value blocks.
    let per = if cfg!(miri) { 100 } else { 20_000 };
    let (tx, rx) = mpsc::channel();
    let handles: Vec<_> = (0..senders)
        .map(|id| {
            let tx = tx.clone();
            thread::spawn(move || {
                for k in 0..per {
                    tx.send((id, k)).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let mut next = vec![0; senders];
    let mut max_len = 0;
    for (id, k) in rx.iter() {
        assert_eq!(k, next[id]);
        next[id] += 1;
        max_len = max_len.max(rx.len());
    }
    assert_eq!(next, vec![per; senders]);
    assert!(max_len <= senders * per);
    for h in handles {
        h.join().unwrap();
    }
}

/// Sends through any flavour's sender, handing the value back on failure.
type SendFn = Arc<dyn Fn(Tracked) -> Result<(), Tracked> + Send + Sync>;

/// The receiver goes while senders are mid-send: every value is received,
/// handed back, or dropped by the channel, exactly once, in every flavour.
#[test]
fn receiver_dropped_mid_stream_accounts_for_every_value() {
    let _w = watchdog();
    for round in 0..scaled(40) {
        for bound in [None, Some(0), Some(1), Some(5)] {
            let drops = Arc::new(AtomicUsize::new(0));
            let created = Arc::new(AtomicUsize::new(0));
            let (send, rx): (SendFn, _) = match bound {
                None => {
                    let (tx, rx) = mpsc::channel();
                    (Arc::new(move |v| tx.send(v).map_err(|e| e.0)), rx)
                }
                Some(b) => {
                    let (tx, rx) = mpsc::sync_channel(b);
                    (Arc::new(move |v| tx.send(v).map_err(|e| e.0)), rx)
                }
            };
            let handles: Vec<_> = (0..2)
                .map(|_| {
                    let (send, drops, created) = (send.clone(), drops.clone(), created.clone());
                    thread::spawn(move || {
                        for id in 0..200 {
                            created.fetch_add(1, Ordering::SeqCst);
                            let v = Tracked {
                                id,
                                drops: drops.clone(),
                            };
                            if let Err(v) = send(v) {
                                assert_eq!(v.id, id, "the value sent comes back");
                                return;
                            }
                        }
                    })
                })
                .collect();
            drop(send);
            for _ in 0..round % 7 * 10 {
                if rx.recv().is_err() {
                    break;
                }
            }
            drop(rx);
            for h in handles {
                h.join().unwrap();
            }
            assert_eq!(
                drops.load(Ordering::SeqCst),
                created.load(Ordering::SeqCst),
                "every value dropped exactly once ({bound:?}, round {round})"
            );
        }
    }
}

/// Rendezvous: receives with tiny timeouts race senders' hand-offs and
/// offers. A receive that times out must never swallow a value: every value
/// a `try_send` or `send` delivered is received, exactly once.
#[test]
fn rendezvous_timeouts_never_swallow_values() {
    let _w = watchdog();
    let (tx, rx) = mpsc::sync_channel::<usize>(0);
    let per = scaled(3_000);
    let delivered = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..2)
        .map(|id| {
            let (tx, delivered) = (tx.clone(), delivered.clone());
            thread::spawn(move || {
                for k in 0..per {
                    let value = id * per + k;
                    if k % 2 == 0 {
                        // Only delivered if the receiver is waiting right now.
                        if tx.try_send(value).is_ok() {
                            delivered.fetch_add(1, Ordering::SeqCst);
                        }
                    } else {
                        tx.send(value).unwrap();
                        delivered.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();
    drop(tx);
    let mut seen = vec![false; 2 * per];
    let mut received = 0;
    loop {
        match rx.recv_timeout(Duration::from_micros(50)) {
            Ok(v) => {
                assert!(!seen[v], "value {v} received twice");
                seen[v] = true;
                received += 1;
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(received, delivered.load(Ordering::SeqCst));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

/// A bounded channel of one slot with many senders and a receiver that mixes
/// every way to receive.
#[test]
fn bounded_mixed_receives() {
    let _w = watchdog();
    let (tx, rx) = mpsc::sync_channel(1);
    let per = scaled(5_000);
    let handles: Vec<_> = (0..3)
        .map(|id| {
            let tx = tx.clone();
            thread::spawn(move || {
                for k in 0..per {
                    tx.send((id, k)).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let mut next = [0; 3];
    let mut step = 0;
    loop {
        step += 1;
        let got = match step % 3 {
            0 => rx.recv().map_err(|_| ()),
            1 => match rx.try_recv() {
                Err(TryRecvError::Empty) => continue,
                other => other.map_err(|_| ()),
            },
            _ => match rx.recv_timeout(Duration::from_micros(100)) {
                Err(RecvTimeoutError::Timeout) => continue,
                other => other.map_err(|_| ()),
            },
        };
        let Ok((id, k)) = got else { break };
        assert_eq!(k, next[id]);
        next[id] += 1;
    }
    assert_eq!(next, [per; 3]);
    for h in handles {
        h.join().unwrap();
    }
}

/// Rendezvous: a sender spins on `try_send` while the receiver posts
/// itself waiting with receives that time out almost at once, so the
/// receiver's withdrawal races the sender's claim over and over. Every
/// `try_send` that succeeded must be received.
#[test]
fn rendezvous_withdraw_races_try_send() {
    let _w = watchdog();
    let (tx, rx) = mpsc::sync_channel::<usize>(0);
    let target = scaled(20_000);
    let sender = thread::spawn(move || {
        let give_up = std::time::Instant::now() + Duration::from_secs(20);
        let mut delivered = 0;
        let mut k = 0;
        while delivered < target && std::time::Instant::now() < give_up {
            for _ in 0..64 {
                k += 1;
                if tx.try_send(k).is_ok() {
                    delivered += 1;
                }
            }
        }
        delivered
    });
    let mut received = 0;
    let mut last = None;
    loop {
        match rx.recv_timeout(Duration::from_nanos(500)) {
            Ok(v) => {
                assert!(last < Some(v), "values arrive once, in order");
                last = Some(v);
                received += 1;
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    assert_eq!(received, sender.join().unwrap());
}
