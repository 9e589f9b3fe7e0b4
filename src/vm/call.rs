//! Calling: argument binding with CPython's messages, calls of every kind of
//! callable, and class instantiation (`__new__` then `__init__`).

use std::sync::Arc;

use crate::compile::code::flags;
use crate::vm::brc::Brc;
use crate::vm::class::is_subclass;
use crate::vm::error::{PyErr, PyResult};
use crate::vm::frame::Frame;
use crate::vm::interp::run::Exit;
use crate::vm::interp::{type_name, Vm};
use crate::vm::ops::lookup_with_owner;
use crate::vm::types::types;
use crate::vm::value::{Class, Function, Kwargs, NativeFunction, ObjKind, PyDict, PyStr, Value};

/// Keyword arguments in one of the two shapes calls produce.
#[derive(Clone, Copy)]
pub(crate) enum KwView<'a> {
    /// Names of the last `len()` positional values (the `CallKw` stack layout).
    Names(&'a [Value]),
    /// Separate (name, value) pairs (natives' `Kwargs`).
    Pairs(&'a [(Arc<str>, Value)]),
}

impl KwView<'_> {
    fn len(&self) -> usize {
        match self {
            KwView::Names(n) => n.len(),
            KwView::Pairs(p) => p.len(),
        }
    }

    /// Number of positional values in `args`.
    fn npos(&self, args: &[Value]) -> usize {
        match self {
            KwView::Names(n) => args.len().saturating_sub(n.len()),
            KwView::Pairs(_) => args.len(),
        }
    }

    fn get<'b>(&'b self, args: &'b [Value], i: usize) -> (&'b str, &'b Value) {
        match self {
            KwView::Names(n) => {
                let npos = args.len() - n.len();
                (n[i].as_str().unwrap_or(""), &args[npos + i])
            }
            KwView::Pairs(p) => (&p[i].0, &p[i].1),
        }
    }

    /// As natives want them.
    fn to_pairs(self, args: &[Value]) -> Vec<(Arc<str>, Value)> {
        (0..self.len())
            .map(|i| {
                let (k, v) = self.get(args, i);
                (Arc::from(k), v.clone())
            })
            .collect()
    }
}

/// The error for keyword `name`, which matches no parameter of `f` (that
/// has no `**kwargs`). As CPython, any positional-only parameters passed by
/// keyword are reported first, all together and in parameter order.
fn unmatched_keyword(f: &Function, args: &[Value], kw: &KwView, name: &str) -> PyErr {
    let code = &f.code.code;
    let posonly = &code.varnames[..code.posonlyargcount as usize];
    let passed: Vec<&str> = posonly
        .iter()
        .map(|p| &**p)
        .filter(|p| (0..kw.len()).any(|i| kw.get(args, i).0 == *p))
        .collect();
    if passed.is_empty() {
        PyErr::type_error(format!(
            "{}() got an unexpected keyword argument '{name}'",
            f.qualname
        ))
    } else {
        PyErr::type_error(format!(
            "{}() got some positional-only arguments passed as keyword arguments: '{}'",
            f.qualname,
            passed.join(", ")
        ))
    }
}

