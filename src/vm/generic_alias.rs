//! `types.GenericAlias`: what `list[int]`, `dict[str, int]`, `tuple[int, ...]`
//! and `type[C]` evaluate to (PEP 585). It prints as the hint, calls its
//! origin, subclasses as its origin (`__mro_entries__`), and forwards every
//! other attribute to the origin, as CPython's does.

use std::sync::{Arc, OnceLock};

use crate::stdlib::{downcast, native_object, NativeClass};
use crate::vm::error::{ExcKind, PyErr, PyResult};
use crate::vm::interp::Vm;
use crate::vm::types::types;
use crate::vm::value::{Kwargs, Value};

pub struct GenericAlias {
    pub origin: Value,
    /// Always a tuple.
    pub args: Value,
}

pub(crate) fn alias_class() -> &'static NativeClass {
    static CLASS: OnceLock<NativeClass> = OnceLock::new();
    CLASS.get_or_init(|| {
        NativeClass::new(
            "GenericAlias",
            "types",
            &[
                ("__repr__", ga_repr),
                ("__call__", ga_call),
                ("__getattribute__", ga_getattribute),
                ("__getitem__", ga_getitem),
                ("__mro_entries__", ga_mro_entries),
                ("__instancecheck__", ga_instancecheck),
                ("__subclasscheck__", ga_subclasscheck),
                ("__or__", ga_or),
                ("__ror__", ga_ror),
                ("__eq__", ga_eq),
                ("__hash__", ga_hash),
            ],
            &[("__new__", ga_new)],
        )
    })
}

/// `origin[args]` (`args` a tuple, or one argument).
pub fn new_alias(origin: Value, args: Value) -> Value {
    let args = match args {
        Value::Tuple(_) => args,
        other => Value::tuple(vec![other]),
    };
    native_object(&alias_class().class, GenericAlias { origin, args })
}

/// The alias `v` is, if it is one.
pub fn as_alias(v: &Value) -> Option<&GenericAlias> {
    downcast::<GenericAlias>(v)
}

fn tuple_items(v: &Value) -> &[Value] {
    match v {
        Value::Tuple(t) => &t.items,
        _ => &[],
    }
}

fn this(args: &[Value]) -> PyResult<&GenericAlias> {
    args.first()
        .and_then(as_alias)
        .ok_or_else(|| PyErr::type_error("descriptor requires a 'types.GenericAlias' object"))
}

/// How a type hint shows one of its arguments (CPython's `ga_repr_item`):
/// `...`, another alias by its repr, a class or function as
/// `module.qualname` (builtins without the module), anything else by repr.
pub fn repr_item(vm: &mut Vm, p: &Value) -> PyResult<String> {
    if p.is(&types().ellipsis) {
        return Ok("...".into());
    }
    if vm.get_attr_opt(p, "__origin__")?.is_some() && vm.get_attr_opt(p, "__args__")?.is_some() {
        return vm.repr(p);
    }
    let Some(qualname) = vm.get_attr_opt(p, "__qualname__")? else {
        return vm.repr(p);
    };
    let module = match vm.get_attr_opt(p, "__module__")? {
        None | Some(Value::None) => return vm.repr(p),
        Some(m) => m,
    };
    let qualname = vm.to_str(&qualname)?;
    let module = vm.to_str(&module)?;
    Ok(if module == "builtins" {
        qualname
    } else {
        format!("{module}.{qualname}")
    })
}

fn ga_repr(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let a = this(args)?;
    let (origin, items) = (a.origin.clone(), a.args.clone());
    vm.at_level("", |vm| alias_text(vm, &origin, tuple_items(&items)))
        .map(Value::from_string)
}

fn alias_text(vm: &mut Vm, origin: &Value, items: &[Value]) -> PyResult<String> {
    let mut s = repr_item(vm, origin)?;
    s.push('[');
    if items.is_empty() {
        s.push_str("()");
    }
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&repr_item(vm, item)?);
    }
    s.push(']');
    Ok(s)
}

/// `list[int]([1, 2])`: the origin's instance, told its alias when it takes
/// attributes (`__orig_class__`), as CPython does.
fn ga_call(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let origin = this(args)?.origin.clone();
    let obj = vm.call(&origin, &args[1..], kw)?;
    match vm.set_attr(&obj, "__orig_class__", args[0].clone()) {
        Err(e) if !e.matches(ExcKind::AttributeError) && !e.matches(ExcKind::TypeError) => Err(e),
        _ => Ok(obj),
    }
}

/// Names the alias answers itself; CPython forwards all others to the origin.
const OWN_ATTRS: [&str; 11] = [
    "__class__",
    "__origin__",
    "__args__",
    "__unpacked__",
    "__parameters__",
    "__typing_unpacked_tuple_args__",
    "__mro_entries__",
    "__reduce_ex__",
    "__reduce__",
    "__copy__",
    "__deepcopy__",
];

fn ga_getattribute(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let a = this(args)?;
    let name = match args.get(1) {
        Some(Value::Str(s)) => s.clone(),
        _ => return Err(PyErr::type_error("attribute name must be string")),
    };
    let name = name.as_str();
    if !OWN_ATTRS.contains(&name) {
        let origin = a.origin.clone();
        return vm.get_attr(&origin, name);
    }
    match name {
        "__class__" => Ok(Value::Class(alias_class().class.clone())),
        "__origin__" => Ok(a.origin.clone()),
        "__args__" => Ok(a.args.clone()),
        "__unpacked__" => Ok(Value::Bool(false)),
        "__parameters__" => Ok(Value::tuple(parameters(vm, tuple_items(&a.args))?)),
        "__mro_entries__" => Ok(Value::BoundMethod(Arc::new(
            crate::vm::value::BoundMethod {
                func: alias_class()
                    .method("__mro_entries__")
                    .unwrap_or(Value::None),
                receiver: args[0].clone(),
            },
        ))),
        _ => Err(PyErr::attribute_error(format!(
            "'types.GenericAlias' object has no attribute '{name}'"
        ))),
    }
}

