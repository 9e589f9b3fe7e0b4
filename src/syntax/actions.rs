//! Helpers for the grammar's actions: node construction with a nesting
//! limit, target validation with CPython's messages, argument and parameter
//! list checks, string literal concatenation.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use lalrpop_util::ParseError;

use crate::syntax::ast::*;
use crate::syntax::fstring;
use crate::syntax::lexer::{StrKind, StrTok, StrValue, Tok};
use crate::syntax::parser::{SyntaxError, SyntaxErrorKind};

/// Deepest expression nesting accepted. The AST, the compiler and `Drop`
/// recurse on the Rust stack, so the parser refuses deeper trees
/// (CPython fails similarly, with a RecursionError, near 3000).
pub const MAX_EXPR_DEPTH: u32 = 2999;

/// Deepest right-nested expression CPython's parser accepts at module
/// level: its PEG parser gives up with a MemoryError past 6000 rule levels,
/// and `not`/unary operators/`else` branches cost one level each, `**`
/// and `lambda` two.
pub const MAX_PARSE_DEPTH: u32 = 5967;

pub type PErr = ParseError<usize, Tok, SyntaxError>;
pub type PResult<T> = Result<T, PErr>;

/// What the grammar's single entry point produces.
pub enum Top {
    Module(Vec<Stmt>),
    Expr(Expr),
}

/// State shared by the actions of one parse (and of the nested parses of
/// f-string replacement fields).
pub struct ParseCtx {
    pub src: Rc<str>,
    /// Nesting depth of composite expressions (for the compiler, and as
    /// CPython's parser counts it: see [`MAX_PARSE_DEPTH`]), keyed by span.
    /// A parent's span strictly contains its children's in practice; a
    /// collision only over-estimates a depth.
    depths: RefCell<HashMap<(u32, u32), (u32, u32)>>,
    /// Inside an f-string replacement field (error messages get a prefix).
    pub in_fstring: std::cell::Cell<u32>,
    /// The first expression nested deeper than [`MAX_EXPR_DEPTH`]. CPython
    /// parses the whole file before compiling it, so a syntax error
    /// anywhere wins over this; it is reported only when the parse succeeds.
    pub too_deep: RefCell<Option<SyntaxError>>,
}

impl ParseCtx {
    pub fn new(src: Rc<str>) -> ParseCtx {
        ParseCtx {
            src,
            depths: RefCell::new(HashMap::new()),
            in_fstring: std::cell::Cell::new(0),
            too_deep: RefCell::new(None),
        }
    }

    fn depth_of(&self, e: &Expr) -> u32 {
        self.depths
            .borrow()
            .get(&(e.span.start, e.span.end))
            .map_or(1, |d| d.0)
    }

    fn parse_depth_of(&self, e: &Expr) -> u32 {
        self.depths
            .borrow()
            .get(&(e.span.start, e.span.end))
            .map_or(0, |d| d.1)
    }

    /// How many levels CPython's parser recurses through to build `e`.
    fn parse_depth(&self, e: &Expr) -> u32 {
        let pd = |c: &Expr| self.parse_depth_of(c);
        match &e.kind {
            ExprKind::UnaryOp { operand, .. } => pd(operand) + 1,
            ExprKind::IfExp { test, body, orelse } => pd(test).max(pd(body)).max(pd(orelse) + 1),
            ExprKind::BinOp {
                left,
                op: BinOp::Pow,
                right,
            } => pd(left).max(pd(right) + 2),
            ExprKind::Lambda { body, .. } => pd(body) + 2,
            _ => {
                let mut d = 0;
                for_each_child(e, &mut |c| d = d.max(pd(c)));
                d
            }
        }
    }

    /// Build an expression node, enforcing [`MAX_EXPR_DEPTH`].
    pub fn expr(&self, kind: ExprKind, l: usize, r: usize) -> PResult<Expr> {
        let e = Expr::new(kind, Span::new(l, r));
        let mut d = 0;
        for_each_child(&e, &mut |c| d = d.max(self.depth_of(c)));
        let pd = self.parse_depth(&e);
        if pd > MAX_PARSE_DEPTH {
            return Err(ParseError::User {
                error: SyntaxError {
                    kind: SyntaxErrorKind::NoMemory,
                    msg: String::new(),
                    span: e.span,
                    at_eof: false,
                    quote: None,
                },
            });
        }
        if d > 0 {
            if d + 1 > MAX_EXPR_DEPTH {
                let mut too_deep = self.too_deep.borrow_mut();
                if too_deep.is_none() {
                    *too_deep = Some(SyntaxError {
                        kind: SyntaxErrorKind::TooDeep,
                        msg: "maximum recursion depth exceeded during compilation".into(),
                        span: e.span,
                        at_eof: false,
                        quote: None,
                    });
                }
                // A shallow stand-in keeps the tree (and its recursive
                // drop) bounded while the rest of the file is parsed; a
                // name is a valid target anywhere, so it adds no errors.
                // It keeps the parser's depth, which goes on growing.
                self.depths
                    .borrow_mut()
                    .insert((e.span.start, e.span.end), (1, pd));
                return Ok(Expr::new(ExprKind::Name("".into()), e.span));
            }
            self.depths
                .borrow_mut()
                .insert((e.span.start, e.span.end), (d + 1, pd));
        }
        Ok(e)
    }
}

