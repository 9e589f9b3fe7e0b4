//! The `builtins` module and the installation of built-in types' methods.

use crate::vm::brc::Brc;
use std::sync::Arc;

use crate::compile::code::{BinaryOpKind, CompareKind};
use crate::vm::error::{ExcKind, PyErr, PyResult};
use crate::vm::interp::Vm;
use crate::vm::types::{types, Types};
use crate::vm::value::{
    Class, FastFn, InstanceBase, Kwargs, Layout, NativeFn, NativeFunction, ObjKind, PyDict, PyList,
    PyStr, Value,
};

/// Put every built-in type's native methods into its class namespace.
pub fn install_methods(types: &Types) {
    let _ = CLASSMETHOD.set(types.classmethod.clone());
    // The protocol and scalar types first: the containers' own methods
    // below are the authority for the container types.
    crate::vm::ops::install(types);
    crate::vm::number::install(types);
    crate::vm::complex::install(types);
    crate::vm::str::install(types);
    crate::vm::bytes::install(types);
    crate::vm::bytearray::install(types);
    crate::vm::list::install(types);
    crate::vm::tuple::install(types);
    crate::vm::dict::install(types);
    crate::vm::set::install(types);
    crate::vm::iter::install(types);
    install_descriptors(types);
}

// ---- helpers shared by the container files ----

pub(crate) use crate::vm::interp::native;

/// A native that takes no keyword arguments: the call machinery rejects them
/// (see `NativeFunction::takes_kwargs`).
pub(crate) fn native_no_kwargs(
    name: &'static str,
    qualname: &str,
    func: NativeFn,
    is_method: bool,
) -> Value {
    Value::Native(Arc::new(NativeFunction {
        takes_kwargs: false,
        ..NativeFunction::new(name, qualname, func, is_method)
    }))
}

/// [`method`] with a [`FastFn`] for the calls it can do in place.
pub(crate) fn method_fast(class: &Arc<Class>, name: &'static str, func: NativeFn, fast: FastFn) {
    let qualname = format!("{}.{}", class.name, name);
    let f = NativeFunction {
        takes_kwargs: false,
        fast: Some(fast),
        ..NativeFunction::new(name, &qualname, func, true)
    };
    class
        .attrs
        .lock()
        .insert(name.into(), Value::Native(Arc::new(f)));
}

/// Install a native method `class.name` that takes no keyword arguments, as
/// most of CPython's built-in methods: `"a".strip(chars="x")` raises
/// "str.strip() takes no keyword arguments".
pub(crate) fn method(class: &Arc<Class>, name: &'static str, func: NativeFn) {
    let qualname = format!("{}.{}", class.name, name);
    class
        .attrs
        .lock()
        .insert(name.into(), native_no_kwargs(name, &qualname, func, true));
}

/// Install a native method that parses its own keyword arguments
/// (`str.split(sep=...)`, `list.sort(key=...)`, `dict.update(**kw)`).
pub(crate) fn method_kw(class: &Arc<Class>, name: &'static str, func: NativeFn) {
    let qualname = format!("{}.{}", class.name, name);
    class
        .attrs
        .lock()
        .insert(name.into(), native(name, &qualname, func, true));
}

/// Install `__new__` (receives the class as `args[0]`; never bound).
pub(crate) fn constructor(class: &Arc<Class>, func: NativeFn) {
    let qualname = format!("{}.__new__", class.name);
    class
        .attrs
        .lock()
        .insert("__new__".into(), native("__new__", &qualname, func, false));
}

/// The `classmethod` class, recorded by `install_methods` so that
/// `class_method` works while the built-in types are still being made.
static CLASSMETHOD: std::sync::OnceLock<Arc<Class>> = std::sync::OnceLock::new();

/// Install a class method that takes no keyword arguments (`dict.fromkeys`,
/// `float.fromhex`).
pub(crate) fn class_method(class: &Arc<Class>, name: &'static str, func: NativeFn) {
    let qualname = format!("{}.{}", class.name, name);
    install_class_method(class, name, native_no_kwargs(name, &qualname, func, false));
}

/// Install a class method that parses its own keyword arguments
/// (`int.from_bytes(b, byteorder=...)`).
pub(crate) fn class_method_kw(class: &Arc<Class>, name: &'static str, func: NativeFn) {
    let qualname = format!("{}.{}", class.name, name);
    install_class_method(class, name, native(name, &qualname, func, false));
}

fn install_class_method(class: &Arc<Class>, name: &'static str, f: Value) {
    let Some(cm) = CLASSMETHOD.get() else {
        return;
    };
    let wrapped = Value::Object(Arc::new(crate::vm::value::Object {
        class: cm.clone(),
        kind: crate::vm::value::ObjKind::ClassMethod(f),
    }));
    class.attrs.lock().insert(name.into(), wrapped);
}

/// `type(v).__name__`.
pub(crate) fn type_name(v: &Value) -> Arc<str> {
    let c = types().class_of(v);
    // CPython's `types.UnionType` and `types.GenericAlias` carry their
    // module in the name their messages use, as do the `datetime` classes
    // (C types there, in-language here).
    if &*c.module == "types" && c.layout == crate::vm::value::Layout::Other {
        return format!("types.{}", c.name).into();
    }
    if &*c.module == "datetime" {
        return format!("datetime.{}", c.name).into();
    }
    c.name.get()
}

/// The built-in value inside an instance of a subclass of a built-in type
/// (`class D(dict)`), or the value itself.
pub(crate) fn base_value(v: &Value) -> Value {
    if let Value::Instance(inst) = v {
        if let InstanceBase::Builtin(b) = &inst.base {
            return b.lock().clone();
        }
    }
    v.clone()
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Argument Clinic's count check: "pop expected at most 1 argument, got 2".
/// `args` excludes `self`.
pub(crate) fn arity(name: &str, args: &[Value], min: usize, max: usize) -> PyResult<()> {
    let n = args.len();
    if n >= min && n <= max {
        return Ok(());
    }
    let msg = if min == max {
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
    };
    Err(PyErr::type_error(msg))
}

/// METH_O: "list.append() takes exactly one argument (0 given)".
pub(crate) fn one_arg(qualname: &str, args: &[Value]) -> PyResult<()> {
    if args.len() == 1 {
        return Ok(());
    }
    Err(PyErr::type_error(format!(
        "{qualname}() takes exactly one argument ({} given)",
        args.len()
    )))
}

/// METH_NOARGS: "list.clear() takes no arguments (1 given)".
pub(crate) fn no_args(qualname: &str, args: &[Value]) -> PyResult<()> {
    if args.is_empty() {
        return Ok(());
    }
    Err(PyErr::type_error(format!(
        "{qualname}() takes no arguments ({} given)",
        args.len()
    )))
}

/// "list.append() takes no keyword arguments".
pub(crate) fn no_kwargs(qualname: &str, kwargs: Kwargs) -> PyResult<()> {
    if kwargs.is_empty() {
        return Ok(());
    }
    Err(PyErr::type_error(format!(
        "{qualname}() takes no keyword arguments"
    )))
}

/// The receiver of a native method, checked against the expected kind.
pub(crate) fn descriptor_error(method: &str, owner: &str, got: &Value) -> PyErr {
    PyErr::type_error(format!(
        "descriptor '{method}' for '{owner}' objects doesn't apply to a '{}' object",
        type_name(got)
    ))
}

/// A Python int argument as i64 ("'str' object cannot be interpreted as an integer").
pub(crate) fn index_arg(v: &Value) -> PyResult<i64> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(*b as i64),
        Value::BigInt(_) => Err(PyErr::new(
            ExcKind::OverflowError,
            "Python int too large to convert to C ssize_t",
        )),
        Value::Instance(_) => match base_value(v) {
            b @ (Value::Int(_) | Value::Bool(_) | Value::BigInt(_)) => index_arg(&b),
            _ => Err(PyErr::type_error(format!(
                "'{}' object cannot be interpreted as an integer",
                type_name(v)
            ))),
        },
        _ => Err(PyErr::type_error(format!(
            "'{}' object cannot be interpreted as an integer",
            type_name(v)
        ))),
    }
}

/// An integer argument through the index protocol (`__index__`), as i64.
pub(crate) fn index_value(vm: &mut Vm, v: &Value) -> PyResult<i64> {
    match v {
        Value::Int(_) | Value::Bool(_) | Value::BigInt(_) => index_arg(v),
        Value::Instance(inst) => {
            if let InstanceBase::Builtin(_) = &inst.base {
                let b = base_value(v);
                if matches!(b, Value::Int(_) | Value::Bool(_) | Value::BigInt(_)) {
                    return index_arg(&b);
                }
            }
            match crate::vm::iter::class_lookup(&inst.class, "__index__") {
                Some(f) => {
                    let r = vm.call(&f, std::slice::from_ref(v), &[])?;
                    match r {
                        Value::Int(_) | Value::Bool(_) | Value::BigInt(_) => index_arg(&r),
                        _ => Err(PyErr::type_error(format!(
                            "__index__ returned non-int (type {})",
                            type_name(&r)
                        ))),
                    }
                }
                None => index_arg(v),
            }
        }
        _ => index_arg(v),
    }
}

/// `callable(v)`.
pub(crate) fn is_callable(v: &Value) -> bool {
    match v {
        Value::Function(_) | Value::Native(_) | Value::BoundMethod(_) | Value::Class(_) => true,
        Value::Instance(i) => crate::vm::iter::class_lookup(&i.class, "__call__").is_some(),
        Value::Object(o) => {
            matches!(o.kind, ObjKind::StaticMethod(_))
                || crate::vm::iter::class_lookup(&o.class, "__call__").is_some()
        }
        _ => false,
    }
}

// ---- the builtins module ----

/// A new `builtins` namespace with every built-in function, class and exception.
pub fn builtins_dict() -> Brc<PyDict> {
    let d = Brc::new(PyDict::new());
    fill_builtins(&d);
    d
}

