//! Stolen and lost wakeups, on real threads with real clocks.
//!
//! The loom models check the waiting handshake exhaustively, but loom has no
//! clock: a timed waiter there takes the timeout path at once and never
//! sleeps, so a timed waiter that is *asleep* in the parking lot when a
//! notify picks it is never modelled. That is where a wakeup gets stolen: a
//! `notify_one` meant for a value (or a free slot) wakes a timed waiter whose
//! deadline is passing, the waiter leaves without taking what it was woken
//! for, and a waiter blocked without a deadline sleeps on beside it.
//!
//! Each round puts waiters of both kinds on one `Block` channel of capacity
//! 1 or 2: blocked ones (`recv`, `send`) and loopers on timeouts of a few
//! microseconds (`recv_timeout`/`recv_deadline`, `send_timeout`/
//! `send_deadline`), which park behind and in front of each other in the
//! parking lot's queue. A warm-up moves a value per blocked thread through,
//! so the blocked threads wait again, queued behind loopers that parked in
//! the meantime; then the loopers are told to stop, and one last value (or
//! one last free slot) is made, a random moment later. Its notify goes to
//! whoever is first in the queue, often a looper close to its deadline, and
//! no later notify would make up for one that is lost. The round then
//! requires, *while the channel stays connected* (a disconnect wakes
//! everyone and would hide a stolen wakeup), that
//!
//! * the last value is received, or the last free slot filled by one of the
//!   blocked senders;
//! * every value is received exactly once, or handed back by a timed send
//!   exactly once and then never received, and each sender's values arrive
//!   in order;
//! * every blocked call returns, once the values or the room it waits for
//!   exist, and afterwards the channel is empty and its counters agree.
//!
//! Nothing here asserts on timing: the only clock is a watchdog of
//! [`WATCHDOG`] on every wait, which turns a hang into a failure naming the
//! round and what was still outstanding.
//!
//! What it cannot check: that a wakeup is *prompt* (a waiter woken late but
//! eventually still passes), nor interleavings the scheduler does not produce
//! on the machine at hand. Whether a thread is parked, and where in the
//! queue, when the last notify comes is made likely with short sleeps, not
//! certain: a lost wakeup is caught in some rounds, not in every one. Other
//! policies never wait to send; their receivers wait exactly as here.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use weir::{Block, RecvTimeoutError, SendTimeoutError, TryRecvError};

/// How long any single wait may take before the round is declared hung.
const WATCHDOG: Duration = Duration::from_secs(60);

fn rounds() -> usize {
    if cfg!(miri) {
        8
    } else {
        400
    }
}

/// A small deterministic generator (splitmix64), seeded per round and thread
/// so a failing round runs the same timeouts again.
struct Rng(u64);

impl Rng {
    fn new(round: usize, thread: usize) -> Self {
        Self((round as u64) << 32 | thread as u64)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Up to `max` microseconds.
    fn micros(&mut self, max: u64) -> Duration {
        Duration::from_micros(self.next() % (max + 1))
    }

    /// A looper's timeout in `round`. In half the rounds a mix: mostly
    /// 1..=50 µs, which expire while the looper still spins or yields,
    /// sometimes zero, sometimes 100..300 µs, long enough to park. In the
    /// other half only long ones, so the loopers are mostly parked, some
    /// near their deadlines, when a notify comes.
    fn looper_timeout(&mut self, round: usize) -> Duration {
        let r = self.next();
        let micros = match (round % 8 >= 4, r % 16) {
            (true, _) | (false, 1..=3) => 100 + (r >> 8) % 200,
            (false, 0) => 0,
            (false, _) => 1 + (r >> 8) % 50,
        };
        Duration::from_micros(micros)
    }

    fn coin(&mut self) -> bool {
        self.next() & 1 == 0
    }
}

/// Who did something in a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// A thread in `recv` or `send`, no deadline.
    Blocked(usize),
    /// A thread looping on tiny timeouts.
    Looper(usize),
}

/// What the threads of a round report to the test thread.
#[derive(Debug)]
enum Event {
    /// `who` received `value`.
    Got(Who, u64),
    /// `who` returned from its last call and is leaving.
    Done(Who),
    /// A timed sender is leaving: it offered values `0..offered` of its own,
    /// and the last of them came back to it if `gave_up` is set.
    LooperDone {
        who: Who,
        offered: u64,
        gave_up: Option<u64>,
    },
    /// Something a correct channel never does; the text says what.
    Wrong(Who, String),
}

/// The next event of a round, or a failure naming what was outstanding if
/// none comes within the watchdog.
fn next_event(events: &mpsc::Receiver<Event>, outstanding: impl FnOnce() -> String) -> Event {
    match events.recv_timeout(WATCHDOG) {
        Ok(Event::Wrong(who, what)) => panic!("{who:?}: {what}"),
        Ok(event) => event,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("nothing happened for {WATCHDOG:?}: {}", outstanding())
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            panic!("every thread of the round is gone: {}", outstanding())
        }
    }
}

