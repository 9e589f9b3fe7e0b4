//! `str`: repr, indexing by code point, and the methods of the `str` type.

use crate::vm::brc::Brc;
use std::sync::Arc;

use crate::compile::code::{BinaryOpKind, Instr};

use crate::vm::builtins::{
    arity, base_value, constructor, method, method_fast, method_kw, no_args, type_name,
};
use crate::vm::error::{ExcKind, PyErr, PyResult};
use crate::vm::format::{self, Named};
use crate::vm::interp::Vm;
use crate::vm::number::{is_py_space, unicode_decimal};
use crate::vm::types::{types, Types};
use crate::vm::value::{Kwargs, PyStr, Value};

/// Largest object (in bytes) a repeat/replace/join may build: half the
/// machine's memory (16 GiB if unknown). Past it we raise MemoryError, as
/// CPython's failed allocation does, instead of aborting or being killed.
pub fn max_alloc_bytes() -> u128 {
    static LIMIT: std::sync::OnceLock<u128> = std::sync::OnceLock::new();
    *LIMIT.get_or_init(|| {
        let total_kb = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines()
                    .find(|l| l.starts_with("MemTotal:"))
                    .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
            })
            .and_then(|kb| kb.parse::<u128>().ok());
        match total_kb {
            Some(kb) => kb * 1024 / 2,
            None => 1 << 34,
        }
    })
}

// ---------------------------------------------------------------- repr

/// Is `c` printable in the sense of `str.isprintable` (so repr shows it as is)?
pub fn is_printable(c: char) -> bool {
    let cp = c as u32;
    if cp < 0x20 || cp == 0x7f {
        return false;
    }
    if cp < 0x7f {
        return true;
    }
    if (0x80..0xa0).contains(&cp) {
        return false;
    }
    // Separators (Zs but space, Zl, Zp), format characters (Cf), private
    // use (Co) and a few unassigned ranges.
    !matches!(cp,
        0xa0 | 0xad | 0x1680 | 0x2000..=0x200f | 0x2028..=0x202f | 0x205f..=0x2064
        | 0x2066..=0x206f | 0x3000 | 0xfeff | 0xfff9..=0xfffb | 0x600..=0x605 | 0x61c
        | 0x6dd | 0x70f | 0x180e | 0x110bd | 0x1d173..=0x1d17a | 0xe0001 | 0xe0020..=0xe007f
        | 0xd800..=0xf8ff | 0xf0000..=0x10ffff | 0xfffe | 0xffff | 0x378 | 0x379 | 0x380..=0x383)
}

/// `repr(str)`: single quotes unless the text has `'` and no `"`.
pub fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_printable(c) => out.push(c),
            c => push_escape(&mut out, c),
        }
    }
    out.push(quote);
    out
}

pub fn push_escape(out: &mut String, c: char) {
    let cp = c as u32;
    if cp < 0x100 {
        out.push_str(&format!("\\x{cp:02x}"));
    } else if cp < 0x10000 {
        out.push_str(&format!("\\u{cp:04x}"));
    } else {
        out.push_str(&format!("\\U{cp:08x}"));
    }
}

/// `ascii(v)`: the repr with every non-ASCII character escaped.
pub fn ascii_repr(vm: &mut Vm, v: &Value) -> PyResult<String> {
    let r = vm.repr(v)?;
    Ok(escape_non_ascii(&r))
}

pub fn escape_non_ascii(r: &str) -> String {
    if r.is_ascii() {
        return r.to_string();
    }
    let mut out = String::with_capacity(r.len() + 8);
    for c in r.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            push_escape(&mut out, c);
        }
    }
    out
}

/// `repr(bytes)`: `b'...'` with `\xNN` escapes.
pub fn bytes_repr(b: &[u8]) -> String {
    bytes_literal(b, false)
}

/// The `b'...'` inside `repr(bytearray)`, which (as CPython's does)
/// escapes `'` even between double quotes.
pub fn bytearray_literal(b: &[u8]) -> String {
    bytes_literal(b, true)
}

fn bytes_literal(b: &[u8], escape_single: bool) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(b.len() + 3);
    out.push('b');
    out.push(quote);
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            c if c as char == quote || (escape_single && c == b'\'') => {
                out.push('\\');
                out.push(c as char);
            }
            0x20..=0x7e => out.push(c as char),
            c => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push(quote);
    out
}

// ---------------------------------------------------------------- indexing

/// Byte offset of code point `i` (`i <= char_len`).
pub fn byte_offset(s: &PyStr, i: usize) -> usize {
    if s.ascii {
        return i.min(s.as_str().len());
    }
    s.as_str()
        .char_indices()
        .nth(i)
        .map_or(s.as_str().len(), |(b, _)| b)
}

/// Code point index of byte offset `b`.
fn char_index(s: &PyStr, b: usize) -> usize {
    if s.ascii {
        b
    } else {
        s.as_str()[..b].chars().count()
    }
}

/// The code point at index `i` (already in range).
pub fn char_at(s: &PyStr, i: usize) -> Option<char> {
    if s.ascii {
        s.as_str().as_bytes().get(i).map(|b| *b as char)
    } else {
        s.as_str().chars().nth(i)
    }
}

/// `s[start:stop:step]` for already-adjusted slice indices.
pub fn slice_str(s: &PyStr, start: i64, stop: i64, step: i64) -> String {
    if step == 1 {
        if stop <= start {
            return String::new();
        }
        let a = byte_offset(s, start as usize);
        let b = byte_offset(s, stop as usize);
        return s.as_str()[a..b].to_string();
    }
    let chars: Vec<char> = s.as_str().chars().collect();
    let mut out = String::new();
    let mut i = start;
    if step > 0 {
        while i < stop {
            out.push(chars[i as usize]);
            i += step;
        }
    } else {
        while i > stop {
            out.push(chars[i as usize]);
            i += step;
        }
    }
    out
}

/// CPython's ADJUST_INDICES for `start`/`end` arguments over `len` code
/// points: negatives count from the end, `end` is clamped, `start` is not.
pub(crate) fn adjust_range(len: usize, start: Option<i64>, end: Option<i64>) -> (i64, i64) {
    let len = len as i64;
    let mut st = start.unwrap_or(0);
    let mut en = end.unwrap_or(len);
    if en > len {
        en = len;
    } else if en < 0 {
        en = (en + len).max(0);
    }
    if st < 0 {
        st = (st + len).max(0);
    }
    (st, en)
}

// ---------------------------------------------------------------- helpers

/// The `str` receiver of a method (instances of str subclasses included).
fn this(args: &[Value], name: &str) -> PyResult<Brc<PyStr>> {
    match args.first() {
        Some(Value::Str(s)) => Ok(s.clone()),
        Some(v @ Value::Instance(_)) => match base_value(v) {
            Value::Str(s) => Ok(s),
            _ => Err(crate::vm::builtins::descriptor_error(name, "str", v)),
        },
        Some(v) => Err(crate::vm::builtins::descriptor_error(name, "str", v)),
        None => Err(PyErr::type_error(format!(
            "unbound method str.{name}() needs an argument"
        ))),
    }
}

