//! Iterators over built-in containers and the iteration protocol
//! (`Vm::iter`, `Vm::next`, `Vm::collect`), plus `range` objects.
//!
//! A built-in iterator is a `Value::Object` whose `ObjKind::Iter` holds an
//! [`IterState`] behind a mutex. Simple kinds (list, range, ...) advance
//! under that lock without allocating; kinds that call back into script
//! code (`map`, `filter`, `zip`, ...) copy out what they need first, so no
//! lock is held while script code runs.

use crate::vm::brc::Brc;
use std::sync::{Arc, OnceLock};

use crate::vm::slot;
use crate::vm::spin::SpinMutex;

use crate::vm::builtins::{arity, constructor, index_value, method, method_kw, type_name};
use crate::vm::dict::{as_view, ViewKind};
use crate::vm::error::{ExcKind, PyErr, PyResult};
use crate::vm::interp::Vm;
use crate::vm::list::{memory_error, MAX_ITEMS};
use crate::vm::types::{types, Types};
use crate::vm::value::{
    Class, Kwargs, ObjKind, Object, PyDict, PyList, PySet, PyStr, PyTuple, Value,
};

/// The state of a built-in iterator object.
pub enum IterState {
    List {
        list: Brc<PyList>,
        index: usize,
    },
    /// `reversed(list)`: `index` is one past the next item (0 = done).
    ListRev {
        list: Brc<PyList>,
        index: usize,
    },
    Tuple {
        tuple: Arc<PyTuple>,
        index: usize,
    },
    TupleRev {
        tuple: Arc<PyTuple>,
        index: usize,
    },
    /// By code point; `pos` is a byte offset.
    Str {
        s: Brc<PyStr>,
        pos: usize,
    },
    StrRev {
        s: Brc<PyStr>,
        pos: usize,
    },
    Bytes {
        b: Arc<Vec<u8>>,
        index: usize,
    },
    /// Reads the live bytearray: changes made while iterating show.
    ByteArray {
        b: Arc<crate::vm::value::PyByteArray>,
        index: usize,
    },
    Range {
        next: i64,
        step: i64,
        remaining: u64,
    },
    Dict {
        dict: Brc<PyDict>,
        kind: ViewKind,
        /// Next entry position (forward) or one past it (reversed).
        pos: usize,
        reversed: bool,
        /// The dict's size when iteration started.
        used: usize,
        remaining: usize,
    },
    Set {
        set: Arc<PySet>,
        pos: usize,
        used: usize,
    },
    Enumerate {
        it: Value,
        count: i64,
    },
    Zip {
        its: Arc<[Value]>,
        strict: bool,
    },
    Map {
        func: Value,
        its: Arc<[Value]>,
    },
    Filter {
        func: Value,
        it: Value,
    },
    /// `iter(f, sentinel)`.
    Callable {
        func: Value,
        sentinel: Value,
    },
    /// The sequence protocol: `seq[0]`, `seq[1]`, ... until IndexError.
    Seq {
        seq: Value,
        index: i64,
    },
    /// `reversed(seq)` through `__len__` and `__getitem__`.
    SeqRev {
        seq: Value,
        index: i64,
    },
    Exhausted,
}

impl IterState {
    fn class_name(&self) -> &'static str {
        match self {
            IterState::List { .. } => "list_iterator",
            IterState::ListRev { .. } => "list_reverseiterator",
            IterState::Tuple { .. } => "tuple_iterator",
            IterState::Str { s, .. } if s.ascii => "str_ascii_iterator",
            IterState::Str { .. } => "str_iterator",
            IterState::Bytes { .. } => "bytes_iterator",
            IterState::ByteArray { .. } => "bytearray_iterator",
            IterState::Range { .. } => "range_iterator",
            IterState::Dict { kind, reversed, .. } => match (kind, reversed) {
                (ViewKind::Keys, false) => "dict_keyiterator",
                (ViewKind::Values, false) => "dict_valueiterator",
                (ViewKind::Items, false) => "dict_itemiterator",
                (ViewKind::Keys, true) => "dict_reversekeyiterator",
                (ViewKind::Values, true) => "dict_reversevalueiterator",
                (ViewKind::Items, true) => "dict_reverseitemiterator",
            },
            IterState::Set { .. } => "set_iterator",
            IterState::Enumerate { .. } => "enumerate",
            IterState::Zip { .. } => "zip",
            IterState::Map { .. } => "map",
            IterState::Filter { .. } => "filter",
            IterState::Callable { .. } => "callable_iterator",
            IterState::Seq { .. } => "iterator",
            IterState::TupleRev { .. } | IterState::StrRev { .. } | IterState::SeqRev { .. } => {
                "reversed"
            }
            IterState::Exhausted => "iterator",
        }
    }
}

/// Every iterator class name, so `install` can give each `__iter__`/`__next__`.
const ITER_CLASSES: &[&str] = &[
    "list_iterator",
    "list_reverseiterator",
    "tuple_iterator",
    "str_ascii_iterator",
    "str_iterator",
    "bytes_iterator",
    "range_iterator",
    "dict_keyiterator",
    "dict_valueiterator",
    "dict_itemiterator",
    "dict_reversekeyiterator",
    "dict_reversevalueiterator",
    "dict_reverseitemiterator",
    "set_iterator",
    "enumerate",
    "zip",
    "map",
    "filter",
    "callable_iterator",
    "iterator",
    "reversed",
];

/// The class of an iterator kind, cached (the types' own lookup takes a lock).
fn iter_class(name: &'static str) -> Arc<Class> {
    static CACHE: OnceLock<Vec<Arc<Class>>> = OnceLock::new();
    let all = CACHE.get_or_init(|| {
        ITER_CLASSES
            .iter()
            .map(|n| types().iterator_class(n))
            .collect()
    });
    match ITER_CLASSES.iter().position(|n| *n == name) {
        Some(i) => all[i].clone(),
        None => types().iterator_class(name),
    }
}

