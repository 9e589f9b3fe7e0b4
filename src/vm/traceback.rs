//! Rendering exceptions the way CPython 3.11 prints them: tracebacks with
//! source lines, chained exceptions, SyntaxError carets, "Did you mean"
//! suggestions and `[Previous line repeated N more times]`.

use std::collections::HashSet;
use std::sync::Arc;

use crate::vm::brc::Brc;
use crate::vm::display_width::char_width;
use crate::vm::error::{ExcKind, PyErr};
use crate::vm::exceptions::{exc_str_value, fill_derived_attrs};
use crate::vm::interp::Vm;
use crate::vm::types::types;
use crate::vm::value::{Instance, InstanceBase, TraceEntry, Value};

/// CPython's `TB_RECURSIVE_CUTOFF`: identical consecutive lines shown before collapsing.
const RECURSIVE_CUTOFF: usize = 3;
/// CPython's default `sys.tracebacklimit` for the C printer.
const TRACEBACK_LIMIT: usize = 1000;

/// Which of CPython's two traceback printers to imitate. They differ in
/// one detail: the interpreter's C printer constant-folds a failing
/// expression before placing its `~`/`^` anchors; the `traceback` module
/// does not.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub enum Printer {
    /// Uncaught exceptions, `sys.excepthook`, thread and unraisable hooks.
    #[default]
    Interpreter,
    /// The `traceback` module's functions.
    Module,
}

/// The whole report for an uncaught exception, as `printer` prints it.
pub fn format_exception(vm: &mut Vm, err: &PyErr, printer: Printer) -> String {
    let mut out = String::new();
    let mut ctx = GroupContext {
        printer,
        ..GroupContext::default()
    };
    format_chain(vm, &err.exc, &mut ctx, &mut out);
    out
}

/// CPython's limits on how much of an exception group is printed.
const MAX_GROUP_WIDTH: usize = 15;
const MAX_GROUP_DEPTH: usize = 10;

/// Where the printer is inside nested exception groups (CPython's
/// `_ExceptionPrintContext`): each level indents by two columns and draws
/// a margin.
#[derive(Default)]
struct GroupContext {
    depth: usize,
    need_close: bool,
    /// Exceptions already printed, so that cycles end.
    seen: HashSet<usize>,
    printer: Printer,
}

impl GroupContext {
    fn indent(&self) -> String {
        " ".repeat(2 * self.depth)
    }

    /// Append `text`, every line of it behind the indent and margin.
    fn emit(&self, text: &str, margin: char, out: &mut String) {
        let mut prefix = self.indent();
        if self.depth > 0 {
            prefix.push(margin);
            prefix.push(' ');
        }
        for line in text.split_inclusive('\n') {
            out.push_str(&prefix);
            out.push_str(line);
        }
    }
}