/// A str argument (str subclass instances included).
pub(crate) fn str_arg(v: &Value) -> Option<Brc<PyStr>> {
    match v {
        Value::Str(s) => Some(s.clone()),
        Value::Instance(_) => match base_value(v) {
            Value::Str(s) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

fn must_str(v: &Value, what: &str) -> PyResult<Brc<PyStr>> {
    str_arg(v).ok_or_else(|| PyErr::type_error(format!("{what}, not {}", type_name(v))))
}

/// The type in CPython's argument-clinic messages ("must be str, not None").
pub(crate) fn arg_type_name(v: &Value) -> Arc<str> {
    match v {
        Value::None => "None".into(),
        _ => type_name(v),
    }
}

/// [`must_str`] for a method whose argument errors come from CPython's
/// argument clinic, which names `None` as "None".
pub(crate) fn must_str_arg(v: &Value, what: &str) -> PyResult<Brc<PyStr>> {
    str_arg(v).ok_or_else(|| PyErr::type_error(format!("{what}, not {}", arg_type_name(v))))
}

/// An optional slice-style index argument (`None` allowed).
pub(crate) fn opt_index(v: Option<&Value>) -> PyResult<Option<i64>> {
    match v {
        None | Some(Value::None) => Ok(None),
        Some(v) => match crate::vm::number::int_ref(&base_value(v)) {
            Some(i) => Ok(Some(i.to_i64().unwrap_or(if i.is_negative() {
                i64::MIN / 2
            } else {
                i64::MAX / 2
            }))),
            None => Err(PyErr::type_error(
                "slice indices must be integers or None or have an __index__ method",
            )),
        },
    }
}

fn int_arg(v: &Value) -> PyResult<i64> {
    crate::vm::builtins::index_arg(v)
}

fn new_str(s: String) -> Value {
    Value::from_string(s)
}

/// Keyword arguments merged into positions: `names[i]` fills slot `i`.
pub(crate) fn merge_kwargs(
    fname: &str,
    args: &[Value],
    kwargs: Kwargs,
    names: &[&str],
) -> PyResult<Vec<Option<Value>>> {
    let mut out: Vec<Option<Value>> = vec![None; names.len()];
    // Argument Clinic counts before it looks at names.
    let given = args.len() + kwargs.len();
    if given > names.len() {
        return Err(PyErr::type_error(format!(
            "{fname}() takes at most {} {}argument{} ({given} given)",
            names.len(),
            if args.is_empty() { "keyword " } else { "" },
            if names.len() == 1 { "" } else { "s" },
        )));
    }
    for (i, a) in args.iter().enumerate() {
        out[i] = Some(a.clone());
    }
    for (k, v) in kwargs {
        match names.iter().position(|n| *n == &**k) {
            Some(i) => {
                if out[i].is_some() {
                    return Err(PyErr::type_error(format!(
                        "argument for {fname}() given by name ('{k}') and position ({})",
                        i + 1
                    )));
                }
                out[i] = Some(v.clone());
            }
            None => {
                return Err(PyErr::type_error(format!(
                    "'{k}' is an invalid keyword argument for {fname}()"
                )))
            }
        }
    }
    Ok(out)
}

#[inline]
fn no_kw(fname: &str, kwargs: Kwargs) -> PyResult<()> {
    if kwargs.is_empty() {
        return Ok(());
    }
    crate::vm::builtins::no_kwargs(&format!("str.{fname}"), kwargs)
}

/// Check a string about to be built is not absurdly large.
pub fn check_size(bytes: u128) -> PyResult<()> {
    // Anything this small fits on any machine: skip the limit lookup.
    if bytes < 1 << 24 {
        return Ok(());
    }
    if bytes > max_alloc_bytes() {
        Err(crate::vm::number::memory_error())
    } else {
        Ok(())
    }
}

impl Vm {
    /// The `BinaryOp(op)` hook for [`concat_in_place`]: `next` is the
    /// instruction after it, `fb` the running frame's base on the stack.
    /// Not inlined: it would crowd the dispatch loop's registers.
    #[inline(never)]
    pub(crate) fn str_concat_in_place(
        &mut self,
        op: u32,
        next: Option<&Instr>,
        fb: usize,
    ) -> PyResult<bool> {
        if BinaryOpKind::from_u32(op).base() != BinaryOpKind::Add {
            return Ok(false);
        }
        let local = match next {
            Some(&Instr::StoreFast(j)) => Some(fb + j as usize),
            _ => None,
        };
        concat_in_place(&mut self.stack, local)
    }
}

/// `a + b` on the top two values of `stack` when both are strs and one of
/// them can take the result in its own memory because nothing else holds it
/// (CPython does the same): a temporary (`w + str(i)`, `a + b + c`), or `s`
/// in `s += t` when the next instruction stores the result back into the
/// local slot `local` that `s` came from — that local's reference is let go
/// first, since the store overwrites it anyway. A loop of `s += c` is then
/// linear, not quadratic. `Ok(true)`: the result has replaced the operands;
/// `Ok(false)`: nothing changed, take the usual path.
fn concat_in_place(stack: &mut Vec<Value>, local: Option<usize>) -> PyResult<bool> {
    let len = stack.len();
    if len < 2 {
        return Ok(false);
    }
    let (lo, hi) = stack.split_at_mut(len - 2);
    let [Value::Str(a), Value::Str(b)] = hi else {
        return Ok(false);
    };
    // `s + ""` and `"" + s` are `s` itself, as in CPython.
    if a.as_str().is_empty() || b.as_str().is_empty() {
        return Ok(false);
    }
    check_size(a.as_str().len() as u128 + b.as_str().len() as u128)?;
    let mut released = None;
    if let Some(slot) = local.and_then(|l| lo.get_mut(l)) {
        if matches!(&*slot, Value::Str(l) if Brc::ptr_eq(l, a)) {
            *slot = Value::Null;
            released = Some(slot);
        }
    }
    if PyStr::push_unique(a, b) {
        stack.pop();
        return Ok(true);
    }
    if let Some(slot) = released {
        *slot = Value::Str(a.clone());
    }
    if PyStr::prepend_unique(b, a) {
        stack.swap(len - 2, len - 1);
        stack.pop();
        return Ok(true);
    }
    Ok(false)
}

// ---------------------------------------------------------------- case

fn upper(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_uppercase()
    } else {
        s.to_uppercase()
    }
}

fn lower(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        s.to_lowercase()
    }
}

fn is_cased(c: char) -> bool {
    c.is_uppercase() || c.is_lowercase() || is_titlecase(c)
}

fn is_titlecase(c: char) -> bool {
    matches!(c as u32, 0x1c5 | 0x1c8 | 0x1cb | 0x1f2 | 0x1f88..=0x1f8f | 0x1f98..=0x1f9f
        | 0x1fa8..=0x1faf | 0x1fbc | 0x1fcc | 0x1ffc)
}

/// Title case of one character (digraphs have their own title forms).
fn push_title(out: &mut String, c: char) {
    match c as u32 {
        0x1c4..=0x1c6 => out.push('\u{1c5}'),
        0x1c7..=0x1c9 => out.push('\u{1c8}'),
        0x1ca..=0x1cc => out.push('\u{1cb}'),
        0x1f1..=0x1f3 => out.push('\u{1f2}'),
        _ => {
            // Characters that upper-case to several (ß → SS, ﬁ → FI) title-case
            // to the first upper-case letter and the rest lower-case (Ss, Fi).
            let mut up = c.to_uppercase();
            if let Some(first) = up.next() {
                out.push(first);
                for rest in up {
                    out.extend(rest.to_lowercase());
                }
            }
        }
    }
}

/// Whether each capital sigma of `s`, in order, lower-cases to the final
/// form: CPython decides with the whole string as context (`handle_capital_sigma`),
/// as Rust's `str::to_lowercase` does, so its choices are read back from there.
fn final_sigmas(s: &str) -> std::vec::IntoIter<bool> {
    let mut finals = Vec::new();
    if s.contains('Σ') {
        let lowered = s.to_lowercase();
        let mut out = lowered.chars();
        for c in s.chars() {
            if c == 'Σ' {
                finals.push(out.next() == Some('ς'));
            } else {
                for _ in c.to_lowercase() {
                    out.next();
                }
            }
        }
    }
    finals.into_iter()
}

/// Lower-cases `c` into `out`; a capital sigma takes the next answer of `finals`.
fn push_lower(out: &mut String, c: char, finals: &mut std::vec::IntoIter<bool>) {
    if c == 'Σ' {
        out.push(if finals.next().unwrap_or(false) {
            'ς'
        } else {
            'σ'
        });
    } else {
        out.extend(c.to_lowercase());
    }
}

fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut finals = final_sigmas(s);
    let mut prev_cased = false;
    for c in s.chars() {
        if prev_cased {
            push_lower(&mut out, c, &mut finals);
        } else {
            if c == 'Σ' {
                finals.next();
            }
            push_title(&mut out, c);
        }
        prev_cased = is_cased(c);
    }
    out
}

fn capitalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut finals = final_sigmas(s);
    let mut chars = s.chars();
    if let Some(c) = chars.next() {
        if c == 'Σ' {
            finals.next();
        }
        push_title(&mut out, c);
    }
    for c in chars {
        push_lower(&mut out, c, &mut finals);
    }
    out
}

fn swapcase(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut finals = final_sigmas(s);
    for c in s.chars() {
        if c.is_uppercase() {
            push_lower(&mut out, c, &mut finals);
        } else if c.is_lowercase() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn casefold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            'ẞ' => out.push_str("ss"),
            'ς' => out.push('σ'),
            _ => {
                // Full case folding expands ligatures (ß → ss, ﬁ → fi).
                let up = c.to_uppercase();
                if up.len() > 1 {
                    for u in up {
                        out.extend(u.to_lowercase());
                    }
                } else {
                    out.extend(c.to_lowercase());
                }
            }
        }
    }
    out
}

fn is_digit_char(c: char) -> bool {
    unicode_decimal(c).is_some()
        || matches!(c as u32, 0xb2 | 0xb3 | 0xb9 | 0x2070 | 0x2074..=0x2079 | 0x2080..=0x2089
            | 0x2460..=0x2468 | 0x2474..=0x247c | 0x2488..=0x2490 | 0x24ea | 0x24f5..=0x24fd
            | 0x24ff | 0x2776..=0x277e | 0x2780..=0x2788 | 0x278a..=0x2792 | 0x1369..=0x1371)
}

