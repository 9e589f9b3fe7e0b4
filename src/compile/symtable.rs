//! Python's scoping rules: local / global / nonlocal / cell / free.
//!
//! Two passes, as in CPython's `symtable.c`: [`build`] walks the AST and
//! records, per scope, how each name is used (bound, used, declared global or
//! nonlocal); `analyze` then resolves every name to a [`Binding`], turning
//! locals captured by inner functions into cells and passing free variables
//! through intermediate scopes. Class bodies do not enclose their methods;
//! comprehensions are scopes of their own; a method using `super` or
//! `__class__` gets `__class__` as a free variable, and its class a cell.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use indexmap::IndexMap;

use crate::syntax::ast::*;
use crate::syntax::{SyntaxError, SyntaxErrorKind};

pub type ScopeId = usize;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeKind {
    Module,
    Class,
    Function,
    Lambda,
    ListComp,
    SetComp,
    DictComp,
    GenExp,
}

impl ScopeKind {
    /// Function-like scopes keep their locals in slots.
    pub fn is_function(self) -> bool {
        !matches!(self, ScopeKind::Module | ScopeKind::Class)
    }

    pub fn is_comprehension(self) -> bool {
        matches!(
            self,
            ScopeKind::ListComp | ScopeKind::SetComp | ScopeKind::DictComp | ScopeKind::GenExp
        )
    }
}

/// Where a name lives, once analysed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binding {
    Local,
    GlobalExplicit,
    GlobalImplicit,
    Free,
    Cell,
}

pub mod flag {
    /// Assigned, imported, defined, a loop or `with` target, deleted.
    pub const DEF_LOCAL: u16 = 1;
    pub const DEF_PARAM: u16 = 2;
    pub const DEF_GLOBAL: u16 = 4;
    pub const DEF_NONLOCAL: u16 = 8;
    pub const USE: u16 = 16;
    /// Free in a child of a class scope while also bound in the class.
    pub const DEF_FREE_CLASS: u16 = 32;
    /// Bound by a comprehension's `for` target.
    pub const DEF_COMP_ITER: u16 = 64;
    pub const DEF_BOUND: u16 = DEF_LOCAL | DEF_PARAM;
    /// Bound by `import` (with `DEF_LOCAL`): may precede `global`.
    pub const DEF_IMPORT: u16 = 128;
    /// An annotated name (with `DEF_LOCAL`).
    pub const DEF_ANNOT: u16 = 256;
    /// Bound other than by `import`: set by `add` alongside `DEF_LOCAL`.
    pub const DEF_ASSIGN: u16 = 512;
}

#[derive(Clone, Debug)]
pub struct Symbol {
    pub flags: u16,
    pub binding: Binding,
}

#[derive(Debug)]
pub struct Scope {
    pub kind: ScopeKind,
    pub name: Name,
    pub symbols: IndexMap<Name, Symbol>,
    /// Parameter names in slot order.
    pub params: Vec<Name>,
    pub children: Vec<ScopeId>,
    pub parent: Option<ScopeId>,
    pub is_generator: bool,
    pub is_coroutine: bool,
    /// Class scopes: a `__class__` cell is needed by a method.
    pub needs_class_cell: bool,
    /// For error messages (`nonlocal` and `global` statements).
    decl_spans: HashMap<Name, Span>,
    /// The class name for private name mangling, inherited by nested scopes.
    pub private: Option<Name>,
}

impl Scope {
    pub fn binding(&self, name: &str) -> Binding {
        self.symbols
            .get(name)
            .map_or(Binding::GlobalImplicit, |s| s.binding)
    }

    pub fn flags(&self, name: &str) -> u16 {
        self.symbols.get(name).map_or(0, |s| s.flags)
    }

    /// Cell names in a stable order (parameters first, then by first use).
    pub fn cellvars(&self) -> Vec<Name> {
        let mut v: Vec<Name> = self
            .params
            .iter()
            .filter(|p| self.binding(p) == Binding::Cell)
            .cloned()
            .collect();
        for (name, sym) in &self.symbols {
            if sym.binding == Binding::Cell && !v.contains(name) {
                v.push(name.clone());
            }
        }
        if self.needs_class_cell && !v.iter().any(|n| &**n == "__class__") {
            v.push(Rc::from("__class__"));
        }
        v
    }

    /// Free variable names (received through the closure tuple).
    pub fn freevars(&self) -> Vec<Name> {
        self.symbols
            .iter()
            .filter(|(_, s)| s.binding == Binding::Free || s.flags & flag::DEF_FREE_CLASS != 0)
            .map(|(n, _)| n.clone())
            .collect()
    }
}

/// The analysed scopes of one module, looked up by AST node.
pub struct SymbolTable {
    pub scopes: Vec<Scope>,
    by_node: HashMap<usize, ScopeId>,
}