/// Put every built-in name into `d` (each name once).
pub fn fill_builtins(d: &PyDict) {
    let t = types();
    let funcs: &[(&'static str, NativeFn)] = &[
        ("print", b_print),
        ("input", b_input),
        ("len", b_len),
        ("sorted", b_sorted),
        ("min", b_min),
        ("max", b_max),
        ("sum", b_sum),
        ("any", b_any),
        ("all", b_all),
        ("abs", b_abs),
        ("round", b_round),
        ("divmod", b_divmod),
        ("pow", b_pow),
        ("repr", b_repr),
        ("ascii", b_ascii),
        ("isinstance", b_isinstance),
        ("$match_class", b_match_class),
        ("issubclass", b_issubclass),
        ("hasattr", b_hasattr),
        ("getattr", b_getattr),
        ("setattr", b_setattr),
        ("delattr", b_delattr),
        ("id", b_id),
        ("hash", b_hash),
        ("iter", crate::vm::iter::builtin_iter),
        ("next", crate::vm::iter::builtin_next),
        ("chr", b_chr),
        ("ord", b_ord),
        ("hex", b_hex),
        ("bin", b_bin),
        ("oct", b_oct),
        ("format", b_format),
        ("callable", b_callable),
        ("open", b_open),
        ("vars", b_vars),
        ("dir", b_dir),
        ("globals", b_globals),
        ("locals", b_locals),
        ("eval", crate::vm::exec::b_eval),
        ("exec", crate::vm::exec::b_exec),
        ("compile", crate::vm::exec::b_compile),
        ("exit", b_exit),
        ("quit", b_exit),
        ("__import__", b_import),
        ("__build_class__", crate::vm::class::build_class),
    ];
    let fast: &[(&str, FastFn)] = &[("len", len_fast), ("chr", chr_fast)];
    for (name, f) in funcs {
        let fast = fast.iter().find(|(n, _)| n == name).map(|(_, f)| *f);
        let f = NativeFunction {
            fast,
            ..NativeFunction::new(name, name, *f, false)
        };
        d.set(name, Value::Native(Arc::new(f)));
    }
    let classes: &[(&str, &Arc<Class>)] = &[
        ("object", &t.object),
        ("type", &t.type_),
        ("int", &t.int),
        ("float", &t.float),
        ("complex", &t.complex),
        ("str", &t.str_),
        ("bool", &t.bool_),
        ("bytes", &t.bytes),
        ("bytearray", &t.bytearray),
        ("list", &t.list),
        ("tuple", &t.tuple),
        ("dict", &t.dict),
        ("set", &t.set),
        ("frozenset", &t.frozenset),
        ("range", &t.range),
        ("slice", &t.slice),
        ("property", &t.property),
        ("staticmethod", &t.staticmethod),
        ("classmethod", &t.classmethod),
        ("super", &t.super_),
    ];
    for (name, c) in classes {
        d.set(name, Value::Class((*c).clone()));
    }
    for name in ["enumerate", "zip", "map", "filter", "reversed"] {
        d.set(name, Value::Class(t.iterator_class(name)));
    }
    for c in t.exceptions() {
        d.set(&c.name.get(), Value::Class(c.clone()));
    }
    let os_error = Value::Class(t.exception(ExcKind::OSError).clone());
    d.set("EnvironmentError", os_error.clone());
    d.set("IOError", os_error);
    d.set("NotImplemented", t.not_implemented.clone());
    d.set("Ellipsis", t.ellipsis.clone());
    // Keywords to the parser, but names in the builtins namespace too (so
    // "Did you mean: 'True'?" finds them).
    d.set("True", Value::Bool(true));
    d.set("False", Value::Bool(false));
    d.set("None", Value::None);
    d.set("__debug__", Value::Bool(true));
    d.set("__name__", Value::str("builtins"));
    d.set("__doc__", Value::None);
}

/// A keyword argument by name.
fn kwarg<'a>(kw: Kwargs<'a>, name: &str) -> Option<&'a Value> {
    kw.iter().find(|(k, _)| &**k == name).map(|(_, v)| v)
}

/// Reject keyword arguments outside `allowed` as CPython does.
fn check_kwargs(func: &str, kw: Kwargs, allowed: &[&str]) -> PyResult<()> {
    for (k, _) in kw {
        if !allowed.contains(&&**k) {
            return Err(PyErr::type_error(format!(
                "'{k}' is an invalid keyword argument for {func}()"
            )));
        }
    }
    Ok(())
}

/// "len() takes exactly one argument (0 given)" for one-argument builtins.
fn exactly_one(name: &str, args: &[Value], kw: Kwargs) -> PyResult<()> {
    no_kwargs(name, kw)?;
    if args.len() != 1 {
        return Err(PyErr::type_error(format!(
            "{name}() takes exactly one argument ({} given)",
            args.len()
        )));
    }
    Ok(())
}

/// Is `v` the `sys.stdout`/`sys.stderr` object that writes through the interpreter?
fn std_stream(v: &Value) -> Option<crate::stdlib::sys::Stream> {
    if let Value::Object(o) = v {
        if let ObjKind::Native(n) = &o.kind {
            return n.downcast_ref::<crate::stdlib::sys::Stream>().copied();
        }
    }
    None
}

/// `sys.<name>` if the sys module exists.
fn sys_attr(vm: &Vm, name: &str) -> Option<Value> {
    match vm.interp.module("sys") {
        Some(Value::Module(m)) => m.dict.get(name),
        _ => None,
    }
}

/// Write `text` to a file object: the interpreter's own streams directly,
/// anything else through its `write` method (one call per print).
fn write_to(vm: &mut Vm, file: &Value, text: String) -> PyResult<()> {
    match std_stream(file) {
        Some(crate::stdlib::sys::Stream::Stdout) => vm.interp.write_stdout(&text),
        Some(crate::stdlib::sys::Stream::Stderr) => vm.interp.write_stderr(&text),
        _ => {
            vm.call_method(file, "write", &[Value::from_string(text)])?;
        }
    }
    Ok(())
}

fn b_print(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    check_kwargs("print", kw, &["sep", "end", "file", "flush"])?;
    // CPython's print makes C-level calls that count against the recursion
    // limit (str() of the first argument unless it is a str, else the
    // stream's `write`), so a runaway recursion that prints fails in print,
    // in the deepest frame, with that call's message.
    if vm.depth >= vm.interp.recursion_limit() {
        let what = match args.first() {
            Some(Value::Str(_)) | None => "while calling a Python object",
            Some(_) => "while getting the str of an object",
        };
        return Err(PyErr::new(
            ExcKind::RecursionError,
            format!("maximum recursion depth exceeded {what}"),
        ));
    }
    let text_arg = |name: &str, default: &str| -> PyResult<String> {
        match kwarg(kw, name) {
            None | Some(Value::None) => Ok(default.to_string()),
            Some(Value::Str(s)) => Ok(s.as_str().to_string()),
            Some(v) => Err(PyErr::type_error(format!(
                "{name} must be None or a string, not {}",
                type_name(v)
            ))),
        }
    };
    let sep = text_arg("sep", " ")?;
    let end = text_arg("end", "\n")?;
    let file = match kwarg(kw, "file") {
        None | Some(Value::None) => match sys_attr(vm, "stdout") {
            Some(Value::None) => return Ok(Value::None),
            Some(f) => f,
            None => crate::stdlib::sys::stream(crate::stdlib::sys::Stream::Stdout),
        },
        Some(f) => f.clone(),
    };
    if std_stream(&file).is_some() {
        // The interpreter's own streams get the whole line in one write,
        // so lines printed by different threads never tear.
        let mut line = String::new();
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                line.push_str(&sep);
            }
            match a {
                Value::Str(s) => line.push_str(s.as_str()),
                _ => match vm.to_str(a) {
                    Ok(text) => line.push_str(&text),
                    Err(e) => {
                        // CPython has already written the earlier arguments
                        // (and the separator) when an argument's str() fails.
                        write_to(vm, &file, line)?;
                        return Err(e);
                    }
                },
            }
        }
        line.push_str(&end);
        write_to(vm, &file, line)?;
    } else {
        // Other file objects see CPython's sequence of `write` calls.
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                write_to(vm, &file, sep.clone())?;
            }
            let text = match a {
                Value::Str(s) => s.as_str().to_string(),
                _ => vm.to_str(a)?,
            };
            write_to(vm, &file, text)?;
        }
        write_to(vm, &file, end)?;
    }
    if let Some(f) = kwarg(kw, "flush") {
        if vm.is_true(f)? {
            match std_stream(&file) {
                Some(_) => {
                    let interp = vm.interp.clone();
                    vm.allow_threads(|| interp.flush_stdout());
                }
                None => {
                    vm.call_method(&file, "flush", &[])?;
                }
            }
        }
    }
    Ok(Value::None)
}

fn b_input(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    no_kwargs("input", kw)?;
    arity("input", args, 0, 1)?;
    if let Some(p) = args.first() {
        let text = vm.to_str(p)?;
        let out = sys_attr(vm, "stdout").unwrap_or(Value::None);
        if out.is_none() {
            vm.interp.write_stdout(&text);
        } else {
            write_to(vm, &out, text)?;
        }
    }
    let stdin = sys_attr(vm, "stdin");
    let line = match stdin {
        Some(s) if std_stream(&s).is_none() && !s.is_none() => {
            let v = vm.call_method(&s, "readline", &[])?;
            vm.to_str(&v)?
        }
        _ => crate::stdlib::sys::read_line(vm)?,
    };
    if line.is_empty() {
        return Err(PyErr::new(ExcKind::EOFError, "EOF when reading a line"));
    }
    let line = line.strip_suffix('\n').unwrap_or(&line);
    Ok(Value::str(line))
}

/// `len(v)`.
/// The length of a built-in container, which needs no `Vm`.
fn builtin_len(v: &Value) -> Option<usize> {
    Some(match v {
        Value::Str(s) => s.char_len(),
        Value::List(l) => l.items.lock().len(),
        Value::Tuple(t) => t.items.len(),
        Value::Dict(d) => d.len(),
        Value::Set(s) | Value::FrozenSet(s) => s.len(),
        Value::Bytes(b) => b.len(),
        Value::ByteArray(b) => b.data.lock().len(),
        _ => return None,
    })
}

pub fn len_of(vm: &mut Vm, v: &Value) -> PyResult<usize> {
    if let Some(n) = builtin_len(v) {
        return Ok(n);
    }
    if let Some((d, _)) = crate::vm::dict::as_view(v) {
        return Ok(d.len());
    }
    let class = types().class_of(v).clone();
    let Some(f) = crate::vm::iter::class_lookup(&class, "__len__") else {
        return Err(PyErr::type_error(format!(
            "object of type '{}' has no len()",
            type_name(v)
        )));
    };
    if f.is_none() {
        return Err(PyErr::type_error(format!(
            "object of type '{}' has no len()",
            type_name(v)
        )));
    }
    let r = vm.call(&f, std::slice::from_ref(v), &[])?;
    let n = match &r {
        Value::Int(_) | Value::Bool(_) | Value::BigInt(_) | Value::Instance(_) => {
            index_value(vm, &r).map_err(|e| {
                if e.matches(ExcKind::OverflowError) {
                    PyErr::overflow_error("cannot fit 'int' into an index-sized integer")
                } else {
                    e
                }
            })?
        }
        _ => {
            return Err(PyErr::type_error(format!(
                "'{}' object cannot be interpreted as an integer",
                type_name(&r)
            )))
        }
    };
    if n < 0 {
        return Err(PyErr::value_error("__len__() should return >= 0"));
    }
    Ok(n as usize)
}

fn b_len(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    exactly_one("len", args, kw)?;
    Ok(Value::Int(len_of(vm, &args[0])? as i64))
}

/// `len(x)` of a built-in container (see `FastFn`).
fn len_fast(args: &mut [Value]) -> Option<Value> {
    let [v] = args else { return None };
    builtin_len(v).map(|n| Value::Int(n as i64))
}

fn sort_options(vm: &mut Vm, kw: Kwargs, func: &str) -> PyResult<(Option<Value>, bool)> {
    let mut key = None;
    let mut reverse = false;
    for (k, v) in kw {
        match &**k {
            "key" => key = (!v.is_none()).then(|| v.clone()),
            "reverse" => reverse = vm.is_true(v)?,
            other => {
                return Err(PyErr::type_error(format!(
                    "'{other}' is an invalid keyword argument for {func}()"
                )))
            }
        }
    }
    Ok((key, reverse))
}

