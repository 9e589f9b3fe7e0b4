//! Ints (i64, overflowing into big ints) and floats: Python's arithmetic
//! rules, conversions, parsing, hashing, `repr`, and the methods of `int`,
//! `bool` and `float`.

use std::cmp::Ordering;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::sync::Arc;

use num_bigint::{BigInt, BigUint, Sign};
use num_integer::Integer;
use num_traits::{FromPrimitive, One, Pow, Signed, ToPrimitive, Zero};

use crate::compile::code::BinaryOpKind;
use crate::vm::builtins::{arity, base_value, constructor, method, method_kw, no_args, type_name};
use crate::vm::error::{ExcKind, PyErr, PyResult};
use crate::vm::interp::Vm;
use crate::vm::types::{types, Types};
use crate::vm::value::{Class, Kwargs, Value};

/// Largest int (in bits) an operation may build: past it we raise
/// MemoryError at once rather than abort on allocation or compute for hours.
pub const MAX_INT_BITS: u64 = 1 << 28;

/// `sys.get_int_max_str_digits()`: CPython 3.11 refuses to convert ints of
/// more decimal digits than this to or from text (0 = no limit).
pub static INT_MAX_STR_DIGITS: AtomicUsize = AtomicUsize::new(4300);

/// 2**61 - 1, the modulus of CPython's numeric hash.
const HASH_MODULUS: u64 = (1 << 61) - 1;
const HASH_INF: i64 = 314_159;

/// An int operand, borrowed: small ints inline, big ints by reference.
#[derive(Clone, Copy, Debug)]
pub enum IntRef<'a> {
    Small(i64),
    Big(&'a BigInt),
}

impl IntRef<'_> {
    pub fn to_big(self) -> BigInt {
        match self {
            IntRef::Small(i) => BigInt::from(i),
            IntRef::Big(b) => b.clone(),
        }
    }

    pub fn is_zero(self) -> bool {
        match self {
            IntRef::Small(i) => i == 0,
            IntRef::Big(b) => b.is_zero(),
        }
    }

    pub fn is_negative(self) -> bool {
        match self {
            IntRef::Small(i) => i < 0,
            IntRef::Big(b) => b.is_negative(),
        }
    }

    pub fn to_i64(self) -> Option<i64> {
        match self {
            IntRef::Small(i) => Some(i),
            IntRef::Big(b) => b.to_i64(),
        }
    }

    /// Number of bits of the magnitude.
    pub fn bits(self) -> u64 {
        match self {
            IntRef::Small(i) => 64 - u64::from(i.unsigned_abs().leading_zeros()),
            IntRef::Big(b) => b.bits(),
        }
    }

    /// `float(i)`, correctly rounded.
    pub fn to_f64(self) -> PyResult<f64> {
        match self {
            IntRef::Small(i) => Ok(i as f64),
            IntRef::Big(b) => match b.to_f64() {
                Some(f) if f.is_finite() => Ok(f),
                _ => Err(PyErr::overflow_error("int too large to convert to float")),
            },
        }
    }
}

/// The int inside `v` (bools are ints), if it is one.
pub fn int_ref(v: &Value) -> Option<IntRef<'_>> {
    match v {
        Value::Int(i) => Some(IntRef::Small(*i)),
        Value::Bool(b) => Some(IntRef::Small(*b as i64)),
        Value::BigInt(b) => Some(IntRef::Big(b)),
        _ => None,
    }
}

/// A big int as a value, normalised to `Int` when it fits.
pub fn int_from_bigint(b: BigInt) -> Value {
    match b.to_i64() {
        Some(i) => Value::Int(i),
        None => Value::BigInt(Arc::new(b)),
    }
}

pub fn memory_error() -> PyErr {
    PyErr::with_args(ExcKind::MemoryError, vec![])
}

