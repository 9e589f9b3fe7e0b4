//! Per-instruction caches for `LoadAttr`, `StoreAttr` and `LoadMethod`.
//!
//! What an attribute instruction does for an object depends on its class
//! (hooks, descriptors, methods) and on the instance's own namespace. The
//! class part is a pure function of (class, name, class epoch), so each
//! thread remembers it per instruction site, together with where the
//! attribute sat in the last instance seen (a hint, always checked). A hit
//! costs pointer compares instead of an MRO lookup.
//!
//! Entries are per thread (in the `Vm`): nothing here is shared, so nothing
//! is locked but the instance namespace itself. An entry holds its class and
//! name alive, so an address match always means the same objects.
//!
//! The commonest accesses, `local.name` read or written (`LoadFastAttr`,
//! `LoadFastStoreAttr`), have a cheaper cache of their own: an [`AttrSite`]
//! in the code object, one per instruction, found by index rather than by
//! hashing. It is shared by all threads, so it holds no references: a
//! class number and epoch in one atomic word, and a position hint that is
//! always checked against the namespace key.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use crate::compile::code::{Code, Instr};
use crate::vm::attrs::same_name;
use crate::vm::brc::Brc;
use crate::vm::footprint::{Sets, Start};
use crate::vm::interp::Vm;
use crate::vm::ops;
use crate::vm::slot;
use crate::vm::types::types;
use crate::vm::value::{Class, Function, Instance, NativeFunction, PyStr, Value};

/// Sets of a full-size cache.
const SITES: usize = 512;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `obj.name` reads or writes the instance namespace alone.
    InstanceAttr,
    /// `obj.name(...)` calls `method` on the class, unless the instance
    /// itself has `name`.
    Method,
    /// How instantiating the class runs (`Construct`, in `method`: a script
    /// `__init__`, a native `__new__` or `Null`). Keyed by the class.
    Init,
    /// `obj.name` calls the property getter `method` on `obj`.
    Property,
}

struct Entry {
    class: Arc<Class>,
    /// `None` for `Init` entries.
    name: Option<Brc<PyStr>>,
    epoch: u64,
    kind: Kind,
    /// Position of `name` in the last instance namespace seen.
    hint: u32,
    /// `name` as an instance namespace key, shared by every instance
    /// (empty for `Init` entries).
    key: Arc<str>,
    /// `name`'s `attrs::instance_bit`, for the shadowing check of methods.
    bit: u64,
    method: Value,
}

/// Two-way set associative: `slot` picks a pair of entries and a key may
/// sit in either. With one way, two of a loop's few dozen hot sites often
/// hashed alike (a two-in-three chance for 32 sites in 512 slots) and then
/// evicted each other on every pass; which ones collided moved with every
/// change of allocation addresses.
pub(crate) struct SiteCache {
    entries: Box<[Option<Entry>]>,
    /// Sets in use, up to `SITES` (see `vm::footprint`).
    sets: Sets,
}

/// Sets a new thread's cache starts with.
const SMALL_SITES: usize = 8;

impl SiteCache {
    pub(crate) fn new(start: Start) -> SiteCache {
        let sets = Sets::new(start, SMALL_SITES, SITES, 2);
        SiteCache {
            entries: (0..sets.entries()).map(|_| None).collect(),
            sets,
        }
    }

    /// Double the sets. Entries do not record their site, so they cannot
    /// move: the new table starts empty.
    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        self.sets.double();
        self.entries = (0..self.sets.entries()).map(|_| None).collect();
    }

    /// The entry for `key` that `hit` accepts, and `true`; or on a miss the
    /// entry to fill, and `false`. A miss moves the pair's first entry to
    /// the second way, so the last two keys stay. (The entry, not its
    /// index: a miss may grow the table, and callers indexing it afresh
    /// would pay a bounds check on every hit.)
    #[inline(always)]
    fn way(&mut self, key: usize, hit: impl Fn(&Entry) -> bool) -> (&mut Option<Entry>, bool) {
        let s = 2 * self.sets.pick(slot(key));
        if matches!(&self.entries[s], Some(e) if hit(e)) {
            return (&mut self.entries[s], true);
        }
        if matches!(&self.entries[s + 1], Some(e) if hit(e)) {
            return (&mut self.entries[s + 1], true);
        }
        if self.sets.miss() {
            self.grow();
            let s = 2 * self.sets.pick(slot(key));
            return (&mut self.entries[s], false);
        }
        if self.entries[s].is_some() {
            self.entries.swap(s, s + 1);
        }
        (&mut self.entries[s], false)
    }
}

