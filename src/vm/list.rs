//! Lists: the `list` type's methods, `list.sort` (stable, calling back into
//! script code outside the list lock) and helpers the VM uses for building
//! and extending lists.

use crate::vm::brc::Brc;
use std::cmp::Ordering;
use std::sync::Arc;

use crate::compile::code::CompareKind;
use crate::vm::builtins::{
    arity, base_value, constructor, descriptor_error, method, method_fast, method_kw, no_args,
    no_kwargs, one_arg,
};
use crate::vm::dict::{builtin_instance, native_eq};
use crate::vm::error::{ExcKind, PyErr, PyResult};
use crate::vm::interp::Vm;
use crate::vm::types::{types, Types};
use crate::vm::value::{Kwargs, PyList, Value};

/// The most items one sequence may hold (`[0] * n` beyond this is a MemoryError,
/// not an allocation abort).
pub const MAX_ITEMS: usize = 1 << 28;

pub fn memory_error() -> PyErr {
    PyErr::with_args(ExcKind::MemoryError, vec![])
}

/// `items * n` for lists and tuples, with the size checked first.
pub fn repeat(items: &[Value], n: i64) -> PyResult<Vec<Value>> {
    if n <= 0 || items.is_empty() {
        return Ok(Vec::new());
    }
    let total = (items.len() as u128) * (n as u128);
    if total > MAX_ITEMS as u128 {
        return Err(memory_error());
    }
    let mut out = Vec::new();
    out.try_reserve_exact(total as usize)
        .map_err(|_| memory_error())?;
    for _ in 0..n {
        out.extend_from_slice(items);
    }
    Ok(out)
}

/// `a == b` as containers compare their items: identity first.
pub(crate) fn item_eq(vm: &mut Vm, item: &Value, x: &Value) -> PyResult<bool> {
    if item.is(x) {
        return Ok(true);
    }
    if let Some(b) = native_eq(item, x) {
        return Ok(b);
    }
    vm.eq(item, x)
}

/// `a < b` for built-in values that compare without script code; `None`
/// when the VM must decide (or raise).
pub fn native_lt(a: &Value, b: &Value) -> Option<bool> {
    native_lt_depth(a, b, 0)
}

fn native_lt_depth(a: &Value, b: &Value, depth: u32) -> Option<bool> {
    use Value::*;
    if depth > crate::vm::dict::NATIVE_DEPTH {
        return Option::None;
    }
    Some(match (a, b) {
        (Int(x), Int(y)) => x < y,
        (Float(x), Float(y)) => x < y,
        (Str(x), Str(y)) => x.as_str() < y.as_str(),
        (Bool(x), Bool(y)) => x < y,
        (Int(x), Bool(y)) => *x < *y as i64,
        (Bool(x), Int(y)) => (*x as i64) < *y,
        (Int(i), Float(f)) => int_lt_float(*i, *f),
        (Float(f), Int(i)) => float_lt_int(*f, *i),
        (BigInt(x), BigInt(y)) => x < y,
        (BigInt(x), Int(y)) => **x < num_bigint::BigInt::from(*y),
        (Int(x), BigInt(y)) => num_bigint::BigInt::from(*x) < **y,
        (Bytes(x), Bytes(y)) => x < y,
        (Tuple(x), Tuple(y)) => {
            for (p, q) in x.items.iter().zip(y.items.iter()) {
                if !native_eq(p, q)? {
                    return native_lt_depth(p, q, depth + 1);
                }
            }
            x.items.len() < y.items.len()
        }
        _ => return Option::None,
    })
}

fn int_lt_float(i: i64, f: f64) -> bool {
    if f.is_nan() {
        return false;
    }
    let r = i as f64;
    match r.partial_cmp(&f) {
        Some(Ordering::Less) => true,
        Some(Ordering::Greater) => false,
        // r == f: f is integral here; compare exactly.
        _ => (i as i128) < (f as i128),
    }
}

