//! Waiting in async code: the futures returned by
//! [`Receiver::recv_async`](crate::Receiver::recv_async) and
//! [`Sender::send_async`](crate::Sender::send_async).
//!
//! Each future carries its waiter record (a `park::Node`) inside itself, so
//! waiting allocates nothing; the record is queued on the channel's wait
//! point, in one FIFO order with any threads waiting there. All the logic is
//! in `Chan::poll_recv` and `Chan::poll_send`; this module only pins the
//! record where it lies.
//!
//! # Invariants
//!
//! 1. A future's node is structurally pinned: it is only ever reached through
//!    `Pin<&Node>` made from the future's own pinned address, never moved
//!    out, and the future's `Drop` takes it off any queue before its memory
//!    can go. The futures are `!Unpin` (the node holds `PhantomPinned`), so
//!    once polled they cannot move.
//! 2. The futures only create shared references to themselves; the fields the
//!    owner changes are `Cell`s. So no `&mut` to a node exists while another
//!    thread reads it through the queue.

#![allow(unsafe_code)]

use core::cell::Cell;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::chan::Chan;
use crate::error::{RecvError, SendError};
use crate::park::Node;

/// The future of [`Receiver::recv_async`](crate::Receiver::recv_async): the
/// oldest value, or [`RecvError`] once every sender is gone and the channel
/// is empty.
///
/// Cancel safe: a value leaves the channel only in the `Ready` that returns
/// it, so dropping the future before then loses nothing; a wakeup it was
/// given and did not use is passed to the next waiter.
#[must_use = "futures do nothing unless polled"]
pub struct RecvFut<'a, T> {
    chan: &'a Chan<T>,
    node: Node,
    done: Cell<bool>,
}

impl<'a, T> RecvFut<'a, T> {
    pub(crate) fn new(chan: &'a Chan<T>) -> Self {
        Self {
            chan,
            node: Node::new(),
            done: Cell::new(false),
        }
    }

    fn node(self: Pin<&Self>) -> Pin<&Node> {
        // SAFETY: structural pinning of `node` (invariant 1).
        unsafe { self.map_unchecked(|this| &this.node) }
    }
}

impl<T> Future for RecvFut<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Only shared access from here on (invariant 2).
        let this = self.into_ref();
        assert!(
            !this.done.get(),
            "a receive future was polled after it completed"
        );
        let poll = this.chan.poll_recv(this.node(), cx);
        if poll.is_ready() {
            this.done.set(true);
        }
        poll
    }
}

impl<T> Drop for RecvFut<'_, T> {
    fn drop(&mut self) {
        // SAFETY: `drop` runs in place, before the memory goes (invariant 1).
        let node = unsafe { Pin::new_unchecked(&self.node) };
        self.chan.cancel_recv(node);
    }
}

impl<T> fmt::Debug for RecvFut<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvFut")
            .field("done", &self.done.get())
            .finish_non_exhaustive()
    }
}

/// The future of [`Sender::send_async`](crate::Sender::send_async): waits
/// while the channel is full, then sends; returns the value in
/// [`SendError`] if every receiver is gone.
///
/// Dropping it before it completes never sends the value; the value is
/// dropped with the future, and a wakeup the future was given and did not
/// use is passed to the next waiting sender.
#[must_use = "futures do nothing unless polled"]
pub struct SendFut<'a, T> {
    chan: &'a Chan<T>,
    node: Node,
    value: Cell<Option<T>>,
}

impl<'a, T> SendFut<'a, T> {
    pub(crate) fn new(chan: &'a Chan<T>, value: T) -> Self {
        Self {
            chan,
            node: Node::new(),
            value: Cell::new(Some(value)),
        }
    }

    fn node(self: Pin<&Self>) -> Pin<&Node> {
        // SAFETY: structural pinning of `node` (invariant 1).
        unsafe { self.map_unchecked(|this| &this.node) }
    }
}

impl<T> Future for SendFut<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.into_ref();
        this.chan.poll_send(this.node(), &this.value, cx)
    }
}

impl<T> Drop for SendFut<'_, T> {
    fn drop(&mut self) {
        // SAFETY: as for `RecvFut`.
        let node = unsafe { Pin::new_unchecked(&self.node) };
        self.chan.cancel_send(node);
    }
}

impl<T> fmt::Debug for SendFut<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendFut").finish_non_exhaustive()
    }
}