/// Wrap a state in a new iterator object.
pub fn make_iter(state: IterState) -> Value {
    let class = iter_class(state.class_name());
    Value::Object(Arc::new(Object {
        class,
        kind: ObjKind::Iter(SpinMutex::new(state)),
    }))
}

pub fn list_iterator(list: Brc<PyList>) -> Value {
    make_iter(IterState::List { list, index: 0 })
}

pub fn list_reverse_iterator(list: Brc<PyList>) -> Value {
    let index = list.items.lock().len();
    make_iter(IterState::ListRev { list, index })
}

pub fn tuple_iterator(tuple: Arc<PyTuple>) -> Value {
    make_iter(IterState::Tuple { tuple, index: 0 })
}

pub fn set_iterator(set: Arc<PySet>) -> Value {
    let used = set.len();
    make_iter(IterState::Set { set, pos: 0, used })
}

pub fn dict_iterator(dict: Brc<PyDict>, kind: ViewKind, reversed: bool) -> Value {
    let (used, pos) = {
        let m = dict.map.lock();
        (m.len(), if reversed { m.entry_capacity() } else { 0 })
    };
    make_iter(IterState::Dict {
        dict,
        kind,
        pos,
        reversed,
        used,
        remaining: used,
    })
}

pub fn range_iterator(start: i64, stop: i64, step: i64) -> Value {
    make_iter(IterState::Range {
        next: start,
        step,
        remaining: range_len(start, stop, step),
    })
}

fn stop_iteration() -> PyErr {
    PyErr::with_args(ExcKind::StopIteration, vec![])
}

/// Look a name up in a class and its MRO (no descriptor binding).
pub(crate) fn class_lookup(class: &Arc<Class>, name: &str) -> Option<Value> {
    if let Some(v) = class.attrs.lock().get(name) {
        return Some(v.clone());
    }
    class
        .mro
        .iter()
        .find_map(|c| c.attrs.lock().get(name).cloned())
}

/// Is `v` an iterator (has `__next__`)?
fn is_iterator(v: &Value) -> bool {
    match v {
        Value::Object(o) if matches!(o.kind, ObjKind::Iter(_) | ObjKind::Generator(_)) => true,
        _ => class_lookup(types().class_of(v), "__next__").is_some(),
    }
}

impl Vm {
    /// `iter(v)`.
    pub fn iter(&mut self, v: &Value) -> PyResult<Value> {
        Ok(match v {
            Value::List(l) => list_iterator(l.clone()),
            Value::Tuple(t) => tuple_iterator(t.clone()),
            Value::Str(s) => make_iter(IterState::Str {
                s: s.clone(),
                pos: 0,
            }),
            Value::Bytes(b) => make_iter(IterState::Bytes {
                b: b.clone(),
                index: 0,
            }),
            Value::ByteArray(b) => make_iter(IterState::ByteArray {
                b: b.clone(),
                index: 0,
            }),
            Value::Dict(d) => dict_iterator(d.clone(), ViewKind::Keys, false),
            Value::Set(s) | Value::FrozenSet(s) => set_iterator(s.clone()),
            Value::Object(o) => match &o.kind {
                ObjKind::Iter(_) | ObjKind::Generator(_) => v.clone(),
                ObjKind::Range { start, stop, step } => range_iterator(*start, *stop, *step),
                _ => match as_view(v) {
                    Some((d, k)) => dict_iterator(d.clone(), k, false),
                    None => self.iter_via_class(v)?,
                },
            },
            _ => self.iter_via_class(v)?,
        })
    }

    fn iter_via_class(&mut self, v: &Value) -> PyResult<Value> {
        let class = types().class_of(v).clone();
        match class_lookup(&class, "__iter__") {
            Some(Value::None) => {}
            Some(f) => {
                let it = self.call(&f, std::slice::from_ref(v), &[])?;
                if !is_iterator(&it) {
                    return Err(PyErr::type_error(format!(
                        "iter() returned non-iterator of type '{}'",
                        type_name(&it)
                    )));
                }
                return Ok(it);
            }
            None => {
                if class_lookup(&class, "__getitem__").is_some() && !matches!(v, Value::Class(_)) {
                    return Ok(make_iter(IterState::Seq {
                        seq: v.clone(),
                        index: 0,
                    }));
                }
            }
        }
        Err(PyErr::type_error(format!(
            "'{}' object is not iterable",
            type_name(v)
        )))
    }

    /// `next(it)`: `None` when exhausted.
    pub fn next(&mut self, it: &Value) -> PyResult<Option<Value>> {
        match it {
            Value::Object(o) => match &o.kind {
                ObjKind::Iter(st) => self.next_builtin(st),
                ObjKind::Generator(_) => self.resume_generator(o, Value::None),
                _ => self.next_via_method(it),
            },
            _ => self.next_via_method(it),
        }
    }

