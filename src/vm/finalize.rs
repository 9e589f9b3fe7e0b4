//! `__del__`: running an object's finalizer when its last reference goes.
//!
//! The last reference to an instance can go anywhere: inside a dict being
//! updated, a list being cleared, under some object's lock. Script code
//! cannot run there. So dropping an instance whose class defines `__del__`
//! moves its contents into a new instance (the namespace marked finalized,
//! so it happens once) and queues that on the dropping thread. The dispatch
//! loop runs the queue at safe points: when a store, `del` or pop lets go
//! of an instance, after a module-level rebinding or `del`, after a return,
//! and before and after each call of a built-in function. Not after every
//! store or pop of other values: the check there cost up to 10% of the
//! dispatch loop, so objects only a dropped container held are finalized
//! at the next call or return. At exit the main module's names are released
//! one by one, as CPython's shutdown does, so objects still alive then are
//! finalized too; a thread runs its queue when it ends.
//!
//! As in CPython, an exception raised by `__del__` is printed ("Exception
//! ignored in: ...") and otherwise ignored.

use crate::vm::brc::Brc;
use std::cell::{Cell, RefCell};

use crate::vm::interp::Vm;
use crate::vm::spin::SpinMutex;
use crate::vm::value::{Instance, InstanceBase, Value};

thread_local! {
    /// Instances dropped on this thread whose `__del__` is still to run.
    static QUEUE: RefCell<Vec<Value>> = const { RefCell::new(Vec::new()) };
    /// Whether `QUEUE` is non-empty (checked on hot paths without a borrow).
    static PENDING: Cell<bool> = const { Cell::new(false) };
    /// Whether this thread is running finalizers: a `__del__` reaching a
    /// safe point does not start others inside it (they run after it, from
    /// the same loop). Nested, one holding a lock its caller holds, as in
    /// `with lock:` in every `__del__`, would deadlock.
    static RUNNING: Cell<bool> = const { Cell::new(false) };
}

/// Called when an instance is dropped: queue it for its `__del__` if its
/// class may have one and it has not been finalized yet.
pub(crate) fn on_drop(inst: &mut Instance) {
    if !crate::vm::ops::may_have_finalizer(&inst.class) {
        return;
    }
    let attrs = inst.attrs.get_mut();
    if !attrs.mark_finalized() {
        return;
    }
    let revived = Instance {
        class: inst.class.clone(),
        attrs: SpinMutex::new(std::mem::take(attrs)),
        base: std::mem::replace(&mut inst.base, InstanceBase::Plain),
    };
    // A thread tearing down its thread-locals drops the object unfinalized.
    let _ = QUEUE.try_with(|q| {
        if let Ok(mut q) = q.try_borrow_mut() {
            q.push(Value::Instance(Brc::new(revived)));
            PENDING.set(true);
        }
    });
}

/// Whether finalizers wait on this thread.
#[inline(always)]
pub(crate) fn pending() -> bool {
    PENDING.get()
}

impl Vm {
    /// Run the `__del__` of every instance queued on this thread, and of
    /// those their finalization releases in turn.
    #[cold]
    pub(crate) fn run_finalizers(&mut self) {
        if RUNNING.replace(true) {
            return;
        }
        while let Some(obj) = QUEUE.with(|q| {
            let mut q = q.borrow_mut();
            let next = q.pop();
            PENDING.set(!q.is_empty());
            next
        }) {
            let Value::Instance(inst) = &obj else {
                continue;
            };
            // Also caches the answer: later drops of this class's
            // instances are then not queued when it has no `__del__`.
            if !crate::vm::ops::has_finalizer(&inst.class) {
                continue;
            }
            let Some(del) = crate::vm::class::lookup(&inst.class, "__del__") else {
                continue;
            };
            if let Err(e) = self.call_special(&del, &obj, &[]) {
                let what = self.repr(&del).unwrap_or_else(|_| "__del__".into());
                self.interp
                    .write_stderr(&format!("Exception ignored in: {what}\n"));
                crate::vm::traceback::print_exception(self, &e);
            }
            // Dropping `obj` now releases what it held (finalized already,
            // it is not queued again).
        }
        RUNNING.set(false);
    }

    /// `run_finalizers` when some are queued (the check is one load).
    #[inline(always)]
    pub(crate) fn finalize_pending(&mut self) {
        if pending() {
            self.run_finalizers();
        }
    }

    /// At exit: release the main module's names in order, finalizing what
    /// each held, as CPython's shutdown clears `__main__`.
    pub fn finalize_main(&mut self) {
        self.finalize_pending();
        let Some(Value::Module(main)) = self.interp.module("__main__") else {
            return;
        };
        let names: Vec<Value> = main.dict.map.lock().keys().map(|k| k.key.clone()).collect();
        for name in names {
            if matches!(&name, Value::Str(s) if s.as_str() == "__builtins__") {
                continue;
            }
            if let Value::Str(s) = &name {
                main.dict.set(s.as_str(), Value::None);
            }
            self.finalize_pending();
        }
    }
}