/// Visit the direct sub-expressions of `e` (also those inside lambda
/// defaults and comprehensions).
pub fn for_each_child(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    match &e.kind {
        ExprKind::Name(_) | ExprKind::Constant(_) => {}
        ExprKind::JoinedStr(parts) => fstring_children(parts, f),
        ExprKind::List(v) | ExprKind::Tuple(v) | ExprKind::Set(v) => v.iter().for_each(f),
        ExprKind::Dict(items) => {
            for (k, v) in items {
                if let Some(k) = k {
                    f(k);
                }
                f(v);
            }
        }
        ExprKind::Starred(v) | ExprKind::Await(v) | ExprKind::YieldFrom(v) => f(v),
        ExprKind::Attribute { value, .. } => f(value),
        ExprKind::Subscript { value, index } => {
            f(value);
            f(index);
        }
        ExprKind::Slice { lower, upper, step } => {
            for x in [lower, upper, step].into_iter().flatten() {
                f(x);
            }
        }
        ExprKind::Call {
            func,
            args,
            keywords,
        } => {
            f(func);
            args.iter().for_each(&mut *f);
            keywords.iter().for_each(|k| f(&k.value));
        }
        ExprKind::BinOp { left, right, .. } => {
            f(left);
            f(right);
        }
        ExprKind::UnaryOp { operand, .. } => f(operand),
        ExprKind::BoolOp { values, .. } => values.iter().for_each(f),
        ExprKind::Compare {
            left, comparators, ..
        } => {
            f(left);
            comparators.iter().for_each(f);
        }
        ExprKind::IfExp { test, body, orelse } => {
            f(test);
            f(body);
            f(orelse);
        }
        ExprKind::Lambda { params, body } => {
            params_children(params, f);
            f(body);
        }
        ExprKind::ListComp { elt, generators }
        | ExprKind::SetComp { elt, generators }
        | ExprKind::GeneratorExp { elt, generators } => {
            f(elt);
            comp_children(generators, f);
        }
        ExprKind::DictComp {
            key,
            value,
            generators,
        } => {
            f(key);
            f(value);
            comp_children(generators, f);
        }
        ExprKind::Yield(v) => {
            if let Some(v) = v {
                f(v);
            }
        }
        ExprKind::NamedExpr { value, .. } => f(value),
    }
}

fn fstring_children(parts: &[FStringPart], f: &mut dyn FnMut(&Expr)) {
    for p in parts {
        if let FStringPart::Value { expr, spec, .. } = p {
            f(expr);
            if let Some(spec) = spec {
                fstring_children(spec, f);
            }
        }
    }
}

fn comp_children(gens: &[Comprehension], f: &mut dyn FnMut(&Expr)) {
    for g in gens {
        f(&g.target);
        f(&g.iter);
        g.ifs.iter().for_each(&mut *f);
    }
}

fn params_children(p: &Params, f: &mut dyn FnMut(&Expr)) {
    for param in p.iter() {
        if let Some(d) = &param.default {
            f(d);
        }
        if let Some(a) = &param.annotation {
            f(a);
        }
    }
}

pub fn user(msg: impl Into<String>, span: Span) -> PErr {
    ParseError::User {
        error: SyntaxError {
            kind: SyntaxErrorKind::SyntaxError,
            msg: msg.into(),
            span,
            at_eof: false,
            quote: None,
        },
    }
}

fn sp(l: usize, r: usize) -> Span {
    Span::new(l, r)
}

// ---------------------------------------------------------------- literals

/// Adjacent string literals: one constant, or an f-string when any piece is one.
pub fn strings(ctx: &ParseCtx, toks: Vec<Rc<StrTok>>, l: usize, r: usize) -> PResult<Expr> {
    let has_bytes = toks.iter().any(|t| t.kind == StrKind::Bytes);
    if has_bytes {
        if toks.iter().any(|t| t.kind != StrKind::Bytes) {
            return Err(user("cannot mix bytes and nonbytes literals", sp(l, r)));
        }
        let mut out: Vec<u8> = Vec::new();
        for t in &toks {
            if let StrValue::Bytes(b) = &t.value {
                out.extend_from_slice(b);
            }
        }
        return ctx.expr(ExprKind::Constant(Constant::Bytes(Rc::from(out))), l, r);
    }
    if toks.iter().all(|t| t.kind == StrKind::Str) {
        let mut out = String::new();
        for t in &toks {
            if let StrValue::Str(s) = &t.value {
                out.push_str(s);
            }
        }
        return ctx.expr(ExprKind::Constant(Constant::Str(Rc::from(out))), l, r);
    }
    let mut parts: Vec<FStringPart> = Vec::new();
    for t in &toks {
        match (&t.kind, &t.value) {
            (StrKind::FStr, _) => {
                for p in fstring::parse(ctx, t, r)? {
                    push_part(&mut parts, p);
                }
            }
            (_, StrValue::Str(s)) => push_part(&mut parts, FStringPart::Literal(s.clone())),
            _ => {}
        }
    }
    ctx.expr(ExprKind::JoinedStr(parts), l, r)
}

/// Append, merging adjacent literals; empty literals are dropped.
pub fn push_part(parts: &mut Vec<FStringPart>, p: FStringPart) {
    if let FStringPart::Literal(s) = &p {
        if s.is_empty() {
            return;
        }
        if let Some(FStringPart::Literal(prev)) = parts.last_mut() {
            let mut joined = String::with_capacity(prev.len() + s.len());
            joined.push_str(prev);
            joined.push_str(s);
            *prev = Rc::from(joined);
            return;
        }
    }
    parts.push(p);
}