/// An exception with its causes and contexts, oldest first.
fn format_chain(vm: &mut Vm, exc: &Brc<Instance>, ctx: &mut GroupContext, out: &mut String) {
    // The chain, innermost (the exception itself) first, without cycles.
    let mut chain: Vec<(Brc<Instance>, &'static str)> = Vec::new();
    let mut cur = Some((exc.clone(), ""));
    while let Some((exc, link)) = cur.take() {
        if !ctx.seen.insert(Brc::as_ptr(&exc) as usize) {
            break;
        }
        if let InstanceBase::Exception(d) = &exc.base {
            let cause = d.cause.lock().clone();
            let context = d.context.lock().clone();
            let suppress = d
                .suppress_context
                .load(std::sync::atomic::Ordering::Relaxed);
            cur = match (cause, context) {
                (Some(Value::Instance(c)), _) => Some((
                    c,
                    "\nThe above exception was the direct cause of the following exception:\n\n",
                )),
                (_, Some(Value::Instance(c))) if !suppress => Some((
                    c,
                    "\nDuring handling of the above exception, another exception occurred:\n\n",
                )),
                _ => None,
            };
        }
        chain.push((exc, link));
    }
    for i in (0..chain.len()).rev() {
        match vm.group_members(&chain[i].0) {
            Some(members) => format_group(vm, &chain[i].0, &members, ctx, out),
            None => {
                let mut text = String::new();
                format_single(vm, &chain[i].0, ctx.printer, &mut text);
                ctx.emit(&text, '|', out);
            }
        }
        if i > 0 {
            ctx.emit(chain[i].1, '|', out);
        }
    }
}

/// An exception group: its own traceback and message, then each member in
/// a numbered box (CPython's `print_exception_group`).
fn format_group(
    vm: &mut Vm,
    exc: &Brc<Instance>,
    members: &[Brc<Instance>],
    ctx: &mut GroupContext,
    out: &mut String,
) {
    if ctx.depth > MAX_GROUP_DEPTH {
        ctx.emit(
            &format!("... (max_group_depth is {MAX_GROUP_DEPTH})\n"),
            '|',
            out,
        );
        return;
    }
    let toplevel = ctx.depth == 0;
    if toplevel {
        ctx.depth += 1;
    }
    fill_derived_attrs(exc);
    if let InstanceBase::Exception(d) = &exc.base {
        let tb: Vec<TraceEntry> = d.traceback.lock().iter().cloned().collect();
        if !tb.is_empty() {
            let margin = if toplevel { '+' } else { '|' };
            ctx.emit(
                "Exception Group Traceback (most recent call last):\n",
                margin,
                out,
            );
            let mut text = String::new();
            format_traceback(vm, &tb, ctx.printer, &mut text);
            ctx.emit(&text, '|', out);
        }
    }
    let only = format_exception_only(vm, exc);
    ctx.emit(&only, '|', out);
    let shown = members.len().min(MAX_GROUP_WIDTH + 1);
    ctx.need_close = false;
    for (i, member) in members.iter().take(shown).enumerate() {
        let last = i + 1 == shown;
        if last {
            ctx.need_close = true;
        }
        let truncated = i >= MAX_GROUP_WIDTH;
        let title = if truncated {
            "...".to_string()
        } else {
            (i + 1).to_string()
        };
        let corner = if i == 0 { "+-" } else { "  " };
        out.push_str(&format!(
            "{}{corner}+---------------- {title} ----------------\n",
            ctx.indent()
        ));
        ctx.depth += 1;
        if truncated {
            let more = members.len() - MAX_GROUP_WIDTH;
            let plural = if more > 1 { "s" } else { "" };
            ctx.emit(&format!("and {more} more exception{plural}\n"), '|', out);
        } else {
            format_chain(vm, member, ctx, out);
        }
        if last && ctx.need_close {
            out.push_str(&format!(
                "{}+------------------------------------\n",
                ctx.indent()
            ));
            ctx.need_close = false;
        }
        ctx.depth -= 1;
    }
    if toplevel {
        ctx.depth = 0;
    }
}

/// Print an uncaught exception to stderr (stdout is flushed first).
pub fn print_exception(vm: &mut Vm, err: &PyErr) {
    let text = format_exception(vm, err, Printer::Interpreter);
    vm.interp.write_stderr(&text);
}

/// The traceback lines (`  File ...` and source) of one exception.
pub fn format_traceback(vm: &Vm, entries: &[TraceEntry], printer: Printer, out: &mut String) {
    let skip = entries.len().saturating_sub(TRACEBACK_LIMIT);
    let mut last: Option<(&str, u32, &str)> = None;
    let mut count = 0usize;
    for e in &entries[skip..] {
        let key = (&*e.filename, e.line, &*e.name);
        if last != Some(key) {
            repeated(out, count);
            last = Some(key);
            count = 0;
        }
        count += 1;
        if count > RECURSIVE_CUTOFF {
            continue;
        }
        out.push_str(&format!(
            "  File \"{}\", line {}, in {}\n",
            e.filename, e.line, e.name
        ));
        // CPython reads lines back from the file, so `<string>` (`-c`) and
        // `<stdin>` programs show none.
        let pseudo = matches!(&*e.filename, "<string>" | "<stdin>");
        if let Some(src) = vm
            .interp
            .source_line(&e.filename, e.line)
            .filter(|_| !pseudo)
        {
            let stripped = src.trim_start_matches([' ', '\t', '\x0c']);
            if !stripped.trim().is_empty() {
                out.push_str("    ");
                out.push_str(stripped);
                out.push('\n');
                if let Some((start, end, multiline)) = entry_columns(vm, e) {
                    let fold = printer == Printer::Interpreter;
                    if let Some(carets) = caret_line(&src, start, end, multiline, fold) {
                        out.push_str(&carets);
                    }
                }
            }
        }
    }
    repeated(out, count);
}

/// The character columns (start, end) on the entry's line of the failing
/// expression, and whether it continues on later lines.
fn entry_columns(vm: &Vm, e: &TraceEntry) -> Option<(usize, usize, bool)> {
    let (start, end) = (e.span.start as usize, e.span.end as usize);
    // Instructions the compiler made up have no source of their own.
    if end <= start {
        return None;
    }
    let text = vm.interp.source(&e.filename)?;
    let line_start: usize = text
        .split_inclusive('\n')
        .take(e.line.checked_sub(1)? as usize)
        .map(str::len)
        .sum();
    let rest = text.get(line_start..)?;
    let line = rest.split('\n').next().unwrap_or("");
    let line = line.strip_suffix('\r').unwrap_or(line);
    let col = |byte: usize| line.get(..byte).map(|s| s.chars().count());
    let from = col(start.checked_sub(line_start)?)?;
    match end - line_start {
        to if to <= line.len() => Some((from, col(to)?, false)),
        _ => Some((from, line.chars().count(), true)),
    }
}

/// CPython 3.11's caret line under a traceback's source line: `^` under
/// the failing expression, or `~` for the operands and `^` for the
/// operator of a binary operation (`~^^^^` for a subscript). None when the
/// expression is the whole line. `fold`: constant-fold the expression
/// first, as the interpreter's printer does.
pub fn caret_line(
    line: &str,
    start: usize,
    end: usize,
    multiline: bool,
    fold: bool,
) -> Option<String> {
    let chars: Vec<char> = line.chars().collect();
    let indent = chars
        .iter()
        .take_while(|c| matches!(c, ' ' | '\t' | '\x0c'))
        .count();
    let start = start.min(chars.len());
    let mut end = end.min(chars.len()).max(start);
    let mut anchors: Option<(usize, usize)> = None;
    if multiline {
        end = chars
            .iter()
            .rposition(|c| !c.is_whitespace())
            .map(|i| i + 1)
            .unwrap_or(end);
    } else {
        let segment: String = chars[start..end].iter().collect();
        anchors = binary_anchors(&segment, fold).map(|(l, r)| (l + start, r + start));
    }
    let stripped_len = chars.len() - indent;
    if end - start == stripped_len && anchors.is_none() {
        return None;
    }
    if end <= start || start < indent {
        return None;
    }
    // Columns are display columns: a wide character takes two.
    let width = |cs: &[char]| cs.iter().map(|&c| char_width(c)).sum::<usize>();
    let mut out = String::from("    ");
    out.push_str(&" ".repeat(width(&chars[indent..start])));
    for (i, &ch) in chars.iter().enumerate().take(end).skip(start) {
        let c = match anchors {
            Some((l, r)) if i >= l && i < r => '^',
            Some(_) => '~',
            None => '^',
        };
        out.extend(std::iter::repeat_n(c, char_width(ch)));
    }
    out.push('\n');
    Some(out)
}

/// For a segment that parses as a binary operation or a subscript, the
/// character range of the operator (or of `[index]`).
fn binary_anchors(segment: &str, fold: bool) -> Option<(usize, usize)> {
    use crate::syntax::ast::{ExprKind, StmtKind};
    let module = crate::syntax::parse_module(segment).ok()?;
    let [stmt] = module.body.as_slice() else {
        return None;
    };
    let StmtKind::Expr(expr) = &stmt.kind else {
        return None;
    };
    // Spans are byte offsets; anchors are counted in characters.
    let col = |byte: u32| {
        segment[..(byte as usize).min(segment.len())]
            .chars()
            .count()
    };
    let chars: Vec<char> = segment.chars().collect();
    match &expr.kind {
        ExprKind::BinOp { left, right, .. } => {
            let (from, to) = (col(left.span.end), col(right.span.start));
            let mut i = from;
            while i < to {
                if chars[i].is_whitespace() {
                    i += 1;
                    continue;
                }
                let mut r = i + 1;
                if i + 1 < to && !chars[i + 1].is_whitespace() {
                    r += 1;
                }
                if i + 1 < to && chars[i] == ')' {
                    i += 1;
                    continue;
                }
                return Some((i, r));
            }
            None
        }
        // The interpreter's printer runs CPython's AST optimizer over the
        // segment first, and a constant subscript that folds has no anchors
        // left (the segment parses in load context, so `"abc"[1] = x`
        // folds too).
        ExprKind::Subscript { value, index } if fold && constant_subscript_folds(value, index) => {
            None
        }
        ExprKind::Subscript { value, index } => {
            let mut l = col(value.span.end);
            let mut r = col(index.span.end) + 1;
            while l < chars.len() && chars[l] != '[' {
                l += 1;
            }
            while r < chars.len() && chars[r] != ']' {
                r += 1;
            }
            if r < chars.len() {
                r += 1;
            }
            Some((l, r))
        }
        _ => None,
    }
}

/// Whether CPython's constant folding turns `value[index]` into a constant:
/// a str, bytes or constant tuple indexed in range by an int literal.
fn constant_subscript_folds(
    value: &crate::syntax::ast::Expr,
    index: &crate::syntax::ast::Expr,
) -> bool {
    use crate::syntax::ast::{Constant, Expr, ExprKind, UnaryOp};
    fn is_constant(e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Constant(_) => true,
            ExprKind::Tuple(items) => items.iter().all(is_constant),
            ExprKind::UnaryOp {
                op: UnaryOp::Neg | UnaryOp::Pos | UnaryOp::Invert,
                operand,
            } => {
                matches!(
                    operand.kind,
                    ExprKind::Constant(Constant::Int(_) | Constant::Float(_))
                )
            }
            _ => false,
        }
    }
    let len = match &value.kind {
        ExprKind::Constant(Constant::Str(s)) => s.chars().count(),
        ExprKind::Constant(Constant::Bytes(b)) => b.len(),
        ExprKind::Tuple(items) if items.iter().all(is_constant) => items.len(),
        _ => return false,
    };
    let i = match &index.kind {
        ExprKind::Constant(Constant::Int(i)) => *i,
        ExprKind::Constant(Constant::True) => 1,
        ExprKind::Constant(Constant::False) => 0,
        ExprKind::UnaryOp {
            op: UnaryOp::Neg,
            operand,
        } => match operand.kind {
            ExprKind::Constant(Constant::Int(i)) => i.wrapping_neg(),
            _ => return false,
        },
        _ => return false,
    };
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    (-len..len).contains(&i)
}

