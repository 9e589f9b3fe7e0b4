//! `math`: CPython's `Modules/mathmodule.c` over the platform libm (Rust's `f64`
//! methods call the same libm CPython uses), with its error rules: a NaN from a
//! non-NaN argument is "math domain error" (ValueError), an infinity from a
//! finite argument is "math range error" (OverflowError).

use std::sync::Arc;

use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{One, Signed, ToPrimitive, Zero};

use crate::compile::code::BinaryOpKind;
use crate::stdlib::{
    add_functions, arg, check_args, int_value, kwarg, new_module, set_attr, to_bigint, to_f64_vm,
    type_name,
};
use crate::vm::error::{PyErr, PyResult};
use crate::vm::interp::Vm;
use crate::vm::value::{Kwargs, Module, Value};

fn domain() -> PyErr {
    PyErr::value_error("math domain error")
}

fn range() -> PyErr {
    PyErr::overflow_error("math range error")
}

fn one_arg<'a>(name: &str, args: &'a [Value]) -> PyResult<&'a Value> {
    if args.len() != 1 {
        return Err(PyErr::type_error(format!(
            "math.{name}() takes exactly one argument ({} given)",
            args.len()
        )));
    }
    Ok(&args[0])
}

/// `math_1`: apply `f`, then turn NaN/inf results into CPython's exceptions.
fn math_1(
    vm: &mut Vm,
    name: &str,
    args: &[Value],
    f: fn(f64) -> f64,
    can_overflow: bool,
) -> PyResult<Value> {
    let x = to_f64_vm(vm, one_arg(name, args)?)?;
    let r = f(x);
    if r.is_nan() && !x.is_nan() {
        return Err(domain());
    }
    if r.is_infinite() && x.is_finite() {
        return Err(if can_overflow { range() } else { domain() });
    }
    Ok(Value::Float(r))
}

macro_rules! unary {
    ($($name:ident => $f:expr, $overflow:expr;)*) => {
        $(
            fn $name(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
                math_1(vm, stringify!($name), args, $f, $overflow)
            }
        )*
    };
}

unary! {
    sqrt => f64::sqrt, false;
    exp => f64::exp, true;
    exp2 => f64::exp2, true;
    expm1 => f64::exp_m1, true;
    sin => f64::sin, false;
    cos => f64::cos, false;
    tan => f64::tan, false;
    asin => f64::asin, false;
    acos => f64::acos, false;
    atan => f64::atan, false;
    sinh => f64::sinh, true;
    cosh => f64::cosh, true;
    tanh => f64::tanh, false;
    asinh => libm_asinh, false;
    acosh => libm_acosh, false;
    atanh => libm_atanh, false;
    cbrt => libm_cbrt, false;
    fabs => f64::abs, false;
}

// Rust's `asinh`, `acosh`, `atanh` and `cbrt` are not the platform libm's
// (`f64::cbrt` links compiler-builtins' own `cbrt`), so they can differ from
// CPython in the last bit; these are glibc's generic algorithms.

const LN2: f64 = std::f64::consts::LN_2;

pub(crate) fn libm_asinh(x: f64) -> f64 {
    let xa = x.abs();
    if xa < 2f64.powi(-28) || !x.is_finite() {
        // Tiny values (-0.0 too) come back unchanged; inf/nan as x + x.
        return if x.is_finite() { x } else { x + x };
    }
    let w = if xa > 2f64.powi(28) {
        xa.ln() + LN2
    } else if xa > 2.0 {
        (2.0 * xa + 1.0 / ((xa * xa + 1.0).sqrt() + xa)).ln()
    } else {
        let t = xa * xa;
        (xa + t / (1.0 + (1.0 + t).sqrt())).ln_1p()
    };
    w.copysign(x)
}

fn libm_acosh(x: f64) -> f64 {
    if x.is_nan() || x < 1.0 {
        return f64::NAN;
    }
    if x >= 2f64.powi(28) {
        if x.is_infinite() {
            return x;
        }
        return x.ln() + LN2;
    }
    if x == 1.0 {
        return 0.0;
    }
    if x > 2.0 {
        let t = x * x;
        return (2.0 * x - 1.0 / (x + (t - 1.0).sqrt())).ln();
    }
    let t = x - 1.0;
    (t + (2.0 * t + t * t).sqrt()).ln_1p()
}

fn libm_atanh(x: f64) -> f64 {
    let xa = x.abs();
    let t = if xa < 0.5 {
        if xa < 2f64.powi(-28) {
            return x;
        }
        let t = xa + xa;
        0.5 * (t + t * xa / (1.0 - xa)).ln_1p()
    } else if xa < 1.0 {
        0.5 * ((xa + xa) / (1.0 - xa)).ln_1p()
    } else if xa > 1.0 || xa.is_nan() {
        return f64::NAN;
    } else {
        return x / 0.0;
    };
    t.copysign(x)
}