// ---------------------------------------------------------------- targets

/// CPython's name for an expression kind in error messages.
pub fn expr_name(e: &Expr) -> &'static str {
    match &e.kind {
        ExprKind::Attribute { .. } => "attribute",
        ExprKind::Subscript { .. } => "subscript",
        ExprKind::Starred(_) => "starred",
        ExprKind::Name(_) => "name",
        ExprKind::List(_) => "list",
        ExprKind::Tuple(_) => "tuple",
        ExprKind::Lambda { .. } => "lambda",
        ExprKind::Call { .. } => "function call",
        ExprKind::BoolOp { .. } | ExprKind::BinOp { .. } | ExprKind::UnaryOp { .. } => "expression",
        ExprKind::GeneratorExp { .. } => "generator expression",
        ExprKind::Yield(_) | ExprKind::YieldFrom(_) => "yield expression",
        ExprKind::Await(_) => "await expression",
        ExprKind::ListComp { .. } => "list comprehension",
        ExprKind::SetComp { .. } => "set comprehension",
        ExprKind::DictComp { .. } => "dict comprehension",
        ExprKind::Dict(_) => "dict literal",
        ExprKind::Set(_) => "set display",
        ExprKind::JoinedStr(_) => "f-string expression",
        ExprKind::Constant(Constant::None) => "None",
        ExprKind::Constant(Constant::True) => "True",
        ExprKind::Constant(Constant::False) => "False",
        ExprKind::Constant(Constant::Ellipsis) => "ellipsis",
        ExprKind::Constant(_) => "literal",
        ExprKind::Compare { .. } => "comparison",
        ExprKind::IfExp { .. } => "conditional expression",
        ExprKind::NamedExpr { .. } => "named expression",
        ExprKind::Slice { .. } => "slice",
    }
}

/// The first sub-expression that cannot be assigned to (or deleted).
fn invalid_target(e: &Expr, del: bool) -> Option<&Expr> {
    match &e.kind {
        ExprKind::Name(_) | ExprKind::Attribute { .. } | ExprKind::Subscript { .. } => None,
        ExprKind::Starred(inner) if !del => invalid_target(inner, del),
        ExprKind::Tuple(v) | ExprKind::List(v) => v.iter().find_map(|x| invalid_target(x, del)),
        _ => Some(e),
    }
}

/// Validate a `for`/`with`/comprehension target.
pub fn check_target(e: &Expr) -> PResult<()> {
    match invalid_target(e, false) {
        Some(bad) => Err(user(
            format!("cannot assign to {}", expr_name(bad)),
            bad.span,
        )),
        None => Ok(()),
    }
}

/// Whether `e` parses at CPython's `bitwise_or` level or tighter.
pub(crate) fn is_bitwise_or(e: &Expr) -> bool {
    !matches!(
        e.kind,
        ExprKind::BoolOp { .. }
            | ExprKind::Compare { .. }
            | ExprKind::IfExp { .. }
            | ExprKind::Lambda { .. }
            | ExprKind::NamedExpr { .. }
            | ExprKind::Starred(_)
            | ExprKind::UnaryOp {
                op: UnaryOp::Not,
                ..
            }
    )
}

fn is_bare_tuple(ctx: &ParseCtx, e: &Expr) -> bool {
    matches!(e.kind, ExprKind::Tuple(_)) && !ctx.src[e.span.start as usize..].starts_with('(')
}

/// `t1 = t2 = ... = value`.
pub fn assign(
    ctx: &ParseCtx,
    first: Expr,
    mut rest: Vec<Expr>,
    l: usize,
    r: usize,
) -> PResult<Stmt> {
    let value = rest
        .pop()
        .unwrap_or_else(|| Expr::new(ExprKind::Constant(Constant::None), sp(r, r)));
    let mut targets = vec![first];
    targets.extend(rest);
    // CPython's `invalid_named_expression` rule: `X = Y` with an invalid X
    // and a lone Y gets the "Maybe you meant '=='" hint.
    let t1 = &targets[0];
    let x = match &t1.kind {
        ExprKind::Tuple(v) if is_bare_tuple(ctx, t1) => v.last(),
        _ => Some(t1),
    };
    let next = targets.get(1).unwrap_or(&value);
    let y_alone = targets.len() == 1 || is_bare_tuple(ctx, next);
    let y = match &next.kind {
        ExprKind::Tuple(v) if is_bare_tuple(ctx, next) => v.first(),
        _ => Some(next),
    };
    if let (Some(x), Some(y)) = (x, y) {
        let excluded = matches!(
            x.kind,
            ExprKind::List(_)
                | ExprKind::Tuple(_)
                | ExprKind::GeneratorExp { .. }
                | ExprKind::Constant(Constant::True | Constant::False | Constant::None)
                | ExprKind::Name(_)
                | ExprKind::Attribute { .. }
                | ExprKind::Subscript { .. }
        );
        // A named expression on the left must have been parenthesized.
        let x_ok = is_bitwise_or(x) || matches!(x.kind, ExprKind::NamedExpr { .. });
        if !excluded && x_ok && is_bitwise_or(y) && y_alone {
            return Err(user(
                format!(
                    "cannot assign to {} here. Maybe you meant '==' instead of '='?",
                    expr_name(x)
                ),
                x.span,
            ));
        }
    }
    for t in &targets {
        if matches!(t.kind, ExprKind::Yield(_) | ExprKind::YieldFrom(_)) {
            return Err(user("assignment to yield expression not possible", t.span));
        }
        if let Some(bad) = invalid_target(t, false) {
            return Err(user(
                format!("cannot assign to {}", expr_name(bad)),
                bad.span,
            ));
        }
    }
    Ok(Stmt::new(StmtKind::Assign { targets, value }, sp(l, r)))
}