fn is_numeric_char(c: char) -> bool {
    c.is_numeric()
        || matches!(
            c,
            '〇' | '一'
                | '二'
                | '三'
                | '四'
                | '五'
                | '六'
                | '七'
                | '八'
                | '九'
                | '十'
                | '百'
                | '千'
                | '万'
                | '億'
                | '兆'
                | '零'
                | '壹'
                | '贰'
                | '叁'
                | '肆'
                | '伍'
                | '陆'
                | '柒'
                | '捌'
                | '玖'
                | '拾'
        )
}

/// Letters (categories L*): Rust's `is_alphabetic` also counts letter-like
/// numbers (Nl), which Python's `isalpha` does not.
fn is_alpha_char(c: char) -> bool {
    c.is_alphabetic() && !c.is_numeric()
}

pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c == '_' || c.is_alphabetic() => {}
        _ => return false,
    }
    chars.all(|c| c == '_' || c.is_alphanumeric() || is_combining(c))
}

fn is_combining(c: char) -> bool {
    matches!(c as u32, 0x300..=0x36f | 0x1ab0..=0x1aff | 0x1dc0..=0x1dff | 0x20d0..=0x20ff
        | 0xfe20..=0xfe2f | 0x200c | 0x200d)
}

fn istitle(s: &str) -> bool {
    title_cased(s.chars().map(|c| {
        if c.is_uppercase() || is_titlecase(c) {
            Some(true)
        } else if c.is_lowercase() {
            Some(false)
        } else {
            None
        }
    }))
}

/// `istitle` over characters classified as upper or title case
/// (`Some(true)`), lower case (`Some(false)`) or uncased (`None`): upper
/// case only after uncased characters, lower case only after cased ones,
/// and at least one cased character. Shared by str and bytes.
pub(crate) fn title_cased(cases: impl IntoIterator<Item = Option<bool>>) -> bool {
    let mut cased = false;
    let mut prev_cased = false;
    for case in cases {
        match case {
            Some(upper) => {
                if upper == prev_cased {
                    return false;
                }
                prev_cased = true;
                cased = true;
            }
            None => prev_cased = false,
        }
    }
    cased
}

// ---------------------------------------------------------------- split & co

/// `s.split()` / `s.split(None, maxsplit)`.
pub fn split_whitespace(s: &str, maxsplit: i64) -> Vec<String> {
    split_whitespace_slices(s, maxsplit)
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// `s.split()` as slices of `s` (no intermediate `String`s).
fn split_whitespace_slices(s: &str, maxsplit: i64) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s.trim_start_matches(is_py_space);
    let mut n = 0;
    while !rest.is_empty() {
        if maxsplit >= 0 && n >= maxsplit {
            out.push(rest);
            return out;
        }
        let end = rest.find(is_py_space).unwrap_or(rest.len());
        out.push(&rest[..end]);
        rest = rest[end..].trim_start_matches(is_py_space);
        n += 1;
    }
    out
}

/// `s.split()` for an ASCII `s`: bytes, not chars, and every part is
/// known to be ASCII.
fn split_ascii_whitespace(s: &str) -> Vec<Value> {
    // Python's ASCII whitespace: \t \n \x0b \x0c \r \x1c-\x1f and space.
    let space = |b: u8| matches!(b, b'\t'..=b'\r' | 0x1c..=0x1f | b' ');
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && space(bytes[i]) {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && !space(bytes[i]) {
            i += 1;
        }
        if i - start == 1 {
            // One-character words share the cached one-character strs.
            out.push(crate::vm::iter::char_value(bytes[start] as char));
        } else if start < i {
            out.push(Value::Str(Brc::new(PyStr::with_ascii(&s[start..i], true))));
        }
    }
    out
}

fn rsplit_whitespace(s: &str, maxsplit: i64) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s.trim_end_matches(is_py_space);
    let mut n = 0;
    while !rest.is_empty() {
        if maxsplit >= 0 && n >= maxsplit {
            out.push(rest.to_string());
            break;
        }
        let start = rest.rfind(is_py_space).map_or(0, |i| {
            i + rest[i..].chars().next().map_or(1, char::len_utf8)
        });
        out.push(rest[start..].to_string());
        rest = rest[..start].trim_end_matches(is_py_space);
        n += 1;
    }
    out.reverse();
    out
}

fn split_sep(s: &str, sep: &str, maxsplit: i64) -> Vec<String> {
    if maxsplit < 0 {
        s.split(sep).map(str::to_string).collect()
    } else {
        s.splitn(maxsplit as usize + 1, sep)
            .map(str::to_string)
            .collect()
    }
}

fn rsplit_sep(s: &str, sep: &str, maxsplit: i64) -> Vec<String> {
    let mut v: Vec<String> = if maxsplit < 0 {
        s.rsplit(sep).map(str::to_string).collect()
    } else {
        s.rsplitn(maxsplit as usize + 1, sep)
            .map(str::to_string)
            .collect()
    };
    v.reverse();
    v
}

fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r'
            | '\x0b'
            | '\x0c'
            | '\x1c'
            | '\x1d'
            | '\x1e'
            | '\u{85}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

pub fn splitlines(s: &str, keepends: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = s.as_bytes();
    let mut iter = s.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        if is_line_break(c) {
            let mut end = i + c.len_utf8();
            if c == '\r' && bytes.get(end) == Some(&b'\n') {
                iter.next();
                end += 1;
            }
            out.push(s[start..if keepends { end } else { i }].to_string());
            start = end;
        }
    }
    if start < s.len() {
        out.push(s[start..].to_string());
    }
    out
}

fn expandtabs(s: &str, tab: i64) -> String {
    let mut out = String::with_capacity(s.len());
    let mut col: i64 = 0;
    for c in s.chars() {
        match c {
            '\t' => {
                if tab > 0 {
                    let n = tab - col % tab;
                    out.extend(std::iter::repeat_n(' ', n as usize));
                    col += n;
                }
            }
            '\n' | '\r' => {
                out.push(c);
                col = 0;
            }
            _ => {
                out.push(c);
                col += 1;
            }
        }
    }
    out
}

/// The character set of `strip(chars)`; `None` strips whitespace.
fn strip_impl(s: &str, chars: Option<&str>, left: bool, right: bool) -> String {
    let pred = |c: char| match chars {
        None => is_py_space(c),
        Some(set) => set.contains(c),
    };
    let mut r = s;
    if left {
        r = r.trim_start_matches(pred);
    }
    if right {
        r = r.trim_end_matches(pred);
    }
    r.to_string()
}

/// `str.find` and friends over code points: the index of a match of `sub` in `s[start:end]`.
fn find_impl(
    s: &PyStr,
    sub: &str,
    start: Option<i64>,
    end: Option<i64>,
    rev: bool,
) -> Option<usize> {
    let (a, b) = adjust_range(s.char_len(), start, end);
    let slen = if s.ascii {
        sub.len()
    } else {
        sub.chars().count()
    };
    if b - a < slen as i64 {
        return None;
    }
    let ba = byte_offset(s, a as usize);
    let bb = byte_offset(s, b as usize);
    let hay = &s.as_str()[ba..bb];
    let found = if rev { hay.rfind(sub) } else { hay.find(sub) };
    found.map(|i| char_index(s, ba + i))
}

fn count_impl(s: &PyStr, sub: &str, start: Option<i64>, end: Option<i64>) -> usize {
    let (a, b) = adjust_range(s.char_len(), start, end);
    if b < a {
        return 0;
    }
    if sub.is_empty() {
        return (b - a + 1) as usize;
    }
    let ba = byte_offset(s, a as usize);
    let bb = byte_offset(s, b as usize);
    s.as_str()[ba..bb].matches(sub).count()
}

/// `startswith`/`endswith` of one candidate.
fn tailmatch(s: &PyStr, sub: &str, start: Option<i64>, end: Option<i64>, at_end: bool) -> bool {
    let (a, b) = adjust_range(s.char_len(), start, end);
    let slen = sub.chars().count() as i64;
    if b - slen < a {
        return false;
    }
    if slen == 0 {
        return true;
    }
    let hay = &s.as_str()[byte_offset(s, a as usize)..byte_offset(s, b as usize)];
    if at_end {
        hay.ends_with(sub)
    } else {
        hay.starts_with(sub)
    }
}

// ---------------------------------------------------------------- natives

macro_rules! simple_transform {
    ($fname:ident, $name:literal, $f:expr) => {
        fn $fname(_vm: &mut Vm, args: &[Value], kwargs: Kwargs) -> PyResult<Value> {
            let s = this(args, $name)?;
            no_kw($name, kwargs)?;
            no_args(concat!("str.", $name), &args[1..])?;
            let f: fn(&str) -> String = $f;
            Ok(new_str(f(s.as_str())))
        }
    };
}

