//! Iterators over built-in containers and the iteration protocol.

use crate::vm::value::Value;

/// The state of a built-in iterator object.
pub enum IterState {
    /// Placeholder until the iterator kinds are written.
    Empty(Value),
}