fn repeated(out: &mut String, count: usize) {
    if count > RECURSIVE_CUTOFF {
        let n = count - RECURSIVE_CUTOFF;
        out.push_str(&format!(
            "  [Previous line repeated {n} more time{}]\n",
            if n > 1 { "s" } else { "" }
        ));
    }
}

/// `module.QualName` as the last line shows it (no module for `__main__` and builtins).
pub fn exception_type_name(exc: &Instance) -> String {
    let c = &exc.class;
    match crate::vm::ops::class_module(c) {
        Some(m) if m == "__main__" || m == "builtins" => c.qualname.to_string(),
        Some(m) => format!("{m}.{}", c.qualname),
        None => format!("<unknown>.{}", c.qualname),
    }
}

/// One exception with its own traceback, no chain: what CPython's
/// unraisable hook prints (e.g. for an error while finalizing a generator).
/// That hook offers no "Did you mean" suggestion.
pub fn format_unraisable(vm: &mut Vm, err: &PyErr) -> String {
    let mut out = String::new();
    format_traceback_part(vm, &err.exc, Printer::Interpreter, &mut out);
    out.push_str(&exception_only(vm, &err.exc, false));
    out
}

fn format_single(vm: &mut Vm, exc: &Brc<Instance>, printer: Printer, out: &mut String) {
    format_traceback_part(vm, exc, printer, out);
    out.push_str(&format_exception_only(vm, exc));
}