fn float_lt_int(f: f64, i: i64) -> bool {
    if f.is_nan() {
        return false;
    }
    let r = i as f64;
    match f.partial_cmp(&r) {
        Some(Ordering::Less) => true,
        Some(Ordering::Greater) => false,
        _ => (f as i128) < (i as i128),
    }
}

/// `a < b` for sorting: natively when possible, else `Vm::lt`.
pub(crate) fn sort_lt(vm: &mut Vm, a: &Value, b: &Value) -> PyResult<bool> {
    match native_lt(a, b) {
        Some(r) => Ok(r),
        None => vm.lt(a, b),
    }
}

/// A stable merge sort with a fallible `lt` (script `__lt__` may raise).
/// Never panics whatever `lt` answers.
pub fn merge_sort<T: Clone, E>(
    v: &mut [T],
    lt: &mut impl FnMut(&T, &T) -> Result<bool, E>,
) -> Result<(), E> {
    const RUN: usize = 16;
    let n = v.len();
    if n < 2 {
        return Ok(());
    }
    let mut start = 0;
    while start < n {
        let end = (start + RUN).min(n);
        binary_insertion(&mut v[start..end], lt)?;
        start = end;
    }
    let mut buf: Vec<T> = Vec::with_capacity(n / 2 + 1);
    let mut width = RUN;
    while width < n {
        let mut lo = 0;
        while lo < n {
            let mid = (lo + width).min(n);
            let hi = (lo + 2 * width).min(n);
            if mid < hi {
                merge(&mut v[lo..hi], mid - lo, &mut buf, lt)?;
            }
            lo = hi;
        }
        width *= 2;
    }
    Ok(())
}

fn binary_insertion<T: Clone, E>(
    v: &mut [T],
    lt: &mut impl FnMut(&T, &T) -> Result<bool, E>,
) -> Result<(), E> {
    for i in 1..v.len() {
        let pivot = v[i].clone();
        // CPython's binarysort: the insertion point is after equal items.
        let (mut l, mut r) = (0, i);
        while l < r {
            let p = l + (r - l) / 2;
            if lt(&pivot, &v[p])? {
                r = p;
            } else {
                l = p + 1;
            }
        }
        v[l..=i].rotate_right(1);
    }
    Ok(())
}

fn merge<T: Clone, E>(
    v: &mut [T],
    mid: usize,
    buf: &mut Vec<T>,
    lt: &mut impl FnMut(&T, &T) -> Result<bool, E>,
) -> Result<(), E> {
    // Already in order: one comparison.
    if !lt(&v[mid], &v[mid - 1])? {
        return Ok(());
    }
    buf.clear();
    buf.extend_from_slice(&v[..mid]);
    let (mut i, mut j, mut k) = (0, mid, 0);
    while i < buf.len() && j < v.len() {
        if lt(&v[j], &buf[i])? {
            v[k] = v[j].clone();
            j += 1;
        } else {
            v[k] = buf[i].clone();
            i += 1;
        }
        k += 1;
    }
    while i < buf.len() {
        v[k] = buf[i].clone();
        i += 1;
        k += 1;
    }
    Ok(())
}

