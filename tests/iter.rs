//! The receiving iterators.

use std::thread;

use weir::{Block, DropOldest};

#[test]
fn iter_waits_and_ends_at_disconnect() {
    let (tx, rx) = weir::bounded::<u32, Block>(2);
    let producer = thread::spawn(move || {
        for i in 0..100 {
            tx.send(i).unwrap();
        }
    });
    assert_eq!(rx.iter().collect::<Vec<_>>(), (0..100).collect::<Vec<_>>());
    producer.join().unwrap();
}

#[test]
fn try_iter_takes_what_is_there_and_stops() {
    let (tx, rx) = weir::bounded::<u32, DropOldest>(3);
    assert_eq!(rx.try_iter().next(), None);
    for i in 0..5 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), [2, 3, 4]);
    assert_eq!(rx.try_iter().count(), 0);
    tx.send(9).unwrap();
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), [9]);
}

#[test]
fn into_iter_and_for_loops() {
    let (tx, rx) = weir::bounded::<u32, Block>(4);
    for i in 0..3 {
        tx.send(i).unwrap();
    }
    drop(tx);
    let mut seen = Vec::new();
    for v in &rx {
        seen.push(v);
    }
    assert_eq!(seen, [0, 1, 2]);

    let (tx, rx) = weir::bounded::<u32, Block>(4);
    tx.send(7).unwrap();
    drop(tx);
    assert_eq!(rx.into_iter().collect::<Vec<_>>(), [7]);
}

#[test]
fn batches_grow_with_the_backlog() {
    let (tx, rx) = weir::bounded::<u32, Block>(16);
    let mut batch = Vec::new();
    tx.send(0).unwrap();
    assert_eq!(rx.recv_batch(&mut batch, 8), Ok(1));
    for i in 1..=12 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.recv_batch(&mut batch, 8), Ok(8));
    assert_eq!(rx.try_recv_batch(&mut batch, 8), 4);
    assert_eq!(rx.recv_batch(&mut batch, 0), Ok(0));
    assert_eq!(batch, (0..=12).collect::<Vec<_>>());
}
