//! The instruction set and code objects: the contract between the compiler
//! and the VM.
//!
//! # Instruction format
//! One format for every instruction, as in Lua 5.4: an opcode and at most one
//! `u32` operand, 8 bytes in all (asserted in a test). Jump operands are
//! absolute instruction indexes. Stack effects are written `[before] → [after]`
//! with the top of the stack on the right.
//!
//! # Blocks and exceptions
//! Each frame keeps a block stack. `SetupExcept(h)` / `SetupFinally(h)` push
//! a handler block recording the current stack depth; `PopBlock` pops it on
//! normal exit. When an exception is raised, the VM pops blocks until it
//! finds a handler block: it truncates the value stack to the recorded depth,
//! pushes the exception and jumps to `h`. A handler starts with
//! `PushExcInfo`, which also pushes an *except-handler* block; when an
//! exception escapes a handler, unwinding that block restores the previously
//! handled exception (for bare `raise`, `sys.exc_info()` and `__context__`).
//! `finally` bodies are duplicated by the compiler on every normal exit path
//! (fall-through, `break`, `continue`, `return`), as CPython 3.9+ does, so the
//! VM has no "why" codes.

use std::sync::Arc;

use crate::syntax::ast::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Instr {
    // ---- stack ----
    Nop,
    /// `[a] → []`
    Pop,
    /// `[.., x] → [.., x, x']` where `Copy(n)` pushes the n-th item from the top (1 = top).
    Copy(u32),
    /// Swap the top with the n-th item from the top (`Swap(2)` swaps the top two).
    Swap(u32),

    // ---- names ----
    /// Push `consts[i]`.
    LoadConst(u32),
    /// Push local slot i; `UnboundLocalError` if unset.
    LoadFast(u32),
    StoreFast(u32),
    DeleteFast(u32),
    /// `LoadFast(i)` that the next two instructions (`LoadFast`/`LoadConst`,
    /// then `BinaryOp`) complete: numbers are combined in one step, skipping
    /// both; anything else runs as `LoadFast(i)` (see `optimize`).
    LoadFastBinary(u32),
    /// `LoadFast(i)` that the next two instructions (`LoadFast`/`LoadConst`,
    /// then `CompareOp`) complete: two ints or two floats are compared in one
    /// step, straight into a conditional jump after them when there is one.
    LoadFastCompare(u32),
    /// `LoadFast(i)` before `LoadConst`, `BinarySubscr`: a list's item at
    /// a constant int index is pushed straight from the local (no count on
    /// the list), skipping both; anything else runs as `LoadFast(i)`.
    LoadFastSubscr(u32),
    /// `LoadFast(i)` before a `LoadAttr`: an instance attribute is read
    /// straight from the local, without a count on the instance, through
    /// the code object's attribute cache `site`; anything else runs as
    /// `LoadFast(i)`. Operand: local slot | site << 16.
    LoadFastAttr(u32),
    /// `LoadFast(i)` before a `StoreAttr`: the same for a store into the
    /// local's instance. Operand: local slot | site << 16.
    LoadFastStoreAttr(u32),
    /// Cells: slots `0..cellvars.len()` are this frame's cells, then its free variables.
    LoadDeref(u32),
    StoreDeref(u32),
    DeleteDeref(u32),
    /// Push the cell object itself (to build a closure tuple).
    LoadClosure(u32),
    /// In a class body: look the name of cell slot i up in the class
    /// namespace first, then read the cell.
    LoadClassDeref(u32),
    /// `names[i]` in globals, then builtins; `NameError` if absent.
    LoadGlobal(u32),
    StoreGlobal(u32),
    DeleteGlobal(u32),
    /// Module and class bodies: locals mapping, then globals, then builtins.
    LoadName(u32),
    StoreName(u32),
    DeleteName(u32),

    // ---- attributes and items ----
    /// `[obj] → [obj.names[i]]`
    LoadAttr(u32),
    /// `[value, obj] → []` sets `obj.names[i] = value`
    StoreAttr(u32),
    DeleteAttr(u32),
    /// `[obj] → [func, obj]` when `names[i]` is a plain function found on the
    /// type (no bound method allocated), else `[attr, Null]`.
    LoadMethod(u32),
    /// `[a, b, arg1..argN] → [result]`: if b is `Null`, calls a(args), else a(b, args).
    CallMethod(u32),
    /// `[obj, key] → [obj[key]]`
    BinarySubscr,
    /// `[value, obj, key] → []`
    StoreSubscr,
    /// `[value] → []` sets `local[consts[k]] = value`; operand: local slot |
    /// k << 16 (augmented assignment to an item of a local, see codegen).
    StoreFastItem(u32),
    /// `[obj, key] → []`
    DeleteSubscr,
    /// `[lower, upper] → [slice]` (arg 2) or `[lower, upper, step] → [slice]` (arg 3).
    BuildSlice(u32),

    // ---- operators ----
    /// `[a, b] → [a op b]`; the operand is a [`BinaryOpKind`] as u32.
    BinaryOp(u32),
    /// `[a] → [op a]`; the operand is a [`UnaryOpKind`] as u32.
    UnaryOp(u32),
    /// `[a, b] → [a cmp b]` for `== != < <= > >=`; the operand is a [`CompareKind`] as u32.
    CompareOp(u32),
    /// `[a, b] → [a is b]` (arg 0) or `[a is not b]` (arg 1).
    IsOp(u32),
    /// `[a, b] → [a in b]` (arg 0) or `[a not in b]` (arg 1).
    ContainsOp(u32),

    // ---- building ----
    BuildTuple(u32),
    BuildList(u32),
    BuildSet(u32),
    /// `[k1, v1, .., kn, vn] → [dict]`
    BuildMap(u32),
    /// Concatenate n strings: `[s1..sn] → [s]` (f-strings).
    BuildString(u32),
    /// `[value] → [str]` or with a spec `[value, spec] → [str]`; operand:
    /// bits 0-1 conversion (0 none, 1 str, 2 repr, 3 ascii), bit 2 has-spec.
    FormatValue(u32),
    /// Comprehensions: append/add to the container `n` items below the top
    /// (after popping the value(s)). `[list, .., v] → [list, ..]`
    ListAppend(u32),
    SetAdd(u32),
    /// `[dict, .., k, v] → [dict, ..]`
    MapAdd(u32),
    /// `[list, .., iterable] → [list, ..]` (for `[*a, *b]`).
    ListExtend(u32),
    SetUpdate(u32),
    /// `[dict, .., mapping] → [dict, ..]` (for `{**a}`).
    DictUpdate(u32),
    /// Like DictUpdate but a repeated key raises TypeError "got multiple values for keyword argument" (calls).
    DictMerge(u32),
    /// `[list] → [tuple]`
    ListToTuple,
    /// `[seq] → [vn .. v1]` (v1 on top) checking the length.
    UnpackSequence(u32),
    /// Starred unpacking: operand = before | (after << 8).
    UnpackEx(u32),

    // ---- control flow ----
    /// Backward jumps (target <= current index) are eval-breaker check sites.
    Jump(u32),
    PopJumpIfFalse(u32),
    PopJumpIfTrue(u32),
    /// Keep the value and jump if falsy, else pop it (`and`).
    JumpIfFalseOrPop(u32),
    /// Keep the value and jump if truthy, else pop it (`or`).
    JumpIfTrueOrPop(u32),
    /// `[x] → [iter(x)]`
    GetIter,
    /// `[it] → [it, next(it)]`, or pops `it` and jumps to the target when exhausted.
    ForIter(u32),
    /// `ForIter` before a `StoreFast`: the next item of a list or range
    /// iterator goes straight into the local, skipping the store; anything
    /// else runs as `ForIter` (see `optimize`).
    ForIterStore(u32),

    // ---- functions and calls ----
    /// `[code, qualname] → [function]` with optional extras below, pushed
    /// in this order when the flag bit is set: defaults tuple (1),
    /// kw-defaults dict (2), annotations (4, ignored), closure tuple of cells (8).
    MakeFunction(u32),
    /// `[callable, arg1..argN] → [result]`
    Call(u32),
    /// `[callable, arg1..argN, kwnames] → [result]`: the last `len(kwnames)`
    /// args are keyword arguments named by the tuple of str `kwnames`.
    CallKw(u32),
    /// `[callable, args_tuple] → [result]` (arg 0) or
    /// `[callable, args_tuple, kwargs_dict] → [result]` (arg 1).
    CallEx(u32),
    ReturnValue,
    /// Push the builtin `__build_class__(func, name, *bases, **kw)`.
    LoadBuildClass,

    // ---- generators and coroutines ----
    /// `[v] → [sent]`: suspend the frame yielding v; on resume the sent value is pushed.
    YieldValue,
    /// `[x] → [iter]`: iter(x) unless x is a generator or coroutine.
    GetYieldFromIter,
    /// `[iter, v] → [result]`: send v into iter; if it yields y, suspend
    /// yielding y and re-run this instruction on resume with the sent value
    /// replacing v; when it returns r (StopIteration), push r.
    YieldFrom,
    /// `[x] → [awaitable iterator]` for `await x`.
    GetAwaitable,

    // ---- exceptions ----
    SetupExcept(u32),
    SetupFinally(u32),
    PopBlock,
    /// `[exc] → [prev, exc]`: make exc the handled exception, remembering
    /// the previous one; pushes an except-handler block at the depth below `prev`+1.
    PushExcInfo,
    /// `[prev] → []`: restore the handled exception and pop the except-handler block.
    PopExcept,
    /// `[exc, type] → [exc, matches]` (type may be a tuple of types).
    CheckExcMatch,
    /// `except* type`: `[exc, type] → [rest, match]`, splitting what is
    /// left of an exception group (either may be None; exc may be None).
    CheckEgMatch,
    /// The end of `except*` clauses: `[orig, raised] → [exc or None]`, what
    /// is left to raise of `orig` together with what the clauses raised.
    PrepReraiseStar,
    /// `Raise(0)`: re-raise the handled exception; `Raise(1)`: `[exc] → raise`;
    /// `Raise(2)`: `[exc, cause] → raise exc from cause`.
    Raise(u32),
    /// `[exc] → re-raise` keeping the exception's traceback as it is.
    Reraise,
    /// `[ctx] → [exit, ctx.__enter__()]`
    BeforeWith,
    /// `[exit, prev, exc] → [exit, prev, exc, exit(type, exc, tb)]`
    WithExceptStart,
    LoadAssertionError,

    // ---- imports ----
    /// `[level, fromlist] → [module]` importing `names[i]`.
    ImportName(u32),
    /// `[module] → [module, module.names[i]]` (ImportError if missing).
    ImportFrom(u32),
    /// `[module] → []` binding all public names into the locals.
    ImportStar,

    /// REPL: `[v] → []` printing repr(v) unless None, and binding `_`.
    PrintExpr,
}