#[allow(clippy::excessive_precision)]
fn libm_cbrt(x: f64) -> f64 {
    const CBRT2: f64 = 1.259_921_049_894_873_164_8;
    const SQR_CBRT2: f64 = 1.587_401_051_968_199_474_8;
    const FACTOR: [f64; 5] = [1.0 / SQR_CBRT2, 1.0 / CBRT2, 1.0, CBRT2, SQR_CBRT2];
    if x == 0.0 || !x.is_finite() {
        return x + x;
    }
    let (xm, xe) = frexp_parts(x.abs());
    // glibc's coefficients digit for digit (a shortened literal can round
    // to a different double).
    let u = 0.354_895_765_043_919_860
        + (1.508_191_937_815_848_96
            + (-2.114_994_941_673_712_87
                + (2.446_931_225_635_344_30
                    + (-1.834_692_774_836_130_86
                        + (0.784_932_344_976_639_262 - 0.145_263_899_385_486_377 * xm) * xm)
                        * xm)
                    * xm)
                * xm)
            * xm;
    let t2 = u * u * u;
    let ym = u * (t2 + 2.0 * xm) / (2.0 * t2 + xm) * FACTOR[(2 + xe % 3) as usize];
    ldexp_i(ym, (xe / 3) as i32).copysign(x)
}

/// `frexp` for a finite non-zero x: (m, e) with x = m * 2**e, 0.5 <= |m| < 1.
fn frexp_parts(x: f64) -> (f64, i64) {
    let (mut m, mut e) = (x, 0i64);
    // Scale subnormals into the normal range first.
    if m.abs() < f64::MIN_POSITIVE {
        m *= 2f64.powi(64);
        e -= 64;
    }
    let bits = m.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i64;
    e += exp - 1022;
    let mant = f64::from_bits((bits & !(0x7ffu64 << 52)) | (1022u64 << 52));
    (mant, e)
}

/// x * 2**e in two steps, so the intermediate power stays finite.
fn ldexp_i(x: f64, e: i32) -> f64 {
    x * 2f64.powi(e / 2) * 2f64.powi(e - e / 2)
}

// ---------------------------------------------------------------------------
// gamma and lgamma: CPython's own Lanczos implementation (`m_tgamma`, `m_lgamma`).

// CPython's constants, digit for digit (they parse to the same doubles).
#[allow(clippy::excessive_precision)]
const LANCZOS_G: f64 = 6.024_680_040_776_729_583_740_234_375;
#[allow(clippy::excessive_precision)]
const LANCZOS_G_MINUS_HALF: f64 = 5.524_680_040_776_729_583_740_234_375;
#[allow(clippy::excessive_precision)]
const LANCZOS_NUM: [f64; 13] = [
    23_531_376_880.410_759_688_572_007_674_451_636_754_734_846_804_940,
    42_919_803_642.649_098_768_957_899_047_001_988_850_926_355_848_959,
    35_711_959_237.355_668_049_440_185_451_547_166_705_960_488_635_843,
    17_921_034_426.037_209_699_919_755_754_458_931_112_671_403_265_390,
    6_039_542_586.352_028_005_064_291_644_307_297_921_069_938_842_070_8,
    1_439_720_407.311_721_673_663_223_072_794_912_393_971_548_578_677_2,
    248_874_557.862_054_156_511_460_386_413_229_423_216_321_251_278_01,
    31_426_415.585_400_194_380_614_231_628_318_205_362_874_684_987_640,
    2_876_370.628_935_372_441_225_409_051_620_849_613_599_114_537_876_8,
    186_056.265_395_223_495_040_294_989_716_045_699_282_207_842_363_28,
    8_071.672_002_365_816_210_638_002_902_272_250_613_821_851_632_502_4,
    210.824_277_751_579_345_872_509_733_920_713_362_711_669_695_802_91,
    2.506_628_274_631_000_270_164_908_177_133_837_338_626_431_079_340_8,
];
const LANCZOS_DEN: [f64; 13] = [
    0.0,
    39_916_800.0,
    120_543_840.0,
    150_917_976.0,
    105_258_076.0,
    45_995_730.0,
    13_339_535.0,
    2_637_558.0,
    357_423.0,
    32_670.0,
    1_925.0,
    66.0,
    1.0,
];

fn lanczos_sum(x: f64) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    if x < 5.0 {
        for i in (0..13).rev() {
            num = num * x + LANCZOS_NUM[i];
            den = den * x + LANCZOS_DEN[i];
        }
    } else {
        for i in 0..13 {
            num = num / x + LANCZOS_NUM[i];
            den = den / x + LANCZOS_DEN[i];
        }
    }
    num / den
}

/// sin(pi * x), exact at integers and half-integers.
fn sinpi(x: f64) -> f64 {
    use std::f64::consts::PI;
    let y = x.abs() % 2.0;
    let r = match (2.0 * y).round() as i32 {
        0 => (PI * y).sin(),
        1 => (PI * (y - 0.5)).cos(),
        2 => (PI * (1.0 - y)).sin(),
        3 => -(PI * (y - 1.5)).cos(),
        _ => (PI * (y - 2.0)).sin(),
    };
    1.0f64.copysign(x) * r
}

