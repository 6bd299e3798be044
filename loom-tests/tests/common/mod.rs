//! Shared pieces of the loom models.
#![allow(dead_code)]

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;

/// A value that counts its drops, so a model can prove that every value is
/// dropped exactly once (the count equals the number created) whatever path
/// it took: received, handed back, or freed with the channel.
#[derive(Debug)]
pub struct Tracked {
    pub id: usize,
    drops: Arc<AtomicUsize>,
}

impl Tracked {
    pub fn new(id: usize, drops: &Arc<AtomicUsize>) -> Self {
        Self {
            id,
            drops: drops.clone(),
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::Relaxed);
    }
}

pub fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

pub fn count(c: &Arc<AtomicUsize>) -> usize {
    c.load(Ordering::Relaxed)
}
