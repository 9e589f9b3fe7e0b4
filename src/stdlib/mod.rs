//! Standard library modules: native ones written in Rust and in-language ones
//! embedded from `src/stdlib/py/`.
//!
//! The import system asks [`native_module`] first, then [`py_source`]. This file
//! also holds the small helpers every native module uses: building modules and
//! classes of native functions, and converting arguments with CPython's messages.

use crate::vm::brc::Brc;
use std::any::Any;
use std::sync::Arc;

use num_bigint::BigInt;
use num_traits::ToPrimitive;

use crate::vm::error::{PyErr, PyResult};
use crate::vm::interp::Vm;
use crate::vm::types::{new_class, types};
use crate::vm::value::{
    AttrMap, Class, Kwargs, Layout, Module, NativeFn, ObjKind, Object, PyDict, Value,
};

pub mod cmath;
pub mod hashlib;
pub mod hmac;
pub mod math;
pub mod os;
pub mod random;
pub mod re_engine;
pub mod sys;
pub mod thread;
pub mod time;
pub mod traceback;

/// Build the native module `name`, or `None` if there is no such native module.
pub fn native_module(vm: &mut Vm, name: &str) -> Option<PyResult<Arc<Module>>> {
    Some(match name {
        "sys" => sys::make(vm),
        "time" => time::make(vm),
        "math" => math::make(vm),
        "cmath" => cmath::make(vm),
        "os" => os::make(vm),
        "os.path" | "posixpath" => os::make_path(vm),
        "random" => random::make(vm),
        "_thread" => thread::make(vm),
        "traceback" => traceback::make(vm),
        "hashlib" => hashlib::make(vm),
        "hmac" => hmac::make(vm),
        "_re" => re_engine::make(vm),
        _ => return None,
    })
}

/// Whether frames running code of `filename` stay out of tracebacks: the
/// in-language modules whose CPython counterparts are written in C
/// (`deque.popleft`, `heapq.heappop`, `functools.reduce`, ...), or whose
/// errors CPython raises before any frame runs (a dataclass's or
/// namedtuple's missing argument). CPython's tracebacks show no frame for
/// them, so ours do not either.
pub fn hides_frames(filename: &str) -> bool {
    let Some(module) = filename
        .strip_prefix("<frozen ")
        .and_then(|f| f.strip_suffix('>'))
    else {
        return false;
    };
    matches!(
        module,
        "collections"
            | "functools"
            | "heapq"
            | "bisect"
            | "itertools"
            | "operator"
            | "dataclasses"
            | "abc"
            | "atexit"
            | "_exceptiongroup"
            | "datetime"
            | "warnings"
            | "_queue"
            | "gc"
    )
}

/// The source of an in-language module (`threading`, `queue`, ...).
pub fn py_source(name: &str) -> Option<&'static str> {
    Some(match name {
        "threading" => include_str!("py/threading.py"),
        "queue" => include_str!("py/queue.py"),
        "_queue" => include_str!("py/_queue.py"),
        "heapq" => include_str!("py/heapq.py"),
        "collections" => include_str!("py/collections.py"),
        "collections.abc" => include_str!("py/collections_abc.py"),
        "concurrent" => include_str!("py/concurrent/__init__.py"),
        "concurrent.futures" => include_str!("py/concurrent/futures.py"),
        "concurrent.futures._base" => include_str!("py/concurrent/futures_base.py"),
        "concurrent.futures.thread" => include_str!("py/concurrent/futures_thread.py"),
        "atexit" => include_str!("py/atexit.py"),
        "_frozen_importlib" => include_str!("py/_frozen_importlib.py"),
        "_frozen_importlib_external" => include_str!("py/_frozen_importlib_external.py"),
        "contextlib" => include_str!("py/contextlib.py"),
        "functools" => include_str!("py/functools.py"),
        "itertools" => include_str!("py/itertools.py"),
        "logging" => include_str!("py/logging.py"),
        "typing" => include_str!("py/typing.py"),
        "dataclasses" => include_str!("py/dataclasses.py"),
        "enum" => include_str!("py/enum.py"),
        "copy" => include_str!("py/copy.py"),
        "abc" => include_str!("py/abc.py"),
        "bisect" => include_str!("py/bisect.py"),
        "string" => include_str!("py/string.py"),
        "operator" => include_str!("py/operator.py"),
        "_exceptiongroup" => include_str!("py/_exceptiongroup.py"),
        "timeit" => include_str!("py/timeit.py"),
        "json" => include_str!("py/json.py"),
        "io" => include_str!("py/io.py"),
        "types" => include_str!("py/types.py"),
        "numbers" => include_str!("py/numbers.py"),
        "fractions" => include_str!("py/fractions.py"),
        "statistics" => include_str!("py/statistics.py"),
        "re" => include_str!("py/re.py"),
        "datetime" => include_str!("py/datetime.py"),
        "textwrap" => include_str!("py/textwrap.py"),
        "pprint" => include_str!("py/pprint.py"),
        "csv" => include_str!("py/csv.py"),
        "calendar" => include_str!("py/calendar.py"),
        "warnings" => include_str!("py/warnings.py"),
        "gc" => include_str!("py/gc.py"),
        _ => return None,
    })
}