fn b_sorted(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    arity("sorted", args, 1, 1)?;
    let (key, reverse) = sort_options(vm, kw, "sort")?;
    let items = vm.collect(&args[0])?;
    let list = Brc::new(PyList {
        items: crate::vm::spin::SpinMutex::new(items),
    });
    vm.list_sort(&list, key.as_ref(), reverse)?;
    Ok(Value::List(list))
}

fn min_max(vm: &mut Vm, args: &[Value], kw: Kwargs, is_max: bool) -> PyResult<Value> {
    let name = if is_max { "max" } else { "min" };
    check_kwargs(name, kw, &["key", "default"])?;
    if args.is_empty() {
        return Err(PyErr::type_error(format!(
            "{name} expected at least 1 argument, got 0"
        )));
    }
    let key = kwarg(kw, "key").filter(|k| !k.is_none()).cloned();
    let default = kwarg(kw, "default").cloned();
    if args.len() > 1 && default.is_some() {
        return Err(PyErr::type_error(format!(
            "Cannot specify a default for {name}() with multiple positional arguments"
        )));
    }
    let it = if args.len() == 1 {
        vm.iter(&args[0])?
    } else {
        vm.iter(&Value::tuple(args.to_vec()))?
    };
    let mut best: Option<(Value, Value)> = None;
    while let Some(item) = vm.next(&it)? {
        let k = match &key {
            Some(f) => vm.call(f, std::slice::from_ref(&item), &[])?,
            None => item.clone(),
        };
        let better = match &best {
            None => true,
            Some((_, bk)) => {
                let (a, b) = if is_max { (bk, &k) } else { (&k, bk) };
                match crate::vm::list::native_lt(a, b) {
                    Some(r) => r,
                    None => {
                        let op = if is_max {
                            CompareKind::Gt
                        } else {
                            CompareKind::Lt
                        };
                        let r = vm.compare(&k, bk, op)?;
                        vm.is_true(&r)?
                    }
                }
            }
        };
        if better {
            best = Some((item, k));
        }
    }
    match (best, default) {
        (Some((v, _)), _) => Ok(v),
        (None, Some(d)) => Ok(d),
        (None, None) => Err(PyErr::value_error(format!(
            "{name}() arg is an empty sequence"
        ))),
    }
}

fn b_min(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    min_max(vm, args, kw, false)
}

fn b_max(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    min_max(vm, args, kw, true)
}

fn b_sum(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    check_kwargs("sum", kw, &["start"])?;
    if args.len() + kw.len() > 2 {
        return Err(PyErr::type_error(format!(
            "sum() takes at most 2 arguments ({} given)",
            args.len() + kw.len()
        )));
    }
    if args.is_empty() {
        return Err(PyErr::type_error(
            "sum() takes at least 1 positional argument (0 given)",
        ));
    }
    let start = args
        .get(1)
        .or_else(|| kwarg(kw, "start"))
        .cloned()
        .unwrap_or(Value::Int(0));
    match &start {
        Value::Str(_) => {
            return Err(PyErr::type_error(
                "sum() can't sum strings [use ''.join(seq) instead]",
            ))
        }
        Value::Bytes(_) | Value::ByteArray(_) => {
            return Err(PyErr::type_error(format!(
                "sum() can't sum {} [use b''.join(seq) instead]",
                type_name(&start)
            )))
        }
        _ => {}
    }
    let it = vm.iter(&args[0])?;
    let mut acc = start;
    // CPython's fast paths: exact ints, then floats, then the generic `+`.
    while let Some(item) = vm.next(&it)? {
        acc = match (&acc, &item) {
            (Value::Int(a), Value::Int(b)) => match a.checked_add(*b) {
                Some(s) => Value::Int(s),
                None => vm.binary_op(&acc, &item, BinaryOpKind::Add)?,
            },
            (Value::Int(a), Value::Bool(b)) => match a.checked_add(*b as i64) {
                Some(s) => Value::Int(s),
                None => vm.binary_op(&acc, &item, BinaryOpKind::Add)?,
            },
            (Value::Float(a), Value::Float(b)) => Value::Float(a + b),
            (Value::Float(a), Value::Int(b)) => Value::Float(a + *b as f64),
            _ => vm.binary_op(&acc, &item, BinaryOpKind::Add)?,
        };
    }
    Ok(acc)
}

