//! Code generation: AST → [`Code`].

use std::sync::Arc;

use crate::compile::code::Code;
use crate::syntax::ast::Module;
use crate::syntax::SyntaxError;

/// Compile a module body. `filename` is recorded in every code object for
/// tracebacks. Scoping errors (e.g. `nonlocal` at module level, `return`
/// outside a function) are SyntaxErrors.
pub fn compile_module(module: &Module, filename: &str) -> Result<Arc<Code>, SyntaxError> {
    let _ = (module, filename);
    Err(SyntaxError {
        kind: crate::syntax::SyntaxErrorKind::SyntaxError,
        msg: "compiler not built yet".into(),
        span: Default::default(),
    })
}
