//! F-strings: split the literal's body into text and replacement fields,
//! parsing each field's expression with the grammar (offsets stay those of
//! the whole source, so errors and spans point into the file). Follows
//! CPython 3.11's `fstring_find_expr`, including its error messages.

use std::rc::Rc;

use crate::syntax::actions::{push_part, user, PResult, ParseCtx};
use crate::syntax::ast::{Expr, FStringPart, Span};
use crate::syntax::lexer::StrTok;
use crate::syntax::parser::parse_fstring_expr;
use crate::syntax::strings::decode_str;

/// Format specs may nest replacement fields two levels deep.
const MAX_FSTRING_NESTING: u32 = 2;

struct FParser<'c> {
    ctx: &'c ParseCtx,
    pos: usize,
    end: usize,
    raw: bool,
    /// Where CPython reports f-string errors: the token after the literal.
    report_at: usize,
}

/// Split one f-string token; `group_end` is the end of the run of adjacent
/// string literals it belongs to.
pub fn parse(ctx: &ParseCtx, tok: &StrTok, group_end: usize) -> PResult<Vec<FStringPart>> {
    let mut p = FParser {
        ctx,
        pos: tok.body_start,
        end: tok.body_end,
        raw: tok.raw,
        report_at: next_token_start(&ctx.src, group_end),
    };
    p.parts(0, false)
}

/// The start of the next token after `from` (skipping blanks, a comment
/// and backslash continuations).
fn next_token_start(src: &str, from: usize) -> usize {
    let b = src.as_bytes();
    let mut i = from.min(b.len());
    loop {
        match b.get(i) {
            Some(b' ' | b'\t' | b'\x0c') => i += 1,
            Some(b'\\') if matches!(b.get(i + 1), Some(b'\n' | b'\r')) => {
                i += 2;
                if b.get(i - 1) == Some(&b'\r') && b.get(i) == Some(&b'\n') {
                    i += 1;
                }
            }
            Some(b'#') => {
                while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
                return i;
            }
            _ => return i,
        }
    }
}

