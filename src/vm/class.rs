//! Classes: `__build_class__`, class creation, `super`, instance creation
//! and attribute lookup through the MRO.

use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;

use crate::vm::brc::Brc;
use crate::vm::error::{ExcKind, PyErr, PyResult};
use crate::vm::frame::Frame;
use crate::vm::interp::run::Exit;
use crate::vm::interp::{native, type_name, Vm};
use crate::vm::types::{new_class, types, Types};
use crate::vm::value::NativeFn;
use crate::vm::value::{
    AttrMap, Class, ExcData, Instance, InstanceBase, Kwargs, Layout, ObjKind, Object, PyDict,
    PySet, PyStr, Value,
};

/// Is `a` the class `b` or a subclass of it?
#[inline]
pub fn is_subclass(a: &Arc<Class>, b: &Arc<Class>) -> bool {
    Arc::ptr_eq(a, b) || a.mro.iter().any(|c| Arc::ptr_eq(c, b))
}

/// `name` looked up in `class` and its MRO, with the class that defines it.
pub fn lookup_owner(class: &Arc<Class>, name: &str) -> Option<(Arc<Class>, Value)> {
    if let Some(v) = class.attrs.lock().get(name) {
        return Some((class.clone(), v.clone()));
    }
    for c in &class.mro {
        if let Some(v) = c.attrs.lock().get(name) {
            return Some((c.clone(), v.clone()));
        }
    }
    None
}

/// `name` looked up in `class` and its MRO.
pub fn lookup(class: &Arc<Class>, name: &str) -> Option<Value> {
    if let Some(v) = class.attrs.lock().get(name) {
        return Some(v.clone());
    }
    class
        .mro
        .iter()
        .find_map(|c| c.attrs.lock().get(name).cloned())
}

/// A new instance of `class` with the built-in part its layout needs
/// (exceptions get their state; subclasses of list, dict, ... an empty value).
pub fn new_instance(class: &Arc<Class>) -> Value {
    new_instance_of(class.clone())
}

/// [`new_instance`], taking over the caller's reference to the class (one
/// atomic count update less per instantiation).
pub fn new_instance_of(class: Arc<Class>) -> Value {
    let base = match class.layout {
        Layout::BaseException => InstanceBase::Exception(Box::new(ExcData::new(Vec::new()))),
        Layout::Int => InstanceBase::Builtin(Mutex::new(Value::Int(0))),
        Layout::Bool => InstanceBase::Builtin(Mutex::new(Value::Bool(false))),
        Layout::Float => InstanceBase::Builtin(Mutex::new(Value::Float(0.0))),
        Layout::Str => InstanceBase::Builtin(Mutex::new(Value::str(""))),
        Layout::Bytes => InstanceBase::Builtin(Mutex::new(Value::Bytes(Arc::new(Vec::new())))),
        Layout::ByteArray => InstanceBase::Builtin(Mutex::new(Value::bytearray(Vec::new()))),
        Layout::List => InstanceBase::Builtin(Mutex::new(Value::list(Vec::new()))),
        Layout::Tuple => InstanceBase::Builtin(Mutex::new(Value::tuple(Vec::new()))),
        Layout::Dict => InstanceBase::Builtin(Mutex::new(Value::Dict(Brc::new(PyDict::new())))),
        Layout::Set => InstanceBase::Builtin(Mutex::new(Value::Set(Arc::new(PySet {
            table: Mutex::new(Default::default()),
        })))),
        Layout::FrozenSet => InstanceBase::Builtin(Mutex::new(Value::FrozenSet(Arc::new(PySet {
            table: Mutex::new(Default::default()),
        })))),
        _ => InstanceBase::Plain,
    };
    let inst = Instance::new(class, base);
    if crate::vm::finalize::enabled() && crate::vm::ops::has_finalizer(&inst.class) {
        return Value::Instance(Brc::new_shared(inst));
    }
    Value::Instance(Brc::new(inst))
}

