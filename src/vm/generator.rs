//! Generators and coroutines: a suspended frame and its state.

use parking_lot::Mutex;

use crate::vm::frame::Frame;

pub struct Generator {
    /// `None` while running (taken by the resuming thread) or when finished.
    pub frame: Mutex<Option<Box<Frame>>>,
}
