//! `_re`: the matching engine under the in-language `re` module.
//!
//! Patterns are translated from Python's syntax to the `regex` crate's and
//! compiled twice: once as written (search, match) and once anchored at the
//! end (fullmatch, which must find the alternative that spans the whole
//! string, not the first one that matches). `scan` reports matches as flat
//! tuples of character offsets, so `re.py` never sees byte offsets.
//!
//! The engine is `fancy-regex`: backreferences, look-around, atomic groups
//! and possessive repeats run on its backtracking VM, everything else on
//! the `regex` crate it delegates to. Backtracking is bounded, so a
//! pathological pattern raises `re.error` instead of running for ever.

use crate::vm::brc::Brc;
use std::sync::{Arc, OnceLock};

use fancy_regex::{Regex, RegexBuilder, RegexInput};

use crate::stdlib::{add_functions, check_args, downcast, native_object, new_module, NativeClass};
use crate::vm::error::{PyErr, PyResult};
use crate::vm::interp::Vm;
use crate::vm::value::{Kwargs, Module, PyDict, Value};

// Python's flag bits (re.IGNORECASE, ...).
const IGNORECASE: i64 = 2;
const MULTILINE: i64 = 8;
const DOTALL: i64 = 16;
const VERBOSE: i64 = 64;
const ASCII: i64 = 256;

/// Upper bound on a compiled program's size: a pathological pattern fails
/// to compile instead of exhausting memory.
const SIZE_LIMIT: usize = 32 << 20;

/// Backtracking steps one match attempt may take before giving up.
const BACKTRACK_LIMIT: usize = 10_000_000;

struct Compiled {
    search: Regex,
    full: Regex,
    /// The pattern, anchored, rejecting empty matches: after an empty match
    /// Python retries the same place for a non-empty one. Built on first
    /// use (None: the pattern can only match empty).
    nonempty: OnceLock<Option<Regex>>,
    body: String,
    flags: i64,
    /// Python's `$` also matches before a newline that ends the string;
    /// the crate's only at the end. Patterns with a `$` (outside
    /// MULTILINE mode) are therefore also tried with that newline cut off.
    dollar_before_newline: bool,
}

fn compiled_class() -> &'static NativeClass {
    static CLASS: OnceLock<NativeClass> = OnceLock::new();
    CLASS.get_or_init(|| NativeClass::new("Compiled", "_re", &[], &[]))
}

pub fn make(_vm: &mut Vm) -> PyResult<Arc<Module>> {
    let m = new_module("_re");
    add_functions(&m, &[("compile", compile), ("scan", scan), ("info", info)]);
    Ok(m)
}

fn str_arg<'a>(args: &'a [Value], i: usize, what: &str) -> PyResult<&'a str> {
    args.get(i)
        .and_then(Value::as_str)
        .ok_or_else(|| PyErr::type_error(format!("{what} must be a string")))
}

fn int_arg(args: &[Value], i: usize) -> PyResult<i64> {
    match args.get(i) {
        Some(Value::Int(n)) => Ok(*n),
        Some(Value::Bool(b)) => Ok(*b as i64),
        _ => Err(PyErr::type_error("an integer is required")),
    }
}

fn this(args: &[Value]) -> PyResult<&Compiled> {
    args.first()
        .and_then(downcast::<Compiled>)
        .ok_or_else(|| PyErr::type_error("expected a compiled pattern"))
}

/// `compile(pattern, flags)`: the engine's compiled form, or ValueError
/// with the reason it cannot be compiled.
fn compile(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("compile", args, 2, 2)?;
    let pattern = str_arg(args, 0, "pattern")?;
    let flags = int_arg(args, 1)?;
    let (body, dollar) = translate(pattern, flags & ASCII != 0)?;
    let dollar_before_newline = dollar && flags & MULTILINE == 0;
    let build = |src: &str| build(src, flags, false).map_err(|e| compile_error(src, flags, &e));
    let search = build(&body)?;
    // In verbose mode a newline ends a trailing comment before the closing
    // group (elsewhere a newline would be a literal).
    let verbose = flags & VERBOSE != 0 || leading_flags(pattern).contains('x');
    let end = if verbose { "\n" } else { "" };
    let full = build(&format!("(?:{body}{end})\\z"))?;
    Ok(native_object(
        &compiled_class().class,
        Compiled {
            search,
            full,
            nonempty: OnceLock::new(),
            body,
            flags,
            dollar_before_newline,
        },
    ))
}