    fn next_via_method(&mut self, it: &Value) -> PyResult<Option<Value>> {
        let Some(f) = class_lookup(types().class_of(it), "__next__") else {
            return Err(PyErr::type_error(format!(
                "'{}' object is not an iterator",
                type_name(it)
            )));
        };
        match self.call(&f, std::slice::from_ref(it), &[]) {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.matches(ExcKind::StopIteration) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `ForIter`'s fast path over a list or range iterator: `Some(item)`
    /// (`Some(None)` when exhausted), or `None` for every other iterator, which
    /// takes [`Vm::next`]. Small enough to inline into the dispatch loop.
    #[inline]
    pub fn next_quick(st: &SpinMutex<IterState>) -> Option<Option<Value>> {
        let mut g = st.lock();
        match &mut *g {
            IterState::List { list, index } => {
                let item = list.items.lock().get(*index).map(slot::clone);
                match item {
                    Some(v) => {
                        *index += 1;
                        Some(Some(v))
                    }
                    None => {
                        *g = IterState::Exhausted;
                        Some(None)
                    }
                }
            }
            IterState::Range {
                next,
                step,
                remaining,
            } => {
                if *remaining == 0 {
                    return Some(None);
                }
                let v = *next;
                *remaining -= 1;
                *next = next.wrapping_add(*step);
                Some(Some(slot::int(v)))
            }
            _ => None,
        }
    }

    fn next_builtin(&mut self, st: &SpinMutex<IterState>) -> PyResult<Option<Value>> {
        let mut g = st.lock();
        match &mut *g {
            IterState::List { list, index } => {
                let item = list.items.lock().get(*index).map(slot::clone);
                match item {
                    Some(v) => {
                        *index += 1;
                        Ok(Some(v))
                    }
                    None => {
                        *g = IterState::Exhausted;
                        Ok(None)
                    }
                }
            }
            IterState::ListRev { list, index } => {
                let item = {
                    let items = list.items.lock();
                    if *index > 0 && *index <= items.len() {
                        Some(items[*index - 1].clone())
                    } else {
                        None
                    }
                };
                match item {
                    Some(v) => {
                        *index -= 1;
                        Ok(Some(v))
                    }
                    None => {
                        *g = IterState::Exhausted;
                        Ok(None)
                    }
                }
            }
            IterState::Tuple { tuple, index } => match tuple.items.get(*index) {
                Some(v) => {
                    *index += 1;
                    Ok(Some(v.clone()))
                }
                None => {
                    *g = IterState::Exhausted;
                    Ok(None)
                }
            },
            IterState::TupleRev { tuple, index } => {
                if *index == 0 {
                    *g = IterState::Exhausted;
                    return Ok(None);
                }
                *index -= 1;
                Ok(tuple.items.get(*index).cloned())
            }
            IterState::Str { s, pos } => {
                let text = s.as_str();
                match text[*pos..].chars().next() {
                    Some(c) => {
                        *pos += c.len_utf8();
                        Ok(Some(char_value(c)))
                    }
                    None => {
                        *g = IterState::Exhausted;
                        Ok(None)
                    }
                }
            }
            IterState::StrRev { s, pos } => {
                let text = s.as_str();
                match text[..*pos].chars().next_back() {
                    Some(c) => {
                        *pos -= c.len_utf8();
                        Ok(Some(char_value(c)))
                    }
                    None => {
                        *g = IterState::Exhausted;
                        Ok(None)
                    }
                }
            }
            IterState::ByteArray { b, index } => {
                let next = b.data.lock().get(*index).copied();
                match next {
                    Some(x) => {
                        *index += 1;
                        Ok(Some(Value::Int(x as i64)))
                    }
                    None => {
                        *g = IterState::Exhausted;
                        Ok(None)
                    }
                }
            }
            IterState::Bytes { b, index } => match b.get(*index) {
                Some(x) => {
                    *index += 1;
                    Ok(Some(Value::Int(*x as i64)))
                }
                None => {
                    *g = IterState::Exhausted;
                    Ok(None)
                }
            },
            IterState::Range {
                next,
                step,
                remaining,
            } => {
                if *remaining == 0 {
                    return Ok(None);
                }
                let v = *next;
                *remaining -= 1;
                *next = next.wrapping_add(*step);
                Ok(Some(Value::Int(v)))
            }
            IterState::Dict {
                dict,
                kind,
                pos,
                reversed,
                used,
                remaining,
            } => {
                let m = dict.map.lock();
                if m.len() != *used {
                    *used = usize::MAX;
                    return Err(PyErr::runtime_error(
                        "dictionary changed size during iteration",
                    ));
                }
                let found = if *reversed {
                    m.entry_before(*pos)
                } else {
                    m.entry_from(*pos)
                };
                let Some((p, e)) = found else {
                    drop(m);
                    *g = IterState::Exhausted;
                    return Ok(None);
                };
                // More keys than the dict had: some were replaced. CPython
                // checks this going forwards only, and then the iterator is
                // finished (the size error, by contrast, repeats).
                if *remaining == 0 && !*reversed {
                    drop(m);
                    *g = IterState::Exhausted;
                    return Err(PyErr::runtime_error(
                        "dictionary keys changed during iteration",
                    ));
                }
                *remaining = remaining.saturating_sub(1);
                *pos = p;
                let v = match kind {
                    ViewKind::Keys => e.key.key.clone(),
                    ViewKind::Values => e.value.clone(),
                    ViewKind::Items => Value::tuple(vec![e.key.key.clone(), e.value.clone()]),
                };
                Ok(Some(v))
            }
            IterState::Set { set, pos, used } => {
                let t = set.table.lock();
                if t.len() != *used {
                    *used = usize::MAX;
                    return Err(PyErr::runtime_error("Set changed size during iteration"));
                }
                match t.next_from(*pos) {
                    Some((p, k)) => {
                        *pos = p;
                        Ok(Some(k.clone()))
                    }
                    None => {
                        drop(t);
                        *g = IterState::Exhausted;
                        Ok(None)
                    }
                }
            }
            IterState::Exhausted => Ok(None),
            IterState::Enumerate { it, .. } => {
                let inner = it.clone();
                drop(g);
                let Some(item) = self.next(&inner)? else {
                    return Ok(None);
                };
                let mut g = st.lock();
                let n = match &mut *g {
                    IterState::Enumerate { count, .. } => {
                        let n = *count;
                        *count = count.wrapping_add(1);
                        n
                    }
                    _ => 0,
                };
                Ok(Some(Value::tuple(vec![Value::Int(n), item])))
            }
            IterState::Zip { its, strict } => {
                let (its, strict) = (its.clone(), *strict);
                drop(g);
                self.zip_next(&its, strict)
            }
            IterState::Map { func, its } => {
                let (func, its) = (func.clone(), its.clone());
                drop(g);
                let mut args = Vec::with_capacity(its.len());
                for it in its.iter() {
                    match self.next(it)? {
                        Some(v) => args.push(v),
                        None => return Ok(None),
                    }
                }
                self.call(&func, &args, &[]).map(Some)
            }
            IterState::Filter { func, it } => {
                let (func, it) = (func.clone(), it.clone());
                drop(g);
                loop {
                    let Some(item) = self.next(&it)? else {
                        return Ok(None);
                    };
                    let keep = if func.is_none() {
                        self.is_true(&item)?
                    } else {
                        let r = self.call(&func, std::slice::from_ref(&item), &[])?;
                        self.is_true(&r)?
                    };
                    if keep {
                        return Ok(Some(item));
                    }
                }
            }
            IterState::Callable { func, sentinel } => {
                let (func, sentinel) = (func.clone(), sentinel.clone());
                drop(g);
                let r = match self.call(&func, &[], &[]) {
                    Ok(r) => r,
                    Err(e) if e.matches(ExcKind::StopIteration) => {
                        *st.lock() = IterState::Exhausted;
                        return Ok(None);
                    }
                    Err(e) => return Err(e),
                };
                if sentinel.is(&r) || self.eq(&sentinel, &r)? {
                    *st.lock() = IterState::Exhausted;
                    return Ok(None);
                }
                Ok(Some(r))
            }
            IterState::Seq { seq, index } => {
                let (seq, i) = (seq.clone(), *index);
                drop(g);
                match self.get_item(&seq, &Value::Int(i)) {
                    Ok(v) => {
                        if let IterState::Seq { index, .. } = &mut *st.lock() {
                            *index = i + 1;
                        }
                        Ok(Some(v))
                    }
                    Err(e)
                        if e.matches(ExcKind::IndexError) || e.matches(ExcKind::StopIteration) =>
                    {
                        *st.lock() = IterState::Exhausted;
                        Ok(None)
                    }
                    Err(e) => Err(e),
                }
            }
            IterState::SeqRev { seq, index } => {
                let (seq, i) = (seq.clone(), *index);
                drop(g);
                if i < 0 {
                    *st.lock() = IterState::Exhausted;
                    return Ok(None);
                }
                match self.get_item(&seq, &Value::Int(i)) {
                    Ok(v) => {
                        if let IterState::SeqRev { index, .. } = &mut *st.lock() {
                            *index = i - 1;
                        }
                        Ok(Some(v))
                    }
                    Err(e)
                        if e.matches(ExcKind::IndexError) || e.matches(ExcKind::StopIteration) =>
                    {
                        *st.lock() = IterState::Exhausted;
                        Ok(None)
                    }
                    Err(e) => Err(e),
                }
            }
        }
    }

    fn zip_next(&mut self, its: &[Value], strict: bool) -> PyResult<Option<Value>> {
        if its.is_empty() {
            return Ok(None);
        }
        let mut items = Vec::with_capacity(its.len());
        for (i, it) in its.iter().enumerate() {
            match self.next(it)? {
                Some(v) => items.push(v),
                None => {
                    if !strict {
                        return Ok(None);
                    }
                    if i > 0 {
                        let plural = if i == 1 { " " } else { "s 1-" };
                        return Err(PyErr::value_error(format!(
                            "zip() argument {} is shorter than argument{plural}{i}",
                            i + 1
                        )));
                    }
                    for (j, other) in its.iter().enumerate().skip(1) {
                        if self.next(other)?.is_some() {
                            let plural = if j == 1 { " " } else { "s 1-" };
                            return Err(PyErr::value_error(format!(
                                "zip() argument {} is longer than argument{plural}{j}",
                                j + 1
                            )));
                        }
                    }
                    return Ok(None);
                }
            }
        }
        Ok(Some(Value::tuple(items)))
    }

    /// Everything an iterable yields, with fast paths for the built-in containers.
    pub fn collect(&mut self, v: &Value) -> PyResult<Vec<Value>> {
        match v {
            Value::List(l) => return Ok(l.items.lock().clone()),
            Value::Tuple(t) => return Ok(t.items.to_vec()),
            Value::Str(s) => return Ok(s.as_str().chars().map(char_value).collect()),
            Value::Dict(d) => return Ok(d.map.lock().key_list()),
            Value::Set(s) | Value::FrozenSet(s) => return Ok(s.items()),
            Value::Object(o) => {
                // A view is copied under one lock: atomic even with the GIL off.
                if let Some((d, kind)) = as_view(v) {
                    return Ok(crate::vm::dict::view_items(d, kind));
                }
                if let ObjKind::Range { start, stop, step } = &o.kind {
                    let n = range_len(*start, *stop, *step);
                    if n > MAX_ITEMS as u64 {
                        return Err(memory_error());
                    }
                    let mut out = Vec::with_capacity(n as usize);
                    let mut x = *start;
                    for _ in 0..n {
                        out.push(Value::Int(x));
                        x = x.wrapping_add(*step);
                    }
                    return Ok(out);
                }
            }
            _ => {}
        }
        let it = self.iter(v)?;
        self.collect_iter(&it)
    }

    fn collect_iter(&mut self, it: &Value) -> PyResult<Vec<Value>> {
        let mut out = Vec::new();
        while let Some(x) = self.next(it)? {
            if out.len() >= MAX_ITEMS {
                return Err(memory_error());
            }
            out.push(x);
        }
        Ok(out)
    }

    /// [`Vm::collect`], but a value that cannot be iterated raises `TypeError(msg)`
    /// (CPython's `PySequence_Fast`, e.g. "can only assign an iterable" for slice assignment).
    pub fn collect_or(&mut self, v: &Value, msg: &str) -> PyResult<Vec<Value>> {
        if let Value::List(_) | Value::Tuple(_) | Value::Str(_) = v {
            return self.collect(v);
        }
        match self.iter(v) {
            Ok(it) => self.collect_iter(&it),
            Err(e) if e.matches(ExcKind::TypeError) => Err(PyErr::type_error(msg)),
            Err(e) => Err(e),
        }
    }

    /// `reversed(seq)`.
    pub fn reversed(&mut self, seq: &Value) -> PyResult<Value> {
        match seq {
            Value::List(l) => return Ok(list_reverse_iterator(l.clone())),
            Value::Tuple(t) => {
                return Ok(make_iter(IterState::TupleRev {
                    tuple: t.clone(),
                    index: t.items.len(),
                }))
            }
            Value::Str(s) => {
                return Ok(make_iter(IterState::StrRev {
                    s: s.clone(),
                    pos: s.as_str().len(),
                }))
            }
            Value::Object(o) => {
                if let ObjKind::Range { start, stop, step } = &o.kind {
                    let n = range_len(*start, *stop, *step);
                    if n == 0 {
                        return Ok(range_iterator(0, 0, 1));
                    }
                    let last = (*start as i128 + (n as i128 - 1) * *step as i128) as i64;
                    return Ok(make_iter(IterState::Range {
                        next: last,
                        step: step.wrapping_neg(),
                        remaining: n,
                    }));
                }
            }
            _ => {}
        }
        let class = types().class_of(seq).clone();
        if let Some(f) = class_lookup(&class, "__reversed__") {
            if !f.is_none() {
                return self.call(&f, std::slice::from_ref(seq), &[]);
            }
        } else if class_lookup(&class, "__getitem__").is_some()
            && !matches!(seq, Value::Dict(_))
            && !matches!(seq, Value::Class(_))
        {
            if let Some(lenf) = class_lookup(&class, "__len__") {
                let n = self.call(&lenf, std::slice::from_ref(seq), &[])?;
                let n = index_value(self, &n)?;
                return Ok(make_iter(IterState::SeqRev {
                    seq: seq.clone(),
                    index: n - 1,
                }));
            }
            // A sequence without a length (CPython asks for it).
            return Err(PyErr::type_error(format!(
                "object of type '{}' has no len()",
                type_name(seq)
            )));
        }
        Err(PyErr::type_error(format!(
            "'{}' object is not reversible",
            type_name(seq)
        )))
    }
}

/// A one-character str value (ASCII characters share cached values).
pub fn char_value(c: char) -> Value {
    static ASCII: OnceLock<Vec<Value>> = OnceLock::new();
    if c.is_ascii() {
        let table = ASCII.get_or_init(|| {
            (0u8..128)
                .map(|b| Value::str(&(b as char).to_string()))
                .collect()
        });
        return table[c as usize].clone();
    }
    let mut buf = [0u8; 4];
    Value::str(c.encode_utf8(&mut buf))
}

// ---- ranges ----

/// The number of items of `range(start, stop, step)` (step != 0).
pub fn range_len(start: i64, stop: i64, step: i64) -> u64 {
    let (start, stop, step) = (start as i128, stop as i128, step as i128);
    let n = if step > 0 && start < stop {
        (stop - start - 1) / step + 1
    } else if step < 0 && start > stop {
        (start - stop - 1) / (-step) + 1
    } else {
        0
    };
    n as u64
}

/// `range(...) == range(...)`: equal as sequences.
pub fn range_eq(a: (i64, i64, i64), b: (i64, i64, i64)) -> bool {
    let la = range_len(a.0, a.1, a.2);
    let lb = range_len(b.0, b.1, b.2);
    if la != lb {
        return false;
    }
    la == 0 || (a.0 == b.0 && (la == 1 || a.2 == b.2))
}

/// Item `i` (already made non-negative) of a range, if in bounds.
pub fn range_item(start: i64, stop: i64, step: i64, i: i64) -> Option<i64> {
    let n = range_len(start, stop, step);
    if i < 0 || i as u64 >= n {
        return None;
    }
    Some((start as i128 + i as i128 * step as i128) as i64)
}

pub fn make_range(start: i64, stop: i64, step: i64) -> Value {
    Value::Object(Arc::new(Object {
        class: types().range.clone(),
        kind: ObjKind::Range { start, stop, step },
    }))
}

fn range_parts(v: &Value) -> PyResult<(i64, i64, i64)> {
    if let Value::Object(o) = v {
        if let ObjKind::Range { start, stop, step } = &o.kind {
            return Ok((*start, *stop, *step));
        }
    }
    Err(PyErr::type_error(format!(
        "descriptor for 'range' objects doesn't apply to a '{}' object",
        type_name(v)
    )))
}

fn range_new(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    if !kw.is_empty() {
        return Err(PyErr::type_error("range() takes no keyword arguments"));
    }
    let rest = args.get(1..).unwrap_or(&[]);
    if rest.is_empty() {
        return Err(PyErr::type_error(
            "range expected at least 1 argument, got 0",
        ));
    }
    if rest.len() > 3 {
        return Err(PyErr::type_error(format!(
            "range expected at most 3 arguments, got {}",
            rest.len()
        )));
    }
    let mut n = Vec::with_capacity(3);
    for a in rest {
        n.push(index_value(vm, a)?);
    }
    let (start, stop, step) = match n.as_slice() {
        [stop] => (0, *stop, 1),
        [start, stop] => (*start, *stop, 1),
        [start, stop, step] => (*start, *stop, *step),
        _ => (0, 0, 1),
    };
    if step == 0 {
        return Err(PyErr::value_error("range() arg 3 must not be zero"));
    }
    Ok(make_range(start, stop, step))
}

fn range_len_m(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (a, b, c) = range_parts(&args[0])?;
    let n = range_len(a, b, c);
    if n > i64::MAX as u64 {
        return Err(PyErr::overflow_error(
            "Python int too large to convert to C ssize_t",
        ));
    }
    Ok(Value::Int(n as i64))
}

fn range_iter_m(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (a, b, c) = range_parts(&args[0])?;
    Ok(range_iterator(a, b, c))
}

fn range_reversed_m(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    range_parts(&args[0])?;
    vm.reversed(&args[0])
}

/// `x in range(...)`: arithmetic for ints, equality scan otherwise.
pub fn range_contains(vm: &mut Vm, r: (i64, i64, i64), x: &Value) -> PyResult<bool> {
    let (start, stop, step) = r;
    let i = match x {
        Value::Int(i) => Some(*i),
        Value::Bool(b) => Some(*b as i64),
        Value::BigInt(_) => return Ok(false),
        _ => None,
    };
    if let Some(i) = i {
        let inside = if step > 0 {
            start <= i && i < stop
        } else {
            stop < i && i <= start
        };
        return Ok(inside && (i as i128 - start as i128) % step as i128 == 0);
    }
    let n = range_len(start, stop, step);
    let mut v = start;
    for _ in 0..n {
        if vm.eq(&Value::Int(v), x)? {
            return Ok(true);
        }
        v = v.wrapping_add(step);
    }
    Ok(false)
}

fn range_contains_m(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let r = range_parts(&args[0])?;
    arity("__contains__", &args[1..], 1, 1)?;
    Ok(Value::Bool(range_contains(vm, r, &args[1])?))
}

/// CPython's `PySlice_GetIndicesEx` for a sequence of length `len`.
pub fn slice_indices(
    vm: &mut Vm,
    start: &Value,
    stop: &Value,
    step: &Value,
    len: i64,
) -> PyResult<(i64, i64, i64)> {
    let step = if step.is_none() {
        1
    } else {
        index_value(vm, step)?
    };
    if step == 0 {
        return Err(PyErr::value_error("slice step cannot be zero"));
    }
    let (lower, upper) = if step < 0 { (-1, len - 1) } else { (0, len) };
    let mut bound = |v: &Value, default: i64| -> PyResult<i64> {
        if v.is_none() {
            return Ok(default);
        }
        let mut i = index_value(vm, v)?;
        if i < 0 {
            i += len;
            if i < lower {
                i = lower;
            }
        } else if i > upper {
            i = upper;
        }
        Ok(i)
    };
    let s = bound(start, if step < 0 { upper } else { lower })?;
    let e = bound(stop, if step < 0 { lower } else { upper })?;
    Ok((s, e, step))
}

fn range_getitem_m(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (a, b, c) = range_parts(&args[0])?;
    arity("__getitem__", &args[1..], 1, 1)?;
    range_getitem(vm, (a, b, c), &args[1])
}

/// `r[key]` for an int index or a slice.
pub fn range_getitem(vm: &mut Vm, r: (i64, i64, i64), key: &Value) -> PyResult<Value> {
    let (a, b, c) = r;
    let n = range_len(a, b, c) as i64;
    if let Value::Object(o) = key {
        if let ObjKind::Slice { start, stop, step } = &o.kind {
            let (s, e, st) = slice_indices(vm, start, stop, step, n)?;
            let new_start = a as i128 + s as i128 * c as i128;
            let new_stop = a as i128 + e as i128 * c as i128;
            let new_step = st as i128 * c as i128;
            let fits = |x: i128| x >= i64::MIN as i128 && x <= i64::MAX as i128;
            if !(fits(new_start) && fits(new_stop) && fits(new_step)) {
                return Err(PyErr::overflow_error(
                    "Python int too large to convert to C ssize_t",
                ));
            }
            return Ok(make_range(
                new_start as i64,
                new_stop as i64,
                new_step as i64,
            ));
        }
    }
    let i = match key {
        Value::Int(_) | Value::Bool(_) | Value::BigInt(_) | Value::Instance(_) => {
            index_value(vm, key).map_err(|e| {
                if e.matches(ExcKind::OverflowError) {
                    PyErr::index_error("range object index out of range")
                } else {
                    e
                }
            })?
        }
        _ => {
            return Err(PyErr::type_error(format!(
                "range indices must be integers or slices, not {}",
                type_name(key)
            )))
        }
    };
    let j = if i < 0 { i + n } else { i };
    match range_item(a, b, c, j) {
        Some(v) => Ok(Value::Int(v)),
        None => Err(PyErr::index_error("range object index out of range")),
    }
}

fn range_eq_m(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let a = range_parts(&args[0])?;
    match args.get(1).map(range_parts) {
        Some(Ok(b)) => Ok(Value::Bool(range_eq(a, b))),
        _ => Ok(types().not_implemented.clone()),
    }
}

fn range_ne_m(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let a = range_parts(&args[0])?;
    match args.get(1).map(range_parts) {
        Some(Ok(b)) => Ok(Value::Bool(!range_eq(a, b))),
        _ => Ok(types().not_implemented.clone()),
    }
}

fn range_hash_m(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (a, b, c) = range_parts(&args[0])?;
    let n = range_len(a, b, c) as i64;
    let t = match n {
        0 => Value::tuple(vec![Value::Int(0), Value::None, Value::None]),
        1 => Value::tuple(vec![Value::Int(1), Value::Int(a), Value::None]),
        _ => Value::tuple(vec![Value::Int(n), Value::Int(a), Value::Int(c)]),
    };
    Ok(Value::Int(vm.hash(&t)?))
}

fn range_repr_m(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (a, b, c) = range_parts(&args[0])?;
    Ok(Value::from_string(if c == 1 {
        format!("range({a}, {b})")
    } else {
        format!("range({a}, {b}, {c})")
    }))
}

fn range_count_m(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let r = range_parts(&args[0])?;
    arity("count", &args[1..], 1, 1)?;
    if matches!(args[1], Value::Int(_) | Value::Bool(_)) {
        return Ok(Value::Int(range_contains(vm, r, &args[1])? as i64));
    }
    let mut count = 0;
    let mut v = r.0;
    for _ in 0..range_len(r.0, r.1, r.2) {
        if vm.eq(&Value::Int(v), &args[1])? {
            count += 1;
        }
        v = v.wrapping_add(r.2);
    }
    Ok(Value::Int(count))
}

fn range_index_m(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (a, b, c) = range_parts(&args[0])?;
    arity("index", &args[1..], 1, 1)?;
    let as_int = match &args[1] {
        Value::Int(i) => Some(*i),
        Value::Bool(b) => Some(*b as i64),
        _ => None,
    };
    if let Some(i) = as_int {
        if range_contains(vm, (a, b, c), &Value::Int(i))? {
            return Ok(Value::Int(((i as i128 - a as i128) / c as i128) as i64));
        }
    } else {
        let mut v = a;
        for k in 0..range_len(a, b, c) {
            if vm.eq(&Value::Int(v), &args[1])? {
                return Ok(Value::Int(k as i64));
            }
            v = v.wrapping_add(c);
        }
    }
    let r = vm.repr(&args[1])?;
    Err(PyErr::value_error(format!("{r} is not in range")))
}

fn range_start(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::Int(range_parts(&args[0])?.0))
}
fn range_stop(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::Int(range_parts(&args[0])?.1))
}
fn range_step(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::Int(range_parts(&args[0])?.2))
}