fn check_bits(bits: u64) -> PyResult<()> {
    if bits > MAX_INT_BITS {
        Err(memory_error())
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------- int ops

/// `a op b` for two ints; `op` is a plain (not in-place) operator.
/// Returns `NotImplemented` for `@`.
pub fn int_binop(op: BinaryOpKind, a: IntRef, b: IntRef) -> PyResult<Value> {
    use BinaryOpKind::*;
    if let (IntRef::Small(x), IntRef::Small(y)) = (a, b) {
        let r = match op {
            Add => x.checked_add(y),
            Sub => x.checked_sub(y),
            Mul => x.checked_mul(y),
            FloorDiv => {
                if y == 0 {
                    return Err(PyErr::zero_division("integer division or modulo by zero"));
                }
                x.checked_div(y)
                    .map(|q| if x % y != 0 && (x ^ y) < 0 { q - 1 } else { q })
            }
            Mod => {
                if y == 0 {
                    return Err(PyErr::zero_division("integer modulo by zero"));
                }
                x.checked_rem(y)
                    .map(|r| if r != 0 && (r ^ y) < 0 { r + y } else { r })
            }
            TrueDiv => return int_true_div(a, b).map(Value::Float),
            Pow => return int_pow(a, b),
            LShift => {
                if y < 0 {
                    return Err(PyErr::value_error("negative shift count"));
                }
                if x == 0 {
                    Some(0)
                } else if y < 63 && (x << y) >> y == x {
                    Some(x << y)
                } else {
                    None
                }
            }
            RShift => {
                if y < 0 {
                    return Err(PyErr::value_error("negative shift count"));
                }
                Some(if y >= 64 { x >> 63 } else { x >> y })
            }
            And => Some(x & y),
            Or => Some(x | y),
            Xor => Some(x ^ y),
            _ => return Ok(types().not_implemented.clone()),
        };
        if let Some(r) = r {
            return Ok(Value::Int(r));
        }
    }
    big_binop(op, a, b)
}

fn big_binop(op: BinaryOpKind, a: IntRef, b: IntRef) -> PyResult<Value> {
    use BinaryOpKind::*;
    let r = match op {
        Add => a.to_big() + b.to_big(),
        Sub => a.to_big() - b.to_big(),
        Mul => {
            if !a.is_zero() && !b.is_zero() {
                check_bits(a.bits() + b.bits())?;
            }
            a.to_big() * b.to_big()
        }
        FloorDiv => {
            if b.is_zero() {
                return Err(PyErr::zero_division("integer division or modulo by zero"));
            }
            a.to_big().div_floor(&b.to_big())
        }
        Mod => {
            if b.is_zero() {
                return Err(PyErr::zero_division("integer modulo by zero"));
            }
            a.to_big().mod_floor(&b.to_big())
        }
        TrueDiv => return int_true_div(a, b).map(Value::Float),
        Pow => return int_pow(a, b),
        LShift => {
            if b.is_negative() {
                return Err(PyErr::value_error("negative shift count"));
            }
            if a.is_zero() {
                return Ok(Value::Int(0));
            }
            let Some(n) = b.to_i64() else {
                return Err(PyErr::overflow_error("too many digits in integer"));
            };
            check_bits(a.bits().saturating_add(n as u64))?;
            a.to_big() << (n as u64)
        }
        RShift => {
            if b.is_negative() {
                return Err(PyErr::value_error("negative shift count"));
            }
            let n = b.to_i64().unwrap_or(i64::MAX) as u64;
            if n >= a.bits() {
                return Ok(Value::Int(if a.is_negative() { -1 } else { 0 }));
            }
            // num-bigint shifts negative numbers with rounding toward -inf, as Python does.
            a.to_big() >> n
        }
        And => a.to_big() & b.to_big(),
        Or => a.to_big() | b.to_big(),
        Xor => a.to_big() ^ b.to_big(),
        _ => return Ok(types().not_implemented.clone()),
    };
    Ok(int_from_bigint(r))
}

/// `-i`.
pub fn int_neg(a: IntRef) -> Value {
    match a {
        IntRef::Small(i) => match i.checked_neg() {
            Some(n) => Value::Int(n),
            None => int_from_bigint(-BigInt::from(i)),
        },
        IntRef::Big(b) => int_from_bigint(-b.clone()),
    }
}

/// `abs(i)`.
pub fn int_abs(a: IntRef) -> Value {
    if a.is_negative() {
        int_neg(a)
    } else {
        match a {
            IntRef::Small(i) => Value::Int(i),
            IntRef::Big(b) => Value::BigInt(Arc::new(b.clone())),
        }
    }
}

/// `~i`.
pub fn int_invert(a: IntRef) -> Value {
    match a {
        IntRef::Small(i) => Value::Int(!i),
        IntRef::Big(b) => int_from_bigint(-(b.clone()) - 1),
    }
}

/// `a ** b` for ints: a float for negative exponents.
pub fn int_pow(a: IntRef, b: IntRef) -> PyResult<Value> {
    if b.is_negative() {
        if a.is_zero() {
            return Err(PyErr::zero_division(
                "0.0 cannot be raised to a negative power",
            ));
        }
        return float_pow(a.to_f64()?, b.to_f64()?).map(Value::Float);
    }
    match a.to_i64() {
        Some(0) => return Ok(Value::Int(if b.is_zero() { 1 } else { 0 })),
        Some(1) => return Ok(Value::Int(1)),
        Some(-1) => {
            let odd = match b {
                IntRef::Small(e) => e & 1 == 1,
                IntRef::Big(e) => e.is_odd(),
            };
            return Ok(Value::Int(if odd { -1 } else { 1 }));
        }
        _ => {}
    }
    let Some(e) = b.to_i64() else {
        return Err(memory_error());
    };
    let e = e as u64;
    if let IntRef::Small(x) = a {
        if let Ok(e32) = u32::try_from(e) {
            if let Some(r) = x.checked_pow(e32) {
                return Ok(Value::Int(r));
            }
        }
    }
    check_bits((a.bits() - 1).saturating_mul(e))?;
    Ok(int_from_bigint(Pow::pow(a.to_big(), e)))
}

/// `pow(a, b, m)` for ints.
pub fn int_pow_mod(a: IntRef, b: IntRef, m: IntRef) -> PyResult<Value> {
    if m.is_zero() {
        return Err(PyErr::value_error("pow() 3rd argument cannot be 0"));
    }
    if let (IntRef::Small(x), IntRef::Small(e), IntRef::Small(md)) = (a, b, m) {
        if e >= 0 {
            return Ok(Value::Int(small_pow_mod(x, e as u64, md)));
        }
    }
    let m = m.to_big();
    let mut base = a.to_big();
    let mut exp = b.to_big();
    if exp.is_negative() {
        // A modular inverse, as Python 3.8+ computes.
        let inv = mod_inverse(&base.mod_floor(&m.abs()), &m.abs())
            .ok_or_else(|| PyErr::value_error("base is not invertible for the given modulus"))?;
        base = inv;
        exp = -exp;
    }
    let mabs = m.abs();
    let mut r = base.modpow(&exp, &mabs);
    // modpow is non-negative; Python's result takes the sign of m.
    if m.is_negative() && !r.is_zero() {
        r += &m;
    }
    Ok(int_from_bigint(r))
}

/// `pow(x, e, m)` for machine ints (m != 0), square-and-multiply in u128,
/// so that the common `pow(i, k, 10**9 + 7)` needs no big-int work.
fn small_pow_mod(x: i64, mut e: u64, m: i64) -> i64 {
    let n = m.unsigned_abs() as u128;
    let mut base = (x as i128).rem_euclid(n as i128) as u128;
    let mut r: u128 = 1 % n;
    while e > 0 {
        if e & 1 == 1 {
            r = r * base % n;
        }
        base = base * base % n;
        e >>= 1;
    }
    // r < |m| <= 2^63, so it fits; Python's result takes the sign of m.
    let r = r as i128;
    (if m < 0 && r != 0 { r + m as i128 } else { r }) as i64
}

fn mod_inverse(a: &BigInt, m: &BigInt) -> Option<BigInt> {
    let e = a.extended_gcd(m);
    if !e.gcd.is_one() {
        return None;
    }
    Some(e.x.mod_floor(m))
}

/// `a / b` for ints, correctly rounded as CPython does.
pub fn int_true_div(a: IntRef, b: IntRef) -> PyResult<f64> {
    if b.is_zero() {
        return Err(PyErr::zero_division("division by zero"));
    }
    const EXACT: i64 = 1 << 53;
    if let (IntRef::Small(x), IntRef::Small(y)) = (a, b) {
        if (-EXACT..=EXACT).contains(&x) && (-EXACT..=EXACT).contains(&y) {
            return Ok(x as f64 / y as f64);
        }
    }
    let negative = a.is_negative() != b.is_negative();
    let sign = |f: f64| if negative { -f } else { f };
    let x = a.to_big().magnitude().clone();
    let y = b.to_big().magnitude().clone();
    if x.is_zero() {
        return Ok(sign(0.0));
    }
    let diff = x.bits() as i64 - y.bits() as i64;
    if diff > 1025 {
        return Err(PyErr::overflow_error(
            "integer division result too large for a float",
        ));
    }
    if diff < -1080 {
        return Ok(sign(0.0));
    }
    // Scale so the quotient has 55 or 56 bits, fold the remainder into a
    // sticky low bit, and let the u64 → f64 conversion round once.
    let shift = diff - 55;
    let (q, r) = if shift >= 0 {
        x.div_rem(&(y << (shift as u64)))
    } else {
        (x << ((-shift) as u64)).div_rem(&y)
    };
    let mut q = q.to_u64().unwrap_or(u64::MAX);
    if !r.is_zero() {
        q |= 1;
    }
    let f = ldexp(q as f64, shift);
    if f.is_infinite() {
        return Err(PyErr::overflow_error(
            "integer division result too large for a float",
        ));
    }
    Ok(sign(f))
}

/// `x * 2**e` without intermediate overflow.
pub fn ldexp(mut x: f64, mut e: i64) -> f64 {
    while e > 1000 {
        x *= 2f64.powi(1000);
        e -= 1000;
    }
    while e < -1000 {
        x *= 2f64.powi(-1000);
        e += 1000;
    }
    x * 2f64.powi(e as i32)
}

/// Compare an int with a float exactly (`None` when the float is NaN).
pub fn cmp_int_float(a: IntRef, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    if f.is_infinite() {
        return Some(if f > 0.0 {
            Ordering::Less
        } else {
            Ordering::Greater
        });
    }
    if let IntRef::Small(i) = a {
        if i.unsigned_abs() < (1 << 53) {
            return (i as f64).partial_cmp(&f);
        }
    }
    let fl = f.floor();
    let fb = BigInt::from_f64(fl)?;
    Some(match a.to_big().cmp(&fb) {
        Ordering::Equal if f > fl => Ordering::Less,
        o => o,
    })
}

/// Compare two ints.
pub fn cmp_ints(a: IntRef, b: IntRef) -> Ordering {
    match (a, b) {
        (IntRef::Small(x), IntRef::Small(y)) => x.cmp(&y),
        _ => a.to_big().cmp(&b.to_big()),
    }
}

// ---------------------------------------------------------------- float ops

/// `a op b` for floats (`op` plain); `NotImplemented` for bit operators.
pub fn float_binop(op: BinaryOpKind, a: f64, b: f64) -> PyResult<Value> {
    use BinaryOpKind::*;
    let r = match op {
        Add => a + b,
        Sub => a - b,
        Mul => a * b,
        TrueDiv => {
            if b == 0.0 {
                return Err(PyErr::zero_division("float division by zero"));
            }
            a / b
        }
        FloorDiv => {
            if b == 0.0 {
                return Err(PyErr::zero_division("float floor division by zero"));
            }
            float_divmod_raw(a, b).0
        }
        Mod => {
            if b == 0.0 {
                return Err(PyErr::zero_division("float modulo"));
            }
            float_mod_raw(a, b)
        }
        // CPython's float_pow hands a negative base with a fractional
        // exponent to complex.
        Pow if a < 0.0 && a.is_finite() && b.is_finite() && b.fract() != 0.0 => {
            return crate::vm::complex::real_pow(a, b)
        }
        Pow => float_pow(a, b)?,
        _ => return Ok(types().not_implemented.clone()),
    };
    Ok(Value::Float(r))
}

fn float_mod_raw(a: f64, b: f64) -> f64 {
    let m = a % b;
    if m != 0.0 {
        if (b < 0.0) != (m < 0.0) {
            m + b
        } else {
            m
        }
    } else {
        0f64.copysign(b)
    }
}

/// CPython's `float_divmod` (b != 0).
pub fn float_divmod_raw(a: f64, b: f64) -> (f64, f64) {
    let mut m = a % b;
    let mut div = (a - m) / b;
    if m != 0.0 {
        if (b < 0.0) != (m < 0.0) {
            m += b;
            div -= 1.0;
        }
    } else {
        m = 0f64.copysign(b);
    }
    let floordiv = if div != 0.0 {
        let mut f = div.floor();
        if div - f > 0.5 {
            f += 1.0;
        }
        f
    } else {
        0f64.copysign(a / b)
    };
    (floordiv, m)
}

/// `a ** b` for floats, with CPython's special cases and errors.
pub fn float_pow(a: f64, b: f64) -> PyResult<f64> {
    if b == 0.0 {
        return Ok(1.0);
    }
    if a.is_nan() {
        return Ok(a);
    }
    if b.is_nan() {
        return Ok(if a == 1.0 { 1.0 } else { b });
    }
    if b.is_infinite() {
        let av = a.abs();
        return Ok(if av == 1.0 {
            1.0
        } else if (b > 0.0) == (av > 1.0) {
            b.abs()
        } else {
            0.0
        });
    }
    let b_is_odd_int = b.fract() == 0.0 && (b % 2.0).abs() == 1.0;
    if a.is_infinite() {
        return Ok(if a > 0.0 {
            if b > 0.0 {
                a
            } else {
                0.0
            }
        } else if b > 0.0 {
            if b_is_odd_int {
                a
            } else {
                -a
            }
        } else if b_is_odd_int {
            -0.0
        } else {
            0.0
        });
    }
    if a == 0.0 {
        if b < 0.0 {
            return Err(PyErr::zero_division(
                "0.0 cannot be raised to a negative power",
            ));
        }
        return Ok(if b_is_odd_int { a } else { 0.0 });
    }
    let mut av = a;
    let mut negate = false;
    if a < 0.0 {
        if b.fract() != 0.0 {
            // Unreachable from `**` (`float_binop` makes a complex).
            return Err(PyErr::value_error(
                "negative number cannot be raised to a fractional power",
            ));
        }
        av = -a;
        negate = b_is_odd_int;
    }
    if av == 1.0 {
        return Ok(if negate { -1.0 } else { 1.0 });
    }
    let r = av.powf(b);
    if r.is_infinite() {
        // CPython raises it from errno ERANGE: args are (errno, strerror).
        return Err(PyErr::with_args(
            crate::vm::ExcKind::OverflowError,
            vec![
                Value::Int(34),
                Value::from_string("Numerical result out of range".into()),
            ],
        ));
    }
    Ok(if negate { -r } else { r })
}

/// `int(f)`: truncation toward zero.
pub fn float_to_int(f: f64) -> PyResult<Value> {
    if f.is_nan() {
        return Err(PyErr::value_error("cannot convert float NaN to integer"));
    }
    if f.is_infinite() {
        return Err(PyErr::overflow_error(
            "cannot convert float infinity to integer",
        ));
    }
    let t = f.trunc();
    if t.abs() < 9.2e18 {
        Ok(Value::Int(t as i64))
    } else {
        Ok(int_from_bigint(BigInt::from_f64(t).unwrap_or_default()))
    }
}

// ---------------------------------------------------------------- hashing

/// CPython's hash of an int: the value modulo 2**61 - 1, keeping the sign.
pub fn hash_int(a: IntRef) -> i64 {
    let (neg, m) = match a {
        IntRef::Small(i) => (i < 0, i.unsigned_abs() % HASH_MODULUS),
        IntRef::Big(b) => (
            b.is_negative(),
            (b.magnitude() % HASH_MODULUS).to_u64().unwrap_or(0),
        ),
    };
    let h = if neg { -(m as i64) } else { m as i64 };
    if h == -1 {
        -2
    } else {
        h
    }
}

/// `frexp` for finite positive x: `x == m * 2**e`, `0.5 <= m < 1`.
fn frexp(x: f64) -> (f64, i64) {
    if x == 0.0 {
        return (0.0, 0);
    }
    let (x, adj) = if x < f64::MIN_POSITIVE {
        (x * 2f64.powi(64), -64)
    } else {
        (x, 0)
    };
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i64 - 1022;
    let m = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (m, exp + adj)
}

/// CPython's `_Py_HashDouble`: equal to the hash of an equal int.
pub fn hash_float(f: f64) -> i64 {
    if f.is_nan() {
        return 0;
    }
    if f.is_infinite() {
        return if f > 0.0 { HASH_INF } else { -HASH_INF };
    }
    let (mut m, mut e) = frexp(f.abs());
    let mut x: u64 = 0;
    while m != 0.0 {
        x = ((x << 28) & HASH_MODULUS) | (x >> (61 - 28));
        m *= 268_435_456.0;
        e -= 28;
        let y = m as u64;
        m -= y as f64;
        x += y;
        if x >= HASH_MODULUS {
            x -= HASH_MODULUS;
        }
    }
    let e = if e >= 0 {
        e % 61
    } else {
        61 - 1 - ((-1 - e) % 61)
    } as u32;
    x = ((x << e) & HASH_MODULUS) | (x >> (61 - e));
    let h = if f < 0.0 { -(x as i64) } else { x as i64 };
    if h == -1 {
        -2
    } else {
        h
    }
}

/// CPython's xxHash-based tuple hash over the items' hashes.
pub fn hash_tuple(hashes: &[i64]) -> i64 {
    const P1: u64 = 11_400_714_785_074_694_791;
    const P2: u64 = 14_029_467_366_897_019_727;
    const P5: u64 = 2_870_177_450_012_600_261;
    let mut acc = P5;
    for &h in hashes {
        acc = acc.wrapping_add((h as u64).wrapping_mul(P2));
        acc = acc.rotate_left(31);
        acc = acc.wrapping_mul(P1);
    }
    acc = acc.wrapping_add((hashes.len() as u64) ^ (P5 ^ 3_527_539));
    if acc == u64::MAX {
        return 1_546_275_796;
    }
    acc as i64
}

/// CPython's frozenset hash over the items' hashes (order-independent).
pub fn hash_frozenset(hashes: &[i64]) -> i64 {
    fn shuffle(h: u64) -> u64 {
        ((h ^ 89_869_747) ^ (h << 16)).wrapping_mul(3_644_798_167)
    }
    let mut hash: u64 = 0;
    for &h in hashes {
        hash ^= shuffle(h as u64);
    }
    hash ^= (hashes.len() as u64 + 1).wrapping_mul(1_927_868_237);
    hash ^= (hash >> 11) ^ (hash >> 25);
    hash = hash.wrapping_mul(69069).wrapping_add(907_133_923);
    if hash == u64::MAX {
        590_923_713
    } else {
        hash as i64
    }
}

// ---------------------------------------------------------------- text

/// Shortest round-trip digits of a finite, non-zero float: (negative, digits, exponent),
/// meaning `0.d1d2... * 10**(exp + 1)`, i.e. `d1.d2... * 10**exp`.
pub fn shortest_digits(x: f64) -> (bool, String, i32) {
    let shortest = format!("{:e}", x);
    let (neg, digits, exp) = split_sci(&shortest);
    // Rust picks the shortest digits that round-trip, but when two such
    // strings are equally close to x it may pick the upper one; CPython
    // (David Gay's dtoa) picks the correctly rounded one: 900719925474099.2,
    // not ...3, for 900719925474099.25.
    if digits.len() > 1 {
        let rounded = format!("{:.*e}", digits.len() - 1, x);
        if rounded != shortest && rounded.parse::<f64>().ok() == Some(x) {
            return split_sci(&rounded);
        }
    }
    (neg, digits, exp)
}

/// Digits of `x` rounded to `prec` significant digits after the first (Rust's `{:.prec$e}`).
pub fn sci_digits(x: f64, prec: usize) -> (bool, String, i32) {
    // A double has under 800 significant decimal digits; the rest are zeros
    // (and Rust's formatter takes at most a u16 precision).
    let (neg, mut digits, exp) = split_sci(&format!("{:.*e}", prec.min(EXACT_DIGITS), x));
    pad_zeros(&mut digits, prec.saturating_sub(EXACT_DIGITS));
    (neg, digits, exp)
}

/// More decimal places than any double needs to be written exactly.
const EXACT_DIGITS: usize = 1100;

fn pad_zeros(s: &mut String, n: usize) {
    s.extend(std::iter::repeat_n('0', n));
}

/// `x` with `prec` digits after the point (`format(x, '.{prec}f')`).
pub fn fixed_digits(x: f64, prec: usize) -> String {
    if let Some(s) = fixed_digits_exact(x, prec) {
        return s;
    }
    let mut s = format!("{:.*}", prec.min(EXACT_DIGITS), x);
    pad_zeros(&mut s, prec.saturating_sub(EXACT_DIGITS));
    s
}

/// [`fixed_digits`] in integer arithmetic, for the common cases: a finite
/// `x` of moderate size and up to 17 places. `x` is `m * 2^e` exactly, so
/// `x * 10^prec` is `m * 10^prec` shifted by `e`, rounded half to even as
/// the exact decimal value requires (CPython's dtoa and Rust's formatter
/// agree on that). Rust's exact-digit formatter falls back to bignum
/// arithmetic for many such values, at thousands of instructions each.
fn fixed_digits_exact(x: f64, prec: usize) -> Option<String> {
    if prec > 17 || !x.is_finite() {
        return None;
    }
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1 << 52) - 1);
    let (m, e) = if biased == 0 {
        (frac, -1074)
    } else {
        (frac | 1 << 52, biased - 1075)
    };
    // m < 2^53 and 10^17 < 2^57: the product fits 110 bits.
    let n = m as u128 * 10u128.pow(prec as u32);
    let q = if e >= 0 {
        if e > 17 {
            return None;
        }
        n << e
    } else if -e >= 111 {
        // n < 2^110 <= half of 2^-e: below one half, so it rounds to 0.
        0
    } else {
        let sh = (-e) as u32;
        let (q, r, half) = (n >> sh, n & ((1 << sh) - 1), 1u128 << (sh - 1));
        if r > half || (r == half && q & 1 == 1) {
            q + 1
        } else {
            q
        }
    };
    let mut digits = q.to_string();
    if prec > 0 {
        if digits.len() <= prec {
            digits.insert_str(0, &"0".repeat(prec + 1 - digits.len()));
        }
        digits.insert(digits.len() - prec, '.');
    }
    if bits >> 63 != 0 {
        digits.insert(0, '-');
    }
    Some(digits)
}

