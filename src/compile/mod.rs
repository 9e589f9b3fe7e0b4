//! AST → bytecode.
//!
//! `symtable` resolves scopes, `codegen` emits instructions, `flow`
//! computes stack depths, `optimize` marks fused instructions, `lines`
//! maps offsets to line numbers and `disasm` prints code objects for tests
//! and `--dis`.

pub mod code;
pub mod codegen;
pub mod disasm;
pub mod flow;
pub mod interned;
pub mod lines;
pub mod optimize;
pub mod symtable;

pub use codegen::{compile_eval, compile_interactive, compile_module, compile_module_with_source};
pub use disasm::disassemble;
