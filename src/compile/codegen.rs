//! Code generation: AST → [`Code`].
//!
//! One [`Unit`] per code object being built (module, class body, function,
//! lambda, comprehension); nested definitions push a new unit. Jumps are
//! emitted against labels and resolved when a unit is finished, which also
//! computes the line table and `max_stack` (see `flow.rs`).
//!
//! Stack layouts the VM relies on (see `code.rs` for each instruction):
//! - `try/except`: `SetupExcept(H)`; handler `H` starts with `[exc]`,
//!   `PushExcInfo` → `[prev, exc]`; a matching clause pops `exc` (or stores
//!   it in the `as` name) leaving `[prev]`, runs its body, then `PopExcept`.
//!   `except E as e` wraps the body in `SetupFinally(cleanup)` whose handler
//!   clears `e` and `Reraise`s. No clause matched: `Reraise`.
//! - `try/finally`: `SetupFinally(H)`; the normal path runs a copy of the
//!   final body after `PopBlock`; `H`: `[exc]` → `PushExcInfo` → final body →
//!   `Reraise`. `break`/`continue`/`return` run further copies.
//! - `with`: `BeforeWith` → `[exit, value]`, the value is stored (or
//!   popped), then `SetupFinally(H)`; normal exit calls `exit(None, None,
//!   None)`; `H`: `[exit, exc]` → `PushExcInfo` → `WithExceptStart` →
//!   `PopJumpIfTrue(suppress)` → `Reraise`; suppress: `Pop, PopExcept, Pop`.
//! - comprehensions are functions taking the outermost iterator as their
//!   only argument (`.0`); the accumulator sits below the iterators, so
//!   `ListAppend(n)` uses `n = number of loops + 1`.

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use crate::compile::code::{flags, BinaryOpKind, Code, CompareKind, Const, Instr, UnaryOpKind};
use crate::compile::flow;
use crate::compile::interned;
use crate::compile::lines::LineIndex;
use crate::compile::symtable::{self, mangle, Binding, ScopeId, ScopeKind, SymbolTable};
use crate::syntax::ast::*;
use crate::syntax::{SyntaxError, SyntaxErrorKind};

/// Guard against deep ASTs on the Rust stack (the parser already limits
/// expression nesting to 2999).
const MAX_DEPTH: u32 = 3200;

/// Compile a module body. `filename` is recorded in every code object for
/// tracebacks. Scoping errors (e.g. `nonlocal` at module level, `return`
/// outside a function) are SyntaxErrors. Line numbers come from the source
/// text `parse_module` saw (see [`crate::compile::lines`]).
pub fn compile_module(module: &Module, filename: &str) -> Result<Arc<Code>, SyntaxError> {
    let index = LineIndex::for_module(module);
    compile(module, index, None, filename, false)
}

/// Like [`compile_module`], with the source text given explicitly.
pub fn compile_module_with_source(
    module: &Module,
    source: &str,
    filename: &str,
) -> Result<Arc<Code>, SyntaxError> {
    compile(
        module,
        LineIndex::new(source),
        Some(source),
        filename,
        false,
    )
}

/// For `eval()`: a module that is one expression statement, compiled to
/// return the expression's value. Anything else is "invalid syntax".
pub fn compile_eval(
    module: &Module,
    source: &str,
    filename: &str,
) -> Result<Arc<Code>, SyntaxError> {
    let expr = match module.body.as_slice() {
        [Stmt {
            kind: StmtKind::Expr(e),
            ..
        }] => e,
        [first, ..] => return Err(err("invalid syntax", eval_error_span(first, source))),
        [] => {
            let end = source.len();
            return Err(err("invalid syntax", Span::new(end, end)));
        }
    };
    let table = symtable::build(module)?;
    let mut c = Compiler {
        table,
        filename: Arc::from(filename),
        lines: LineIndex::new(source),
        source: Some(Rc::from(source)),
        unit: Unit::new(0, ScopeKind::Module, "<module>", "<module>".into(), None),
        outer: Vec::new(),
        interactive: false,
        future_annotations: false,
        depth: 0,
    };
    c.unit.first_line = 1;
    c.unit.span = module.body[0].span;
    c.expr(expr)?;
    c.emit(Instr::ReturnValue);
    let unit = std::mem::replace(
        &mut c.unit,
        Unit::new(0, ScopeKind::Module, "", String::new(), None),
    );
    Ok(Arc::new(c.finish(unit)?))
}

/// Where CPython's expression grammar stops on a statement given to `eval`:
/// the token after an assignment's target (or after a first expression), else
/// the statement's keyword.
pub fn eval_error_span(stmt: &Stmt, source: &str) -> Span {
    let after = match &stmt.kind {
        StmtKind::Assign { targets, .. } => targets.first().map(|t| t.span.end),
        StmtKind::AugAssign { target, .. } | StmtKind::AnnAssign { target, .. } => {
            Some(target.span.end)
        }
        StmtKind::Expr(e) => Some(e.span.end),
        _ => None,
    };
    let bytes = source.as_bytes();
    let run = |from: usize, pred: fn(u8) -> bool| {
        let len = bytes[from.min(bytes.len())..]
            .iter()
            .take_while(|&&b| pred(b))
            .count();
        Span::new(from, from + len.max(1))
    };
    match after {
        Some(end) => {
            let mut i = end as usize;
            while i < bytes.len() && matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r') {
                i += 1;
            }
            match bytes.get(i) {
                Some(b'=' | b':' | b';') => Span::new(i, i + 1),
                _ => run(i, |b| b"+-*/%@&|^<>=!".contains(&b)),
            }
        }
        None => run(stmt.span.start as usize, |b| b.is_ascii_alphabetic()),
    }
}

/// For the REPL: expression statements print their value (`PrintExpr`).
pub fn compile_interactive(
    module: &Module,
    source: &str,
    filename: &str,
) -> Result<Arc<Code>, SyntaxError> {
    compile(module, LineIndex::new(source), Some(source), filename, true)
}

fn compile(
    module: &Module,
    lines: LineIndex,
    source: Option<&str>,
    filename: &str,
    interactive: bool,
) -> Result<Arc<Code>, SyntaxError> {
    let table = symtable::build(module)?;
    check_block_nesting(&module.body, 0)?;
    let mut c = Compiler {
        table,
        filename: Arc::from(filename),
        lines,
        source: source.map(Rc::from),
        unit: Unit::new(0, ScopeKind::Module, "<module>", "<module>".into(), None),
        outer: Vec::new(),
        interactive,
        future_annotations: false,
        depth: 0,
    };
    c.unit.first_line = 1;
    c.module_body(&module.body)?;
    let unit = std::mem::replace(
        &mut c.unit,
        Unit::new(0, ScopeKind::Module, "", String::new(), None),
    );
    Ok(Arc::new(c.finish(unit)?))
}

fn err(msg: impl Into<String>, span: Span) -> SyntaxError {
    SyntaxError {
        kind: SyntaxErrorKind::SyntaxError,
        msg: msg.into(),
        span,
        at_eof: false,
        quote: None,
    }
}

/// CPython's limit on blocks (loops, `try`, `with` items, `except` bodies)
/// open at once in one function body.
const MAX_BLOCKS: u32 = 20;

/// Reject bodies nested deeper than [`MAX_BLOCKS`], counting blocks the way
/// CPython's compiler does: one per loop, `with` item, `try` body and
/// `finally` body, two per `except` body; `if` is free and a `def` or
/// `class` starts again from zero.
fn check_block_nesting(body: &[Stmt], depth: u32) -> Result<(), SyntaxError> {
    let open = |cost: u32, span: Span| {
        if depth + cost > MAX_BLOCKS {
            Err(err("too many statically nested blocks", span))
        } else {
            Ok(depth + cost)
        }
    };
    for s in body {
        match &s.kind {
            StmtKind::If { body, orelse, .. } => {
                check_block_nesting(body, depth)?;
                check_block_nesting(orelse, depth)?;
            }
            StmtKind::While { body, orelse, .. } | StmtKind::For { body, orelse, .. } => {
                check_block_nesting(body, open(1, s.span)?)?;
                check_block_nesting(orelse, depth)?;
            }
            StmtKind::With { items, body, .. } => {
                let count = items
                    .iter()
                    .map(|item| match (&item.context.kind, &item.target) {
                        (ExprKind::Tuple(elts), None) if !elts.is_empty() => elts.len() as u32,
                        _ => 1,
                    })
                    .sum();
                check_block_nesting(body, open(count, s.span)?)?;
            }
            StmtKind::Try {
                body,
                handlers,
                orelse,
                finalbody,
            } => {
                let outer = if finalbody.is_empty() { 0 } else { 1 };
                let guarded = if handlers.is_empty() { 0 } else { 1 };
                check_block_nesting(body, open(outer + guarded, s.span)?)?;
                for h in handlers {
                    let at = open(outer, s.span)?;
                    let inner = at + 2;
                    if inner > MAX_BLOCKS {
                        return Err(err("too many statically nested blocks", h.span));
                    }
                    check_block_nesting(&h.body, inner)?;
                }
                check_block_nesting(orelse, open(outer, s.span)?)?;
                check_block_nesting(finalbody, open(outer, s.span)?)?;
            }
            StmtKind::FunctionDef(f) => check_block_nesting(&f.body, 0)?,
            StmtKind::ClassDef(c) => check_block_nesting(&c.body, 0)?,
            _ => {}
        }
    }
    Ok(())
}

