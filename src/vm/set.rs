//! Sets: an open-addressing table laid out like CPython 3.11's
//! `setobject.c` (size 8 to start, 9 linear probes then perturbation, the
//! same fill/resize policy, dummies on delete), so iteration order — and so
//! printed output — matches CPython wherever the hashes do (ints always).
//!
//! The operations (`union`, `intersection`, ...) follow CPython's functions
//! step by step, since the order in which they insert decides the order of
//! the result. Keys needing a user `__eq__` are compared outside the table
//! lock, with the probe resumed or restarted as in `vm::dict`.

use std::sync::Arc;

use parking_lot::Mutex;

use crate::compile::code::{BinaryOpKind, CompareKind};
use crate::vm::builtins::{
    arity, base_value, constructor, method, method_kw, no_args, no_kwargs, one_arg, type_name,
};
use crate::vm::dict::{builtin_instance, key_hash, native_eq, NeedsEq};
use crate::vm::error::{ExcKind, PyErr, PyResult};
use crate::vm::interp::Vm;
use crate::vm::types::{types, Types};
use crate::vm::value::{Class, Kwargs, PySet, Value};

const MIN_SIZE: usize = 8;
const LINEAR_PROBES: usize = 9;
const PERTURB_SHIFT: u32 = 5;

/// A table slot: unused (`Null`, hash 0), dummy (`Null`, hash -1) or active.
#[derive(Clone)]
struct Slot {
    hash: i64,
    key: Value,
}

impl Slot {
    const UNUSED: Slot = Slot {
        hash: 0,
        key: Value::Null,
    };
    const DUMMY: Slot = Slot {
        hash: -1,
        key: Value::Null,
    };

    fn is_active(&self) -> bool {
        !self.key.is_null()
    }
}

pub struct SetTable {
    slots: Vec<Slot>,
    /// Active + dummy slots.
    fill: usize,
    /// Active slots.
    used: usize,
    /// Where `pop` starts looking.
    finger: usize,
    /// Cached frozenset hash, -1 when not computed.
    hash: i64,
    /// Bumped on every change, so a lookup paused for a user `__eq__` knows
    /// whether it may resume.
    version: u64,
}

impl Default for SetTable {
    fn default() -> Self {
        SetTable {
            slots: vec![Slot::UNUSED; MIN_SIZE],
            fill: 0,
            used: 0,
            finger: 0,
            hash: -1,
            version: 0,
        }
    }
}

/// A lookup's position: the run starting at `i`, offset `j` of `probes`.
#[derive(Clone, Copy)]
struct Probe {
    i: usize,
    j: usize,
    probes: usize,
    perturb: u64,
    freeslot: Option<usize>,
    version: u64,
}

enum Step {
    Found(usize),
    /// Not present: the first unused slot and the last dummy seen.
    Missing(usize, Option<usize>),
    Ask {
        slot: usize,
        stored: Value,
        next: Probe,
    },
}

impl SetTable {
    pub fn new() -> SetTable {
        SetTable::default()
    }

    pub fn len(&self) -> usize {
        self.used
    }

