//! `BaseException` and the built-in exceptions' own methods: construction,
//! `str()`/`repr()` in CPython's forms, and the attributes some classes
//! derive from their arguments (`StopIteration.value`, `SystemExit.code`,
//! `OSError.errno/strerror/filename`, `SyntaxError.lineno`, ...).

use std::sync::Arc;

use crate::vm::brc::Brc;
use crate::vm::class::is_subclass;
use crate::vm::error::{ExcKind, PyErr, PyResult};
use crate::vm::interp::{native, type_name, Vm};
use crate::vm::types::{types, Types};
use crate::vm::value::{Class, Instance, InstanceBase, Kwargs, NativeFn, PyTuple, Value};

fn is_kind(class: &Arc<Class>, kind: ExcKind) -> bool {
    is_subclass(class, types().exception(kind))
}

fn exc_self(args: &[Value]) -> PyResult<&Brc<Instance>> {
    match args.first() {
        Some(Value::Instance(i)) if matches!(i.base, InstanceBase::Exception(_)) => Ok(i),
        Some(other) => Err(PyErr::type_error(format!(
            "descriptor requires a 'BaseException' object but received a '{}'",
            type_name(other)
        ))),
        None => Err(PyErr::type_error("descriptor needs an argument")),
    }
}

fn args_of(i: &Instance) -> Arc<PyTuple> {
    match &i.base {
        InstanceBase::Exception(d) => d.args.lock().clone(),
        _ => Arc::new(PyTuple {
            items: Box::new([]),
        }),
    }
}

fn set_args(i: &Instance, items: Vec<Value>) {
    if let InstanceBase::Exception(d) = &i.base {
        *d.args.lock() = Arc::new(PyTuple {
            items: items.into_boxed_slice(),
        });
    }
}

fn set_attr(i: &Instance, name: &str, v: Value, overwrite: bool) {
    let mut attrs = i.attrs.lock();
    if overwrite || !attrs.contains_key(name) {
        attrs.insert(name.into(), v);
    }
}

/// Set the attributes a built-in exception class derives from its args, if
/// not set yet (`overwrite` when `__init__` runs). Exceptions made natively
/// (`PyErr::new`) get them the first time a handler or the traceback printer
/// looks at them.
pub fn fill_derived_attrs(i: &Instance) {
    fill(i, false);
}

fn fill(i: &Instance, overwrite: bool) {
    let class = &i.class;
    if !matches!(i.base, InstanceBase::Exception(_)) {
        return;
    }
    let args = args_of(i);
    let a = &args.items;
    let first = || a.first().cloned().unwrap_or(Value::None);
    if is_kind(class, ExcKind::StopIteration) {
        set_attr(i, "value", first(), overwrite);
    } else if is_kind(class, ExcKind::SystemExit) {
        let code = match a.len() {
            0 => Value::None,
            1 => a[0].clone(),
            _ => Value::Tuple(args.clone()),
        };
        set_attr(i, "code", code, overwrite);
    } else if is_kind(class, ExcKind::OSError) {
        let (errno, strerror, filename, filename2) = if (2..=5).contains(&a.len()) {
            (
                a[0].clone(),
                a[1].clone(),
                a.get(2).cloned().unwrap_or(Value::None),
                a.get(4).cloned().unwrap_or(Value::None),
            )
        } else {
            (Value::None, Value::None, Value::None, Value::None)
        };
        set_attr(i, "errno", errno, overwrite);
        set_attr(i, "strerror", strerror, overwrite);
        set_attr(i, "filename", filename, overwrite);
        set_attr(i, "filename2", filename2, overwrite);
    } else if is_kind(class, ExcKind::SyntaxError) {
        set_attr(i, "msg", first(), overwrite);
        let info: Vec<Value> = match a.get(1) {
            Some(Value::Tuple(t)) => t.items.to_vec(),
            _ => Vec::new(),
        };
        let names = [
            "filename",
            "lineno",
            "offset",
            "text",
            "end_lineno",
            "end_offset",
        ];
        for (k, name) in names.iter().enumerate() {
            set_attr(
                i,
                name,
                info.get(k).cloned().unwrap_or(Value::None),
                overwrite,
            );
        }
        set_attr(i, "print_file_and_line", Value::None, overwrite);
    } else if (is_kind(class, ExcKind::UnicodeDecodeError)
        || is_kind(class, ExcKind::UnicodeEncodeError))
        && a.len() == 5
    {
        for (k, name) in ["encoding", "object", "start", "end", "reason"]
            .iter()
            .enumerate()
        {
            set_attr(i, name, a[k].clone(), overwrite);
        }
    } else if is_kind(class, ExcKind::ImportError) {
        let msg = if a.len() == 1 {
            a[0].clone()
        } else {
            Value::None
        };
        set_attr(i, "msg", msg, overwrite);
        set_attr(i, "name", Value::None, false);
        set_attr(i, "path", Value::None, false);
    } else if is_kind(class, ExcKind::NameError) {
        set_attr(i, "name", Value::None, false);
    } else if is_kind(class, ExcKind::AttributeError) {
        set_attr(i, "name", Value::None, false);
        set_attr(i, "obj", Value::None, false);
    }
}