pub fn aug_assign(target: Expr, op: BinOp, value: Expr, l: usize, r: usize) -> PResult<Stmt> {
    if !matches!(
        target.kind,
        ExprKind::Name(_) | ExprKind::Attribute { .. } | ExprKind::Subscript { .. }
    ) {
        return Err(user(
            format!(
                "'{}' is an illegal expression for augmented assignment",
                expr_name(&target)
            ),
            target.span,
        ));
    }
    Ok(Stmt::new(
        StmtKind::AugAssign { target, op, value },
        sp(l, r),
    ))
}

pub fn ann_assign(
    target: Expr,
    annotation: Expr,
    value: Option<Expr>,
    l: usize,
    r: usize,
) -> PResult<Stmt> {
    match target.kind {
        ExprKind::Name(_) | ExprKind::Attribute { .. } | ExprKind::Subscript { .. } => {}
        ExprKind::Tuple(_) => {
            return Err(user(
                "only single target (not tuple) can be annotated",
                target.span,
            ));
        }
        ExprKind::List(_) => {
            return Err(user(
                "only single target (not list) can be annotated",
                target.span,
            ));
        }
        _ => return Err(user("illegal target for annotation", target.span)),
    }
    Ok(Stmt::new(
        StmtKind::AnnAssign {
            target,
            annotation,
            value,
        },
        sp(l, r),
    ))
}

pub fn del(targets: Vec<Expr>, l: usize, r: usize) -> PResult<Stmt> {
    for t in &targets {
        if let Some(bad) = invalid_target(t, true) {
            return Err(user(format!("cannot delete {}", expr_name(bad)), bad.span));
        }
    }
    Ok(Stmt::new(StmtKind::Del(targets), sp(l, r)))
}

pub fn named_expr(ctx: &ParseCtx, target: Expr, value: Expr, l: usize, r: usize) -> PResult<Expr> {
    match target.kind {
        ExprKind::Name(n) => ctx.expr(
            ExprKind::NamedExpr {
                target: n,
                value: Box::new(value),
            },
            l,
            r,
        ),
        _ => Err(user(
            format!(
                "cannot use assignment expressions with {}",
                expr_name(&target)
            ),
            target.span,
        )),
    }
}

/// `( e )`: a parenthesized expression keeps its own span.
pub fn paren(e: Expr) -> PResult<Expr> {
    if let ExprKind::Starred(_) = e.kind {
        return Err(user("cannot use starred expression here", e.span));
    }
    Ok(e)
}

// ---------------------------------------------------------------- calls

/// The first character of `span` (CPython points at a `*` alone).
fn one_char(span: Span) -> Span {
    Span::new(span.start as usize, span.start as usize + 1)
}

pub enum ArgItem {
    Pos(Expr),
    /// A generator expression without its own parentheses.
    Gen(Expr),
    Star(Expr, Span),
    /// `name=value`; the last field is where the `=` ends (error carets).
    Kw(Expr, Expr, Span, usize),
    DoubleStar(Expr, Span),
    /// A `*` with nothing after it (always an error).
    BareStar(Span),
}

pub fn call(
    ctx: &ParseCtx,
    func: Expr,
    mut items: Vec<ArgItem>,
    l: usize,
    r: usize,
) -> PResult<Expr> {
    // `f(x for x in y, )`: a trailing comma needs the generator parenthesized.
    if let [ArgItem::Gen(g)] = items.as_mut_slice() {
        let tail = ctx.src.get(g.span.end as usize..r).unwrap_or("");
        // Only blanks, comments and that comma can sit between the two.
        if tail
            .lines()
            .any(|l| l.split('#').next().unwrap_or("").contains(','))
        {
            return Err(user("Generator expression must be parenthesized", g.span));
        }
        // The call's parentheses are the generator's own, as in CPython's
        // AST: its location (error carets in its frame) includes them.
        let before = ctx.src.get(func.span.end as usize..g.span.start as usize);
        if let Some(open) = before.and_then(|t| t.rfind('(')) {
            g.span = Span::new(func.span.end as usize + open, r);
        }
    }
    let (args, keywords) = arguments(items, r.saturating_sub(1))?;
    ctx.expr(
        ExprKind::Call {
            func: Box::new(func),
            args,
            keywords,
        },
        l,
        r,
    )
}