/// One receiver round on a channel of `capacity`: `n` receivers blocked in
/// `recv` (each looping until the channel disconnects) and `n` loopers on
/// tiny timed receives. The test thread sends `n` values, waits until they
/// are received, stops the loopers, and sends one more a moment later. That
/// one must be received while the channel is still connected; then the test
/// thread's sender goes and every receiver must return.
fn receivers_round(capacity: usize, n: usize, round: usize) {
    let ctx = format!("receivers, capacity {capacity}, {n} blocked + {n} timed, round {round}");
    let (tx, rx) = weir::bounded::<u64, Block>(capacity);
    let stop = Arc::new(AtomicBool::new(false));
    let (ev_tx, events) = mpsc::channel();
    let mut rng = Rng::new(round, 2 * n);

    for i in 0..n {
        let (rx, ev) = (rx.clone(), ev_tx.clone());
        thread::spawn(move || {
            let who = Who::Blocked(i);
            while let Ok(value) = rx.recv() {
                let _ = ev.send(Event::Got(who, value));
            }
            let _ = ev.send(Event::Done(who));
        });
    }
    // Let the blocked receivers park first in half the rounds.
    if round % 2 == 0 {
        thread::sleep(Duration::from_micros(500));
    }
    for j in 0..n {
        let (rx, ev, stop) = (rx.clone(), ev_tx.clone(), stop.clone());
        let mut rng = Rng::new(round, j);
        thread::spawn(move || {
            let who = Who::Looper(j);
            while !stop.load(Ordering::Acquire) {
                let timeout = rng.looper_timeout(round);
                let result = if rng.coin() {
                    rx.recv_timeout(timeout)
                } else {
                    rx.recv_deadline(Instant::now() + timeout)
                };
                match result {
                    Ok(value) => {
                        let _ = ev.send(Event::Got(who, value));
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                    // The test thread disconnects only after setting `stop`,
                    // so a looper may meet the disconnect then.
                    Err(RecvTimeoutError::Disconnected) if stop.load(Ordering::Acquire) => break,
                    Err(RecvTimeoutError::Disconnected) => {
                        let what = "disconnected while a sender was alive".to_string();
                        let _ = ev.send(Event::Wrong(who, what));
                        return;
                    }
                }
            }
            let _ = ev.send(Event::Done(who));
        });
    }
    drop((rx, ev_tx));
    thread::sleep(rng.micros(300));

    let mut receiver_of: HashMap<u64, Who> = HashMap::new();
    let mut loopers_done = 0;
    let mut wait_for = |values: usize, phase: &str| {
        while receiver_of.len() < values {
            let event = next_event(&events, || {
                format!(
                    "{ctx}, {phase}: {} of {values} values received (by {receiver_of:?}), {} in \
                     the channel, {:?}; a receiver sleeps while a value waits (stolen or lost \
                     wakeup)",
                    receiver_of.len(),
                    tx.len(),
                    tx.stats()
                )
            });
            match event {
                Event::Got(who, value) => {
                    assert!(
                        value <= n as u64,
                        "{ctx}: {who:?} received {value}, never sent"
                    );
                    if let Some(first) = receiver_of.insert(value, who) {
                        panic!("{ctx}: {value} received twice, by {first:?} and {who:?}");
                    }
                }
                Event::Done(who @ Who::Looper(_)) if stop.load(Ordering::Relaxed) => {
                    loopers_done += 1;
                    assert!(loopers_done <= n, "{ctx}: {who:?} done twice");
                }
                other => panic!("{ctx}, {phase}: {other:?} while the channel is connected"),
            }
        }
    };

    // Warm-up: a value per blocked receiver, so they wait again afterwards,
    // queued behind loopers that parked meanwhile.
    let send = |value: u64| {
        if let Err(e) = tx.send_timeout(value, WATCHDOG) {
            panic!("{ctx}: sending {value}: {e:?}, {:?}", tx.stats());
        }
    };
    for value in 0..n as u64 {
        send(value);
    }
    wait_for(n, "warm-up");

    // The last value, at a random point of the loopers' last waits.
    stop.store(true, Ordering::Release);
    thread::sleep(rng.micros(150));
    send(n as u64);
    wait_for(n + 1, "last value");

    // Every value is in; the last sender leaves, and everyone must return.
    let stats = tx.stats();
    drop(tx);
    let mut blocked_done = 0;
    while blocked_done < n || loopers_done < n {
        let event = next_event(&events, || {
            format!(
                "{ctx}: after the disconnect, {blocked_done} of {n} blocked and \
                 {loopers_done} of {n} timed receivers returned"
            )
        });
        match event {
            Event::Done(Who::Blocked(_)) => blocked_done += 1,
            Event::Done(Who::Looper(_)) => loopers_done += 1,
            other => panic!("{ctx}: {other:?} after every value was received"),
        }
    }
    let sent = n as u64 + 1;
    assert_eq!(
        (stats.sent, stats.received),
        (sent, sent),
        "{ctx}: {stats:?}"
    );
}

/// Values blocked senders send each in a sender round.
const PER_BLOCKED: u64 = 2;

/// A value of a sender round: who sent it (0 for the filling, `1 + i` for
/// blocked sender `i`, `1 + n + j` for looper `j`) and its number.
fn value(sender: usize, seq: u64) -> u64 {
    (sender as u64) << 32 | seq
}

fn sender_of(value: u64) -> usize {
    (value >> 32) as usize
}

/// One sender round on a channel of `capacity`, filled first: `n` senders
/// blocked in `send` ([`PER_BLOCKED`] values each) and `n` loopers on tiny
/// timed sends (as many values as they get in before they are stopped). The
/// test thread receives `n` values, stops the loopers, and a moment later
/// receives one more; the slot it frees must be filled again by a blocked
/// sender, with the channel still connected. Then everything is drained and
/// every value accounted for.
fn senders_round(capacity: usize, n: usize, round: usize) {
    let ctx = format!("senders, capacity {capacity}, {n} blocked + {n} timed, round {round}");
    let (tx, rx) = weir::bounded::<u64, Block>(capacity);
    for seq in 0..capacity as u64 {
        tx.try_send(value(0, seq)).unwrap();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let (ev_tx, events) = mpsc::channel();
    let mut rng = Rng::new(round, 2 * n);

    for i in 0..n {
        let (tx, ev) = (tx.clone(), ev_tx.clone());
        thread::spawn(move || {
            let who = Who::Blocked(i);
            for seq in 0..PER_BLOCKED {
                if tx.send(value(1 + i, seq)).is_err() {
                    let what = format!("send of {seq} found no receiver");
                    let _ = ev.send(Event::Wrong(who, what));
                    return;
                }
            }
            let _ = ev.send(Event::Done(who));
        });
    }
    // Let the blocked senders park first in half the rounds.
    if round % 2 == 0 {
        thread::sleep(Duration::from_micros(500));
    }
    for j in 0..n {
        let (tx, ev, stop) = (tx.clone(), ev_tx.clone(), stop.clone());
        let mut rng = Rng::new(round, j);
        thread::spawn(move || {
            let who = Who::Looper(j);
            let mut seq = 0;
            let event = 'values: loop {
                if stop.load(Ordering::Acquire) {
                    break Event::LooperDone {
                        who,
                        offered: seq,
                        gave_up: None,
                    };
                }
                let mine = value(1 + n + j, seq);
                let mut attempt = mine;
                loop {
                    let timeout = rng.looper_timeout(round);
                    let result = if rng.coin() {
                        tx.send_timeout(attempt, timeout)
                    } else {
                        tx.send_deadline(attempt, Instant::now() + timeout)
                    };
                    match result {
                        Ok(()) => break,
                        Err(SendTimeoutError::Timeout(back)) if back != mine => {
                            break 'values Event::Wrong(who, format!("sent {mine}, got {back}"));
                        }
                        Err(SendTimeoutError::Timeout(back)) => attempt = back,
                        Err(SendTimeoutError::Disconnected(_)) => {
                            break 'values Event::Wrong(who, "no receiver".to_string());
                        }
                    }
                    if stop.load(Ordering::Acquire) {
                        break 'values Event::LooperDone {
                            who,
                            offered: seq + 1,
                            gave_up: Some(attempt),
                        };
                    }
                }
                seq += 1;
            };
            let _ = ev.send(event);
        });
    }
    drop(ev_tx);
    thread::sleep(rng.micros(300));

    let mut received: Vec<u64> = Vec::new();
    let recv = |received: &mut Vec<u64>, phase: &str| match rx.recv_timeout(WATCHDOG) {
        Ok(value) => received.push(value),
        Err(e) => panic!(
            "{ctx}, {phase}: {e:?} after {WATCHDOG:?} (received {received:x?}), {} in the \
             channel, {:?}; a sender sleeps while there is room (stolen or lost wakeup)",
            rx.len(),
            rx.stats()
        ),
    };
    let mut ends = SenderEnds::default();

    // Warm-up: room for a value per blocked sender, so they wait again
    // afterwards, queued behind loopers that parked meanwhile.
    for _ in 0..n {
        recv(&mut received, "warm-up");
    }

    // The last free slot, at a random point of the loopers' last waits. The
    // blocked senders still have values (unless they are done), so the slot
    // must be filled again, whoever the notify went to.
    stop.store(true, Ordering::Release);
    thread::sleep(rng.micros(150));
    recv(&mut received, "last slot");
    let start = Instant::now();
    while !rx.is_full() && ends.blocked_done < n {
        match events.try_recv() {
            Ok(Event::Wrong(who, what)) => panic!("{ctx}: {who:?}: {what}"),
            Ok(event) => ends.record(&ctx, event),
            Err(_) => thread::sleep(Duration::from_micros(50)),
        }
        assert!(
            start.elapsed() < WATCHDOG,
            "{ctx}: a slot stayed free for {WATCHDOG:?} while {} blocked senders still had \
             values ({} in the channel, {:?}); a sender sleeps while there is room (stolen or \
             lost wakeup)",
            n - ends.blocked_done,
            rx.len(),
            rx.stats()
        );
    }

    // Every looper ends with its last value in or handed back.
    while ends.loopers.len() < n {
        let event = next_event(&events, || {
            let done = ends.loopers.len();
            format!("{ctx}: {done} of {n} timed senders finished after being stopped")
        });
        ends.record(&ctx, event);
    }
    let looper_sent: u64 = ends
        .loopers
        .values()
        .map(|&(offered, gave_up)| offered - u64::from(gave_up.is_some()))
        .sum();

    // Drain: the filling, every blocked sender's values, the loopers' sent.
    let total = capacity + n * PER_BLOCKED as usize + looper_sent as usize;
    while received.len() < total {
        recv(&mut received, "draining");
    }
    while ends.blocked_done < n {
        let event = next_event(&events, || {
            let done = ends.blocked_done;
            format!(
                "{ctx}: all {total} values received, but only {done} of {n} blocked sends returned"
            )
        });
        ends.record(&ctx, event);
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "{ctx}");

    // One receiver: each sender's values arrive in order. And every value
    // offered is received or was handed back, exactly once.
    let mut next = vec![0u64; 1 + 2 * n];
    for &v in &received {
        let (sender, seq) = (sender_of(v), v & 0xFFFF_FFFF);
        assert!(sender <= 2 * n, "{ctx}: received {v:#x}, never sent");
        assert_eq!(seq, next[sender], "{ctx}: sender {sender} out of order");
        next[sender] += 1;
    }
    assert_eq!(next[0], capacity as u64, "{ctx}: the filling");
    for i in 0..n {
        assert_eq!(next[1 + i], PER_BLOCKED, "{ctx}: blocked sender {i}");
    }
    for (j, &(offered, gave_up)) in &ends.loopers {
        let in_channel = offered - u64::from(gave_up.is_some());
        assert_eq!(next[1 + n + j], in_channel, "{ctx}: looper {j}");
        if let Some(back) = gave_up {
            assert_eq!(back, value(1 + n + j, offered - 1), "{ctx}: looper {j}");
        }
    }
    let stats = rx.stats();
    assert_eq!(
        (stats.sent, stats.received, stats.refused),
        (total as u64, total as u64, 0),
        "{ctx}: {stats:?}"
    );
    drop(tx);
}