#[cfg(test)]
mod fixed_tests {
    /// The integer path against Rust's exact formatter, on values that
    /// round at every kind of boundary.
    #[test]
    fn fixed_digits_match_the_exact_formatter() {
        let mut xs = vec![
            0.0,
            -0.0,
            0.5,
            1.5,
            2.5,
            0.125,
            0.375,
            1.005,
            2.675,
            1e-7,
            5e-324,
            1e15,
            123456.785,
            9.995,
            0.045,
            1e17,
            2.0f64.powi(60),
            3.0e-5,
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let scale = 10f64.powi((seed % 24) as i32 - 12);
            xs.push(((seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * scale);
        }
        for x in xs {
            for prec in 0..=17 {
                let want = format!("{:.*}", prec, x);
                if let Some(got) = super::fixed_digits_exact(x, prec) {
                    assert_eq!(got, want, "{x:e} .{prec}f");
                }
            }
        }
    }
}

fn split_sci(s: &str) -> (bool, String, i32) {
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let (mant, exp) = s.split_once('e').unwrap_or((s, "0"));
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    (neg, digits, exp.parse().unwrap_or(0))
}

/// `repr(float)`: shortest round-trip digits, in exponent form when the
/// exponent is < -4 or >= 16, as CPython prints them.
pub fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let (neg, digits, exp) = shortest_digits(x);
    let mut out = String::with_capacity(24);
    if neg {
        out.push('-');
    }
    if !(-4..16).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        push_exponent(&mut out, exp);
    } else {
        place_point(&mut out, &digits, exp, true);
    }
    out
}

/// `e+05` / `e-10`: at least two exponent digits, as C's printf.
pub fn push_exponent(out: &mut String, exp: i32) {
    out.push('e');
    out.push(if exp < 0 { '-' } else { '+' });
    let a = exp.unsigned_abs();
    if a < 10 {
        out.push('0');
    }
    out.push_str(&a.to_string());
}

/// Write digits `d1d2...` (value `d1.d2... * 10**exp`) in positional form;
/// `point_zero` adds `.0` to whole numbers.
pub fn place_point(out: &mut String, digits: &str, exp: i32, point_zero: bool) {
    if exp >= 0 {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(digits);
            out.extend(std::iter::repeat_n('0', int_len - digits.len()));
            if point_zero {
                out.push_str(".0");
            }
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    } else {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
        out.push_str(digits);
    }
}

fn str_digits_limit_error(limit: usize) -> PyErr {
    PyErr::value_error(format!(
        "Exceeds the limit ({limit} digits) for integer string conversion; use sys.set_int_max_str_digits() to increase the limit"
    ))
}

/// `str(int)` in base 10, with CPython 3.11's digit limit.
pub fn int_to_decimal(a: IntRef) -> PyResult<String> {
    match a {
        IntRef::Small(i) => Ok(i.to_string()),
        IntRef::Big(b) => {
            let limit = INT_MAX_STR_DIGITS.load(AtomicOrdering::Relaxed);
            // bits * log10(2) digits, at least: refuse before converting.
            if limit > 0 && (b.bits() as f64) * std::f64::consts::LOG10_2 > limit as f64 + 1.0 {
                return Err(str_digits_limit_error(limit));
            }
            let s = b.to_string();
            let digits = s.len() - usize::from(b.is_negative());
            if limit > 0 && digits > limit {
                return Err(str_digits_limit_error(limit));
            }
            Ok(s)
        }
    }
}

