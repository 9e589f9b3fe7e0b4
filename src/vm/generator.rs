//! Generators and coroutines: a suspended frame and its state.
//!
//! A generator object owns its [`Frame`] while suspended. Resuming moves the
//! frame onto the resuming thread's frame stack and runs it in a nested
//! dispatch loop until it yields (the frame moves back here), returns or
//! raises (the generator is finished).

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::compile::code::Instr;
use crate::vm::error::{ExcKind, PyErr, PyResult};
use crate::vm::frame::{BlockKind, Frame};
use crate::vm::interp::run::Exit;
use crate::vm::interp::{native, type_name, Vm};
use crate::vm::types::{types, Types};
use crate::vm::value::{Kwargs, ObjKind, Object, Value};

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

/// How many generators, in all threads, are suspended inside a `try` or
/// `with` (and so must be closed when dropped). While none are, a returning
/// frame drops its locals without looking for them (`Vm::release_to`).
static GUARDED_SUSPENDED: AtomicUsize = AtomicUsize::new(0);

/// Whether any generator might need closing when its last reference goes.
#[inline(always)]
pub(crate) fn any_guarded_suspended() -> bool {
    GUARDED_SUSPENDED.load(Ordering::Relaxed) != 0
}

fn guarded(frame: &Frame) -> bool {
    !frame.blocks().is_empty()
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
                if guarded(&frame) {
                    GUARDED_SUSPENDED.fetch_sub(1, Ordering::Relaxed);
                }
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
        if guarded(&frame) {
            GUARDED_SUSPENDED.fetch_add(1, Ordering::Relaxed);
        }
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

    /// Suspended inside a `try` or `with`: dropping it must run `close()` so
    /// that its `finally` and `__exit__` code runs, as CPython's finalizer does.
    pub(crate) fn needs_close(&self) -> bool {
        self.state.load(Ordering::Relaxed) == SUSPENDED
            && self
                .frame
                .lock()
                .as_ref()
                .is_some_and(|f| !f.blocks().is_empty())
    }

    /// An unstarted generator that refused a value goes back to "created".
    pub(crate) fn unsuspend_created(&self, frame: Frame) {
        if guarded(&frame) {
            GUARDED_SUSPENDED.fetch_add(1, Ordering::Relaxed);
        }
        *self.frame.lock() = Some(frame);
        self.state.store(CREATED, Ordering::Relaxed);
    }
}

impl Drop for Generator {
    fn drop(&mut self) {
        if !self.frame.get_mut().as_ref().is_some_and(guarded) {
            return;
        }
        GUARDED_SUSPENDED.fetch_sub(1, Ordering::Relaxed);
        if *self.state.get_mut() != SUSPENDED {
            return;
        }
        // Dropped suspended in a `try`/`with` by drop glue (a container or
        // frame holding it went): its frame moves into a new generator that
        // the thread closes at its next check point, so the `finally`
        // blocks run as CPython's finalizer runs them.
        if let Some(frame) = self.frame.get_mut().take() {
            let revived = Generator {
                frame: Mutex::new(None),
                state: AtomicU8::new(CREATED),
                name: self.name.clone(),
                qualname: self.qualname.clone(),
                is_coroutine: self.is_coroutine,
                exc_state: Mutex::new(std::mem::replace(
                    self.exc_state.get_mut(),
                    crate::vm::value::Value::Null,
                )),
            };
            revived.suspend(frame);
            let t = types();
            let class = if self.is_coroutine {
                t.coroutine.clone()
            } else {
                t.generator.clone()
            };
            crate::vm::finalize::defer_generator(Arc::new(Object {
                class,
                kind: ObjKind::Generator(revived),
            }));
        }
    }
}

/// The generator inside a value, if it is one.
pub fn as_generator(v: &Value) -> Option<(&Arc<Object>, &Generator)> {
    match v {
        Value::Object(o) => match &o.kind {
            ObjKind::Generator(g) => Some((o, g)),
            _ => None,
        },
        _ => None,
    }
}

/// The value a StopIteration carries (`args[0]`, or None).
pub fn stop_iteration_value(e: &PyErr) -> Value {
    if let Some(v) = e.exc.attrs.lock().get("value") {
        return v.clone();
    }
    e.data()
        .and_then(|d| d.args.lock().items.first().cloned())
        .unwrap_or(Value::None)
}

