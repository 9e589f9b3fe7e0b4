//! Tuples: the `tuple` type's methods.

use std::sync::Arc;

use crate::compile::code::CompareKind;
use crate::vm::builtins::{
    arity, base_value, constructor, descriptor_error, method, method_kw, no_kwargs, one_arg,
};
use crate::vm::dict::builtin_instance;
use crate::vm::error::{ExcKind, PyErr, PyResult};
use crate::vm::interp::Vm;
use crate::vm::list::{item_eq, repeat, slice_bounds};
use crate::vm::types::{types, Types};
use crate::vm::value::{Kwargs, PyTuple, Value};

/// The tuple behind a tuple or tuple-subclass instance.
pub fn as_tuple(v: &Value) -> Option<Arc<PyTuple>> {
    match v {
        Value::Tuple(t) => Some(t.clone()),
        Value::Instance(_) => match base_value(v) {
            Value::Tuple(t) => Some(t),
            _ => None,
        },
        _ => None,
    }
}

fn this(args: &[Value], name: &str) -> PyResult<Arc<PyTuple>> {
    match args.first() {
        Some(v) => as_tuple(v).ok_or_else(|| descriptor_error(name, "tuple", v)),
        None => Err(PyErr::type_error(format!(
            "descriptor '{name}' of 'tuple' object needs an argument"
        ))),
    }
}

/// `x in t`.
pub(crate) fn tuple_contains(vm: &mut Vm, t: &PyTuple, x: &Value) -> PyResult<bool> {
    for item in t.items.iter() {
        if item_eq(vm, item, x)? {
            return Ok(true);
        }
    }
    Ok(false)
}

fn tuple_new(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let cls = args.first().cloned().unwrap_or(Value::None);
    let exact = matches!(&cls, Value::Class(c) if Arc::ptr_eq(c, &types().tuple));
    if exact {
        no_kwargs("tuple", kw)?;
    }
    let rest = args.get(1..).unwrap_or(&[]);
    arity("tuple", rest, 0, 1)?;
    let t = match rest.first() {
        Some(v @ Value::Tuple(_)) if exact => return Ok(v.clone()),
        Some(v) => Value::tuple(vm.collect(v)?),
        None => Value::tuple(Vec::new()),
    };
    match &cls {
        Value::Class(c) if !exact => Ok(builtin_instance(c, t)),
        _ => Ok(t),
    }
}

fn noop_init(_vm: &mut Vm, _args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::None)
}

fn index(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let t = this(args, "index")?;
    no_kwargs("tuple.index", kw)?;
    arity("index", &args[1..], 1, 3)?;
    let (start, stop) = slice_bounds(vm, &args[2..], t.items.len())?;
    for i in start..stop {
        if item_eq(vm, &t.items[i], &args[1])? {
            return Ok(Value::Int(i as i64));
        }
    }
    Err(PyErr::value_error("tuple.index(x): x not in tuple"))
}

fn count(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let t = this(args, "count")?;
    no_kwargs("tuple.count", kw)?;
    one_arg("tuple.count", &args[1..])?;
    let mut n = 0;
    for item in t.items.iter() {
        if item_eq(vm, item, &args[1])? {
            n += 1;
        }
    }
    Ok(Value::Int(n))
}

fn len(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let t = this(args, "__len__")?;
    Ok(Value::Int(t.items.len() as i64))
}

fn contains(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let t = this(args, "__contains__")?;
    one_arg("tuple.__contains__", &args[1..])?;
    Ok(Value::Bool(tuple_contains(vm, &t, &args[1])?))
}

fn iter(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let t = this(args, "__iter__")?;
    Ok(crate::vm::iter::tuple_iterator(t))
}

fn getitem(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let t = this(args, "__getitem__")?;
    one_arg("tuple.__getitem__", &args[1..])?;
    vm.get_item(&Value::Tuple(t), &args[1])
}

fn add(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let t = this(args, "__add__")?;
    one_arg("tuple.__add__", &args[1..])?;
    let Some(other) = as_tuple(&args[1]) else {
        return Err(PyErr::type_error(format!(
            "can only concatenate tuple (not \"{}\") to tuple",
            crate::vm::builtins::type_name(&args[1])
        )));
    };
    let mut items = t.items.to_vec();
    items.extend(other.items.iter().cloned());
    Ok(Value::tuple(items))
}

fn mul(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let t = this(args, "__mul__")?;
    one_arg("tuple.__mul__", &args[1..])?;
    let n = match crate::vm::builtins::index_value(vm, &args[1]) {
        Ok(n) => n,
        Err(e) if e.matches(ExcKind::TypeError) => return Ok(types().not_implemented.clone()),
        Err(e) => return Err(e),
    };
    Ok(Value::tuple(repeat(&t.items, n)?))
}

fn hash(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let t = this(args, "__hash__")?;
    Ok(Value::Int(vm.hash(&Value::Tuple(t))?))
}

fn repr(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let t = this(args, "__repr__")?;
    Ok(Value::from_string(vm.repr(&Value::Tuple(t))?))
}

fn compare(vm: &mut Vm, args: &[Value], op: CompareKind) -> PyResult<Value> {
    let t = this(args, "__eq__")?;
    let Some(other) = args.get(1).and_then(as_tuple) else {
        return Ok(types().not_implemented.clone());
    };
    vm.compare(&Value::Tuple(t), &Value::Tuple(other), op)
}

macro_rules! cmps {
    ($($name:ident => $op:expr;)*) => {
        $(fn $name(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
            compare(vm, args, $op)
        })*
    };
}

cmps! {
    eq => CompareKind::Eq;
    ne => CompareKind::Ne;
    lt => CompareKind::Lt;
    le => CompareKind::Le;
    gt => CompareKind::Gt;
    ge => CompareKind::Ge;
}

pub fn install(t: &Types) {
    let c = &t.tuple;
    constructor(c, tuple_new);
    method_kw(c, "__init__", noop_init);
    method(c, "index", index);
    method(c, "count", count);
    method(c, "__len__", len);
    method(c, "__contains__", contains);
    method(c, "__iter__", iter);
    method(c, "__getitem__", getitem);
    method(c, "__add__", add);
    method(c, "__mul__", mul);
    method(c, "__rmul__", mul);
    method(c, "__hash__", hash);
    method(c, "__repr__", repr);
    method(c, "__eq__", eq);
    method(c, "__ne__", ne);
    method(c, "__lt__", lt);
    method(c, "__le__", le);
    method(c, "__gt__", gt);
    method(c, "__ge__", ge);
}
