//! Sets: an open-addressing table laid out like CPython's `setobject.c`, so
//! that iteration order (and so printed output) matches CPython for ints.

use crate::vm::value::Value;

#[derive(Default)]
pub struct SetTable {
    /// Slots: `None` empty; entries carry their hash.
    pub slots: Vec<Option<(i64, Value)>>,
    pub used: usize,
}
