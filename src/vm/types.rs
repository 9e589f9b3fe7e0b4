//! The built-in types, created once per process and shared by every thread.
//!
//! Built-in types are ordinary [`Class`] objects whose `attrs` hold native
//! methods, so attribute lookup, `type(x)`, `isinstance` and subclassing work
//! the same way for `int` as for a user's class.

use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;

use crate::vm::error::ExcKind;
use crate::vm::value::{AttrMap, Class, Layout, ObjKind, Value};

pub struct Types {
    pub object: Arc<Class>,
    pub type_: Arc<Class>,
    pub none: Arc<Class>,
    pub bool_: Arc<Class>,
    pub int: Arc<Class>,
    pub float: Arc<Class>,
    pub complex: Arc<Class>,
    pub str_: Arc<Class>,
    pub bytes: Arc<Class>,
    pub bytearray: Arc<Class>,
    pub list: Arc<Class>,
    pub tuple: Arc<Class>,
    pub dict: Arc<Class>,
    pub set: Arc<Class>,
    pub frozenset: Arc<Class>,
    pub function: Arc<Class>,
    pub builtin_function: Arc<Class>,
    pub method: Arc<Class>,
    pub module: Arc<Class>,
    pub range: Arc<Class>,
    pub slice: Arc<Class>,
    pub cell: Arc<Class>,
    pub code: Arc<Class>,
    pub property: Arc<Class>,
    pub staticmethod: Arc<Class>,
    pub classmethod: Arc<Class>,
    pub super_: Arc<Class>,
    pub not_implemented_type: Arc<Class>,
    pub ellipsis_type: Arc<Class>,
    pub generator: Arc<Class>,
    pub coroutine: Arc<Class>,
    /// Iterator classes share one class per kind name (`list_iterator`, `map`, `zip`, ...), made on demand.
    iterators: Mutex<Vec<Arc<Class>>>,
    exceptions: Vec<Arc<Class>>,
    /// The `NotImplemented` and `Ellipsis` singletons.
    pub not_implemented: Value,
    pub ellipsis: Value,
}

static TYPES: OnceLock<Types> = OnceLock::new();

/// The process-wide built-in types. The first call builds them and lets
/// `vm::builtins` install their methods.
pub fn types() -> &'static Types {
    TYPES.get_or_init(|| {
        let t = Types::new();
        crate::vm::builtins::install_methods(&t);
        t
    })
}

/// A new class with the given bases; the MRO is computed with C3.
/// Errors (inconsistent MRO) are reported as a message.
pub fn new_class(
    name: &str,
    module: &str,
    bases: Vec<Arc<Class>>,
    layout: Layout,
    attrs: AttrMap,
) -> Result<Arc<Class>, String> {
    let mro = c3_mro(&bases)?;
    Ok(Arc::new(Class {
        name: name.into(),
        qualname: name.into(),
        module: module.into(),
        bases,
        mro,
        attrs: Mutex::new({
            let mut attrs = attrs;
            attrs.mark_class();
            attrs
        }),
        layout,
        flags: std::sync::atomic::AtomicU64::new(0),
        meta: None,
        uid: next_class_uid(),
    }))
}

/// A fresh `Class::uid`. After 2^32 classes the numbers wrap; a cache
/// entry that old then at worst misses or names a plain attribute of a
/// class whose attributes changed, never anything memory-unsafe.
fn next_class_uid() -> u32 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    loop {
        // 0 is no class's: an empty cache entry's tag.
        match NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) {
            0 => continue,
            uid => return uid,
        }
    }
}

/// C3 linearisation of the bases (the MRO after the class itself).
fn c3_mro(bases: &[Arc<Class>]) -> Result<Vec<Arc<Class>>, String> {
    for (i, b) in bases.iter().enumerate() {
        if bases[..i].iter().any(|a| Arc::ptr_eq(a, b)) {
            return Err(format!("duplicate base class {}", b.name));
        }
    }
    let mut seqs: Vec<Vec<Arc<Class>>> = bases
        .iter()
        .map(|b| {
            let mut v = vec![b.clone()];
            v.extend(b.mro.iter().cloned());
            v
        })
        .collect();
    seqs.push(bases.to_vec());
    let mut out = Vec::new();
    loop {
        seqs.retain(|s| !s.is_empty());
        if seqs.is_empty() {
            return Ok(out);
        }
        // The first head that appears in no other sequence's tail.
        let head = seqs.iter().map(|s| s[0].clone()).find(|h| {
            seqs.iter()
                .all(|s| !s[1..].iter().any(|c| Arc::ptr_eq(c, h)))
        });
        let Some(head) = head else {
            // CPython names the heads left unmerged, each once, in order.
            let mut heads: Vec<&Arc<Class>> = Vec::new();
            for s in &seqs {
                if !heads.iter().any(|h| Arc::ptr_eq(h, &s[0])) {
                    heads.push(&s[0]);
                }
            }
            let names: Vec<Arc<str>> = heads.iter().map(|c| c.name.get()).collect();
            // CPython's message really has a line break in it.
            return Err(format!(
                "Cannot create a consistent method resolution\norder (MRO) for bases {}",
                names.join(", ")
            ));
        };
        for s in seqs.iter_mut() {
            if Arc::ptr_eq(&s[0], &head) {
                s.remove(0);
            }
        }
        out.push(head);
    }
}

