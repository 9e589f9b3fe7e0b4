//! Byte offset → line number, for `Code::lines`.
//!
//! The compiler sees only the AST, whose spans are byte offsets, so
//! [`crate::syntax::parse_module`] leaves each source's line starts behind
//! (keyed by the module it returned) and [`LineIndex::for_module`] picks
//! them up. [`LineIndex::new`] builds one from a source text directly.

use std::rc::Rc;

use crate::syntax::ast::Module;

pub struct LineIndex {
    /// Byte offset of the start of each line; `starts[0] == 0`.
    starts: Rc<[u32]>,
}

impl LineIndex {
    pub fn new(source: &str) -> LineIndex {
        LineIndex {
            starts: Rc::from(crate::syntax::parser::line_starts(source)),
        }
    }

    /// The line table `parse_module` recorded for `module` (or for the most
    /// recent parse on this thread).
    pub fn for_module(module: &Module) -> LineIndex {
        LineIndex {
            starts: crate::syntax::parser::recorded_line_starts(module)
                .unwrap_or_else(|| Rc::from(vec![0u32])),
        }
    }

    /// 1-based line of a byte offset.
    pub fn line(&self, offset: u32) -> u32 {
        self.starts.partition_point(|&s| s <= offset).max(1) as u32
    }
}
