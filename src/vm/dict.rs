//! Dicts: an insertion-ordered hash table keyed by Python values.
//!
//! The layout is CPython's compact dict: an open-addressing index table
//! (probed with CPython's perturbation scheme) pointing into an entry vector
//! kept in insertion order. Deletion leaves a hole in the entry vector and a
//! dummy in the index table, so it is O(1) and keeps the order; a resize
//! compacts both.
//!
//! # Equality outside the lock
//! Built-in keys (int/bool/float, str, bytes, None, tuples and frozensets of
//! those, ranges) are compared natively under the map lock. A key whose
//! equality may need a user `__eq__` (an instance) is never compared under the
//! lock: the probe stops at that candidate, the lock is released, `Vm::eq`
//! runs, and the probe resumes from where it stopped if the map's `version`
//! (bumped whenever the set of keys or the table changes) is unchanged, or
//! restarts from scratch otherwise — CPython's own rule for mutating `__eq__`.

use std::sync::Arc;

use num_bigint::BigInt;
use num_traits::FromPrimitive;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::{Mutex, MutexGuard};

use crate::vm::brc::Brc;
use crate::vm::builtins::{
    arity, base_value, class_method, constructor, descriptor_error, method, method_fast, method_kw,
    no_args, no_kwargs, one_arg,
};
use crate::vm::error::{ExcKind, PyErr, PyResult};
use crate::vm::interp::Vm;
use crate::vm::types::{types, Types};
use crate::vm::value::{
    Class, Instance, InstanceBase, Kwargs, ObjKind, Object, PyDict, PySet, PyStr, Value,
};

/// A dict key with its Python hash computed up front (which may have called
/// a user's `__hash__`), so the map itself never calls back into scripts.
#[derive(Clone)]
pub struct HashKey {
    pub hash: i64,
    pub key: Value,
}

/// A native lookup met a key whose equality needs a user `__eq__`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NeedsEq;

/// One slot of the entry vector; a deleted entry has `key.key == Value::Null`.
pub struct DictEntry {
    pub key: HashKey,
    pub value: Value,
}

const EMPTY: u32 = u32::MAX;
const DUMMY: u32 = u32::MAX - 1;
const MIN_SIZE: usize = 8;
const PERTURB_SHIFT: u32 = 5;

/// The table behind a `PyDict` (always used under `PyDict::map`'s lock).
#[derive(Default)]
pub struct DictMap {
    /// Power-of-two index table: `EMPTY`, `DUMMY` or an index into `entries`.
    /// Empty (unallocated) until the first insertion.
    indices: Vec<u32>,
    entries: Vec<DictEntry>,
    used: usize,
    /// Index slots that are not `EMPTY` (live entries plus `DUMMY`s): the
    /// resize trigger, so that deletions can never fill the table with
    /// dummies and leave a probe with no `EMPTY` slot to stop at.
    filled: usize,
    /// Bumped on every change of the key set or the table layout.
    version: u64,
    /// Some key is not an exact str: a str lookup that misses must then
    /// take the general path (a str-subclass key could still be equal).
    has_non_str: bool,
}

/// Where a lookup stands: the next index slot to look at.
#[derive(Clone, Copy)]
struct Probe {
    slot: usize,
    perturb: u64,
    version: u64,
}

enum Step {
    Found(usize),
    Missing,
    /// The entry's key needs `Vm::eq`; resume with `next` if it says no.
    Ask {
        entry: usize,
        stored: Value,
        next: Probe,
    },
}

impl DictMap {
    /// The index table's size (0 before the first insertion) and whether
    /// every key is an exact str, for `sys.getsizeof`.
    pub fn table_shape(&self) -> (usize, bool) {
        (self.indices.len(), !self.has_non_str)
    }

    pub fn new() -> DictMap {
        DictMap::default()
    }

    pub fn len(&self) -> usize {
        self.used
    }

    pub fn is_empty(&self) -> bool {
        self.used == 0
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    /// Live entries in insertion order.
    pub fn live(&self) -> impl Iterator<Item = &DictEntry> {
        self.entries.iter().filter(|e| !e.key.key.is_null())
    }

    /// `(key, value)` pairs in insertion order (the `IndexMap` shape).
    pub fn iter(&self) -> impl Iterator<Item = (&HashKey, &Value)> {
        self.live().map(|e| (&e.key, &e.value))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&HashKey, &mut Value)> {
        self.entries
            .iter_mut()
            .filter(|e| !e.key.key.is_null())
            .map(|e| (&e.key, &mut e.value))
    }

    pub fn keys(&self) -> impl Iterator<Item = &HashKey> {
        self.live().map(|e| &e.key)
    }

    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.live().map(|e| &e.value)
    }

    /// Insert or replace comparing keys natively (a key that would need a
    /// user `__eq__` matches only itself); returns the old value.
    pub fn insert(&mut self, key: HashKey, value: Value) -> Option<Value> {
        let found = match self.find_native(key.hash, &key.key) {
            Ok(ix) => ix,
            Err(NeedsEq) => self.live_index_of(|k| k.hash == key.hash && k.key.is(&key.key)),
        };
        match found {
            Some(ix) => Some(self.set_value_at(ix, value)),
            None => {
                self.insert_new(key.hash, key.key, value);
                None
            }
        }
    }

