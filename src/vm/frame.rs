//! Frames: one activation of a code object, as a plain struct.
//!
//! While a frame runs, its local slots and value stack live in the thread's
//! one value stack (`Vm::stack`, from `base` up), as in CPython: a call
//! finds its arguments already in place and allocates nothing. A frame that
//! is not on a thread's stack — a suspended generator, a frame about to be
//! run by a native — keeps those values in `saved`, so it can be moved
//! anywhere and resumed on any thread. Block depths are relative to `base`
//! for the same reason.

use std::sync::Arc;

use parking_lot::Mutex;

use crate::compile::code::flags;
use crate::vm::value::{AttrMap, Cell, CodeObj, Function, PyDict, Value};

/// What a block on a frame's block stack is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    /// `SetupExcept`/`SetupFinally`: on an exception, cut the value stack
    /// back to `depth`, push the exception and jump to `handler`.
    Handler,
    /// Pushed by `PushExcInfo`: the previously handled exception sits at
    /// `depth - 1`; unwinding through it restores that exception.
    ExceptHandler,
}

#[derive(Clone, Copy, Debug)]
pub struct Block {
    pub kind: BlockKind,
    pub handler: u32,
    /// Stack depth above the frame's `base`.
    pub depth: u32,
}

/// A function activation.
pub struct Frame {
    /// The function being run; module bodies run as a function too, so a
    /// frame always has code, globals and a closure in one place (and a call
    /// moves the callee out of the caller's stack without touching a count).
    pub func: Arc<Function>,
    /// The names mapping of module and class bodies (`NAME_LOCALS` code).
    pub locals: Option<Arc<PyDict>>,
    /// Index in the thread's value stack of local slot 0, while running.
    pub base: u32,
    /// Stack length to cut back to when the frame ends (for a call from the
    /// dispatch loop: where the callee was, which receives the result).
    pub ret: u32,
    pub nlocals: u32,
    /// Index of the next instruction.
    pub pc: u32,
    /// This frame's cells, then its free variables.
    pub cells: Vec<Arc<Cell>>,
    pub blocks: Vec<Block>,
    /// Set for `__init__` frames started by an inlined class instantiation:
    /// the instance to produce when the frame returns `None`.
    pub init_instance: Value,
    /// Local slots then value stack while the frame is off the thread's stack.
    pub saved: Vec<Value>,
}

impl Frame {
    /// A frame (off the stack) for `func` whose first slots hold the bound
    /// arguments; the rest of the locals start unbound.
    pub fn new(func: Arc<Function>, mut slots: Vec<Value>) -> Frame {
        let nlocals = func.code.code.varnames.len();
        if slots.len() < nlocals {
            slots.resize(nlocals, Value::Null);
        }
        let cells = make_cells(&func, &slots);
        let mut f = Frame::bare(func, 0, 0, nlocals as u32, cells);
        f.saved = slots;
        f
    }

    #[inline]
    fn bare(
        func: Arc<Function>,
        base: u32,
        ret: u32,
        nlocals: u32,
        cells: Vec<Arc<Cell>>,
    ) -> Frame {
        let locals = if func.code.code.flags & flags::NAME_LOCALS != 0 {
            Some(func.globals.clone())
        } else {
            None
        };
        Frame {
            func,
            locals,
            base,
            ret,
            nlocals,
            pc: 0,
            cells,
            blocks: Vec::new(),
            init_instance: Value::Null,
            saved: Vec::new(),
        }
    }

    /// The placeholder frame a thread's VM holds while no code runs.
    pub fn empty(func: Arc<Function>) -> Frame {
        Frame {
            func,
            locals: None,
            base: 0,
            ret: 0,
            nlocals: 0,
            pc: 0,
            cells: Vec::new(),
            blocks: Vec::new(),
            init_instance: Value::Null,
            saved: Vec::new(),
        }
    }

    #[inline]
    pub fn code(&self) -> &Arc<CodeObj> {
        &self.func.code
    }

    /// The line being executed (the instruction before `pc`).
    pub fn line(&self) -> u32 {
        self.func
            .code
            .code
            .line_at((self.pc as usize).saturating_sub(1))
    }

    /// The source span of the instruction being executed.
    pub fn span(&self) -> Option<crate::syntax::ast::Span> {
        self.func
            .code
            .code
            .spans
            .get((self.pc as usize).saturating_sub(1))
            .copied()
    }
}

/// The cells of a new frame: its own (a parameter's initialised from its
/// slot, see `cell2arg`), then the closure's.
pub(crate) fn make_cells(func: &Function, locals: &[Value]) -> Vec<Arc<Cell>> {
    let code = &func.code.code;
    let ncells = code.cellvars.len() + code.freevars.len();
    let mut cells = Vec::new();
    if ncells > 0 {
        cells.reserve_exact(ncells);
        for (i, _) in code.cellvars.iter().enumerate() {
            let init = match code.cell2arg.get(i).copied().flatten() {
                Some(arg) => locals.get(arg as usize).cloned().unwrap_or(Value::Null),
                None => Value::Null,
            };
            cells.push(Arc::new(Cell {
                value: Mutex::new(init),
            }));
        }
        cells.extend(func.closure.iter().cloned());
    }
    cells
}

/// A `Function` wrapping module-level or class-body code, so every frame has one.
pub fn body_function(code: Arc<CodeObj>, globals: Arc<PyDict>) -> Arc<Function> {
    let name = code.code.name.clone();
    let qualname = code.code.qualname.clone();
    Arc::new(Function {
        code,
        globals,
        name,
        qualname,
        defaults: Box::new([]),
        kwdefaults: None,
        closure: Box::new([]),
        attrs: Mutex::new(AttrMap::default()),
    })
}
