//! The object protocol (CPython's `abstract.c` / `object.c`): operators,
//! comparisons, truth, hashing, repr/str, format, attributes and items,
//! plus the methods of `object` and `type`.
//!
//! Every operation tries fast paths for the built-in values first (no
//! allocation for ints and floats), then the user's dunder methods found on
//! the type through its MRO, with `NotImplemented` and reflection as CPython
//! does, then CPython's error messages.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::Arc;

use crate::compile::code::{BinaryOpKind, CompareKind, UnaryOpKind};
use crate::vm::attrs::{same_bytes, same_name};
use crate::vm::brc::Brc;
use crate::vm::builtins::{base_value, type_name};
use crate::vm::bytes::bytes_like;
use crate::vm::error::{ExcKind, PyErr, PyResult};
use crate::vm::footprint::{Sets, Start};
use crate::vm::interp::Vm;
use crate::vm::number::{self, int_ref, num_of};
use crate::vm::types::{types, Types};
use crate::vm::value::{
    AttrMap, BoundMethod, Class, Instance, InstanceBase, Kwargs, Layout, NativeFn, ObjKind, Object,
    PyDict, PyList, PyStr, Value,
};

// ---------------------------------------------------------------- class lookup

/// Bumped whenever an existing class's namespace changes (attribute
/// assignment or deletion on a class); invalidates every [`lookup_with_owner`]
/// cache entry. Code that mutates `Class::attrs` after the class is in use
/// must call [`class_changed`].
static CLASS_EPOCH: AtomicU64 = AtomicU64::new(0);

/// Invalidate the class attribute caches.
pub fn class_changed() {
    CLASS_EPOCH.fetch_add(1, AtomicOrdering::Release);
}

/// The current class epoch: cached class facts are valid while it stays.
#[inline(always)]
pub(crate) fn class_epoch() -> u64 {
    CLASS_EPOCH.load(AtomicOrdering::Acquire)
}

const ATTR_CACHE_SIZE: usize = 1024;

/// One cached MRO lookup: the value (`Null` when absent) and the MRO
/// position of the class that defines it. `class` is the address of the
/// class `keep` holds alive, so an address is never reused while cached.
struct AttrCacheEntry {
    class: usize,
    epoch: u64,
    value: Value,
    pos: u32,
    /// The name: its first `SHORT_NAME` bytes stored inline, so that a hit
    /// compares without following a pointer; longer names in `long`.
    len: usize,
    short: [u8; SHORT_NAME],
    long: Box<str>,
    _keep: Option<Arc<Class>>,
}

const SHORT_NAME: usize = 16;

impl AttrCacheEntry {
    fn empty() -> AttrCacheEntry {
        AttrCacheEntry {
            class: 0,
            epoch: 0,
            value: Value::Null,
            pos: 0,
            len: 0,
            short: [0; SHORT_NAME],
            long: "".into(),
            _keep: None,
        }
    }

    #[inline(always)]
    fn name(&self) -> &[u8] {
        let n = self.len;
        if n <= SHORT_NAME {
            &self.short[..n]
        } else {
            self.long.as_bytes()
        }
    }
}

/// A direct-mapped cache of MRO lookups, like CPython's type method cache,
/// of up to `ATTR_CACHE_SIZE` entries (see `vm::footprint`).
pub(crate) struct AttrCache {
    /// Empty until the thread's first lookup or `install_thread_tables`.
    entries: Vec<AttrCacheEntry>,
    /// Sets of one entry.
    sets: Sets,
}

/// Entries a new thread's cache starts with.
const SMALL_ATTR_CACHE: usize = 32;

impl AttrCache {
    /// An empty cache of `start`'s size.
    pub(crate) fn new(start: Start) -> AttrCache {
        let mut c = AttrCache {
            entries: Vec::new(),
            sets: Sets::new(start, SMALL_ATTR_CACHE, ATTR_CACHE_SIZE, 1),
        };
        c.resize(c.sets);
        c
    }

    /// The entry for a slot in `0..ATTR_CACHE_SIZE`.
    #[inline(always)]
    fn get(&self, slot: usize) -> Option<&AttrCacheEntry> {
        self.entries.get(self.sets.pick(slot))
    }

    /// Count a miss; allocate the table on the first, double it when due.
    fn miss(&mut self) {
        if self.entries.is_empty() {
            self.resize(Sets::new(
                Start::Small,
                SMALL_ATTR_CACHE,
                ATTR_CACHE_SIZE,
                1,
            ));
        } else if self.sets.miss() {
            self.sets.double();
            self.resize(self.sets);
        }
    }

    /// Take `sets`'s size. The entries go: their slot depends on their
    /// name's address, which they do not record.
    fn resize(&mut self, sets: Sets) {
        self.sets = sets;
        self.entries.clear();
        self.entries
            .resize_with(sets.entries(), AttrCacheEntry::empty);
    }
}

thread_local! {
    static ATTR_CACHE: RefCell<AttrCache> = const {
        RefCell::new(AttrCache {
            entries: Vec::new(),
            sets: Sets::new(Start::Small, SMALL_ATTR_CACHE, ATTR_CACHE_SIZE, 1),
        })
    };
}

/// Make `cache` and `intern` this thread's MRO cache and intern table,
/// except where the thread has a larger one (see `vm::footprint`).
pub(crate) fn install_thread_tables(cache: AttrCache, intern: Intern) {
    let old_cache = ATTR_CACHE.with(|c| {
        let mut c = c.try_borrow_mut().ok()?;
        if cache.entries.len() <= c.entries.len() {
            return Some(cache);
        }
        Some(std::mem::replace(&mut *c, cache))
    });
    let old_intern = INTERN.with(|t| {
        let mut t = t.try_borrow_mut().ok()?;
        if intern.keys.len() <= t.keys.len() {
            return Some(intern);
        }
        Some(std::mem::replace(&mut *t, intern))
    });
    // Dropped with the tables unborrowed.
    drop(old_cache);
    drop(old_intern);
}

fn owner_at(class: &Arc<Class>, pos: u32) -> &Arc<Class> {
    if pos == 0 {
        class
    } else {
        &class.mro[pos as usize - 1]
    }
}

fn walk_mro(class: &Arc<Class>, name: &str) -> (Value, u32) {
    if let Some(v) = class.attrs.lock().get(name) {
        return (v.clone(), 0);
    }
    for (i, c) in class.mro.iter().enumerate() {
        if let Some(v) = c.attrs.lock().get(name) {
            return (v.clone(), i as u32 + 1);
        }
    }
    (Value::Null, 0)
}

/// Where `name` is in an attribute map.
#[inline]
fn attr_index(attrs: &AttrMap, name: &str) -> Option<usize> {
    attrs.get_index_of(name)
}

/// `attrs.get(name)`.
#[inline]
fn attr_get<'a>(attrs: &'a AttrMap, name: &str) -> Option<&'a Value> {
    attrs.get(name)
}

/// A cheap slot for (class, name): names are mostly the same few strings
/// (a code object's names, literals), so their address and length do.
#[inline(always)]
fn cache_slot(class: usize, name: &str) -> usize {
    ((class >> 4) ^ (name.as_ptr() as usize >> 3) ^ name.len().wrapping_mul(0x9e37_79b9))
        & (ATTR_CACHE_SIZE - 1)
}

/// Look `name` up through the MRO of `class` (the class itself first) and
/// hand the result (`None` when absent) with the defining class's MRO
/// position to `f`, without cloning the value. `f` runs while the cache is
/// borrowed: it must not look attributes up or run script code.
#[inline]
fn with_class_attr<R>(
    class: &Arc<Class>,
    name: &str,
    f: impl FnOnce(Option<&Value>, u32) -> R,
) -> R {
    let epoch = CLASS_EPOCH.load(AtomicOrdering::Acquire);
    let key = Arc::as_ptr(class) as usize;
    let slot = cache_slot(key, name);
    ATTR_CACHE.with(|c| {
        // Re-entry cannot happen (see above); should it, skip the cache.
        let Ok(mut c) = c.try_borrow_mut() else {
            let (v, pos) = walk_mro(class, name);
            return f((!v.is_null()).then_some(&v), pos);
        };
        if let Some(e) = c.get(slot) {
            if e.class == key && e.epoch == epoch && same_bytes(e.name(), name.as_bytes()) {
                return f((!e.value.is_null()).then_some(&e.value), e.pos);
            }
        }
        let e = cache_fill(&mut c, slot, class, name, epoch);
        f((!e.value.is_null()).then_some(&e.value), e.pos)
    })
}

#[cold]
#[inline(never)]
fn cache_fill<'a>(
    c: &'a mut AttrCache,
    slot: usize,
    class: &Arc<Class>,
    name: &str,
    epoch: u64,
) -> &'a AttrCacheEntry {
    c.miss();
    let slot = c.sets.pick(slot);
    let c = &mut c.entries;
    // The MRO walk only locks class namespaces; the evicted entry is
    // dropped after the new one is in place (dropping runs no script code).
    let (value, pos) = walk_mro(class, name);
    let mut short = [0; SHORT_NAME];
    let long: Box<str> = if name.len() <= SHORT_NAME {
        short[..name.len()].copy_from_slice(name.as_bytes());
        "".into()
    } else {
        name.into()
    };
    let old = std::mem::replace(
        &mut c[slot],
        AttrCacheEntry {
            class: Arc::as_ptr(class) as usize,
            epoch,
            value,
            pos,
            len: name.len(),
            short,
            long,
            _keep: Some(class.clone()),
        },
    );
    drop(old);
    &c[slot]
}

/// The MRO lookup through the cache: `(Null, 0)` when absent. The value
/// comes back on its own, not inside a tuple or `Option`: moving a `Value`
/// out of those compiles to split copies that stall store forwarding.
#[inline]
fn cached_lookup(class: &Arc<Class>, name: &str) -> (Value, u32) {
    let mut pos = 0;
    let v = with_class_attr(class, name, |v, p| match v {
        Some(v) => {
            pos = p;
            v.clone()
        }
        None => Value::Null,
    });
    (v, pos)
}

/// `class.name` through the MRO (the class itself first), unbound.
pub fn lookup_in_class(class: &Arc<Class>, name: &str) -> Option<Value> {
    let v = with_class_attr(class, name, |v, _| match v {
        Some(v) => v.clone(),
        None => Value::Null,
    });
    (!v.is_null()).then_some(v)
}

/// Like [`lookup_in_class`], also naming the class that defines it.
pub fn lookup_with_owner<'a>(class: &'a Arc<Class>, name: &str) -> Option<(Value, &'a Arc<Class>)> {
    match cached_lookup(class, name) {
        (Value::Null, _) => None,
        (v, pos) => Some((v, owner_at(class, pos))),
    }
}

/// Where `name` is defined for `class`: the defining class, if any.
fn lookup_owner<'a>(class: &'a Arc<Class>, name: &str) -> Option<&'a Arc<Class>> {
    let (found, pos) = with_class_attr(class, name, |v, pos| (v.is_some(), pos));
    found.then(|| owner_at(class, pos))
}

/// `class_flags` bits: the class overrides `__getattribute__`, `__setattr__`
/// or `__delattr__` with its own (not a built-in class's) method.
const CUSTOM_GETATTRIBUTE: u64 = 1;
const CUSTOM_SETATTR: u64 = 2;
const CUSTOM_DELATTR: u64 = 4;
/// `__new__` is not `object.__new__` (instantiation cannot be inlined).
const CUSTOM_NEW: u64 = 8;
/// Instances of `object` itself have no `__dict__`: `object().x = 1` fails.
const NO_INSTANCE_DICT: u64 = 16;
/// The class or a base defines `__del__` (see `vm::finalize`).
const HAS_DEL: u64 = 32;
/// Flag bits below the epoch in `Class::flags`.
const FLAG_BITS: u32 = 6;
const PROTOCOL_FLAGS: u64 =
    CUSTOM_GETATTRIBUTE | CUSTOM_SETATTR | CUSTOM_DELATTR | NO_INSTANCE_DICT;

/// The attribute-protocol overrides of `class`, computed once per class
/// epoch: plain attribute access then needs one MRO lookup, not three.
#[inline]
fn class_flags(class: &Arc<Class>) -> u64 {
    let epoch = CLASS_EPOCH.load(AtomicOrdering::Acquire);
    let f = class.flags.load(AtomicOrdering::Relaxed);
    if f >> FLAG_BITS == epoch.wrapping_add(1) {
        return f & ((1 << FLAG_BITS) - 1);
    }
    compute_class_flags(class, epoch)
}

/// Whether instances of `class` have a `__del__` to run (cached per class
/// epoch).
pub(crate) fn has_finalizer(class: &Arc<Class>) -> bool {
    class_flags(class) & HAS_DEL != 0
}

/// Whether `class.__new__` is `object.__new__` (cached per class epoch).
#[inline]
pub(crate) fn new_is_object_new(class: &Arc<Class>) -> bool {
    class_flags(class) & CUSTOM_NEW == 0
}

/// Entries of a full-size intern table, and of a new thread's.
const INTERN_SIZE: usize = 256;
const SMALL_INTERN: usize = 32;

/// Instance attribute names, shared between instances: setting `self.x`
/// on a new instance allocates no key, and lookups compare against a key
/// that is hot in the cache. Direct-mapped, up to `INTERN_SIZE` entries
/// (see `vm::footprint`).
pub(crate) struct Intern {
    /// Empty until the thread's first key or `install_thread_tables`.
    keys: Vec<Option<Arc<str>>>,
    /// Sets of one entry.
    sets: Sets,
}

impl Intern {
    /// An empty table of `start`'s size.
    pub(crate) fn new(start: Start) -> Intern {
        let sets = Sets::new(start, SMALL_INTERN, INTERN_SIZE, 1);
        Intern {
            keys: vec![None; sets.entries()],
            sets,
        }
    }
}

thread_local! {
    static INTERN: RefCell<Intern> = const {
        RefCell::new(Intern {
            keys: Vec::new(),
            sets: Sets::new(Start::Small, SMALL_INTERN, INTERN_SIZE, 1),
        })
    };
}

/// A shared `Arc<str>` holding `name`.
pub(crate) fn intern_key(name: &str) -> Arc<str> {
    let slot = (name.as_ptr() as usize >> 3) ^ name.len();
    INTERN.with(|t| {
        let Ok(mut t) = t.try_borrow_mut() else {
            return name.into();
        };
        if t.keys.is_empty() {
            *t = Intern::new(Start::Small);
        }
        let i = t.sets.pick(slot);
        match &t.keys[i] {
            Some(k) if same_name(k, name) => k.clone(),
            _ => {
                let k: Arc<str> = name.into();
                if t.sets.miss() {
                    // The keys go: their slot depends on the address of
                    // the name they were made for.
                    t.sets.double();
                    let n = t.sets.entries();
                    t.keys.clear();
                    t.keys.resize(n, None);
                }
                let i = t.sets.pick(slot);
                t.keys[i] = Some(k.clone());
                k
            }
        }
    })
}

/// `inst.name = value` in the instance namespace.
fn instance_store(inst: &Instance, name: &str, value: Value) {
    let mut attrs = inst.attrs.lock();
    let old = match attr_index(&attrs, name)
        .and_then(|i| attrs.get_index_mut(i))
        .map(|(_, v)| v)
    {
        Some(slot) => Some(std::mem::replace(slot, value)),
        None => {
            attrs.push_new(intern_key(name), value);
            None
        }
    };
    // The old value may own objects: drop it unlocked.
    drop(attrs);
    drop(old);
}

/// The plain method (a function, or a native method) `type(obj).name`
/// when calling `obj.name(...)` may skip binding it: no instance attribute
/// or attribute hook can intervene. `Null` otherwise.
#[inline]
pub(crate) fn plain_method(obj: &Value, name: &str) -> Value {
    let cls = match obj {
        Value::Instance(inst) => {
            if class_flags(&inst.class) & CUSTOM_GETATTRIBUTE != 0 {
                return Value::Null;
            }
            &inst.class
        }
        Value::Str(_)
        | Value::List(_)
        | Value::Dict(_)
        | Value::Tuple(_)
        | Value::Set(_)
        | Value::FrozenSet(_)
        | Value::Int(_)
        | Value::Float(_)
        | Value::Bytes(_) => types().class_of(obj),
        _ => return Value::Null,
    };
    let f = with_class_attr(cls, name, |v, _| match v {
        Some(f @ Value::Function(_)) => f.clone(),
        Some(f @ Value::Native(n)) if n.is_method => f.clone(),
        _ => Value::Null,
    });
    if let Value::Instance(inst) = obj {
        if !f.is_null() && attr_index(&inst.attrs.lock(), name).is_some() {
            return Value::Null;
        }
    }
    f
}

/// The getter of a property `name` of `inst`'s class when reading it is
/// nothing but calling that getter on `inst`: a plain one-parameter
/// function, no `__getattribute__` hook, and no `__getattr__` that an
/// AttributeError from the getter would fall back to. `Null` otherwise.
pub(crate) fn plain_property_getter(inst: &Instance, name: &str) -> Value {
    let cls = &inst.class;
    if class_flags(cls) & CUSTOM_GETATTRIBUTE != 0 || !class_lacks(cls, "__getattr__") {
        return Value::Null;
    }
    with_class_attr(cls, name, |v, _| match v {
        Some(Value::Object(o)) => match &o.kind {
            ObjKind::Property {
                fget: f @ Value::Function(func),
                ..
            } if func.code.plain_arity == 1 => f.clone(),
            _ => Value::Null,
        },
        _ => Value::Null,
    })
}

/// `a + b` for two strs.
fn concat_str(a: &Value, x: &PyStr, b: &Value, y: &PyStr) -> PyResult<Value> {
    let ascii = x.ascii && y.ascii;
    let (x, y) = (x.as_str(), y.as_str());
    if y.is_empty() {
        return Ok(a.clone());
    }
    if x.is_empty() {
        return Ok(b.clone());
    }
    crate::vm::str::check_size(x.len() as u128 + y.len() as u128)?;
    Ok(Value::Str(Brc::new(PyStr::concat(x, y, ascii))))
}

/// True when `name` is found nowhere in `class`'s MRO.
#[inline]
fn class_lacks(class: &Arc<Class>, name: &str) -> bool {
    with_class_attr(class, name, |v, _| v.is_none())
}

/// Whether plain instance attribute access (the instance's namespace,
/// nothing on the class) decides `inst.name`: no hooks, no built-in base,
/// no dunder name, no class attribute of that name.
#[inline]
pub(crate) fn plain_instance_attr(inst: &Instance, name: &str) -> bool {
    class_flags(&inst.class) & PROTOCOL_FLAGS == 0
        && matches!(inst.base, InstanceBase::Plain)
        && !name.starts_with("__")
        && class_lacks(&inst.class, name)
}

#[cold]
fn compute_class_flags(class: &Arc<Class>, epoch: u64) -> u64 {
    // `object` is a built-in class too.
    let custom = |name: &str| lookup_owner(class, name).is_some_and(|o| !is_builtin_class(o));
    let mut f = 0;
    if custom("__getattribute__") {
        f |= CUSTOM_GETATTRIBUTE;
    }
    if custom("__setattr__") {
        f |= CUSTOM_SETATTR;
    }
    if custom("__delattr__") {
        f |= CUSTOM_DELATTR;
    }
    if lookup_owner(class, "__new__").is_some_and(|o| !is_object_class(o)) {
        f |= CUSTOM_NEW;
    }
    if is_object_class(class) || is_slotted(class) {
        f |= NO_INSTANCE_DICT;
    }
    if custom("__del__") {
        f |= HAS_DEL;
    }
    class.flags.store(
        (epoch.wrapping_add(1) << FLAG_BITS) | f,
        AtomicOrdering::Relaxed,
    );
    f
}

/// Whether every class defining `class`'s instances declares `__slots__`
/// without `'__dict__'`: its instances then have no attribute namespace
/// beyond the declared slots.
fn is_slotted(class: &Arc<Class>) -> bool {
    !is_builtin_class(class)
        && std::iter::once(class)
            .chain(class.mro.iter())
            .filter(|c| !is_builtin_class(c))
            .all(|c| match c.attrs.lock().get("__slots__") {
                Some(slots) => !slot_names_contain(slots, "__dict__"),
                None => false,
            })
}

/// Whether a `__slots__` value (a string or a sequence of strings) names `name`.
fn slot_names_contain(slots: &Value, name: &str) -> bool {
    match slots {
        Value::Str(s) => s.as_str() == name,
        Value::Tuple(t) => t.items.iter().any(|v| v.as_str() == Some(name)),
        Value::List(l) => l.items.lock().iter().any(|v| v.as_str() == Some(name)),
        _ => false,
    }
}

/// Whether `name` is a slot declared by `class` or a class in its MRO. A
/// private slot name (`__slots__ = ('__a',)` in class `C`) is mangled as
/// the class body's `self.__a` is: the slot is `_C__a`, not `__a`.
fn declared_slot(class: &Arc<Class>, name: &str) -> bool {
    std::iter::once(class).chain(class.mro.iter()).any(|c| {
        let attrs = c.attrs.lock();
        let Some(slots) = attrs.get("__slots__") else {
            return false;
        };
        let is = |v: &Value| v.as_str().is_some_and(|s| slot_is(&c.name.get(), s, name));
        match slots {
            Value::Str(_) => is(slots),
            Value::Tuple(t) => t.items.iter().any(is),
            Value::List(l) => l.items.lock().iter().any(is),
            _ => false,
        }
    })
}

/// Whether the slot `slot` declared in class `class_name` is the attribute
/// `name` (`__a` in `C` is `_C__a`, as CPython mangles it).
fn slot_is(class_name: &str, slot: &str, name: &str) -> bool {
    let stripped = class_name.trim_start_matches('_');
    if !slot.starts_with("__") || slot.ends_with("__") || stripped.is_empty() {
        return slot == name;
    }
    name.strip_prefix('_')
        .and_then(|n| n.strip_prefix(stripped))
        .is_some_and(|n| n == slot)
}

/// `issubclass(a, b)` for classes.
pub fn is_subclass(a: &Arc<Class>, b: &Arc<Class>) -> bool {
    Arc::ptr_eq(a, b) || a.mro.iter().any(|c| Arc::ptr_eq(c, b))
}

/// Whether `v` is a class whose metaclass is not `type`.
#[inline]
fn has_custom_meta(v: &Value) -> bool {
    matches!(v, Value::Class(c) if c.meta.is_some())
}

/// `name` on `class` when a script defined it (not inherited from a
/// built-in type such as `type` or `object`).
pub(crate) fn custom_attr(class: &Arc<Class>, name: &str) -> Option<Value> {
    let (f, owner) = lookup_with_owner(class, name)?;
    (!is_builtin_class(owner)).then_some(f)
}

/// The special method `name` of a class object's custom metaclass (`None`
/// for anything else, and for classes whose metaclass is `type`).
pub(crate) fn meta_special(v: &Value, name: &str) -> Option<Value> {
    match v {
        Value::Class(c) => custom_attr(c.meta.as_ref()?, name),
        _ => None,
    }
}

fn is_builtin_class(c: &Class) -> bool {
    &*c.module == "builtins"
}

fn is_object_class(c: &Arc<Class>) -> bool {
    Arc::ptr_eq(c, &types().object)
}

/// The class name as CPython prints it in `<class '...'>` and default reprs:
/// `module.qualname`, or the bare name when `__module__` is `builtins` or
/// not a str.
pub(crate) fn class_path(c: &Class) -> String {
    if is_builtin_class(c) {
        return c.qualname.to_string();
    }
    match class_module(c) {
        Some(m) if m != "builtins" => format!("{m}.{}", c.qualname),
        _ => c.name.to_string(),
    }
}

/// `C.__name__ = value` / `C.__qualname__ = value` on a script class.
fn set_class_name(c: &Class, name: &str, value: &Value) -> PyResult<()> {
    let text = match crate::vm::builtins::base_value(value) {
        Value::Str(s) => s,
        _ => {
            return Err(PyErr::type_error(format!(
                "can only assign string to {}.{name}, not '{}'",
                c.name,
                type_name(value)
            )))
        }
    };
    if name == "__name__" {
        if text.as_str().contains('\0') {
            return Err(PyErr::value_error(
                "type name must not contain null characters",
            ));
        }
        c.name.set(text.as_str().into());
    } else {
        c.qualname.set(text.as_str().into());
    }
    Ok(())
}