/// The magnitude of an int in base 2, 8 or 16 (no prefix).
pub fn int_to_radix(a: IntRef, radix: u32, upper: bool) -> String {
    let s = match a {
        IntRef::Small(i) => match radix {
            2 => format!("{:b}", i.unsigned_abs()),
            8 => format!("{:o}", i.unsigned_abs()),
            _ => format!("{:x}", i.unsigned_abs()),
        },
        IntRef::Big(b) => b.magnitude().to_str_radix(radix),
    };
    if upper {
        s.to_ascii_uppercase()
    } else {
        s
    }
}

/// `hex()`, `oct()`, `bin()`: `-0x1f`.
pub fn int_to_prefixed(a: IntRef, radix: u32) -> String {
    let prefix = match radix {
        2 => "0b",
        8 => "0o",
        _ => "0x",
    };
    let sign = if a.is_negative() { "-" } else { "" };
    format!("{sign}{prefix}{}", int_to_radix(a, radix, false))
}

/// The decimal value of a Unicode decimal digit (category Nd), as
/// `int()`/`float()` and `str.isdecimal` accept them.
pub fn unicode_decimal(c: char) -> Option<u32> {
    if c.is_ascii_digit() {
        return Some(c as u32 - '0' as u32);
    }
    if (c as u32) < 0x660 {
        return None;
    }
    // The zero of each block of ten decimal digits outside ASCII.
    const ZEROS: &[u32] = &[
        0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xDE6,
        0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
        0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
        0xFF10, 0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0,
        0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0,
        0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
    ];
    let cp = c as u32;
    ZEROS
        .iter()
        .find(|&&z| cp >= z && cp < z + 10)
        .map(|&z| cp - z)
}

/// Python's `str.isspace` for one character (includes `\x1c`..`\x1f`).
pub fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// `int(s, base)`: `None` when `s` is not a valid literal.
pub fn parse_int(s: &str, base: u32) -> PyResult<Option<Value>> {
    let t = s.trim_matches(is_py_space);
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut base = base;
    let mut body = t;
    let lower2: String = t.chars().take(2).collect::<String>().to_ascii_lowercase();
    let prefixed = match lower2.as_str() {
        "0x" if base == 0 || base == 16 => Some(16),
        "0o" if base == 0 || base == 8 => Some(8),
        "0b" if base == 0 || base == 2 => Some(2),
        _ => None,
    };
    if let Some(b) = prefixed {
        base = b;
        body = &t[2..];
        // One underscore may follow the prefix.
        if let Some(rest) = body.strip_prefix('_') {
            body = rest;
        }
    }
    let mut leading_zero_rule = false;
    if base == 0 {
        base = 10;
        leading_zero_rule = true;
    }
    let mut digits: Vec<u8> = Vec::with_capacity(body.len());
    let mut prev_underscore = true; // no leading underscore
    for c in body.chars() {
        if c == '_' {
            if prev_underscore {
                return Ok(None);
            }
            prev_underscore = true;
            continue;
        }
        prev_underscore = false;
        let d = if let Some(d) = unicode_decimal(c) {
            d
        } else if c.is_ascii_alphabetic() {
            c.to_ascii_lowercase() as u32 - 'a' as u32 + 10
        } else {
            return Ok(None);
        };
        if d >= base {
            return Ok(None);
        }
        digits.push(d as u8);
    }
    if digits.is_empty() || prev_underscore {
        return Ok(None);
    }
    if leading_zero_rule && prefixed.is_none() && digits[0] == 0 && digits.iter().any(|d| *d != 0) {
        return Ok(None);
    }
    let limit = INT_MAX_STR_DIGITS.load(AtomicOrdering::Relaxed);
    if limit > 0 && !base.is_power_of_two() && digits.len() > limit {
        return Err(PyErr::value_error(format!(
            "Exceeds the limit ({limit} digits) for integer string conversion: value has {} digits; use sys.set_int_max_str_digits() to increase the limit",
            digits.len()
        )));
    }
    if digits.len() <= 18 && base <= 10 || digits.len() <= 12 {
        let mut v: i64 = 0;
        for d in &digits {
            v = v * base as i64 + *d as i64;
        }
        return Ok(Some(Value::Int(if neg { -v } else { v })));
    }
    let mag = BigUint::from_radix_be(&digits, base).unwrap_or_default();
    let b = BigInt::from_biguint(if neg { Sign::Minus } else { Sign::Plus }, mag);
    Ok(Some(int_from_bigint(b)))
}

/// A float literal's sign and the rest; with the signed value already when
/// the rest is `inf`, `infinity` or `nan` (in any case).
fn split_float_sign(t: &str) -> (bool, &str, Option<f64>) {
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let special = if body.eq_ignore_ascii_case("inf") || body.eq_ignore_ascii_case("infinity") {
        Some(f64::INFINITY)
    } else if body.eq_ignore_ascii_case("nan") {
        Some(fresh_nan())
    } else {
        None
    };
    (neg, body, special.map(|v| if neg { -v } else { v }))
}

/// A NaN with a payload of its own. CPython's `float('nan')` is a new
/// object each time and containers compare by identity first, so
/// `x in [x]` is True while `float('nan') in [float('nan')]` is False;
/// for unboxed floats identity is bit equality (`Value::is`), which the
/// payload keeps apart (`math.nan` keeps the plain NaN, one object there).
pub fn fresh_nan() -> f64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    const PAYLOAD: u64 = 0x0007_ffff_ffff_ffff;
    let payload = (NEXT.fetch_add(1, AtomicOrdering::Relaxed) & PAYLOAD).max(1);
    f64::from_bits(f64::NAN.to_bits() | payload)
}

/// `float(s)`: `None` when `s` is not a valid float literal.
pub fn parse_float(s: &str) -> Option<f64> {
    let t = s.trim_matches(is_py_space);
    let (neg, body, special) = split_float_sign(t);
    if special.is_some() {
        return special;
    }
    // Validate digits/underscores/point/exponent by hand (Rust's parser is
    // more permissive in places and knows nothing of `_` or Unicode digits).
    let mut clean = String::with_capacity(body.len() + 1);
    if neg {
        clean.push('-');
    }
    let chars: Vec<char> = body.chars().collect();
    let mut i = 0;
    let digit_run = |i: &mut usize, clean: &mut String| -> Option<usize> {
        let start = *i;
        let mut n = 0;
        while *i < chars.len() {
            let c = chars[*i];
            if let Some(d) = unicode_decimal(c) {
                clean.push(char::from_digit(d, 10).unwrap_or('0'));
                n += 1;
                *i += 1;
            } else if c == '_'
                && *i > start
                && *i + 1 < chars.len()
                && unicode_decimal(chars[*i + 1]).is_some()
            {
                *i += 1;
            } else {
                break;
            }
        }
        Some(n)
    };
    let int_digits = digit_run(&mut i, &mut clean)?;
    let mut frac_digits = 0;
    if i < chars.len() && chars[i] == '.' {
        clean.push('.');
        i += 1;
        frac_digits = digit_run(&mut i, &mut clean)?;
    }
    if int_digits == 0 && frac_digits == 0 {
        return None;
    }
    if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
        clean.push('e');
        i += 1;
        if i < chars.len() && (chars[i] == '+' || chars[i] == '-') {
            clean.push(chars[i]);
            i += 1;
        }
        if digit_run(&mut i, &mut clean)? == 0 {
            return None;
        }
    }
    if i != chars.len() {
        return None;
    }
    clean.parse().ok()
}

// ---------------------------------------------------------------- rounding

/// `round(x)` for a float: half to even, as an int.
pub fn round_float_to_int(x: f64) -> PyResult<Value> {
    float_to_int(x.round_ties_even())
}

/// `round(x, ndigits)` for a float, correctly rounded as CPython's dtoa does.
pub fn round_float(x: f64, ndigits: i64) -> PyResult<f64> {
    if !x.is_finite() || x == 0.0 {
        return Ok(x);
    }
    if ndigits > 323 {
        return Ok(x);
    }
    if ndigits < -308 {
        return Ok(0.0 * x);
    }
    let r = if ndigits >= 0 {
        format!("{:.*}", ndigits as usize, x)
            .parse::<f64>()
            .unwrap_or(x)
    } else {
        // x = mant * 2**e exactly; round x / 10**k half-even with big ints.
        let k = (-ndigits) as u32;
        let bits = x.abs().to_bits();
        let raw_exp = ((bits >> 52) & 0x7ff) as i64;
        let (mant, e) = if raw_exp == 0 {
            (bits & ((1 << 52) - 1), -1074)
        } else {
            ((bits & ((1 << 52) - 1)) | (1 << 52), raw_exp - 1075)
        };
        let pow10 = Pow::pow(BigInt::from(10), k);
        let (num, den) = if e >= 0 {
            (BigInt::from(mant) << (e as u64), pow10.clone())
        } else {
            (BigInt::from(mant), pow10.clone() << ((-e) as u64))
        };
        let (q, r) = num.div_rem(&den);
        let twice: BigInt = r * 2;
        let q = match twice.cmp(&den) {
            Ordering::Greater => q + 1,
            Ordering::Equal if q.is_odd() => q + 1,
            _ => q,
        };
        let s = format!("{}e{}", q, k);
        s.parse::<f64>().unwrap_or(f64::INFINITY).copysign(x)
    };
    if r.is_infinite() {
        return Err(PyErr::overflow_error(
            "rounded value too large to represent",
        ));
    }
    Ok(r)
}

/// `round(i, ndigits)` for an int: exact, half to even.
pub fn round_int(a: IntRef, ndigits: i64) -> PyResult<Value> {
    if ndigits >= 0 {
        return Ok(int_abs_keep(a));
    }
    let k = ndigits.unsigned_abs();
    if k > a.bits() {
        return Ok(Value::Int(0));
    }
    let p = Pow::pow(BigInt::from(10), k);
    let x = a.to_big();
    let (q, r) = x.div_mod_floor(&p);
    let twice: BigInt = r * 2;
    let q = match twice.cmp(&p) {
        Ordering::Greater => q + 1,
        Ordering::Equal if q.is_odd() => q + 1,
        _ => q,
    };
    Ok(int_from_bigint(q * p))
}

fn int_abs_keep(a: IntRef) -> Value {
    match a {
        IntRef::Small(i) => Value::Int(i),
        IntRef::Big(b) => Value::BigInt(Arc::new(b.clone())),
    }
}

// ---------------------------------------------------------------- generic numeric helpers

