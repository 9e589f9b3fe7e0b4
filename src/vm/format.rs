//! Text formatting: the format-spec mini-language (`format()`, f-strings),
//! `str.format` templates and printf-style `%` formatting.

use crate::vm::builtins::{base_value, type_name};
use crate::vm::error::{PyErr, PyResult};
use crate::vm::interp::Vm;
use crate::vm::number::{self, int_ref, IntRef};
use crate::vm::str::check_size;
use crate::vm::value::{Kwargs, Value};

/// A parsed format spec: `[[fill]align][sign][z][#][0][width][grouping][.precision][type]`.
#[derive(Clone, Debug, PartialEq)]
pub struct FormatSpec {
    pub fill: char,
    pub align: Option<char>,
    pub sign: Option<char>,
    pub no_neg_zero: bool,
    pub alt: bool,
    pub width: usize,
    pub grouping: Option<char>,
    pub precision: Option<usize>,
    pub ty: Option<char>,
}

impl FormatSpec {
    fn empty() -> FormatSpec {
        FormatSpec {
            fill: ' ',
            align: None,
            sign: None,
            no_neg_zero: false,
            alt: false,
            width: 0,
            grouping: None,
            precision: None,
            ty: None,
        }
    }
}

fn is_align(c: char) -> bool {
    matches!(c, '<' | '>' | '^' | '=')
}

/// Parse a spec for a value of `type_name`, whose default alignment is
/// right for numbers and left for strings.
pub fn parse_spec(spec: &str, type_name: &str, numeric: bool) -> PyResult<FormatSpec> {
    let mut f = FormatSpec::empty();
    let chars: Vec<char> = spec.chars().collect();
    let mut i = 0;
    let mut fill_given = false;
    if chars.len() >= 2 && is_align(chars[1]) {
        f.fill = chars[0];
        f.align = Some(chars[1]);
        fill_given = true;
        i = 2;
    } else if !chars.is_empty() && is_align(chars[0]) {
        f.align = Some(chars[0]);
        i = 1;
    }
    if i < chars.len() && matches!(chars[i], '+' | '-' | ' ') {
        f.sign = Some(chars[i]);
        i += 1;
    }
    if i < chars.len() && chars[i] == 'z' {
        f.no_neg_zero = true;
        i += 1;
    }
    if i < chars.len() && chars[i] == '#' {
        f.alt = true;
        i += 1;
    }
    if !fill_given && i < chars.len() && chars[i] == '0' {
        f.fill = '0';
        if f.align.is_none() && numeric {
            f.align = Some('=');
        }
        i += 1;
    }
    let too_many = || PyErr::value_error("Too many decimal digits in format string");
    let start = i;
    while i < chars.len() && chars[i].is_ascii_digit() {
        i += 1;
    }
    if i > start {
        let s: String = chars[start..i].iter().collect();
        f.width = s.parse().map_err(|_| too_many())?;
        if f.width > isize::MAX as usize / 8 {
            return Err(too_many());
        }
    }
    if i < chars.len() && (chars[i] == ',' || chars[i] == '_') {
        f.grouping = Some(chars[i]);
        i += 1;
        // Only a mixed pair is this error; a doubled one (",,") leaves the
        // second as the type code, which is refused later, as in CPython.
        if i < chars.len() && (chars[i] == ',' || chars[i] == '_') && Some(chars[i]) != f.grouping {
            return Err(PyErr::value_error("Cannot specify both ',' and '_'."));
        }
    }
    if i < chars.len() && chars[i] == '.' {
        i += 1;
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return Err(PyErr::value_error("Format specifier missing precision"));
        }
        let s: String = chars[start..i].iter().collect();
        let p: usize = s.parse().map_err(|_| too_many())?;
        if p > isize::MAX as usize / 8 {
            return Err(too_many());
        }
        f.precision = Some(p);
    }
    if chars.len() - i > 1 {
        return Err(PyErr::value_error(format!(
            "Invalid format specifier '{spec}' for object of type '{type_name}'"
        )));
    }
    if i < chars.len() {
        f.ty = Some(chars[i]);
    }
    if let Some(g) = f.grouping {
        let ty = f.ty.unwrap_or(if numeric { 'd' } else { 's' });
        let ok = match ty {
            'd' | 'e' | 'f' | 'g' | 'E' | 'G' | '%' | 'F' => true,
            'b' | 'o' | 'x' | 'X' => g == '_',
            _ => false,
        };
        if !ok {
            return Err(PyErr::value_error(format!(
                "Cannot specify '{g}' with '{ty}'."
            )));
        }
    }
    Ok(f)
}

fn unknown_code(ty: char, type_name: &str) -> PyErr {
    PyErr::value_error(format!(
        "Unknown format code '{ty}' for object of type '{type_name}'"
    ))
}

/// Pad `body` (already including sign and prefix) to the spec's width.
fn pad(body: &str, spec: &FormatSpec, default_align: char) -> PyResult<String> {
    let len = body.chars().count();
    if len >= spec.width {
        return Ok(body.to_string());
    }
    // The padded text is built here and then copied into a str object.
    check_size(2 * spec.width as u128 * spec.fill.len_utf8() as u128)?;
    let n = spec.width - len;
    let fill = |k: usize| std::iter::repeat_n(spec.fill, k);
    let mut out = String::with_capacity(body.len() + n * spec.fill.len_utf8());
    match spec.align.unwrap_or(default_align) {
        '<' => {
            out.push_str(body);
            out.extend(fill(n));
        }
        '^' => {
            out.extend(fill(n / 2));
            out.push_str(body);
            out.extend(fill(n - n / 2));
        }
        _ => {
            out.extend(fill(n));
            out.push_str(body);
        }
    }
    Ok(out)
}