/// `Traceback (most recent call last):` and the entries, if any.
fn format_traceback_part(vm: &mut Vm, exc: &Brc<Instance>, printer: Printer, out: &mut String) {
    fill_derived_attrs(exc);
    if let InstanceBase::Exception(d) = &exc.base {
        let tb: Vec<TraceEntry> = d.traceback.lock().iter().cloned().collect();
        if !tb.is_empty() {
            out.push_str("Traceback (most recent call last):\n");
            format_traceback(vm, &tb, printer, out);
        }
    }
}

/// The final part: `Type: message` (or the SyntaxError block), plus any
/// suggestion and notes.
pub fn format_exception_only(vm: &mut Vm, exc: &Brc<Instance>) -> String {
    exception_only(vm, exc, true)
}

fn exception_only(vm: &mut Vm, exc: &Brc<Instance>, suggest: bool) -> String {
    fill_derived_attrs(exc);
    let mut out = String::new();
    let stype = exception_type_name(exc);
    let is_syntax =
        crate::vm::class::is_subclass(&exc.class, types().exception(ExcKind::SyntaxError));
    if is_syntax {
        let attr = |n: &str| exc.attrs.lock().get(n).cloned().unwrap_or(Value::None);
        let filename = attr("filename");
        let filename = filename.as_str().unwrap_or("<string>").to_string();
        if let Value::Int(lineno) = attr("lineno") {
            out.push_str(&format!("  File \"{filename}\", line {lineno}\n"));
            if let Value::Str(text) = attr("text") {
                let int = |n: &str| match attr(n) {
                    Value::Int(n) => n,
                    _ => -1,
                };
                let exact = Arc::ptr_eq(&exc.class, types().exception(ExcKind::SyntaxError));
                let pos = [lineno, int("offset"), int("end_lineno"), int("end_offset")];
                error_text(&mut out, text.as_str(), pos, exact);
            }
        }
        let msg = attr("msg");
        let msg = match &msg {
            Value::None => String::new(),
            m => vm.to_str(m).unwrap_or_default(),
        };
        if msg.is_empty() {
            out.push_str(&format!("{stype}\n"));
        } else {
            out.push_str(&format!("{stype}: {msg}\n"));
        }
        return out;
    }
    let msg = match exc_str(vm, exc) {
        Ok(m) => m,
        Err(_) => "<exception str() failed>".to_string(),
    };
    let mut line = if msg.is_empty() {
        stype
    } else {
        format!("{stype}: {msg}")
    };
    if let Some(s) = suggest.then(|| suggestion_for(vm, exc)).flatten() {
        line.push_str(&format!(". Did you mean: '{s}'?"));
    }
    out.push_str(&line);
    out.push('\n');
    let notes = exc.attrs.lock().get("__notes__").cloned();
    if let Some(Value::List(l)) = notes {
        let items = l.items.lock().clone();
        for n in items {
            let s = match &n {
                Value::Str(s) => s.as_str().to_string(),
                other => vm.to_str(other).unwrap_or_default(),
            };
            out.push_str(&s);
            out.push('\n');
        }
    }
    out
}