    fn live_index_of(&self, mut f: impl FnMut(&HashKey) -> bool) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| !e.key.key.is_null() && f(&e.key))
    }

    /// The first live entry at or after `pos`, with the position after it.
    pub fn entry_from(&self, pos: usize) -> Option<(usize, &DictEntry)> {
        let mut i = pos;
        while i < self.entries.len() {
            let e = &self.entries[i];
            if !e.key.key.is_null() {
                return Some((i + 1, e));
            }
            i += 1;
        }
        None
    }

    /// The last live entry strictly before `end` (for `reversed(d)`).
    pub fn entry_before(&self, end: usize) -> Option<(usize, &DictEntry)> {
        let mut i = end.min(self.entries.len());
        while i > 0 {
            i -= 1;
            let e = &self.entries[i];
            if !e.key.key.is_null() {
                return Some((i, e));
            }
        }
        None
    }

    /// Number of entry positions (live or deleted): iteration bound.
    pub fn entry_capacity(&self) -> usize {
        self.entries.len()
    }

    pub fn key_list(&self) -> Vec<Value> {
        self.live().map(|e| e.key.key.clone()).collect()
    }

    pub fn value_list(&self) -> Vec<Value> {
        self.live().map(|e| e.value.clone()).collect()
    }

    pub fn item_list(&self) -> Vec<(Value, Value)> {
        self.live()
            .map(|e| (e.key.key.clone(), e.value.clone()))
            .collect()
    }

    /// Empty the map, returning the old contents (to be dropped unlocked).
    pub fn take(&mut self) -> DictMap {
        let version = self.version + 1;
        let old = std::mem::take(self);
        self.version = version;
        old
    }

    fn start(&self, hash: i64) -> Probe {
        let mask = self.indices.len().wrapping_sub(1);
        Probe {
            slot: (hash as u64 as usize) & mask,
            perturb: hash as u64,
            version: self.version,
        }
    }

    /// CPython's probe: `perturb >>= 5; i = (i*5 + perturb + 1) & mask`.
    fn advance(&self, p: &mut Probe) {
        let mask = self.indices.len() - 1;
        p.perturb >>= PERTURB_SHIFT;
        p.slot = (p.slot.wrapping_mul(5))
            .wrapping_add(p.perturb as usize)
            .wrapping_add(1)
            & mask;
    }

    /// Look `key` up from `p` using native equality only; stop at a key that
    /// needs a user `__eq__`.
    fn step(&self, hash: i64, key: &Value, mut p: Probe) -> Step {
        if self.indices.is_empty() {
            return Step::Missing;
        }
        loop {
            let ix = self.indices[p.slot];
            if ix == EMPTY {
                return Step::Missing;
            }
            if ix != DUMMY {
                let e = &self.entries[ix as usize];
                if e.key.hash == hash {
                    if e.key.key.is(key) {
                        return Step::Found(ix as usize);
                    }
                    match native_eq(&e.key.key, key) {
                        Some(true) => return Step::Found(ix as usize),
                        Some(false) => {}
                        None => {
                            let stored = e.key.key.clone();
                            self.advance(&mut p);
                            return Step::Ask {
                                entry: ix as usize,
                                stored,
                                next: p,
                            };
                        }
                    }
                }
            }
            self.advance(&mut p);
        }
    }

    /// Lookup with native equality only; `Err(NeedsEq)` if a candidate needs a user `__eq__`.
    pub fn find_native(&self, hash: i64, key: &Value) -> Result<Option<usize>, NeedsEq> {
        match self.step(hash, key, self.start(hash)) {
            Step::Found(e) => Ok(Some(e)),
            Step::Missing => Ok(None),
            Step::Ask { .. } => Err(NeedsEq),
        }
    }

    /// Fast lookup of a str key: pointer equality first, then bytes.
    fn find_str(&self, key: &PyStr) -> Option<usize> {
        if self.indices.is_empty() {
            return None;
        }
        let hash = key.hash();
        let mut p = self.start(hash);
        loop {
            let ix = self.indices[p.slot];
            if ix == EMPTY {
                return None;
            }
            if ix != DUMMY {
                let e = &self.entries[ix as usize];
                if e.key.hash == hash {
                    if let Value::Str(s) = &e.key.key {
                        if std::ptr::eq(&**s, key) || s.as_str() == key.as_str() {
                            return Some(ix as usize);
                        }
                    }
                }
            }
            self.advance(&mut p);
        }
    }

    pub fn entry(&self, ix: usize) -> &DictEntry {
        &self.entries[ix]
    }

    pub fn value_at(&self, ix: usize) -> &Value {
        &self.entries[ix].value
    }

    pub fn set_value_at(&mut self, ix: usize, v: Value) -> Value {
        std::mem::replace(&mut self.entries[ix].value, v)
    }

    /// Append a key known to be absent.
    pub fn insert_new(&mut self, hash: i64, key: Value, value: Value) {
        if self.indices.is_empty() {
            self.indices = vec![EMPTY; MIN_SIZE];
        } else if self.entries.len().max(self.filled) >= usable(self.indices.len()) {
            self.resize(self.used * 3);
        }
        if !matches!(key, Value::Str(_)) {
            self.has_non_str = true;
        }
        let slot = self.free_slot(hash);
        if self.indices[slot] == EMPTY {
            self.filled += 1;
        }
        self.indices[slot] = self.entries.len() as u32;
        self.entries.push(DictEntry {
            key: HashKey { hash, key },
            value,
        });
        self.used += 1;
        self.version += 1;
    }

    /// First `EMPTY` or `DUMMY` slot on `hash`'s probe sequence.
    fn free_slot(&self, hash: i64) -> usize {
        let mut p = self.start(hash);
        loop {
            let ix = self.indices[p.slot];
            if ix == EMPTY || ix == DUMMY {
                return p.slot;
            }
            self.advance(&mut p);
        }
    }

    /// Rebuild with room for at least `min_used` entries, dropping holes.
    fn resize(&mut self, min_used: usize) {
        let mut size = MIN_SIZE;
        while usable(size) < min_used.max(self.used + 1) {
            size <<= 1;
        }
        if self.used != self.entries.len() {
            self.entries.retain(|e| !e.key.key.is_null());
        }
        self.indices = vec![EMPTY; size];
        for (i, e) in self.entries.iter().enumerate() {
            let slot = self.free_slot(e.key.hash);
            self.indices[slot] = i as u32;
        }
        self.filled = self.entries.len();
        self.version += 1;
    }

    /// Remove the entry at `ix` (found by a lookup), returning its key and value.
    pub fn remove_at(&mut self, ix: usize) -> (Value, Value) {
        let hash = self.entries[ix].key.hash;
        let mut p = self.start(hash);
        while self.indices[p.slot] != ix as u32 {
            self.advance(&mut p);
        }
        self.indices[p.slot] = DUMMY;
        let e = &mut self.entries[ix];
        let key = std::mem::replace(&mut e.key.key, Value::Null);
        let value = std::mem::replace(&mut e.value, Value::Null);
        self.used -= 1;
        self.version += 1;
        // The hole stays even when the dict becomes empty (as in CPython):
        // an iterator's position must not see later keys reuse the slot, or
        // "dictionary keys changed during iteration" would go unnoticed.
        (key, value)
    }

    /// Remove and return the last item (`popitem`), trimming trailing holes.
    pub fn pop_last(&mut self) -> Option<(Value, Value)> {
        let (ix, _) = self.entry_before(self.entries.len())?;
        let kv = self.remove_at(ix);
        while self.entries.last().is_some_and(|e| e.key.key.is_null()) {
            self.entries.pop();
        }
        Some(kv)
    }

    /// A copy with the same order (holes dropped).
    pub fn copy(&self) -> DictMap {
        let mut m = DictMap::new();
        if self.used > 0 {
            m.entries = self
                .live()
                .map(|e| DictEntry {
                    key: e.key.clone(),
                    value: e.value.clone(),
                })
                .collect();
            m.used = m.entries.len();
            m.resize(m.used);
        }
        m
    }

    /// Insert or replace with native key equality; `Err` hands the pair back
    /// when the key needs a user `__eq__`.
    pub fn set_native(
        &mut self,
        hash: i64,
        key: Value,
        value: Value,
    ) -> Result<(), (Value, Value)> {
        match self.find_native(hash, &key) {
            Ok(Some(ix)) => {
                self.entries[ix].value = value;
                Ok(())
            }
            Ok(None) => {
                self.insert_new(hash, key, value);
                Ok(())
            }
            Err(NeedsEq) => Err((key, value)),
        }
    }
}

/// CPython's `USABLE_FRACTION`: a table of `n` slots holds `2n/3` entries.
fn usable(n: usize) -> usize {
    (n << 1) / 3
}

/// A dict's lock plus a change counter that can be read without it: the
/// global-lookup cache in `run.rs` validates a cached value by comparing
/// counters instead of locking and probing.
///
/// Every mutable access through the guard bumps the counter (before the
/// change is made), so no mutation path can forget to. The high bits hold a
/// tag given the first time a cache reads the dict (`tagged_version`), so a
/// new dict reusing a freed dict's address never matches a stale entry.
pub struct DictCell {
    inner: Mutex<DictMap>,
    version: AtomicU64,
}

/// Mutation counts stay below this; tags are multiples of it.
const TAG_UNIT: u64 = 1 << 40;
static NEXT_TAG: AtomicU64 = AtomicU64::new(TAG_UNIT);

impl DictCell {
    pub fn new(map: DictMap) -> DictCell {
        DictCell {
            inner: Mutex::new(map),
            version: AtomicU64::new(0),
        }
    }