/// `__build_class__(func, name, *bases, metaclass=None, **kw)`.
pub fn build_class(vm: &mut Vm, args: &[Value], kwargs: Kwargs) -> PyResult<Value> {
    if args.len() < 2 {
        return Err(PyErr::type_error("__build_class__: not enough arguments"));
    }
    let Value::Function(func) = &args[0] else {
        return Err(PyErr::type_error(
            "__build_class__: func must be a function",
        ));
    };
    let Some(name) = args[1].as_str() else {
        return Err(PyErr::type_error("__build_class__: name is not a string"));
    };
    let mut metaclass = None;
    let mut class_kw = Vec::new();
    for (k, v) in kwargs {
        if &**k == "metaclass" {
            metaclass = Some(v.clone());
        } else {
            class_kw.push((k.clone(), v.clone()));
        }
    }
    let mut bases = Vec::new();
    let mut resolved = false;
    for b in &args[2..] {
        match b {
            Value::Class(c) => bases.push(c.clone()),
            other => {
                // PEP 560: a non-class base may name the classes to use instead
                // (`class P(NamedTuple)`, `class Box(Generic[T])`).
                let entries = match other {
                    Value::Instance(_) | Value::Object(_) | Value::Function(_) => {
                        vm.get_attr_opt(other, "__mro_entries__")?
                    }
                    _ => None,
                };
                let Some(entries) = entries else {
                    return Err(PyErr::type_error(format!(
                        "bases must be types, not {}",
                        type_name(other)
                    )));
                };
                let orig = Value::tuple(args[2..].to_vec());
                let got = vm.call(&entries, &[orig], &[])?;
                let Value::Tuple(t) = &got else {
                    return Err(PyErr::type_error("__mro_entries__ must return a tuple"));
                };
                for c in t.items.iter() {
                    match c {
                        Value::Class(c) => bases.push(c.clone()),
                        other => {
                            return Err(PyErr::type_error(format!(
                                "bases must be types, not {}",
                                type_name(other)
                            )))
                        }
                    }
                }
                resolved = true;
            }
        }
    }
    let t = types();
    // The metaclass: the explicit one or `type`, made the most derived of
    // the bases' metaclasses. A function given as `metaclass=` is called
    // as it is.
    let meta = match metaclass {
        Some(Value::Class(m)) => Value::Class(most_derived_meta(&m, &bases)?),
        Some(other) => other,
        None => Value::Class(most_derived_meta(&t.type_, &bases)?),
    };
    let plain = matches!(&meta, Value::Class(c) if Arc::ptr_eq(c, &t.type_));
    let bases_t = || Value::tuple(bases.iter().cloned().map(Value::Class).collect());
    // `__prepare__` (a custom metaclass's) gives the namespace the body runs in.
    let (ns, ns_value) = match &meta {
        Value::Class(_) if !plain => match vm.get_attr_opt(&meta, "__prepare__")? {
            Some(prepare) => {
                let got = vm.call(&prepare, &[args[1].clone(), bases_t()], &class_kw)?;
                match prepared_dict(&got) {
                    Some(d) => (d, got),
                    // Any other mapping: the body's names go through it
                    // (the dict is a scratch one, never read).
                    None if !matches!(got, Value::Dict(_))
                        && vm.get_attr_opt(&got, "__getitem__")?.is_some() =>
                    {
                        (Brc::new(PyDict::new()), got)
                    }
                    None => {
                        return Err(PyErr::type_error(format!(
                            "{}.__prepare__() must return a mapping, not {}",
                            type_name_of_class(&meta),
                            type_name(&got)
                        )))
                    }
                }
            }
            None => {
                let d = Brc::new(PyDict::new());
                (d.clone(), Value::Dict(d))
            }
        },
        _ => {
            let d = Brc::new(PyDict::new());
            (d.clone(), Value::Dict(d))
        }
    };
    // A namespace that is not a plain dict sees every store through its
    // `__setitem__`.
    let custom = !matches!(ns_value, Value::Dict(_));
    let store = |vm: &mut Vm, key: &str, v: Value| -> PyResult<()> {
        if custom {
            vm.set_item(&ns_value, &Value::str(key), v)
        } else {
            ns.set(key, v);
            Ok(())
        }
    };
    // The body stores them too; a custom namespace sees only those stores.
    if !custom {
        if let Some(m) = func.globals.get_str(&PyStr::new("__name__")) {
            ns.set("__module__", m);
        }
        ns.set("__qualname__", Value::str(&func.qualname));
    }

    let code = &func.code.code;
    let slots = vm.take_vec(code.varnames.len() + code.max_stack as usize);
    let mut frame = Frame::new(func.clone(), slots);
    frame.set_locals(ns.clone());
    if custom {
        frame.set_mapping(ns_value.clone());
    }
    let body_result = match vm.run_frame(frame, None)? {
        Exit::Return(v) => v,
        Exit::Yield(_, f) => {
            vm.recycle(f);
            return Err(PyErr::new(ExcKind::SystemError, "class body yielded"));
        }
    };
    if resolved {
        store(vm, "__orig_bases__", Value::tuple(args[2..].to_vec()))?;
    }
    // The body returns the `__class__` cell when methods use it (zero-argument super).
    let cell = match &body_result {
        Value::Object(o) => match &o.kind {
            ObjKind::Cell(cell) => Some(cell.clone()),
            _ => None,
        },
        _ => None,
    };
    if plain {
        let class = create_class(vm, name, bases, &ns, &class_kw, &t.type_)?;
        if let Some(cell) = cell {
            *cell.value.lock() = Value::Class(class.clone());
        }
        return Ok(Value::Class(class));
    }
    // As in CPython, the metaclass sees the cell as `__classcell__` in the
    // namespace, and `type.__new__` fills it in.
    if cell.is_some() {
        store(vm, "__classcell__", body_result.clone())?;
    }
    let made = vm.call(&meta, &[args[1].clone(), bases_t(), ns_value], &class_kw)?;
    if let (Some(cell), Value::Class(_)) = (cell, &made) {
        *cell.value.lock() = made.clone();
    }
    Ok(made)
}