impl SymbolTable {
    /// The scope created by a `def`, `class`, lambda or comprehension node.
    pub fn scope_of<T>(&self, node: &T) -> Option<ScopeId> {
        self.by_node.get(&(node as *const T as usize)).copied()
    }
}

/// Private name mangling: `__x` inside class `C` becomes `_C__x`.
pub fn mangle(private: Option<&str>, name: &Name) -> Name {
    let Some(class) = private else {
        return name.clone();
    };
    if !name.starts_with("__") || name.ends_with("__") || name.contains('.') {
        return name.clone();
    }
    let stripped = class.trim_start_matches('_');
    if stripped.is_empty() {
        return name.clone();
    }
    Rc::from(format!("_{stripped}{name}"))
}

fn error(msg: impl Into<String>, span: Span) -> SyntaxError {
    SyntaxError {
        kind: SyntaxErrorKind::SyntaxError,
        msg: msg.into(),
        span,
        at_eof: false,
        quote: None,
    }
}

/// Build and analyse the symbol table of a module.
pub fn build(module: &Module) -> Result<SymbolTable, SyntaxError> {
    let mut b = Builder {
        table: SymbolTable {
            scopes: Vec::new(),
            by_node: HashMap::new(),
        },
        cur: 0,
        comp_iter: 0,
    };
    b.new_scope(ScopeKind::Module, Rc::from("<module>"), None);
    for s in &module.body {
        b.stmt(s)?;
    }
    let mut table = b.table;
    analyze(&mut table, 0, None, &HashSet::new())?;
    Ok(table)
}

struct Builder {
    table: SymbolTable,
    cur: ScopeId,
    /// Inside a comprehension's iterable expression (where `:=` is an error).
    comp_iter: u32,
}

impl Builder {
    fn scope(&mut self) -> &mut Scope {
        &mut self.table.scopes[self.cur]
    }

    fn new_scope(&mut self, kind: ScopeKind, name: Name, node: Option<usize>) -> ScopeId {
        let id = self.table.scopes.len();
        let parent = if id == 0 { None } else { Some(self.cur) };
        let private = match parent {
            Some(p) if self.table.scopes[p].kind == ScopeKind::Class => {
                Some(self.table.scopes[p].name.clone())
            }
            Some(p) => self.table.scopes[p].private.clone(),
            None => None,
        };
        self.table.scopes.push(Scope {
            kind,
            name,
            symbols: IndexMap::new(),
            params: Vec::new(),
            children: Vec::new(),
            parent,
            is_generator: false,
            is_coroutine: false,
            needs_class_cell: false,
            decl_spans: HashMap::new(),
            private,
        });
        if let Some(p) = parent {
            self.table.scopes[p].children.push(id);
        }
        if let Some(node) = node {
            self.table.by_node.insert(node, id);
        }
        id
    }

    fn mangled(&self, name: &Name) -> Name {
        let scope = &self.table.scopes[self.cur];
        let private = if scope.kind == ScopeKind::Class {
            Some(scope.name.clone())
        } else {
            scope.private.clone()
        };
        mangle(private.as_deref(), name)
    }

    fn add(&mut self, name: &Name, f: u16, span: Span) -> Result<(), SyntaxError> {
        if f & (flag::DEF_LOCAL | flag::DEF_PARAM | flag::DEF_IMPORT) != 0 {
            forbidden(name, "assign to", span)?;
        }
        let name = self.mangled(name);
        let scope = &mut self.table.scopes[self.cur];
        let sym = scope.symbols.entry(name.clone()).or_insert(Symbol {
            flags: 0,
            binding: Binding::GlobalImplicit,
        });
        let old = sym.flags;
        if f & flag::DEF_PARAM != 0 && old & flag::DEF_PARAM != 0 {
            return Err(error(
                format!("duplicate argument '{name}' in function definition"),
                span,
            ));
        }
        sym.flags |= f;
        if f & flag::DEF_LOCAL != 0 && f & flag::DEF_IMPORT == 0 {
            sym.flags |= flag::DEF_ASSIGN;
        }
        Ok(())
    }

    fn stmts(&mut self, body: &[Stmt]) -> Result<(), SyntaxError> {
        body.iter().try_for_each(|s| self.stmt(s))
    }

