//! The built-in `complex` type, as CPython's `Objects/complexobject.c`.
//!
//! A complex number is a `Value::Object` of kind [`ObjKind::Complex`]: two
//! floats behind the object pointer, so `Value` stays 16 bytes and a
//! constant (`3j`) is built without a running VM. The arithmetic follows
//! CPython's algorithms step by step (Smith's division, `c_powi` for small
//! integer exponents, polar form otherwise), so results agree to the bit.

use std::sync::Arc;

use crate::vm::builtins::{base_value, descriptor_error, method, type_name};
use crate::vm::error::{PyErr, PyResult};
use crate::vm::format::{format_float, parse_spec, FormatSpec};
use crate::vm::interp::Vm;
use crate::vm::number::{self, float_repr, int_ref};
use crate::vm::ops::lookup_in_class;
use crate::vm::types::{types, Types};
use crate::vm::value::{Kwargs, ObjKind, Object, Value};

/// CPython's `_PyHASH_IMAG`: the multiplier of the imaginary part's hash.
const HASH_IMAG: u64 = 1_000_003;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Complex {
    pub re: f64,
    pub im: f64,
}

impl Complex {
    pub const fn new(re: f64, im: f64) -> Complex {
        Complex { re, im }
    }

    /// `_Py_c_quot`: Smith's algorithm, dividing through by the larger
    /// part of the divisor. `None` for a zero divisor (CPython's EDOM).
    pub fn quot(self, b: Complex) -> Option<Complex> {
        let (a, abs_re, abs_im) = (self, b.re.abs(), b.im.abs());
        if abs_re >= abs_im {
            if abs_re == 0.0 {
                return None;
            }
            let ratio = b.im / b.re;
            let denom = b.re + b.im * ratio;
            Some(Complex::new(
                (a.re + a.im * ratio) / denom,
                (a.im - a.re * ratio) / denom,
            ))
        } else if abs_im >= abs_re {
            let ratio = b.re / b.im;
            let denom = b.re * ratio + b.im;
            Some(Complex::new(
                (a.re * ratio + a.im) / denom,
                (a.im * ratio - a.re) / denom,
            ))
        } else {
            // A NaN in the divisor.
            Some(Complex::new(f64::NAN, f64::NAN))
        }
    }

    /// `_Py_c_abs`: an infinite part wins over a NaN (C99); `None` when
    /// the finite parts' hypotenuse overflows.
    pub fn abs(self) -> Option<f64> {
        if !self.re.is_finite() || !self.im.is_finite() {
            if self.re.is_infinite() {
                return Some(self.re.abs());
            }
            if self.im.is_infinite() {
                return Some(self.im.abs());
            }
            return Some(f64::NAN);
        }
        let r = self.re.hypot(self.im);
        r.is_finite().then_some(r)
    }

    pub fn is_zero(self) -> bool {
        self.re == 0.0 && self.im == 0.0
    }
}

impl std::ops::Add for Complex {
    type Output = Complex;
    fn add(self, o: Complex) -> Complex {
        Complex::new(self.re + o.re, self.im + o.im)
    }
}

impl std::ops::Sub for Complex {
    type Output = Complex;
    fn sub(self, o: Complex) -> Complex {
        Complex::new(self.re - o.re, self.im - o.im)
    }
}

/// `_Py_c_prod`.
impl std::ops::Mul for Complex {
    type Output = Complex;
    fn mul(self, o: Complex) -> Complex {
        Complex::new(
            self.re * o.re - self.im * o.im,
            self.re * o.im + self.im * o.re,
        )
    }
}

impl std::ops::Neg for Complex {
    type Output = Complex;
    fn neg(self) -> Complex {
        Complex::new(-self.re, -self.im)
    }
}

const ONE: Complex = Complex::new(1.0, 0.0);

