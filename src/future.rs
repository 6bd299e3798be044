//! Waiting in async code: the futures returned by
//! [`Receiver::recv_async`](crate::Receiver::recv_async),
//! [`Sender::send_async`](crate::Sender::send_async) and their batch and
//! relief twins.
//!
//! Each future carries its waiter record (a `park::Node`) inside itself, so
//! waiting allocates nothing; the record is queued on the channel's wait
//! point, in one FIFO order with any threads waiting there. All the logic is
//! in `Chan::poll_recv`, `Chan::poll_send` and `Chan::poll_wait_normal`;
//! this module only pins the record where it lies.
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
use std::collections::VecDeque;

use crate::error::{RecvError, SendError, WaitError};
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
/// [`SendError`] if every receiver is gone or the channel is closed.
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

/// The future of [`Receiver::recv_batch_async`](crate::Receiver::recv_batch_async):
/// waits for a first value, then takes what else is there now, up to `max`
/// in all, appending to the caller's `Vec`; returns how many it took, or
/// [`RecvError`] once every sender is gone and the channel is empty.
///
/// Cancel safe: values leave the channel only in the `Ready` that counts
/// them, so dropping the future before then loses nothing.
#[must_use = "futures do nothing unless polled"]
pub struct RecvBatchFut<'a, T> {
    chan: &'a Chan<T>,
    node: Node,
    /// The caller's batch, taken out while a poll appends to it (invariant
    /// 2: the future is only shared) and for good once it completed.
    batch: Cell<Option<&'a mut Vec<T>>>,
    max: usize,
}

impl<'a, T> RecvBatchFut<'a, T> {
    pub(crate) fn new(chan: &'a Chan<T>, batch: &'a mut Vec<T>, max: usize) -> Self {
        Self {
            chan,
            node: Node::new(),
            batch: Cell::new(Some(batch)),
            max,
        }
    }

    fn node(self: Pin<&Self>) -> Pin<&Node> {
        // SAFETY: structural pinning of `node` (invariant 1).
        unsafe { self.map_unchecked(|this| &this.node) }
    }
}

impl<T> Future for RecvBatchFut<'_, T> {
    type Output = Result<usize, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.into_ref();
        let Some(batch) = this.batch.take() else {
            panic!("a batch receive future was polled after it completed");
        };
        if this.max == 0 {
            return Poll::Ready(Ok(0));
        }
        match this.chan.poll_recv(this.node(), cx) {
            Poll::Ready(Ok(first)) => {
                batch.push(first);
                let more = this.chan.try_recv_batch::<true>(batch, this.max - 1);
                Poll::Ready(Ok(1 + more))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                this.batch.set(Some(batch));
                Poll::Pending
            }
        }
    }
}

impl<T> Drop for RecvBatchFut<'_, T> {
    fn drop(&mut self) {
        // SAFETY: as for `RecvFut`.
        let node = unsafe { Pin::new_unchecked(&self.node) };
        self.chan.cancel_recv(node);
    }
}

impl<T> fmt::Debug for RecvBatchFut<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvBatchFut")
            .field("max", &self.max)
            .finish_non_exhaustive()
    }
}

/// The future of [`Sender::send_batch_async`](crate::Sender::send_batch_async):
/// moves every value from the front of the caller's `VecDeque` into the
/// channel, oldest first, waiting while it is full.
///
/// Cancel safe: a value leaves the `VecDeque` only when it is in the
/// channel, so dropping the future leaves the values not yet sent where they
/// were. On [`SendError`] (every receiver gone, or the channel closed) they
/// are still there too.
#[must_use = "futures do nothing unless polled"]
pub struct SendBatchFut<'a, T> {
    chan: &'a Chan<T>,
    node: Node,
    /// The caller's values, taken out while a poll works on them (invariant
    /// 2) and for good once it completed.
    values: Cell<Option<&'a mut VecDeque<T>>>,
    /// The oldest value while `poll_send` waits for room for it.
    waiting: Cell<Option<T>>,
}

impl<'a, T> SendBatchFut<'a, T> {
    pub(crate) fn new(chan: &'a Chan<T>, values: &'a mut VecDeque<T>) -> Self {
        Self {
            chan,
            node: Node::new(),
            values: Cell::new(Some(values)),
            waiting: Cell::new(None),
        }
    }

    fn node(self: Pin<&Self>) -> Pin<&Node> {
        // SAFETY: structural pinning of `node` (invariant 1).
        unsafe { self.map_unchecked(|this| &this.node) }
    }
}