/// Group `digits` from the right in groups of `group`, zero-filling on the
/// left until at least `min_width` characters (never starting with a separator).
fn group_digits(digits: &str, sep: Option<char>, group: usize, min_width: usize) -> String {
    let ds: Vec<char> = digits.chars().rev().collect();
    let mut out: Vec<char> = Vec::with_capacity(ds.len() * 2 + min_width);
    let mut count = 0;
    let mut i = 0;
    loop {
        let have = i < ds.len();
        if !have && out.len() >= min_width && (i > 0 || ds.is_empty()) {
            break;
        }
        if let Some(s) = sep {
            if count == group {
                out.push(s);
                count = 0;
            }
        }
        out.push(if have { ds[i] } else { '0' });
        i += 1;
        count += 1;
    }
    out.iter().rev().collect()
}

/// Assemble a number: sign, prefix, integer digits (grouped), the rest
/// (fraction, exponent, suffix), then padding; handles `=` and zero-fill.
fn layout_number(
    negative: bool,
    prefix: &str,
    int_digits: &str,
    rest: &str,
    spec: &FormatSpec,
    group: usize,
) -> PyResult<String> {
    // Digits are grouped as chars (4 bytes each) before becoming a string.
    check_size(4 * spec.width as u128)?;
    let sign = if negative {
        "-"
    } else {
        match spec.sign {
            Some('+') => "+",
            Some(' ') => " ",
            _ => "",
        }
    };
    let align = spec.align.unwrap_or('>');
    let zero_fill = align == '=' && spec.fill == '0';
    let fixed = sign.len() + prefix.len() + rest.chars().count();
    let min_width = if zero_fill {
        spec.width.saturating_sub(fixed)
    } else {
        0
    };
    let digits = group_digits(int_digits, spec.grouping, group, min_width);
    if align == '=' && !zero_fill {
        let len = fixed + digits.chars().count();
        let n = spec.width.saturating_sub(len);
        let mut out = String::new();
        out.push_str(sign);
        out.push_str(prefix);
        out.extend(std::iter::repeat_n(spec.fill, n));
        out.push_str(&digits);
        out.push_str(rest);
        return Ok(out);
    }
    let body = format!("{sign}{prefix}{digits}{rest}");
    pad(&body, spec, '>')
}

/// `format(int, spec)`.
pub fn format_int(i: IntRef, spec: &FormatSpec, type_name: &str) -> PyResult<String> {
    let ty = spec.ty.unwrap_or('d');
    match ty {
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' | '%' => {
            return format_float(i.to_f64()?, spec, type_name);
        }
        'd' | 'n' | 'b' | 'o' | 'x' | 'X' | 'c' => {}
        _ => return Err(unknown_code(ty, type_name)),
    }
    if spec.precision.is_some() {
        return Err(PyErr::value_error(
            "Precision not allowed in integer format specifier",
        ));
    }
    if spec.no_neg_zero {
        return Err(PyErr::value_error(
            "Negative zero coercion (z) not allowed in integer format specifier",
        ));
    }
    if ty == 'c' {
        if spec.sign.is_some() {
            return Err(PyErr::value_error(
                "Sign not allowed with integer format specifier 'c'",
            ));
        }
        if spec.alt {
            return Err(PyErr::value_error(
                "Alternate form (#) not allowed with integer format specifier 'c'",
            ));
        }
        // format() converts to a C long first (its own OverflowError);
        // `%c` checks the range only.
        let n = i
            .to_i64()
            .ok_or_else(|| PyErr::overflow_error("Python int too large to convert to C long"))?;
        let c = Some(n)
            .filter(|n| (0..0x110000).contains(n))
            .and_then(|n| char::from_u32(n as u32))
            .ok_or_else(|| PyErr::overflow_error("%c arg not in range(0x110000)"))?;
        return pad(&c.to_string(), spec, '>');
    }
    if ty == 'n' && spec.grouping.is_some() {
        return Err(PyErr::value_error(format!(
            "Cannot specify '{}' with 'n'.",
            spec.grouping.unwrap_or(',')
        )));
    }
    let (digits, prefix, group) = match ty {
        'b' => (number::int_to_radix(i, 2, false), "0b", 4),
        'o' => (number::int_to_radix(i, 8, false), "0o", 4),
        'x' => (number::int_to_radix(i, 16, false), "0x", 4),
        'X' => (number::int_to_radix(i, 16, true), "0X", 4),
        _ => {
            let s = number::int_to_decimal(i)?;
            (s.trim_start_matches('-').to_string(), "", 3)
        }
    };
    let prefix = if spec.alt { prefix } else { "" };
    layout_number(i.is_negative(), prefix, &digits, "", spec, group)
}

/// Strip trailing zeros (and a bare point) from a positional mantissa.
fn strip_zeros(s: &mut String) {
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
}

/// `d.ddd` + `e+XX` from Rust's `{:.p$e}` of |x|.
fn exp_form(x: f64, prec: usize, alt: bool, strip: bool, upper: bool) -> String {
    let (_, digits, exp) = number::sci_digits(x.abs(), prec);
    let mut m = String::with_capacity(prec + 8);
    m.push_str(&digits[..1]);
    if digits.len() > 1 || alt {
        m.push('.');
        m.push_str(&digits[1..]);
    }
    if strip && !alt {
        strip_zeros(&mut m);
    }
    number::push_exponent(&mut m, exp);
    if upper {
        m = m.to_uppercase();
    }
    m
}