/// `StopIteration(value)` (no args when the value is None), with `.value` set.
pub fn stop_iteration(value: Value) -> PyErr {
    let e = if value.is_none() {
        PyErr::with_args(ExcKind::StopIteration, vec![])
    } else {
        PyErr::with_args(ExcKind::StopIteration, vec![value.clone()])
    };
    e.exc.attrs.lock().insert("value".into(), value);
    e
}

impl Vm {
    /// Wrap a ready frame of GENERATOR/COROUTINE code in a generator object.
    pub(crate) fn make_generator(&mut self, frame: Frame) -> Value {
        let is_coroutine = frame.func.code.code.is_coroutine();
        let t = types();
        let class = if is_coroutine {
            t.coroutine.clone()
        } else {
            t.generator.clone()
        };
        Value::Object(Arc::new(Object {
            class,
            kind: ObjKind::Generator(Generator::new(frame, is_coroutine)),
        }))
    }

    /// Resume a generator with `sent`: `Some(yielded)`, or `None` when it
    /// returned (the value is then in [`Vm::take_stop_value`]).
    pub fn resume_generator(&mut self, gen: &Arc<Object>, sent: Value) -> PyResult<Option<Value>> {
        let ObjKind::Generator(g) = &gen.kind else {
            return Err(PyErr::type_error("resume of a non-generator"));
        };
        let Some((mut frame, created)) = g.take_frame()? else {
            self.stop_value = Some(Value::None);
            return Ok(None);
        };
        if created {
            if !sent.is_none() {
                g.unsuspend_created(frame);
                return Err(PyErr::type_error(format!(
                    "can't send non-None value to a just-started {}",
                    g.kind_name()
                )));
            }
        } else {
            frame.saved_mut().push(sent);
        }
        self.run_generator(g, frame, None)
    }

