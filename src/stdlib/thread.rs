//! `_thread`: the native primitives `threading.py` is written over — starting
//! threads, plain locks, reentrant locks, thread idents and thread-local data.
//!
//! Locks are Rust objects (`runtime::threads::{RawLock, RawRLock}`) that are
//! sound with the GIL off; every blocking acquire releases the GIL.
//!
//! `_local` instances are ordinary instances (so `class C(threading.local)`
//! works) whose own attribute map holds only `_local__impl`, a native object
//! with one attribute dict per thread ident. `_local` defines `__getattribute__`,
//! `__setattr__` and `__delattr__`, which read and write the calling thread's
//! dict. A thread touching the object for the first time gets a fresh dict and,
//! if the class defines `__init__`, a call to it with the constructor's
//! arguments, as in CPython.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;

use crate::runtime::gil::ThreadId;
use crate::runtime::threads::{self, deadline_after, RawLock, RawRLock};
use crate::stdlib::{
    add_functions, arg, check_args, downcast, native_object, new_module, set_attr, to_i64,
    type_name, NativeClass,
};
use crate::vm::brc::Brc;
use crate::vm::error::{ExcKind, PyErr, PyResult};
use crate::vm::interp::Vm;
use crate::vm::types::types;
use crate::vm::value::{Class, Instance, Kwargs, Module, PyDict, Value};

/// `_thread.TIMEOUT_MAX` on Linux (`PY_TIMEOUT_MAX` in seconds).
pub const TIMEOUT_MAX: f64 = 9_223_372_036.0;

// ---------------------------------------------------------------------------
// Thread functions.

fn start_new_thread(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    crate::stdlib::no_kwargs("start_new_thread", kw)?;
    check_args("start_new_thread", args, 2, 3)?;
    let func = args[0].clone();
    if !is_callable(&func) {
        return Err(PyErr::type_error("first arg must be callable"));
    }
    let Value::Tuple(targs) = &args[1] else {
        return Err(PyErr::type_error("2nd arg must be a tuple"));
    };
    let mut kwargs = Vec::new();
    match args.get(2) {
        None => {}
        Some(Value::Dict(d)) => {
            for (k, v) in d.items() {
                let Value::Str(k) = k else {
                    return Err(PyErr::type_error("keywords must be strings"));
                };
                kwargs.push((Arc::<str>::from(k.as_str()), v));
            }
        }
        Some(_) => return Err(PyErr::type_error("optional 3rd arg must be a dictionary")),
    }
    let name = thread_display_name(vm, &func);
    let tid = threads::start(vm, func, targs.items.to_vec(), kwargs, name)?;
    Ok(Value::Int(tid as i64))
}

/// The name GIL statistics show for a new thread: a `threading.Thread`'s name
/// when the function is its bound `_bootstrap`, else `Thread-<ident>`-like.
fn thread_display_name(vm: &mut Vm, func: &Value) -> String {
    if let Value::BoundMethod(b) = func {
        if let Value::Instance(_) = &b.receiver {
            if let Ok(Some(Value::Str(s))) = vm.get_attr_opt(&b.receiver, "_name") {
                return s.as_str().to_string();
            }
        }
    }
    format!("Thread-{}", threads::count() + 1)
}

fn is_callable(v: &Value) -> bool {
    match v {
        Value::Function(_) | Value::Native(_) | Value::BoundMethod(_) | Value::Class(_) => true,
        Value::Instance(i) => class_lookup(&i.class, "__call__").is_some(),
        Value::Object(o) => class_lookup(&o.class, "__call__").is_some(),
        _ => false,
    }
}

/// An attribute of a class or one of its bases (the MRO walk of attribute lookup).
fn class_lookup(class: &Arc<Class>, name: &str) -> Option<Value> {
    if let Some(v) = class.attrs.lock().get(name) {
        return Some(v.clone());
    }
    class
        .mro
        .iter()
        .find_map(|c| c.attrs.lock().get(name).cloned())
}

fn get_ident(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("get_ident", args, 0, 0)?;
    Ok(Value::Int(vm.tid as i64))
}

/// The kernel's id of the calling thread. (Not read from
/// `/proc/thread-self`: every `threading.Thread` asks at its start, and the
/// path buffer alone made each thread touch an allocator page of its own.)
fn native_thread_id() -> u64 {
    // SAFETY: `gettid` takes no arguments, touches no memory of ours and
    // cannot fail.
    let tid = unsafe { libc::gettid() };
    u64::try_from(tid).unwrap_or_else(|_| u64::from(std::process::id()))
}