/// `m_tgamma`; `Err(true)` for a domain error, `Err(false)` for overflow.
fn tgamma(x: f64) -> Result<f64, bool> {
    if !x.is_finite() {
        if x.is_nan() || x > 0.0 {
            return Ok(x);
        }
        return Err(true);
    }
    if x == 0.0 {
        return Err(true);
    }
    if x == x.floor() {
        if x < 0.0 {
            return Err(true);
        }
        if x <= 23.0 {
            return Ok((1..x as u64).map(|k| k as f64).product());
        }
    }
    let absx = x.abs();
    if absx < 1e-20 {
        let r = 1.0 / x;
        return if r.is_infinite() { Err(false) } else { Ok(r) };
    }
    if absx > 200.0 {
        if x < 0.0 {
            return Ok(0.0 / sinpi(x));
        }
        return Err(false);
    }
    let y = absx + LANCZOS_G_MINUS_HALF;
    let z = if absx > LANCZOS_G_MINUS_HALF {
        let q = y - absx;
        q - LANCZOS_G_MINUS_HALF
    } else {
        let q = y - LANCZOS_G_MINUS_HALF;
        q - absx
    };
    let z = z * LANCZOS_G / y;
    let r = if x < 0.0 {
        let mut r = -std::f64::consts::PI / sinpi(absx) / absx * y.exp() / lanczos_sum(absx);
        r -= z * r;
        if absx < 140.0 {
            r /= y.powf(absx - 0.5);
        } else {
            let sqrtpow = y.powf(absx / 2.0 - 0.25);
            r /= sqrtpow;
            r /= sqrtpow;
        }
        r
    } else {
        let mut r = lanczos_sum(absx) / y.exp();
        r += z * r;
        if absx < 140.0 {
            r *= y.powf(absx - 0.5);
        } else {
            let sqrtpow = y.powf(absx / 2.0 - 0.25);
            r *= sqrtpow;
            r *= sqrtpow;
        }
        r
    };
    if r.is_infinite() {
        return Err(false);
    }
    Ok(r)
}

/// `m_lgamma`, with the same error convention as `tgamma`.
fn lgamma(x: f64) -> Result<f64, bool> {
    if !x.is_finite() {
        return Ok(if x.is_nan() { x } else { f64::INFINITY });
    }
    if x == x.floor() && x <= 2.0 {
        if x <= 0.0 {
            return Err(true);
        }
        return Ok(0.0);
    }
    let absx = x.abs();
    if absx < 1e-20 {
        return Ok(-absx.ln());
    }
    let mut r = lanczos_sum(absx).ln() - LANCZOS_G;
    r += (absx - 0.5) * ((absx + LANCZOS_G - 0.5).ln() - 1.0);
    if x < 0.0 {
        let logpi = 1.144_729_885_849_400_2;
        r = logpi - sinpi(absx).abs().ln() - absx.ln() - r;
    }
    if r.is_infinite() {
        return Err(false);
    }
    Ok(r)
}

fn gamma_fn(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let x = to_f64_vm(vm, one_arg("gamma", args)?)?;
    tgamma(x)
        .map(Value::Float)
        .map_err(|domain_err| if domain_err { domain() } else { range() })
}

fn lgamma_fn(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let x = to_f64_vm(vm, one_arg("lgamma", args)?)?;
    lgamma(x)
        .map(Value::Float)
        .map_err(|domain_err| if domain_err { domain() } else { range() })
}

extern "C" {
    fn erf(x: f64) -> f64;
    fn erfc(x: f64) -> f64;
}

fn erf_fn(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let x = to_f64_vm(vm, one_arg("erf", args)?)?;
    // SAFETY: C99 `erf` from the platform libm (which CPython also calls) is a pure
    // function of one double: no pointers, no state shared with Rust.
    Ok(Value::Float(unsafe { erf(x) }))
}

fn erfc_fn(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let x = to_f64_vm(vm, one_arg("erfc", args)?)?;
    // SAFETY: as for `erf` above.
    Ok(Value::Float(unsafe { erfc(x) }))
}

fn log1p(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let x = to_f64_vm(vm, one_arg("log1p", args)?)?;
    if x <= -1.0 {
        return Err(domain());
    }
    Ok(Value::Float(x.ln_1p()))
}

