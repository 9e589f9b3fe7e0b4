//! Frames: one activation of a code object, as a plain struct.
//!
//! A frame owns everything it needs to be suspended and resumed (its
//! function, local slots, value stack, block stack and instruction pointer),
//! so a generator can keep it while suspended and a thread could hand it
//! over: it is moved, never borrowed, between the VM's frame stack and the
//! generator object.

use std::sync::Arc;

use parking_lot::Mutex;

use crate::compile::code::flags;
use crate::vm::value::{AttrMap, Cell, CodeObj, Function, PyDict, Value};

/// What a block on a frame's block stack is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    /// `SetupExcept`/`SetupFinally`: on an exception, truncate the value
    /// stack to `depth`, push the exception and jump to `handler`.
    Handler,
    /// Pushed by `PushExcInfo`: the previously handled exception sits at
    /// `depth - 1`; unwinding through it restores that exception.
    ExceptHandler,
}

#[derive(Clone, Copy, Debug)]
pub struct Block {
    pub kind: BlockKind,
    pub handler: u32,
    /// Absolute index into `Frame::slots`.
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
    /// Local variable slots `0..nlocals`, then the value stack.
    pub slots: Vec<Value>,
    pub nlocals: u32,
    /// This frame's cells, then its free variables.
    pub cells: Vec<Arc<Cell>>,
    pub blocks: Vec<Block>,
    /// Index of the next instruction.
    pub pc: u32,
    /// Set for `__init__` frames started by an inlined class instantiation:
    /// the instance to produce when the frame returns `None`.
    pub init_instance: Value,
}

impl Frame {
    /// A frame for `func` whose first slots already hold the bound
    /// arguments (`slots.len() <= nlocals`; the rest are padded unbound).
    pub fn new(func: Arc<Function>, mut slots: Vec<Value>) -> Frame {
        let code = &func.code.code;
        let nlocals = code.varnames.len();
        if slots.len() < nlocals {
            slots.resize(nlocals, Value::Null);
        }
        let ncells = code.cellvars.len() + code.freevars.len();
        let mut cells = Vec::new();
        if ncells > 0 {
            cells.reserve_exact(ncells);
            for (i, _) in code.cellvars.iter().enumerate() {
                let init = match code.cell2arg.get(i).copied().flatten() {
                    Some(arg) => slots.get(arg as usize).cloned().unwrap_or(Value::Null),
                    None => Value::Null,
                };
                cells.push(Arc::new(Cell {
                    value: Mutex::new(init),
                }));
            }
            cells.extend(func.closure.iter().cloned());
        }
        let locals = if code.flags & flags::NAME_LOCALS != 0 {
            Some(func.globals.clone())
        } else {
            None
        };
        Frame {
            func,
            locals,
            slots,
            nlocals: nlocals as u32,
            cells,
            blocks: Vec::new(),
            pc: 0,
            init_instance: Value::Null,
        }
    }

    /// The placeholder frame a thread's VM holds while no code runs.
    pub fn empty(func: Arc<Function>) -> Frame {
        Frame {
            func,
            locals: None,
            slots: Vec::new(),
            nlocals: 0,
            cells: Vec::new(),
            blocks: Vec::new(),
            pc: 0,
            init_instance: Value::Null,
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