impl Types {
    fn new() -> Types {
        let object = new_class(
            "object",
            "builtins",
            vec![],
            Layout::Object,
            AttrMap::default(),
        )
        .expect("object has no bases");
        let builtin = |name: &str, layout: Layout| {
            new_class(
                name,
                "builtins",
                vec![object.clone()],
                layout,
                AttrMap::default(),
            )
            .expect("single base")
        };
        let int = builtin("int", Layout::Int);
        let bool_ = new_class(
            "bool",
            "builtins",
            vec![int.clone()],
            Layout::Bool,
            AttrMap::default(),
        )
        .expect("single base");
        let mut exceptions: Vec<Arc<Class>> = Vec::with_capacity(ExcKind::ALL.len());
        for kind in ExcKind::ALL {
            let base = match kind.parent() {
                Some(p) => exceptions[p as usize].clone(),
                None => object.clone(),
            };
            exceptions.push(
                new_class(
                    kind.name(),
                    "builtins",
                    vec![base],
                    Layout::BaseException,
                    AttrMap::default(),
                )
                .expect("single base"),
            );
        }
        let not_implemented_type = builtin("NotImplementedType", Layout::Other);
        let ellipsis_type = builtin("ellipsis", Layout::Other);
        let singleton = |class: &Arc<Class>, kind: ObjKind| {
            Value::Object(Arc::new(crate::vm::value::Object {
                class: class.clone(),
                kind,
            }))
        };
        Types {
            type_: builtin("type", Layout::Type),
            none: builtin("NoneType", Layout::NoneType),
            float: builtin("float", Layout::Float),
            complex: builtin("complex", Layout::Other),
            str_: builtin("str", Layout::Str),
            bytes: builtin("bytes", Layout::Bytes),
            bytearray: builtin("bytearray", Layout::ByteArray),
            list: builtin("list", Layout::List),
            tuple: builtin("tuple", Layout::Tuple),
            dict: builtin("dict", Layout::Dict),
            set: builtin("set", Layout::Set),
            frozenset: builtin("frozenset", Layout::FrozenSet),
            function: builtin("function", Layout::Function),
            builtin_function: builtin("builtin_function_or_method", Layout::Native),
            method: builtin("method", Layout::BoundMethod),
            module: builtin("module", Layout::Module),
            range: builtin("range", Layout::Other),
            slice: builtin("slice", Layout::Other),
            cell: builtin("cell", Layout::Other),
            code: builtin("code", Layout::Other),
            property: builtin("property", Layout::Other),
            staticmethod: builtin("staticmethod", Layout::Other),
            classmethod: builtin("classmethod", Layout::Other),
            super_: builtin("super", Layout::Other),
            generator: builtin("generator", Layout::Other),
            coroutine: builtin("coroutine", Layout::Other),
            not_implemented: singleton(&not_implemented_type, ObjKind::NotImplemented),
            ellipsis: singleton(&ellipsis_type, ObjKind::Ellipsis),
            not_implemented_type,
            ellipsis_type,
            iterators: Mutex::new(Vec::new()),
            exceptions,
            int,
            bool_,
            object,
        }
    }

    pub fn exception(&self, kind: ExcKind) -> &Arc<Class> {
        &self.exceptions[kind as usize]
    }

    /// All built-in exception classes, in `ExcKind` order.
    pub fn exceptions(&self) -> &[Arc<Class>] {
        &self.exceptions
    }

    /// The class of an iterator kind, e.g. `list_iterator`, `map`, `zip`.
    pub fn iterator_class(&self, name: &str) -> Arc<Class> {
        let mut iters = self.iterators.lock();
        if let Some(c) = iters.iter().find(|c| c.name == *name) {
            return c.clone();
        }
        let c = new_class(
            name,
            "builtins",
            vec![self.object.clone()],
            Layout::Other,
            AttrMap::default(),
        )
        .expect("single base");
        iters.push(c.clone());
        c
    }

    /// `type(v)`, borrowed: no reference count is touched.
    pub fn class_of<'a>(&'a self, v: &'a Value) -> &'a Arc<Class> {
        match v {
            Value::Null | Value::None => &self.none,
            Value::Bool(_) => &self.bool_,
            Value::Int(_) | Value::BigInt(_) => &self.int,
            Value::Float(_) => &self.float,
            Value::Str(_) => &self.str_,
            Value::Bytes(_) => &self.bytes,
            Value::List(_) => &self.list,
            Value::Tuple(_) => &self.tuple,
            Value::Dict(_) => &self.dict,
            Value::Set(_) => &self.set,
            Value::FrozenSet(_) => &self.frozenset,
            Value::Function(_) => &self.function,
            Value::Native(_) => &self.builtin_function,
            // A built-in method bound to its object is CPython's
            // `builtin_function_or_method` (`[].append`), not a `method`.
            Value::BoundMethod(m) if matches!(m.func, Value::Native(_)) => &self.builtin_function,
            Value::BoundMethod(_) => &self.method,
            Value::Class(c) => c.meta.as_ref().unwrap_or(&self.type_),
            Value::Instance(i) => &i.class,
            Value::Module(_) => &self.module,
            Value::Object(o) => &o.class,
            Value::ByteArray(_) => &self.bytearray,
        }
    }
}