/// `a ** b` (`complex_pow`): `c_powi` for an integral exponent up to 100
/// in size, the polar form otherwise.
pub fn pow(a: Complex, b: Complex) -> PyResult<Complex> {
    let mut domain = false;
    let r = if b.im == 0.0 && b.re == b.re.floor() && b.re.abs() <= 100.0 {
        powi(a, b.re as i64, &mut domain)
    } else {
        c_pow(a, b, &mut domain)
    };
    if domain {
        return Err(PyErr::zero_division("0.0 to a negative or complex power"));
    }
    if r.re.is_infinite() || r.im.is_infinite() {
        return Err(PyErr::overflow_error("complex exponentiation"));
    }
    Ok(r)
}

/// `c_powi`: repeated squaring, and one division for a negative exponent.
fn powi(x: Complex, n: i64, domain: &mut bool) -> Complex {
    if n > 0 {
        return powu(x, n);
    }
    ONE.quot(powu(x, -n)).unwrap_or_else(|| {
        *domain = true;
        Complex::new(0.0, 0.0)
    })
}

fn powu(x: Complex, n: i64) -> Complex {
    let (mut r, mut p, mut mask) = (ONE, x, 1i64);
    while mask > 0 && n >= mask {
        if n & mask != 0 {
            r = r * p;
        }
        mask <<= 1;
        p = p * p;
    }
    r
}

/// `_Py_c_pow`: the polar form.
fn c_pow(a: Complex, b: Complex, domain: &mut bool) -> Complex {
    if b.is_zero() {
        return ONE;
    }
    if a.is_zero() {
        if b.im != 0.0 || b.re < 0.0 {
            *domain = true;
        }
        return Complex::new(0.0, 0.0);
    }
    let vabs = a.re.hypot(a.im);
    let mut len = vabs.powf(b.re);
    let at = a.im.atan2(a.re);
    let mut phase = at * b.re;
    if b.im != 0.0 {
        len /= (at * b.im).exp();
        phase += b.im * vabs.ln();
    }
    // The C library's cos/sin of an infinite angle report a domain error,
    // which CPython turns into its ZeroDivisionError.
    if phase.is_infinite() {
        *domain = true;
    }
    Complex::new(len * phase.cos(), len * phase.sin())
}

/// `hash(z)`: the real part's hash plus 1000003 times the imaginary part's,
/// in unsigned arithmetic, so `hash(1+0j) == hash(1)`.
pub fn hash(c: Complex) -> i64 {
    let re = number::hash_float(c.re) as u64;
    let im = number::hash_float(c.im) as u64;
    let h = re.wrapping_add(HASH_IMAG.wrapping_mul(im)) as i64;
    if h == -1 {
        -2
    } else {
        h
    }
}

// ---------------------------------------------------------------- values

/// A new `complex` value.
pub fn value(re: f64, im: f64) -> Value {
    Value::Object(Arc::new(Object {
        class: types().complex.clone(),
        kind: ObjKind::Complex(Complex::new(re, im)),
    }))
}

fn from(c: Complex) -> Value {
    value(c.re, c.im)
}