/// Is `name` a package (a module that has submodules)?
pub fn is_package(name: &str) -> bool {
    matches!(
        name,
        "concurrent" | "concurrent.futures" | "os" | "collections"
    )
}

// ---------------------------------------------------------------------------
// Building modules and classes.

/// A new, empty module with `__name__` set.
pub fn new_module(name: &str) -> Arc<Module> {
    let m = Arc::new(Module {
        name: name.into(),
        dict: Brc::new(PyDict::new()),
        initializing: Default::default(),
    });
    set_attr(&m, "__name__", Value::str(name));
    set_attr(&m, "__doc__", Value::None);
    set_attr(&m, "__package__", Value::None);
    m
}

/// `module.name = value`.
pub fn set_attr(m: &Module, name: &str, value: Value) {
    m.dict.set(name, value);
}

/// A module attribute, if set.
pub fn get_attr(m: &Module, name: &str) -> Option<Value> {
    m.dict.get(name)
}

/// A dict of string keys, e.g. `os.environ`.
pub fn str_dict(items: impl IntoIterator<Item = (String, Value)>) -> Value {
    let d = PyDict::new();
    for (k, v) in items {
        d.set(&k, v);
    }
    Value::Dict(Brc::new(d))
}

pub use crate::vm::interp::native;

/// A read-only property whose getter is the native `get` (`args[0]`: the
/// instance), for a native class's namespace.
pub fn native_property(name: &'static str, qualname: &str, get: NativeFn) -> Value {
    Value::Object(Arc::new(crate::vm::value::Object {
        class: types().property.clone(),
        kind: crate::vm::value::ObjKind::Property {
            fget: native(name, qualname, get, true),
            fset: Value::None,
            fdel: Value::None,
            doc: Value::None,
        },
    }))
}