/// The dict a `__prepare__` result keeps the class body's names in: a dict,
/// or the dict inside an instance of a dict subclass.
fn prepared_dict(v: &Value) -> Option<Brc<PyDict>> {
    match v {
        Value::Dict(d) => Some(d.clone()),
        Value::Instance(i) => match &i.base {
            InstanceBase::Builtin(b) => match &*b.lock() {
                Value::Dict(d) => Some(d.clone()),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

fn type_name_of_class(v: &Value) -> String {
    match v {
        Value::Class(c) => c.name.to_string(),
        other => type_name(other).to_string(),
    }
}

/// CPython's "most derived metaclass": `meta` or the metaclass of a base,
/// whichever is a subclass of all the others.
pub fn most_derived_meta(meta: &Arc<Class>, bases: &[Arc<Class>]) -> PyResult<Arc<Class>> {
    let t = types();
    let mut winner = meta.clone();
    for b in bases {
        let bm = b.meta.as_ref().unwrap_or(&t.type_);
        if is_subclass(&winner, bm) {
            continue;
        }
        if is_subclass(bm, &winner) {
            winner = bm.clone();
            continue;
        }
        return Err(PyErr::type_error(
            "metaclass conflict: the metaclass of a derived class must be a (non-strict) \
             subclass of the metaclasses of all its bases",
        ));
    }
    Ok(winner)
}

/// Create a class from a namespace (the work of `type.__new__(meta, name,
/// bases, ns)`); `meta` is the class's metaclass.
pub fn create_class(
    vm: &mut Vm,
    name: &str,
    bases: Vec<Arc<Class>>,
    ns: &PyDict,
    class_kw: Kwargs,
    meta: &Arc<Class>,
) -> PyResult<Arc<Class>> {
    let t = types();
    let bases = if bases.is_empty() {
        vec![t.object.clone()]
    } else {
        bases
    };
    let mut layout = Layout::Object;
    for b in &bases {
        if !acceptable_base(t, b) {
            return Err(PyErr::type_error(format!(
                "type '{}' is not an acceptable base type",
                b.name
            )));
        }
        let l = match b.layout {
            Layout::Other => Layout::Object,
            l => l,
        };
        if l == Layout::Object {
            continue;
        }
        if layout == Layout::Object {
            layout = l;
        } else if layout != l {
            return Err(PyErr::type_error(
                "multiple bases have instance lay-out conflict",
            ));
        }
    }
    let mut attrs = AttrMap::for_class();
    let mut classcell = None;
    let mut qualname: Arc<str> = name.into();
    let mut module: Arc<str> = "__main__".into();
    for (k, v) in ns.items() {
        let Value::Str(k) = k else { continue };
        let key = k.as_str();
        match key {
            "__classcell__" => {
                if let Value::Object(o) = &v {
                    if let ObjKind::Cell(c) = &o.kind {
                        classcell = Some(c.clone());
                    }
                }
                continue;
            }
            "__qualname__" => {
                if let Some(q) = v.as_str() {
                    qualname = q.into();
                }
                continue;
            }
            "__module__" => {
                if let Some(m) = v.as_str() {
                    module = m.into();
                }
            }
            _ => {}
        }
        crate::vm::finalize::note_del(key);
        let v = match (key, &v) {
            ("__new__", Value::Function(_)) => wrap(&t.staticmethod, ObjKind::StaticMethod(v)),
            ("__init_subclass__" | "__class_getitem__", Value::Function(_)) => {
                wrap(&t.classmethod, ObjKind::ClassMethod(v))
            }
            _ => v,
        };
        attrs.insert(key.into(), v);
    }
    // As in CPython, every class has its own `__doc__` (None without a
    // docstring), so a parent's docstring is not inherited.
    if attrs.get("__doc__").is_none() {
        attrs.insert("__doc__".into(), Value::None);
    }
    // As in CPython: a class that defines `__eq__` but not `__hash__` is unhashable.
    if attrs.get("__eq__").is_some() && attrs.get("__hash__").is_none() {
        attrs.insert("__hash__".into(), Value::None);
    }
    let mut class = new_class(name, &module, bases, layout, attrs).map_err(PyErr::type_error)?;
    if let Some(c) = Arc::get_mut(&mut class) {
        c.qualname = qualname.into();
        if !Arc::ptr_eq(meta, &t.type_) {
            c.meta = Some(meta.clone());
        }
    }
    if let Some(cell) = classcell {
        *cell.value.lock() = Value::Class(class.clone());
    }
    crate::vm::subclasses::register(&class);
    let class_v = Value::Class(class.clone());
    // `__set_name__` on the attributes that define it.
    let entries: Vec<(Arc<str>, Value)> = class
        .attrs
        .lock()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (k, v) in entries {
        if let Value::Instance(i) = &v {
            if let Some(set_name) = lookup(&i.class, "__set_name__") {
                vm.call(
                    &set_name,
                    &[v.clone(), class_v.clone(), Value::str(&k)],
                    &[],
                )?;
            }
        }
    }
    // The parent's `__init_subclass__` (object's accepts no keywords).
    let parent_hook = class.mro.iter().find_map(|c| {
        c.attrs
            .lock()
            .get("__init_subclass__")
            .cloned()
            .map(|v| (c.clone(), v))
    });
    match parent_hook {
        Some((_, hook)) => {
            let f = match &hook {
                Value::Object(o) => match &o.kind {
                    ObjKind::ClassMethod(f) => f.clone(),
                    _ => hook.clone(),
                },
                _ => hook.clone(),
            };
            vm.call(&f, &[class_v], class_kw)?;
        }
        None => {
            if !class_kw.is_empty() {
                return Err(PyErr::type_error(format!(
                    "{}.__init_subclass__() takes no keyword arguments",
                    name
                )));
            }
        }
    }
    Ok(class)
}

fn acceptable_base(t: &Types, b: &Arc<Class>) -> bool {
    ![
        &t.bool_,
        &t.none,
        &t.function,
        &t.builtin_function,
        &t.method,
        &t.range,
        &t.slice,
        &t.cell,
        &t.code,
        &t.generator,
        &t.coroutine,
        &t.not_implemented_type,
        &t.ellipsis_type,
        &t.super_,
    ]
    .iter()
    .any(|c| Arc::ptr_eq(c, b))
}

fn wrap(class: &Arc<Class>, kind: ObjKind) -> Value {
    Value::Object(Arc::new(Object {
        class: class.clone(),
        kind,
    }))
}

/// `super.__new__(super, [type, obj])`: zero arguments take them from the
/// calling frame (its first argument and its `__class__` cell).
fn super_new(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let rest = args.get(1..).unwrap_or(&[]);
    let (cls, obj) = match rest.len() {
        0 => zero_arg_super(vm)?,
        1 | 2 => {
            let Value::Class(c) = &rest[0] else {
                return Err(PyErr::type_error(format!(
                    "super() argument 1 must be a type, not {}",
                    type_name(&rest[0])
                )));
            };
            (c.clone(), rest.get(1).cloned().unwrap_or(Value::None))
        }
        n => {
            return Err(PyErr::type_error(format!(
                "super() takes at most 2 arguments ({n} given)"
            )))
        }
    };
    if !obj.is_none() {
        let ok = match &obj {
            Value::Class(c) if is_subclass(c, &cls) => true,
            _ => is_subclass(types().class_of(&obj), &cls),
        };
        if !ok {
            return Err(PyErr::type_error(
                "super(type, obj): obj must be an instance or subtype of type",
            ));
        }
    }
    Ok(wrap(&types().super_, ObjKind::Super { cls, obj }))
}

fn zero_arg_super(vm: &Vm) -> PyResult<(Arc<Class>, Value)> {
    let frame = &vm.frame;
    let code = &frame.func.code.code;
    if code.argcount == 0 && code.flags & crate::compile::code::flags::VARARGS == 0 {
        return Err(PyErr::runtime_error("super(): no arguments"));
    }
    let first = match code.cell2arg.iter().position(|a| *a == Some(0)) {
        Some(ci) => frame
            .cells()
            .get(ci)
            .map(|c| c.value.lock().clone())
            .unwrap_or(Value::Null),
        None => vm
            .stack
            .get(frame.base as usize)
            .cloned()
            .unwrap_or(Value::Null),
    };
    let first = if code.argcount == 0 {
        // `def f(*args)`: the first element of the tuple.
        match vm.stack.get(frame.base as usize) {
            Some(Value::Tuple(t)) if !t.items.is_empty() => t.items[0].clone(),
            _ => return Err(PyErr::runtime_error("super(): no arguments")),
        }
    } else {
        first
    };
    if first.is_null() {
        return Err(PyErr::runtime_error("super(): arg[0] deleted"));
    }
    let Some(idx) = code.freevars.iter().position(|n| &**n == "__class__") else {
        return Err(PyErr::runtime_error("super(): __class__ cell not found"));
    };
    let cell = frame.cells().get(code.cellvars.len() + idx);
    match cell.map(|c| c.value.lock().clone()) {
        Some(Value::Class(c)) => Ok((c, first)),
        _ => Err(PyErr::runtime_error("super(): empty __class__ cell")),
    }
}

/// Attribute lookup on a `super` object: `name` in the MRO of the object's
/// type after `cls`, already bound (functions to the object, class methods
/// to its type, properties evaluated). `None` if no class after `cls` has it.
pub fn super_lookup(vm: &mut Vm, sup: &Object, name: &str) -> PyResult<Option<Value>> {
    let ObjKind::Super { cls, obj } = &sup.kind else {
        return Ok(None);
    };
    let start: Arc<Class> = match obj {
        Value::Class(c) if is_subclass(c, cls) => c.clone(),
        Value::None => cls.clone(),
        _ => types().class_of(obj).clone(),
    };
    let mut chain = std::iter::once(&start).chain(start.mro.iter());
    if !chain.any(|c| Arc::ptr_eq(c, cls)) {
        return Ok(None);
    }
    let found = chain.find_map(|c| c.attrs.lock().get(name).cloned());
    let Some(v) = found else {
        return Ok(None);
    };
    // With the type itself as the object (in a class method), functions stay unbound.
    let unbound = obj.is_none() || matches!(obj, Value::Class(c) if Arc::ptr_eq(c, &start));
    let bound = match &v {
        Value::Function(_) if !unbound => bind(v.clone(), obj.clone()),
        Value::Native(n) if n.is_method && !unbound => bind(v.clone(), obj.clone()),
        Value::Object(o) => match &o.kind {
            ObjKind::ClassMethod(f) => bind(f.clone(), Value::Class(start.clone())),
            ObjKind::StaticMethod(f) => f.clone(),
            ObjKind::Property { fget, .. } if !unbound => {
                if fget.is_none() {
                    return Err(PyErr::attribute_error(format!(
                        "property '{name}' of '{}' object has no getter",
                        start.name
                    )));
                }
                let fget = fget.clone();
                return vm.call(&fget, std::slice::from_ref(obj), &[]).map(Some);
            }
            _ => v.clone(),
        },
        _ => v.clone(),
    };
    Ok(Some(bound))
}

fn bind(func: Value, receiver: Value) -> Value {
    Value::BoundMethod(Arc::new(crate::vm::value::BoundMethod { func, receiver }))
}

fn super_repr(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let Some(Value::Object(o)) = args.first() else {
        return Ok(Value::str("<super>"));
    };
    let ObjKind::Super { cls, obj } = &o.kind else {
        return Ok(Value::str("<super>"));
    };
    Ok(Value::from_string(if obj.is_none() {
        format!("<super: <class '{}'>, NULL>", cls.name)
    } else {
        format!(
            "<super: <class '{}'>, <{} object>>",
            cls.name,
            type_name(obj)
        )
    }))
}

/// Install `super`'s constructor and repr.
pub fn install(t: &Types) {
    let mut attrs = t.super_.attrs.lock();
    attrs.insert(
        "__new__".into(),
        native("__new__", "super.__new__", super_new, false),
    );
    attrs.insert(
        "__repr__".into(),
        native("__repr__", "super.__repr__", super_repr, true),
    );
}

/// The mutating dict methods an instance's `__dict__` writes through.
const DICT_VIEW_METHODS: [(&str, NativeFn); 7] = [
    ("__setitem__", |vm, a, k| {
        dict_view_call(vm, a, k, "__setitem__")
    }),
    ("__delitem__", |vm, a, k| {
        dict_view_call(vm, a, k, "__delitem__")
    }),
    ("update", |vm, a, k| dict_view_call(vm, a, k, "update")),
    ("pop", |vm, a, k| dict_view_call(vm, a, k, "pop")),
    ("popitem", |vm, a, k| dict_view_call(vm, a, k, "popitem")),
    ("setdefault", |vm, a, k| {
        dict_view_call(vm, a, k, "setdefault")
    }),
    ("clear", |vm, a, k| dict_view_call(vm, a, k, "clear")),
];

/// Where a `__dict__` view keeps the instance it belongs to.
const DICT_VIEW_OWNER: &str = "__dict_owner__";

/// The class of `obj.__dict__`: a dict (it prints as `dict`) whose
/// mutations also update the instance's attributes.
fn dict_view_class() -> &'static Arc<Class> {
    static CLASS: OnceLock<Arc<Class>> = OnceLock::new();
    CLASS.get_or_init(|| {
        let t = types();
        let mut attrs = AttrMap::for_class();
        for (name, f) in DICT_VIEW_METHODS {
            attrs.insert(name.into(), native(name, &format!("dict.{name}"), f, true));
        }
        new_class(
            "dict",
            "builtins",
            vec![t.dict.clone()],
            Layout::Dict,
            attrs,
        )
        .unwrap_or_else(|_| t.dict.clone())
    })
}

/// `obj.__dict__` for an instance: `snapshot` (a dict of its attributes)
/// wrapped so that writes through it reach the instance.
pub fn instance_dict_view(owner: &Brc<Instance>, snapshot: Value) -> Value {
    let view = new_instance(dict_view_class());
    if let Value::Instance(v) = &view {
        if let InstanceBase::Builtin(inner) = &v.base {
            *inner.lock() = snapshot;
        }
        v.attrs
            .lock()
            .insert(DICT_VIEW_OWNER.into(), Value::Instance(owner.clone()));
    }
    view
}

/// Run dict's `method` on the view's contents, then copy the string keys
/// back into the owner's attributes.
fn dict_view_call(vm: &mut Vm, args: &[Value], kw: Kwargs, method: &str) -> PyResult<Value> {
    let Some(Value::Instance(view)) = args.first() else {
        return Err(PyErr::type_error(format!(
            "descriptor '{method}' requires a 'dict' object"
        )));
    };
    let InstanceBase::Builtin(inner) = &view.base else {
        return Err(PyErr::type_error(format!(
            "descriptor '{method}' requires a 'dict' object"
        )));
    };
    let dict = inner.lock().clone();
    let f = lookup(&types().dict, method)
        .ok_or_else(|| PyErr::type_error(format!("dict has no method '{method}'")))?;
    let mut full = Vec::with_capacity(args.len());
    full.push(dict.clone());
    full.extend_from_slice(&args[1..]);
    let result = vm.call(&f, &full, kw)?;
    let owner = view.attrs.lock().get(DICT_VIEW_OWNER).cloned();
    if let (Some(Value::Instance(owner)), Value::Dict(d)) = (owner, &dict) {
        let mut fresh = AttrMap::default();
        for (k, v) in d.items() {
            if let Value::Str(k) = k {
                fresh.insert(crate::vm::ops::intern_key(k.as_str()), v);
            }
        }
        let old = std::mem::replace(&mut *owner.attrs.lock(), fresh);
        drop(old);
    }
    Ok(result)
}