/// `BaseException.__new__(cls, *args)`: an instance holding `args`
/// (`OSError(errno, ...)` picks the subclass for the errno, as CPython does).
fn exc_new(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let Some(Value::Class(cls)) = args.first() else {
        return Err(crate::vm::ops::new_needs_type(
            "BaseException",
            args.first(),
        ));
    };
    if !is_kind(cls, ExcKind::BaseException) {
        return Err(PyErr::type_error(format!(
            "BaseException.__new__({}): {} is not a subtype of BaseException",
            cls.name, cls.name
        )));
    }
    let rest = &args[1..];
    let mut cls = cls.clone();
    if Arc::ptr_eq(&cls, types().exception(ExcKind::OSError)) && (2..=5).contains(&rest.len()) {
        if let Value::Int(errno) = rest[0] {
            if let Some(kind) = errno_kind(errno) {
                cls = types().exception(kind).clone();
            }
        }
    }
    let inst = crate::vm::class::new_instance(&cls);
    if let Value::Instance(i) = &inst {
        set_args(i, rest.to_vec());
    }
    Ok(inst)
}

fn errno_kind(errno: i64) -> Option<ExcKind> {
    Some(match errno {
        2 => ExcKind::FileNotFoundError,
        17 => ExcKind::FileExistsError,
        1 | 13 => ExcKind::PermissionError,
        21 => ExcKind::IsADirectoryError,
        20 => ExcKind::NotADirectoryError,
        110 => ExcKind::TimeoutError,
        4 => ExcKind::InterruptedError,
        10 => ExcKind::ChildProcessError,
        3 => ExcKind::ProcessLookupError,
        32 | 108 => ExcKind::BrokenPipeError,
        111 => ExcKind::ConnectionRefusedError,
        104 => ExcKind::ConnectionResetError,
        103 => ExcKind::ConnectionAbortedError,
        11 | 114 | 115 => ExcKind::BlockingIOError,
        _ => return None,
    })
}

/// `BaseException.__init__(self, *args)`, with the keyword arguments the
/// built-in subclasses accept (`NameError(name=)`, `ImportError(name=, path=)`).
fn exc_init(_vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let i = exc_self(args)?;
    let allowed: &[&str] = if is_kind(&i.class, ExcKind::ImportError) {
        &["name", "path"]
    } else if is_kind(&i.class, ExcKind::NameError) {
        &["name"]
    } else if is_kind(&i.class, ExcKind::AttributeError) {
        &["name", "obj"]
    } else {
        &[]
    };
    for (k, _) in kw {
        if !allowed.contains(&&**k) {
            return Err(PyErr::type_error(if allowed.is_empty() {
                format!("{}() takes no keyword arguments", i.class.name)
            } else {
                format!(
                    "{}() got an unexpected keyword argument '{}'",
                    i.class.name, k
                )
            }));
        }
    }
    let mut items = args[1..].to_vec();
    // OSError keeps only (errno, strerror) as args when a filename is given.
    if is_kind(&i.class, ExcKind::OSError) && (3..=5).contains(&items.len()) {
        set_args(i, items.clone());
        fill(i, true);
        if !items[2].is_none() {
            items.truncate(2);
        }
        set_args(i, items);
    } else {
        set_args(i, items);
        fill(i, true);
    }
    for (k, v) in kw {
        set_attr(i, k, v.clone(), true);
    }
    Ok(Value::None)
}