/// `str(exc)` through the class's `__str__` (a user override included).
fn exc_str(vm: &mut Vm, exc: &Brc<Instance>) -> Result<String, PyErr> {
    let user = crate::vm::class::lookup_owner(&exc.class, "__str__");
    match user {
        Some((owner, f)) if !Arc::ptr_eq(&owner, types().exception(ExcKind::BaseException)) => {
            let r = vm.call(&f, &[Value::Instance(exc.clone())], &[])?;
            match r {
                Value::Str(s) => Ok(s.as_str().to_string()),
                _ => Err(PyErr::type_error("__str__ returned non-string")),
            }
        }
        _ => exc_str_value(vm, exc),
    }
}

/// The source line of a SyntaxError with its caret(s), as CPython 3.11's
/// `print_exception`/`print_error_text` do it: on the line's UTF-8 bytes,
/// so a column past a non-ASCII character lands further right, as there.
/// Only an exact SyntaxError contributes its end position (IndentationError
/// and TabError get one caret).
fn error_text(out: &mut String, text: &str, pos: [i64; 4], exact: bool) {
    let [lineno, mut offset, end_lineno, end_offset] = pos;
    let line_size = text.len() as i64;
    let mut end_offset = if exact { end_offset } else { -1 };
    if exact && end_lineno > lineno {
        end_offset = line_size;
    }
    if end_offset > line_size + 1 {
        end_offset = line_size + 1;
    }
    let reps = if end_offset > 0 && end_offset > offset {
        end_offset - offset
    } else {
        1
    };
    // 1-based column to 0-based, then strip the indentation.
    offset -= 1;
    let indent = text
        .bytes()
        .take_while(|c| matches!(c, b' ' | b'\t' | b'\x0c'))
        .count();
    let mut line = &text.as_bytes()[indent..];
    offset -= indent as i64;
    let mut len = line.len() as i64;
    if line.last() == Some(&b'\n') {
        len -= 1;
    }
    if offset > len {
        offset = len;
    }
    // Skip lines before the one holding the offset.
    while let Some(nl) = line.iter().position(|&c| c == b'\n') {
        if nl as i64 >= offset {
            break;
        }
        line = &line[nl + 1..];
        offset -= nl as i64 + 1;
    }
    let line = String::from_utf8_lossy(line);
    out.push_str("    ");
    out.push_str(&line);
    if !line.ends_with('\n') {
        out.push('\n');
    }
    if offset < 0 {
        return;
    }
    out.push_str("    ");
    out.push_str(&" ".repeat(offset as usize));
    out.push_str(&"^".repeat(reps.max(1) as usize));
    out.push('\n');
}