fn b_any(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    exactly_one("any", args, kw)?;
    let it = vm.iter(&args[0])?;
    while let Some(x) = vm.next(&it)? {
        if vm.is_true(&x)? {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

fn b_all(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    exactly_one("all", args, kw)?;
    let it = vm.iter(&args[0])?;
    while let Some(x) = vm.next(&it)? {
        if !vm.is_true(&x)? {
            return Ok(Value::Bool(false));
        }
    }
    Ok(Value::Bool(true))
}

fn b_abs(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    exactly_one("abs", args, kw)?;
    crate::vm::number::abs(vm, &args[0])
}

fn b_round(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    check_kwargs("round", kw, &["number", "ndigits"])?;
    let number = args.first().or_else(|| kwarg(kw, "number"));
    let ndigits = args.get(1).or_else(|| kwarg(kw, "ndigits"));
    if args.len() > 2 {
        return Err(PyErr::type_error(format!(
            "round() takes at most 2 arguments ({} given)",
            args.len()
        )));
    }
    let Some(number) = number else {
        return Err(PyErr::type_error(
            "round() missing required argument 'number' (pos 1)",
        ));
    };
    crate::vm::number::round(vm, number, ndigits)
}

fn b_divmod(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    no_kwargs("divmod", kw)?;
    arity("divmod", args, 2, 2)?;
    crate::vm::number::divmod(vm, &args[0], &args[1])
}

fn b_pow(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    check_kwargs("pow", kw, &["base", "exp", "mod"])?;
    let base = args.first().or_else(|| kwarg(kw, "base"));
    let exp = args.get(1).or_else(|| kwarg(kw, "exp"));
    let modulus = args.get(2).or_else(|| kwarg(kw, "mod"));
    if args.len() > 3 {
        return Err(PyErr::type_error(format!(
            "pow() takes at most 3 arguments ({} given)",
            args.len()
        )));
    }
    let Some(base) = base else {
        return Err(PyErr::type_error(
            "pow() missing required argument 'base' (pos 1)",
        ));
    };
    let Some(exp) = exp else {
        return Err(PyErr::type_error(
            "pow() missing required argument 'exp' (pos 2)",
        ));
    };
    // Three-argument pow on an instance calls its `__pow__(exp, mod)` (never
    // `__rpow__`, as in CPython).
    if let (Value::Instance(inst), Some(m)) = (base, modulus) {
        if !matches!(m, Value::None) {
            if let Some(f) = crate::vm::ops::lookup_in_class(&inst.class, "__pow__") {
                let r = vm.call(&f, &[base.clone(), exp.clone(), m.clone()], &[])?;
                let not_implemented = matches!(&r, Value::Object(o)
                    if matches!(o.kind, crate::vm::value::ObjKind::NotImplemented));
                if !not_implemented {
                    return Ok(r);
                }
            }
        }
    }
    crate::vm::number::pow(vm, base, exp, modulus)
}

fn b_repr(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    exactly_one("repr", args, kw)?;
    // A one-argument built-in holds a recursion level while it runs in
    // CPython (`PRECALL_NO_KW_BUILTIN_O`).
    vm.at_level(" while calling a Python object", |vm| {
        vm.repr_value(&args[0])
    })
}

/// `ascii()`: repr with non-ASCII characters escaped.
fn b_ascii(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    exactly_one("ascii", args, kw)?;
    let r = vm.repr(&args[0])?;
    let mut out = String::with_capacity(r.len());
    for c in r.chars() {
        let n = c as u32;
        if n < 0x80 {
            out.push(c);
        } else if n < 0x100 {
            out.push_str(&format!("\\x{n:02x}"));
        } else if n < 0x10000 {
            out.push_str(&format!("\\u{n:04x}"));
        } else {
            out.push_str(&format!("\\U{n:08x}"));
        }
    }
    Ok(Value::from_string(out))
}

fn b_isinstance(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    no_kwargs("isinstance", kw)?;
    arity("isinstance", args, 2, 2)?;
    Ok(Value::Bool(vm.isinstance(&args[0], &args[1])?))
}

/// `case cls(p0, p1, k=p2)` (the `match` lowering calls it with the subject,
/// the class, the number of positional sub-patterns and the keyword names):
/// CPython's MATCH_CLASS. None when the subject is no instance of the class
/// or lacks an attribute, else the tuple of the values the sub-patterns
/// match: the positional ones through `__match_args__`, then the keywords.
fn b_match_class(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let [subject, cls, Value::Int(npos), Value::Tuple(kw_names)] = args else {
        return Err(PyErr::type_error("bad class pattern"));
    };
    let Value::Class(c) = cls else {
        return Err(PyErr::type_error("called match pattern must be a type"));
    };
    if !vm.isinstance(subject, cls)? {
        return Ok(Value::None);
    }
    let npos = *npos as usize;
    let mut out = Vec::with_capacity(npos + kw_names.items.len());
    let mut seen: Vec<Brc<PyStr>> = Vec::new();
    let mut names: Vec<Brc<PyStr>> = Vec::new();
    if npos > 0 {
        let (match_args, match_self) = match vm.get_attr_opt(cls, "__match_args__")? {
            Some(Value::Tuple(t)) => (t.items.to_vec(), false),
            Some(other) => {
                return Err(PyErr::type_error(format!(
                    "{}.__match_args__ must be a tuple (got {})",
                    c.name,
                    type_name(&other)
                )))
            }
            None => (Vec::new(), matches_self(c)),
        };
        let allowed = if match_self { 1 } else { match_args.len() };
        if allowed < npos {
            return Err(PyErr::type_error(format!(
                "{}() accepts {allowed} positional sub-pattern{} ({npos} given)",
                c.name,
                plural(allowed)
            )));
        }
        if match_self {
            out.push(subject.clone());
        } else {
            for name in &match_args[..npos] {
                match name {
                    Value::Str(s) => names.push(s.clone()),
                    other => {
                        return Err(PyErr::type_error(format!(
                            "__match_args__ elements must be strings (got {})",
                            type_name(other)
                        )))
                    }
                }
            }
        }
    }
    for name in kw_names.items.iter() {
        if let Value::Str(s) = name {
            names.push(s.clone());
        }
    }
    for name in names {
        if seen.iter().any(|s| s.as_str() == name.as_str()) {
            return Err(PyErr::type_error(format!(
                "{}() got multiple sub-patterns for attribute {}",
                c.name,
                crate::vm::str::str_repr(name.as_str())
            )));
        }
        match vm.get_attr_opt(subject, name.as_str())? {
            Some(v) => out.push(v),
            None => return Ok(Value::None),
        }
        seen.push(name);
    }
    Ok(Value::tuple(out))
}

/// The built-in types (and their subclasses) whose one positional
/// sub-pattern matches the subject itself: `case int(x)`.
fn matches_self(c: &Arc<Class>) -> bool {
    std::iter::once(c).chain(c.mro.iter()).any(|k| {
        &*k.module == "builtins"
            && (matches!(
                k.layout,
                Layout::Bool
                    | Layout::Bytes
                    | Layout::Dict
                    | Layout::Float
                    | Layout::FrozenSet
                    | Layout::Int
                    | Layout::List
                    | Layout::Set
                    | Layout::Str
                    | Layout::Tuple
            ) || k.name == *"bytearray")
    })
}

fn subclass_of(vm: &mut Vm, a: &Arc<Class>, b: &Value) -> PyResult<bool> {
    match b {
        Value::Class(c) => {
            if crate::vm::class::is_subclass(a, c) {
                return Ok(true);
            }
            // An abstract base class answers for its virtual subclasses.
            match crate::vm::ops::abc_hooks(c) {
                Some(hooks) => {
                    let r = vm.call_method(
                        &hooks,
                        "subclasscheck",
                        &[b.clone(), Value::Class(a.clone())],
                    )?;
                    vm.is_true(&r)
                }
                None => Ok(false),
            }
        }
        Value::Tuple(t) => {
            for c in t.items.iter() {
                if subclass_of(vm, a, c)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        _ if crate::vm::union::members(b).is_some() => {
            let members = crate::vm::union::members(b).unwrap_or_default().to_vec();
            for c in &members {
                if subclass_of(vm, a, c)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        _ if crate::vm::generic_alias::as_alias(b).is_some() => Err(PyErr::type_error(
            "issubclass() argument 2 cannot be a parameterized generic",
        )),
        _ => Err(PyErr::type_error(
            "issubclass() arg 2 must be a class, a tuple of classes, or a union",
        )),
    }
}

fn b_issubclass(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    no_kwargs("issubclass", kw)?;
    arity("issubclass", args, 2, 2)?;
    let Value::Class(a) = &args[0] else {
        // CPython accepts any object with a `__bases__` tuple (a generic
        // alias forwards its origin's) and walks the bases by identity.
        if abstract_bases(vm, &args[0])?.is_none() {
            return Err(PyErr::type_error("issubclass() arg 1 must be a class"));
        }
        return Ok(Value::Bool(abstract_subclass_of(vm, &args[0], &args[1])?));
    };
    Ok(Value::Bool(subclass_of(vm, a, &args[1])?))
}

/// `derived.__bases__` when it is a tuple (CPython's `abstract_get_bases`).
fn abstract_bases(vm: &mut Vm, derived: &Value) -> PyResult<Option<Vec<Value>>> {
    match vm.get_attr_opt(derived, "__bases__") {
        Ok(Some(Value::Tuple(t))) => Ok(Some(t.items.to_vec())),
        Ok(_) => Ok(None),
        Err(e) if e.matches(ExcKind::AttributeError) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `issubclass` for a first argument that is not a class: CPython's
/// `abstract_issubclass` against each class of a tuple or union.
fn abstract_subclass_of(vm: &mut Vm, derived: &Value, cls: &Value) -> PyResult<bool> {
    let targets = match cls {
        Value::Tuple(t) => t.items.to_vec(),
        _ => match crate::vm::union::members(cls) {
            Some(m) => m.to_vec(),
            None => vec![cls.clone()],
        },
    };
    for target in &targets {
        if matches!(target, Value::Tuple(_)) {
            if abstract_subclass_of(vm, derived, target)? {
                return Ok(true);
            }
            continue;
        }
        if crate::vm::generic_alias::as_alias(target).is_some() {
            return Err(PyErr::type_error(
                "issubclass() argument 2 cannot be a parameterized generic",
            ));
        }
        if abstract_bases(vm, target)?.is_none() {
            return Err(PyErr::type_error(
                "issubclass() arg 2 must be a class, a tuple of classes, or a union",
            ));
        }
        if walk_bases(vm, derived, target, 0)? {
            return Ok(true);
        }
    }
    Ok(false)
}

fn walk_bases(vm: &mut Vm, derived: &Value, cls: &Value, depth: usize) -> PyResult<bool> {
    if depth > 1000 {
        return Err(PyErr::new(
            ExcKind::RecursionError,
            "maximum recursion depth exceeded in __subclasscheck__",
        ));
    }
    if derived.is(cls) {
        return Ok(true);
    }
    let Some(bases) = abstract_bases(vm, derived)? else {
        return Ok(false);
    };
    for b in &bases {
        if walk_bases(vm, b, cls, depth + 1)? {
            return Ok(true);
        }
    }
    Ok(false)
}

fn attr_name(v: &Value) -> PyResult<&str> {
    match v {
        Value::Str(s) => Ok(s.as_str()),
        _ => Err(PyErr::type_error(format!(
            "attribute name must be string, not '{}'",
            type_name(v)
        ))),
    }
}

fn b_hasattr(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    no_kwargs("hasattr", kw)?;
    arity("hasattr", args, 2, 2)?;
    let name = attr_name(&args[1])?;
    match vm.get_attr_opt(&args[0], name) {
        Ok(v) => Ok(Value::Bool(v.is_some())),
        Err(e) if e.matches(ExcKind::AttributeError) => Ok(Value::Bool(false)),
        Err(e) => Err(e),
    }
}

fn b_getattr(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    no_kwargs("getattr", kw)?;
    arity("getattr", args, 2, 3)?;
    let name = attr_name(&args[1])?;
    match args.get(2) {
        None => vm.get_attr(&args[0], name),
        Some(default) => match vm.get_attr_opt(&args[0], name) {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Ok(default.clone()),
            Err(e) if e.matches(ExcKind::AttributeError) => Ok(default.clone()),
            Err(e) => Err(e),
        },
    }
}

fn b_setattr(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    no_kwargs("setattr", kw)?;
    arity("setattr", args, 3, 3)?;
    let name = attr_name(&args[1])?;
    vm.set_attr(&args[0], name, args[2].clone())?;
    Ok(Value::None)
}

fn b_delattr(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    no_kwargs("delattr", kw)?;
    arity("delattr", args, 2, 2)?;
    let name = attr_name(&args[1])?;
    vm.del_attr(&args[0], name)?;
    Ok(Value::None)
}

/// `id(v)`: the heap address, or a stable number for inline values.
pub fn id_of(v: &Value) -> i64 {
    match v.heap_ptr() {
        Some(p) => p as i64,
        None => {
            // Inline values: distinct per value, stable, far from heap addresses.
            let (tag, bits): (u64, u64) = match v {
                Value::None | Value::Null => (1, 0),
                Value::Bool(b) => (2, *b as u64),
                Value::Int(i) => (3, *i as u64),
                Value::Float(f) => (4, f.to_bits()),
                _ => (5, 0),
            };
            let mixed = bits.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17) ^ tag;
            (0x7000_0000_0000u64 | (mixed & 0x0FFF_FFFF_FFF0)) as i64
        }
    }
}

fn b_id(_vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    exactly_one("id", args, kw)?;
    Ok(Value::Int(id_of(&args[0])))
}

fn b_hash(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    exactly_one("hash", args, kw)?;
    Ok(Value::Int(vm.hash(&args[0])?))
}

/// `chr(i)` of a code point (see `FastFn`).
fn chr_fast(args: &mut [Value]) -> Option<Value> {
    let [Value::Int(i)] = args else { return None };
    let c = u32::try_from(*i).ok().and_then(char::from_u32)?;
    Some(crate::vm::iter::char_value(c))
}

fn b_chr(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    exactly_one("chr", args, kw)?;
    let i = index_value(vm, &args[0]).map_err(|e| {
        if e.matches(ExcKind::OverflowError) {
            PyErr::overflow_error("Python int too large to convert to C int")
        } else {
            e
        }
    })?;
    if !(0..=0x10FFFF).contains(&i) {
        return Err(PyErr::value_error("chr() arg not in range(0x110000)"));
    }
    // Lone surrogates cannot live in a Rust string.
    let c = char::from_u32(i as u32).unwrap_or('\u{FFFD}');
    Ok(crate::vm::iter::char_value(c))
}

fn b_ord(_vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    exactly_one("ord", args, kw)?;
    let v = base_value(&args[0]);
    match &v {
        Value::Str(s) => {
            let mut chars = s.as_str().chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Ok(Value::Int(c as i64)),
                _ => Err(PyErr::type_error(format!(
                    "ord() expected a character, but string of length {} found",
                    s.char_len()
                ))),
            }
        }
        b @ (Value::Bytes(_) | Value::ByteArray(_)) => {
            let b =
                crate::vm::bytes::bytes_like(b).unwrap_or(crate::vm::bytes::Buf::Copied(vec![]));
            match b[..] {
                [c] => Ok(Value::Int(c as i64)),
                _ => Err(PyErr::type_error(format!(
                    "ord() expected a character, but string of length {} found",
                    b.len()
                ))),
            }
        }
        _ => Err(PyErr::type_error(format!(
            "ord() expected string of length 1, but {} found",
            type_name(&args[0])
        ))),
    }
}

fn radix(vm: &mut Vm, name: &str, args: &[Value], kw: Kwargs, base: u32) -> PyResult<Value> {
    exactly_one(name, args, kw)?;
    let v = base_value(&args[0]);
    if let Some(i) = crate::vm::number::int_ref(&v) {
        return Ok(Value::from_string(crate::vm::number::int_to_prefixed(
            i, base,
        )));
    }
    let i = index_value(vm, &args[0])?;
    Ok(Value::from_string(crate::vm::number::int_to_prefixed(
        crate::vm::number::IntRef::Small(i),
        base,
    )))
}

fn b_hex(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    radix(vm, "hex", args, kw, 16)
}

fn b_bin(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    radix(vm, "bin", args, kw, 2)
}

fn b_oct(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    radix(vm, "oct", args, kw, 8)
}

fn b_format(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    no_kwargs("format", kw)?;
    arity("format", args, 1, 2)?;
    let spec = match args.get(1) {
        None => "",
        Some(Value::Str(s)) => s.as_str(),
        Some(v) => {
            return Err(PyErr::type_error(format!(
                "format() argument 2 must be str, not {}",
                crate::vm::str::arg_type_name(v)
            )))
        }
    };
    if spec.is_empty() {
        if let Value::Instance(inst) = &args[0] {
            // `object.__format__` is `str(self)`, a str subclass included.
            if crate::vm::ops::lookup_with_owner(&inst.class, "__format__")
                .is_some_and(|(_, owner)| Arc::ptr_eq(owner, &types().object))
            {
                return vm.str_value(&args[0]);
            }
        }
    }
    Ok(Value::from_string(vm.format(&args[0], spec)?))
}

fn b_callable(_vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    exactly_one("callable", args, kw)?;
    Ok(Value::Bool(is_callable(&args[0])))
}

/// The running frame's local namespace as a dict.
pub(crate) fn locals_dict(vm: &mut Vm) -> Brc<PyDict> {
    if let Some(d) = vm.current_locals() {
        return d;
    }
    let pairs = vm.current_fast_locals();
    if pairs.is_empty() && vm.frame_names().len() <= 1 {
        return vm.current_globals();
    }
    let d = Brc::new(PyDict::new());
    for (k, v) in pairs {
        d.set(&k, v);
    }
    d
}

fn b_vars(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    no_kwargs("vars", kw)?;
    arity("vars", args, 0, 1)?;
    match args.first() {
        None => Ok(Value::Dict(locals_dict(vm))),
        Some(v) => match vm.get_attr_opt(v, "__dict__") {
            Ok(Some(d)) => Ok(d),
            Ok(None) => Err(PyErr::type_error(
                "vars() argument must have __dict__ attribute",
            )),
            Err(e) if e.matches(ExcKind::AttributeError) => Err(PyErr::type_error(
                "vars() argument must have __dict__ attribute",
            )),
            Err(e) => Err(e),
        },
    }
}

fn b_dir(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    no_kwargs("dir", kw)?;
    arity("dir", args, 0, 1)?;
    let mut names: Vec<String> = Vec::new();
    let add_keys = |d: &crate::vm::value::AttrMap, names: &mut Vec<String>| {
        names.extend(d.keys().map(|k| k.to_string()));
    };
    match args.first() {
        None => {
            let d = locals_dict(vm);
            names.extend(
                d.keys()
                    .iter()
                    .filter_map(|k| k.as_str().map(str::to_string)),
            );
        }
        Some(v) => {
            let class = types().class_of(v).clone();
            if let Some(f) = crate::vm::iter::class_lookup(&class, "__dir__") {
                if !matches!(f, Value::Native(_)) {
                    let r = vm.call(&f, std::slice::from_ref(v), &[])?;
                    let items = vm.collect(&r)?;
                    let list = Brc::new(PyList {
                        items: crate::vm::spin::SpinMutex::new(items),
                    });
                    vm.list_sort(&list, None, false)?;
                    return Ok(Value::List(list));
                }
            }
            match v {
                Value::Module(m) => {
                    names.extend(
                        m.dict
                            .keys()
                            .iter()
                            .filter_map(|k| k.as_str().map(str::to_string))
                            // The `match` lowering's helper (`$match_class`).
                            .filter(|k| !k.starts_with('$')),
                    );
                }
                Value::Class(c) => {
                    for k in std::iter::once(c).chain(c.mro.iter()) {
                        add_keys(&k.attrs.lock(), &mut names);
                    }
                    names.extend(object_attr_names(c));
                }
                _ => {
                    if let Value::Instance(i) = v {
                        add_keys(&i.attrs.lock(), &mut names);
                    }
                    for k in std::iter::once(&class).chain(class.mro.iter()) {
                        add_keys(&k.attrs.lock(), &mut names);
                    }
                    names.extend(object_attr_names(&class));
                }
            }
        }
    }
    names.sort();
    names.dedup();
    Ok(Value::list(
        names.into_iter().map(Value::from_string).collect(),
    ))
}

/// The attributes every object has in CPython that are not entries of a
/// class namespace here: `__class__`, `__doc__`, and `__dict__` for
/// instances of a script class without `__slots__` somewhere in its MRO.
fn object_attr_names(class: &Arc<Class>) -> Vec<String> {
    let mut names = vec!["__class__".to_string(), "__doc__".to_string()];
    let has_dict = std::iter::once(class)
        .chain(class.mro.iter())
        .any(|k| &*k.module != "builtins" && !k.attrs.lock().contains_key("__slots__"));
    if has_dict {
        names.push("__dict__".to_string());
        names.push("__weakref__".to_string());
    }
    for k in std::iter::once(class).chain(class.mro.iter()) {
        if &*k.module == "builtins" {
            names.extend(
                unlisted_builtin_attrs(&k.name.get())
                    .iter()
                    .map(|n| n.to_string()),
            );
        } else if let Some(slots) = k.attrs.lock().get("__slots__") {
            names.extend(slot_names(slots, &k.name.get()));
        }
    }
    names
}

/// Attributes CPython's built-in types have that the classes here do not
/// carry as attributes (pickling hooks, `__sizeof__`, data descriptors such
/// as `int.real`); `dir()` lists them as CPython's does.
fn unlisted_builtin_attrs(class: &str) -> &'static [&'static str] {
    match class {
        "object" => &["__getstate__", "__reduce__", "__reduce_ex__", "__sizeof__"],
        "int" => &["__getnewargs__", "denominator", "imag", "numerator", "real"],
        "float" => &["__getformat__", "__getnewargs__", "imag", "real"],
        "str" => &["__getnewargs__", "__rmod__"],
        "bytes" => &["__bytes__", "__getnewargs__", "__rmod__"],
        "tuple" => &["__class_getitem__", "__getnewargs__"],
        "list" | "dict" | "set" | "frozenset" => &["__class_getitem__"],
        "function" => &[
            "__annotations__",
            "__builtins__",
            "__closure__",
            "__code__",
            "__defaults__",
            "__dict__",
            "__globals__",
            "__kwdefaults__",
            "__module__",
            "__name__",
            "__qualname__",
        ],
        "type" => &[
            "__abstractmethods__",
            "__annotations__",
            "__base__",
            "__bases__",
            "__basicsize__",
            "__dict__",
            "__dictoffset__",
            "__flags__",
            "__itemsize__",
            "__module__",
            "__mro__",
            "__name__",
            "__or__",
            "__prepare__",
            "__qualname__",
            "__ror__",
            "__text_signature__",
            "__weakrefoffset__",
        ],
        "BaseException" => &[
            "__cause__",
            "__context__",
            "__dict__",
            "__setstate__",
            "__suppress_context__",
            "__traceback__",
            "args",
        ],
        _ => &[],
    }
}

/// The member names a class's `__slots__` creates (private names mangled).
fn slot_names(slots: &Value, class: &str) -> Vec<String> {
    let names: Vec<String> = match slots {
        Value::Str(s) => vec![s.as_str().to_string()],
        Value::Tuple(t) => t
            .items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        Value::List(l) => l
            .items
            .lock()
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    names
        .into_iter()
        .map(|n| {
            if n.starts_with("__") && !n.ends_with("__") {
                format!("_{}{n}", class.trim_start_matches('_'))
            } else {
                n
            }
        })
        .collect()
}

fn b_globals(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    no_kwargs("globals", kw)?;
    arity("globals", args, 0, 0)?;
    Ok(Value::Dict(vm.current_globals()))
}

fn b_locals(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    no_kwargs("locals", kw)?;
    arity("locals", args, 0, 0)?;
    Ok(Value::Dict(locals_dict(vm)))
}

fn b_exit(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Err(PyErr::with_args(ExcKind::SystemExit, args.to_vec()))
}

fn b_import(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let name = args.first().or_else(|| kwarg(kw, "name"));
    let Some(Value::Str(name)) = name else {
        return Err(PyErr::type_error("__import__() argument 1 must be str"));
    };
    let fromlist = args.get(3).or_else(|| kwarg(kw, "fromlist")).cloned();
    let module = vm.import(name.as_str())?;
    let wants_leaf = match &fromlist {
        None | Some(Value::None) => false,
        Some(v) => vm.is_true(v)?,
    };
    // `__import__("a.b")` returns `a` unless a fromlist is given.
    if !wants_leaf {
        if let Some((top, _)) = name.as_str().split_once('.') {
            return vm.import(top);
        }
    }
    Ok(module)
}

// ---- property, staticmethod, classmethod ----

fn property_parts(v: &Value) -> PyResult<(Value, Value, Value, Value)> {
    if let Value::Object(o) = v {
        if let ObjKind::Property {
            fget,
            fset,
            fdel,
            doc,
        } = &o.kind
        {
            return Ok((fget.clone(), fset.clone(), fdel.clone(), doc.clone()));
        }
    }
    Err(PyErr::type_error(format!(
        "descriptor for 'property' objects doesn't apply to a '{}' object",
        type_name(v)
    )))
}

fn make_property(class: &Arc<Class>, fget: Value, fset: Value, fdel: Value, doc: Value) -> Value {
    Value::Object(Arc::new(crate::vm::value::Object {
        class: class.clone(),
        kind: ObjKind::Property {
            fget,
            fset,
            fdel,
            doc,
        },
    }))
}

fn property_new(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    check_kwargs("property", kw, &["fget", "fset", "fdel", "doc"])?;
    let rest = args.get(1..).unwrap_or(&[]);
    if rest.len() > 4 {
        return Err(PyErr::type_error(format!(
            "property() takes at most 4 arguments ({} given)",
            rest.len()
        )));
    }
    let get = |i: usize, name: &str| {
        rest.get(i)
            .or_else(|| kwarg(kw, name))
            .cloned()
            .unwrap_or(Value::None)
    };
    let (fget, fset, fdel, mut doc) = (
        get(0, "fget"),
        get(1, "fset"),
        get(2, "fdel"),
        get(3, "doc"),
    );
    if doc.is_none() && !fget.is_none() {
        if let Ok(Some(d)) = vm.get_attr_opt(&fget, "__doc__") {
            doc = d;
        }
    }
    let class = match args.first() {
        Some(Value::Class(c)) => c.clone(),
        _ => types().property.clone(),
    };
    Ok(make_property(&class, fget, fset, fdel, doc))
}

fn property_copy(args: &[Value], which: usize) -> PyResult<Value> {
    let (mut g, mut s, mut d, doc) = property_parts(&args[0])?;
    arity("property", &args[1..], 1, 1)?;
    let f = args[1].clone();
    match which {
        0 => g = f,
        1 => s = f,
        _ => d = f,
    }
    let class = match &args[0] {
        Value::Object(o) => o.class.clone(),
        _ => types().property.clone(),
    };
    Ok(make_property(&class, g, s, d, doc))
}

fn property_getter(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    property_copy(args, 0)
}

fn property_setter(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    property_copy(args, 1)
}

fn property_deleter(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    property_copy(args, 2)
}

fn property_fget(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(property_parts(&args[0])?.0)
}

fn property_fset(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(property_parts(&args[0])?.1)
}

fn property_fdel(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(property_parts(&args[0])?.2)
}

fn property_doc(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(property_parts(&args[0])?.3)
}

fn property_get(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (fget, ..) = property_parts(&args[0])?;
    arity("__get__", &args[1..], 1, 2)?;
    if args[1].is_none() {
        return Ok(args[0].clone());
    }
    if fget.is_none() {
        return Err(PyErr::attribute_error("unreadable attribute"));
    }
    vm.call(&fget, &args[1..2], &[])
}

fn property_set(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (_, fset, ..) = property_parts(&args[0])?;
    arity("__set__", &args[1..], 2, 2)?;
    if fset.is_none() {
        return Err(PyErr::attribute_error("can't set attribute"));
    }
    vm.call(&fset, &args[1..3], &[])?;
    Ok(Value::None)
}

fn property_delete(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (_, _, fdel, _) = property_parts(&args[0])?;
    arity("__delete__", &args[1..], 1, 1)?;
    if fdel.is_none() {
        return Err(PyErr::attribute_error("can't delete attribute"));
    }
    vm.call(&fdel, &args[1..2], &[])?;
    Ok(Value::None)
}

fn wrapped_func(v: &Value) -> PyResult<Value> {
    if let Value::Object(o) = v {
        match &o.kind {
            ObjKind::StaticMethod(f) | ObjKind::ClassMethod(f) => return Ok(f.clone()),
            _ => {}
        }
    }
    Err(PyErr::type_error(format!(
        "descriptor '__func__' doesn't apply to a '{}' object",
        type_name(v)
    )))
}

fn staticmethod_new(_vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    no_kwargs("staticmethod", kw)?;
    arity("staticmethod", args.get(1..).unwrap_or(&[]), 1, 1)?;
    Ok(Value::Object(Arc::new(crate::vm::value::Object {
        class: types().staticmethod.clone(),
        kind: ObjKind::StaticMethod(args[1].clone()),
    })))
}

fn classmethod_new(_vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    no_kwargs("classmethod", kw)?;
    arity("classmethod", args.get(1..).unwrap_or(&[]), 1, 1)?;
    Ok(Value::Object(Arc::new(crate::vm::value::Object {
        class: types().classmethod.clone(),
        kind: ObjKind::ClassMethod(args[1].clone()),
    })))
}

fn wrapper_func(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    wrapped_func(&args[0])
}

fn staticmethod_call(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let f = wrapped_func(&args[0])?;
    vm.call(&f, &args[1..], kw)
}

fn staticmethod_get(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    wrapped_func(&args[0])
}

fn classmethod_get(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let f = wrapped_func(&args[0])?;
    let owner = match (args.get(1), args.get(2)) {
        (_, Some(o)) if !o.is_none() => o.clone(),
        (Some(obj), _) => Value::Class(types().class_of(obj).clone()),
        _ => Value::None,
    };
    Ok(Value::BoundMethod(Arc::new(
        crate::vm::value::BoundMethod {
            func: f,
            receiver: owner,
        },
    )))
}

fn noop_init(_vm: &mut Vm, _args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::None)
}

fn install_descriptors(t: &Types) {
    let p = &t.property;
    constructor(p, property_new);
    method_kw(p, "__init__", noop_init);
    method(p, "getter", property_getter);
    method(p, "setter", property_setter);
    method(p, "deleter", property_deleter);
    method(p, "__get__", property_get);
    method(p, "__set__", property_set);
    method(p, "__delete__", property_delete);
    crate::vm::iter::getter(t, p, "fget", property_fget);
    crate::vm::iter::getter(t, p, "fset", property_fset);
    crate::vm::iter::getter(t, p, "fdel", property_fdel);
    crate::vm::iter::getter(t, p, "__doc__", property_doc);
    for (c, new) in [
        (&t.staticmethod, staticmethod_new as NativeFn),
        (&t.classmethod, classmethod_new),
    ] {
        constructor(c, new);
        method_kw(c, "__init__", noop_init);
        crate::vm::iter::getter(t, c, "__func__", wrapper_func);
        crate::vm::iter::getter(t, c, "__wrapped__", wrapper_func);
    }
    method(&t.staticmethod, "__get__", staticmethod_get);
    method_kw(&t.staticmethod, "__call__", staticmethod_call);
    method(&t.classmethod, "__get__", classmethod_get);
    // Everything callable answers `__call__` (`len.__call__([1])`, `f.__call__()`,
    // `int.__call__("5")` through the metaclass: `type.__call__`, in `ops`), and
    // functions are descriptors.
    for c in [&t.function, &t.builtin_function, &t.method] {
        method_kw(c, "__call__", dunder_call);
    }
    method(&t.function, "__get__", function_get);
}

/// `f.__call__(*args, **kw)`: a call of the receiver.
fn dunder_call(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    match args.split_first() {
        Some((f, rest)) => vm.call(f, rest, kw),
        None => Err(PyErr::type_error(
            "unbound method __call__() needs an argument",
        )),
    }
}

/// `function.__get__(obj, type=None)`: the function bound to `obj`, or the
/// function itself when `obj` is None.
fn function_get(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    arity("__get__", args.get(1..).unwrap_or_default(), 1, 2)?;
    if args[1].is_none() {
        return Ok(args[0].clone());
    }
    Ok(Value::BoundMethod(Arc::new(
        crate::vm::value::BoundMethod {
            func: args[0].clone(),
            receiver: args[1].clone(),
        },
    )))
}

// ---- files (`open`) ----

/// An open text (or binary) file: `_io.TextIOWrapper` / `_io.BufferedReader`.
struct PyFile {
    name: Value,
    mode: String,
    binary: bool,
    readable: bool,
    writable: bool,
    /// The text codec, and its name as given to `open` (for `encoding`).
    codec: Codec,
    encoding: String,
    /// The `errors` handler: "strict" raises, "replace" and "ignore" don't.
    errors: String,
    /// `newline`: `None` reads universal newlines as '\n' (and writes '\n');
    /// "" splits lines on any newline but keeps them; "\n", "\r", "\r\n"
    /// split on that one (and writing turns '\n' into it).
    newline: Option<String>,
    inner: parking_lot::Mutex<FileInner>,
}

/// The text encodings files support.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Codec {
    Utf8,
    Ascii,
    Latin1,
}

impl Codec {
    /// The codec for an encoding name (CPython's common aliases), if known.
    fn lookup(name: &str) -> Option<Codec> {
        let norm = name.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        match norm.as_str() {
            "utf_8" | "utf8" | "u8" | "utf" | "cp65001" => Some(Codec::Utf8),
            "ascii" | "us_ascii" | "646" | "us" => Some(Codec::Ascii),
            "latin_1" | "latin1" | "latin" | "l1" | "iso_8859_1" | "iso8859_1" | "8859"
            | "cp819" => Some(Codec::Latin1),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Codec::Utf8 => "utf-8",
            Codec::Ascii => "ascii",
            Codec::Latin1 => "latin-1",
        }
    }
}

/// A text file's bytes that do not decode (under the "strict" handler);
/// travels inside an `io::Error` out of the GIL-free section.
#[derive(Debug)]
struct DecodeFailure {
    codec: Codec,
    object: Vec<u8>,
    start: usize,
    end: usize,
    reason: &'static str,
}

impl std::fmt::Display for DecodeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.reason)
    }
}

impl std::error::Error for DecodeFailure {}

/// CPython's TextIOWrapper reads its bytes in chunks of this size; decode
/// errors report positions within the chunk being decoded.
const TEXT_CHUNK: usize = 8192;

struct FileInner {
    file: Option<std::fs::File>,
    /// Raw bytes read but not yet decoded (an incomplete UTF-8 sequence or a trailing `\r`).
    raw: Vec<u8>,
    /// Decoded text (or bytes, in binary mode) read but not yet consumed.
    text: String,
    bytes: Vec<u8>,
    /// A decoded '\r' held back until the next chunk shows whether a '\n'
    /// follows it (newline translation and splitting treat "\r\n" as one).
    pending_cr: bool,
    eof: bool,
}

fn file_class() -> Arc<Class> {
    static CLASS: std::sync::OnceLock<Arc<Class>> = std::sync::OnceLock::new();
    CLASS
        .get_or_init(|| {
            let t = types();
            let c = crate::vm::types::new_class(
                "TextIOWrapper",
                "_io",
                vec![t.object.clone()],
                crate::vm::value::Layout::Other,
                Default::default(),
            )
            .unwrap_or_else(|_| t.object.clone());
            for (name, f) in [
                ("read", f_read as NativeFn),
                ("readline", f_readline),
                ("readlines", f_readlines),
                ("write", f_write),
                ("writelines", f_writelines),
                ("close", f_close),
                ("flush", f_flush),
                ("seek", f_seek),
                ("tell", f_tell),
                ("readable", f_readable),
                ("writable", f_writable),
                ("fileno", f_fileno),
                ("__enter__", f_enter),
                ("__exit__", f_exit),
                ("__iter__", f_enter),
                ("__next__", f_next),
                ("__repr__", f_repr),
            ] {
                method(&c, name, f);
            }
            crate::vm::iter::getter(t, &c, "closed", f_closed);
            crate::vm::iter::getter(t, &c, "name", f_name);
            crate::vm::iter::getter(t, &c, "mode", f_mode);
            crate::vm::iter::getter(t, &c, "encoding", f_encoding);
            crate::vm::iter::getter(t, &c, "errors", f_errors);
            c
        })
        .clone()
}

fn file_of(v: &Value) -> PyResult<&PyFile> {
    if let Value::Object(o) = v {
        if let ObjKind::Native(n) = &o.kind {
            if let Some(f) = n.downcast_ref::<PyFile>() {
                return Ok(f);
            }
        }
    }
    Err(PyErr::type_error(format!(
        "descriptor requires a '_io.TextIOWrapper' object but received a '{}'",
        type_name(v)
    )))
}

/// An `OSError` subclass for an I/O error, with errno/strerror/filename.
pub fn os_error(e: &std::io::Error, filename: Option<&Value>) -> PyErr {
    let errno = e.raw_os_error().unwrap_or(0);
    let kind = match errno {
        2 => ExcKind::FileNotFoundError,
        13 | 1 => ExcKind::PermissionError,
        17 => ExcKind::FileExistsError,
        20 => ExcKind::NotADirectoryError,
        21 => ExcKind::IsADirectoryError,
        32 => ExcKind::BrokenPipeError,
        4 => ExcKind::InterruptedError,
        _ => ExcKind::OSError,
    };
    let text = e.to_string();
    let strerror = match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    let err = PyErr::with_args(
        kind,
        vec![
            Value::Int(errno as i64),
            Value::from_string(strerror.clone()),
        ],
    );
    let mut attrs = err.exc.attrs.lock();
    attrs.insert("errno".into(), Value::Int(errno as i64));
    attrs.insert("strerror".into(), Value::from_string(strerror));
    attrs.insert("filename".into(), filename.cloned().unwrap_or(Value::None));
    drop(attrs);
    err
}

fn closed_error() -> PyErr {
    PyErr::value_error("I/O operation on closed file.")
}

/// `io.UnsupportedOperation` (a subclass of both OSError and ValueError).
pub fn unsupported_operation_class() -> Arc<Class> {
    static CLASS: std::sync::OnceLock<Arc<Class>> = std::sync::OnceLock::new();
    CLASS
        .get_or_init(|| {
            let t = types();
            let bases = vec![
                t.exception(ExcKind::OSError).clone(),
                t.exception(ExcKind::ValueError).clone(),
            ];
            crate::vm::types::new_class(
                "UnsupportedOperation",
                "io",
                bases,
                crate::vm::value::Layout::BaseException,
                Default::default(),
            )
            .unwrap_or_else(|_| t.exception(ExcKind::OSError).clone())
        })
        .clone()
}

fn unsupported(what: &str) -> PyErr {
    PyErr {
        exc: crate::vm::brc::Brc::new(crate::vm::value::Instance::new(
            unsupported_operation_class(),
            InstanceBase::Exception(Box::new(crate::vm::value::ExcData::new(vec![Value::str(
                what,
            )]))),
        )),
    }
}

/// A new `File` on a duplicate of descriptor `fd`.
#[cfg(unix)]
fn dup_fd(fd: i32) -> std::io::Result<std::fs::File> {
    use std::os::fd::FromRawFd;
    // SAFETY: `dup` only reads the descriptor table; it fails with EBADF
    // for a descriptor that is not open.
    let new = unsafe { libc::dup(fd) };
    if new < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `new` is a fresh descriptor that nothing else owns.
    Ok(unsafe { std::fs::File::from_raw_fd(new) })
}

#[cfg(not(unix))]
fn dup_fd(_fd: i32) -> std::io::Result<std::fs::File> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

fn b_open(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    check_kwargs(
        "open",
        kw,
        &[
            "file",
            "mode",
            "buffering",
            "encoding",
            "errors",
            "newline",
            "closefd",
            "opener",
        ],
    )?;
    let Some(file) = args.first().or_else(|| kwarg(kw, "file")).cloned() else {
        return Err(PyErr::type_error(
            "open() missing required argument 'file' (pos 1)",
        ));
    };
    let mode = match args.get(1).or_else(|| kwarg(kw, "mode")) {
        None => "r".to_string(),
        Some(Value::Str(s)) => s.as_str().to_string(),
        Some(v) => {
            return Err(PyErr::type_error(format!(
                "open() argument 'mode' must be str, not {}",
                type_name(v)
            )))
        }
    };
    // `open(0)`: a file descriptor, duplicated so that closing the file
    // object leaves the process's own descriptor open.
    let mut fd = None;
    let path = match &file {
        Value::Str(s) => s.as_str().to_string(),
        Value::Int(n) => {
            if *n < 0 {
                return Err(PyErr::value_error("negative file descriptor"));
            }
            // CPython too reports a descriptor past C int as a bad type.
            fd = Some(i32::try_from(*n).map_err(|_| {
                PyErr::type_error("expected str, bytes or os.PathLike object, not int")
            })?);
            String::new()
        }
        v => {
            return Err(PyErr::type_error(format!(
                "expected str, bytes or os.PathLike object, not {}",
                type_name(v)
            )))
        }
    };
    // Positional or keyword; None stands for "not given".
    let text_arg = |pos: usize, name: &str| -> PyResult<Option<String>> {
        match args.get(pos).or_else(|| kwarg(kw, name)) {
            None | Some(Value::None) => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s.as_str().to_string())),
            Some(v) => Err(PyErr::type_error(format!(
                "open() argument '{name}' must be str or None, not {}",
                type_name(v)
            ))),
        }
    };
    let encoding = text_arg(3, "encoding")?;
    let errors = text_arg(4, "errors")?;
    let newline = text_arg(5, "newline")?;
    if let Some(nl) = &newline {
        if !matches!(nl.as_str(), "" | "\n" | "\r" | "\r\n") {
            return Err(PyErr::value_error(format!("illegal newline value: {nl}")));
        }
    }
    let invalid = || PyErr::value_error(format!("invalid mode: '{mode}'"));
    let mut kinds = 0;
    let (mut read, mut write, mut append, mut create, mut plus, mut binary, mut text) =
        (false, false, false, false, false, false, false);
    for c in mode.chars() {
        let seen = match c {
            'r' => std::mem::replace(&mut read, true),
            'w' => std::mem::replace(&mut write, true),
            'a' => std::mem::replace(&mut append, true),
            'x' => std::mem::replace(&mut create, true),
            '+' => std::mem::replace(&mut plus, true),
            'b' => std::mem::replace(&mut binary, true),
            't' => std::mem::replace(&mut text, true),
            _ => return Err(invalid()),
        };
        if seen {
            return Err(invalid());
        }
        if matches!(c, 'r' | 'w' | 'a' | 'x') {
            kinds += 1;
        }
    }
    if binary && text {
        return Err(PyErr::value_error(
            "can't have text and binary mode at once",
        ));
    }
    if kinds != 1 {
        return Err(PyErr::value_error(
            "must have exactly one of create/read/write/append mode",
        ));
    }
    if binary {
        for (given, what) in [
            (encoding.is_some(), "an encoding"),
            (errors.is_some(), "an errors"),
            (newline.is_some(), "a newline"),
        ] {
            if given {
                return Err(PyErr::value_error(format!(
                    "binary mode doesn't take {what} argument"
                )));
            }
        }
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.read(read || plus);
    if write {
        opts.write(true).create(true).truncate(true);
    }
    if append {
        opts.append(true).create(true);
    }
    if create {
        opts.write(true).create_new(true);
    }
    if read && plus {
        opts.write(true);
    }
    let p = path.clone();
    let opened = vm.allow_threads(move || {
        let mut f = match fd {
            Some(fd) => dup_fd(fd)?,
            None => opts.open(&p)?,
        };
        if f.metadata()?.is_dir() {
            return Err(std::io::Error::from_raw_os_error(21));
        }
        if append {
            // Appending files start at the end (reads too, with 'a+').
            use std::io::Seek;
            f.seek(std::io::SeekFrom::End(0))?;
        }
        Ok(f)
    });
    let f = opened.map_err(|e| os_error(&e, fd.is_none().then_some(&file)))?;
    // As in CPython, the file is opened before the codec is looked up.
    let codec = match &encoding {
        None => Codec::Utf8,
        Some(name) => Codec::lookup(name)
            .ok_or_else(|| PyErr::new(ExcKind::LookupError, format!("unknown encoding: {name}")))?,
    };
    let state = PyFile {
        name: file,
        mode: mode.clone(),
        binary,
        readable: read || plus,
        writable: write || append || create || plus,
        codec,
        encoding: encoding.unwrap_or_else(|| "UTF-8".to_string()),
        errors: errors.unwrap_or_else(|| "strict".to_string()),
        newline,
        inner: parking_lot::Mutex::new(FileInner {
            file: Some(f),
            raw: Vec::new(),
            text: String::new(),
            bytes: Vec::new(),
            pending_cr: false,
            eof: false,
        }),
    };
    let class = file_class();
    Ok(Value::Object(Arc::new(crate::vm::value::Object {
        class,
        kind: ObjKind::Native(Box::new(state)),
    })))
}

impl FileInner {
    /// Read one more chunk (or, with `all`, everything left) and decode it
    /// (blocking I/O: the caller releases the GIL). Returns false at end of
    /// file.
    fn fill(&mut self, file: &PyFile, all: bool) -> std::io::Result<bool> {
        use std::io::Read;
        if self.eof {
            return Ok(false);
        }
        let Some(f) = self.file.as_mut() else {
            return Ok(false);
        };
        let chunk = if file.binary { 64 * 1024 } else { TEXT_CHUNK };
        let mut buf = vec![0u8; chunk];
        let mut got = 0;
        loop {
            let n = match f.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                self.eof = true;
            }
            got += n;
            let into = if file.binary {
                &mut self.bytes
            } else {
                &mut self.raw
            };
            into.extend_from_slice(&buf[..n]);
            if n == 0 || !all {
                break;
            }
        }
        if !file.binary {
            self.decode_raw(file)?;
        }
        Ok(got > 0)
    }

    /// Decode `raw` into `text`, keeping an incomplete sequence at its end
    /// for the next chunk (unless at end of file).
    fn decode_raw(&mut self, file: &PyFile) -> std::io::Result<()> {
        let upto = if self.eof {
            self.raw.len()
        } else {
            self.raw.len() - incomplete_utf8_tail(&self.raw, file.codec)
        };
        let fail = |start, end, reason| DecodeFailure {
            codec: file.codec,
            object: self.raw.clone(),
            start,
            end,
            reason,
        };
        let strict = !matches!(file.errors.as_str(), "replace" | "ignore");
        let bad = if file.errors == "replace" {
            "\u{fffd}"
        } else {
            ""
        };
        let mut decoded = String::with_capacity(upto);
        if self.pending_cr {
            decoded.push('\r');
            self.pending_cr = false;
        }
        match file.codec {
            Codec::Utf8 => {
                if strict {
                    if let Err(e) = std::str::from_utf8(&self.raw[..upto]) {
                        let (start, end, reason) = crate::vm::str::utf8_failure(&self.raw, 0, e);
                        return Err(std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            fail(start, end, reason),
                        ));
                    }
                }
                for piece in self.raw[..upto].utf8_chunks() {
                    decoded.push_str(piece.valid());
                    if !piece.invalid().is_empty() {
                        decoded.push_str(bad);
                    }
                }
            }
            Codec::Ascii => {
                for (i, &b) in self.raw[..upto].iter().enumerate() {
                    if b < 128 {
                        decoded.push(b as char);
                    } else if strict {
                        return Err(std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            fail(i, i + 1, "ordinal not in range(128)"),
                        ));
                    } else {
                        decoded.push_str(bad);
                    }
                }
            }
            Codec::Latin1 => decoded.extend(self.raw[..upto].iter().map(|&b| b as char)),
        }
        self.raw.drain(..upto);
        if !self.eof && decoded.ends_with('\r') {
            decoded.pop();
            self.pending_cr = true;
        }
        if file.newline.is_none() {
            decoded = decoded.replace("\r\n", "\n").replace('\r', "\n");
        }
        self.text.push_str(&decoded);
        Ok(())
    }
}