/// The digits of |x| for a float presentation type (no sign).
fn float_body(x: f64, ty: char, prec: Option<usize>, alt: bool) -> String {
    let upper = ty.is_ascii_uppercase();
    let pct = if ty == '%' { "%" } else { "" };
    // '%' formats x * 100, which may overflow to inf.
    let x = if ty == '%' { x * 100.0 } else { x };
    if x.is_nan() {
        return format!("{}{pct}", if upper { "NAN" } else { "nan" });
    }
    if x.is_infinite() {
        return format!("{}{pct}", if upper { "INF" } else { "inf" });
    }
    let ax = x.abs();
    match ty {
        'e' | 'E' => exp_form(ax, prec.unwrap_or(6), alt, false, upper),
        'f' | 'F' | '%' => {
            let p = prec.unwrap_or(6);
            let mut s = number::fixed_digits(ax, p);
            if alt && p == 0 {
                s.push('.');
            }
            if ty == '%' {
                s.push('%');
            }
            s
        }
        'g' | 'G' | 'n' => general(ax, prec.unwrap_or(6), alt, false, upper),
        // No type: repr without a precision, else 'g' that keeps a `.0`.
        _ => match prec {
            None => {
                let mut s = number::float_repr(ax);
                if alt && !s.contains('.') {
                    match s.find('e') {
                        Some(i) => s.insert(i, '.'),
                        None => s.push('.'),
                    }
                }
                s
            }
            Some(p) => general(ax, p, alt, true, upper),
        },
    }
}

/// The 'g' presentation: positional when -4 <= exp < precision.
fn general(ax: f64, prec: usize, alt: bool, add_dot_zero: bool, upper: bool) -> String {
    let p = prec.max(1);
    let (_, _, exp) = number::sci_digits(ax, p - 1);
    // With no presentation type, CPython switches to exponent form one
    // digit earlier (so `format(2.5, '.1')` is `2e+00`, not `2.0`).
    let limit = if add_dot_zero { p as i32 - 1 } else { p as i32 };
    if (-4..limit).contains(&exp) {
        let decimals = (p as i32 - 1 - exp) as usize;
        let mut s = number::fixed_digits(ax, decimals);
        if alt {
            if !s.contains('.') {
                s.push('.');
            }
        } else {
            strip_zeros(&mut s);
            if add_dot_zero && !s.contains('.') {
                s.push_str(".0");
            }
        }
        s
    } else {
        exp_form(ax, p - 1, alt, true, upper)
    }
}

/// `format(float, spec)`.
pub fn format_float(x: f64, spec: &FormatSpec, type_name: &str) -> PyResult<String> {
    let ty = spec.ty.unwrap_or('\0');
    if !matches!(ty, '\0' | 'e' | 'E' | 'f' | 'F' | 'g' | 'G' | 'n' | '%') {
        return Err(unknown_code(ty, type_name));
    }
    if spec.precision.is_some_and(|p| p > i32::MAX as usize) {
        return Err(PyErr::value_error("precision too big"));
    }
    let body = float_body(x, ty, spec.precision, spec.alt);
    let mut negative = x.is_sign_negative() && !x.is_nan();
    if negative
        && spec.no_neg_zero
        && x.is_finite()
        && body.bytes().all(|b| !b.is_ascii_digit() || b == b'0')
    {
        negative = false;
    }
    // Split the integer digits (grouped, zero-filled) from the rest.
    let split = body
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(body.len());
    let scaled = if ty == '%' { x * 100.0 } else { x };
    let (int_part, rest) = if scaled.is_finite() {
        body.split_at(split)
    } else {
        ("", body.as_str())
    };
    if !scaled.is_finite() {
        let spec2 = FormatSpec {
            grouping: None,
            ..spec.clone()
        };
        return layout_number(negative, "", int_part, rest, &spec2, 3);
    }
    layout_number(negative, "", int_part, rest, spec, 3)
}

/// `format(str, spec)`.
pub fn format_str(s: &str, spec: &FormatSpec) -> PyResult<String> {
    let ty = spec.ty.unwrap_or('s');
    if ty != 's' {
        return Err(unknown_code(ty, "str"));
    }
    if let Some(sign) = spec.sign {
        return Err(PyErr::value_error(if sign == ' ' {
            "Space not allowed in string format specifier"
        } else {
            "Sign not allowed in string format specifier"
        }));
    }
    if spec.no_neg_zero {
        return Err(PyErr::value_error(
            "Negative zero coercion (z) not allowed in string format specifier",
        ));
    }
    if spec.alt {
        return Err(PyErr::value_error(
            "Alternate form (#) not allowed in string format specifier",
        ));
    }
    if spec.align == Some('=') {
        return Err(PyErr::value_error(
            "'=' alignment not allowed in string format specifier",
        ));
    }
    let truncated: &str = match spec.precision {
        Some(p) => match s.char_indices().nth(p) {
            Some((i, _)) => &s[..i],
            None => s,
        },
        None => s,
    };
    pad(truncated, spec, '<')
}

/// `format(v, spec)` for the built-in scalar types; `None` for anything else.
pub fn format_builtin(v: &Value, spec: &str) -> Option<PyResult<String>> {
    Some(match v {
        Value::Str(s) => {
            if spec.is_empty() {
                return Some(Ok(s.as_str().to_string()));
            }
            parse_spec(spec, "str", false).and_then(|f| format_str(s.as_str(), &f))
        }
        Value::Int(_) | Value::BigInt(_) | Value::Bool(_) => {
            let i = int_ref(v)?;
            if spec.is_empty() {
                return Some(match v {
                    Value::Bool(b) => Ok(if *b { "True" } else { "False" }.to_string()),
                    _ => number::int_to_decimal(i),
                });
            }
            let tn = if matches!(v, Value::Bool(_)) {
                "bool"
            } else {
                "int"
            };
            parse_spec(spec, tn, true).and_then(|f| format_int(i, &f, tn))
        }
        Value::Float(x) => {
            if spec.is_empty() {
                return Some(Ok(number::float_repr(*x)));
            }
            parse_spec(spec, "float", true).and_then(|f| format_float(*x, &f, "float"))
        }
        _ => return None,
    })
}