    pub fn is_empty(&self) -> bool {
        self.used == 0
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// Slots in the table (CPython's `mask + 1`), for `sys.getsizeof`.
    pub fn table_size(&self) -> usize {
        self.slots.len()
    }

    /// Active keys in table order (iteration order).
    pub fn keys(&self) -> Vec<Value> {
        self.slots
            .iter()
            .filter(|s| s.is_active())
            .map(|s| s.key.clone())
            .collect()
    }

    /// Active `(hash, key)` pairs in table order.
    pub fn entries(&self) -> Vec<(i64, Value)> {
        self.slots
            .iter()
            .filter(|s| s.is_active())
            .map(|s| (s.hash, s.key.clone()))
            .collect()
    }

    /// `set_next`: the first active slot at or after `pos`, and the position after it.
    pub fn next_from(&self, pos: usize) -> Option<(usize, &Value)> {
        let mut i = pos;
        while i < self.slots.len() {
            if self.slots[i].is_active() {
                return Some((i + 1, &self.slots[i].key));
            }
            i += 1;
        }
        None
    }

    fn start(&self, hash: i64) -> Probe {
        let mask = self.mask();
        let i = (hash as u64 as usize) & mask;
        Probe {
            i,
            j: 0,
            probes: if i + LINEAR_PROBES <= mask {
                LINEAR_PROBES
            } else {
                0
            },
            perturb: hash as u64,
            freeslot: None,
            version: self.version,
        }
    }

    fn advance(&self, p: &mut Probe) {
        if p.j < p.probes {
            p.j += 1;
            return;
        }
        let mask = self.mask();
        p.perturb >>= PERTURB_SHIFT;
        p.i = (p.i.wrapping_mul(5))
            .wrapping_add(1)
            .wrapping_add(p.perturb as usize)
            & mask;
        p.j = 0;
        p.probes = if p.i + LINEAR_PROBES <= mask {
            LINEAR_PROBES
        } else {
            0
        };
    }

    /// `set_lookkey` / the search part of `set_add_entry`, native equality only.
    fn step(&self, hash: i64, key: &Value, mut p: Probe) -> Step {
        loop {
            let idx = p.i + p.j;
            let e = &self.slots[idx];
            if e.key.is_null() {
                if e.hash == 0 {
                    return Step::Missing(idx, p.freeslot);
                }
                // A dummy: remember the last one (CPython's `freeslot = entry`).
                p.freeslot = Some(idx);
            } else if e.hash == hash {
                if e.key.is(key) {
                    return Step::Found(idx);
                }
                match native_eq(&e.key, key) {
                    Some(true) => return Step::Found(idx),
                    Some(false) => {}
                    None => {
                        let stored = e.key.clone();
                        self.advance(&mut p);
                        return Step::Ask {
                            slot: idx,
                            stored,
                            next: p,
                        };
                    }
                }
            }
            self.advance(&mut p);
        }
    }

    /// Membership with native equality only; `Err(NeedsEq)` if a user `__eq__` is needed.
    pub fn contains_native(&self, hash: i64, key: &Value) -> Result<bool, NeedsEq> {
        match self.step(hash, key, self.start(hash)) {
            Step::Found(_) => Ok(true),
            Step::Missing(..) => Ok(false),
            Step::Ask { .. } => Err(NeedsEq),
        }
    }

    /// Add with native equality only; `Err` hands the key back when a user
    /// `__eq__` is needed.
    pub fn add_native(&mut self, hash: i64, key: Value) -> Result<(), Value> {
        match self.step(hash, &key, self.start(hash)) {
            Step::Found(_) => Ok(()),
            Step::Missing(empty, free) => {
                self.fill_slot(empty, free, hash, key);
                Ok(())
            }
            Step::Ask { .. } => Err(key),
        }
    }

    /// Discard with native equality only.
    pub fn discard_native(&mut self, hash: i64, key: &Value) -> Result<bool, NeedsEq> {
        match self.step(hash, key, self.start(hash)) {
            Step::Found(slot) => {
                self.discard_slot(slot);
                Ok(true)
            }
            Step::Missing(..) => Ok(false),
            Step::Ask { .. } => Err(NeedsEq),
        }
    }

    /// The end of `set_add_entry`: `found_unused_or_dummy`.
    fn fill_slot(&mut self, empty: usize, freeslot: Option<usize>, hash: i64, key: Value) {
        self.version += 1;
        self.hash = -1;
        if let Some(f) = freeslot {
            self.used += 1;
            self.slots[f] = Slot { hash, key };
            return;
        }
        self.fill += 1;
        self.used += 1;
        self.slots[empty] = Slot { hash, key };
        if self.fill * 5 < self.mask() * 3 {
            return;
        }
        let used = self.used;
        self.resize(if used > 50000 { used * 2 } else { used * 4 });
    }

    fn discard_slot(&mut self, slot: usize) -> Value {
        let old = std::mem::replace(&mut self.slots[slot], Slot::DUMMY);
        self.used -= 1;
        self.version += 1;
        self.hash = -1;
        old.key
    }

    /// `set_insert_clean`: place a key known to be absent into a table without dummies.
    fn insert_clean(slots: &mut [Slot], hash: i64, key: Value) {
        let mask = slots.len() - 1;
        let mut perturb = hash as u64;
        let mut i = (hash as u64 as usize) & mask;
        loop {
            if slots[i].key.is_null() {
                slots[i] = Slot { hash, key };
                return;
            }
            if i + LINEAR_PROBES <= mask {
                for j in 1..=LINEAR_PROBES {
                    if slots[i + j].key.is_null() {
                        slots[i + j] = Slot { hash, key };
                        return;
                    }
                }
            }
            perturb >>= PERTURB_SHIFT;
            i = (i.wrapping_mul(5))
                .wrapping_add(1)
                .wrapping_add(perturb as usize)
                & mask;
        }
    }

    /// `set_table_resize`.
    fn resize(&mut self, minused: usize) {
        let mut newsize = MIN_SIZE;
        while newsize <= minused {
            newsize <<= 1;
        }
        if newsize == MIN_SIZE && self.slots.len() == MIN_SIZE && self.fill == self.used {
            return;
        }
        let old = std::mem::replace(&mut self.slots, vec![Slot::UNUSED; newsize]);
        self.fill = self.used;
        for s in old {
            if s.is_active() {
                Self::insert_clean(&mut self.slots, s.hash, s.key);
            }
        }
        self.version += 1;
    }

    /// `set_clear_internal`: back to an empty table of 8.
    pub fn clear(&mut self) -> SetTable {
        let version = self.version + 1;
        let old = std::mem::take(self);
        self.version = version;
        old
    }

    /// Replace the whole table (`set_swap_bodies`), keeping the version monotonic.
    fn replace_with(&mut self, mut new: SetTable) -> SetTable {
        new.version = self.version.max(new.version) + 1;
        new.hash = -1;
        std::mem::replace(self, new)
    }

    /// `set_pop`.
    pub fn pop(&mut self) -> Option<Value> {
        if self.used == 0 {
            return None;
        }
        let mask = self.mask();
        let mut i = self.finger & mask;
        while !self.slots[i].is_active() {
            i += 1;
            if i > mask {
                i = 0;
            }
        }
        let key = self.discard_slot(i);
        self.finger = i + 1;
        Some(key)
    }

    /// The first two cases of `set_merge` (an empty target); `false` when the
    /// caller has to add the entries one by one.
    fn merge_into_empty(&mut self, other: &SetTable) -> bool {
        if self.fill != 0 {
            return false;
        }
        if self.slots.len() == other.slots.len() && other.fill == other.used {
            self.slots = other.slots.clone();
            self.fill = other.fill;
            self.used = other.used;
        } else {
            for s in other.slots.iter().filter(|s| s.is_active()) {
                Self::insert_clean(&mut self.slots, s.hash, s.key.clone());
            }
            self.fill = other.used;
            self.used = other.used;
        }
        self.version += 1;
        self.hash = -1;
        true
    }

    /// The pre-sizing step of `set_merge` / `set_update_internal` for dicts.
    fn presize(&mut self, incoming: usize) {
        if (self.fill + incoming) * 5 >= self.mask() * 3 {
            self.resize((self.used + incoming) * 2);
        }
    }

    /// CPython's `frozenset_hash`.
    pub fn frozen_hash(&mut self) -> i64 {
        if self.hash != -1 {
            return self.hash;
        }
        fn shuffle(h: u64) -> u64 {
            ((h ^ 89869747) ^ (h << 16)).wrapping_mul(3644798167)
        }
        let mut hash: u64 = 0;
        for s in &self.slots {
            hash ^= shuffle(s.hash as u64);
        }
        if (self.slots.len() - self.fill) & 1 == 1 {
            hash ^= shuffle(0);
        }
        if (self.fill - self.used) & 1 == 1 {
            hash ^= shuffle(-1i64 as u64);
        }
        hash ^= (self.used as u64 + 1).wrapping_mul(1927868237);
        hash ^= (hash >> 11) ^ (hash >> 25);
        hash = hash.wrapping_mul(69069).wrapping_add(907133923);
        let mut h = hash as i64;
        if h == -1 {
            h = 590923713;
        }
        self.hash = h;
        h
    }
}

impl PySet {
    pub fn new() -> PySet {
        PySet {
            table: Mutex::new(SetTable::new()),
        }
    }

    pub fn from_table(t: SetTable) -> PySet {
        PySet {
            table: Mutex::new(t),
        }
    }