/// Sort call arguments into positional and keyword ones, with CPython's
/// ordering errors.
/// `close` is the offset of the closing parenthesis, where CPython reports
/// a positional argument after keyword arguments.
pub fn arguments(items: Vec<ArgItem>, close: usize) -> PResult<(Vec<Expr>, Vec<Keyword>)> {
    let n = items.len();
    let mut args = Vec::new();
    let mut keywords: Vec<Keyword> = Vec::new();
    let mut seen_kw = false;
    let mut seen_kwunpack = false;
    for item in items {
        match item {
            ArgItem::Gen(e) => {
                if n > 1 {
                    return Err(user("Generator expression must be parenthesized", e.span));
                }
                args.push(e);
            }
            ArgItem::Pos(e) => {
                let at = Span::new(close, close + 1);
                if seen_kwunpack {
                    return Err(user(
                        "positional argument follows keyword argument unpacking",
                        at,
                    ));
                }
                if seen_kw {
                    return Err(user("positional argument follows keyword argument", at));
                }
                args.push(e);
            }
            ArgItem::Star(e, star_span) => {
                if seen_kwunpack {
                    return Err(user(
                        "iterable argument unpacking follows keyword argument unpacking",
                        one_char(star_span),
                    ));
                }
                args.push(Expr::new(ExprKind::Starred(Box::new(e)), star_span));
            }
            ArgItem::Kw(name, value, span, eq_end) => {
                // CPython underlines from the keyword through its `=`.
                let at = Span::new(name.span.start as usize, eq_end);
                let ExprKind::Name(n) = name.kind else {
                    if let ExprKind::Constant(
                        c @ (Constant::True | Constant::False | Constant::None),
                    ) = &name.kind
                    {
                        let word = match c {
                            Constant::True => "True",
                            Constant::False => "False",
                            _ => "None",
                        };
                        return Err(user(format!("cannot assign to {word}"), at));
                    }
                    return Err(user(
                        "expression cannot contain assignment, perhaps you meant \"==\"?",
                        at,
                    ));
                };
                if keywords.iter().any(|k| k.arg.as_deref() == Some(&*n)) {
                    return Err(user(format!("keyword argument repeated: {n}"), span));
                }
                seen_kw = true;
                keywords.push(Keyword {
                    arg: Some(n),
                    value,
                    span,
                });
            }
            ArgItem::BareStar(span) => {
                if seen_kw || seen_kwunpack {
                    return Err(user(
                        "iterable argument unpacking follows keyword argument unpacking",
                        span,
                    ));
                }
                return Err(user(
                    "invalid syntax",
                    Span::new(span.end as usize, span.end as usize + 1),
                ));
            }
            ArgItem::DoubleStar(value, span) => {
                seen_kwunpack = true;
                keywords.push(Keyword {
                    arg: None,
                    value,
                    span,
                });
            }
        }
    }
    Ok((args, keywords))
}

// ---------------------------------------------------------------- parameters

pub enum ParamItem {
    Plain(Param),
    Slash(Span),
    Star(Option<Param>, Span),
    StarStar(Param),
}

/// Assemble a parameter list, with CPython's errors.
pub fn params(items: Vec<ParamItem>) -> PResult<Params> {
    let mut p = Params::default();
    let mut seen_slash = false;
    let mut seen_star = false;
    let mut seen_default = false;
    let mut star_span = Span::default();
    let mut bare_star = false;
    let mut seen_kwarg = false;
    for item in items {
        if seen_kwarg {
            let span = match &item {
                ParamItem::Plain(x) => x.span,
                // CPython points at the `**` (written right before the name).
                ParamItem::StarStar(x) => {
                    let start = x.span.start as usize;
                    Span::new(start.saturating_sub(2), start)
                }
                // CPython points at the `*` (one caret).
                ParamItem::Star(_, s) => Span::new(s.start as usize, s.start as usize + 1),
                ParamItem::Slash(s) => *s,
            };
            return Err(user("arguments cannot follow var-keyword argument", span));
        }
        match item {
            ParamItem::Plain(param) => {
                if seen_star {
                    bare_star = false;
                    p.kwonly.push(param);
                } else {
                    if param.default.is_some() {
                        seen_default = true;
                    } else if seen_default {
                        return Err(user(
                            "non-default argument follows default argument",
                            param.span,
                        ));
                    }
                    p.args.push(param);
                }
            }
            ParamItem::Slash(span) => {
                if seen_slash {
                    return Err(user("/ may appear only once", span));
                }
                if seen_star {
                    return Err(user("/ must be ahead of *", span));
                }
                if p.args.is_empty() {
                    return Err(user("at least one argument must precede /", span));
                }
                seen_slash = true;
                p.posonly = std::mem::take(&mut p.args);
            }
            ParamItem::Star(param, span) => {
                if seen_star {
                    let msg = if param.is_none() {
                        "invalid syntax"
                    } else {
                        "* argument may appear only once"
                    };
                    return Err(user(msg, one_char(span)));
                }
                seen_star = true;
                star_span = span;
                bare_star = param.is_none();
                p.vararg = param;
            }
            ParamItem::StarStar(param) => {
                if bare_star {
                    return Err(user("named arguments must follow bare *", star_span));
                }
                seen_kwarg = true;
                p.kwarg = Some(param);
            }
        }
    }
    if bare_star {
        return Err(user("named arguments must follow bare *", star_span));
    }
    Ok(p)
}

// ---------------------------------------------------------------- statements

/// Build an `if`/`elif`/`else` chain.
pub fn if_chain(
    test: Expr,
    body: Vec<Stmt>,
    elifs: Vec<(usize, Expr, Vec<Stmt>, usize)>,
    orelse: Option<Vec<Stmt>>,
    l: usize,
    r: usize,
) -> Stmt {
    let mut last = orelse.unwrap_or_default();
    for (el, t, b, er) in elifs.into_iter().rev() {
        let end = if last.is_empty() { er } else { r };
        last = vec![Stmt::new(
            StmtKind::If {
                test: t,
                body: b,
                orelse: last,
            },
            sp(el, end),
        )];
    }
    Stmt::new(
        StmtKind::If {
            test,
            body,
            orelse: last,
        },
        sp(l, r),
    )
}