/// `str(e)`: '' / the single argument / the args tuple.
pub fn exc_str_value(vm: &mut Vm, i: &Brc<Instance>) -> PyResult<String> {
    fill_derived_attrs(i);
    let class = &i.class;
    let args = args_of(i);
    let attr = |name: &str| i.attrs.lock().get(name).cloned().unwrap_or(Value::None);
    if is_kind(class, ExcKind::KeyError) && args.items.len() == 1 {
        return vm.repr(&args.items[0]);
    }
    if is_kind(class, ExcKind::OSError) {
        let (errno, strerror, filename, filename2) = (
            attr("errno"),
            attr("strerror"),
            attr("filename"),
            attr("filename2"),
        );
        if !filename.is_none() {
            let e = vm.to_str(&errno)?;
            let s = vm.to_str(&strerror)?;
            let f = vm.repr(&filename)?;
            if !filename2.is_none() {
                let f2 = vm.repr(&filename2)?;
                return Ok(format!("[Errno {e}] {s}: {f} -> {f2}"));
            }
            return Ok(format!("[Errno {e}] {s}: {f}"));
        }
        if !errno.is_none() && !strerror.is_none() {
            let e = vm.to_str(&errno)?;
            let s = vm.to_str(&strerror)?;
            return Ok(format!("[Errno {e}] {s}"));
        }
    }
    if is_kind(class, ExcKind::UnicodeDecodeError) && args.items.len() == 5 {
        if let (Value::Bytes(object), Value::Int(start), Value::Int(end)) =
            (attr("object"), attr("start"), attr("end"))
        {
            let encoding = vm.to_str(&attr("encoding"))?;
            let reason = vm.to_str(&attr("reason"))?;
            let byte = usize::try_from(start).ok().and_then(|s| object.get(s));
            return Ok(match byte {
                Some(b) if end == start + 1 => format!(
                    "'{encoding}' codec can't decode byte 0x{b:02x} in position {start}: {reason}"
                ),
                _ => format!(
                    "'{encoding}' codec can't decode bytes in position {start}-{}: {reason}",
                    end - 1
                ),
            });
        }
    }
    if is_kind(class, ExcKind::UnicodeEncodeError) && args.items.len() == 5 {
        if let (Value::Str(object), Value::Int(start), Value::Int(end)) =
            (attr("object"), attr("start"), attr("end"))
        {
            let encoding = vm.to_str(&attr("encoding"))?;
            let reason = vm.to_str(&attr("reason"))?;
            let one = usize::try_from(start)
                .ok()
                .filter(|_| end == start + 1)
                .and_then(|s| object.as_str().chars().nth(s));
            return Ok(match one {
                Some(c) => {
                    let mut esc = String::new();
                    crate::vm::str::push_escape(&mut esc, c);
                    format!(
                        "'{encoding}' codec can't encode character '{esc}' in position {start}: {reason}"
                    )
                }
                None => format!(
                    "'{encoding}' codec can't encode characters in position {start}-{}: {reason}",
                    end - 1
                ),
            });
        }
    }
    if is_kind(class, ExcKind::SyntaxError) {
        let msg = attr("msg");
        let filename = attr("filename");
        let lineno = attr("lineno");
        let msg = vm.to_str(&msg)?;
        let base = filename
            .as_str()
            .map(|f| f.rsplit('/').next().unwrap_or(f).to_string());
        return Ok(match (base, &lineno) {
            (Some(f), Value::Int(n)) => format!("{msg} ({f}, line {n})"),
            (Some(f), _) => format!("{msg} ({f})"),
            (None, Value::Int(n)) => format!("{msg} (line {n})"),
            (None, _) => msg,
        });
    }
    if is_kind(class, ExcKind::ImportError) {
        let msg = attr("msg");
        if !msg.is_none() {
            return vm.to_str(&msg);
        }
    }
    match args.items.len() {
        0 => Ok(String::new()),
        1 => vm.to_str(&args.items[0]),
        _ => vm.repr(&Value::Tuple(args)),
    }
}

fn exc_str(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let i = exc_self(args)?.clone();
    Ok(Value::from_string(exc_str_value(vm, &i)?))
}

fn exc_repr(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let i = exc_self(args)?.clone();
    let a = args_of(&i);
    let name = &i.class.name;
    let inner = if a.items.len() == 1 {
        format!("({})", vm.repr(&a.items[0])?)
    } else {
        vm.repr(&Value::Tuple(a))?
    };
    Ok(Value::from_string(format!("{name}{inner}")))
}

fn exc_with_traceback(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let i = exc_self(args)?;
    if args.len() != 2 {
        return Err(PyErr::type_error(format!(
            "BaseException.with_traceback() takes exactly one argument ({} given)",
            args.len() - 1
        )));
    }
    if let InstanceBase::Exception(data) = &i.base {
        crate::stdlib::traceback::set_traceback(data, &args[1])?;
    }
    Ok(args[0].clone())
}

fn exc_add_note(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let i = exc_self(args)?;
    let note = args.get(1).cloned().unwrap_or(Value::None);
    if !matches!(note, Value::Str(_)) {
        return Err(PyErr::type_error(format!(
            "note must be a str, not '{}'",
            type_name(&note)
        )));
    }
    let existing = i.attrs.lock().get("__notes__").cloned();
    match existing {
        Some(Value::List(l)) => l.items.lock().push(note),
        _ => {
            i.attrs
                .lock()
                .insert("__notes__".into(), Value::list(vec![note]));
        }
    }
    Ok(Value::None)
}

/// Install the exception methods into the built-in exception classes.
pub fn install(t: &Types) {
    let base = t.exception(ExcKind::BaseException);
    let methods: [(&'static str, NativeFn, bool); 6] = [
        ("__new__", exc_new, false),
        ("__init__", exc_init, true),
        ("__str__", exc_str, true),
        ("__repr__", exc_repr, true),
        ("with_traceback", exc_with_traceback, true),
        ("add_note", exc_add_note, true),
    ];
    let mut attrs = base.attrs.lock();
    for (name, f, is_method) in methods {
        attrs.insert(
            name.into(),
            native(name, &format!("BaseException.{name}"), f, is_method),
        );
    }
}