/// `str.upper`/`str.lower`: short ASCII strings are mapped in place, also
/// by the fast path `$fast` (see `FastFn`).
macro_rules! case_transform {
    ($fname:ident, $fast:ident, $name:literal, $f:expr, $ascii:expr) => {
        fn $fast(args: &mut [Value]) -> Option<Value> {
            let [Value::Str(s)] = args else { return None };
            PyStr::ascii_mapped(s.as_str(), $ascii).map(|p| Value::Str(Brc::new(p)))
        }

        fn $fname(_vm: &mut Vm, args: &[Value], kwargs: Kwargs) -> PyResult<Value> {
            let s = this(args, $name)?;
            no_kw($name, kwargs)?;
            no_args(concat!("str.", $name), &args[1..])?;
            if let Some(p) = PyStr::ascii_mapped(s.as_str(), $ascii) {
                return Ok(Value::Str(Brc::new(p)));
            }
            let f: fn(&str) -> String = $f;
            Ok(new_str(f(s.as_str())))
        }
    };
}

case_transform!(str_upper, upper_fast, "upper", upper, |c: u8| {
    c.to_ascii_uppercase()
});
case_transform!(str_lower, lower_fast, "lower", lower, |c: u8| {
    c.to_ascii_lowercase()
});
simple_transform!(str_title, "title", title);
simple_transform!(str_capitalize, "capitalize", capitalize);
simple_transform!(str_swapcase, "swapcase", swapcase);
simple_transform!(str_casefold, "casefold", casefold);

macro_rules! predicate {
    ($fname:ident, $name:literal, $f:expr) => {
        fn $fname(_vm: &mut Vm, args: &[Value], _kwargs: Kwargs) -> PyResult<Value> {
            let s = this(args, $name)?;
            no_args(concat!("str.", $name), &args[1..])?;
            let f: fn(&str) -> bool = $f;
            Ok(Value::Bool(f(s.as_str())))
        }
    };
}

predicate!(str_isdigit, "isdigit", |s| !s.is_empty()
    && s.chars().all(is_digit_char));
predicate!(str_isdecimal, "isdecimal", |s| !s.is_empty()
    && s.chars().all(|c| unicode_decimal(c).is_some()));
predicate!(str_isnumeric, "isnumeric", |s| !s.is_empty()
    && s.chars().all(is_numeric_char));
predicate!(str_isalpha, "isalpha", |s| !s.is_empty()
    && s.chars().all(is_alpha_char));
predicate!(str_isalnum, "isalnum", |s| !s.is_empty()
    && s.chars().all(|c| is_alpha_char(c)
        || is_numeric_char(c)
        || is_digit_char(c)));
predicate!(str_isspace, "isspace", |s| !s.is_empty()
    && s.chars().all(is_py_space));
predicate!(str_isupper, "isupper", |s| s.chars().any(is_cased)
    && !s.chars().any(|c| c.is_lowercase() || is_titlecase(c)));
predicate!(str_islower, "islower", |s| s.chars().any(is_cased)
    && !s.chars().any(|c| c.is_uppercase() || is_titlecase(c)));
predicate!(str_istitle, "istitle", istitle);
predicate!(str_isidentifier, "isidentifier", is_identifier);
predicate!(str_isprintable, "isprintable", |s| s
    .chars()
    .all(is_printable));
predicate!(str_isascii, "isascii", |s| s.is_ascii());

fn str_split_common(args: &[Value], kwargs: Kwargs, name: &str, rev: bool) -> PyResult<Value> {
    let s = this(args, name)?;
    let a = merge_kwargs(name, &args[1..], kwargs, &["sep", "maxsplit"])?;
    let maxsplit = match &a[1] {
        Some(v) => int_arg(v)?,
        None => -1,
    };
    // The common forms build each part straight from a slice.
    if !rev {
        let text = s.as_str();
        let parts: Option<Vec<Value>> = match &a[0] {
            None | Some(Value::None) if s.ascii && maxsplit < 0 => {
                Some(split_ascii_whitespace(text))
            }
            None | Some(Value::None) => Some(
                split_whitespace_slices(text, maxsplit)
                    .into_iter()
                    .map(Value::str)
                    .collect(),
            ),
            Some(Value::Str(sep)) if maxsplit < 0 && !sep.as_str().is_empty() => {
                Some(text.split(sep.as_str()).map(Value::str).collect())
            }
            _ => None,
        };
        if let Some(parts) = parts {
            return Ok(Value::list(parts));
        }
    }
    let parts = match &a[0] {
        None | Some(Value::None) => {
            if rev {
                rsplit_whitespace(s.as_str(), maxsplit)
            } else {
                split_whitespace(s.as_str(), maxsplit)
            }
        }
        Some(sep) => {
            let sep = must_str(sep, "must be str or None")?;
            if sep.as_str().is_empty() {
                return Err(PyErr::value_error("empty separator"));
            }
            if rev {
                rsplit_sep(s.as_str(), sep.as_str(), maxsplit)
            } else {
                split_sep(s.as_str(), sep.as_str(), maxsplit)
            }
        }
    };
    Ok(Value::list(parts.into_iter().map(new_str).collect()))
}

fn str_split(_vm: &mut Vm, args: &[Value], kwargs: Kwargs) -> PyResult<Value> {
    str_split_common(args, kwargs, "split", false)
}

fn str_rsplit(_vm: &mut Vm, args: &[Value], kwargs: Kwargs) -> PyResult<Value> {
    str_split_common(args, kwargs, "rsplit", true)
}

fn str_splitlines(vm: &mut Vm, args: &[Value], kwargs: Kwargs) -> PyResult<Value> {
    let s = this(args, "splitlines")?;
    let a = merge_kwargs("splitlines", &args[1..], kwargs, &["keepends"])?;
    // `keepends` is an int (a bool is one), not any truthy value.
    let keep = match &a[0] {
        Some(v) => crate::vm::builtins::index_value(vm, v)? != 0,
        None => false,
    };
    Ok(Value::list(
        splitlines(s.as_str(), keep)
            .into_iter()
            .map(new_str)
            .collect(),
    ))
}

fn str_join(vm: &mut Vm, args: &[Value], kwargs: Kwargs) -> PyResult<Value> {
    let s = this(args, "join")?;
    no_kw("join", kwargs)?;
    crate::vm::builtins::one_arg("str.join", &args[1..])?;
    // A list or tuple of exact strs is joined straight from the container
    // (no item copied out, no callback, so a list may stay locked).
    let exact = |items: &[Value]| {
        items.iter().all(|it| matches!(it, Value::Str(_))).then(|| {
            join_parts(
                &s,
                items.iter().filter_map(|it| match it {
                    Value::Str(p) => Some(&**p),
                    _ => None,
                }),
            )
        })
    };
    let fast = match &args[1] {
        Value::List(l) => exact(&l.items.lock()),
        Value::Tuple(t) => exact(&t.items),
        _ => None,
    };
    if let Some(r) = fast {
        return r;
    }
    let items = match &args[1] {
        Value::List(l) => l.items.lock().clone(),
        Value::Tuple(t) => t.items.to_vec(),
        other => match vm.collect(other) {
            Ok(v) => v,
            Err(e) if e.matches(ExcKind::TypeError) && !is_iterable(vm, other) => {
                return Err(PyErr::type_error("can only join an iterable"))
            }
            Err(e) => return Err(e),
        },
    };
    let mut parts: Vec<Brc<PyStr>> = Vec::with_capacity(items.len());
    for (i, it) in items.iter().enumerate() {
        match str_arg(it) {
            Some(p) => parts.push(p),
            None => {
                return Err(PyErr::type_error(format!(
                    "sequence item {i}: expected str instance, {} found",
                    type_name(it)
                )))
            }
        }
    }
    join_parts(&s, parts.iter().map(|p| &**p))
}

/// `sep` between the `parts`, built in one allocation.
fn join_parts<'a, I>(sep: &PyStr, parts: I) -> PyResult<Value>
where
    I: Iterator<Item = &'a PyStr> + Clone,
{
    let (mut total, mut ascii, mut n) = (0usize, sep.ascii, 0usize);
    for p in parts.clone() {
        total = total.saturating_add(p.as_str().len());
        ascii &= p.ascii;
        n += 1;
    }
    total = total.saturating_add(sep.as_str().len().saturating_mul(n.saturating_sub(1)));
    check_size(total as u128)?;
    let mut out = String::with_capacity(total);
    for (i, p) in parts.enumerate() {
        if i > 0 {
            out.push_str(sep.as_str());
        }
        out.push_str(p.as_str());
    }
    Ok(Value::Str(Brc::new(PyStr::with_ascii(out, ascii))))
}