/// The number inside a complex value (or an instance of a subclass).
pub fn complex_of(v: &Value) -> Option<Complex> {
    match v {
        Value::Object(o) => match o.kind {
            ObjKind::Complex(c) => Some(c),
            _ => None,
        },
        Value::Instance(_) => match base_value(v) {
            Value::Object(o) => match o.kind {
                ObjKind::Complex(c) => Some(c),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

/// An operand of complex arithmetic (CPython's `TO_COMPLEX`): a complex,
/// an int or a float (or a subclass of one); `None` for anything else.
fn operand(v: &Value) -> PyResult<Option<Complex>> {
    if let Some(c) = complex_of(v) {
        return Ok(Some(c));
    }
    let b = base_value(v);
    Ok(match &b {
        Value::Float(f) => Some(Complex::new(*f, 0.0)),
        _ => match int_ref(&b) {
            Some(i) => Some(Complex::new(i.to_f64()?, 0.0)),
            None => None,
        },
    })
}

// ---------------------------------------------------------------- text

/// One part as `repr` writes it: the shortest digits, no added `.0`.
fn part(x: f64) -> String {
    let s = float_repr(x);
    match s.strip_suffix(".0") {
        Some(t) => t.to_string(),
        None => s,
    }
}

/// `complex_repr`: the real part is left out only when it is +0.0.
pub fn repr(c: Complex) -> String {
    if c.re == 0.0 && c.re.is_sign_positive() {
        return format!("{}j", part(c.im));
    }
    let im = part(c.im);
    let sign = if im.starts_with('-') { "" } else { "+" };
    format!("({}{sign}{im}j)", part(c.re))
}

/// The longest prefix of `b` that is a float literal as `float()` reads
/// it (sign, digits with an optional point and exponent, or inf/nan):
/// its value and length.
fn float_prefix(b: &[u8]) -> Option<(f64, usize)> {
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let negative = b.first() == Some(&b'-');
    let word = |i: usize, w: &str| {
        b.get(i..i + w.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(w.as_bytes()))
    };
    if word(i, "inf") {
        let n = if word(i + 3, "inity") { i + 8 } else { i + 3 };
        return Some((
            if negative {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            },
            n,
        ));
    }
    if word(i, "nan") {
        return Some((if negative { -f64::NAN } else { f64::NAN }, i + 3));
    }
    let digits = |mut i: usize| {
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    };
    let start = i;
    i = digits(i);
    let mut mantissa = i - start;
    if b.get(i) == Some(&b'.') {
        let j = digits(i + 1);
        mantissa += j - (i + 1);
        i = j;
    }
    if mantissa == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(b.get(i + 1), Some(b'+' | b'-')));
        let j = digits(i + 1 + sign);
        if j > i + 1 + sign {
            i = j;
        }
    }
    let text = std::str::from_utf8(&b[..i]).ok()?;
    Some((text.parse::<f64>().ok()?, i))
}

/// `complex_from_string_inner`: `<float>`, `<float>j`,
/// `<float><signed-float>j`, and the older `<float><sign>j`, `<sign>j`
/// and `j`, in optional parentheses, with surrounding whitespace.
pub fn parse(s: &str) -> Option<Complex> {
    let b = s.as_bytes();
    let space = |c: &u8| matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r');
    let skip = |mut i: usize| {
        while b.get(i).is_some_and(space) {
            i += 1;
        }
        i
    };
    let is_j = |i: usize| matches!(b.get(i), Some(b'j' | b'J'));
    let sign_one = |i: usize| match b.get(i) {
        Some(b'+') => Some(1.0),
        Some(b'-') => Some(-1.0),
        _ => None,
    };
    let mut i = skip(0);
    let bracket = b.get(i) == Some(&b'(');
    if bracket {
        i = skip(i + 1);
    }
    let (mut re, mut im) = (0.0, 0.0);
    match float_prefix(&b[i..]) {
        Some((z, n)) => {
            i += n;
            if let Some(one) = sign_one(i) {
                re = z;
                match float_prefix(&b[i..]) {
                    Some((y, n)) => {
                        im = y;
                        i += n;
                    }
                    None => {
                        im = one;
                        i += 1;
                    }
                }
                if !is_j(i) {
                    return None;
                }
                i += 1;
            } else if is_j(i) {
                im = z;
                i += 1;
            } else {
                re = z;
            }
        }
        None => {
            if let Some(one) = sign_one(i) {
                im = one;
                i += 1;
            } else {
                im = 1.0;
            }
            if !is_j(i) {
                return None;
            }
            i += 1;
        }
    }
    i = skip(i);
    if bracket {
        if b.get(i) != Some(&b')') {
            return None;
        }
        i = skip(i + 1);
    }
    (i == b.len()).then_some(Complex::new(re, im))
}

/// `complex(str)`: non-ASCII digits and spaces become ASCII ones (other
/// characters cannot match), underscores must sit between digits.
fn from_str(text: &str) -> PyResult<Complex> {
    let ascii: String = text
        .chars()
        .map(|c| {
            if c.is_ascii() {
                c
            } else if number::is_py_space(c) {
                ' '
            } else if let Some(d) = number::unicode_decimal(c) {
                char::from(b'0' + d as u8)
            } else {
                '?'
            }
        })
        .collect();
    let cleaned = if ascii.contains('_') {
        strip_underscores(&ascii).ok_or_else(|| {
            PyErr::value_error(format!(
                "could not convert string to complex: {}",
                crate::vm::str::str_repr(text)
            ))
        })?
    } else {
        ascii
    };
    parse(&cleaned).ok_or_else(|| PyErr::value_error("complex() arg is a malformed string"))
}

/// The text without underscores, when each one sits between two digits.
fn strip_underscores(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut prev = '\0';
    for c in s.chars() {
        if c == '_' {
            if !prev.is_ascii_digit() {
                return None;
            }
        } else {
            if prev == '_' && !c.is_ascii_digit() {
                return None;
            }
            out.push(c);
        }
        prev = c;
    }
    (prev != '_').then_some(out)
}

/// `format(z, spec)` (`format_complex_internal`): each part formatted as
/// a float, the imaginary one with a sign, then padded as a whole.
fn format(c: Complex, spec: &str) -> PyResult<String> {
    let f = parse_spec(spec, "complex", true)?;
    // CPython rejects an unknown type code before the padding checks.
    let mut ty = f.ty.unwrap_or('\0');
    if !matches!(ty, '\0' | 'e' | 'E' | 'f' | 'F' | 'g' | 'G' | 'n') {
        return Err(PyErr::value_error(format!(
            "Unknown format code '{ty}' for object of type 'complex'"
        )));
    }
    if f.fill == '0' {
        return Err(PyErr::value_error(
            "Zero padding is not allowed in complex format specifier",
        ));
    }
    if f.align == Some('=') {
        return Err(PyErr::value_error(
            "'=' alignment flag is not allowed in complex format specifier",
        ));
    }
    // No type: like str(z) (the real part left out when it is +0.0), or
    // 'g' when a precision is given.
    let (mut skip_re, mut parens) = (false, false);
    if ty == '\0' {
        if c.re == 0.0 && c.re.is_sign_positive() {
            skip_re = true;
        } else {
            parens = true;
        }
        if f.precision.is_some() {
            ty = 'g';
        }
    }
    let part_spec = |sign: Option<char>| FormatSpec {
        fill: ' ',
        align: Some('<'),
        sign,
        width: 0,
        ty: (ty != '\0').then_some(if ty == 'n' { 'g' } else { ty }),
        ..f.clone()
    };
    let one = |x: f64, sign: Option<char>| -> PyResult<String> {
        if ty != '\0' {
            return format_float(x, &part_spec(sign), "complex");
        }
        // repr-style digits without an added `.0`.
        let mut s = part(x);
        if f.alt && x.is_finite() && !s.contains('.') {
            match s.find('e') {
                Some(i) => s.insert(i, '.'),
                None => s.push('.'),
            }
        }
        if let Some(sep) = f.grouping {
            s = group(&s, sep);
        }
        if f.no_neg_zero
            && s.starts_with('-')
            && s[1..].bytes().all(|b| !b.is_ascii_digit() || b == b'0')
        {
            s.remove(0);
        }
        if !s.starts_with('-') {
            match sign {
                Some('+') => s.insert(0, '+'),
                Some(' ') => s.insert(0, ' '),
                _ => {}
            }
        }
        Ok(s)
    };
    let mut body = String::new();
    if parens {
        body.push('(');
    }
    if !skip_re {
        body.push_str(&one(c.re, f.sign)?);
    }
    body.push_str(&one(c.im, if skip_re { f.sign } else { Some('+') })?);
    body.push('j');
    if parens {
        body.push(')');
    }
    let len = body.chars().count();
    if len >= f.width {
        return Ok(body);
    }
    crate::vm::str::check_size(2 * f.width as u128 * f.fill.len_utf8() as u128)?;
    let n = f.width - len;
    let fill = |k: usize| std::iter::repeat_n(f.fill, k).collect::<String>();
    Ok(match f.align.unwrap_or('>') {
        '<' => format!("{body}{}", fill(n)),
        '^' => format!("{}{body}{}", fill(n / 2), fill(n - n / 2)),
        _ => format!("{}{body}", fill(n)),
    })
}

/// `1234.5` as `1,234.5`: separators in the integer digits of a repr.
fn group(s: &str, sep: char) -> String {
    let start = usize::from(s.starts_with('-'));
    let end = s[start..]
        .find(|c: char| !c.is_ascii_digit())
        .map_or(s.len(), |i| start + i);
    let digits = &s[start..end];
    let mut out = String::with_capacity(s.len() + digits.len() / 3);
    out.push_str(&s[..start]);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(d);
    }
    out.push_str(&s[end..]);
    out
}

// ---------------------------------------------------------------- the class

/// `self` of a complex method.
fn this(args: &[Value], name: &str) -> PyResult<Complex> {
    let v = args.first().unwrap_or(&Value::None);
    complex_of(v).ok_or_else(|| descriptor_error(name, "complex", v))
}

/// `self` and the single other operand of a binary method.
fn binary_args(args: &[Value], name: &str) -> PyResult<(Complex, Option<Complex>)> {
    if args.len() != 2 {
        return Err(PyErr::type_error(format!(
            "expected 1 argument, got {}",
            args.len().saturating_sub(1)
        )));
    }
    Ok((this(args, name)?, operand(&args[1])?))
}

fn not_implemented() -> Value {
    types().not_implemented.clone()
}

macro_rules! binary {
    ($fname:ident, $rname:ident, $name:literal, $rstr:literal, |$a:ident, $b:ident| $body:expr) => {
        fn $fname(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
            match binary_args(args, $name)? {
                (x, Some(y)) => {
                    let ($a, $b) = (x, y);
                    $body
                }
                _ => Ok(not_implemented()),
            }
        }
        fn $rname(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
            match binary_args(args, $rstr)? {
                (x, Some(y)) => {
                    let ($a, $b) = (y, x);
                    $body
                }
                _ => Ok(not_implemented()),
            }
        }
    };
}

binary!(c_add, c_radd, "__add__", "__radd__", |a, b| Ok(from(a + b)));
binary!(c_sub, c_rsub, "__sub__", "__rsub__", |a, b| Ok(from(a - b)));
binary!(c_mul, c_rmul, "__mul__", "__rmul__", |a, b| Ok(from(a * b)));
binary!(
    c_div,
    c_rdiv,
    "__truediv__",
    "__rtruediv__",
    |a, b| match a.quot(b) {
        Some(q) => Ok(from(q)),
        None => Err(PyErr::zero_division("complex division by zero")),
    }
);

/// `__pow__`/`__rpow__` take an optional modulus, which complex refuses.
fn pow_method(args: &[Value], name: &str, reflected: bool) -> PyResult<Value> {
    if !(2..=3).contains(&args.len()) {
        return Err(PyErr::type_error(format!(
            "expected 1 or 2 arguments, got {}",
            args.len().saturating_sub(1)
        )));
    }
    let x = this(args, name)?;
    let Some(y) = operand(&args[1])? else {
        return Ok(not_implemented());
    };
    if args.get(2).is_some_and(|m| !m.is_none()) {
        return Err(PyErr::value_error("complex modulo"));
    }
    let (a, b) = if reflected { (y, x) } else { (x, y) };
    pow(a, b).map(from)
}

fn c_pow_m(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    pow_method(args, "__pow__", false)
}

fn c_rpow(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    pow_method(args, "__rpow__", true)
}

/// `a ** b` for a negative float base and a non-integral exponent:
/// CPython's `float_pow` hands it to complex.
pub fn real_pow(a: f64, b: f64) -> PyResult<Value> {
    pow(Complex::new(a, 0.0), Complex::new(b, 0.0)).map(from)
}

fn c_neg(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(from(-this(args, "__neg__")?))
}

fn c_pos(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(from(this(args, "__pos__")?))
}

fn c_abs(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    match this(args, "__abs__")?.abs() {
        Some(r) => Ok(Value::Float(r)),
        None => Err(PyErr::overflow_error("absolute value too large")),
    }
}

fn c_bool(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::Bool(!this(args, "__bool__")?.is_zero()))
}