impl<T> Future for SendBatchFut<'_, T> {
    type Output = Result<(), SendError<()>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.into_ref();
        let Some(values) = this.values.take() else {
            panic!("a batch send future was polled after it completed");
        };
        loop {
            match this.chan.send_runs_nowait(values) {
                Ok(true) => {
                    // Every value is in. Leave the queue, passing on a
                    // wakeup we may hold.
                    this.chan.cancel_send(this.node());
                    return Poll::Ready(Ok(()));
                }
                Ok(false) => {}
                Err(()) => {
                    this.chan.cancel_send(this.node());
                    return Poll::Ready(Err(SendError(())));
                }
            }
            // Full (or a claimed slot still in flight): wait for room for
            // the oldest value exactly as `send_async` does.
            this.waiting.set(values.pop_front());
            let poll = this.chan.poll_send(this.node(), &this.waiting, cx);
            match poll {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(SendError(value))) => {
                    // Completed: `values` stays with its owner.
                    values.push_front(value);
                    return Poll::Ready(Err(SendError(())));
                }
                Poll::Pending => {
                    if let Some(value) = this.waiting.take() {
                        values.push_front(value);
                    }
                    this.values.set(Some(values));
                    return Poll::Pending;
                }
            }
        }
    }
}

impl<T> Drop for SendBatchFut<'_, T> {
    fn drop(&mut self) {
        // SAFETY: as for `RecvFut`.
        let node = unsafe { Pin::new_unchecked(&self.node) };
        self.chan.cancel_send(node);
    }
}

impl<T> fmt::Debug for SendBatchFut<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendBatchFut").finish_non_exhaustive()
    }
}

/// The future of [`Sender::wait_normal_async`](crate::Sender::wait_normal_async):
/// ready once the channel holds fewer values than its low watermark, or with
/// [`WaitError`] once it is closed or every receiver is gone.
///
/// Cancel safe: it takes nothing from the channel.
#[must_use = "futures do nothing unless polled"]
pub struct WaitNormalFut<'a, T> {
    chan: &'a Chan<T>,
    node: Node,
}

impl<'a, T> WaitNormalFut<'a, T> {
    pub(crate) fn new(chan: &'a Chan<T>) -> Self {
        Self {
            chan,
            node: Node::new(),
        }
    }

    fn node(self: Pin<&Self>) -> Pin<&Node> {
        // SAFETY: structural pinning of `node` (invariant 1).
        unsafe { self.map_unchecked(|this| &this.node) }
    }
}

impl<T> Future for WaitNormalFut<'_, T> {
    type Output = Result<(), WaitError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.into_ref();
        this.chan.poll_wait_normal(this.node(), cx)
    }
}

impl<T> Drop for WaitNormalFut<'_, T> {
    fn drop(&mut self) {
        // SAFETY: as for `RecvFut`.
        let node = unsafe { Pin::new_unchecked(&self.node) };
        self.chan.cancel_wait_normal(node);
    }
}

impl<T> fmt::Debug for WaitNormalFut<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitNormalFut").finish_non_exhaustive()
    }
}

#[cfg(feature = "futures")]
pub use streams::{RecvStream, SendSink};

#[cfg(feature = "futures")]
mod streams {
    use core::cell::Cell;
    use core::fmt;
    use core::pin::Pin;
    use core::task::{Context, Poll};

    use futures_core::stream::{FusedStream, Stream};
    use futures_sink::Sink;

    use crate::error::SendError;
    use crate::park::Node;
    use crate::{Block, Receiver, Sender};

    /// A handle that a stream or sink borrows or owns.
    enum Handle<'a, H> {
        Borrowed(&'a H),
        Owned(H),
    }

    impl<H> core::ops::Deref for Handle<'_, H> {
        type Target = H;