    /// Run a generator's frame (resuming it, or raising `throw` in it).
    fn run_generator(
        &mut self,
        g: &Generator,
        frame: Frame,
        throw: Option<PyErr>,
    ) -> PyResult<Option<Value>> {
        let caller_handled = self.handled.clone();
        let own = std::mem::replace(&mut *g.exc_state.lock(), Value::Null);
        if !own.is_null() {
            self.handled = own;
        }
        let r = self.run_frame(frame, throw);
        match r {
            Ok(Exit::Yield(v, frame)) => {
                let in_handler = frame
                    .blocks()
                    .iter()
                    .any(|b| b.kind == BlockKind::ExceptHandler);
                let mine = std::mem::replace(&mut self.handled, caller_handled);
                if in_handler {
                    *g.exc_state.lock() = mine;
                }
                g.suspend(frame);
                Ok(Some(v))
            }
            Ok(Exit::Return(v)) => {
                self.handled = caller_handled;
                g.finish();
                self.stop_value = Some(v);
                Ok(None)
            }
            Err(e) => {
                self.handled = caller_handled;
                g.finish();
                if e.matches(ExcKind::StopIteration) {
                    let what = g.kind_name();
                    let err = PyErr::runtime_error(format!("{what} raised StopIteration"));
                    if let Some(d) = err.data() {
                        *d.cause.lock() = Some(e.value());
                        *d.context.lock() = Some(e.value());
                        d.suppress_context
                            .store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                    return Err(err);
                }
                Err(e)
            }
        }
    }

    /// `gen.throw(exc)`: raise `exc` where the generator is suspended
    /// (delegating to a sub-iterator it is `yield from`-ing).
    pub fn throw_generator(&mut self, gen: &Arc<Object>, exc: PyErr) -> PyResult<Option<Value>> {
        let ObjKind::Generator(g) = &gen.kind else {
            return Err(PyErr::type_error("throw into a non-generator"));
        };
        let Some((mut frame, created)) = g.take_frame()? else {
            return Err(exc);
        };
        if created {
            return self.run_generator(g, frame, Some(exc));
        }
        let at_yield_from = matches!(
            frame.func.code.code.instrs.get(frame.pc as usize),
            Some(Instr::YieldFrom)
        );
        if !at_yield_from {
            return self.run_generator(g, frame, Some(exc));
        }
        let sub = frame.saved().last().cloned().unwrap_or(Value::None);
        // The generator counts as running while its delegate handles the throw.
        let delegated: PyResult<Option<Value>> = if exc.matches(ExcKind::GeneratorExit) {
            match self.close_iterator(&sub) {
                Ok(()) => Err(exc),
                Err(e) => Err(e),
            }
        } else if let Some((sub_obj, _)) = as_generator(&sub) {
            let sub_obj = sub_obj.clone();
            self.throw_generator(&sub_obj, exc)
        } else {
            match self.get_attr_opt(&sub, "throw") {
                Ok(Some(throw)) => match self.call(&throw, &[exc.value()], &[]) {
                    Ok(v) => Ok(Some(v)),
                    Err(e) if e.matches(ExcKind::StopIteration) => {
                        self.stop_value = Some(stop_iteration_value(&e));
                        Ok(None)
                    }
                    Err(e) => Err(e),
                },
                Ok(None) => Err(exc),
                Err(e) => Err(e),
            }
        };
        match delegated {
            Ok(Some(y)) => {
                g.suspend(frame);
                Ok(Some(y))
            }
            Ok(None) => {
                let v = self.take_stop_value();
                frame.saved_mut().pop();
                frame.saved_mut().push(v);
                frame.pc += 1;
                self.run_generator(g, frame, None)
            }
            Err(e) => {
                frame.pc += 1;
                self.run_generator(g, frame, Some(e))
            }
        }
    }

    /// `gen.close()`: throw GeneratorExit in; a generator that yields again is an error.
    pub fn close_generator(&mut self, gen: &Arc<Object>) -> PyResult<()> {
        let ObjKind::Generator(g) = &gen.kind else {
            return Ok(());
        };
        if g.is_created() {
            if let Ok(Some((frame, _))) = g.take_frame() {
                self.recycle(frame);
            }
            g.finish();
            return Ok(());
        }
        if g.is_finished() {
            return Ok(());
        }
        let exit = PyErr::with_args(ExcKind::GeneratorExit, vec![]);
        match self.throw_generator(gen, exit) {
            Ok(Some(_)) => Err(PyErr::runtime_error(format!(
                "{} ignored GeneratorExit",
                g.kind_name()
            ))),
            Ok(None) => Ok(()),
            Err(e) if e.matches(ExcKind::GeneratorExit) || e.matches(ExcKind::StopIteration) => {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Close a generator whose last reference is being dropped. As in
    /// CPython's finalizer, an error is reported on stderr and swallowed.
    pub(crate) fn finalize_generator(&mut self, gen: &Arc<Object>) {
        if let Err(e) = self.close_generator(gen) {
            // As CPython's unraisable hook: an error without a traceback
            // gets the frame that was running when the generator went.
            if let Some(d) = e.data() {
                let mut tb = d.traceback.lock();
                if tb.is_empty() {
                    tb.push_back(self.trace_entry());
                }
            }
            self.write_unraisable(&Value::Object(gen.clone()), &e);
        }
    }

    /// Close a `yield from` delegate: generators directly, others through `close()`.
    fn close_iterator(&mut self, it: &Value) -> PyResult<()> {
        if let Some((o, _)) = as_generator(it) {
            let o = o.clone();
            return self.close_generator(&o);
        }
        if let Some(close) = self.get_attr_opt(it, "close")? {
            self.call(&close, &[], &[])?;
        }
        Ok(())
    }

    /// One step of `yield from`: send `v` into `it`. `Ok(Ok(y))` means it
    /// yielded `y`; `Ok(Err(r))` that it finished with result `r`.
    pub(crate) fn yield_from_step(
        &mut self,
        it: &Value,
        v: Value,
    ) -> PyResult<Result<Value, Value>> {
        if let Some((o, _)) = as_generator(it) {
            let o = o.clone();
            return Ok(match self.resume_generator(&o, v)? {
                Some(y) => Ok(y),
                None => Err(self.take_stop_value()),
            });
        }
        let r = if v.is_none() {
            match it {
                Value::Instance(_) => self.call_method(it, "__next__", &[]),
                _ => {
                    return Ok(match self.next(it)? {
                        Some(y) => Ok(y),
                        None => Err(Value::None),
                    })
                }
            }
        } else {
            self.call_method(it, "send", &[v])
        };
        match r {
            Ok(y) => Ok(Ok(y)),
            Err(e) if e.matches(ExcKind::StopIteration) => Ok(Err(stop_iteration_value(&e))),
            Err(e) => Err(e),
        }
    }
}

fn gen_arg(args: &[Value]) -> PyResult<Arc<Object>> {
    match args.first() {
        Some(Value::Object(o)) if matches!(o.kind, ObjKind::Generator(_)) => Ok(o.clone()),
        Some(other) => Err(PyErr::type_error(format!(
            "descriptor requires a 'generator' object but received a '{}'",
            type_name(other)
        ))),
        None => Err(PyErr::type_error("descriptor needs an argument")),
    }
}

fn gen_iter(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    gen_arg(args)?;
    Ok(args[0].clone())
}

fn gen_next(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let g = gen_arg(args)?;
    match vm.resume_generator(&g, Value::None)? {
        Some(v) => Ok(v),
        None => Err(stop_iteration(vm.take_stop_value())),
    }
}

fn gen_send(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let g = gen_arg(args)?;
    let v = args.get(1).cloned().unwrap_or(Value::None);
    match vm.resume_generator(&g, v)? {
        Some(v) => Ok(v),
        None => Err(stop_iteration(vm.take_stop_value())),
    }
}

fn gen_throw(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let g = gen_arg(args)?;
    let typ = args.get(1).cloned().unwrap_or(Value::None);
    let val = args.get(2).cloned().unwrap_or(Value::None);
    let exc = match (&typ, &val) {
        (Value::Class(_), Value::None) => vm.exception_from(typ.clone(), false)?,
        (Value::Class(_), Value::Instance(_)) => vm.exception_from(val.clone(), false)?,
        (Value::Class(_), _) => {
            let inst = vm.call(&typ, std::slice::from_ref(&val), &[])?;
            vm.exception_from(inst, false)?
        }
        (Value::Instance(_), Value::None) => vm.exception_from(typ.clone(), false)?,
        (Value::Instance(_), _) => {
            return Err(PyErr::type_error(
                "instance exception may not have a separate value",
            ))
        }
        _ => {
            return Err(PyErr::type_error(format!(
                "exceptions must be classes or instances deriving from BaseException, not {}",
                type_name(&typ)
            )))
        }
    };
    match vm.throw_generator(&g, exc)? {
        Some(v) => Ok(v),
        None => Err(stop_iteration(vm.take_stop_value())),
    }
}

fn gen_close(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let g = gen_arg(args)?;
    vm.close_generator(&g)?;
    Ok(Value::None)
}

fn gen_repr(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let g = gen_arg(args)?;
    let ObjKind::Generator(gen) = &g.kind else {
        return Ok(Value::None);
    };
    Ok(Value::from_string(format!(
        "<{} object {} at {:#x}>",
        gen.kind_name(),
        gen.qualname,
        Arc::as_ptr(&g) as usize
    )))
}

fn gen_name(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let g = gen_arg(args)?;
    let ObjKind::Generator(gen) = &g.kind else {
        return Ok(Value::None);
    };
    Ok(Value::str(&gen.name))
}

fn gen_qualname(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let g = gen_arg(args)?;
    let ObjKind::Generator(gen) = &g.kind else {
        return Ok(Value::None);
    };
    Ok(Value::str(&gen.qualname))
}

fn gen_running(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let g = gen_arg(args)?;
    let ObjKind::Generator(gen) = &g.kind else {
        return Ok(Value::None);
    };
    Ok(Value::Bool(gen.is_running()))
}

fn property(t: &Types, name: &'static str, f: crate::vm::value::NativeFn) -> Value {
    Value::Object(Arc::new(Object {
        class: t.property.clone(),
        kind: ObjKind::Property {
            fget: native(name, name, f, false),
            fset: Value::None,
            fdel: Value::None,
            doc: Value::None,
        },
    }))
}

/// Install the generator and coroutine methods.
pub fn install(t: &Types) {
    for (class, prefix) in [(&t.generator, "generator"), (&t.coroutine, "coroutine")] {
        let mut attrs = class.attrs.lock();
        let methods: [(&'static str, crate::vm::value::NativeFn); 6] = [
            ("__iter__", gen_iter),
            ("__next__", gen_next),
            ("send", gen_send),
            ("throw", gen_throw),
            ("close", gen_close),
            ("__repr__", gen_repr),
        ];
        for (name, f) in methods {
            attrs.insert(
                name.into(),
                native(name, &format!("{prefix}.{name}"), f, true),
            );
        }
        if prefix == "coroutine" {
            attrs.insert(
                "__await__".into(),
                native("__await__", "coroutine.__await__", gen_iter, true),
            );
        }
        attrs.insert("__name__".into(), property(t, "__name__", gen_name));
        attrs.insert(
            "__qualname__".into(),
            property(t, "__qualname__", gen_qualname),
        );
        let running = if prefix == "coroutine" {
            "cr_running"
        } else {
            "gi_running"
        };
        attrs.insert(running.into(), property(t, running, gen_running));
    }
}