fn build(src: &str, flags: i64, nonempty: bool) -> Result<Regex, fancy_regex::Error> {
    RegexBuilder::new(src)
        .case_insensitive(flags & IGNORECASE != 0)
        .multi_line(flags & MULTILINE != 0)
        .dot_matches_new_line(flags & DOTALL != 0)
        .ignore_whitespace(flags & VERBOSE != 0)
        .delegate_size_limit(SIZE_LIMIT)
        .backtrack_limit(BACKTRACK_LIMIT)
        .find_not_empty(nonempty)
        .build()
}

/// The message for a pattern the engine rejects. Where the `regex` crate
/// rejects it too, its wording (which names the problem the way Python's
/// does more often); otherwise the engine's own.
fn compile_error(src: &str, flags: i64, e: &fancy_regex::Error) -> PyErr {
    use fancy_regex::{CompileError, Error};
    let plain = regex::RegexBuilder::new(src)
        .case_insensitive(flags & IGNORECASE != 0)
        .multi_line(flags & MULTILINE != 0)
        .dot_matches_new_line(flags & DOTALL != 0)
        .ignore_whitespace(flags & VERBOSE != 0)
        .size_limit(SIZE_LIMIT)
        .build();
    let text = match (e, plain) {
        (Error::CompileError(c), _)
            if matches!(
                **c,
                CompileError::LookBehindNotConst | CompileError::VariableLookBehindRequiresFeature
            ) =>
        {
            "look-behind requires fixed-width pattern".to_string()
        }
        (Error::CompileError(c), _) if matches!(**c, CompileError::InvalidBackref(_)) => {
            "invalid group reference".to_string()
        }
        (_, Err(plain)) => regex_error_text(&plain),
        (e, Ok(_)) => e.to_string(),
    };
    PyErr::value_error(text)
}

/// A match-time failure (the backtracking limit) as `re.error` sees it.
fn runtime_error(e: fancy_regex::Error) -> PyErr {
    match e {
        fancy_regex::Error::RuntimeError(_) => {
            PyErr::value_error("pattern too complex: backtracking limit exceeded")
        }
        e => PyErr::value_error(e.to_string()),
    }
}

/// Group spans (byte offsets) of the first match at or after `at`, or
/// exactly at `at` when `anchored`.
type Spans = Vec<Option<(usize, usize)>>;

fn find(re: &Regex, hay: &str, at: usize, anchored: bool) -> PyResult<Option<Spans>> {
    let input = RegexInput::new(hay).from_pos(at).anchored(anchored);
    let caps = re.captures_input(input).map_err(runtime_error)?;
    Ok(caps.map(|caps| {
        (0..caps.len())
            .map(|g| caps.get(g).map(|m| (m.start(), m.end())))
            .collect()
    }))
}

/// The letters of a global inline flag group at the start, `(?ix)`.
fn leading_flags(pattern: &str) -> &str {
    pattern
        .strip_prefix("(?")
        .and_then(|rest| rest.split([')', ':']).next())
        .filter(|letters| letters.chars().all(|c| c.is_ascii_alphabetic()))
        .unwrap_or("")
}

/// The last line of the crate's report (the line naming the problem).
fn regex_error_text(e: &regex::Error) -> String {
    match e {
        regex::Error::Syntax(s) => s
            .lines()
            .rev()
            .find(|l| l.starts_with("error:"))
            .map(|l| l.trim_start_matches("error:").trim().to_string())
            .unwrap_or_else(|| s.clone()),
        regex::Error::CompiledTooBig(_) => "pattern too large".to_string(),
        _ => e.to_string(),
    }
}