    pub fn len(&self) -> usize {
        self.table.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements in iteration order (for repr and sorting).
    pub fn items(&self) -> Vec<Value> {
        self.table.lock().keys()
    }
}

impl Default for PySet {
    fn default() -> Self {
        PySet::new()
    }
}

/// CPython's frozenset hash (G1's `Vm::hash` calls this).
pub fn frozenset_hash(s: &PySet) -> i64 {
    s.table.lock().frozen_hash()
}

/// Set equality when it needs no user `__eq__` (dict keys that are frozensets).
pub fn native_set_eq(a: &PySet, b: &PySet) -> Option<bool> {
    if std::ptr::eq(a, b) {
        return Some(true);
    }
    // Nested frozensets recurse through the element comparisons: bound the
    // depth and leave deeper nesting to `Vm::eq`.
    thread_local!(static DEPTH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) });
    let depth = DEPTH.with(|d| d.get());
    if depth > 50 {
        return None;
    }
    DEPTH.with(|d| d.set(depth + 1));
    let r = native_set_eq_inner(a, b);
    DEPTH.with(|d| d.set(depth));
    r
}

fn native_set_eq_inner(a: &PySet, b: &PySet) -> Option<bool> {
    // Never hold both locks: snapshot one side.
    let (entries, ha) = {
        let t = a.table.lock();
        (t.entries(), t.hash)
    };
    let t = b.table.lock();
    if entries.len() != t.len() || (ha != -1 && t.hash != -1 && ha != t.hash) {
        return Some(false);
    }
    for (h, k) in &entries {
        match t.contains_native(*h, k) {
            Ok(true) => {}
            Ok(false) => return Some(false),
            Err(NeedsEq) => return None,
        }
    }
    Some(true)
}

// ---- operations through the VM (user `__eq__` outside the lock) ----

enum Outcome {
    Found(usize),
    Missing(usize, Option<usize>),
}

impl Vm {
    fn set_lookup<R>(
        &mut self,
        s: &PySet,
        hash: i64,
        key: &Value,
        f: impl FnOnce(&mut SetTable, Outcome) -> R,
    ) -> PyResult<R> {
        let mut resume: Option<Probe> = None;
        loop {
            let (slot, stored, next) = {
                let mut t = s.table.lock();
                let p = match resume {
                    Some(p) if p.version == t.version => p,
                    _ => t.start(hash),
                };
                match t.step(hash, key, p) {
                    Step::Found(i) => return Ok(f(&mut t, Outcome::Found(i))),
                    Step::Missing(e, fr) => return Ok(f(&mut t, Outcome::Missing(e, fr))),
                    Step::Ask { slot, stored, next } => (slot, stored, next),
                }
            };
            let equal = self.eq(&stored, key)?;
            let mut t = s.table.lock();
            if t.version != next.version {
                resume = None;
                continue;
            }
            if equal {
                return Ok(f(&mut t, Outcome::Found(slot)));
            }
            resume = Some(next);
        }
    }

    /// Hash a set element (CPython maps a `-1` hash to `-2`).
    fn set_key_hash(&mut self, key: &Value) -> PyResult<i64> {
        let h = key_hash(self, key)?;
        Ok(if h == -1 { -2 } else { h })
    }

    pub fn set_add_entry(&mut self, s: &PySet, key: Value, hash: i64) -> PyResult<()> {
        let probe_key = key.clone();
        self.set_lookup(s, hash, &probe_key, move |t, o| {
            if let Outcome::Missing(empty, free) = o {
                t.fill_slot(empty, free, hash, key);
            }
        })
    }

    /// `s.add(key)`.
    pub fn set_add(&mut self, s: &PySet, key: Value) -> PyResult<()> {
        let hash = self.set_key_hash(&key)?;
        self.set_add_entry(s, key, hash)
    }

    pub fn set_contains_entry(&mut self, s: &PySet, key: &Value, hash: i64) -> PyResult<bool> {
        self.set_lookup(s, hash, key, |_, o| matches!(o, Outcome::Found(_)))
    }

    /// Returns whether the key was present.
    pub fn set_discard_entry(&mut self, s: &PySet, key: &Value, hash: i64) -> PyResult<bool> {
        let removed = self.set_lookup(s, hash, key, |t, o| match o {
            Outcome::Found(i) => Some(t.discard_slot(i)),
            Outcome::Missing(..) => None,
        })?;
        Ok(removed.is_some())
    }

    /// `key in s`, retrying an unhashable set key as a frozenset (CPython's rule).
    pub fn set_contains(&mut self, s: &PySet, key: &Value) -> PyResult<bool> {
        match self.set_key_hash(key) {
            Ok(h) => self.set_contains_entry(s, key, h),
            Err(e) => match as_mutable_set(key) {
                Some(inner) if e.matches(ExcKind::TypeError) => {
                    let f = Value::FrozenSet(Arc::new(copy_set(&inner)));
                    let h = self.set_key_hash(&f)?;
                    self.set_contains_entry(s, &f, h)
                }
                _ => Err(e),
            },
        }
    }

    /// `s.discard(key)` with the same frozenset retry; returns whether it was present.
    pub fn set_discard(&mut self, s: &PySet, key: &Value) -> PyResult<bool> {
        match self.set_key_hash(key) {
            Ok(h) => self.set_discard_entry(s, key, h),
            Err(e) => match as_mutable_set(key) {
                Some(inner) if e.matches(ExcKind::TypeError) => {
                    let f = Value::FrozenSet(Arc::new(copy_set(&inner)));
                    let h = self.set_key_hash(&f)?;
                    self.set_discard_entry(s, &f, h)
                }
                _ => Err(e),
            },
        }
    }

    /// `set_update_internal`: add every element of `other` to `s`.
    pub fn set_update(&mut self, s: &PySet, other: &Value) -> PyResult<()> {
        if let Some((o, _)) = as_any_set(other) {
            return self.set_merge(s, &o);
        }
        if let Value::Dict(d) = other {
            let items: Vec<(i64, Value)> = d
                .map
                .lock()
                .live()
                .map(|e| (e.key.hash, e.key.key.clone()))
                .collect();
            s.table.lock().presize(items.len());
            for (h, k) in items {
                self.set_add_entry(s, k, h)?;
            }
            return Ok(());
        }
        let it = self.iter(other)?;
        while let Some(k) = self.next(&it)? {
            self.set_add(s, k)?;
        }
        Ok(())
    }