/// A class's `__module__` when it is a str: the class namespace's entry
/// (a script may assign it), else the module the class was made in.
pub(crate) fn class_module(c: &Class) -> Option<String> {
    if is_builtin_class(c) {
        return Some(c.module.to_string());
    }
    match c.attrs.lock().get("__module__") {
        Some(Value::Str(s)) => Some(s.as_str().to_string()),
        Some(_) => None,
        None => Some(c.module.to_string()),
    }
}

fn addr(v: &Value) -> String {
    format!("{:#x}", v.heap_ptr().unwrap_or(0))
}

pub(crate) fn not_implemented() -> Value {
    types().not_implemented.clone()
}

fn is_not_implemented(v: &Value) -> bool {
    matches!(v, Value::Object(o) if matches!(o.kind, ObjKind::NotImplemented))
}

fn new_dict() -> PyDict {
    PyDict::new()
}

/// A snapshot of a dict's entries (never call script code with the lock held).
fn dict_items(d: &PyDict) -> Vec<(Value, Value)> {
    d.items()
}

fn dict_len(d: &PyDict) -> usize {
    d.len()
}

/// The instance's wrapped built-in value, if its class derives from one.
fn builtin_base(inst: &Instance) -> Option<Value> {
    match &inst.base {
        InstanceBase::Builtin(b) => Some(b.lock().clone()),
        _ => None,
    }
}

/// Whether `owner`, where a method was found for `inst`, is the built-in
/// type of the value `inst` wraps: the method can then work on that value
/// directly. A class deriving from it (a script class, or a built-in view
/// like an instance's `__dict__`) has its own method called instead.
fn native_of_base(owner: &Arc<Class>, inst: &Instance) -> bool {
    builtin_base(inst).is_some_and(|b| Arc::ptr_eq(types().class_of(&b), owner))
}

/// A tuple of names, as code objects' `co_varnames` and friends give them;
/// `sorted` for cell and free variables, which CPython numbers by name.
fn name_tuple(names: &[Arc<str>], sorted: bool) -> Value {
    let mut names: Vec<&Arc<str>> = names.iter().collect();
    if sorted {
        names.sort();
    }
    Value::tuple(names.into_iter().map(|n| Value::str(n)).collect())
}

fn attr_error(msg: String, obj: &Value, name: &str) -> PyErr {
    let e = PyErr::attribute_error(msg);
    let mut attrs = e.exc.attrs.lock();
    attrs.insert("name".into(), Value::str(name));
    attrs.insert("obj".into(), obj.clone());
    drop(attrs);
    e
}

/// "'T' object has no attribute 'name'" in the wording for `obj`'s kind.
fn no_attribute_message(obj: &Value, name: &str) -> String {
    match obj {
        // A getset on `type` that raises with the bare name when the class
        // is no ABC.
        Value::Class(_) if name == "__abstractmethods__" => name.to_string(),
        Value::Class(c) => format!("type object '{}' has no attribute '{name}'", c.name),
        Value::Module(m) if m.initializing.load(std::sync::atomic::Ordering::Relaxed) => format!(
            "partially initialized module '{}' has no attribute '{name}' \
             (most likely due to a circular import)",
            m.name
        ),
        Value::Module(m) => format!("module '{}' has no attribute '{name}'", m.name),
        Value::Object(o) if matches!(o.kind, ObjKind::Super { .. }) => {
            format!("'super' object has no attribute '{name}'")
        }
        // `_thread`'s C types print their module, as CPython's tp_name does.
        Value::Object(_) if &*types().class_of(obj).module == "_thread" => {
            let c = types().class_of(obj);
            format!("'_thread.{}' object has no attribute '{name}'", c.name)
        }
        _ => format!("'{}' object has no attribute '{name}'", type_name(obj)),
    }
}

/// An AttributeError from storing or deleting an attribute. CPython 3.11
/// sets `name` and `obj` only when a lookup fails, so these errors get no
/// "Did you mean" suggestion.
fn store_attr_error(msg: String) -> PyErr {
    PyErr::attribute_error(msg)
}