// ---------------------------------------------------------------- str.format

/// Where `{name}` fields come from: `str.format`'s keywords or `format_map`'s mapping.
pub enum Named<'a> {
    Kwargs(Kwargs<'a>),
    Mapping(&'a Value),
}

struct Template<'a, 'b> {
    args: &'a [Value],
    named: &'a Named<'b>,
    auto: Option<usize>,
    manual: bool,
}

/// `template.format(*args, **kwargs)`.
pub fn format_template(
    vm: &mut Vm,
    template: &str,
    args: &[Value],
    named: &Named,
) -> PyResult<String> {
    let mut t = Template {
        args,
        named,
        auto: None,
        manual: false,
    };
    render(vm, &mut t, template, 2)
}

fn render(vm: &mut Vm, t: &mut Template, template: &str, depth: u32) -> PyResult<String> {
    if depth == 0 {
        return Err(PyErr::value_error("Max string recursion exceeded"));
    }
    let mut out = String::with_capacity(template.len());
    let chars: Vec<char> = template.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '}' {
            if chars.get(i + 1) == Some(&'}') {
                out.push('}');
                i += 2;
                continue;
            }
            return Err(PyErr::value_error(
                "Single '}' encountered in format string",
            ));
        }
        if c != '{' {
            out.push(c);
            i += 1;
            continue;
        }
        if chars.get(i + 1) == Some(&'{') {
            out.push('{');
            i += 2;
            continue;
        }
        if i + 1 >= chars.len() {
            return Err(PyErr::value_error(
                "Single '{' encountered in format string",
            ));
        }
        let field = parse_field(&chars, i + 1)?;
        i = field.end;
        let piece = render_field(vm, t, field, depth)?;
        out.push_str(&piece);
    }
    Ok(out)
}

/// A replacement field `{name!conversion:spec}` and where it ends.
struct Field {
    name: String,
    conversion: Option<char>,
    spec: String,
    /// The index just past the field's closing '}'.
    end: usize,
}

/// CPython's `parse_field` (`Objects/stringlib/unicode_format.h`), from just
/// after the opening '{'. The name ends at '}', ':' or '!' outside brackets;
/// the spec at the '}' that balances the braces inside it. Its checks come
/// in CPython's order, so a malformed field gets CPython's message.
fn parse_field(chars: &[char], mut i: usize) -> PyResult<Field> {
    let name_start = i;
    let mut c = '\0';
    while i < chars.len() {
        c = chars[i];
        i += 1;
        match c {
            '{' => return Err(PyErr::value_error("unexpected '{' in field name")),
            // Skip to the ']' (not past it): `{a[:]}` indexes with ":".
            '[' => {
                while i < chars.len() && chars[i] != ']' {
                    i += 1;
                }
            }
            '}' | ':' | '!' => break,
            _ => {}
        }
    }
    if !matches!(c, '}' | ':' | '!') {
        return Err(PyErr::value_error("expected '}' before end of string"));
    }
    let name: String = chars[name_start..i - 1].iter().collect();
    let mut field = Field {
        name,
        conversion: None,
        spec: String::new(),
        end: i,
    };
    if c == '}' {
        return Ok(field);
    }
    if c == '!' {
        let Some(&conv) = chars.get(i) else {
            return Err(PyErr::value_error(
                "end of string while looking for conversion specifier",
            ));
        };
        field.conversion = Some(conv);
        i += 1;
        if let Some(&next) = chars.get(i) {
            i += 1;
            if next == '}' {
                field.end = i;
                return Ok(field);
            }
            if next != ':' {
                return Err(PyErr::value_error(
                    "expected ':' after conversion specifier",
                ));
            }
        }
    }
    let spec_start = i;
    let mut level = 1;
    while i < chars.len() {
        i += 1;
        match chars[i - 1] {
            '{' => level += 1,
            '}' => {
                level -= 1;
                if level == 0 {
                    field.spec = chars[spec_start..i - 1].iter().collect();
                    field.end = i;
                    return Ok(field);
                }
            }
            _ => {}
        }
    }
    Err(PyErr::value_error("unmatched '{' in format spec"))
}

fn render_field(vm: &mut Vm, t: &mut Template, field: Field, depth: u32) -> PyResult<String> {
    let Field {
        name,
        conversion,
        spec,
        ..
    } = field;
    let value = resolve_field(vm, t, &name)?;
    let value = match conversion {
        None => value,
        Some('r') => Value::from_string(vm.repr(&value)?),
        Some('s') => Value::from_string(vm.to_str(&value)?),
        Some('a') => Value::from_string(crate::vm::str::ascii_repr(vm, &value)?),
        Some(c) => {
            return Err(PyErr::value_error(format!(
                "Unknown conversion specifier {c}"
            )))
        }
    };
    let spec = if spec.contains('{') {
        render(vm, t, &spec, depth - 1)?
    } else {
        spec
    };
    vm.format(&value, &spec)
}

