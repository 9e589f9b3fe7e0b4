//! Dicts: an insertion-ordered hash map keyed by Python values.

use indexmap::IndexMap;

use crate::vm::value::Value;

/// A dict key with its Python hash computed up front (which may have called
/// a user's `__hash__`), so the map itself never calls back into scripts.
#[derive(Clone)]
pub struct HashKey {
    pub hash: i64,
    pub key: Value,
}

impl std::hash::Hash for HashKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_i64(self.hash);
    }
}

impl PartialEq for HashKey {
    fn eq(&self, other: &HashKey) -> bool {
        self.hash == other.hash && self.key.is(&other.key)
    }
}

impl Eq for HashKey {}

pub type DictMap = IndexMap<HashKey, Value, std::hash::BuildHasherDefault<IdentityHasher>>;

/// The hash is already a good Python hash; do not hash it again.
#[derive(Default)]
pub struct IdentityHasher(u64);

impl std::hash::Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_i64(&mut self, n: i64) {
        self.0 = n as u64;
    }
}
