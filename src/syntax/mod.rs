//! Text → tokens → AST.

pub mod ast;
pub mod lexer;
pub mod parser;

pub use parser::{parse_module, SyntaxError, SyntaxErrorKind};
