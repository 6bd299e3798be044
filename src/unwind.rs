//! Dropping many values in a row without letting one panicking destructor
//! abort the process or skip the rest.
//!
//! A drain (the last receiver discarding what is left, or the channel's
//! memory being freed) drops each value inside [`catch_unwind`], keeps the
//! first panic, goes on with the next value, and re-raises that first panic
//! once every value is dropped. Letting a panic unwind out of the loop would
//! leave the rest of the values to a drop guard, and a second panicking
//! destructor during that unwinding aborts the process.
//!
//! If the thread is already unwinding when the drain runs (a handle dropped
//! by a panic elsewhere), the caught panics are swallowed instead: raising
//! one would be a panic during a panic, which aborts.

use std::any::Any;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

/// The first panic caught so far, if any.
#[derive(Default)]
pub(crate) struct FirstPanic {
    payload: Option<Box<dyn Any + Send + 'static>>,
}

impl core::fmt::Debug for FirstPanic {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FirstPanic")
            .field("caught", &self.payload.is_some())
            .finish()
    }
}

impl FirstPanic {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Drops `value`, catching a panic from its destructor.
    #[inline]
    pub(crate) fn drop_value<T>(&mut self, value: T) {
        self.catch(move || drop(value));
    }

    /// Runs `f`, catching a panic. `f` must leave every invariant intact if
    /// it panics: the callers only ever drop a value with it.
    #[inline]
    pub(crate) fn catch(&mut self, f: impl FnOnce()) {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(f)) {
            self.keep(payload);
        }
    }

    fn keep(&mut self, payload: Box<dyn Any + Send + 'static>) {
        if self.payload.is_none() {
            self.payload = Some(payload);
        } else {
            // A later panic is dropped; its payload's own destructor could
            // panic too, so even that is caught.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
        }
    }

    /// Re-raises the first panic caught, unless this thread is already
    /// unwinding.
    pub(crate) fn resume(self) {
        if let Some(payload) = self.payload {
            if std::thread::panicking() {
                let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            } else {
                resume_unwind(payload);
            }
        }
    }
}