/// Bind `args` (and keywords) to the parameters of `f`, filling `out` with
/// the frame's local slots. CPython's checks and messages, in its order.
pub(crate) fn bind_args(
    f: &Function,
    args: &[Value],
    kw: KwView,
    out: &mut Vec<Value>,
) -> PyResult<()> {
    let code = &f.code.code;
    let npos = kw.npos(args);
    let nkw = kw.len();
    let argcount = code.argcount as usize;
    let kwonly = code.kwonlyargcount as usize;
    let posonly = code.posonlyargcount as usize;
    let total = argcount + kwonly;
    let has_varargs = code.flags & flags::VARARGS != 0;
    let has_varkw = code.flags & flags::VARKEYWORDS != 0;
    out.clear();
    out.resize(code.varnames.len(), Value::Null);

    let n = npos.min(argcount);
    out[..n].clone_from_slice(&args[..n]);
    let mut slot = total;
    if has_varargs {
        let extra = if npos > n {
            args[n..npos].to_vec()
        } else {
            Vec::new()
        };
        out[slot] = Value::tuple(extra);
        slot += 1;
    }
    let kwdict = if has_varkw {
        let d = Brc::new(PyDict::new());
        out[slot] = Value::Dict(d.clone());
        Some(d)
    } else {
        None
    };

    for i in 0..nkw {
        let (name, value) = kw.get(args, i);
        let found = (posonly..total).find(|&j| &*code.varnames[j] == name);
        match found {
            Some(j) => {
                if !out[j].is_null() {
                    return Err(PyErr::type_error(format!(
                        "{}() got multiple values for argument '{name}'",
                        f.qualname
                    )));
                }
                out[j] = value.clone();
            }
            None => match &kwdict {
                Some(d) => d.set_str(Brc::new(PyStr::new(name)), value.clone()),
                None => return Err(unmatched_keyword(f, args, &kw, name)),
            },
        }
    }
    if npos > argcount && !has_varargs {
        return Err(too_many_positional(f, npos, out));
    }
    if npos < argcount {
        let ndef = f.defaults.len().min(argcount);
        let first_default = argcount - ndef;
        let missing: Vec<&str> = (npos..first_default)
            .filter(|&i| out[i].is_null())
            .map(|i| &*code.varnames[i])
            .collect();
        if !missing.is_empty() {
            return Err(missing_arguments(f, "positional", &missing));
        }
        let start = first_default.max(npos);
        for (i, slot) in out.iter_mut().enumerate().take(argcount).skip(start) {
            if slot.is_null() {
                *slot = f.defaults[i - first_default].clone();
            }
        }
    }
    if kwonly > 0 {
        let mut missing = Vec::new();
        for (slot, name) in out[argcount..total]
            .iter_mut()
            .zip(&code.varnames[argcount..total])
        {
            if !slot.is_null() {
                continue;
            }
            let default = f
                .kwdefaults
                .as_ref()
                .and_then(|d| d.get_str(&PyStr::new(&**name)));
            match default {
                Some(v) => *slot = v,
                None => missing.push(&**name),
            }
        }
        if !missing.is_empty() {
            return Err(missing_arguments(f, "keyword-only", &missing));
        }
    }
    Ok(())
}

fn too_many_positional(f: &Function, given: usize, out: &[Value]) -> PyErr {
    let code = &f.code.code;
    let argcount = code.argcount as usize;
    let kwonly_given = (argcount..argcount + code.kwonlyargcount as usize)
        .filter(|&i| !out[i].is_null())
        .count();
    let ndef = f.defaults.len();
    let (sig, plural) = if ndef > 0 {
        (
            format!("from {} to {}", argcount - ndef.min(argcount), argcount),
            true,
        )
    } else {
        (argcount.to_string(), argcount != 1)
    };
    let kwonly_sig = if kwonly_given > 0 {
        format!(
            " positional argument{} (and {} keyword-only argument{})",
            if given != 1 { "s" } else { "" },
            kwonly_given,
            if kwonly_given != 1 { "s" } else { "" }
        )
    } else {
        String::new()
    };
    PyErr::type_error(format!(
        "{}() takes {} positional argument{} but {}{} {} given",
        f.qualname,
        sig,
        if plural { "s" } else { "" },
        given,
        kwonly_sig,
        if given == 1 && kwonly_given == 0 {
            "was"
        } else {
            "were"
        }
    ))
}