/// Add module-level functions.
pub fn add_functions(m: &Module, funcs: &[(&'static str, NativeFn)]) {
    for (name, f) in funcs {
        set_attr(m, name, native(name, name, *f, false));
    }
}

/// A built-in class whose instances are `Value::Object`s carrying Rust state.
pub struct NativeClass {
    pub class: Arc<Class>,
}

impl NativeClass {
    /// `methods` bind to their instance (`args[0]` is self); `statics` do not
    /// (`__new__` receives the class as `args[0]`).
    pub fn new(
        name: &str,
        module: &str,
        methods: &[(&'static str, NativeFn)],
        statics: &[(&'static str, NativeFn)],
    ) -> NativeClass {
        NativeClass::with_layout(name, module, methods, statics, Layout::Other)
    }

    /// Like `new`, for a class whose instances are of another layout
    /// (`Layout::Object`: plain instances that scripts may subclass).
    pub fn with_layout(
        name: &str,
        module: &str,
        methods: &[(&'static str, NativeFn)],
        statics: &[(&'static str, NativeFn)],
        layout: Layout,
    ) -> NativeClass {
        let mut attrs = AttrMap::for_class();
        for (mname, f) in methods {
            let q = format!("{name}.{mname}");
            attrs.insert((*mname).into(), native(mname, &q, *f, true));
        }
        for (mname, f) in statics {
            let q = format!("{name}.{mname}");
            attrs.insert((*mname).into(), native(mname, &q, *f, false));
        }
        attrs.insert("__module__".into(), Value::str(module));
        let class = new_class(name, module, vec![types().object.clone()], layout, attrs)
            .unwrap_or_else(|_| types().object.clone());
        NativeClass { class }
    }

    /// A method from the class namespace.
    pub fn method(&self, name: &str) -> Option<Value> {
        self.class.attrs.lock().get(name).cloned()
    }
}

/// A new instance of a native class.
pub fn native_object<T: Any + Send + Sync>(class: &Arc<Class>, state: T) -> Value {
    Value::Object(Arc::new(Object {
        class: class.clone(),
        kind: ObjKind::Native(Box::new(state)),
    }))
}

/// The Rust state of a native object, if it is a `T`.
pub fn downcast<T: Any>(v: &Value) -> Option<&T> {
    match v {
        Value::Object(o) => match &o.kind {
            ObjKind::Native(b) => b.downcast_ref::<T>(),
            _ => None,
        },
        _ => None,
    }
}

/// A read-only property whose getter is a native taking the instance.
pub fn property(name: &'static str, getter: NativeFn) -> Value {
    Value::Object(Arc::new(Object {
        class: types().property.clone(),
        kind: ObjKind::Property {
            fget: native(name, name, getter, true),
            fset: Value::None,
            fdel: Value::None,
            doc: Value::None,
        },
    }))
}

/// `range(start, stop, step)`.
pub fn range_value(start: i64, stop: i64, step: i64) -> Value {
    Value::Object(Arc::new(Object {
        class: types().range.clone(),
        kind: ObjKind::Range { start, stop, step },
    }))
}

// ---------------------------------------------------------------------------
// Arguments.

/// Positional-count check with Argument Clinic's messages.
pub fn check_args(name: &str, args: &[Value], min: usize, max: usize) -> PyResult<()> {
    let n = args.len();
    if n >= min && n <= max {
        return Ok(());
    }
    let plural = |k: usize| if k == 1 { "" } else { "s" };
    Err(PyErr::type_error(if max == 0 {
        format!("{name}() takes no arguments ({n} given)")
    } else if min == max {
        format!("{name} expected {min} argument{}, got {n}", plural(min))
    } else if n < min {
        format!(
            "{name} expected at least {min} argument{}, got {n}",
            plural(min)
        )
    } else {
        format!(
            "{name} expected at most {max} argument{}, got {n}",
            plural(max)
        )
    }))
}

/// Reject keyword arguments for functions that take none.
pub fn no_kwargs(name: &str, kw: Kwargs) -> PyResult<()> {
    if kw.is_empty() {
        Ok(())
    } else {
        Err(PyErr::type_error(format!(
            "{name}() takes no keyword arguments"
        )))
    }
}

/// A keyword argument by name.
pub fn kwarg<'a>(kw: Kwargs<'a>, name: &str) -> Option<&'a Value> {
    kw.iter().find(|(k, _)| &**k == name).map(|(_, v)| v)
}

/// Positional argument `i`, else keyword `name`.
pub fn arg<'a>(args: &'a [Value], kw: Kwargs<'a>, i: usize, name: &str) -> Option<&'a Value> {
    args.get(i).or_else(|| kwarg(kw, name))
}

/// `type(v).__name__`.
/// `args` then keyword arguments bound to the parameters `names`, with
/// CPython's messages for an unexpected or repeated keyword; `None` for a
/// parameter not given. The caller checks the positional count first.
pub fn bind_args<'a, const N: usize>(
    func: &str,
    names: [&str; N],
    args: &'a [Value],
    kw: Kwargs<'a>,
) -> PyResult<[Option<&'a Value>; N]> {
    let mut slots: [Option<&Value>; N] = [None; N];
    for (slot, v) in slots.iter_mut().zip(args) {
        *slot = Some(v);
    }
    for (k, v) in kw {
        let Some(i) = names.iter().position(|n| *n == &**k) else {
            return Err(PyErr::type_error(format!(
                "{func}() got an unexpected keyword argument '{k}'"
            )));
        };
        if slots[i].is_some() {
            return Err(PyErr::type_error(format!(
                "{func}() got multiple values for argument '{k}'"
            )));
        }
        slots[i] = Some(v);
    }
    Ok(slots)
}

pub fn type_name(v: &Value) -> String {
    types().class_of(v).name.to_string()
}

/// An int result, small when it fits.
pub fn int_value(b: BigInt) -> Value {
    match b.to_i64() {
        Some(i) => Value::Int(i),
        None => Value::BigInt(Arc::new(b)),
    }
}

/// An int argument (`__index__` semantics for the built-in types).
pub fn to_bigint(v: &Value, _func: &str) -> PyResult<BigInt> {
    match v {
        Value::Int(i) => Ok(BigInt::from(*i)),
        Value::Bool(b) => Ok(BigInt::from(u8::from(*b))),
        Value::BigInt(b) => Ok((**b).clone()),
        other => Err(PyErr::type_error(format!(
            "'{}' object cannot be interpreted as an integer",
            type_name(other)
        ))),
    }
}

/// An int argument that must fit in i64 (C `Py_ssize_t`/`long`).
pub fn to_i64(v: &Value) -> PyResult<i64> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(i64::from(*b)),
        Value::BigInt(_) => Err(PyErr::overflow_error(
            "Python int too large to convert to C long",
        )),
        other => Err(PyErr::type_error(format!(
            "'{}' object cannot be interpreted as an integer",
            type_name(other)
        ))),
    }
}

/// A float argument of a built-in number type (`PyFloat_AsDouble` without `__float__`).
pub fn to_f64(v: &Value) -> PyResult<f64> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Int(i) => Ok(*i as f64),
        Value::Bool(b) => Ok(f64::from(u8::from(*b))),
        Value::BigInt(b) => big_to_f64(b),
        other => Err(PyErr::type_error(format!(
            "must be real number, not {}",
            type_name(other)
        ))),
    }
}

/// A float argument, calling `__float__` (then `__index__`) on other objects.
pub fn to_f64_vm(vm: &mut Vm, v: &Value) -> PyResult<f64> {
    if let Ok(f) = to_f64(v) {
        return Ok(f);
    }
    if let Value::Instance(_) = v {
        for hook in ["__float__", "__index__"] {
            if let Some(method) = vm.get_attr_opt(v, hook)? {
                let r = vm.call(&method, &[], &[])?;
                return to_f64(&r);
            }
        }
    }
    to_f64(v)
}

/// An int too large for f64 is an OverflowError, as in CPython.
pub fn big_to_f64(b: &BigInt) -> PyResult<f64> {
    match b.to_f64() {
        Some(f) if f.is_finite() => Ok(f),
        _ => Err(PyErr::overflow_error("int too large to convert to float")),
    }
}