fn range_bool(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (a, b, c) = range_parts(&args[0])?;
    Ok(Value::Bool(range_len(a, b, c) > 0))
}

/// A read-only attribute computed by a native getter (a property object).
pub(crate) fn getter(
    t: &Types,
    class: &Arc<Class>,
    name: &'static str,
    f: crate::vm::value::NativeFn,
) {
    let qualname = format!("{}.{}", class.name, name);
    let prop = Value::Object(Arc::new(Object {
        class: t.property.clone(),
        kind: ObjKind::Property {
            fget: crate::vm::builtins::native(name, &qualname, f, true),
            fset: Value::None,
            fdel: Value::None,
            doc: Value::None,
        },
    }));
    class.attrs.lock().insert(name.into(), prop);
}

// ---- the iterator types' methods and constructors ----

fn iter_self(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(args.first().cloned().unwrap_or(Value::None))
}

fn iter_next(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let Some(it) = args.first() else {
        return Err(PyErr::type_error("__next__ needs an argument"));
    };
    match vm.next(it)? {
        Some(v) => Ok(v),
        None => Err(stop_iteration()),
    }
}

fn iter_length_hint(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let n = match args.first() {
        Some(Value::Object(o)) => match &o.kind {
            ObjKind::Iter(st) => match &*st.lock() {
                IterState::List { list, index } => list.items.lock().len().saturating_sub(*index),
                IterState::ListRev { index, .. } => *index,
                IterState::Tuple { tuple, index } => tuple.items.len().saturating_sub(*index),
                IterState::TupleRev { index, .. } => *index,
                IterState::Range { remaining, .. } => *remaining as usize,
                IterState::Dict { remaining, .. } => *remaining,
                IterState::Set { set, used, .. } => set.len().min(*used),
                _ => 0,
            },
            _ => 0,
        },
        _ => 0,
    };
    Ok(Value::Int(n as i64))
}