pub fn dotted(first: Name, rest: Vec<Name>) -> Name {
    if rest.is_empty() {
        return first;
    }
    let mut s = first.to_string();
    for r in rest {
        s.push('.');
        s.push_str(&r);
    }
    Rc::from(s)
}

pub fn bin(
    ctx: &ParseCtx,
    left: Expr,
    op: BinOp,
    right: Expr,
    l: usize,
    r: usize,
) -> PResult<Expr> {
    ctx.expr(
        ExprKind::BinOp {
            left: Box::new(left),
            op,
            right: Box::new(right),
        },
        l,
        r,
    )
}

pub fn for_stmt(
    parts: (Expr, Expr, Vec<Stmt>, Vec<Stmt>),
    is_async: bool,
    l: usize,
    r: usize,
) -> PResult<Stmt> {
    let (target, iter, body, orelse) = parts;
    check_target(&target)?;
    Ok(Stmt::new(
        StmtKind::For {
            target,
            iter,
            body,
            orelse,
            is_async,
        },
        sp(l, r),
    ))
}

pub fn func_def(
    parts: (Name, Params, Option<Expr>, Vec<Stmt>),
    is_async: bool,
    l: usize,
    r: usize,
) -> Stmt {
    let (name, params, returns, body) = parts;
    let span = sp(l, r);
    Stmt::new(
        StmtKind::FunctionDef(Rc::new(FunctionDef {
            name,
            params,
            body,
            decorators: vec![],
            returns,
            is_async,
            span,
        })),
        span,
    )
}

/// `args` are the bases and keywords with the offset of their `)`.
pub fn class_def(
    name: Name,
    args: Option<(Vec<ArgItem>, usize)>,
    body: Vec<Stmt>,
    l: usize,
    r: usize,
) -> PResult<Stmt> {
    let (items, close) = args.unwrap_or((Vec::new(), r));
    if let Some(ArgItem::Gen(g)) = items.iter().find(|i| matches!(i, ArgItem::Gen(_))) {
        return Err(user("invalid syntax", g.span));
    }
    let (bases, keywords) = arguments(items, close)?;
    let span = sp(l, r);
    Ok(Stmt::new(
        StmtKind::ClassDef(Rc::new(ClassDef {
            name,
            bases,
            keywords,
            body,
            decorators: vec![],
            span,
        })),
        span,
    ))
}

/// Attach decorators to a freshly built `def` or `class`.
pub fn decorate(decorators: Vec<Expr>, mut stmt: Stmt) -> Stmt {
    match &mut stmt.kind {
        StmtKind::FunctionDef(f) => {
            let mut def = (**f).clone();
            def.decorators = decorators;
            *f = Rc::new(def);
        }
        StmtKind::ClassDef(c) => {
            let mut def = (**c).clone();
            def.decorators = decorators;
            *c = Rc::new(def);
        }
        _ => {}
    }
    stmt
}

// ---------------------------------------------------------------------------
// `match` statements, lowered to an `if`/`elif` chain: each pattern becomes a
// test expression that binds its capture names with `:=` as it matches.

/// A `case` pattern.
pub enum Pat {
    Wildcard(Span),
    Capture(Name, Span),
    /// A literal or dotted name, compared with `==`.
    Value(Expr),
    /// `None`, `True` or `False`, compared with `is`.
    Singleton(Expr),
    Seq(Vec<Pat>),
    Star(Option<Name>),
    Map(Vec<(Expr, Pat)>, Option<Name>),
    /// The class, the positional and keyword sub-patterns, and where the
    /// whole pattern is (a failing class check points there).
    Class(Expr, Vec<Pat>, Vec<(Name, Pat)>, Span),
    Or(Vec<Pat>),
    As(Box<Pat>, Name),
}

/// One `case` block.
pub struct Case {
    pub pat: Pat,
    pub guard: Option<Expr>,
    pub body: Vec<Stmt>,
    /// From `case` to the end of the guard: where a failing test points.
    pub span: Span,
}

pub fn match_stmt(subject: Expr, cases: Vec<Case>, l: usize, r: usize) -> PResult<Stmt> {
    let span = Span::new(l, r);
    // An irrefutable case before the last makes the rest unreachable.
    let last = cases.len().saturating_sub(1);
    for (i, case) in cases.iter().enumerate() {
        check_reachable(&case.pat, case.guard.is_some() || i == last)?;
    }
    let var: Name = format!("$match{l}").into();
    let mut chain: Vec<Stmt> = Vec::new();
    for case in cases.into_iter().rev() {
        let at = case.span;
        let subj = Expr::new(ExprKind::Name(var.clone()), at);
        let mut test = lower_pat(&case.pat, &subj, at)?;
        if let Some(g) = case.guard {
            test = bool_op(BoolOp::And, vec![test, g], at);
        }
        let s = Stmt::new(
            StmtKind::If {
                test,
                body: case.body,
                orelse: chain,
            },
            at,
        );
        chain = vec![s];
    }
    // The subject is evaluated once, in front of the first test.
    let bind = bind_to(var, subject, span);
    match chain.pop() {
        Some(Stmt {
            kind: StmtKind::If { test, body, orelse },
            span,
        }) => Ok(Stmt::new(
            StmtKind::If {
                test: bool_op(BoolOp::And, vec![bind, test], span),
                body,
                orelse,
            },
            span,
        )),
        _ => Err(user("invalid syntax", span)),
    }
}