/// A `typing.TypeVar` (the type variables a hint is generic in).
fn is_typevar(v: &Value) -> bool {
    match v {
        Value::Instance(i) => {
            let c = &i.class;
            c.name == *"TypeVar" && &*c.module == "typing"
        }
        _ => false,
    }
}

/// The type variables in `args`, in first-seen order without repeats,
/// including those of nested hints (`dict[str, list[T]]`).
pub fn parameters(vm: &mut Vm, args: &[Value]) -> PyResult<Vec<Value>> {
    let mut params: Vec<Value> = Vec::new();
    let mut add = |p: Value| {
        if !params.iter().any(|q| q.is(&p)) {
            params.push(p);
        }
    };
    for a in args {
        if is_typevar(a) {
            add(a.clone());
        } else if !matches!(a, Value::Class(_)) {
            if let Some(Value::Tuple(t)) = vm.get_attr_opt(a, "__parameters__")? {
                for p in t.items.iter() {
                    add(p.clone());
                }
            }
        }
    }
    Ok(params)
}

/// `list[T][int]`: the alias with its type variables replaced.
fn ga_getitem(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let a = this(args)?;
    let (origin, items) = (a.origin.clone(), a.args.clone());
    let key = args.get(1).cloned().unwrap_or(Value::None);
    let out = substitute(vm, &args[0], tuple_items(&items), &key)?;
    Ok(new_alias(origin, Value::tuple(out)))
}

/// `hint[key]` for a hint (`me`) with arguments `items`: the arguments with
/// the hint's type variables replaced by `key`'s items, in order.
pub fn substitute(vm: &mut Vm, me: &Value, items: &[Value], key: &Value) -> PyResult<Vec<Value>> {
    let params = parameters(vm, items)?;
    if params.is_empty() {
        let me = vm.repr(me)?;
        return Err(PyErr::type_error(format!("{me} is not a generic class")));
    }
    let given: Vec<Value> = match key {
        Value::Tuple(t) => t.items.to_vec(),
        other => vec![other.clone()],
    };
    if given.len() != params.len() {
        let me = vm.repr(me)?;
        let which = if given.len() > params.len() {
            "many"
        } else {
            "few"
        };
        return Err(PyErr::type_error(format!(
            "Too {which} arguments for {me}; actual {}, expected {}",
            given.len(),
            params.len()
        )));
    }
    let mut out = Vec::new();
    for arg in items {
        if let Some(i) = params.iter().position(|p| p.is(arg)) {
            out.push(given[i].clone());
            continue;
        }
        let inner = if matches!(arg, Value::Class(_)) {
            Vec::new()
        } else {
            match vm.get_attr_opt(arg, "__parameters__")? {
                Some(Value::Tuple(t)) => t.items.to_vec(),
                _ => Vec::new(),
            }
        };
        if inner.is_empty() {
            out.push(arg.clone());
            continue;
        }
        let sub: Vec<Value> = inner
            .iter()
            .map(|p| match params.iter().position(|q| q.is(p)) {
                Some(i) => given[i].clone(),
                None => p.clone(),
            })
            .collect();
        out.push(vm.get_item(arg, &Value::tuple(sub))?);
    }
    Ok(out)
}

fn ga_mro_entries(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let a = this(args)?;
    if args.len() != 2 {
        return Err(PyErr::type_error(format!(
            "GenericAlias.__mro_entries__() takes exactly one argument ({} given)",
            args.len() - 1
        )));
    }
    Ok(Value::tuple(vec![a.origin.clone()]))
}

fn ga_instancecheck(_vm: &mut Vm, _args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Err(PyErr::type_error(
        "isinstance() argument 2 cannot be a parameterized generic",
    ))
}

fn ga_subclasscheck(_vm: &mut Vm, _args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Err(PyErr::type_error(
        "issubclass() argument 2 cannot be a parameterized generic",
    ))
}

fn ga_or(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    crate::vm::union::binary(vm, args, false)
}

fn ga_ror(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    crate::vm::union::binary(vm, args, true)
}

/// Equal when the origins and the argument tuples are.
fn ga_eq(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let a = this(args)?;
    let Some(b) = args.get(1).and_then(as_alias) else {
        return Ok(types().not_implemented.clone());
    };
    let (ao, aa, bo, ba) = (
        a.origin.clone(),
        a.args.clone(),
        b.origin.clone(),
        b.args.clone(),
    );
    Ok(Value::Bool(vm.eq(&ao, &bo)? && vm.eq(&aa, &ba)?))
}

fn ga_hash(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let a = this(args)?;
    let (origin, items) = (a.origin.clone(), a.args.clone());
    let h = vm.hash(&origin)? ^ vm.hash(&items)?;
    Ok(Value::Int(if h == -1 { -2 } else { h }))
}

/// `types.GenericAlias(origin, args)`.
fn ga_new(_vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    if !kw.is_empty() {
        return Err(PyErr::type_error(
            "GenericAlias() takes no keyword arguments",
        ));
    }
    match args {
        [_, origin, items] => Ok(new_alias(origin.clone(), items.clone())),
        _ => Err(PyErr::type_error(format!(
            "GenericAlias expected 2 arguments, got {}",
            args.len().saturating_sub(1)
        ))),
    }
}