fn get_native_id(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("get_native_id", args, 0, 0)?;
    Ok(Value::Int(native_thread_id() as i64))
}

fn count(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("_count", args, 0, 0)?;
    Ok(Value::Int(threads::count() as i64))
}

fn exit(_vm: &mut Vm, _args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Err(PyErr::with_args(ExcKind::SystemExit, vec![]))
}

fn interrupt_main(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("interrupt_main", args, 0, 1)?;
    vm.interp.gil.request_signal();
    Ok(Value::None)
}

/// `stack_size([size])`: remembered and reported back as CPython does, but
/// interpreter threads keep their own (large) stacks, which the recursion
/// limit relies on.
fn stack_size(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    use std::sync::atomic::{AtomicI64, Ordering};
    static SIZE: AtomicI64 = AtomicI64::new(0);
    check_args("stack_size", args, 0, 1)?;
    let old = SIZE.load(Ordering::Relaxed);
    if let Some(v) = args.first() {
        let n = to_i64(v)?;
        if n != 0 && n < 32_768 {
            return Err(PyErr::value_error(format!("size not valid: {n} bytes")));
        }
        SIZE.store(n, Ordering::Relaxed);
    }
    Ok(Value::Int(old))
}

// ---------------------------------------------------------------------------
// Locks.

/// `acquire(blocking=True, timeout=-1)` arguments → `None` (non-blocking) or a deadline
/// (`Some(None)` = wait forever).
fn acquire_args(args: &[Value], kw: Kwargs) -> PyResult<Option<Option<std::time::Instant>>> {
    if args.len() > 2 {
        return Err(PyErr::type_error(format!(
            "acquire() takes at most 2 arguments ({} given)",
            args.len()
        )));
    }
    for (k, _) in kw {
        if &**k != "blocking" && &**k != "timeout" {
            return Err(PyErr::type_error(format!(
                "'{k}' is an invalid keyword argument for acquire()"
            )));
        }
    }
    let blocking = match arg(args, kw, 0, "blocking") {
        None => true,
        Some(Value::Bool(b)) => *b,
        Some(v) => to_i64(v)? != 0,
    };
    let timeout = match arg(args, kw, 1, "timeout") {
        None => None,
        Some(v) => {
            let t = crate::stdlib::time::seconds_arg(v)?;
            // CPython converts to nanoseconds in an i64 first.
            if t.abs() >= 9_223_372_036.854_776 {
                return Err(PyErr::overflow_error(
                    "timestamp out of range for platform time_t",
                ));
            }
            Some(t)
        }
    };
    let timeout = timeout.filter(|t| *t != -1.0);
    if !blocking {
        if timeout.is_some() {
            return Err(PyErr::value_error(
                "can't specify a timeout for a non-blocking call",
            ));
        }
        return Ok(None);
    }
    match timeout {
        None => Ok(Some(None)),
        Some(t) if t < 0.0 => Err(PyErr::value_error("timeout value must be positive")),
        Some(t) if t > TIMEOUT_MAX => Err(PyErr::overflow_error("timeout value is too large")),
        Some(t) => Ok(Some(deadline_after(t))),
    }
}

fn lock_of(v: &Value) -> PyResult<&RawLock> {
    downcast::<RawLock>(v)
        .ok_or_else(|| PyErr::type_error("descriptor requires a '_thread.lock' object"))
}

fn rlock_of(v: &Value) -> PyResult<&RawRLock> {
    downcast::<RawRLock>(v)
        .ok_or_else(|| PyErr::type_error("descriptor requires a '_thread.RLock' object"))
}

fn self_arg(args: &[Value]) -> PyResult<&Value> {
    args.first()
        .ok_or_else(|| PyErr::type_error("unbound method needs an argument"))
}

fn lock_acquire(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let lock = lock_of(self_arg(args)?)?;
    let got = match acquire_args(&args[1..], kw)? {
        None => lock.try_acquire(),
        Some(deadline) => lock.acquire(vm, deadline)?,
    };
    Ok(Value::Bool(got))
}

fn lock_enter(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let lock = lock_of(self_arg(args)?)?;
    Ok(Value::Bool(lock.acquire(vm, None)?))
}

fn lock_release(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let lock = lock_of(self_arg(args)?)?;
    if !lock.release() {
        return Err(PyErr::runtime_error("release unlocked lock"));
    }
    Ok(Value::None)
}