/// `loghelper`: logs of ints too large for a float go through frexp.
fn log_of(vm: &mut Vm, v: &Value, f: fn(f64) -> f64) -> PyResult<f64> {
    if let Value::BigInt(b) = v {
        if !b.is_positive() {
            return Err(domain());
        }
        if let Some(x) = b.to_f64().filter(|x| x.is_finite()) {
            return Ok(f(x));
        }
        // x = m * 2**e with m in [0.5, 1).
        let e = b.bits();
        let top = (&**b >> (e - 64)).to_u64().unwrap_or(u64::MAX);
        let m = top as f64 / 18_446_744_073_709_551_616.0;
        return Ok(f(m) + f(2.0) * e as f64);
    }
    let x = to_f64_vm(vm, v)?;
    if x.is_nan() {
        return Ok(x);
    }
    if x <= 0.0 {
        return Err(domain());
    }
    if x.is_infinite() {
        return Ok(x);
    }
    Ok(f(x))
}

fn log(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("log", args, 1, 2)?;
    let num = log_of(vm, &args[0], f64::ln)?;
    if let Some(base) = args.get(1) {
        let den = log_of(vm, base, f64::ln)?;
        if den == 0.0 {
            return Err(PyErr::zero_division("float division by zero"));
        }
        return Ok(Value::Float(num / den));
    }
    Ok(Value::Float(num))
}

fn log2(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let x = one_arg("log2", args)?;
    Ok(Value::Float(log_of(vm, x, f64::log2)?))
}

fn log10(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let x = one_arg("log10", args)?;
    Ok(Value::Float(log_of(vm, x, f64::log10)?))
}

fn two_floats(vm: &mut Vm, name: &str, args: &[Value]) -> PyResult<(f64, f64)> {
    check_args(name, args, 2, 2)?;
    Ok((to_f64_vm(vm, &args[0])?, to_f64_vm(vm, &args[1])?))
}

fn pow(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (x, y) = two_floats(vm, "pow", args)?;
    // CPython deals with the special values itself, then asks libm.
    if !x.is_finite() || !y.is_finite() {
        return Ok(Value::Float(x.powf(y)));
    }
    if x == 0.0 && y < 0.0 {
        return Err(domain());
    }
    let r = x.powf(y);
    if r.is_nan() {
        return Err(domain());
    }
    if r.is_infinite() {
        return Err(range());
    }
    Ok(Value::Float(r))
}

fn atan2(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (y, x) = two_floats(vm, "atan2", args)?;
    Ok(Value::Float(y.atan2(x)))
}

fn copysign(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (x, y) = two_floats(vm, "copysign", args)?;
    Ok(Value::Float(x.copysign(y)))
}

fn fmod(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (x, y) = two_floats(vm, "fmod", args)?;
    if y.is_infinite() && x.is_finite() {
        return Ok(Value::Float(x));
    }
    let r = x % y;
    if r.is_nan() && !x.is_nan() && !y.is_nan() {
        return Err(domain());
    }
    Ok(Value::Float(r))
}

fn remainder(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (x, y) = two_floats(vm, "remainder", args)?;
    if x.is_nan() || y.is_nan() {
        return Ok(Value::Float(f64::NAN));
    }
    if x.is_infinite() || y == 0.0 {
        return Err(domain());
    }
    if y.is_infinite() {
        return Ok(Value::Float(x));
    }
    // CPython's m_remainder: exact, ties to even.
    let absx = x.abs();
    let absy = y.abs();
    let m = absx % absy;
    let c = absy - m;
    let r = if m < c {
        m
    } else if m > c {
        -c
    } else {
        m - 2.0 * ((0.5 * (absx - m)) % absy)
    };
    Ok(Value::Float(1.0f64.copysign(x) * r))
}

fn modf(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let x = to_f64_vm(vm, one_arg("modf", args)?)?;
    if x.is_infinite() {
        return Ok(Value::tuple(vec![
            Value::Float(0.0f64.copysign(x)),
            Value::Float(x),
        ]));
    }
    let int = x.trunc();
    let frac = (x - int).copysign(x);
    Ok(Value::tuple(vec![Value::Float(frac), Value::Float(int)]))
}

fn frexp(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let x = to_f64_vm(vm, one_arg("frexp", args)?)?;
    if x == 0.0 || !x.is_finite() {
        return Ok(Value::tuple(vec![Value::Float(x), Value::Int(0)]));
    }
    let (m, e) = frexp_parts(x);
    Ok(Value::tuple(vec![Value::Float(m), Value::Int(e)]))
}

fn ldexp(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("ldexp", args, 2, 2)?;
    let x = to_f64_vm(vm, &args[0])?;
    let e = match &args[1] {
        Value::Int(i) => *i,
        Value::Bool(b) => i64::from(*b),
        Value::BigInt(b) => {
            if b.is_positive() {
                i64::MAX
            } else {
                i64::MIN
            }
        }
        other => {
            return Err(PyErr::type_error(format!(
                "Expected an int as second argument to ldexp(), not '{}'",
                type_name(other)
            )))
        }
    };
    if x == 0.0 || !x.is_finite() {
        return Ok(Value::Float(x));
    }
    let r = ldexp_i(x, e.clamp(-2200, 2200) as i32);
    if r.is_infinite() {
        return Err(range());
    }
    Ok(Value::Float(r))
}

