//! `type.__subclasses__()`: which classes name a class as a direct base.
//!
//! Classes do not point at their subclasses (a subclass owns its bases, so
//! the reverse link would make a reference cycle). Instead a process-wide
//! registry keeps, for each class with subclasses, a list of *weak*
//! references to the classes created from it, in creation order: the
//! registry never keeps a class alive, and entries of freed classes are
//! dropped the next time the list is read. Keys are class addresses; a base
//! cannot be freed while a live subclass owns it, so a reused address only
//! ever finds dead entries, which are skipped.
//!
//! Built-in classes are not registered (they are made before the registry
//! could be used); their built-in subclasses (`bool` of `int`, the exception
//! hierarchy) are found by scanning the built-in types, and come first, as
//! in CPython where they exist from startup.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use crate::vm::error::{PyErr, PyResult};
use crate::vm::interp::{type_name, Vm};
use crate::vm::types::types;
use crate::vm::value::{Class, Kwargs, Value};

type Registry = HashMap<usize, Vec<Weak<Class>>>;

static REGISTRY: Mutex<Option<Registry>> = Mutex::new(None);

fn key(c: &Arc<Class>) -> usize {
    Arc::as_ptr(c) as usize
}

/// Record `class` as a subclass of each of its bases (called once, when a
/// class statement or `type(name, bases, ns)` creates it).
pub fn register(class: &Arc<Class>) {
    let mut reg = REGISTRY.lock();
    let reg = reg.get_or_insert_with(HashMap::new);
    for b in &class.bases {
        let list = reg.entry(key(b)).or_default();
        // Forget freed subclasses now and then, so a base whose subclasses
        // come and go (classes made in a loop) keeps a short list.
        if list.len() >= 16 && list.len().is_power_of_two() {
            list.retain(|w| w.strong_count() > 0);
        }
        list.push(Arc::downgrade(class));
    }
}

/// The live direct subclasses of `class`, built-in ones first, then the
/// others in creation order.
pub fn subclasses(class: &Arc<Class>) -> Vec<Arc<Class>> {
    let t = types();
    let builtins = [
        &t.object,
        &t.type_,
        &t.none,
        &t.bool_,
        &t.int,
        &t.float,
        &t.str_,
        &t.bytes,
        &t.list,
        &t.tuple,
        &t.dict,
        &t.set,
        &t.frozenset,
        &t.function,
        &t.builtin_function,
        &t.method,
        &t.module,
        &t.range,
        &t.slice,
        &t.cell,
        &t.code,
        &t.property,
        &t.staticmethod,
        &t.classmethod,
        &t.super_,
        &t.not_implemented_type,
        &t.ellipsis_type,
        &t.generator,
        &t.coroutine,
    ];
    let mut out: Vec<Arc<Class>> = builtins
        .into_iter()
        .chain(t.exceptions())
        .filter(|c| c.bases.iter().any(|b| Arc::ptr_eq(b, class)))
        .cloned()
        .collect();
    let mut reg = REGISTRY.lock();
    if let Some(list) = reg.as_mut().and_then(|r| r.get_mut(&key(class))) {
        list.retain(|w| w.strong_count() > 0);
        out.extend(list.iter().filter_map(Weak::upgrade));
    }
    out
}

/// `cls.__subclasses__()`.
pub fn type_subclasses(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    match args {
        [Value::Class(c)] => Ok(Value::list(
            subclasses(c).into_iter().map(Value::Class).collect(),
        )),
        [Value::Class(c), rest @ ..] => Err(PyErr::type_error(format!(
            "{}.__subclasses__() takes no arguments ({} given)",
            c.name,
            rest.len()
        ))),
        [other, ..] => Err(PyErr::type_error(format!(
            "descriptor '__subclasses__' for 'type' objects doesn't apply to a '{}' object",
            type_name(other)
        ))),
        [] => Err(PyErr::type_error(
            "descriptor '__subclasses__' of 'type' object needs an argument",
        )),
    }
}