fn enumerate_new(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let rest = args.get(1..).unwrap_or(&[]);
    let mut iterable = rest.first().cloned();
    let mut start = rest.get(1).cloned();
    if rest.len() > 2 {
        return Err(PyErr::type_error(format!(
            "enumerate() takes at most 2 arguments ({} given)",
            rest.len() + kw.len()
        )));
    }
    for (k, v) in kw {
        match &**k {
            "iterable" if iterable.is_none() => iterable = Some(v.clone()),
            "start" if start.is_none() => start = Some(v.clone()),
            other => {
                return Err(PyErr::type_error(format!(
                    "'{other}' is an invalid keyword argument for enumerate()"
                )))
            }
        }
    }
    let Some(iterable) = iterable else {
        return Err(PyErr::type_error(
            "enumerate() missing required argument 'iterable'",
        ));
    };
    let count = match start {
        Some(s) => index_value(vm, &s)?,
        None => 0,
    };
    let it = vm.iter(&iterable)?;
    Ok(make_iter(IterState::Enumerate { it, count }))
}

fn zip_new(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let mut strict = false;
    if kw.len() > 1 {
        return Err(PyErr::type_error(format!(
            "zip() takes at most 1 keyword argument ({} given)",
            kw.len()
        )));
    }
    for (k, v) in kw {
        if &**k == "strict" {
            strict = vm.is_true(v)?;
        } else {
            return Err(PyErr::type_error(format!(
                "'{k}' is an invalid keyword argument for zip()"
            )));
        }
    }
    let mut its = Vec::with_capacity(args.len().saturating_sub(1));
    for a in args.get(1..).unwrap_or(&[]) {
        its.push(vm.iter(a)?);
    }
    Ok(make_iter(IterState::Zip {
        its: its.into(),
        strict,
    }))
}