/// Sort `items` as `list.sort(key=key, reverse=reverse)` does: keys computed
/// once, in order; a stable sort; `reverse` keeps equal items in order.
/// On error `items` is left as it was.
pub fn sort_values(
    vm: &mut Vm,
    items: &mut Vec<Value>,
    key: Option<&Value>,
    reverse: bool,
) -> PyResult<()> {
    if items.len() < 2 {
        if let (Some(k), Some(x)) = (key, items.first()) {
            vm.call(k, std::slice::from_ref(x), &[])?;
        }
        return Ok(());
    }
    let keys: Vec<Value> = match key {
        Some(k) => {
            let mut ks = Vec::with_capacity(items.len());
            for x in items.iter() {
                ks.push(vm.call(k, std::slice::from_ref(x), &[])?);
            }
            ks
        }
        None => Vec::new(),
    };
    let keys: &[Value] = if key.is_some() { &keys } else { items };

    // All ints: the standard library's stable sort on the numbers.
    if keys.iter().all(|k| matches!(k, Value::Int(_))) {
        let ints: Vec<i64> = keys
            .iter()
            .map(|k| if let Value::Int(i) = k { *i } else { 0 })
            .collect();
        let mut perm: Vec<usize> = (0..items.len()).collect();
        if reverse {
            perm.sort_by(|&a, &b| ints[b].cmp(&ints[a]));
        } else {
            perm.sort_by_key(|&a| ints[a]);
        }
        apply_permutation(items, &perm);
        return Ok(());
    }

    // CPython reverses, sorts stably, and reverses again.
    let n = items.len();
    let mut perm: Vec<usize> = if reverse {
        (0..n).rev().collect()
    } else {
        (0..n).collect()
    };
    merge_sort(&mut perm, &mut |&a, &b| sort_lt(vm, &keys[a], &keys[b]))?;
    if reverse {
        perm.reverse();
    }
    apply_permutation(items, &perm);
    Ok(())
}

fn apply_permutation(items: &mut Vec<Value>, perm: &[usize]) {
    let sorted: Vec<Value> = perm.iter().map(|&i| items[i].clone()).collect();
    *items = sorted;
}

/// The list behind a list or list-subclass instance.
pub fn as_list(v: &Value) -> Option<Brc<PyList>> {
    match v {
        Value::List(l) => Some(l.clone()),
        Value::Instance(_) => match base_value(v) {
            Value::List(l) => Some(l),
            _ => None,
        },
        _ => None,
    }
}

impl Vm {
    /// `l.extend(iterable)` (also `[*a, *b]` and `l += iterable`).
    pub fn list_extend(&mut self, l: &PyList, iterable: &Value) -> PyResult<()> {
        let new: Vec<Value> = match iterable {
            Value::List(src) => src.items.lock().clone(),
            Value::Tuple(t) => t.items.to_vec(),
            _ => self.collect(iterable)?,
        };
        let mut items = l.items.lock();
        if items.len() + new.len() > MAX_ITEMS {
            return Err(memory_error());
        }
        items.extend(new);
        Ok(())
    }

    /// `list.sort` on a list: items are taken out for the sort (the list
    /// looks empty meanwhile, as in CPython) so no lock is held while key
    /// functions and `__lt__` run.
    pub fn list_sort(&mut self, l: &PyList, key: Option<&Value>, reverse: bool) -> PyResult<()> {
        let mut items = std::mem::take(&mut *l.items.lock());
        let saved = items.clone();
        let result = sort_values(self, &mut items, key, reverse);
        let mut guard = l.items.lock();
        let modified = !guard.is_empty();
        let displaced = std::mem::replace(&mut *guard, if result.is_ok() { items } else { saved });
        drop(guard);
        drop(displaced);
        result?;
        if modified {
            return Err(PyErr::value_error("list modified during sort"));
        }
        Ok(())
    }
}

// ---- the list type's methods ----

fn this(args: &[Value], name: &str) -> PyResult<Brc<PyList>> {
    match args.first() {
        Some(v) => as_list(v).ok_or_else(|| descriptor_error(name, "list", v)),
        None => Err(PyErr::type_error(format!(
            "descriptor '{name}' of 'list' object needs an argument"
        ))),
    }
}

/// A (possibly negative) index argument clamped into `0..=len` like a slice bound.
pub(crate) fn clamp_index(i: i64, len: usize) -> usize {
    let len = len as i64;
    let j = if i < 0 { (i + len).max(0) } else { i.min(len) };
    j as usize
}

/// Start/stop arguments of `index()`.
pub(crate) fn slice_bounds(vm: &mut Vm, args: &[Value], len: usize) -> PyResult<(usize, usize)> {
    let start = match args.first() {
        Some(v) => clamp_index(slice_index(vm, v)?, len),
        None => 0,
    };
    let stop = match args.get(1) {
        Some(v) => clamp_index(slice_index(vm, v)?, len),
        None => len,
    };
    Ok((start, stop))
}