fn resolve_field(vm: &mut Vm, t: &mut Template, name: &str) -> PyResult<Value> {
    let first_end = name.find(['.', '[']).unwrap_or(name.len());
    let first = &name[..first_end];
    let mut value = if first.is_empty() {
        if t.manual {
            return Err(PyErr::value_error(
                "cannot switch from manual field specification to automatic field numbering",
            ));
        }
        let n = t.auto.map_or(0, |n| n + 1);
        t.auto = Some(n);
        positional(t, n)?
    } else if let Ok(n) = first.parse::<usize>() {
        if t.auto.is_some() {
            return Err(PyErr::value_error(
                "cannot switch from automatic field numbering to manual field specification",
            ));
        }
        t.manual = true;
        positional(t, n)?
    } else {
        match t.named {
            Named::Kwargs(kw) => match kw.iter().find(|(k, _)| &**k == first) {
                Some((_, v)) => v.clone(),
                None => return Err(PyErr::key_error(Value::str(first))),
            },
            Named::Mapping(m) => vm.get_item(m, &Value::str(first))?,
        }
    };
    // Then `.attr` and `[key]` accessors.
    let rest: Vec<char> = name[first_end..].chars().collect();
    let mut i = 0;
    while i < rest.len() {
        match rest[i] {
            '.' => {
                let start = i + 1;
                let mut j = start;
                while j < rest.len() && rest[j] != '.' && rest[j] != '[' {
                    j += 1;
                }
                if j == start {
                    return Err(PyErr::value_error("Empty attribute in format string"));
                }
                let attr: String = rest[start..j].iter().collect();
                value = vm.get_attr(&value, &attr)?;
                i = j;
            }
            '[' => {
                let start = i + 1;
                let mut j = start;
                while j < rest.len() && rest[j] != ']' {
                    j += 1;
                }
                if j >= rest.len() {
                    return Err(PyErr::value_error("Missing ']' in format string"));
                }
                if j == start {
                    return Err(PyErr::value_error("Empty attribute in format string"));
                }
                let key: String = rest[start..j].iter().collect();
                let key = match key.parse::<i64>() {
                    Ok(n) if key.bytes().all(|b| b.is_ascii_digit()) => Value::Int(n),
                    _ => Value::from_string(key),
                };
                value = vm.get_item(&value, &key)?;
                i = j + 1;
                if i < rest.len() && rest[i] != '.' && rest[i] != '[' {
                    return Err(PyErr::value_error(
                        "Only '.' or '[' may follow ']' in format field specifier",
                    ));
                }
            }
            _ => {
                return Err(PyErr::value_error(
                    "Only '.' or '[' may follow ']' in format field specifier",
                ))
            }
        }
    }
    Ok(value)
}

fn positional(t: &Template, n: usize) -> PyResult<Value> {
    t.args.get(n).cloned().ok_or_else(|| {
        PyErr::index_error(format!(
            "Replacement index {n} out of range for positional args tuple"
        ))
    })
}

// ---------------------------------------------------------------- % formatting

/// `template % args` (printf-style formatting of str).
pub fn percent_format(vm: &mut Vm, template: &str, args: &Value) -> PyResult<String> {
    let chars: Vec<char> = template.chars().collect();
    percent_core(vm, &chars, args, false)
}

/// `template % args` for bytes and bytearray: the same machine over the
/// template's bytes as Latin-1 characters, every piece being Latin-1 too.
pub fn percent_format_bytes(vm: &mut Vm, template: &[u8], args: &Value) -> PyResult<Vec<u8>> {
    let chars: Vec<char> = template.iter().map(|&b| b as char).collect();
    let out = percent_core(vm, &chars, args, true)?;
    Ok(out
        .chars()
        .map(|c| u8::try_from(c as u32).unwrap_or(b'?'))
        .collect())
}

fn latin1(b: &[u8]) -> String {
    b.iter().map(|&c| c as char).collect()
}

/// `%s`/`%b` of bytes formatting: a bytes-like object or `__bytes__`.
fn percent_bytes_arg(vm: &mut Vm, arg: &Value) -> PyResult<String> {
    if let Some(b) = crate::vm::bytes::bytes_like(arg) {
        return Ok(latin1(&b));
    }
    if let Some(r) = vm.call_dunder_unary(arg, "__bytes__")? {
        if let Value::Bytes(b) = base_value(&r) {
            return Ok(latin1(&b));
        }
        return Err(PyErr::type_error(format!(
            "__bytes__ returned non-bytes (type {})",
            type_name(&r)
        )));
    }
    Err(PyErr::type_error(format!(
        "%b requires a bytes-like object, or an object that implements __bytes__, not '{}'",
        type_name(arg)
    )))
}

/// `%c` of bytes formatting: an int in range(256) or a single byte.
fn percent_byte_char(arg: &Value) -> PyResult<String> {
    let bad = || PyErr::type_error("%c requires an integer in range(256) or a single byte");
    if let Some(b) = crate::vm::bytes::bytes_like(arg) {
        return match &b[..] {
            [c] => Ok((*c as char).to_string()),
            _ => Err(bad()),
        };
    }
    match int_ref(&base_value(arg)) {
        Some(n) => match n.to_i64() {
            Some(n @ 0..=255) => Ok((n as u8 as char).to_string()),
            _ => Err(PyErr::overflow_error("%c arg not in range(256)")),
        },
        None => Err(bad()),
    }
}