fn map_new(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    if !kw.is_empty() {
        return Err(PyErr::type_error("map() takes no keyword arguments"));
    }
    let rest = args.get(1..).unwrap_or(&[]);
    if rest.len() < 2 {
        return Err(PyErr::type_error("map() must have at least two arguments."));
    }
    let mut its = Vec::with_capacity(rest.len() - 1);
    for a in &rest[1..] {
        its.push(vm.iter(a)?);
    }
    Ok(make_iter(IterState::Map {
        func: rest[0].clone(),
        its: its.into(),
    }))
}

fn filter_new(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    if !kw.is_empty() {
        return Err(PyErr::type_error("filter() takes no keyword arguments"));
    }
    let rest = args.get(1..).unwrap_or(&[]);
    arity("filter", rest, 2, 2)?;
    let it = vm.iter(&rest[1])?;
    Ok(make_iter(IterState::Filter {
        func: rest[0].clone(),
        it,
    }))
}

fn reversed_new(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    if !kw.is_empty() {
        return Err(PyErr::type_error("reversed() takes no keyword arguments"));
    }
    let rest = args.get(1..).unwrap_or(&[]);
    arity("reversed", rest, 1, 1)?;
    vm.reversed(&rest[0])
}

fn noop_init(_vm: &mut Vm, _args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::None)
}