    pub fn lock(&self) -> DictGuard<'_> {
        DictGuard {
            guard: self.inner.lock(),
            counter: &self.version,
        }
    }

    /// Whether two counter readings are of one dict (the same tag; an
    /// untagged dict has none).
    pub fn same_tag(a: u64, b: u64) -> bool {
        a >= TAG_UNIT && a / TAG_UNIT == b / TAG_UNIT
    }

    /// The change counter (0 in the tag bits until `tagged_version`).
    #[inline]
    pub fn version(&self) -> u64 {
        // Relaxed: a stale read only makes a cache hit look like it happened
        // before a concurrent write; cached values are owned, never borrowed.
        self.version.load(Ordering::Relaxed)
    }
}

impl DictGuard<'_> {
    /// The counter, tagging the dict first if it has never been tagged.
    /// Under the lock, so no bump can interleave.
    pub fn tagged_version(&self) -> u64 {
        let v = self.counter.load(Ordering::Relaxed);
        if v >= TAG_UNIT {
            return v;
        }
        let tagged = NEXT_TAG.fetch_add(TAG_UNIT, Ordering::Relaxed) + v;
        self.counter.store(tagged, Ordering::Relaxed);
        tagged
    }
}

pub struct DictGuard<'a> {
    guard: MutexGuard<'a, DictMap>,
    counter: &'a AtomicU64,
}

impl std::ops::Deref for DictGuard<'_> {
    type Target = DictMap;
    #[inline]
    fn deref(&self) -> &DictMap {
        &self.guard
    }
}

impl std::ops::DerefMut for DictGuard<'_> {
    #[inline]
    fn deref_mut(&mut self) -> &mut DictMap {
        // Only lock holders write the counter, so load + store is enough.
        let v = self.counter.load(Ordering::Relaxed);
        self.counter.store(v.wrapping_add(1), Ordering::Relaxed);
        &mut self.guard
    }
}

impl PyDict {
    pub fn new() -> PyDict {
        PyDict {
            map: DictCell::new(DictMap::new()),
        }
    }

    pub fn from_map(map: DictMap) -> PyDict {
        PyDict {
            map: DictCell::new(map),
        }
    }

    pub fn len(&self) -> usize {
        self.map.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of the str key `key`, `Some(None)` when it is certainly
    /// absent; `None` when only the general lookup can tell. A str key
    /// equals only str keys, or a str-subclass key with the same hash,
    /// which a dict holding only exact strs cannot have.
    pub fn lookup_str(&self, key: &PyStr) -> Option<Option<Value>> {
        let map = self.map.lock();
        if let Some(ix) = map.find_str(key) {
            return Some(Some(map.entries[ix].value.clone()));
        }
        (!map.has_non_str).then_some(None)
    }

    /// Global/attribute lookups: str keys compared by pointer, then bytes.
    /// (A key that is an instance of a str subclass is not found this way;
    /// `Vm::dict_get` finds it.)
    pub fn get_str(&self, key: &PyStr) -> Option<Value> {
        let map = self.map.lock();
        map.find_str(key).map(|ix| map.entries[ix].value.clone())
    }

    /// `get_str` plus where the key sits (its entry index) and the dict's
    /// tagged change counter read under the same lock, for the
    /// global-lookup cache.
    pub fn get_str_versioned(&self, key: &PyStr) -> (Option<(Value, u32)>, u64) {
        let map = self.map.lock();
        let v = map
            .find_str(key)
            .map(|ix| (map.entries[ix].value.clone(), ix as u32));
        (v, map.tagged_version())
    }

    /// The value of the entry at `index` if its key is still the str `key`
    /// (a dict holds one entry per key, so it is `key`'s value), with the
    /// tagged change counter; `None` when the entry moved or went.
    pub fn value_at_str(&self, index: u32, key: &PyStr) -> Option<(Value, u64)> {
        let map = self.map.lock();
        let e = map.entries.get(index as usize)?;
        match &e.key.key {
            Value::Str(s) if std::ptr::eq(&**s, key) || s.as_str() == key.as_str() => {
                Some((e.value.clone(), map.tagged_version()))
            }
            _ => None,
        }
    }

    pub fn set_str(&self, key: Brc<PyStr>, v: Value) {
        // The old value is dropped after unlocking.
        drop(self.replace_str(key, v));
    }

    /// Set a str key; returns the value it replaced.
    pub fn replace_str(&self, key: Brc<PyStr>, v: Value) -> Option<Value> {
        let mut map = self.map.lock();
        match map.find_str(&key) {
            Some(ix) => Some(map.set_value_at(ix, v)),
            None => {
                let hash = key.hash();
                map.insert_new(hash, Value::Str(key), v);
                None
            }
        }
    }

    /// Remove a str key; returns the old value.
    pub fn del_str(&self, key: &PyStr) -> Option<Value> {
        let mut map = self.map.lock();
        let ix = map.find_str(key)?;
        Some(map.remove_at(ix).1)
    }

    /// Convenience for natives: `get_str` by text.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.get_str(&PyStr::new(key))
    }

    pub fn set(&self, key: &str, v: Value) {
        self.set_str(Brc::new(PyStr::new(key)), v)
    }

    pub fn keys(&self) -> Vec<Value> {
        self.map.lock().key_list()
    }

    pub fn values(&self) -> Vec<Value> {
        self.map.lock().value_list()
    }

    pub fn items(&self) -> Vec<(Value, Value)> {
        self.map.lock().item_list()
    }
}

impl Default for PyDict {
    fn default() -> Self {
        PyDict::new()
    }
}

// ---- hashing and native equality ----

const HASH_MODULUS: u64 = (1u64 << 61) - 1;

/// CPython's hash of an int that fits in i64.
pub fn int_hash(i: i64) -> i64 {
    let m = i.unsigned_abs() % HASH_MODULUS;
    let h = if i < 0 { -(m as i64) } else { m as i64 };
    if h == -1 {
        -2
    } else {
        h
    }
}

/// Key hash: str and small int natively, everything else through `Vm::hash`.
pub(crate) fn key_hash(vm: &mut Vm, key: &Value) -> PyResult<i64> {
    match key {
        Value::Str(s) => Ok(s.hash()),
        Value::Int(i) => Ok(int_hash(*i)),
        _ => vm.hash(key),
    }
}

/// Equality of built-in values without calling script code:
/// `Some(answer)`, or `None` when a user `__eq__` may be involved.
pub fn native_eq(a: &Value, b: &Value) -> Option<bool> {
    native_eq_depth(a, b, 0)
}

/// Nesting beyond this is left to `Vm::eq`, which guards the Rust stack.
pub(crate) const NATIVE_DEPTH: u32 = 100;

