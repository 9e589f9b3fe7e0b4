//! `bytearray`: a mutable byte string. Its bytes sit behind the object's
//! own lock (as a list's items do), taken for one operation at a time and
//! never while script code runs: arguments are converted (`__index__`,
//! iteration) before the lock is taken. The read-only methods it shares
//! with `bytes` are in `vm::bytes`.

use std::sync::Arc;

use crate::compile::code::BinaryOpKind;
use crate::vm::builtins::{
    arity, base_value, constructor, descriptor_error, index_value, method, method_kw, no_args,
    one_arg, type_name,
};
use crate::vm::bytes::{byte_of, bytes_like, from_source, no_source, Kind};
use crate::vm::error::{ExcKind, PyErr, PyResult};
use crate::vm::interp::Vm;
use crate::vm::ops::{adjust_slice, slice_vec, Key};
use crate::vm::str::{check_size, merge_kwargs};
use crate::vm::types::{types, Types};
use crate::vm::value::{Kwargs, PyByteArray, Value};

/// The `bytearray` receiver of a method (subclass instances included).
fn this(args: &[Value], name: &str) -> PyResult<Arc<PyByteArray>> {
    match args.first().map(base_value) {
        Some(Value::ByteArray(b)) => Ok(b),
        Some(_) => Err(descriptor_error(name, "bytearray", &args[0])),
        None => Err(PyErr::type_error(format!(
            "unbound method bytearray.{name}() needs an argument"
        ))),
    }
}

fn index_error() -> PyErr {
    PyErr::index_error("bytearray index out of range")
}

fn bad_key(key: &Value) -> PyErr {
    PyErr::type_error(format!(
        "bytearray indices must be integers or slices, not {}",
        type_name(key)
    ))
}

/// `i` counted from the end when negative; `None` when out of range.
fn position(i: i64, len: usize) -> Option<usize> {
    let j = if i < 0 { i + len as i64 } else { i };
    (0..len as i64).contains(&j).then_some(j as usize)
}