fn is_iterable(vm: &mut Vm, v: &Value) -> bool {
    match v {
        Value::Str(_)
        | Value::List(_)
        | Value::Tuple(_)
        | Value::Dict(_)
        | Value::Set(_)
        | Value::FrozenSet(_)
        | Value::Bytes(_)
        | Value::ByteArray(_) => true,
        Value::Instance(_) | Value::Object(_) => {
            vm.lookup_special(v, "__iter__").is_some()
                || vm.lookup_special(v, "__getitem__").is_some()
                || matches!(v, Value::Object(_))
        }
        _ => false,
    }
}

fn strip_common(args: &[Value], name: &str, left: bool, right: bool) -> PyResult<Value> {
    let s = this(args, name)?;
    arity(name, &args[1..], 0, 1)?;
    let chars = match args.get(1) {
        None | Some(Value::None) => None,
        Some(v) => match str_arg(v) {
            Some(c) => Some(c),
            None => return Err(PyErr::type_error(format!("{name} arg must be None or str"))),
        },
    };
    Ok(new_str(strip_impl(
        s.as_str(),
        chars.as_ref().map(|c| c.as_str()),
        left,
        right,
    )))
}

fn str_strip(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    strip_common(args, "strip", true, true)
}

fn str_lstrip(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    strip_common(args, "lstrip", true, false)
}

fn str_rstrip(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    strip_common(args, "rstrip", false, true)
}

/// The receiver, the substring and the optional start/end of find/index/count.
type SubArgs = (Brc<PyStr>, Brc<PyStr>, Option<i64>, Option<i64>);

fn sub_args(args: &[Value], name: &str) -> PyResult<SubArgs> {
    let s = this(args, name)?;
    let rest = &args[1..];
    if rest.is_empty() || rest.len() > 3 {
        let msg = if rest.is_empty() {
            format!("{name}() takes at least 1 argument (0 given)")
        } else {
            format!("{name}() takes at most 3 arguments ({} given)", rest.len())
        };
        return Err(PyErr::type_error(msg));
    }
    // CPython converts start/end before it looks at the substring's type.
    let (start, end) = (opt_index(rest.get(1))?, opt_index(rest.get(2))?);
    let sub = must_str(&rest[0], "must be str")?;
    Ok((s, sub, start, end))
}

fn str_find(_vm: &mut Vm, args: &[Value], kwargs: Kwargs) -> PyResult<Value> {
    no_kw("find", kwargs)?;
    let (s, sub, a, b) = sub_args(args, "find")?;
    Ok(Value::Int(
        find_impl(&s, sub.as_str(), a, b, false).map_or(-1, |i| i as i64),
    ))
}

fn str_rfind(_vm: &mut Vm, args: &[Value], kwargs: Kwargs) -> PyResult<Value> {
    no_kw("rfind", kwargs)?;
    let (s, sub, a, b) = sub_args(args, "rfind")?;
    Ok(Value::Int(
        find_impl(&s, sub.as_str(), a, b, true).map_or(-1, |i| i as i64),
    ))
}

fn str_index(_vm: &mut Vm, args: &[Value], kwargs: Kwargs) -> PyResult<Value> {
    no_kw("index", kwargs)?;
    let (s, sub, a, b) = sub_args(args, "index")?;
    match find_impl(&s, sub.as_str(), a, b, false) {
        Some(i) => Ok(Value::Int(i as i64)),
        None => Err(PyErr::value_error("substring not found")),
    }
}

fn str_rindex(_vm: &mut Vm, args: &[Value], kwargs: Kwargs) -> PyResult<Value> {
    no_kw("rindex", kwargs)?;
    let (s, sub, a, b) = sub_args(args, "rindex")?;
    match find_impl(&s, sub.as_str(), a, b, true) {
        Some(i) => Ok(Value::Int(i as i64)),
        None => Err(PyErr::value_error("substring not found")),
    }
}

fn str_count(_vm: &mut Vm, args: &[Value], kwargs: Kwargs) -> PyResult<Value> {
    no_kw("count", kwargs)?;
    let (s, sub, a, b) = sub_args(args, "count")?;
    Ok(Value::Int(count_impl(&s, sub.as_str(), a, b) as i64))
}

fn str_replace(_vm: &mut Vm, args: &[Value], kwargs: Kwargs) -> PyResult<Value> {
    let s = this(args, "replace")?;
    no_kw("replace", kwargs)?;
    let rest = &args[1..];
    if rest.len() < 2 || rest.len() > 3 {
        return Err(PyErr::type_error(format!(
            "replace expected {} arguments, got {}",
            if rest.len() < 2 {
                "at least 2"
            } else {
                "at most 3"
            },
            rest.len()
        )));
    }
    let old = str_arg(&rest[0]).ok_or_else(|| {
        PyErr::type_error(format!(
            "replace() argument 1 must be str, not {}",
            arg_type_name(&rest[0])
        ))
    })?;
    let new = str_arg(&rest[1]).ok_or_else(|| {
        PyErr::type_error(format!(
            "replace() argument 2 must be str, not {}",
            arg_type_name(&rest[1])
        ))
    })?;
    let count = match rest.get(2) {
        Some(v) => int_arg(v)?,
        None => -1,
    };
    let (s, old, new) = (s.as_str(), old.as_str(), new.as_str());
    let matches = if old.is_empty() {
        s.chars().count() + 1
    } else {
        s.matches(old).count()
    };
    let n = if count < 0 {
        matches
    } else {
        matches.min(count as usize)
    };
    check_size(s.len() as u128 + (n as u128) * (new.len() as u128))?;
    Ok(new_str(if count < 0 {
        s.replace(old, new)
    } else {
        s.replacen(old, new, count as usize)
    }))
}

fn affix_common(args: &[Value], name: &str, at_end: bool) -> PyResult<Value> {
    let s = this(args, name)?;
    let rest = &args[1..];
    if rest.is_empty() || rest.len() > 3 {
        return Err(PyErr::type_error(if rest.is_empty() {
            format!("{name}() takes at least 1 argument (0 given)")
        } else {
            format!("{name}() takes at most 3 arguments ({} given)", rest.len())
        }));
    }
    let (a, b) = (opt_index(rest.get(1))?, opt_index(rest.get(2))?);
    match &rest[0] {
        Value::Tuple(t) => {
            for item in t.items.iter() {
                let p = str_arg(item).ok_or_else(|| {
                    PyErr::type_error(format!(
                        "tuple for {name} must only contain str, not {}",
                        type_name(item)
                    ))
                })?;
                if tailmatch(&s, p.as_str(), a, b, at_end) {
                    return Ok(Value::Bool(true));
                }
            }
            Ok(Value::Bool(false))
        }
        v => match str_arg(v) {
            Some(p) => Ok(Value::Bool(tailmatch(&s, p.as_str(), a, b, at_end))),
            None => Err(PyErr::type_error(format!(
                "{name} first arg must be str or a tuple of str, not {}",
                type_name(v)
            ))),
        },
    }
}

fn str_startswith(_vm: &mut Vm, args: &[Value], kwargs: Kwargs) -> PyResult<Value> {
    no_kw("startswith", kwargs)?;
    affix_common(args, "startswith", false)
}

fn str_endswith(_vm: &mut Vm, args: &[Value], kwargs: Kwargs) -> PyResult<Value> {
    no_kw("endswith", kwargs)?;
    affix_common(args, "endswith", true)
}

/// `(width, fillchar)` of center/ljust/rjust.
fn justify_args(args: &[Value], name: &str) -> PyResult<(Brc<PyStr>, usize, char)> {
    let s = this(args, name)?;
    let rest = &args[1..];
    if rest.is_empty() || rest.len() > 2 {
        return Err(PyErr::type_error(format!(
            "{name} expected {} argument{}, got {}",
            if rest.is_empty() {
                "at least 1"
            } else {
                "at most 2"
            },
            if rest.is_empty() { "" } else { "s" },
            rest.len()
        )));
    }
    let width = int_arg(&rest[0])?.max(0) as usize;
    let fill = match rest.get(1) {
        None => ' ',
        Some(v) => {
            let f = str_arg(v).ok_or_else(|| {
                PyErr::type_error(format!(
                    "The fill character must be a unicode character, not {}",
                    type_name(v)
                ))
            })?;
            let mut cs = f.as_str().chars();
            match (cs.next(), cs.next()) {
                (Some(c), None) => c,
                _ => {
                    return Err(PyErr::type_error(
                        "The fill character must be exactly one character long",
                    ))
                }
            }
        }
    };
    check_size(width as u128 * 4)?;
    Ok((s, width, fill))
}

fn repeat_char(c: char, n: usize) -> String {
    std::iter::repeat_n(c, n).collect()
}