/// `info(compiled)`: `(groups, {name: index})`.
fn info(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("info", args, 1, 1)?;
    let c = this(args)?;
    let names = PyDict::new();
    for (i, name) in c.search.capture_names().enumerate() {
        if let Some(name) = name {
            names.set(name, Value::Int(i as i64));
        }
    }
    Ok(Value::tuple(vec![
        Value::Int(c.search.captures_len() as i64 - 1),
        Value::Dict(Brc::new(names)),
    ]))
}

/// Character index ↔ byte offset conversions for one string.
struct Offsets<'a> {
    text: &'a str,
    /// Byte offset of every character (plus the end), or None when ASCII.
    starts: Option<Vec<usize>>,
}

impl<'a> Offsets<'a> {
    fn new(text: &'a str) -> Self {
        let starts = (!text.is_ascii()).then(|| {
            let mut v: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
            v.push(text.len());
            v
        });
        Offsets { text, starts }
    }

    fn chars(&self) -> usize {
        self.starts
            .as_ref()
            .map_or(self.text.len(), |s| s.len() - 1)
    }

    fn byte(&self, ch: usize) -> usize {
        match &self.starts {
            None => ch.min(self.text.len()),
            Some(s) => s[ch.min(s.len() - 1)],
        }
    }

    fn char(&self, byte: usize) -> usize {
        match &self.starts {
            None => byte,
            Some(s) => s.partition_point(|&b| b < byte),
        }
    }
}

/// Python's slice-style clamping of `pos`/`endpos`.
fn clamp(i: i64, len: usize) -> usize {
    if i < 0 {
        0
    } else {
        (i as usize).min(len)
    }
}

/// `scan(compiled, string, pos, endpos, mode, limit)`: mode 0 searches,
/// 1 matches at `pos`, 2 matches all of `pos..endpos`. Modes 1 and 2 give
/// at most one match; mode 0 gives up to `limit` (0: all) successive
/// matches with Python's rules for empty ones. Each match is a tuple
/// `(start, end, g1start, g1end, ...)` of character offsets, -1 for a
/// group that did not take part.
fn scan(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("scan", args, 6, 6)?;
    let c = this(args)?;
    let text = str_arg(args, 1, "string")?;
    let offsets = Offsets::new(text);
    let n = offsets.chars();
    let end_char = clamp(int_arg(args, 3)?, n);
    let pos_char = clamp(int_arg(args, 2)?, n).min(end_char);
    let mode = int_arg(args, 4)?;
    let limit = int_arg(args, 5)?.max(0) as usize;
    // Python's endpos acts as if the string ended there (`$` matches there).
    let hay = &text[..offsets.byte(end_char)];
    let re = if mode == 2 { &c.full } else { &c.search };
    // Python's `$` also matches just before a final newline: the same
    // search on the string without it, taken when it starts earlier.
    let find_here = |re: &Regex, at: usize, anchored: bool| -> PyResult<Option<Spans>> {
        let mut m = find(re, hay, at, anchored)?;
        if mode != 2 && c.dollar_before_newline && hay.ends_with('\n') {
            let cut = &hay[..hay.len() - 1];
            if at <= cut.len() {
                if let Some(n) = find(re, cut, at, anchored)? {
                    let earlier = |m: &Spans| match (m[0], n[0]) {
                        (Some((ms, _)), Some((ns, _))) => ns < ms,
                        _ => false,
                    };
                    if m.as_ref().is_none_or(earlier) {
                        m = Some(n);
                    }
                }
            }
        }
        Ok(m)
    };
    let mut found = Vec::new();
    let mut at = offsets.byte(pos_char);
    // After an empty match, the next one may not be empty at the same place.
    let mut must_advance = false;
    let mut steps = 0u32;
    while at <= hay.len() {
        steps = steps.wrapping_add(1);
        if steps.is_multiple_of(4096) {
            vm.check_signals()?;
        }
        let mut m = None;
        if must_advance {
            // A non-empty match starting right here, else search on from
            // the next character (where an empty match is fine again).
            let nonempty = c
                .nonempty
                .get_or_init(|| build(&c.body, c.flags, true).ok());
            if let Some(ne) = nonempty {
                m = find_here(ne, at, true)?;
            }
            if m.is_none() {
                match hay[at..].chars().next() {
                    Some(ch) => at += ch.len_utf8(),
                    None => break,
                }
            }
        }
        let m = match m {
            Some(m) => m,
            None => match find_here(re, at, mode != 0)? {
                Some(m) => m,
                None => break,
            },
        };
        let Some((start, end)) = m[0] else {
            break;
        };
        let mut spans = Vec::with_capacity(m.len() * 2);
        for g in &m {
            match g {
                Some((s, e)) => {
                    spans.push(Value::Int(offsets.char(*s) as i64));
                    spans.push(Value::Int(offsets.char(*e) as i64));
                }
                None => {
                    spans.push(Value::Int(-1));
                    spans.push(Value::Int(-1));
                }
            }
        }
        found.push(Value::tuple(spans));
        if mode != 0 || (limit != 0 && found.len() >= limit) {
            break;
        }
        must_advance = start == end;
        at = end;
    }
    Ok(Value::list(found))
}