fn lock_locked(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::Bool(lock_of(self_arg(args)?)?.is_locked()))
}

fn lock_repr(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let me = self_arg(args)?;
    let lock = lock_of(me)?;
    let state = if lock.is_locked() {
        "locked"
    } else {
        "unlocked"
    };
    Ok(Value::from_string(format!(
        "<{state} _thread.lock object at {:#x}>",
        me.heap_ptr().unwrap_or(0)
    )))
}

fn lock_at_fork_reinit(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let lock = lock_of(self_arg(args)?)?;
    lock.release();
    Ok(Value::None)
}

fn lock_class() -> &'static NativeClass {
    static CLASS: OnceLock<NativeClass> = OnceLock::new();
    CLASS.get_or_init(|| {
        NativeClass::new(
            "lock",
            "_thread",
            &[
                ("acquire", lock_acquire),
                ("acquire_lock", lock_acquire),
                ("release", lock_release),
                ("release_lock", lock_release),
                ("locked", lock_locked),
                ("locked_lock", lock_locked),
                ("__enter__", lock_enter),
                ("__exit__", lock_release),
                ("__repr__", lock_repr),
                ("_at_fork_reinit", lock_at_fork_reinit),
                ("__reduce_ex__", lock_reduce),
                ("__reduce__", lock_reduce),
            ],
            &[("__new__", lock_new)],
        )
    })
}

/// Locks cannot be pickled, so `copy.copy`/`deepcopy` of one (or of an
/// object holding one) fails with CPython's message.
fn lock_reduce(_vm: &mut Vm, _args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Err(PyErr::type_error("cannot pickle '_thread.lock' object"))
}

fn rlock_reduce(_vm: &mut Vm, _args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Err(PyErr::type_error("cannot pickle '_thread.RLock' object"))
}

fn lock_new(_vm: &mut Vm, _args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Err(PyErr::type_error("cannot create '_thread.lock' instances"))
}

/// A new unlocked `_thread.lock`.
pub fn new_lock() -> Value {
    native_object(&lock_class().class, RawLock::new())
}

fn allocate_lock(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("allocate_lock", args, 0, 0)?;
    Ok(new_lock())
}

fn rlock_new(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let class = match args.first() {
        Some(Value::Class(c)) => c.clone(),
        _ => rlock_class().class.clone(),
    };
    Ok(native_object(&class, RawRLock::new()))
}

fn rlock_init(_vm: &mut Vm, _args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::None)
}

fn rlock_acquire(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let lock = rlock_of(self_arg(args)?)?;
    let got = match acquire_args(&args[1..], kw)? {
        None => lock.acquire(vm, None, false, 1)?,
        Some(deadline) => lock.acquire(vm, deadline, true, 1)?,
    };
    Ok(Value::Bool(got))
}

fn rlock_enter(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let lock = rlock_of(self_arg(args)?)?;
    Ok(Value::Bool(lock.acquire(vm, None, true, 1)?))
}

fn rlock_release(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    rlock_of(self_arg(args)?)?.release(vm.tid)?;
    Ok(Value::None)
}

fn rlock_is_owned(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::Bool(rlock_of(self_arg(args)?)?.is_owned(vm.tid)))
}

fn rlock_release_save(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (count, owner) = rlock_of(self_arg(args)?)?.release_save(vm.tid)?;
    Ok(Value::tuple(vec![
        Value::Int(count as i64),
        Value::Int(owner as i64),
    ]))
}

fn rlock_acquire_restore(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let lock = rlock_of(self_arg(args)?)?;
    check_args("_acquire_restore", &args[1..], 1, 1)?;
    let state = vm.collect(&args[1])?;
    let count = match state.first() {
        Some(c) => to_i64(c)?.max(1) as u64,
        None => 1,
    };
    lock.acquire(vm, None, true, count)?;
    Ok(Value::None)
}

fn rlock_recursion_count(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (owner, count) = rlock_of(self_arg(args)?)?.owner_count();
    Ok(Value::Int(if owner == vm.tid { count as i64 } else { 0 }))
}

fn rlock_repr(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let me = self_arg(args)?;
    let (owner, count) = rlock_of(me)?.owner_count();
    let state = if count > 0 { "locked" } else { "unlocked" };
    let class = types().class_of(me);
    let module = class.module.clone();
    Ok(Value::from_string(format!(
        "<{state} {module}.{} object owner={owner} count={count} at {:#x}>",
        class.qualname,
        me.heap_ptr().unwrap_or(0)
    )))
}

