//! `types.UnionType`: what `int | str`, `int | None` and `int | list[str]`
//! evaluate to (PEP 604). Annotations are evaluated when a `def` runs, so
//! `def f(x: int | None)` needs it; `isinstance`/`issubclass` accept it like
//! a tuple of its members.

use std::sync::{Arc, OnceLock};

use crate::stdlib::{downcast, native_object, native_property, NativeClass};
use crate::vm::error::{PyErr, PyResult};
use crate::vm::generic_alias::{as_alias, parameters, repr_item, substitute};
use crate::vm::interp::Vm;
use crate::vm::types::types;
use crate::vm::value::{Kwargs, Value};

/// The members of a union: classes (`None` is kept as `NoneType`) and
/// generic aliases, in first-seen order without repeats.
pub struct Union {
    pub args: Vec<Value>,
}

fn union_class() -> &'static NativeClass {
    static CLASS: OnceLock<NativeClass> = OnceLock::new();
    CLASS.get_or_init(|| {
        let c = NativeClass::new(
            "UnionType",
            "types",
            &[
                ("__repr__", u_repr),
                ("__or__", u_or),
                ("__ror__", u_ror),
                ("__eq__", u_eq),
                ("__hash__", u_hash),
                ("__getitem__", u_getitem),
            ],
            &[],
        );
        {
            let mut attrs = c.class.attrs.lock();
            attrs.insert(
                "__args__".into(),
                native_property("__args__", "UnionType.__args__", u_args),
            );
            attrs.insert(
                "__parameters__".into(),
                native_property("__parameters__", "UnionType.__parameters__", u_parameters),
            );
        }
        c
    })
}

/// The union's members when `v` is a union.
pub fn members(v: &Value) -> Option<&[Value]> {
    downcast::<Union>(v).map(|u| u.args.as_slice())
}

/// The members `v` contributes to a union, or `None` when `|` does not make
/// a union of it (CPython accepts classes, `None`, generic aliases and unions).
fn parts(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::Class(_) => Some(vec![v.clone()]),
        Value::None => Some(vec![Value::Class(types().class_of(v).clone())]),
        _ if as_alias(v).is_some() => Some(vec![v.clone()]),
        _ => members(v).map(<[Value]>::to_vec),
    }
}

/// Whether two members are the same: classes by identity, aliases by equality.
fn same_member(vm: &mut Vm, a: &Value, b: &Value) -> PyResult<bool> {
    match (a, b) {
        (Value::Class(x), Value::Class(y)) => Ok(Arc::ptr_eq(x, y)),
        (Value::Class(_), _) | (_, Value::Class(_)) => Ok(false),
        _ => vm.eq(a, b),
    }
}

/// `a | b` for classes, `None`, generic aliases and unions; `None` when
/// either side is something else (the operator then reports its usual
/// TypeError).
pub fn union_of(vm: &mut Vm, a: &Value, b: &Value) -> PyResult<Option<Value>> {
    let (Some(first), Some(more)) = (parts(a), parts(b)) else {
        return Ok(None);
    };
    let mut args: Vec<Value> = Vec::with_capacity(first.len() + more.len());
    for c in first.into_iter().chain(more) {
        let mut seen = false;
        for x in &args {
            if same_member(vm, x, &c)? {
                seen = true;
                break;
            }
        }
        if !seen {
            args.push(c);
        }
    }
    if args.len() == 1 {
        return Ok(args.pop());
    }
    Ok(Some(native_object(&union_class().class, Union { args })))
}

fn this(args: &[Value]) -> PyResult<&Union> {
    args.first()
        .and_then(downcast::<Union>)
        .ok_or_else(|| PyErr::type_error("descriptor requires a 'types.UnionType' object"))
}

fn u_repr(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let members = this(args)?.args.clone();
    let none = types().class_of(&Value::None).clone();
    let mut names = Vec::with_capacity(members.len());
    for m in &members {
        names.push(match m {
            Value::Class(c) if Arc::ptr_eq(c, &none) => "None".to_string(),
            _ => repr_item(vm, m)?,
        });
    }
    Ok(Value::from_string(names.join(" | ")))
}

fn u_args(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::tuple(this(args)?.args.clone()))
}

fn u_parameters(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let members = this(args)?.args.clone();
    Ok(Value::tuple(parameters(vm, &members)?))
}

/// `a.__or__(b)` (or `b.__ror__(a)` when `reflected`) of a union or alias.
pub(crate) fn binary(vm: &mut Vm, args: &[Value], reflected: bool) -> PyResult<Value> {
    let (Some(a), Some(b)) = (args.first(), args.get(1)) else {
        return Err(PyErr::type_error("expected 1 argument"));
    };
    let r = if reflected {
        union_of(vm, b, a)?
    } else {
        union_of(vm, a, b)?
    };
    Ok(r.unwrap_or_else(|| types().not_implemented.clone()))
}

fn u_or(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    binary(vm, args, false)
}

fn u_ror(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    binary(vm, args, true)
}

/// Equal when both hold the same members, in any order.
fn u_eq(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let mine = this(args)?.args.clone();
    let Some(other) = args.get(1).and_then(members).map(<[Value]>::to_vec) else {
        return Ok(types().not_implemented.clone());
    };
    for (xs, ys) in [(&mine, &other), (&other, &mine)] {
        for x in xs.iter() {
            let mut found = false;
            for y in ys.iter() {
                if same_member(vm, x, y)? {
                    found = true;
                    break;
                }
            }
            if !found {
                return Ok(Value::Bool(false));
            }
        }
    }
    Ok(Value::Bool(true))
}

/// Order-independent, like CPython's hash of the frozenset of the members.
fn u_hash(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let members = this(args)?.args.clone();
    let mut h = 0u64;
    for m in &members {
        let x = match m {
            Value::Class(c) => Arc::as_ptr(c) as u64,
            _ => vm.hash(m)? as u64,
        };
        h ^= x.rotate_right(4);
    }
    Ok(Value::Int((h >> 1) as i64))
}

/// `(int | list[T])[str]`: the union with its type variables replaced.
fn u_getitem(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let members = this(args)?.args.clone();
    let key = args.get(1).cloned().unwrap_or(Value::None);
    let out = substitute(vm, &args[0], &members, &key)?;
    let mut acc = match out.first() {
        Some(v) => v.clone(),
        None => return Ok(args[0].clone()),
    };
    for v in &out[1..] {
        acc = vm.binary_op(&acc, v, crate::compile::code::BinaryOpKind::Or)?;
    }
    Ok(acc)
}
