//! See `vm/mod.rs` for what this file holds.