/// `iter(obj)` / `iter(callable, sentinel)`.
pub fn builtin_iter(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    crate::vm::builtins::no_kwargs("iter", kw)?;
    arity("iter", args, 1, 2)?;
    if let Some(sentinel) = args.get(1) {
        if !crate::vm::builtins::is_callable(&args[0]) {
            return Err(PyErr::type_error("iter(v, w): v must be callable"));
        }
        return Ok(make_iter(IterState::Callable {
            func: args[0].clone(),
            sentinel: sentinel.clone(),
        }));
    }
    vm.iter(&args[0])
}

/// `next(it[, default])`.
pub fn builtin_next(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    crate::vm::builtins::no_kwargs("next", kw)?;
    arity("next", args, 1, 2)?;
    let it = &args[0];
    let is_iter = match it {
        Value::Object(o) => {
            matches!(o.kind, ObjKind::Iter(_) | ObjKind::Generator(_))
                || class_lookup(&o.class, "__next__").is_some()
        }
        _ => class_lookup(types().class_of(it), "__next__").is_some(),
    };
    if !is_iter {
        return Err(PyErr::type_error(format!(
            "'{}' object is not an iterator",
            type_name(it)
        )));
    }
    match args.get(1) {
        None => match it {
            // Instances: let their StopIteration (with its value) through.
            Value::Instance(_) => {
                let f = class_lookup(types().class_of(it), "__next__").unwrap_or(Value::None);
                vm.call(&f, std::slice::from_ref(it), &[])
            }
            _ => match vm.next(it)? {
                Some(v) => Ok(v),
                None => match it {
                    Value::Object(o) if matches!(o.kind, ObjKind::Generator(_)) => {
                        let v = vm.take_stop_value();
                        Err(if v.is_none() {
                            stop_iteration()
                        } else {
                            PyErr::with_args(ExcKind::StopIteration, vec![v])
                        })
                    }
                    _ => Err(stop_iteration()),
                },
            },
        },
        Some(default) => Ok(vm.next(it)?.unwrap_or_else(|| default.clone())),
    }
}