    fn stmt(&mut self, s: &Stmt) -> Result<(), SyntaxError> {
        match &s.kind {
            StmtKind::Expr(e) => self.expr(e),
            StmtKind::Assign { targets, value } => {
                self.expr(value)?;
                targets.iter().try_for_each(|t| self.target(t))
            }
            StmtKind::AugAssign { target, value, .. } => {
                self.expr(value)?;
                // As in CPython, the target counts as an assignment only
                // (`x += 1` before `global x` is "assigned to before").
                if let ExprKind::Name(n) = &target.kind {
                    self.add(n, flag::DEF_LOCAL, target.span)
                } else {
                    self.expr(target)
                }
            }
            StmtKind::AnnAssign {
                target,
                annotation,
                value,
            } => {
                if let ExprKind::Name(n) = &target.kind {
                    let scope = &self.table.scopes[self.cur];
                    let f = scope.flags(&self.mangled(n));
                    if f & (flag::DEF_GLOBAL | flag::DEF_NONLOCAL) != 0
                        && scope.kind != ScopeKind::Module
                    {
                        let what = if f & flag::DEF_GLOBAL != 0 {
                            "global"
                        } else {
                            "nonlocal"
                        };
                        return Err(error(
                            format!("annotated name '{n}' can't be {what}"),
                            target.span,
                        ));
                    }
                    self.add(n, flag::DEF_LOCAL | flag::DEF_ANNOT, target.span)?;
                } else {
                    self.expr(target)?;
                }
                if !self.table.scopes[self.cur].kind.is_function() {
                    self.expr(annotation)?;
                }
                if let Some(v) = value {
                    self.expr(v)?;
                }
                Ok(())
            }
            StmtKind::Pass | StmtKind::Break | StmtKind::Continue => Ok(()),
            StmtKind::Return(v) => {
                if let Some(v) = v {
                    self.expr(v)?;
                }
                Ok(())
            }
            StmtKind::Raise { exc, cause } => {
                if let Some(e) = exc {
                    self.expr(e)?;
                }
                if let Some(c) = cause {
                    self.expr(c)?;
                }
                Ok(())
            }
            StmtKind::Global(names) => self.declare(names, true, s.span),
            StmtKind::Nonlocal(names) => self.declare(names, false, s.span),
            StmtKind::Del(targets) => targets.iter().try_for_each(|t| self.del_target(t)),
            StmtKind::Assert { test, msg } => {
                self.expr(test)?;
                if let Some(m) = msg {
                    self.expr(m)?;
                }
                Ok(())
            }
            StmtKind::If { test, body, orelse } | StmtKind::While { test, body, orelse } => {
                self.expr(test)?;
                self.stmts(body)?;
                self.stmts(orelse)
            }
            StmtKind::For {
                target,
                iter,
                body,
                orelse,
                ..
            } => {
                self.expr(iter)?;
                self.target(target)?;
                self.stmts(body)?;
                self.stmts(orelse)
            }
            StmtKind::With { items, body, .. } => {
                for item in items {
                    self.expr(&item.context)?;
                    if let Some(t) = &item.target {
                        self.target(t)?;
                    }
                }
                self.stmts(body)
            }
            StmtKind::Try {
                body,
                handlers,
                orelse,
                finalbody,
            } => {
                self.stmts(body)?;
                for h in handlers {
                    if let Some(t) = &h.typ {
                        self.expr(t)?;
                    }
                    if let Some(n) = &h.name {
                        self.add(n, flag::DEF_LOCAL, h.span)?;
                    }
                    self.stmts(&h.body)?;
                }
                self.stmts(orelse)?;
                self.stmts(finalbody)
            }
            StmtKind::FunctionDef(f) => self.function_def(f, s.span),
            StmtKind::ClassDef(c) => self.class_def(c, s.span),
            StmtKind::Import(aliases) => {
                for a in aliases {
                    let bound = match &a.asname {
                        Some(n) => n.clone(),
                        None => Rc::from(a.name.split('.').next().unwrap_or(&a.name)),
                    };
                    self.add(&bound, flag::DEF_LOCAL | flag::DEF_IMPORT, a.span)?;
                }
                Ok(())
            }
            StmtKind::ImportFrom { names, star, .. } => {
                if *star && self.table.scopes[self.cur].kind != ScopeKind::Module {
                    // CPython points at the `*`, the statement's last token.
                    let end = s.span.end as usize;
                    let star = Span::new(end.saturating_sub(1), end);
                    return Err(error("import * only allowed at module level", star));
                }
                for a in names {
                    self.add(
                        a.asname.as_ref().unwrap_or(&a.name),
                        flag::DEF_LOCAL | flag::DEF_IMPORT,
                        a.span,
                    )?;
                }
                Ok(())
            }
        }
    }

