//! Wraps the generated parser; turns lalrpop errors into `SyntaxError`s
//! with spans and CPython 3.11's messages.

use std::rc::Rc;

use lalrpop_util::ParseError;

use crate::syntax::actions::{PErr, ParseCtx, Top};
use crate::syntax::ast::{Expr, ExprKind, Module, Span, Stmt, StmtKind};
use crate::syntax::lexer::{line_of, Lexer, Mode, Spanned, Tok};

lalrpop_util::lalrpop_mod!(
    #[allow(
        clippy::all,
        clippy::pedantic,
        unused_parens,
        unused_imports,
        dead_code
    )]
    grammar,
    "/gilvm.rs"
);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyntaxErrorKind {
    SyntaxError,
    IndentationError,
    TabError,
    /// Source nested too deeply to compile: CPython reports a location-free
    /// `RecursionError: maximum recursion depth exceeded during compilation`.
    TooDeep,
    /// Source nested too deeply for CPython's parser: a bare `MemoryError`.
    NoMemory,
}

/// A syntax error: rendered once, by the VM's error printer, in CPython's
/// format (file, line, the source line, a caret under `span.start`).
///
/// A span of [`Span::NO_LOCATION`]-style `u32::MAX..u32::MAX` (see
/// [`SyntaxError::has_location`]) means CPython prints no location at all
/// (source decoding errors).
#[derive(Clone, Debug)]
pub struct SyntaxError {
    pub kind: SyntaxErrorKind,
    pub msg: String,
    pub span: Span,
    /// Found at the end of the input (a block or statement left open):
    /// CPython then gives no column when it read the program from a file.
    pub at_eof: bool,
    /// The text CPython quotes instead of the source line, with its own
    /// columns (an f-string field is parsed as `(expression)`).
    pub quote: Option<Box<Quote>>,
}

/// See [`SyntaxError::quote`]; columns are 1-based, in characters.
#[derive(Clone, Debug)]
pub struct Quote {
    pub text: String,
    pub offset: usize,
    pub end_offset: usize,
}

impl SyntaxError {
    fn new(kind: SyntaxErrorKind, msg: impl Into<String>, span: Span) -> SyntaxError {
        SyntaxError {
            kind,
            msg: msg.into(),
            span,
            at_eof: false,
            quote: None,
        }
    }

    /// False for errors CPython reports without a file/line (non-UTF-8 source).
    pub fn has_location(&self) -> bool {
        self.span.start != u32::MAX
    }
}

/// Parse a whole module. `source` is already known to be UTF-8.
pub fn parse_module(source: &str) -> Result<Module, SyntaxError> {
    if let Some(at) = source.find('\0') {
        return Err(SyntaxError::new(
            SyntaxErrorKind::SyntaxError,
            "source code cannot contain null bytes",
            Span::new(at, at),
        ));
    }
    let ctx = ParseCtx::new(Rc::from(source));
    let mut lexer = Lexer::new(source, Mode::Module);
    let result = grammar::TopParser::new().parse(&ctx, &mut lexer);
    if result.is_ok() {
        if let Some(e) = ctx.too_deep.borrow_mut().take() {
            return Err(e);
        }
    }
    match result {
        Ok(Top::Module(body)) => {
            let module = Module { body };
            record_line_starts(&module, source);
            Ok(module)
        }
        Ok(Top::Expr(e)) => Err(SyntaxError::new(
            SyntaxErrorKind::SyntaxError,
            "invalid syntax",
            e.span,
        )),
        Err(e) => Err(convert_error(source, &mut lexer, e)),
    }
}

/// Byte offsets of the starts of lines (`\n`, `\r\n` and `\r` end lines).
pub fn line_starts(source: &str) -> Vec<u32> {
    let b = source.as_bytes();
    let mut starts = vec![0u32];
    for (i, &c) in b.iter().enumerate() {
        if c == b'\n' || (c == b'\r' && b.get(i + 1) != Some(&b'\n')) {
            starts.push(i as u32 + 1);
        }
    }
    starts
}

