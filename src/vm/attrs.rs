//! [`AttrMap`]: the attribute namespace of instances, classes and functions.
//!
//! Most instances have a handful of attributes, set once in `__init__`. An
//! insertion-ordered vector scanned by name serves them with one allocation
//! and no hashing; a hash index is added only once a map grows past
//! [`INDEX_AT`] entries (classes of built-in types, big modules of names).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::vm::value::Value;

/// The [`name_bit`]s of every name ever added to a namespace that is not a
/// class's: a method call checks the instance's namespace for a shadowing
/// attribute (under its lock) only when the method's bit is here. Bits are
/// only ever set, so a clear bit proves no instance has that name. A name
/// added on another thread is seen once that thread's change is ordered
/// before the call (by a lock, a join, a queue), as the namespace itself
/// would be.
static INSTANCE_NAMES: AtomicU64 = AtomicU64::new(0);

/// Whether some instance may have an attribute called `name` (see
/// [`INSTANCE_NAMES`]); `false` is certain.
#[inline]
pub fn may_be_instance_attr(name: &str) -> bool {
    may_be_instance_bit(name_bit(name.as_bytes()))
}

/// [`may_be_instance_attr`] for a name whose [`instance_bit`] is known.
#[inline]
pub fn may_be_instance_bit(bit: u64) -> bool {
    INSTANCE_NAMES.load(Ordering::Relaxed) & bit != 0
}

/// `name`'s bit for [`may_be_instance_bit`], for callers that keep it.
pub fn instance_bit(name: &str) -> u64 {
    name_bit(name.as_bytes())
}

#[inline]
fn note_instance_names(bits: u64) {
    if INSTANCE_NAMES.load(Ordering::Relaxed) & bits != bits {
        INSTANCE_NAMES.fetch_or(bits, Ordering::Relaxed);
    }
}

/// Entry count from which lookups go through a hash index.
const INDEX_AT: usize = 12;

#[derive(Default)]
pub struct AttrMap {
    entries: Vec<(Arc<str>, Value)>,
    /// Name → position in `entries`, kept only for big maps (boxed: most
    /// maps never have one, and instances stay small).
    #[allow(clippy::box_collection)]
    index: Option<Box<HashMap<Arc<str>, usize, rustc_hash::FxBuildHasher>>>,
    /// One bit per present name (see [`name_bit`]): most lookups of an
    /// absent name — is a method shadowed by an instance attribute, is an
    /// attribute new — end here without comparing any name. The top bit
    /// (no name's) is [`CLASS_NS`].
    present: u64,
}

/// In [`AttrMap::present`]: a class's namespace, whose names are not noted
/// in [`INSTANCE_NAMES`] (a bit, not a field: instances stay small).
const CLASS_NS: u64 = 1 << 63;
/// In [`AttrMap::present`]: the owning instance's `__del__` ran or is
/// queued (`vm::finalize`). A bit of the namespace, as CPython keeps it
/// in the object header: instances stay small.
const FINALIZED: u64 = 1 << 62;
/// The bits of [`AttrMap::present`] that are no name's.
const FLAGS: u64 = CLASS_NS | FINALIZED;

impl Clone for AttrMap {
    /// A copy may become anyone's namespace: it is never a class's, and
    /// its names are noted.
    fn clone(&self) -> AttrMap {
        let present = self.present & !FLAGS;
        note_instance_names(present);
        AttrMap {
            entries: self.entries.clone(),
            index: self.index.clone(),
            present,
        }
    }
}

/// A name's bit in [`AttrMap::present`], from its length and end bytes.
#[inline(always)]
fn name_bit(name: &[u8]) -> u64 {
    let n = name.len();
    let h = match n {
        0 => 0,
        _ => (n as u32)
            .wrapping_mul(7)
            .wrapping_add(name[0] as u32)
            .wrapping_add((name[n - 1] as u32).wrapping_mul(3)),
    };
    // Bits 63 and 62 are `FLAGS`.
    1 << (h % 62)
}

impl AttrMap {
    pub fn with_capacity(n: usize) -> AttrMap {
        AttrMap {
            entries: Vec::with_capacity(n),
            index: None,
            present: 0,
        }
    }

    /// An empty class namespace (its method names are not instance names).
    pub fn for_class() -> AttrMap {
        AttrMap {
            present: CLASS_NS,
            ..AttrMap::default()
        }
    }

    /// Make this map a class's namespace from now on.
    pub fn mark_class(&mut self) {
        self.present |= CLASS_NS;
    }

    fn is_class_ns(&self) -> bool {
        self.present & CLASS_NS != 0
    }