    fn declare(&mut self, names: &[Name], global: bool, span: Span) -> Result<(), SyntaxError> {
        let kind = self.table.scopes[self.cur].kind;
        if !global && kind == ScopeKind::Module {
            return Err(error(
                "nonlocal declaration not allowed at module level",
                span,
            ));
        }
        for n in names {
            let name = self.mangled(n);
            let f = self.table.scopes[self.cur].flags(&name);
            let what = if global { "global" } else { "nonlocal" };
            if f & flag::DEF_PARAM != 0 {
                return Err(error(format!("name '{n}' is parameter and {what}"), span));
            }
            // CPython reports this at the name's first global/nonlocal statement.
            if (global && f & flag::DEF_NONLOCAL != 0) || (!global && f & flag::DEF_GLOBAL != 0) {
                let first = self.table.scopes[self.cur].decl_spans.get(&name).copied();
                return Err(error(
                    format!("name '{n}' is nonlocal and global"),
                    first.unwrap_or(span),
                ));
            }
            // CPython checks these even when the name was declared before.
            if f & flag::USE != 0 {
                return Err(error(
                    format!("name '{n}' is used prior to {what} declaration"),
                    span,
                ));
            }
            if f & flag::DEF_ANNOT != 0 {
                return Err(error(format!("annotated name '{n}' can't be {what}"), span));
            }
            if f & flag::DEF_ASSIGN != 0 {
                return Err(error(
                    format!("name '{n}' is assigned to before {what} declaration"),
                    span,
                ));
            }
            let fl = if global {
                flag::DEF_GLOBAL
            } else {
                flag::DEF_NONLOCAL
            };
            self.add(n, fl, span)?;
            // The first declaration is where CPython points its errors.
            self.scope().decl_spans.entry(name).or_insert(span);
        }
        Ok(())
    }

    fn function_def(&mut self, f: &Rc<FunctionDef>, span: Span) -> Result<(), SyntaxError> {
        // Decorators, defaults and annotations belong to the enclosing scope.
        for d in &f.decorators {
            self.expr(d)?;
        }
        self.param_defaults(&f.params)?;
        self.annotations(&f.params)?;
        if let Some(r) = &f.returns {
            self.expr(r)?;
        }
        self.add(&f.name, flag::DEF_LOCAL, span)?;
        let outer = self.cur;
        let id = self.new_scope(
            ScopeKind::Function,
            f.name.clone(),
            Some(Rc::as_ptr(f) as usize),
        );
        self.cur = id;
        self.scope().is_coroutine = f.is_async;
        self.params(&f.params)?;
        self.stmts(&f.body)?;
        self.cur = outer;
        Ok(())
    }

    fn class_def(&mut self, c: &Rc<ClassDef>, span: Span) -> Result<(), SyntaxError> {
        for d in &c.decorators {
            self.expr(d)?;
        }
        for b in &c.bases {
            self.expr(b)?;
        }
        for k in &c.keywords {
            self.expr(&k.value)?;
        }
        self.add(&c.name, flag::DEF_LOCAL, span)?;
        let outer = self.cur;
        let id = self.new_scope(
            ScopeKind::Class,
            c.name.clone(),
            Some(Rc::as_ptr(c) as usize),
        );
        self.cur = id;
        self.stmts(&c.body)?;
        self.cur = outer;
        Ok(())
    }

    fn param_defaults(&mut self, p: &Params) -> Result<(), SyntaxError> {
        for param in p.posonly.iter().chain(&p.args).chain(&p.kwonly) {
            if let Some(d) = &param.default {
                self.expr(d)?;
            }
        }
        Ok(())
    }

    fn annotations(&mut self, p: &Params) -> Result<(), SyntaxError> {
        for param in p.iter() {
            if let Some(a) = &param.annotation {
                self.expr(a)?;
            }
        }
        Ok(())
    }

    fn params(&mut self, p: &Params) -> Result<(), SyntaxError> {
        let ordered = p
            .posonly
            .iter()
            .chain(&p.args)
            .chain(&p.kwonly)
            .chain(&p.vararg)
            .chain(&p.kwarg);
        for param in ordered {
            self.add(&param.name, flag::DEF_PARAM, param.span)?;
            let name = self.mangled(&param.name);
            self.scope().params.push(name);
        }
        Ok(())
    }

    fn target(&mut self, t: &Expr) -> Result<(), SyntaxError> {
        match &t.kind {
            ExprKind::Name(n) => self.add(n, flag::DEF_LOCAL, t.span),
            ExprKind::Attribute { attr, .. } => {
                forbidden(attr, "assign to", t.span)?;
                self.expr(t)
            }
            ExprKind::Tuple(v) | ExprKind::List(v) => v.iter().try_for_each(|x| self.target(x)),
            ExprKind::Starred(inner) => self.target(inner),
            _ => self.expr(t),
        }
    }

    fn del_target(&mut self, t: &Expr) -> Result<(), SyntaxError> {
        match &t.kind {
            ExprKind::Name(n) => {
                forbidden(n, "delete", t.span)?;
                self.add(n, flag::DEF_LOCAL, t.span)
            }
            ExprKind::Tuple(v) | ExprKind::List(v) => v.iter().try_for_each(|x| self.del_target(x)),
            _ => self.expr(t),
        }
    }