impl FParser<'_> {
    fn byte(&self, at: usize) -> Option<u8> {
        if at < self.end {
            self.ctx.src.as_bytes().get(at).copied()
        } else {
            None
        }
    }

    fn err(&self, msg: &str) -> crate::syntax::actions::PErr {
        user(msg, Span::new(self.report_at, self.report_at))
    }

    fn literal(&self, from: usize, to: usize, out: &mut Vec<FStringPart>) -> PResult<()> {
        if from >= to {
            return Ok(());
        }
        let text = &self.ctx.src[from..to];
        let decoded = if self.raw {
            text.replace("\r\n", "\n")
        } else {
            decode_str(text, false, from)
                .map_err(|error| lalrpop_util::ParseError::User { error })?
        };
        push_part(out, FStringPart::Literal(Rc::from(decoded)));
        Ok(())
    }

    /// Text and fields up to the end of the body, or (in a format spec) up
    /// to the `}` closing the enclosing field.
    fn parts(&mut self, level: u32, in_spec: bool) -> PResult<Vec<FStringPart>> {
        let mut out = Vec::new();
        let mut lit_start = self.pos;
        // Literal text is collected raw and decoded per chunk; doubled braces
        // split chunks.
        while let Some(c) = self.byte(self.pos) {
            match c {
                b'\\' if !self.raw => {
                    // `\N{...}` contains braces that are not fields.
                    if self.byte(self.pos + 1) == Some(b'N')
                        && self.byte(self.pos + 2) == Some(b'{')
                    {
                        let rest = &self.ctx.src[self.pos..self.end];
                        self.pos += rest.find('}').map_or(rest.len(), |i| i + 1);
                    } else {
                        self.pos += 2;
                    }
                }
                b'{' => {
                    if !in_spec && self.byte(self.pos + 1) == Some(b'{') {
                        self.literal(lit_start, self.pos + 1, &mut out)?;
                        self.pos += 2;
                        lit_start = self.pos;
                        continue;
                    }
                    self.literal(lit_start, self.pos, &mut out)?;
                    if level >= MAX_FSTRING_NESTING {
                        return Err(self.err("f-string: expressions nested too deeply"));
                    }
                    let field = self.field(level)?;
                    out.extend(field);
                    lit_start = self.pos;
                }
                b'}' => {
                    if in_spec {
                        break;
                    }
                    if self.byte(self.pos + 1) == Some(b'}') {
                        self.literal(lit_start, self.pos + 1, &mut out)?;
                        self.pos += 2;
                        lit_start = self.pos;
                        continue;
                    }
                    return Err(self.err("f-string: single '}' is not allowed"));
                }
                _ => self.pos += 1,
            }
        }
        let stop = self.pos.min(self.end);
        self.literal(lit_start, stop, &mut out)?;
        Ok(out)
    }

    /// One replacement field; `self.pos` is at its `{`.
    fn field(&mut self, level: u32) -> PResult<Vec<FStringPart>> {
        let open = self.pos;
        self.pos += 1;
        let expr_start = self.pos;
        let mut brackets: Vec<u8> = Vec::new();
        let mut quote: Option<(u8, bool)> = None;
        let stop = loop {
            let Some(c) = self.byte(self.pos) else {
                // CPython's order at the end of the literal.
                if quote.is_some() {
                    return Err(self.err("f-string: unterminated string"));
                }
                if let Some(&open_b) = brackets.last() {
                    return Err(self.err(&format!("f-string: unmatched '{}'", open_b as char)));
                }
                return Err(self.err("f-string: expecting '}'"));
            };
            if c == b'\\' {
                return Err(self.err("f-string expression part cannot include a backslash"));
            }
            if let Some((q, triple)) = quote {
                if c == q {
                    if !triple {
                        quote = None;
                    } else if self.byte(self.pos + 1) == Some(q)
                        && self.byte(self.pos + 2) == Some(q)
                    {
                        quote = None;
                        self.pos += 2;
                    }
                }
                self.pos += 1;
                continue;
            }
            match c {
                b'\'' | b'"' => {
                    let triple =
                        self.byte(self.pos + 1) == Some(c) && self.byte(self.pos + 2) == Some(c);
                    quote = Some((c, triple));
                    self.pos += if triple { 3 } else { 1 };
                    continue;
                }
                b'[' | b'(' | b'{' => {
                    brackets.push(c);
                }
                b']' | b')' | b'}' => {
                    let Some(open_b) = brackets.pop() else {
                        if c == b'}' {
                            break c;
                        }
                        return Err(self.err(&format!("f-string: unmatched '{}'", c as char)));
                    };
                    let want = match open_b {
                        b'[' => b']',
                        b'(' => b')',
                        _ => b'}',
                    };
                    if c != want {
                        return Err(self.err(
                            &format!(
                                "f-string: closing parenthesis '{}' does not match opening parenthesis '{}'",
                                c as char, open_b as char
                            ),
                        ));
                    }
                }
                b'#' => {
                    return Err(self.err("f-string expression part cannot include '#'"));
                }
                b'!' | b':' | b'=' | b'<' | b'>' if brackets.is_empty() => {
                    let next = self.byte(self.pos + 1);
                    if next == Some(b'=') && c != b':' {
                        self.pos += 2;
                        continue;
                    }
                    if c == b'<' || c == b'>' {
                        self.pos += 1;
                        continue;
                    }
                    break c;
                }
                _ => {}
            }
            self.pos += 1;
        };
        if quote.is_some() {
            return Err(self.err("f-string: unterminated string"));
        }
        let expr_end = self.pos;
        let text = &self.ctx.src[expr_start..expr_end];
        if text.trim().is_empty() {
            if matches!(stop, b'=' | b'!' | b':') {
                return Err(self.err(&format!(
                    "f-string: expression required before '{}'",
                    stop as char
                )));
            }
            return Err(self.err("f-string: empty expression not allowed"));
        }
        let expr: Expr = parse_fstring_expr(self.ctx, expr_start, expr_end)?;
        let mut out = Vec::new();
        let mut stop = stop;
        let mut debug = false;
        if stop == b'=' {
            self.pos += 1;
            while matches!(self.byte(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                self.pos += 1;
            }
            out.push(FStringPart::Literal(Rc::from(
                &self.ctx.src[expr_start..self.pos],
            )));
            debug = true;
            stop = self.byte(self.pos).unwrap_or(0);
        }
        let mut conversion = None;
        if stop == b'!' {
            let c = self.byte(self.pos + 1);
            match c {
                Some(b's' | b'r' | b'a') => conversion = c.map(|c| c as char),
                _ => {
                    return Err(self
                        .err("f-string: invalid conversion character: expected 's', 'r', or 'a'"))
                }
            }
            self.pos += 2;
            stop = self.byte(self.pos).unwrap_or(0);
            if stop != b':' && stop != b'}' {
                return Err(self.err("f-string: expecting '}'"));
            }
        }
        let mut spec = None;
        if stop == b':' {
            self.pos += 1;
            spec = Some(self.parts(level + 1, true)?);
            stop = self.byte(self.pos).unwrap_or(0);
        }
        if stop != b'}' {
            return Err(self.err("f-string: expecting '}'"));
        }
        self.pos += 1;
        if debug && conversion.is_none() && spec.is_none() {
            conversion = Some('r');
        }
        out.push(FStringPart::Value {
            expr: Box::new(expr),
            conversion,
            spec,
            span: Span::new(open, self.pos),
        });
        Ok(out)
    }
}