fn native_eq_depth(a: &Value, b: &Value, depth: u32) -> Option<bool> {
    use Value::*;
    if depth > NATIVE_DEPTH {
        return Option::None;
    }
    if a.is(b) {
        return Some(true);
    }
    Some(match (a, b) {
        (Instance(_), _) | (_, Instance(_)) => return Option::None,
        // A metaclass may define `__eq__` for its classes.
        (Class(x), _) if x.meta.is_some() => return Option::None,
        (_, Class(y)) if y.meta.is_some() => return Option::None,
        (Str(x), Str(y)) => x.as_str() == y.as_str(),
        (Int(x), Int(y)) => x == y,
        (Bool(x), Bool(y)) => x == y,
        (Int(x), Bool(y)) | (Bool(y), Int(x)) => *x == *y as i64,
        (Float(x), Float(y)) => x == y,
        (Int(i), Float(f)) | (Float(f), Int(i)) => int_eq_float(*i, *f),
        (Bool(b), Float(f)) | (Float(f), Bool(b)) => (*b as i64 as f64) == *f,
        (BigInt(x), BigInt(y)) => x == y,
        (BigInt(x), Float(f)) | (Float(f), BigInt(x)) => bigint_eq_float(x, *f),
        (BigInt(_), Int(_) | Bool(_)) | (Int(_) | Bool(_), BigInt(_)) => false,
        (None, None) => true,
        (Bytes(x), Bytes(y)) => x == y,
        (Tuple(x), Tuple(y)) => {
            if x.items.len() != y.items.len() {
                return Some(false);
            }
            for (p, q) in x.items.iter().zip(y.items.iter()) {
                match native_eq_depth(p, q, depth + 1) {
                    Some(true) => {}
                    other => return other,
                }
            }
            true
        }
        (Set(x) | FrozenSet(x), Set(y) | FrozenSet(y)) => {
            return crate::vm::set::native_set_eq(x, y)
        }
        (Object(x), Object(y)) => match (&x.kind, &y.kind) {
            (
                ObjKind::Range {
                    start: s1,
                    stop: e1,
                    step: st1,
                },
                ObjKind::Range {
                    start: s2,
                    stop: e2,
                    step: st2,
                },
            ) => crate::vm::iter::range_eq((*s1, *e1, *st1), (*s2, *e2, *st2)),
            // Dict views, slices, ... compare by value through their methods.
            _ => return Option::None,
        },
        // Mutable containers and bound methods compare by value; other
        // objects (views) may equal a value of another type.
        (List(_), List(_))
        | (Dict(_), Dict(_))
        | (BoundMethod(_), BoundMethod(_))
        | (Object(_), _)
        | (_, Object(_)) => return Option::None,
        _ => false,
    })
}

fn int_eq_float(i: i64, f: f64) -> bool {
    if !f.is_finite() || f.fract() != 0.0 {
        return false;
    }
    // Every integral f64 in (-2^63, 2^63) converts exactly.
    let two_63 = (1u64 << 63) as f64;
    if (-two_63..two_63).contains(&f) {
        f as i64 == i
    } else {
        false
    }
}

fn bigint_eq_float(x: &BigInt, f: f64) -> bool {
    if !f.is_finite() || f.fract() != 0.0 {
        return false;
    }
    BigInt::from_f64(f).is_some_and(|y| &y == x)
}

// ---- dict operations through the VM ----

/// Extract the dict behind a dict or dict-subclass instance.
pub fn as_dict(v: &Value) -> Option<Brc<PyDict>> {
    match v {
        Value::Dict(d) => Some(d.clone()),
        Value::Instance(_) => match base_value(v) {
            Value::Dict(d) => Some(d),
            _ => None,
        },
        _ => None,
    }
}

impl Vm {
    /// Run `f` under `d`'s lock with the entry index of `key` (or `None`),
    /// comparing with user `__eq__` outside the lock (see the module doc).
    fn dict_lookup<R>(
        &mut self,
        d: &PyDict,
        hash: i64,
        key: &Value,
        f: impl FnOnce(&mut DictMap, Option<usize>) -> R,
    ) -> PyResult<R> {
        let mut resume: Option<Probe> = None;
        loop {
            let (entry, stored, next) = {
                let mut map = d.map.lock();
                let p = match resume {
                    Some(p) if p.version == map.version => p,
                    _ => map.start(hash),
                };
                match map.step(hash, key, p) {
                    Step::Found(ix) => return Ok(f(&mut map, Some(ix))),
                    Step::Missing => return Ok(f(&mut map, None)),
                    Step::Ask {
                        entry,
                        stored,
                        next,
                    } => (entry, stored, next),
                }
            };
            // CPython compares the stored key first: `startkey == key`.
            let equal = self.eq(&stored, key)?;
            let mut map: DictGuard = d.map.lock();
            if map.version != next.version {
                resume = None;
                continue;
            }
            if equal {
                return Ok(f(&mut map, Some(entry)));
            }
            resume = Some(next);
        }
    }

    pub fn dict_get(&mut self, d: &PyDict, key: &Value) -> PyResult<Option<Value>> {
        if let Value::Str(s) = key {
            if let Some(found) = d.lookup_str(s) {
                return Ok(found);
            }
        }
        let hash = key_hash(self, key)?;
        self.dict_get_hashed(d, key, hash)
    }

    pub fn dict_get_hashed(
        &mut self,
        d: &PyDict,
        key: &Value,
        hash: i64,
    ) -> PyResult<Option<Value>> {
        self.dict_lookup(d, hash, key, |m, ix| {
            ix.map(|ix| m.entries[ix].value.clone())
        })
    }

    pub fn dict_contains(&mut self, d: &PyDict, key: &Value) -> PyResult<bool> {
        let hash = key_hash(self, key)?;
        self.dict_lookup(d, hash, key, |_, ix| ix.is_some())
    }

    pub fn dict_set(&mut self, d: &PyDict, key: Value, value: Value) -> PyResult<()> {
        if let Value::Str(s) = &key {
            // Str keys in a dict of str keys: no `__eq__` can be involved.
            let mut map = d.map.lock();
            if let Some(ix) = map.find_str(s) {
                let old = map.set_value_at(ix, value);
                drop(map);
                drop(old);
                return Ok(());
            }
            if !map.has_non_str {
                let hash = s.hash();
                map.insert_new(hash, key, value);
                return Ok(());
            }
        }
        let hash = key_hash(self, &key)?;
        self.dict_set_hashed(d, key, hash, value)
    }

    pub fn dict_set_hashed(
        &mut self,
        d: &PyDict,
        key: Value,
        hash: i64,
        value: Value,
    ) -> PyResult<()> {
        let old = self.dict_lookup(d, hash, &key.clone(), move |m, ix| match ix {
            Some(ix) => Some(m.set_value_at(ix, value)),
            None => {
                m.insert_new(hash, key, value);
                None
            }
        })?;
        drop(old);
        Ok(())
    }

    /// `del d[key]`: KeyError if absent.
    pub fn dict_del(&mut self, d: &PyDict, key: &Value) -> PyResult<()> {
        match self.dict_pop(d, key)? {
            Some(_) => Ok(()),
            None => Err(PyErr::key_error(key.clone())),
        }
    }

    /// Remove `key`, returning its value if it was present.
    pub fn dict_pop(&mut self, d: &PyDict, key: &Value) -> PyResult<Option<Value>> {
        let hash = key_hash(self, key)?;
        self.dict_lookup(d, hash, key, |m, ix| ix.map(|ix| m.remove_at(ix).1))
    }

    /// `d.setdefault(key, default)`.
    pub fn dict_setdefault(&mut self, d: &PyDict, key: Value, default: Value) -> PyResult<Value> {
        let hash = key_hash(self, &key)?;
        self.dict_lookup(d, hash, &key.clone(), move |m, ix| match ix {
            Some(ix) => m.entries[ix].value.clone(),
            None => {
                m.insert_new(hash, key, default.clone());
                default
            }
        })
    }

    /// `d.update(other)` / `dict(other)`: a mapping (anything with `keys`)
    /// or an iterable of pairs.
    pub fn dict_update_from(&mut self, d: &PyDict, other: &Value) -> PyResult<()> {
        if let Some(src) = as_dict(other) {
            // Only a plain dict (or a subclass not overriding `keys`/`__iter__`)
            // is merged directly.
            if matches!(other, Value::Dict(_)) || !overrides(other, &["keys", "__iter__"]) {
                return self.dict_merge(d, &src, false);
            }
        }
        if self.get_attr_opt(other, "keys")?.is_some() {
            let keys = self.call_method(other, "keys", &[])?;
            let keys = self.collect(&keys)?;
            for k in keys {
                let v = self.get_item(other, &k)?;
                self.dict_set(d, k, v)?;
            }
            return Ok(());
        }
        self.dict_update_pairs(d, other)
    }