/// The numeric content of a value: ints and bools, big ints, floats, and
/// instances of subclasses of int/float.
pub enum Num<'a> {
    Int(IntRef<'a>),
    Float(f64),
}

pub fn num_of(v: &Value) -> Option<Num<'_>> {
    match v {
        Value::Float(f) => Some(Num::Float(*f)),
        _ => int_ref(v).map(Num::Int),
    }
}

/// Arithmetic between two numbers (ints, floats, mixed); `NotImplemented`
/// when an operand is not a number or the operator does not apply.
pub fn num_binop(op: BinaryOpKind, a: &Value, b: &Value) -> PyResult<Value> {
    match (num_of(a), num_of(b)) {
        (Some(Num::Int(x)), Some(Num::Int(y))) => int_binop(op, x, y),
        (Some(Num::Float(x)), Some(Num::Float(y))) => float_binop(op, x, y),
        (Some(Num::Float(x)), Some(Num::Int(y))) => {
            if is_bit_op(op) {
                return Ok(types().not_implemented.clone());
            }
            float_binop(op, x, y.to_f64()?)
        }
        (Some(Num::Int(x)), Some(Num::Float(y))) => {
            if is_bit_op(op) {
                return Ok(types().not_implemented.clone());
            }
            float_binop(op, x.to_f64()?, y)
        }
        _ => Ok(types().not_implemented.clone()),
    }
}

fn is_bit_op(op: BinaryOpKind) -> bool {
    use BinaryOpKind::*;
    matches!(op, LShift | RShift | And | Or | Xor | MatMul)
}

/// Compare two numbers exactly; `None` if either is not a number or a NaN is involved.
pub fn num_cmp(a: &Value, b: &Value) -> Option<Option<Ordering>> {
    Some(match (num_of(a)?, num_of(b)?) {
        (Num::Int(x), Num::Int(y)) => Some(cmp_ints(x, y)),
        (Num::Float(x), Num::Float(y)) => x.partial_cmp(&y),
        (Num::Int(x), Num::Float(y)) => cmp_int_float(x, y),
        (Num::Float(x), Num::Int(y)) => cmp_int_float(y, x).map(Ordering::reverse),
    })
}

/// `divmod(a, b)` for numbers: `None` if either is not a number.
pub fn num_divmod(a: &Value, b: &Value) -> PyResult<Option<Value>> {
    let r = match (num_of(a), num_of(b)) {
        (Some(Num::Int(x)), Some(Num::Int(y))) => {
            if y.is_zero() {
                return Err(PyErr::zero_division("integer division or modulo by zero"));
            }
            let q = int_binop(BinaryOpKind::FloorDiv, x, y)?;
            let r = int_binop(BinaryOpKind::Mod, x, y)?;
            Value::tuple(vec![q, r])
        }
        (Some(x), Some(y)) => {
            let fx = num_to_f64(&x)?;
            let fy = num_to_f64(&y)?;
            if fy == 0.0 {
                return Err(PyErr::zero_division("float divmod()"));
            }
            let (q, r) = float_divmod_raw(fx, fy);
            Value::tuple(vec![Value::Float(q), Value::Float(r)])
        }
        _ => return Ok(None),
    };
    Ok(Some(r))
}

fn num_to_f64(n: &Num) -> PyResult<f64> {
    match n {
        Num::Int(i) => i.to_f64(),
        Num::Float(f) => Ok(*f),
    }
}

/// `divmod(a, b)`: numbers, then `__divmod__` / `__rdivmod__`.
pub fn divmod(vm: &mut Vm, a: &Value, b: &Value) -> PyResult<Value> {
    if let Some(r) = num_divmod(&base_value(a), &base_value(b))? {
        if !matches!(a, Value::Instance(_)) && !matches!(b, Value::Instance(_)) {
            return Ok(r);
        }
    }
    if let Some(r) = vm.call_dunder_binary(a, b, "__divmod__", "__rdivmod__")? {
        return Ok(r);
    }
    Err(PyErr::type_error(format!(
        "unsupported operand type(s) for divmod(): '{}' and '{}'",
        type_name(a),
        type_name(b)
    )))
}

/// `pow(a, b, m)` (G2's `pow` builtin calls this; without `m` it is `a ** b`).
pub fn pow(vm: &mut Vm, a: &Value, b: &Value, m: Option<&Value>) -> PyResult<Value> {
    let Some(m) = m.filter(|m| !m.is_none()) else {
        return vm.binary_op(a, b, BinaryOpKind::Pow);
    };
    let (ab, bb, mb) = (base_value(a), base_value(b), base_value(m));
    match (int_ref(&ab), int_ref(&bb), int_ref(&mb)) {
        (Some(x), Some(y), Some(z)) => int_pow_mod(x, y, z),
        _ => {
            // CPython's ternary_op: the operands' `nb_power` slots are tried in
            // order (each type once); float's refuses a modulus outright,
            // complex's once both bases convert, int's only takes three ints.
            #[derive(PartialEq, Clone, Copy)]
            enum Slot {
                Int,
                Float,
                Complex,
                Other,
            }
            let slot = |v: &Value| match v {
                Value::Int(_) | Value::Bool(_) | Value::BigInt(_) => Slot::Int,
                Value::Float(_) => Slot::Float,
                _ if crate::vm::complex::complex_of(v).is_some() => Slot::Complex,
                _ => Slot::Other,
            };
            let slots = [slot(&ab), slot(&bb), slot(&mb)];
            let to_complex = |s: Slot| s != Slot::Other;
            for (i, s) in slots.iter().enumerate() {
                if slots[..i].contains(s) {
                    continue;
                }
                match s {
                    Slot::Float => {
                        return Err(PyErr::type_error(
                            "pow() 3rd argument not allowed unless all arguments are integers",
                        ))
                    }
                    Slot::Complex if to_complex(slots[0]) && to_complex(slots[1]) => {
                        return Err(PyErr::value_error("complex modulo"))
                    }
                    _ => {}
                }
            }
            Err(PyErr::type_error(format!(
                "unsupported operand type(s) for ** or pow(): '{}', '{}', '{}'",
                type_name(a),
                type_name(b),
                type_name(m)
            )))
        }
    }
}

/// `abs(v)`.
pub fn abs(vm: &mut Vm, v: &Value) -> PyResult<Value> {
    match v {
        Value::Int(_) | Value::Bool(_) | Value::BigInt(_) => Ok(int_abs(int_ref(v).expect("int"))),
        Value::Float(f) => Ok(Value::Float(f.abs())),
        _ => match vm.call_dunder_unary(v, "__abs__")? {
            Some(r) => Ok(r),
            None => Err(PyErr::type_error(format!(
                "bad operand type for abs(): '{}'",
                type_name(v)
            ))),
        },
    }
}

/// `round(v[, ndigits])` via `__round__`.
pub fn round(vm: &mut Vm, v: &Value, ndigits: Option<&Value>) -> PyResult<Value> {
    let nd = ndigits.filter(|n| !n.is_none());
    match (v, nd) {
        (Value::Float(f), None) => round_float_to_int(*f),
        (Value::Float(f), Some(n)) => Ok(Value::Float(round_float(*f, ndigits_arg(n)?)?)),
        (Value::Int(_) | Value::BigInt(_) | Value::Bool(_), None) => {
            Ok(int_abs_keep(int_ref(v).expect("int")))
        }
        (Value::Int(_) | Value::BigInt(_) | Value::Bool(_), Some(n)) => {
            round_int(int_ref(v).expect("int"), ndigits_arg(n)?)
        }
        _ => {
            let args: Vec<Value> = nd.into_iter().cloned().collect();
            match vm.lookup_special(v, "__round__") {
                Some(f) => {
                    let mut all = vec![v.clone()];
                    all.extend(args);
                    vm.call(&f, &all, &[])
                }
                None => Err(PyErr::type_error(format!(
                    "type {} doesn't define __round__ method",
                    type_name(v)
                ))),
            }
        }
    }
}

fn ndigits_arg(n: &Value) -> PyResult<i64> {
    match int_ref(&base_value(n)) {
        Some(i) => Ok(i
            .to_i64()
            .unwrap_or(if i.is_negative() { i64::MIN } else { i64::MAX })),
        None => Err(PyErr::type_error(format!(
            "'{}' object cannot be interpreted as an integer",
            type_name(n)
        ))),
    }
}

// ---------------------------------------------------------------- constructors

/// `int(x)` for any value (no base).
pub fn to_int(vm: &mut Vm, v: &Value) -> PyResult<Value> {
    match v {
        Value::Int(_) | Value::BigInt(_) => Ok(v.clone()),
        Value::Bool(b) => Ok(Value::Int(*b as i64)),
        Value::Float(f) => float_to_int(*f),
        Value::Str(s) => match parse_int(s.as_str(), 10)? {
            Some(r) => Ok(r),
            None => Err(invalid_int_literal(v, 10, vm)?),
        },
        Value::Bytes(_) | Value::ByteArray(_) => {
            let s = bytes_text(v);
            match parse_int(&s, 10)? {
                Some(r) => Ok(r),
                None => Err(invalid_int_literal(v, 10, vm)?),
            }
        }
        _ => {
            for name in ["__int__", "__index__", "__trunc__"] {
                if let Some(r) = vm.call_dunder_unary(v, name)? {
                    if int_ref(&r).is_some() {
                        return Ok(match r {
                            Value::Bool(b) => Value::Int(b as i64),
                            r => r,
                        });
                    }
                    if let Value::Instance(_) = &r {
                        if let Some(i) = int_ref(&base_value(&r)) {
                            return Ok(int_abs_keep(i));
                        }
                    }
                    return Err(PyErr::type_error(format!(
                        "{name} returned non-int (type {})",
                        type_name(&r)
                    )));
                }
            }
            let inner = base_value(v);
            if !matches!(inner, Value::Instance(_)) && !inner.is(v) {
                return to_int(vm, &inner);
            }
            Err(PyErr::type_error(format!(
                "int() argument must be a string, a bytes-like object or a real number, not '{}'",
                type_name(v)
            )))
        }
    }
}