    fn expr(&mut self, e: &Expr) -> Result<(), SyntaxError> {
        match &e.kind {
            ExprKind::Name(n) => {
                self.add(n, flag::USE, e.span)?;
                // Zero-argument super() needs the class cell.
                if &**n == "super" && self.table.scopes[self.cur].kind.is_function() {
                    self.add(&Rc::from("__class__"), flag::USE, e.span)?;
                }
                Ok(())
            }
            ExprKind::Constant(_) => Ok(()),
            ExprKind::JoinedStr(parts) => self.fstring(parts),
            ExprKind::List(v) | ExprKind::Tuple(v) | ExprKind::Set(v) => {
                v.iter().try_for_each(|x| self.expr(x))
            }
            ExprKind::Dict(items) => {
                for (k, v) in items {
                    if let Some(k) = k {
                        self.expr(k)?;
                    }
                    self.expr(v)?;
                }
                Ok(())
            }
            ExprKind::Starred(v) => self.expr(v),
            ExprKind::Attribute { value, .. } => self.expr(value),
            ExprKind::Subscript { value, index } => {
                self.expr(value)?;
                self.expr(index)
            }
            ExprKind::Slice { lower, upper, step } => {
                for x in [lower, upper, step].into_iter().flatten() {
                    self.expr(x)?;
                }
                Ok(())
            }
            ExprKind::Call {
                func,
                args,
                keywords,
            } => {
                self.expr(func)?;
                args.iter().try_for_each(|a| self.expr(a))?;
                for k in keywords {
                    if let Some(arg) = &k.arg {
                        forbidden(arg, "assign to", e.span)?;
                    }
                }
                keywords.iter().try_for_each(|k| self.expr(&k.value))
            }
            ExprKind::BinOp { left, right, .. } => {
                self.expr(left)?;
                self.expr(right)
            }
            ExprKind::UnaryOp { operand, .. } => self.expr(operand),
            ExprKind::BoolOp { values, .. } => values.iter().try_for_each(|v| self.expr(v)),
            ExprKind::Compare {
                left, comparators, ..
            } => {
                self.expr(left)?;
                comparators.iter().try_for_each(|c| self.expr(c))
            }
            ExprKind::IfExp { test, body, orelse } => {
                self.expr(test)?;
                self.expr(body)?;
                self.expr(orelse)
            }
            ExprKind::Lambda { params, body } => {
                self.param_defaults(params)?;
                let outer = self.cur;
                let id = self.new_scope(
                    ScopeKind::Lambda,
                    Rc::from("<lambda>"),
                    Some(e as *const Expr as usize),
                );
                self.cur = id;
                self.params(params)?;
                self.expr(body)?;
                self.cur = outer;
                Ok(())
            }
            ExprKind::ListComp { elt, generators } => {
                self.comprehension(e, ScopeKind::ListComp, elt, None, generators)
            }
            ExprKind::SetComp { elt, generators } => {
                self.comprehension(e, ScopeKind::SetComp, elt, None, generators)
            }
            ExprKind::GeneratorExp { elt, generators } => {
                self.comprehension(e, ScopeKind::GenExp, elt, None, generators)
            }
            ExprKind::DictComp {
                key,
                value,
                generators,
            } => self.comprehension(e, ScopeKind::DictComp, key, Some(value), generators),
            ExprKind::Yield(v) => {
                self.yield_here(e.span)?;
                if let Some(v) = v {
                    self.expr(v)?;
                }
                Ok(())
            }
            ExprKind::YieldFrom(v) => {
                self.yield_here(e.span)?;
                self.expr(v)
            }
            ExprKind::Await(v) => {
                // Comprehensions inherit the async-ness of their function.
                let mut id = self.cur;
                while self.table.scopes[id].kind.is_comprehension() {
                    self.table.scopes[id].is_coroutine = true;
                    id = self.table.scopes[id].parent.unwrap_or(0);
                }
                let scope = &self.table.scopes[id];
                if !scope.kind.is_function() {
                    return Err(error("'await' outside function", e.span));
                }
                if !scope.is_coroutine {
                    return Err(error("'await' outside async function", e.span));
                }
                self.expr(v)
            }
            ExprKind::NamedExpr { target, value } => {
                if self.comp_iter > 0 {
                    return Err(error(
                        "assignment expression cannot be used in a comprehension iterable expression",
                        e.span,
                    ));
                }
                self.expr(value)?;
                self.walrus_target(target, e.span)
            }
        }
    }

    fn fstring(&mut self, parts: &[FStringPart]) -> Result<(), SyntaxError> {
        for p in parts {
            if let FStringPart::Value { expr, spec, .. } = p {
                self.expr(expr)?;
                if let Some(spec) = spec {
                    self.fstring(spec)?;
                }
            }
        }
        Ok(())
    }