/// Expressions nested beyond [`MAX_DEPTH`]: a RecursionError, as in CPython.
fn too_deep(span: Span) -> SyntaxError {
    SyntaxError {
        kind: SyntaxErrorKind::TooDeep,
        msg: "maximum recursion depth exceeded during compilation".into(),
        span,
        at_eof: false,
        quote: None,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Label(usize);

/// What `break`/`continue`/`return` must undo on their way out.
#[derive(Clone)]
enum FBlock<'a> {
    While {
        cont: Label,
        brk: Label,
    },
    For {
        cont: Label,
        brk: Label,
    },
    TryExcept,
    /// In the body of a `try` with a `finally`: run the final body.
    FinallyTry(&'a [Stmt]),
    /// In the final body run for an exception: `[prev, exc]` on the stack.
    FinallyEnd,
    /// In a `with` body: `[exit]` on the stack.
    With,
    /// In an `except` clause body: `[prev]` on the stack.
    Handler(Option<Name>),
    /// In an `except*` clause body, which `break`, `continue` and `return`
    /// may not leave.
    StarHandler,
    /// A `finally` body run by `return`: the return value is on the stack
    /// (a `break`/`continue` there drops it).
    PopValue,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum ConstKey {
    None,
    Bool(bool),
    Ellipsis,
    Int(i64),
    BigInt(Arc<str>),
    Float(u64),
    Complex(u64, u64),
    Str(Arc<str>),
    Bytes(Arc<[u8]>),
    Tuple(Vec<ConstKey>),
    Code(usize),
}

fn const_key(c: &Const) -> ConstKey {
    match c {
        Const::None => ConstKey::None,
        Const::Bool(b) => ConstKey::Bool(*b),
        Const::Ellipsis => ConstKey::Ellipsis,
        Const::Int(i) => ConstKey::Int(*i),
        Const::BigInt(s) => ConstKey::BigInt(s.clone()),
        Const::Float(f) => ConstKey::Float(f.to_bits()),
        Const::Complex(re, im) => ConstKey::Complex(re.to_bits(), im.to_bits()),
        Const::Str(s) => ConstKey::Str(s.clone()),
        Const::Bytes(b) => ConstKey::Bytes(b.clone()),
        Const::Tuple(t) => ConstKey::Tuple(t.iter().map(const_key).collect()),
        Const::Code(c) => ConstKey::Code(Arc::as_ptr(c) as usize),
    }
}

struct Unit<'a> {
    scope: ScopeId,
    kind: ScopeKind,
    name: Arc<str>,
    qualname: String,
    /// Enclosing class name, for private name mangling.
    private: Option<Name>,
    instrs: Vec<Instr>,
    spans: Vec<Span>,
    /// Label targets, and the instructions whose operand is still a label.
    labels: Vec<Option<usize>>,
    fixups: Vec<usize>,
    consts: Vec<Const>,
    const_index: HashMap<ConstKey, u32>,
    names: Vec<Arc<str>>,
    name_index: HashMap<Arc<str>, u32>,
    varnames: Vec<Arc<str>>,
    var_index: HashMap<Arc<str>, u32>,
    cellvars: Vec<Arc<str>>,
    freevars: Vec<Arc<str>>,
    argcount: u32,
    posonlyargcount: u32,
    kwonlyargcount: u32,
    flags: u32,
    first_line: u32,
    fblocks: Vec<FBlock<'a>>,
    span: Span,
}

impl<'a> Unit<'a> {
    fn new(
        scope: ScopeId,
        kind: ScopeKind,
        name: &str,
        qualname: String,
        private: Option<Name>,
    ) -> Unit<'a> {
        Unit {
            scope,
            kind,
            name: Arc::from(name),
            qualname,
            private,
            instrs: Vec::new(),
            spans: Vec::new(),
            labels: Vec::new(),
            fixups: Vec::new(),
            consts: Vec::new(),
            const_index: HashMap::new(),
            names: Vec::new(),
            name_index: HashMap::new(),
            varnames: Vec::new(),
            var_index: HashMap::new(),
            cellvars: Vec::new(),
            freevars: Vec::new(),
            argcount: 0,
            posonlyargcount: 0,
            kwonlyargcount: 0,
            flags: 0,
            first_line: 1,
            fblocks: Vec::new(),
            span: Span::default(),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
enum Ctx {
    Load,
    Store,
    Del,
}

struct Compiler<'a> {
    table: SymbolTable,
    filename: Arc<str>,
    lines: LineIndex,
    /// The source text, for the line quoted under a SyntaxWarning.
    source: Option<Rc<str>>,
    unit: Unit<'a>,
    outer: Vec<Unit<'a>>,
    interactive: bool,
    future_annotations: bool,
    depth: u32,
}

type R<T = ()> = Result<T, SyntaxError>;

fn docstring(body: &[Stmt]) -> Option<Rc<str>> {
    match body.first().map(|s| &s.kind) {
        Some(StmtKind::Expr(Expr {
            kind: ExprKind::Constant(Constant::Str(s)),
            ..
        })) => Some(s.clone()),
        _ => None,
    }
}

/// Where an implicit `return None` goes: the start of the last statement.
fn tail_span(body: &[Stmt], fallback: Span) -> Span {
    body.last().map_or(fallback, |s| Span {
        start: s.span.start,
        end: s.span.start,
    })
}

fn binop_kind(op: BinOp, inplace: bool) -> BinaryOpKind {
    let k = match op {
        BinOp::Add => BinaryOpKind::Add,
        BinOp::Sub => BinaryOpKind::Sub,
        BinOp::Mult => BinaryOpKind::Mul,
        BinOp::MatMult => BinaryOpKind::MatMul,
        BinOp::Div => BinaryOpKind::TrueDiv,
        BinOp::FloorDiv => BinaryOpKind::FloorDiv,
        BinOp::Mod => BinaryOpKind::Mod,
        BinOp::Pow => BinaryOpKind::Pow,
        BinOp::LShift => BinaryOpKind::LShift,
        BinOp::RShift => BinaryOpKind::RShift,
        BinOp::BitOr => BinaryOpKind::Or,
        BinOp::BitXor => BinaryOpKind::Xor,
        BinOp::BitAnd => BinaryOpKind::And,
    };
    if inplace {
        BinaryOpKind::from_u32(k as u32 + 13)
    } else {
        k
    }
}

/// Whether a body has an annotated assignment outside nested scopes
/// (CPython's `find_ann`).
fn has_annotations(body: &[Stmt]) -> bool {
    body.iter().any(|s| match &s.kind {
        StmtKind::AnnAssign { .. } => true,
        StmtKind::If { body, orelse, .. }
        | StmtKind::While { body, orelse, .. }
        | StmtKind::For { body, orelse, .. } => has_annotations(body) || has_annotations(orelse),
        StmtKind::With { body, .. } => has_annotations(body),
        StmtKind::Try {
            body,
            handlers,
            orelse,
            finalbody,
        } => {
            has_annotations(body)
                || handlers.iter().any(|h| has_annotations(&h.body))
                || has_annotations(orelse)
                || has_annotations(finalbody)
        }
        _ => false,
    })
}

/// Where CPython 3.11 locates a failed assert: the statement, except that
/// the last comparison its conditional jumps compiled leaks its location
/// (`assert x == 2` points at `x == 2`, `assert x` at the whole statement).
fn assert_span(test: &Expr) -> Option<Span> {
    match &test.kind {
        ExprKind::Compare { .. } => Some(test.span),
        ExprKind::UnaryOp {
            op: UnaryOp::Not,
            operand,
        } => assert_span(operand),
        ExprKind::BoolOp { values, .. } => values.iter().rev().find_map(assert_span),
        ExprKind::IfExp { test, body, orelse } => [test, body, orelse]
            .into_iter()
            .rev()
            .find_map(|e| assert_span(e)),
        _ => None,
    }
}

impl<'a> Compiler<'a> {
    // ------------------------------------------------------------ emission

    fn emit(&mut self, i: Instr) -> usize {
        self.unit.instrs.push(i);
        self.unit.spans.push(self.unit.span);
        self.unit.instrs.len() - 1
    }

    fn emit_at(&mut self, i: Instr, span: Span) -> usize {
        let saved = std::mem::replace(&mut self.unit.span, span);
        let at = self.emit(i);
        self.unit.span = saved;
        at
    }

    fn new_label(&mut self) -> Label {
        self.unit.labels.push(None);
        Label(self.unit.labels.len() - 1)
    }

    fn bind(&mut self, l: Label) {
        self.unit.labels[l.0] = Some(self.unit.instrs.len());
    }

    fn jump(&mut self, make: fn(u32) -> Instr, l: Label) {
        let at = self.emit(make(l.0 as u32));
        self.unit.fixups.push(at);
    }

    fn add_const(&mut self, c: Const) -> u32 {
        let key = const_key(&c);
        if let Some(&i) = self.unit.const_index.get(&key) {
            return i;
        }
        let i = self.unit.consts.len() as u32;
        self.unit.consts.push(c);
        self.unit.const_index.insert(key, i);
        i
    }

    fn load_const(&mut self, c: Const) {
        let i = self.add_const(c);
        self.emit(Instr::LoadConst(i));
    }

    fn name_index(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.unit.name_index.get(name) {
            return i;
        }
        let i = self.unit.names.len() as u32;
        let name: Arc<str> = Arc::from(name);
        self.unit.names.push(name.clone());
        self.unit.name_index.insert(name, i);
        i
    }

    fn var_index(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.unit.var_index.get(name) {
            return i;
        }
        let i = self.unit.varnames.len() as u32;
        let name: Arc<str> = Arc::from(name);
        self.unit.varnames.push(name.clone());
        self.unit.var_index.insert(name, i);
        i
    }

    fn cell_index(&self, name: &str) -> R<u32> {
        if let Some(i) = self.unit.cellvars.iter().position(|c| &**c == name) {
            return Ok(i as u32);
        }
        if let Some(i) = self.unit.freevars.iter().position(|c| &**c == name) {
            return Ok((self.unit.cellvars.len() + i) as u32);
        }
        Err(err(
            format!("internal compiler error: no cell for '{name}'"),
            self.unit.span,
        ))
    }

    fn mangled(&self, name: &Name) -> Name {
        mangle(self.unit.private.as_deref(), name)
    }

    fn line(&self, offset: u32) -> u32 {
        self.lines.line(offset)
    }

    // ------------------------------------------------------------ names

    fn name_op(&mut self, name: &Name, ctx: Ctx) -> R {
        #[derive(PartialEq)]
        enum Op {
            Fast,
            Deref,
            ClassDeref,
            Global,
            Name,
        }
        let name = self.mangled(name);
        let binding = self.table.scopes[self.unit.scope].binding(&name);
        let op = match self.unit.kind {
            k if k.is_function() => match binding {
                Binding::Local => Op::Fast,
                Binding::Cell | Binding::Free => Op::Deref,
                Binding::GlobalExplicit | Binding::GlobalImplicit => Op::Global,
            },
            ScopeKind::Class => match binding {
                Binding::GlobalExplicit => Op::Global,
                Binding::Free if ctx == Ctx::Load => Op::ClassDeref,
                Binding::Free => Op::Deref,
                _ => Op::Name,
            },
            _ => match binding {
                Binding::GlobalExplicit => Op::Global,
                _ => Op::Name,
            },
        };
        let instr = match op {
            Op::Fast => {
                let i = self.var_index(&name);
                [
                    Instr::LoadFast(i),
                    Instr::StoreFast(i),
                    Instr::DeleteFast(i),
                ]
            }
            Op::Deref | Op::ClassDeref => {
                let i = self.cell_index(&name)?;
                let load = if op == Op::ClassDeref {
                    Instr::LoadClassDeref(i)
                } else {
                    Instr::LoadDeref(i)
                };
                [load, Instr::StoreDeref(i), Instr::DeleteDeref(i)]
            }
            Op::Global => {
                let i = self.name_index(&name);
                [
                    Instr::LoadGlobal(i),
                    Instr::StoreGlobal(i),
                    Instr::DeleteGlobal(i),
                ]
            }
            Op::Name => {
                let i = self.name_index(&name);
                [
                    Instr::LoadName(i),
                    Instr::StoreName(i),
                    Instr::DeleteName(i),
                ]
            }
        };
        self.emit(instr[ctx as usize]);
        Ok(())
    }

    fn store_name_str(&mut self, name: &str) -> R {
        self.name_op(&Rc::from(name), Ctx::Store)
    }

    // ------------------------------------------------------------ units

    /// Start compiling the code object of scope `id`.
    fn enter(&mut self, id: ScopeId, name: &str, qualname: String, first_line: u32) {
        let scope = &self.table.scopes[id];
        let private = if scope.kind == ScopeKind::Class {
            Some(scope.name.clone())
        } else {
            scope.private.clone()
        };
        let mut unit = Unit::new(id, scope.kind, name, qualname, private);
        unit.first_line = first_line;
        for p in &scope.params {
            let slot = unit.varnames.len() as u32;
            let p: Arc<str> = Arc::from(&**p);
            unit.varnames.push(p.clone());
            unit.var_index.insert(p, slot);
        }
        unit.cellvars = scope.cellvars().iter().map(|n| Arc::from(&**n)).collect();
        unit.freevars = scope.freevars().iter().map(|n| Arc::from(&**n)).collect();
        if scope.kind.is_function() {
            if scope.is_generator {
                unit.flags |= flags::GENERATOR;
            }
            if scope.is_coroutine {
                unit.flags |= flags::COROUTINE;
            }
        } else {
            unit.flags |= flags::NAME_LOCALS;
        }
        let outer = std::mem::replace(&mut self.unit, unit);
        self.outer.push(outer);
    }

    /// Finish the current unit and return to the enclosing one.
    fn leave(&mut self) -> R<Arc<Code>> {
        let outer = self
            .outer
            .pop()
            .ok_or_else(|| err("internal compiler error: unit stack", Span::default()))?;
        let unit = std::mem::replace(&mut self.unit, outer);
        Ok(Arc::new(self.finish(unit)?))
    }

    fn finish(&self, mut unit: Unit<'a>) -> R<Code> {
        for &at in &unit.fixups {
            let resolve = |l: u32| {
                unit.labels
                    .get(l as usize)
                    .copied()
                    .flatten()
                    .map(|t| t as u32)
            };
            let fixed = match unit.instrs[at] {
                Instr::Jump(l) => resolve(l).map(Instr::Jump),
                Instr::PopJumpIfFalse(l) => resolve(l).map(Instr::PopJumpIfFalse),
                Instr::PopJumpIfTrue(l) => resolve(l).map(Instr::PopJumpIfTrue),
                Instr::JumpIfFalseOrPop(l) => resolve(l).map(Instr::JumpIfFalseOrPop),
                Instr::JumpIfTrueOrPop(l) => resolve(l).map(Instr::JumpIfTrueOrPop),
                Instr::ForIter(l) => resolve(l).map(Instr::ForIter),
                Instr::SetupExcept(l) => resolve(l).map(Instr::SetupExcept),
                Instr::SetupFinally(l) => resolve(l).map(Instr::SetupFinally),
                other => Some(other),
            };
            unit.instrs[at] = fixed
                .ok_or_else(|| err("internal compiler error: unbound label", unit.spans[at]))?;
        }
        let lines: Vec<u32> = unit.spans.iter().map(|s| self.line(s.start)).collect();
        let max_stack = flow::max_stack(&unit.instrs)
            .map_err(|m| err(format!("internal compiler error: {m}"), Span::default()))?;
        let attr_sites = crate::compile::optimize::fuse(&mut unit.instrs);
        let cell2arg = unit
            .cellvars
            .iter()
            .map(|c| {
                let nparams = self.table.scopes[unit.scope].params.len();
                unit.varnames[..nparams.min(unit.varnames.len())]
                    .iter()
                    .position(|v| v == c)
                    .map(|i| i as u32)
            })
            .collect();
        Ok(Code {
            name: unit.name,
            qualname: Arc::from(unit.qualname),
            filename: self.filename.clone(),
            instrs: unit.instrs,
            spans: unit.spans,
            lines,
            consts: unit.consts,
            names: unit.names,
            varnames: unit.varnames,
            cellvars: unit.cellvars,
            cell2arg,
            freevars: unit.freevars,
            argcount: unit.argcount,
            posonlyargcount: unit.posonlyargcount,
            kwonlyargcount: unit.kwonlyargcount,
            flags: unit.flags,
            first_line: unit.first_line,
            max_stack,
            attr_sites,
        })
    }

    /// CPython's qualified name for a definition named `name` in the current unit.
    fn qualname(&self, name: &Name) -> String {
        match self.unit.kind {
            ScopeKind::Module => name.to_string(),
            kind => {
                let mangled = self.mangled(name);
                let scope = &self.table.scopes[self.unit.scope];
                if kind.is_function() && scope.binding(&mangled) == Binding::GlobalExplicit {
                    return name.to_string();
                }
                if kind == ScopeKind::Class && scope.binding(&mangled) == Binding::GlobalExplicit {
                    return name.to_string();
                }
                if kind.is_function() {
                    format!("{}.<locals>.{name}", self.unit.qualname)
                } else {
                    format!("{}.{name}", self.unit.qualname)
                }
            }
        }
    }

    /// Push the closure tuple a child code object needs (flag 8), if any.
    fn closure(&mut self, child: &Code) -> R<u32> {
        if child.freevars.is_empty() {
            return Ok(0);
        }
        for name in &child.freevars {
            let i = self.cell_index(name)?;
            self.emit(Instr::LoadClosure(i));
        }
        self.emit(Instr::BuildTuple(child.freevars.len() as u32));
        Ok(8)
    }

    /// `[extras.., code, qualname] → [function]`.
    fn make_function(&mut self, code: Arc<Code>, extra_flags: u32) -> R {
        let closure = self.closure(&code)?;
        let qualname = code.qualname.clone();
        self.load_const(Const::Code(code));
        self.load_const(Const::Str(qualname));
        self.emit(Instr::MakeFunction(extra_flags | closure));
        Ok(())
    }

    // ------------------------------------------------------------ statements

    fn module_body(&mut self, body: &'a [Stmt]) -> R {
        self.setup_annotations(body);
        let mut rest = body;
        if let Some(doc) = docstring(body) {
            self.unit.span = body[0].span;
            self.load_const(Const::Str(Arc::from(&*doc)));
            self.store_name_str("__doc__")?;
            rest = &body[1..];
        }
        // `from __future__` imports must come first.
        let is_future = |s: &Stmt| matches!(&s.kind, StmtKind::ImportFrom { module: Some(m), level: 0, .. } if &**m == "__future__");
        let leading = rest.iter().take_while(|s| is_future(s)).count();
        if let Some(late) = rest[leading..].iter().find(|s| is_future(s)) {
            return Err(err(
                "from __future__ imports must occur at the beginning of the file",
                late.span,
            ));
        }
        self.stmts(rest)?;
        self.unit.span = tail_span(body, Span::default());
        self.load_const(Const::None);
        self.emit(Instr::ReturnValue);
        Ok(())
    }

    /// CPython's SETUP_ANNOTATIONS: a module or class body with annotated
    /// assignments starts with an empty `__annotations__` dict.
    fn setup_annotations(&mut self, body: &[Stmt]) {
        if !has_annotations(body) {
            return;
        }
        self.emit(Instr::BuildMap(0));
        let i = self.name_index("__annotations__");
        self.emit(Instr::StoreName(i));
    }

    fn stmts(&mut self, body: &'a [Stmt]) -> R {
        body.iter().try_for_each(|s| self.stmt(s))
    }

    fn stmt(&mut self, s: &'a Stmt) -> R {
        self.unit.span = s.span;
        match &s.kind {
            StmtKind::Expr(e) => {
                if self.interactive && self.unit.kind == ScopeKind::Module && self.outer.is_empty()
                {
                    self.expr(e)?;
                    self.emit(Instr::PrintExpr);
                } else if !matches!(e.kind, ExprKind::Constant(_)) {
                    self.expr(e)?;
                    self.emit(Instr::Pop);
                }
                Ok(())
            }
            StmtKind::Assign { targets, value } => {
                self.expr(value)?;
                for (i, t) in targets.iter().enumerate() {
                    if i + 1 < targets.len() {
                        self.emit(Instr::Copy(1));
                    }
                    self.store_target(t)?;
                }
                Ok(())
            }
            StmtKind::AugAssign { target, op, value } => self.aug_assign(target, *op, value),
            StmtKind::AnnAssign {
                target,
                annotation,
                value,
            } => {
                // As CPython: the value first, then (in module and class
                // bodies only) the annotation, evaluated and discarded since
                // `__annotations__` is not kept.
                if let Some(v) = value {
                    self.expr(v)?;
                    self.store_target(target)?;
                } else if !matches!(target.kind, ExprKind::Name(_)) && !self.unit.kind.is_function()
                {
                    // CPython evaluates the target's object for `a.b: int`.
                    match &target.kind {
                        ExprKind::Attribute { value, .. } => {
                            self.expr(value)?;
                            self.emit(Instr::Pop);
                        }
                        ExprKind::Subscript { value, index } => {
                            self.expr(value)?;
                            self.emit(Instr::Pop);
                            self.expr(index)?;
                            self.emit(Instr::Pop);
                        }
                        _ => {}
                    }
                }
                if self.unit.kind.is_function() {
                    // Not evaluated, as in CPython.
                } else if let ExprKind::Name(name) = &target.kind {
                    // `__annotations__[name] = annotation`
                    self.annotation_value(annotation)?;
                    let i = self.name_index("__annotations__");
                    self.emit(Instr::LoadName(i));
                    let key = self.mangled(name);
                    self.load_const(Const::Str(Arc::from(&*key)));
                    self.emit(Instr::StoreSubscr);
                } else if !self.future_annotations {
                    self.expr(annotation)?;
                    self.emit(Instr::Pop);
                }
                Ok(())
            }
            StmtKind::Pass => Ok(()),
            StmtKind::Break => self.break_stmt(s.span),
            StmtKind::Continue => self.continue_stmt(s.span),
            StmtKind::Return(v) => self.return_stmt(v.as_ref(), s.span),
            StmtKind::Raise { exc, cause } => {
                let n = match (exc, cause) {
                    (None, _) => 0,
                    (Some(e), None) => {
                        self.expr(e)?;
                        1
                    }
                    (Some(e), Some(c)) => {
                        self.expr(e)?;
                        self.expr(c)?;
                        2
                    }
                };
                self.emit_at(Instr::Raise(n), s.span);
                Ok(())
            }
            StmtKind::Global(_) | StmtKind::Nonlocal(_) => Ok(()),
            StmtKind::Del(targets) => targets.iter().try_for_each(|t| self.delete(t)),
            StmtKind::Assert { test, msg } => {
                if matches!(&test.kind, ExprKind::Tuple(v) if !v.is_empty()) {
                    let msg = "assertion is always true, perhaps remove parentheses?";
                    self.warn(msg.to_string(), s.span);
                }
                let end = self.new_label();
                self.jump_if(test, true, end)?;
                let at = assert_span(test).unwrap_or(s.span);
                self.unit.span = at;
                self.emit(Instr::LoadAssertionError);
                if let Some(m) = msg {
                    self.expr(m)?;
                    self.emit_at(Instr::Call(1), at);
                }
                self.emit_at(Instr::Raise(1), at);
                self.bind(end);
                Ok(())
            }
            StmtKind::If { test, body, orelse } => self.if_stmt(test, body, orelse),
            StmtKind::While { test, body, orelse } => self.while_stmt(test, body, orelse),
            StmtKind::For {
                target,
                iter,
                body,
                orelse,
                is_async,
            } => {
                if *is_async {
                    let msg = if self.unit.flags & flags::COROUTINE == 0 {
                        "'async for' outside async function"
                    } else {
                        "'async for' is not supported yet"
                    };
                    return Err(err(msg, s.span));
                }
                self.for_stmt(target, iter, body, orelse, s.span)
            }
            StmtKind::With {
                items,
                body,
                is_async,
            } => {
                if *is_async {
                    let msg = if self.unit.flags & flags::COROUTINE == 0 {
                        "'async with' outside async function"
                    } else {
                        "'async with' is not supported yet"
                    };
                    return Err(err(msg, s.span));
                }
                // `with (a, b):` means two context managers, as in CPython 3.9+
                // (a tuple is never one).
                let mut flat: Vec<(&'a Expr, Option<&'a Expr>)> = Vec::new();
                for item in items {
                    match (&item.context.kind, &item.target) {
                        (ExprKind::Tuple(elts), None)
                            if !elts.is_empty()
                                && !elts.iter().any(|e| matches!(e.kind, ExprKind::Starred(_))) =>
                        {
                            flat.extend(elts.iter().map(|e| (e, None)));
                        }
                        _ => flat.push((&item.context, item.target.as_ref())),
                    }
                }
                self.with_stmt(&flat, body, s.span)
            }
            StmtKind::Try {
                body,
                handlers,
                orelse,
                finalbody,
            } => {
                if finalbody.is_empty() {
                    self.try_except(body, handlers, orelse)
                } else {
                    self.try_finally(body, handlers, orelse, finalbody)
                }
            }
            StmtKind::FunctionDef(f) => self.function_def(f),
            StmtKind::ClassDef(c) => self.class_def(c),
            StmtKind::Import(aliases) => {
                for a in aliases {
                    self.unit.span = s.span;
                    self.load_const(Const::Int(0));
                    self.load_const(Const::None);
                    let i = self.name_index(&a.name);
                    self.emit(Instr::ImportName(i));
                    match &a.asname {
                        Some(asname) => {
                            // `import a.b.c as d` binds the submodule.
                            let parts: Vec<&str> = a.name.split('.').collect();
                            for (k, part) in parts.iter().enumerate().skip(1) {
                                let i = self.name_index(part);
                                self.emit(Instr::ImportFrom(i));
                                self.emit(Instr::Swap(2));
                                self.emit(Instr::Pop);
                                let _ = k;
                            }
                            self.name_op(asname, Ctx::Store)?;
                        }
                        None => {
                            let first: Name = Rc::from(a.name.split('.').next().unwrap_or(&a.name));
                            self.name_op(&first, Ctx::Store)?;
                        }
                    }
                }
                Ok(())
            }
            StmtKind::ImportFrom {
                module,
                names,
                level,
                star,
            } => self.import_from(module.as_ref(), names, *level, *star, s.span),
        }
    }

    fn import_from(
        &mut self,
        module: Option<&Name>,
        names: &[Alias],
        level: u32,
        star: bool,
        span: Span,
    ) -> R {
        if module.map(|m| &**m) == Some("__future__") && level == 0 {
            if !(self.unit.kind == ScopeKind::Module && self.outer.is_empty()) {
                return Err(err(
                    "from __future__ imports must occur at the beginning of the file",
                    span,
                ));
            }
            if star {
                return Err(err("future feature * is not defined", span));
            }
            for a in names {
                match &*a.name {
                    "annotations" => self.future_annotations = true,
                    "nested_scopes" | "generators" | "division" | "absolute_import"
                    | "with_statement" | "print_function" | "unicode_literals"
                    | "barry_as_FLUFL" | "generator_stop" => {}
                    // CPython gives these a column but no end (one caret).
                    "braces" => {
                        return Err(err(
                            "not a chance",
                            Span::new(span.start as usize, span.start as usize),
                        ))
                    }
                    other => {
                        return Err(err(
                            format!("future feature {other} is not defined"),
                            Span::new(span.start as usize, span.start as usize),
                        ))
                    }
                }
            }
            return Ok(());
        }
        self.load_const(Const::Int(level as i64));
        let fromlist: Vec<Const> = if star {
            vec![Const::Str(Arc::from("*"))]
        } else {
            names
                .iter()
                .map(|a| Const::Str(Arc::from(&*a.name)))
                .collect()
        };
        self.load_const(Const::Tuple(Arc::from(fromlist)));
        let i = self.name_index(module.map_or("", |m| &**m));
        self.emit(Instr::ImportName(i));
        if star {
            self.emit_at(Instr::ImportStar, span);
            return Ok(());
        }
        for a in names {
            let i = self.name_index(&a.name);
            self.emit_at(Instr::ImportFrom(i), span);
            self.name_op(a.asname.as_ref().unwrap_or(&a.name), Ctx::Store)?;
        }
        self.emit(Instr::Pop);
        Ok(())
    }

    fn if_stmt(&mut self, test: &'a Expr, body: &'a [Stmt], orelse: &'a [Stmt]) -> R {
        let end = self.new_label();
        let else_l = if orelse.is_empty() {
            end
        } else {
            self.new_label()
        };
        self.jump_if(test, false, else_l)?;
        self.stmts(body)?;
        if !orelse.is_empty() {
            self.jump(Instr::Jump, end);
            self.bind(else_l);
            self.stmts(orelse)?;
        }
        self.bind(end);
        Ok(())
    }

    fn while_stmt(&mut self, test: &'a Expr, body: &'a [Stmt], orelse: &'a [Stmt]) -> R {
        let (cont, brk, else_l) = (self.new_label(), self.new_label(), self.new_label());
        self.bind(cont);
        let infinite = const_truth(test) == Some(true);
        if !infinite {
            if const_truth(test) == Some(false) {
                self.jump(Instr::Jump, else_l);
            } else {
                self.jump_if(test, false, else_l)?;
            }
        }
        self.unit.fblocks.push(FBlock::While { cont, brk });
        self.stmts(body)?;
        self.unit.fblocks.pop();
        self.unit.span = test.span;
        self.jump(Instr::Jump, cont);
        self.bind(else_l);
        self.stmts(orelse)?;
        self.bind(brk);
        Ok(())
    }

    fn for_stmt(
        &mut self,
        target: &'a Expr,
        iter: &'a Expr,
        body: &'a [Stmt],
        orelse: &'a [Stmt],
        span: Span,
    ) -> R {
        let (cont, brk, else_l) = (self.new_label(), self.new_label(), self.new_label());
        self.iterable(iter)?;
        // Iteration errors are reported at the `for` statement.
        self.unit.span = span;
        self.emit(Instr::GetIter);
        self.bind(cont);
        self.jump(Instr::ForIter, else_l);
        self.store_target(target)?;
        self.unit.fblocks.push(FBlock::For { cont, brk });
        self.stmts(body)?;
        self.unit.fblocks.pop();
        self.unit.span = span;
        self.jump(Instr::Jump, cont);
        self.bind(else_l);
        self.stmts(orelse)?;
        self.bind(brk);
        Ok(())
    }

    /// Run the `finally`s and handler cleanups between here and the
    /// target: all of them for `return`, up to the innermost loop for
    /// `break` (which also pops a `for` iterator) and `continue`.
    fn unwind(
        &mut self,
        to_loop: bool,
        is_break: bool,
        preserve_tos: bool,
    ) -> R<Option<(Label, Label)>> {
        let blocks = self.unit.fblocks.clone();
        let mut found = None;
        for i in (0..blocks.len()).rev() {
            let fb = blocks[i].clone();
            if to_loop {
                if let FBlock::While { cont, brk } | FBlock::For { cont, brk } = fb {
                    if is_break && matches!(fb, FBlock::For { .. }) {
                        self.emit(Instr::Pop);
                    }
                    found = Some((cont, brk));
                    break;
                }
            }
            // A `finally` body runs outside its own block.
            self.unit.fblocks.truncate(i);
            let r = self.unwind_block(&fb, preserve_tos);
            if r.is_err() {
                self.unit.fblocks = blocks;
                return r.map(|_| None);
            }
        }
        self.unit.fblocks = blocks;
        Ok(found)
    }

    fn unwind_block(&mut self, fb: &FBlock<'a>, preserve_tos: bool) -> R {
        match fb {
            FBlock::While { .. } => {}
            FBlock::For { .. } => {
                if preserve_tos {
                    self.emit(Instr::Swap(2));
                }
                self.emit(Instr::Pop);
            }
            FBlock::TryExcept => {
                self.emit(Instr::PopBlock);
            }
            FBlock::FinallyTry(body) => {
                self.emit(Instr::PopBlock);
                let saved = self.unit.span;
                if preserve_tos {
                    self.unit.fblocks.push(FBlock::PopValue);
                }
                self.stmts(body)?;
                if preserve_tos {
                    self.unit.fblocks.pop();
                }
                self.unit.span = saved;
            }
            FBlock::PopValue => {
                if preserve_tos {
                    self.emit(Instr::Swap(2));
                }
                self.emit(Instr::Pop);
            }
            FBlock::FinallyEnd => {
                if preserve_tos {
                    self.emit(Instr::Swap(2));
                }
                self.emit(Instr::Pop);
                if preserve_tos {
                    self.emit(Instr::Swap(2));
                }
                self.emit(Instr::PopExcept);
            }
            FBlock::With => {
                self.emit(Instr::PopBlock);
                if preserve_tos {
                    self.emit(Instr::Swap(2));
                }
                self.call_exit_none();
            }
            FBlock::StarHandler => {}
            FBlock::Handler(name) => {
                if name.is_some() {
                    self.emit(Instr::PopBlock);
                }
                if preserve_tos {
                    self.emit(Instr::Swap(2));
                }
                self.emit(Instr::PopExcept);
                if let Some(n) = name {
                    self.clear_name(n)?;
                }
            }
        }
        Ok(())
    }

    /// `[exit] → []` calling `exit(None, None, None)`.
    fn call_exit_none(&mut self) {
        self.load_const(Const::None);
        self.load_const(Const::None);
        self.load_const(Const::None);
        self.emit(Instr::Call(3));
        self.emit(Instr::Pop);
    }

    /// `name = None; del name` (the end of `except E as name`).
    fn clear_name(&mut self, name: &Name) -> R {
        self.load_const(Const::None);
        self.name_op(name, Ctx::Store)?;
        self.name_op(name, Ctx::Del)
    }

    /// `break`/`continue` (to the innermost loop) or `return` may not leave
    /// an `except*` clause.
    fn check_star_exit(&self, to_loop: bool, span: Span) -> R {
        for fb in self.unit.fblocks.iter().rev() {
            match fb {
                FBlock::While { .. } | FBlock::For { .. } if to_loop => return Ok(()),
                FBlock::StarHandler => {
                    return Err(err(
                        "'break', 'continue' and 'return' cannot appear in an except* block",
                        span,
                    ))
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn break_stmt(&mut self, span: Span) -> R {
        self.check_star_exit(true, span)?;
        match self.unwind(true, true, false)? {
            Some((_, brk)) => {
                self.unit.span = span;
                self.jump(Instr::Jump, brk);
                Ok(())
            }
            None => Err(err("'break' outside loop", span)),
        }
    }

    fn continue_stmt(&mut self, span: Span) -> R {
        self.check_star_exit(true, span)?;
        match self.unwind(true, false, false)? {
            Some((cont, _)) => {
                self.unit.span = span;
                self.jump(Instr::Jump, cont);
                Ok(())
            }
            None => Err(err("'continue' not properly in loop", span)),
        }
    }

    fn return_stmt(&mut self, value: Option<&'a Expr>, span: Span) -> R {
        if !self.unit.kind.is_function() {
            return Err(err("'return' outside function", span));
        }
        self.check_star_exit(false, value.map_or(span, |v| v.span))?;
        match value {
            Some(v) => self.expr(v)?,
            None => self.load_const(Const::None),
        }
        self.unwind(false, false, true)?;
        self.emit_at(Instr::ReturnValue, span);
        Ok(())
    }

    fn try_except(
        &mut self,
        body: &'a [Stmt],
        handlers: &'a [ExceptHandler],
        orelse: &'a [Stmt],
    ) -> R {
        if handlers.is_empty() {
            self.stmts(body)?;
            return self.stmts(orelse);
        }
        if let Some(h) = handlers.iter().find(|h| h.star != handlers[0].star) {
            let at = Span::new(
                h.span.start as usize,
                h.span.start as usize + "except".len(),
            );
            return Err(err(
                "cannot have both 'except' and 'except*' on the same 'try'",
                at,
            ));
        }
        if handlers[0].star {
            return self.try_except_star(body, handlers, orelse);
        }
        let (handler, end) = self.protected_body(body, orelse)?;
        self.bind(handler);
        // `[exc]` → `[prev, exc]`
        self.unit.span = handlers[0].span;
        self.emit(Instr::PushExcInfo);
        for (i, h) in handlers.iter().enumerate() {
            self.unit.span = h.span;
            let next = self.new_label();
            match &h.typ {
                Some(t) => {
                    self.expr(t)?;
                    self.emit_at(Instr::CheckExcMatch, h.span);
                    self.jump(Instr::PopJumpIfFalse, next);
                }
                None if i + 1 < handlers.len() => {
                    // CPython points at the whole handler, body included.
                    let end = h.body.last().map_or(h.span.end, |s| s.span.end);
                    let span = Span::new(h.span.start as usize, end as usize);
                    return Err(err("default 'except:' must be last", span));
                }
                None => {}
            }
            match &h.name {
                Some(name) => {
                    self.name_op(name, Ctx::Store)?;
                    let cleanup = self.new_label();
                    self.jump(Instr::SetupFinally, cleanup);
                    self.unit.fblocks.push(FBlock::Handler(Some(name.clone())));
                    self.stmts(&h.body)?;
                    self.unit.fblocks.pop();
                    self.unit.span = h.span;
                    self.emit(Instr::PopBlock);
                    self.emit(Instr::PopExcept);
                    self.clear_name(name)?;
                    self.jump(Instr::Jump, end);
                    // An exception in the body: `[prev, exc2]`.
                    self.bind(cleanup);
                    self.clear_name(name)?;
                    self.emit(Instr::Reraise);
                }
                None => {
                    self.emit(Instr::Pop);
                    self.unit.fblocks.push(FBlock::Handler(None));
                    self.stmts(&h.body)?;
                    self.unit.fblocks.pop();
                    self.unit.span = h.span;
                    self.emit(Instr::PopExcept);
                    self.jump(Instr::Jump, end);
                }
            }
            self.bind(next);
        }
        // No clause matched: `[prev, exc]`.
        self.emit(Instr::Reraise);
        self.bind(end);
        Ok(())
    }

    /// The `try` body under a handler block, then the `else` body: returns
    /// the handler's label and the end label (both still to bind).
    fn protected_body(&mut self, body: &'a [Stmt], orelse: &'a [Stmt]) -> R<(Label, Label)> {
        let (handler, end) = (self.new_label(), self.new_label());
        self.jump(Instr::SetupExcept, handler);
        self.unit.fblocks.push(FBlock::TryExcept);
        self.stmts(body)?;
        self.unit.fblocks.pop();
        self.emit(Instr::PopBlock);
        self.stmts(orelse)?;
        self.jump(Instr::Jump, end);
        Ok((handler, end))
    }

    /// Jump to `target` when the top of the stack is None (it stays).
    fn jump_if_top_is_none(&mut self, target: Label) {
        self.emit(Instr::Copy(1));
        self.load_const(Const::None);
        self.emit(Instr::IsOp(0));
        self.jump(Instr::PopJumpIfTrue, target);
    }

    /// `try`/`except*` (PEP 654). Each clause splits off the part of the
    /// exception group (a naked exception counts as a group of one) that
    /// its type matches and runs with that; exceptions the clauses raise
    /// are collected, and what is left unhandled is raised with them at the
    /// end (`PrepReraiseStar`).
    fn try_except_star(
        &mut self,
        body: &'a [Stmt],
        handlers: &'a [ExceptHandler],
        orelse: &'a [Stmt],
    ) -> R {
        let (handler, end) = self.protected_body(body, orelse)?;
        self.bind(handler);
        self.unit.span = handlers[0].span;
        // `[exc]` → `[prev, orig, raised, rest]`
        self.emit(Instr::PushExcInfo);
        self.emit(Instr::Copy(1));
        self.emit(Instr::BuildList(0));
        self.emit(Instr::Swap(2));
        for h in handlers {
            self.unit.span = h.span;
            let (no_match, next, raised) = (self.new_label(), self.new_label(), self.new_label());
            if let Some(t) = &h.typ {
                self.expr(t)?;
            }
            // `[.., raised, rest, T]` → `[.., raised, rest, match]`
            self.emit_at(Instr::CheckEgMatch, h.span);
            self.jump_if_top_is_none(no_match);
            // The matched group is the handled exception in the body:
            // `[.., raised, rest, prev2]` once it is bound.
            self.emit(Instr::PushExcInfo);
            match &h.name {
                Some(name) => self.name_op(name, Ctx::Store)?,
                None => {
                    self.emit(Instr::Pop);
                }
            }
            self.jump(Instr::SetupExcept, raised);
            self.unit.fblocks.push(FBlock::StarHandler);
            self.stmts(&h.body)?;
            self.unit.fblocks.pop();
            self.unit.span = h.span;
            self.emit(Instr::PopBlock);
            self.emit(Instr::PopExcept);
            if let Some(name) = &h.name {
                self.clear_name(name)?;
            }
            self.jump(Instr::Jump, next);
            // The body raised: `[.., raised, rest, prev2, exc2]`.
            self.bind(raised);
            self.emit(Instr::ListAppend(3));
            self.emit(Instr::PopExcept);
            if let Some(name) = &h.name {
                self.clear_name(name)?;
            }
            self.jump(Instr::Jump, next);
            self.bind(no_match);
            self.emit(Instr::Pop);
            self.bind(next);
        }
        // `[prev, orig, raised, rest]` → `[prev, exc or None]`
        self.unit.span = handlers[0].span;
        self.emit(Instr::ListAppend(1));
        self.emit(Instr::PrepReraiseStar);
        let handled = self.new_label();
        self.jump_if_top_is_none(handled);
        self.emit(Instr::Reraise);
        self.bind(handled);
        self.emit(Instr::Pop);
        self.emit(Instr::PopExcept);
        self.bind(end);
        Ok(())
    }

    fn try_finally(
        &mut self,
        body: &'a [Stmt],
        handlers: &'a [ExceptHandler],
        orelse: &'a [Stmt],
        finalbody: &'a [Stmt],
    ) -> R {
        let (handler, end) = (self.new_label(), self.new_label());
        self.jump(Instr::SetupFinally, handler);
        self.unit.fblocks.push(FBlock::FinallyTry(finalbody));
        self.try_except(body, handlers, orelse)?;
        self.unit.fblocks.pop();
        self.emit(Instr::PopBlock);
        self.stmts(finalbody)?;
        self.jump(Instr::Jump, end);

        self.bind(handler);
        self.emit(Instr::PushExcInfo);
        self.unit.fblocks.push(FBlock::FinallyEnd);
        self.stmts(finalbody)?;
        self.unit.fblocks.pop();
        self.emit(Instr::Reraise);
        self.bind(end);
        Ok(())
    }

    fn with_stmt(
        &mut self,
        items: &[(&'a Expr, Option<&'a Expr>)],
        body: &'a [Stmt],
        span: Span,
    ) -> R {
        let Some((&(context, target), rest)) = items.split_first() else {
            return self.stmts(body);
        };
        self.expr(context)?;
        self.unit.span = span;
        self.emit(Instr::BeforeWith);
        match target {
            Some(t) => self.store_target(t)?,
            None => {
                self.emit(Instr::Pop);
            }
        }
        let (handler, end, suppress) = (self.new_label(), self.new_label(), self.new_label());
        self.jump(Instr::SetupFinally, handler);
        self.unit.fblocks.push(FBlock::With);
        if rest.is_empty() {
            self.stmts(body)?;
        } else {
            self.with_stmt(rest, body, span)?;
        }
        self.unit.fblocks.pop();
        self.unit.span = span;
        self.emit(Instr::PopBlock);
        self.call_exit_none();
        self.jump(Instr::Jump, end);

        // `[exit, exc]`
        self.bind(handler);
        self.emit(Instr::PushExcInfo);
        self.emit(Instr::WithExceptStart);
        self.jump(Instr::PopJumpIfTrue, suppress);
        self.emit(Instr::Reraise);
        self.bind(suppress);
        self.emit(Instr::Pop);
        self.emit(Instr::PopExcept);
        self.emit(Instr::Pop);
        self.bind(end);
        Ok(())
    }

    fn function_def(&mut self, f: &'a Rc<FunctionDef>) -> R {
        let span = f.span;
        for d in &f.decorators {
            self.expr(d)?;
        }
        self.unit.span = span;
        let extra = self.defaults(&f.params)?;
        let id = self
            .table
            .scope_of(&**f)
            .ok_or_else(|| err("internal compiler error: no scope", span))?;
        let first_line = self.line(f.decorators.first().map_or(span.start, |d| d.span.start));
        let qualname = self.qualname(&f.name);
        self.enter(id, &f.name, qualname, first_line);
        self.set_arg_counts(&f.params);
        let doc = docstring(&f.body);
        self.add_const(doc.map_or(Const::None, |d| Const::Str(Arc::from(&*d))));
        let body = if docstring(&f.body).is_some() {
            &f.body[1..]
        } else {
            &f.body[..]
        };
        self.stmts(body)?;
        self.unit.span = tail_span(&f.body, span);
        if !matches!(self.unit.instrs.last(), Some(Instr::ReturnValue)) || body.is_empty() {
            self.load_const(Const::None);
            self.emit(Instr::ReturnValue);
        }
        let code = self.leave()?;
        self.unit.span = span;
        self.make_function(code, extra)?;
        self.annotations(&f.params, f.returns.as_ref())?;
        for d in f.decorators.iter().rev() {
            self.emit_at(Instr::Call(1), d.span);
        }
        self.unit.span = span;
        self.name_op(&f.name, Ctx::Store)
    }

    fn set_arg_counts(&mut self, p: &Params) {
        self.unit.argcount = (p.posonly.len() + p.args.len()) as u32;
        self.unit.posonlyargcount = p.posonly.len() as u32;
        self.unit.kwonlyargcount = p.kwonly.len() as u32;
        if p.vararg.is_some() {
            self.unit.flags |= flags::VARARGS;
        }
        if p.kwarg.is_some() {
            self.unit.flags |= flags::VARKEYWORDS;
        }
    }

    /// An annotation's value: evaluated, or under `from __future__ import
    /// annotations` its source text (CPython unparses the AST; the source
    /// is the same for the usual spellings).
    fn annotation_value(&mut self, a: &'a Expr) -> R {
        if !self.future_annotations {
            return self.expr(a);
        }
        let text = self
            .source
            .as_deref()
            .and_then(|src| src.get(a.span.start as usize..a.span.end as usize))
            .unwrap_or("")
            .to_string();
        // A plain "..." literal unparses with single quotes.
        let text = match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            Some(inner) if !inner.contains(['\'', '"', '\\']) => format!("'{inner}'"),
            _ => text,
        };
        self.load_const(Const::Str(Arc::from(text.as_str())));
        Ok(())
    }

    /// Evaluate parameter and return annotations at `def` time, as CPython
    /// does, into the `__annotations__` dict of the function on the stack
    /// (right after the defaults, before any decorator runs).
    fn annotations(&mut self, p: &'a Params, returns: Option<&'a Expr>) -> R {
        let params: Vec<&Param> = p.iter().filter(|p| p.annotation.is_some()).collect();
        if params.is_empty() && returns.is_none() {
            return Ok(());
        }
        self.emit(Instr::Copy(1));
        let mut n = 0;
        for param in params {
            if let Some(a) = &param.annotation {
                let name = self.mangled(&param.name);
                self.load_const(Const::Str(Arc::from(&*name)));
                self.annotation_value(a)?;
                n += 1;
            }
        }
        if let Some(r) = returns {
            self.load_const(Const::Str(Arc::from("return")));
            self.annotation_value(r)?;
            n += 1;
        }
        self.emit(Instr::BuildMap(n));
        self.emit(Instr::Swap(2));
        let i = self.name_index("__annotations__");
        self.emit(Instr::StoreAttr(i));
        Ok(())
    }

    /// Push the defaults tuple and kw-defaults dict; returns MakeFunction flags.
    fn defaults(&mut self, p: &'a Params) -> R<u32> {
        let mut flags = 0;
        let defaults: Vec<&'a Expr> = p
            .posonly
            .iter()
            .chain(&p.args)
            .filter_map(|x| x.default.as_ref())
            .collect();
        if !defaults.is_empty() {
            self.sequence(&defaults, Seq::Tuple)?;
            flags |= 1;
        }
        let kwdefaults: Vec<(&'a Name, &'a Expr)> = p
            .kwonly
            .iter()
            .filter_map(|x| x.default.as_ref().map(|d| (&x.name, d)))
            .collect();
        if !kwdefaults.is_empty() {
            for (name, d) in &kwdefaults {
                let n = self.mangled(name);
                self.load_const(Const::Str(Arc::from(&*n)));
                self.expr(d)?;
            }
            self.emit(Instr::BuildMap(kwdefaults.len() as u32));
            flags |= 2;
        }
        Ok(flags)
    }

    fn class_def(&mut self, c: &'a Rc<ClassDef>) -> R {
        let span = c.span;
        for d in &c.decorators {
            self.expr(d)?;
        }
        self.unit.span = span;
        let id = self
            .table
            .scope_of(&**c)
            .ok_or_else(|| err("internal compiler error: no scope", span))?;
        let first_line = self.line(c.decorators.first().map_or(span.start, |d| d.span.start));
        let qualname = self.qualname(&c.name);
        self.enter(id, &c.name, qualname.clone(), first_line);
        // The body: `__module__`, `__qualname__`, docstring, statements.
        self.unit.span = span;
        self.name_op(&Rc::from("__name__"), Ctx::Load)?;
        self.store_name_str("__module__")?;
        self.load_const(Const::Str(Arc::from(qualname.as_str())));
        self.store_name_str("__qualname__")?;
        self.setup_annotations(&c.body);
        let mut body = &c.body[..];
        if let Some(doc) = docstring(body) {
            self.unit.span = body[0].span;
            self.load_const(Const::Str(Arc::from(&*doc)));
            self.store_name_str("__doc__")?;
            body = &body[1..];
        }
        self.stmts(body)?;
        self.unit.span = tail_span(&c.body, span);
        if self.table.scopes[id].needs_class_cell {
            let i = self.cell_index("__class__")?;
            self.emit(Instr::LoadClosure(i));
            self.store_name_str("__classcell__")?;
        }
        self.load_const(Const::None);
        self.emit(Instr::ReturnValue);
        let code = self.leave()?;
        self.unit.span = span;
        self.emit(Instr::LoadBuildClass);
        self.make_function(code, 0)?;
        self.load_const(Const::Str(Arc::from(&*c.name)));
        self.call_with(2, &c.bases, &c.keywords, span)?;
        for d in c.decorators.iter().rev() {
            self.emit_at(Instr::Call(1), d.span);
        }
        self.unit.span = span;
        self.name_op(&c.name, Ctx::Store)
    }

    // ------------------------------------------------------------ targets

    fn store_target(&mut self, t: &'a Expr) -> R {
        let saved = std::mem::replace(&mut self.unit.span, t.span);
        match &t.kind {
            ExprKind::Name(n) => self.name_op(n, Ctx::Store)?,
            ExprKind::Attribute { value, attr } => {
                self.expr(value)?;
                let i = self.name_index(&self.mangled(attr));
                self.emit_at(Instr::StoreAttr(i), t.span);
            }
            ExprKind::Subscript { value, index } => {
                self.expr(value)?;
                self.expr(index)?;
                self.emit_at(Instr::StoreSubscr, t.span);
            }
            ExprKind::Tuple(elts) | ExprKind::List(elts) => self.unpack(elts, t.span)?,
            ExprKind::Starred(_) => {
                return Err(err(
                    "starred assignment target must be in a list or tuple",
                    t.span,
                ))
            }
            _ => return Err(err("cannot assign to expression", t.span)),
        }
        self.unit.span = saved;
        Ok(())
    }

    fn unpack(&mut self, elts: &'a [Expr], span: Span) -> R {
        let starred: Vec<usize> = elts
            .iter()
            .enumerate()
            .filter(|(_, e)| matches!(e.kind, ExprKind::Starred(_)))
            .map(|(i, _)| i)
            .collect();
        match starred.as_slice() {
            [] => {
                self.emit_at(Instr::UnpackSequence(elts.len() as u32), span);
            }
            [i] => {
                let (before, after) = (*i, elts.len() - i - 1);
                if before > 255 || after > 255 {
                    return Err(err(
                        "too many expressions in star-unpacking assignment",
                        span,
                    ));
                }
                self.emit_at(Instr::UnpackEx(before as u32 | ((after as u32) << 8)), span);
            }
            _ => return Err(err("multiple starred expressions in assignment", span)),
        }
        for e in elts {
            match &e.kind {
                ExprKind::Starred(inner) => self.store_target(inner)?,
                _ => self.store_target(e)?,
            }
        }
        Ok(())
    }

    fn delete(&mut self, t: &'a Expr) -> R {
        self.unit.span = t.span;
        match &t.kind {
            ExprKind::Name(n) => self.name_op(n, Ctx::Del),
            ExprKind::Attribute { value, attr } => {
                self.expr(value)?;
                let i = self.name_index(&self.mangled(attr));
                self.emit_at(Instr::DeleteAttr(i), t.span);
                Ok(())
            }
            ExprKind::Subscript { value, index } => {
                self.expr(value)?;
                self.expr(index)?;
                self.emit_at(Instr::DeleteSubscr, t.span);
                Ok(())
            }
            ExprKind::Tuple(elts) | ExprKind::List(elts) => {
                elts.iter().try_for_each(|e| self.delete(e))
            }
            _ => Err(err("cannot delete expression", t.span)),
        }
    }

    fn aug_assign(&mut self, target: &'a Expr, op: BinOp, value: &'a Expr) -> R {
        let kind = binop_kind(op, true) as u32;
        match &target.kind {
            ExprKind::Name(n) => {
                self.unit.span = target.span;
                self.name_op(n, Ctx::Load)?;
                self.expr(value)?;
                self.emit_at(Instr::BinaryOp(kind), target.span.to(value.span));
                self.unit.span = target.span;
                self.name_op(n, Ctx::Store)
            }
            ExprKind::Attribute { value: obj, attr } => {
                self.expr(obj)?;
                let i = self.name_index(&self.mangled(attr));
                self.emit(Instr::Copy(1));
                self.emit_at(Instr::LoadAttr(i), target.span);
                self.expr(value)?;
                self.emit_at(Instr::BinaryOp(kind), target.span.to(value.span));
                self.emit(Instr::Swap(2));
                self.emit_at(Instr::StoreAttr(i), target.span);
                Ok(())
            }
            ExprKind::Subscript { value: obj, index } => {
                if let Some(packed) = self.fast_item_target(obj, index, value) {
                    // `local[const] op= value`: the container stays in its
                    // slot instead of being copied around the stack.
                    self.expr(obj)?;
                    self.expr(index)?;
                    self.emit_at(Instr::BinarySubscr, target.span);
                    self.expr(value)?;
                    self.emit_at(Instr::BinaryOp(kind), target.span.to(value.span));
                    self.emit_at(Instr::StoreFastItem(packed), target.span);
                    return Ok(());
                }
                self.expr(obj)?;
                self.expr(index)?;
                self.emit(Instr::Copy(2));
                self.emit(Instr::Copy(2));
                self.emit_at(Instr::BinarySubscr, target.span);
                self.expr(value)?;
                self.emit_at(Instr::BinaryOp(kind), target.span.to(value.span));
                self.emit(Instr::Swap(3));
                self.emit(Instr::Swap(2));
                self.emit_at(Instr::StoreSubscr, target.span);
                Ok(())
            }
            _ => Err(err(
                "illegal expression for augmented assignment",
                target.span,
            )),
        }
    }

    /// For `obj[index] op= value` in a function: when `obj` is a local
    /// variable, `index` a small int constant and `value` cannot rebind
    /// `obj`, the `StoreFastItem` operand (local slot | const index << 16).
    fn fast_item_target(&mut self, obj: &Expr, index: &Expr, value: &Expr) -> Option<u32> {
        let ExprKind::Name(n) = &obj.kind else {
            return None;
        };
        if !self.unit.kind.is_function() || !cannot_rebind(value) {
            return None;
        }
        let name = self.mangled(n);
        if self.table.scopes[self.unit.scope].binding(&name) != Binding::Local {
            return None;
        }
        let c @ Const::Int(_) = fold(index).or_else(|| match &index.kind {
            ExprKind::Constant(c) => Some(constant(c)),
            _ => None,
        })?
        else {
            return None;
        };
        let slot = self.var_index(&name);
        let k = self.add_const(c);
        (slot < 1 << 16 && k < 1 << 16).then_some(slot | k << 16)
    }

    // ------------------------------------------------------------ expressions

    fn expr(&mut self, e: &'a Expr) -> R {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.depth -= 1;
            return Err(too_deep(e.span));
        }
        let saved = std::mem::replace(&mut self.unit.span, e.span);
        let r = self.expr_inner(e);
        self.unit.span = saved;
        self.depth -= 1;
        r
    }

    fn expr_inner(&mut self, e: &'a Expr) -> R {
        if let Some(c) = fold(e) {
            self.load_const(c);
            return Ok(());
        }
        match &e.kind {
            // A compile-time constant in CPython.
            ExprKind::Name(n) if &**n == "__debug__" => {
                self.load_const(Const::Bool(true));
                Ok(())
            }
            ExprKind::Name(n) => self.name_op(n, Ctx::Load),
            ExprKind::Constant(c) => {
                self.load_const(constant(c));
                Ok(())
            }
            ExprKind::JoinedStr(parts) => self.fstring(parts),
            ExprKind::List(elts) => self.display(elts, Seq::List),
            ExprKind::Tuple(elts) => self.display(elts, Seq::Tuple),
            // CPython: `BUILD_SET 0` updated from a frozenset constant.
            ExprKind::Set(elts) if elts.len() > 2 && elts.iter().all(|x| fold(x).is_some()) => {
                self.emit(Instr::BuildSet(0));
                self.frozenset_const(elts)?;
                self.emit(Instr::SetUpdate(1));
                Ok(())
            }
            ExprKind::Set(elts) => self.display(elts, Seq::Set),
            ExprKind::Dict(items) => self.dict(items),
            ExprKind::Starred(_) => Err(err("can't use starred expression here", e.span)),
            ExprKind::Attribute { value, attr } => {
                self.expr(value)?;
                let i = self.name_index(&self.mangled(attr));
                self.emit_at(Instr::LoadAttr(i), self.attr_span(e, attr));
                Ok(())
            }
            ExprKind::Subscript { value, index } => {
                self.check_subscript(e, value, index);
                self.expr(value)?;
                self.expr(index)?;
                self.emit(Instr::BinarySubscr);
                Ok(())
            }
            ExprKind::Slice { lower, upper, step } => {
                for part in [lower, upper] {
                    match part {
                        Some(x) => self.expr(x)?,
                        None => self.load_const(Const::None),
                    }
                }
                if let Some(s) = step {
                    self.expr(s)?;
                    self.emit(Instr::BuildSlice(3));
                } else {
                    self.emit(Instr::BuildSlice(2));
                }
                Ok(())
            }
            ExprKind::Call {
                func,
                args,
                keywords,
            } => self.call(e, func, args, keywords),
            ExprKind::BinOp { left, op, right } => {
                self.expr(left)?;
                self.expr(right)?;
                self.emit(Instr::BinaryOp(binop_kind(*op, false) as u32));
                Ok(())
            }
            ExprKind::UnaryOp { op, operand } => {
                self.expr(operand)?;
                let k = match op {
                    UnaryOp::Neg => UnaryOpKind::Neg,
                    UnaryOp::Pos => UnaryOpKind::Pos,
                    UnaryOp::Not => UnaryOpKind::Not,
                    UnaryOp::Invert => UnaryOpKind::Invert,
                };
                self.emit(Instr::UnaryOp(k as u32));
                Ok(())
            }
            ExprKind::BoolOp { op, values } => {
                let end = self.new_label();
                let make = match op {
                    BoolOp::And => Instr::JumpIfFalseOrPop,
                    BoolOp::Or => Instr::JumpIfTrueOrPop,
                };
                for (i, v) in values.iter().enumerate() {
                    self.expr(v)?;
                    if i + 1 < values.len() {
                        self.jump(make, end);
                    }
                }
                self.bind(end);
                Ok(())
            }
            ExprKind::Compare {
                left,
                ops,
                comparators,
            } => {
                self.check_compare(e, left, ops, comparators);
                self.compare(left, ops, comparators)
            }
            ExprKind::IfExp { test, body, orelse } => {
                let (else_l, end) = (self.new_label(), self.new_label());
                self.jump_if(test, false, else_l)?;
                self.expr(body)?;
                self.jump(Instr::Jump, end);
                self.bind(else_l);
                self.expr(orelse)?;
                self.bind(end);
                Ok(())
            }
            ExprKind::Lambda { params, body } => self.lambda(e, params, body),
            ExprKind::ListComp { elt, generators } => self.comprehension(e, generators, elt, None),
            ExprKind::SetComp { elt, generators } => self.comprehension(e, generators, elt, None),
            ExprKind::GeneratorExp { elt, generators } => {
                self.comprehension(e, generators, elt, None)
            }
            ExprKind::DictComp {
                key,
                value,
                generators,
            } => self.comprehension(e, generators, key, Some(value)),
            ExprKind::Yield(v) => {
                self.check_yield(e.span)?;
                match v {
                    Some(v) => self.expr(v)?,
                    None => self.load_const(Const::None),
                }
                self.emit(Instr::YieldValue);
                Ok(())
            }
            ExprKind::YieldFrom(v) => {
                self.check_yield(e.span)?;
                if self.unit.flags & flags::COROUTINE != 0 {
                    return Err(err("'yield from' inside async function", e.span));
                }
                self.expr(v)?;
                self.emit(Instr::GetYieldFromIter);
                self.load_const(Const::None);
                self.emit(Instr::YieldFrom);
                Ok(())
            }
            ExprKind::Await(v) => {
                self.expr(v)?;
                self.emit(Instr::GetAwaitable);
                self.load_const(Const::None);
                self.emit(Instr::YieldFrom);
                Ok(())
            }
            ExprKind::NamedExpr { target, value } => {
                self.expr(value)?;
                self.emit(Instr::Copy(1));
                self.name_op(target, Ctx::Store)
            }
        }
    }

    fn check_yield(&self, span: Span) -> R {
        if self.unit.kind.is_function() {
            Ok(())
        } else {
            Err(err("'yield' outside function", span))
        }
    }

    /// CPython 3.11 reports an attribute on a later line than its object at
    /// the attribute name's line.
    fn attr_span(&self, e: &Expr, attr: &Name) -> Span {
        let (start, end) = (e.span.start, e.span.end);
        if self.line(start) != self.line(end) && (attr.len() as u32) <= end {
            Span {
                start: end - attr.len() as u32,
                end,
            }
        } else {
            e.span
        }
    }

    /// CPython's compile-time SyntaxWarnings go straight to stderr (the
    /// compiler passes no registry, so repeats are shown too).
    fn warn(&self, msg: String, span: Span) {
        let line = self.lines.line(span.start);
        let mut text = format!("{}:{line}: SyntaxWarning: {msg}\n", self.filename);
        // The warnings module reads the line back from the file: none for
        // `-c` and stdin programs.
        let pseudo = matches!(&*self.filename, "<string>" | "<stdin>");
        let quoted = self.source.as_deref().filter(|_| !pseudo).and_then(|src| {
            let l = src.split('\n').nth((line as usize).checked_sub(1)?)?.trim();
            (!l.is_empty()).then_some(l)
        });
        if let Some(l) = quoted {
            text.push_str(&format!("  {l}\n"));
        }
        let _ = std::io::Write::write_all(&mut std::io::stderr(), text.as_bytes());
    }

    /// `x is 1`: CPython's `check_compare`.
    fn check_compare(&mut self, e: &Expr, left: &Expr, ops: &[CmpOp], comparators: &[Expr]) {
        let is_literal = |x: &Expr| {
            !matches!(
                fold(x),
                None | Some(Const::None | Const::Bool(_) | Const::Ellipsis)
            )
        };
        let mut left_lit = is_literal(left);
        for (op, right) in ops.iter().zip(comparators) {
            let right_lit = is_literal(right);
            if matches!(op, CmpOp::Is | CmpOp::IsNot) && (left_lit || right_lit) {
                let msg = if *op == CmpOp::Is {
                    "\"is\" with a literal. Did you mean \"==\"?"
                } else {
                    "\"is not\" with a literal. Did you mean \"!=\"?"
                };
                self.warn(msg.to_string(), e.span);
                return;
            }
            left_lit = right_lit;
        }
    }

    /// `(1)[0]`, `[1, 2]["a"]`: CPython's `check_subscripter`/`check_index`.
    fn check_subscript(&mut self, e: &Expr, value: &Expr, index: &Expr) {
        let folded = fold(value);
        let unsubscriptable = match &value.kind {
            ExprKind::Set(_) | ExprKind::SetComp { .. } | ExprKind::GeneratorExp { .. } => true,
            ExprKind::Lambda { .. } => true,
            _ => matches!(
                folded,
                Some(
                    Const::None
                        | Const::Ellipsis
                        | Const::Int(_)
                        | Const::BigInt(_)
                        | Const::Bool(_)
                        | Const::Float(_)
                        | Const::Complex(..)
                )
            ),
        };
        if unsubscriptable {
            if let Some(t) = literal_type(value) {
                let msg = format!("'{t}' object is not subscriptable; perhaps you missed a comma?");
                self.warn(msg, e.span);
            }
            return;
        }
        let Some(index_type) = literal_type(index) else {
            return;
        };
        if matches!(index_type, "int" | "bool") {
            return;
        }
        let sequence = match &value.kind {
            ExprKind::List(_) | ExprKind::ListComp { .. } | ExprKind::Tuple(_) => true,
            ExprKind::JoinedStr(_) => true,
            _ => matches!(
                folded,
                Some(Const::Str(_) | Const::Bytes(_) | Const::Tuple(_))
            ),
        };
        if let (true, Some(t)) = (sequence, literal_type(value)) {
            let msg = format!(
                "{t} indices must be integers or slices, not {index_type}; perhaps you missed a comma?"
            );
            self.warn(msg, e.span);
        }
    }

    fn compare(&mut self, left: &'a Expr, ops: &[CmpOp], comparators: &'a [Expr]) -> R {
        self.expr(left)?;
        if ops.len() == 1 {
            match (&comparators[0].kind, ops[0]) {
                // Membership ignores table order: skip the frozenset layout.
                (ExprKind::Set(elts), CmpOp::In | CmpOp::NotIn) => self.display(elts, Seq::Set)?,
                _ => self.expr(&comparators[0])?,
            }
            self.emit(cmp_instr(ops[0]));
            return Ok(());
        }
        // a < b < c: keep each middle operand for the next comparison.
        let (cleanup, end) = (self.new_label(), self.new_label());
        for (i, (op, right)) in ops.iter().zip(comparators).enumerate() {
            self.expr(right)?;
            if i + 1 < ops.len() {
                self.emit(Instr::Swap(2));
                self.emit(Instr::Copy(2));
                self.emit(cmp_instr(*op));
                self.jump(Instr::JumpIfFalseOrPop, cleanup);
            } else {
                self.emit(cmp_instr(*op));
            }
        }
        self.jump(Instr::Jump, end);
        self.bind(cleanup);
        self.emit(Instr::Swap(2));
        self.emit(Instr::Pop);
        self.bind(end);
        Ok(())
    }

    /// Jump to `target` when `e`'s truth equals `cond`; fall through otherwise.
    fn jump_if(&mut self, e: &'a Expr, cond: bool, target: Label) -> R {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.depth -= 1;
            return Err(too_deep(e.span));
        }
        let r = self.jump_if_inner(e, cond, target);
        self.depth -= 1;
        r
    }

    fn jump_if_inner(&mut self, e: &'a Expr, cond: bool, target: Label) -> R {
        match &e.kind {
            ExprKind::UnaryOp {
                op: UnaryOp::Not,
                operand,
            } => return self.jump_if(operand, !cond, target),
            ExprKind::BoolOp { op, values } => {
                let is_or = *op == BoolOp::Or;
                if cond != is_or {
                    // Any operand deciding the other way skips to `next`.
                    let next = self.new_label();
                    let (last, init) = values
                        .split_last()
                        .ok_or_else(|| err("empty boolean operation", e.span))?;
                    for v in init {
                        self.jump_if(v, !cond, next)?;
                    }
                    self.jump_if(last, cond, target)?;
                    self.bind(next);
                } else {
                    for v in values {
                        self.jump_if(v, cond, target)?;
                    }
                }
                return Ok(());
            }
            _ => {}
        }
        if let Some(truth) = const_truth(e) {
            if truth == cond {
                self.jump(Instr::Jump, target);
            }
            return Ok(());
        }
        self.expr(e)?;
        // The truth test belongs to the enclosing statement or expression
        // (CPython reports `if obj:` failing in `__bool__` at the `if`).
        self.jump(
            if cond {
                Instr::PopJumpIfTrue
            } else {
                Instr::PopJumpIfFalse
            },
            target,
        );
        Ok(())
    }

    fn fstring(&mut self, parts: &'a [FStringPart]) -> R {
        let mut n = 0;
        for p in parts {
            match p {
                FStringPart::Literal(s) => {
                    if s.is_empty() {
                        continue;
                    }
                    self.load_const(Const::Str(Arc::from(&**s)));
                }
                FStringPart::Value {
                    expr,
                    conversion,
                    spec,
                    ..
                } => {
                    if matches!(expr.kind, ExprKind::Starred(_)) {
                        let msg = "f-string: cannot use starred expression here";
                        return Err(err(msg, expr.span));
                    }
                    self.expr(expr)?;
                    let conv = match conversion {
                        Some('s') => 1,
                        Some('r') => 2,
                        Some('a') => 3,
                        _ => 0,
                    };
                    let mut arg = conv;
                    if let Some(spec) = spec {
                        self.fstring_spec(spec)?;
                        arg |= 4;
                    }
                    // A failed format names the whole f-string, as CPython's
                    // caret does.
                    self.emit(Instr::FormatValue(arg));
                }
            }
            n += 1;
        }
        // Exactly one str is left: a lone part already is one.
        if n == 0 {
            self.load_const(Const::Str(Arc::from("")));
        } else if n > 1 {
            self.emit(Instr::BuildString(n));
        }
        Ok(())
    }

    /// A format spec is itself an f-string, leaving one str.
    fn fstring_spec(&mut self, spec: &'a [FStringPart]) -> R {
        self.fstring(spec)
    }

    /// List/tuple/set displays, with `*x` unpacking.
    fn display(&mut self, elts: &'a [Expr], kind: Seq) -> R {
        let refs: Vec<&'a Expr> = elts.iter().collect();
        self.sequence(&refs, kind)
    }

    /// The iterable of a `for` or comprehension. CPython turns a constant set
    /// display there into a frozenset constant, iterated in that table's order.
    fn iterable(&mut self, e: &'a Expr) -> R {
        if let ExprKind::Set(elts) = &e.kind {
            if elts.iter().all(|x| fold(x).is_some()) {
                return self.frozenset_const(elts);
            }
        }
        self.expr(e)
    }

    /// Builds a set laid out like CPython's frozenset constant for a set
    /// display: items added in source order, then (when the compiler merges
    /// constants) re-added in that set's iteration order, and once more when
    /// the code object re-interns one of its strings (`reinterned`). The
    /// layout decides the printed order when hashes collide
    /// (`hash(-1) == hash(-2)`, or strings under `PYTHONHASHSEED=0`).
    fn frozenset_const(&mut self, elts: &'a [Expr]) -> R {
        let rebuilds = if self.reinterned(elts) { 2 } else { 1 };
        for _ in 0..rebuilds {
            self.emit(Instr::BuildSet(0));
        }
        for x in elts {
            self.expr(x)?;
        }
        self.emit(Instr::BuildSet(elts.len() as u32));
        for _ in 0..rebuilds {
            // Re-add the set on top, in its order, into the empty set below.
            self.emit(Instr::GetIter);
            let (start, end) = (self.new_label(), self.new_label());
            self.bind(start);
            self.jump(Instr::ForIter, end);
            self.emit(Instr::SetAdd(2));
            self.jump(Instr::Jump, start);
            self.bind(end);
        }
        Ok(())
    }

    /// Whether CPython rebuilds the frozenset constant of `elts` when it
    /// creates the code object: `intern_string_constants` interns strings
    /// made of ASCII letters, digits and `_`, and rebuilds the set when one
    /// of them was interned already as another object: a name CPython
    /// interned at startup, or an identifier the parser saw in this program.
    fn reinterned(&self, elts: &[Expr]) -> bool {
        elts.iter().any(|x| match fold(x) {
            Some(Const::Str(s)) => {
                s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                    && (interned::interned_at_startup(&s)
                        || self
                            .table
                            .scopes
                            .iter()
                            .any(|scope| scope.symbols.contains_key(&*s)))
            }
            _ => false,
        })
    }

    fn sequence(&mut self, elts: &[&'a Expr], kind: Seq) -> R {
        if kind == Seq::Tuple {
            if let Some(consts) = elts.iter().map(|e| fold(e)).collect::<Option<Vec<Const>>>() {
                self.load_const(Const::Tuple(Arc::from(consts)));
                return Ok(());
            }
        }
        let has_star = elts.iter().any(|e| matches!(e.kind, ExprKind::Starred(_)));
        if !has_star {
            for e in elts {
                self.expr(e)?;
            }
            let n = elts.len() as u32;
            self.emit(match kind {
                Seq::Tuple => Instr::BuildTuple(n),
                Seq::List => Instr::BuildList(n),
                Seq::Set => Instr::BuildSet(n),
            });
            return Ok(());
        }
        // Build a list (or set), extending with each starred iterable.
        let leading = elts
            .iter()
            .take_while(|e| !matches!(e.kind, ExprKind::Starred(_)))
            .count();
        for e in &elts[..leading] {
            self.expr(e)?;
        }
        self.emit(if kind == Seq::Set {
            Instr::BuildSet(leading as u32)
        } else {
            Instr::BuildList(leading as u32)
        });
        for e in &elts[leading..] {
            match &e.kind {
                ExprKind::Starred(inner) => {
                    self.expr(inner)?;
                    self.emit_at(
                        if kind == Seq::Set {
                            Instr::SetUpdate(1)
                        } else {
                            Instr::ListExtend(1)
                        },
                        e.span,
                    );
                }
                _ => {
                    self.expr(e)?;
                    self.emit(if kind == Seq::Set {
                        Instr::SetAdd(1)
                    } else {
                        Instr::ListAppend(1)
                    });
                }
            }
        }
        if kind == Seq::Tuple {
            self.emit(Instr::ListToTuple);
        }
        Ok(())
    }

    fn dict(&mut self, items: &'a [(Option<Expr>, Expr)]) -> R {
        let mut built = false;
        let mut run = 0u32;
        for (k, v) in items {
            match k {
                Some(k) => {
                    self.expr(k)?;
                    self.expr(v)?;
                    run += 1;
                }
                None => {
                    if run > 0 || !built {
                        self.emit(Instr::BuildMap(run));
                        if built {
                            self.emit(Instr::DictUpdate(1));
                        }
                        built = true;
                        run = 0;
                    }
                    self.expr(v)?;
                    self.emit_at(Instr::DictUpdate(1), v.span);
                }
            }
        }
        if run > 0 || !built {
            self.emit(Instr::BuildMap(run));
            if built {
                self.emit(Instr::DictUpdate(1));
            }
        }
        Ok(())
    }

    fn call(
        &mut self,
        e: &'a Expr,
        func: &'a Expr,
        args: &'a [Expr],
        keywords: &'a [Keyword],
    ) -> R {
        if let Some(t) =
            literal_type(func).filter(|_| !matches!(func.kind, ExprKind::Lambda { .. }))
        {
            let msg = format!("'{t}' object is not callable; perhaps you missed a comma?");
            self.warn(msg, e.span);
        }
        let simple = !args.iter().any(|a| matches!(a.kind, ExprKind::Starred(_)))
            && !keywords.iter().any(|k| k.arg.is_none());
        if let ExprKind::Attribute { value, attr } = &func.kind {
            if simple && keywords.is_empty() {
                // obj.meth(args): no bound method allocated.
                let attr_span = self.attr_span(func, attr);
                let call_span = Span {
                    start: attr_span.start.min(e.span.end),
                    end: e.span.end,
                };
                let call_span = if attr_span == func.span {
                    e.span
                } else {
                    call_span
                };
                self.expr(value)?;
                let i = self.name_index(&self.mangled(attr));
                self.emit_at(Instr::LoadMethod(i), attr_span);
                for a in args {
                    self.expr(a)?;
                }
                self.emit_at(Instr::CallMethod(args.len() as u32), call_span);
                return Ok(());
            }
        }
        self.expr(func)?;
        self.call_with(0, args, keywords, e.span)
    }

    /// Emit the call of the callable on the stack (with `already` positional
    /// arguments pushed after it).
    /// `[*already] → [args tuple]` for a call with `*` arguments.
    fn star_args(&mut self, already: u32, args: &'a [Expr]) -> R {
        let leading = args
            .iter()
            .take_while(|a| !matches!(a.kind, ExprKind::Starred(_)))
            .count();
        for a in &args[..leading] {
            self.expr(a)?;
        }
        self.emit(Instr::BuildList(already + leading as u32));
        for a in &args[leading..] {
            match &a.kind {
                ExprKind::Starred(inner) => {
                    self.expr(inner)?;
                    self.emit_at(Instr::ListExtend(1), a.span);
                }
                _ => {
                    self.expr(a)?;
                    self.emit(Instr::ListAppend(1));
                }
            }
        }
        self.emit(Instr::ListToTuple);
        Ok(())
    }

    fn call_with(
        &mut self,
        already: u32,
        args: &'a [Expr],
        keywords: &'a [Keyword],
        span: Span,
    ) -> R {
        let simple = !args.iter().any(|a| matches!(a.kind, ExprKind::Starred(_)))
            && !keywords.iter().any(|k| k.arg.is_none());
        if simple {
            for a in args {
                self.expr(a)?;
            }
            let n = already + args.len() as u32;
            if keywords.is_empty() {
                self.emit_at(Instr::Call(n), span);
            } else {
                let mut names = Vec::new();
                for k in keywords {
                    self.expr(&k.value)?;
                    names.push(Const::Str(Arc::from(k.arg.as_deref().unwrap_or(""))));
                }
                self.load_const(Const::Tuple(Arc::from(names)));
                self.emit_at(Instr::CallKw(n + keywords.len() as u32), span);
            }
            return Ok(());
        }
        // General form: an argument tuple and a keyword dict. A lone `*x` is
        // passed as is (CPython then names the function if `x` is no iterable).
        if let (
            [Expr {
                kind: ExprKind::Starred(inner),
                ..
            }],
            0,
        ) = (args, already)
        {
            self.expr(inner)?;
        } else {
            self.star_args(already, args)?;
        }
        if keywords.is_empty() {
            self.emit_at(Instr::CallEx(0), span);
            return Ok(());
        }
        let mut built = false;
        let mut run = 0u32;
        for k in keywords {
            match &k.arg {
                Some(name) => {
                    self.load_const(Const::Str(Arc::from(&**name)));
                    self.expr(&k.value)?;
                    run += 1;
                }
                None => {
                    // CPython's merges carry the call's location.
                    if run > 0 || !built {
                        self.emit(Instr::BuildMap(run));
                        if built {
                            self.emit_at(Instr::DictMerge(1), span);
                        }
                        built = true;
                        run = 0;
                    }
                    self.expr(&k.value)?;
                    self.emit_at(Instr::DictMerge(1), span);
                }
            }
        }
        if run > 0 {
            self.emit(Instr::BuildMap(run));
            if built {
                self.emit_at(Instr::DictMerge(1), span);
            }
        }
        self.emit_at(Instr::CallEx(1), span);
        Ok(())
    }

    fn lambda(&mut self, e: &'a Expr, params: &'a Params, body: &'a Expr) -> R {
        let extra = self.defaults(params)?;
        let id = self
            .table
            .scope_of(e)
            .ok_or_else(|| err("internal compiler error: no scope", e.span))?;
        let qualname = self.qualname(&Rc::from("<lambda>"));
        self.enter(id, "<lambda>", qualname, self.line(e.span.start));
        self.set_arg_counts(params);
        // No docstring: `None` is the first constant.
        self.add_const(Const::None);
        self.expr(body)?;
        self.emit_at(Instr::ReturnValue, body.span);
        let code = self.leave()?;
        self.unit.span = e.span;
        self.make_function(code, extra)
    }

    fn comprehension(
        &mut self,
        e: &'a Expr,
        generators: &'a [Comprehension],
        elt: &'a Expr,
        value: Option<&'a Expr>,
    ) -> R {
        let async_comp = self
            .table
            .scope_of(e)
            .is_some_and(|id| self.table.scopes[id].is_coroutine);
        if async_comp || generators.iter().any(|g| g.is_async) {
            return Err(err(
                "asynchronous comprehensions are not supported yet",
                e.span,
            ));
        }
        let first = generators
            .first()
            .ok_or_else(|| err("comprehension without 'for'", e.span))?;
        let id = self
            .table
            .scope_of(e)
            .ok_or_else(|| err("internal compiler error: no scope", e.span))?;
        let kind = self.table.scopes[id].kind;
        let name = self.table.scopes[id].name.clone();
        let qualname = self.qualname(&name);
        self.enter(id, &name, qualname, self.line(e.span.start));
        self.unit.argcount = 1;
        self.unit.span = e.span;
        match kind {
            ScopeKind::ListComp => {
                self.emit(Instr::BuildList(0));
            }
            ScopeKind::SetComp => {
                self.emit(Instr::BuildSet(0));
            }
            ScopeKind::DictComp => {
                self.emit(Instr::BuildMap(0));
            }
            _ => {}
        }
        let mut loops = Vec::new();
        for (i, g) in generators.iter().enumerate() {
            if i == 0 {
                self.emit(Instr::LoadFast(0));
            } else {
                self.iterable(&g.iter)?;
                self.unit.span = g.iter.span;
                self.emit(Instr::GetIter);
            }
            let (start, end) = (self.new_label(), self.new_label());
            self.bind(start);
            // CPython 3.11 locates a comprehension's FOR_ITER at the whole
            // comprehension: an error raised by the iterator underlines it all.
            self.unit.span = e.span;
            self.jump(Instr::ForIter, end);
            self.store_target(&g.target)?;
            for cond in &g.ifs {
                self.jump_if(cond, false, start)?;
            }
            loops.push((start, end));
        }
        let depth = generators.len() as u32 + 1;
        self.unit.span = elt.span;
        match kind {
            ScopeKind::ListComp => {
                self.expr(elt)?;
                self.emit(Instr::ListAppend(depth));
            }
            ScopeKind::SetComp => {
                self.expr(elt)?;
                self.emit(Instr::SetAdd(depth));
            }
            ScopeKind::DictComp => {
                self.expr(elt)?;
                if let Some(v) = value {
                    self.expr(v)?;
                }
                self.emit(Instr::MapAdd(depth));
            }
            _ => {
                self.expr(elt)?;
                self.emit(Instr::YieldValue);
                self.emit(Instr::Pop);
            }
        }
        for (start, end) in loops.into_iter().rev() {
            self.jump(Instr::Jump, start);
            self.bind(end);
        }
        self.unit.span = e.span;
        if kind == ScopeKind::GenExp {
            self.load_const(Const::None);
        }
        self.emit(Instr::ReturnValue);
        let code = self.leave()?;
        self.unit.span = e.span;
        self.make_function(code, 0)?;
        self.iterable(&first.iter)?;
        // Located at the whole comprehension, as CPython 3.11 does.
        self.emit_at(Instr::GetIter, e.span);
        self.emit_at(Instr::Call(1), e.span);
        Ok(())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Seq {
    Tuple,
    List,
    Set,
}

fn cmp_instr(op: CmpOp) -> Instr {
    match op {
        CmpOp::Eq => Instr::CompareOp(CompareKind::Eq as u32),
        CmpOp::NotEq => Instr::CompareOp(CompareKind::Ne as u32),
        CmpOp::Lt => Instr::CompareOp(CompareKind::Lt as u32),
        CmpOp::LtE => Instr::CompareOp(CompareKind::Le as u32),
        CmpOp::Gt => Instr::CompareOp(CompareKind::Gt as u32),
        CmpOp::GtE => Instr::CompareOp(CompareKind::Ge as u32),
        CmpOp::Is => Instr::IsOp(0),
        CmpOp::IsNot => Instr::IsOp(1),
        CmpOp::In => Instr::ContainsOp(0),
        CmpOp::NotIn => Instr::ContainsOp(1),
    }
}

/// The type a literal display or constant expression evaluates to
/// (CPython's `infer_type`), for compile-time warnings.
fn literal_type(e: &Expr) -> Option<&'static str> {
    Some(match &e.kind {
        ExprKind::List(_) | ExprKind::ListComp { .. } => "list",
        ExprKind::Dict(_) | ExprKind::DictComp { .. } => "dict",
        ExprKind::Set(_) | ExprKind::SetComp { .. } => "set",
        ExprKind::GeneratorExp { .. } => "generator",
        ExprKind::Lambda { .. } => "function",
        ExprKind::JoinedStr(_) => "str",
        ExprKind::Tuple(_) => "tuple",
        _ => match fold(e)? {
            Const::None => "NoneType",
            Const::Bool(_) => "bool",
            Const::Ellipsis => "ellipsis",
            Const::Int(_) | Const::BigInt(_) => "int",
            Const::Float(_) => "float",
            Const::Complex(..) => "complex",
            Const::Str(_) => "str",
            Const::Bytes(_) => "bytes",
            Const::Tuple(_) => "tuple",
            Const::Code(_) => return None,
        },
    })
}

fn constant(c: &Constant) -> Const {
    match c {
        Constant::None => Const::None,
        Constant::True => Const::Bool(true),
        Constant::False => Const::Bool(false),
        Constant::Ellipsis => Const::Ellipsis,
        Constant::Int(i) => Const::Int(*i),
        Constant::BigInt(s) => Const::BigInt(Arc::from(&**s)),
        Constant::Float(f) => Const::Float(*f),
        Constant::Imag(f) => Const::Complex(0.0, *f),
        Constant::Str(s) => Const::Str(Arc::from(&**s)),
        Constant::Bytes(b) => Const::Bytes(Arc::from(&**b)),
    }
}

/// The truth value of a constant expression, if known at compile time.
fn const_truth(e: &Expr) -> Option<bool> {
    match &e.kind {
        ExprKind::Constant(c) => Some(match c {
            Constant::None | Constant::False => false,
            Constant::True | Constant::Ellipsis => true,
            Constant::Int(i) => *i != 0,
            Constant::BigInt(_) => true,
            Constant::Float(f) => *f != 0.0,
            Constant::Imag(f) => *f != 0.0,
            Constant::Str(s) => !s.is_empty(),
            Constant::Bytes(b) => !b.is_empty(),
        }),
        _ => None,
    }
}

/// Constant folding of literal arithmetic and tuples of constants. Folds
/// only what cannot raise and stays small.
fn fold(e: &Expr) -> Option<Const> {
    match &e.kind {
        ExprKind::Constant(c) => Some(constant(c)),
        ExprKind::UnaryOp { op, operand } => {
            let v = fold(operand)?;
            match (op, v) {
                (UnaryOp::Neg, Const::Int(i)) => Some(i.checked_neg().map_or_else(
                    || Const::BigInt(Arc::from(format!("{}", -(i as i128)))),
                    Const::Int,
                )),
                (UnaryOp::Neg, Const::BigInt(s)) => Some(if &*s == "9223372036854775808" {
                    Const::Int(i64::MIN)
                } else if let Some(pos) = s.strip_prefix('-') {
                    Const::BigInt(Arc::from(pos))
                } else {
                    Const::BigInt(Arc::from(format!("-{s}")))
                }),
                (UnaryOp::Neg, Const::Float(f)) => Some(Const::Float(-f)),
                (UnaryOp::Neg, Const::Complex(re, im)) => Some(Const::Complex(-re, -im)),
                (UnaryOp::Pos, c @ Const::Complex(..)) => Some(c),
                (UnaryOp::Pos, c @ (Const::Int(_) | Const::Float(_) | Const::BigInt(_))) => Some(c),
                (UnaryOp::Invert, Const::Int(i)) => Some(Const::Int(!i)),
                _ => None,
            }
        }
        ExprKind::BinOp { left, op, right } => fold_binop(fold(left)?, *op, fold(right)?),
        ExprKind::Tuple(elts) => {
            let v: Option<Vec<Const>> = elts.iter().map(fold).collect();
            v.map(|v| Const::Tuple(Arc::from(v)))
        }
        _ => None,
    }
}

fn fold_binop(a: Const, op: BinOp, b: Const) -> Option<Const> {
    match (a, b) {
        (Const::Int(x), Const::Int(y)) => {
            // i128 arithmetic; results beyond i64 become big-int constants.
            let (x, y) = (x as i128, y as i128);
            let r: i128 = match op {
                BinOp::Add => x + y,
                BinOp::Sub => x - y,
                BinOp::Mult => x * y,
                BinOp::FloorDiv => {
                    if y == 0 {
                        return None;
                    }
                    x.div_euclid(y) - i128::from(y < 0 && x.rem_euclid(y) != 0)
                }
                BinOp::Mod => {
                    if y == 0 {
                        return None;
                    }
                    let r = x % y;
                    if r != 0 && ((r < 0) != (y < 0)) {
                        r + y
                    } else {
                        r
                    }
                }
                BinOp::Pow => {
                    if !(0..=126).contains(&y) {
                        return None;
                    }
                    x.checked_pow(y as u32)?
                }
                BinOp::LShift => {
                    if !(0..64).contains(&y) {
                        return None;
                    }
                    x.checked_mul(1i128 << y)?
                }
                BinOp::RShift => {
                    if y < 0 {
                        return None;
                    }
                    x >> y.min(127)
                }
                BinOp::BitAnd => x & y,
                BinOp::BitOr => x | y,
                BinOp::BitXor => x ^ y,
                BinOp::Div => {
                    const EXACT: i128 = 1 << 53;
                    if y == 0 || x.abs() > EXACT || y.abs() > EXACT {
                        return None;
                    }
                    return Some(Const::Float(x as f64 / y as f64));
                }
                BinOp::MatMult => return None,
            };
            Some(match i64::try_from(r) {
                Ok(v) => Const::Int(v),
                Err(_) => Const::BigInt(Arc::from(r.to_string())),
            })
        }
        (a @ (Const::Int(_) | Const::Float(_)), b @ (Const::Int(_) | Const::Float(_))) => {
            let to_f = |c: &Const| match c {
                Const::Int(i) if i.abs() <= 1 << 53 => Some(*i as f64),
                Const::Float(f) => Some(*f),
                _ => None,
            };
            let (x, y) = (to_f(&a)?, to_f(&b)?);
            let r = match op {
                BinOp::Add => x + y,
                BinOp::Sub => x - y,
                BinOp::Mult => x * y,
                BinOp::Div if y != 0.0 => x / y,
                _ => return None,
            };
            Some(Const::Float(r))
        }
        // `1+2j`: a real and an imaginary literal make one constant, as
        // the VM's complex arithmetic would (the real side as a float).
        (a @ (Const::Int(_) | Const::Float(_) | Const::Complex(..)), b @ Const::Complex(..))
        | (a @ Const::Complex(..), b @ (Const::Int(_) | Const::Float(_))) => {
            let parts = |c: &Const| match c {
                Const::Int(i) if i.abs() <= 1 << 53 => Some((*i as f64, 0.0)),
                Const::Float(f) => Some((*f, 0.0)),
                Const::Complex(re, im) => Some((*re, *im)),
                _ => None,
            };
            let ((ar, ai), (br, bi)) = (parts(&a)?, parts(&b)?);
            match op {
                BinOp::Add => Some(Const::Complex(ar + br, ai + bi)),
                BinOp::Sub => Some(Const::Complex(ar - br, ai - bi)),
                _ => None,
            }
        }
        (Const::Str(x), Const::Str(y)) if op == BinOp::Add && x.len() + y.len() <= 4096 => {
            Some(Const::Str(Arc::from(format!("{x}{y}"))))
        }
        _ => None,
    }
}

/// Whether evaluating `e` certainly binds no name (no `:=`, nothing that
/// runs a nested scope's code in this frame). Conservative: anything not
/// listed counts as rebinding.
fn cannot_rebind(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Name(_) | ExprKind::Constant(_) => true,
        ExprKind::Attribute { value, .. } => cannot_rebind(value),
        ExprKind::Subscript { value, index } => cannot_rebind(value) && cannot_rebind(index),
        ExprKind::BinOp { left, right, .. } => cannot_rebind(left) && cannot_rebind(right),
        ExprKind::UnaryOp { operand, .. } => cannot_rebind(operand),
        ExprKind::Call {
            func,
            args,
            keywords,
        } => {
            cannot_rebind(func)
                && args.iter().all(cannot_rebind)
                && keywords.iter().all(|k| cannot_rebind(&k.value))
        }
        ExprKind::Tuple(elts) | ExprKind::List(elts) => elts.iter().all(cannot_rebind),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::disassemble;
    use crate::syntax::parse_module;

    fn compile_src(src: &str) -> Result<Arc<Code>, SyntaxError> {
        let m = parse_module(src)?;
        compile_module_with_source(&m, src, "<test>")
    }

    #[test]
    fn finally_control_flow_compiles() {
        // `break`/`continue` in a `finally` run for a pending `return`.
        compiled(
            "def f():\n  for i in range(3):\n    try:\n      return i\n    finally:\n      break\n",
        );
        compiled("def f():\n  for i in range(3):\n    try:\n      return i\n    finally:\n      continue\n");
        compiled("def f():\n  while 1:\n    try:\n      return 1\n    finally:\n      return 2\n");
    }

    #[test]
    fn global_after_assignment_is_an_error() {
        assert_eq!(
            error("def f():\n  global x\n  x = 1\n  global x\n"),
            "name 'x' is assigned to before global declaration"
        );
        assert_eq!(error("def f():\n  import x\n  global x\n"), "");
        assert_eq!(error("def f():\n  global x\n  global x\n"), "");
    }

    fn compiled(src: &str) -> Arc<Code> {
        compile_src(src).unwrap_or_else(|e| panic!("{} at {:?}", e.msg, e.span))
    }

    fn error(src: &str) -> String {
        compile_src(src).err().map(|e| e.msg).unwrap_or_default()
    }

    /// The nested code object named `qualname`.
    fn find(code: &Arc<Code>, qualname: &str) -> Option<Arc<Code>> {
        if &*code.qualname == qualname {
            return Some(code.clone());
        }
        code.consts.iter().find_map(|c| match c {
            Const::Code(inner) => find(inner, qualname),
            _ => None,
        })
    }

    #[test]
    fn disassembly_of_a_small_function() {
        let code = compiled("def add(a, b=1):\n    c = a + b\n    if c > 10 and a:\n        return [x * c for x in (a, b)]\n    return c\n");
        let f = find(&code, "add").unwrap();
        let text = disassemble(&f);
        let expected = "\
code add (args 2, posonly 0, kwonly 0, flags 0x0, stack 3, line 1)
  varnames: a, b
  cellvars: c
   2    0 LoadFastBinary         0 (a)
        1 LoadFast               1 (b)
        2 BinaryOp               0 (+)
        3 StoreDeref             0 (c)
   3    4 LoadDeref              0 (c)
        5 LoadConst              1 (10)
        6 CompareOp              4 (>)
        7 PopJumpIfFalse        21
        8 LoadFast               0 (a)
        9 PopJumpIfFalse        21
   4   10 LoadClosure            0 (c)
       11 BuildTuple             1
       12 LoadConst              2 (<code add.<locals>.<listcomp>>)
       13 LoadConst              3 (\"add.<locals>.<listcomp>\")
       14 MakeFunction           8
       15 LoadFast               0 (a)
       16 LoadFast               1 (b)
       17 BuildTuple             2
       18 GetIter
       19 Call                   1
       20 ReturnValue
   5   21 LoadDeref              0 (c)
       22 ReturnValue

code add.<locals>.<listcomp> (args 1, posonly 0, kwonly 0, flags 0x0, stack 4, line 4)
  varnames: .0, x
  freevars: c
   4    0 BuildList              0
        1 LoadFast               0 (.0)
        2 ForIterStore           9
        3 StoreFast              1 (x)
        4 LoadFast               1 (x)
        5 LoadDeref              0 (c)
        6 BinaryOp               2 (*)
        7 ListAppend             2
        8 Jump                   2
        9 ReturnValue
";
        assert_eq!(text, expected);
        // The docstring slot: functions always have consts[0].
        assert!(matches!(f.consts[0], Const::None));
    }

    #[test]
    fn max_stack_is_computed() {
        let code = compiled("f(1, 2, (3, x), [4, 5, y])\n");
        // f, 1, 2, (3, x) folded? no: x is a name -> 3 + 2 for the list
        assert_eq!(code.max_stack, 7);
        let code =
            compiled("def g():\n    try:\n        pass\n    except E as e:\n        return 1\n");
        let g = find(&code, "g").unwrap();
        // [prev, exc, E] at the clause test.
        assert_eq!(g.max_stack, 3);
        let code = compiled("with a as b, c:\n    pass\n");
        // [exit_a, exit_c, prev, exc, res] in the inner handler.
        assert_eq!(code.max_stack, 5);
    }

    #[test]
    fn spans_and_lines() {
        let src = "x = 1\ny = (x +\n     foo(\n  2))\nobj = (a\n   .meth(1))\n";
        let code = compiled(src);
        let call = code
            .instrs
            .iter()
            .position(|i| matches!(i, Instr::Call(1)))
            .unwrap();
        // A multi-line call reports the line where its function starts.
        assert_eq!(code.lines[call], 3);
        let add = code
            .instrs
            .iter()
            .position(|i| matches!(i, Instr::BinaryOp(0)))
            .unwrap();
        assert_eq!(code.lines[add], 2);
        // A method call on a later line reports the attribute's line.
        let meth = code
            .instrs
            .iter()
            .position(|i| matches!(i, Instr::CallMethod(1)))
            .unwrap();
        assert_eq!(code.lines[meth], 6);
        assert_eq!(code.lines.len(), code.instrs.len());
        assert_eq!(code.spans.len(), code.instrs.len());
    }

    #[test]
    fn compile_errors() {
        assert_eq!(error("return 1\n"), "'return' outside function");
        assert_eq!(error("class A:\n  return 1\n"), "'return' outside function");
        assert_eq!(error("break\n"), "'break' outside loop");
        assert_eq!(error("continue\n"), "'continue' not properly in loop");
        assert_eq!(
            error("def f():\n  for x in y:\n    def g():\n      break\n"),
            "'break' outside loop"
        );
        assert_eq!(
            error("*a, *b = c\n"),
            "multiple starred expressions in assignment"
        );
        assert_eq!(
            error("*a = c\n"),
            "starred assignment target must be in a list or tuple"
        );
        assert_eq!(error("x = *a\n"), "can't use starred expression here");
        assert_eq!(
            error("try:\n  pass\nexcept:\n  pass\nexcept E:\n  pass\n"),
            "default 'except:' must be last"
        );
        assert_eq!(
            error("def f():\n  nonlocal x\n"),
            "no binding for nonlocal 'x' found"
        );
        assert_eq!(error("from __future__ import braces\n"), "not a chance");
    }

    #[test]
    fn closures_and_cells() {
        let code = compiled("def f(a, b):\n    def g():\n        return a\n    return g\n");
        let f = find(&code, "f").unwrap();
        assert_eq!(f.cellvars.iter().map(|s| &**s).collect::<Vec<_>>(), ["a"]);
        assert_eq!(f.cell2arg, vec![Some(0)]);
        let g = find(&code, "f.<locals>.g").unwrap();
        assert_eq!(g.freevars.iter().map(|s| &**s).collect::<Vec<_>>(), ["a"]);
        assert!(g.instrs.contains(&Instr::LoadDeref(0)));
    }

    #[test]
    fn class_body_layout() {
        let code = compiled("class A:\n    def m(self):\n        return __class__\n");
        let body = find(&code, "A").unwrap();
        assert_eq!(body.flags & flags::NAME_LOCALS, flags::NAME_LOCALS);
        let names: Vec<&str> = body.names.iter().map(|s| &**s).collect();
        assert_eq!(&names[..3], ["__name__", "__module__", "__qualname__"]);
        assert!(names.contains(&"__classcell__"));
        let n = body.instrs.len();
        assert!(matches!(body.instrs[n - 4], Instr::LoadClosure(0)));
        assert!(matches!(body.instrs[n - 1], Instr::ReturnValue));
        assert!(find(&code, "A.m").is_some());
    }

    #[test]
    fn qualnames_and_flags() {
        let code = compiled(
            "def f(*a, **k):\n    def g():\n        yield 1\n    class C:\n        def m(self): pass\n    return lambda: 0\n",
        );
        let f = find(&code, "f").unwrap();
        assert_eq!(f.flags & (flags::VARARGS | flags::VARKEYWORDS), 3);
        assert_eq!(&*f.varnames[0], "a");
        let g = find(&code, "f.<locals>.g").unwrap();
        assert!(g.is_generator());
        assert!(find(&code, "f.<locals>.C.m").is_some());
        assert!(find(&code, "f.<locals>.<lambda>").is_some());
    }

    #[test]
    fn constant_folding() {
        let code = compiled("x = -1 + 2 * 3 - 2 ** 10 // 7 % 5, 'a' + 'b', 1 / 4, -(2 ** 63)\n");
        let expected = (-1 + 2 * 3 - (1024 / 7) % 5) as i64;
        match &code.consts[0] {
            Const::Tuple(t) => {
                assert!(matches!(t[0], Const::Int(v) if v == expected), "{:?}", t[0]);
                assert!(matches!(&t[1], Const::Str(s) if &**s == "ab"));
                assert!(matches!(t[2], Const::Float(f) if f == 0.25));
                assert!(matches!(t[3], Const::Int(i64::MIN)));
            }
            other => panic!("{other:?}"),
        }
        // Division by zero is left for run time.
        let code = compiled("x = 1 / 0\n");
        assert!(code
            .instrs
            .contains(&Instr::BinaryOp(BinaryOpKind::TrueDiv as u32)));
    }

    #[test]
    fn annotations_are_evaluated_where_cpython_does() {
        let code = compiled("def f(a: int) -> str:\n    x: undefined = 1\nclass C:\n    y: int\n");
        // Stored on the function after it is made: `f.__annotations__ = {...}`.
        assert!(code.instrs.contains(&Instr::MakeFunction(0)));
        assert!(code.instrs.contains(&Instr::BuildMap(2)));
        assert!(code.names.iter().any(|n| &**n == "__annotations__"));
        let f = find(&code, "f").unwrap();
        assert!(!f.names.iter().any(|n| &**n == "undefined"));
        let c = find(&code, "C").unwrap();
        assert!(c.names.iter().any(|n| &**n == "int"));
        let code = compiled("from __future__ import annotations\ndef f(a: int): pass\n");
        assert!(code.instrs.contains(&Instr::MakeFunction(0)));
        // Stored as source text, never evaluated.
        assert!(!code.names.iter().any(|n| &**n == "int"));
    }

    #[test]
    fn interactive_prints_expressions() {
        let src = "1 + 1\nx = 2\n";
        let m = parse_module(src).unwrap();
        let code = compile_interactive(&m, src, "<stdin>").unwrap();
        assert_eq!(
            code.instrs
                .iter()
                .filter(|i| matches!(i, Instr::PrintExpr))
                .count(),
            1
        );
    }

    /// Every program we ship parses and compiles exactly when python3
    /// accepts it, and a rejected one gets python3's message and line
    /// (without python3: error scripts are those named `syntax_*`).
    #[test]
    fn corpus_compiles() {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "py" || x == "script") {
                    out.push(p);
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        walk(&root.join("scripts"), &mut files);
        walk(&root.join("src/stdlib/py"), &mut files);
        files.sort();
        let names: Vec<String> = files
            .iter()
            .map(|f| f.to_string_lossy().into_owned())
            .collect();
        let oracle = std::process::Command::new("python3")
            .arg("-c")
            .arg(
                "import sys\n\
                 for f in sys.argv[1:]:\n\
                 \x20   try:\n\
                 \x20       compile(open(f, 'rb').read(), f, 'exec')\n\
                 \x20       print('OK')\n\
                 \x20   except SyntaxError as e:\n\
                 \x20       print('ERR', e.lineno, e.msg)\n\
                 \x20   except (RecursionError, MemoryError):\n\
                 \x20       print('ERR')\n",
            )
            .args(&names)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            });
        let mut failures = Vec::new();
        for (i, f) in files.iter().enumerate() {
            let bytes = std::fs::read(f).unwrap_or_default();
            let name = &names[i];
            let mut src_text = String::new();
            let result = crate::syntax::decode_source(&bytes, name).and_then(|src| {
                src_text = src.clone();
                parse_module(&src).and_then(|m| compile_module_with_source(&m, &src, name))
            });
            let ours = match &result {
                Ok(_) => "OK".to_string(),
                // Decoding errors are reported without a location.
                Err(e)
                    if !e.has_location()
                        || matches!(
                            e.kind,
                            SyntaxErrorKind::TooDeep | SyntaxErrorKind::NoMemory
                        ) =>
                {
                    "ERR".to_string()
                }
                Err(e) => format!(
                    "ERR {} {}",
                    crate::syntax::lexer::line_of(&src_text, e.span.start as usize),
                    e.msg
                ),
            };
            match &oracle {
                Some(lines) => {
                    let expected = lines.get(i).cloned().unwrap_or_default();
                    // `compile()` of bytes words the null-byte error its own way.
                    let null_bytes = expected
                        == "ERR None source code string cannot contain null bytes"
                        && ours.ends_with(" source code cannot contain null bytes");
                    let matches = ours == expected
                        || (ours == "ERR" && expected.starts_with("ERR"))
                        || null_bytes;
                    if !matches {
                        failures.push(format!("{name}: python3 {expected:?}, gilvm {ours:?}"));
                    }
                }
                None => {
                    let expect_error = f
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("syntax_"));
                    if (ours == "OK") == expect_error {
                        failures.push(format!("{name}: {ours}"));
                    }
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
