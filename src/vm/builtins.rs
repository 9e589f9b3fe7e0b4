//! The `builtins` module and the installation of built-in types' methods.

use std::sync::Arc;

use crate::vm::error::{ExcKind, PyErr, PyResult};
use crate::vm::types::{types, Types};
use crate::vm::value::{Class, InstanceBase, Kwargs, NativeFn, NativeFunction, Value};

/// Put every built-in type's native methods into its class namespace.
pub fn install_methods(types: &Types) {
    crate::vm::list::install(types);
    crate::vm::tuple::install(types);
    crate::vm::dict::install(types);
    crate::vm::set::install(types);
    crate::vm::iter::install(types);
}

// ---- helpers shared by the container files ----

/// A native function value.
pub(crate) fn native(name: &'static str, qualname: &str, func: NativeFn, is_method: bool) -> Value {
    Value::Native(Arc::new(NativeFunction {
        name,
        qualname: qualname.into(),
        func,
        is_method,
    }))
}

/// Install a native method `class.name`.
pub(crate) fn method(class: &Arc<Class>, name: &'static str, func: NativeFn) {
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

/// Install a class method (`dict.fromkeys`).
pub(crate) fn class_method(class: &Arc<Class>, name: &'static str, func: NativeFn) {
    let qualname = format!("{}.{}", class.name, name);
    let f = native(name, &qualname, func, false);
    let wrapped = Value::Object(Arc::new(crate::vm::value::Object {
        class: types().classmethod.clone(),
        kind: crate::vm::value::ObjKind::ClassMethod(f),
    }));
    class.attrs.lock().insert(name.into(), wrapped);
}

/// `type(v).__name__`.
pub(crate) fn type_name(v: &Value) -> Arc<str> {
    types().class_of(v).name.clone()
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
        format!("{name} expected at least {min} argument{}, got {n}", plural(min))
    } else {
        format!("{name} expected at most {max} argument{}, got {n}", plural(max))
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

/// Temporary stand-ins for the VM-core and protocol functions that are
/// being written in other files: inherent `impl Vm` methods of the same
/// name take precedence over these trait methods, so each one goes out of
/// use by itself as soon as the real one lands.
pub(crate) mod pending {
    use std::sync::Arc;

    use crate::compile::code::{BinaryOpKind, CompareKind, UnaryOpKind};
    use crate::vm::error::{PyErr, PyResult};
    use crate::vm::interp::{Interp, Vm};
    use crate::vm::value::{Kwargs, Object, PyDict, Value};

    fn missing(what: &str) -> PyErr {
        PyErr::runtime_error(format!("{what} not implemented"))
    }

    #[allow(dead_code)]
    pub trait Pending {
        fn call(&mut self, f: &Value, args: &[Value], kwargs: Kwargs) -> PyResult<Value>;
        fn call_method(&mut self, obj: &Value, name: &str, args: &[Value]) -> PyResult<Value>;
        fn resume_generator(&mut self, gen: &Arc<Object>, sent: Value) -> PyResult<Option<Value>>;
        fn enter_recursion(&mut self) -> PyResult<()>;
        fn leave_recursion(&mut self);
        fn allow_threads<R>(&mut self, f: impl FnOnce() -> R) -> R;
        fn current_globals(&self) -> Arc<PyDict>;
        fn eq(&mut self, a: &Value, b: &Value) -> PyResult<bool>;
        fn lt(&mut self, a: &Value, b: &Value) -> PyResult<bool>;
        fn hash(&mut self, v: &Value) -> PyResult<i64>;
        fn repr(&mut self, v: &Value) -> PyResult<String>;
        fn to_str(&mut self, v: &Value) -> PyResult<String>;
        fn is_true(&mut self, v: &Value) -> PyResult<bool>;
        fn compare(&mut self, a: &Value, b: &Value, op: CompareKind) -> PyResult<Value>;
        fn binary_op(&mut self, a: &Value, b: &Value, op: BinaryOpKind) -> PyResult<Value>;
        fn unary_op(&mut self, a: &Value, op: UnaryOpKind) -> PyResult<Value>;
        fn get_attr(&mut self, obj: &Value, name: &str) -> PyResult<Value>;
        fn get_attr_opt(&mut self, obj: &Value, name: &str) -> PyResult<Option<Value>>;
        fn set_attr(&mut self, obj: &Value, name: &str, value: Value) -> PyResult<()>;
        fn del_attr(&mut self, obj: &Value, name: &str) -> PyResult<()>;
        fn get_item(&mut self, obj: &Value, key: &Value) -> PyResult<Value>;
        fn set_item(&mut self, obj: &Value, key: &Value, value: Value) -> PyResult<()>;
        fn contains(&mut self, container: &Value, item: &Value) -> PyResult<bool>;
        fn isinstance(&mut self, v: &Value, cls: &Value) -> PyResult<bool>;
        fn format(&mut self, v: &Value, spec: &str) -> PyResult<String>;
    }

    impl Pending for Vm {
        fn call(&mut self, f: &Value, args: &[Value], kwargs: Kwargs) -> PyResult<Value> {
            match f {
                Value::Native(n) => (n.func)(self, args, kwargs),
                Value::BoundMethod(b) => {
                    let mut all = Vec::with_capacity(args.len() + 1);
                    all.push(b.receiver.clone());
                    all.extend_from_slice(args);
                    Pending::call(self, &b.func, &all, kwargs)
                }
                _ => Err(missing("Vm::call")),
            }
        }
        fn call_method(&mut self, _obj: &Value, _name: &str, _args: &[Value]) -> PyResult<Value> {
            Err(missing("Vm::call_method"))
        }
        fn resume_generator(&mut self, _g: &Arc<Object>, _sent: Value) -> PyResult<Option<Value>> {
            Err(missing("generators"))
        }
        fn enter_recursion(&mut self) -> PyResult<()> {
            Ok(())
        }
        fn leave_recursion(&mut self) {}
        fn allow_threads<R>(&mut self, f: impl FnOnce() -> R) -> R {
            f()
        }
        fn current_globals(&self) -> Arc<PyDict> {
            Arc::new(PyDict::new())
        }
        fn eq(&mut self, a: &Value, b: &Value) -> PyResult<bool> {
            Ok(crate::vm::dict::native_eq(a, b).unwrap_or_else(|| a.is(b)))
        }
        fn lt(&mut self, a: &Value, b: &Value) -> PyResult<bool> {
            match (a, b) {
                (Value::Int(x), Value::Int(y)) => Ok(x < y),
                (Value::Float(x), Value::Float(y)) => Ok(x < y),
                (Value::Str(x), Value::Str(y)) => Ok(x.as_str() < y.as_str()),
                _ => Err(missing("Vm::lt")),
            }
        }
        fn hash(&mut self, v: &Value) -> PyResult<i64> {
            match v {
                Value::Int(i) => Ok(crate::vm::dict::int_hash(*i)),
                Value::Bool(b) => Ok(*b as i64),
                Value::Str(s) => Ok(s.hash()),
                Value::None => Ok(0x12345),
                _ => Err(missing("Vm::hash")),
            }
        }
        fn repr(&mut self, v: &Value) -> PyResult<String> {
            match v {
                Value::Str(s) => Ok(format!("'{}'", s.as_str())),
                _ => Ok(format!("{v:?}")),
            }
        }
        fn to_str(&mut self, v: &Value) -> PyResult<String> {
            match v {
                Value::Str(s) => Ok(s.as_str().to_string()),
                _ => Pending::repr(self, v),
            }
        }
        fn is_true(&mut self, v: &Value) -> PyResult<bool> {
            Ok(match v {
                Value::None | Value::Null => false,
                Value::Bool(b) => *b,
                Value::Int(i) => *i != 0,
                Value::Float(f) => *f != 0.0,
                Value::Str(s) => !s.as_str().is_empty(),
                Value::List(l) => !l.items.lock().is_empty(),
                Value::Tuple(t) => !t.items.is_empty(),
                _ => true,
            })
        }
        fn compare(&mut self, _a: &Value, _b: &Value, _op: CompareKind) -> PyResult<Value> {
            Err(missing("Vm::compare"))
        }
        fn binary_op(&mut self, _a: &Value, _b: &Value, _op: BinaryOpKind) -> PyResult<Value> {
            Err(missing("Vm::binary_op"))
        }
        fn unary_op(&mut self, _a: &Value, _op: UnaryOpKind) -> PyResult<Value> {
            Err(missing("Vm::unary_op"))
        }
        fn get_attr(&mut self, _obj: &Value, _name: &str) -> PyResult<Value> {
            Err(missing("Vm::get_attr"))
        }
        fn get_attr_opt(&mut self, _obj: &Value, _name: &str) -> PyResult<Option<Value>> {
            Err(missing("Vm::get_attr_opt"))
        }
        fn set_attr(&mut self, _obj: &Value, _name: &str, _value: Value) -> PyResult<()> {
            Err(missing("Vm::set_attr"))
        }
        fn del_attr(&mut self, _obj: &Value, _name: &str) -> PyResult<()> {
            Err(missing("Vm::del_attr"))
        }
        fn get_item(&mut self, _obj: &Value, _key: &Value) -> PyResult<Value> {
            Err(missing("Vm::get_item"))
        }
        fn set_item(&mut self, _obj: &Value, _key: &Value, _value: Value) -> PyResult<()> {
            Err(missing("Vm::set_item"))
        }
        fn contains(&mut self, _c: &Value, _item: &Value) -> PyResult<bool> {
            Err(missing("Vm::contains"))
        }
        fn isinstance(&mut self, _v: &Value, _cls: &Value) -> PyResult<bool> {
            Err(missing("Vm::isinstance"))
        }
        fn format(&mut self, _v: &Value, _spec: &str) -> PyResult<String> {
            Err(missing("Vm::format"))
        }
    }

    #[allow(dead_code)]
    pub trait InterpPending {
        fn write_stdout(&self, s: &str);
        fn write_stderr(&self, s: &str);
        fn flush_stdout(&self);
    }

    impl InterpPending for Interp {
        fn write_stdout(&self, s: &str) {
            use std::io::Write;
            let _ = std::io::stdout().lock().write_all(s.as_bytes());
        }
        fn write_stderr(&self, s: &str) {
            use std::io::Write;
            let _ = std::io::stderr().lock().write_all(s.as_bytes());
        }
        fn flush_stdout(&self) {
            use std::io::Write;
            let _ = std::io::stdout().flush();
        }
    }
}