/// How many bytes at the end of `raw` start a UTF-8 sequence that more
/// input could still complete.
fn incomplete_utf8_tail(raw: &[u8], codec: Codec) -> usize {
    if codec != Codec::Utf8 {
        return 0;
    }
    for k in 1..=raw.len().min(3) {
        let tail = &raw[raw.len() - k..];
        if tail[0] & 0xc0 != 0x80 {
            return match std::str::from_utf8(tail) {
                Err(e) if e.valid_up_to() == 0 && e.error_len().is_none() => k,
                _ => 0,
            };
        }
    }
    0
}

/// Where the first line of `text` ends (after its terminator), for the
/// file's `newline` setting; None if no complete line is buffered.
fn line_end(text: &str, newline: Option<&str>, eof: bool) -> Option<usize> {
    match newline {
        None | Some("\n") => text.find('\n').map(|i| i + 1),
        Some("") => {
            let i = text.find(['\r', '\n'])?;
            if text[i..].starts_with("\r\n") {
                Some(i + 2)
            } else if text[i..].starts_with('\r') && i + 1 == text.len() && !eof {
                // A '\n' may follow in the next chunk.
                None
            } else {
                Some(i + 1)
            }
        }
        Some(sep) => text.find(sep).map(|i| i + sep.len()),
    }
}