        fn deref(&self) -> &H {
            match self {
                Handle::Borrowed(handle) => handle,
                Handle::Owned(handle) => handle,
            }
        }
    }

    /// A [`Stream`] of the values of a channel, from
    /// [`Receiver::stream`](crate::Receiver::stream) or
    /// [`Receiver::into_stream`](crate::Receiver::into_stream). It ends once
    /// every sender is gone and the channel is empty.
    ///
    /// Its waiter record is allocated once, when the stream is made, so the
    /// stream is `Unpin`. `poll_next` is cancel safe: a value leaves the
    /// channel only in the `Ready` that returns it, and a stream that is
    /// woken but then dropped passes the wakeup to the next waiter.
    #[must_use = "streams do nothing unless polled"]
    pub struct RecvStream<'a, T> {
        receiver: Handle<'a, Receiver<T>>,
        node: Pin<Box<Node>>,
        ended: bool,
    }

    impl<'a, T> RecvStream<'a, T> {
        pub(crate) fn borrowed(receiver: &'a Receiver<T>) -> Self {
            Self::new(Handle::Borrowed(receiver))
        }

        fn new(receiver: Handle<'a, Receiver<T>>) -> Self {
            Self {
                receiver,
                node: Box::pin(Node::new()),
                ended: false,
            }
        }
    }

    impl<T> RecvStream<'static, T> {
        pub(crate) fn owned(receiver: Receiver<T>) -> Self {
            Self::new(Handle::Owned(receiver))
        }
    }

    // Nothing is pinned structurally: the waiter record has its own box.
    impl<T> Unpin for RecvStream<'_, T> {}
    impl<T> Unpin for SendSink<'_, T> {}

    impl<T> Stream for RecvStream<'_, T> {
        type Item = T;

        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
            if self.ended {
                return Poll::Ready(None);
            }
            match self.receiver.chan().poll_recv(self.node.as_ref(), cx) {
                Poll::Ready(Ok(value)) => Poll::Ready(Some(value)),
                Poll::Ready(Err(_)) => {
                    self.ended = true;
                    Poll::Ready(None)
                }
                Poll::Pending => Poll::Pending,
            }
        }
    }

    impl<T> FusedStream for RecvStream<'_, T> {
        fn is_terminated(&self) -> bool {
            self.ended
        }
    }

    impl<T> Drop for RecvStream<'_, T> {
        fn drop(&mut self) {
            self.receiver.chan().cancel_recv(self.node.as_ref());
        }
    }

    impl<T> fmt::Debug for RecvStream<'_, T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("RecvStream")
                .field("ended", &self.ended)
                .finish_non_exhaustive()
        }
    }

    /// A [`Sink`] into a [`Block`] channel, from
    /// [`Sender::sink`](crate::Sender::sink) or
    /// [`Sender::into_sink`](crate::Sender::into_sink).
    ///
    /// It buffers one item: `start_send` stores it, and `poll_ready`,
    /// `poll_flush` and `poll_close` send it, waiting while the channel is
    /// full. `poll_ready` is cancel safe: an item not yet sent stays in the
    /// sink. An item still buffered when the sink is dropped is dropped
    /// with it, never sent. Its waiter record is allocated once, when the
    /// sink is made, so the sink is `Unpin`.
    #[must_use = "sinks do nothing unless polled"]
    pub struct SendSink<'a, T> {
        sender: Handle<'a, Sender<T, Block>>,
        node: Pin<Box<Node>>,
        item: Cell<Option<T>>,
    }

    impl<'a, T> SendSink<'a, T> {
        pub(crate) fn borrowed(sender: &'a Sender<T, Block>) -> Self {
            Self::new(Handle::Borrowed(sender))
        }

        fn new(sender: Handle<'a, Sender<T, Block>>) -> Self {
            Self {
                sender,
                node: Box::pin(Node::new()),
                item: Cell::new(None),
            }
        }

        /// Sends the buffered item, if any.
        fn flush(&self, cx: &mut Context<'_>) -> Poll<Result<(), SendError<T>>> {
            let has_item = {
                let item = self.item.take();
                let has = item.is_some();
                self.item.set(item);
                has
            };
            if !has_item {
                return Poll::Ready(Ok(()));
            }
            self.sender
                .chan()
                .poll_send(self.node.as_ref(), &self.item, cx)
        }
    }

    impl<T> SendSink<'static, T> {
        pub(crate) fn owned(sender: Sender<T, Block>) -> Self {
            Self::new(Handle::Owned(sender))
        }
    }

    impl<T> Sink<T> for SendSink<'_, T> {
        type Error = SendError<T>;

        fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            self.flush(cx)
        }

        fn start_send(self: Pin<&mut Self>, item: T) -> Result<(), Self::Error> {
            let previous = self.item.replace(Some(item));
            assert!(
                previous.is_none(),
                "SendSink::start_send called without poll_ready returning Ready(Ok)"
            );
            Ok(())
        }

        fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            self.flush(cx)
        }

        fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            self.flush(cx)
        }
    }

    impl<T> Drop for SendSink<'_, T> {
        fn drop(&mut self) {
            self.sender.chan().cancel_send(self.node.as_ref());
        }
    }

    impl<T> fmt::Debug for SendSink<'_, T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("SendSink").finish_non_exhaustive()
        }
    }
}