// ---- "Did you mean" suggestions (CPython's Python/suggestions.c) ----

const MAX_CANDIDATE_ITEMS: usize = 750;
const MAX_STRING_SIZE: usize = 40;
const MOVE_COST: usize = 2;
const CASE_COST: usize = 1;

fn substitution_cost(a: u8, b: u8) -> usize {
    if (a & 31) != (b & 31) {
        return MOVE_COST;
    }
    if a == b {
        return 0;
    }
    if a.eq_ignore_ascii_case(&b) {
        CASE_COST
    } else {
        MOVE_COST
    }
}

fn levenshtein(a: &[u8], b: &[u8], max_cost: usize) -> usize {
    let (mut a, mut b) = (a, b);
    while let (Some(x), Some(y)) = (a.first(), b.first()) {
        if x != y {
            break;
        }
        a = &a[1..];
        b = &b[1..];
    }
    while let (Some(x), Some(y)) = (a.last(), b.last()) {
        if x != y {
            break;
        }
        a = &a[..a.len() - 1];
        b = &b[..b.len() - 1];
    }
    if a.is_empty() || b.is_empty() {
        return (a.len() + b.len()) * MOVE_COST;
    }
    if a.len() > MAX_STRING_SIZE || b.len() > MAX_STRING_SIZE {
        return max_cost + 1;
    }
    if b.len() < a.len() {
        std::mem::swap(&mut a, &mut b);
    }
    if (b.len() - a.len()) * MOVE_COST > max_cost {
        return max_cost + 1;
    }
    let mut buffer: Vec<usize> = (1..=a.len()).map(|i| i * MOVE_COST).collect();
    let mut result = 0;
    for (bi, &code) in b.iter().enumerate() {
        let mut distance = bi * MOVE_COST;
        result = distance;
        let mut minimum = usize::MAX;
        for (ai, &ac) in a.iter().enumerate() {
            let substitute = distance + substitution_cost(code, ac);
            distance = buffer[ai];
            let insert_delete = result.min(distance) + MOVE_COST;
            result = insert_delete.min(substitute);
            buffer[ai] = result;
            minimum = minimum.min(result);
        }
        if minimum > max_cost {
            return max_cost + 1;
        }
    }
    result
}

/// The closest candidate to `name`, if close enough (CPython's rules).
pub fn suggest(name: &str, candidates: &[Arc<str>]) -> Option<String> {
    if candidates.len() >= MAX_CANDIDATE_ITEMS {
        return None;
    }
    let mut best: Option<&str> = None;
    let mut best_distance = usize::MAX;
    for item in candidates {
        // `$`-names are the compiler's own (`$match_class`, a match
        // statement's subject): never what a script meant.
        if &**item == name || item.starts_with('$') {
            continue;
        }
        let max_distance = (name.len() + item.len() + 3) * MOVE_COST / 6;
        let max_distance = max_distance.min(best_distance.saturating_sub(1));
        let d = levenshtein(name.as_bytes(), item.as_bytes(), max_distance);
        if d > max_distance {
            continue;
        }
        if best.is_none() || d < best_distance {
            best = Some(item);
            best_distance = d;
        }
    }
    best.map(str::to_string)
}