/// CPython's compile-time check: a pattern that always matches is allowed
/// only where nothing follows it (the last case, the last alternative of an
/// `|`, a sub-pattern).
fn check_reachable(p: &Pat, allow_irrefutable: bool) -> PResult<()> {
    match p {
        Pat::Wildcard(s) if !allow_irrefutable => {
            Err(user("wildcard makes remaining patterns unreachable", *s))
        }
        Pat::Capture(n, s) if !allow_irrefutable => Err(user(
            format!("name capture '{n}' makes remaining patterns unreachable"),
            *s,
        )),
        Pat::Or(alts) => {
            let last = alts.len().saturating_sub(1);
            for (i, alt) in alts.iter().enumerate() {
                check_reachable(alt, allow_irrefutable && i == last)?;
            }
            Ok(())
        }
        Pat::As(p, _) => check_reachable(p, allow_irrefutable),
        Pat::Seq(items) => items.iter().try_for_each(|p| check_reachable(p, true)),
        Pat::Map(items, _) => items.iter().try_for_each(|(_, p)| check_reachable(p, true)),
        Pat::Class(_, pos, kws, _) => pos
            .iter()
            .chain(kws.iter().map(|(_, p)| p))
            .try_for_each(|p| check_reachable(p, true)),
        _ => Ok(()),
    }
}

fn bool_op(op: BoolOp, values: Vec<Expr>, span: Span) -> Expr {
    Expr::new(ExprKind::BoolOp { op, values }, span)
}

/// `[(name := value)]`: always true, binding `name`.
fn bind_to(name: Name, value: Expr, span: Span) -> Expr {
    let walrus = Expr::new(
        ExprKind::NamedExpr {
            target: name,
            value: Box::new(value),
        },
        span,
    );
    Expr::new(ExprKind::List(vec![walrus]), span)
}

fn compare(left: &Expr, op: CmpOp, right: Expr, span: Span) -> Expr {
    Expr::new(
        ExprKind::Compare {
            left: Box::new(left.clone()),
            ops: vec![op],
            comparators: vec![right],
        },
        span,
    )
}

fn builtin_call(func: &str, args: Vec<Expr>, span: Span) -> Expr {
    Expr::new(
        ExprKind::Call {
            func: Box::new(Expr::new(ExprKind::Name(func.into()), span)),
            args,
            keywords: Vec::new(),
        },
        span,
    )
}

fn int_const(v: i64, span: Span) -> Expr {
    Expr::new(ExprKind::Constant(Constant::Int(v)), span)
}

fn subscript(value: &Expr, index: Expr, span: Span) -> Expr {
    Expr::new(
        ExprKind::Subscript {
            value: Box::new(value.clone()),
            index: Box::new(index),
        },
        span,
    )
}

fn lower_pat(pat: &Pat, subj: &Expr, span: Span) -> PResult<Expr> {
    Ok(match pat {
        Pat::Wildcard(_) => Expr::new(ExprKind::Constant(Constant::True), span),
        Pat::Capture(n, _) => bind_to(n.clone(), subj.clone(), span),
        Pat::Value(e) => compare(subj, CmpOp::Eq, e.clone(), span),
        Pat::Singleton(e) => compare(subj, CmpOp::Is, e.clone(), span),
        Pat::Or(alts) => {
            let tests = alts
                .iter()
                .map(|p| lower_pat(p, subj, span))
                .collect::<PResult<Vec<_>>>()?;
            bool_op(BoolOp::Or, tests, span)
        }
        Pat::As(p, n) => {
            let test = lower_pat(p, subj, span)?;
            bool_op(
                BoolOp::And,
                vec![test, bind_to(n.clone(), subj.clone(), span)],
                span,
            )
        }
        Pat::Star(_) => return Err(user("can't use starred expression here", span)),
        Pat::Seq(items) => lower_seq(items, subj, span)?,
        Pat::Map(items, rest) => {
            let dict = Expr::new(ExprKind::Name("dict".into()), span);
            let mut parts = vec![builtin_call("isinstance", vec![subj.clone(), dict], span)];
            for (k, p) in items {
                let has = Expr::new(
                    ExprKind::Compare {
                        left: Box::new(k.clone()),
                        ops: vec![CmpOp::In],
                        comparators: vec![subj.clone()],
                    },
                    span,
                );
                parts.push(has);
                parts.push(lower_pat(p, &subscript(subj, k.clone(), span), span)?);
            }
            if let Some(rest) = rest {
                let key: Name = format!("$key{}", span.start).into();
                let key_e = Expr::new(ExprKind::Name(key), span);
                let keys = Expr::new(
                    ExprKind::Tuple(items.iter().map(|(k, _)| k.clone()).collect()),
                    span,
                );
                let comp = Expr::new(
                    ExprKind::DictComp {
                        key: Box::new(key_e.clone()),
                        value: Box::new(subscript(subj, key_e.clone(), span)),
                        generators: vec![Comprehension {
                            target: key_e.clone(),
                            iter: subj.clone(),
                            ifs: vec![compare(&key_e, CmpOp::NotIn, keys, span)],
                            is_async: false,
                        }],
                    },
                    span,
                );
                parts.push(bind_to(rest.clone(), comp, span));
            }
            bool_op(BoolOp::And, parts, span)
        }
        Pat::Class(cls, pos, kws, at) => {
            // `$match_class` runs CPython's MATCH_CLASS: the instance check,
            // `__match_args__` and the attribute lookups, in one call whose
            // result (None, or the tuple of attributes) the sub-patterns
            // then match. Each class pattern gets its own name, so nested
            // ones keep their parent's attributes.
            static CLASS_PATTERNS: std::sync::atomic::AtomicUsize =
                std::sync::atomic::AtomicUsize::new(0);
            let n = CLASS_PATTERNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let var: Name = format!("$cls{n}").into();
            let kw_names = Expr::new(
                ExprKind::Tuple(
                    kws.iter()
                        .map(|(k, _)| Expr::new(ExprKind::Constant(Constant::Str(k.clone())), span))
                        .collect(),
                ),
                span,
            );
            let call = builtin_call(
                "$match_class",
                vec![
                    subj.clone(),
                    cls.clone(),
                    int_const(pos.len() as i64, span),
                    kw_names,
                ],
                *at,
            );
            let walrus = Expr::new(
                ExprKind::NamedExpr {
                    target: var.clone(),
                    value: Box::new(call),
                },
                span,
            );
            let none = Expr::new(ExprKind::Constant(Constant::None), span);
            let mut parts = vec![compare(&walrus, CmpOp::IsNot, none, span)];
            let attrs = Expr::new(ExprKind::Name(var), span);
            for (i, p) in pos.iter().chain(kws.iter().map(|(_, p)| p)).enumerate() {
                let item = subscript(&attrs, int_const(i as i64, span), span);
                parts.push(lower_pat(p, &item, span)?);
            }
            bool_op(BoolOp::And, parts, span)
        }
    })
}

