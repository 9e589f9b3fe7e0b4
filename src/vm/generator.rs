//! Generators and coroutines: a suspended frame and its state.
//!
//! A generator object owns its [`Frame`] while suspended. Resuming moves the
//! frame onto the resuming thread's frame stack and runs it in a nested
//! dispatch loop until it yields (the frame moves back here), returns or
//! raises (the generator is finished).

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::vm::error::{ExcKind, PyErr, PyResult};
use crate::vm::frame::Frame;
use crate::vm::interp::Vm;

pub struct Generator {
    /// `None` while running (taken by the resuming thread) or when finished.
    pub frame: Mutex<Option<Frame>>,
    state: AtomicU8,
    pub name: Arc<str>,
    pub qualname: Arc<str>,
    pub is_coroutine: bool,
    /// The exception the generator was handling when it last yielded
    /// (`Null` if none), restored when it resumes.
    pub exc_state: Mutex<crate::vm::value::Value>,
}

const CREATED: u8 = 0;
const SUSPENDED: u8 = 1;
const RUNNING: u8 = 2;
const FINISHED: u8 = 3;

impl Generator {
    pub fn new(frame: Frame, is_coroutine: bool) -> Generator {
        let name = frame.func.name.clone();
        let qualname = frame.func.qualname.clone();
        Generator {
            frame: Mutex::new(Some(frame)),
            state: AtomicU8::new(CREATED),
            name,
            qualname,
            is_coroutine,
            exc_state: Mutex::new(crate::vm::value::Value::Null),
        }
    }

    pub fn is_running(&self) -> bool {
        self.state.load(Ordering::Relaxed) == RUNNING
    }

    pub fn is_finished(&self) -> bool {
        self.state.load(Ordering::Relaxed) == FINISHED
    }

    pub fn is_created(&self) -> bool {
        self.state.load(Ordering::Relaxed) == CREATED
    }

    /// Take the frame to run it: `Ok(None)` if finished, an error if it is
    /// already running (in this thread or another).
    pub(crate) fn take_frame(&self) -> PyResult<Option<(Frame, bool)>> {
        let mut slot = self.frame.lock();
        match slot.take() {
            Some(frame) => {
                let was_created = self.state.swap(RUNNING, Ordering::Relaxed) == CREATED;
                Ok(Some((frame, was_created)))
            }
            None if self.is_running() => Err(PyErr::value_error(if self.is_coroutine {
                "coroutine already executing"
            } else {
                "generator already executing"
            })),
            None => Ok(None),
        }
    }

    pub(crate) fn suspend(&self, frame: Frame) {
        *self.frame.lock() = Some(frame);
        self.state.store(SUSPENDED, Ordering::Relaxed);
    }

    pub(crate) fn finish(&self) {
        self.state.store(FINISHED, Ordering::Relaxed);
    }

    pub(crate) fn kind_name(&self) -> &'static str {
        if self.is_coroutine {
            "coroutine"
        } else {
            "generator"
        }
    }
}

/// Placeholder so the module compiles before the protocol lands.
#[allow(dead_code)]
fn _unused(_vm: &mut Vm) -> PyErr {
    PyErr::new(ExcKind::RuntimeError, "")
}