fn rlock_class() -> &'static NativeClass {
    static CLASS: OnceLock<NativeClass> = OnceLock::new();
    CLASS.get_or_init(|| {
        NativeClass::new(
            "RLock",
            "_thread",
            &[
                ("acquire", rlock_acquire),
                ("release", rlock_release),
                ("__enter__", rlock_enter),
                ("__exit__", rlock_release),
                ("__init__", rlock_init),
                ("__repr__", rlock_repr),
                ("_is_owned", rlock_is_owned),
                ("_release_save", rlock_release_save),
                ("_acquire_restore", rlock_acquire_restore),
                ("_recursion_count", rlock_recursion_count),
                ("__reduce_ex__", rlock_reduce),
                ("__reduce__", rlock_reduce),
            ],
            &[("__new__", rlock_new)],
        )
    })
}

// ---------------------------------------------------------------------------
// Thread-local data.

/// The hidden attribute of a `_local` instance that holds its per-thread dicts.
const IMPL: &str = "_local__impl";

struct LocalImpl {
    dicts: Mutex<HashMap<ThreadId, Brc<PyDict>>>,
    /// Constructor arguments, replayed to `__init__` in each new thread.
    args: Vec<Value>,
    kwargs: Vec<(Arc<str>, Value)>,
}

fn local_impl_class() -> &'static NativeClass {
    static CLASS: OnceLock<NativeClass> = OnceLock::new();
    CLASS.get_or_init(|| NativeClass::new("_localimpl", "_thread", &[], &[]))
}

fn local_class() -> &'static NativeClass {
    static CLASS: OnceLock<NativeClass> = OnceLock::new();
    CLASS.get_or_init(|| {
        NativeClass::with_layout(
            "_local",
            "_thread",
            &[
                ("__getattribute__", local_getattribute),
                ("__setattr__", local_setattr),
                ("__delattr__", local_delattr),
            ],
            &[("__new__", local_new)],
            crate::vm::value::Layout::Object,
        )
    })
}

/// Does `class` define its own `__init__` (not `object.__init__`)?
fn user_init(class: &Arc<Class>) -> Option<Value> {
    let object = &types().object;
    std::iter::once(class)
        .chain(class.mro.iter())
        .take_while(|c| !Arc::ptr_eq(c, object))
        .find_map(|c| c.attrs.lock().get("__init__").cloned())
}

fn local_new(_vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let Some(Value::Class(class)) = args.first() else {
        return Err(PyErr::type_error(
            "_local.__new__(X): X is not a type object",
        ));
    };
    if (args.len() > 1 || !kw.is_empty()) && user_init(class).is_none() {
        return Err(PyErr::type_error(
            "Initialization arguments are not supported",
        ));
    }
    let inst = Vm::new_instance(class);
    let Value::Instance(i) = &inst else {
        return Err(PyErr::type_error("_local.__new__: bad instance layout"));
    };
    // The creating thread gets its dict now; `__init__` then runs normally.
    let state = LocalImpl {
        dicts: Mutex::new(HashMap::new()),
        args: args[1..].to_vec(),
        kwargs: kw.to_vec(),
    };
    let imp = native_object(&local_impl_class().class, state);
    i.attrs.lock().insert(IMPL.into(), imp);
    Ok(inst)
}

fn local_state(obj: &Value) -> PyResult<(Brc<Instance>, Value)> {
    let Value::Instance(i) = obj else {
        return Err(PyErr::type_error(
            "descriptor requires a '_thread._local' object",
        ));
    };
    let imp =
        i.attrs.lock().get(IMPL).cloned().ok_or_else(|| {
            PyErr::type_error("_local object was not initialised by _local.__new__")
        })?;
    Ok((i.clone(), imp))
}

/// The calling thread's dict, created (and `__init__` replayed) on first use.
fn thread_dict(vm: &mut Vm, obj: &Value) -> PyResult<Brc<PyDict>> {
    let (inst, imp_value) = local_state(obj)?;
    let imp = downcast::<LocalImpl>(&imp_value)
        .ok_or_else(|| PyErr::type_error("corrupt _local object"))?;
    let tid = vm.tid;
    let (dict, is_new, first) = {
        let mut dicts = imp.dicts.lock();
        let first = dicts.is_empty();
        match dicts.get(&tid) {
            Some(d) => (d.clone(), false, first),
            None => {
                let d = Brc::new(PyDict::new());
                dicts.insert(tid, d.clone());
                (d, true, first)
            }
        }
    };
    // The first thread is the creating one, whose `__init__` call is under way.
    if is_new && !first {
        if let Some(init) = user_init(&inst.class) {
            let mut call_args = vec![obj.clone()];
            call_args.extend(imp.args.iter().cloned());
            vm.call(&init, &call_args, &imp.kwargs)?;
        }
    }
    Ok(dict)
}