/// Rewrite Python's pattern syntax into the `regex` crate's where they
/// differ: `\Z`, `{,n}`, literal `{`, `[` and set operators inside classes,
/// and `ascii` classes for `re.ASCII`.
/// Also says whether the pattern has a `$` (outside classes) and no `\Z`.
fn translate(p: &str, ascii: bool) -> PyResult<(String, bool)> {
    let chars: Vec<char> = p.chars().collect();
    let mut out = String::with_capacity(p.len() + 8);
    let mut i = 0;
    let mut in_class = false;
    let mut class_start = 0;
    let mut dollar = false;
    let mut end_z = false;
    // For each open group, whether it is a look-around (wrapped in a group).
    let mut groups: Vec<bool> = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                let Some(&next) = chars.get(i + 1) else {
                    return Err(PyErr::value_error("bad escape (end of pattern)"));
                };
                i += 2;
                match next {
                    'Z' if !in_class => {
                        end_z = true;
                        out.push_str("\\z");
                    }
                    'd' | 'w' | 's' | 'D' | 'W' | 'S' if ascii => {
                        let class = match next.to_ascii_lowercase() {
                            'd' => "0-9",
                            'w' => "0-9A-Za-z_",
                            _ => "\\t\\n\\x0B\\x0C\\r ",
                        };
                        let neg = if next.is_ascii_uppercase() { "^" } else { "" };
                        // A nested class is a union inside a class, too.
                        out.push_str(&format!("[{neg}{class}]"));
                    }
                    '0'..='9' => {
                        // Python reads `\0`, `\0oo`, `\ooo` and any digits in a
                        // class as an octal escape; other digits outside a
                        // class are a group reference, which the engine
                        // reads the same way.
                        let octal: String = chars[i - 1..]
                            .iter()
                            .take(3)
                            .take_while(|c| matches!(c, '0'..='7'))
                            .collect();
                        let is_octal = next == '0' || in_class || octal.len() == 3;
                        match u32::from_str_radix(&octal, 8).ok().filter(|_| is_octal) {
                            Some(code) => {
                                if code > 0o377 {
                                    return Err(PyErr::value_error(format!(
                                        "octal escape value \\{octal} outside of range 0-0o377"
                                    )));
                                }
                                i += octal.len() - 1;
                                out.push_str(&format!("\\x{{{code:x}}}"));
                            }
                            None => {
                                out.push('\\');
                                out.push(next);
                            }
                        }
                    }
                    _ => {
                        out.push('\\');
                        out.push(next);
                    }
                }
                continue;
            }
            '[' if !in_class => {
                in_class = true;
                class_start = i;
                out.push('[');
                i += 1;
                // A leading `^` and then a leading `]` are literal parts.
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
                continue;
            }
            '[' | '&' | '~' if in_class => out.push_str(&format!("\\{c}")),
            '-' if in_class && chars.get(i + 1) == Some(&'-') => out.push_str("\\-"),
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '{' if !in_class => match quantifier(&chars[i..]) {
                Some((text, len)) => {
                    out.push_str(&text);
                    i += len;
                    continue;
                }
                None => out.push_str("\\{"),
            },
            '}' if !in_class => out.push_str("\\}"),
            '$' if !in_class => {
                dollar = true;
                out.push('$');
            }
            '(' if !in_class && chars.get(i + 1) == Some(&'?') => {
                if chars[i..].starts_with(&['(', '?', ':', ')']) {
                    // The engine will not repeat an empty group; one that
                    // matches nothing in another way it will.
                    out.push_str("(?:a{0})");
                    i += 4;
                    continue;
                }
                if chars.get(i + 2) == Some(&'#') {
                    // A comment group: dropped.
                    while i < chars.len() && chars[i] != ')' {
                        i += 1;
                    }
                    i += 1;
                    continue;
                }
                // The engine will not repeat a look-around assertion
                // directly; Python allows it. A group around it can be.
                let rest = &chars[i + 2..];
                let look = rest.starts_with(&['='])
                    || rest.starts_with(&['!'])
                    || rest.starts_with(&['<', '='])
                    || rest.starts_with(&['<', '!']);
                groups.push(look);
                out.push_str(if look { "(?:(" } else { "(" });
            }
            '(' if !in_class => {
                groups.push(false);
                out.push('(');
            }
            ')' if !in_class => {
                out.push_str(if groups.pop() == Some(true) {
                    ")a{0})"
                } else {
                    ")"
                });
            }
            _ => out.push(c),
        }
        i += 1;
    }
    if in_class {
        return Err(PyErr::value_error(format!(
            "unterminated character set at position {class_start}"
        )));
    }
    Ok((out, dollar && !end_z))
}