fn missing_arguments(f: &Function, kind: &str, names: &[&str]) -> PyErr {
    let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    let list = match quoted.len() {
        1 => quoted[0].clone(),
        2 => format!("{} and {}", quoted[0], quoted[1]),
        n => format!("{}, and {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    };
    PyErr::type_error(format!(
        "{}() missing {} required {} argument{}: {}",
        f.qualname,
        names.len(),
        kind,
        if names.len() == 1 { "" } else { "s" },
        list
    ))
}

/// How CPython names a callable in call errors (`_PyObject_FunctionStr`):
/// `__main__.f()`, `print()`, `str.join()`.
pub fn function_str(f: &Value) -> String {
    match f {
        Value::Function(func) => {
            let module = func
                .globals
                .get_str(&PyStr::new("__name__"))
                .and_then(|v| v.as_str().map(str::to_string));
            match module.as_deref() {
                Some(m) if m != "builtins" => format!("{m}.{}()", func.qualname),
                _ => format!("{}()", func.qualname),
            }
        }
        Value::Native(n) => {
            let q = n.qualname.strip_prefix("builtins.").unwrap_or(&n.qualname);
            format!("{q}()")
        }
        Value::BoundMethod(b) => function_str(&b.func),
        Value::Class(c) => match crate::vm::ops::class_module(c) {
            Some(m) if m != "builtins" => format!("{m}.{}()", c.qualname),
            _ => format!("{}()", c.qualname),
        },
        other => format!("{} object", type_name(other)),
    }
}

/// CPython's error for keyword arguments passed to a native that takes none:
/// "str.strip() takes no keyword arguments"; the operator slots (CPython's
/// slot wrappers: `[].__len__`, `(1).__add__`) say "wrapper __len__() takes
/// no keyword arguments".
#[cold]
fn no_kwargs_error(nf: &NativeFunction) -> PyErr {
    // Slot names that CPython exposes as slot wrappers, except where a type
    // defines the dunder as an ordinary method (`list.__getitem__`,
    // `dict.__contains__`).
    const SLOTS: &[&str] = &[
        "__abs__",
        "__add__",
        "__and__",
        "__bool__",
        "__call__",
        "__contains__",
        "__delattr__",
        "__delitem__",
        "__divmod__",
        "__eq__",
        "__float__",
        "__floordiv__",
        "__ge__",
        "__getattribute__",
        "__getitem__",
        "__gt__",
        "__hash__",
        "__iadd__",
        "__iand__",
        "__imul__",
        "__index__",
        "__init__",
        "__int__",
        "__invert__",
        "__ior__",
        "__isub__",
        "__iter__",
        "__ixor__",
        "__le__",
        "__len__",
        "__lshift__",
        "__lt__",
        "__mod__",
        "__mul__",
        "__ne__",
        "__neg__",
        "__next__",
        "__or__",
        "__pos__",
        "__pow__",
        "__radd__",
        "__rand__",
        "__rdivmod__",
        "__repr__",
        "__rfloordiv__",
        "__rlshift__",
        "__rmod__",
        "__rmul__",
        "__ror__",
        "__rpow__",
        "__rrshift__",
        "__rshift__",
        "__rsub__",
        "__rtruediv__",
        "__rxor__",
        "__setattr__",
        "__setitem__",
        "__str__",
        "__sub__",
        "__truediv__",
        "__xor__",
        "__get__",
        "__set__",
        "__delete__",
    ];
    const METHODS: &[&str] = &[
        "list.__getitem__",
        "dict.__getitem__",
        "dict.__contains__",
        "set.__contains__",
        "frozenset.__contains__",
    ];
    let msg = if SLOTS.contains(&nf.name) && !METHODS.contains(&&*nf.qualname) {
        format!("wrapper {}() takes no keyword arguments", nf.name)
    } else {
        format!("{}() takes no keyword arguments", nf.qualname)
    };
    PyErr::type_error(msg)
}

/// If instantiating `c` can run its `__init__` as an ordinary frame (the
/// default `object.__new__` and a script `__init__`), that `__init__`.
pub(crate) fn inline_init(c: &Arc<Class>) -> Option<Brc<Function>> {
    if c.layout != crate::vm::value::Layout::Object {
        return None;
    }
    // Cached per class: this runs for every instantiation.
    if !crate::vm::ops::new_is_object_new(c) {
        return None;
    }
    match lookup_with_owner(c, "__init__") {
        Some((Value::Function(f), _))
            if f.code.code.flags & (flags::GENERATOR | flags::COROUTINE) == 0 =>
        {
            Some(f)
        }
        _ => None,
    }
}

impl Vm {
    /// Call anything callable. Natives may call back into script code
    /// through this (a nested dispatch loop runs the callee).
    pub fn call(&mut self, f: &Value, args: &[Value], kwargs: Kwargs) -> PyResult<Value> {
        match f {
            Value::Native(nf) if kwargs.is_empty() || nf.takes_kwargs => {
                (nf.func)(self, args, kwargs)
            }
            _ => self.call_any(f, args, KwView::Pairs(kwargs)),
        }
    }

    /// A call whose last `kwnames.len()` arguments are keyword arguments.
    pub(crate) fn call_kw(
        &mut self,
        f: &Value,
        args: &[Value],
        kwnames: &[Value],
    ) -> PyResult<Value> {
        self.call_any(f, args, KwView::Names(kwnames))
    }

    /// Look a method up and call it (`obj.name(*args)`).
    pub fn call_method(&mut self, obj: &Value, name: &str, args: &[Value]) -> PyResult<Value> {
        let (f, recv) = self.load_method(obj, name)?;
        if recv.is_null() {
            self.call(&f, args, &[])
        } else {
            let mut full = self.take_vec(args.len() + 1);
            full.push(recv);
            full.extend_from_slice(args);
            let r = self.call(&f, &full, &[]);
            self.give_vec(full);
            r
        }
    }

    pub(crate) fn call_any(&mut self, f: &Value, args: &[Value], kw: KwView) -> PyResult<Value> {
        match f {
            Value::Function(func) => self.call_function(func, args, kw),
            Value::Native(nf) => match kw {
                KwView::Pairs([]) | KwView::Names([]) => (nf.func)(self, args, &[]),
                _ if !nf.takes_kwargs => Err(no_kwargs_error(nf)),
                KwView::Pairs(p) => (nf.func)(self, args, p),
                KwView::Names(_) => {
                    let pairs = kw.to_pairs(args);
                    let npos = kw.npos(args);
                    (nf.func)(self, &args[..npos], &pairs)
                }
            },
            Value::BoundMethod(bm) => {
                let mut full = self.take_vec(args.len() + 1);
                full.push(bm.receiver.clone());
                full.extend_from_slice(args);
                let r = self.call_any(&bm.func, &full, kw);
                self.give_vec(full);
                r
            }
            Value::Class(c) => self.instantiate(c, args, kw),
            Value::Object(o) => match &o.kind {
                ObjKind::StaticMethod(inner) => {
                    let inner = inner.clone();
                    self.call_any(&inner, args, kw)
                }
                _ => self.call_dunder_call(f, &o.class.clone(), args, kw),
            },
            Value::Instance(i) => {
                let class = i.class.clone();
                self.call_dunder_call(f, &class, args, kw)
            }
            _ => Err(not_callable(f)),
        }
    }

    /// `obj(*args)` through `type(obj).__call__`.
    fn call_dunder_call(
        &mut self,
        obj: &Value,
        class: &Arc<Class>,
        args: &[Value],
        kw: KwView,
    ) -> PyResult<Value> {
        let Some(m) = crate::vm::class::lookup(class, "__call__") else {
            return Err(not_callable(obj));
        };
        if let Value::Object(o) = &m {
            if let ObjKind::StaticMethod(inner) = &o.kind {
                let inner = inner.clone();
                return self.call_any(&inner, args, kw);
            }
        }
        let mut full = self.take_vec(args.len() + 1);
        full.push(obj.clone());
        full.extend_from_slice(args);
        // CPython reaches `__call__` from C (`slot_tp_call`), a recursion
        // level held while it runs.
        let r = self.at_level(" while calling a Python object", |vm| {
            vm.call_any(&m, &full, kw)
        });
        self.give_vec(full);
        r
    }

    /// Call a script function: bind, then run its frame in a nested loop
    /// (or wrap it in a generator).
    pub(crate) fn call_function(
        &mut self,
        func: &Brc<Function>,
        args: &[Value],
        kw: KwView,
    ) -> PyResult<Value> {
        let code = &func.code.code;
        let mut slots = self.take_vec(code.varnames.len() + code.max_stack as usize);
        if let Err(e) = bind_args(func, args, kw, &mut slots) {
            self.give_vec(slots);
            return Err(e);
        }
        let frame = Frame::new(func.clone(), slots);
        if code.flags & (flags::GENERATOR | flags::COROUTINE) != 0 {
            return Ok(self.make_generator(frame));
        }
        match self.run_frame(frame, None)? {
            Exit::Return(v) => Ok(v),
            Exit::Yield(_, frame) => {
                self.recycle(frame);
                Err(PyErr::new(
                    crate::vm::error::ExcKind::SystemError,
                    "a function frame yielded",
                ))
            }
        }
    }

    /// `cls(*args)`: through `type(cls).__call__` when a metaclass defines
    /// one, else [`Vm::instantiate_plain`].
    pub(crate) fn instantiate(
        &mut self,
        cls: &Arc<Class>,
        args: &[Value],
        kw: KwView,
    ) -> PyResult<Value> {
        if let Some(meta) = &cls.meta {
            if let Some(call) = crate::vm::ops::custom_attr(meta, "__call__") {
                let mut full = self.take_vec(args.len() + 1);
                full.push(Value::Class(cls.clone()));
                full.extend_from_slice(args);
                let r = self.call_any(&call, &full, kw);
                self.give_vec(full);
                return r;
            }
        }
        self.instantiate_plain(cls, args, kw)
    }

    /// `type.__call__(cls, *args)`: `__new__`, then `__init__` if the
    /// result is an instance of `cls`.
    pub(crate) fn instantiate_plain(
        &mut self,
        cls: &Arc<Class>,
        args: &[Value],
        kw: KwView,
    ) -> PyResult<Value> {
        let t = types();
        if Arc::ptr_eq(cls, &t.type_) && args.len() == 1 && kw.len() == 0 {
            return Ok(Value::Class(t.class_of(&args[0]).clone()));
        }
        let object = &t.object;
        // The cached MRO lookups (every instantiation runs these).
        let new = lookup_with_owner(cls, "__new__").map(|(v, o)| (o.clone(), v));
        let init = lookup_with_owner(cls, "__init__").map(|(v, o)| (o.clone(), v));
        let init_is_object = match &init {
            Some((owner, _)) => Arc::ptr_eq(owner, object),
            None => true,
        };
        let has_args = !args.is_empty() || kw.len() > 0;
        let inst = match new {
            Some((owner, newf)) if !Arc::ptr_eq(&owner, object) => {
                let newf = match &newf {
                    Value::Object(o) => match &o.kind {
                        ObjKind::StaticMethod(inner) => inner.clone(),
                        _ => newf.clone(),
                    },
                    _ => newf.clone(),
                };
                let mut full = self.take_vec(args.len() + 1);
                full.push(Value::Class(cls.clone()));
                full.extend_from_slice(args);
                let r = self.call_any(&newf, &full, kw);
                self.give_vec(full);
                r?
            }
            _ => {
                if has_args && init_is_object {
                    return Err(PyErr::type_error(format!(
                        "{}() takes no arguments",
                        cls.name
                    )));
                }
                crate::vm::class::new_instance(cls)
            }
        };
        if init_is_object || !is_subclass(t.class_of(&inst), cls) {
            return Ok(inst);
        }
        let Some((_, initf)) = init else {
            return Ok(inst);
        };
        let mut full = self.take_vec(args.len() + 1);
        full.push(inst.clone());
        full.extend_from_slice(args);
        let r = self.call_any(&initf, &full, kw);
        self.give_vec(full);
        let r = r?;
        if !r.is_none() {
            return Err(PyErr::type_error(format!(
                "__init__() should return None, not '{}'",
                type_name(&r)
            )));
        }
        Ok(inst)
    }
}

pub(crate) fn not_callable(f: &Value) -> PyErr {
    PyErr::type_error(format!("'{}' object is not callable", type_name(f)))
}