fn c_hash(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::Int(hash(this(args, "__hash__")?)))
}

fn c_repr(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::from_string(repr(this(args, "__repr__")?)))
}

/// `complex_richcompare`: only `==` and `!=`; an int is compared exactly
/// (as a float would be) when the imaginary part is zero.
fn equal(vm: &mut Vm, args: &[Value], name: &str) -> PyResult<Option<bool>> {
    let z = this(args, name)?;
    let Some(other) = args.get(1) else {
        return Err(PyErr::type_error("expected 1 argument, got 0"));
    };
    if let Some(w) = complex_of(other) {
        return Ok(Some(z.re == w.re && z.im == w.im));
    }
    let b = base_value(other);
    match &b {
        Value::Float(f) => Ok(Some(z.re == *f && z.im == 0.0)),
        _ if int_ref(&b).is_some() => {
            if z.im != 0.0 {
                return Ok(Some(false));
            }
            vm.eq(&Value::Float(z.re), &b).map(Some)
        }
        _ => Ok(None),
    }
}

fn c_eq(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(equal(vm, args, "__eq__")?.map_or_else(not_implemented, Value::Bool))
}

fn c_ne(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(equal(vm, args, "__ne__")?.map_or_else(not_implemented, |e| Value::Bool(!e)))
}