fn str_center(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (s, width, fill) = justify_args(args, "center")?;
    let len = s.char_len();
    if width <= len {
        return Ok(Value::Str(s));
    }
    let marg = width - len;
    // CPython's split of the margin: the extra space goes left when width is odd.
    let left = marg / 2 + (marg & width & 1);
    Ok(new_str(format!(
        "{}{}{}",
        repeat_char(fill, left),
        s.as_str(),
        repeat_char(fill, marg - left)
    )))
}

fn str_ljust(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (s, width, fill) = justify_args(args, "ljust")?;
    let len = s.char_len();
    if width <= len {
        return Ok(Value::Str(s));
    }
    Ok(new_str(format!(
        "{}{}",
        s.as_str(),
        repeat_char(fill, width - len)
    )))
}

fn str_rjust(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (s, width, fill) = justify_args(args, "rjust")?;
    let len = s.char_len();
    if width <= len {
        return Ok(Value::Str(s));
    }
    Ok(new_str(format!(
        "{}{}",
        repeat_char(fill, width - len),
        s.as_str()
    )))
}

fn str_zfill(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let s = this(args, "zfill")?;
    crate::vm::builtins::one_arg("str.zfill", &args[1..])?;
    let width = int_arg(&args[1])?.max(0) as usize;
    check_size(width as u128)?;
    let len = s.char_len();
    if width <= len {
        return Ok(Value::Str(s));
    }
    let text = s.as_str();
    let (sign, body) = match text.as_bytes().first() {
        Some(b'+') | Some(b'-') => text.split_at(1),
        _ => ("", text),
    };
    Ok(new_str(format!("{sign}{}{body}", "0".repeat(width - len))))
}

fn str_expandtabs(_vm: &mut Vm, args: &[Value], kwargs: Kwargs) -> PyResult<Value> {
    let s = this(args, "expandtabs")?;
    let a = merge_kwargs("expandtabs", &args[1..], kwargs, &["tabsize"])?;
    let tab = match &a[0] {
        Some(v) => int_arg(v)?,
        None => 8,
    };
    // CPython takes the tab size as a C int.
    if i32::try_from(tab).is_err() {
        return Err(PyErr::overflow_error(
            "Python int too large to convert to C int",
        ));
    }
    let tabs = s.as_str().bytes().filter(|&b| b == b'\t').count() as u128;
    check_size(s.as_str().len() as u128 + tabs * tab.max(0) as u128)?;
    Ok(new_str(expandtabs(s.as_str(), tab)))
}

fn partition_common(args: &[Value], name: &str, rev: bool) -> PyResult<Value> {
    let s = this(args, name)?;
    crate::vm::builtins::one_arg(&format!("str.{name}"), &args[1..])?;
    let sep = must_str(&args[1], "must be str")?;
    if sep.as_str().is_empty() {
        return Err(PyErr::value_error("empty separator"));
    }
    let text = s.as_str();
    let found = if rev {
        text.rfind(sep.as_str())
    } else {
        text.find(sep.as_str())
    };
    let parts = match found {
        Some(i) => vec![
            new_str(text[..i].to_string()),
            Value::Str(sep.clone()),
            new_str(text[i + sep.as_str().len()..].to_string()),
        ],
        None if rev => vec![Value::str(""), Value::str(""), Value::Str(s.clone())],
        None => vec![Value::Str(s.clone()), Value::str(""), Value::str("")],
    };
    Ok(Value::tuple(parts))
}

fn str_partition(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    partition_common(args, "partition", false)
}

fn str_rpartition(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    partition_common(args, "rpartition", true)
}

fn str_removeprefix(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let s = this(args, "removeprefix")?;
    crate::vm::builtins::one_arg("str.removeprefix", &args[1..])?;
    let p = must_str_arg(&args[1], "removeprefix() argument must be str")?;
    Ok(match s.as_str().strip_prefix(p.as_str()) {
        Some(r) => new_str(r.to_string()),
        None => Value::Str(s),
    })
}

fn str_removesuffix(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let s = this(args, "removesuffix")?;
    crate::vm::builtins::one_arg("str.removesuffix", &args[1..])?;
    let p = must_str_arg(&args[1], "removesuffix() argument must be str")?;
    Ok(match s.as_str().strip_suffix(p.as_str()) {
        Some(r) if !p.as_str().is_empty() => new_str(r.to_string()),
        _ => Value::Str(s),
    })
}

/// `str.encode(encoding='utf-8', errors='strict')`.
pub fn encode(s: &str, encoding: &str, errors: &str) -> PyResult<Vec<u8>> {
    let enc = encoding.to_ascii_lowercase().replace(['-', '_'], "");
    match enc.as_str() {
        "utf8" => Ok(s.as_bytes().to_vec()),
        "ascii" | "usascii" | "latin1" | "iso88591" | "l1" => {
            let limit = if enc == "ascii" || enc == "usascii" {
                128
            } else {
                256
            };
            let codec = if limit == 128 { "ascii" } else { "latin-1" };
            let mut out = Vec::with_capacity(s.len());
            for (pos, c) in s.chars().enumerate() {
                let cp = c as u32;
                if cp < limit {
                    out.push(cp as u8);
                } else {
                    match errors {
                        "ignore" => {}
                        "replace" => out.push(b'?'),
                        "xmlcharrefreplace" => out.extend(format!("&#{cp};").bytes()),
                        "backslashreplace" => {
                            let esc = match cp {
                                0..=0xff => format!("\\x{cp:02x}"),
                                0x100..=0xffff => format!("\\u{cp:04x}"),
                                _ => format!("\\U{cp:08x}"),
                            };
                            out.extend(esc.bytes());
                        }
                        _ => {
                            // CPython reports the whole run of characters
                            // the codec cannot encode.
                            let run = s
                                .chars()
                                .skip(pos)
                                .take_while(|&c| c as u32 >= limit)
                                .count();
                            return Err(PyErr::with_args(
                                ExcKind::UnicodeEncodeError,
                                vec![
                                    Value::str(codec),
                                    Value::str(s),
                                    Value::Int(pos as i64),
                                    Value::Int((pos + run) as i64),
                                    Value::str(&format!("ordinal not in range({limit})")),
                                ],
                            ));
                        }
                    }
                }
            }
            Ok(out)
        }
        _ => Err(PyErr::new(
            ExcKind::LookupError,
            format!("unknown encoding: {encoding}"),
        )),
    }
}

/// A `UnicodeDecodeError(encoding, object, start, end, reason)`.
pub fn decode_error(
    encoding: &str,
    object: &[u8],
    start: usize,
    end: usize,
    reason: &str,
) -> PyErr {
    PyErr::with_args(
        ExcKind::UnicodeDecodeError,
        vec![
            Value::str(encoding),
            Value::Bytes(Arc::new(object.to_vec())),
            Value::Int(start as i64),
            Value::Int(end as i64),
            Value::str(reason),
        ],
    )
}

/// Why `bytes[from..]` is not UTF-8, in CPython's terms: the bad span is
/// the longest prefix of a valid sequence (Rust's `error_len`), or the
/// incomplete tail at the end of the input.
pub fn utf8_failure(
    bytes: &[u8],
    from: usize,
    e: std::str::Utf8Error,
) -> (usize, usize, &'static str) {
    let start = from + e.valid_up_to();
    match e.error_len() {
        None => (start, bytes.len(), "unexpected end of data"),
        Some(n) => {
            // A lead byte followed by a bad byte is a bad continuation.
            let reason = if n > 1 || matches!(bytes[start], 0xc2..=0xf4) {
                "invalid continuation byte"
            } else {
                "invalid start byte"
            };
            (start, start + n, reason)
        }
    }
}

/// The UnicodeDecodeError for `bytes`, whose part from `from` failed with `e`.
pub fn utf8_error(bytes: &[u8], from: usize, e: std::str::Utf8Error) -> PyErr {
    let (start, end, reason) = utf8_failure(bytes, from, e);
    decode_error("utf-8", bytes, start, end, reason)
}

/// `bytes.decode` / `str(b, encoding)`.
pub fn decode(b: &[u8], encoding: &str, errors: &str) -> PyResult<String> {
    // CPython returns "" for no bytes before it looks the codec up.
    if b.is_empty() {
        return Ok(String::new());
    }
    let enc = encoding.to_ascii_lowercase().replace(['-', '_'], "");
    match enc.as_str() {
        "utf8" => match std::str::from_utf8(b) {
            Ok(s) => Ok(s.to_string()),
            Err(e) => match errors {
                "replace" => Ok(String::from_utf8_lossy(b).into_owned()),
                "ignore" => Ok(String::from_utf8_lossy(b).replace('\u{fffd}', "")),
                _ => Err(utf8_error(b, 0, e)),
            },
        },
        "ascii" | "usascii" => {
            let mut out = String::with_capacity(b.len());
            for (pos, &c) in b.iter().enumerate() {
                if c < 128 {
                    out.push(c as char);
                } else {
                    match errors {
                        "ignore" => {}
                        "replace" => out.push('\u{fffd}'),
                        _ => {
                            return Err(decode_error(
                                "ascii",
                                b,
                                pos,
                                pos + 1,
                                "ordinal not in range(128)",
                            ))
                        }
                    }
                }
            }
            Ok(out)
        }
        "latin1" | "iso88591" | "l1" => Ok(b.iter().map(|&c| c as char).collect()),
        _ => Err(PyErr::new(
            ExcKind::LookupError,
            format!("unknown encoding: {encoding}"),
        )),
    }
}