    /// `set_merge`.
    fn set_merge(&mut self, s: &PySet, other: &PySet) -> PyResult<()> {
        if std::ptr::eq(s, other) {
            return Ok(());
        }
        let snapshot = {
            let o = other.table.lock();
            if o.used == 0 {
                return Ok(());
            }
            SetTable {
                slots: o.slots.clone(),
                fill: o.fill,
                used: o.used,
                finger: 0,
                hash: -1,
                version: 0,
            }
        };
        {
            let mut t = s.table.lock();
            t.presize(snapshot.used);
            if t.merge_into_empty(&snapshot) {
                return Ok(());
            }
        }
        for (h, k) in snapshot.entries() {
            self.set_add_entry(s, k, h)?;
        }
        Ok(())
    }
}

/// A new set with the same table (`set_copy` / `make_new_set(type, so)`).
fn copy_set(s: &PySet) -> PySet {
    let snapshot = s.table.lock();
    let mut t = SetTable::new();
    if snapshot.used > 0 {
        t.presize(snapshot.used);
        t.merge_into_empty(&snapshot);
    }
    PySet::from_table(t)
}

/// The set behind a set/frozenset (or subclass instance), and whether it is frozen.
pub fn as_any_set(v: &Value) -> Option<(Arc<PySet>, bool)> {
    match v {
        Value::Set(s) => Some((s.clone(), false)),
        Value::FrozenSet(s) => Some((s.clone(), true)),
        Value::Instance(_) => match base_value(v) {
            Value::Set(s) => Some((s, false)),
            Value::FrozenSet(s) => Some((s, true)),
            _ => None,
        },
        _ => None,
    }
}

fn as_mutable_set(v: &Value) -> Option<Arc<PySet>> {
    match as_any_set(v) {
        Some((s, false)) => Some(s),
        _ => None,
    }
}

fn wrap(s: PySet, frozen: bool) -> Value {
    if frozen {
        Value::FrozenSet(Arc::new(s))
    } else {
        Value::Set(Arc::new(s))
    }
}

/// `set(iterable)`.
pub fn new_set_from(vm: &mut Vm, iterable: &Value) -> PyResult<Arc<PySet>> {
    let s = Arc::new(PySet::new());
    vm.set_update(&s, iterable)?;
    Ok(s)
}

/// `set_intersection(so, other)` into a new set.
fn intersection(vm: &mut Vm, so: &Arc<PySet>, other: &Value) -> PyResult<PySet> {
    let result = PySet::new();
    if let Some((o, _)) = as_any_set(other) {
        if Arc::ptr_eq(so, &o) {
            return Ok(copy_set(so));
        }
        let (mut big, mut small) = (so.clone(), o);
        if small.len() > big.len() {
            std::mem::swap(&mut big, &mut small);
        }
        let entries = small.table.lock().entries();
        for (h, k) in entries {
            if vm.set_contains_entry(&big, &k, h)? {
                vm.set_add_entry(&result, k, h)?;
            }
        }
        return Ok(result);
    }
    let it = vm.iter(other)?;
    while let Some(k) = vm.next(&it)? {
        let h = vm.set_key_hash(&k)?;
        if vm.set_contains_entry(so, &k, h)? {
            vm.set_add_entry(&result, k, h)?;
        }
    }
    Ok(result)
}

/// `set_difference_update_internal`.
fn difference_update(vm: &mut Vm, so: &Arc<PySet>, other: &Value) -> PyResult<()> {
    if let Some((o, _)) = as_any_set(other) {
        if Arc::ptr_eq(so, &o) {
            let old = so.table.lock().clear();
            drop(old);
            return Ok(());
        }
        let entries = if (o.len() >> 3) > so.len() {
            intersection(vm, so, other)?.table.lock().entries()
        } else {
            o.table.lock().entries()
        };
        for (h, k) in entries {
            vm.set_discard_entry(so, &k, h)?;
        }
    } else {
        let it = vm.iter(other)?;
        while let Some(k) = vm.next(&it)? {
            vm.set_discard(so, &k)?;
        }
    }
    let mut t = so.table.lock();
    if t.fill - t.used > t.mask() / 4 {
        let used = t.used;
        t.resize(if used > 50000 { used * 2 } else { used * 4 });
    }
    Ok(())
}

/// `set_difference`.
fn difference(vm: &mut Vm, so: &Arc<PySet>, other: &Value) -> PyResult<PySet> {
    let other_size = if let Some((o, _)) = as_any_set(other) {
        o.len()
    } else if let Value::Dict(d) = other {
        d.len()
    } else {
        let r = Arc::new(copy_set(so));
        difference_update(vm, &r, other)?;
        return Ok(unwrap_arc(r));
    };
    if (so.len() >> 2) > other_size {
        let r = Arc::new(copy_set(so));
        difference_update(vm, &r, other)?;
        return Ok(unwrap_arc(r));
    }
    let result = PySet::new();
    let entries = so.table.lock().entries();
    if let Value::Dict(d) = other {
        for (h, k) in entries {
            if vm.dict_get_hashed(d, &k, h)?.is_none() {
                vm.set_add_entry(&result, k, h)?;
            }
        }
        return Ok(result);
    }
    let (o, _) = as_any_set(other).expect("checked above");
    for (h, k) in entries {
        if !vm.set_contains_entry(&o, &k, h)? {
            vm.set_add_entry(&result, k, h)?;
        }
    }
    Ok(result)
}

fn unwrap_arc(s: Arc<PySet>) -> PySet {
    Arc::try_unwrap(s).unwrap_or_else(|s| copy_set(&s))
}

/// `set_symmetric_difference_update`.
fn symmetric_difference_update(vm: &mut Vm, so: &Arc<PySet>, other: &Value) -> PyResult<()> {
    let entries = if let Some((o, _)) = as_any_set(other) {
        if Arc::ptr_eq(so, &o) {
            let old = so.table.lock().clear();
            drop(old);
            return Ok(());
        }
        o.table.lock().entries()
    } else if let Value::Dict(d) = other {
        d.map
            .lock()
            .live()
            .map(|e| (e.key.hash, e.key.key.clone()))
            .collect()
    } else {
        new_set_from(vm, other)?.table.lock().entries()
    };
    for (h, k) in entries {
        if !vm.set_discard_entry(so, &k, h)? {
            vm.set_add_entry(so, k, h)?;
        }
    }
    Ok(())
}

/// `set_symmetric_difference`: a new set from `other`, updated with `so`.
fn symmetric_difference(vm: &mut Vm, so: &Arc<PySet>, other: &Value) -> PyResult<PySet> {
    let result = new_set_from(vm, other)?;
    symmetric_difference_update(vm, &result, &Value::Set(so.clone()))?;
    Ok(unwrap_arc(result))
}