pub fn install(t: &Types) {
    for name in ITER_CLASSES {
        let c = t.iterator_class(name);
        method(&c, "__iter__", iter_self);
        method(&c, "__next__", iter_next);
        method(&c, "__length_hint__", iter_length_hint);
    }
    for (name, f) in [
        ("enumerate", enumerate_new as crate::vm::value::NativeFn),
        ("zip", zip_new),
        ("map", map_new),
        ("filter", filter_new),
        ("reversed", reversed_new),
    ] {
        let c = t.iterator_class(name);
        constructor(&c, f);
        method_kw(&c, "__init__", noop_init);
    }

    let r = &t.range;
    constructor(r, range_new);
    method_kw(r, "__init__", noop_init);
    method(r, "__len__", range_len_m);
    method(r, "__iter__", range_iter_m);
    method(r, "__reversed__", range_reversed_m);
    method(r, "__contains__", range_contains_m);
    method(r, "__getitem__", range_getitem_m);
    method(r, "__eq__", range_eq_m);
    method(r, "__ne__", range_ne_m);
    method(r, "__hash__", range_hash_m);
    method(r, "__repr__", range_repr_m);
    method(r, "__bool__", range_bool);
    method(r, "count", range_count_m);
    method(r, "index", range_index_m);
    getter(t, r, "start", range_start);
    getter(t, r, "stop", range_stop);
    getter(t, r, "step", range_step);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_lengths() {
        assert_eq!(range_len(0, 10, 1), 10);
        assert_eq!(range_len(0, 10, 3), 4);
        assert_eq!(range_len(10, 0, -3), 4);
        assert_eq!(range_len(5, 0, 1), 0);
        assert_eq!(range_len(i64::MIN, i64::MAX, 1), u64::MAX);
        assert_eq!(range_item(2, 8, 3, 1), Some(5));
        assert_eq!(range_item(2, 8, 3, 2), None);
    }

    #[test]
    fn range_equality() {
        assert!(range_eq((0, 0, 1), (5, 2, 3)));
        assert!(range_eq((0, 3, 2), (0, 4, 2)));
        assert!(range_eq((1, 2, 5), (1, 3, 7)));
        assert!(!range_eq((0, 3, 1), (0, 3, 2)));
    }
}
