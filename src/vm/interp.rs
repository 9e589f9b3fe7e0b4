//! The VM: per-thread interpreter state and the dispatch loop.

use std::sync::Arc;

use crate::runtime::gil::ThreadId;

/// State shared by every interpreter thread of one process.
pub struct Interp {}

/// One interpreter thread's state.
pub struct Vm {
    pub interp: Arc<Interp>,
    pub tid: ThreadId,
}