fn c_conjugate(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let z = this(args, "conjugate")?;
    if args.len() > 1 {
        return Err(PyErr::type_error(format!(
            "complex.conjugate() takes no arguments ({} given)",
            args.len() - 1
        )));
    }
    Ok(value(z.re, -z.im))
}

fn c_complex(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(from(this(args, "__complex__")?))
}

fn c_getnewargs(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let z = this(args, "__getnewargs__")?;
    Ok(Value::tuple(vec![Value::Float(z.re), Value::Float(z.im)]))
}

fn c_format(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let z = this(args, "__format__")?;
    let spec = match args.get(1) {
        Some(Value::Str(s)) => s.as_str().to_string(),
        Some(v) => {
            return Err(PyErr::type_error(format!(
                "__format__() argument must be str, not {}",
                type_name(v)
            )))
        }
        None => return Err(PyErr::type_error("expected 1 argument, got 0")),
    };
    if spec.is_empty() {
        return Ok(Value::from_string(repr(z)));
    }
    format(z, &spec).map(Value::from_string)
}

fn c_real(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::Float(this(args, "real")?.re))
}

fn c_imag(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::Float(this(args, "imag")?.im))
}

/// `__complex__` of an argument, if its type defines one (CPython's
/// `try_complex_special_method`).
fn complex_special(vm: &mut Vm, v: &Value) -> PyResult<Option<Complex>> {
    if !matches!(v, Value::Instance(_)) {
        return Ok(None);
    }
    let Some(r) = vm.call_dunder_unary(v, "__complex__")? else {
        return Ok(None);
    };
    match complex_of(&r) {
        Some(c) => Ok(Some(c)),
        None => Err(PyErr::type_error(format!(
            "__complex__ returned non-complex (type {})",
            type_name(&r)
        ))),
    }
}