    fn dict_update_pairs(&mut self, d: &PyDict, other: &Value) -> PyResult<()> {
        let it = self.iter(other)?;
        let mut n = 0usize;
        while let Some(item) = self.next(&it)? {
            let pair = match &item {
                Value::Tuple(t) => t.items.to_vec(),
                Value::List(l) => l.items.lock().clone(),
                _ => match self.iter(&item) {
                    Ok(_) => self.collect(&item)?,
                    Err(e) if e.matches(ExcKind::TypeError) => {
                        return Err(PyErr::type_error(format!(
                            "cannot convert dictionary update sequence element #{n} to a sequence"
                        )))
                    }
                    Err(e) => return Err(e),
                },
            };
            if pair.len() != 2 {
                return Err(PyErr::value_error(format!(
                    "dictionary update sequence element #{n} has length {}; 2 is required",
                    pair.len()
                )));
            }
            let mut pair = pair.into_iter();
            let (k, v) = (
                pair.next().unwrap_or(Value::None),
                pair.next().unwrap_or(Value::None),
            );
            self.dict_set(d, k, v)?;
            n += 1;
        }
        Ok(())
    }

    /// Copy every item of `src` into `d` (`{**a}`, `d.update(a)`); with
    /// `no_dups`, a key already present is an error (calls with `**kw`).
    pub fn dict_merge(&mut self, d: &PyDict, src: &PyDict, no_dups: bool) -> PyResult<()> {
        if std::ptr::eq(d, src) {
            return Ok(());
        }
        let items: Vec<(i64, Value, Value)> = src
            .map
            .lock()
            .live()
            .map(|e| (e.key.hash, e.key.key.clone(), e.value.clone()))
            .collect();
        for (hash, k, v) in items {
            if no_dups {
                let fresh = self.dict_lookup(d, hash, &k.clone(), |m, ix| match ix {
                    Some(_) => false,
                    None => {
                        m.insert_new(hash, k.clone(), v);
                        true
                    }
                })?;
                if !fresh {
                    return Err(PyErr::key_error(k));
                }
            } else {
                self.dict_set_hashed(d, k, hash, v)?;
            }
        }
        Ok(())
    }

    /// `a == b` for two dicts.
    pub fn dict_eq(&mut self, a: &PyDict, b: &PyDict) -> PyResult<bool> {
        if std::ptr::eq(a, b) {
            return Ok(true);
        }
        self.at_level(" in comparison", |vm| vm.dict_eq_inner(a, b))
    }