fn isfinite(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::Bool(
        to_f64_vm(vm, one_arg("isfinite", args)?)?.is_finite(),
    ))
}

fn isinf(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::Bool(
        to_f64_vm(vm, one_arg("isinf", args)?)?.is_infinite(),
    ))
}

fn isnan(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::Bool(
        to_f64_vm(vm, one_arg("isnan", args)?)?.is_nan(),
    ))
}

fn degrees(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let x = to_f64_vm(vm, one_arg("degrees", args)?)?;
    Ok(Value::Float(x * (180.0 / std::f64::consts::PI)))
}

fn radians(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let x = to_f64_vm(vm, one_arg("radians", args)?)?;
    Ok(Value::Float(x * (std::f64::consts::PI / 180.0)))
}

/// A float's integer part as an int (`floor`, `ceil`, `trunc`).
fn float_to_int(x: f64) -> PyResult<Value> {
    if x.is_nan() {
        return Err(PyErr::value_error("cannot convert float NaN to integer"));
    }
    if x.is_infinite() {
        return Err(PyErr::overflow_error(
            "cannot convert float infinity to integer",
        ));
    }
    if x.abs() < 9.2e18 {
        return Ok(Value::Int(x as i64));
    }
    Ok(int_value(
        num_traits::FromPrimitive::from_f64(x).unwrap_or_default(),
    ))
}

fn rounding(
    vm: &mut Vm,
    name: &str,
    hook: &str,
    args: &[Value],
    f: fn(f64) -> f64,
) -> PyResult<Value> {
    let x = one_arg(name, args)?;
    match x {
        Value::Int(_) | Value::BigInt(_) => Ok(x.clone()),
        Value::Bool(b) => Ok(Value::Int(i64::from(*b))),
        Value::Float(v) => float_to_int(f(*v)),
        Value::Instance(_) => match vm.get_attr_opt(x, hook)? {
            Some(method) => vm.call(&method, &[], &[]),
            None if hook == "__trunc__" => Err(PyErr::type_error(format!(
                "type {} doesn't define __trunc__ method",
                type_name(x)
            ))),
            None => float_to_int(f(to_f64_vm(vm, x)?)),
        },
        other if hook == "__trunc__" => Err(PyErr::type_error(format!(
            "type {} doesn't define __trunc__ method",
            type_name(other)
        ))),
        other => Err(PyErr::type_error(format!(
            "must be real number, not {}",
            type_name(other)
        ))),
    }
}

fn floor(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    rounding(vm, "floor", "__floor__", args, f64::floor)
}

fn ceil(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    rounding(vm, "ceil", "__ceil__", args, f64::ceil)
}

fn trunc(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    rounding(vm, "trunc", "__trunc__", args, f64::trunc)
}

/// Product of the integers in `lo..hi`, split in halves so big products stay balanced.
fn range_product(lo: u64, hi: u64) -> BigInt {
    if hi - lo <= 16 {
        let mut acc = BigInt::one();
        let mut small: u64 = 1;
        for i in lo..hi {
            match small.checked_mul(i) {
                Some(p) => small = p,
                None => {
                    acc *= small;
                    small = i;
                }
            }
        }
        return acc * small;
    }
    let mid = lo + (hi - lo) / 2;
    range_product(lo, mid) * range_product(mid, hi)
}

fn factorial(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let x = one_arg("factorial", args)?;
    let n = to_bigint(x, "factorial")?;
    if n.is_negative() {
        return Err(PyErr::value_error(
            "factorial() not defined for negative values",
        ));
    }
    let n = n.to_u64().filter(|n| *n <= 10_000_000).ok_or_else(|| {
        PyErr::overflow_error("factorial() argument should not exceed 9223372036854775807")
    })?;
    if n < 2 {
        return Ok(Value::Int(1));
    }
    Ok(int_value(range_product(2, n + 1)))
}

fn gcd(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let mut acc = BigInt::zero();
    for a in args {
        acc = acc.gcd(&to_bigint(a, "gcd")?);
    }
    Ok(int_value(acc))
}

fn lcm(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let mut acc = BigInt::one();
    for a in args {
        let b = to_bigint(a, "lcm")?;
        if acc.is_zero() || b.is_zero() {
            acc = BigInt::zero();
        } else {
            acc = acc.lcm(&b);
        }
    }
    Ok(int_value(acc.abs()))
}

fn isqrt(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let n = to_bigint(one_arg("isqrt", args)?, "isqrt")?;
    if n.is_negative() {
        return Err(PyErr::value_error("isqrt() argument must be nonnegative"));
    }
    Ok(int_value(n.sqrt()))
}

