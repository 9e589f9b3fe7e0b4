//! `__del__`: finalizers of instances whose last reference went.
//!
//! An instance is freed by drop glue, wherever its count reaches zero, with
//! no VM at hand. So when its class defines `__del__`, the drop moves its
//! contents into a fresh instance marked as finalized and queues that on
//! the dropping thread. The thread runs the queue at its next check point:
//! the eval-breaker checks (function entry, backward jumps), before native
//! calls and `with`, after stores and deletes. Output thus keeps CPython's
//! order (`r = None; print("after")` prints the finalizer's output first),
//! and a `__del__` that takes a lock runs before the program takes it
//! (`xs[0] = None; with lock:`). Instances of classes with a `__del__` have
//! no biased owner (`Brc::new_shared`), so the thread that drops the last
//! reference is the one that finalizes them, as in CPython. As in CPython
//! (PEP 442), `__del__` runs at most once per object, and an error in it is
//! printed and ignored.
//!
//! At exit the main module's instances are released, then what its other
//! globals hold is finalized (see [`Vm::finalize_main`]).

use crate::vm::brc::Brc;
use crate::vm::error::PyErr;
use crate::vm::interp::Vm;
use crate::vm::ops;
use crate::vm::value::{Instance, InstanceBase, ObjKind, Object, PyDict, Value};
use std::cell::RefCell;
use std::collections::HashSet;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Set once any class defines or is given `__del__`: until then dropping
/// an instance costs one load more.
static ANY_DEL: AtomicBool = AtomicBool::new(false);

/// Set once some class has a `__del__` or some suspended generator was
/// dropped without being closed: until then no drop runs script code.
static DROP_WORK: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Instances this thread dropped, waiting for their `__del__`.
    static QUEUE: RefCell<VecDeque<Value>> = const { RefCell::new(VecDeque::new()) };
    /// Generators this thread dropped inside a `try`/`with`, waiting to be
    /// closed (the drop glue of a container or frame holding them).
    static GENERATORS: RefCell<VecDeque<Arc<Object>>> = const { RefCell::new(VecDeque::new()) };
}

/// Note that some class has a `__del__` (class creation, `C.__del__ = f`).
pub fn note_del(name: &str) {
    if name == "__del__" {
        ANY_DEL.store(true, Ordering::Relaxed);
        DROP_WORK.store(true, Ordering::Relaxed);
    }
}

/// Whether a drop may have queued script code: only then is dropping
/// observable.
#[inline]
pub fn enabled() -> bool {
    DROP_WORK.load(Ordering::Relaxed)
}

/// Queue `gen`, a suspended generator revived from its dropped shell, to
/// be closed at this thread's next check point. A thread that is tearing
/// down drops it without closing it.
pub(crate) fn defer_generator(gen: Arc<Object>) {
    DROP_WORK.store(true, Ordering::Relaxed);
    let refused = match GENERATORS.try_with(|q| match q.try_borrow_mut() {
        Ok(mut q) => {
            q.push_back(gen);
            None
        }
        Err(_) => Some(gen),
    }) {
        Ok(None) => {
            crate::vm::brc::wake();
            return;
        }
        Ok(Some(gen)) => Some(gen),
        // The queue is gone (thread exit): `gen` went with the closure.
        Err(_) => None,
    };
    if let Some(gen) = refused {
        if let ObjKind::Generator(g) = &gen.kind {
            // Finished: its drop does not revive it again.
            g.finish();
        }
    }
}

fn next_generator() -> Option<Arc<Object>> {
    GENERATORS.with(|q| q.borrow_mut().pop_front())
}

/// Called by `Instance`'s drop: queue a finalizer if its class has one.
#[inline]
pub(crate) fn on_drop(inst: &mut Instance) {
    if ANY_DEL.load(Ordering::Relaxed) {
        defer(inst);
    }
}

#[cold]
fn defer(inst: &mut Instance) {
    if inst.attrs.get_mut().is_finalized() || !ops::has_finalizer(&inst.class) {
        return;
    }
    let mut attrs = std::mem::take(inst.attrs.get_mut());
    attrs.mark_finalized();
    let revived = Instance {
        class: inst.class.clone(),
        attrs: crate::vm::spin::SpinMutex::new(attrs),
        base: std::mem::replace(&mut inst.base, InstanceBase::Plain),
    };
    let value = Value::Instance(Brc::new_shared(revived));
    // A thread tearing down its locals drops the object unfinalized.
    let queued = QUEUE.try_with(|q| match q.try_borrow_mut() {
        Ok(mut q) => {
            q.push_back(value);
            None
        }
        Err(_) => Some(value),
    });
    if let Ok(None) = queued {
        crate::vm::brc::wake();
    }
}

fn next_queued() -> Option<Value> {
    QUEUE.with(|q| q.borrow_mut().pop_front())
}

