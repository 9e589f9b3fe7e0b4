//! See `vm/mod.rs` for what this file holds.

/// A function activation.
pub struct Frame {}