/// Instruction arrays are separate allocations, often at equal offsets in
/// different pages: a multiplicative hash spreads them over the table
/// (`0..SITES`, masked down to the sets in use).
#[inline(always)]
fn slot(site: usize) -> usize {
    ((site as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - SITES.trailing_zeros())) as usize
}

impl Entry {
    #[inline(always)]
    fn matches(&self, class: &Arc<Class>, name: &Brc<PyStr>, kind: Kind, epoch: u64) -> bool {
        Arc::ptr_eq(&self.class, class)
            && matches!(&self.name, Some(n) if Brc::ptr_eq(n, name))
            && self.kind == kind
            && self.epoch == epoch
    }
}

/// The value of `name` in `inst`'s namespace, trying the hinted position
/// first. Namespace keys are usually the one interned `key`, so a hit is
/// mostly a pointer compare.
#[inline(always)]
fn read_hinted(inst: &Instance, key: &Arc<str>, hint: &mut u32) -> Option<Value> {
    let attrs = inst.attrs.lock();
    if let Some((k, v)) = attrs.get_index(*hint as usize) {
        if Arc::ptr_eq(k, key) || same_name(k, key) {
            return Some(slot::clone(v));
        }
    }
    let i = attrs.get_index_of(key)?;
    *hint = i as u32;
    attrs.get_index(i).map(|(_, v)| slot::clone(v))
}

/// Set `name` in `inst`'s namespace, trying the hinted position first.
#[inline(always)]
fn store_hinted(inst: &Instance, value: Value, hint: &mut u32, key: &Arc<str>) {
    let mut attrs = inst.attrs.lock();
    let i = match attrs.get_index(*hint as usize) {
        Some((k, _)) if Arc::ptr_eq(k, key) || same_name(k, key) => Some(*hint as usize),
        _ => attrs.get_index_of(key),
    };
    let old = match i.and_then(|i| attrs.get_index_mut(i).map(|(_, v)| (i, v))) {
        Some((i, slot)) => {
            *hint = i as u32;
            Some(slot::replace(slot, value))
        }
        None => {
            *hint = attrs.len() as u32;
            attrs.push_new(key.clone(), value);
            None
        }
    };
    // The old value may own objects: drop it unlocked.
    drop(attrs);
    drop(old);
}

/// The entry for an instance-namespace access of `name` at `site` on
/// `inst`, made on a miss when the class leaves such an access plain.
#[inline(always)]
fn instance_entry<'c>(
    cache: &'c mut SiteCache,
    site: usize,
    name: &Brc<PyStr>,
    inst: &Instance,
) -> Option<&'c mut Entry> {
    let epoch = ops::class_epoch();
    let (entry, hit) = cache.way(site, |e| {
        e.matches(&inst.class, name, Kind::InstanceAttr, epoch)
    });
    if !hit {
        if !ops::plain_instance_attr(inst, name.as_str()) {
            return None;
        }
        *entry = Some(Entry {
            class: inst.class.clone(),
            name: Some(name.clone()),
            epoch,
            kind: Kind::InstanceAttr,
            hint: 0,
            key: ops::intern_key(name.as_str()),
            bit: 0,
            method: Value::Null,
        });
    }
    entry.as_mut()
}

/// The inline cache of one `LoadFastAttr`/`LoadFastStoreAttr`: that
/// `local.name` is a plain instance attribute for instances of the class
/// numbered in `tag`, and where it sat in the last namespace seen.
pub struct AttrSite {
    /// [`class_tag`] of the class the site saw; 0 when empty. One word, so
    /// that a reader never pairs one class with another's epoch.
    tag: AtomicU64,
    hint: AtomicU32,
    /// The attribute's name as an interned namespace key (`ops::intern_key`).
    key: Arc<str>,
    /// The name's `attrs::instance_bit`.
    bit: u64,
}

impl AttrSite {
    pub fn new(name: &str) -> AttrSite {
        AttrSite {
            tag: AtomicU64::new(0),
            hint: AtomicU32::new(0),
            key: ops::intern_key(name),
            bit: crate::vm::attrs::instance_bit(name),
        }
    }
}