/// Run `f` on the file's state with the GIL released.
fn with_file<R: Send>(
    vm: &mut Vm,
    v: &Value,
    f: impl FnOnce(&PyFile, &mut FileInner) -> std::io::Result<R> + Send,
) -> PyResult<R> {
    let file = file_of(v)?;
    let r = vm.allow_threads(|| {
        let mut inner = file.inner.lock();
        if inner.file.is_none() {
            return Err(None);
        }
        f(file, &mut inner).map_err(Some)
    });
    r.map_err(|e| match e {
        None => closed_error(),
        Some(e) => match e.get_ref().and_then(|x| x.downcast_ref::<DecodeFailure>()) {
            Some(d) => {
                crate::vm::str::decode_error(d.codec.name(), &d.object, d.start, d.end, d.reason)
            }
            None => os_error(&e, Some(&file.name)),
        },
    })
}

fn check_readable(v: &Value) -> PyResult<()> {
    let f = file_of(v)?;
    if f.inner.lock().file.is_none() {
        return Err(closed_error());
    }
    if !f.readable {
        return Err(unsupported("not readable"));
    }
    Ok(())
}

fn check_writable(v: &Value) -> PyResult<()> {
    let f = file_of(v)?;
    if f.inner.lock().file.is_none() {
        return Err(closed_error());
    }
    if !f.writable {
        return Err(unsupported("not writable"));
    }
    Ok(())
}