/// A start/stop argument of `index()` (CPython's `_PyEval_SliceIndexNotNone`):
/// ints beyond a Py_ssize_t clamp instead of overflowing.
fn slice_index(vm: &mut Vm, v: &Value) -> PyResult<i64> {
    if let Some(i) = crate::vm::number::int_ref(&base_value(v)) {
        return Ok(i
            .to_i64()
            .unwrap_or(if i.is_negative() { i64::MIN } else { i64::MAX }));
    }
    if vm.lookup_special(v, "__index__").is_some() {
        return crate::vm::builtins::index_value(vm, v);
    }
    Err(PyErr::type_error(
        "slice indices must be integers or have an __index__ method",
    ))
}

fn list_new(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let l = Value::list(Vec::new());
    match args.first() {
        Some(Value::Class(cls)) if !Arc::ptr_eq(cls, &types().list) => Ok(builtin_instance(cls, l)),
        _ => Ok(l),
    }
}

fn list_init(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let l = this(args, "__init__")?;
    no_kwargs("list", kw)?;
    arity("list", &args[1..], 0, 1)?;
    let old = std::mem::take(&mut *l.items.lock());
    drop(old);
    if let Some(it) = args.get(1) {
        vm.list_extend(&l, it)?;
    }
    Ok(Value::None)
}

/// `xs.append(v)` on a plain list: `v` moves in (see `FastFn`).
fn append_fast(args: &mut [Value]) -> Option<Value> {
    let [Value::List(l), v] = args else {
        return None;
    };
    let mut items = l.items.lock();
    if items.len() >= MAX_ITEMS {
        return None;
    }
    items.push(std::mem::replace(v, Value::Null));
    Some(Value::None)
}

fn append(_vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let l = this(args, "append")?;
    no_kwargs("list.append", kw)?;
    one_arg("list.append", &args[1..])?;
    let mut items = l.items.lock();
    if items.len() >= MAX_ITEMS {
        return Err(memory_error());
    }
    items.push(args[1].clone());
    Ok(Value::None)
}

fn extend(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let l = this(args, "extend")?;
    no_kwargs("list.extend", kw)?;
    one_arg("list.extend", &args[1..])?;
    vm.list_extend(&l, &args[1])?;
    Ok(Value::None)
}

fn insert(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let l = this(args, "insert")?;
    no_kwargs("list.insert", kw)?;
    arity("insert", &args[1..], 2, 2)?;
    let i = crate::vm::builtins::index_value(vm, &args[1])?;
    let mut items = l.items.lock();
    let at = clamp_index(i, items.len());
    items.insert(at, args[2].clone());
    Ok(Value::None)
}

fn remove(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let l = this(args, "remove")?;
    no_kwargs("list.remove", kw)?;
    one_arg("list.remove", &args[1..])?;
    let x = &args[1];
    let mut i = 0;
    loop {
        let item = match l.items.lock().get(i) {
            Some(v) => v.clone(),
            None => return Err(PyErr::value_error("list.remove(x): x not in list")),
        };
        if item_eq(vm, &item, x)? {
            let mut items = l.items.lock();
            // Remove the item we compared, wherever concurrent changes moved it.
            if i < items.len() && items[i].is(&item) {
                let old = items.remove(i);
                drop(items);
                drop(old);
            } else if let Some(pos) = items.iter().position(|v| v.is(&item)) {
                let old = items.remove(pos);
                drop(items);
                drop(old);
            }
            return Ok(Value::None);
        }
        i += 1;
    }
}

fn pop(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let l = this(args, "pop")?;
    no_kwargs("list.pop", kw)?;
    arity("pop", &args[1..], 0, 1)?;
    let i = match args.get(1) {
        Some(v) => crate::vm::builtins::index_value(vm, v)?,
        None => -1,
    };
    let mut items = l.items.lock();
    if items.is_empty() {
        return Err(PyErr::index_error("pop from empty list"));
    }
    let len = items.len() as i64;
    let j = if i < 0 { i + len } else { i };
    if j < 0 || j >= len {
        return Err(PyErr::index_error("pop index out of range"));
    }
    Ok(items.remove(j as usize))
}