/// `set_issubset`.
fn issubset(vm: &mut Vm, so: &Arc<PySet>, other: &Value) -> PyResult<bool> {
    let Some((o, _)) = as_any_set(other) else {
        let tmp = intersection(vm, so, other)?;
        return Ok(tmp.len() == so.len());
    };
    if so.len() > o.len() {
        return Ok(false);
    }
    let entries = so.table.lock().entries();
    for (h, k) in entries {
        if !vm.set_contains_entry(&o, &k, h)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `set_issuperset`.
fn issuperset(vm: &mut Vm, so: &Arc<PySet>, other: &Value) -> PyResult<bool> {
    if let Some((o, _)) = as_any_set(other) {
        return issubset(vm, &o, &Value::Set(so.clone()));
    }
    let it = vm.iter(other)?;
    while let Some(k) = vm.next(&it)? {
        if !vm.set_contains(so, &k)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `set_isdisjoint`.
fn isdisjoint(vm: &mut Vm, so: &Arc<PySet>, other: &Value) -> PyResult<bool> {
    if let Some((o, _)) = as_any_set(other) {
        if Arc::ptr_eq(so, &o) {
            return Ok(so.is_empty());
        }
        let (mut big, mut small) = (so.clone(), o);
        if small.len() > big.len() {
            std::mem::swap(&mut big, &mut small);
        }
        let entries = small.table.lock().entries();
        for (h, k) in entries {
            if vm.set_contains_entry(&big, &k, h)? {
                return Ok(false);
            }
        }
        return Ok(true);
    }
    let it = vm.iter(other)?;
    while let Some(k) = vm.next(&it)? {
        if vm.set_contains(so, &k)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Rich comparison of two sets (`set_richcompare`).
pub fn set_compare(vm: &mut Vm, a: &Arc<PySet>, b: &Arc<PySet>, op: CompareKind) -> PyResult<bool> {
    let bv = Value::Set(b.clone());
    let (la, lb) = (a.len(), b.len());
    Ok(match op {
        CompareKind::Eq | CompareKind::Ne => {
            let ha = a.table.lock().hash;
            let hb = b.table.lock().hash;
            let eq = la == lb && !(ha != -1 && hb != -1 && ha != hb) && issubset(vm, a, &bv)?;
            eq == (op == CompareKind::Eq)
        }
        CompareKind::Le => issubset(vm, a, &bv)?,
        CompareKind::Ge => issuperset(vm, a, &bv)?,
        CompareKind::Lt => la < lb && issubset(vm, a, &bv)?,
        CompareKind::Gt => la > lb && issuperset(vm, a, &bv)?,
    })
}

/// `a op b` for set operands, for `Vm::compare`: `None` = NotImplemented.
pub fn set_richcompare(
    vm: &mut Vm,
    a: &Value,
    b: &Value,
    op: CompareKind,
) -> PyResult<Option<bool>> {
    match (as_any_set(a), as_any_set(b)) {
        (Some((x, _)), Some((y, _))) => {
            // Nested frozensets compare recursively (CPython's guard too).
            let r = vm.at_level(" in comparison", |vm| set_compare(vm, &x, &y, op))?;
            Ok(Some(r))
        }
        _ => Ok(None),
    }
}

/// `a | b`, `a & b`, `a - b`, `a ^ b` and the in-place forms, for
/// `Vm::binary_op`: `None` = NotImplemented.
pub fn set_binary_op(
    vm: &mut Vm,
    a: &Value,
    b: &Value,
    op: BinaryOpKind,
) -> PyResult<Option<Value>> {
    let (Some((x, frozen)), Some(_)) = (as_any_set(a), as_any_set(b)) else {
        return Ok(None);
    };
    if op.is_inplace() && !frozen {
        match op.base() {
            BinaryOpKind::Or => vm.set_update(&x, b)?,
            BinaryOpKind::And => set_intersection_update_value(vm, &x, b)?,
            BinaryOpKind::Sub => difference_update(vm, &x, b)?,
            BinaryOpKind::Xor => symmetric_difference_update(vm, &x, b)?,
            _ => return Ok(None),
        }
        return Ok(Some(a.clone()));
    }
    let r = match op.base() {
        BinaryOpKind::Or => {
            let r = copy_set(&x);
            if !matches!(as_any_set(b), Some((y, _)) if Arc::ptr_eq(&x, &y)) {
                vm.set_update(&r, b)?;
            }
            r
        }
        BinaryOpKind::And => intersection(vm, &x, b)?,
        BinaryOpKind::Sub => difference(vm, &x, b)?,
        BinaryOpKind::Xor => symmetric_difference(vm, &x, b)?,
        _ => return Ok(None),
    };
    Ok(Some(wrap(r, frozen)))
}

// Helpers used by dict views.

pub fn set_update_value(vm: &mut Vm, s: &Arc<PySet>, other: &Value) -> PyResult<()> {
    vm.set_update(s, other)
}

pub fn set_intersection_update_value(vm: &mut Vm, s: &Arc<PySet>, other: &Value) -> PyResult<()> {
    let r = intersection(vm, s, other)?;
    let new = r.table.into_inner();
    let old = s.table.lock().replace_with(new);
    drop(old);
    Ok(())
}

pub fn set_difference_update_value(vm: &mut Vm, s: &Arc<PySet>, other: &Value) -> PyResult<()> {
    difference_update(vm, s, other)
}

pub fn set_symmetric_difference_update_value(
    vm: &mut Vm,
    s: &Arc<PySet>,
    other: &Value,
) -> PyResult<()> {
    symmetric_difference_update(vm, s, other)
}

// ---- the set and frozenset types' methods ----

fn this(args: &[Value], name: &str) -> PyResult<(Arc<PySet>, bool)> {
    match args.first() {
        Some(v) => as_any_set(v).ok_or_else(|| {
            PyErr::type_error(format!(
                "descriptor '{name}' for 'set' objects doesn't apply to a '{}' object",
                type_name(v)
            ))
        }),
        None => Err(PyErr::type_error(format!(
            "descriptor '{name}' of 'set' object needs an argument"
        ))),
    }
}

fn this_mut(args: &[Value], name: &str) -> PyResult<Arc<PySet>> {
    match this(args, name)? {
        (s, false) => Ok(s),
        (_, true) => Err(PyErr::type_error(format!(
            "descriptor '{name}' for 'set' objects doesn't apply to a 'frozenset' object"
        ))),
    }
}

fn is_class(v: &Value, c: &Arc<Class>) -> bool {
    matches!(v, Value::Class(x) if Arc::ptr_eq(x, c))
}

fn set_new(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let s = Value::Set(Arc::new(PySet::new()));
    match args.first() {
        Some(Value::Class(cls)) if !Arc::ptr_eq(cls, &types().set) => Ok(builtin_instance(cls, s)),
        _ => Ok(s),
    }
}

fn set_init(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let s = this_mut(args, "__init__")?;
    no_kwargs("set", kw)?;
    arity("set", &args[1..], 0, 1)?;
    let old = {
        let mut t = s.table.lock();
        (t.fill > 0).then(|| t.clear())
    };
    drop(old);
    if let Some(it) = args.get(1) {
        vm.set_update(&s, it)?;
    }
    Ok(Value::None)
}

fn frozenset_new(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let cls = args.first().cloned().unwrap_or(Value::None);
    let exact = is_class(&cls, &types().frozenset);
    if exact {
        no_kwargs("frozenset", kw)?;
    }
    let rest = args.get(1..).unwrap_or(&[]);
    arity("frozenset", rest, 0, 1)?;
    if exact {
        if let Some(v @ Value::FrozenSet(_)) = rest.first() {
            return Ok(v.clone());
        }
    }
    let s = match rest.first() {
        Some(it) => new_set_from(vm, it)?,
        None => Arc::new(PySet::new()),
    };
    let v = Value::FrozenSet(s);
    match &cls {
        Value::Class(c) if !exact => Ok(builtin_instance(c, v)),
        _ => Ok(v),
    }
}

fn noop_init(_vm: &mut Vm, _args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::None)
}

fn s_len(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (s, _) = this(args, "__len__")?;
    Ok(Value::Int(s.len() as i64))
}

fn s_contains(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (s, _) = this(args, "__contains__")?;
    one_arg("set.__contains__", &args[1..])?;
    Ok(Value::Bool(vm.set_contains(&s, &args[1])?))
}

fn s_iter(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (s, _) = this(args, "__iter__")?;
    Ok(crate::vm::iter::set_iterator(s))
}

fn s_add(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let s = this_mut(args, "add")?;
    no_kwargs("set.add", kw)?;
    one_arg("set.add", &args[1..])?;
    vm.set_add(&s, args[1].clone())?;
    Ok(Value::None)
}

fn s_remove(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let s = this_mut(args, "remove")?;
    one_arg("set.remove", &args[1..])?;
    if vm.set_discard(&s, &args[1])? {
        Ok(Value::None)
    } else {
        Err(PyErr::key_error(args[1].clone()))
    }
}

fn s_discard(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let s = this_mut(args, "discard")?;
    one_arg("set.discard", &args[1..])?;
    vm.set_discard(&s, &args[1])?;
    Ok(Value::None)
}

fn s_pop(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let s = this_mut(args, "pop")?;
    no_args("set.pop", &args[1..])?;
    let v = s.table.lock().pop();
    v.ok_or_else(|| PyErr::key_error(Value::str("pop from an empty set")))
}

fn s_clear(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let s = this_mut(args, "clear")?;
    no_args("set.clear", &args[1..])?;
    let old = s.table.lock().clear();
    drop(old);
    Ok(Value::None)
}

fn s_copy(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (s, frozen) = this(args, "copy")?;
    no_args("set.copy", &args[1..])?;
    if frozen && matches!(args[0], Value::FrozenSet(_)) {
        return Ok(args[0].clone());
    }
    Ok(wrap(copy_set(&s), frozen))
}

fn s_update(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let s = this_mut(args, "update")?;
    no_kwargs("set.update", kw)?;
    for o in &args[1..] {
        vm.set_update(&s, o)?;
    }
    Ok(Value::None)
}

fn s_union(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let (s, frozen) = this(args, "union")?;
    no_kwargs("set.union", kw)?;
    let r = copy_set(&s);
    for o in &args[1..] {
        if matches!(as_any_set(o), Some((x, _)) if Arc::ptr_eq(&x, &s)) {
            continue;
        }
        vm.set_update(&r, o)?;
    }
    Ok(wrap(r, frozen))
}

fn intersection_multi(vm: &mut Vm, s: &Arc<PySet>, others: &[Value]) -> PyResult<PySet> {
    if others.is_empty() {
        return Ok(copy_set(s));
    }
    let mut result = s.clone();
    for o in others {
        result = Arc::new(intersection(vm, &result, o)?);
    }
    Ok(unwrap_arc(result))
}

fn s_intersection(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let (s, frozen) = this(args, "intersection")?;
    no_kwargs("set.intersection", kw)?;
    Ok(wrap(intersection_multi(vm, &s, &args[1..])?, frozen))
}

fn s_intersection_update(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let s = this_mut(args, "intersection_update")?;
    no_kwargs("set.intersection_update", kw)?;
    let r = intersection_multi(vm, &s, &args[1..])?;
    let old = s.table.lock().replace_with(r.table.into_inner());
    drop(old);
    Ok(Value::None)
}

fn s_difference(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let (s, frozen) = this(args, "difference")?;
    no_kwargs("set.difference", kw)?;
    let Some(first) = args.get(1) else {
        return Ok(wrap(copy_set(&s), frozen));
    };
    let r = Arc::new(difference(vm, &s, first)?);
    for o in &args[2..] {
        difference_update(vm, &r, o)?;
    }
    Ok(wrap(unwrap_arc(r), frozen))
}

fn s_difference_update(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let s = this_mut(args, "difference_update")?;
    no_kwargs("set.difference_update", kw)?;
    for o in &args[1..] {
        difference_update(vm, &s, o)?;
    }
    Ok(Value::None)
}

fn s_symmetric_difference(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (s, frozen) = this(args, "symmetric_difference")?;
    one_arg("set.symmetric_difference", &args[1..])?;
    Ok(wrap(symmetric_difference(vm, &s, &args[1])?, frozen))
}

fn s_symmetric_difference_update(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let s = this_mut(args, "symmetric_difference_update")?;
    one_arg("set.symmetric_difference_update", &args[1..])?;
    symmetric_difference_update(vm, &s, &args[1])?;
    Ok(Value::None)
}

fn s_issubset(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (s, _) = this(args, "issubset")?;
    one_arg("set.issubset", &args[1..])?;
    Ok(Value::Bool(issubset(vm, &s, &args[1])?))
}

fn s_issuperset(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (s, _) = this(args, "issuperset")?;
    one_arg("set.issuperset", &args[1..])?;
    Ok(Value::Bool(issuperset(vm, &s, &args[1])?))
}

fn s_isdisjoint(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (s, _) = this(args, "isdisjoint")?;
    one_arg("set.isdisjoint", &args[1..])?;
    Ok(Value::Bool(isdisjoint(vm, &s, &args[1])?))
}

fn binop(vm: &mut Vm, args: &[Value], op: BinaryOpKind, reflected: bool) -> PyResult<Value> {
    one_arg("set operator", args.get(1..).unwrap_or(&[]))?;
    let (a, b) = if reflected {
        (&args[1], &args[0])
    } else {
        (&args[0], &args[1])
    };
    Ok(set_binary_op(vm, a, b, op)?.unwrap_or_else(|| types().not_implemented.clone()))
}

macro_rules! binops {
    ($($name:ident => $op:expr, $refl:expr;)*) => {
        $(fn $name(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
            binop(vm, args, $op, $refl)
        })*
    };
}

binops! {
    s_or => BinaryOpKind::Or, false;
    s_and => BinaryOpKind::And, false;
    s_sub => BinaryOpKind::Sub, false;
    s_xor => BinaryOpKind::Xor, false;
    s_ror => BinaryOpKind::Or, true;
    s_rand => BinaryOpKind::And, true;
    s_rsub => BinaryOpKind::Sub, true;
    s_rxor => BinaryOpKind::Xor, true;
    s_ior => BinaryOpKind::InplaceOr, false;
    s_iand => BinaryOpKind::InplaceAnd, false;
    s_isub => BinaryOpKind::InplaceSub, false;
    s_ixor => BinaryOpKind::InplaceXor, false;
}

fn cmp(vm: &mut Vm, args: &[Value], op: CompareKind) -> PyResult<Value> {
    one_arg("set comparison", args.get(1..).unwrap_or(&[]))?;
    Ok(match set_richcompare(vm, &args[0], &args[1], op)? {
        Some(b) => Value::Bool(b),
        None => types().not_implemented.clone(),
    })
}

macro_rules! cmps {
    ($($name:ident => $op:expr;)*) => {
        $(fn $name(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
            cmp(vm, args, $op)
        })*
    };
}

cmps! {
    s_eq => CompareKind::Eq;
    s_ne => CompareKind::Ne;
    s_lt => CompareKind::Lt;
    s_le => CompareKind::Le;
    s_gt => CompareKind::Gt;
    s_ge => CompareKind::Ge;
}

fn fs_hash(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (s, _) = this(args, "__hash__")?;
    Ok(Value::Int(frozenset_hash(&s)))
}

fn s_repr(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (s, frozen) = this(args, "__repr__")?;
    let base = if frozen {
        Value::FrozenSet(s)
    } else {
        Value::Set(s.clone())
    };
    let r = vm.repr(&base)?;
    match &args[0] {
        Value::Instance(inst) => {
            // `S({1, 2})`, `S()`: the subclass name around the elements.
            let items = base_value(&args[0]);
            let inner = match as_any_set(&items) {
                Some((s, _)) if s.is_empty() => String::new(),
                _ => {
                    let start = r.find('{').unwrap_or(0);
                    let end = r.rfind('}').map(|e| e + 1).unwrap_or(r.len());
                    r[start..end].to_string()
                }
            };
            Ok(Value::from_string(format!("{}({inner})", inst.class.name)))
        }
        _ => Ok(Value::from_string(r)),
    }
}

pub fn install(t: &Types) {
    for (c, frozen) in [(&t.set, false), (&t.frozenset, true)] {
        method(c, "__len__", s_len);
        method(c, "__contains__", s_contains);
        method(c, "__iter__", s_iter);
        method(c, "__repr__", s_repr);
        method(c, "copy", s_copy);
        method(c, "union", s_union);
        method(c, "intersection", s_intersection);
        method(c, "difference", s_difference);
        method(c, "symmetric_difference", s_symmetric_difference);
        method(c, "issubset", s_issubset);
        method(c, "issuperset", s_issuperset);
        method(c, "isdisjoint", s_isdisjoint);
        method(c, "__or__", s_or);
        method(c, "__and__", s_and);
        method(c, "__sub__", s_sub);
        method(c, "__xor__", s_xor);
        method(c, "__ror__", s_ror);
        method(c, "__rand__", s_rand);
        method(c, "__rsub__", s_rsub);
        method(c, "__rxor__", s_rxor);
        method(c, "__eq__", s_eq);
        method(c, "__ne__", s_ne);
        method(c, "__lt__", s_lt);
        method(c, "__le__", s_le);
        method(c, "__gt__", s_gt);
        method(c, "__ge__", s_ge);
        if frozen {
            constructor(c, frozenset_new);
            method_kw(c, "__init__", noop_init);
            method(c, "__hash__", fs_hash);
        } else {
            constructor(c, set_new);
            method_kw(c, "__init__", set_init);
            method(c, "add", s_add);
            method(c, "remove", s_remove);
            method(c, "discard", s_discard);
            method(c, "pop", s_pop);
            method(c, "clear", s_clear);
            method(c, "update", s_update);
            method(c, "intersection_update", s_intersection_update);
            method(c, "difference_update", s_difference_update);
            method(
                c,
                "symmetric_difference_update",
                s_symmetric_difference_update,
            );
            method(c, "__ior__", s_ior);
            method(c, "__iand__", s_iand);
            method(c, "__isub__", s_isub);
            method(c, "__ixor__", s_ixor);
            c.attrs.lock().insert("__hash__".into(), Value::None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vm::dict::int_hash;

    fn table_of(xs: &[i64]) -> SetTable {
        let mut t = SetTable::new();
        for &x in xs {
            t.add_native(int_hash(x), Value::Int(x)).unwrap();
        }
        t
    }

    fn order(t: &SetTable) -> Vec<i64> {
        t.keys()
            .iter()
            .map(|v| match v {
                Value::Int(i) => *i,
                _ => i64::MIN,
            })
            .collect()
    }

    fn vm() -> Vm {
        let interp = crate::vm::interp::Interp::new(Default::default());
        let tid = interp.main_tid;
        Vm::new(interp, tid)
    }

    fn set_of(vm: &mut Vm, xs: impl IntoIterator<Item = i64>) -> Value {
        let s = Arc::new(PySet::new());
        for x in xs {
            vm.set_add(&s, Value::Int(x)).unwrap();
        }
        Value::Set(s)
    }

    fn ints(v: &Value) -> Vec<i64> {
        let (s, _) = as_any_set(v).unwrap();
        let t = s.table.lock();
        order(&t)
    }

    // Orders printed by CPython 3.11 for the same operations.
    #[test]
    fn operation_results_match_cpython_order() {
        let mut vm = vm();
        let a = set_of(&mut vm, (0..100).step_by(7));
        let b = set_of(&mut vm, (0..100).step_by(5));
        let op = |vm: &mut Vm, x: &Value, y: &Value, k| {
            ints(&set_binary_op(vm, x, y, k).unwrap().unwrap())
        };
        assert_eq!(op(&mut vm, &a, &b, BinaryOpKind::And), [0, 35, 70]);
        // A set compared with itself must not take its own lock twice.
        for k in [CompareKind::Le, CompareKind::Ge, CompareKind::Eq] {
            assert_eq!(set_richcompare(&mut vm, &a, &a, k).unwrap(), Some(true));
        }
        assert_eq!(op(&mut vm, &a, &a, BinaryOpKind::And), ints(&a));
        assert_eq!(
            op(&mut vm, &a, &b, BinaryOpKind::Sub),
            [98, 7, 42, 77, 14, 49, 84, 21, 56, 91, 28, 63]
        );
        assert_eq!(
            op(&mut vm, &b, &a, BinaryOpKind::Sub),
            [65, 5, 40, 10, 75, 45, 15, 80, 50, 20, 85, 55, 25, 90, 60, 30, 95]
        );
        assert_eq!(
            op(&mut vm, &a, &b, BinaryOpKind::Xor),
            [
                65, 5, 7, 10, 75, 77, 14, 15, 80, 20, 85, 84, 21, 25, 90, 91, 28, 30, 95, 98, 40,
                42, 45, 49, 50, 55, 56, 60, 63
            ]
        );
        assert_eq!(
            op(&mut vm, &a, &b, BinaryOpKind::Or),
            [
                0, 5, 7, 10, 14, 15, 20, 21, 25, 28, 30, 35, 40, 42, 45, 49, 50, 55, 56, 60, 63,
                65, 70, 75, 77, 80, 84, 85, 90, 91, 95, 98
            ]
        );
        let s = set_of(&mut vm, 0..50);
        let (inner, _) = as_any_set(&s).unwrap();
        for i in (0..50).step_by(3) {
            vm.set_discard(&inner, &Value::Int(i)).unwrap();
        }
        for x in [100, 200, -5, -100] {
            vm.set_add(&inner, Value::Int(x)).unwrap();
        }
        let got = ints(&s);
        assert_eq!(
            &got[got.len() - 6..],
            [46, 47, -100, 49, 200, 100, -5][1..].as_ref()
        );
    }
    // Expected orders below were printed by CPython 3.11.
    #[test]
    fn iteration_order_matches_cpython() {
        assert_eq!(order(&table_of(&[3, 1, 2])), [1, 2, 3]);
        assert_eq!(order(&table_of(&[10, 3, 7])), [10, 3, 7]);
        assert_eq!(order(&table_of(&[100, 5, 37])), [37, 100, 5]);
        assert_eq!(
            order(&table_of(&[5, 13, 21, 29, 37, 45])),
            [37, 5, 13, 45, 21, 29]
        );
        assert_eq!(
            order(&table_of(&[1, 2, 3, 4, 5, 6, 100])),
            [1, 2, 3, 4, 5, 6, 100]
        );
    }

    #[test]
    fn deletion_reuses_the_last_dummy() {
        let mut t = table_of(&[1, 9, 17]);
        t.discard_native(int_hash(1), &Value::Int(1)).unwrap();
        t.discard_native(int_hash(17), &Value::Int(17)).unwrap();
        t.add_native(int_hash(25), Value::Int(25)).unwrap();
        assert_eq!(order(&t), [9, 25]);
    }

    #[test]
    fn negative_and_big_hashes() {
        let t = table_of(&[-1, -5, 1 << 40, 7, -(1 << 62)]);
        assert_eq!(t.len(), 5);
        for x in [-1, -5, 1 << 40, 7, -(1 << 62)] {
            assert_eq!(t.contains_native(int_hash(x), &Value::Int(x)), Ok(true));
        }
        assert_eq!(t.contains_native(int_hash(8), &Value::Int(8)), Ok(false));
    }

    #[test]
    fn pop_walks_the_table_with_a_finger() {
        let mut t = table_of(&[5, 1, 3]);
        let mut popped = vec![];
        while let Some(Value::Int(i)) = t.pop() {
            popped.push(i);
        }
        assert_eq!(popped, [1, 3, 5]);
        assert!(t.pop().is_none());
    }

    #[test]
    fn frozenset_hash_matches_cpython() {
        assert_eq!(SetTable::new().frozen_hash(), 133146708735736);
        assert_eq!(table_of(&[1, 2, 3]).frozen_hash(), -272375401224217160);
        assert_eq!(
            table_of(&[-1, 100, 1 << 62]).frozen_hash(),
            -6126979592750771240
        );
    }

    #[test]
    fn large_tables_grow_and_keep_everything() {
        let xs: Vec<i64> = (0..10000).map(|i| i * 7919 % 100003).collect();
        let mut t = table_of(&xs);
        assert_eq!(t.len(), 10000);
        for x in &xs[..5000] {
            assert_eq!(t.discard_native(int_hash(*x), &Value::Int(*x)), Ok(true));
        }
        assert_eq!(t.len(), 5000);
        for x in &xs[5000..] {
            assert_eq!(t.contains_native(int_hash(*x), &Value::Int(*x)), Ok(true));
        }
    }

    #[test]
    fn concurrent_adds_without_a_vm() {
        let s = Arc::new(PySet::new());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let s = s.clone();
                std::thread::spawn(move || {
                    for i in 0..20000i64 {
                        // Overlapping ranges: every value is added by two threads.
                        let x = (t * 10000 + i) % 50000;
                        s.table
                            .lock()
                            .add_native(int_hash(x), Value::Int(x))
                            .unwrap();
                        if i % 5 == 0 {
                            let y = (x + 1) % 50000;
                            let _ = s.table.lock().contains_native(int_hash(y), &Value::Int(y));
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(s.len(), 50000);
        assert_eq!(s.items().len(), 50000);
    }
}