thread_local! {
    /// Containers whose repr is being computed on this thread (for `[...]`).
    static REPR_ACTIVE: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

fn dunder_names(op: BinaryOpKind) -> (&'static str, &'static str, &'static str) {
    use BinaryOpKind::*;
    match op.base() {
        Add => ("__add__", "__radd__", "__iadd__"),
        Sub => ("__sub__", "__rsub__", "__isub__"),
        Mul => ("__mul__", "__rmul__", "__imul__"),
        MatMul => ("__matmul__", "__rmatmul__", "__imatmul__"),
        TrueDiv => ("__truediv__", "__rtruediv__", "__itruediv__"),
        FloorDiv => ("__floordiv__", "__rfloordiv__", "__ifloordiv__"),
        Mod => ("__mod__", "__rmod__", "__imod__"),
        Pow => ("__pow__", "__rpow__", "__ipow__"),
        LShift => ("__lshift__", "__rlshift__", "__ilshift__"),
        RShift => ("__rshift__", "__rrshift__", "__irshift__"),
        And => ("__and__", "__rand__", "__iand__"),
        Or => ("__or__", "__ror__", "__ior__"),
        _ => ("__xor__", "__rxor__", "__ixor__"),
    }
}

fn compare_names(op: CompareKind) -> (&'static str, &'static str) {
    match op {
        CompareKind::Lt => ("__lt__", "__gt__"),
        CompareKind::Le => ("__le__", "__ge__"),
        CompareKind::Eq => ("__eq__", "__eq__"),
        CompareKind::Ne => ("__ne__", "__ne__"),
        CompareKind::Gt => ("__gt__", "__lt__"),
        CompareKind::Ge => ("__ge__", "__le__"),
    }
}

fn reflect(op: CompareKind) -> CompareKind {
    match op {
        CompareKind::Lt => CompareKind::Gt,
        CompareKind::Le => CompareKind::Ge,
        CompareKind::Gt => CompareKind::Lt,
        CompareKind::Ge => CompareKind::Le,
        o => o,
    }
}

fn ordering_matches(o: Ordering, op: CompareKind) -> bool {
    match op {
        CompareKind::Lt => o == Ordering::Less,
        CompareKind::Le => o != Ordering::Greater,
        CompareKind::Eq => o == Ordering::Equal,
        CompareKind::Ne => o != Ordering::Equal,
        CompareKind::Gt => o == Ordering::Greater,
        CompareKind::Ge => o != Ordering::Less,
    }
}

/// A sequence repeat count (`[0] * n`): negative counts give empty results;
/// a count beyond a Py_ssize_t, of either sign, is an OverflowError.
fn repeat_count(v: &Value) -> PyResult<Option<usize>> {
    match int_ref(v) {
        Some(i) => match i.to_i64() {
            Some(n) => Ok(Some(n.max(0) as usize)),
            None => Err(PyErr::overflow_error(
                "cannot fit 'int' into an index-sized integer",
            )),
        },
        None => Ok(None),
    }
}

/// A str or bytes repeat whose length would not fit a Py_ssize_t (an
/// OverflowError in CPython; a MemoryError below that size).
fn too_long(len: usize, n: usize) -> bool {
    len as u128 * n as u128 > i64::MAX as u128
}

fn check_repeat(item_bytes: usize, n: usize) -> PyResult<()> {
    crate::vm::str::check_size(item_bytes as u128 * n as u128)
}

/// Python's slice adjustment (`PySlice_AdjustIndices`): (start, stop, step, length).
pub fn adjust_slice(
    start: Option<i64>,
    stop: Option<i64>,
    step: Option<i64>,
    len: i64,
) -> PyResult<(i64, i64, i64, i64)> {
    let step = step.unwrap_or(1);
    if step == 0 {
        return Err(PyErr::value_error("slice step cannot be zero"));
    }
    let fix = |v: Option<i64>, default_neg: i64, default_pos: i64| -> i64 {
        match v {
            None => {
                if step < 0 {
                    default_neg
                } else {
                    default_pos
                }
            }
            Some(mut x) => {
                if x < 0 {
                    x = x.saturating_add(len);
                    if x < 0 {
                        x = if step < 0 { -1 } else { 0 };
                    }
                } else if x >= len {
                    x = if step < 0 { len - 1 } else { len };
                }
                x
            }
        }
    };
    let start = fix(start, len - 1, 0);
    let stop = fix(stop, -1, len);
    let length = if step < 0 {
        if stop < start {
            (start - stop - 1) / (-step) + 1
        } else {
            0
        }
    } else if start < stop {
        (stop - start - 1) / step + 1
    } else {
        0
    };
    Ok((start, stop, step, length))
}

fn range_len(start: i64, stop: i64, step: i64) -> i64 {
    let (lo, hi, st) = if step > 0 {
        (start as i128, stop as i128, step as i128)
    } else {
        (stop as i128, start as i128, -(step as i128))
    };
    if lo >= hi {
        0
    } else {
        ((hi - lo - 1) / st + 1).min(i64::MAX as i128) as i64
    }
}

/// CPython's `PyObject_DelItem` words it "doesn't" when an index reaches a
/// sequence type's item slot, "does not" otherwise (slices, other keys).
fn no_item_deletion(obj: &Value, key: &Value, sequence: bool) -> PyErr {
    let index = int_ref(&base_value(key)).is_some()
        || matches!(key, Value::Instance(i) if lookup_in_class(&i.class, "__index__").is_some());
    let verb = if sequence && index {
        "doesn't"
    } else {
        "does not"
    };
    PyErr::type_error(format!(
        "'{}' object {verb} support item deletion",
        type_name(obj)
    ))
}

fn new_range(start: i64, stop: i64, step: i64) -> Value {
    Value::Object(Arc::new(Object {
        class: types().range.clone(),
        kind: ObjKind::Range { start, stop, step },
    }))
}

/// What a subscript key is: an index, a slice, or neither.
pub(crate) enum Key {
    Index(i64),
    Slice(Option<i64>, Option<i64>, Option<i64>),
    Other,
}

impl Vm {
    // ============================================================ helpers

    /// `type(v).name` through the MRO, unbound (special method lookup skips the instance).
    pub fn lookup_special(&self, v: &Value, name: &str) -> Option<Value> {
        lookup_in_class(types().class_of(v), name)
    }

    /// Call a special method found on `type(v)` with `v` as `self`.
    fn call_special(&mut self, f: &Value, v: &Value, args: &[Value]) -> PyResult<Value> {
        match f {
            Value::Function(_) | Value::Native(_) => {
                let mut all = Vec::with_capacity(args.len() + 1);
                all.push(v.clone());
                all.extend_from_slice(args);
                self.call(f, &all, &[])
            }
            _ => {
                let cls = types().class_of(v).clone();
                let bound = self.bind_attr(f.clone(), v, &cls)?;
                self.call(&bound, args, &[])
            }
        }
    }

    /// `type(v).name(v)` if the type defines it.
    pub fn call_dunder_unary(&mut self, v: &Value, name: &str) -> PyResult<Option<Value>> {
        match self.lookup_special(v, name) {
            Some(f) => self.call_special(&f, v, &[]).map(Some),
            None => Ok(None),
        }
    }

    /// `a.name(b)`, then `b.rname(a)`, skipping `NotImplemented` results.
    pub fn call_dunder_binary(
        &mut self,
        a: &Value,
        b: &Value,
        name: &str,
        rname: &str,
    ) -> PyResult<Option<Value>> {
        let ta = types().class_of(a);
        let tb = types().class_of(b);
        let fa = lookup_in_class(ta, name);
        let fb = if Arc::ptr_eq(ta, tb) {
            None
        } else {
            lookup_in_class(tb, rname)
        };
        if let Some(f) = fa {
            let r = self.call_special(&f, a, std::slice::from_ref(b))?;
            if !is_not_implemented(&r) {
                return Ok(Some(r));
            }
        }
        if let Some(f) = fb {
            let r = self.call_special(&f, b, std::slice::from_ref(a))?;
            if !is_not_implemented(&r) {
                return Ok(Some(r));
            }
        }
        Ok(None)
    }

    /// An int index from a subscript key (`__index__` honoured).
    pub(crate) fn key_of(&mut self, key: &Value) -> PyResult<Key> {
        Ok(match key {
            Value::Int(i) => Key::Index(*i),
            Value::Bool(b) => Key::Index(*b as i64),
            Value::BigInt(_) => {
                return Err(PyErr::index_error(
                    "cannot fit 'int' into an index-sized integer",
                ))
            }
            Value::Object(o) => match &o.kind {
                ObjKind::Slice { start, stop, step } => Key::Slice(
                    self.slice_part(start)?,
                    self.slice_part(stop)?,
                    self.slice_part(step)?,
                ),
                _ => Key::Other,
            },
            Value::Instance(_) => match self.call_dunder_unary(key, "__index__")? {
                Some(r) => match r {
                    Value::Int(i) => Key::Index(i),
                    Value::Bool(b) => Key::Index(b as i64),
                    Value::BigInt(_) => {
                        return Err(PyErr::index_error(
                            "cannot fit 'int' into an index-sized integer",
                        ))
                    }
                    _ => {
                        return Err(PyErr::type_error(format!(
                            "__index__ returned non-int (type {})",
                            type_name(&r)
                        )))
                    }
                },
                None => Key::Other,
            },
            _ => Key::Other,
        })
    }

    fn slice_part(&mut self, v: &Value) -> PyResult<Option<i64>> {
        match v {
            Value::None => Ok(None),
            Value::Int(i) => Ok(Some(*i)),
            Value::Bool(b) => Ok(Some(*b as i64)),
            Value::BigInt(b) => Ok(Some(if b.sign() == num_bigint::Sign::Minus {
                i64::MIN / 2
            } else {
                i64::MAX / 2
            })),
            _ => match self.call_dunder_unary(v, "__index__")? {
                Some(r) if int_ref(&r).is_some() => self.slice_part(&r),
                _ => Err(PyErr::type_error(
                    "slice indices must be integers or None or have an __index__ method",
                )),
            },
        }
    }

    // ============================================================ binary operators

    /// `a op b` (and the in-place forms).
    pub fn binary_op(&mut self, a: &Value, b: &Value, op: BinaryOpKind) -> PyResult<Value> {
        use BinaryOpKind::*;
        let base = op.base();
        match (a, b) {
            (Value::Int(x), Value::Int(y)) => {
                let r = match base {
                    Add => x.checked_add(*y),
                    Sub => x.checked_sub(*y),
                    Mul => x.checked_mul(*y),
                    _ => None,
                };
                if let Some(r) = r {
                    return Ok(Value::Int(r));
                }
                return number::int_binop(
                    base,
                    number::IntRef::Small(*x),
                    number::IntRef::Small(*y),
                )
                .and_then(|r| {
                    if is_not_implemented(&r) {
                        Err(self.binop_type_error(a, b, op))
                    } else {
                        Ok(r)
                    }
                });
            }
            (Value::Float(x), Value::Float(y)) => match base {
                Add => return Ok(Value::Float(x + y)),
                Sub => return Ok(Value::Float(x - y)),
                Mul => return Ok(Value::Float(x * y)),
                TrueDiv if *y != 0.0 => return Ok(Value::Float(x / y)),
                // A positive finite base never needs CPython's special
                // cases; an overflow (inf) takes the full path's error.
                Pow if *x > 0.0 && x.is_finite() && y.is_finite() => {
                    let r = x.powf(*y);
                    if r.is_finite() {
                        return Ok(Value::Float(r));
                    }
                }
                _ => {}
            },
            (Value::Str(x), Value::Str(y)) if base == Add => {
                return concat_str(a, x, b, y);
            }
            _ => {}
        }
        let plain = !matches!(a, Value::Instance(_)) && !matches!(b, Value::Instance(_));
        if op.is_inplace() {
            if let Some(r) = self.inplace_builtin(a, b, base)? {
                return Ok(r);
            }
            match a {
                Value::Set(_) => {
                    if let Some(r) = crate::vm::set::set_binary_op(self, a, b, op)? {
                        return Ok(r);
                    }
                }
                Value::Dict(d) if base == Or => {
                    self.dict_update_from(d, b)?;
                    return Ok(a.clone());
                }
                _ => {}
            }
            if !plain || matches!(a, Value::Object(_)) {
                let (_, _, iname) = dunder_names(op);
                if let Some(f) = self.lookup_special(a, iname) {
                    let r = self.call_special(&f, a, std::slice::from_ref(b))?;
                    if !is_not_implemented(&r) {
                        return Ok(r);
                    }
                }
            }
        }
        if plain {
            if let Some(r) = self.builtin_binop(a, b, base)? {
                return Ok(r);
            }
        }
        if let Some(r) = self.binary_dispatch(a, b, base)? {
            return Ok(r);
        }
        self.binary_fallback(a, b, op)
    }

    fn binop_type_error(&self, a: &Value, b: &Value, op: BinaryOpKind) -> PyErr {
        PyErr::type_error(format!(
            "unsupported operand type(s) for {}: '{}' and '{}'",
            op.symbol(),
            type_name(a),
            type_name(b)
        ))
    }

    /// `list += iterable` and `list *= n` mutate in place.
    fn inplace_builtin(
        &mut self,
        a: &Value,
        b: &Value,
        base: BinaryOpKind,
    ) -> PyResult<Option<Value>> {
        if let Value::ByteArray(ba) = a {
            return Ok(self.bytearray_inplace(ba, b, base)?.map(|()| a.clone()));
        }
        let list = match a {
            Value::List(l) => l.clone(),
            Value::Instance(inst) => match builtin_base(inst) {
                Some(Value::List(l))
                    if lookup_with_owner(&inst.class, dunder_names(base).2)
                        .is_none_or(|(_, o)| is_builtin_class(o)) =>
                {
                    l
                }
                _ => return Ok(None),
            },
            _ => return Ok(None),
        };
        match base {
            BinaryOpKind::Add => {
                let items = self.collect(b)?;
                list.items.lock().extend(items);
                Ok(Some(a.clone()))
            }
            BinaryOpKind::Mul => {
                let Some(n) = repeat_count(&base_value(b))? else {
                    return Ok(None);
                };
                let mut items = list.items.lock();
                check_repeat(items.len() * 16, n)?;
                if n == 0 {
                    items.clear();
                } else {
                    let orig = items.clone();
                    for _ in 1..n {
                        items.extend_from_slice(&orig);
                    }
                }
                Ok(Some(a.clone()))
            }
            _ => Ok(None),
        }
    }

    /// Operators between built-in values that need no dunder lookup.
    fn builtin_binop(&mut self, a: &Value, b: &Value, op: BinaryOpKind) -> PyResult<Option<Value>> {
        use BinaryOpKind::*;
        if num_of(a).is_some() && num_of(b).is_some() {
            if let (Value::Bool(x), Value::Bool(y)) = (a, b) {
                match op {
                    And => return Ok(Some(Value::Bool(x & y))),
                    Or => return Ok(Some(Value::Bool(x | y))),
                    Xor => return Ok(Some(Value::Bool(x ^ y))),
                    _ => {}
                }
            }
            let r = number::num_binop(op, a, b)?;
            return Ok(if is_not_implemented(&r) {
                None
            } else {
                Some(r)
            });
        }
        if op == Mod {
            if let Value::Str(s) = a {
                let out = crate::vm::format::percent_format(self, s.as_str(), b)?;
                return Ok(Some(Value::from_string(out)));
            }
            if let Some(r) = self.bytes_percent(a, b)? {
                return Ok(Some(r));
            }
        }
        self.seq_binop(a, b, op)
    }

    /// Sequence concatenation and repetition on built-in values.
    fn seq_binop(&mut self, a: &Value, b: &Value, op: BinaryOpKind) -> PyResult<Option<Value>> {
        match (op, a, b) {
            (BinaryOpKind::Add, Value::Str(x), Value::Str(y)) => concat_str(a, x, b, y).map(Some),
            (BinaryOpKind::Add, Value::List(x), Value::List(y)) => {
                let mut items = x.items.lock().clone();
                let more = y.items.lock().clone();
                items.extend(more);
                Ok(Some(Value::list(items)))
            }
            (BinaryOpKind::Add, Value::Tuple(x), Value::Tuple(y)) => {
                let mut items = x.items.to_vec();
                items.extend_from_slice(&y.items);
                Ok(Some(Value::tuple(items)))
            }
            (BinaryOpKind::Add, Value::Bytes(x), Value::Bytes(y)) => {
                let mut v = x.to_vec();
                v.extend_from_slice(y);
                Ok(Some(Value::Bytes(v.into())))
            }
            (BinaryOpKind::Add, Value::Bytes(_) | Value::ByteArray(_), _) => {
                let Some(y) = bytes_like(b) else {
                    return Ok(None);
                };
                let Some(x) = bytes_like(a) else {
                    return Ok(None);
                };
                check_repeat(x.len() + y.len(), 1)?;
                let mut v = x.to_vec();
                v.extend_from_slice(&y);
                Ok(Some(match a {
                    Value::ByteArray(_) => Value::bytearray(v),
                    _ => Value::Bytes(v.into()),
                }))
            }
            (
                BinaryOpKind::Mul,
                Value::Str(_)
                | Value::List(_)
                | Value::Tuple(_)
                | Value::Bytes(_)
                | Value::ByteArray(_),
                n,
            ) => match repeat_count(n)? {
                Some(n) => self.repeat(a, n).map(Some),
                None => Ok(None),
            },
            (
                BinaryOpKind::Mul,
                n,
                Value::Str(_)
                | Value::List(_)
                | Value::Tuple(_)
                | Value::Bytes(_)
                | Value::ByteArray(_),
            ) => match repeat_count(n)? {
                Some(n) => self.repeat(b, n).map(Some),
                None => Ok(None),
            },
            _ => Ok(None),
        }
    }

    /// `b % args` for a bytes or bytearray `b` (a result of the same type).
    fn bytes_percent(&mut self, a: &Value, args: &Value) -> PyResult<Option<Value>> {
        let out = match a {
            Value::Bytes(t) => crate::vm::format::percent_format_bytes(self, t, args)?,
            Value::ByteArray(t) => {
                let t = t.data.lock().clone();
                crate::vm::format::percent_format_bytes(self, &t, args)?
            }
            _ => return Ok(None),
        };
        Ok(Some(match a {
            Value::ByteArray(_) => Value::bytearray(out),
            _ => Value::Bytes(out.into()),
        }))
    }

    fn repeat(&mut self, seq: &Value, n: usize) -> PyResult<Value> {
        Ok(match seq {
            Value::Str(s) => {
                if too_long(s.as_str().len(), n) && too_long(s.as_str().chars().count(), n) {
                    return Err(PyErr::overflow_error("repeated string is too long"));
                }
                check_repeat(s.as_str().len(), n)?;
                if n == 1 {
                    return Ok(seq.clone());
                }
                // Reserved up front so a failed allocation is a MemoryError.
                let mut out = String::new();
                out.try_reserve_exact(s.as_str().len() * n)
                    .map_err(|_| crate::vm::number::memory_error())?;
                for _ in 0..n {
                    out.push_str(s.as_str());
                }
                Value::from_string(out)
            }
            Value::Bytes(b) => {
                if too_long(b.len(), n) {
                    return Err(PyErr::overflow_error("repeated bytes are too long"));
                }
                check_repeat(b.len(), n)?;
                Value::Bytes(b.repeat(n).into())
            }
            Value::ByteArray(b) => {
                let data = b.data.lock().clone();
                check_repeat(data.len(), n)?;
                Value::bytearray(data.repeat(n))
            }
            Value::List(l) => {
                let items = l.items.lock().clone();
                check_repeat(items.len() * 16, n)?;
                let mut out = Vec::with_capacity(items.len() * n);
                for _ in 0..n {
                    out.extend_from_slice(&items);
                }
                Value::list(out)
            }
            Value::Tuple(t) => {
                if n == 1 {
                    return Ok(seq.clone());
                }
                check_repeat(t.items.len() * 16, n)?;
                let mut out = Vec::with_capacity(t.items.len() * n);
                for _ in 0..n {
                    out.extend_from_slice(&t.items);
                }
                Value::tuple(out)
            }
            _ => return Err(PyErr::type_error("not a sequence")),
        })
    }

    /// CPython's `binary_op1`: the left operand's method, the right one's
    /// reflected method (first if its type is a proper subclass).
    fn binary_dispatch(
        &mut self,
        a: &Value,
        b: &Value,
        op: BinaryOpKind,
    ) -> PyResult<Option<Value>> {
        let (name, rname, _) = dunder_names(op);
        let ta = types().class_of(a);
        let tb = types().class_of(b);
        let same = Arc::ptr_eq(ta, tb);
        let fa = self.binary_slot(a, name);
        let mut fb = if same {
            None
        } else {
            self.binary_slot(b, rname)
        };
        if let Some(f) = &fb {
            if is_subclass(tb, ta) {
                let r = self.call_binary_slot(f, b, a, op, true)?;
                if !is_not_implemented(&r) {
                    return Ok(Some(r));
                }
                fb = None;
            }
        }
        if let Some(f) = &fa {
            let r = self.call_binary_slot(f, a, b, op, false)?;
            if !is_not_implemented(&r) {
                return Ok(Some(r));
            }
        }
        if let Some(f) = &fb {
            let r = self.call_binary_slot(f, b, a, op, true)?;
            if !is_not_implemented(&r) {
                return Ok(Some(r));
            }
        }
        Ok(None)
    }

    /// The method implementing an operator for `v`: `None` for built-in values
    /// (their behaviour is in `builtin_binop`), unless the type has a method.
    fn binary_slot(&self, v: &Value, name: &str) -> Option<Value> {
        match v {
            Value::Int(_)
            | Value::Bool(_)
            | Value::BigInt(_)
            | Value::Float(_)
            | Value::Str(_)
            | Value::List(_)
            | Value::Tuple(_)
            | Value::Bytes(_)
            | Value::ByteArray(_)
            | Value::None => {
                // Marker: computed natively.
                Some(Value::Null)
            }
            _ => self.lookup_special(v, name),
        }
    }

    fn call_binary_slot(
        &mut self,
        f: &Value,
        this: &Value,
        other: &Value,
        op: BinaryOpKind,
        reflected: bool,
    ) -> PyResult<Value> {
        if f.is_null() {
            if let (Value::Str(s), BinaryOpKind::Mod, false) = (this, op, reflected) {
                let out = crate::vm::format::percent_format(self, s.as_str(), other)?;
                return Ok(Value::from_string(out));
            }
            if let (BinaryOpKind::Mod, false) = (op, reflected) {
                if let Some(r) = self.bytes_percent(this, other)? {
                    return Ok(r);
                }
            }
            let other_base = base_value(other);
            if matches!(other_base, Value::Instance(_)) {
                return Ok(not_implemented());
            }
            // int's methods do not take a float: `2 * F(3.0)` for a float
            // subclass F goes to F.__rmul__ (or float's, in the fallback).
            if matches!(this, Value::Int(_) | Value::Bool(_) | Value::BigInt(_))
                && matches!(other_base, Value::Float(_))
                && matches!(other, Value::Instance(_))
            {
                return Ok(not_implemented());
            }
            let r = if reflected {
                self.builtin_binop(&other_base, this, op)?
            } else {
                self.builtin_binop(this, &other_base, op)?
            };
            return Ok(r.unwrap_or_else(not_implemented));
        }
        if op.base() == BinaryOpKind::Mul && inherited_repeat(f) && !int_like(&base_value(other)) {
            // A str/bytes subclass reached its built-in repeat through the
            // operator: decline, so the operator's own message follows
            // ("can't multiply sequence by non-int"). Called directly,
            // `x.__mul__(y)` raises the slot's message instead.
            return Ok(not_implemented());
        }
        self.call_special(f, this, std::slice::from_ref(other))
    }

    /// After every method declined: sequences of subclass instances, set
    /// and dict operators, then CPython's error messages.
    fn binary_fallback(&mut self, a: &Value, b: &Value, op: BinaryOpKind) -> PyResult<Value> {
        use BinaryOpKind::*;
        let base = op.base();
        let (ab, bb) = (base_value(a), base_value(b));
        if !matches!(ab, Value::Instance(_))
            && !matches!(bb, Value::Instance(_))
            && (!ab.is(a) || !bb.is(b))
        {
            if let Some(r) = self.builtin_binop(&ab, &bb, base)? {
                return Ok(r);
            }
        }
        if let Some(r) = self.set_dict_binop(&ab, &bb, base)? {
            return Ok(r);
        }
        match (base, &ab) {
            (Add, Value::Str(_) | Value::List(_) | Value::Tuple(_)) => {
                let tn = match ab {
                    Value::Str(_) => "str",
                    Value::List(_) => "list",
                    _ => "tuple",
                };
                return Err(PyErr::type_error(format!(
                    "can only concatenate {tn} (not \"{}\") to {tn}",
                    type_name(b)
                )));
            }
            (Add, Value::Bytes(_) | Value::ByteArray(_)) => {
                return Err(PyErr::type_error(format!(
                    "can't concat {} to {}",
                    type_name(b),
                    type_name(a)
                )));
            }
            _ => {}
        }
        if base == Or {
            if let Some(u) = crate::vm::union::union_of(self, &ab, &bb)? {
                return Ok(u);
            }
        }
        if base == Mul {
            let seq = |v: &Value| {
                matches!(
                    v,
                    Value::Str(_)
                        | Value::List(_)
                        | Value::Tuple(_)
                        | Value::Bytes(_)
                        | Value::ByteArray(_)
                )
            };
            // A sequence repeats by any object with `__index__` (CPython's sq_repeat).
            let has_index = |v: &Value| match v {
                Value::Instance(inst) => lookup_with_owner(&inst.class, "__index__").is_some(),
                _ => false,
            };
            if seq(&ab) && has_index(b) {
                let n = crate::vm::builtins::index_value(self, b)?;
                if let Some(r) = self.builtin_binop(&ab, &Value::Int(n), Mul)? {
                    return Ok(r);
                }
            }
            if seq(&bb) && has_index(a) {
                let n = crate::vm::builtins::index_value(self, a)?;
                if let Some(r) = self.builtin_binop(&Value::Int(n), &bb, Mul)? {
                    return Ok(r);
                }
            }
            if seq(&ab) {
                return Err(PyErr::type_error(format!(
                    "can't multiply sequence by non-int of type '{}'",
                    type_name(b)
                )));
            }
            if seq(&bb) {
                return Err(PyErr::type_error(format!(
                    "can't multiply sequence by non-int of type '{}'",
                    type_name(a)
                )));
            }
        }
        Err(self.binop_type_error(a, b, op))
    }

    /// `| & - ^` on sets (the set file's implementation) and `|` on dicts.
    fn set_dict_binop(
        &mut self,
        a: &Value,
        b: &Value,
        op: BinaryOpKind,
    ) -> PyResult<Option<Value>> {
        if let Some(r) = crate::vm::set::set_binary_op(self, a, b, op)? {
            return Ok(Some(r));
        }
        match (a, b) {
            (Value::Dict(x), Value::Dict(y)) if op.base() == BinaryOpKind::Or => {
                let d = Brc::new(new_dict());
                for (k, v) in dict_items(x).into_iter().chain(dict_items(y)) {
                    self.dict_set(&d, k, v)?;
                }
                Ok(Some(Value::Dict(d)))
            }
            _ => Ok(None),
        }
    }

    // ============================================================ unary operators

    pub fn unary_op(&mut self, a: &Value, op: UnaryOpKind) -> PyResult<Value> {
        match op {
            UnaryOpKind::Not => return Ok(Value::Bool(!self.is_true(a)?)),
            UnaryOpKind::Neg => match a {
                Value::Int(i) => {
                    if let Some(n) = i.checked_neg() {
                        return Ok(Value::Int(n));
                    }
                    return Ok(number::int_neg(number::IntRef::Small(*i)));
                }
                Value::Float(f) => return Ok(Value::Float(-f)),
                Value::Bool(_) | Value::BigInt(_) => {
                    return Ok(number::int_neg(int_ref(a).expect("int")))
                }
                _ => {}
            },
            UnaryOpKind::Pos => match a {
                Value::Int(_) | Value::BigInt(_) | Value::Float(_) => return Ok(a.clone()),
                Value::Bool(b) => return Ok(Value::Int(*b as i64)),
                _ => {}
            },
            UnaryOpKind::Invert => {
                if let Some(i) = int_ref(a) {
                    return Ok(number::int_invert(i));
                }
            }
        }
        let (name, sym) = match op {
            UnaryOpKind::Neg => ("__neg__", "-"),
            UnaryOpKind::Pos => ("__pos__", "+"),
            _ => ("__invert__", "~"),
        };
        if matches!(a, Value::Instance(_) | Value::Object(_)) {
            if let Some(r) = self.call_dunder_unary(a, name)? {
                return Ok(r);
            }
        }
        Err(PyErr::type_error(format!(
            "bad operand type for unary {sym}: '{}'",
            type_name(a)
        )))
    }

    // ============================================================ comparisons

    /// Rich comparison with reflection; `==` falls back to identity.
    pub fn compare(&mut self, a: &Value, b: &Value, op: CompareKind) -> PyResult<Value> {
        match (a, b) {
            (Value::Int(x), Value::Int(y)) => {
                return Ok(Value::Bool(ordering_matches(x.cmp(y), op)))
            }
            (Value::Float(x), Value::Float(y)) => {
                return Ok(Value::Bool(match x.partial_cmp(y) {
                    Some(o) => ordering_matches(o, op),
                    None => op == CompareKind::Ne,
                }))
            }
            (Value::Str(x), Value::Str(y)) => {
                return Ok(Value::Bool(ordering_matches(
                    x.as_str().cmp(y.as_str()),
                    op,
                )))
            }
            _ => {}
        }
        if !matches!(a, Value::Instance(_))
            && !matches!(b, Value::Instance(_))
            && !has_custom_meta(a)
            && !has_custom_meta(b)
        {
            if let Some(r) = self.builtin_compare(a, b, op)? {
                return Ok(Value::Bool(r));
            }
        }
        self.rich_compare(a, b, op)
    }

    /// Comparisons between built-in values; `None` when the types do not compare.
    fn builtin_compare(&mut self, a: &Value, b: &Value, op: CompareKind) -> PyResult<Option<bool>> {
        use CompareKind::*;
        if let Some(o) = number::num_cmp(a, b) {
            return Ok(Some(match o {
                Some(o) => ordering_matches(o, op),
                None => op == Ne,
            }));
        }
        let r = match (a, b) {
            (Value::Str(x), Value::Str(y)) => ordering_matches(x.as_str().cmp(y.as_str()), op),
            (Value::Bytes(x), Value::Bytes(y)) => ordering_matches(x.cmp(y), op),
            (Value::Bytes(_) | Value::ByteArray(_), Value::Bytes(_) | Value::ByteArray(_)) => {
                let (x, y) = (bytes_like(a), bytes_like(b));
                match (x, y) {
                    (Some(x), Some(y)) => ordering_matches((*x).cmp(&*y), op),
                    _ => return Ok(None),
                }
            }
            (Value::List(x), Value::List(y)) => {
                if Brc::ptr_eq(x, y) && matches!(op, Eq | Le | Ge) {
                    return Ok(Some(true));
                }
                let xs = x.items.lock().clone();
                let ys = y.items.lock().clone();
                return self.seq_compare(&xs, &ys, op).map(Some);
            }
            // Tuples are immutable: compared in place, unlike lists, whose
            // items a comparison's `__eq__` could change.
            (Value::Tuple(x), Value::Tuple(y)) => {
                return self.seq_compare(&x.items, &y.items, op).map(Some);
            }
            (Value::Dict(x), Value::Dict(y)) if matches!(op, Eq | Ne) => {
                let eq = self.dict_equal(x, y)?;
                eq == (op == Eq)
            }
            (Value::Set(_) | Value::FrozenSet(_), Value::Set(_) | Value::FrozenSet(_)) => {
                return crate::vm::set::set_richcompare(self, a, b, op);
            }
            (Value::BoundMethod(x), Value::BoundMethod(y)) if matches!(op, Eq | Ne) => {
                let eq = x.receiver.is(&y.receiver) && self.eq(&x.func, &y.func)?;
                eq == (op == Eq)
            }
            (Value::Object(x), Value::Object(y)) => match (&x.kind, &y.kind) {
                (
                    ObjKind::Range {
                        start: s1,
                        stop: e1,
                        step: t1,
                    },
                    ObjKind::Range {
                        start: s2,
                        stop: e2,
                        step: t2,
                    },
                ) if matches!(op, Eq | Ne) => {
                    let (l1, l2) = (range_len(*s1, *e1, *t1), range_len(*s2, *e2, *t2));
                    let eq = l1 == l2 && (l1 == 0 || (s1 == s2 && (l1 == 1 || t1 == t2)));
                    eq == (op == Eq)
                }
                (
                    ObjKind::Slice {
                        start: a1,
                        stop: b1,
                        step: c1,
                    },
                    ObjKind::Slice {
                        start: a2,
                        stop: b2,
                        step: c2,
                    },
                ) => {
                    let xs = [a1.clone(), b1.clone(), c1.clone()];
                    let ys = [a2.clone(), b2.clone(), c2.clone()];
                    return self.seq_compare(&xs, &ys, op).map(Some);
                }
                _ => return Ok(None),
            },
            // Other built-in values compare by identity; native objects may define methods.
            _ => match op {
                Eq | Ne if !matches!(a, Value::Object(_)) && !matches!(b, Value::Object(_)) => {
                    a.is(b) == (op == Eq)
                }
                _ => return Ok(None),
            },
        };
        Ok(Some(r))
    }

    /// Lexicographic comparison of two item snapshots.
    fn seq_compare(&mut self, xs: &[Value], ys: &[Value], op: CompareKind) -> PyResult<bool> {
        use CompareKind::*;
        if matches!(op, Eq | Ne) && xs.len() != ys.len() {
            return Ok(op == Ne);
        }
        self.enter_recursion_for(" in comparison")?;
        let r = (|| {
            for (x, y) in xs.iter().zip(ys.iter()) {
                if !self.eq_identity(x, y)? {
                    return match op {
                        Eq => Ok(false),
                        Ne => Ok(true),
                        _ => {
                            let r = self.compare(x, y, op)?;
                            self.is_true(&r)
                        }
                    };
                }
            }
            Ok(ordering_matches(xs.len().cmp(&ys.len()), op))
        })();
        self.leave_recursion();
        r
    }

    fn dict_equal(&mut self, x: &Brc<PyDict>, y: &Brc<PyDict>) -> PyResult<bool> {
        if Brc::ptr_eq(x, y) {
            return Ok(true);
        }
        if dict_len(x) != dict_len(y) {
            return Ok(false);
        }
        self.enter_recursion_for(" in comparison")?;
        let r = (|| {
            for (k, v) in dict_items(x) {
                match self.dict_get(y, &k)? {
                    Some(w) => {
                        if !self.eq_identity(&v, &w)? {
                            return Ok(false);
                        }
                    }
                    None => return Ok(false),
                }
            }
            Ok(true)
        })();
        self.leave_recursion();
        r
    }

    /// CPython's `do_richcompare`.
    fn rich_compare(&mut self, a: &Value, b: &Value, op: CompareKind) -> PyResult<Value> {
        // `PyObject_RichCompare` holds a recursion level while it runs.
        self.at_level(" in comparison", |vm| vm.rich_compare_slots(a, b, op))
    }

    fn rich_compare_slots(&mut self, a: &Value, b: &Value, op: CompareKind) -> PyResult<Value> {
        let ta = types().class_of(a);
        let tb = types().class_of(b);
        let (name, rname) = compare_names(op);
        let mut checked_reverse = false;
        if !Arc::ptr_eq(ta, tb) && is_subclass(tb, ta) {
            if let Some((_, owner)) = lookup_with_owner(tb, rname) {
                if !is_builtin_class(owner)
                    || !lookup_with_owner(ta, rname).is_some_and(|(_, o)| Arc::ptr_eq(o, owner))
                {
                    checked_reverse = true;
                    let r = self.compare_slot(b, a, reflect(op))?;
                    if !is_not_implemented(&r) {
                        return Ok(r);
                    }
                }
            }
        }
        let _ = name;
        let r = self.compare_slot(a, b, op)?;
        if !is_not_implemented(&r) {
            return Ok(r);
        }
        if !checked_reverse {
            let r = self.compare_slot(b, a, reflect(op))?;
            if !is_not_implemented(&r) {
                return Ok(r);
            }
        }
        match op {
            CompareKind::Eq => Ok(Value::Bool(a.is(b))),
            CompareKind::Ne => Ok(Value::Bool(!a.is(b))),
            _ => Err(PyErr::type_error(format!(
                "'{}' not supported between instances of '{}' and '{}'",
                op.symbol(),
                type_name(a),
                type_name(b)
            ))),
        }
    }

    /// `this.__op__(other)`: a user method, a built-in comparison, or object's defaults.
    fn compare_slot(&mut self, this: &Value, other: &Value, op: CompareKind) -> PyResult<Value> {
        let (name, _) = compare_names(op);
        let cls = types().class_of(this);
        let found = lookup_with_owner(cls, name);
        match found {
            Some((f, owner)) if !is_builtin_class(owner) => {
                self.call_special(&f, this, std::slice::from_ref(other))
            }
            Some((f, owner)) if !is_object_class(owner) => {
                let (tb, ob) = (base_value(this), base_value(other));
                if !matches!(tb, Value::Instance(_)) && !matches!(tb, Value::Object(_)) {
                    if matches!(ob, Value::Instance(_)) {
                        return Ok(not_implemented());
                    }
                    return Ok(match self.builtin_compare(&tb, &ob, op)? {
                        Some(r) => Value::Bool(r),
                        None => not_implemented(),
                    });
                }
                self.call_special(&f, this, std::slice::from_ref(other))
            }
            _ => {
                // object's defaults; a plain built-in value compares natively.
                let tb = base_value(this);
                if !matches!(tb, Value::Instance(_)) && !matches!(tb, Value::Object(_)) {
                    let ob = base_value(other);
                    if !matches!(ob, Value::Instance(_)) {
                        if let Some(r) = self.builtin_compare(&tb, &ob, op)? {
                            return Ok(Value::Bool(r));
                        }
                    }
                }
                match op {
                    CompareKind::Eq => Ok(if this.is(other) {
                        Value::Bool(true)
                    } else {
                        not_implemented()
                    }),
                    CompareKind::Ne => {
                        // object.__ne__ inverts __eq__.
                        let r = self.compare_slot(this, other, CompareKind::Eq)?;
                        if is_not_implemented(&r) {
                            Ok(r)
                        } else {
                            Ok(Value::Bool(!self.is_true(&r)?))
                        }
                    }
                    _ => Ok(not_implemented()),
                }
            }
        }
    }

    /// `a == b` as a bool.
    pub fn eq(&mut self, a: &Value, b: &Value) -> PyResult<bool> {
        match (a, b) {
            (Value::Int(x), Value::Int(y)) => return Ok(x == y),
            (Value::Str(x), Value::Str(y)) => {
                return Ok(Brc::ptr_eq(x, y) || x.as_str() == y.as_str())
            }
            (Value::Float(x), Value::Float(y)) => return Ok(x == y),
            (Value::None, Value::None) => return Ok(true),
            _ => {}
        }
        let r = self.compare(a, b, CompareKind::Eq)?;
        self.is_true(&r)
    }

    /// Identity, then `==` (how containers compare items).
    pub fn eq_identity(&mut self, a: &Value, b: &Value) -> PyResult<bool> {
        // Floats too: only the same NaN (same payload, see
        // `number::fresh_nan`) is identical without being equal.
        if a.is(b) {
            return Ok(true);
        }
        self.eq(a, b)
    }

    /// `a < b` as a bool (sorting).
    pub fn lt(&mut self, a: &Value, b: &Value) -> PyResult<bool> {
        match (a, b) {
            (Value::Int(x), Value::Int(y)) => return Ok(x < y),
            (Value::Float(x), Value::Float(y)) => return Ok(x < y),
            (Value::Str(x), Value::Str(y)) => return Ok(x.as_str() < y.as_str()),
            _ => {}
        }
        let r = self.compare(a, b, CompareKind::Lt)?;
        self.is_true(&r)
    }

    // ============================================================ truth

    pub fn is_true(&mut self, v: &Value) -> PyResult<bool> {
        Ok(match v {
            Value::Bool(b) => *b,
            Value::None | Value::Null => false,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::BigInt(_) => true,
            Value::Str(s) => !s.as_str().is_empty(),
            Value::Bytes(b) => !b.is_empty(),
            Value::ByteArray(b) => !b.data.lock().is_empty(),
            Value::List(l) => !l.items.lock().is_empty(),
            Value::Tuple(t) => !t.items.is_empty(),
            Value::Dict(d) => dict_len(d) != 0,
            Value::Set(s) | Value::FrozenSet(s) => !s.is_empty(),
            Value::Instance(inst) => return self.instance_truth(inst, v),
            Value::Class(c) if c.meta.is_some() => {
                if let Some(f) = meta_special(v, "__bool__") {
                    let r = self.call_special(&f, v, &[])?;
                    return match r {
                        Value::Bool(b) => Ok(b),
                        _ => Err(PyErr::type_error(format!(
                            "__bool__ should return bool, returned {}",
                            type_name(&r)
                        ))),
                    };
                }
                match meta_special(v, "__len__") {
                    Some(f) => {
                        let r = self.call_special(&f, v, &[])?;
                        self.len_result(&r)? != 0
                    }
                    None => true,
                }
            }
            Value::Object(o) => match &o.kind {
                ObjKind::Range { start, stop, step } => range_len(*start, *stop, *step) != 0,
                ObjKind::Complex(c) => !c.is_zero(),
                ObjKind::Native(_) => match self.call_dunder_unary(v, "__bool__")? {
                    Some(r) => return self.is_true(&r),
                    None => match self.call_dunder_unary(v, "__len__")? {
                        Some(r) => return Ok(self.len_result(&r)? != 0),
                        None => true,
                    },
                },
                _ => true,
            },
            _ => true,
        })
    }

    fn instance_truth(&mut self, inst: &Brc<Instance>, v: &Value) -> PyResult<bool> {
        if let Some((f, owner)) = lookup_with_owner(&inst.class, "__bool__") {
            if !is_builtin_class(owner) {
                let r = self.call_special(&f, v, &[])?;
                return match r {
                    Value::Bool(b) => Ok(b),
                    _ => Err(PyErr::type_error(format!(
                        "__bool__ should return bool, returned {}",
                        type_name(&r)
                    ))),
                };
            }
        }
        if let Some((f, owner)) = lookup_with_owner(&inst.class, "__len__") {
            if !is_builtin_class(owner) {
                let r = self.call_special(&f, v, &[])?;
                return Ok(self.len_result(&r)? != 0);
            }
        }
        match builtin_base(inst) {
            Some(b) => self.is_true(&b),
            None => Ok(true),
        }
    }

    /// Validate what `__len__` returned.
    pub fn len_result(&mut self, r: &Value) -> PyResult<i64> {
        match int_ref(&base_value(r)) {
            Some(i) => {
                if i.is_negative() {
                    return Err(PyErr::value_error("__len__() should return >= 0"));
                }
                i.to_i64().ok_or_else(|| {
                    PyErr::overflow_error("cannot fit 'int' into an index-sized integer")
                })
            }
            None => Err(PyErr::type_error(format!(
                "'{}' object cannot be interpreted as an integer",
                type_name(r)
            ))),
        }
    }

    // ============================================================ hashing

    pub fn hash(&mut self, v: &Value) -> PyResult<i64> {
        match v {
            Value::Int(i) => Ok(number::hash_int(number::IntRef::Small(*i))),
            Value::Str(s) => Ok(s.hash()),
            Value::Bool(b) => Ok(*b as i64),
            Value::BigInt(_) => Ok(number::hash_int(int_ref(v).expect("int"))),
            Value::Float(f) => Ok(number::hash_float(*f)),
            Value::None => Ok(NONE_HASH),
            Value::Bytes(b) => {
                // As CPython: `hash(b'abc') == hash('abc')`.
                Ok(crate::vm::strhash::hash_bytes(b))
            }
            Value::Tuple(t) => {
                let items = t.items.clone();
                self.enter_recursion()?;
                let mut hashes = Vec::with_capacity(items.len());
                let mut err = None;
                for it in items.iter() {
                    match self.hash(it) {
                        Ok(h) => hashes.push(h),
                        Err(e) => {
                            err = Some(e);
                            break;
                        }
                    }
                }
                self.leave_recursion();
                match err {
                    Some(e) => Err(e),
                    None => Ok(number::hash_tuple(&hashes)),
                }
            }
            Value::FrozenSet(s) => Ok(crate::vm::set::frozenset_hash(s)),
            Value::List(_) | Value::Dict(_) | Value::Set(_) | Value::ByteArray(_) => {
                Err(unhashable(v))
            }
            Value::BoundMethod(m) => {
                let x = match m.receiver.heap_ptr() {
                    Some(p) => pointer_hash(p),
                    None => self.hash(&m.receiver)?,
                };
                let y = self.hash(&m.func)?;
                Ok(x ^ y)
            }
            Value::Instance(inst) => self.instance_hash(inst, v),
            Value::Class(c) if c.meta.is_some() => match meta_special(v, "__hash__") {
                Some(Value::None) => Err(unhashable(v)),
                Some(f) => {
                    let r = self.call_special(&f, v, &[])?;
                    self.hash_result(&r)
                }
                None => Ok(pointer_hash(v.heap_ptr().unwrap_or(0))),
            },
            Value::Object(o) => match &o.kind {
                ObjKind::Range { start, stop, step } => {
                    let len = range_len(*start, *stop, *step);
                    let parts = [
                        number::hash_int(number::IntRef::Small(len)),
                        if len == 0 {
                            NONE_HASH
                        } else {
                            number::hash_int(number::IntRef::Small(*start))
                        },
                        if len <= 1 {
                            NONE_HASH
                        } else {
                            number::hash_int(number::IntRef::Small(*step))
                        },
                    ];
                    Ok(number::hash_tuple(&parts))
                }
                ObjKind::Slice { .. } => Err(unhashable(v)),
                ObjKind::Complex(c) => Ok(crate::vm::complex::hash(*c)),
                ObjKind::Ellipsis => Ok(NONE_HASH + 552),
                ObjKind::NotImplemented => Ok(NONE_HASH - 27),
                ObjKind::Native(_) => match lookup_with_owner(&o.class, "__hash__") {
                    // Views and other unhashable natives set `__hash__ = None`.
                    Some((f, _)) if f.is_none() => Err(unhashable(v)),
                    Some((f, owner)) if !is_object_class(owner) => {
                        let r = self.call_special(&f, v, &[])?;
                        self.hash_result(&r)
                    }
                    _ => Ok(pointer_hash(v.heap_ptr().unwrap_or(0))),
                },
                _ => Ok(pointer_hash(v.heap_ptr().unwrap_or(0))),
            },
            Value::Null => Ok(0),
            _ => Ok(pointer_hash(v.heap_ptr().unwrap_or(0))),
        }
    }

    fn instance_hash(&mut self, inst: &Brc<Instance>, v: &Value) -> PyResult<i64> {
        // A class that defines __eq__ but not __hash__ is unhashable (CPython
        // sets __hash__ = None in that class at creation).
        for c in std::iter::once(&inst.class).chain(inst.class.mro.iter()) {
            let (h, has_eq) = {
                let attrs = c.attrs.lock();
                (attrs.get("__hash__").cloned(), attrs.contains_key("__eq__"))
            };
            if let Some(h) = h {
                if h.is_none() {
                    return Err(unhashable(v));
                }
                if is_object_class(c) {
                    return Ok(pointer_hash(v.heap_ptr().unwrap_or(0)));
                }
                if is_builtin_class(c) {
                    if let Some(b) = builtin_base(inst) {
                        return self.hash(&b);
                    }
                    if matches!(inst.base, InstanceBase::Exception(_)) {
                        return Ok(pointer_hash(v.heap_ptr().unwrap_or(0)));
                    }
                }
                let r = self.call_special(&h, v, &[])?;
                return self.hash_result(&r);
            }
            if has_eq && !is_builtin_class(c) {
                return Err(unhashable(v));
            }
        }
        Ok(pointer_hash(v.heap_ptr().unwrap_or(0)))
    }

    fn hash_result(&mut self, r: &Value) -> PyResult<i64> {
        match int_ref(&base_value(r)) {
            Some(number::IntRef::Small(i)) => Ok(if i == -1 { -2 } else { i }),
            Some(i) => Ok(number::hash_int(i)),
            None => Err(PyErr::type_error(
                "__hash__ method should return an integer",
            )),
        }
    }

    // ============================================================ repr / str

    pub fn repr(&mut self, v: &Value) -> PyResult<String> {
        Ok(match v {
            Value::None => "None".into(),
            Value::Bool(b) => if *b { "True" } else { "False" }.into(),
            Value::Int(i) => i.to_string(),
            Value::BigInt(_) => number::int_to_decimal(int_ref(v).expect("int"))?,
            Value::Float(f) => number::float_repr(*f),
            Value::Str(s) => crate::vm::str::str_repr(s.as_str()),
            Value::Bytes(b) => crate::vm::str::bytes_repr(b),
            Value::ByteArray(b) => {
                let r = crate::vm::str::bytearray_literal(&b.data.lock());
                format!("bytearray({r})")
            }
            Value::List(l) => {
                let items = l.items.lock().clone();
                return self.repr_items(v, &items, "[", "]", false);
            }
            Value::Tuple(t) => {
                let items = t.items.clone();
                if items.len() == 1 {
                    return self.repr_items(v, &items, "(", ",)", false);
                }
                return self.repr_items(v, &items, "(", ")", false);
            }
            Value::Dict(d) => return self.repr_dict(v, d),
            Value::Set(_) => {
                let items = self.collect(v)?;
                if items.is_empty() {
                    return Ok("set()".into());
                }
                return self.repr_items(v, &items, "{", "}", false);
            }
            Value::FrozenSet(_) => {
                let items = self.collect(v)?;
                if items.is_empty() {
                    return Ok("frozenset()".into());
                }
                return self.repr_items(v, &items, "frozenset({", "})", false);
            }
            Value::Function(f) => format!("<function {} at {}>", f.qualname, addr(v)),
            Value::Native(n) => {
                if n.is_method {
                    match n.qualname.rsplit_once('.') {
                        Some((owner, _)) => format!("<method '{}' of '{owner}' objects>", n.name),
                        None => format!("<built-in function {}>", n.name),
                    }
                } else {
                    format!("<built-in function {}>", n.name)
                }
            }
            Value::BoundMethod(m) => return self.repr_bound(m),
            Value::Class(c) => match meta_special(v, "__repr__") {
                Some(f) => {
                    let r = self.call_special(&f, v, &[])?;
                    return match base_value(&r) {
                        Value::Str(s) => Ok(s.as_str().to_string()),
                        _ => Err(PyErr::type_error(format!(
                            "__repr__ returned non-string (type {})",
                            type_name(&r)
                        ))),
                    };
                }
                None => format!("<class '{}'>", class_path(c)),
            },
            Value::Module(m) => match self.dict_get_str(&m.dict, "__file__")? {
                Some(Value::Str(f)) => format!("<module '{}' from '{}'>", m.name, f.as_str()),
                _ => format!("<module '{}' (built-in)>", m.name),
            },
            Value::Instance(inst) => return self.repr_instance(inst, v),
            Value::Object(o) => return self.repr_object(o, v),
            Value::Null => "<NULL>".into(),
        })
    }

    fn repr_items(
        &mut self,
        v: &Value,
        items: &[Value],
        open: &str,
        close: &str,
        _dict: bool,
    ) -> PyResult<String> {
        let id = v.heap_ptr().unwrap_or(0);
        if REPR_ACTIVE.with(|a| a.borrow().contains(&id)) {
            // The innermost brackets (a 1-tuple's `,)` closes as `)`).
            let close = close.trim_start_matches(',');
            return Ok(format!("{}...{}", &open[open.len() - 1..], &close[..1]));
        }
        self.enter_recursion_for(" while getting the repr of an object")?;
        REPR_ACTIVE.with(|a| a.borrow_mut().push(id));
        let r = (|| {
            let mut out = String::from(open);
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&self.repr(it)?);
            }
            out.push_str(close);
            Ok(out)
        })();
        REPR_ACTIVE.with(|a| {
            let mut a = a.borrow_mut();
            if let Some(pos) = a.iter().rposition(|x| *x == id) {
                a.remove(pos);
            }
        });
        self.leave_recursion();
        r
    }

    fn repr_dict(&mut self, v: &Value, d: &PyDict) -> PyResult<String> {
        let items = dict_items(d);
        if items.is_empty() {
            return Ok("{}".into());
        }
        let id = v.heap_ptr().unwrap_or(0);
        if REPR_ACTIVE.with(|a| a.borrow().contains(&id)) {
            return Ok("{...}".into());
        }
        self.enter_recursion_for(" while getting the repr of an object")?;
        REPR_ACTIVE.with(|a| a.borrow_mut().push(id));
        let r = (|| {
            let mut out = String::from("{");
            for (i, (k, val)) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&self.repr(k)?);
                out.push_str(": ");
                out.push_str(&self.repr(val)?);
            }
            out.push('}');
            Ok(out)
        })();
        REPR_ACTIVE.with(|a| {
            let mut a = a.borrow_mut();
            if let Some(pos) = a.iter().rposition(|x| *x == id) {
                a.remove(pos);
            }
        });
        self.leave_recursion();
        r
    }

    fn repr_bound(&mut self, m: &BoundMethod) -> PyResult<String> {
        match &m.func {
            Value::Native(n) => {
                let recv = &m.receiver;
                Ok(match recv {
                    Value::Class(c) => format!(
                        "<built-in method {} of type object at {}>",
                        n.name,
                        addr(&Value::Class(c.clone()))
                    ),
                    Value::Module(md) => format!(
                        "<built-in method {} of module object at {}>",
                        n.name,
                        addr(&Value::Module(md.clone()))
                    ),
                    _ => format!(
                        "<built-in method {} of {} object at {}>",
                        n.name,
                        type_name(recv),
                        addr(recv)
                    ),
                })
            }
            f => {
                let qual = match f {
                    Value::Function(func) => func.qualname.to_string(),
                    other => match self.get_attr_opt(other, "__qualname__")? {
                        Some(Value::Str(s)) => s.as_str().to_string(),
                        _ => "?".into(),
                    },
                };
                let r = self.repr(&m.receiver)?;
                Ok(format!("<bound method {qual} of {r}>"))
            }
        }
    }

    fn repr_instance(&mut self, inst: &Brc<Instance>, v: &Value) -> PyResult<String> {
        self.repr_instance_as(inst, v, "__repr__")
    }

    /// The instance's repr; `hook` names the method blamed for a non-str
    /// result (`str()` of an object whose `__str__` is object's blames
    /// `__str__`, as CPython's `PyObject_Str` does).
    fn repr_instance_as(
        &mut self,
        inst: &Brc<Instance>,
        v: &Value,
        hook: &str,
    ) -> PyResult<String> {
        if let Some((f, owner)) = lookup_with_owner(&inst.class, "__repr__") {
            let user = !is_builtin_class(owner);
            let foreign_native =
                is_builtin_class(owner) && !is_object_class(owner) && builtin_base(inst).is_none();
            if user || foreign_native {
                // CPython's PyObject_Repr counts a level of recursion.
                let r = self.at_level(" while getting the repr of an object", |vm| {
                    vm.call_special(&f, v, &[])
                })?;
                return match base_value(&r) {
                    Value::Str(s) => Ok(s.as_str().to_string()),
                    _ => Err(PyErr::type_error(format!(
                        "{hook} returned non-string (type {})",
                        type_name(&r)
                    ))),
                };
            }
        }
        self.default_repr(inst, v)
    }

    /// object.__repr__ (and the built-in repr of a subclass's wrapped value,
    /// and BaseException.__repr__).
    fn default_repr(&mut self, inst: &Brc<Instance>, v: &Value) -> PyResult<String> {
        if let Some(b) = builtin_base(inst) {
            // A set or frozenset subclass names itself: `S({1, 2})`, `S()`.
            if let Value::Set(s) | Value::FrozenSet(s) = &b {
                let name = &inst.class.name;
                if s.is_empty() {
                    return Ok(format!("{name}()"));
                }
                let items = self.collect(&b)?;
                return self.repr_items(v, &items, &format!("{name}({{"), "})", false);
            }
            // So does a bytearray subclass: `B(b'..')`.
            if let Value::ByteArray(a) = &b {
                let r = crate::vm::str::bytearray_literal(&a.data.lock());
                return Ok(format!("{}({r})", inst.class.name));
            }
            return self.repr(&b);
        }
        if let InstanceBase::Exception(data) = &inst.base {
            let args = data.args.lock().clone();
            let name = &inst.class.name;
            if args.items.len() == 1 {
                let r = self.repr(&args.items[0])?;
                return Ok(format!("{name}({r})"));
            }
            let r = self.repr(&Value::Tuple(args))?;
            return Ok(format!("{name}{r}"));
        }
        Ok(format!(
            "<{} object at {}>",
            class_path(&inst.class),
            addr(v)
        ))
    }

    fn repr_object(&mut self, o: &Arc<Object>, v: &Value) -> PyResult<String> {
        if let Some((f, owner)) = lookup_with_owner(&o.class, "__repr__") {
            if !is_object_class(owner) {
                let r = self.call_special(&f, v, &[])?;
                return match r {
                    Value::Str(s) => Ok(s.as_str().to_string()),
                    _ => Err(PyErr::type_error(format!(
                        "__repr__ returned non-string (type {})",
                        type_name(&r)
                    ))),
                };
            }
        }
        self.repr_object_builtin(o, v)
    }

    /// The repr a built-in object's own type gives it.
    fn repr_object_builtin(&mut self, o: &Arc<Object>, v: &Value) -> PyResult<String> {
        Ok(match &o.kind {
            ObjKind::NotImplemented => "NotImplemented".into(),
            ObjKind::Ellipsis => "Ellipsis".into(),
            ObjKind::Range { start, stop, step } => {
                if *step == 1 {
                    format!("range({start}, {stop})")
                } else {
                    format!("range({start}, {stop}, {step})")
                }
            }
            ObjKind::Slice { start, stop, step } => format!(
                "slice({}, {}, {})",
                self.repr(start)?,
                self.repr(stop)?,
                self.repr(step)?
            ),
            ObjKind::StaticMethod(f) => format!("<staticmethod({})>", self.repr(f)?),
            ObjKind::ClassMethod(f) => format!("<classmethod({})>", self.repr(f)?),
            ObjKind::Super { cls, obj } => {
                let inner = if obj.is_none() {
                    "NULL".to_string()
                } else {
                    format!("<{} object>", type_name(obj))
                };
                format!("<super: <class '{}'>, {inner}>", cls.name)
            }
            ObjKind::Cell(c) => {
                let val = c.value.lock().clone();
                if val.is_null() {
                    format!("<cell at {}: empty>", addr(v))
                } else {
                    format!(
                        "<cell at {}: {} object at {}>",
                        addr(v),
                        type_name(&val),
                        addr(&val)
                    )
                }
            }
            ObjKind::Code(c) => format!(
                "<code object {} at {}, file \"{}\", line {}>",
                c.code.name,
                addr(v),
                c.code.filename,
                c.code.first_line
            ),
            _ => format!("<{} object at {}>", class_path(&o.class), addr(v)),
        })
    }

    /// `str(v)`.
    /// `repr(v)` as a value: a script's `__repr__` may return an instance
    /// of a str subclass, which `repr()` hands back as it is.
    pub fn repr_value(&mut self, v: &Value) -> PyResult<Value> {
        if let Value::Instance(inst) = v {
            if let Some(r) = self.script_text_hook(inst, v, "__repr__", "__repr__")? {
                return Ok(r);
            }
        }
        Ok(Value::from_string(self.repr(v)?))
    }

    /// `str(v)` as a value (a str subclass instance from a script's
    /// `__str__`, or from its `__repr__` through `object.__str__`, stays one).
    pub fn str_value(&mut self, v: &Value) -> PyResult<Value> {
        if let Value::Instance(inst) = v {
            let found = match lookup_with_owner(&inst.class, "__str__") {
                Some((_, owner)) if is_object_class(owner) => {
                    self.script_text_hook(inst, v, "__repr__", "__str__")?
                }
                Some(_) => self.script_text_hook(inst, v, "__str__", "__str__")?,
                None => None,
            };
            if let Some(r) = found {
                return Ok(r);
            }
        }
        Ok(Value::from_string(self.to_str(v)?))
    }

    /// Call a script `__str__`/`__repr__` for `v`, holding a recursion
    /// level per C function CPython passes through on the way
    /// (`PyObject_Str`, `PyObject_Repr`), each named in its RecursionError.
    fn call_text_hook(&mut self, f: &Value, v: &Value, levels: &[&str]) -> PyResult<Value> {
        let Some((first, rest)) = levels.split_first() else {
            return self.call_special(f, v, &[]);
        };
        self.at_level(first, |vm| vm.call_text_hook(f, v, rest))
    }

    /// The result of a script class's `hook` (`__str__`/`__repr__`), or
    /// `None` when the hook is a built-in one. `what` names the protocol in
    /// the non-string error, as CPython does.
    fn script_text_hook(
        &mut self,
        inst: &Brc<Instance>,
        v: &Value,
        hook: &str,
        what: &str,
    ) -> PyResult<Option<Value>> {
        let Some((f, owner)) = lookup_with_owner(&inst.class, hook) else {
            return Ok(None);
        };
        if is_builtin_class(owner) {
            return Ok(None);
        }
        const STR: &str = " while getting the str of an object";
        const REPR: &str = " while getting the repr of an object";
        let levels: &[&str] = match (what, hook) {
            ("__repr__", _) => &[REPR],
            // object's `__str__` calls the type's repr slot directly.
            (_, "__repr__") => &[STR],
            _ => &[STR],
        };
        let r = self.call_text_hook(&f, v, levels)?;
        match base_value(&r) {
            Value::Str(_) => Ok(Some(r)),
            _ => Err(PyErr::type_error(format!(
                "{what} returned non-string (type {})",
                type_name(&r)
            ))),
        }
    }

    pub fn to_str(&mut self, v: &Value) -> PyResult<String> {
        match v {
            Value::Str(s) => Ok(s.as_str().to_string()),
            Value::Instance(inst) => {
                if let Some((f, owner)) = lookup_with_owner(&inst.class, "__str__") {
                    let user = !is_builtin_class(owner);
                    let foreign_native = is_builtin_class(owner)
                        && !is_object_class(owner)
                        && builtin_base(inst).is_none();
                    if user || foreign_native {
                        let r =
                            self.call_text_hook(&f, v, &[" while getting the str of an object"])?;
                        return match base_value(&r) {
                            Value::Str(s) => Ok(s.as_str().to_string()),
                            _ => Err(PyErr::type_error(format!(
                                "__str__ returned non-string (type {})",
                                type_name(&r)
                            ))),
                        };
                    }
                    if !is_object_class(owner) {
                        if let Some(Value::Str(s)) = builtin_base(inst) {
                            return Ok(s.as_str().to_string());
                        }
                    }
                }
                if let InstanceBase::Exception(data) = &inst.base {
                    return self.exception_str(inst, data);
                }
                self.repr_instance_as(inst, v, "__str__")
            }
            Value::Object(o) => {
                if let Some((f, owner)) = lookup_with_owner(&o.class, "__str__") {
                    if !is_object_class(owner) {
                        let r = self.call_special(&f, v, &[])?;
                        return match r {
                            Value::Str(s) => Ok(s.as_str().to_string()),
                            _ => Err(PyErr::type_error(format!(
                                "__str__ returned non-string (type {})",
                                type_name(&r)
                            ))),
                        };
                    }
                }
                self.repr(v)
            }
            Value::Class(c) if c.meta.is_some() => match meta_special(v, "__str__") {
                Some(f) => {
                    let r = self.call_special(&f, v, &[])?;
                    match base_value(&r) {
                        Value::Str(s) => Ok(s.as_str().to_string()),
                        _ => Err(PyErr::type_error(format!(
                            "__str__ returned non-string (type {})",
                            type_name(&r)
                        ))),
                    }
                }
                None => self.repr(v),
            },
            _ => self.repr(v),
        }
    }

    /// BaseException.__str__ (KeyError shows the repr of its single argument).
    fn exception_str(
        &mut self,
        inst: &Brc<Instance>,
        data: &crate::vm::value::ExcData,
    ) -> PyResult<String> {
        let args = data.args.lock().clone();
        match args.items.len() {
            0 => Ok(String::new()),
            1 => {
                let key_error = types().exception(ExcKind::KeyError);
                if is_subclass(&inst.class, key_error) {
                    self.repr(&args.items[0])
                } else {
                    self.to_str(&args.items[0])
                }
            }
            _ => self.repr(&Value::Tuple(args)),
        }
    }

    // ============================================================ format

    /// `format(v, spec)`.
    pub fn format(&mut self, v: &Value, spec: &str) -> PyResult<String> {
        if let Some(r) = crate::vm::format::format_builtin(v, spec) {
            return r;
        }
        let cls = types().class_of(v);
        if let Some((f, owner)) = lookup_with_owner(cls, "__format__") {
            if !is_builtin_class(owner) {
                let r = self.call_special(&f, v, &[Value::str(spec)])?;
                return match base_value(&r) {
                    Value::Str(s) => Ok(s.as_str().to_string()),
                    _ => Err(PyErr::type_error(format!(
                        "__format__ must return a str, not {}",
                        type_name(&r)
                    ))),
                };
            }
            if !is_object_class(owner) {
                if let Value::Instance(inst) = v {
                    if let Some(b) = builtin_base(inst) {
                        if spec.is_empty() {
                            return self.to_str(v);
                        }
                        return self.format(&b, spec);
                    }
                }
                if matches!(v, Value::Object(_)) {
                    let r = self.call_special(&f, v, &[Value::str(spec)])?;
                    return match r {
                        Value::Str(s) => Ok(s.as_str().to_string()),
                        _ => Err(PyErr::type_error(format!(
                            "__format__ must return a str, not {}",
                            type_name(&r)
                        ))),
                    };
                }
            }
        }
        if !spec.is_empty() {
            return Err(PyErr::type_error(format!(
                "unsupported format string passed to {}.__format__",
                cls.name
            )));
        }
        if matches!(v, Value::Instance(_)) {
            // A call of the built-in `object.__format__` holds a level
            // around the one `PyObject_Str` holds, as in CPython.
            return self.at_level(" while calling a Python object", |vm| vm.to_str(v));
        }
        self.to_str(v)
    }

    // ============================================================ attributes

    /// `obj.name`.
    pub fn get_attr(&mut self, obj: &Value, name: &str) -> PyResult<Value> {
        if let Value::Instance(inst) = obj {
            if plain_instance_attr(inst, name) {
                if let Some(v) = attr_get(&inst.attrs.lock(), name) {
                    return Ok(v.clone());
                }
            }
        }
        match self.getattr_inner(obj, name)? {
            Some(v) => Ok(v),
            None => Err(self.no_attribute(obj, name)),
        }
    }

    /// `obj.name`, or `None` when there is no such attribute (AttributeError swallowed).
    pub fn get_attr_opt(&mut self, obj: &Value, name: &str) -> PyResult<Option<Value>> {
        match self.getattr_inner(obj, name) {
            Ok(v) => Ok(v),
            Err(e) if e.matches(ExcKind::AttributeError) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The AttributeError of a failed lookup. It carries `name` and `obj`,
    /// which the traceback uses for its "Did you mean" suggestion.
    fn no_attribute(&self, obj: &Value, name: &str) -> PyErr {
        attr_error(no_attribute_message(obj, name), obj, name)
    }

    fn getattr_inner(&mut self, obj: &Value, name: &str) -> PyResult<Option<Value>> {
        match obj {
            Value::Instance(inst) => self.instance_getattr(inst, obj, name),
            Value::Class(c) => self.class_getattr(c, obj, name),
            Value::Module(m) => self.module_getattr(m, obj, name),
            Value::Function(f) => {
                if let Some(v) = f.attrs.lock().get(name) {
                    return Ok(Some(v.clone()));
                }
                let v = match name {
                    "__name__" => Value::str(&f.name),
                    "__qualname__" => Value::str(&f.qualname),
                    "__doc__" => match f.code.consts.first() {
                        // The compiler puts a function's docstring first.
                        Some(d @ Value::Str(_)) if &*f.name != "<lambda>" => d.clone(),
                        _ => Value::None,
                    },
                    "__module__" => f.globals_name(),
                    "__defaults__" => {
                        if f.defaults.is_empty() {
                            Value::None
                        } else {
                            Value::tuple(f.defaults.to_vec())
                        }
                    }
                    "__kwdefaults__" => match &f.kwdefaults {
                        Some(d) => Value::Dict(d.clone()),
                        None => Value::None,
                    },
                    "__globals__" => Value::Dict(f.globals.clone()),
                    "__code__" => Value::Object(Arc::new(Object {
                        class: types().code.clone(),
                        kind: ObjKind::Code(f.code.clone()),
                    })),
                    "__closure__" => {
                        if f.closure.is_empty() {
                            Value::None
                        } else {
                            Value::tuple(
                                f.closure
                                    .iter()
                                    .map(|c| {
                                        Value::Object(Arc::new(Object {
                                            class: types().cell.clone(),
                                            kind: ObjKind::Cell(c.clone()),
                                        }))
                                    })
                                    .collect(),
                            )
                        }
                    }
                    "__dict__" => {
                        let d = Value::Dict(Brc::new(new_dict()));
                        let entries: Vec<(Arc<str>, Value)> = f
                            .attrs
                            .lock()
                            .iter()
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect();
                        for (k, v) in entries {
                            self.set_item(&d, &Value::str(&k), v)?;
                        }
                        d
                    }
                    "__annotations__" => Value::Dict(Brc::new(new_dict())),
                    "__class__" => Value::Class(types().function.clone()),
                    _ => return self.builtin_getattr(obj, name),
                };
                Ok(Some(v))
            }
            Value::BoundMethod(m) => match name {
                "__self__" => Ok(Some(m.receiver.clone())),
                "__func__" if !matches!(m.func, Value::Native(_)) => Ok(Some(m.func.clone())),
                "__class__" => Ok(Some(Value::Class(types().class_of(obj).clone()))),
                "__doc__" => self.getattr_inner(&m.func.clone(), name),
                _ => {
                    if let Some(v) = self.builtin_getattr(obj, name)? {
                        return Ok(Some(v));
                    }
                    self.getattr_inner(&m.func.clone(), name)
                }
            },
            Value::Native(n) => match name {
                "__name__" => Ok(Some(Value::str(n.name))),
                "__qualname__" => Ok(Some(Value::str(&n.qualname))),
                "__doc__" | "__self__" => Ok(Some(Value::None)),
                "__module__" => Ok(Some(if n.is_method {
                    Value::None
                } else {
                    Value::str("builtins")
                })),
                _ => self.builtin_getattr(obj, name),
            },
            Value::Object(o) => self.object_getattr(o, obj, name),
            _ => match (obj, name) {
                (Value::Int(_) | Value::BigInt(_) | Value::Bool(_), "real" | "numerator") => {
                    Ok(Some(match obj {
                        Value::Bool(b) => Value::Int(*b as i64),
                        _ => obj.clone(),
                    }))
                }
                (Value::Int(_) | Value::BigInt(_) | Value::Bool(_), "imag") => {
                    Ok(Some(Value::Int(0)))
                }
                (Value::Int(_) | Value::BigInt(_) | Value::Bool(_), "denominator") => {
                    Ok(Some(Value::Int(1)))
                }
                (Value::Float(_), "real") => Ok(Some(obj.clone())),
                (Value::Float(_), "imag") => Ok(Some(Value::Float(0.0))),
                _ => self.builtin_getattr(obj, name),
            },
        }
    }

    /// Attributes of a built-in value found on its type (methods bind).
    fn builtin_getattr(&mut self, obj: &Value, name: &str) -> PyResult<Option<Value>> {
        let cls = types().class_of(obj);
        if name == "__class__" {
            return Ok(Some(Value::Class(cls.clone())));
        }
        match lookup_in_class(cls, name) {
            Some(a) => {
                let cls = cls.clone();
                self.bind_attr(a, obj, &cls).map(Some)
            }
            None => {
                if name == "__doc__" {
                    return Ok(Some(Value::None));
                }
                Ok(None)
            }
        }
    }

    /// Bind a class attribute found for an instance access (non-data descriptors).
    pub(crate) fn bind_attr(
        &mut self,
        attr: Value,
        obj: &Value,
        cls: &Arc<Class>,
    ) -> PyResult<Value> {
        Ok(match &attr {
            Value::Function(_) => Value::BoundMethod(Arc::new(BoundMethod {
                func: attr,
                receiver: obj.clone(),
            })),
            Value::Native(n) if n.is_method => Value::BoundMethod(Arc::new(BoundMethod {
                func: attr.clone(),
                receiver: obj.clone(),
            })),
            Value::Object(o) => match &o.kind {
                ObjKind::StaticMethod(f) => f.clone(),
                ObjKind::ClassMethod(f) => Value::BoundMethod(Arc::new(BoundMethod {
                    func: f.clone(),
                    receiver: Value::Class(cls.clone()),
                })),
                ObjKind::Property { fget, .. } => {
                    if fget.is_none() {
                        return Err(PyErr::attribute_error("unreadable attribute"));
                    }
                    self.call(fget, std::slice::from_ref(obj), &[])?
                }
                _ => attr,
            },
            Value::Instance(d) => match lookup_in_class(&d.class, "__get__") {
                Some(get) => {
                    self.call_special(&get, &attr, &[obj.clone(), Value::Class(cls.clone())])?
                }
                None => attr,
            },
            _ => attr,
        })
    }

    /// A data descriptor's value for an instance access, if `attr` is one.
    pub(crate) fn data_descriptor_get(
        &mut self,
        attr: &Value,
        obj: &Value,
        cls: &Arc<Class>,
        name: &str,
    ) -> PyResult<Option<Value>> {
        match attr {
            Value::Object(o) => {
                if let ObjKind::Property { fget, .. } = &o.kind {
                    if fget.is_none() {
                        return Err(attr_error(
                            format!("property '{name}' of '{}' object has no getter", cls.name),
                            obj,
                            name,
                        ));
                    }
                    return self.call(fget, std::slice::from_ref(obj), &[]).map(Some);
                }
                Ok(None)
            }
            Value::Instance(d) => {
                let (get, set, del) = {
                    let dc = &d.class;
                    (
                        lookup_in_class(dc, "__get__"),
                        lookup_in_class(dc, "__set__").is_some(),
                        lookup_in_class(dc, "__delete__").is_some(),
                    )
                };
                if !(set || del) {
                    return Ok(None);
                }
                match get {
                    Some(g) => self
                        .call_special(&g, attr, &[obj.clone(), Value::Class(cls.clone())])
                        .map(Some),
                    None => Ok(None),
                }
            }
            _ => Ok(None),
        }
    }

    fn instance_getattr(
        &mut self,
        inst: &Brc<Instance>,
        obj: &Value,
        name: &str,
    ) -> PyResult<Option<Value>> {
        let cls = &inst.class;
        // `__getattribute__` (a script's, or `object`'s below), then
        // `__getattr__` when that finds nothing or raises AttributeError
        // (a property's getter may).
        let custom = if class_flags(cls) & CUSTOM_GETATTRIBUTE != 0 {
            lookup_in_class(cls, "__getattribute__")
        } else {
            None
        };
        let found = match custom {
            Some(ga) => self.call_special(&ga, obj, &[Value::str(name)]).map(Some),
            None => self.generic_instance_getattr(inst, obj, name),
        };
        let missing = match found {
            Ok(None) => None,
            Err(e) if e.matches(ExcKind::AttributeError) => Some(e),
            found => return found,
        };
        match lookup_in_class(cls, "__getattr__") {
            Some(ga) => self.call_special(&ga, obj, &[Value::str(name)]).map(Some),
            None => missing.map_or(Ok(None), Err),
        }
    }

    /// `object.__getattribute__` for an instance: data descriptors, the
    /// instance namespace, then class attributes; `None` when all miss.
    fn generic_instance_getattr(
        &mut self,
        inst: &Brc<Instance>,
        obj: &Value,
        name: &str,
    ) -> PyResult<Option<Value>> {
        let cls = &inst.class;
        if name.starts_with("__") {
            match name {
                "__class__" => return Ok(Some(Value::Class(cls.clone()))),
                // Instances of `object` itself and of slotted classes have none.
                "__dict__" if !is_object_class(&inst.class) && !is_slotted(&inst.class) => {
                    return self.instance_dict(inst).map(Some)
                }
                _ => {}
            }
        }
        if let InstanceBase::Exception(data) = &inst.base {
            if let Some(v) = exception_attr(data, name) {
                return Ok(Some(v));
            }
        }
        let class_attr = lookup_in_class(cls, name);
        if let Some(ca) = &class_attr {
            if matches!(ca, Value::Object(_) | Value::Instance(_)) {
                if let Some(r) = self.data_descriptor_get(ca, obj, cls, name)? {
                    return Ok(Some(r));
                }
            }
        }
        if let Some(v) = attr_get(&inst.attrs.lock(), name) {
            return Ok(Some(v.clone()));
        }
        if let Some(ca) = class_attr {
            return self.bind_attr(ca, obj, cls).map(Some);
        }
        if let InstanceBase::Exception(data) = &inst.base {
            if let Some(v) = exception_derived_attr(data, cls, name) {
                return Ok(Some(v));
            }
        }
        if let Some(b) = builtin_base(inst) {
            if let (
                Value::Int(_) | Value::BigInt(_) | Value::Bool(_) | Value::Float(_),
                "real" | "imag" | "numerator" | "denominator",
            ) = (&b, name)
            {
                return self.getattr_inner(&b, name);
            }
        }
        if name == "__doc__" {
            return Ok(Some(Value::None));
        }
        if name == "__module__" {
            return Ok(Some(Value::str(&cls.module)));
        }
        Ok(None)
    }

    /// `obj.__dict__`: a snapshot of the instance attributes.
    fn instance_dict(&mut self, inst: &Brc<Instance>) -> PyResult<Value> {
        let entries: Vec<(Arc<str>, Value)> = inst
            .attrs
            .lock()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let d = Value::Dict(Brc::new(new_dict()));
        for (k, v) in entries {
            self.set_item(&d, &Value::str(&k), v)?;
        }
        Ok(crate::vm::class::instance_dict_view(inst, d))
    }

    fn class_getattr(
        &mut self,
        c: &Arc<Class>,
        obj: &Value,
        name: &str,
    ) -> PyResult<Option<Value>> {
        // A custom metaclass's data descriptors (a `property` on it) win.
        if let Some(meta) = &c.meta {
            if let Some(ma) = custom_attr(meta, name) {
                if let Some(r) = self.data_descriptor_get(&ma, obj, meta, name)? {
                    return Ok(Some(r));
                }
            }
        }
        if name.starts_with("__") {
            let special = match name {
                "__name__" => Some(Value::str(&c.name.get())),
                "__qualname__" => Some(Value::str(&c.qualname.get())),
                "__mro__" => {
                    let mut v = vec![Value::Class(c.clone())];
                    v.extend(c.mro.iter().map(|m| Value::Class(m.clone())));
                    Some(Value::tuple(v))
                }
                "__bases__" => Some(Value::tuple(
                    c.bases.iter().map(|b| Value::Class(b.clone())).collect(),
                )),
                "__base__" => Some(match c.bases.first() {
                    Some(b) => Value::Class(b.clone()),
                    None => Value::None,
                }),
                "__class__" => Some(Value::Class(types().class_of(obj).clone())),
                "__dict__" => {
                    let entries: Vec<(Arc<str>, Value)> = c
                        .attrs
                        .lock()
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    let d = Value::Dict(Brc::new(new_dict()));
                    for (k, v) in entries {
                        self.set_item(&d, &Value::str(&k), v)?;
                    }
                    Some(d)
                }
                _ => None,
            };
            if special.is_some() {
                return Ok(special);
            }
        }
        if let Some(a) = lookup_in_class(c, name) {
            return Ok(Some(match &a {
                Value::Object(o) => match &o.kind {
                    ObjKind::ClassMethod(f) => Value::BoundMethod(Arc::new(BoundMethod {
                        func: f.clone(),
                        receiver: obj.clone(),
                    })),
                    ObjKind::StaticMethod(f) => f.clone(),
                    _ => a,
                },
                Value::Instance(d) => match lookup_in_class(&d.class, "__get__") {
                    Some(get) => self.call_special(&get, &a, &[Value::None, obj.clone()])?,
                    None => a,
                },
                _ => a,
            }));
        }
        match name {
            "__module__" => return Ok(Some(Value::str(&c.module))),
            "__doc__" => return Ok(Some(Value::None)),
            _ => {}
        }
        // Then the metaclass: `A.mro()`, a custom metaclass's methods.
        let meta = types().class_of(obj).clone();
        if let Some(a) = lookup_in_class(&meta, name) {
            return self.bind_attr(a, obj, &meta).map(Some);
        }
        if let Some(ga) = custom_attr(&meta, "__getattr__") {
            return self.call_special(&ga, obj, &[Value::str(name)]).map(Some);
        }
        Ok(None)
    }

    fn module_getattr(
        &mut self,
        m: &Arc<crate::vm::value::Module>,
        obj: &Value,
        name: &str,
    ) -> PyResult<Option<Value>> {
        if let Some(v) = self.dict_get_str(&m.dict, name)? {
            return Ok(Some(v));
        }
        match name {
            "__dict__" => Ok(Some(Value::Dict(m.dict.clone()))),
            "__name__" => Ok(Some(Value::str(&m.name))),
            "__class__" => Ok(Some(Value::Class(types().module.clone()))),
            _ => {
                // The module type's methods (`sys.__repr__`).
                if name.starts_with("__") {
                    if let Some(v) = self.builtin_getattr(obj, name)? {
                        return Ok(Some(v));
                    }
                }
                if let Some(ga) = self.dict_get_str(&m.dict, "__getattr__")? {
                    return self.call(&ga, &[Value::str(name)], &[]).map(Some);
                }
                Ok(None)
            }
        }
    }

    /// A str-keyed dict lookup (module globals, namespaces).
    fn dict_get_str(&mut self, d: &PyDict, name: &str) -> PyResult<Option<Value>> {
        Ok(d.get(name))
    }

    fn object_getattr(
        &mut self,
        o: &Arc<Object>,
        obj: &Value,
        name: &str,
    ) -> PyResult<Option<Value>> {
        let direct = match (&o.kind, name) {
            (ObjKind::Range { start, .. }, "start") => Some(Value::Int(*start)),
            (ObjKind::Range { stop, .. }, "stop") => Some(Value::Int(*stop)),
            (ObjKind::Range { step, .. }, "step") => Some(Value::Int(*step)),
            (ObjKind::Slice { start, .. }, "start") => Some(start.clone()),
            (ObjKind::Slice { stop, .. }, "stop") => Some(stop.clone()),
            (ObjKind::Slice { step, .. }, "step") => Some(step.clone()),
            (ObjKind::Property { fget, .. }, "fget") => Some(fget.clone()),
            (ObjKind::Property { fset, .. }, "fset") => Some(fset.clone()),
            (ObjKind::Property { fdel, .. }, "fdel") => Some(fdel.clone()),
            (ObjKind::Property { doc, fget, .. }, "__doc__") => Some(if doc.is_none() {
                match fget {
                    Value::None => Value::None,
                    f => self.get_attr_opt(f, "__doc__")?.unwrap_or(Value::None),
                }
            } else {
                doc.clone()
            }),
            (ObjKind::StaticMethod(f) | ObjKind::ClassMethod(f), "__func__" | "__wrapped__") => {
                Some(f.clone())
            }
            (
                ObjKind::StaticMethod(f) | ObjKind::ClassMethod(f),
                "__name__" | "__qualname__" | "__doc__",
            ) => return self.getattr_inner(&f.clone(), name),
            (ObjKind::Cell(c), "cell_contents") => {
                let v = c.value.lock().clone();
                if v.is_null() {
                    return Err(PyErr::value_error("Cell is empty"));
                }
                Some(v)
            }
            (ObjKind::Code(c), "co_name") => Some(Value::str(&c.code.name)),
            (ObjKind::Code(c), "co_qualname") => Some(Value::str(&c.code.qualname)),
            (ObjKind::Code(c), "co_filename") => Some(Value::str(&c.code.filename)),
            (ObjKind::Code(c), "co_firstlineno") => Some(Value::Int(c.code.first_line as i64)),
            (ObjKind::Code(c), "co_argcount") => Some(Value::Int(c.code.argcount as i64)),
            (ObjKind::Code(c), "co_posonlyargcount") => {
                Some(Value::Int(c.code.posonlyargcount as i64))
            }
            (ObjKind::Code(c), "co_kwonlyargcount") => {
                Some(Value::Int(c.code.kwonlyargcount as i64))
            }
            (ObjKind::Code(c), "co_nlocals") => Some(Value::Int(c.code.varnames.len() as i64)),
            (ObjKind::Code(c), "co_varnames") => Some(name_tuple(&c.code.varnames, false)),
            (ObjKind::Code(c), "co_cellvars") => Some(name_tuple(&c.code.cellvars, true)),
            (ObjKind::Code(c), "co_freevars") => Some(name_tuple(&c.code.freevars, true)),
            (ObjKind::Super { .. }, _) if name != "__class__" => {
                return crate::vm::class::super_lookup(self, o, name);
            }
            _ => None,
        };
        if direct.is_some() {
            return Ok(direct);
        }
        if let ObjKind::Native(_) = &o.kind {
            if let Some((f, owner)) = lookup_with_owner(&o.class, "__getattribute__") {
                if !is_object_class(owner) {
                    // Its AttributeError (and message) is the answer.
                    return self.call_special(&f, obj, &[Value::str(name)]).map(Some);
                }
            }
        }
        if let Some(v) = self.builtin_getattr(obj, name)? {
            return Ok(Some(v));
        }
        if let ObjKind::Native(_) = &o.kind {
            if let Some(ga) = lookup_in_class(&o.class, "__getattr__") {
                return self.call_special(&ga, obj, &[Value::str(name)]).map(Some);
            }
        }
        Ok(None)
    }

    /// `obj.name = value`.
    pub fn set_attr(&mut self, obj: &Value, name: &str, value: Value) -> PyResult<()> {
        match obj {
            Value::Instance(inst) => {
                if plain_instance_attr(inst, name) {
                    instance_store(inst, name, value);
                    return Ok(());
                }
                if class_flags(&inst.class) & CUSTOM_SETATTR != 0 {
                    if let Some(f) = lookup_in_class(&inst.class, "__setattr__") {
                        self.call_special(&f, obj, &[Value::str(name), value])?;
                        return Ok(());
                    }
                }
                self.generic_setattr(obj, name, value)
            }
            Value::Object(o) if matches!(o.kind, ObjKind::Native(_)) => {
                if let Some((f, owner)) = lookup_with_owner(&o.class, "__setattr__") {
                    if !is_object_class(owner) {
                        self.call_special(&f, obj, &[Value::str(name), value])?;
                        return Ok(());
                    }
                }
                self.generic_setattr(obj, name, value)
            }
            Value::Class(c) if c.meta.is_some() => {
                if let Some(f) = meta_special(obj, "__setattr__") {
                    self.call_special(&f, obj, &[Value::str(name), value])?;
                    return Ok(());
                }
                self.generic_setattr(obj, name, value)
            }
            _ => self.generic_setattr(obj, name, value),
        }
    }

    /// object.__setattr__: descriptors, then the instance namespace.
    pub fn generic_setattr(&mut self, obj: &Value, name: &str, value: Value) -> PyResult<()> {
        match obj {
            Value::Instance(inst) => {
                let cls = &inst.class;
                if class_flags(cls) & NO_INSTANCE_DICT != 0
                    && !(name.starts_with("__") && name.ends_with("__"))
                    && lookup_in_class(cls, name).is_none()
                    && !declared_slot(cls, name)
                {
                    return Err(store_attr_error(format!(
                        "'{}' object has no attribute '{name}'",
                        cls.name
                    )));
                }
                if let Some(ca) = lookup_in_class(cls, name) {
                    match &ca {
                        Value::Object(o) => {
                            if let ObjKind::Property { fset, .. } = &o.kind {
                                if fset.is_none() {
                                    return Err(store_attr_error(format!(
                                        "property '{name}' of '{}' object has no setter",
                                        cls.name
                                    )));
                                }
                                self.call(fset, &[obj.clone(), value], &[])?;
                                return Ok(());
                            }
                        }
                        Value::Instance(d) => {
                            if let Some(set) = lookup_in_class(&d.class, "__set__") {
                                self.call_special(&set, &ca, &[obj.clone(), value])?;
                                return Ok(());
                            }
                        }
                        _ => {}
                    }
                }
                if let InstanceBase::Exception(data) = &inst.base {
                    if set_exception_attr(self, data, name, &value)? {
                        return Ok(());
                    }
                }
                match name {
                    "__class__" => match &value {
                        Value::Class(_) => {
                            Err(PyErr::type_error("__class__ assignment is not supported"))
                        }
                        _ => Err(PyErr::type_error(format!(
                            "__class__ must be set to a class, not '{}' object",
                            type_name(&value)
                        ))),
                    },
                    _ => {
                        instance_store(inst, name, value);
                        Ok(())
                    }
                }
            }
            Value::Class(c) => {
                if is_builtin_class(c) {
                    return Err(PyErr::type_error(format!(
                        "cannot set '{name}' attribute of immutable type '{}'",
                        c.name
                    )));
                }
                if let Some(meta) = &c.meta {
                    if let Some(ma) = custom_attr(meta, name) {
                        if self.descriptor_set(&ma, obj, meta, name, Some(&value))? {
                            return Ok(());
                        }
                    }
                }
                if let "__name__" | "__qualname__" = name {
                    return set_class_name(c, name, &value);
                }
                crate::vm::finalize::note_del(name);
                let old = c.attrs.lock().insert(name.into(), value);
                class_changed();
                drop(old);
                Ok(())
            }
            Value::Module(m) => {
                let d = Value::Dict(m.dict.clone());
                self.set_item(&d, &Value::str(name), value)
            }
            Value::Function(f) => {
                f.attrs.lock().insert(name.into(), value);
                Ok(())
            }
            _ => {
                let cls = types().class_of(obj);
                if lookup_in_class(cls, name).is_some() {
                    return Err(store_attr_error(format!(
                        "'{}' object attribute '{name}' is read-only",
                        cls.name
                    )));
                }
                Err(store_attr_error(no_attribute_message(obj, name)))
            }
        }
    }

    /// Set (`Some(value)`) or delete (`None`) through `attr` when it is a
    /// data descriptor (a property, or an object with `__set__`/`__delete__`);
    /// `false` when it is not one.
    fn descriptor_set(
        &mut self,
        attr: &Value,
        obj: &Value,
        cls: &Arc<Class>,
        name: &str,
        value: Option<&Value>,
    ) -> PyResult<bool> {
        match attr {
            Value::Object(o) => {
                let ObjKind::Property { fset, fdel, .. } = &o.kind else {
                    return Ok(false);
                };
                let (f, what) = match value {
                    Some(_) => (fset, "setter"),
                    None => (fdel, "deleter"),
                };
                if f.is_none() {
                    return Err(attr_error(
                        format!("property '{name}' of '{}' object has no {what}", cls.name),
                        obj,
                        name,
                    ));
                }
                let mut args = vec![obj.clone()];
                args.extend(value.cloned());
                self.call(f, &args, &[])?;
                Ok(true)
            }
            Value::Instance(d) => {
                let hook = if value.is_some() {
                    "__set__"
                } else {
                    "__delete__"
                };
                let Some(f) = lookup_in_class(&d.class, hook) else {
                    return Ok(false);
                };
                let mut args = vec![obj.clone()];
                args.extend(value.cloned());
                self.call_special(&f, attr, &args)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// `del obj.name`.
    pub fn del_attr(&mut self, obj: &Value, name: &str) -> PyResult<()> {
        match obj {
            Value::Instance(inst) => {
                if class_flags(&inst.class) & CUSTOM_DELATTR != 0 {
                    if let Some(f) = lookup_in_class(&inst.class, "__delattr__") {
                        self.call_special(&f, obj, &[Value::str(name)])?;
                        return Ok(());
                    }
                }
                self.generic_delattr(obj, name)
            }
            Value::Class(c) if c.meta.is_some() => {
                if let Some(f) = meta_special(obj, "__delattr__") {
                    self.call_special(&f, obj, &[Value::str(name)])?;
                    return Ok(());
                }
                self.generic_delattr(obj, name)
            }
            _ => self.generic_delattr(obj, name),
        }
    }

    /// object.__delattr__.
    pub fn generic_delattr(&mut self, obj: &Value, name: &str) -> PyResult<()> {
        match obj {
            Value::Instance(inst) => {
                let cls = &inst.class;
                if let Some(ca) = lookup_in_class(cls, name) {
                    match &ca {
                        Value::Object(o) => {
                            if let ObjKind::Property { fdel, .. } = &o.kind {
                                if fdel.is_none() {
                                    return Err(store_attr_error(format!(
                                        "property '{name}' of '{}' object has no deleter",
                                        cls.name
                                    )));
                                }
                                self.call(fdel, std::slice::from_ref(obj), &[])?;
                                return Ok(());
                            }
                        }
                        Value::Instance(d) => {
                            if let Some(del) = lookup_in_class(&d.class, "__delete__") {
                                self.call_special(&del, &ca, std::slice::from_ref(obj))?;
                                return Ok(());
                            }
                        }
                        _ => {}
                    }
                }
                if inst.attrs.lock().shift_remove(name).is_some() {
                    return Ok(());
                }
                Err(store_attr_error(no_attribute_message(obj, name)))
            }
            Value::Class(c) => {
                if is_builtin_class(c) {
                    return Err(PyErr::type_error(format!(
                        "cannot delete '{name}' attribute of immutable type '{}'",
                        c.name
                    )));
                }
                if let Some(meta) = &c.meta {
                    if let Some(ma) = custom_attr(meta, name) {
                        if self.descriptor_set(&ma, obj, meta, name, None)? {
                            return Ok(());
                        }
                    }
                }
                if let "__name__" | "__qualname__" | "__module__" = name {
                    return Err(PyErr::type_error(format!(
                        "cannot delete '{name}' attribute of immutable type '{}'",
                        c.name
                    )));
                }
                let old = c.attrs.lock().shift_remove(name);
                if old.is_some() {
                    class_changed();
                    return Ok(());
                }
                Err(store_attr_error(no_attribute_message(obj, name)))
            }
            Value::Module(m) => {
                let d = Value::Dict(m.dict.clone());
                match self.del_item(&d, &Value::str(name)) {
                    Ok(()) => Ok(()),
                    Err(e) if e.matches(ExcKind::KeyError) => {
                        Err(store_attr_error(no_attribute_message(obj, name)))
                    }
                    Err(e) => Err(e),
                }
            }
            Value::Function(f) => {
                if f.attrs.lock().shift_remove(name).is_some() {
                    return Ok(());
                }
                Err(store_attr_error(no_attribute_message(obj, name)))
            }
            _ => Err(store_attr_error(no_attribute_message(obj, name))),
        }
    }

    /// `LoadAttr`: replace the top of the stack, `obj`, with `obj.name`.
    #[inline]
    pub(crate) fn load_attr_top(&mut self, name: &str) -> PyResult<()> {
        let Some(obj) = self.stack.last() else {
            return Err(PyErr::new(ExcKind::SystemError, "empty value stack"));
        };
        let mut v = Value::Null;
        if let Value::Instance(inst) = obj {
            if plain_instance_attr(inst, name) {
                if let Some(x) = attr_get(&inst.attrs.lock(), name) {
                    v = x.clone();
                }
            }
        }
        if v.is_null() {
            let obj = obj.clone();
            v = self.get_attr(&obj, name)?;
        }
        if let Some(top) = self.stack.last_mut() {
            *top = v;
        }
        Ok(())
    }

    /// `LoadMethod`: replace the top of the stack, `obj`, with `[func, obj]`
    /// when `name` is a plain method of its type (no bound method built),
    /// else with `[obj.name, Null]`.
    #[inline]
    pub(crate) fn load_method_top(&mut self, name: &str) -> PyResult<()> {
        let Some(obj) = self.stack.last() else {
            return Err(PyErr::new(ExcKind::SystemError, "empty value stack"));
        };
        let f = plain_method(obj, name);
        if !f.is_null() {
            let len = self.stack.len();
            self.stack.push(f);
            // [obj, func] -> [func, obj]
            self.stack.swap(len - 1, len);
            return Ok(());
        }
        let obj = self.stack.pop().unwrap_or(Value::None);
        let (f, s) = self.load_method(&obj, name)?;
        self.stack.push(f);
        self.stack.push(s);
        Ok(())
    }

    /// `obj.name` for a call: `(func, obj)` when `name` is a plain method on
    /// the type (no bound method allocated), else `(attr, Null)`.
    pub fn load_method(&mut self, obj: &Value, name: &str) -> PyResult<(Value, Value)> {
        match obj {
            Value::Instance(inst) => {
                if class_flags(&inst.class) & CUSTOM_GETATTRIBUTE != 0 {
                    return Ok((self.get_attr(obj, name)?, Value::Null));
                }
                if let Some(ca) = lookup_in_class(&inst.class, name) {
                    let plain = match &ca {
                        Value::Function(_) => true,
                        Value::Native(n) => n.is_method,
                        _ => false,
                    };
                    if plain && attr_index(&inst.attrs.lock(), name).is_none() {
                        return Ok((ca, obj.clone()));
                    }
                }
                Ok((self.get_attr(obj, name)?, Value::Null))
            }
            Value::Class(_) | Value::Module(_) | Value::Function(_) | Value::BoundMethod(_) => {
                Ok((self.get_attr(obj, name)?, Value::Null))
            }
            Value::Object(o) if matches!(o.kind, ObjKind::Super { .. }) => {
                Ok((self.get_attr(obj, name)?, Value::Null))
            }
            Value::Object(o) if matches!(o.kind, ObjKind::Native(_)) => {
                // Native objects may compute attributes themselves.
                let custom = lookup_with_owner(&o.class, "__getattribute__")
                    .is_some_and(|(_, owner)| !is_object_class(owner));
                if !custom {
                    if let Some(ca) = lookup_in_class(&o.class, name) {
                        if matches!(&ca, Value::Native(n) if n.is_method) {
                            return Ok((ca, obj.clone()));
                        }
                    }
                }
                Ok((self.get_attr(obj, name)?, Value::Null))
            }
            _ => {
                if let Some(ca) = lookup_in_class(types().class_of(obj), name) {
                    let plain = match &ca {
                        Value::Function(_) => true,
                        Value::Native(n) => n.is_method,
                        _ => false,
                    };
                    if plain {
                        return Ok((ca, obj.clone()));
                    }
                }
                Ok((self.get_attr(obj, name)?, Value::Null))
            }
        }
    }

    // ============================================================ items

    /// `obj[key]`.
    pub fn get_item(&mut self, obj: &Value, key: &Value) -> PyResult<Value> {
        match obj {
            Value::List(l) => {
                if let Value::Int(i) = key {
                    let items = l.items.lock();
                    let n = items.len() as i64;
                    let j = if *i < 0 { i + n } else { *i };
                    if j < 0 || j >= n {
                        return Err(PyErr::index_error("list index out of range"));
                    }
                    return Ok(items[j as usize].clone());
                }
                match self.key_of(key)? {
                    Key::Index(i) => self.get_item(obj, &Value::Int(i)),
                    Key::Slice(a, b, c) => {
                        // Cloning values runs no script code: slice under the lock.
                        let part = slice_vec(&l.items.lock(), a, b, c)?;
                        Ok(Value::list(part))
                    }
                    Key::Other => Err(PyErr::type_error(format!(
                        "list indices must be integers or slices, not {}",
                        type_name(key)
                    ))),
                }
            }
            Value::Tuple(t) => match self.key_of(key)? {
                Key::Index(i) => {
                    let n = t.items.len() as i64;
                    let j = if i < 0 { i + n } else { i };
                    if j < 0 || j >= n {
                        return Err(PyErr::index_error("tuple index out of range"));
                    }
                    Ok(t.items[j as usize].clone())
                }
                Key::Slice(a, b, c) => Ok(Value::tuple(slice_vec(&t.items, a, b, c)?)),
                Key::Other => Err(PyErr::type_error(format!(
                    "tuple indices must be integers or slices, not {}",
                    type_name(key)
                ))),
            },
            Value::Str(s) => match self.key_of(key)? {
                Key::Index(i) => {
                    let n = s.char_len() as i64;
                    let j = if i < 0 { i + n } else { i };
                    if j < 0 || j >= n {
                        return Err(PyErr::index_error("string index out of range"));
                    }
                    let c = crate::vm::str::char_at(s, j as usize).unwrap_or(' ');
                    Ok(Value::from_string(c.to_string()))
                }
                Key::Slice(a, b, c) => {
                    let (start, stop, step, len) = adjust_slice(a, b, c, s.char_len() as i64)?;
                    if len == s.char_len() as i64 && step == 1 {
                        return Ok(obj.clone());
                    }
                    Ok(Value::from_string(crate::vm::str::slice_str(
                        s, start, stop, step,
                    )))
                }
                Key::Other => Err(PyErr::type_error(format!(
                    "string indices must be integers, not '{}'",
                    type_name(key)
                ))),
            },
            Value::Bytes(bs) => match self.key_of(key)? {
                Key::Index(i) => {
                    let n = bs.len() as i64;
                    let j = if i < 0 { i + n } else { i };
                    if j < 0 || j >= n {
                        return Err(PyErr::index_error("index out of range"));
                    }
                    Ok(Value::Int(bs[j as usize] as i64))
                }
                Key::Slice(a, b, c) => Ok(Value::Bytes(slice_vec(bs, a, b, c)?.into())),
                Key::Other => Err(PyErr::type_error(format!(
                    "byte indices must be integers or slices, not {}",
                    type_name(key)
                ))),
            },
            Value::Dict(d) => match self.dict_get(d, key)? {
                Some(v) => Ok(v),
                None => Err(PyErr::key_error(key.clone())),
            },
            Value::ByteArray(b) => self.bytearray_get_item(b, key),
            Value::Instance(inst) => {
                if let Some((f, owner)) = lookup_with_owner(&inst.class, "__getitem__") {
                    if !is_builtin_class(owner) || builtin_base(inst).is_none() {
                        return self.call_special(&f, obj, std::slice::from_ref(key));
                    }
                }
                if let Some(b) = builtin_base(inst) {
                    if let Value::Dict(d) = &b {
                        if let Some(v) = self.dict_get(d, key)? {
                            return Ok(v);
                        }
                        if let Some(m) = lookup_in_class(&inst.class, "__missing__") {
                            return self.call_special(&m, obj, std::slice::from_ref(key));
                        }
                        return Err(PyErr::key_error(key.clone()));
                    }
                    return self.get_item(&b, key);
                }
                Err(PyErr::type_error(format!(
                    "'{}' object is not subscriptable",
                    inst.class.name
                )))
            }
            Value::Object(o) => {
                if let ObjKind::Range { start, stop, step } = &o.kind {
                    let (start, stop, step) = (*start, *stop, *step);
                    let n = range_len(start, stop, step);
                    return match self.key_of(key)? {
                        Key::Index(i) => {
                            let j = if i < 0 { i + n } else { i };
                            if j < 0 || j >= n {
                                return Err(PyErr::index_error("range object index out of range"));
                            }
                            Ok(Value::Int(start + j * step))
                        }
                        Key::Slice(a, b, c) => {
                            // CPython maps the slice's own bounds through the range
                            // (stop = start + slice_stop * step), which shows in the repr.
                            let (s0, s1, st, _) = adjust_slice(a, b, c, n)?;
                            let at =
                                |k: i64| k.checked_mul(step).and_then(|d| start.checked_add(d));
                            match (at(s0), at(s1), step.checked_mul(st)) {
                                (Some(a), Some(b), Some(c)) => Ok(new_range(a, b, c)),
                                _ => Err(PyErr::overflow_error(
                                    "Python int too large to convert to C ssize_t",
                                )),
                            }
                        }
                        Key::Other => Err(PyErr::type_error(format!(
                            "range indices must be integers or slices, not {}",
                            type_name(key)
                        ))),
                    };
                }
                match lookup_in_class(&o.class, "__getitem__") {
                    Some(f) => self.call_special(&f, obj, std::slice::from_ref(key)),
                    None => Err(PyErr::type_error(format!(
                        "'{}' object is not subscriptable",
                        o.class.name
                    ))),
                }
            }
            Value::Class(c) => {
                if let Some(f) = meta_special(obj, "__getitem__") {
                    return self.call_special(&f, obj, std::slice::from_ref(key));
                }
                if let Some(f) = lookup_in_class(c, "__class_getitem__") {
                    let bound = self.bind_class_attr(f, obj);
                    return self.call(&bound, std::slice::from_ref(key), &[]);
                }
                // `list[int]`: list, dict, tuple, set, frozenset and their
                // subclasses, and `type` itself, make generic aliases.
                let generic = match c.layout {
                    Layout::List
                    | Layout::Dict
                    | Layout::Tuple
                    | Layout::Set
                    | Layout::FrozenSet => true,
                    Layout::Type => Arc::ptr_eq(c, &types().type_),
                    _ => false,
                };
                if generic {
                    return Ok(crate::vm::generic_alias::new_alias(
                        obj.clone(),
                        key.clone(),
                    ));
                }
                Err(PyErr::type_error(format!(
                    "type '{}' is not subscriptable",
                    c.name
                )))
            }
            _ => Err(PyErr::type_error(format!(
                "'{}' object is not subscriptable",
                type_name(obj)
            ))),
        }
    }

    fn bind_class_attr(&self, f: Value, cls: &Value) -> Value {
        match &f {
            Value::Object(o) => match &o.kind {
                ObjKind::ClassMethod(g) => Value::BoundMethod(Arc::new(BoundMethod {
                    func: g.clone(),
                    receiver: cls.clone(),
                })),
                ObjKind::StaticMethod(g) => g.clone(),
                _ => f,
            },
            // `__class_getitem__` is an implicit class method.
            Value::Function(_) => Value::BoundMethod(Arc::new(BoundMethod {
                func: f,
                receiver: cls.clone(),
            })),
            _ => f,
        }
    }

    /// `obj[key] = value`.
    pub fn set_item(&mut self, obj: &Value, key: &Value, value: Value) -> PyResult<()> {
        match obj {
            Value::List(l) => match self.key_of(key)? {
                Key::Index(i) => {
                    let mut items = l.items.lock();
                    let n = items.len() as i64;
                    let j = if i < 0 { i + n } else { i };
                    if j < 0 || j >= n {
                        return Err(PyErr::index_error("list assignment index out of range"));
                    }
                    items[j as usize] = value;
                    Ok(())
                }
                Key::Slice(a, b, c) => {
                    let msg = match c {
                        None | Some(1) => "can only assign an iterable",
                        _ => "must assign iterable to extended slice",
                    };
                    let new_items = self.collect_or(&value, msg)?;
                    self.list_assign_slice(l, a, b, c, new_items)
                }
                Key::Other => Err(PyErr::type_error(format!(
                    "list indices must be integers or slices, not {}",
                    type_name(key)
                ))),
            },
            Value::Dict(d) => self.dict_set(d, key.clone(), value),
            Value::ByteArray(b) => self.bytearray_set_item(b, key, &value),
            Value::Instance(inst) => {
                if let Some((f, owner)) = lookup_with_owner(&inst.class, "__setitem__") {
                    if !native_of_base(owner, inst) {
                        self.call_special(&f, obj, &[key.clone(), value])?;
                        return Ok(());
                    }
                }
                if let Some(b) = builtin_base(inst) {
                    return self.set_item(&b, key, value);
                }
                Err(PyErr::type_error(format!(
                    "'{}' object does not support item assignment",
                    inst.class.name
                )))
            }
            Value::Object(o) => match lookup_in_class(&o.class, "__setitem__") {
                Some(f) => {
                    self.call_special(&f, obj, &[key.clone(), value])?;
                    Ok(())
                }
                None => Err(PyErr::type_error(format!(
                    "'{}' object does not support item assignment",
                    o.class.name
                ))),
            },
            _ => Err(PyErr::type_error(format!(
                "'{}' object does not support item assignment",
                type_name(obj)
            ))),
        }
    }

    fn list_assign_slice(
        &mut self,
        l: &PyList,
        a: Option<i64>,
        b: Option<i64>,
        c: Option<i64>,
        new_items: Vec<Value>,
    ) -> PyResult<()> {
        let mut items = l.items.lock();
        let (start, stop, step, len) = adjust_slice(a, b, c, items.len() as i64)?;
        if step == 1 {
            let start = start as usize;
            let stop = (stop.max(start as i64)) as usize;
            items.splice(start..stop, new_items);
            return Ok(());
        }
        if new_items.len() as i64 != len {
            return Err(PyErr::value_error(format!(
                "attempt to assign sequence of size {} to extended slice of size {len}",
                new_items.len()
            )));
        }
        for (k, v) in new_items.into_iter().enumerate() {
            items[(start + k as i64 * step) as usize] = v;
        }
        Ok(())
    }

    /// `del obj[key]`.
    pub fn del_item(&mut self, obj: &Value, key: &Value) -> PyResult<()> {
        match obj {
            Value::List(l) => match self.key_of(key)? {
                Key::Index(i) => {
                    let mut items = l.items.lock();
                    let n = items.len() as i64;
                    let j = if i < 0 { i + n } else { i };
                    if j < 0 || j >= n {
                        return Err(PyErr::index_error("list assignment index out of range"));
                    }
                    items.remove(j as usize);
                    Ok(())
                }
                Key::Slice(a, b, c) => {
                    let mut items = l.items.lock();
                    let (start, _stop, step, len) = adjust_slice(a, b, c, items.len() as i64)?;
                    if len == 0 {
                        return Ok(());
                    }
                    if step == 1 {
                        items.drain(start as usize..(start + len) as usize);
                        return Ok(());
                    }
                    let mut idx: Vec<usize> =
                        (0..len).map(|k| (start + k * step) as usize).collect();
                    idx.sort_unstable();
                    for i in idx.into_iter().rev() {
                        items.remove(i);
                    }
                    Ok(())
                }
                Key::Other => Err(PyErr::type_error(format!(
                    "list indices must be integers or slices, not {}",
                    type_name(key)
                ))),
            },
            Value::Dict(d) => self.dict_del(d, key),
            Value::ByteArray(b) => self.bytearray_del_item(b, key),
            Value::Instance(inst) => {
                if let Some((f, owner)) = lookup_with_owner(&inst.class, "__delitem__") {
                    if !native_of_base(owner, inst) {
                        self.call_special(&f, obj, std::slice::from_ref(key))?;
                        return Ok(());
                    }
                }
                if let Some(b) = builtin_base(inst) {
                    return self.del_item(&b, key);
                }
                Err(no_item_deletion(obj, key, true))
            }
            Value::Object(o) => match lookup_in_class(&o.class, "__delitem__") {
                Some(f) => {
                    self.call_special(&f, obj, std::slice::from_ref(key))?;
                    Ok(())
                }
                None => {
                    let seq = matches!(
                        &*o.class.name.get(),
                        "range" | "dict_keys" | "dict_values" | "dict_items" | "deque"
                    );
                    Err(no_item_deletion(obj, key, seq))
                }
            },
            _ => {
                let seq = matches!(
                    obj,
                    Value::Str(_)
                        | Value::Tuple(_)
                        | Value::Bytes(_)
                        | Value::Set(_)
                        | Value::FrozenSet(_)
                );
                Err(no_item_deletion(obj, key, seq))
            }
        }
    }

    // ============================================================ membership

    /// `item in container`.
    pub fn contains(&mut self, container: &Value, item: &Value) -> PyResult<bool> {
        match container {
            Value::Str(s) => match item {
                Value::Str(sub) => Ok(s.as_str().contains(sub.as_str())),
                _ => match base_value(item) {
                    Value::Str(sub) => Ok(s.as_str().contains(sub.as_str())),
                    _ => Err(PyErr::type_error(format!(
                        "'in <string>' requires string as left operand, not {}",
                        type_name(item)
                    ))),
                },
            },
            Value::List(l) => {
                // Scan under the lock while comparisons need no script code.
                let mut i = 0;
                loop {
                    let next = {
                        let items = l.items.lock();
                        let mut found = None;
                        while i < items.len() {
                            match native_eq(&items[i], item) {
                                Some(true) => return Ok(true),
                                Some(false) => i += 1,
                                None => {
                                    found = Some(items[i].clone());
                                    break;
                                }
                            }
                        }
                        found
                    };
                    match next {
                        None => return Ok(false),
                        Some(x) => {
                            if self.eq_identity(&x, item)? {
                                return Ok(true);
                            }
                            i += 1;
                        }
                    }
                }
            }
            Value::Tuple(t) => {
                for x in t.items.iter() {
                    let r = match native_eq(x, item) {
                        Some(r) => r,
                        None => self.eq_identity(x, item)?,
                    };
                    if r {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Value::Dict(d) => Ok(self.dict_get(d, item)?.is_some()),
            Value::Set(s) | Value::FrozenSet(s) => self.set_contains(s, item),
            Value::Bytes(b) => crate::vm::bytes::contains(b, item),
            Value::ByteArray(b) => {
                let data = b.data.lock().clone();
                crate::vm::bytes::contains(&data, item)
            }
            Value::Object(o) => {
                if let ObjKind::Range { start, stop, step } = &o.kind {
                    if let Some(i) = int_ref(item).and_then(|i| i.to_i64()) {
                        let (start, stop, step) = (*start, *stop, *step);
                        let inside = if step > 0 {
                            i >= start && i < stop
                        } else {
                            i <= start && i > stop
                        };
                        return Ok(inside && (i - start) % step == 0);
                    }
                }
                if let Some(f) = lookup_in_class(&o.class, "__contains__") {
                    let r = self.call_special(&f, container, std::slice::from_ref(item))?;
                    return self.is_true(&r);
                }
                self.contains_by_iteration(container, item)
            }
            Value::Instance(inst) => {
                if let Some((f, owner)) = lookup_with_owner(&inst.class, "__contains__") {
                    if !is_builtin_class(owner) || builtin_base(inst).is_none() {
                        let r = self.call_special(&f, container, std::slice::from_ref(item))?;
                        return self.is_true(&r);
                    }
                }
                if let Some(b) = builtin_base(inst) {
                    let has_iter = lookup_with_owner(&inst.class, "__iter__")
                        .is_some_and(|(_, o)| !is_builtin_class(o));
                    if !has_iter {
                        return self.contains(&b, item);
                    }
                }
                if lookup_in_class(&inst.class, "__iter__").is_some()
                    || lookup_in_class(&inst.class, "__getitem__").is_some()
                {
                    return self.contains_by_iteration(container, item);
                }
                Err(PyErr::type_error(format!(
                    "argument of type '{}' is not iterable",
                    inst.class.name
                )))
            }
            Value::Class(c) if c.meta.is_some() => {
                if let Some(f) = meta_special(container, "__contains__") {
                    let r = self.call_special(&f, container, std::slice::from_ref(item))?;
                    return self.is_true(&r);
                }
                if meta_special(container, "__iter__").is_some()
                    || meta_special(container, "__getitem__").is_some()
                {
                    return self.contains_by_iteration(container, item);
                }
                Err(PyErr::type_error(format!(
                    "argument of type '{}' is not iterable",
                    type_name(container)
                )))
            }
            _ => Err(PyErr::type_error(format!(
                "argument of type '{}' is not iterable",
                type_name(container)
            ))),
        }
    }

    /// `in` by iterating: stops at the first match, so an iterator keeps the
    /// rest of its items (and an endless one can still answer True).
    fn contains_by_iteration(&mut self, container: &Value, item: &Value) -> PyResult<bool> {
        let it = self.iter(container)?;
        while let Some(x) = self.next(&it)? {
            if self.eq_identity(&x, item)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    // ============================================================ isinstance

    /// `isinstance(v, cls)` (a class or a tuple of classes).
    pub fn isinstance(&mut self, v: &Value, cls: &Value) -> PyResult<bool> {
        match cls {
            Value::Class(c) if c.meta.is_some() => match meta_special(cls, "__instancecheck__") {
                Some(f) => {
                    let r = self.call_special(&f, cls, std::slice::from_ref(v))?;
                    self.is_true(&r)
                }
                None => Ok(is_subclass(types().class_of(v), c)),
            },
            Value::Class(c) => {
                if is_subclass(types().class_of(v), c) {
                    return Ok(true);
                }
                match abc_hooks(c) {
                    Some(hooks) => {
                        let r =
                            self.call_method(&hooks, "instancecheck", &[cls.clone(), v.clone()])?;
                        self.is_true(&r)
                    }
                    None => Ok(false),
                }
            }
            Value::Tuple(t) => {
                for c in t.items.iter() {
                    if self.isinstance(v, c)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            _ => match crate::vm::union::members(cls) {
                // Member by member, in order, like a tuple (CPython 3.11).
                Some(members) => {
                    for c in members {
                        if self.isinstance(v, c)? {
                            return Ok(true);
                        }
                    }
                    Ok(false)
                }
                None if crate::vm::generic_alias::as_alias(cls).is_some() => Err(
                    PyErr::type_error("isinstance() argument 2 cannot be a parameterized generic"),
                ),
                None => Err(PyErr::type_error(
                    "isinstance() arg 2 must be a type, a tuple of types, or a union",
                )),
            },
        }
    }
}

/// The hooks object of an abstract base class (`cls._abc_impl`, set by
/// `abc.ABCMeta`), through which `isinstance`/`issubclass` reach the
/// metaclass's `__instancecheck__`/`__subclasscheck__` (registered virtual
/// subclasses, `__subclasshook__`). Built-in classes have none.
pub(crate) fn abc_hooks(c: &Arc<Class>) -> Option<Value> {
    if is_builtin_class(c) {
        return None;
    }
    lookup_in_class(c, "_abc_impl").filter(|v| matches!(v, Value::Instance(_)))
}

/// Identity or equality of two built-in values (how `in` compares items),
/// when that needs no script code (`None` if it might).
fn native_eq(a: &Value, b: &Value) -> Option<bool> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x == y),
        (Value::Str(x), Value::Str(y)) => Some(x.as_str() == y.as_str()),
        (Value::None, _) | (_, Value::None) => Some(a.is(b)),
        (Value::Float(x), Value::Float(y)) => Some(x == y || a.is(b)),
        (
            Value::Bool(_) | Value::Int(_) | Value::BigInt(_) | Value::Float(_),
            Value::Bool(_) | Value::Int(_) | Value::BigInt(_) | Value::Float(_),
        ) => number::num_cmp(a, b).map(|o| o == Some(Ordering::Equal)),
        (Value::Str(_), Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::BigInt(_))
        | (Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::BigInt(_), Value::Str(_)) => {
            Some(false)
        }
        _ => None,
    }
}

fn unhashable(v: &Value) -> PyErr {
    PyErr::type_error(format!("unhashable type: '{}'", type_name(v)))
}

/// `hash(None)` in CPython is its address >> 4; the low bits, which decide
/// where None sits in a small set, are the same on every run (0xbbe).
const NONE_HASH: i64 = 8_773_149_416_382;

/// CPython's `_Py_HashPointer`: the address rotated by 4 bits.
fn pointer_hash(p: usize) -> i64 {
    let y = p as u64;
    let h = y.rotate_right(4) as i64;
    if h == -1 {
        -2
    } else {
        h
    }
}

/// `items[a:b:c]`.
pub(crate) fn slice_vec<T: Clone>(
    items: &[T],
    a: Option<i64>,
    b: Option<i64>,
    c: Option<i64>,
) -> PyResult<Vec<T>> {
    let (start, stop, step, len) = adjust_slice(a, b, c, items.len() as i64)?;
    if step == 1 {
        if len <= 0 {
            return Ok(Vec::new());
        }
        return Ok(items[start as usize..stop as usize].to_vec());
    }
    Ok((0..len)
        .map(|k| items[(start + k * step) as usize].clone())
        .collect())
}

/// The data attributes every exception carries (`args`, `__cause__`, ...).
fn exception_attr(data: &crate::vm::value::ExcData, name: &str) -> Option<Value> {
    Some(match name {
        "args" => Value::Tuple(data.args.lock().clone()),
        "__cause__" => data.cause.lock().clone().unwrap_or(Value::None),
        "__context__" => data.context.lock().clone().unwrap_or(Value::None),
        "__suppress_context__" => Value::Bool(
            data.suppress_context
                .load(std::sync::atomic::Ordering::Relaxed),
        ),
        "__traceback__" => {
            let raised = !data.traceback.lock().is_empty();
            match raised {
                true => crate::stdlib::traceback::traceback_object(data),
                false => Value::None,
            }
        }
        _ => return None,
    })
}

/// Attributes derived from `args` for some exception classes (when not set explicitly).
fn exception_derived_attr(
    data: &crate::vm::value::ExcData,
    cls: &Arc<Class>,
    name: &str,
) -> Option<Value> {
    let args = data.args.lock().clone();
    let t = types();
    let is = |k: ExcKind| is_subclass(cls, t.exception(k));
    match name {
        "value" if is(ExcKind::StopIteration) => {
            Some(args.items.first().cloned().unwrap_or(Value::None))
        }
        "code" if is(ExcKind::SystemExit) => Some(match args.items.len() {
            0 => Value::None,
            1 => args.items[0].clone(),
            _ => Value::Tuple(args),
        }),
        "errno" if is(ExcKind::OSError) => Some(if args.items.len() >= 2 {
            args.items[0].clone()
        } else {
            Value::None
        }),
        "strerror" if is(ExcKind::OSError) => Some(if args.items.len() >= 2 {
            args.items[1].clone()
        } else {
            Value::None
        }),
        "filename" if is(ExcKind::OSError) => {
            Some(args.items.get(2).cloned().unwrap_or(Value::None))
        }
        "filename2" if is(ExcKind::OSError) => {
            Some(args.items.get(4).cloned().unwrap_or(Value::None))
        }
        "msg" if is(ExcKind::SyntaxError) || is(ExcKind::ImportError) => {
            Some(args.items.first().cloned().unwrap_or(Value::None))
        }
        "name" | "path" if is(ExcKind::ImportError) => Some(Value::None),
        "name" | "obj" if is(ExcKind::AttributeError) || is(ExcKind::NameError) => {
            Some(Value::None)
        }
        "__notes__" => None,
        _ => None,
    }
}

/// Assign an exception's data attribute; `false` if `name` is not one.
fn set_exception_attr(
    vm: &mut Vm,
    data: &crate::vm::value::ExcData,
    name: &str,
    value: &Value,
) -> PyResult<bool> {
    match name {
        "args" => {
            let items = vm.collect(value)?;
            *data.args.lock() = Arc::new(crate::vm::value::PyTuple {
                items: items.into_boxed_slice(),
            });
        }
        "__cause__" => {
            *data.cause.lock() = if value.is_none() {
                None
            } else {
                Some(value.clone())
            };
            data.suppress_context
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        "__context__" => {
            *data.context.lock() = if value.is_none() {
                None
            } else {
                Some(value.clone())
            };
        }
        "__suppress_context__" => {
            let b = vm.is_true(value)?;
            data.suppress_context
                .store(b, std::sync::atomic::Ordering::Relaxed);
        }
        "__traceback__" => crate::stdlib::traceback::set_traceback(data, value)?,
        _ => return Ok(false),
    }
    Ok(true)
}

impl crate::vm::value::Function {
    /// `__module__` of a function: its globals' `__name__`.
    fn globals_name(&self) -> Value {
        let found = self
            .globals
            .map
            .lock()
            .iter()
            .find(|(k, _)| k.key.as_str() == Some("__name__"))
            .map(|(_, v)| v.clone());
        found.unwrap_or(Value::None)
    }
}

// ================================================================ natives: object and type

/// CPython's error for `owner.__new__(x)` when `x` is missing or no class.
pub(crate) fn new_needs_type(owner: &str, arg: Option<&Value>) -> PyErr {
    PyErr::type_error(match arg {
        None => format!("{owner}.__new__(): not enough arguments"),
        Some(v) => format!(
            "{owner}.__new__(X): X is not a type object ({})",
            crate::vm::interp::type_name(v)
        ),
    })
}

fn object_new(vm: &mut Vm, args: &[Value], kwargs: Kwargs) -> PyResult<Value> {
    let Some(Value::Class(cls)) = args.first() else {
        return Err(new_needs_type("object", args.first()));
    };
    let _ = vm;
    if args.len() > 1 || !kwargs.is_empty() {
        let new_owner = lookup_with_owner(cls, "__new__").map(|(_, o)| o.clone());
        let init_owner = lookup_with_owner(cls, "__init__").map(|(_, o)| o.clone());
        let new_is_object = new_owner.as_ref().is_none_or(is_object_class);
        let init_is_object = init_owner.as_ref().is_none_or(is_object_class);
        if !new_is_object {
            return Err(PyErr::type_error(
                "object.__new__() takes exactly one argument (the type to instantiate)",
            ));
        }
        if init_is_object {
            return Err(PyErr::type_error(format!(
                "{}() takes no arguments",
                cls.name
            )));
        }
    }
    Ok(Vm::new_instance(cls))
}

fn object_init(_vm: &mut Vm, args: &[Value], kwargs: Kwargs) -> PyResult<Value> {
    if args.len() > 1 || !kwargs.is_empty() {
        let cls = types().class_of(&args[0]);
        let init_is_object =
            lookup_with_owner(cls, "__init__").is_none_or(|(_, o)| is_object_class(o));
        let new_is_object =
            lookup_with_owner(cls, "__new__").is_none_or(|(_, o)| is_object_class(o));
        if !init_is_object {
            return Err(PyErr::type_error(
                "object.__init__() takes exactly one argument (the instance to initialize)",
            ));
        }
        if new_is_object {
            return Err(PyErr::type_error(format!(
                "{}.__init__() takes exactly one argument (the instance to initialize)",
                cls.name
            )));
        }
    }
    Ok(Value::None)
}

fn self_arg<'a>(args: &'a [Value], name: &str) -> PyResult<&'a Value> {
    args.first().ok_or_else(|| {
        PyErr::type_error(format!(
            "descriptor '{name}' of 'object' object needs an argument"
        ))
    })
}

fn object_eq(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let a = self_arg(args, "__eq__")?;
    crate::vm::builtins::arity("__eq__", &args[1..], 1, 1)?;
    Ok(if a.is(&args[1]) {
        Value::Bool(true)
    } else {
        not_implemented()
    })
}

fn object_ne(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let a = self_arg(args, "__ne__")?;
    crate::vm::builtins::arity("__ne__", &args[1..], 1, 1)?;
    let r = vm.compare_slot(a, &args[1], CompareKind::Eq)?;
    if is_not_implemented(&r) {
        return Ok(r);
    }
    Ok(Value::Bool(!vm.is_true(&r)?))
}

fn object_not_implemented(_vm: &mut Vm, _args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(not_implemented())
}

fn object_hash(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let a = self_arg(args, "__hash__")?;
    Ok(Value::Int(pointer_hash(a.heap_ptr().unwrap_or(0))))
}

fn object_repr(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let a = self_arg(args, "__repr__")?;
    let s = match a {
        Value::Instance(inst) => match &inst.base {
            InstanceBase::Plain => format!("<{} object at {}>", class_path(&inst.class), addr(a)),
            _ => vm.default_repr(inst, a)?,
        },
        _ => format!(
            "<{} object at {}>",
            class_path(types().class_of(a)),
            addr(a)
        ),
    };
    Ok(Value::from_string(s))
}

fn object_str(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let a = self_arg(args, "__str__")?;
    Ok(Value::from_string(vm.repr(a)?))
}

fn object_format(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let a = self_arg(args, "__format__")?;
    crate::vm::builtins::arity("__format__", &args[1..], 1, 1)?;
    let spec = match &args[1] {
        Value::Str(s) => s.clone(),
        other => {
            return Err(PyErr::type_error(format!(
                "__format__() argument must be str, not {}",
                type_name(other)
            )))
        }
    };
    if !spec.as_str().is_empty() {
        return Err(PyErr::type_error(format!(
            "unsupported format string passed to {}.__format__",
            type_name(a)
        )));
    }
    Ok(Value::from_string(vm.to_str(a)?))
}

fn name_arg(v: &Value) -> PyResult<Brc<PyStr>> {
    match v {
        Value::Str(s) => Ok(s.clone()),
        _ => Err(PyErr::type_error(format!(
            "attribute name must be string, not '{}'",
            type_name(v)
        ))),
    }
}

fn object_setattr(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    crate::vm::builtins::arity("__setattr__", args, 3, 3)?;
    let name = name_arg(&args[1])?;
    vm.generic_setattr(&args[0], name.as_str(), args[2].clone())?;
    Ok(Value::None)
}

fn object_delattr(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    crate::vm::builtins::arity("__delattr__", args, 2, 2)?;
    let name = name_arg(&args[1])?;
    vm.generic_delattr(&args[0], name.as_str())?;
    Ok(Value::None)
}

fn object_getattribute(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    crate::vm::builtins::arity("__getattribute__", args, 2, 2)?;
    let name = name_arg(&args[1])?;
    let obj = &args[0];
    // Generic lookup without the `__getattr__` fallback.
    let r = match obj {
        Value::Instance(inst) => {
            let cls = inst.class.clone();
            let ca = lookup_in_class(&cls, name.as_str());
            if let Some(ca) = &ca {
                if let Some(r) = vm.data_descriptor_get(ca, obj, &cls, name.as_str())? {
                    return Ok(r);
                }
            }
            let own = inst.attrs.lock().get(name.as_str()).cloned();
            match (own, ca) {
                (Some(v), _) => Some(v),
                (None, Some(ca)) => Some(vm.bind_attr(ca, obj, &cls)?),
                (None, None) => match name.as_str() {
                    "__class__" => Some(Value::Class(cls.clone())),
                    "__dict__" if !is_object_class(&cls) && !is_slotted(&cls) => {
                        Some(vm.instance_dict(inst)?)
                    }
                    _ => None,
                },
            }
        }
        _ => vm.getattr_inner(obj, name.as_str())?,
    };
    r.ok_or_else(|| vm.no_attribute(obj, name.as_str()))
}

/// `object.__subclasshook__(cls, sub)`: no opinion (`abc.ABCMeta` asks it).
fn object_subclasshook(_vm: &mut Vm, _args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(types().not_implemented.clone())
}

fn object_init_subclass(_vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    // Class keywords no `__init_subclass__` consumed (`class B(flag=1)`).
    if !kw.is_empty() {
        let name = match args.first() {
            Some(Value::Class(c)) => c.name.to_string(),
            _ => "object".to_string(),
        };
        return Err(PyErr::type_error(format!(
            "{name}.__init_subclass__() takes no keyword arguments"
        )));
    }
    Ok(Value::None)
}

fn object_dir(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let a = self_arg(args, "__dir__")?;
    let mut names: Vec<String> = Vec::new();
    if let Value::Instance(inst) = a {
        names.extend(inst.attrs.lock().keys().map(|k| k.to_string()));
    }
    let cls = types().class_of(a);
    for c in std::iter::once(cls).chain(cls.mro.iter()) {
        names.extend(c.attrs.lock().keys().map(|k| k.to_string()));
    }
    names.push("__class__".into());
    names.sort();
    names.dedup();
    let _ = vm;
    Ok(Value::list(
        names.into_iter().map(Value::from_string).collect(),
    ))
}

fn type_new(vm: &mut Vm, args: &[Value], kwargs: Kwargs) -> PyResult<Value> {
    let t = types();
    let mcls = match args.first() {
        Some(Value::Class(c)) if is_subclass(c, &t.type_) => c.clone(),
        Some(Value::Class(c)) => {
            return Err(PyErr::type_error(format!(
                "type.__new__({}): {} is not a subtype of type",
                c.name, c.name
            )))
        }
        other => return Err(new_needs_type("type", other)),
    };
    let rest = &args[1..];
    match rest.len() {
        1 if kwargs.is_empty() && Arc::ptr_eq(&mcls, &t.type_) => {
            Ok(Value::Class(t.class_of(&rest[0]).clone()))
        }
        1 if Arc::ptr_eq(&mcls, &t.type_) => {
            Err(PyErr::type_error("type() takes no keyword arguments"))
        }
        3 => {
            let name = match &rest[0] {
                Value::Str(s) => s.clone(),
                v => {
                    return Err(PyErr::type_error(format!(
                        "type.__new__() argument 1 must be str, not {}",
                        crate::vm::str::arg_type_name(v)
                    )))
                }
            };
            let bases: Vec<Arc<Class>> = match &rest[1] {
                Value::Tuple(t) => {
                    let mut out = Vec::new();
                    for b in t.items.iter() {
                        match b {
                            Value::Class(c) => out.push(c.clone()),
                            _ => return Err(PyErr::type_error("bases must be types")),
                        }
                    }
                    out
                }
                v => {
                    return Err(PyErr::type_error(format!(
                        "type.__new__() argument 2 must be tuple, not {}",
                        type_name(v)
                    )))
                }
            };
            let ns = match &rest[2] {
                Value::Dict(ns) => ns.clone(),
                Value::Instance(i) => match &i.base {
                    InstanceBase::Builtin(b) => match &*b.lock() {
                        Value::Dict(d) => d.clone(),
                        _ => return Err(ns_type_error(&rest[2])),
                    },
                    _ => return Err(ns_type_error(&rest[2])),
                },
                _ => return Err(ns_type_error(&rest[2])),
            };
            let meta = crate::vm::class::most_derived_meta(&mcls, &bases)?;
            let cls = crate::vm::class::create_class(vm, name.as_str(), bases, &ns, kwargs, &meta)?;
            Ok(Value::Class(cls))
        }
        _ if Arc::ptr_eq(&mcls, &t.type_) => {
            Err(PyErr::type_error("type() takes 1 or 3 arguments"))
        }
        n => Err(PyErr::type_error(format!(
            "type.__new__() takes exactly 3 arguments ({n} given)"
        ))),
    }
}

fn ns_type_error(v: &Value) -> PyErr {
    PyErr::type_error(format!(
        "type.__new__() argument 3 must be dict, not {}",
        type_name(v)
    ))
}

/// `type.__init__(cls, [name, bases, ns], **kw)`: the class is made
/// already; a metaclass's `__init__` may still call it through `super()`.
fn type_init(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    match args.len() {
        2 | 4 => Ok(Value::None),
        _ => Err(PyErr::type_error("type.__init__() takes 1 or 3 arguments")),
    }
}

/// `type.__call__(cls, *args, **kw)`: the default instantiation (`__new__`,
/// then `__init__`), which a metaclass's own `__call__` reaches through `super()`.
fn type_call(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    match args.split_first() {
        Some((Value::Class(c), rest)) => {
            let c = c.clone();
            vm.instantiate_plain(&c, rest, crate::vm::call::KwView::Pairs(kw))
        }
        Some((f, rest)) => vm.call(f, rest, kw),
        None => Err(PyErr::type_error(
            "descriptor '__call__' of 'type' object needs an argument",
        )),
    }
}

fn type_mro(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    match args.first() {
        Some(Value::Class(c)) => {
            let mut v = vec![Value::Class(c.clone())];
            v.extend(c.mro.iter().map(|m| Value::Class(m.clone())));
            Ok(Value::list(v))
        }
        _ => Err(PyErr::type_error(
            "descriptor 'mro' of 'type' object needs an argument",
        )),
    }
}

fn type_subclasscheck(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    match (args.first(), args.get(1)) {
        (Some(Value::Class(c)), Some(Value::Class(d))) => Ok(Value::Bool(is_subclass(d, c))),
        _ => Ok(Value::Bool(false)),
    }
}

fn type_instancecheck(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    match (args.first(), args.get(1)) {
        (Some(c @ Value::Class(_)), Some(v)) => Ok(Value::Bool(vm.isinstance(v, c)?)),
        _ => Ok(Value::Bool(false)),
    }
}

fn none_new(_vm: &mut Vm, args: &[Value], kwargs: Kwargs) -> PyResult<Value> {
    if args.len() > 1 || !kwargs.is_empty() {
        return Err(PyErr::type_error("NoneType takes no arguments"));
    }
    Ok(Value::None)
}

fn none_bool(_vm: &mut Vm, _args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::Bool(false))
}

// ---- operator dunders of the built-in scalar types

// The class a slot wrapper belongs to (a const parameter, so that
// `int.__add__` and `float.__add__` are distinct natives that know it).
const INT: u8 = 0;
const FLOAT: u8 = 1;
const STR: u8 = 2;
const BOOL: u8 = 3;
const BYTES: u8 = 4;
const BYTEARRAY: u8 = 5;

fn owner_class(owner: u8) -> &'static Arc<Class> {
    let t = types();
    match owner {
        INT => &t.int,
        FLOAT => &t.float,
        STR => &t.str_,
        BOOL => &t.bool_,
        BYTES => &t.bytes,
        _ => &t.bytearray,
    }
}

/// The receiver of a slot wrapper called as `int.__add__(x, ...)`: `x`
/// must be an instance of the owner class (CPython's descriptor check).
/// int's methods see a bool as the int it is (`int.__repr__(True)` is '1').
fn slot_self(args: &[Value], name: &str, owner: u8) -> PyResult<Value> {
    let cls = owner_class(owner);
    let Some(a) = args.first() else {
        return Err(PyErr::type_error(format!(
            "descriptor '{name}' of '{}' object needs an argument",
            cls.name
        )));
    };
    if !is_subclass(types().class_of(a), cls) {
        return Err(PyErr::type_error(format!(
            "descriptor '{name}' requires a '{}' object but received a '{}'",
            cls.name,
            type_name(a)
        )));
    }
    Ok(match base_value(a) {
        Value::Bool(b) if owner == INT => Value::Int(b as i64),
        v => v,
    })
}

/// A slot wrapper's own argument count check ("expected 1 argument, got 2").
fn slot_args(args: &[Value], n: usize) -> PyResult<()> {
    let got = args.len().saturating_sub(1);
    if got == n {
        return Ok(());
    }
    Err(PyErr::type_error(format!(
        "expected {n} argument{}, got {got}",
        if n == 1 { "" } else { "s" }
    )))
}

/// Whether `f` is the built-in `__mul__`/`__rmul__` of str, bytes or
/// bytearray (as a subclass inherits it).
fn inherited_repeat(f: &Value) -> bool {
    let Value::Native(n) = f else {
        return false;
    };
    matches!(
        &*n.qualname,
        "str.__mul__"
            | "str.__rmul__"
            | "bytes.__mul__"
            | "bytes.__rmul__"
            | "bytearray.__mul__"
            | "bytearray.__rmul__"
    )
}

fn int_like(v: &Value) -> bool {
    matches!(v, Value::Int(_) | Value::BigInt(_) | Value::Bool(_))
}

/// Whether `self`'s type implements the operator for `other` (else the
/// method returns NotImplemented, as CPython's do): int's methods take ints
/// and bools only (`(5).__sub__(1.0)`, `(5).__mul__("x")`), float's take
/// numbers; for str, anything but an instance reaches the operator.
fn self_handles(this: &Value, other: &Value) -> bool {
    match this {
        Value::Int(_) | Value::BigInt(_) | Value::Bool(_) => int_like(other),
        Value::Float(_) => int_like(other) || matches!(other, Value::Float(_)),
        _ => !matches!(other, Value::Instance(_)),
    }
}

/// Whether `self`'s comparisons take `other` (`(1).__eq__(1.0)` and
/// `"a".__eq__(1)` are NotImplemented).
fn self_compares(this: &Value, other: &Value) -> bool {
    match this {
        Value::Str(_) => matches!(other, Value::Str(_)),
        Value::Bytes(_) => matches!(other, Value::Bytes(_)),
        _ => self_handles(this, other),
    }
}

/// `b` as a sequence repeat count for `str.__mul__`/`bytes.__mul__`.
fn check_repeat_count(b: &Value) -> PyResult<()> {
    if int_like(b) {
        return Ok(());
    }
    Err(PyErr::type_error(format!(
        "'{}' object cannot be interpreted as an integer",
        type_name(b)
    )))
}

macro_rules! binop_natives {
    ($($fname:ident, $rname:ident, $op:ident, $name:literal, $rn:literal;)*) => {
        $(
            fn $fname<const O: u8>(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
                let a = slot_self(args, $name, O)?;
                slot_args(args, 1)?;
                let b = base_value(&args[1]);
                if !self_handles(&a, &b) {
                    return Ok(not_implemented());
                }
                if matches!(a, Value::Str(_) | Value::Bytes(_) | Value::ByteArray(_)) {
                    // CPython's sequence slots raise for a wrong operand
                    // (`"a".__add__(1)`) rather than return NotImplemented.
                    if BinaryOpKind::$op == BinaryOpKind::Mul {
                        check_repeat_count(&b)?;
                    }
                    if BinaryOpKind::$op == BinaryOpKind::Add
                        && !matches!(a, Value::Str(_))
                        && bytes_like(&b).is_none()
                    {
                        // Named by the receiver's own type (a subclass too).
                        return Err(PyErr::type_error(format!(
                            "can't concat {} to {}",
                            type_name(&b),
                            type_name(&args[0])
                        )));
                    }
                    return vm.binary_op(&a, &b, BinaryOpKind::$op);
                }
                Ok(vm.builtin_binop(&a, &b, BinaryOpKind::$op)?.unwrap_or_else(not_implemented))
            }
            fn $rname<const O: u8>(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
                let a = slot_self(args, $rn, O)?;
                slot_args(args, 1)?;
                let b = base_value(&args[1]);
                if !self_handles(&a, &b) {
                    return Ok(not_implemented());
                }
                if matches!(a, Value::Str(_) | Value::Bytes(_) | Value::ByteArray(_)) {
                    if BinaryOpKind::$op == BinaryOpKind::Mul {
                        check_repeat_count(&b)?;
                    }
                    return vm.binary_op(&b, &a, BinaryOpKind::$op);
                }
                Ok(vm.builtin_binop(&b, &a, BinaryOpKind::$op)?.unwrap_or_else(not_implemented))
            }
        )*
    };
}

binop_natives! {
    nb_add, nb_radd, Add, "__add__", "__radd__";
    nb_sub, nb_rsub, Sub, "__sub__", "__rsub__";
    nb_mul, nb_rmul, Mul, "__mul__", "__rmul__";
    nb_truediv, nb_rtruediv, TrueDiv, "__truediv__", "__rtruediv__";
    nb_floordiv, nb_rfloordiv, FloorDiv, "__floordiv__", "__rfloordiv__";
    nb_mod, nb_rmod, Mod, "__mod__", "__rmod__";
    nb_lshift, nb_rlshift, LShift, "__lshift__", "__rlshift__";
    nb_rshift, nb_rrshift, RShift, "__rshift__", "__rrshift__";
    nb_and, nb_rand, And, "__and__", "__rand__";
    nb_or, nb_ror, Or, "__or__", "__ror__";
    nb_xor, nb_rxor, Xor, "__xor__", "__rxor__";
}

/// `__pow__`/`__rpow__` take an optional modulus (`(2).__pow__(3, 5)`).
fn pow_slot<const O: u8>(
    vm: &mut Vm,
    args: &[Value],
    name: &str,
    reflected: bool,
) -> PyResult<Value> {
    let a = slot_self(args, name, O)?;
    match args.len() {
        0 | 1 => return Err(PyErr::type_error(" expected at least 1 argument, got 0")),
        2 | 3 => {}
        n => {
            return Err(PyErr::type_error(format!(
                " expected at most 2 arguments, got {}",
                n - 1
            )))
        }
    }
    let b = base_value(&args[1]);
    if !self_handles(&a, &b) {
        return Ok(not_implemented());
    }
    let (x, y) = if reflected { (b, a) } else { (a, b) };
    match args.get(2).map(base_value) {
        None | Some(Value::None) => Ok(vm
            .builtin_binop(&x, &y, BinaryOpKind::Pow)?
            .unwrap_or_else(not_implemented)),
        Some(m) => {
            if O == INT && !int_like(&m) {
                return Ok(not_implemented());
            }
            number::pow(vm, &x, &y, Some(&m))
        }
    }
}

fn nb_pow<const O: u8>(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    pow_slot::<O>(vm, args, "__pow__", false)
}

fn nb_rpow<const O: u8>(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    pow_slot::<O>(vm, args, "__rpow__", true)
}

macro_rules! cmp_natives {
    ($($fname:ident, $op:ident, $name:literal;)*) => {
        $(
            fn $fname<const O: u8>(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
                let a = slot_self(args, $name, O)?;
                slot_args(args, 1)?;
                let b = base_value(&args[1]);
                if !self_compares(&a, &b) {
                    return Ok(not_implemented());
                }
                Ok(match vm.builtin_compare(&a, &b, CompareKind::$op)? {
                    Some(r) => Value::Bool(r),
                    None => not_implemented(),
                })
            }
        )*
    };
}

cmp_natives! {
    cmp_lt, Lt, "__lt__";
    cmp_le, Le, "__le__";
    cmp_eq, Eq, "__eq__";
    cmp_ne, Ne, "__ne__";
    cmp_gt, Gt, "__gt__";
    cmp_ge, Ge, "__ge__";
}

fn nb_divmod<const O: u8>(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let a = slot_self(args, "__divmod__", O)?;
    slot_args(args, 1)?;
    let b = base_value(&args[1]);
    if !self_handles(&a, &b) {
        return Ok(not_implemented());
    }
    Ok(number::num_divmod(&a, &b)?.unwrap_or_else(not_implemented))
}

fn nb_rdivmod<const O: u8>(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let a = slot_self(args, "__rdivmod__", O)?;
    slot_args(args, 1)?;
    let b = base_value(&args[1]);
    if !self_handles(&a, &b) {
        return Ok(not_implemented());
    }
    Ok(number::num_divmod(&b, &a)?.unwrap_or_else(not_implemented))
}

/// The receiver of a no-argument slot wrapper (`(1).__neg__()`).
fn unary_self<const O: u8>(args: &[Value], name: &str) -> PyResult<Value> {
    let a = slot_self(args, name, O)?;
    slot_args(args, 0)?;
    Ok(a)
}

fn nb_neg<const O: u8>(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    vm.unary_op(&unary_self::<O>(args, "__neg__")?, UnaryOpKind::Neg)
}

fn nb_pos<const O: u8>(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    vm.unary_op(&unary_self::<O>(args, "__pos__")?, UnaryOpKind::Pos)
}

fn nb_invert<const O: u8>(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    vm.unary_op(&unary_self::<O>(args, "__invert__")?, UnaryOpKind::Invert)
}

fn nb_abs<const O: u8>(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    number::abs(vm, &unary_self::<O>(args, "__abs__")?)
}

fn nb_bool<const O: u8>(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::Bool(
        vm.is_true(&unary_self::<O>(args, "__bool__")?)?,
    ))
}

fn builtin_hash<const O: u8>(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::Int(vm.hash(&unary_self::<O>(args, "__hash__")?)?))
}

fn builtin_repr<const O: u8>(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::from_string(
        vm.repr(&unary_self::<O>(args, "__repr__")?)?,
    ))
}

fn builtin_format<const O: u8>(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    slot_self(args, "__format__", O)?;
    let v = &args[0];
    crate::vm::builtins::arity("__format__", &args[1..], 1, 1)?;
    let spec = match &args[1] {
        Value::Str(s) => s.clone(),
        other => {
            return Err(PyErr::type_error(format!(
                "__format__() argument must be str, not {}",
                type_name(other)
            )))
        }
    };
    if spec.as_str().is_empty() {
        return Ok(Value::from_string(vm.to_str(v)?));
    }
    Ok(Value::from_string(
        vm.format(&base_value(v), spec.as_str())?,
    ))
}

// The types whose `__repr__` is their own repr (`None.__repr__()`), as a
// const parameter of `own_repr`.
const REPR_OWNERS: u8 = 12;

fn repr_owner(o: u8) -> &'static Arc<Class> {
    repr_owner_in(types(), o)
}

fn repr_owner_in(t: &Types, o: u8) -> &Arc<Class> {
    match o {
        0 => &t.none,
        1 => &t.not_implemented_type,
        2 => &t.ellipsis_type,
        3 => &t.slice,
        4 => &t.builtin_function,
        5 => &t.function,
        6 => &t.method,
        7 => &t.module,
        8 => &t.code,
        9 => &t.staticmethod,
        10 => &t.classmethod,
        11 => &t.cell,
        _ => &t.type_,
    }
}

/// `x.__repr__()` for the types above: what `repr(x)` gives (a class's
/// plain `<class '...'>`, whatever its metaclass says, as `type.__repr__`).
fn own_repr<const O: u8>(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let cls = repr_owner(O);
    let Some(a) = args.first() else {
        return Err(PyErr::type_error(format!(
            "descriptor '__repr__' of '{}' object needs an argument",
            cls.name
        )));
    };
    if !is_subclass(types().class_of(a), cls) {
        return Err(PyErr::type_error(format!(
            "descriptor '__repr__' requires a '{}' object but received a '{}'",
            cls.name,
            type_name(a)
        )));
    }
    slot_args(args, 0)?;
    Ok(Value::from_string(match a {
        Value::Class(c) => format!("<class '{}'>", class_path(c)),
        Value::Object(o) => vm.repr_object_builtin(o, a)?,
        _ => vm.repr(a)?,
    }))
}

/// (`t`, not `types()`: this runs while the types are being built.)
fn install_own_reprs(t: &Types) {
    macro_rules! owners {
        ($($o:literal)*) => {
            $( add(repr_owner_in(t, $o), "__repr__", own_repr::<$o>); )*
        };
    }
    owners!(0 1 2 3 4 5 6 7 8 9 10 11 12);
    debug_assert_eq!(REPR_OWNERS, 12);
}

/// The arithmetic slot wrappers of int and float.
fn install_arith<const O: u8>(c: &Arc<Class>) {
    add(c, "__add__", nb_add::<O>);
    add(c, "__radd__", nb_radd::<O>);
    add(c, "__sub__", nb_sub::<O>);
    add(c, "__rsub__", nb_rsub::<O>);
    add(c, "__mul__", nb_mul::<O>);
    add(c, "__rmul__", nb_rmul::<O>);
    add(c, "__truediv__", nb_truediv::<O>);
    add(c, "__rtruediv__", nb_rtruediv::<O>);
    add(c, "__floordiv__", nb_floordiv::<O>);
    add(c, "__rfloordiv__", nb_rfloordiv::<O>);
    add(c, "__mod__", nb_mod::<O>);
    add(c, "__rmod__", nb_rmod::<O>);
    add(c, "__pow__", nb_pow::<O>);
    add(c, "__rpow__", nb_rpow::<O>);
    add(c, "__divmod__", nb_divmod::<O>);
    add(c, "__rdivmod__", nb_rdivmod::<O>);
    add(c, "__neg__", nb_neg::<O>);
    add(c, "__pos__", nb_pos::<O>);
    add(c, "__abs__", nb_abs::<O>);
    add(c, "__bool__", nb_bool::<O>);
}

/// The bitwise slot wrappers of int and bool.
fn install_bitwise<const O: u8>(c: &Arc<Class>) {
    add(c, "__lshift__", nb_lshift::<O>);
    add(c, "__rlshift__", nb_rlshift::<O>);
    add(c, "__rshift__", nb_rshift::<O>);
    add(c, "__rrshift__", nb_rrshift::<O>);
    add(c, "__and__", nb_and::<O>);
    add(c, "__rand__", nb_rand::<O>);
    add(c, "__or__", nb_or::<O>);
    add(c, "__ror__", nb_ror::<O>);
    add(c, "__xor__", nb_xor::<O>);
    add(c, "__rxor__", nb_rxor::<O>);
}

/// Comparisons, hash, repr and format of int, float and str.
fn install_compare<const O: u8>(c: &Arc<Class>) {
    add(c, "__lt__", cmp_lt::<O>);
    add(c, "__le__", cmp_le::<O>);
    add(c, "__eq__", cmp_eq::<O>);
    add(c, "__ne__", cmp_ne::<O>);
    add(c, "__gt__", cmp_gt::<O>);
    add(c, "__ge__", cmp_ge::<O>);
    add(c, "__hash__", builtin_hash::<O>);
    add(c, "__repr__", builtin_repr::<O>);
    add(c, "__format__", builtin_format::<O>);
}

// ---- slice objects

fn slice_new(_vm: &mut Vm, args: &[Value], kwargs: Kwargs) -> PyResult<Value> {
    if !kwargs.is_empty() {
        return Err(PyErr::type_error("slice() takes no keyword arguments"));
    }
    let rest = &args[1..];
    let (start, stop, step) = match rest.len() {
        1 => (Value::None, rest[0].clone(), Value::None),
        2 => (rest[0].clone(), rest[1].clone(), Value::None),
        3 => (rest[0].clone(), rest[1].clone(), rest[2].clone()),
        0 => {
            return Err(PyErr::type_error(
                "slice expected at least 1 argument, got 0",
            ))
        }
        n => {
            return Err(PyErr::type_error(format!(
                "slice expected at most 3 arguments, got {n}"
            )))
        }
    };
    Ok(Value::Object(Arc::new(Object {
        class: types().slice.clone(),
        kind: ObjKind::Slice { start, stop, step },
    })))
}

fn slice_indices(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    crate::vm::builtins::arity("indices", &args[1..], 1, 1)?;
    let Some(Value::Object(o)) = args.first() else {
        return Err(PyErr::type_error(
            "descriptor 'indices' requires a 'slice' object",
        ));
    };
    let ObjKind::Slice { start, stop, step } = &o.kind else {
        return Err(PyErr::type_error(
            "descriptor 'indices' requires a 'slice' object",
        ));
    };
    let len = crate::vm::builtins::index_arg(&args[1])?;
    if len < 0 {
        return Err(PyErr::value_error("length should not be negative"));
    }
    let (a, b, c) = (
        vm.slice_part(start)?,
        vm.slice_part(stop)?,
        vm.slice_part(step)?,
    );
    let (a, b, c, _) = adjust_slice(a, b, c, len)?;
    Ok(Value::tuple(vec![
        Value::Int(a),
        Value::Int(b),
        Value::Int(c),
    ]))
}

fn add(class: &Arc<Class>, name: &'static str, f: NativeFn) {
    crate::vm::builtins::method(class, name, f);
}

/// Install the methods of `object`, `type`, `NoneType`, the descriptor
/// types, and the operator methods of int, bool, float and str.
pub fn install(t: &Types) {
    let o = &t.object;
    crate::vm::builtins::constructor(o, object_new);
    crate::vm::builtins::method_kw(o, "__init__", object_init);
    add(o, "__eq__", object_eq);
    add(o, "__ne__", object_ne);
    add(o, "__lt__", object_not_implemented);
    add(o, "__le__", object_not_implemented);
    add(o, "__gt__", object_not_implemented);
    add(o, "__ge__", object_not_implemented);
    add(o, "__hash__", object_hash);
    add(o, "__repr__", object_repr);
    add(o, "__str__", object_str);
    add(o, "__format__", object_format);
    add(o, "__setattr__", object_setattr);
    add(o, "__delattr__", object_delattr);
    add(o, "__getattribute__", object_getattribute);
    add(o, "__dir__", object_dir);
    crate::vm::builtins::class_method_kw(o, "__init_subclass__", object_init_subclass);
    crate::vm::builtins::class_method_kw(o, "__subclasshook__", object_subclasshook);

    crate::vm::builtins::constructor(&t.type_, type_new);
    crate::vm::builtins::method_kw(&t.type_, "__init__", type_init);
    crate::vm::builtins::method_kw(&t.type_, "__call__", type_call);
    add(&t.type_, "mro", type_mro);
    add(
        &t.type_,
        "__subclasses__",
        crate::vm::subclasses::type_subclasses,
    );
    add(&t.type_, "__subclasscheck__", type_subclasscheck);
    add(&t.type_, "__instancecheck__", type_instancecheck);

    crate::vm::builtins::constructor(&t.slice, slice_new);
    add(&t.slice, "indices", slice_indices);

    crate::vm::builtins::constructor(&t.none, none_new);
    add(&t.none, "__bool__", none_bool);

    install_arith::<INT>(&t.int);
    install_arith::<FLOAT>(&t.float);
    install_bitwise::<INT>(&t.int);
    install_bitwise::<BOOL>(&t.bool_);
    add(&t.int, "__invert__", nb_invert::<INT>);
    for (c, owner) in [(&t.str_, STR), (&t.bytes, BYTES), (&t.bytearray, BYTEARRAY)] {
        let (add_fn, mul_fn, rmul_fn): (NativeFn, NativeFn, NativeFn) = match owner {
            STR => (nb_add::<STR>, nb_mul::<STR>, nb_rmul::<STR>),
            BYTES => (nb_add::<BYTES>, nb_mul::<BYTES>, nb_rmul::<BYTES>),
            _ => (
                nb_add::<BYTEARRAY>,
                nb_mul::<BYTEARRAY>,
                nb_rmul::<BYTEARRAY>,
            ),
        };
        add(c, "__add__", add_fn);
        add(c, "__mul__", mul_fn);
        add(c, "__rmul__", rmul_fn);
    }
    install_compare::<INT>(&t.int);
    install_compare::<FLOAT>(&t.float);
    install_compare::<STR>(&t.str_);
    // bool inherits int's comparisons, hash and format; its repr is its own.
    add(&t.bool_, "__repr__", builtin_repr::<BOOL>);
    install_own_reprs(t);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_adjust_like_cpython() {
        assert_eq!(adjust_slice(None, None, None, 5).unwrap(), (0, 5, 1, 5));
        assert_eq!(
            adjust_slice(None, None, Some(-1), 5).unwrap(),
            (4, -1, -1, 5)
        );
        assert_eq!(adjust_slice(Some(-2), None, None, 5).unwrap(), (3, 5, 1, 2));
        assert_eq!(
            adjust_slice(Some(10), Some(20), None, 5).unwrap(),
            (5, 5, 1, 0)
        );
        assert_eq!(
            adjust_slice(Some(1), Some(4), Some(2), 5).unwrap(),
            (1, 4, 2, 2)
        );
        assert!(adjust_slice(None, None, Some(0), 5).is_err());
        assert_eq!(range_len(0, 10, 3), 4);
        assert_eq!(range_len(10, 0, -3), 4);
        assert_eq!(range_len(0, 0, 1), 0);
    }

    fn vm() -> Vm {
        let t = types();
        install(t);
        crate::vm::str::install(t);
        let interp = crate::vm::interp::Interp::new(Default::default());
        let tid = interp.main_tid;
        Vm::new(interp, tid)
    }

    fn repr(vm: &mut Vm, v: &Value) -> String {
        vm.repr(v)
            .unwrap_or_else(|e| format!("ERR {}", err_text(vm, &e)))
    }

    fn err_text(vm: &mut Vm, e: &PyErr) -> String {
        let name = e.exc.class.name.to_string();
        let msg = vm.to_str(&e.value()).unwrap_or_default();
        format!("{name}: {msg}")
    }

    fn bin(vm: &mut Vm, a: Value, b: Value, op: BinaryOpKind) -> String {
        match vm.binary_op(&a, &b, op) {
            Ok(v) => repr(vm, &v),
            Err(e) => err_text(vm, &e),
        }
    }

    #[test]
    fn protocol_on_builtin_values() {
        use BinaryOpKind::*;
        let mut vm = vm();
        let vm = &mut vm;
        assert_eq!(
            bin(vm, Value::Int(i64::MAX), Value::Int(1), Add),
            "9223372036854775808"
        );
        assert_eq!(bin(vm, Value::Int(7), Value::Int(2), TrueDiv), "3.5");
        assert_eq!(
            bin(vm, Value::str("a"), Value::Int(1), Add),
            "TypeError: can only concatenate str (not \"int\") to str"
        );
        assert_eq!(
            bin(vm, Value::Int(1), Value::str("a"), Add),
            "TypeError: unsupported operand type(s) for +: 'int' and 'str'"
        );
        assert_eq!(
            bin(vm, Value::list(vec![Value::Int(1)]), Value::Float(1.5), Mul),
            "TypeError: can't multiply sequence by non-int of type 'float'"
        );
        assert_eq!(
            bin(vm, Value::Int(2), Value::list(vec![Value::Int(1)]), Mul),
            "[1, 1]"
        );
        assert_eq!(
            bin(
                vm,
                Value::str("%s-%d"),
                Value::tuple(vec![Value::str("x"), Value::Int(3)]),
                Mod
            ),
            "'x-3'"
        );
        assert_eq!(bin(vm, Value::Bool(true), Value::Bool(false), Or), "True");
        assert_eq!(
            bin(vm, Value::Int(1), Value::str("a"), InplacePow),
            "TypeError: unsupported operand type(s) for **=: 'int' and 'str'"
        );
        assert_eq!(
            bin(vm, Value::str("a"), Value::Int(1 << 40), Mul),
            "MemoryError: "
        );
        let l = Value::list(vec![Value::Int(1)]);
        let r = vm
            .binary_op(&l, &Value::tuple(vec![Value::Int(2)]), InplaceAdd)
            .unwrap();
        assert!(r.is(&l));
        assert_eq!(repr(vm, &l), "[1, 2]");
        // Recursive containers.
        if let Value::List(inner) = &l {
            inner.items.lock().push(l.clone());
        }
        assert_eq!(repr(vm, &l), "[1, 2, [...]]");
        if let Value::List(inner) = &l {
            inner.items.lock().pop();
        }
        // Comparisons.
        let lt = vm.compare(&Value::Int(1), &Value::str("a"), CompareKind::Lt);
        assert_eq!(
            err_text(vm, &lt.unwrap_err()),
            "TypeError: '<' not supported between instances of 'int' and 'str'"
        );
        let t1 = Value::tuple(vec![Value::Int(1), Value::Int(2)]);
        let t2 = Value::tuple(vec![Value::Int(1), Value::Float(2.5)]);
        assert!(vm.lt(&t1, &t2).unwrap());
        assert!(vm.eq(&Value::Int(1), &Value::Float(1.0)).unwrap());
        assert!(!vm.eq(&Value::Int(1), &Value::str("1")).unwrap());
        assert_eq!(vm.hash(&Value::Float(1.0)).unwrap(), 1);
        assert_eq!(vm.hash(&t1).unwrap(), -3550055125485641917);
        // Items and slices.
        let s = Value::str("héllo");
        let sl = Value::Object(Arc::new(Object {
            class: types().slice.clone(),
            kind: ObjKind::Slice {
                start: Value::None,
                stop: Value::None,
                step: Value::Int(-1),
            },
        }));
        let r = vm.get_item(&s, &sl).unwrap();
        assert_eq!(repr(vm, &r), "'olléh'");
        let e = vm.get_item(&s, &Value::Int(9)).unwrap_err();
        assert_eq!(err_text(vm, &e), "IndexError: string index out of range");
        assert!(vm.contains(&s, &Value::str("ll")).unwrap());
        assert!(vm.contains(&t1, &Value::Float(2.0)).unwrap());
        // Formatting and str methods.
        assert_eq!(vm.format(&Value::Float(3.24159), ".2f").unwrap(), "3.24");
        let (f, this) = vm.load_method(&Value::str("a,b"), "split").unwrap();
        let r = vm.call(&f, &[this, Value::str(",")], &[]).unwrap();
        assert_eq!(repr(vm, &r), "['a', 'b']");
        let up = vm.get_attr(&Value::str("x"), "upper").unwrap();
        assert!(repr(vm, &up).starts_with("<built-in method upper of str object at 0x"));
        let e = vm.get_attr(&Value::Int(1), "nope").unwrap_err();
        assert_eq!(
            err_text(vm, &e),
            "AttributeError: 'int' object has no attribute 'nope'"
        );
        let c = Value::Class(types().int.clone());
        assert_eq!(repr(vm, &c), "<class 'int'>");
        let r = vm
            .call(&c, &[Value::str(" 0x1f "), Value::Int(0)], &[])
            .unwrap();
        assert_eq!(repr(vm, &r), "31");
        let r = vm
            .call(
                &Value::Class(types().float.clone()),
                &[Value::str("1e500")],
                &[],
            )
            .unwrap();
        assert_eq!(repr(vm, &r), "inf");
        let r = vm
            .call(
                &Value::Class(types().str_.clone()),
                &[Value::Float(1e16)],
                &[],
            )
            .unwrap();
        assert_eq!(repr(vm, &r), "'1e+16'");
    }

    #[test]
    fn pointer_hash_rotates() {
        assert_eq!(pointer_hash(0x10), 1);
    }
}
