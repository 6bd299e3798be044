//! Disconnection in both directions: who gets woken, what comes back, and
//! what receivers can still drain.

use std::thread;
use std::time::Duration;

use weir::{
    Block, DropNewest, DropOldest, Pressure, RecvError, RecvTimeoutError, Sample, SampleError,
    SendError, SendTimeoutError, TryRecvError, TrySendError,
};

const PATIENCE: Duration = Duration::from_secs(10);

#[test]
fn receivers_drain_before_reporting_disconnection() {
    let (tx, rx) = weir::bounded::<u32, Block>(4);
    let rx2 = rx.clone();
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    drop(tx);
    assert!(rx.is_disconnected());
    assert_eq!(rx.pressure(), Pressure::Draining);
    assert_eq!(rx.recv(), Ok(1));
    assert_eq!(rx2.try_recv(), Ok(2));
    assert_eq!(rx.recv(), Err(RecvError));
    assert_eq!(rx2.try_recv(), Err(TryRecvError::Disconnected));
    assert_eq!(
        rx.recv_timeout(PATIENCE),
        Err(RecvTimeoutError::Disconnected)
    );
}

#[test]
fn the_channel_stays_connected_while_any_clone_lives() {
    let (tx, rx) = weir::bounded::<u32, Block>(4);
    let tx2 = tx.clone();
    drop(tx);
    assert!(!rx.is_disconnected());
    tx2.send(5).unwrap();
    let rx2 = rx.clone();
    drop(rx);
    assert!(!tx2.is_disconnected());
    assert_eq!(rx2.recv(), Ok(5));
}

#[test]
fn handle_counts_follow_clones_and_drops_from_either_end() {
    let (tx, rx) = weir::bounded::<u32, DropOldest>(4);
    let counts = |tx: &weir::Sender<u32, DropOldest>, rx: &weir::Receiver<u32>| {
        let from_tx = (tx.sender_count(), tx.receiver_count());
        assert_eq!(from_tx, (rx.sender_count(), rx.receiver_count()));
        from_tx
    };
    assert_eq!(counts(&tx, &rx), (1, 1));
    let senders: Vec<_> = (0..3).map(|_| tx.clone()).collect();
    let rx2 = rx.clone();
    assert_eq!(counts(&tx, &rx), (4, 2));
    // A clone made and dropped on another thread is counted while it lives.
    thread::scope(|s| {
        s.spawn(|| {
            let tx3 = tx.clone();
            assert_eq!(tx3.sender_count(), 5);
        });
    });
    drop(senders);
    drop(rx2);
    assert_eq!(counts(&tx, &rx), (1, 1));

    // The last sender gone: the receiver reads 0 senders.
    drop(tx);
    assert_eq!((rx.sender_count(), rx.receiver_count()), (0, 1));
    let (tx, rx) = weir::bounded::<u32, Block>(1);
    drop(rx);
    assert_eq!((tx.sender_count(), tx.receiver_count()), (1, 0));
}

#[test]
fn every_policy_returns_the_value_when_receivers_are_gone() {
    let (tx, rx) = weir::bounded::<u32, Block>(1);
    drop(rx);
    assert!(tx.is_disconnected());
    assert_eq!(tx.send(1), Err(SendError(1)));
    assert_eq!(tx.try_send(2), Err(TrySendError::Disconnected(2)));
    assert_eq!(
        tx.send_timeout(3, PATIENCE),
        Err(SendTimeoutError::Disconnected(3))
    );

    let (tx, rx) = weir::bounded::<u32, DropOldest>(1);
    drop(rx);
    assert_eq!(tx.send(1), Err(SendError(1)));

    let (tx, rx) = weir::bounded::<u32, DropNewest>(1);
    drop(rx);
    assert_eq!(tx.send(1), Err(TrySendError::Disconnected(1)));

    let (tx, rx) = weir::bounded::<u32, Sample>(1);
    drop(rx);
    assert_eq!(tx.send(1), Err(SampleError::Disconnected(1)));
}

#[test]
fn a_blocked_sender_is_woken_when_the_last_receiver_goes() {
    let (tx, rx) = weir::bounded::<u32, Block>(1);
    tx.send(1).unwrap();
    let sender = thread::spawn(move || tx.send(2));
    thread::sleep(Duration::from_millis(20)); // let it block (or not; either way)
    drop(rx);
    assert_eq!(sender.join().unwrap(), Err(SendError(2)));
}

#[test]
fn a_blocked_receiver_is_woken_when_the_last_sender_goes() {
    let (tx, rx) = weir::bounded::<u32, Block>(1);
    let receiver = thread::spawn(move || rx.recv());
    thread::sleep(Duration::from_millis(20));
    drop(tx);
    assert_eq!(receiver.join().unwrap(), Err(RecvError));
}

#[test]
fn many_blocked_receivers_are_all_woken_by_disconnect() {
    let (tx, rx) = weir::bounded::<u32, Block>(2);
    let receivers: Vec<_> = (0..4)
        .map(|_| {
            let rx = rx.clone();
            thread::spawn(move || rx.recv_timeout(PATIENCE))
        })
        .collect();
    thread::sleep(Duration::from_millis(20));
    drop(tx);
    for r in receivers {
        assert_eq!(r.join().unwrap(), Err(RecvTimeoutError::Disconnected));
    }
}

#[test]
fn many_blocked_senders_are_all_woken_by_disconnect() {
    let (tx, rx) = weir::bounded::<u32, Block>(1);
    tx.send(0).unwrap();
    let senders: Vec<_> = (1..5)
        .map(|i| {
            let tx = tx.clone();
            thread::spawn(move || tx.send_timeout(i, PATIENCE))
        })
        .collect();
    thread::sleep(Duration::from_millis(20));
    drop(rx);
    for (i, s) in (1..5).zip(senders) {
        assert_eq!(s.join().unwrap(), Err(SendTimeoutError::Disconnected(i)));
    }
}

#[test]
fn values_left_when_receivers_go_are_counted_as_discarded() {
    let (tx, rx) = weir::bounded::<String, DropOldest>(3);
    for i in 0..3 {
        tx.send(i.to_string()).unwrap();
    }
    drop(rx);
    let stats = tx.stats();
    assert_eq!((stats.sent, stats.received, stats.discarded), (3, 0, 3));
    assert_eq!(tx.len(), 0);
    assert_eq!(tx.pressure(), Pressure::Normal);
}
