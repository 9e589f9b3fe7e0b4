//! `types.UnionType`: what `int | str` and `int | None` evaluate to (PEP 604).
//! Annotations are evaluated when a `def` runs, so `def f(x: int | None)` needs
//! it; `isinstance`/`issubclass` accept it like a tuple of classes.

use std::sync::{Arc, OnceLock};

use crate::stdlib::{downcast, native_object, NativeClass};
use crate::vm::error::{PyErr, PyResult};
use crate::vm::interp::Vm;
use crate::vm::types::types;
use crate::vm::value::{Class, Kwargs, Value};

/// The members of a union, classes only (`None` is kept as `NoneType`), in
/// first-seen order without repeats.
pub struct Union {
    pub args: Vec<Arc<Class>>,
}

fn union_class() -> &'static NativeClass {
    static CLASS: OnceLock<NativeClass> = OnceLock::new();
    CLASS.get_or_init(|| {
        NativeClass::new(
            "UnionType",
            "types",
            &[
                ("__repr__", u_repr),
                ("__or__", u_or),
                ("__ror__", u_ror),
                ("__eq__", u_eq),
                ("__hash__", u_hash),
            ],
            &[],
        )
    })
}

/// The union's members when `v` is a union.
pub fn members(v: &Value) -> Option<&[Arc<Class>]> {
    downcast::<Union>(v).map(|u| u.args.as_slice())
}

/// The classes `v` contributes to a union, or `None` when `|` does not make
/// a union of it (CPython accepts classes, `None` and unions).
fn parts(v: &Value) -> Option<Vec<Arc<Class>>> {
    match v {
        Value::Class(c) => Some(vec![c.clone()]),
        Value::None => Some(vec![types().class_of(v).clone()]),
        _ => members(v).map(<[Arc<Class>]>::to_vec),
    }
}

/// `a | b` for classes, `None` and unions; `None` when either side is
/// something else (the operator then reports its usual TypeError).
pub fn union_of(a: &Value, b: &Value) -> Option<Value> {
    let (mut args, more) = (parts(a)?, parts(b)?);
    for c in more {
        if !args.iter().any(|x| Arc::ptr_eq(x, &c)) {
            args.push(c);
        }
    }
    if args.len() == 1 {
        return Some(Value::Class(args.remove(0)));
    }
    Some(native_object(&union_class().class, Union { args }))
}

fn this(args: &[Value]) -> PyResult<&Union> {
    args.first()
        .and_then(downcast::<Union>)
        .ok_or_else(|| PyErr::type_error("descriptor requires a 'types.UnionType' object"))
}

fn u_repr(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let u = this(args)?;
    let none = types().class_of(&Value::None).clone();
    let names: Vec<String> = u
        .args
        .iter()
        .map(|c| {
            if Arc::ptr_eq(c, &none) {
                "None".to_string()
            } else {
                crate::vm::ops::class_path(c)
            }
        })
        .collect();
    Ok(Value::from_string(names.join(" | ")))
}

fn binary(args: &[Value], reflected: bool) -> PyResult<Value> {
    let (Some(a), Some(b)) = (args.first(), args.get(1)) else {
        return Err(PyErr::type_error("expected 1 argument"));
    };
    let r = if reflected {
        union_of(b, a)
    } else {
        union_of(a, b)
    };
    Ok(r.unwrap_or_else(|| types().not_implemented.clone()))
}

fn u_or(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    binary(args, false)
}

fn u_ror(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    binary(args, true)
}

/// Equal when both hold the same classes, in any order.
fn u_eq(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let u = this(args)?;
    let Some(other) = args.get(1).and_then(members) else {
        return Ok(types().not_implemented.clone());
    };
    let same = u.args.len() == other.len()
        && u.args
            .iter()
            .all(|c| other.iter().any(|d| Arc::ptr_eq(c, d)));
    Ok(Value::Bool(same))
}

/// Order-independent, like CPython's hash of the frozenset of the members.
fn u_hash(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let u = this(args)?;
    let h = u
        .args
        .iter()
        .fold(0u64, |h, c| h ^ (Arc::as_ptr(c) as u64).rotate_right(4));
    Ok(Value::Int((h >> 1) as i64))
}