fn clear(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let l = this(args, "clear")?;
    no_args("list.clear", &args[1..])?;
    let mut old = std::mem::take(&mut *l.items.lock());
    // Last first, as CPython (visible through `__del__`).
    while let Some(v) = old.pop() {
        drop(v);
    }
    Ok(Value::None)
}

fn index(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let l = this(args, "index")?;
    no_kwargs("list.index", kw)?;
    arity("index", &args[1..], 1, 3)?;
    let x = &args[1];
    let len = l.items.lock().len();
    let (start, stop) = slice_bounds(vm, &args[2..], len)?;
    let mut i = start;
    while i < stop {
        let item = match l.items.lock().get(i) {
            Some(v) => v.clone(),
            None => break,
        };
        if item_eq(vm, &item, x)? {
            return Ok(Value::Int(i as i64));
        }
        i += 1;
    }
    let r = vm.repr(x)?;
    Err(PyErr::value_error(format!("{r} is not in list")))
}

fn count(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let l = this(args, "count")?;
    no_kwargs("list.count", kw)?;
    one_arg("list.count", &args[1..])?;
    let mut n = 0;
    let mut i = 0;
    loop {
        let item = match l.items.lock().get(i) {
            Some(v) => v.clone(),
            None => break,
        };
        if item_eq(vm, &item, &args[1])? {
            n += 1;
        }
        i += 1;
    }
    Ok(Value::Int(n))
}

fn sort(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let l = this(args, "sort")?;
    if args.len() + kw.len() > 3 {
        // Argument Clinic names the parameters' kind when every argument
        // given was a keyword.
        let kind = if args.len() == 1 { "keyword " } else { "" };
        return Err(PyErr::type_error(format!(
            "sort() takes at most 2 {kind}arguments ({} given)",
            args.len() - 1 + kw.len()
        )));
    }
    if args.len() > 1 {
        return Err(PyErr::type_error("sort() takes no positional arguments"));
    }
    let mut key = None;
    let mut reverse = false;
    for (name, v) in kw {
        match &**name {
            "key" => {
                if !v.is_none() {
                    key = Some(v.clone());
                }
            }
            "reverse" => reverse = vm.is_true(v)?,
            other => {
                return Err(PyErr::type_error(format!(
                    "'{other}' is an invalid keyword argument for sort()"
                )))
            }
        }
    }
    vm.list_sort(&l, key.as_ref(), reverse)?;
    Ok(Value::None)
}

fn reverse(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let l = this(args, "reverse")?;
    no_args("list.reverse", &args[1..])?;
    l.items.lock().reverse();
    Ok(Value::None)
}

fn copy(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let l = this(args, "copy")?;
    no_args("list.copy", &args[1..])?;
    let items = l.items.lock().clone();
    Ok(Value::list(items))
}

fn len(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let l = this(args, "__len__")?;
    let n = l.items.lock().len();
    Ok(Value::Int(n as i64))
}

/// `x in l` (shared with tuples through `seq_contains`).
pub(crate) fn list_contains(vm: &mut Vm, l: &PyList, x: &Value) -> PyResult<bool> {
    let mut i = 0;
    loop {
        let item = match l.items.lock().get(i) {
            Some(v) => v.clone(),
            None => return Ok(false),
        };
        if item_eq(vm, &item, x)? {
            return Ok(true);
        }
        i += 1;
    }
}

fn contains(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let l = this(args, "__contains__")?;
    one_arg("list.__contains__", &args[1..])?;
    Ok(Value::Bool(list_contains(vm, &l, &args[1])?))
}

fn iter(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let l = this(args, "__iter__")?;
    Ok(crate::vm::iter::list_iterator(l))
}

fn reversed(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let l = this(args, "__reversed__")?;
    Ok(crate::vm::iter::list_reverse_iterator(l))
}