    /// Whether the instance owning this namespace was finalized (see
    /// [`FINALIZED`]).
    pub fn is_finalized(&self) -> bool {
        self.present & FINALIZED != 0
    }

    /// Mark the owning instance finalized; whether it already was.
    pub fn mark_finalized(&mut self) -> bool {
        let was = self.is_finalized();
        self.present |= FINALIZED;
        was
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Position of `name`, if present.
    #[inline]
    pub fn get_index_of(&self, name: &str) -> Option<usize> {
        if self.present & name_bit(name.as_bytes()) == 0 {
            return None;
        }
        match &self.index {
            None => self.entries.iter().position(|(k, _)| same_name(k, name)),
            Some(ix) => ix.get(name).copied(),
        }
    }

    #[inline]
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.get_index_of(name).map(|i| &self.entries[i].1)
    }

    #[inline]
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        self.get_index_of(name).map(|i| &mut self.entries[i].1)
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.get_index_of(name).is_some()
    }

    #[inline]
    pub fn get_index(&self, i: usize) -> Option<(&Arc<str>, &Value)> {
        self.entries.get(i).map(|(k, v)| (k, v))
    }

    #[inline]
    pub fn get_index_mut(&mut self, i: usize) -> Option<(&Arc<str>, &mut Value)> {
        self.entries.get_mut(i).map(|(k, v)| (&*k, v))
    }

    /// Set `name`, keeping its position if present; returns the old value.
    pub fn insert(&mut self, name: Arc<str>, value: Value) -> Option<Value> {
        match self.get_index_of(&name) {
            Some(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            None => {
                self.push_new(name, value);
                None
            }
        }
    }

    /// Append `name`, known to be absent.
    pub fn push_new(&mut self, name: Arc<str>, value: Value) {
        let bit = name_bit(name.as_bytes());
        self.push_new_bit(name, bit, value);
    }

    /// Whether a name whose [`instance_bit`] is `bit` may be present;
    /// `false` is certain.
    #[inline]
    pub fn may_contain_bit(&self, bit: u64) -> bool {
        self.present & bit != 0
    }

    /// [`AttrMap::push_new`] for a name whose [`instance_bit`] is `bit`.
    pub fn push_new_bit(&mut self, name: Arc<str>, bit: u64, value: Value) {
        debug_assert_eq!(bit, name_bit(name.as_bytes()));
        if self.entries.capacity() == 0 {
            // A fresh allocation, not `reserve`'s general grow path (most
            // instances get their attributes here, in `__init__`).
            self.entries = Vec::with_capacity(4);
        }
        let i = self.entries.len();
        self.present |= bit;
        if !self.is_class_ns() {
            note_instance_names(bit);
        }
        if let Some(ix) = &mut self.index {
            ix.insert(name.clone(), i);
        }
        self.entries.push((name, value));
        if self.index.is_none() && self.entries.len() > INDEX_AT {
            self.rebuild_index();
        }
    }

    /// Remove `name`, keeping the order of the others.
    pub fn shift_remove(&mut self, name: &str) -> Option<Value> {
        let i = self.get_index_of(name)?;
        let (_, v) = self.entries.remove(i);
        if self.index.is_some() {
            self.rebuild_index();
        }
        self.present = self
            .entries
            .iter()
            .fold(self.present & FLAGS, |m, (k, _)| m | name_bit(k.as_bytes()));
        Some(v)
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.index = None;
        self.present &= FLAGS;
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &Arc<str>> + ExactSizeIterator {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator {
        self.entries.iter().map(|(_, v)| v)
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&Arc<str>, &Value)> + ExactSizeIterator {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn iter_mut(
        &mut self,
    ) -> impl DoubleEndedIterator<Item = (&Arc<str>, &mut Value)> + ExactSizeIterator {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    fn rebuild_index(&mut self) {
        let mut ix = HashMap::with_capacity_and_hasher(self.entries.len(), Default::default());
        for (i, (k, _)) in self.entries.iter().enumerate() {
            ix.insert(k.clone(), i);
        }
        self.index = Some(Box::new(ix));
    }
}

impl IntoIterator for AttrMap {
    type Item = (Arc<str>, Value);
    type IntoIter = std::vec::IntoIter<(Arc<str>, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a> IntoIterator for &'a AttrMap {
    type Item = (&'a Arc<str>, &'a Value);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Arc<str>, Value)>,
        fn(&'a (Arc<str>, Value)) -> (&'a Arc<str>, &'a Value),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

impl FromIterator<(Arc<str>, Value)> for AttrMap {
    fn from_iter<I: IntoIterator<Item = (Arc<str>, Value)>>(iter: I) -> AttrMap {
        let mut m = AttrMap::default();
        m.extend(iter);
        m
    }
}

impl Extend<(Arc<str>, Value)> for AttrMap {
    fn extend<I: IntoIterator<Item = (Arc<str>, Value)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

/// Name equality. Short attribute names compare faster inline than through
/// `memcmp`: two overlapping word loads cover names of 4 to 16 bytes.
#[inline(always)]
pub(crate) fn same_name(a: &str, b: &str) -> bool {
    same_bytes(a.as_bytes(), b.as_bytes())
}

#[inline(always)]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => word32(a, 0) == word32(b, 0) && word32(a, n - 4) == word32(b, n - 4),
        8..=16 => word64(a, 0) == word64(b, 0) && word64(a, n - 8) == word64(b, n - 8),
        _ => a == b,
    }
}

#[inline(always)]
fn word32(s: &[u8], i: usize) -> u32 {
    match s[i..i + 4].try_into() {
        Ok(w) => u32::from_ne_bytes(w),
        Err(_) => 0,
    }
}

#[inline(always)]
fn word64(s: &[u8], i: usize) -> u64 {
    match s[i..i + 8].try_into() {
        Ok(w) => u64::from_ne_bytes(w),
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_names_are_noted_and_class_namespaces_opt_out() {
        let mut inst = AttrMap::default();
        inst.insert("zq_inst_7".into(), Value::None);
        assert!(may_be_instance_attr("zq_inst_7"));
        let mut class = AttrMap::for_class();
        class.insert("m".into(), Value::None);
        assert!(class.is_class_ns());
        // A copy of a class namespace may become an instance's: it is not a
        // class namespace, and its names are noted.
        let copy = class.clone();
        assert!(!copy.is_class_ns());
        assert!(may_be_instance_attr("m"));
        let mut marked = AttrMap::default();
        marked.mark_class();
        assert!(marked.is_class_ns());
    }

    fn names(m: &AttrMap) -> Vec<String> {
        m.keys().map(|k| k.to_string()).collect()
    }

    #[test]
    fn keeps_insertion_order_across_the_index_threshold() {
        let mut m = AttrMap::default();
        for i in 0..40 {
            assert!(m.insert(format!("a{i}").into(), Value::Int(i)).is_none());
        }
        assert_eq!(m.len(), 40);
        assert!(matches!(
            m.insert("a7".into(), Value::Int(-7)),
            Some(Value::Int(7))
        ));
        assert!(matches!(m.get("a7"), Some(Value::Int(-7))));
        assert_eq!(names(&m)[7], "a7");
        assert!(matches!(m.shift_remove("a3"), Some(Value::Int(3))));
        assert_eq!(m.get_index_of("a4"), Some(3));
        assert!(m.get("a3").is_none());
        assert_eq!(m.len(), 39);
        assert!(matches!(m.get("a39"), Some(Value::Int(39))));
    }

    #[test]
    fn removed_names_leave_the_presence_filter() {
        let mut m = AttrMap::default();
        m.insert("ab".into(), Value::Int(1));
        m.insert("cd".into(), Value::Int(2));
        assert!(m.contains_key("ab") && m.contains_key("cd"));
        m.shift_remove("ab");
        assert!(!m.contains_key("ab"));
        assert_eq!(m.present, name_bit(b"cd"));
        m.insert("ab".into(), Value::Int(3));
        assert!(matches!(m.get("ab"), Some(Value::Int(3))));
        m.clear();
        assert!(!m.contains_key("cd"));
        assert_eq!(m.present, 0);
    }

    #[test]
    fn names_compare_by_content_at_every_length() {
        let long = "abcdefghijklmnopqrstuvwxyz";
        for n in 0..long.len() {
            let a = &long[..n];
            let b = String::from(a);
            assert!(same_name(a, &b));
            for i in 0..n {
                let mut c = b.clone().into_bytes();
                c[i] = b'_';
                assert!(
                    !same_name(a, std::str::from_utf8(&c).unwrap()),
                    "{a} vs {i}"
                );
            }
        }
        assert!(!same_name("ab", "abc"));
    }

    #[test]
    fn small_maps_remove_and_reinsert_at_the_end() {
        let mut m: AttrMap = [("x", 1), ("y", 2), ("z", 3)]
            .into_iter()
            .map(|(k, v)| (Arc::from(k), Value::Int(v)))
            .collect();
        m.shift_remove("x");
        m.insert("x".into(), Value::Int(9));
        assert_eq!(names(&m), ["y", "z", "x"]);
        assert!(!m.contains_key("w"));
        m.clear();
        assert!(m.is_empty());
    }
}
