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
use crate::vm::brc::Brc;
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
///
/// Kept to 32 bytes: every call moves the caller's frame onto the frame
/// stack and writes the callee's, so what most calls never use (a names
/// mapping, cells, try blocks, values saved off the stack) sits behind one
/// box, made on first use.
pub struct Frame {
    /// The function being run; module bodies run as a function too, so a
    /// frame always has code, globals and a closure in one place (and a call
    /// moves the callee out of the caller's stack without touching a count).
    pub func: Brc<Function>,
    extra: Option<Box<FrameExtra>>,
    /// Index in the thread's value stack of local slot 0, while running.
    pub base: u32,
    /// Stack length to cut back to when the frame ends (for a call from the
    /// dispatch loop: where the callee was, which receives the result).
    pub ret: u32,
    pub nlocals: u32,
    /// Index of the next instruction.
    pub pc: u32,
}

/// The parts of a frame most calls do without.
#[derive(Default)]
struct FrameExtra {
    /// The names mapping of module and class bodies (`NAME_LOCALS` code).
    locals: Option<Brc<PyDict>>,
    /// A class body's `__prepare__` namespace when it is not a plain dict:
    /// names go through its `__getitem__`/`__setitem__`/`__delitem__`.
    mapping: Option<Value>,
    /// This frame's cells, then its free variables.
    cells: Vec<Arc<Cell>>,
    blocks: Vec<Block>,
    /// Local slots then value stack while the frame is off the thread's stack.
    saved: Vec<Value>,
}

impl Frame {
    /// A frame (off the stack) for `func` whose first slots hold the bound
    /// arguments; the rest of the locals start unbound.
    pub fn new(func: Brc<Function>, mut slots: Vec<Value>) -> Frame {
        let nlocals = func.code.code.varnames.len();
        if slots.len() < nlocals {
            slots.resize(nlocals, Value::Null);
        }
        let cells = make_cells(&func, &slots);
        let mut f = Frame::running(func, 0, 0, nlocals as u32, cells);
        f.extra_mut().saved = slots;
        f
    }

    /// A frame whose locals start at `base` on the thread's stack.
    #[inline]
    pub fn running(
        func: Brc<Function>,
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
        let mut f = Frame::plain(func, base, ret, nlocals);
        if locals.is_some() || !cells.is_empty() {
            f.extra = Some(Box::new(FrameExtra {
                locals,
                cells,
                ..FrameExtra::default()
            }));
        }
        f
    }

    /// Move `src` into `dst` (which holds nothing to drop) one field at a
    /// time. A whole-frame move is two 16-byte stores, and the dispatch
    /// loop's next loads of `pc` and `nlocals`, in the upper half of one,
    /// do not forward from it on this hardware (see `vm::slot`).
    ///
    /// # Safety
    /// `dst` is valid for writes; whatever it holds is overwritten without
    /// being dropped.
    #[inline(always)]
    pub unsafe fn write_fields(dst: *mut Frame, src: Frame) {
        let src = std::mem::ManuallyDrop::new(src);
        // Volatile, so that the stores are not merged back into wide ones.
        std::ptr::write_volatile(&raw mut (*dst).base, src.base);
        std::ptr::write_volatile(&raw mut (*dst).ret, src.ret);
        std::ptr::write_volatile(&raw mut (*dst).nlocals, src.nlocals);
        std::ptr::write_volatile(&raw mut (*dst).pc, src.pc);
        std::ptr::write(&raw mut (*dst).func, std::ptr::read(&src.func));
        std::ptr::write(&raw mut (*dst).extra, std::ptr::read(&src.extra));
    }

    /// A running frame with no names mapping and no cells.
    #[inline(always)]
    pub fn plain(func: Brc<Function>, base: u32, ret: u32, nlocals: u32) -> Frame {
        Frame {
            func,
            extra: None,
            base,
            ret,
            nlocals,
            pc: 0,
        }
    }

    /// Drop the frame at `this` in place. Most frames have no extra part,
    /// and then only the function is dropped: the generic drop glue makes
    /// an out-of-line call for the (empty) extra part on every return.
    ///
    /// # Safety
    /// As `ptr::drop_in_place`: `this` is valid and the frame is not used
    /// again until overwritten.
    #[inline(always)]
    pub unsafe fn drop_in_place(this: *mut Frame) {
        if (*this).extra.is_none() {
            std::ptr::drop_in_place(&raw mut (*this).func);
        } else {
            std::ptr::drop_in_place(this);
        }
    }

    /// The placeholder frame a thread's VM holds while no code runs.
    pub fn empty(func: Brc<Function>) -> Frame {
        Frame::plain(func, 0, 0, 0)
    }

    fn extra_mut(&mut self) -> &mut FrameExtra {
        self.extra.get_or_insert_with(Box::default)
    }

    /// The names mapping of a module or class body.
    #[inline]
    pub fn locals(&self) -> Option<&Brc<PyDict>> {
        self.extra.as_ref().and_then(|x| x.locals.as_ref())
    }

    pub fn set_locals(&mut self, ns: Brc<PyDict>) {
        self.extra_mut().locals = Some(ns);
    }

    /// The `__prepare__` namespace names go through (see `FrameExtra`).
    #[inline]
    pub fn mapping(&self) -> Option<&Value> {
        self.extra.as_ref().and_then(|x| x.mapping.as_ref())
    }

    pub fn set_mapping(&mut self, ns: Value) {
        self.extra_mut().mapping = Some(ns);
    }

    /// This frame's cells, then its free variables.
    #[inline]
    pub fn cells(&self) -> &[Arc<Cell>] {
        match &self.extra {
            Some(x) => &x.cells,
            None => &[],
        }
    }

    /// The block stack (`try` handlers and handled exceptions).
    #[inline]
    pub fn blocks(&self) -> &[Block] {
        match &self.extra {
            Some(x) => &x.blocks,
            None => &[],
        }
    }

    #[inline]
    pub fn push_block(&mut self, b: Block) {
        self.extra_mut().blocks.push(b);
    }

    #[inline]
    pub fn pop_block(&mut self) -> Option<Block> {
        self.extra.as_mut().and_then(|x| x.blocks.pop())
    }

    /// Values kept while the frame is off the thread's stack.
    pub fn saved(&self) -> &[Value] {
        match &self.extra {
            Some(x) => &x.saved,
            None => &[],
        }
    }

    /// Values kept while the frame is off the thread's stack, for changing.
    pub fn saved_mut(&mut self) -> &mut Vec<Value> {
        &mut self.extra_mut().saved
    }

    /// Take the saved values out, leaving none.
    pub fn take_saved(&mut self) -> Vec<Value> {
        match &mut self.extra {
            Some(x) => std::mem::take(&mut x.saved),
            None => Vec::new(),
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
pub fn body_function(code: Arc<CodeObj>, globals: Brc<PyDict>) -> Brc<Function> {
    let name = code.code.name.clone();
    let qualname = code.code.qualname.clone();
    Brc::new(Function {
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

#[cfg(test)]
mod tests {
    #[test]
    fn a_frame_is_four_words() {
        // Every call copies the caller's frame out and writes the callee's.
        assert_eq!(std::mem::size_of::<super::Frame>(), 32);
    }
}