/// NameError: the remembered suggestion; AttributeError: the closest name
/// in `dir(obj)` (from the exception's `name` and `obj`).
fn suggestion_for(_vm: &mut Vm, exc: &Brc<Instance>) -> Option<String> {
    let t = types();
    if crate::vm::class::is_subclass(&exc.class, t.exception(ExcKind::NameError)) {
        return match &exc.base {
            InstanceBase::Exception(data) => data.suggestion.lock().clone(),
            _ => None,
        };
    }
    if crate::vm::class::is_subclass(&exc.class, t.exception(ExcKind::AttributeError)) {
        let (name, obj) = {
            let attrs = exc.attrs.lock();
            (attrs.get("name").cloned(), attrs.get("obj").cloned())
        };
        let (Some(Value::Str(name)), Some(obj)) = (name, obj) else {
            return None;
        };
        let mut candidates: Vec<Arc<str>> = dir_names(&obj);
        candidates.sort();
        candidates.dedup();
        return suggest(name.as_str(), &candidates);
    }
    None
}

/// The names `dir(obj)` would list, unsorted.
fn dir_names(obj: &Value) -> Vec<Arc<str>> {
    let mut names: Vec<Arc<str>> = Vec::new();
    let add_class = |names: &mut Vec<Arc<str>>, c: &Arc<crate::vm::value::Class>| {
        for k in c.attrs.lock().keys() {
            names.push(k.clone());
        }
        for b in &c.mro {
            for k in b.attrs.lock().keys() {
                names.push(k.clone());
            }
        }
    };
    match obj {
        Value::Instance(i) => {
            for k in i.attrs.lock().keys() {
                names.push(k.clone());
            }
            add_class(&mut names, &i.class);
        }
        Value::Module(m) => {
            for k in m.dict.keys() {
                if let Value::Str(s) = k {
                    names.push(s.as_str().into());
                }
            }
        }
        Value::Class(c) => add_class(&mut names, c),
        other => add_class(&mut names, types().class_of(other)),
    }
    names
}

/// What the top level does with an exception that ended the program:
/// `SystemExit` gives its exit status (printing a non-integer code), any
/// other exception is printed; returns the process exit status.
pub fn report_uncaught(vm: &mut Vm, err: &PyErr) -> i32 {
    if err.matches(ExcKind::SystemExit) {
        fill_derived_attrs(&err.exc);
        let code = err
            .exc
            .attrs
            .lock()
            .get("code")
            .cloned()
            .unwrap_or(Value::None);
        return match code {
            Value::None => 0,
            Value::Bool(b) => b as i32,
            Value::Int(n) => n as i32,
            other => {
                let text = vm.to_str(&other).unwrap_or_default();
                vm.interp.write_stderr(&format!("{text}\n"));
                1
            }
        };
    }
    match user_excepthook(vm) {
        Some(hook) => {
            let data = err.data().filter(|d| !d.traceback.lock().is_empty());
            let tb = match data {
                Some(d) => crate::stdlib::traceback::traceback_object(d),
                None => Value::None,
            };
            let args = [
                Value::Class(err.exc.class.clone()),
                Value::Instance(err.exc.clone()),
                tb,
            ];
            if let Err(hook_err) = vm.call(&hook, &args, &[]) {
                vm.interp.write_stderr("Error in sys.excepthook:\n");
                print_exception(vm, &hook_err);
                vm.interp.write_stderr("\nOriginal exception was:\n");
                print_exception(vm, err);
            }
        }
        None => print_exception(vm, err),
    }
    if err.matches(ExcKind::KeyboardInterrupt) {
        130
    } else {
        1
    }
}

/// `sys.excepthook` when a program replaced it (not `sys.__excepthook__`).
fn user_excepthook(vm: &Vm) -> Option<Value> {
    let Some(Value::Module(sys)) = vm.interp.module("sys") else {
        return None;
    };
    let hook = sys.dict.get("excepthook")?;
    match sys.dict.get("__excepthook__") {
        Some(orig) if orig.is(&hook) => None,
        _ => Some(hook),
    }
}
