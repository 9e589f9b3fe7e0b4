//! Text → tokens → AST.
//!
//! `lexer` (logos tokens + the indentation pass) feeds the lalrpop grammar
//! (`grammar/gilvm.lalrpop`, wrapped by `parser`), whose actions are in
//! `actions`; `strings` decodes literals and `fstring` splits f-strings.

pub mod actions;
pub mod ast;
pub mod fstring;
pub mod lexer;
pub mod parser;
pub mod strings;

pub use parser::{decode_source, is_incomplete, parse_module, SyntaxError, SyntaxErrorKind};