fn invalid_int_literal(v: &Value, base: u32, vm: &mut Vm) -> PyResult<PyErr> {
    // A bytearray shows as the bytes it holds, as CPython's message does.
    let r = match v {
        Value::ByteArray(b) => crate::vm::str::bytes_repr(&b.data.lock()),
        _ => vm.repr(v)?,
    };
    Ok(PyErr::value_error(format!(
        "invalid literal for int() with base {base}: {r}"
    )))
}

/// `float(x)` for any value.
pub fn to_float(vm: &mut Vm, v: &Value) -> PyResult<f64> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Int(_) | Value::BigInt(_) | Value::Bool(_) => int_ref(v).expect("int").to_f64(),
        Value::Str(s) => parse_float(s.as_str()).ok_or_else(|| {
            PyErr::value_error(format!(
                "could not convert string to float: {}",
                crate::vm::str::str_repr(s.as_str())
            ))
        }),
        Value::Bytes(_) | Value::ByteArray(_) => {
            let s = bytes_text(v);
            match parse_float(&s) {
                Some(f) => Ok(f),
                None => {
                    let r = vm.repr(v)?;
                    Err(PyErr::value_error(format!(
                        "could not convert string to float: {r}"
                    )))
                }
            }
        }
        _ => {
            if let Some(r) = vm.call_dunder_unary(v, "__float__")? {
                return match base_value(&r) {
                    Value::Float(f) => Ok(f),
                    _ => Err(PyErr::type_error(format!(
                        "{}.__float__ returned non-float (type {})",
                        type_name(v),
                        type_name(&r)
                    ))),
                };
            }
            if let Some(r) = vm.call_dunder_unary(v, "__index__")? {
                if let Some(i) = int_ref(&base_value(&r)) {
                    return i.to_f64();
                }
            }
            let inner = base_value(v);
            if !matches!(inner, Value::Instance(_)) && !inner.is(v) {
                return to_float(vm, &inner);
            }
            Err(PyErr::type_error(format!(
                "float() argument must be a string or a real number, not '{}'",
                type_name(v)
            )))
        }
    }
}

/// Wrap a built-in value for `cls` when `cls` is a user subclass of the built-in type.
/// The text of a bytes or bytearray `int()`/`float()` parses.
fn bytes_text(v: &Value) -> String {
    crate::vm::bytes::bytes_like(v)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

pub fn wrap_for_class(cls: &Value, value: Value, builtin: &Arc<Class>) -> PyResult<Value> {
    match cls {
        Value::Class(c) if !Arc::ptr_eq(c, builtin) => {
            if !crate::vm::ops::is_subclass(c, builtin) {
                return Err(PyErr::type_error(format!(
                    "{}.__new__({}): {} is not a subtype of {}",
                    builtin.name, c.name, c.name, builtin.name
                )));
            }
            Ok(crate::vm::dict::builtin_instance(c, value))
        }
        _ => Ok(value),
    }
}

fn int_new(vm: &mut Vm, args: &[Value], kwargs: Kwargs) -> PyResult<Value> {
    // The common `int(x)`.
    if let (2, true, Some(Value::Class(c))) = (args.len(), kwargs.is_empty(), args.first()) {
        if Arc::ptr_eq(c, &types().int) {
            return to_int(vm, &args[1]);
        }
    }
    let cls = args.first().cloned().unwrap_or(Value::None);
    let mut pos: Vec<Value> = args.iter().skip(1).cloned().collect();
    let mut base_arg: Option<Value> = None;
    for (k, v) in kwargs {
        if &**k == "base" {
            base_arg = Some(v.clone());
        } else {
            return Err(PyErr::type_error(format!(
                "'{k}' is an invalid keyword argument for int()"
            )));
        }
    }
    if pos.len() > 2 || (pos.len() == 2 && base_arg.is_some()) {
        return Err(PyErr::type_error(format!(
            "int() takes at most 2 arguments ({} given)",
            pos.len() + usize::from(base_arg.is_some())
        )));
    }
    if pos.len() == 2 {
        base_arg = pos.pop();
    }
    let value = match (pos.first(), base_arg) {
        (None, None) => Value::Int(0),
        (None, Some(_)) => return Err(PyErr::type_error("int() missing string argument")),
        (Some(x), None) => to_int(vm, x)?,
        (Some(x), Some(b)) => {
            let base = match int_ref(&base_value(&b)).and_then(|i| i.to_i64()) {
                Some(b) => b,
                None => {
                    return Err(PyErr::type_error(format!(
                        "'{}' object cannot be interpreted as an integer",
                        type_name(&b)
                    )))
                }
            };
            if base != 0 && !(2..=36).contains(&base) {
                return Err(PyErr::value_error(
                    "int() base must be >= 2 and <= 36, or 0",
                ));
            }
            let text = match base_value(x) {
                Value::Str(s) => s.as_str().to_string(),
                b @ (Value::Bytes(_) | Value::ByteArray(_)) => bytes_text(&b),
                _ => {
                    return Err(PyErr::type_error(
                        "int() can't convert non-string with explicit base",
                    ))
                }
            };
            match parse_int(&text, base as u32)? {
                Some(v) => v,
                None => return Err(invalid_int_literal(x, base as u32, vm)?),
            }
        }
    };
    wrap_for_class(&cls, value, &types().int)
}

fn float_new(vm: &mut Vm, args: &[Value], kwargs: Kwargs) -> PyResult<Value> {
    if !kwargs.is_empty() {
        return Err(PyErr::type_error("float() takes no keyword arguments"));
    }
    let cls = args.first().cloned().unwrap_or(Value::None);
    if args.len() > 2 {
        return Err(PyErr::type_error(format!(
            "float expected at most 1 argument, got {}",
            args.len() - 1
        )));
    }
    let f = match args.get(1) {
        None => 0.0,
        Some(v) => to_float(vm, v)?,
    };
    wrap_for_class(&cls, Value::Float(f), &types().float)
}

fn bool_new(vm: &mut Vm, args: &[Value], kwargs: Kwargs) -> PyResult<Value> {
    if !kwargs.is_empty() {
        return Err(PyErr::type_error("bool() takes no keyword arguments"));
    }
    if args.len() > 2 {
        return Err(PyErr::type_error(format!(
            "bool expected at most 1 argument, got {}",
            args.len() - 1
        )));
    }
    match args.get(1) {
        None => Ok(Value::Bool(false)),
        Some(v) => Ok(Value::Bool(vm.is_true(v)?)),
    }
}

// ---------------------------------------------------------------- methods

/// The int receiver of an `int` method (bools and int subclasses included).
fn int_self(args: &[Value], method: &str) -> PyResult<Value> {
    let v = args.first().map(base_value).unwrap_or(Value::None);
    if int_ref(&v).is_some() {
        Ok(v)
    } else if args.is_empty() {
        Err(PyErr::type_error(format!(
            "unbound method int.{method}() needs an argument"
        )))
    } else {
        Err(crate::vm::builtins::descriptor_error(
            method, "int", &args[0],
        ))
    }
}

fn float_self(args: &[Value], method: &str) -> PyResult<f64> {
    match args.first().map(base_value) {
        Some(Value::Float(f)) => Ok(f),
        Some(_) => Err(crate::vm::builtins::descriptor_error(
            method, "float", &args[0],
        )),
        None => Err(PyErr::type_error(format!(
            "unbound method float.{method}() needs an argument"
        ))),
    }
}

fn int_bit_length(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let v = int_self(args, "bit_length")?;
    no_args("int.bit_length", &args[1..])?;
    Ok(Value::Int(int_ref(&v).expect("int").bits() as i64))
}

fn int_bit_count(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let v = int_self(args, "bit_count")?;
    no_args("int.bit_count", &args[1..])?;
    let n = match int_ref(&v).expect("int") {
        IntRef::Small(i) => i.unsigned_abs().count_ones() as u64,
        IntRef::Big(b) => b.magnitude().count_ones(),
    };
    Ok(Value::Int(n as i64))
}

fn int_identity(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let v = int_self(args, "__int__")?;
    Ok(match v {
        Value::Bool(b) => Value::Int(b as i64),
        v => v,
    })
}

fn int_float(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let v = int_self(args, "__float__")?;
    Ok(Value::Float(int_ref(&v).expect("int").to_f64()?))
}

fn int_conjugate(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    int_self(args, "conjugate")?;
    no_args("int.conjugate", &args[1..])?;
    int_identity(vm, &args[..1], kw)
}

fn int_as_integer_ratio(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let v = int_self(args, "as_integer_ratio")?;
    no_args("int.as_integer_ratio", &args[1..])?;
    let v = match v {
        Value::Bool(b) => Value::Int(b as i64),
        v => v,
    };
    Ok(Value::tuple(vec![v, Value::Int(1)]))
}

fn int_round(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let v = int_self(args, "__round__")?;
    arity("__round__", &args[1..], 0, 1)?;
    round(vm, &v, args.get(1))
}

fn int_to_bytes(vm: &mut Vm, args: &[Value], kwargs: Kwargs) -> PyResult<Value> {
    let v = int_self(args, "to_bytes")?;
    if args.len() + kwargs.len() > 4 {
        return Err(PyErr::type_error(format!(
            "to_bytes() takes at most 3 arguments ({} given)",
            args.len() - 1 + kwargs.len()
        )));
    }
    let mut length = args.get(1).cloned();
    let mut order = args.get(2).cloned();
    let mut signed = false;
    for (k, val) in kwargs {
        match &**k {
            "length" => length = Some(val.clone()),
            "byteorder" => order = Some(val.clone()),
            "signed" => signed = vm.is_true(val)?,
            _ => {
                return Err(PyErr::type_error(format!(
                    "'{k}' is an invalid keyword argument for to_bytes()"
                )))
            }
        }
    }
    let length = match length {
        Some(l) => crate::vm::builtins::index_arg(&l)?,
        None => 1,
    };
    if length < 0 {
        return Err(PyErr::value_error("length argument must be non-negative"));
    }
    let little = match order.as_ref().and_then(|o| o.as_str().map(str::to_string)) {
        None => false,
        Some(s) if s == "big" => false,
        Some(s) if s == "little" => true,
        Some(_) => {
            return Err(PyErr::value_error(
                "byteorder must be either 'little' or 'big'",
            ))
        }
    };
    let i = int_ref(&v).expect("int").to_big();
    if i.is_negative() && !signed {
        return Err(PyErr::overflow_error(
            "can't convert negative int to unsigned",
        ));
    }
    let mut bytes = i.to_signed_bytes_le();
    if !signed || !i.is_negative() {
        // Unsigned / positive: drop a sign byte the two's complement form added.
        while bytes.len() > 1 && *bytes.last().unwrap_or(&1) == 0 {
            bytes.pop();
        }
        if i.is_zero() {
            bytes.clear();
        }
    }
    let fits = if signed {
        bytes.len() <= length as usize
            && (bytes.len() < length as usize
                || i.is_zero()
                || (bytes.last().copied().unwrap_or(0) & 0x80 != 0) == i.is_negative())
    } else {
        bytes.len() <= length as usize
    };
    if !fits {
        return Err(PyErr::overflow_error("int too big to convert"));
    }
    let fill = if i.is_negative() { 0xff } else { 0 };
    crate::vm::str::check_size(length as u128)?;
    bytes.resize(length as usize, fill);
    if !little {
        bytes.reverse();
    }
    Ok(Value::Bytes(bytes.into()))
}

fn int_from_bytes(vm: &mut Vm, args: &[Value], kwargs: Kwargs) -> PyResult<Value> {
    // args[0] is the class (a class method).
    if args.len() + kwargs.len() > 4 {
        return Err(PyErr::type_error(format!(
            "from_bytes() takes at most 3 arguments ({} given)",
            args.len() - 1 + kwargs.len()
        )));
    }
    let mut data = args.get(1).cloned();
    let mut order = args.get(2).cloned();
    let mut signed = false;
    for (k, val) in kwargs {
        match &**k {
            "bytes" => data = Some(val.clone()),
            "byteorder" => order = Some(val.clone()),
            "signed" => signed = vm.is_true(val)?,
            _ => {
                return Err(PyErr::type_error(format!(
                    "'{k}' is an invalid keyword argument for from_bytes()"
                )))
            }
        }
    }
    let bytes: Vec<u8> = match data {
        Some(Value::Bytes(b)) => b.to_vec(),
        Some(other) => {
            let cannot = || {
                PyErr::type_error(format!(
                    "cannot convert '{}' object to bytes",
                    type_name(&other)
                ))
            };
            if matches!(
                other,
                Value::Str(_) | Value::None | Value::Float(_) | Value::Int(_) | Value::BigInt(_)
            ) {
                return Err(cannot());
            }
            let it = match vm.iter(&other) {
                Ok(it) => it,
                Err(e) if e.matches(ExcKind::TypeError) => return Err(cannot()),
                Err(e) => return Err(e),
            };
            let items = vm.collect(&it)?;
            let mut out = Vec::with_capacity(items.len());
            for it in items {
                match int_ref(&it).and_then(|i| i.to_i64()) {
                    Some(n) if (0..256).contains(&n) => out.push(n as u8),
                    _ => return Err(PyErr::value_error("bytes must be in range(0, 256)")),
                }
            }
            out
        }
        None => {
            return Err(PyErr::type_error(
                "from_bytes() missing required argument 'bytes' (pos 1)",
            ))
        }
    };
    let little = match order.as_ref().and_then(|o| o.as_str().map(str::to_string)) {
        None => false,
        Some(s) if s == "big" => false,
        Some(s) if s == "little" => true,
        Some(_) => {
            return Err(PyErr::value_error(
                "byteorder must be either 'little' or 'big'",
            ))
        }
    };
    let n = match (signed, little) {
        (true, true) => BigInt::from_signed_bytes_le(&bytes),
        (true, false) => BigInt::from_signed_bytes_be(&bytes),
        (false, true) => BigInt::from_bytes_le(Sign::Plus, &bytes),
        (false, false) => BigInt::from_bytes_be(Sign::Plus, &bytes),
    };
    let cls = args.first().cloned().unwrap_or(Value::None);
    if let Value::Class(c) = &cls {
        if !Arc::ptr_eq(c, &types().int) {
            return vm.call(&cls, &[int_from_bigint(n)], &[]);
        }
    }
    Ok(int_from_bigint(n))
}

fn float_is_integer(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let f = float_self(args, "is_integer")?;
    no_args("float.is_integer", &args[1..])?;
    Ok(Value::Bool(f.is_finite() && f.fract() == 0.0))
}

fn float_as_integer_ratio(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let f = float_self(args, "as_integer_ratio")?;
    no_args("float.as_integer_ratio", &args[1..])?;
    if f.is_nan() {
        return Err(PyErr::value_error("cannot convert NaN to integer ratio"));
    }
    if f.is_infinite() {
        return Err(PyErr::overflow_error(
            "cannot convert Infinity to integer ratio",
        ));
    }
    let (m, e) = frexp(f.abs());
    // m * 2**53 is an integer.
    let mut num = BigInt::from((m * 2f64.powi(53)) as u64);
    let mut exp = e - 53;
    let mut den = BigInt::one();
    while exp < 0 && num.is_even() && !num.is_zero() {
        num >>= 1u32;
        exp += 1;
    }
    if exp >= 0 {
        num <<= exp as u64;
    } else {
        den <<= (-exp) as u64;
    }
    if f.is_zero() {
        num = BigInt::zero();
        den = BigInt::one();
    }
    if f < 0.0 {
        num = -num;
    }
    Ok(Value::tuple(vec![
        int_from_bigint(num),
        int_from_bigint(den),
    ]))
}

fn float_int(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    float_to_int(float_self(args, "__int__")?)
}

fn float_float(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::Float(float_self(args, "__float__")?))
}

