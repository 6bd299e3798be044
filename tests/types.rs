//! Promises made in the types, checked by the compiler.

use std::cell::Cell;
use std::mem::size_of;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::rc::Rc;

use static_assertions::{assert_impl_all, assert_not_impl_any, const_assert_eq};
use weir::{
    Block, BuildError, DropNewest, DropOldest, Receiver, RecvError, RecvTimeoutError, Sample,
    SampleError, SendError, SendTimeoutError, Sender, TryRecvError, TrySendError,
};

// Both ends are Send + Sync + Clone when T: Send, whatever the policy.
assert_impl_all!(Sender<u32, Block>: Send, Sync, Clone, Unpin, std::fmt::Debug);
assert_impl_all!(Receiver<u32>: Send, Sync, Clone, Unpin, std::fmt::Debug);
assert_impl_all!(Sender<Cell<u32>, DropOldest>: Send, Sync, Clone);
assert_impl_all!(Receiver<Cell<u32>>: Send, Sync, Clone);
assert_impl_all!(Sender<Vec<u8>, Sample>: Send, Sync);

// A value that may not cross threads makes a channel that may not either.
assert_not_impl_any!(Sender<Rc<u8>, Block>: Send, Sync);
assert_not_impl_any!(Receiver<Rc<u8>>: Send, Sync);
assert_not_impl_any!(Sender<Rc<u8>, DropOldest>: Send, Sync);

// Unwind safe whatever the value, as crossbeam's and std's handles are, so
// a handle can be used inside `catch_unwind` without `AssertUnwindSafe`.
assert_impl_all!(Sender<u32, Block>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(Sender<Cell<u32>, DropOldest>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(Sender<&'static mut u32, DropNewest>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(Sender<Rc<u8>, Sample>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(Receiver<Cell<u32>>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(Receiver<&'static mut u32>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(weir::IntoIter<Cell<u32>>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(weir::Iter<'static, Cell<u32>>: UnwindSafe, RefUnwindSafe);

// The async futures are Send when T is, have Debug, and are !Unpin: each
// holds its waiter record, which must not move while queued.
assert_impl_all!(weir::RecvFut<'static, u32>: Send, std::fmt::Debug);
assert_impl_all!(weir::SendFut<'static, Cell<u32>>: Send, std::fmt::Debug);
assert_not_impl_any!(weir::RecvFut<'static, u32>: Unpin);
assert_not_impl_any!(weir::SendFut<'static, u32>: Unpin);
assert_not_impl_any!(weir::RecvFut<'static, Rc<u8>>: Send);
assert_impl_all!(weir::RecvBatchFut<'static, u32>: Send, std::fmt::Debug);
assert_impl_all!(weir::SendBatchFut<'static, u32>: Send, std::fmt::Debug);
assert_impl_all!(weir::WaitNormalFut<'static, u32>: Send, Sync, std::fmt::Debug);
assert_not_impl_any!(weir::RecvBatchFut<'static, u32>: Unpin);
assert_not_impl_any!(weir::SendBatchFut<'static, u32>: Unpin);
assert_not_impl_any!(weir::WaitNormalFut<'static, u32>: Unpin);
assert_not_impl_any!(weir::RecvBatchFut<'static, Rc<u8>>: Send);
assert_not_impl_any!(weir::SendBatchFut<'static, Rc<u8>>: Send);
assert_impl_all!(weir::Batches<'static, u32>: Send, Sync, std::fmt::Debug, std::iter::FusedIterator);

// The receiver's type does not name the policy: one consumer function takes
// the receiver of a channel of any policy.
const _: fn() = || {
    fn consume(_: Receiver<u32>) {}
    consume(weir::bounded::<u32, Block>(1).1);
    consume(weir::bounded::<u32, DropOldest>(1).1);
    consume(weir::bounded::<u32, DropNewest>(1).1);
    consume(weir::bounded::<u32, Sample>(1).1);
};

// One pointer wide, and the null niche makes `Option` free.
const_assert_eq!(size_of::<Sender<u64, Block>>(), size_of::<usize>());
const_assert_eq!(size_of::<Receiver<u64>>(), size_of::<usize>());
const_assert_eq!(
    size_of::<Option<Sender<[u8; 64], Sample>>>(),
    size_of::<usize>()
);
const_assert_eq!(size_of::<Option<Receiver<()>>>(), size_of::<usize>());

// Policies are zero-sized markers.
const_assert_eq!(size_of::<Block>(), 0);
const_assert_eq!(size_of::<DropOldest>(), 0);
const_assert_eq!(size_of::<DropNewest>(), 0);
const_assert_eq!(size_of::<Sample>(), 0);

// Errors are real errors, shareable across threads when the value is.
assert_impl_all!(SendError<u32>: std::error::Error, Send, Sync, Clone, Copy, PartialEq, Eq);
assert_impl_all!(TrySendError<u32>: std::error::Error, Send, Sync, Clone, Copy, PartialEq, Eq);
assert_impl_all!(SendTimeoutError<u32>: std::error::Error, Send, Sync, Clone, PartialEq);
assert_impl_all!(SampleError<u32>: std::error::Error, Send, Sync, Clone, PartialEq);
assert_impl_all!(RecvError: std::error::Error, Send, Sync, Clone, Copy, PartialEq, Eq);
assert_impl_all!(TryRecvError: std::error::Error, Send, Sync, Clone, Copy, PartialEq, Eq);
assert_impl_all!(RecvTimeoutError: std::error::Error, Send, Sync, Clone, Copy, PartialEq, Eq);
assert_impl_all!(BuildError: std::error::Error, Send, Sync, Clone, Copy, PartialEq);
// Error values that hold a non-Debug value still print.
assert_impl_all!(SendError<Rc<Cell<u8>>>: std::fmt::Debug, std::fmt::Display);

/// Converting errors keeps the value.
#[test]
fn error_conversions_keep_the_value() {
    assert_eq!(
        TrySendError::from(SendError(3)),
        TrySendError::Disconnected(3)
    );
    assert_eq!(
        SendTimeoutError::from(SendError(4)),
        SendTimeoutError::Disconnected(4)
    );
    assert_eq!(TryRecvError::from(RecvError), TryRecvError::Disconnected);
    assert_eq!(
        RecvTimeoutError::from(RecvError),
        RecvTimeoutError::Disconnected
    );
    assert_eq!(TrySendError::Full(5).into_inner(), 5);
    assert_eq!(SampleError::SampledOut(6).into_inner(), 6);
    assert_eq!(format!("{:?}", SendError(Rc::new(1))), "SendError { .. }");
    assert_eq!(
        format!("{}", TrySendError::Full(1)),
        "sending on a full channel"
    );
}