    fn yield_here(&mut self, span: Span) -> Result<(), SyntaxError> {
        let scope = &mut self.table.scopes[self.cur];
        match scope.kind {
            ScopeKind::Module | ScopeKind::Class => Err(error("'yield' outside function", span)),
            ScopeKind::ListComp => Err(error("'yield' inside list comprehension", span)),
            ScopeKind::SetComp => Err(error("'yield' inside set comprehension", span)),
            ScopeKind::DictComp => Err(error("'yield' inside dict comprehension", span)),
            ScopeKind::GenExp => Err(error("'yield' inside generator expression", span)),
            ScopeKind::Function | ScopeKind::Lambda => {
                scope.is_generator = true;
                Ok(())
            }
        }
    }

    /// A walrus binds in the nearest enclosing non-comprehension scope.
    fn walrus_target(&mut self, target: &Name, span: Span) -> Result<(), SyntaxError> {
        let scope = &self.table.scopes[self.cur];
        if !scope.kind.is_comprehension() {
            return self.add(target, flag::DEF_LOCAL, span);
        }
        // Inside comprehensions: cannot rebind an iteration variable.
        let mut id = self.cur;
        loop {
            let s = &self.table.scopes[id];
            if !s.kind.is_comprehension() {
                break;
            }
            if s.flags(target) & flag::DEF_COMP_ITER != 0 {
                // CPython underlines the target name only.
                let name = Span::new(span.start as usize, span.start as usize + target.len());
                return Err(error(
                    format!("assignment expression cannot rebind comprehension iteration variable '{target}'"),
                    name,
                ));
            }
            id = s.parent.unwrap_or(0);
        }
        let enclosing = &self.table.scopes[id];
        if enclosing.kind == ScopeKind::Class {
            return Err(error(
                "assignment expression within a comprehension cannot be used in a class body",
                span,
            ));
        }
        let module =
            enclosing.kind == ScopeKind::Module || enclosing.flags(target) & flag::DEF_GLOBAL != 0;
        // Mark it free (or global) in each comprehension, bound in the target scope.
        let saved = self.cur;
        let mut c = self.cur;
        while self.table.scopes[c].kind.is_comprehension() {
            self.cur = c;
            self.add(
                target,
                if module {
                    flag::DEF_GLOBAL
                } else {
                    flag::DEF_NONLOCAL
                },
                span,
            )?;
            c = self.table.scopes[c].parent.unwrap_or(0);
        }
        self.cur = c;
        let r = self.add(target, flag::DEF_LOCAL, span);
        self.cur = saved;
        r
    }

    fn comp_iter_expr(&mut self, iter: &Expr) -> Result<(), SyntaxError> {
        self.comp_iter += 1;
        let r = self.expr(iter);
        self.comp_iter -= 1;
        r
    }

    fn comprehension(
        &mut self,
        e: &Expr,
        kind: ScopeKind,
        elt: &Expr,
        value: Option<&Expr>,
        generators: &[Comprehension],
    ) -> Result<(), SyntaxError> {
        let Some(first) = generators.first() else {
            return Ok(());
        };
        // The outermost iterable is evaluated in the enclosing scope.
        self.comp_iter_expr(&first.iter)?;
        let name = match kind {
            ScopeKind::ListComp => "<listcomp>",
            ScopeKind::SetComp => "<setcomp>",
            ScopeKind::DictComp => "<dictcomp>",
            _ => "<genexpr>",
        };
        let outer = self.cur;
        let is_async = self.table.scopes[outer].is_coroutine;
        let id = self.new_scope(kind, Rc::from(name), Some(e as *const Expr as usize));
        self.cur = id;
        self.scope().is_generator = kind == ScopeKind::GenExp;
        self.scope().is_coroutine = is_async && generators.iter().any(|g| g.is_async);
        self.add(&Rc::from(".0"), flag::DEF_PARAM, e.span)?;
        self.scope().params.push(Rc::from(".0"));
        for (i, g) in generators.iter().enumerate() {
            if i > 0 {
                self.comp_iter_expr(&g.iter)?;
            }
            self.comp_target(&g.target)?;
            for cond in &g.ifs {
                self.expr(cond)?;
            }
        }
        self.expr(elt)?;
        if let Some(v) = value {
            self.expr(v)?;
        }
        self.cur = outer;
        Ok(())
    }

    fn comp_target(&mut self, t: &Expr) -> Result<(), SyntaxError> {
        match &t.kind {
            ExprKind::Name(n) => self.add(n, flag::DEF_LOCAL | flag::DEF_COMP_ITER, t.span),
            ExprKind::Tuple(v) | ExprKind::List(v) => {
                v.iter().try_for_each(|x| self.comp_target(x))
            }
            ExprKind::Starred(inner) => self.comp_target(inner),
            _ => self.expr(t),
        }
    }
}