fn size_arg(vm: &mut Vm, v: Option<&Value>) -> PyResult<i64> {
    match v {
        None | Some(Value::None) => Ok(-1),
        Some(v) => index_value(vm, v),
    }
}

fn f_read(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_readable(&args[0])?;
    arity("read", &args[1..], 0, 1)?;
    let n = size_arg(vm, args.get(1))?;
    let binary = file_of(&args[0])?.binary;
    if binary {
        let out = with_file(vm, &args[0], move |file, st| {
            while n < 0 || (st.bytes.len() as i64) < n {
                if !st.fill(file, n < 0)? {
                    break;
                }
            }
            let take = if n < 0 {
                st.bytes.len()
            } else {
                (n as usize).min(st.bytes.len())
            };
            Ok(st.bytes.drain(..take).collect::<Vec<u8>>())
        })?;
        return Ok(Value::Bytes(out.into()));
    }
    let out = with_file(vm, &args[0], move |file, st| {
        loop {
            if n >= 0 && st.text.chars().count() as i64 >= n {
                break;
            }
            // read() decodes everything left at once, as CPython does (so
            // a decode error's position counts from the reading position).
            if !st.fill(file, n < 0)? {
                break;
            }
        }
        let end = if n < 0 {
            st.text.len()
        } else {
            st.text
                .char_indices()
                .nth(n as usize)
                .map(|(i, _)| i)
                .unwrap_or(st.text.len())
        };
        Ok(st.text.drain(..end).collect::<String>())
    })?;
    Ok(Value::from_string(out))
}