fn getitem(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let l = this(args, "__getitem__")?;
    one_arg("list.__getitem__", &args[1..])?;
    vm.get_item(&Value::List(l), &args[1])
}

fn setitem(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let l = this(args, "__setitem__")?;
    arity("__setitem__", &args[1..], 2, 2)?;
    vm.set_item(&Value::List(l), &args[1], args[2].clone())?;
    Ok(Value::None)
}

fn delitem(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let l = this(args, "__delitem__")?;
    one_arg("list.__delitem__", &args[1..])?;
    vm.del_item(&Value::List(l), &args[1])?;
    Ok(Value::None)
}

fn iadd(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let l = this(args, "__iadd__")?;
    one_arg("list.__iadd__", &args[1..])?;
    vm.list_extend(&l, &args[1])?;
    Ok(args[0].clone())
}

fn add(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let l = this(args, "__add__")?;
    one_arg("list.__add__", &args[1..])?;
    let Some(other) = as_list(&args[1]) else {
        return Err(PyErr::type_error(format!(
            "can only concatenate list (not \"{}\") to list",
            crate::vm::builtins::type_name(&args[1])
        )));
    };
    let mut items = l.items.lock().clone();
    let more = other.items.lock().clone();
    if items.len() + more.len() > MAX_ITEMS {
        return Err(memory_error());
    }
    items.extend(more);
    Ok(Value::list(items))
}

fn mul(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let l = this(args, "__mul__")?;
    one_arg("list.__mul__", &args[1..])?;
    let n = match crate::vm::builtins::index_value(vm, &args[1]) {
        Ok(n) => n,
        Err(e) if e.matches(ExcKind::TypeError) => return Ok(types().not_implemented.clone()),
        Err(e) => return Err(e),
    };
    let items = l.items.lock().clone();
    Ok(Value::list(repeat(&items, n)?))
}

fn imul(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let l = this(args, "__imul__")?;
    one_arg("list.__imul__", &args[1..])?;
    let n = crate::vm::builtins::index_value(vm, &args[1])?;
    let items = l.items.lock().clone();
    let new = repeat(&items, n)?;
    let old = std::mem::replace(&mut *l.items.lock(), new);
    drop(old);
    Ok(args[0].clone())
}