/// How the senders of a sender round ended, as reported so far.
#[derive(Debug, Default)]
struct SenderEnds {
    /// Blocked senders that sent all their values.
    blocked_done: usize,
    /// Per looper: values offered and the one handed back, if any.
    loopers: HashMap<usize, (u64, Option<u64>)>,
}

impl SenderEnds {
    fn record(&mut self, ctx: &str, event: Event) {
        match event {
            Event::Done(Who::Blocked(_)) => self.blocked_done += 1,
            Event::LooperDone {
                who: Who::Looper(j),
                offered,
                gave_up,
            } => assert!(
                self.loopers.insert(j, (offered, gave_up)).is_none(),
                "{ctx}: looper {j} done twice"
            ),
            other => panic!("{ctx}: unexpected {other:?}"),
        }
    }
}

macro_rules! wakeup_tests {
    ($($name:ident: $round:ident, $cap:expr, $n:expr;)*) => {$(
        #[test]
        fn $name() {
            for round in 0..rounds() {
                $round($cap, $n, round);
            }
        }
    )*};
}

wakeup_tests! {
    receivers_cap1_n2: receivers_round, 1, 2;
    receivers_cap1_n4: receivers_round, 1, 4;
    receivers_cap2_n2: receivers_round, 2, 2;
    receivers_cap2_n4: receivers_round, 2, 4;
    senders_cap1_n2: senders_round, 1, 2;
    senders_cap1_n4: senders_round, 1, 4;
    senders_cap2_n2: senders_round, 2, 2;
    senders_cap2_n4: senders_round, 2, 4;
}