thread_local! {
    /// Line tables of recent parses on this thread, keyed by the address and
    /// length of the module's statement vector (stable when the `Module`
    /// moves), so that `compile_module(module, filename)` can fill in line
    /// numbers without the source text.
    static LINE_TABLES: std::cell::RefCell<Vec<LineTable>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// (statement vector address, statement count, line starts).
type LineTable = (usize, usize, Rc<[u32]>);

const LINE_TABLES_KEPT: usize = 16;

fn record_line_starts(module: &Module, source: &str) {
    let key = (module.body.as_ptr() as usize, module.body.len());
    let starts: Rc<[u32]> = Rc::from(line_starts(source));
    LINE_TABLES.with(|t| {
        let mut t = t.borrow_mut();
        t.retain(|e| (e.0, e.1) != key);
        if t.len() >= LINE_TABLES_KEPT {
            t.remove(0);
        }
        t.push((key.0, key.1, starts));
    });
}

/// The line starts of the source `module` was parsed from (or of the most
/// recent parse on this thread when `module` was cloned).
pub fn recorded_line_starts(module: &Module) -> Option<Rc<[u32]>> {
    let key = (module.body.as_ptr() as usize, module.body.len());
    LINE_TABLES.with(|t| {
        let t = t.borrow();
        t.iter()
            .rev()
            .find(|e| (e.0, e.1) == key)
            .or_else(|| t.last())
            .map(|e| e.2.clone())
    })
}

/// Parse the expression of an f-string replacement field at
/// `ctx.src[start..end]`; errors get CPython's "f-string: " prefix.
pub fn parse_fstring_expr(ctx: &ParseCtx, start: usize, end: usize) -> Result<Expr, PErr> {
    let src = ctx.src.clone();
    let mut lexer = Lexer::region(&src, start, end, Mode::Expr);
    ctx.in_fstring.set(ctx.in_fstring.get() + 1);
    let result = grammar::TopParser::new().parse(ctx, &mut lexer);
    ctx.in_fstring.set(ctx.in_fstring.get() - 1);
    match result {
        Ok(Top::Expr(e)) => Ok(e),
        Ok(Top::Module(_)) => Err(fstring_error(
            "invalid syntax".into(),
            Span::new(start, end),
        )),
        Err(ParseError::User { error }) if error.msg.starts_with("f-string") => {
            Err(ParseError::User { error })
        }
        Err(e) => {
            let err = convert_error(&src, &mut lexer, e);
            let mut error = fstring_error(err.msg, err.span);
            if let ParseError::User { error } = &mut error {
                error.quote = Some(Box::new(field_quote(&src, start, end, err.span)));
            }
            Err(error)
        }
    }
}

/// CPython 3.11 parses an f-string field as the text `(expression)` and
/// quotes that, with columns counted in it.
fn field_quote(src: &str, start: usize, end: usize, span: Span) -> Quote {
    let expr = &src[start..end];
    let col = |at: u32| {
        let at = (at as usize).clamp(start, end);
        src.get(start..at).map_or(0, |s| s.chars().count()) + 2
    };
    let offset = col(span.start);
    let end_offset = col(span.end).max(offset + 1);
    Quote {
        text: format!("({expr})\n"),
        offset,
        end_offset,
    }
}

fn fstring_error(msg: String, span: Span) -> PErr {
    ParseError::User {
        error: SyntaxError::new(
            SyntaxErrorKind::SyntaxError,
            format!("f-string: {msg}"),
            span,
        ),
    }
}

/// Turn a parser error into CPython's message. Like CPython, an error found
/// by the parser gives way to a tokenizer error later in the file (an
/// unclosed bracket, an unterminated string).
fn convert_error(src: &str, lexer: &mut Lexer, e: PErr) -> SyntaxError {
    let err = parser_error(src, lexer, e);
    // CPython reports an unexpected indent as it meets it, without looking
    // for tokenizer errors further on.
    if lexer.errored || err.msg == "unexpected indent" {
        return err;
    }
    // CPython compares with the line of the last token the parser fetched.
    let err_line = lexer.history.last().map_or(0, |t| line_of(src, t.0));
    for item in lexer.by_ref() {
        if let Err(tok_err) = item {
            // CPython reports an unclosed bracket only when it was opened on
            // an earlier line than the parser's error, and never overrides
            // with indentation errors.
            if tok_err.msg.ends_with("was never closed") {
                if line_of(src, tok_err.span.start as usize) < err_line {
                    return tok_err;
                }
            } else if tok_err.kind == SyntaxErrorKind::SyntaxError {
                return tok_err;
            }
            break;
        }
    }
    err
}

fn parser_error(src: &str, lexer: &mut Lexer, e: PErr) -> SyntaxError {
    let generic =
        |span: Span| SyntaxError::new(SyntaxErrorKind::SyntaxError, "invalid syntax", span);
    match e {
        ParseError::User { error } => error,
        ParseError::InvalidToken { location } => generic(Span::new(location, location + 1)),
        ParseError::ExtraToken { token: (l, _, r) } => generic(Span::new(l, r)),
        ParseError::UnrecognizedEof { location, expected } => {
            let mut e = eof_error(src, lexer, location, &expected);
            e.at_eof = true;
            e
        }
        ParseError::UnrecognizedToken {
            token: (l, Tok::Dedent, _),
            expected,
        } if l >= src.len() => {
            // Dedents at the end of the input close blocks still open.
            let mut e = eof_error(src, lexer, l, &expected);
            e.at_eof = true;
            e
        }
        ParseError::UnrecognizedToken {
            token: (l, tok, r),
            expected,
        } => {
            // A NEWLINE is reported as a zero-width position, as CPython does.
            let span = if tok == Tok::Newline {
                Span::new(l, l)
            } else {
                Span::new(l, r)
            };
            // The failing token is the last one the lexer produced.
            let idx = lexer.history.len().saturating_sub(1);
            if tok == Tok::Indent {
                // CPython's offset is the last column of the indentation.
                let at = r.saturating_sub(1).max(l);
                return SyntaxError::new(
                    SyntaxErrorKind::IndentationError,
                    "unexpected indent",
                    Span::new(at, at),
                );
            }
            if expected.iter().any(|t| t == "Indent") {
                return expected_block(src, &lexer.history, idx, span);
            }
            if tok == Tok::Newline
                && expected.iter().any(|t| t == "\":\"")
                && line_is_compound(&lexer.history, idx)
            {
                return SyntaxError::new(SyntaxErrorKind::SyntaxError, "expected ':'", span);
            }
            if let Some(e) = fstring_error_before(src, &lexer.history, idx) {
                return e;
            }
            if let Some(e) = special_error(src, lexer, idx, &expected) {
                return e;
            }
            if let Some(hint) = comma_hint(&lexer.history, idx) {
                return hint;
            }
            generic(span)
        }
    }
}

/// `src` parsed as one expression statement, without recording its line
/// table (the text is a piece of a program that failed to parse).
fn quiet_expr(text: &str) -> Option<Expr> {
    if text.trim().is_empty() || text.contains('\0') {
        return None;
    }
    let ctx = ParseCtx::new(Rc::from(text));
    let mut lexer = Lexer::new(text, Mode::Module);
    let Ok(Top::Module(body)) = grammar::TopParser::new().parse(&ctx, &mut lexer) else {
        return None;
    };
    if ctx.too_deep.borrow().is_some() {
        return None;
    }
    match <[Stmt; 1]>::try_from(body) {
        Ok(
            [Stmt {
                kind: StmtKind::Expr(e),
                ..
            }],
        ) => Some(e),
        _ => None,
    }
}

/// `None = f(`, `a.b := 1`: CPython rejects a bad assignment (or `:=`)
/// target before it looks at what follows, so that error wins over one
/// found later in the statement.
fn invalid_target_before_error(
    src: &str,
    h: &[Spanned],
    start: usize,
    idx: usize,
    tok: &Tok,
) -> Option<SyntaxError> {
    if !h.get(start)?.1.starts_expr() {
        return None;
    }
    let mut depth = 0i32;
    let mut from = start;
    // A lambda's defaults hold `=` too.
    let mut lambda = false;
    for i in start..=idx {
        let t = &h[i].1;
        match t {
            Tok::LPar | Tok::LSqb | Tok::LBrace => depth += 1,
            Tok::RPar | Tok::RSqb | Tok::RBrace => depth -= 1,
            Tok::Lambda => lambda = true,
            Tok::Equal if lambda => return None,
            Tok::Equal | Tok::ColonEqual if depth == 0 && i > from => {
                let (a, b) = (h[from].0, h[i].0);
                let e = quiet_expr(&src[a..b])?;
                let shift = |sp: Span| Span::new(sp.start as usize + a, sp.end as usize + a);
                if *t == Tok::ColonEqual {
                    // At statement level: only a name is "invalid syntax".
                    if i != idx
                        || from != start
                        || *tok != Tok::ColonEqual
                        || matches!(e.kind, ExprKind::Name(_))
                    {
                        return None;
                    }
                    let what = crate::syntax::actions::expr_name(&e);
                    return Some(SyntaxError::new(
                        SyntaxErrorKind::SyntaxError,
                        format!("cannot use assignment expressions with {what}"),
                        shift(e.span),
                    ));
                }
                if i == idx {
                    return None;
                }
                if let Err(ParseError::User { error }) = crate::syntax::actions::check_target(&e) {
                    // `1 = a b`: the first target, then an operand and
                    // something unexpected, reads as a mistyped `==`.
                    let rhs = h
                        .get(i + 1)
                        .filter(|_| idx > i + 1)
                        .and_then(|t| quiet_expr(&src[t.0..h[idx].0]));
                    let element = match &e.kind {
                        ExprKind::Tuple(_) => src[a..b].trim_start().starts_with('('),
                        ExprKind::List(_) | ExprKind::GeneratorExp { .. } => true,
                        ExprKind::Constant(c) => matches!(
                            c,
                            crate::syntax::ast::Constant::None
                                | crate::syntax::ast::Constant::True
                                | crate::syntax::ast::Constant::False
                        ),
                        _ => false,
                    };
                    let here = from == start
                        && !element
                        && !matches!(*tok, Tok::Equal | Tok::ColonEqual)
                        && rhs.is_some_and(|r| crate::syntax::actions::is_bitwise_or(&r));
                    let msg = if here {
                        format!("{} here. Maybe you meant '==' instead of '='?", error.msg)
                    } else {
                        error.msg
                    };
                    return Some(SyntaxError::new(
                        SyntaxErrorKind::SyntaxError,
                        msg,
                        shift(error.span),
                    ));
                }
                from = i + 1;
            }
            _ => {}
        }
        if depth < 0 {
            return None;
        }
    }
    None
}

/// An error at the end of the input: a block header without its body, a
/// `try` without handlers, or a statement left incomplete.
fn eof_error(src: &str, lexer: &Lexer, location: usize, expected: &[String]) -> SyntaxError {
    // CPython reports the end of input at the final newline.
    let location = if src.ends_with('\n') {
        src.len() - 1
    } else {
        location.min(src.len())
    };
    if expected.iter().any(|t| t == "\"except\"") && expected.iter().any(|t| t == "\"finally\"") {
        return SyntaxError::new(
            SyntaxErrorKind::SyntaxError,
            "expected 'except' or 'finally' block",
            Span::new(location, location),
        );
    }
    if expected.iter().any(|t| t == "Indent") {
        // CPython points at the file's last line (blank lines and
        // comments after the header included).
        let header = lexer
            .history
            .iter()
            .rev()
            .find(|t| t.1 == Tok::Newline)
            .map_or(location, |t| t.0);
        let last_line = src[..location].rfind('\n').map_or(0, |i| i + 1);
        let at = header.max(last_line);
        return expected_block(src, &lexer.history, lexer.history.len(), Span::new(at, at));
    }
    SyntaxError::new(
        SyntaxErrorKind::SyntaxError,
        "invalid syntax",
        Span::new(location, location),
    )
}

/// CPython splits an f-string when the parser has read the token after the
/// literals, before it finds that token unexpected: an error inside an
/// f-string just before the failing token wins (`f'{'a'}'`).
fn fstring_error_before(src: &str, history: &[Spanned], idx: usize) -> Option<SyntaxError> {
    let first = history[..idx]
        .iter()
        .rposition(|t| !matches!(t.1, Tok::Str(_)))
        .map_or(0, |i| i + 1);
    let group = &history[first..idx];
    let group_end = group.last()?.2;
    let ctx = ParseCtx::new(Rc::from(src));
    for t in group {
        if let Tok::Str(s) = &t.1 {
            if s.kind == crate::syntax::lexer::StrKind::FStr {
                if let Err(ParseError::User { mut error }) =
                    crate::syntax::fstring::parse(&ctx, s, group_end)
                {
                    // CPython underlines that token (the last one read).
                    if error.quote.is_none() {
                        let (l, _, r) = &history[idx];
                        error.span = Span::new(*l, (*r).max(l + 1));
                    }
                    return Some(error);
                }
            }
        }
    }
    None
}

/// CPython's `invalid_named_expression` for an `=` directly inside a
/// list, set, dict or parenthesized expression (`h` is the line up to the
/// `=`). `Err(start)` for a plain name, whose message spans the right-hand
/// side too.
fn assignment_in_brackets(h: &[Spanned]) -> Option<Result<SyntaxError, usize>> {
    let (start, idx) = (0, h.len() - 1);
    let mut depth = 0i32;
    let open = (start..idx).rev().find(|&i| {
        match h[i].1 {
            Tok::RPar | Tok::RSqb | Tok::RBrace => depth += 1,
            Tok::LPar | Tok::LSqb | Tok::LBrace => {
                if depth == 0 {
                    return true;
                }
                depth -= 1;
            }
            _ => {}
        }
        false
    })?;
    // A call's parenthesis follows an operand (keyword arguments, a
    // parameter list); lambdas take defaults; a dict value is no target.
    if (h[open].1 == Tok::LPar && open > start && h[open - 1].1.ends_expr())
        || h[open..idx]
            .iter()
            .any(|t| matches!(t.1, Tok::Lambda | Tok::Colon))
    {
        return None;
    }
    let left = disjunction_start(h, idx - 1)?;
    if left <= open {
        return None;
    }
    let prev = &h[idx - 1].1;
    if matches!(prev, Tok::True | Tok::False | Tok::None) && left == idx - 1 {
        return None;
    }
    if left == idx - 1 && matches!(prev, Tok::Name(_)) {
        return Some(Err(h[left].0));
    }
    let literal = |t: &Tok| {
        matches!(
            t,
            Tok::Str(_) | Tok::Int(_) | Tok::BigInt(_) | Tok::Float(_) | Tok::Imag(_)
        )
    };
    let what = match prev {
        _ if h[left..idx].iter().all(|t| literal(&t.1)) => "literal",
        // `(a)`: a parenthesized name, underlined alone.
        Tok::RPar
            if idx == left + 3
                && h[left].1 == Tok::LPar
                && matches!(h[left + 1].1, Tok::Name(_)) =>
        {
            let name = &h[left + 1];
            return Some(Ok(SyntaxError::new(
                SyntaxErrorKind::SyntaxError,
                "cannot assign to name here. Maybe you meant '==' instead of '='?",
                Span::new(name.0, name.2),
            )));
        }
        Tok::RSqb => "subscript",
        Tok::RPar => "function call",
        Tok::Name(_) if left + 1 < idx && h[idx - 2].1 == Tok::Dot => "attribute",
        _ => "expression",
    };
    let msg = format!("cannot assign to {what} here. Maybe you meant '==' instead of '='?");
    Some(Ok(SyntaxError::new(
        SyntaxErrorKind::SyntaxError,
        msg,
        Span::new(h[left].0, h[idx - 1].2),
    )))
}

/// For `(` at `open` holding only names and commas (`(a, b)`), the offset
/// just past its `)`.
fn parenthesized_names(src: &str, open: usize) -> Option<usize> {
    let rest = src.get(open + 1..)?;
    let close = rest.find(')')?;
    let inner = &rest[..close];
    let mut names = 0;
    for (i, part) in inner.split(',').enumerate() {
        let part = part.trim_matches([' ', '\t']);
        let is_name = part
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
            && part.chars().all(|c| c.is_alphanumeric() || c == '_');
        match (is_name, part.is_empty()) {
            (true, _) => names += 1,
            // One trailing comma.
            (false, true) if i > 0 && i == inner.split(',').count() - 1 => {}
            _ => return None,
        }
    }
    (names > 0).then_some(open + 1 + close + 1)
}

/// CPython's targeted messages for common mistakes (its `invalid_*`
/// grammar rules and forced tokens), recognised from the tokens around
/// the failure.
fn special_error(
    src: &str,
    lexer: &mut Lexer,
    idx: usize,
    expected: &[String],
) -> Option<SyntaxError> {
    let err = |msg: &str, start: usize, end: usize| {
        Some(SyntaxError::new(
            SyntaxErrorKind::SyntaxError,
            msg,
            Span::new(start, end),
        ))
    };
    let expects = |t: &str| expected.iter().any(|e| e == t);
    let h = &lexer.history;
    let (l, tok, r) = h.get(idx)?.clone();
    let r = if tok == Tok::Newline { l } else { r };
    let start = line_start(h, idx);
    let first = h.get(start).map(|t| t.1.clone());
    let prev = idx
        .checked_sub(1)
        .and_then(|i| h.get(i))
        .map(|t| t.1.clone());

    if let Some(e) = invalid_target_before_error(src, h, start, idx, &tok) {
        return Some(e);
    }
    // `def f(a) pass`: the header must end in a colon.
    let def_header = matches!(first, Some(Tok::Def))
        || (matches!(first, Some(Tok::Async)) && h.get(start + 1).map(|t| &t.1) == Some(&Tok::Def));
    if def_header
        && expects("\":\"")
        && lexer.brackets.is_empty()
        && !matches!(tok, Tok::Newline | Tok::Colon)
        && h[start..idx].iter().any(|t| t.1 == Tok::RPar)
    {
        return err("expected ':'", l, r);
    }
    // `match x` without its colon (`match` is a name until then).
    if idx == start + 1 && matches!(&first, Some(Tok::Name(n)) if &**n == "match") {
        let from = h[idx].0;
        let end = src[from..]
            .find(['\n', '\r'])
            .map_or(src.len(), |i| from + i);
        let subject = src[from..end].trim_end();
        if !subject.ends_with(':') && quiet_expr(subject).is_some() {
            let at = from + subject.len();
            return err("expected ':'", at, at);
        }
    }
    // `print "x"`: Python 2 statements.
    if idx == start + 1 && (tok.starts_expr() || matches!(tok, Tok::Minus)) {
        if let Some(Tok::Name(n)) = &first {
            if &**n == "print" || &**n == "exec" {
                let from = h[start].0;
                let end = src[from..]
                    .find(['\n', '\r'])
                    .map_or(src.len(), |i| from + i);
                let end = from + src[from..end].trim_end().len();
                let msg = format!("Missing parentheses in call to '{n}'. Did you mean {n}(...)?");
                return err(&msg, from, end);
            }
        }
    }
    // `from m import a,`: a trailing comma needs parentheses.
    if tok == Tok::Newline
        && prev == Some(Tok::Comma)
        && first == Some(Tok::From)
        && h[start..idx].iter().any(|t| t.1 == Tok::Import)
        && !h[start..idx].iter().any(|t| t.1 == Tok::LPar)
    {
        let msg = "trailing comma not allowed without surrounding parentheses";
        return err(msg, l, l);
    }
    // `yield = 1`: the statement began as a yield expression.
    if first == Some(Tok::Yield) && idx > start && tok == Tok::Equal {
        let msg = "assignment to yield expression not possible";
        return err(msg, h[start].0, h[idx - 1].2);
    }
    // `a, b: int`: an annotation on a bare tuple.
    if tok == Tok::Colon
        && lexer.brackets.is_empty()
        && first
            .as_ref()
            .is_some_and(|t| t.starts_expr() && *t != Tok::Lambda)
    {
        let mut depth = 0i32;
        for i in start..idx {
            match h[i].1 {
                Tok::LPar | Tok::LSqb | Tok::LBrace => depth += 1,
                Tok::RPar | Tok::RSqb | Tok::RBrace => depth -= 1,
                Tok::Comma if depth == 0 && i > start => {
                    let msg = "only single target (not tuple) can be annotated";
                    return err(msg, h[start].0, h[i - 1].2);
                }
                _ => {}
            }
        }
    }
    // `[*a for a in b]`, `{**a for a in b}`: unpacking as the element.
    if tok == Tok::For {
        let mut depth = 0i32;
        let open = (start..idx).rev().find(|&i| {
            match h[i].1 {
                Tok::RPar | Tok::RSqb | Tok::RBrace => depth += 1,
                Tok::LPar | Tok::LSqb | Tok::LBrace if depth == 0 => return true,
                Tok::LPar | Tok::LSqb | Tok::LBrace => depth -= 1,
                _ => {}
            }
            false
        });
        let single = |from: usize| {
            let mut depth = 0i32;
            !h[from..idx].iter().any(|t| {
                match t.1 {
                    Tok::LPar | Tok::LSqb | Tok::LBrace => depth += 1,
                    Tok::RPar | Tok::RSqb | Tok::RBrace => depth -= 1,
                    Tok::Comma if depth == 0 => return true,
                    _ => {}
                }
                false
            })
        };
        if let Some(open) = open {
            match h.get(open + 1).map(|t| &t.1) {
                Some(Tok::Star) if single(open + 1) => {
                    let msg = "iterable unpacking cannot be used in comprehension";
                    return err(msg, h[open + 1].0, h[idx - 1].2);
                }
                Some(Tok::DoubleStar) if h[open].1 == Tok::LBrace && single(open + 1) => {
                    let msg = "dict unpacking cannot be used in dict comprehension";
                    return err(msg, h[open + 1].0, h[open + 1].2);
                }
                _ => {}
            }
        }
    }
    // `[a, b for a, b in pairs]`: a tuple target needs parentheses.
    if tok == Tok::For {
        let mut depth = 0i32;
        let (mut comma, mut colon) = (false, false);
        for i in (start..idx).rev() {
            match h[i].1 {
                Tok::RPar | Tok::RSqb | Tok::RBrace => depth += 1,
                Tok::LPar if depth == 0 => break,
                Tok::LSqb | Tok::LBrace if depth == 0 => {
                    // (Not in a dict display, whose `:` says what it is.)
                    if comma && !colon && i + 1 < idx {
                        let msg = "did you forget parentheses around the comprehension target?";
                        return err(msg, h[i + 1].0, h[idx - 1].2);
                    }
                    break;
                }
                Tok::LPar | Tok::LSqb | Tok::LBrace => depth -= 1,
                Tok::Comma if depth == 0 => comma = true,
                Tok::Colon if depth == 0 => colon = true,
                _ => {}
            }
        }
    }
    // `if x = 1:`
    if tok == Tok::Equal
        && matches!(first, Some(Tok::If | Tok::Elif | Tok::While))
        && idx >= start + 2
    {
        let left = primary_start(h, idx - 1);
        if left == idx - 1 && matches!(prev, Some(Tok::Name(_))) {
            let from = h[left].0;
            // The caret covers the right-hand operand too.
            let end = match lexer.next() {
                Some(Ok((_, t, e))) if t.starts_expr() => e,
                _ => r,
            };
            return err(
                "invalid syntax. Maybe you meant '==' or ':=' instead of '='?",
                from,
                end,
            );
        }
        let what = match prev {
            Some(Tok::RSqb) => "subscript",
            Some(Tok::RPar) => "function call",
            Some(Tok::Name(_)) if left + 1 < idx => "attribute",
            _ => "expression",
        };
        let msg = format!("cannot assign to {what} here. Maybe you meant '==' instead of '='?");
        return err(&msg, h[left].0, h[idx - 1].2);
    }
    // `[a = 1]`, `(x.y = 2)`, `{'k' = 1}`: `=` inside a display or plain
    // parentheses (not a call, a subscript or a parameter list).
    if tok == Tok::Equal {
        if let Some(found) = assignment_in_brackets(&h[start..=idx]) {
            // Only with a right-hand operand.
            let rhs_end = match lexer.next() {
                Some(Ok((_, t, e))) if t.starts_expr() => Some(e),
                // The tokenizer's error there wins.
                Some(Err(e)) => return Some(e),
                _ => None,
            };
            return match (found, rhs_end) {
                (_, None) => err("invalid syntax", l, r),
                (Ok(e), _) => Some(e),
                // A name: the caret covers the right-hand operand too.
                (Err(from), Some(end)) => err(
                    "invalid syntax. Maybe you meant '==' or ':=' instead of '='?",
                    from,
                    end,
                ),
            };
        }
    }
    // Forced colons and parentheses (`else` of a conditional expression
    // is not a clause).
    if tok != Tok::Colon
        && matches!(prev, Some(Tok::Else | Tok::Try | Tok::Finally))
        && idx == start + 1
    {
        return err("expected ':'", l, r);
    }
    // `def f(x=):`
    let is_def = match first {
        Some(Tok::Def) => true,
        Some(Tok::Async) => h.get(start + 1).map(|t| &t.1) == Some(&Tok::Def),
        _ => false,
    };
    // `1 <> 2`: CPython's tokenizer reads `<>` as one (rejected) operator.
    if tok == Tok::Greater && prev == Some(Tok::Less) && h[idx - 1].2 == l {
        return err("invalid syntax", h[idx - 1].0, r);
    }
    // `def f() -> :`: the return annotation is missing, so the colon is
    // expected where the arrow is.
    if is_def && prev == Some(Tok::Arrow) && lexer.brackets.is_empty() {
        let arrow = &h[idx - 1];
        return err("expected ':'", arrow.0, arrow.2);
    }
    // `def f((a, b)):` / `lambda (x): x`: names in parentheses.
    if tok == Tok::LPar && matches!(prev, Some(Tok::LPar | Tok::Comma | Tok::Lambda)) {
        let in_lambda = h[start..idx].iter().rev().find_map(|t| match t.1 {
            Tok::Lambda => Some(true),
            Tok::Def => Some(false),
            _ => None,
        });
        let params = match in_lambda {
            Some(true) => Some("Lambda expression parameters"),
            Some(false) if lexer.brackets.len() == 2 => Some("Function parameters"),
            _ => None,
        };
        if let (Some(what), Some(close)) = (params, parenthesized_names(src, l)) {
            return err(&format!("{what} cannot be parenthesized"), l, close);
        }
    }
    // Directly in the parameter list (the lexer has already closed a `)`).
    let depth = lexer.brackets.len() + usize::from(tok == Tok::RPar);
    if matches!(tok, Tok::RPar | Tok::Comma) && prev == Some(Tok::Equal) && is_def && depth == 1 {
        let eq = &h[idx - 1];
        return err("expected default value expression", eq.0, eq.2);
    }
    if expects("\":\"") && matches!(first, Some(Tok::Class)) {
        return err("expected ':'", l, r);
    }
    if tok != Tok::LPar
        && idx >= 2
        && matches!(prev, Some(Tok::Name(_)))
        && h[idx - 2].1 == Tok::Def
    {
        return err("expected '('", l, r);
    }
    // `try:` followed by neither `except` nor `finally`.
    if expects("\"except\"") && expects("\"finally\"") {
        return err("expected 'except' or 'finally' block", l, r);
    }
    // `a if b` without `else`.
    if expects("\"else\"") && tok != Tok::Else {
        if let Some(at) = (start + 1..idx).rev().find(|&i| h[i].1 == Tok::If) {
            if at > start {
                let from = h[primary_start(h, at - 1)].0;
                return err("expected 'else' after 'if' expression", from, h[idx - 1].2);
            }
        }
    }
    // `{k: v, key}` and `{k: }`.
    if matches!(tok, Tok::Comma | Tok::RBrace) {
        let mut depth = 0;
        let mut open = None;
        for i in (start..idx).rev() {
            match h[i].1 {
                Tok::RPar | Tok::RSqb | Tok::RBrace => depth += 1,
                Tok::LPar | Tok::LSqb => {
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                }
                Tok::LBrace => {
                    if depth == 0 {
                        open = Some(i);
                        break;
                    }
                    depth -= 1;
                }
                _ => {}
            }
        }
        if let Some(open) = open {
            let mut depth = 0;
            let is_dict = h[open + 1..idx].iter().any(|t| {
                match t.1 {
                    Tok::LPar | Tok::LSqb | Tok::LBrace => depth += 1,
                    Tok::RPar | Tok::RSqb | Tok::RBrace => depth -= 1,
                    _ => {}
                }
                depth == 0 && t.1 == Tok::Colon
            });
            if is_dict && prev == Some(Tok::Colon) {
                return err(
                    "expression expected after dictionary key and ':'",
                    h[idx - 1].0,
                    h[idx - 1].2,
                );
            }
            if is_dict && expects("\":\"") {
                let (from, to) = last_char(h[idx - 1].2);
                return err("':' expected after dictionary key", from, to);
            }
        }
    }
    None
}

/// Index of the first token of the logical line containing `history[idx]`.
fn line_start(history: &[Spanned], idx: usize) -> usize {
    let mut i = idx.min(history.len());
    while i > 0 {
        if matches!(
            history[i - 1].1,
            Tok::Newline | Tok::Indent | Tok::Dedent | Tok::StartModule | Tok::StartExpr
        ) {
            break;
        }
        i -= 1;
    }
    i
}

fn line_is_compound(history: &[Spanned], idx: usize) -> bool {
    let start = line_start(history, idx);
    matches!(
        history.get(start).map(|t| &t.1),
        Some(
            Tok::If
                | Tok::Elif
                | Tok::Else
                | Tok::While
                | Tok::For
                | Tok::With
                | Tok::Try
                | Tok::Except
                | Tok::Finally
                | Tok::Match
                | Tok::Case
                | Tok::Def
                | Tok::Class
                | Tok::Async
        )
    )
}

/// "expected an indented block after 'if' statement on line N".
fn expected_block(src: &str, history: &[Spanned], idx: usize, span: Span) -> SyntaxError {
    // The header's NEWLINE is the token before the failing one.
    let newline = history[..idx.min(history.len())]
        .iter()
        .rposition(|t| t.1 == Tok::Newline)
        .unwrap_or(0);
    let mut start = line_start(history, newline);
    if history.get(start).map(|t| &t.1) == Some(&Tok::Async) {
        start += 1;
    }
    let what = match history.get(start) {
        Some((pos, tok, _)) => {
            let line = line_of(src, *pos);
            match tok {
                Tok::If => format!("'if' statement on line {line}"),
                Tok::Elif => format!("'elif' statement on line {line}"),
                Tok::Else => format!("'else' statement on line {line}"),
                Tok::While => format!("'while' statement on line {line}"),
                Tok::For => format!("'for' statement on line {line}"),
                Tok::With => format!("'with' statement on line {line}"),
                Tok::Try => format!("'try' statement on line {line}"),
                Tok::Except => format!("'except' statement on line {line}"),
                Tok::Finally => format!("'finally' statement on line {line}"),
                Tok::Match => format!("'match' statement on line {line}"),
                Tok::Case => format!("'case' statement on line {line}"),
                Tok::Def => format!("function definition on line {line}"),
                Tok::Class => format!("class definition on line {line}"),
                _ => String::new(),
            }
        }
        None => String::new(),
    };
    let msg = if what.is_empty() {
        "expected an indented block".to_string()
    } else {
        format!("expected an indented block after {what}")
    };
    SyntaxError::new(SyntaxErrorKind::IndentationError, msg, span)
}

/// "invalid syntax. Perhaps you forgot a comma?" for two juxtaposed
/// operands inside brackets, spanning both.
fn comma_hint(history: &[Spanned], idx: usize) -> Option<SyntaxError> {
    let (_, tok, end) = history.get(idx)?;
    if idx == 0 || !tok.starts_expr() || matches!(tok, Tok::Not | Tok::Await) {
        return None;
    }
    let prev = &history[idx - 1].1;
    if !prev.ends_expr() {
        return None;
    }
    // Only inside brackets (an f-string field counts as one).
    let mut depth = i32::from(history[0].1 == Tok::StartExpr);
    for t in &history[..idx] {
        match t.1 {
            Tok::LPar | Tok::LSqb | Tok::LBrace => depth += 1,
            Tok::RPar | Tok::RSqb | Tok::RBrace => depth -= 1,
            _ => {}
        }
    }
    if depth <= 0 {
        return None;
    }
    let start = disjunction_start(history, idx - 1)?;
    // CPython does not suggest a comma for an expression starting with
    // `name "string"` (string prefixes) or with a soft keyword.
    match (&history[start].1, &history[start + 1].1) {
        (Tok::Name(_), Tok::Str(_)) | (Tok::Match | Tok::Case, _) => return None,
        (Tok::Name(n), _) if matches!(&**n, "match" | "case" | "_") => return None,
        _ => {}
    }
    // A key after `k: v,` in a dict display: CPython's rule for a
    // key/value pair without its `:` comes first.
    if dict_key_position(history, start) {
        let (from, to) = last_char(history[idx - 1].2);
        return Some(SyntaxError::new(
            SyntaxErrorKind::SyntaxError,
            "':' expected after dictionary key",
            Span::new(from, to),
        ));
    }
    Some(SyntaxError::new(
        SyntaxErrorKind::SyntaxError,
        "invalid syntax. Perhaps you forgot a comma?",
        Span::new(history[start].0, *end),
    ))
}

/// Whether the expression starting at `start` follows `k: v,` (or `**m,`)
/// directly inside a dict display's braces.
fn dict_key_position(history: &[Spanned], start: usize) -> bool {
    if start == 0 || history[start - 1].1 != Tok::Comma {
        return false;
    }
    let mut depth = 0;
    let mut is_dict = false;
    for i in (0..start - 1).rev() {
        match history[i].1 {
            Tok::RPar | Tok::RSqb | Tok::RBrace => depth += 1,
            Tok::LBrace if depth == 0 => return is_dict,
            Tok::LPar | Tok::LSqb | Tok::LBrace if depth == 0 => return false,
            Tok::LPar | Tok::LSqb | Tok::LBrace => depth -= 1,
            Tok::Colon if depth == 0 => is_dict = true,
            // `**m` as an item (not the power operator).
            Tok::DoubleStar
                if depth == 0 && i > 0 && matches!(history[i - 1].1, Tok::LBrace | Tok::Comma) =>
            {
                is_dict = true
            }
            Tok::Newline if depth == 0 => return false,
            _ => {}
        }
    }
    false
}

/// The span of the byte ending at `end`: CPython puts the caret of "':'
/// expected after dictionary key" under a key's last byte (its columns
/// count bytes there).
fn last_char(end: usize) -> (usize, usize) {
    (end.saturating_sub(1), end)
}

/// Walk back from the last token of an operand to the first of the whole
/// `or`/`and`/`not`/comparison/arithmetic expression holding it, which
/// CPython's hint spans. None where CPython gives no hint: the operand ends
/// a lambda, a dict value, a comprehension's iterable or an `else` branch.
fn disjunction_start(history: &[Spanned], last: usize) -> Option<usize> {
    let mut i = primary_start(history, last);
    loop {
        let Some(j) = i.checked_sub(1) else {
            return Some(i);
        };
        let left_ends_expr = |k: usize| k > 0 && history[k - 1].1.ends_expr();
        match &history[j].1 {
            // Unary operators (binary when an operand precedes them).
            Tok::Minus | Tok::Plus | Tok::Tilde if !left_ends_expr(j) => i = j,
            Tok::Not | Tok::Await if !left_ends_expr(j) => i = j,
            // `not in` and `is not`.
            Tok::In if j > 0 && history[j - 1].1 == Tok::Not && left_ends_expr(j - 1) => {
                i = primary_start(history, j - 2)
            }
            Tok::Not if j > 0 && history[j - 1].1 == Tok::Is && left_ends_expr(j - 1) => {
                i = primary_start(history, j - 2)
            }
            Tok::Plus
            | Tok::Minus
            | Tok::Star
            | Tok::DoubleStar
            | Tok::Slash
            | Tok::DoubleSlash
            | Tok::Percent
            | Tok::At
            | Tok::LShift
            | Tok::RShift
            | Tok::Amper
            | Tok::Vbar
            | Tok::Circumflex
            | Tok::Less
            | Tok::Greater
            | Tok::LessEqual
            | Tok::GreaterEqual
            | Tok::EqEqual
            | Tok::NotEqual
            | Tok::In
            | Tok::Is
            | Tok::And
            | Tok::Or
                if left_ends_expr(j) =>
            {
                i = primary_start(history, j - 1)
            }
            Tok::Else | Tok::For | Tok::Equal => return None,
            Tok::Colon if lambda_colon(history, j) => return None,
            _ => return Some(i),
        }
    }
}

/// Is the `:` at `colon` the end of a lambda's parameters (rather than a
/// dict entry's or a slice's)?
fn lambda_colon(history: &[Spanned], colon: usize) -> bool {
    let mut depth = 0;
    for t in history[..colon].iter().rev() {
        match t.1 {
            Tok::RPar | Tok::RSqb | Tok::RBrace => depth += 1,
            Tok::LPar | Tok::LSqb | Tok::LBrace if depth == 0 => return false,
            Tok::LPar | Tok::LSqb | Tok::LBrace => depth -= 1,
            Tok::Lambda if depth == 0 => return true,
            Tok::Colon | Tok::Newline if depth == 0 => return false,
            _ => {}
        }
    }
    false
}

/// Walk back from the last token of a primary (`a.b(c)[d]`) to its first.
fn primary_start(history: &[Spanned], mut i: usize) -> usize {
    loop {
        match history[i].1 {
            Tok::RPar | Tok::RSqb | Tok::RBrace => {
                let mut depth = 0;
                let mut j = i;
                loop {
                    match history[j].1 {
                        Tok::RPar | Tok::RSqb | Tok::RBrace => depth += 1,
                        Tok::LPar | Tok::LSqb | Tok::LBrace => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    if j == 0 {
                        return 0;
                    }
                    j -= 1;
                }
                i = j;
                // A call or subscript trailer continues the primary.
                if i > 0
                    && history[i - 1].1.ends_expr()
                    && matches!(history[i].1, Tok::LPar | Tok::LSqb)
                {
                    i -= 1;
                    continue;
                }
                return i;
            }
            Tok::Str(_) if i > 0 && matches!(history[i - 1].1, Tok::Str(_)) => i -= 1,
            _ => {
                if i >= 2 && history[i - 1].1 == Tok::Dot && history[i - 2].1.ends_expr() {
                    i -= 2;
                    continue;
                }
                return i;
            }
        }
    }
}

/// CPython reads source in universal-newline mode: `\r\n` and a lone `\r`
/// become `\n` (error lines and string literals never show a `\r`).
fn universal_newlines(s: &str) -> String {
    if !s.contains('\r') {
        return s.to_string();
    }
    s.replace("\r\n", "\n").replace('\r', "\n")
}

/// Decode a source file's bytes: UTF-8 (a BOM is skipped), or Latin-1 when
/// a coding declaration says so; anything else is CPython's SyntaxError.
pub fn decode_source(bytes: &[u8], filename: &str) -> Result<String, SyntaxError> {
    let bom = bytes.starts_with(b"\xEF\xBB\xBF");
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Some(declared) = coding_declaration(bytes) {
        let enc = declared.to_ascii_lowercase().replace('_', "-");
        let utf8 = enc == "utf-8" || enc.starts_with("utf-8-");
        if bom && !utf8 {
            // A UTF-8 BOM contradicts any other declared encoding.
            let latin1 = ["latin-1", "iso-8859-1", "iso-latin-1"]
                .iter()
                .any(|n| enc == *n || enc.starts_with(&format!("{n}-")));
            let name = if latin1 {
                "iso-8859-1"
            } else {
                declared.as_str()
            };
            return Err(SyntaxError::new(
                SyntaxErrorKind::SyntaxError,
                format!("encoding problem: {name} with BOM"),
                Span {
                    start: u32::MAX,
                    end: u32::MAX,
                },
            ));
        }
        if matches!(
            enc.as_str(),
            "latin-1" | "iso-8859-1" | "iso8859-1" | "latin1" | "l1" | "cp819"
        ) {
            let text: String = bytes.iter().map(|&b| b as char).collect();
            return Ok(universal_newlines(&text));
        }
        if !(enc == "utf-8"
            || enc.starts_with("utf-8-")
            || enc == "utf8"
            || enc == "ascii"
            || enc == "us-ascii")
        {
            // (A file's wording; `compile()` of bytes says "unknown encoding".)
            return Err(SyntaxError::new(
                SyntaxErrorKind::SyntaxError,
                format!("encoding problem: {declared}"),
                // Reported without a location, as CPython does.
                Span {
                    start: u32::MAX,
                    end: u32::MAX,
                },
            ));
        }
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(universal_newlines(s)),
        Err(e) => {
            let at = e.valid_up_to();
            let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            let byte = bytes.get(at).copied().unwrap_or(0);
            Err(SyntaxError::new(
                SyntaxErrorKind::SyntaxError,
                format!(
                    "Non-UTF-8 code starting with '\\x{byte:02x}' in file {filename} on line {line}, \
                     but no encoding declared; see https://peps.python.org/pep-0263/ for details"
                ),
                Span {
                    start: u32::MAX,
                    end: u32::MAX,
                },
            ))
        }
    }
}

/// PEP 263: `coding[:=]\s*([-\w.]+)` in a comment on line 1 or 2.
pub(crate) fn coding_declaration(bytes: &[u8]) -> Option<String> {
    for line in bytes.split(|&b| b == b'\n').take(2) {
        let text = String::from_utf8_lossy(line);
        let trimmed = text.trim_start();
        if !trimmed.starts_with('#') {
            continue;
        }
        if let Some(pos) = trimmed.find("coding") {
            let rest = &trimmed[pos + 6..];
            if let Some(rest) = rest.strip_prefix([':', '=']) {
                let name: String = rest
                    .trim_start()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
                    .collect();
                if !name.is_empty() {
                    return Some(name);
                }
            }
        }
    }
    None
}

/// For the REPL: does `source` need more lines? True for open brackets, an
/// unterminated triple-quoted string, a trailing backslash, or a compound
/// statement not yet closed by an empty line.
pub fn is_incomplete(source: &str) -> bool {
    if source.trim().is_empty() {
        return false;
    }
    let trimmed = source.trim_end_matches(['\n', '\r']);
    if trimmed.ends_with('\\') {
        return true;
    }
    // A block (a compound statement, or indented lines) stays open until
    // an empty line, as in CPython's REPL.
    let in_block = {
        let first = Lexer::new(source, Mode::Module).nth(1);
        matches!(
            first,
            Some(Ok((
                _,
                Tok::If
                    | Tok::While
                    | Tok::For
                    | Tok::Try
                    | Tok::With
                    | Tok::Def
                    | Tok::Class
                    | Tok::Async
                    | Tok::At,
                _
            )))
        ) || source
            .lines()
            .any(|l| l.starts_with([' ', '\t']) && !l.trim().is_empty())
    };
    let blank_end = source.ends_with("\n\n")
        || source.ends_with("\r\n\r\n")
        || (source.ends_with('\n')
            && source
                .rsplit('\n')
                .nth(1)
                .is_some_and(|l| l.trim().is_empty()));
    match parse_module(source) {
        Ok(_) => in_block && !blank_end,
        Err(e) => {
            let at_end = e.span.start as usize >= trimmed.len();
            e.msg.ends_with("was never closed")
                || e.msg.starts_with("unterminated triple-quoted string")
                || (in_block && at_end && !blank_end)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(src: &str) -> SyntaxError {
        parse_module(src).expect_err("expected a syntax error")
    }

    fn msg(src: &str) -> String {
        err(src).msg
    }

    #[test]
    fn parses_a_program() {
        let src = r#"
import os, sys as s
from . import a
from ..x.y import (b as c, d,)
@dec
class A(B, metaclass=M):
    x: int = 3
    def f(self, a, /, b=1, *args, c, d=2, **kw) -> int:
        global g
        return a if b else c
async def g():
    await x
    async for i in y: pass
    async with a as b, c: pass
for i, *j in [1, 2]:
    if i: continue
    elif j: break
    else: pass
else:
    pass
while x: x -= 1
try:
    pass
except (A, B) as e:
    raise X from e
except:
    raise
else:
    pass
finally:
    del a, b[1], c.d
with open(f) as fh: pass
lambda a, *b, c=1, **d: (yield)
x = [i for i in range(3) if i for j in i]
y = {k: v for k, v in z}; z = {*a, *b}; w = {**a, 'b': 1}
g = (x for x in y)
f(x for x in y)
f(*a, b, *c, d=1, **e)
s = a[1:2, ::3, ...]
t = 1, 2,
assert x, "msg"
print(f"{x!r:>{width}} {y=} {{}}")
n = not a < b <= c is not d not in e
(v := 10)
"#;
        let m = parse_module(src).unwrap_or_else(|e| panic!("{} at {:?}", e.msg, e.span));
        assert!(m.body.len() > 10);
    }

    #[test]
    fn operator_precedence() {
        let m = parse_module("x = -2 ** 2 + 3 * 4 | 1 & 2 ^ 3\n").unwrap();
        let crate::syntax::ast::StmtKind::Assign { value, .. } = &m.body[0].kind else {
            panic!()
        };
        // The top node is `|`.
        assert!(matches!(
            value.kind,
            crate::syntax::ast::ExprKind::BinOp {
                op: crate::syntax::ast::BinOp::BitOr,
                ..
            }
        ));
    }

    #[test]
    fn targeted_messages() {
        assert_eq!(
            msg("def f():\n    yield = 3\n"),
            "assignment to yield expression not possible"
        );
        assert_eq!(msg("x = 1 \\\n"), "unexpected EOF while parsing");
        assert_eq!(msg("x = 1 if y else\n"), "invalid syntax");
        assert_eq!(
            msg("def f(a, b=):\n    pass\n"),
            "expected default value expression"
        );
        assert_eq!(
            msg("f(x for x in y, )\n"),
            "Generator expression must be parenthesized"
        );
        assert_eq!(
            msg("a, b: int\n"),
            "only single target (not tuple) can be annotated"
        );
        assert_eq!(
            msg("x = 1\u{a0}+ 2\n"),
            "invalid non-printable character U+00A0"
        );
        assert_eq!(
            msg("(x := 1) = 2\n"),
            "cannot assign to named expression here. Maybe you meant '==' instead of '='?"
        );
        // The error is reported at the file's last line.
        let e = err("def f():\n    # nothing\n\n");
        assert_eq!(e.span.start as usize, "def f():\n    # nothing\n".len());
    }

    #[test]
    fn universal_newlines_in_source() {
        let src = decode_source(b"x = 1\r\ny = 2\rz = 3\n", "t").unwrap_or_default();
        assert_eq!(src, "x = 1\ny = 2\nz = 3\n");
    }

    #[test]
    fn assignment_target_errors() {
        assert_eq!(
            msg("f() = 1\n"),
            "cannot assign to function call here. Maybe you meant '==' instead of '='?"
        );
        assert_eq!(
            msg("1 = x\n"),
            "cannot assign to literal here. Maybe you meant '==' instead of '='?"
        );
        assert_eq!(
            msg("x + 1 = 2\n"),
            "cannot assign to expression here. Maybe you meant '==' instead of '='?"
        );
        assert_eq!(msg("(a, f()) = 1\n"), "cannot assign to function call");
        let target = "did you forget parentheses around the comprehension target?";
        assert_eq!(msg("x = [a, b for a, b in z]\n"), target);
        assert_eq!(msg("x = {a, b for a, b in z}\n"), target);
        assert_eq!(msg("x = {a: 1, b for a, b in z}\n"), "invalid syntax");
        assert_eq!(
            msg("try:\n  pass\nexcept A, B as e:\n  pass\n"),
            "multiple exception types must be parenthesized"
        );
        // An unexpected indent is reported before a later tokenizer error.
        assert_eq!(msg("  x = 1\ny = 0b2\n"), "unexpected indent");
        assert_eq!(msg("x = f() = 1\n"), "cannot assign to function call");
        assert_eq!(msg("None = 1\n"), "cannot assign to None");
        assert_eq!(
            msg("a, 1 = x\n"),
            "cannot assign to literal here. Maybe you meant '==' instead of '='?"
        );
        assert_eq!(msg("a < b = 1\n"), "cannot assign to comparison");
        assert_eq!(msg("for 1 in x: pass\n"), "cannot assign to literal");
        assert_eq!(msg("del f()\n"), "cannot delete function call");
        assert_eq!(
            msg("(a, b) += 1\n"),
            "'tuple' is an illegal expression for augmented assignment"
        );
        assert_eq!(
            msg("f() += 1\n"),
            "'function call' is an illegal expression for augmented assignment"
        );
        assert_eq!(
            msg("x = yield = 1\n"),
            "assignment to yield expression not possible"
        );
        assert_eq!(
            msg("(f() := 1)\n"),
            "cannot use assignment expressions with function call"
        );
        assert_eq!(
            msg("with a as f(): pass\n"),
            "cannot assign to function call"
        );
        assert_eq!(msg("x = (*a)\n"), "cannot use starred expression here");
    }

    #[test]
    fn call_and_parameter_errors() {
        assert_eq!(
            msg("f(a for a in b, c)\n"),
            "Generator expression must be parenthesized"
        );
        assert_eq!(
            msg("f(**a, *b)\n"),
            "iterable argument unpacking follows keyword argument unpacking"
        );
        assert_eq!(
            msg("f(a=1, b)\n"),
            "positional argument follows keyword argument"
        );
        assert_eq!(
            msg("print(**a, b)\n"),
            "positional argument follows keyword argument unpacking"
        );
        assert_eq!(
            msg("f(a.b=1)\n"),
            "expression cannot contain assignment, perhaps you meant \"==\"?"
        );
        assert_eq!(msg("f(a=1, a=2)\n"), "keyword argument repeated: a");
        assert_eq!(
            msg("def f(a=1, b): pass\n"),
            "non-default argument follows default argument"
        );
        assert_eq!(
            msg("def f(*, **k): pass\n"),
            "named arguments must follow bare *"
        );
        assert_eq!(
            msg("def f(/, a): pass\n"),
            "at least one argument must precede /"
        );
        assert_eq!(msg("def f(a, /, b, /): pass\n"), "/ may appear only once");
        assert_eq!(
            msg("def f(*a=1): pass\n"),
            "var-positional argument cannot have default value"
        );
        assert_eq!(
            msg("def f(**a, b): pass\n"),
            "arguments cannot follow var-keyword argument"
        );
        assert_eq!(msg("lambda *: 1\n"), "named arguments must follow bare *");
        assert_eq!(
            msg("def f(*a, *b): pass\n"),
            "* argument may appear only once"
        );
        assert_eq!(msg("def f(a, *, b, /): pass\n"), "/ must be ahead of *");
    }

    #[test]
    fn assignment_inside_brackets() {
        let literal = "cannot assign to literal here. Maybe you meant '==' instead of '='?";
        assert_eq!(msg("d = {'a' = 1}\n"), literal);
        assert_eq!(msg("x = (1 = 2)\n"), literal);
        assert_eq!(
            msg("x = [a + 1 = 2]\n"),
            "cannot assign to expression here. Maybe you meant '==' instead of '='?"
        );
        let e = err("x = [a = 1]\n");
        assert_eq!(
            e.msg,
            "invalid syntax. Maybe you meant '==' or ':=' instead of '='?"
        );
        assert_eq!((e.span.start, e.span.end), (5, 10));
        for src in ["f(a.b=1)\n", "x = {1: 2 = 3}\n", "x = [a =]\n"] {
            assert!(!msg(src).contains("Maybe you meant '=='"), "{src}");
        }
    }

    #[test]
    fn comma_hint_spans_the_expression() {
        let span = |src: &str| {
            let e = err(src);
            assert_eq!(e.msg, "invalid syntax. Perhaps you forgot a comma?");
            (e.span.start, e.span.end)
        };
        assert_eq!(span("f(a+b 1)\n"), (2, 7));
        assert_eq!(span("f(not a.b < -c d)\n"), (2, 16));
        assert_eq!(span("f(a is not b c)\n"), (2, 14));
        assert_eq!(span("f(x, y := b c)\n"), (10, 13));
        assert_eq!(span("{k: v w}\n"), (4, 7));
        for src in ["f(x=c d)\n", "f(a if b else c d)\n", "[x for x in c d]\n"] {
            assert_eq!(msg(src), "invalid syntax", "{src}");
        }
        assert_eq!(msg("f(lambda: c d)\n"), "invalid syntax");
        assert_eq!(msg("f(a 'b')\n"), "invalid syntax");
    }

    #[test]
    fn generic_errors() {
        let e = err("x = 1 +\n");
        assert_eq!(e.msg, "invalid syntax");
        assert_eq!(e.span.start, 7);
        assert_eq!(msg("if x\n  pass\n"), "expected ':'");
        assert_eq!(msg("def f()\n  pass\n"), "expected ':'");
        assert_eq!(msg("foo(a, b\nx = 1\n"), "'(' was never closed");
        assert_eq!(
            msg("x = [1, 2)\n"),
            "closing parenthesis ')' does not match opening parenthesis '['"
        );
        assert_eq!(msg("x = 1)\n"), "unmatched ')'");
        assert_eq!(msg("x = 5 6\n"), "invalid syntax");
        assert_eq!(msg("x = $a\n"), "invalid syntax");
        assert_eq!(
            msg("x = 1\ny = (\nz = 'abc\n"),
            "unterminated string literal (detected at line 3)"
        );
    }

    #[test]
    fn comma_hint() {
        let e = err("print(a b)\n");
        assert_eq!(e.msg, "invalid syntax. Perhaps you forgot a comma?");
        assert_eq!((e.span.start, e.span.end), (6, 9));
        let e = err("f(x.y z)\n");
        assert_eq!((e.span.start, e.span.end), (2, 7));
        assert_eq!(
            msg("x = [1 2]\n"),
            "invalid syntax. Perhaps you forgot a comma?"
        );
    }

    #[test]
    fn indentation_errors() {
        let e = err("if x:\npass\n");
        assert_eq!(e.kind, SyntaxErrorKind::IndentationError);
        assert_eq!(
            e.msg,
            "expected an indented block after 'if' statement on line 1"
        );
        assert_eq!(
            msg("def f():\nz\n"),
            "expected an indented block after function definition on line 1"
        );
        assert_eq!(
            msg("class A:\nz\n"),
            "expected an indented block after class definition on line 1"
        );
        assert_eq!(
            msg("try:\n  z\nexcept:\nz\n"),
            "expected an indented block after 'except' statement on line 3"
        );
        assert_eq!(
            msg("if a:\n  z\nelse:\nz\n"),
            "expected an indented block after 'else' statement on line 3"
        );
        assert_eq!(
            msg("if a:"),
            "expected an indented block after 'if' statement on line 1"
        );
        assert_eq!(
            msg("async def f():\nz\n"),
            "expected an indented block after function definition on line 1"
        );
        let e = err("def f():\n  x=1\n    y=2\n");
        assert_eq!(
            (e.kind, e.msg.as_str()),
            (SyntaxErrorKind::IndentationError, "unexpected indent")
        );
        let deep: String = (0..100)
            .map(|i| format!("{}if 1:\n", " ".repeat(i)))
            .collect::<String>()
            + &" ".repeat(100)
            + "pass\n";
        assert_eq!(msg(&deep), "too many levels of indentation");
    }

    #[test]
    fn fstrings() {
        assert_eq!(msg("f\"{}\"\n"), "f-string: empty expression not allowed");
        assert_eq!(msg("f\"{x\"\n"), "f-string: expecting '}'");
        assert_eq!(msg("f\"}\"\n"), "f-string: single '}' is not allowed");
        assert_eq!(
            msg("f\"{x!z}\"\n"),
            "f-string: invalid conversion character: expected 's', 'r', or 'a'"
        );
        assert_eq!(
            msg("f\"{a b}\"\n"),
            "f-string: invalid syntax. Perhaps you forgot a comma?"
        );
        assert_eq!(msg("f\"{a +}\"\n"), "f-string: invalid syntax");
        assert_eq!(
            msg("f'{\"\\n\"}'\n"),
            "f-string expression part cannot include a backslash"
        );
        assert_eq!(
            msg("f\"{x:{y:{z}}}\"\n"),
            "f-string: expressions nested too deeply"
        );
        assert_eq!(
            msg("x = 'a' b'c'\n"),
            "cannot mix bytes and nonbytes literals"
        );
        let m = parse_module("f'{x=}' f'{a!r:>{w}}' 'b' f'{{}}'\n").unwrap();
        let crate::syntax::ast::StmtKind::Expr(e) = &m.body[0].kind else {
            panic!()
        };
        let crate::syntax::ast::ExprKind::JoinedStr(parts) = &e.kind else {
            panic!()
        };
        assert_eq!(parts.len(), 4);
        assert!(matches!(&parts[0], crate::syntax::ast::FStringPart::Literal(s) if &**s == "x="));
        assert!(matches!(
            &parts[1],
            crate::syntax::ast::FStringPart::Value {
                conversion: Some('r'),
                ..
            }
        ));
        assert!(matches!(&parts[3], crate::syntax::ast::FStringPart::Literal(s) if &**s == "b{}"));
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        for src in [
            format!("x = {}1\n", "-".repeat(100_000)),
            format!("x = {}1\n", "not ".repeat(100_000)),
            format!("x = {}\n", vec!["1"; 100_000].join("+")),
            format!("x = {}\n", vec!["2"; 100_000].join("**")),
            format!("x = {}1{}\n", "(".repeat(100_000), ")".repeat(100_000)),
            format!("x = {}1\n", "lambda: ".repeat(100_000)),
            format!("x = {}\n", "a.".repeat(100_000) + "b"),
            format!("x = a{}\n", "[0]".repeat(100_000)),
            format!("x = {}1\n", "a if b else ".repeat(100_000)),
        ] {
            let e = err(&src);
            assert!(
                e.msg.starts_with("too many nested")
                    || matches!(e.kind, SyntaxErrorKind::TooDeep | SyntaxErrorKind::NoMemory),
                "{}",
                e.msg
            );
        }
        // A syntax error anywhere in the file wins over the depth limit.
        let src = format!("x = {}\ny = = 1\n", vec!["1"; 5000].join("+"));
        assert_eq!(err(&src).kind, SyntaxErrorKind::SyntaxError);
        let src = format!("x = {}\ny = (\n", vec!["1"; 5000].join("+"));
        assert_eq!(msg(&src), "'(' was never closed");
        // 200 brackets are fine, 201 are not.
        assert!(parse_module(&format!("x = {}{}\n", "[".repeat(200), "]".repeat(200))).is_ok());
        assert_eq!(
            msg(&format!("x = {}{}\n", "[".repeat(201), "]".repeat(201))),
            "too many nested parentheses"
        );
    }

    #[test]
    fn common_mistakes() {
        assert_eq!(
            msg("print \"hello\"\n"),
            "Missing parentheses in call to 'print'. Did you mean print(...)?"
        );
        assert_eq!(
            msg("if x = 1:\n    pass\n"),
            "invalid syntax. Maybe you meant '==' or ':=' instead of '='?"
        );
        assert_eq!(
            msg("if x.y = 1:\n    pass\n"),
            "cannot assign to attribute here. Maybe you meant '==' instead of '='?"
        );
        assert_eq!(msg("x = {1: 2, 3}\n"), "':' expected after dictionary key");
        assert_eq!(
            msg("x = {1: 2, 3: }\n"),
            "expression expected after dictionary key and ':'"
        );
        assert_eq!(msg("x = 5 if y\n"), "expected 'else' after 'if' expression");
        assert_eq!(
            msg("try:\n    x = 1\ny = 2\n"),
            "expected 'except' or 'finally' block"
        );
        assert_eq!(
            msg("try:\n    x = 1\n"),
            "expected 'except' or 'finally' block"
        );
        assert_eq!(msg("class A\n    pass\n"), "expected ':'");
        assert_eq!(msg("def f:\n    pass\n"), "expected '('");
        assert_eq!(
            msg("if x:\n    pass\nelse if y:\n    pass\n"),
            "expected ':'"
        );
    }

    /// Malformed programs get python3's message, line and column (when
    /// python3 is installed).
    #[test]
    fn messages_match_python3() {
        let cases = [
            "x = = 1",
            "x = 1 +",
            "if x\n  pass",
            "print(1,\n",
            "x = (1, 2))",
            "f() = 1",
            "del f()",
            "for 1 in x: pass",
            "def f(a=1, b): pass",
            "x = [1 2]",
            "print \"hi\"",
            "if x = 1:\n  pass",
            "x = {1: 2, 3}",
            "x = 5 if y",
            "try:\n  x = 1\ny = 2",
            "class A\n  pass",
            "def f:\n  pass",
            "s = 'abc",
            "x = '''abc\n\n",
            "a = 1\n  b = 2",
            "if x:\n  pass\n else:\n  pass",
            "if x:\npass",
            "def f():\nreturn 1",
            "x = 0777",
            "x = 1abc",
            "f(a for a in b, c)",
            "f(**a, *b)",
            "f(a=1, b)",
            "x = $",
            "x = a \u{20ac} b",
            "(a, b) += 1",
            "x = yield = 1",
            "f\"{}\"",
            "f\"{x!z}\"",
            "lambda x: return x",
            "x = [i for i in]",
            "import a as b as c",
            "x++",
            "with open('f') as f, :\n  pass",
            "for x in range(3) print(x)",
            "x = {a, b: 1}",
            "return 1",
            "def f():\n  nonlocal q",
            "for i in x:\n  def g():\n    break",
        ];
        let script = "import sys\n\
                      for src in sys.argv[1:]:\n\
                      \x20   try:\n\
                      \x20       compile(src + '\\n', '<test>', 'exec')\n\
                      \x20       print('OK')\n\
                      \x20   except SyntaxError as e:\n\
                      \x20       print(type(e).__name__, e.lineno, e.offset, e.msg)\n";
        let Ok(out) = std::process::Command::new("python3")
            .arg("-c")
            .arg(script)
            .args(cases)
            .output()
        else {
            return;
        };
        let expected: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        if expected.len() != cases.len() {
            return;
        }
        let mut failures = Vec::new();
        for (case, want) in cases.iter().zip(&expected) {
            let src = format!("{case}\n");
            let got = match parse_module(&src).and_then(|m| {
                crate::compile::compile_module_with_source(&m, &src, "<test>").map(|_| ())
            }) {
                Ok(()) => "OK".to_string(),
                Err(e) => {
                    let start = (e.span.start as usize).min(src.len());
                    let line = line_of(&src, start);
                    let line_start = src[..start].rfind('\n').map_or(0, |i| i + 1);
                    let col = src[line_start..start].chars().count() + 1;
                    format!("{:?} {line} {col} {}", e.kind, e.msg)
                }
            };
            if got != *want {
                failures.push(format!("{src:?}: python3 {want:?}, gilvm {got:?}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn decoding() {
        assert_eq!(
            decode_source(b"\xEF\xBB\xBFx = 1\n", "f").unwrap(),
            "x = 1\n"
        );
        let e = decode_source(b"x = 1\ny = '\xff'\n", "t.py").unwrap_err();
        assert_eq!(
            e.msg,
            "Non-UTF-8 code starting with '\\xff' in file t.py on line 2, but no encoding declared; \
             see https://peps.python.org/pep-0263/ for details"
        );
        assert!(!e.has_location());
        assert_eq!(
            decode_source(b"# -*- coding: latin-1 -*-\nx = '\xe9'\n", "f").unwrap(),
            "# -*- coding: latin-1 -*-\nx = '\u{e9}'\n"
        );
    }

    #[test]
    fn incomplete_input() {
        assert!(is_incomplete("x = (1,\n"));
        assert!(is_incomplete("if x:\n"));
        assert!(is_incomplete("if x:\n    y = 1\n"));
        assert!(!is_incomplete("if x:\n    y = 1\n\n"));
        assert!(is_incomplete("s = '''abc\n"));
        assert!(is_incomplete("x = 1 + \\\n"));
        assert!(!is_incomplete("x = 1\n"));
        assert!(!is_incomplete("x = )\n"));
        assert!(is_incomplete("def f():\n"));
        assert!(is_incomplete("@dec\n"));
        assert_eq!(msg("x = 1 \\"), "unexpected EOF while parsing");
        assert_eq!(
            msg("x = 1\ny = '\0'\n"),
            "source code cannot contain null bytes"
        );
        assert!(is_incomplete("try:\n    x = 1\n"));
        assert!(!is_incomplete("try:\n    x = 1\n\n"));
        assert!(!is_incomplete("x = 1 +\n"));
        assert!(is_incomplete("for i in x:\n    if i:\n        pass\n"));
    }
}