/// Rich comparisons for list subclasses: compare the underlying lists.
fn compare(vm: &mut Vm, args: &[Value], op: CompareKind) -> PyResult<Value> {
    let l = this(args, "__eq__")?;
    let Some(other) = args.get(1).and_then(as_list) else {
        return Ok(types().not_implemented.clone());
    };
    vm.compare(&Value::List(l), &Value::List(other), op)
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

fn repr(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let l = this(args, "__repr__")?;
    Ok(Value::from_string(vm.repr(&Value::List(l))?))
}

pub fn install(t: &Types) {
    let c = &t.list;
    constructor(c, list_new);
    method_kw(c, "__init__", list_init);
    method_fast(c, "append", append, append_fast);
    method(c, "extend", extend);
    method(c, "insert", insert);
    method(c, "remove", remove);
    method(c, "pop", pop);
    method(c, "clear", clear);
    method(c, "index", index);
    method(c, "count", count);
    method_kw(c, "sort", sort);
    method(c, "reverse", reverse);
    method(c, "copy", copy);
    method(c, "__len__", len);
    method(c, "__contains__", contains);
    method(c, "__iter__", iter);
    method(c, "__reversed__", reversed);
    method(c, "__getitem__", getitem);
    method(c, "__setitem__", setitem);
    method(c, "__delitem__", delitem);
    method(c, "__add__", add);
    method(c, "__iadd__", iadd);
    method(c, "__mul__", mul);
    method(c, "__rmul__", mul);
    method(c, "__imul__", imul);
    method(c, "__eq__", eq);
    method(c, "__ne__", ne);
    method(c, "__lt__", lt);
    method(c, "__le__", le);
    method(c, "__gt__", gt);
    method(c, "__ge__", ge);
    method(c, "__repr__", repr);
    c.attrs.lock().insert("__hash__".into(), Value::None);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sort_pairs(mut v: Vec<(i32, char)>) -> Vec<(i32, char)> {
        merge_sort::<_, ()>(&mut v, &mut |a, b| Ok(a.0 < b.0)).unwrap();
        v
    }

    #[test]
    fn merge_sort_is_stable() {
        let mut input = vec![];
        for i in 0..200 {
            input.push((i * 37 % 11, char::from(b'a' + (i % 26) as u8)));
        }
        let got = sort_pairs(input.clone());
        let mut want = input;
        want.sort_by_key(|p| p.0);
        assert_eq!(got, want);
    }

    #[test]
    fn merge_sort_survives_inconsistent_comparisons() {
        let mut v: Vec<u32> = (0..500).collect();
        let mut n = 0u32;
        merge_sort::<_, ()>(&mut v, &mut |_, _| {
            n = n.wrapping_mul(1103515245).wrapping_add(12345);
            Ok(n & 4 == 0)
        })
        .unwrap();
        let mut sorted = v.clone();
        sorted.sort();
        assert_eq!(sorted, (0..500).collect::<Vec<_>>());
    }

    #[test]
    fn merge_sort_stops_at_the_first_error() {
        let mut v: Vec<u32> = (0..100).rev().collect();
        let mut calls = 0;
        let r = merge_sort(&mut v, &mut |a, b| {
            calls += 1;
            if calls == 10 {
                Err("boom")
            } else {
                Ok(a < b)
            }
        });
        assert_eq!(r, Err("boom"));
        assert_eq!(calls, 10);
    }

    #[test]
    fn native_lt_compares_exactly() {
        assert_eq!(native_lt(&Value::Int(1), &Value::Float(1.5)), Some(true));
        assert_eq!(
            native_lt(
                &Value::Int((1 << 53) + 1),
                &Value::Float(9007199254740992.0)
            ),
            Some(false)
        );
        assert_eq!(
            native_lt(
                &Value::Float(9007199254740992.0),
                &Value::Int((1 << 53) + 1)
            ),
            Some(true)
        );
        assert_eq!(
            native_lt(&Value::Float(f64::NAN), &Value::Int(1)),
            Some(false)
        );
        let a = Value::tuple(vec![Value::Int(1), Value::str("b")]);
        let b = Value::tuple(vec![Value::Int(1), Value::str("c")]);
        assert_eq!(native_lt(&a, &b), Some(true));
        assert_eq!(native_lt(&Value::Int(1), &Value::str("a")), None);
    }

    #[test]
    fn repeat_refuses_huge_sizes() {
        assert!(repeat(&[Value::Int(0)], 1 << 40).is_err());
        assert_eq!(repeat(&[Value::Int(0), Value::Int(1)], 3).unwrap().len(), 6);
        assert!(repeat(&[Value::Int(0)], -5).unwrap().is_empty());
    }

    #[test]
    fn concurrent_appends_without_a_vm() {
        let l = Brc::new(PyList {
            items: crate::vm::spin::SpinMutex::new(Vec::new()),
        });
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let l = l.clone();
                std::thread::spawn(move || {
                    for i in 0..10000 {
                        l.items.lock().push(Value::Int(t * 100000 + i));
                        if i % 7 == 0 {
                            let items = l.items.lock();
                            let n = items.len();
                            if n > 0 {
                                let _ = items.get(n / 2).cloned();
                            }
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let items = l.items.lock();
        assert_eq!(items.len(), 40000);
        // Each thread's appends stay in its own order.
        for t in 0..4i64 {
            let mine: Vec<i64> = items
                .iter()
                .filter_map(|v| match v {
                    Value::Int(i) if i / 100000 == t => Some(i % 100000),
                    _ => None,
                })
                .collect();
            assert_eq!(mine, (0..10000).collect::<Vec<_>>());
        }
    }
}
