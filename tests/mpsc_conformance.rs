//! `weir::mpsc` against `std::sync::mpsc`: every test body below is compiled
//! twice, once with `use std::sync::mpsc as mpsc;` and once with
//! `use weir::mpsc as mpsc;`, so each expectation is first proven against
//! std itself and then required of weir.
//!
//! Covered: every public item and trait implementation, the unbounded,
//! bounded and rendezvous flavours, timeouts, iterators, disconnection from
//! either side, values handed back in errors, values dropped exactly once,
//! and threads.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Long enough for a thread to reach a blocking call; used only to check that
/// a call has *not* returned yet, never to assert speed.
const SETTLE: Duration = Duration::from_millis(if cfg!(miri) { 5 } else { 50 });

/// A short wait that is expected to time out.
const SHORT: Duration = Duration::from_millis(10);

/// Scales a count down under Miri.
const fn scaled(n: usize) -> usize {
    if cfg!(miri) {
        n / 20 + 2
    } else {
        n
    }
}

/// A value that counts its drops.
#[derive(Debug)]
struct Tracked {
    id: usize,
    drops: Arc<AtomicUsize>,
}

impl Tracked {
    fn new(id: usize, drops: &Arc<AtomicUsize>) -> Self {
        Self {
            id,
            drops: drops.clone(),
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

fn count(c: &AtomicUsize) -> usize {
    c.load(Ordering::SeqCst)
}

/// Aborts the test binary if the test holding it runs past `limit`: a bug that
/// makes a call wait forever fails loudly instead of hanging the suite.
struct Watchdog {
    _done: std::sync::mpsc::Sender<()>,
}

fn watchdog() -> Watchdog {
    let limit = Duration::from_secs(if cfg!(miri) { 3_600 } else { 60 });
    let (done, wait) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(limit) {
            eprintln!("a conformance test ran past {limit:?}: aborting");
            std::process::abort();
        }
    });
    Watchdog { _done: done }
}

/// Polls `f` until it returns `Some`, for at most ten seconds.
fn eventually<R>(mut f: impl FnMut() -> Option<R>) -> R {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(r) = f() {
            return r;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "condition not reached in time"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

struct NotDebug;

macro_rules! conformance {
    ($module:path) => {
        use std::cell::Cell;
        use std::error::Error;
        use std::panic::{RefUnwindSafe, UnwindSafe};
        use std::rc::Rc;
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        use std::thread;
        use std::time::{Duration, Instant};

        use static_assertions::{assert_impl_all, assert_not_impl_any};

        use $module as mpsc;
        use mpsc::{
            channel, sync_channel, Receiver, RecvError, RecvTimeoutError, SendError, Sender,
            SyncSender, TryRecvError, TrySendError,
        };

        #[allow(unused_imports)]
        use super::{count, counter, eventually, scaled, watchdog, NotDebug, Tracked, SETTLE, SHORT};

        // ----- trait implementations and signatures ---------------------------

        assert_impl_all!(Sender<u8>: Send, Sync, Clone, std::fmt::Debug, Unpin, UnwindSafe, RefUnwindSafe);
        assert_impl_all!(Sender<Cell<u8>>: Send, Sync);
        assert_impl_all!(Sender<NotDebug>: std::fmt::Debug);
        assert_not_impl_any!(Sender<Rc<u8>>: Send, Sync);
        assert_not_impl_any!(Sender<u8>: Copy);

        assert_impl_all!(SyncSender<u8>: Send, Sync, Clone, std::fmt::Debug, Unpin, UnwindSafe, RefUnwindSafe);
        assert_impl_all!(SyncSender<Cell<u8>>: Send, Sync);
        assert_impl_all!(SyncSender<NotDebug>: std::fmt::Debug);
        assert_not_impl_any!(SyncSender<Rc<u8>>: Send, Sync);

        assert_impl_all!(Receiver<u8>: Send, std::fmt::Debug, Unpin, UnwindSafe, RefUnwindSafe);
        assert_impl_all!(Receiver<u8>: IntoIterator<Item = u8, IntoIter = mpsc::IntoIter<u8>>);
        assert_impl_all!(&'static Receiver<u8>: IntoIterator<Item = u8, IntoIter = mpsc::Iter<'static, u8>>);
        assert_impl_all!(Receiver<Cell<u8>>: Send);
        assert_impl_all!(Receiver<NotDebug>: std::fmt::Debug);
        assert_not_impl_any!(Receiver<u8>: Sync, Clone);
        assert_not_impl_any!(Receiver<Rc<u8>>: Send);

        assert_impl_all!(mpsc::Iter<'static, u8>: Iterator<Item = u8>, std::fmt::Debug);
        assert_impl_all!(mpsc::TryIter<'static, u8>: Iterator<Item = u8>, std::fmt::Debug);
        assert_impl_all!(mpsc::IntoIter<u8>: Iterator<Item = u8>, std::fmt::Debug, Send);
        assert_not_impl_any!(mpsc::Iter<'static, u8>: Send, Sync);
        assert_not_impl_any!(mpsc::TryIter<'static, u8>: Send, Sync);
        assert_not_impl_any!(mpsc::IntoIter<u8>: Sync);
        assert_not_impl_any!(mpsc::Iter<'static, NotDebug>: std::fmt::Debug);

        assert_impl_all!(SendError<u8>: Copy, Clone, PartialEq, Eq, std::fmt::Debug, std::fmt::Display, Error, Send, Sync);
        assert_impl_all!(SendError<NotDebug>: std::fmt::Debug, std::fmt::Display, Error);
        assert_not_impl_any!(SendError<String>: Copy);
        assert_impl_all!(TrySendError<u8>: Copy, Clone, PartialEq, Eq, std::fmt::Debug, std::fmt::Display, Error, From<SendError<u8>>);
        assert_impl_all!(TrySendError<NotDebug>: std::fmt::Debug, std::fmt::Display, Error);
        assert_impl_all!(RecvError: Copy, Clone, PartialEq, Eq, std::fmt::Debug, std::fmt::Display, Error, Send, Sync);
        assert_impl_all!(TryRecvError: Copy, Clone, PartialEq, Eq, std::fmt::Debug, std::fmt::Display, Error, From<RecvError>);
        assert_impl_all!(RecvTimeoutError: Copy, Clone, PartialEq, Eq, std::fmt::Debug, std::fmt::Display, Error, From<RecvError>);

        /// Every public function and method has std's signature.
        #[test]
        fn signatures_match() {
            let _: fn() -> (Sender<u8>, Receiver<u8>) = channel::<u8>;
            let _: fn(usize) -> (SyncSender<u8>, Receiver<u8>) = sync_channel::<u8>;
            let _: fn(&Sender<u8>, u8) -> Result<(), SendError<u8>> = Sender::send;
            let _: fn(&SyncSender<u8>, u8) -> Result<(), SendError<u8>> = SyncSender::send;
            let _: fn(&SyncSender<u8>, u8) -> Result<(), TrySendError<u8>> = SyncSender::try_send;
            let _: fn(&Receiver<u8>) -> Result<u8, RecvError> = Receiver::recv;
            let _: fn(&Receiver<u8>) -> Result<u8, TryRecvError> = Receiver::try_recv;
            let _: fn(&Receiver<u8>, Duration) -> Result<u8, RecvTimeoutError> =
                Receiver::recv_timeout;
            let _: for<'a> fn(&'a Receiver<u8>) -> mpsc::Iter<'a, u8> = Receiver::iter;
            let _: for<'a> fn(&'a Receiver<u8>) -> mpsc::TryIter<'a, u8> = Receiver::try_iter;
            let SendError(inner) = SendError(5u8);
            assert_eq!(inner, 5);
        }

        // ----- formatting -------------------------------------------------------

        #[test]
        fn error_messages() {
            assert_eq!(SendError(1).to_string(), "sending on a closed channel");
            assert_eq!(TrySendError::Full(1).to_string(), "sending on a full channel");
            assert_eq!(TrySendError::Disconnected(1).to_string(), "sending on a closed channel");
            assert_eq!(RecvError.to_string(), "receiving on a closed channel");
            assert_eq!(TryRecvError::Empty.to_string(), "receiving on an empty channel");
            assert_eq!(TryRecvError::Disconnected.to_string(), "receiving on a closed channel");
            assert_eq!(RecvTimeoutError::Timeout.to_string(), "timed out waiting on channel");
            assert_eq!(
                RecvTimeoutError::Disconnected.to_string(),
                "channel is empty and sending half is closed"
            );
            // Display honours padding, as std's does.
            assert_eq!(format!("{:>31}", RecvError), "  receiving on a closed channel");
            assert!(SendError(1).source().is_none());
        }

        #[test]
        fn debug_output() {
            assert_eq!(format!("{:?}", SendError(1)), "SendError { .. }");
            assert_eq!(format!("{:#?}", SendError(1)), "SendError { .. }");
            assert_eq!(format!("{:?}", TrySendError::Full(1)), "TrySendError::Full(..)");
            assert_eq!(format!("{:#?}", TrySendError::Full(1)), "TrySendError::Full(..)");
            assert_eq!(
                format!("{:?}", TrySendError::Disconnected(NotDebug)),
                "TrySendError::Disconnected(..)"
            );
            assert_eq!(format!("{:?}", RecvError), "RecvError");
            assert_eq!(format!("{:?}", TryRecvError::Empty), "Empty");
            assert_eq!(format!("{:?}", TryRecvError::Disconnected), "Disconnected");
            assert_eq!(format!("{:?}", RecvTimeoutError::Timeout), "Timeout");
            assert_eq!(format!("{:?}", RecvTimeoutError::Disconnected), "Disconnected");

            let (tx, rx) = channel::<NotDebug>();
            assert_eq!(format!("{tx:?}"), "Sender { .. }");
            assert_eq!(format!("{rx:?}"), "Receiver { .. }");
            let (stx, srx) = sync_channel::<u8>(1);
            assert_eq!(format!("{stx:?}"), "SyncSender { .. }");
            assert_eq!(format!("{srx:?}"), "Receiver { .. }");
            assert_eq!(format!("{:?}", srx.iter()), "Iter { rx: Receiver { .. } }");
            assert_eq!(format!("{:?}", srx.try_iter()), "TryIter { rx: Receiver { .. } }");
            assert_eq!(format!("{:?}", srx.into_iter()), "IntoIter { rx: Receiver { .. } }");
        }

        #[test]
        fn error_conversions_and_equality() {
            assert_eq!(TrySendError::from(SendError(3)), TrySendError::Disconnected(3));
            assert_eq!(TryRecvError::from(RecvError), TryRecvError::Disconnected);
            assert_eq!(RecvTimeoutError::from(RecvError), RecvTimeoutError::Disconnected);
            assert_ne!(TrySendError::Full(1), TrySendError::Disconnected(1));
            let e = SendError(String::from("x"));
            assert_eq!(e.clone(), e);
            let boxed: Box<dyn Error + Send + Sync> = Box::new(TrySendError::Full(1u8));
            assert_eq!(boxed.to_string(), "sending on a full channel");
        }

        // ----- unbounded --------------------------------------------------------

        #[test]
        fn channel_is_fifo_across_blocks() {
            let (tx, rx) = channel();
            let n = 200; // several blocks of the unbounded flavour, even under Miri
            for i in 0..n {
                tx.send(i).unwrap();
            }
            for i in 0..n {
                assert_eq!(rx.recv(), Ok(i));
            }
            assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        }

        #[test]
        fn channel_send_never_waits() {
            let (tx, rx) = channel();
            let n = scaled(5_000);
            for i in 0..n {
                tx.send(i).unwrap();
            }
            drop(tx);
            assert_eq!(rx.iter().count(), n);
        }

        #[test]
        fn channel_interleaved_send_and_recv() {
            let (tx, rx) = channel();
            let mut next = 0;
            for round in 0..scaled(100) {
                for k in 0..round % 7 {
                    tx.send(round * 10 + k).unwrap();
                }
                for k in 0..round % 7 {
                    assert_eq!(rx.try_recv(), Ok(round * 10 + k));
                    next += 1;
                }
                assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
            }
            assert!(next > 0);
        }

        // ----- bounded ----------------------------------------------------------

        #[test]
        fn sync_channel_holds_exactly_bound() {
            for bound in [1, 2, 3, 7] {
                let (tx, rx) = sync_channel(bound);
                for i in 0..bound {
                    assert_eq!(tx.try_send(i), Ok(()));
                }
                assert_eq!(tx.try_send(99), Err(TrySendError::Full(99)));
                assert_eq!(rx.recv(), Ok(0));
                assert_eq!(tx.try_send(100), Ok(()));
                assert_eq!(tx.try_send(101), Err(TrySendError::Full(101)));
                let rest: Vec<_> = rx.try_iter().collect();
                let mut expected: Vec<_> = (1..bound).collect();
                expected.push(100);
                assert_eq!(rest, expected);
            }
        }

        #[test]
        fn sync_channel_send_waits_for_room() {
            let _w = watchdog();
            let (tx, rx) = sync_channel(1);
            tx.send(1).unwrap();
            let returned = Arc::new(AtomicBool::new(false));
            let flag = returned.clone();
            let sender = thread::spawn(move || {
                tx.send(2).unwrap();
                flag.store(true, Ordering::SeqCst);
            });
            thread::sleep(SETTLE);
            assert!(!returned.load(Ordering::SeqCst), "send on a full channel returned");
            assert_eq!(rx.recv(), Ok(1));
            assert_eq!(rx.recv(), Ok(2));
            sender.join().unwrap();
            assert!(returned.load(Ordering::SeqCst));
        }

        #[test]
        fn sync_channel_blocked_send_gets_value_back_when_receiver_goes() {
            let _w = watchdog();
            let drops = counter();
            let (tx, rx) = sync_channel(1);
            tx.send(Tracked::new(1, &drops)).unwrap();
            let d = drops.clone();
            let sender = thread::spawn(move || tx.send(Tracked::new(2, &d)));
            thread::sleep(SETTLE);
            drop(rx); // drops value 1, wakes the sender
            let SendError(back) = sender.join().unwrap().unwrap_err();
            assert_eq!(back.id, 2);
            assert_eq!(count(&drops), 1);
            drop(back);
            assert_eq!(count(&drops), 2);
        }

        // ----- rendezvous -------------------------------------------------------

        #[test]
        fn rendezvous_try_send_without_receiver_is_full() {
            let (tx, rx) = sync_channel(0);
            assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
            assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
            drop(rx);
            assert_eq!(tx.try_send(2), Err(TrySendError::Disconnected(2)));
        }

        #[test]
        fn rendezvous_send_returns_only_after_recv() {
            let _w = watchdog();
            let (tx, rx) = sync_channel(0);
            let returned = Arc::new(AtomicBool::new(false));
            let flag = returned.clone();
            let sender = thread::spawn(move || {
                tx.send(7).unwrap();
                flag.store(true, Ordering::SeqCst);
            });
            thread::sleep(SETTLE);
            assert!(!returned.load(Ordering::SeqCst), "rendezvous send returned alone");
            assert_eq!(rx.recv(), Ok(7));
            sender.join().unwrap();
            assert!(returned.load(Ordering::SeqCst));
            assert_eq!(rx.recv(), Err(RecvError));
        }

        #[test]
        fn rendezvous_try_send_reaches_a_waiting_receiver() {
            let _w = watchdog();
            let (tx, rx) = sync_channel(0);
            let receiver = thread::spawn(move || rx.recv());
            // Succeeds once the receiver is waiting; until then it is `Full`.
            let mut value = 0;
            eventually(|| match tx.try_send(value) {
                Ok(()) => Some(()),
                Err(TrySendError::Full(v)) => {
                    value = v + 1;
                    None
                }
                Err(TrySendError::Disconnected(_)) => panic!("receiver is alive"),
            });
            assert_eq!(receiver.join().unwrap(), Ok(value));
        }

        #[test]
        fn rendezvous_try_recv_takes_from_a_waiting_sender() {
            let _w = watchdog();
            let (tx, rx) = sync_channel(0);
            let sender = thread::spawn(move || tx.send(3));
            let got = eventually(|| match rx.try_recv() {
                Ok(v) => Some(v),
                Err(TryRecvError::Empty) => None,
                Err(TryRecvError::Disconnected) => panic!("sender is alive"),
            });
            assert_eq!(got, 3);
            assert_eq!(sender.join().unwrap(), Ok(()));
            assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
        }

        #[test]
        fn rendezvous_blocked_send_gets_value_back_when_receiver_goes() {
            let _w = watchdog();
            let drops = counter();
            let (tx, rx) = sync_channel(0);
            let d = drops.clone();
            let sender = thread::spawn(move || tx.send(Tracked::new(4, &d)));
            thread::sleep(SETTLE);
            drop(rx);
            let SendError(back) = sender.join().unwrap().unwrap_err();
            assert_eq!(back.id, 4);
            assert_eq!(count(&drops), 0);
        }

        #[test]
        fn rendezvous_recv_woken_by_disconnect() {
            let _w = watchdog();
            let (tx, rx) = sync_channel::<u8>(0);
            let receiver = thread::spawn(move || rx.recv());
            thread::sleep(SETTLE);
            drop(tx);
            assert_eq!(receiver.join().unwrap(), Err(RecvError));
        }

        #[test]
        fn rendezvous_recv_timeout() {
            let _w = watchdog();
            let (tx, rx) = sync_channel::<u8>(0);
            assert_eq!(rx.recv_timeout(SHORT), Err(RecvTimeoutError::Timeout));
            // A timed-out receive leaves nothing behind: a later try_send
            // still finds no receiver.
            assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
            let sender = thread::spawn(move || tx.send(2));
            assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(2));
            assert_eq!(sender.join().unwrap(), Ok(()));
            assert_eq!(rx.recv_timeout(SHORT), Err(RecvTimeoutError::Disconnected));
        }

        #[test]
        fn rendezvous_many_senders() {
            let _w = watchdog();
            let (tx, rx) = sync_channel(0);
            let senders: Vec<_> = (0..3)
                .map(|id| {
                    let tx = tx.clone();
                    thread::spawn(move || {
                        for k in 0..scaled(50) {
                            tx.send((id, k)).unwrap();
                        }
                    })
                })
                .collect();
            drop(tx);
            let mut next = [0; 3];
            for (id, k) in rx.iter() {
                assert_eq!(k, next[id], "values of one sender arrive in order");
                next[id] += 1;
            }
            assert_eq!(next, [scaled(50); 3]);
            for s in senders {
                s.join().unwrap();
            }
        }

        // ----- disconnection ----------------------------------------------------

        #[test]
        fn send_after_receiver_dropped_returns_the_value() {
            let (tx, rx) = channel();
            drop(rx);
            assert_eq!(tx.send(String::from("a")), Err(SendError(String::from("a"))));
            for bound in [0, 1, 4] {
                let (tx, rx) = sync_channel(bound);
                drop(rx);
                assert_eq!(tx.send(5), Err(SendError(5)));
                assert_eq!(tx.try_send(6), Err(TrySendError::Disconnected(6)));
            }
        }

        #[test]
        fn recv_drains_before_reporting_disconnection() {
            let (tx, rx) = channel();
            let (stx, srx) = sync_channel(3);
            for i in 0..3 {
                tx.send(i).unwrap();
                stx.send(i).unwrap();
            }
            drop((tx, stx));
            for rx in [rx, srx] {
                assert_eq!(rx.recv(), Ok(0));
                assert_eq!(rx.try_recv(), Ok(1));
                assert_eq!(rx.recv_timeout(SHORT), Ok(2));
                assert_eq!(rx.recv(), Err(RecvError));
                assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
                assert_eq!(rx.recv_timeout(SHORT), Err(RecvTimeoutError::Disconnected));
            }
        }

        #[test]
        fn a_clone_keeps_the_channel_connected() {
            let (tx, rx) = channel::<u8>();
            let tx2 = tx.clone();
            drop(tx);
            assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
            tx2.send(1).unwrap();
            drop(tx2);
            assert_eq!(rx.recv(), Ok(1));
            assert_eq!(rx.recv(), Err(RecvError));

            for bound in [0, 2] {
                let (tx, rx) = sync_channel::<u8>(bound);
                let tx2 = tx.clone();
                drop(tx);
                assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
                assert_eq!(rx.recv_timeout(SHORT), Err(RecvTimeoutError::Timeout));
                drop(tx2);
                assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
            }
        }

        #[test]
        fn recv_woken_when_the_last_sender_goes() {
            let _w = watchdog();
            for bound in [None, Some(0), Some(1)] {
                let (rx, senders) = match bound {
                    None => {
                        let (tx, rx) = channel::<u8>();
                        (rx, vec![Box::new(tx) as Box<dyn Send>, Box::new(())])
                    }
                    Some(b) => {
                        let (tx, rx) = sync_channel::<u8>(b);
                        let tx2 = tx.clone();
                        (rx, vec![Box::new(tx) as Box<dyn Send>, Box::new(tx2)])
                    }
                };
                let receiver = thread::spawn(move || rx.recv());
                thread::sleep(SETTLE);
                drop(senders);
                assert_eq!(receiver.join().unwrap(), Err(RecvError));
            }
        }

        // ----- timeouts ---------------------------------------------------------

        #[test]
        fn recv_timeout_distinguishes_timeout_from_disconnect() {
            let _w = watchdog();
            let (tx, rx) = channel::<u8>();
            let start = Instant::now();
            assert_eq!(rx.recv_timeout(SHORT), Err(RecvTimeoutError::Timeout));
            assert!(start.elapsed() >= SHORT, "returned before its timeout");
            assert_eq!(rx.recv_timeout(Duration::ZERO), Err(RecvTimeoutError::Timeout));
            let sender = thread::spawn(move || {
                thread::sleep(SETTLE);
                tx.send(1).unwrap();
            });
            assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(1));
            sender.join().unwrap();
            assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Err(RecvTimeoutError::Disconnected));
        }

        #[test]
        fn recv_timeout_woken_by_disconnect() {
            let _w = watchdog();
            for bound in [None, Some(0), Some(2)] {
                let (rx, tx): (Receiver<u8>, Box<dyn Send>) = match bound {
                    None => {
                        let (tx, rx) = channel();
                        (rx, Box::new(tx))
                    }
                    Some(b) => {
                        let (tx, rx) = sync_channel(b);
                        (rx, Box::new(tx))
                    }
                };
                let receiver = thread::spawn(move || rx.recv_timeout(Duration::from_secs(30)));
                thread::sleep(SETTLE);
                drop(tx);
                assert_eq!(receiver.join().unwrap(), Err(RecvTimeoutError::Disconnected));
            }
        }

        #[test]
        fn recv_timeout_with_an_endless_timeout() {
            let (tx, rx) = channel();
            tx.send(1).unwrap();
            assert_eq!(rx.recv_timeout(Duration::MAX), Ok(1));
            drop(tx);
            assert_eq!(rx.recv_timeout(Duration::MAX), Err(RecvTimeoutError::Disconnected));
            let (tx, rx) = sync_channel(1);
            tx.send(1).unwrap();
            assert_eq!(rx.recv_timeout(Duration::MAX), Ok(1));
            drop(tx);
            assert_eq!(rx.recv_timeout(Duration::MAX), Err(RecvTimeoutError::Disconnected));
        }

        #[test]
        fn bounded_recv_timeout_times_out_then_receives() {
            let _w = watchdog();
            for bound in [0, 1] {
                let (tx, rx) = sync_channel(bound);
                assert_eq!(rx.recv_timeout(SHORT), Err(RecvTimeoutError::Timeout));
                let sender = thread::spawn(move || tx.send(9));
                assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(9));
                assert_eq!(sender.join().unwrap(), Ok(()));
            }
        }

        // ----- iterators --------------------------------------------------------

        #[test]
        fn iter_ends_when_senders_are_gone() {
            let _w = watchdog();
            let (tx, rx) = channel();
            let sender = thread::spawn(move || {
                for i in 0..scaled(100) {
                    tx.send(i).unwrap();
                }
            });
            let got: Vec<_> = rx.iter().collect();
            assert_eq!(got, (0..scaled(100)).collect::<Vec<_>>());
            sender.join().unwrap();
            assert_eq!(rx.iter().next(), None);
        }

        #[test]
        fn try_iter_stops_at_empty_without_waiting() {
            let (tx, rx) = sync_channel(4);
            assert_eq!(rx.try_iter().next(), None);
            tx.send(1).unwrap();
            tx.send(2).unwrap();
            assert_eq!(rx.try_iter().collect::<Vec<_>>(), [1, 2]);
            tx.send(3).unwrap();
            assert_eq!(rx.try_iter().collect::<Vec<_>>(), [3]);
            drop(tx);
            assert_eq!(rx.try_iter().next(), None);
        }

        #[test]
        fn into_iter_and_for_loops() {
            let (tx, rx) = channel();
            for i in 0..3 {
                tx.send(i).unwrap();
            }
            drop(tx);
            let mut seen = Vec::new();
            for v in &rx {
                seen.push(v);
                if v == 1 {
                    break;
                }
            }
            for v in rx {
                seen.push(v);
            }
            assert_eq!(seen, [0, 1, 2]);

            let (tx, rx) = sync_channel(2);
            tx.send(1).unwrap();
            drop(tx);
            assert_eq!(rx.into_iter().collect::<Vec<_>>(), [1]);
        }

        // ----- drops ------------------------------------------------------------

        #[test]
        fn values_left_are_dropped_when_the_receiver_goes() {
            let drops = counter();
            let n = 70; // three blocks of the unbounded flavour
            let (tx, rx) = channel();
            for i in 0..n {
                tx.send(Tracked::new(i, &drops)).unwrap();
            }
            assert_eq!(rx.recv().unwrap().id, 0);
            assert_eq!(count(&drops), 1);
            drop(rx); // the sender is still alive: std drops the rest now
            assert_eq!(count(&drops), n);
            let SendError(back) = tx.send(Tracked::new(n, &drops)).unwrap_err();
            assert_eq!(count(&drops), n);
            drop(back);
            drop(tx);
            assert_eq!(count(&drops), n + 1);

            let drops = counter();
            let (tx, rx) = sync_channel(4);
            for i in 0..4 {
                tx.send(Tracked::new(i, &drops)).unwrap();
            }
            drop(rx);
            assert_eq!(count(&drops), 4);
            let TrySendError::Disconnected(back) = tx.try_send(Tracked::new(4, &drops)).unwrap_err()
            else {
                panic!("expected Disconnected");
            };
            assert_eq!(back.id, 4);
            drop(back);
            assert_eq!(count(&drops), 5);
        }

        #[test]
        fn values_left_are_dropped_once_when_the_last_sender_goes_after_the_receiver() {
            let drops = counter();
            for bound in [None, Some(1), Some(8)] {
                drops.store(0, Ordering::SeqCst);
                let (rx, tx): (Receiver<Tracked>, Box<dyn Fn(Tracked)>) = match bound {
                    None => {
                        let (tx, rx) = channel();
                        (rx, Box::new(move |v| tx.send(v).unwrap()))
                    }
                    Some(b) => {
                        let (tx, rx) = sync_channel(b);
                        (rx, Box::new(move |v| tx.try_send(v).unwrap()))
                    }
                };
                let n = bound.unwrap_or(40);
                for i in 0..n {
                    tx(Tracked::new(i, &drops));
                }
                drop(tx);
                assert_eq!(count(&drops), 0, "values outlive their senders");
                drop(rx);
                assert_eq!(count(&drops), n);
            }
        }

        #[test]
        fn received_values_are_not_dropped_by_the_channel() {
            let drops = counter();
            let (tx, rx) = channel();
            tx.send(Tracked::new(0, &drops)).unwrap();
            let v = rx.recv().unwrap();
            drop((tx, rx));
            assert_eq!(count(&drops), 0);
            drop(v);
            assert_eq!(count(&drops), 1);
        }

        // ----- threads ----------------------------------------------------------

        fn producers_and_consumer<S: Clone + Send + 'static>(
            tx: S,
            rx: Receiver<(usize, usize)>,
            send: fn(&S, (usize, usize)),
        ) {
            let producers = 4;
            let per = scaled(2_000);
            let handles: Vec<_> = (0..producers)
                .map(|id| {
                    let tx = tx.clone();
                    thread::spawn(move || {
                        for k in 0..per {
                            send(&tx, (id, k));
                        }
                    })
                })
                .collect();
            drop(tx);
            let consumer = thread::spawn(move || {
                let mut next = vec![0; producers];
                for (id, k) in rx {
                    assert_eq!(k, next[id], "values of one sender arrive in order");
                    next[id] += 1;
                }
                next
            });
            for h in handles {
                h.join().unwrap();
            }
            assert_eq!(consumer.join().unwrap(), vec![per; producers]);
        }

        #[test]
        fn threads_unbounded() {
            let _w = watchdog();
            let (tx, rx) = channel();
            producers_and_consumer(tx, rx, |tx, v| tx.send(v).unwrap());
        }

        #[test]
        fn threads_bounded() {
            let _w = watchdog();
            for bound in [1, 3, 64] {
                let (tx, rx) = sync_channel(bound);
                producers_and_consumer(tx, rx, |tx, v| tx.send(v).unwrap());
            }
        }

        #[test]
        fn threads_rendezvous() {
            let _w = watchdog();
            let (tx, rx) = sync_channel(0);
            producers_and_consumer(tx, rx, |tx, v| tx.send(v).unwrap());
        }

        #[test]
        fn senders_shared_by_reference() {
            let _w = watchdog();
            let (tx, rx) = channel();
            let (stx, srx) = sync_channel(2);
            thread::scope(|s| {
                for id in 0..3 {
                    let (tx, stx) = (&tx, &stx);
                    s.spawn(move || {
                        tx.send(id).unwrap();
                        stx.send(id).unwrap();
                    });
                }
                let mut got: Vec<_> = (0..3).map(|_| srx.recv().unwrap()).collect();
                got.sort_unstable();
                assert_eq!(got, [0, 1, 2]);
            });
            drop(tx);
            let mut got: Vec<_> = rx.iter().collect();
            got.sort_unstable();
            assert_eq!(got, [0, 1, 2]);
        }

        #[test]
        fn receiver_moves_between_threads() {
            let _w = watchdog();
            let (tx, rx) = channel();
            tx.send(1).unwrap();
            let rx = thread::spawn(move || {
                assert_eq!(rx.recv(), Ok(1));
                rx
            })
            .join()
            .unwrap();
            tx.send(2).unwrap();
            assert_eq!(rx.recv(), Ok(2));
        }

        #[test]
        fn receiver_dropped_while_senders_run() {
            let _w = watchdog();
            for bound in [None, Some(0), Some(2)] {
                let drops = counter();
                let created = Arc::new(std::sync::atomic::AtomicUsize::new(0));
                let (rx, tx): (Receiver<Tracked>, Box<dyn Fn(Tracked) -> bool + Send + Sync>) =
                    match bound {
                        None => {
                            let (tx, rx) = channel();
                            (rx, Box::new(move |v| tx.send(v).is_ok()))
                        }
                        Some(b) => {
                            let (tx, rx) = sync_channel(b);
                            (rx, Box::new(move |v| tx.send(v).is_ok()))
                        }
                    };
                let tx = Arc::new(tx);
                let handles: Vec<_> = (0..2)
                    .map(|_| {
                        let (tx, drops, created) = (tx.clone(), drops.clone(), created.clone());
                        thread::spawn(move || {
                            for i in 0.. {
                                created.fetch_add(1, Ordering::SeqCst);
                                if !tx(Tracked::new(i, &drops)) {
                                    break;
                                }
                            }
                        })
                    })
                    .collect();
                for _ in 0..scaled(100) {
                    drop(rx.recv().unwrap());
                }
                drop(rx);
                for h in handles {
                    h.join().unwrap();
                }
                drop(tx);
                assert_eq!(count(&drops), count(&created), "every value dropped exactly once");
            }
        }
    };
}

mod on_std {
    conformance!(std::sync::mpsc);
}

mod on_weir {
    conformance!(weir::mpsc);
}