fn comb_perm_args(name: &str, args: &[Value]) -> PyResult<(BigInt, Option<BigInt>)> {
    check_args(name, args, if name == "perm" { 1 } else { 2 }, 2)?;
    let n = to_bigint(&args[0], name)?;
    let k = match args.get(1) {
        None | Some(Value::None) => None,
        Some(k) => Some(to_bigint(k, name)?),
    };
    if n.is_negative() {
        // CPython 3.11's perm(n) with no k is factorial(n).
        if k.is_none() {
            return Err(PyErr::value_error(
                "factorial() not defined for negative values",
            ));
        }
        return Err(PyErr::value_error("n must be a non-negative integer"));
    }
    if k.as_ref().is_some_and(|k| k.is_negative()) {
        return Err(PyErr::value_error("k must be a non-negative integer"));
    }
    Ok((n, k))
}

fn perm(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (n, k) = comb_perm_args("perm", args)?;
    let k = k.unwrap_or_else(|| n.clone());
    if k > n {
        return Ok(Value::Int(0));
    }
    let k = k
        .to_u64()
        .ok_or_else(|| PyErr::overflow_error("k must not exceed 9223372036854775807"))?;
    let mut acc = BigInt::one();
    let mut f = n.clone();
    for _ in 0..k {
        acc *= &f;
        f -= 1;
    }
    Ok(int_value(acc))
}

fn comb(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (n, k) = comb_perm_args("comb", args)?;
    let k = k.unwrap_or_default();
    if k > n {
        return Ok(Value::Int(0));
    }
    let k = std::cmp::min(k.clone(), &n - &k);
    let k = k.to_u64().ok_or_else(|| {
        PyErr::overflow_error("min(n - k, k) must not exceed 9223372036854775807")
    })?;
    let mut acc = BigInt::one();
    let base = &n - BigInt::from(k);
    for i in 1..=k {
        acc = acc * (&base + i) / i;
    }
    Ok(int_value(acc))
}

fn isclose(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    check_args("isclose", args, 2, 2)?;
    let a = to_f64_vm(vm, &args[0])?;
    let b = to_f64_vm(vm, &args[1])?;
    let rel_tol = match kwarg(kw, "rel_tol") {
        Some(v) => to_f64_vm(vm, v)?,
        None => 1e-9,
    };
    let abs_tol = match kwarg(kw, "abs_tol") {
        Some(v) => to_f64_vm(vm, v)?,
        None => 0.0,
    };
    if rel_tol < 0.0 || abs_tol < 0.0 {
        return Err(PyErr::value_error("tolerances must be non-negative"));
    }
    if a == b {
        return Ok(Value::Bool(true));
    }
    if a.is_infinite() || b.is_infinite() {
        return Ok(Value::Bool(false));
    }
    let diff = (b - a).abs();
    Ok(Value::Bool(
        (diff <= (rel_tol * b).abs()) || (diff <= (rel_tol * a).abs()) || diff <= abs_tol,
    ))
}

/// CPython 3.11's `vector_norm`: sqrt(sum(x*x)) correctly rounded in
/// almost all cases, and bit for bit what CPython returns. The magnitudes
/// are scaled by a power of two (losslessly) so the largest is in [0.5, 1);
/// each square is split exactly (Veltkamp-Dekker) and summed into `csum`
/// with its rounding errors kept in `frac1..3`; a final differential
/// correction step fixes the square root.
fn norm(xs: &[f64]) -> f64 {
    let mut max = 0.0f64;
    let mut found_nan = false;
    for x in xs {
        found_nan |= x.is_nan();
        max = max.max(x.abs());
    }
    if max.is_infinite() {
        return f64::INFINITY;
    }
    if found_nan {
        return f64::NAN;
    }
    let mut vec: Vec<f64> = xs.iter().map(|x| x.abs()).collect();
    vector_norm(&mut vec, max)
}

/// The body of `norm` for finite magnitudes `vec` whose largest is `max`.
fn vector_norm(vec: &mut [f64], max: f64) -> f64 {
    const T27: f64 = 134217729.0; // 2**27 + 1, the Veltkamp splitting constant
    if max == 0.0 || vec.len() <= 1 {
        return max;
    }
    let (_, max_e) = frexp_parts(max);
    if max_e < -1023 {
        // 2**-max_e would overflow: make the subnormals normal first.
        for x in vec.iter_mut() {
            *x /= f64::MIN_POSITIVE;
        }
        return f64::MIN_POSITIVE * vector_norm(vec, max / f64::MIN_POSITIVE);
    }
    let scale = ldexp_i(1.0, -max_e as i32);
    let split = |x: f64| {
        let t = x * T27;
        let hi = t - (t - x);
        (hi, x - hi)
    };
    let (mut csum, mut frac1, mut frac2, mut frac3) = (1.0f64, 0.0f64, 0.0f64, 0.0f64);
    // Adds `x` to `csum`, keeping the rounding error in `frac`.
    let add = |csum: &mut f64, frac: &mut f64, x: f64| {
        let old = *csum;
        *csum += x;
        *frac += (old - *csum) + x;
    };
    for &x in vec.iter() {
        let (hi, lo) = split(x * scale);
        add(&mut csum, &mut frac1, hi * hi);
        add(&mut csum, &mut frac2, 2.0 * hi * lo);
        frac3 += lo * lo;
    }
    let h = (csum - 1.0 + (frac1 + frac2 + frac3)).sqrt();
    let (hi, lo) = split(h);
    add(&mut csum, &mut frac1, -hi * hi);
    add(&mut csum, &mut frac2, -2.0 * hi * lo);
    add(&mut csum, &mut frac3, -lo * lo);
    let x = csum - 1.0 + (frac1 + frac2 + frac3);
    (h + x / (2.0 * h)) / scale
}