/// Resolve every name of `id` and its children; returns the names free in `id`.
fn analyze(
    table: &mut SymbolTable,
    id: ScopeId,
    bound: Option<&HashSet<Name>>,
    global: &HashSet<Name>,
) -> Result<HashSet<Name>, SyntaxError> {
    let kind = table.scopes[id].kind;
    let mut local: HashSet<Name> = HashSet::new();
    let mut free: HashSet<Name> = HashSet::new();
    let mut global = global.clone();
    let mut bound_here: Option<HashSet<Name>> = bound.cloned();

    let names: Vec<(Name, u16)> = table.scopes[id]
        .symbols
        .iter()
        .map(|(n, s)| (n.clone(), s.flags))
        .collect();
    for (name, flags) in &names {
        let binding = if flags & flag::DEF_GLOBAL != 0 {
            global.insert(name.clone());
            if let Some(b) = bound_here.as_mut() {
                b.remove(name);
            }
            Binding::GlobalExplicit
        } else if flags & flag::DEF_NONLOCAL != 0 {
            if !bound.is_some_and(|b| b.contains(name)) {
                let span = table.scopes[id]
                    .decl_spans
                    .get(name)
                    .copied()
                    .unwrap_or_default();
                // Walrus targets in comprehensions are marked nonlocal internally.
                let msg = format!("no binding for nonlocal '{name}' found");
                if kind.is_comprehension() {
                    // The enclosing function binds it; it is just not analysed yet.
                    free.insert(name.clone());
                    table.scopes[id].symbols[name].binding = Binding::Free;
                    continue;
                }
                return Err(error(msg, span));
            }
            free.insert(name.clone());
            Binding::Free
        } else if flags & flag::DEF_BOUND != 0 {
            local.insert(name.clone());
            global.remove(name);
            Binding::Local
        } else if bound.is_some_and(|b| b.contains(name)) {
            free.insert(name.clone());
            Binding::Free
        } else {
            Binding::GlobalImplicit
        };
        table.scopes[id].symbols[name].binding = binding;
    }

    // What the children see.
    let mut newbound: HashSet<Name> = HashSet::new();
    if kind.is_function() {
        newbound.extend(local.iter().cloned());
    }
    if let Some(b) = &bound_here {
        newbound.extend(b.iter().cloned());
    }
    if kind == ScopeKind::Class {
        newbound.insert(Rc::from("__class__"));
    }
    // Names a function binds locally shadow enclosing globals for its children.
    let mut newglobal = global.clone();
    if kind.is_function() {
        for n in &local {
            newglobal.remove(n);
        }
    }

    let mut allfree: HashSet<Name> = HashSet::new();
    let children = table.scopes[id].children.clone();
    for child in children {
        let child_free = analyze(table, child, Some(&newbound), &newglobal)?;
        allfree.extend(child_free);
    }

    if kind.is_function() {
        // Locals captured by children become cells.
        for name in allfree.clone() {
            if let Some(sym) = table.scopes[id].symbols.get_mut(&name) {
                if sym.binding == Binding::Local {
                    sym.binding = Binding::Cell;
                    allfree.remove(&name);
                }
            }
        }
    }
    if kind == ScopeKind::Class && allfree.remove("__class__") {
        table.scopes[id].needs_class_cell = true;
    }
    // Pass the children's free variables through this scope.
    for name in &allfree {
        let scope = &mut table.scopes[id];
        match scope.symbols.get_mut(name) {
            Some(sym) => {
                if sym.binding == Binding::Local && kind == ScopeKind::Class {
                    // Bound in the class body and free in a method: the class
                    // passes the outer cell through as well.
                    sym.flags |= flag::DEF_FREE_CLASS;
                } else if sym.binding == Binding::GlobalImplicit && kind != ScopeKind::Module {
                    sym.binding = Binding::Free;
                }
            }
            None => {
                if kind != ScopeKind::Module {
                    scope.symbols.insert(
                        name.clone(),
                        Symbol {
                            flags: if kind == ScopeKind::Class {
                                flag::DEF_FREE_CLASS
                            } else {
                                0
                            },
                            binding: Binding::Free,
                        },
                    );
                }
            }
        }
    }
    free.extend(allfree);
    if kind == ScopeKind::Module {
        free.clear();
    }
    Ok(free)
}