impl Vm {
    /// Run the finalizers this thread queued, oldest first, including any
    /// queued while they run. Errors are reported as CPython's unraisable
    /// hook does and go no further.
    pub fn run_finalizers(&mut self) {
        if self.finalizing {
            return;
        }
        self.finalizing = true;
        loop {
            if let Some(obj) = next_queued() {
                let Value::Instance(inst) = &obj else {
                    continue;
                };
                let Some(del) = ops::lookup_in_class(&inst.class, "__del__") else {
                    continue;
                };
                self.call_finalizer(&del, &obj);
                drop(obj);
            } else if let Some(gen) = next_generator() {
                self.finalize_generator(&gen);
            } else {
                break;
            }
        }
        self.finalizing = false;
    }

    /// At exit, as CPython's module teardown: instances the main module's
    /// globals hold are released (in the order the names were bound), and
    /// then the objects with a `__del__` and the suspended generators with
    /// a `finally` or `with` still reachable from its other globals are
    /// finalized while those globals stay bound, as CPython's collector
    /// finalizes garbage before clearing any of it. Only when some class
    /// has a `__del__` or some generator is suspended in such a block:
    /// nothing else can observe it.
    pub fn finalize_main(&mut self, globals: &PyDict) {
        let dels = ANY_DEL.load(Ordering::Relaxed);
        if !dels && !crate::vm::generator::any_guarded_suspended() {
            return;
        }
        // The global cache holds values read through it.
        self.global_cache.clear();
        if dels {
            self.run_finalizers();
            for (k, v) in globals.items() {
                if let (Value::Str(name), Value::Instance(_)) = (&k, &v) {
                    drop(v);
                    globals.set_str(name.clone(), Value::None);
                    self.run_finalizers();
                }
            }
        }
        for found in reachable_finalizable(globals.values()) {
            match found {
                Finalizable::Instance(inst) => {
                    if inst.attrs.lock().mark_finalized() {
                        continue;
                    }
                    let del = ops::lookup_in_class(&inst.class, "__del__");
                    if let Some(del) = del {
                        self.call_finalizer(&del, &Value::Instance(inst));
                    }
                }
                Finalizable::Generator(gen) => {
                    // No frame runs at exit: the report has no traceback.
                    if let Err(e) = self.close_generator(&gen) {
                        self.write_unraisable(&Value::Object(gen), &e);
                    }
                }
            }
            self.run_finalizers();
        }
    }

    fn call_finalizer(&mut self, del: &Value, obj: &Value) {
        if let Err(e) = self.call(del, std::slice::from_ref(obj), &[]) {
            self.write_unraisable(del, &e);
        }
    }

    /// CPython's unraisable hook: "Exception ignored in: <what>" and the
    /// error's report on stderr (finalizers, closing generators).
    pub(crate) fn write_unraisable(&mut self, what: &Value, e: &PyErr) {
        let what = self.repr(what).unwrap_or_else(|_| "<object>".into());
        let report = crate::vm::traceback::format_unraisable(self, e);
        self.interp
            .write_stderr(&format!("Exception ignored in: {what}\n{report}"));
    }
}

/// An object whose teardown runs script code.
enum Finalizable {
    Instance(Brc<Instance>),
    Generator(Arc<Object>),
}

/// The not yet finalized instances with a `__del__` and the generators
/// suspended in a `try`/`with` reachable from `roots` through containers
/// and instance attributes, each once, in the order freeing the roots one
/// by one would reach them (a list or tuple frees its items last first).
fn reachable_finalizable(roots: Vec<Value>) -> Vec<Finalizable> {
    let mut seen: HashSet<usize> = HashSet::new();
    let mut found = Vec::new();
    // Depth first, without recursion: deeply nested data is no problem.
    let mut todo: Vec<Value> = roots.into_iter().rev().collect();
    while let Some(v) = todo.pop() {
        let children: Vec<Value> = match &v {
            Value::List(l) => {
                if !seen.insert(Brc::as_ptr(l) as *const () as usize) {
                    continue;
                }
                l.items.lock().clone()
            }
            Value::Tuple(t) => {
                if !seen.insert(Arc::as_ptr(t) as *const () as usize) {
                    continue;
                }
                t.items.to_vec()
            }
            Value::Dict(d) => {
                if !seen.insert(Brc::as_ptr(d) as *const () as usize) {
                    continue;
                }
                // Pushed reversed below: restore the dict's order.
                d.values().into_iter().rev().collect()
            }
            Value::Set(s) | Value::FrozenSet(s) => {
                if !seen.insert(Arc::as_ptr(s) as *const () as usize) {
                    continue;
                }
                s.items()
            }
            Value::Instance(i) => {
                if !seen.insert(Brc::as_ptr(i) as usize) {
                    continue;
                }
                let attrs = i.attrs.lock();
                if !attrs.is_finalized() && ops::has_finalizer(&i.class) {
                    found.push(Finalizable::Instance(i.clone()));
                }
                attrs.values().rev().cloned().collect()
            }
            Value::Object(o) => {
                if let ObjKind::Generator(g) = &o.kind {
                    if g.needs_close() && seen.insert(Arc::as_ptr(o) as *const () as usize) {
                        found.push(Finalizable::Generator(o.clone()));
                    }
                }
                continue;
            }
            _ => continue,
        };
        // Items last first (the pop order), as their container frees them.
        todo.extend(children);
    }
    found
}