/// The printf-style formatting of str (`bytes` false) and bytes.
fn percent_core(vm: &mut Vm, chars: &[char], args: &Value, bytes: bool) -> PyResult<String> {
    let items: Vec<Value>;
    let (positional, single): (&[Value], bool) = match args {
        Value::Tuple(t) => (&t.items, false),
        _ => {
            items = vec![args.clone()];
            (&items, true)
        }
    };
    // A mapping (anything subscriptable but a tuple or str) may feed `%(key)s`.
    let mapping = match args {
        Value::Tuple(_) | Value::Str(_) => None,
        Value::Bytes(_) | Value::ByteArray(_) if bytes => None,
        // str formatting takes them as mappings (they are subscriptable).
        Value::Bytes(_) | Value::ByteArray(_) => Some(args.clone()),
        Value::Dict(_) | Value::List(_) => Some(args.clone()),
        // Subclasses of tuple and str (and, for bytes, of bytes and
        // bytearray) are no mappings either.
        Value::Instance(_) => match base_value(args) {
            Value::Tuple(_) | Value::Str(_) => None,
            Value::Bytes(_) | Value::ByteArray(_) if bytes => None,
            _ if vm.lookup_special(args, "__getitem__").is_some() => Some(args.clone()),
            _ => None,
        },
        _ => None,
    };
    let mut argi = 0;
    let mut used_mapping = false;
    let mut out = String::with_capacity(chars.len() + 16);
    let mut i = 0;
    let next_arg = |argi: &mut usize| -> PyResult<Value> {
        let v = positional
            .get(*argi)
            .cloned()
            .ok_or_else(|| PyErr::type_error("not enough arguments for format string"))?;
        *argi += 1;
        Ok(v)
    };
    while i < chars.len() {
        let c = chars[i];
        if c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        if i >= chars.len() {
            return Err(PyErr::value_error("incomplete format"));
        }
        if chars[i] == '%' {
            out.push('%');
            i += 1;
            continue;
        }
        let mut keyed: Option<Value> = None;
        if chars[i] == '(' {
            let Some(m) = &mapping else {
                return Err(PyErr::type_error("format requires a mapping"));
            };
            let mut depth = 1;
            let start = i + 1;
            let mut j = start;
            while j < chars.len() {
                match chars[j] {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            if j >= chars.len() {
                return Err(PyErr::value_error("incomplete format key"));
            }
            let key: String = chars[start..j].iter().collect();
            let key = if bytes {
                Value::Bytes(key.chars().map(|c| c as u8).collect::<Vec<u8>>().into())
            } else {
                Value::from_string(key)
            };
            keyed = Some(vm.get_item(m, &key)?);
            used_mapping = true;
            i = j + 1;
        }
        let mut spec = FormatSpec::empty();
        let mut left = false;
        let mut zero = false;
        while i < chars.len() {
            match chars[i] {
                '-' => left = true,
                '+' => spec.sign = Some('+'),
                ' ' => {
                    if spec.sign.is_none() {
                        spec.sign = Some(' ')
                    }
                }
                '#' => spec.alt = true,
                '0' => zero = true,
                _ => break,
            }
            i += 1;
        }
        // Width.
        if i < chars.len() && chars[i] == '*' {
            let w = next_arg(&mut argi)?;
            let w = star_arg(&w)?;
            if w < 0 {
                left = true;
            }
            spec.width = w.unsigned_abs() as usize;
            i += 1;
        } else {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            if i > start {
                let s: String = chars[start..i].iter().collect();
                spec.width = s.parse().map_err(|_| PyErr::value_error("width too big"))?;
            }
        }
        // Precision.
        if i < chars.len() && chars[i] == '.' {
            i += 1;
            if i < chars.len() && chars[i] == '*' {
                let p = next_arg(&mut argi)?;
                let p = star_arg(&p)?;
                if i32::try_from(p).is_err() {
                    return Err(PyErr::overflow_error(
                        "Python int too large to convert to C int",
                    ));
                }
                spec.precision = Some(p.max(0) as usize);
                i += 1;
            } else {
                let start = i;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
                let s: String = chars[start..i].iter().collect();
                spec.precision = Some(if s.is_empty() {
                    0
                } else {
                    s.parse::<i32>()
                        .map_err(|_| PyErr::value_error("precision too big"))?
                        as usize
                });
            }
        }
        // Length modifiers are accepted and ignored.
        while i < chars.len() && matches!(chars[i], 'h' | 'l' | 'L') {
            i += 1;
        }
        if i >= chars.len() {
            return Err(PyErr::value_error("incomplete format"));
        }
        let ty = chars[i];
        i += 1;
        let arg = match keyed {
            Some(v) => v,
            // After a `%(key)` field CPython has no positional argument left.
            None if used_mapping => {
                return Err(PyErr::type_error("not enough arguments for format string"));
            }
            None => next_arg(&mut argi)?,
        };
        if left {
            spec.align = Some('<');
        } else if zero {
            spec.fill = '0';
            spec.align = Some('=');
        }
        let piece = match ty {
            's' | 'r' | 'a' | 'b' if bytes || ty != 'b' => {
                let s = match ty {
                    's' | 'b' if bytes => percent_bytes_arg(vm, &arg)?,
                    // `%r` of bytes is `%a`: the result must be ASCII.
                    'r' if bytes => crate::vm::str::ascii_repr(vm, &arg)?,
                    's' => vm.to_str(&arg)?,
                    'r' => vm.repr(&arg)?,
                    _ => crate::vm::str::ascii_repr(vm, &arg)?,
                };
                let spec = FormatSpec {
                    fill: ' ',
                    align: Some(if left { '<' } else { '>' }),
                    sign: None,
                    alt: false,
                    ..spec
                };
                format_str(&s, &spec)?
            }
            'd' | 'i' | 'u' => {
                // bytes formatting names `%i` as `%d` in its errors.
                let named = if bytes && ty == 'i' { 'd' } else { ty };
                let n = percent_int(vm, &arg, named, true)?;
                percent_int_body(int_ref(&n).expect("int"), 10, &spec, false)?
            }
            'o' | 'x' | 'X' => {
                let n = percent_int(vm, &arg, ty, false)?;
                let radix = if ty == 'o' { 8 } else { 16 };
                percent_int_body(int_ref(&n).expect("int"), radix, &spec, ty == 'X')?
            }
            'e' | 'E' | 'f' | 'F' | 'g' | 'G' => {
                let x = match number::num_of(&base_value(&arg)) {
                    Some(number::Num::Float(f)) => f,
                    Some(number::Num::Int(n)) => n.to_f64()?,
                    None => match vm.call_dunder_unary(&arg, "__float__")? {
                        Some(Value::Float(f)) => f,
                        _ => {
                            let what = if bytes {
                                "float argument required"
                            } else {
                                "must be real number"
                            };
                            return Err(PyErr::type_error(format!(
                                "{what}, not {}",
                                type_name(&arg)
                            )));
                        }
                    },
                };
                let spec = FormatSpec {
                    ty: Some(ty),
                    precision: Some(spec.precision.unwrap_or(6)),
                    ..spec
                };
                format_float(x, &spec, "float")?
            }
            'c' => {
                let ch = match base_value(&arg) {
                    _ if bytes => percent_byte_char(&arg)?,
                    Value::Str(s) if s.char_len() == 1 => s.as_str().to_string(),
                    Value::Str(_) => {
                        return Err(PyErr::type_error("%c requires int or char"));
                    }
                    v => match int_ref(&v) {
                        Some(n) => {
                            let c = n
                                .to_i64()
                                .filter(|n| (0..0x110000).contains(n))
                                .and_then(|n| char::from_u32(n as u32))
                                .ok_or_else(|| {
                                    PyErr::overflow_error("%c arg not in range(0x110000)")
                                })?;
                            c.to_string()
                        }
                        None => return Err(PyErr::type_error("%c requires int or char")),
                    },
                };
                let spec = FormatSpec {
                    fill: ' ',
                    align: Some(if left { '<' } else { '>' }),
                    precision: None,
                    ..spec
                };
                format_str(
                    &ch,
                    &FormatSpec {
                        sign: None,
                        alt: false,
                        ..spec
                    },
                )?
            }
            _ => {
                return Err(PyErr::value_error(format!(
                    "unsupported format character '{}' (0x{:x}) at index {}",
                    ty,
                    ty as u32,
                    i - 1
                )))
            }
        };
        out.push_str(&piece);
    }
    if argi < positional.len() && !used_mapping && !(mapping.is_some() && single) {
        return Err(PyErr::type_error(if bytes {
            "not all arguments converted during bytes formatting"
        } else {
            "not all arguments converted during string formatting"
        }));
    }
    Ok(out)
}

fn star_arg(v: &Value) -> PyResult<i64> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(*b as i64),
        _ => Err(PyErr::type_error("* wants int")),
    }
}