/// The sites `optimize::fuse` numbered in `code`, each with the name of
/// the attribute its instruction pair reads or writes.
pub fn attr_sites(code: &Code, names: &[Brc<PyStr>]) -> Box<[AttrSite]> {
    let mut sites: Vec<Option<AttrSite>> = (0..code.attr_sites).map(|_| None).collect();
    for pair in code.instrs.windows(2) {
        let (op, n) = match *pair {
            [Instr::LoadFastAttr(op), Instr::LoadAttr(n)]
            | [Instr::LoadFastStoreAttr(op), Instr::StoreAttr(n)] => (op, n),
            _ => continue,
        };
        if let (Some(site), Some(name)) =
            (sites.get_mut((op >> 16) as usize), names.get(n as usize))
        {
            *site = Some(AttrSite::new(name.as_str()));
        }
    }
    // Every numbered site heads a pair; an empty name never matches a key.
    sites
        .into_iter()
        .map(|s| s.unwrap_or_else(|| AttrSite::new("")))
        .collect()
}

/// The class's number and the low half of the class epoch: equal tags mean
/// the same class with unchanged class attributes (until either wraps).
#[inline(always)]
fn class_tag(class: &Class) -> u64 {
    (class.uid as u64) << 32 | (ops::class_epoch() & 0xffff_ffff)
}