/// Operand of [`Instr::BinaryOp`]; the `Inplace*` forms try `__iadd__` etc. first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum BinaryOpKind {
    Add,
    Sub,
    Mul,
    MatMul,
    TrueDiv,
    FloorDiv,
    Mod,
    Pow,
    LShift,
    RShift,
    And,
    Or,
    Xor,
    InplaceAdd,
    InplaceSub,
    InplaceMul,
    InplaceMatMul,
    InplaceTrueDiv,
    InplaceFloorDiv,
    InplaceMod,
    InplacePow,
    InplaceLShift,
    InplaceRShift,
    InplaceAnd,
    InplaceOr,
    InplaceXor,
}

impl BinaryOpKind {
    pub const ALL: [BinaryOpKind; 26] = [
        BinaryOpKind::Add,
        BinaryOpKind::Sub,
        BinaryOpKind::Mul,
        BinaryOpKind::MatMul,
        BinaryOpKind::TrueDiv,
        BinaryOpKind::FloorDiv,
        BinaryOpKind::Mod,
        BinaryOpKind::Pow,
        BinaryOpKind::LShift,
        BinaryOpKind::RShift,
        BinaryOpKind::And,
        BinaryOpKind::Or,
        BinaryOpKind::Xor,
        BinaryOpKind::InplaceAdd,
        BinaryOpKind::InplaceSub,
        BinaryOpKind::InplaceMul,
        BinaryOpKind::InplaceMatMul,
        BinaryOpKind::InplaceTrueDiv,
        BinaryOpKind::InplaceFloorDiv,
        BinaryOpKind::InplaceMod,
        BinaryOpKind::InplacePow,
        BinaryOpKind::InplaceLShift,
        BinaryOpKind::InplaceRShift,
        BinaryOpKind::InplaceAnd,
        BinaryOpKind::InplaceOr,
        BinaryOpKind::InplaceXor,
    ];