fn str_encode(_vm: &mut Vm, args: &[Value], kwargs: Kwargs) -> PyResult<Value> {
    let s = this(args, "encode")?;
    let a = merge_kwargs("encode", &args[1..], kwargs, &["encoding", "errors"])?;
    let text_arg = |v: &Option<Value>, default: &str, n: &str| -> PyResult<String> {
        match v {
            None => Ok(default.to_string()),
            Some(v) => match str_arg(v) {
                Some(s) => Ok(s.as_str().to_string()),
                None => Err(PyErr::type_error(format!(
                    "encode() argument '{n}' must be str, not {}",
                    arg_type_name(v)
                ))),
            },
        }
    };
    let enc = text_arg(&a[0], "utf-8", "encoding")?;
    let errors = text_arg(&a[1], "strict", "errors")?;
    Ok(Value::Bytes(encode(s.as_str(), &enc, &errors)?.into()))
}

fn str_format(vm: &mut Vm, args: &[Value], kwargs: Kwargs) -> PyResult<Value> {
    let s = this(args, "format")?;
    let out = format::format_template(vm, s.as_str(), &args[1..], &Named::Kwargs(kwargs))?;
    Ok(new_str(out))
}

fn str_format_map(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let s = this(args, "format_map")?;
    crate::vm::builtins::one_arg("str.format_map", &args[1..])?;
    let out = format::format_template(vm, s.as_str(), &[], &Named::Mapping(&args[1]))?;
    Ok(new_str(out))
}

fn str_maketrans(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    // A static method: no receiver.
    arity("maketrans", args, 1, 3)?;
    let d = crate::vm::value::PyDict::new();
    let dict = Value::Dict(Brc::new(d));
    if args.len() == 1 {
        let Value::Dict(src) = &args[0] else {
            return Err(PyErr::type_error(
                "if you give only one argument to maketrans it must be a dict",
            ));
        };
        let entries: Vec<(Value, Value)> = src
            .map
            .lock()
            .iter()
            .map(|(k, v)| (k.key.clone(), v.clone()))
            .collect();
        for (k, v) in entries {
            let key = match &k {
                Value::Str(s) if s.char_len() == 1 => {
                    Value::Int(s.as_str().chars().next().map_or(0, |c| c as i64))
                }
                Value::Str(_) => {
                    return Err(PyErr::value_error(
                        "string keys in translate table must be of length 1",
                    ))
                }
                Value::Int(_) => k.clone(),
                _ => {
                    return Err(PyErr::type_error(
                        "keys in translate table must be strings or integers",
                    ))
                }
            };
            vm.set_item(&dict, &key, v)?;
        }
        return Ok(dict);
    }
    let x = must_str_arg(&args[0], "maketrans() argument 1 must be str")?;
    let y = must_str_arg(&args[1], "maketrans() argument 2 must be str")?;
    if x.char_len() != y.char_len() {
        return Err(PyErr::value_error(
            "the first two maketrans arguments must have equal length",
        ));
    }
    for (a, b) in x.as_str().chars().zip(y.as_str().chars()) {
        vm.set_item(&dict, &Value::Int(a as i64), Value::Int(b as i64))?;
    }
    if let Some(z) = args.get(2) {
        let z = must_str_arg(z, "maketrans() argument 3 must be str")?;
        for c in z.as_str().chars() {
            vm.set_item(&dict, &Value::Int(c as i64), Value::None)?;
        }
    }
    Ok(dict)
}

fn str_translate(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let s = this(args, "translate")?;
    crate::vm::builtins::one_arg("str.translate", &args[1..])?;
    let table = &args[1];
    let mut out = String::with_capacity(s.as_str().len());
    for c in s.as_str().chars() {
        match vm.get_item(table, &Value::Int(c as i64)) {
            Ok(Value::None) => {}
            Ok(Value::Int(n)) => match u32::try_from(n).ok().and_then(char::from_u32) {
                Some(r) => out.push(r),
                None => {
                    return Err(PyErr::value_error(
                        "character mapping must be in range(0x110000)",
                    ))
                }
            },
            Ok(v) => match str_arg(&v) {
                Some(r) => out.push_str(r.as_str()),
                None => {
                    return Err(PyErr::type_error(
                        "character mapping must return integer, None or str",
                    ))
                }
            },
            Err(e) if e.matches(ExcKind::LookupError) => out.push(c),
            Err(e) => return Err(e),
        }
    }
    Ok(new_str(out))
}

fn str_len(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let s = this(args, "__len__")?;
    Ok(Value::Int(s.char_len() as i64))
}

fn str_contains(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let s = this(args, "__contains__")?;
    crate::vm::builtins::one_arg("str.__contains__", &args[1..])?;
    Ok(Value::Bool(vm.contains(&Value::Str(s), &args[1])?))
}

fn str_iter(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let s = this(args, "__iter__")?;
    vm.iter(&Value::Str(s))
}

fn str_getitem(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let s = this(args, "__getitem__")?;
    crate::vm::builtins::one_arg("str.__getitem__", &args[1..])?;
    vm.get_item(&Value::Str(s), &args[1])
}

fn str_str(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::Str(this(args, "__str__")?))
}

fn str_mod(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let s = this(args, "__mod__")?;
    crate::vm::builtins::one_arg("str.__mod__", &args[1..])?;
    Ok(new_str(format::percent_format(vm, s.as_str(), &args[1])?))
}

/// `str(object='')`, `str(bytes, encoding, errors)`.
/// `str(i)` for a small int, formatted without the `fmt` machinery.
fn int_str(i: i64) -> Value {
    let mut buf = [0u8; 21];
    let mut n = i.unsigned_abs();
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if i < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    Value::Str(Brc::new(PyStr::from_ascii(&buf[at..])))
}

/// `str(v)`: what a call of `str` with one argument returns.
pub fn str_of(vm: &mut Vm, v: &Value) -> PyResult<Value> {
    match v {
        Value::Str(_) => Ok(v.clone()),
        Value::Int(i) => Ok(int_str(*i)),
        // A script's `__str__` may return a str subclass instance: kept.
        Value::Instance(_) => vm.str_value(v),
        v => Ok(new_str(vm.to_str(v)?)),
    }
}

fn str_new(vm: &mut Vm, args: &[Value], kwargs: Kwargs) -> PyResult<Value> {
    // The common `str(x)`.
    if let (2, true, Some(Value::Class(c))) = (args.len(), kwargs.is_empty(), args.first()) {
        if Arc::ptr_eq(c, &types().str_) {
            return str_of(vm, &args[1]);
        }
    }
    let cls = args.first().cloned().unwrap_or(Value::None);
    let a = merge_kwargs("str", &args[1..], kwargs, &["object", "encoding", "errors"])?;
    let value = match (&a[0], &a[1], &a[2]) {
        (None, None, None) => Value::str(""),
        (Some(v), None, None) => match v {
            Value::Str(_) => v.clone(),
            _ => new_str(vm.to_str(v)?),
        },
        (obj, enc, errs) => {
            let text_arg = |v: &Option<Value>, default: &str, n: &str| -> PyResult<String> {
                match v {
                    None => Ok(default.to_string()),
                    Some(v) => match str_arg(v) {
                        Some(s) => Ok(s.as_str().to_string()),
                        None => Err(PyErr::type_error(format!(
                            "str() argument '{n}' must be str, not {}",
                            arg_type_name(v)
                        ))),
                    },
                }
            };
            let enc = text_arg(enc, "utf-8", "encoding")?;
            let errs = text_arg(errs, "strict", "errors")?;
            match obj {
                None => Value::str(""),
                Some(b @ (Value::Bytes(_) | Value::ByteArray(_))) => {
                    let b = crate::vm::bytes::must_bytes_like(b)?;
                    new_str(decode(&b, &enc, &errs)?)
                }
                Some(Value::Str(_)) => {
                    return Err(PyErr::type_error("decoding str is not supported"))
                }
                Some(other) => {
                    return Err(PyErr::type_error(format!(
                        "decoding to str: need a bytes-like object, {} found",
                        type_name(other)
                    )))
                }
            }
        }
    };
    crate::vm::number::wrap_for_class(&cls, value, &types().str_)
}