/// The int for `%d` (floats truncate) or `%x`/`%o` (ints only).
fn percent_int(vm: &mut Vm, arg: &Value, ty: char, real_ok: bool) -> PyResult<Value> {
    let inner = base_value(arg);
    if int_ref(&inner).is_some() {
        return Ok(inner);
    }
    if let Value::Float(f) = inner {
        if real_ok {
            return number::float_to_int(f);
        }
    }
    let dunder = if real_ok { "__int__" } else { "__index__" };
    if !matches!(inner, Value::Float(_)) {
        if let Some(r) = vm.call_dunder_unary(arg, dunder)? {
            if int_ref(&r).is_some() {
                return Ok(r);
            }
        }
    }
    let what = if real_ok {
        "a real number"
    } else {
        "an integer"
    };
    Err(PyErr::type_error(format!(
        "%{ty} format: {what} is required, not {}",
        type_name(arg)
    )))
}

/// printf's integer conversion: precision is a minimum digit count.
fn percent_int_body(n: IntRef, radix: u32, spec: &FormatSpec, upper: bool) -> PyResult<String> {
    let mut digits = if radix == 10 {
        number::int_to_decimal(n)?
            .trim_start_matches('-')
            .to_string()
    } else {
        number::int_to_radix(n, radix, upper)
    };
    if let Some(p) = spec.precision {
        if digits.len() < p {
            digits = format!("{}{}", "0".repeat(p - digits.len()), digits);
        }
    }
    let prefix = match (spec.alt, radix, upper) {
        (true, 8, _) => "0o",
        (true, 16, false) => "0x",
        (true, 16, true) => "0X",
        _ => "",
    };
    let spec = FormatSpec {
        grouping: None,
        ..spec.clone()
    };
    layout_number(n.is_negative(), prefix, &digits, "", &spec, 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: Value, spec: &str) -> String {
        match format_builtin(&v, spec).unwrap() {
            Ok(s) => s,
            Err(e) => format!("ERR {}", err_text(&e)),
        }
    }

    fn err_text(e: &PyErr) -> String {
        let data = e.data().unwrap();
        let args = data.args.lock();
        match args.items.first() {
            Some(Value::Str(s)) => s.as_str().to_string(),
            _ => String::new(),
        }
    }

    #[test]
    fn int_specs() {
        assert_eq!(f(Value::Int(123), "#x"), "0x7b");
        assert_eq!(f(Value::Int(-123), "#010x"), "-0x000007b");
        assert_eq!(f(Value::Int(1), "=+5"), "+   1");
        assert_eq!(f(Value::Int(255), "08b"), "11111111");
        assert_eq!(f(Value::Int(1234567), "_d"), "1_234_567");
        assert_eq!(f(Value::Int(1234567), "_x"), "12_d687");
        assert_eq!(f(Value::Int(1234567), ","), "1,234,567");
        assert_eq!(f(Value::Int(65), "c"), "A");
        assert_eq!(f(Value::Int(123), "x<10"), "123xxxxxxx");
        assert_eq!(f(Value::Int(0), "#o"), "0o0");
        assert_eq!(f(Value::Int(1234), "010,"), "00,001,234");
        assert_eq!(f(Value::Int(1234), "0>10,"), "000001,234");
        assert_eq!(f(Value::Int(1234), "08,"), "0,001,234");
        assert_eq!(f(Value::Int(1234), "07,"), "001,234");
        assert_eq!(f(Value::Int(-1234), "08,"), "-001,234");
        assert_eq!(f(Value::Int(123), "09_x"), "0000_007b");
        assert_eq!(f(Value::Int(0x12345), "#012_x"), "0x0_0001_2345");
        assert_eq!(f(Value::Int(5), "<05"), "50000");
        assert_eq!(f(Value::Int(5), "^05"), "00500");
        assert_eq!(f(Value::Int(-3), "05"), "-0003");
        assert_eq!(f(Value::Bool(true), ""), "True");
        assert_eq!(f(Value::Bool(true), "d"), "1");
        assert_eq!(f(Value::Int(1), "e"), "1.000000e+00");
        assert_eq!(f(Value::Int(1), "%"), "100.000000%");
        assert_eq!(
            f(Value::Int(1), "s"),
            "ERR Unknown format code 's' for object of type 'int'"
        );
        assert_eq!(
            f(Value::Int(1), ".2"),
            "ERR Precision not allowed in integer format specifier"
        );
        assert_eq!(f(Value::Int(1), ",x"), "ERR Cannot specify ',' with 'x'.");
        assert_eq!(
            f(Value::Int(1), "abc"),
            "ERR Invalid format specifier 'abc' for object of type 'int'"
        );
        assert_eq!(
            f(Value::Int(1), "<<<"),
            "ERR Unknown format code '<' for object of type 'int'"
        );
        assert_eq!(
            f(Value::Int(5), ",_"),
            "ERR Cannot specify both ',' and '_'."
        );
        assert_eq!(
            f(Value::Int(5), "."),
            "ERR Format specifier missing precision"
        );
    }

    #[test]
    fn float_specs() {
        let x = |v: f64, s: &str| f(Value::Float(v), s);
        assert_eq!(x(1234567.891, ",.2f"), "1,234,567.89");
        assert_eq!(x(0.5, "%"), "50.000000%");
        assert_eq!(x(1e20, "g"), "1e+20");
        assert_eq!(x(1.5e-5, "g"), "1.5e-05");
        assert_eq!(x(3.24159, ".3g"), "3.24");
        assert_eq!(x(100.0, "g"), "100");
        assert_eq!(x(1e16, ""), "1e+16");
        assert_eq!(x(1.0, ".3"), "1.0");
        assert_eq!(x(12345.678, ".3"), "1.23e+04");
        assert_eq!(x(-0.0, "+"), "-0.0");
        assert_eq!(x(1.5, "n"), "1.5");
        assert_eq!(x(1.5, "10.3e"), " 1.500e+00");
        assert_eq!(x(f64::INFINITY, "f"), "inf");
        assert_eq!(x(f64::NAN, "+.2f"), "+nan");
        assert_eq!(x(0.1, ".20f"), "0.10000000000000000555");
        assert_eq!(x(2.5, ".0f"), "2");
        assert_eq!(x(3.5, ".0f"), "4");
        assert_eq!(x(1.25, ".1f"), "1.2");
        assert_eq!(x(123.456, "=+12.2f"), "+     123.46");
        assert_eq!(x(1.0, "#g"), "1.00000");
        assert_eq!(x(1.0, "#.0f"), "1.");
        assert_eq!(x(0.0001, "g"), "0.0001");
        assert_eq!(x(0.00001, "g"), "1e-05");
        assert_eq!(x(123456789.0, "g"), "1.23457e+08");
        assert_eq!(x(1234567.0, "G"), "1.23457E+06");
        assert_eq!(x(1.5, "E"), "1.500000E+00");
        assert_eq!(x(1.5, "010,.2f"), "000,001.50");
        assert_eq!(x(-1234.5, "012,.1f"), "-0,001,234.5");
        assert_eq!(x(f64::NEG_INFINITY, "08.2f"), "-0000inf");
        assert_eq!(x(-0.0001, "z.2f"), "0.00");
        assert_eq!(x(1e16, ".0"), "1e+16");
        assert_eq!(x(123.0, ".2"), "1.2e+02");
        assert_eq!(x(1234.5678, "_g"), "1_234.57");
        assert_eq!(x(-0.0, "g"), "-0");
        assert_eq!(x(0.0, "e"), "0.000000e+00");
        assert_eq!(x(1.0, "#.0e"), "1.e+00");
        assert_eq!(x(9.5, ".0f"), "10");
        assert_eq!(x(2.5e-5, ".3"), "2.5e-05");
        assert_eq!(x(0.0, ".3"), "0.0");
        assert_eq!(x(0.0, "g"), "0");
        assert_eq!(x(1.5, "5"), "  1.5");
        assert_eq!(
            x(1.5, "d"),
            "ERR Unknown format code 'd' for object of type 'float'"
        );
        assert_eq!(
            x(5.5, ".2,f"),
            "ERR Invalid format specifier '.2,f' for object of type 'float'"
        );
        assert_eq!(x(1234567.0, ","), "1,234,567.0");
    }

    #[test]
    fn str_specs() {
        let s = |v: &str, spec: &str| f(Value::str(v), spec);
        assert_eq!(s("ab", "^7"), "  ab   ");
        assert_eq!(s("ab", "*^7"), "**ab***");
        assert_eq!(s("abc", ".1"), "a");
        assert_eq!(s("ab", "05"), "ab000");
        assert_eq!(
            s("a", "d"),
            "ERR Unknown format code 'd' for object of type 'str'"
        );
        assert_eq!(
            s("a", "=5"),
            "ERR '=' alignment not allowed in string format specifier"
        );
        assert_eq!(
            s("a", "+"),
            "ERR Sign not allowed in string format specifier"
        );
        assert_eq!(
            s("a", "#"),
            "ERR Alternate form (#) not allowed in string format specifier"
        );
        assert_eq!(s("a", ","), "ERR Cannot specify ',' with 's'.");
    }
}