/// Whether `v` is a number `complex()` accepts (its type has `nb_float`
/// or `nb_index`, or it is a complex).
fn is_number(v: &Value) -> bool {
    if complex_of(v).is_some() {
        return true;
    }
    let b = base_value(v);
    if matches!(b, Value::Float(_)) || int_ref(&b).is_some() {
        return true;
    }
    let cls = types().class_of(v);
    lookup_in_class(cls, "__float__").is_some() || lookup_in_class(cls, "__index__").is_some()
}

/// `complex(real=0, imag=0)`, as CPython's `complex_new_impl`.
fn complex_new(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let cls = args.first().cloned().unwrap_or(Value::None);
    let pos = args.get(1..).unwrap_or(&[]);
    if pos.len() + kw.len() > 2 {
        return Err(PyErr::type_error(format!(
            "complex() takes at most 2 arguments ({} given)",
            pos.len() + kw.len()
        )));
    }
    let mut slots: [Option<Value>; 2] = [pos.first().cloned(), pos.get(1).cloned()];
    for (k, v) in kw {
        let i = match &**k {
            "real" => 0,
            "imag" => 1,
            _ => {
                return Err(PyErr::type_error(format!(
                    "'{k}' is an invalid keyword argument for complex()"
                )))
            }
        };
        if slots[i].is_some() {
            return Err(PyErr::type_error(format!(
                "argument for complex() given by name ('{k}') and position ({})",
                i + 1
            )));
        }
        slots[i] = Some(v.clone());
    }
    let [r, i] = slots;
    let r = r.unwrap_or(Value::Int(0));
    let t = types();
    let exact = matches!(&cls, Value::Class(c) if Arc::ptr_eq(c, &t.complex));
    if exact && i.is_none() {
        if let Value::Object(o) = &r {
            if matches!(o.kind, ObjKind::Complex(_)) {
                return Ok(r.clone());
            }
        }
    }
    let z = if let Value::Str(s) = base_value(&r) {
        if i.is_some() {
            return Err(PyErr::type_error(
                "complex() can't take second arg if first is a string",
            ));
        }
        from_str(s.as_str())?
    } else {
        if matches!(i.as_ref().map(base_value), Some(Value::Str(_))) {
            return Err(PyErr::type_error("complex() second arg can't be a string"));
        }
        let special = complex_special(vm, &r)?;
        if special.is_none() && !is_number(&r) {
            return Err(PyErr::type_error(format!(
                "complex() first argument must be a string or a number, not '{}'",
                type_name(&r)
            )));
        }
        if let Some(i) = &i {
            if !is_number(i) {
                return Err(PyErr::type_error(format!(
                    "complex() second argument must be a number, not '{}'",
                    type_name(i)
                )));
            }
        }
        // Either part may itself be complex: the result is r + i*1j.
        // Either part may itself be complex: the result is r + i*1j. Only
        // complex parts are added in, so that signed zeros survive.
        let cr = special.or_else(|| complex_of(&r));
        let (mut re, r_im) = match cr {
            Some(c) => (c.re, Some(c.im)),
            None => (number::to_float(vm, &r)?, None),
        };
        let im = match &i {
            None => r_im.unwrap_or(0.0),
            Some(i) => {
                let mut im = match complex_of(i) {
                    Some(ci) => {
                        re -= ci.im;
                        ci.re
                    }
                    None => number::to_float(vm, i)?,
                };
                if let Some(r_im) = r_im {
                    im += r_im;
                }
                im
            }
        };
        Complex::new(re, im)
    };
    number::wrap_for_class(&cls, from(z), &t.complex)
}