/// A sequence pattern: a list or tuple of the right length whose items match.
fn lower_seq(items: &[Pat], subj: &Expr, span: Span) -> PResult<Expr> {
    let seq_types = Expr::new(
        ExprKind::Tuple(vec![
            Expr::new(ExprKind::Name("list".into()), span),
            Expr::new(ExprKind::Name("tuple".into()), span),
        ]),
        span,
    );
    let mut parts = vec![builtin_call(
        "isinstance",
        vec![subj.clone(), seq_types],
        span,
    )];
    let n = items.len();
    let star = items.iter().position(|p| matches!(p, Pat::Star(_)));
    if items.iter().filter(|p| matches!(p, Pat::Star(_))).count() > 1 {
        return Err(user("multiple starred names in sequence pattern", span));
    }
    let len = builtin_call("len", vec![subj.clone()], span);
    match star {
        None => parts.push(compare(&len, CmpOp::Eq, int_const(n as i64, span), span)),
        Some(_) => parts.push(compare(
            &len,
            CmpOp::GtE,
            int_const(n as i64 - 1, span),
            span,
        )),
    }
    for (i, p) in items.iter().enumerate() {
        match (p, star) {
            (Pat::Star(name), Some(k)) => {
                if let Some(name) = name {
                    let after = (n - 1 - k) as i64;
                    let upper = (after > 0).then(|| Box::new(int_const(-after, span)));
                    let slice = Expr::new(
                        ExprKind::Slice {
                            lower: Some(Box::new(int_const(k as i64, span))),
                            upper,
                            step: None,
                        },
                        span,
                    );
                    let rest = builtin_call("list", vec![subscript(subj, slice, span)], span);
                    parts.push(bind_to(name.clone(), rest, span));
                }
            }
            _ => {
                let index = match star {
                    Some(k) if i > k => i as i64 - n as i64,
                    _ => i as i64,
                };
                parts.push(lower_pat(
                    p,
                    &subscript(subj, int_const(index, span), span),
                    span,
                )?);
            }
        }
    }
    Ok(bool_op(BoolOp::And, parts, span))
}

/// `*name` in a sequence pattern (`*_` binds nothing).
pub fn star_pattern(n: Name) -> Pat {
    Pat::Star((&*n != "_").then_some(n))
}

pub fn class_pattern(cls: Expr, args: Vec<(Option<Name>, Pat)>, end: usize) -> PResult<Pat> {
    let at = Span::new(cls.span.start as usize, end);
    let mut pos = Vec::new();
    let mut kws = Vec::new();
    for (name, p) in args {
        match name {
            Some(n) => kws.push((n, p)),
            None if kws.is_empty() => pos.push(p),
            None => {
                return Err(user(
                    "positional patterns follow keyword patterns",
                    cls.span,
                ))
            }
        }
    }
    Ok(Pat::Class(cls, pos, kws, at))
}

pub fn map_pattern(items: Vec<(Option<Expr>, Pat)>) -> PResult<Pat> {
    let mut keyed = Vec::new();
    let mut rest: Option<Name> = None;
    for (k, p) in items {
        // `**rest` must come last (CPython's grammar rejects the next item).
        if rest.is_some() {
            let at = match (&k, &p) {
                (Some(k), _) => k.span,
                (None, Pat::Capture(_, s)) => *s,
                _ => Span::new(0, 0),
            };
            return Err(user("invalid syntax", at));
        }
        match (k, p) {
            (Some(k), p) => keyed.push((k, p)),
            (None, Pat::Capture(n, _)) => rest = Some(n),
            (None, _) => {}
        }
    }
    Ok(Pat::Map(keyed, rest))
}