fn hypot(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let mut xs = Vec::with_capacity(args.len());
    for a in args {
        xs.push(to_f64_vm(vm, a)?);
    }
    Ok(Value::Float(norm(&xs)))
}

fn dist(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("dist", args, 2, 2)?;
    let p = vm.collect(&args[0])?;
    let q = vm.collect(&args[1])?;
    if p.len() != q.len() {
        return Err(PyErr::value_error(
            "both points must have the same number of dimensions",
        ));
    }
    let mut xs = Vec::with_capacity(p.len());
    for (a, b) in p.iter().zip(&q) {
        xs.push(to_f64_vm(vm, a)? - to_f64_vm(vm, b)?);
    }
    Ok(Value::Float(norm(&xs)))
}

/// Shewchuk's exact summation, as CPython's `math_fsum`.
fn fsum_floats(items: &[f64]) -> PyResult<f64> {
    let mut p: Vec<f64> = Vec::new();
    let mut special_sum = 0.0f64;
    let mut inf_sum = 0.0f64;
    for &item in items {
        let mut x = item;
        let xsave = x;
        let mut i = 0;
        for j in 0..p.len() {
            let mut y = p[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let yr = hi - x;
            let lo = y - yr;
            if lo != 0.0 {
                p[i] = lo;
                i += 1;
            }
            x = hi;
        }
        p.truncate(i);
        if x != 0.0 {
            if !x.is_finite() {
                if xsave.is_finite() {
                    return Err(PyErr::overflow_error("intermediate overflow in fsum"));
                }
                if xsave.is_infinite() {
                    inf_sum += xsave;
                }
                special_sum += xsave;
                p.clear();
            } else {
                p.push(x);
            }
        }
    }
    if special_sum != 0.0 {
        if inf_sum.is_nan() {
            return Err(PyErr::value_error("-inf + inf in fsum"));
        }
        return Ok(special_sum);
    }
    let mut n = p.len();
    let mut hi = 0.0;
    if n > 0 {
        n -= 1;
        hi = p[n];
        let mut lo = 0.0;
        while n > 0 {
            let x = hi;
            n -= 1;
            let y = p[n];
            hi = x + y;
            let yr = hi - x;
            lo = y - yr;
            if lo != 0.0 {
                break;
            }
        }
        if n > 0 && ((lo < 0.0 && p[n - 1] < 0.0) || (lo > 0.0 && p[n - 1] > 0.0)) {
            let y = lo * 2.0;
            let x = hi + y;
            let yr = x - hi;
            if y == yr {
                hi = x;
            }
        }
    }
    Ok(hi)
}

fn fsum(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let items = vm.collect(one_arg("fsum", args)?)?;
    let mut xs = Vec::with_capacity(items.len());
    for v in &items {
        xs.push(to_f64_vm(vm, v)?);
    }
    Ok(Value::Float(fsum_floats(&xs)?))
}

fn prod(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    check_args("prod", args, 1, 1)?;
    let mut acc = arg(&[], kw, 0, "start").cloned().unwrap_or(Value::Int(1));
    for item in vm.collect(&args[0])? {
        acc = match (&acc, &item) {
            (Value::Int(a), Value::Int(b)) if a.checked_mul(*b).is_some() => Value::Int(a * b),
            (Value::Float(a), Value::Float(b)) => Value::Float(a * b),
            _ => vm.binary_op(&acc, &item, BinaryOpKind::Mul)?,
        };
    }
    Ok(acc)
}

fn nextafter(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (x, y) = two_floats(vm, "nextafter", args)?;
    Ok(Value::Float(next_after(x, y)))
}

fn next_after(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == y {
        return y;
    }
    if x == 0.0 {
        return f64::from_bits(1).copysign(y);
    }
    let bits = x.to_bits();
    let up = (y > x) == (x > 0.0);
    f64::from_bits(if up { bits + 1 } else { bits - 1 })
}

fn ulp(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let x = to_f64_vm(vm, one_arg("ulp", args)?)?.abs();
    if x.is_nan() || x.is_infinite() {
        return Ok(Value::Float(x));
    }
    let next = next_after(x, f64::INFINITY);
    if next.is_infinite() {
        let prev = next_after(x, 0.0);
        return Ok(Value::Float(x - prev));
    }
    Ok(Value::Float(next - x))
}

pub fn make(_vm: &mut Vm) -> PyResult<Arc<Module>> {
    let m = new_module("math");
    set_attr(&m, "pi", Value::Float(std::f64::consts::PI));
    set_attr(&m, "e", Value::Float(std::f64::consts::E));
    set_attr(&m, "tau", Value::Float(std::f64::consts::TAU));
    set_attr(&m, "inf", Value::Float(f64::INFINITY));
    set_attr(&m, "nan", Value::Float(f64::NAN));
    add_functions(
        &m,
        &[
            ("sqrt", sqrt),
            ("exp", exp),
            ("exp2", exp2),
            ("expm1", expm1),
            ("sin", sin),
            ("cos", cos),
            ("tan", tan),
            ("asin", asin),
            ("acos", acos),
            ("atan", atan),
            ("sinh", sinh),
            ("cosh", cosh),
            ("tanh", tanh),
            ("asinh", asinh),
            ("acosh", acosh),
            ("atanh", atanh),
            ("cbrt", cbrt),
            ("fabs", fabs),
            ("log", log),
            ("log1p", log1p),
            ("log2", log2),
            ("log10", log10),
            ("pow", pow),
            ("atan2", atan2),
            ("copysign", copysign),
            ("fmod", fmod),
            ("remainder", remainder),
            ("modf", modf),
            ("frexp", frexp),
            ("ldexp", ldexp),
            ("isfinite", isfinite),
            ("isinf", isinf),
            ("isnan", isnan),
            ("degrees", degrees),
            ("radians", radians),
            ("floor", floor),
            ("ceil", ceil),
            ("trunc", trunc),
            ("factorial", factorial),
            ("gcd", gcd),
            ("lcm", lcm),
            ("isqrt", isqrt),
            ("comb", comb),
            ("perm", perm),
            ("isclose", isclose),
            ("hypot", hypot),
            ("dist", dist),
            ("fsum", fsum),
            ("prod", prod),
            ("nextafter", nextafter),
            ("ulp", ulp),
            ("gamma", gamma_fn),
            ("lgamma", lgamma_fn),
            ("erf", erf_fn),
            ("erfc", erfc_fn),
        ],
    );
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fsum_is_exact() {
        assert_eq!(fsum_floats(&[0.1; 10]).unwrap(), 1.0);
        assert_eq!(
            fsum_floats(&[1e-16, 1.0, 1e16]).unwrap(),
            1.0000000000000002e16
        );
        assert_eq!(fsum_floats(&[]).unwrap(), 0.0);
        assert!(fsum_floats(&[f64::INFINITY, f64::NEG_INFINITY]).is_err());
        assert_eq!(fsum_floats(&[f64::INFINITY, 1.0]).unwrap(), f64::INFINITY);
        assert!(fsum_floats(&[1e308, 1e308]).is_err());
    }

    #[test]
    fn factorial_products() {
        assert_eq!(range_product(2, 21).to_string(), "2432902008176640000");
        assert_eq!(
            range_product(2, 31).to_string(),
            "265252859812191058636308480000000"
        );
    }

    #[test]
    fn special_functions_match_cpython() {
        // python3: [math.gamma(x) for x in (0.5, 5.5, -2.2, 150.3)], ...
        let g: Vec<f64> = [0.5, 5.5, -2.2, 150.3]
            .iter()
            .map(|x| tgamma(*x).unwrap())
            .collect();
        assert_eq!(
            g,
            [
                1.7724538509055159,
                52.34277778455352,
                -2.2049805184191333,
                1.7112969992195767e261
            ]
        );
        let lg: Vec<f64> = [0.5, 3.7, -2.2, 1e-25]
            .iter()
            .map(|x| lgamma(*x).unwrap())
            .collect();
        assert_eq!(
            lg,
            [
                0.5723649429247004,
                1.4280723266653883,
                0.7907186736757129,
                57.564627324851145
            ]
        );
        assert_eq!(tgamma(-1.0), Err(true));
        assert_eq!(tgamma(200.5), Err(false));
        assert_eq!(
            [libm_asinh(-13.71), libm_asinh(0.3), libm_asinh(1e10)],
            [-3.3126000696506086, 0.29567304756342244, 23.7189981105004]
        );
        assert_eq!(
            [libm_acosh(1.5), libm_acosh(3e8)],
            [0.9624236501192069, 20.212440213180418]
        );
        assert_eq!(
            [libm_atanh(0.3), libm_atanh(-0.99999)],
            [0.30951960420311175, -6.1030338227611125]
        );
    }

    #[test]
    fn float_helpers() {
        assert_eq!(next_after(1.0, 2.0), 1.0000000000000002);
        assert_eq!(next_after(0.0, -1.0), -5e-324);
        assert_eq!(norm(&[3.0, 4.0]), 5.0);
        assert!(matches!(float_to_int(1e20).unwrap(), Value::BigInt(_)));
    }
}