fn read_line(vm: &mut Vm, file: &Value, limit: i64) -> PyResult<Value> {
    let binary = file_of(file)?.binary;
    if binary {
        let out = with_file(vm, file, move |file, st| loop {
            if let Some(i) = st.bytes.iter().position(|&b| b == b'\n') {
                let mut take = i + 1;
                if limit >= 0 {
                    take = take.min(limit as usize);
                }
                return Ok(st.bytes.drain(..take).collect::<Vec<u8>>());
            }
            if limit >= 0 && st.bytes.len() as i64 >= limit {
                return Ok(st.bytes.drain(..limit as usize).collect());
            }
            if !st.fill(file, false)? {
                return Ok(std::mem::take(&mut st.bytes));
            }
        })?;
        return Ok(Value::Bytes(out.into()));
    }
    let out = with_file(vm, file, move |file, st| loop {
        if let Some(mut end) = line_end(&st.text, file.newline.as_deref(), st.eof) {
            if limit >= 0 {
                if let Some((j, _)) = st.text.char_indices().nth(limit as usize) {
                    end = end.min(j);
                }
            }
            return Ok(st.text.drain(..end).collect::<String>());
        }
        if limit >= 0 {
            if let Some((j, _)) = st.text.char_indices().nth(limit as usize) {
                return Ok(st.text.drain(..j).collect());
            }
        }
        if !st.fill(file, false)? {
            return Ok(std::mem::take(&mut st.text));
        }
    })?;
    Ok(Value::from_string(out))
}

fn is_empty_read(v: &Value) -> bool {
    match v {
        Value::Str(s) => s.as_str().is_empty(),
        Value::Bytes(b) => b.is_empty(),
        _ => true,
    }
}

fn f_readline(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_readable(&args[0])?;
    arity("readline", &args[1..], 0, 1)?;
    let n = size_arg(vm, args.get(1))?;
    read_line(vm, &args[0], n)
}

fn f_readlines(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_readable(&args[0])?;
    arity("readlines", &args[1..], 0, 1)?;
    let hint = size_arg(vm, args.get(1))?;
    let mut lines = Vec::new();
    let mut total = 0i64;
    loop {
        let line = read_line(vm, &args[0], -1)?;
        if is_empty_read(&line) {
            break;
        }
        if let Value::Str(s) = &line {
            total += s.char_len() as i64;
        }
        lines.push(line);
        if hint > 0 && total >= hint {
            break;
        }
    }
    Ok(Value::list(lines))
}

fn f_next(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_readable(&args[0])?;
    let line = read_line(vm, &args[0], -1)?;
    if is_empty_read(&line) {
        return Err(PyErr::with_args(ExcKind::StopIteration, vec![]));
    }
    Ok(line)
}

fn write_bytes(vm: &mut Vm, file: &Value, data: Vec<u8>) -> PyResult<()> {
    with_file(vm, file, move |_, st| {
        use std::io::{Seek, SeekFrom, Write};
        let pending = st.text.len() + st.raw.len() + st.bytes.len();
        let Some(f) = st.file.as_mut() else {
            return Ok(());
        };
        // Unread buffered input: write where the reader is, as CPython does.
        if pending > 0 {
            f.seek(SeekFrom::Current(-(pending as i64)))?;
            st.text.clear();
            st.raw.clear();
            st.bytes.clear();
            st.eof = false;
        }
        f.write_all(&data)
    })
}

fn f_write(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_writable(&args[0])?;
    arity("write", &args[1..], 1, 1)?;
    let binary = file_of(&args[0])?.binary;
    match (&args[1], binary) {
        (Value::Str(s), false) => {
            let n = s.char_len();
            let f = file_of(&args[0])?;
            let text = match f.newline.as_deref() {
                Some(nl @ ("\r" | "\r\n")) => s.as_str().replace('\n', nl),
                _ => s.as_str().to_string(),
            };
            let data = crate::vm::str::encode(&text, f.codec.name(), &f.errors)?;
            write_bytes(vm, &args[0], data)?;
            Ok(Value::Int(n as i64))
        }
        (v @ (Value::Bytes(_) | Value::ByteArray(_)), true) => {
            let b = crate::vm::bytes::must_bytes_like(v)?;
            let n = b.len();
            write_bytes(vm, &args[0], b.to_vec())?;
            Ok(Value::Int(n as i64))
        }
        (v, false) => Err(PyErr::type_error(format!(
            "write() argument must be str, not {}",
            type_name(v)
        ))),
        (v, true) => Err(PyErr::type_error(format!(
            "a bytes-like object is required, not '{}'",
            type_name(v)
        ))),
    }
}

fn f_writelines(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_writable(&args[0])?;
    arity("writelines", &args[1..], 1, 1)?;
    let it = vm.iter(&args[1])?;
    while let Some(line) = vm.next(&it)? {
        f_write(vm, &[args[0].clone(), line], &[])?;
    }
    Ok(Value::None)
}

fn f_close(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let file = file_of(&args[0])?;
    let taken = file.inner.lock().file.take();
    if let Some(f) = taken {
        vm.allow_threads(move || {
            let _ = f.sync_data();
            drop(f);
        });
    }
    Ok(Value::None)
}

fn f_flush(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    with_file(vm, &args[0], |_, st| {
        use std::io::Write;
        match st.file.as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    })?;
    Ok(Value::None)
}

fn f_seek(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    arity("seek", &args[1..], 1, 2)?;
    let offset = index_value(vm, &args[1])?;
    let whence = match args.get(2) {
        Some(w) => index_value(vm, w)?,
        None => 0,
    };
    let pos = with_file(vm, &args[0], move |_, st| {
        use std::io::{Seek, SeekFrom};
        let pending = (st.text.len() + st.raw.len() + st.bytes.len()) as i64;
        st.text.clear();
        st.raw.clear();
        st.bytes.clear();
        st.eof = false;
        let Some(f) = st.file.as_mut() else {
            return Ok(0);
        };
        let target = match whence {
            1 => SeekFrom::Current(offset - pending),
            2 => SeekFrom::End(offset),
            _ => SeekFrom::Start(offset.max(0) as u64),
        };
        f.seek(target)
    })?;
    Ok(Value::Int(pos as i64))
}

fn f_tell(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let pos = with_file(vm, &args[0], |_, st| {
        use std::io::Seek;
        let pending = (st.text.len() + st.raw.len() + st.bytes.len()) as u64;
        match st.file.as_mut() {
            Some(f) => Ok(f.stream_position()?.saturating_sub(pending)),
            None => Ok(0),
        }
    })?;
    Ok(Value::Int(pos as i64))
}

fn f_readable(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let f = file_of(&args[0])?;
    if f.inner.lock().file.is_none() {
        return Err(closed_error());
    }
    Ok(Value::Bool(f.readable))
}

fn f_writable(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let f = file_of(&args[0])?;
    if f.inner.lock().file.is_none() {
        return Err(closed_error());
    }
    Ok(Value::Bool(f.writable))
}

fn f_fileno(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    use std::os::fd::AsRawFd;
    let f = file_of(&args[0])?;
    match f.inner.lock().file.as_ref() {
        Some(file) => Ok(Value::Int(file.as_raw_fd() as i64)),
        None => Err(closed_error()),
    }
}

fn f_enter(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let f = file_of(&args[0])?;
    if f.inner.lock().file.is_none() {
        return Err(closed_error());
    }
    Ok(args[0].clone())
}

fn f_exit(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    f_close(vm, &args[..1], &[])?;
    Ok(Value::None)
}

fn f_closed(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let f = file_of(&args[0])?;
    let closed = f.inner.lock().file.is_none();
    Ok(Value::Bool(closed))
}

fn f_name(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(file_of(&args[0])?.name.clone())
}

/// `f.encoding` / `f.errors`: text files only (binary files have neither).
fn text_file_attr(args: &[Value], name: &str, get: fn(&PyFile) -> &str) -> PyResult<Value> {
    let f = file_of(&args[0])?;
    if f.binary {
        let kind = match (f.readable, f.writable) {
            (true, true) => "BufferedRandom",
            (true, false) => "BufferedReader",
            _ => "BufferedWriter",
        };
        return Err(PyErr::attribute_error(format!(
            "'_io.{kind}' object has no attribute '{name}'"
        )));
    }
    Ok(Value::str(get(f)))
}

fn f_encoding(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    text_file_attr(args, "encoding", |f| &f.encoding)
}

fn f_errors(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    text_file_attr(args, "errors", |f| &f.errors)
}

fn f_mode(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::str(&file_of(&args[0])?.mode))
}

fn f_repr(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let f = file_of(&args[0])?;
    let name = vm.repr(&f.name)?;
    // CPython shows the same repr once the file is closed.
    Ok(Value::from_string(if f.binary {
        let kind = match (f.readable, f.writable) {
            (true, true) => "BufferedRandom",
            (true, false) => "BufferedReader",
            _ => "BufferedWriter",
        };
        format!("<_io.{kind} name={name}>")
    } else {
        format!(
            "<_io.TextIOWrapper name={name} mode='{}' encoding='{}'>",
            f.mode, f.encoding
        )
    }))
}