/// The bytes of an iterable of ints (or a bytes-like object) given to
/// `extend` or a slice assignment.
fn bytes_of_iterable(vm: &mut Vm, v: &Value, not_iterable: PyErr) -> PyResult<Vec<u8>> {
    if let Some(b) = bytes_like(v) {
        return Ok(b.to_vec());
    }
    let it = match vm.iter(v) {
        Ok(it) => it,
        Err(e) if e.matches(ExcKind::TypeError) => return Err(not_iterable),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    while let Some(item) = vm.next(&it)? {
        out.push(byte_of(vm, &item)?);
    }
    Ok(out)
}

/// `del data[x:y:z]`.
fn delete_slice(
    data: &mut Vec<u8>,
    x: Option<i64>,
    y: Option<i64>,
    z: Option<i64>,
) -> PyResult<()> {
    let (start, _, step, len) = adjust_slice(x, y, z, data.len() as i64)?;
    if len <= 0 {
        return Ok(());
    }
    // The same positions walked upwards.
    let (lo, step) = if step > 0 {
        (start, step)
    } else {
        (start + (len - 1) * step, -step)
    };
    let mut k = 0;
    let mut i = 0;
    data.retain(|_| {
        let drop = k < len && i == lo + k * step;
        if drop {
            k += 1;
        }
        i += 1;
        !drop
    });
    Ok(())
}

impl Vm {
    /// `b[key]`.
    pub(crate) fn bytearray_get_item(&mut self, b: &PyByteArray, key: &Value) -> PyResult<Value> {
        match self.key_of(key)? {
            Key::Index(i) => {
                let data = b.data.lock();
                let j = position(i, data.len()).ok_or_else(index_error)?;
                Ok(Value::Int(data[j] as i64))
            }
            Key::Slice(x, y, z) => {
                let data = b.data.lock();
                Ok(Value::bytearray(slice_vec(&data, x, y, z)?))
            }
            Key::Other => Err(bad_key(key)),
        }
    }

    /// `b[key] = value`.
    pub(crate) fn bytearray_set_item(
        &mut self,
        b: &PyByteArray,
        key: &Value,
        value: &Value,
    ) -> PyResult<()> {
        match self.key_of(key)? {
            Key::Index(i) => {
                let v = byte_of(self, value)?;
                let mut data = b.data.lock();
                let j = position(i, data.len()).ok_or_else(index_error)?;
                data[j] = v;
                Ok(())
            }
            Key::Slice(x, y, z) => {
                if z == Some(0) {
                    return Err(PyErr::value_error("slice step cannot be zero"));
                }
                let msg = "can assign only bytes, buffers, or iterables of ints in range(0, 256)";
                let new = match base_value(value) {
                    Value::Str(_) | Value::Int(_) | Value::Bool(_) | Value::BigInt(_) => {
                        return Err(PyErr::type_error(msg))
                    }
                    _ => bytes_of_iterable(self, value, PyErr::type_error(msg))?,
                };
                let mut data = b.data.lock();
                if new.is_empty() {
                    // CPython deletes the slice, extended or not.
                    return delete_slice(&mut data, x, y, z);
                }
                let (start, stop, step, len) = adjust_slice(x, y, z, data.len() as i64)?;
                if step == 1 {
                    let start = start as usize;
                    let stop = (stop.max(start as i64)) as usize;
                    check_size((data.len() - (stop - start) + new.len()) as u128)?;
                    data.splice(start..stop, new);
                    return Ok(());
                }
                if new.len() as i64 != len {
                    return Err(PyErr::value_error(format!(
                        "attempt to assign bytes of size {} to extended slice of size {len}",
                        new.len()
                    )));
                }
                for (k, v) in new.into_iter().enumerate() {
                    data[(start + k as i64 * step) as usize] = v;
                }
                Ok(())
            }
            Key::Other => Err(bad_key(key)),
        }
    }

    /// `del b[key]`.
    pub(crate) fn bytearray_del_item(&mut self, b: &PyByteArray, key: &Value) -> PyResult<()> {
        match self.key_of(key)? {
            Key::Index(i) => {
                let mut data = b.data.lock();
                let j = position(i, data.len()).ok_or_else(index_error)?;
                data.remove(j);
                Ok(())
            }
            Key::Slice(x, y, z) => delete_slice(&mut b.data.lock(), x, y, z),
            Key::Other => Err(bad_key(key)),
        }
    }

    /// `b += other` and `b *= n`, in place; `None` for other operators.
    pub(crate) fn bytearray_inplace(
        &mut self,
        b: &PyByteArray,
        other: &Value,
        op: BinaryOpKind,
    ) -> PyResult<Option<()>> {
        match op {
            BinaryOpKind::Add => {
                let more = bytes_like(other).ok_or_else(|| {
                    PyErr::type_error(format!("can't concat {} to bytearray", type_name(other)))
                })?;
                let mut data = b.data.lock();
                check_size(data.len() as u128 + more.len() as u128)?;
                data.extend_from_slice(&more);
                Ok(Some(()))
            }
            BinaryOpKind::Mul => {
                let n = match base_value(other) {
                    n @ (Value::Int(_) | Value::Bool(_)) => {
                        crate::vm::builtins::index_arg(&n)?.max(0) as u128
                    }
                    Value::BigInt(_) => {
                        return Err(PyErr::overflow_error(
                            "cannot fit 'int' into an index-sized integer",
                        ))
                    }
                    Value::Instance(_) => index_value(self, other)?.max(0) as u128,
                    _ => return Ok(None),
                };
                let mut data = b.data.lock();
                check_size(data.len() as u128 * n)?;
                let one = std::mem::take(&mut *data);
                *data = one.repeat(n as usize);
                Ok(Some(()))
            }
            _ => Ok(None),
        }
    }
}

/// `bytearray.__new__`: an empty bytearray (`__init__` fills it).
fn new(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let b = Value::bytearray(Vec::new());
    match args.first() {
        Some(Value::Class(cls)) if !Arc::ptr_eq(cls, &types().bytearray) => {
            crate::vm::number::wrap_for_class(&args[0], b, &types().bytearray)
        }
        _ => Ok(b),
    }
}

/// `bytearray(source=b'', encoding=None, errors=None)`.
fn init(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let b = this(args, "__init__")?;
    let a = merge_kwargs(
        "bytearray",
        &args[1..],
        kw,
        &["source", "encoding", "errors"],
    )?;
    let data = match &a[0] {
        Some(src) => from_source(vm, src, a[1].as_ref(), a[2].as_ref(), Kind::ByteArray)?,
        None => no_source(a[1].as_ref(), a[2].as_ref())?,
    };
    *b.data.lock() = data;
    Ok(Value::None)
}

fn append(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let b = this(args, "append")?;
    one_arg("bytearray.append", &args[1..])?;
    let v = byte_of(vm, &args[1])?;
    b.data.lock().push(v);
    Ok(Value::None)
}

fn extend(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let b = this(args, "extend")?;
    one_arg("bytearray.extend", &args[1..])?;
    let not_iterable = PyErr::type_error(format!(
        "can't extend bytearray with {}",
        type_name(&args[1])
    ));
    let more = bytes_of_iterable(vm, &args[1], not_iterable)?;
    let mut data = b.data.lock();
    check_size(data.len() as u128 + more.len() as u128)?;
    data.extend_from_slice(&more);
    Ok(Value::None)
}

fn pop(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let b = this(args, "pop")?;
    arity("pop", &args[1..], 0, 1)?;
    let i = match args.get(1) {
        Some(v) => index_value(vm, v)?,
        None => -1,
    };
    let mut data = b.data.lock();
    if data.is_empty() {
        return Err(PyErr::index_error("pop from empty bytearray"));
    }
    let j = position(i, data.len()).ok_or_else(|| PyErr::index_error("pop index out of range"))?;
    Ok(Value::Int(data.remove(j) as i64))
}

fn insert(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let b = this(args, "insert")?;
    arity("insert", &args[1..], 2, 2)?;
    let i = index_value(vm, &args[1])?;
    let v = byte_of(vm, &args[2])?;
    let mut data = b.data.lock();
    let j = crate::vm::list::clamp_index(i, data.len());
    data.insert(j, v);
    Ok(Value::None)
}

fn remove(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let b = this(args, "remove")?;
    one_arg("bytearray.remove", &args[1..])?;
    let v = byte_of(vm, &args[1])?;
    let mut data = b.data.lock();
    let j = data
        .iter()
        .position(|&c| c == v)
        .ok_or_else(|| PyErr::value_error("value not found in bytearray"))?;
    data.remove(j);
    Ok(Value::None)
}

fn clear(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let b = this(args, "clear")?;
    no_args("bytearray.clear", &args[1..])?;
    b.data.lock().clear();
    Ok(Value::None)
}

fn copy(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let b = this(args, "copy")?;
    no_args("bytearray.copy", &args[1..])?;
    let data = b.data.lock().clone();
    Ok(Value::bytearray(data))
}

fn reverse(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let b = this(args, "reverse")?;
    no_args("bytearray.reverse", &args[1..])?;
    b.data.lock().reverse();
    Ok(Value::None)
}

fn setitem(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let b = this(args, "__setitem__")?;
    arity("__setitem__", &args[1..], 2, 2)?;
    vm.bytearray_set_item(&b, &args[1], &args[2])?;
    Ok(Value::None)
}

fn delitem(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let b = this(args, "__delitem__")?;
    one_arg("bytearray.__delitem__", &args[1..])?;
    vm.bytearray_del_item(&b, &args[1])?;
    Ok(Value::None)
}

fn inplace(vm: &mut Vm, args: &[Value], name: &str, op: BinaryOpKind) -> PyResult<Value> {
    let b = this(args, name)?;
    one_arg(&format!("bytearray.{name}"), &args[1..])?;
    match vm.bytearray_inplace(&b, &args[1], op)? {
        Some(()) => Ok(args[0].clone()),
        None => Ok(crate::vm::ops::not_implemented()),
    }
}

fn iadd(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    inplace(vm, args, "__iadd__", BinaryOpKind::Add)
}

fn imul(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    inplace(vm, args, "__imul__", BinaryOpKind::Mul)
}

/// `__reduce_ex__` (what `copy` uses): `(type(b), (bytes(b),), state)`.
fn reduce_ex(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let b = this(args, "__reduce_ex__")?;
    arity("__reduce_ex__", &args[1..], 0, 1)?;
    let data = b.data.lock().clone();
    let state = match &args[0] {
        // A copy of the instance's namespace (`__dict__` is a live view).
        Value::Instance(_) => {
            let d = vm.get_attr(&args[0], "__dict__")?;
            if vm.is_true(&d)? {
                vm.call(&Value::Class(types().dict.clone()), &[d], &[])?
            } else {
                Value::None
            }
        }
        _ => Value::None,
    };
    let cls = Value::Class(types().class_of(&args[0]).clone());
    Ok(Value::tuple(vec![
        cls,
        Value::tuple(vec![Value::Bytes(data.into())]),
        state,
    ]))
}

pub fn install(t: &Types) {
    let c = &t.bytearray;
    constructor(c, new);
    method_kw(c, "__init__", init);
    method(c, "append", append);
    method(c, "extend", extend);
    method(c, "pop", pop);
    method(c, "insert", insert);
    method(c, "remove", remove);
    method(c, "clear", clear);
    method(c, "copy", copy);
    method(c, "reverse", reverse);
    method(c, "__setitem__", setitem);
    method(c, "__delitem__", delitem);
    method(c, "__iadd__", iadd);
    method(c, "__imul__", imul);
    method(c, "__reduce_ex__", reduce_ex);
    // Mutable, so unhashable (CPython sets `__hash__` to None).
    c.attrs.lock().insert("__hash__".into(), Value::None);
}
