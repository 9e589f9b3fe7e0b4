//! AST → bytecode.

pub mod code;
pub mod codegen;
pub mod symtable;

pub use codegen::compile_module;