fn name_arg<'a>(args: &'a [Value], method: &str) -> PyResult<&'a str> {
    match args.get(1) {
        Some(Value::Str(s)) => Ok(s.as_str()),
        Some(other) => Err(PyErr::type_error(format!(
            "attribute name must be string, not '{}'",
            type_name(other)
        ))),
        None => Err(PyErr::type_error(format!("{method} expected 1 argument"))),
    }
}

fn no_attribute(obj: &Value, name: &str) -> PyErr {
    // Built-in types are named with their module, as CPython's `tp_name`.
    let class = types().class_of(obj);
    let tname = if Arc::ptr_eq(class, &local_class().class) {
        "_thread._local".to_string()
    } else {
        type_name(obj)
    };
    PyErr::attribute_error(format!("'{tname}' object has no attribute '{name}'"))
}

/// `_local.__getattribute__`: CPython's generic lookup with the calling
/// thread's dict as the instance dict (data descriptors of the class, then
/// the thread's attributes, then other class attributes), so a class
/// attribute of a subclass is only a default.
fn local_getattribute(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let obj = self_arg(args)?;
    let name = name_arg(args, "__getattribute__")?;
    let (inst, _) = local_state(obj)?;
    let cls = inst.class.clone();
    match name {
        "__dict__" => return Ok(Value::Dict(thread_dict(vm, obj)?)),
        "__class__" => return Ok(Value::Class(cls)),
        _ => {}
    }
    let class_attr = crate::vm::ops::lookup_in_class(&cls, name);
    if let Some(ca) = &class_attr {
        if let Some(v) = vm.data_descriptor_get(ca, obj, &cls, name)? {
            return Ok(v);
        }
    }
    let dict = thread_dict(vm, obj)?;
    if let Some(v) = dict.get(name) {
        return Ok(v);
    }
    match class_attr {
        Some(ca) => vm.bind_attr(ca, obj, &cls),
        None if name == "__module__" => Ok(Value::str(&cls.module)),
        None if name == "__doc__" => Ok(Value::None),
        None => Err(no_attribute(obj, name)),
    }
}

fn local_setattr(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let obj = self_arg(args)?;
    let name = name_arg(args, "__setattr__")?;
    if name == "__dict__" || name == IMPL {
        return Err(PyErr::attribute_error(format!(
            "'{}' object attribute '{name}' is read-only",
            type_name(obj)
        )));
    }
    let value = args
        .get(2)
        .cloned()
        .ok_or_else(|| PyErr::type_error("__setattr__ expected 2 arguments"))?;
    let dict = thread_dict(vm, obj)?;
    dict.set(name, value);
    Ok(Value::None)
}

fn local_delattr(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let obj = self_arg(args)?;
    let name = name_arg(args, "__delattr__")?;
    let dict = thread_dict(vm, obj)?;
    if dict.del_str(&crate::vm::value::PyStr::new(name)).is_none() {
        return Err(no_attribute(obj, name));
    }
    Ok(Value::None)
}

pub fn make(_vm: &mut Vm) -> PyResult<Arc<Module>> {
    let m = new_module("_thread");
    add_functions(
        &m,
        &[
            ("start_new_thread", start_new_thread),
            ("start_new", start_new_thread),
            ("allocate_lock", allocate_lock),
            ("allocate", allocate_lock),
            ("get_ident", get_ident),
            ("get_native_id", get_native_id),
            ("_count", count),
            ("exit", exit),
            ("exit_thread", exit),
            ("interrupt_main", interrupt_main),
            ("stack_size", stack_size),
        ],
    );
    set_attr(&m, "LockType", Value::Class(lock_class().class.clone()));
    set_attr(&m, "RLock", Value::Class(rlock_class().class.clone()));
    set_attr(&m, "_local", Value::Class(local_class().class.clone()));
    set_attr(
        &m,
        "error",
        Value::Class(types().exception(ExcKind::RuntimeError).clone()),
    );
    set_attr(&m, "TIMEOUT_MAX", Value::Float(TIMEOUT_MAX));
    Ok(m)
}