    fn dict_eq_inner(&mut self, a: &PyDict, b: &PyDict) -> PyResult<bool> {
        if a.len() != b.len() {
            return Ok(false);
        }
        let items: Vec<(i64, Value, Value)> = a
            .map
            .lock()
            .live()
            .map(|e| (e.key.hash, e.key.key.clone(), e.value.clone()))
            .collect();
        for (hash, k, av) in items {
            let Some(bv) = self.dict_get_hashed(b, &k, hash)? else {
                return Ok(false);
            };
            if !(av.is(&bv) || self.eq(&av, &bv)?) {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// Does the class of `v` define any of `names` below its built-in base?
pub(crate) fn overrides(v: &Value, names: &[&str]) -> bool {
    let Value::Instance(inst) = v else {
        return false;
    };
    std::iter::once(&inst.class)
        .chain(inst.class.mro.iter())
        .take_while(|c| &*c.module != "builtins")
        .any(|c| {
            let attrs = c.attrs.lock();
            names.iter().any(|n| attrs.contains_key(n))
        })
}
// ---- dict views ----

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ViewKind {
    Keys,
    Values,
    Items,
}

/// `d.keys()`, `d.values()`, `d.items()`: live views of the dict.
pub struct DictView {
    pub dict: Brc<PyDict>,
    pub kind: ViewKind,
}

impl ViewKind {
    pub fn class_name(self) -> &'static str {
        match self {
            ViewKind::Keys => "dict_keys",
            ViewKind::Values => "dict_values",
            ViewKind::Items => "dict_items",
        }
    }
}

pub fn make_view(dict: Brc<PyDict>, kind: ViewKind) -> Value {
    Value::Object(Arc::new(Object {
        class: types().iterator_class(kind.class_name()),
        kind: ObjKind::Native(Box::new(DictView { dict, kind })),
    }))
}

/// The view behind a `dict_keys`/`dict_values`/`dict_items` value.
pub fn as_view(v: &Value) -> Option<(&Brc<PyDict>, ViewKind)> {
    if let Value::Object(o) = v {
        if let ObjKind::Native(n) = &o.kind {
            if let Some(view) = n.downcast_ref::<DictView>() {
                return Some((&view.dict, view.kind));
            }
        }
    }
    None
}

// ---- the dict type's methods ----

fn this(args: &[Value], name: &str) -> PyResult<Brc<PyDict>> {
    match args.first() {
        Some(v) => as_dict(v).ok_or_else(|| descriptor_error(name, "dict", v)),
        None => Err(PyErr::type_error(format!(
            "descriptor '{name}' of 'dict' object needs an argument"
        ))),
    }
}

fn dict_new(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let d = Value::Dict(Brc::new(PyDict::new()));
    match args.first() {
        Some(Value::Class(cls)) if !Arc::ptr_eq(cls, &types().dict) => Ok(builtin_instance(cls, d)),
        _ => Ok(d),
    }
}

/// An instance of a user subclass of a built-in type wrapping `base`.
pub(crate) fn builtin_instance(cls: &Arc<Class>, base: Value) -> Value {
    Value::Instance(Brc::new(Instance::new(
        cls.clone(),
        InstanceBase::Builtin(parking_lot::Mutex::new(base)),
    )))
}

fn dict_init(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let d = this(args, "__init__")?;
    arity("dict", &args[1..], 0, 1)?;
    update_impl(vm, &d, &args[1..], kw)?;
    Ok(Value::None)
}

fn update_impl(vm: &mut Vm, d: &PyDict, args: &[Value], kw: Kwargs) -> PyResult<()> {
    if let Some(other) = args.first() {
        vm.dict_update_from(d, other)?;
    }
    for (k, v) in kw {
        d.set_str(Brc::new(PyStr::new(&**k)), v.clone());
    }
    Ok(())
}

fn dict_update(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let d = this(args, "update")?;
    arity("update", &args[1..], 0, 1)?;
    update_impl(vm, &d, &args[1..], kw)?;
    Ok(Value::None)
}

fn dict_len(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let d = this(args, "__len__")?;
    Ok(Value::Int(d.len() as i64))
}

fn dict_contains_m(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let d = this(args, "__contains__")?;
    one_arg("dict.__contains__", &args[1..])?;
    Ok(Value::Bool(vm.dict_contains(&d, &args[1])?))
}

fn dict_getitem(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let d = this(args, "__getitem__")?;
    one_arg("dict.__getitem__", &args[1..])?;
    let key = &args[1];
    if let Some(v) = vm.dict_get(&d, key)? {
        return Ok(v);
    }
    // Subclasses may define `__missing__` (collections.defaultdict).
    if let Value::Instance(inst) = &args[0] {
        if let Some(missing) = crate::vm::iter::class_lookup(&inst.class, "__missing__") {
            return vm.call(&missing, &[args[0].clone(), key.clone()], &[]);
        }
    }
    Err(PyErr::key_error(key.clone()))
}

fn dict_setitem(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let d = this(args, "__setitem__")?;
    arity("__setitem__", &args[1..], 2, 2)?;
    vm.dict_set(&d, args[1].clone(), args[2].clone())?;
    Ok(Value::None)
}

fn dict_delitem(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let d = this(args, "__delitem__")?;
    one_arg("dict.__delitem__", &args[1..])?;
    vm.dict_del(&d, &args[1])?;
    Ok(Value::None)
}

/// `d.get(k)` / `d.get(k, default)` with a str key, where no `__eq__` can
/// run (see `FastFn`).
fn get_fast(args: &mut [Value]) -> Option<Value> {
    let (d, key, default) = match args {
        [Value::Dict(d), Value::Str(k)] => (d, k, None),
        [Value::Dict(d), Value::Str(k), default] => (d, k, Some(default)),
        _ => return None,
    };
    match d.lookup_str(key)? {
        Some(v) => Some(v),
        None => Some(default.map_or(Value::None, |v| std::mem::replace(v, Value::Null))),
    }
}

fn dict_get(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    // The common `d.get(k)` / `d.get(k, default)` on a plain dict: no count touched.
    if let [Value::Dict(d), key, default @ ..] = args {
        if default.len() <= 1 {
            return Ok(vm
                .dict_get(d, key)?
                .unwrap_or_else(|| default.first().cloned().unwrap_or(Value::None)));
        }
    }
    let d = this(args, "get")?;
    arity("get", &args[1..], 1, 2)?;
    Ok(vm
        .dict_get(&d, &args[1])?
        .unwrap_or_else(|| args.get(2).cloned().unwrap_or(Value::None)))
}

fn dict_setdefault(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let d = this(args, "setdefault")?;
    arity("setdefault", &args[1..], 1, 2)?;
    let default = args.get(2).cloned().unwrap_or(Value::None);
    vm.dict_setdefault(&d, args[1].clone(), default)
}

fn dict_pop(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let d = this(args, "pop")?;
    arity("pop", &args[1..], 1, 2)?;
    match vm.dict_pop(&d, &args[1])? {
        Some(v) => Ok(v),
        None => match args.get(2) {
            Some(default) => Ok(default.clone()),
            None => Err(PyErr::key_error(args[1].clone())),
        },
    }
}

fn dict_popitem(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let d = this(args, "popitem")?;
    no_args("dict.popitem", &args[1..])?;
    let item = d.map.lock().pop_last();
    match item {
        Some((k, v)) => Ok(Value::tuple(vec![k, v])),
        None => Err(PyErr::key_error(Value::str(
            "popitem(): dictionary is empty",
        ))),
    }
}

fn dict_keys(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let d = this(args, "keys")?;
    no_args("dict.keys", &args[1..])?;
    Ok(make_view(d, ViewKind::Keys))
}

fn dict_values(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let d = this(args, "values")?;
    no_args("dict.values", &args[1..])?;
    Ok(make_view(d, ViewKind::Values))
}

fn dict_items(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let d = this(args, "items")?;
    no_args("dict.items", &args[1..])?;
    Ok(make_view(d, ViewKind::Items))
}

fn dict_clear(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let d = this(args, "clear")?;
    no_args("dict.clear", &args[1..])?;
    // The old entries are dropped after the lock is released.
    let old = d.map.lock().take();
    drop(old);
    Ok(Value::None)
}

fn dict_copy(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let d = this(args, "copy")?;
    no_args("dict.copy", &args[1..])?;
    let m = d.map.lock().copy();
    Ok(Value::Dict(Brc::new(PyDict::from_map(m))))
}

fn dict_fromkeys(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    no_kwargs("dict.fromkeys", kw)?;
    arity("fromkeys", &args[1..], 1, 2)?;
    let cls = args[0].clone();
    let value = args.get(2).cloned().unwrap_or(Value::None);
    let is_dict = matches!(&cls, Value::Class(c) if Arc::ptr_eq(c, &types().dict));
    let target = if is_dict {
        Value::Dict(Brc::new(PyDict::new()))
    } else {
        vm.call(&cls, &[], &[])?
    };
    let keys = vm.collect(&args[1])?;
    match (&target, as_dict(&target)) {
        (Value::Dict(_), Some(d)) => {
            for k in keys {
                vm.dict_set(&d, k, value.clone())?;
            }
        }
        _ => {
            for k in keys {
                vm.set_item(&target, &k, value.clone())?;
            }
        }
    }
    Ok(target)
}

fn dict_iter(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let d = this(args, "__iter__")?;
    Ok(crate::vm::iter::dict_iterator(d, ViewKind::Keys, false))
}

fn dict_reversed(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let d = this(args, "__reversed__")?;
    Ok(crate::vm::iter::dict_iterator(d, ViewKind::Keys, true))
}

fn dict_eq_m(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let d = this(args, "__eq__")?;
    one_arg("dict.__eq__", &args[1..])?;
    match as_dict(&args[1]) {
        Some(o) => Ok(Value::Bool(vm.dict_eq(&d, &o)?)),
        None => Ok(types().not_implemented.clone()),
    }
}

fn dict_ne_m(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let d = this(args, "__ne__")?;
    one_arg("dict.__ne__", &args[1..])?;
    match as_dict(&args[1]) {
        Some(o) => Ok(Value::Bool(!vm.dict_eq(&d, &o)?)),
        None => Ok(types().not_implemented.clone()),
    }
}

/// `a | b` for dicts (None = NotImplemented).
pub fn dict_or(vm: &mut Vm, a: &Value, b: &Value) -> PyResult<Option<Value>> {
    let (Some(x), Some(y)) = (as_dict(a), as_dict(b)) else {
        return Ok(None);
    };
    let m = x.map.lock().copy();
    let out = Brc::new(PyDict::from_map(m));
    vm.dict_merge(&out, &y, false)?;
    Ok(Some(Value::Dict(out)))
}

/// `a |= b` for dicts: any mapping or iterable of pairs.
pub fn dict_ior(vm: &mut Vm, a: &Value, b: &Value) -> PyResult<Option<Value>> {
    let Some(x) = as_dict(a) else {
        return Ok(None);
    };
    vm.dict_update_from(&x, b)?;
    Ok(Some(a.clone()))
}

fn dict_or_m(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    one_arg("dict.__or__", args.get(1..).unwrap_or(&[]))?;
    Ok(dict_or(vm, &args[0], &args[1])?.unwrap_or_else(|| types().not_implemented.clone()))
}

fn dict_ror_m(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    one_arg("dict.__ror__", args.get(1..).unwrap_or(&[]))?;
    Ok(dict_or(vm, &args[1], &args[0])?.unwrap_or_else(|| types().not_implemented.clone()))
}

fn dict_ior_m(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    one_arg("dict.__ior__", args.get(1..).unwrap_or(&[]))?;
    Ok(dict_ior(vm, &args[0], &args[1])?.unwrap_or_else(|| types().not_implemented.clone()))
}

fn dict_repr_m(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let d = this(args, "__repr__")?;
    Ok(Value::from_string(vm.repr(&Value::Dict(d))?))
}

// ---- view methods ----

fn view_this(args: &[Value], name: &str) -> PyResult<(Brc<PyDict>, ViewKind)> {
    match args.first().and_then(as_view) {
        Some((d, k)) => Ok((d.clone(), k)),
        None => Err(PyErr::type_error(format!(
            "descriptor '{name}' needs a dict view"
        ))),
    }
}

fn view_len(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (d, _) = view_this(args, "__len__")?;
    Ok(Value::Int(d.len() as i64))
}

fn view_iter(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (d, k) = view_this(args, "__iter__")?;
    Ok(crate::vm::iter::dict_iterator(d, k, false))
}

fn view_reversed(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (d, k) = view_this(args, "__reversed__")?;
    Ok(crate::vm::iter::dict_iterator(d, k, true))
}

/// `x in view`.
pub fn view_contains(vm: &mut Vm, d: &PyDict, kind: ViewKind, x: &Value) -> PyResult<bool> {
    match kind {
        ViewKind::Keys => vm.dict_contains(d, x),
        ViewKind::Items => {
            let Value::Tuple(t) = x else {
                return Ok(false);
            };
            if t.items.len() != 2 {
                return Ok(false);
            }
            match vm.dict_get(d, &t.items[0])? {
                Some(v) => Ok(v.is(&t.items[1]) || vm.eq(&v, &t.items[1])?),
                None => Ok(false),
            }
        }
        ViewKind::Values => {
            let values = d.values();
            for v in values {
                if v.is(x) || vm.eq(&v, x)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
    }
}

fn view_contains_m(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (d, k) = view_this(args, "__contains__")?;
    one_arg("__contains__", &args[1..])?;
    Ok(Value::Bool(view_contains(vm, &d, k, &args[1])?))
}

/// The view's elements as a list (for repr and set operations).
pub fn view_items(d: &PyDict, kind: ViewKind) -> Vec<Value> {
    let map = d.map.lock();
    match kind {
        ViewKind::Keys => map.key_list(),
        ViewKind::Values => map.value_list(),
        ViewKind::Items => map
            .live()
            .map(|e| Value::tuple(vec![e.key.key.clone(), e.value.clone()]))
            .collect(),
    }
}

fn view_repr(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (d, k) = view_this(args, "__repr__")?;
    let list = Value::list(view_items(&d, k));
    let inner = vm.repr(&list)?;
    Ok(Value::from_string(format!("{}({inner})", k.class_name())))
}

/// A set built from a keys/items view or any iterable (view set operations).
fn view_to_set(vm: &mut Vm, v: &Value) -> PyResult<Arc<PySet>> {
    crate::vm::set::new_set_from(vm, v)
}

fn view_binop(vm: &mut Vm, args: &[Value], op: &str, reflected: bool) -> PyResult<Value> {
    one_arg(op, args.get(1..).unwrap_or(&[]))?;
    let (a, b) = if reflected {
        (&args[1], &args[0])
    } else {
        (&args[0], &args[1])
    };
    // Both operands must be iterable; the left one becomes a new set.
    if vm.iter(b).is_err() || vm.iter(a).is_err() {
        return Ok(types().not_implemented.clone());
    }
    let left = view_to_set(vm, a)?;
    let left_v = Value::Set(left.clone());
    match op {
        "__and__" => crate::vm::set::set_intersection_update_value(vm, &left, b)?,
        "__or__" => crate::vm::set::set_update_value(vm, &left, b)?,
        "__sub__" => crate::vm::set::set_difference_update_value(vm, &left, b)?,
        _ => crate::vm::set::set_symmetric_difference_update_value(vm, &left, b)?,
    }
    Ok(left_v)
}

fn view_and(vm: &mut Vm, a: &[Value], _kw: Kwargs) -> PyResult<Value> {
    view_binop(vm, a, "__and__", false)
}
fn view_or(vm: &mut Vm, a: &[Value], _kw: Kwargs) -> PyResult<Value> {
    view_binop(vm, a, "__or__", false)
}
fn view_sub(vm: &mut Vm, a: &[Value], _kw: Kwargs) -> PyResult<Value> {
    view_binop(vm, a, "__sub__", false)
}
fn view_xor(vm: &mut Vm, a: &[Value], _kw: Kwargs) -> PyResult<Value> {
    view_binop(vm, a, "__xor__", false)
}
fn view_rand(vm: &mut Vm, a: &[Value], _kw: Kwargs) -> PyResult<Value> {
    view_binop(vm, a, "__and__", true)
}
fn view_ror(vm: &mut Vm, a: &[Value], _kw: Kwargs) -> PyResult<Value> {
    view_binop(vm, a, "__or__", true)
}
fn view_rsub(vm: &mut Vm, a: &[Value], _kw: Kwargs) -> PyResult<Value> {
    view_binop(vm, a, "__sub__", true)
}
fn view_rxor(vm: &mut Vm, a: &[Value], _kw: Kwargs) -> PyResult<Value> {
    view_binop(vm, a, "__xor__", true)
}

/// keys/items views compare like sets; values views only by identity.
fn view_cmp(vm: &mut Vm, args: &[Value], op: crate::compile::code::CompareKind) -> PyResult<Value> {
    use crate::compile::code::CompareKind;
    let (d, k) = view_this(args, "__eq__")?;
    let other = args.get(1).cloned().unwrap_or(Value::None);
    if k == ViewKind::Values {
        return Ok(match op {
            CompareKind::Eq => Value::Bool(args[0].is(&other)),
            CompareKind::Ne => Value::Bool(!args[0].is(&other)),
            _ => types().not_implemented.clone(),
        });
    }
    let other_set = match (&other, as_view(&other)) {
        (_, Some((od, ok))) if ok != ViewKind::Values => {
            crate::vm::set::new_set_from(vm, &make_view(od.clone(), ok))?
        }
        (Value::Set(s) | Value::FrozenSet(s), _) => s.clone(),
        _ => return Ok(types().not_implemented.clone()),
    };
    let mine = crate::vm::set::new_set_from(vm, &make_view(d, k))?;
    let r = crate::vm::set::set_compare(vm, &mine, &other_set, op)?;
    Ok(Value::Bool(r))
}

fn view_eq(vm: &mut Vm, a: &[Value], _kw: Kwargs) -> PyResult<Value> {
    view_cmp(vm, a, crate::compile::code::CompareKind::Eq)
}
fn view_ne(vm: &mut Vm, a: &[Value], _kw: Kwargs) -> PyResult<Value> {
    view_cmp(vm, a, crate::compile::code::CompareKind::Ne)
}
fn view_lt(vm: &mut Vm, a: &[Value], _kw: Kwargs) -> PyResult<Value> {
    view_cmp(vm, a, crate::compile::code::CompareKind::Lt)
}
fn view_le(vm: &mut Vm, a: &[Value], _kw: Kwargs) -> PyResult<Value> {
    view_cmp(vm, a, crate::compile::code::CompareKind::Le)
}
fn view_gt(vm: &mut Vm, a: &[Value], _kw: Kwargs) -> PyResult<Value> {
    view_cmp(vm, a, crate::compile::code::CompareKind::Gt)
}
fn view_ge(vm: &mut Vm, a: &[Value], _kw: Kwargs) -> PyResult<Value> {
    view_cmp(vm, a, crate::compile::code::CompareKind::Ge)
}

fn view_isdisjoint(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (d, k) = view_this(args, "isdisjoint")?;
    one_arg("isdisjoint", &args[1..])?;
    let it = vm.iter(&args[1])?;
    while let Some(x) = vm.next(&it)? {
        if view_contains(vm, &d, k, &x)? {
            return Ok(Value::Bool(false));
        }
    }
    Ok(Value::Bool(true))
}

pub fn install(t: &Types) {
    let c = &t.dict;
    constructor(c, dict_new);
    method_kw(c, "__init__", dict_init);
    method(c, "__len__", dict_len);
    method(c, "__contains__", dict_contains_m);
    method(c, "__getitem__", dict_getitem);
    method(c, "__setitem__", dict_setitem);
    method(c, "__delitem__", dict_delitem);
    method(c, "__iter__", dict_iter);
    method(c, "__reversed__", dict_reversed);
    method(c, "__eq__", dict_eq_m);
    method(c, "__ne__", dict_ne_m);
    method(c, "__or__", dict_or_m);
    method(c, "__ror__", dict_ror_m);
    method(c, "__ior__", dict_ior_m);
    method(c, "__repr__", dict_repr_m);
    method_fast(c, "get", dict_get, get_fast);
    method(c, "setdefault", dict_setdefault);
    method(c, "pop", dict_pop);
    method(c, "popitem", dict_popitem);
    method(c, "keys", dict_keys);
    method(c, "values", dict_values);
    method(c, "items", dict_items);
    method_kw(c, "update", dict_update);
    method(c, "clear", dict_clear);
    method(c, "copy", dict_copy);
    class_method(c, "fromkeys", dict_fromkeys);
    c.attrs.lock().insert("__hash__".into(), Value::None);

    for kind in [ViewKind::Keys, ViewKind::Values, ViewKind::Items] {
        let v = t.iterator_class(kind.class_name());
        method(&v, "__len__", view_len);
        method(&v, "__iter__", view_iter);
        method(&v, "__reversed__", view_reversed);
        method(&v, "__contains__", view_contains_m);
        method(&v, "__repr__", view_repr);
        method(&v, "__eq__", view_eq);
        method(&v, "__ne__", view_ne);
        if kind != ViewKind::Values {
            method(&v, "__lt__", view_lt);
            method(&v, "__le__", view_le);
            method(&v, "__gt__", view_gt);
            method(&v, "__ge__", view_ge);
            method(&v, "__and__", view_and);
            method(&v, "__or__", view_or);
            method(&v, "__sub__", view_sub);
            method(&v, "__xor__", view_xor);
            method(&v, "__rand__", view_rand);
            method(&v, "__ror__", view_ror);
            method(&v, "__rsub__", view_rsub);
            method(&v, "__rxor__", view_rxor);
            method(&v, "isdisjoint", view_isdisjoint);
            v.attrs.lock().insert("__hash__".into(), Value::None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(i: i64) -> Value {
        Value::Int(i)
    }

    #[test]
    fn insert_lookup_delete_keeps_order() {
        let mut m = DictMap::new();
        for i in 0..100 {
            let k = i * 7 % 101;
            m.set_native(int_hash(k), int(k), int(i)).unwrap();
        }
        assert_eq!(m.len(), 100);
        for i in (0..100).step_by(2) {
            let k = int(i * 7 % 101);
            let ix = m.find_native(int_hash(i * 7 % 101), &k).unwrap().unwrap();
            m.remove_at(ix);
        }
        assert_eq!(m.len(), 50);
        let keys: Vec<i64> = m
            .live()
            .map(|e| match e.key.key {
                Value::Int(i) => i,
                _ => -1,
            })
            .collect();
        let expect: Vec<i64> = (0..100)
            .filter(|i| i % 2 == 1)
            .map(|i| i * 7 % 101)
            .collect();
        assert_eq!(keys, expect);
        // Re-inserting a deleted key appends it at the end.
        m.set_native(int_hash(0), int(0), int(0)).unwrap();
        assert!(matches!(m.live().last().unwrap().key.key, Value::Int(0)));
    }

    #[test]
    fn insert_then_popitem_never_fills_the_table_with_dummies() {
        // `d[k] = k; d.popitem()` leaves a dummy slot each round; the resize
        // trigger must count them or a missing-key probe never stops.
        let mut m = DictMap::new();
        m.set_native(int_hash(-1), int(-1), int(0)).unwrap();
        for k in 0..1000 {
            m.set_native(int_hash(k), int(k), int(k)).unwrap();
            assert!(m.pop_last().is_some());
        }
        assert_eq!(m.len(), 1);
        assert!(matches!(
            m.find_native(int_hash(5000), &int(5000)),
            Ok(None)
        ));
    }

    #[test]
    fn numeric_keys_collapse() {
        let mut m = DictMap::new();
        m.set_native(1, int(1), Value::str("int")).unwrap();
        m.set_native(1, Value::Float(1.0), Value::str("float"))
            .unwrap();
        m.set_native(1, Value::Bool(true), Value::str("bool"))
            .unwrap();
        assert_eq!(m.len(), 1);
        let e = m.live().next().unwrap();
        assert!(matches!(e.key.key, Value::Int(1)));
        assert_eq!(e.value.as_str(), Some("bool"));
    }

    #[test]
    fn str_fast_path_and_queue_pattern() {
        let d = PyDict::new();
        for i in 0..1000 {
            d.set(&format!("k{i}"), int(i));
        }
        assert!(matches!(d.get("k500"), Some(Value::Int(500))));
        // Pop from the front and push at the back: stays small and ordered.
        for i in 0..5000 {
            let k = format!("k{i}");
            assert!(d.del_str(&PyStr::new(k.as_str())).is_some());
            d.set(&format!("k{}", i + 1000), int(i));
        }
        assert_eq!(d.len(), 1000);
        assert!(d.map.lock().entries.len() < 4000);
        let first = d.keys()[0].as_str().map(str::to_string);
        assert_eq!(first.as_deref(), Some("k5000"));
    }

    #[test]
    fn popitem_is_lifo() {
        let mut m = DictMap::new();
        for i in 0..5 {
            m.set_native(int_hash(i), int(i), int(i)).unwrap();
        }
        let (k, _) = m.pop_last().unwrap();
        assert!(matches!(k, Value::Int(4)));
        let (k, _) = m.pop_last().unwrap();
        assert!(matches!(k, Value::Int(3)));
        assert_eq!(m.len(), 3);
    }

    #[test]
    fn int_hash_matches_cpython() {
        assert_eq!(int_hash(-1), -2);
        assert_eq!(int_hash(0), 0);
        assert_eq!(int_hash(1 << 61), 1);
        assert_eq!(int_hash(-(1 << 61)), -2);
        assert_eq!(int_hash(i64::MAX), 3);
    }

    #[test]
    fn tuples_and_floats_compare_natively() {
        let a = Value::tuple(vec![int(1), Value::str("x")]);
        let b = Value::tuple(vec![Value::Float(1.0), Value::str("x")]);
        assert_eq!(native_eq(&a, &b), Some(true));
        assert_eq!(
            native_eq(&int(1 << 53), &Value::Float(9007199254740992.0)),
            Some(true)
        );
        assert_eq!(
            native_eq(&int((1 << 53) + 1), &Value::Float(9007199254740992.0)),
            Some(false)
        );
        assert_eq!(
            native_eq(&Value::Float(f64::NAN), &Value::Float(f64::NAN)),
            Some(true)
        );
    }

    #[test]
    fn concurrent_inserts_without_a_vm() {
        let d = Brc::new(PyDict::new());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let d = d.clone();
                std::thread::spawn(move || {
                    for i in 0..5000 {
                        d.set(&format!("t{t}-{i}"), int(i));
                        if i % 3 == 0 {
                            d.del_str(&PyStr::new(format!("t{t}-{}", i / 2)));
                        }
                        let _ = d.get(&format!("t{}-{i}", (t + 1) % 4));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        // Each thread inserted 5000 distinct keys and deleted a known subset of its own.
        let mut expect = 0;
        for _ in 0..4 {
            let mut present = std::collections::HashSet::new();
            for i in 0..5000 {
                present.insert(i);
                if i % 3 == 0 {
                    present.remove(&(i / 2));
                }
            }
            expect += present.len();
        }
        assert_eq!(d.len(), expect);
        assert_eq!(d.map.lock().live().count(), expect);
    }
}
