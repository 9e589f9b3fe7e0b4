//! gilvm: a Python 3.11 subset interpreter whose threads run behind a real,
//! switchable global interpreter lock.
//!
//! Data flows one way: `syntax` (text → AST) → `compile` (AST → bytecode) →
//! `vm` (bytecode → effects), with `runtime` (GIL, threads) and `stdlib`
//! (modules) serving the VM.

pub mod compile;
pub mod runtime;
pub mod stdlib;
pub mod syntax;
pub mod vm;