    pub fn from_u32(n: u32) -> BinaryOpKind {
        Self::ALL[n as usize]
    }

    /// The in-place form's plain operator (`InplaceAdd` → `Add`).
    pub fn base(self) -> BinaryOpKind {
        let n = self as usize;
        if n >= 13 {
            Self::ALL[n - 13]
        } else {
            self
        }
    }

    pub fn is_inplace(self) -> bool {
        self as usize >= 13
    }

    /// The operator as written in source, for error messages
    /// ("unsupported operand type(s) for +: 'int' and 'str'").
    pub fn symbol(self) -> &'static str {
        use BinaryOpKind::*;
        match self {
            Add => "+",
            Sub => "-",
            Mul => "*",
            MatMul => "@",
            TrueDiv => "/",
            FloorDiv => "//",
            Mod => "%",
            Pow => "** or pow()",
            LShift => "<<",
            RShift => ">>",
            And => "&",
            Or => "|",
            Xor => "^",
            InplaceAdd => "+=",
            InplaceSub => "-=",
            InplaceMul => "*=",
            InplaceMatMul => "@=",
            InplaceTrueDiv => "/=",
            InplaceFloorDiv => "//=",
            InplaceMod => "%=",
            InplacePow => "**=",
            InplaceLShift => "<<=",
            InplaceRShift => ">>=",
            InplaceAnd => "&=",
            InplaceOr => "|=",
            InplaceXor => "^=",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum UnaryOpKind {
    Neg,
    Pos,
    Not,
    Invert,
}

impl UnaryOpKind {
    pub fn from_u32(n: u32) -> UnaryOpKind {
        [Self::Neg, Self::Pos, Self::Not, Self::Invert][n as usize]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum CompareKind {
    Lt,
    Le,
    Eq,
    Ne,
    Gt,
    Ge,
}

impl CompareKind {
    pub fn from_u32(n: u32) -> CompareKind {
        [Self::Lt, Self::Le, Self::Eq, Self::Ne, Self::Gt, Self::Ge][n as usize]
    }

    pub fn symbol(self) -> &'static str {
        match self {
            CompareKind::Lt => "<",
            CompareKind::Le => "<=",
            CompareKind::Eq => "==",
            CompareKind::Ne => "!=",
            CompareKind::Gt => ">",
            CompareKind::Ge => ">=",
        }
    }
}

/// A compile-time constant. The VM converts a code object's constants to
/// runtime values once, when the code is first loaded.
#[derive(Clone, Debug)]
pub enum Const {
    None,
    Bool(bool),
    Ellipsis,
    Int(i64),
    /// Decimal digits of an int too large for i64.
    BigInt(Arc<str>),
    Float(f64),
    /// A complex number: real and imaginary parts.
    Complex(f64, f64),
    Str(Arc<str>),
    Bytes(Arc<[u8]>),
    Tuple(Arc<[Const]>),
    Code(Arc<Code>),
}

/// Code object flags.
pub mod flags {
    pub const VARARGS: u32 = 1;
    pub const VARKEYWORDS: u32 = 2;
    pub const GENERATOR: u32 = 4;
    pub const COROUTINE: u32 = 8;
    /// Module and class bodies: names live in a mapping, not in slots.
    pub const NAME_LOCALS: u32 = 16;
}

/// A compiled function, class body or module.
#[derive(Debug)]
pub struct Code {
    pub name: Arc<str>,
    pub qualname: Arc<str>,
    pub filename: Arc<str>,
    pub instrs: Vec<Instr>,
    /// The source span of each instruction (same length as `instrs`).
    pub spans: Vec<Span>,
    /// Line number of the start of every span, parallel to `instrs`;
    /// looked up only to build tracebacks.
    pub lines: Vec<u32>,
    pub consts: Vec<Const>,
    /// Global, attribute and import names used by the `*Name`, `*Global`, `*Attr` instructions.
    pub names: Vec<Arc<str>>,
    /// Local variable names; the parameters come first in declaration order:
    /// positional (incl. positional-only), keyword-only, `*args`, `**kwargs`.
    pub varnames: Vec<Arc<str>>,
    /// Names of cells created by this frame. A cell that is also a parameter
    /// is initialised from that parameter's slot at frame entry (see `cell2arg`).
    pub cellvars: Vec<Arc<str>>,
    /// For each cellvar, the parameter slot it copies at entry, if any.
    pub cell2arg: Vec<Option<u32>>,
    /// Names of free variables, received through the closure tuple.
    pub freevars: Vec<Arc<str>>,
    pub argcount: u32,
    pub posonlyargcount: u32,
    pub kwonlyargcount: u32,
    pub flags: u32,
    pub first_line: u32,
    /// Deepest value-stack use, so a frame can allocate once.
    pub max_stack: u32,
    /// How many attribute cache sites the `LoadFastAttr`/`LoadFastStoreAttr`
    /// operands number (see `optimize::fuse`).
    pub attr_sites: u32,
}

impl Code {
    pub fn is_generator(&self) -> bool {
        self.flags & flags::GENERATOR != 0
    }

    pub fn is_coroutine(&self) -> bool {
        self.flags & flags::COROUTINE != 0
    }

    /// The line number for the instruction at `pc`, for tracebacks.
    pub fn line_at(&self, pc: usize) -> u32 {
        self.lines
            .get(pc)
            .or(self.lines.last())
            .copied()
            .unwrap_or(self.first_line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions_are_eight_bytes() {
        assert_eq!(std::mem::size_of::<Instr>(), 8);
    }

    #[test]
    fn binary_op_kinds_round_trip() {
        for (i, k) in BinaryOpKind::ALL.iter().enumerate() {
            assert_eq!(BinaryOpKind::from_u32(i as u32), *k);
            assert!(!k.base().is_inplace());
        }
        assert_eq!(BinaryOpKind::InplaceXor.base(), BinaryOpKind::Xor);
    }
}