/// `__debug__` is a constant: binding or deleting it is a compile-time error
/// (CPython's `forbidden_name`), wherever the binding comes from.
fn forbidden(name: &str, what: &str, span: Span) -> Result<(), SyntaxError> {
    if name == "__debug__" {
        return Err(error(format!("cannot {what} __debug__"), span));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parse_module;

    fn table(src: &str) -> SymbolTable {
        build(&parse_module(src).unwrap()).unwrap()
    }

    fn find<'t>(t: &'t SymbolTable, name: &str) -> &'t Scope {
        t.scopes.iter().find(|s| &*s.name == name).unwrap()
    }

    #[test]
    fn classification() {
        let t = table(
            "g = 1\n\
             def outer(a):\n\
             \x20   b = 2\n\
             \x20   global g\n\
             \x20   def inner():\n\
             \x20       nonlocal b\n\
             \x20       b += a\n\
             \x20       return g, len\n\
             \x20   return inner\n",
        );
        let outer = find(&t, "outer");
        assert_eq!(outer.binding("a"), Binding::Cell);
        assert_eq!(outer.binding("b"), Binding::Cell);
        assert_eq!(outer.binding("g"), Binding::GlobalExplicit);
        assert_eq!(outer.binding("inner"), Binding::Local);
        let inner = find(&t, "inner");
        assert_eq!(inner.binding("a"), Binding::Free);
        assert_eq!(inner.binding("b"), Binding::Free);
        assert_eq!(inner.binding("g"), Binding::GlobalImplicit);
        assert_eq!(inner.binding("len"), Binding::GlobalImplicit);
        assert_eq!(
            outer.cellvars().iter().map(|n| &**n).collect::<Vec<_>>(),
            ["a", "b"]
        );
    }

    #[test]
    fn class_scopes_do_not_enclose_methods() {
        let t = table(
            "def f():\n\
             \x20   x = 1\n\
             \x20   class C:\n\
             \x20       x = 2\n\
             \x20       y = x\n\
             \x20       def m(self):\n\
             \x20           return x, super()\n\
             \x20   return C\n",
        );
        let m = find(&t, "m");
        assert_eq!(m.binding("x"), Binding::Free);
        assert_eq!(m.binding("__class__"), Binding::Free);
        let c = find(&t, "C");
        assert!(c.needs_class_cell);
        assert_eq!(c.binding("x"), Binding::Local);
        assert!(c.flags("x") & flag::DEF_FREE_CLASS != 0);
        assert_eq!(find(&t, "f").binding("x"), Binding::Cell);
    }

    #[test]
    fn comprehension_scopes() {
        let t = table("def f(n):\n    return [i * n for i in range(n) if (last := i)]\n");
        let comp = find(&t, "<listcomp>");
        assert_eq!(comp.binding("i"), Binding::Local);
        assert_eq!(comp.binding("n"), Binding::Free);
        assert_eq!(comp.binding("last"), Binding::Free);
        assert_eq!(comp.binding("range"), Binding::GlobalImplicit);
        assert_eq!(find(&t, "f").binding("last"), Binding::Cell);
    }

    #[test]
    fn scoping_errors() {
        let err = |src: &str| {
            build(&parse_module(src).unwrap())
                .err()
                .map(|e| e.msg)
                .unwrap_or_default()
        };
        assert_eq!(
            err("def f():\n  nonlocal x\n"),
            "no binding for nonlocal 'x' found"
        );
        assert_eq!(
            err("nonlocal x\n"),
            "nonlocal declaration not allowed at module level"
        );
        assert_eq!(
            err("def f():\n  x = 1\n  global x\n"),
            "name 'x' is assigned to before global declaration"
        );
        assert_eq!(
            err("def f():\n  print(x)\n  global x\n"),
            "name 'x' is used prior to global declaration"
        );
        assert_eq!(
            err("def f(a, a): pass\n"),
            "duplicate argument 'a' in function definition"
        );
        for src in [
            "__debug__ = 1\n",
            "def f(__debug__): pass\n",
            "x.__debug__ = 1\n",
        ] {
            assert_eq!(err(src), "cannot assign to __debug__", "{src}");
        }
        assert_eq!(err("f(__debug__=1)\n"), "cannot assign to __debug__");
        assert_eq!(err("del __debug__\n"), "cannot delete __debug__");
        assert_eq!(err("print(__debug__)\n"), "");
        assert_eq!(
            err("[y for x in (y := [1])]\n"),
            "assignment expression cannot be used in a comprehension iterable expression"
        );
        assert_eq!(err("[y for x in [1] if (y := x)]\n"), "");
        assert_eq!(
            err("def f(a):\n  global a\n"),
            "name 'a' is parameter and global"
        );
        assert_eq!(err("yield 1\n"), "'yield' outside function");
        assert_eq!(err("class A:\n  yield 1\n"), "'yield' outside function");
        assert_eq!(
            err("def f():\n  from m import *\n"),
            "import * only allowed at module level"
        );
        assert_eq!(
            err("class A:\n  [y := i for i in x]\n"),
            "assignment expression within a comprehension cannot be used in a class body"
        );
        assert_eq!(
            err("[i := 0 for i in x]\n"),
            "assignment expression cannot rebind comprehension iteration variable 'i'"
        );
    }

    #[test]
    fn private_names_are_mangled() {
        assert_eq!(&*mangle(Some("_Foo"), &Rc::from("__x")), "_Foo__x");
        assert_eq!(&*mangle(Some("Foo"), &Rc::from("__init__")), "__init__");
        assert_eq!(&*mangle(Some("Foo"), &Rc::from("_x")), "_x");
    }
}