pub fn install(t: &Types) {
    let c = &t.complex;
    crate::vm::builtins::constructor(c, complex_new);
    for (name, f) in [
        ("__repr__", c_repr as crate::vm::value::NativeFn),
        ("__hash__", c_hash),
        ("__bool__", c_bool),
        ("__eq__", c_eq),
        ("__ne__", c_ne),
        ("__add__", c_add),
        ("__radd__", c_radd),
        ("__sub__", c_sub),
        ("__rsub__", c_rsub),
        ("__mul__", c_mul),
        ("__rmul__", c_rmul),
        ("__truediv__", c_div),
        ("__rtruediv__", c_rdiv),
        ("__pow__", c_pow_m),
        ("__rpow__", c_rpow),
        ("__neg__", c_neg),
        ("__pos__", c_pos),
        ("__abs__", c_abs),
        ("__format__", c_format),
        ("__complex__", c_complex),
        ("__getnewargs__", c_getnewargs),
        ("conjugate", c_conjugate),
    ] {
        method(c, name, f);
    }
    // Built here from `t`: `types()` is still being made.
    let property = |name: &'static str, get: crate::vm::value::NativeFn| {
        Value::Object(Arc::new(Object {
            class: t.property.clone(),
            kind: ObjKind::Property {
                fget: crate::vm::interp::native(name, &format!("complex.{name}"), get, true),
                fset: Value::None,
                fdel: Value::None,
                doc: Value::None,
            },
        }))
    };
    let mut attrs = c.attrs.lock();
    attrs.insert("real".into(), property("real", c_real));
    attrs.insert("imag".into(), property("imag", c_imag));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(re: f64, im: f64) -> Complex {
        Complex::new(re, im)
    }

    #[test]
    fn repr_matches_cpython() {
        let nan = f64::NAN;
        let inf = f64::INFINITY;
        let cases = [
            (c(1.0, 2.0), "(1+2j)"),
            (c(0.0, 2.0), "2j"),
            (c(0.0, -2.0), "-2j"),
            (c(-0.0, -1.0), "(-0-1j)"),
            (c(1.5, 0.0), "(1.5+0j)"),
            (c(0.0, 0.0), "0j"),
            (c(0.0, -0.0), "-0j"),
            (c(1e16, 1.0), "(1e+16+1j)"),
            (c(inf, nan), "(inf+nanj)"),
            (c(-inf, -inf), "(-inf-infj)"),
            (c(0.1, 1e-5), "(0.1+1e-05j)"),
            (c(nan, 0.0), "(nan+0j)"),
        ];
        for (z, want) in cases {
            assert_eq!(repr(z), want);
        }
    }

    #[test]
    fn parse_accepts_cpython_forms() {
        let ok = [
            ("1+2j", c(1.0, 2.0)),
            (" 3j ", c(0.0, 3.0)),
            ("(1-2j)", c(1.0, -2.0)),
            ("( 1-2j )", c(1.0, -2.0)),
            ("j", c(0.0, 1.0)),
            ("-j", c(0.0, -1.0)),
            ("1+j", c(1.0, 1.0)),
            ("2", c(2.0, 0.0)),
            ("1e3J", c(0.0, 1000.0)),
            (".5-.5j", c(0.5, -0.5)),
            ("-infj", c(0.0, f64::NEG_INFINITY)),
            ("1.e1+2.E-1j", c(10.0, 0.2)),
        ];
        for (s, want) in ok {
            assert_eq!(parse(s), Some(want), "{s}");
        }
        for bad in [
            "", "(", "1+", "1+2", "1j+2", "1e", "(1+2j", "1+2j)", "1 +2j", "jj", "1+-2j", "0x1",
            "nanx",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert!(parse("nanj").is_some_and(|z| z.re == 0.0 && z.im.is_nan()));
    }

    #[test]
    fn underscores_only_between_digits() {
        assert_eq!(strip_underscores("1_000+2_0j").as_deref(), Some("1000+20j"));
        for bad in ["_1", "1_", "1__0", "1_.5", "1._5"] {
            assert_eq!(strip_underscores(bad), None, "{bad}");
        }
    }

    #[test]
    fn arithmetic_follows_cpython_algorithms() {
        assert_eq!(c(1.0, 2.0) * c(3.0, 4.0), c(-5.0, 10.0));
        assert_eq!(c(1.0, 2.0).quot(c(0.0, 0.0)), None);
        assert_eq!(c(-5.0, 10.0).quot(c(3.0, 4.0)), Some(c(1.0, 2.0)));
        assert_eq!(pow(c(0.0, 1.0), c(2.0, 0.0)).ok(), Some(c(-1.0, 0.0)));
        assert!(pow(c(0.0, 0.0), c(-1.0, 0.0)).is_err());
        assert_eq!(c(3.0, 4.0).abs(), Some(5.0));
        assert_eq!(c(f64::INFINITY, f64::NAN).abs(), Some(f64::INFINITY));
        assert_eq!(hash(c(1.0, 0.0)), 1);
        assert_eq!(hash(c(-1.0, 0.0)), -2);
    }
}