fn float_floor(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    float_to_int(float_self(args, "__floor__")?.floor())
}

fn float_ceil(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    float_to_int(float_self(args, "__ceil__")?.ceil())
}

fn float_round_method(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let f = float_self(args, "__round__")?;
    arity("__round__", &args[1..], 0, 1)?;
    round(vm, &Value::Float(f), args.get(1))
}

fn float_conjugate(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let f = float_self(args, "conjugate")?;
    no_args("float.conjugate", &args[1..])?;
    Ok(Value::Float(f))
}

fn float_hex(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let f = float_self(args, "hex")?;
    no_args("float.hex", &args[1..])?;
    Ok(Value::from_string(float_hex_string(f)))
}

/// `float.fromhex(s)` (a class method: `args[0]` is the class).
fn float_fromhex(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    if args.len() != 2 {
        return Err(PyErr::type_error(format!(
            "float.fromhex() takes exactly one argument ({} given)",
            args.len().saturating_sub(1)
        )));
    }
    let Value::Str(text) = base_value(&args[1]) else {
        return Err(PyErr::type_error(
            "bad argument type for built-in operation",
        ));
    };
    let f = parse_hex_float(text.as_str())
        .ok_or_else(|| PyErr::value_error("invalid hexadecimal floating-point string"))?;
    if f.is_infinite() && !text.as_str().to_ascii_lowercase().contains("inf") {
        return Err(PyErr::overflow_error(
            "hexadecimal value too large to represent as a float",
        ));
    }
    match &args[0] {
        Value::Class(c) if !Arc::ptr_eq(c, &types().float) => {
            vm.call(&args[0], &[Value::Float(f)], &[])
        }
        _ => Ok(Value::Float(f)),
    }
}