/// `inst.name` through `site`; `None` when the general lookup must run.
/// Out of line: inlined, it costs the dispatch loop more in registers
/// than it saves.
#[inline(never)]
pub(crate) fn read_site(site: &AttrSite, inst: &Instance) -> Option<Value> {
    if site.tag.load(Ordering::Relaxed) == class_tag(&inst.class) {
        if let Some(attrs) = inst.attrs.try_lock() {
            if let Some((k, v)) = attrs.get_index(site.hint.load(Ordering::Relaxed) as usize) {
                if Arc::ptr_eq(k, &site.key) {
                    match v {
                        v if slot::is_scalar(v) => return Some(slot::copy_scalar(v)),
                        Value::Instance(x) if Brc::try_clone_owned(x) => {
                            // SAFETY: the reference was just taken for the copy.
                            return Some(unsafe { std::ptr::read(v) });
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    read_site_general(site, inst)
}

/// [`read_site`] for values that own a reference (their clone makes calls:
/// kept out of `read_site`, which then saves no registers).
#[inline(never)]
fn read_site_general(site: &AttrSite, inst: &Instance) -> Option<Value> {
    if site.tag.load(Ordering::Relaxed) == class_tag(&inst.class) {
        let attrs = inst.attrs.lock();
        if let Some((k, v)) = attrs.get_index(site.hint.load(Ordering::Relaxed) as usize) {
            if Arc::ptr_eq(k, &site.key) {
                return Some(slot::clone(v));
            }
        }
    }
    read_site_slow(site, inst)
}

/// [`read_site`]'s miss: check that the class leaves `name` to the
/// instance namespace, fill the site and read the attribute. `None` when
/// the general lookup must run (a descriptor, a hook, or no such name).
#[cold]
#[inline(never)]
fn read_site_slow(site: &AttrSite, inst: &Instance) -> Option<Value> {
    let (name, key) = (&*site.key, &site.key);
    // The tag is taken before the class is inspected: should the class
    // change meanwhile, the stored tag is already stale.
    let tag = class_tag(&inst.class);
    if site.tag.load(Ordering::Relaxed) != tag {
        if !ops::plain_instance_attr(inst, name) {
            return None;
        }
        site.tag.store(tag, Ordering::Relaxed);
    }
    let attrs = inst.attrs.lock();
    let i = attrs.get_index_of(key)?;
    site.hint.store(i as u32, Ordering::Relaxed);
    attrs.get_index(i).map(|(_, v)| slot::clone(v))
}

/// `inst.name = value` through `site`; gives `value` back when the general
/// path must run.
#[inline(never)]
pub(crate) fn store_site(site: &AttrSite, inst: &Instance, value: Value) -> Result<(), Value> {
    if site.tag.load(Ordering::Relaxed) == class_tag(&inst.class) {
        let mut attrs = inst.attrs.lock();
        let hint = site.hint.load(Ordering::Relaxed) as usize;
        if let Some((k, v)) = attrs.get_index_mut(hint) {
            if Arc::ptr_eq(k, &site.key) {
                let old = slot::replace(v, value);
                // The old value may own objects: drop it unlocked.
                drop(attrs);
                drop(old);
                return Ok(());
            }
        } else if hint == attrs.len() && !attrs.may_contain_bit(site.bit) {
            // A new attribute, appended where the last instance got it (the
            // same `__init__` line on a fresh instance).
            attrs.push_new_bit(site.key.clone(), site.bit, value);
            return Ok(());
        }
    }
    store_site_slow(site, inst, value)
}

/// [`store_site`]'s miss, as [`read_site_slow`]; a new attribute is
/// appended. Gives `value` back when the general path must run.
#[inline(never)]
fn store_site_slow(site: &AttrSite, inst: &Instance, value: Value) -> Result<(), Value> {
    let (name, key) = (&*site.key, &site.key);
    let tag = class_tag(&inst.class);
    if site.tag.load(Ordering::Relaxed) != tag {
        if !ops::plain_instance_attr(inst, name) {
            return Err(value);
        }
        site.tag.store(tag, Ordering::Relaxed);
    }
    let mut attrs = inst.attrs.lock();
    let (i, old) = match attrs.get_index_of(key) {
        Some(i) => (
            i,
            attrs.get_index_mut(i).map(|(_, v)| slot::replace(v, value)),
        ),
        None => {
            attrs.push_new(key.clone(), value);
            (attrs.len() - 1, None)
        }
    };
    site.hint.store(i as u32, Ordering::Relaxed);
    drop(attrs);
    drop(old);
    Ok(())
}

/// `inst.name` through the cache for `site`; `None` when the cache cannot
/// answer it (the general lookup then runs).
#[inline]
pub(crate) fn instance_attr(
    cache: &mut SiteCache,
    site: usize,
    name: &Brc<PyStr>,
    inst: &Instance,
) -> Option<Value> {
    let e = instance_entry(cache, site, name, inst)?;
    read_hinted(inst, &e.key, &mut e.hint)
}

/// `inst.name = value` through the cache for `site`; gives `value` back
/// when the cache cannot do it.
#[inline]
pub(crate) fn store_instance_attr(
    cache: &mut SiteCache,
    site: usize,
    name: &Brc<PyStr>,
    inst: &Instance,
    value: Value,
) -> Result<(), Value> {
    let Some(e) = instance_entry(cache, site, name, inst) else {
        return Err(value);
    };
    store_hinted(inst, value, &mut e.hint, &e.key);
    Ok(())
}

impl Vm {
    /// `LoadAttr` at `site` with the object on top of the stack, when the
    /// cache can answer it; `false` leaves the stack untouched.
    #[inline]
    pub(crate) fn load_attr_cached(&mut self, site: usize, name: &Brc<PyStr>) -> bool {
        let Some(Value::Instance(inst)) = self.stack.last() else {
            return false;
        };
        let Some(v) = instance_attr(&mut self.site_cache, site, name, inst) else {
            return false;
        };
        if let Some(top) = self.stack.last_mut() {
            *top = v;
        }
        true
    }

    /// `StoreAttr` at `site` (`[value, obj]` on the stack), when the cache
    /// can do it; `false` leaves the stack untouched.
    #[inline]
    pub(crate) fn store_attr_cached(&mut self, site: usize, name: &Brc<PyStr>) -> bool {
        let len = self.stack.len();
        if len < 2 || !matches!(self.stack[len - 1], Value::Instance(_)) {
            return false;
        }
        let (Some(obj), Some(value)) = (self.stack.pop(), self.stack.pop()) else {
            return false;
        };
        let Value::Instance(inst) = &obj else {
            return false;
        };
        match store_instance_attr(&mut self.site_cache, site, name, inst, value) {
            Ok(()) => true,
            Err(value) => {
                self.stack.push(value);
                self.stack.push(obj);
                false
            }
        }
    }

    /// `LoadMethod` at `site`: `[obj] → [func, obj]` when the cache knows
    /// `name` is a plain method of the object's class; `false` leaves the
    /// stack untouched.
    #[inline]
    pub(crate) fn load_method_cached(&mut self, site: usize, name: &Brc<PyStr>) -> bool {
        let epoch = ops::class_epoch();
        let Some(obj) = self.stack.last() else {
            return false;
        };
        let class = match obj {
            Value::Instance(inst) => &inst.class,
            Value::Str(_)
            | Value::List(_)
            | Value::Dict(_)
            | Value::Tuple(_)
            | Value::Set(_)
            | Value::Int(_)
            | Value::Float(_) => types().class_of(obj),
            _ => return false,
        };
        let (entry, hit) = self
            .site_cache
            .way(site, |e| e.matches(class, name, Kind::Method, epoch));
        let f = if hit {
            let Some(e) = entry else { return false };
            if let Value::Instance(inst) = obj {
                // An instance attribute of that name shadows the method.
                if crate::vm::attrs::may_be_instance_bit(e.bit)
                    && inst.attrs.lock().contains_key(name.as_str())
                {
                    return false;
                }
            }
            slot::clone(&e.method)
        } else {
            let f = ops::plain_method(obj, name.as_str());
            if f.is_null() {
                return false;
            }
            *entry = Some(Entry {
                class: class.clone(),
                name: Some(name.clone()),
                epoch,
                kind: Kind::Method,
                hint: 0,
                key: ops::intern_key(name.as_str()),
                bit: crate::vm::attrs::instance_bit(name.as_str()),
                method: f.clone(),
            });
            f
        };
        // [obj] -> [func, obj], each value moved once.
        let top = self.stack.len() - 1;
        let obj = std::mem::replace(&mut self.stack[top], f);
        crate::vm::interp::run::push_value(&mut self.stack, obj);
        true
    }

    /// The getter to call for `LoadAttr` at `site` on the instance on top of
    /// the stack when the attribute is a property that
    /// `ops::plain_property_getter` accepts.
    #[inline]
    pub(crate) fn property_getter_cached(
        &mut self,
        site: usize,
        name: &Brc<PyStr>,
    ) -> Option<Value> {
        let epoch = ops::class_epoch();
        let Some(Value::Instance(inst)) = self.stack.last() else {
            return None;
        };
        let (entry, hit) = self.site_cache.way(site, |e| {
            e.matches(&inst.class, name, Kind::Property, epoch)
        });
        if let (true, Some(e)) = (hit, &entry) {
            return Some(e.method.clone());
        }
        let f = ops::plain_property_getter(inst, name.as_str());
        if f.is_null() {
            return None;
        }
        *entry = Some(Entry {
            class: inst.class.clone(),
            name: Some(name.clone()),
            epoch,
            kind: Kind::Property,
            hint: 0,
            key: ops::intern_key(name.as_str()),
            bit: 0,
            method: f.clone(),
        });
        Some(f)
    }

    /// How to instantiate `class` (see [`Construct`]), cached per class.
    #[inline]
    pub(crate) fn cached_construct(&mut self, class: &Arc<Class>) -> Construct {
        let epoch = ops::class_epoch();
        let (entry, hit) = self.site_cache.way(Arc::as_ptr(class) as usize, |e| {
            Arc::ptr_eq(&e.class, class) && e.kind == Kind::Init && e.epoch == epoch
        });
        match entry {
            Some(e) if hit => match &e.method {
                Value::Function(f) => Construct::Frame(f.clone()),
                Value::Native(n) => Construct::Native(n.clone()),
                _ => Construct::General,
            },
            _ => {
                let how = construct(class);
                *entry = Some(Entry {
                    class: class.clone(),
                    name: None,
                    epoch,
                    kind: Kind::Init,
                    hint: 0,
                    key: Arc::from(""),
                    bit: 0,
                    method: match &how {
                        Construct::Frame(f) => Value::Function(f.clone()),
                        Construct::Native(n) => Value::Native(n.clone()),
                        Construct::General => Value::Null,
                    },
                });
                how
            }
        }
    }
}

/// How a call of a class runs.
pub(crate) enum Construct {
    /// `object.__new__`, then this script `__init__` as an ordinary frame.
    Frame(Brc<Function>),
    /// A built-in type whose own native `__new__` does everything
    /// (`object.__init__` after it): call it with the class first.
    Native(Arc<NativeFunction>),
    /// Anything else: `Vm::instantiate`.
    General,
}

fn construct(class: &Arc<Class>) -> Construct {
    // A metaclass's `__call__` decides what calling the class does.
    if let Some(meta) = &class.meta {
        if ops::custom_attr(meta, "__call__").is_some() {
            return Construct::General;
        }
    }
    if let Some(init) = crate::vm::call::inline_init(class) {
        return Construct::Frame(init);
    }
    let t = types();
    if &*class.module != "builtins" || Arc::ptr_eq(class, &t.type_) {
        return Construct::General;
    }
    let new = ops::lookup_with_owner(class, "__new__");
    let init = ops::lookup_with_owner(class, "__init__");
    match (new, init) {
        (Some((Value::Native(n), new_owner)), Some((_, init_owner)))
            if Arc::ptr_eq(new_owner, class) && Arc::ptr_eq(init_owner, &t.object) =>
        {
            Construct::Native(n)
        }
        _ => Construct::General,
    }
}