/// A `{m}`, `{m,}`, `{,n}` or `{m,n}` quantifier at the start of `s` (with
/// its length in characters), rewritten for the crate; None when the brace
/// is a literal, as Python reads it.
fn quantifier(s: &[char]) -> Option<(String, usize)> {
    let close = s.iter().position(|&c| c == '}')?;
    let body: String = s[1..close].iter().collect();
    let (lo, hi) = match body.split_once(',') {
        Some((lo, hi)) => (lo, Some(hi)),
        None => (body.as_str(), None),
    };
    let digits = |t: &str| t.chars().all(|c| c.is_ascii_digit());
    if !digits(lo) || !hi.is_none_or(digits) || (lo.is_empty() && hi.is_none()) {
        return None;
    }
    let lo = if lo.is_empty() { "0" } else { lo };
    let text = match hi {
        None => format!("{{{lo}}}"),
        Some(hi) => format!("{{{lo},{hi}}}"),
    };
    Some((text, close + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translates_python_only_syntax() {
        assert_eq!(translate(r"a\Z", false).unwrap().0, r"a\z");
        assert_eq!(translate("a{,3}", false).unwrap().0, "a{0,3}");
        assert_eq!(translate("{x}", false).unwrap().0, r"\{x\}");
        assert_eq!(translate("[[a]", false).unwrap().0, r"[\[a]");
        assert_eq!(translate("[]a]", false).unwrap().0, r"[\]a]");
        assert_eq!(translate(r"\d", true).unwrap().0, "[0-9]");
        assert_eq!(
            translate(r"(a)\1(?=b)", false).unwrap().0,
            r"(a)\1(?:(?=b)a{0})"
        );
        assert_eq!(
            translate(r"[\1]\0\101", false).unwrap().0,
            r"[\x{1}]\x{0}\x{41}"
        );
        assert_eq!(translate("(?:)*", false).unwrap().0, "(?:a{0})*");
        assert_eq!(
            translate("((?<=a))*", false).unwrap().0,
            "((?:(?<=a)a{0}))*"
        );
        assert!(translate("[ab", false).is_err());
        assert!(translate("a$", false).unwrap().1);
        assert!(!translate(r"a$\Z", false).unwrap().1);
        assert!(!translate(r"[$]\$", false).unwrap().1);
    }
}