/// `[sign] ['0x'] hexdigits ['.' hexdigits] ['p' [sign] digits]`, or inf/nan.
fn parse_hex_float(text: &str) -> Option<f64> {
    let (neg, t, special) = split_float_sign(text.trim());
    if special.is_some() {
        return special;
    }
    let lower = t.to_ascii_lowercase();
    let body = lower.strip_prefix("0x").unwrap_or(&lower);
    let (mantissa, exp) = match body.split_once('p') {
        Some((m, e)) => (m, e.parse::<i64>().ok()?),
        None => (body, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let digits = format!("{int_part}{frac_part}");
    // `parse_bytes` would also take `_` separators, which `fromhex` refuses.
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let m = BigInt::parse_bytes(digits.as_bytes(), 16)?;
    let e = exp.checked_sub(4 * frac_part.len() as i64)?;
    let v = ldexp(m.to_f64()?, e);
    Some(if neg { -v } else { v })
}

/// `float.hex()`: `0x1.8000000000000p+0`.
pub fn float_hex_string(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let sign = if f.is_sign_negative() { "-" } else { "" };
    if f == 0.0 {
        return format!("{sign}0x0.0p+0");
    }
    let bits = f.abs().to_bits();
    let raw_exp = ((bits >> 52) & 0x7ff) as i64;
    let frac = bits & ((1 << 52) - 1);
    let (lead, exp) = if raw_exp == 0 {
        (0, -1022)
    } else {
        (1, raw_exp - 1023)
    };
    let digits = format!("{frac:013x}");
    let exp_sign = if exp < 0 { '-' } else { '+' };
    format!("{sign}0x{lead}.{digits}p{exp_sign}{}", exp.abs())
}

/// Install the methods of `int`, `bool` and `float`.
pub fn install(t: &Types) {
    constructor(&t.int, int_new);
    constructor(&t.float, float_new);
    constructor(&t.bool_, bool_new);
    method(&t.int, "bit_length", int_bit_length);
    method(&t.int, "bit_count", int_bit_count);
    method(&t.int, "conjugate", int_conjugate);
    method(&t.int, "__int__", int_identity);
    method(&t.int, "__index__", int_identity);
    method(&t.int, "__trunc__", int_identity);
    method(&t.int, "__floor__", int_identity);
    method(&t.int, "__ceil__", int_identity);
    method(&t.int, "__float__", int_float);
    method(&t.int, "__round__", int_round);
    method(&t.int, "as_integer_ratio", int_as_integer_ratio);
    method_kw(&t.int, "to_bytes", int_to_bytes);
    crate::vm::builtins::class_method_kw(&t.int, "from_bytes", int_from_bytes);
    method(&t.float, "is_integer", float_is_integer);
    method(&t.float, "as_integer_ratio", float_as_integer_ratio);
    method(&t.float, "__int__", float_int);
    method(&t.float, "__trunc__", float_int);
    method(&t.float, "__float__", float_float);
    method(&t.float, "__floor__", float_floor);
    method(&t.float, "__ceil__", float_ceil);
    method(&t.float, "__round__", float_round_method);
    method(&t.float, "conjugate", float_conjugate);
    method(&t.float, "hex", float_hex);
    crate::vm::builtins::class_method(&t.float, "fromhex", float_fromhex);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(i: i64) -> IntRef<'static> {
        IntRef::Small(i)
    }

    fn int_val(v: Value) -> String {
        match v {
            Value::Int(i) => i.to_string(),
            Value::BigInt(b) => b.to_string(),
            Value::Float(f) => float_repr(f),
            _ => "?".into(),
        }
    }

    #[test]
    fn float_repr_matches_cpython() {
        let cases = [
            (1e16, "1e+16"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (100.0, "100.0"),
            (0.1, "0.1"),
            (-0.0, "-0.0"),
            (1.0 / 3.0, "0.3333333333333333"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (2f64.powi(62), "4.611686018427388e+18"),
            (1e22, "1e+22"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (9007199254740992.0, "9007199254740992.0"),
            (1.5, "1.5"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            (1234.5, "1234.5"),
            (900_719_925_474_099.2, "900719925474099.2"),
            (-900_719_925_474_099.2, "-900719925474099.2"),
            (0.000123, "0.000123"),
        ];
        for (x, want) in cases {
            assert_eq!(float_repr(x), want, "{x}");
        }
    }

    #[test]
    fn int_division_signs() {
        use BinaryOpKind::*;
        let r = |op, a, b| int_val(int_binop(op, small(a), small(b)).unwrap());
        assert_eq!(r(FloorDiv, -7, 2), "-4");
        assert_eq!(r(Mod, -7, 2), "1");
        assert_eq!(r(Mod, 7, -2), "-1");
        assert_eq!(r(FloorDiv, 7, -2), "-4");
        assert_eq!(r(FloorDiv, i64::MIN, -1), "9223372036854775808");
        assert_eq!(r(Mod, i64::MIN, -1), "0");
        assert_eq!(r(TrueDiv, 0, -5), "-0.0");
        assert_eq!(r(Pow, 2, -2), "0.25");
        assert_eq!(r(Pow, -2, -3), "-0.125");
        assert_eq!(r(RShift, -5, 1), "-3");
        assert_eq!(r(Mul, i64::MAX, 2), "18446744073709551614");
        let big = BigInt::from(2).pow(70u32);
        let nb = -big.clone();
        assert_eq!(
            int_val(int_binop(RShift, IntRef::Big(&nb), small(3)).unwrap()),
            "-147573952589676412928"
        );
        assert_eq!(
            int_val(int_binop(And, IntRef::Big(&nb), small(0xff)).unwrap()),
            "0"
        );
        let p64 = -BigInt::from(2).pow(64u32);
        assert_eq!(
            int_val(int_binop(RShift, IntRef::Big(&p64), small(70)).unwrap()),
            "-1"
        );
        assert!(int_binop(FloorDiv, small(1), small(0)).is_err());
    }

    #[test]
    fn float_division_signs() {
        assert_eq!(float_divmod_raw(-7.5, 2.0), (-4.0, 0.5));
        assert_eq!(float_mod_raw(7.5, -2.0), -0.5);
        assert!(float_mod_raw(0.0, -5.0).is_sign_negative());
        assert!(!float_mod_raw(-0.0, 5.0).is_sign_negative());
    }

    #[test]
    fn true_division_is_correctly_rounded() {
        let a = BigInt::from(2).pow(63u32);
        assert_eq!(
            float_repr(int_true_div(IntRef::Big(&a), small(3)).unwrap()),
            "3.0744573456182584e+18"
        );
        let b = BigInt::from(2).pow(64u32) + 1;
        assert_eq!(
            float_repr(int_true_div(IntRef::Big(&b), small(2)).unwrap()),
            "9.223372036854776e+18"
        );
        let c = BigInt::from(10).pow(400u32);
        let d = BigInt::from(10).pow(399u32);
        assert_eq!(
            int_true_div(IntRef::Big(&c), IntRef::Big(&d)).unwrap(),
            10.0
        );
        assert!(int_true_div(IntRef::Big(&c), small(1)).is_err());
    }

    #[test]
    fn hashes_match_cpython() {
        assert_eq!(hash_int(small(-1)), -2);
        assert_eq!(hash_int(small(1)), 1);
        let p = BigInt::from(2).pow(61u32);
        assert_eq!(hash_int(IntRef::Big(&p)), 1);
        let p1 = p.clone() - 1;
        assert_eq!(hash_int(IntRef::Big(&p1)), 0);
        let n = -p;
        assert_eq!(hash_int(IntRef::Big(&n)), -2);
        let h100 = BigInt::from(2).pow(100u32);
        assert_eq!(hash_int(IntRef::Big(&h100)), 549755813888);
        assert_eq!(hash_float(1.5), 1152921504606846977);
        assert_eq!(hash_float(-1.5), -1152921504606846977);
        assert_eq!(hash_float(1e300), 1224995262755759164);
        assert_eq!(hash_float(0.1), 230584300921369408);
        assert_eq!(hash_float(f64::INFINITY), 314159);
        assert_eq!(hash_float(3.0), 3);
        assert_eq!(hash_float(-1.0), -2);
        assert_eq!(hash_tuple(&[]), 5740354900026072187);
        assert_eq!(hash_tuple(&[1]), -6644214454873602895);
        assert_eq!(hash_tuple(&[1, 2]), -3550055125485641917);
        let inner = hash_tuple(&[2, 3]);
        assert_eq!(hash_tuple(&[1, inner]), 7267574591690527098);
        // hash(frozenset({1, 2, 3})), hash(frozenset())
        assert_eq!(hash_frozenset(&[1, 2, 3]), -272375401224217160);
        assert_eq!(hash_frozenset(&[]), 133146708735736);
    }

    #[test]
    fn rounding() {
        assert_eq!(round_float(2.675, 2).unwrap(), 2.67);
        assert_eq!(round_float(0.285, 2).unwrap(), 0.28);
        assert_eq!(round_float(123.456, -1).unwrap(), 120.0);
        assert_eq!(round_float(1e20, -5).unwrap(), 1e20);
        assert_eq!(round_float(2.5, 0).unwrap(), 2.0);
        assert!(round_float(-0.4, 0).unwrap().is_sign_negative());
        assert_eq!(int_val(round_int(small(1250), -2).unwrap()), "1200");
        assert_eq!(int_val(round_int(small(1350), -2).unwrap()), "1400");
        assert_eq!(int_val(round_int(small(-1250), -2).unwrap()), "-1200");
        assert_eq!(int_val(round_float_to_int(2.5).unwrap()), "2");
        assert_eq!(int_val(round_float_to_int(-1.5).unwrap()), "-2");
    }

    #[test]
    fn parsing() {
        let p = |s: &str, b| parse_int(s, b).unwrap().map(int_val);
        assert_eq!(p(" 1_0 ", 10), Some("10".into()));
        assert_eq!(p("1__0", 10), None);
        assert_eq!(p("0x1f", 0), Some("31".into()));
        assert_eq!(p("0x1f", 16), Some("31".into()));
        assert_eq!(p("010", 0), None);
        assert_eq!(p("0_0", 0), Some("0".into()));
        assert_eq!(p("0b_1", 0), Some("1".into()));
        assert_eq!(p("-  1", 10), None);
        assert_eq!(p(" -1 ", 10), Some("-1".into()));
        assert_eq!(p("z", 36), Some("35".into()));
        assert_eq!(p("٣", 10), Some("3".into()));
        assert_eq!(p("0o17", 10), None);
        assert_eq!(p("", 10), None);
        assert_eq!(
            p("123456789012345678901234567890", 10),
            Some("123456789012345678901234567890".into())
        );
        assert_eq!(parse_float("1_000.5"), Some(1000.5));
        assert_eq!(parse_float("1__0"), None);
        assert_eq!(parse_float("_1"), None);
        assert_eq!(parse_float("1."), Some(1.0));
        assert_eq!(parse_float(".5"), Some(0.5));
        assert_eq!(parse_float("."), None);
        assert_eq!(parse_float("1e"), None);
        assert_eq!(parse_float(" 1e5 "), Some(1e5));
        assert_eq!(parse_float("-Infinity"), Some(f64::NEG_INFINITY));
        assert!(parse_float("+nan").unwrap().is_nan());
        assert_eq!(parse_float("  "), None);
        assert_eq!(parse_float("1e500"), Some(f64::INFINITY));
        assert_eq!(parse_float("٣.٥"), Some(3.5));
    }

    #[test]
    fn int_float_comparison_is_exact() {
        let big = BigInt::from(2).pow(53u32) + 1;
        assert_eq!(
            cmp_int_float(IntRef::Big(&big), 2f64.powi(53)),
            Some(Ordering::Greater)
        );
        assert_eq!(cmp_int_float(small(1), 1.0), Some(Ordering::Equal));
        assert_eq!(cmp_int_float(small(1), 1.5), Some(Ordering::Less));
        assert_eq!(cmp_int_float(small(-1), -1.5), Some(Ordering::Greater));
        assert_eq!(cmp_int_float(small(0), f64::NAN), None);
    }

    #[test]
    fn powers() {
        assert!(float_pow(2.0, 10000.0).is_err());
        assert!(float_pow(0.0, -1.0).is_err());
        assert_eq!(float_pow(-2.0, 3.0).unwrap(), -8.0);
        assert!(int_pow(small(10), small(1 << 40)).is_err());
        assert_eq!(int_val(int_pow(small(-1), small(1 << 40)).unwrap()), "1");
        assert_eq!(
            int_val(int_pow(small(2), small(64)).unwrap()),
            "18446744073709551616"
        );
        assert_eq!(
            int_val(int_pow_mod(small(2), small(-1), small(5)).unwrap()),
            "3"
        );
        assert_eq!(
            int_val(int_pow_mod(small(3), small(2), small(-5)).unwrap()),
            "-1"
        );
    }

    #[test]
    fn float_hex_form() {
        assert_eq!(float_hex_string(1.5), "0x1.8000000000000p+0");
        assert_eq!(float_hex_string(1.0), "0x1.0000000000000p+0");
        assert_eq!(float_hex_string(-0.1), "-0x1.999999999999ap-4");
    }
}