/// Install the methods of `str`.
pub fn install(t: &Types) {
    let c = &t.str_;
    constructor(c, str_new);
    method_fast(c, "upper", str_upper, upper_fast);
    method_fast(c, "lower", str_lower, lower_fast);
    method(c, "title", str_title);
    method(c, "capitalize", str_capitalize);
    method(c, "swapcase", str_swapcase);
    method(c, "casefold", str_casefold);
    method(c, "isdigit", str_isdigit);
    method(c, "isdecimal", str_isdecimal);
    method(c, "isnumeric", str_isnumeric);
    method(c, "isalpha", str_isalpha);
    method(c, "isalnum", str_isalnum);
    method(c, "isspace", str_isspace);
    method(c, "isupper", str_isupper);
    method(c, "islower", str_islower);
    method(c, "istitle", str_istitle);
    method(c, "isidentifier", str_isidentifier);
    method(c, "isprintable", str_isprintable);
    method(c, "isascii", str_isascii);
    method_kw(c, "split", str_split);
    method_kw(c, "rsplit", str_rsplit);
    method_kw(c, "splitlines", str_splitlines);
    method(c, "join", str_join);
    method(c, "strip", str_strip);
    method(c, "lstrip", str_lstrip);
    method(c, "rstrip", str_rstrip);
    method(c, "find", str_find);
    method(c, "rfind", str_rfind);
    method(c, "index", str_index);
    method(c, "rindex", str_rindex);
    method(c, "count", str_count);
    method(c, "replace", str_replace);
    method(c, "startswith", str_startswith);
    method(c, "endswith", str_endswith);
    method(c, "center", str_center);
    method(c, "ljust", str_ljust);
    method(c, "rjust", str_rjust);
    method(c, "zfill", str_zfill);
    method_kw(c, "expandtabs", str_expandtabs);
    method(c, "partition", str_partition);
    method(c, "rpartition", str_rpartition);
    method(c, "removeprefix", str_removeprefix);
    method(c, "removesuffix", str_removesuffix);
    method_kw(c, "encode", str_encode);
    method_kw(c, "format", str_format);
    method(c, "format_map", str_format_map);
    method(c, "translate", str_translate);
    method(c, "__len__", str_len);
    method(c, "__contains__", str_contains);
    method(c, "__getitem__", str_getitem);
    method(c, "__iter__", str_iter);
    method(c, "__str__", str_str);
    method(c, "__mod__", str_mod);
    let static_fn =
        crate::vm::builtins::native_no_kwargs("maketrans", "str.maketrans", str_maketrans, false);
    let wrapped = Value::Object(Arc::new(crate::vm::value::Object {
        class: t.staticmethod.clone(),
        kind: crate::vm::value::ObjKind::StaticMethod(static_fn),
    }));
    c.attrs.lock().insert("maketrans".into(), wrapped);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concat_in_place_reuses_only_unshared_operands() {
        let s = Value::from_string("x".repeat(40));
        let t = Value::str("yz");
        // [local s, s, t]: the local goes, `s` grows in place.
        let mut stack = vec![s.clone(), s, t.clone()];
        assert_eq!(concat_in_place(&mut stack, Some(0)).ok(), Some(true));
        assert_eq!(stack.len(), 2);
        assert!(stack[0].is_null());
        assert_eq!(
            stack[1].as_str(),
            Some(format!("{}yz", "x".repeat(40)).as_str())
        );
        // Someone else still holds `s`: nothing changes.
        let s = Value::from_string("x".repeat(40));
        let keep = s.clone();
        let mut stack = vec![s.clone(), s, t.clone()];
        assert_eq!(concat_in_place(&mut stack, Some(0)).ok(), Some(false));
        assert_eq!(stack.len(), 3);
        assert!(stack[0].is(&keep) && stack[1].is(&keep));
        assert_eq!(keep.as_str(), Some("x".repeat(40).as_str()));
        // The local holds another string: it stays; the unshared left
        // operand takes the result.
        let mut stack = vec![Value::str("a"), Value::str("b"), t.clone()];
        assert_eq!(concat_in_place(&mut stack, Some(0)).ok(), Some(true));
        assert_eq!(stack.len(), 2);
        assert_eq!(stack[0].as_str(), Some("a"));
        assert_eq!(stack[1].as_str(), Some("byz"));
        // Only the right operand is unshared: it takes the result.
        let mut stack = vec![t.clone(), Value::str("cd")];
        assert_eq!(concat_in_place(&mut stack, None).ok(), Some(true));
        assert_eq!(stack.len(), 1);
        assert_eq!(stack[0].as_str(), Some("yzcd"));
        // Both shared, or an empty operand: nothing changes.
        let e = Value::str("");
        for mut stack in [vec![t.clone(), t.clone()], vec![e.clone(), Value::str("x")]] {
            assert_eq!(concat_in_place(&mut stack, None).ok(), Some(false));
            assert_eq!(stack.len(), 2);
        }
        assert_eq!(t.as_str(), Some("yz"));
    }

    #[test]
    fn repr_quoting() {
        assert_eq!(str_repr("it's"), "\"it's\"");
        assert_eq!(str_repr("a\"b"), "'a\"b'");
        assert_eq!(str_repr("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(
            str_repr("\x00\x7f\u{80}\u{a0}\u{ad}\u{200b}\u{2028}\u{e000}é中😀"),
            "'\\x00\\x7f\\x80\\xa0\\xad\\u200b\\u2028\\ue000é中😀'"
        );
        assert_eq!(escape_non_ascii("'é中😀'"), "'\\xe9\\u4e2d\\U0001f600'");
        assert_eq!(str_repr("a\\b\n\t"), "'a\\\\b\\n\\t'");
        assert_eq!(bytes_repr(b"a'\x00\xff"), "b\"a'\\x00\\xff\"");
    }

    #[test]
    fn splitting() {
        assert_eq!(split_whitespace("  a b  c  ", 1), vec!["a", "b  c  "]);
        assert_eq!(rsplit_whitespace("a b  c  ", 1), vec!["a b", "c"]);
        assert_eq!(rsplit_whitespace("  a  ", 0), vec!["  a"]);
        assert_eq!(split_whitespace("  a b ", 0), vec!["a b "]);
        assert_eq!(split_whitespace("", -1), Vec::<String>::new());
        assert_eq!(split_sep("a,b,,c", ",", -1), vec!["a", "b", "", "c"]);
        assert_eq!(rsplit_sep("a,b,c", ",", 1), vec!["a,b", "c"]);
        assert_eq!(
            splitlines("a\r\nb\rc\x0bd\x1ce\u{85}f\u{2028}g\n", false),
            vec!["a", "b", "c", "d", "e", "f", "g"]
        );
        assert_eq!(splitlines("ab\n\n", true), vec!["ab\n", "\n"]);
    }

    #[test]
    fn case_and_padding() {
        assert_eq!(title("they're bill's 1st"), "They'Re Bill'S 1St");
        assert_eq!(title("ǆ"), "ǅ");
        assert_eq!(upper("ß"), "SS");
        assert_eq!(casefold("ß"), "ss");
        assert_eq!(lower("ΣΑΣ"), "σας");
        assert_eq!(capitalize("hello WORLD"), "Hello world");
        assert_eq!(
            expandtabs("a\tbc\td\n\tx", 8),
            "a       bc      d\n        x"
        );
        assert!(istitle("A B"));
        assert!(istitle("Ab1"));
        assert!(istitle("ǅ"));
        assert!(!istitle("aB"));
    }

    #[test]
    fn find_and_count() {
        let s = PyStr::new("abc");
        assert_eq!(find_impl(&s, "", Some(3), None, false), Some(3));
        assert_eq!(find_impl(&s, "", Some(4), None, false), None);
        assert_eq!(find_impl(&s, "c", Some(-1), None, false), Some(2));
        assert_eq!(count_impl(&s, "", None, None), 4);
        assert_eq!(count_impl(&s, "", Some(1), Some(2)), 2);
        assert_eq!(count_impl(&PyStr::new("aaa"), "aa", None, None), 1);
        assert_eq!(find_impl(&s, "", None, None, true), Some(3));
        let t = PyStr::new("abcabc");
        assert_eq!(find_impl(&t, "b", Some(0), Some(4), true), Some(1));
        let u = PyStr::new("héllo wörld");
        assert_eq!(find_impl(&u, "ö", None, None, false), Some(7));
        assert_eq!(slice_str(&u, 1, 4, 1), "éll");
        assert_eq!(slice_str(&u, 10, -1, -2), "drwolh");
        assert!(!tailmatch(&s, "", Some(5), None, false));
        assert!(tailmatch(&s, "", Some(3), None, false));
        assert!(tailmatch(&s, "b", Some(0), Some(2), true));
    }
}
