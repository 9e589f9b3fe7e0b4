//! The `cmath` module: CPython's `Modules/cmathmodule.c` algorithms for
//! finite arguments, step by step, so results agree to the bit.
//!
//! CPython answers infinite and NaN arguments from special-value tables
//! built on C99's Annex G; the `*_special` functions here state the same
//! rules case by case, with CPython's ValueError where C99 raises
//! "invalid" (see notes/BUGS.md for the cases left unchecked).

use std::f64::consts::{LN_2, PI};
use std::sync::Arc;

use crate::stdlib::{add_functions, bind_args, new_module, set_attr, to_f64_vm, type_name};
use crate::vm::complex::{self, Complex};
use crate::vm::error::{PyErr, PyResult};
use crate::vm::interp::Vm;
use crate::vm::value::{Kwargs, Module, Value};

/// `DBL_MAX / 4`: above this, formulas rescale to avoid overflow.
const LARGE_DOUBLE: f64 = f64::MAX / 4.0;
/// `log(LARGE_DOUBLE)`.
const LOG_LARGE_DOUBLE: f64 = 708.3964185322641;
/// `sqrt(LARGE_DOUBLE)`.
const SQRT_LARGE_DOUBLE: f64 = 6.703903964971298e153;
/// `sqrt(DBL_MIN)`.
const SQRT_DBL_MIN: f64 = 1.4916681462400413e-154;
/// `DBL_MANT_DIG`, and CPython's scale factors for subnormal arguments.
const MANT_DIG: i32 = 53;
const SCALE_UP: i32 = 2 * (MANT_DIG / 2) + 1;
const SCALE_DOWN: i32 = -(SCALE_UP + 1) / 2;

/// What a C function left in `errno`: CPython's `math_error` turns these
/// into exceptions.
#[derive(Clone, Copy, PartialEq)]
enum Errno {
    Ok,
    Domain,
    Range,
}

fn raise(e: Errno) -> PyResult<()> {
    match e {
        Errno::Ok => Ok(()),
        Errno::Domain => Err(PyErr::value_error("math domain error")),
        Errno::Range => Err(PyErr::overflow_error("math range error")),
    }
}

fn c(re: f64, im: f64) -> Complex {
    Complex::new(re, im)
}

fn ldexp(x: f64, e: i32) -> f64 {
    crate::vm::number::ldexp(x, i64::from(e))
}

fn finite(z: Complex) -> bool {
    z.re.is_finite() && z.im.is_finite()
}

/// `m_atan2`: C99's answers for infinities and NaNs on every platform.
fn atan2(y: f64, x: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if y.is_infinite() {
        if x.is_infinite() {
            let q = if x.is_sign_positive() { 0.25 } else { 0.75 };
            return (q * PI).copysign(y);
        }
        return (0.5 * PI).copysign(y);
    }
    if x.is_infinite() || y == 0.0 {
        return if x.is_sign_positive() {
            0f64.copysign(y)
        } else {
            PI.copysign(y)
        };
    }
    y.atan2(x)
}

fn sqrt(z: Complex) -> (Complex, Errno) {
    if !finite(z) {
        // C99's csqrt.
        let r = if z.im.is_infinite() {
            c(f64::INFINITY, z.im)
        } else if z.re == f64::NEG_INFINITY {
            if z.im.is_nan() {
                c(f64::NAN, f64::INFINITY)
            } else {
                c(0.0, f64::INFINITY.copysign(z.im))
            }
        } else if z.re == f64::INFINITY {
            if z.im.is_nan() {
                c(f64::INFINITY, f64::NAN)
            } else {
                c(f64::INFINITY, 0f64.copysign(z.im))
            }
        } else {
            c(f64::NAN, f64::NAN)
        };
        return (r, Errno::Ok);
    }
    if z.re == 0.0 && z.im == 0.0 {
        return (c(0.0, z.im), Errno::Ok);
    }
    let (mut ax, ay) = (z.re.abs(), z.im.abs());
    let s = if ax < f64::MIN_POSITIVE && ay < f64::MIN_POSITIVE {
        // hypot(ax, ay) would be subnormal: scale up first.
        ax = ldexp(ax, SCALE_UP);
        ldexp((ax + ax.hypot(ldexp(ay, SCALE_UP))).sqrt(), SCALE_DOWN)
    } else {
        ax /= 8.0;
        2.0 * (ax + ax.hypot(ay / 8.0)).sqrt()
    };
    let d = ay / (2.0 * s);
    let r = if z.re >= 0.0 {
        c(s, d.copysign(z.im))
    } else {
        c(d, s.copysign(z.im))
    };
    (r, Errno::Ok)
}

fn exp(z: Complex) -> (Complex, Errno) {
    if !finite(z) {
        return exp_special(z);
    }
    let r = if z.re > LOG_LARGE_DOUBLE {
        let l = (z.re - 1.0).exp();
        c(
            l * z.im.cos() * std::f64::consts::E,
            l * z.im.sin() * std::f64::consts::E,
        )
    } else {
        let l = z.re.exp();
        c(l * z.im.cos(), l * z.im.sin())
    };
    (r, overflow_check(z, r))
}

/// ERANGE when finite arguments overflowed to an infinite result.
fn overflow_check(z: Complex, r: Complex) -> Errno {
    if finite(z) && (r.re.is_infinite() || r.im.is_infinite()) {
        Errno::Range
    } else {
        Errno::Ok
    }
}

fn log(z: Complex) -> (Complex, Errno) {
    if !finite(z) {
        // C99's clog: an infinite part gives +inf, otherwise NaN.
        let re = if z.re.is_infinite() || z.im.is_infinite() {
            f64::INFINITY
        } else {
            f64::NAN
        };
        return (c(re, atan2(z.im, z.re)), Errno::Ok);
    }
    let (ax, ay) = (z.re.abs(), z.im.abs());
    let re = if ax > LARGE_DOUBLE || ay > LARGE_DOUBLE {
        (ax / 2.0).hypot(ay / 2.0).ln() + LN_2
    } else if ax < f64::MIN_POSITIVE && ay < f64::MIN_POSITIVE {
        if ax > 0.0 || ay > 0.0 {
            // hypot(ax, ay) would be subnormal: scale up first.
            let m = f64::from(MANT_DIG);
            ldexp(ax, MANT_DIG).hypot(ldexp(ay, MANT_DIG)).ln() - m * LN_2
        } else {
            return (c(f64::NEG_INFINITY, z.im.atan2(z.re)), Errno::Domain);
        }
    } else {
        let h = ax.hypot(ay);
        if (0.71..=1.73).contains(&h) {
            let (am, an) = if ax > ay { (ax, ay) } else { (ay, ax) };
            ((am - 1.0) * (am + 1.0) + an * an).ln_1p() / 2.0
        } else {
            h.ln()
        }
    };
    (c(re, z.im.atan2(z.re)), Errno::Ok)
}

fn cosh(z: Complex) -> (Complex, Errno) {
    if !finite(z) {
        return cosh_special(z);
    }
    let r = if z.re.abs() > LOG_LARGE_DOUBLE {
        // cosh(z.re) overflows where cosh(z) need not.
        let x = z.re - 1f64.copysign(z.re);
        c(
            z.im.cos() * x.cosh() * std::f64::consts::E,
            z.im.sin() * x.sinh() * std::f64::consts::E,
        )
    } else {
        c(z.im.cos() * z.re.cosh(), z.im.sin() * z.re.sinh())
    };
    (r, overflow_check(z, r))
}

fn sinh(z: Complex) -> (Complex, Errno) {
    if !finite(z) {
        return sinh_special(z);
    }
    let r = if z.re.abs() > LOG_LARGE_DOUBLE {
        let x = z.re - 1f64.copysign(z.re);
        c(
            z.im.cos() * x.sinh() * std::f64::consts::E,
            z.im.sin() * x.cosh() * std::f64::consts::E,
        )
    } else {
        c(z.im.cos() * z.re.sinh(), z.im.sin() * z.re.cosh())
    };
    (r, overflow_check(z, r))
}

fn tanh(z: Complex) -> (Complex, Errno) {
    if !finite(z) {
        return tanh_special(z);
    }
    let r = if z.re.abs() > LOG_LARGE_DOUBLE {
        c(
            1f64.copysign(z.re),
            4.0 * z.im.sin() * z.im.cos() * (-2.0 * z.re.abs()).exp(),
        )
    } else {
        let (tx, ty) = (z.re.tanh(), z.im.tan());
        let cx = 1.0 / z.re.cosh();
        let txty = tx * ty;
        let denom = 1.0 + txty * txty;
        c(tx * (1.0 + ty * ty) / denom, ((ty / denom) * cx) * cx)
    };
    (r, Errno::Ok)
}

fn asinh(z: Complex) -> (Complex, Errno) {
    if !finite(z) {
        return (asinh_special(z), Errno::Ok);
    }
    let r = if z.re.abs() > LARGE_DOUBLE || z.im.abs() > LARGE_DOUBLE {
        let l = (z.re / 2.0).hypot(z.im / 2.0).ln() + LN_2 * 2.0;
        let re = if z.im >= 0.0 {
            l.copysign(z.re)
        } else {
            -l.copysign(-z.re)
        };
        c(re, z.im.atan2(z.re.abs()))
    } else {
        let s1 = sqrt(c(1.0 + z.im, -z.re)).0;
        let s2 = sqrt(c(1.0 - z.im, z.re)).0;
        c(
            crate::stdlib::math::libm_asinh(s1.re * s2.im - s2.re * s1.im),
            z.im.atan2(s1.re * s2.re - s1.im * s2.im),
        )
    };
    (r, Errno::Ok)
}

fn acos(z: Complex) -> (Complex, Errno) {
    if !finite(z) {
        return (acos_special(z), Errno::Ok);
    }
    let r = if z.re.abs() > LARGE_DOUBLE || z.im.abs() > LARGE_DOUBLE {
        let l = (z.re / 2.0).hypot(z.im / 2.0).ln() + LN_2 * 2.0;
        let im = if z.re < 0.0 {
            -l.copysign(z.im)
        } else {
            l.copysign(-z.im)
        };
        c(z.im.abs().atan2(z.re), im)
    } else {
        let s1 = sqrt(c(1.0 - z.re, -z.im)).0;
        let s2 = sqrt(c(1.0 + z.re, z.im)).0;
        c(
            2.0 * s1.re.atan2(s2.re),
            crate::stdlib::math::libm_asinh(s2.re * s1.im - s2.im * s1.re),
        )
    };
    (r, Errno::Ok)
}

fn acosh(z: Complex) -> (Complex, Errno) {
    if !finite(z) {
        return (acosh_special(z), Errno::Ok);
    }
    let r = if z.re.abs() > LARGE_DOUBLE || z.im.abs() > LARGE_DOUBLE {
        c(
            (z.re / 2.0).hypot(z.im / 2.0).ln() + LN_2 * 2.0,
            z.im.atan2(z.re),
        )
    } else {
        let s1 = sqrt(c(z.re - 1.0, z.im)).0;
        let s2 = sqrt(c(z.re + 1.0, z.im)).0;
        c(
            crate::stdlib::math::libm_asinh(s1.re * s2.re + s1.im * s2.im),
            2.0 * s1.im.atan2(s2.re),
        )
    };
    (r, Errno::Ok)
}

fn atanh(z: Complex) -> (Complex, Errno) {
    // atanh(z) = -atanh(-z): work with a non-negative real part.
    if z.re < 0.0 {
        let (r, e) = atanh(-z);
        return (-r, e);
    }
    if !finite(z) {
        return (atanh_special(z), Errno::Ok);
    }
    let ay = z.im.abs();
    if z.re > SQRT_LARGE_DOUBLE || ay > SQRT_LARGE_DOUBLE {
        // Large |z|: atanh(z) ~ 1/z +/- i*pi/2.
        let h = (z.re / 2.0).hypot(z.im / 2.0);
        return (
            c(z.re / 4.0 / h / h, -(PI / 2.0).copysign(-z.im)),
            Errno::Ok,
        );
    }
    if z.re == 1.0 && ay < SQRT_DBL_MIN {
        if ay == 0.0 {
            return (c(f64::INFINITY, z.im), Errno::Domain);
        }
        let re = -(ay.sqrt() / ay.hypot(2.0).sqrt()).ln();
        return (c(re, (2f64.atan2(-ay) / 2.0).copysign(z.im)), Errno::Ok);
    }
    let re = (4.0 * z.re / ((1.0 - z.re) * (1.0 - z.re) + ay * ay)).ln_1p() / 4.0;
    let im = -(-2.0 * z.im).atan2((1.0 - z.re) * (1.0 + z.re) - ay * ay) / 2.0;
    (c(re, im), Errno::Ok)
}

// ---------------------------------------------------------------- special values
//
// C99 Annex G for infinite and NaN arguments. Where C99 leaves the sign of
// a zero or an infinity open, these follow CPython's tables.

const INF: f64 = f64::INFINITY;
const NAN: f64 = f64::NAN;

/// `inf * cis(y)` for finite nonzero y: only the signs of cos and sin count
/// (either may round to zero).
fn inf_cis(y: f64) -> Complex {
    c(INF.copysign(y.cos()), INF.copysign(y.sin()))
}

fn exp_special(z: Complex) -> (Complex, Errno) {
    let (x, y) = (z.re, z.im);
    // An infinite angle is invalid unless the modulus is 0 or NaN.
    let invalid = y.is_infinite() && (x.is_finite() || x == INF);
    let r = if x == INF && y.is_finite() {
        if y == 0.0 {
            c(INF, y)
        } else {
            inf_cis(y)
        }
    } else if x == INF {
        c(INF, NAN)
    } else if x == f64::NEG_INFINITY {
        if y.is_finite() {
            c(0f64.copysign(y.cos()), 0f64.copysign(y.sin()))
        } else {
            c(0.0, 0.0)
        }
    } else if x.is_nan() && y == 0.0 {
        c(NAN, y)
    } else {
        c(NAN, NAN)
    };
    (r, if invalid { Errno::Domain } else { Errno::Ok })
}

fn cosh_special(z: Complex) -> (Complex, Errno) {
    let (x, y) = (z.re, z.im);
    let invalid = y.is_infinite() && !x.is_nan();
    let r = if x.is_infinite() && y.is_finite() {
        if y == 0.0 {
            c(INF, 0f64.copysign(y) * 1f64.copysign(x))
        } else {
            let w = inf_cis(y);
            c(w.re, if x > 0.0 { w.im } else { -w.im })
        }
    } else if x.is_infinite() {
        c(INF, NAN)
    } else if y.is_nan() && x == 0.0 || x.is_nan() && y == 0.0 {
        c(NAN, 0.0)
    } else {
        c(NAN, NAN)
    };
    (r, if invalid { Errno::Domain } else { Errno::Ok })
}

fn sinh_special(z: Complex) -> (Complex, Errno) {
    let (x, y) = (z.re, z.im);
    let invalid = y.is_infinite() && !x.is_nan();
    let r = if x.is_infinite() && y.is_finite() {
        if y == 0.0 {
            c(x, y)
        } else {
            let w = inf_cis(y);
            c(if x > 0.0 { w.re } else { -w.re }, w.im)
        }
    } else if x.is_infinite() {
        c(INF, NAN)
    } else if y.is_nan() && x == 0.0 {
        c(0.0, NAN)
    } else if x.is_nan() && y == 0.0 {
        c(NAN, y)
    } else {
        c(NAN, NAN)
    };
    (r, if invalid { Errno::Domain } else { Errno::Ok })
}

fn tanh_special(z: Complex) -> (Complex, Errno) {
    let (x, y) = (z.re, z.im);
    let invalid = y.is_infinite() && x.is_finite();
    let r = if x.is_infinite() {
        let im = if y.is_finite() && y != 0.0 {
            0f64.copysign(2.0 * y.sin() * y.cos())
        } else if y == 0.0 {
            y
        } else {
            0.0
        };
        c(1f64.copysign(x), im)
    } else if x.is_nan() && y == 0.0 {
        c(NAN, y)
    } else {
        c(NAN, NAN)
    };
    (r, if invalid { Errno::Domain } else { Errno::Ok })
}

fn asinh_special(z: Complex) -> Complex {
    let (x, y) = (z.re, z.im);
    if y.is_infinite() {
        return if x.is_finite() {
            c(INF.copysign(x), (PI / 2.0).copysign(y))
        } else if x.is_infinite() {
            c(x, (PI / 4.0).copysign(y))
        } else {
            c(INF, NAN)
        };
    }
    if x.is_infinite() {
        return c(x, if y.is_nan() { NAN } else { 0f64.copysign(y) });
    }
    if x.is_nan() && y == 0.0 {
        return c(NAN, y);
    }
    c(NAN, NAN)
}

fn acos_special(z: Complex) -> Complex {
    let (x, y) = (z.re, z.im);
    let down = -INF.copysign(y);
    if y.is_infinite() {
        return match x {
            _ if x.is_finite() => c(PI / 2.0, down),
            _ if x.is_nan() => c(NAN, down),
            _ if x > 0.0 => c(PI / 4.0, down),
            _ => c(0.75 * PI, down),
        };
    }
    if x.is_infinite() {
        return match y {
            _ if y.is_nan() => c(NAN, INF),
            _ if x > 0.0 => c(0.0, down),
            _ => c(PI, down),
        };
    }
    if y.is_nan() && x == 0.0 {
        return c(PI / 2.0, NAN);
    }
    c(NAN, NAN)
}

fn acosh_special(z: Complex) -> Complex {
    let (x, y) = (z.re, z.im);
    if y.is_infinite() {
        return match x {
            _ if x.is_finite() => c(INF, (PI / 2.0).copysign(y)),
            _ if x.is_nan() => c(INF, NAN),
            _ if x > 0.0 => c(INF, (PI / 4.0).copysign(y)),
            _ => c(INF, (0.75 * PI).copysign(y)),
        };
    }
    if x.is_infinite() {
        return match y {
            _ if y.is_nan() => c(INF, NAN),
            _ if x > 0.0 => c(INF, 0f64.copysign(y)),
            _ => c(INF, PI.copysign(y)),
        };
    }
    c(NAN, NAN)
}

/// For a real part that is not negative (`atanh` reduces to that).
fn atanh_special(z: Complex) -> Complex {
    let (x, y) = (z.re, z.im);
    if y.is_infinite() {
        let zero = if x.is_nan() { 0.0 } else { 0f64.copysign(x) };
        return c(zero, (PI / 2.0).copysign(y));
    }
    if x.is_infinite() {
        return c(
            0.0,
            if y.is_nan() {
                NAN
            } else {
                (PI / 2.0).copysign(y)
            },
        );
    }
    if y.is_nan() && x == 0.0 {
        return c(x, NAN);
    }
    c(NAN, NAN)
}

/// `f(i*z)` rotated back: sin, tan, asin and atan from their hyperbolic
/// counterparts, as CPython computes them.
fn rotated(z: Complex, f: fn(Complex) -> (Complex, Errno)) -> (Complex, Errno) {
    let (s, e) = f(c(-z.im, z.re));
    (c(s.im, -s.re), e)
}

fn sin(z: Complex) -> (Complex, Errno) {
    rotated(z, sinh)
}

fn tan(z: Complex) -> (Complex, Errno) {
    rotated(z, tanh)
}

fn asin(z: Complex) -> (Complex, Errno) {
    rotated(z, asinh)
}

fn atan(z: Complex) -> (Complex, Errno) {
    rotated(z, atanh)
}

fn cos(z: Complex) -> (Complex, Errno) {
    cosh(c(-z.im, z.re))
}

// ---------------------------------------------------------------- arguments

/// A `Py_complex` argument (`PyComplex_AsCComplex`): a complex, an
/// object with `__complex__`, or a real number.
fn complex_arg(vm: &mut Vm, v: &Value) -> PyResult<Complex> {
    if let Some(z) = complex::complex_of(v) {
        return Ok(z);
    }
    if let Value::Instance(_) = v {
        if let Some(r) = vm.call_dunder_unary(v, "__complex__")? {
            return complex::complex_of(&r).ok_or_else(|| {
                PyErr::type_error(format!(
                    "__complex__ returned non-complex (type {})",
                    type_name(&r)
                ))
            });
        }
    }
    Ok(c(to_f64_vm(vm, v)?, 0.0))
}

fn one<'a>(name: &str, args: &'a [Value]) -> PyResult<&'a Value> {
    match args {
        [v] => Ok(v),
        _ => Err(PyErr::type_error(format!(
            "cmath.{name}() takes exactly one argument ({} given)",
            args.len()
        ))),
    }
}

fn unary(
    vm: &mut Vm,
    name: &str,
    args: &[Value],
    f: fn(Complex) -> (Complex, Errno),
) -> PyResult<Value> {
    let z = complex_arg(vm, one(name, args)?)?;
    let (r, e) = f(z);
    raise(e)?;
    Ok(complex::value(r.re, r.im))
}

macro_rules! unary_fns {
    ($($name:ident => $f:ident),* $(,)?) => {
        $(
            fn $name(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
                unary(vm, stringify!($f), args, $f)
            }
        )*
    };
}

unary_fns! {
    sqrt_fn => sqrt, exp_fn => exp, sin_fn => sin, cos_fn => cos, tan_fn => tan,
    asin_fn => asin, acos_fn => acos, atan_fn => atan, sinh_fn => sinh,
    cosh_fn => cosh, tanh_fn => tanh, asinh_fn => asinh, acosh_fn => acosh,
    atanh_fn => atanh,
}

fn log10_fn(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let z = complex_arg(vm, one("log10", args)?)?;
    let (r, e) = log(z);
    raise(e)?;
    let ln10 = std::f64::consts::LN_10;
    Ok(complex::value(r.re / ln10, r.im / ln10))
}

/// `log(x[, base])`: the quotient of two logarithms.
fn log_fn(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    if kw.is_empty() && !(1..=2).contains(&args.len()) {
        return Err(PyErr::type_error(format!(
            "log expected {} arguments, got {}",
            if args.is_empty() {
                "at least 1"
            } else {
                "at most 2"
            },
            args.len()
        )));
    }
    let [x, base] = bind_args("log", ["x", "base"], args, kw)?;
    let Some(x) = x else {
        return Err(PyErr::type_error(
            "log() missing required argument 'x' (pos 1)",
        ));
    };
    let x = complex_arg(vm, x)?;
    let (mut r, mut e) = log(x);
    if let Some(base) = base {
        let b = complex_arg(vm, base)?;
        // Each C call resets errno: a domain error of log(x) alone is
        // forgotten (log(0, 2) is -inf+nanj, as in CPython).
        let (lb, eb) = log(b);
        e = eb;
        match r.quot(lb) {
            Some(q) => r = q,
            None => e = Errno::Domain,
        }
    }
    raise(e)?;
    Ok(complex::value(r.re, r.im))
}

fn phase_fn(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let z = complex_arg(vm, one("phase", args)?)?;
    Ok(Value::Float(atan2(z.im, z.re)))
}

fn polar_fn(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let z = complex_arg(vm, one("polar", args)?)?;
    let phi = atan2(z.im, z.re);
    let Some(r) = z.abs() else {
        return Err(PyErr::overflow_error("math range error"));
    };
    Ok(Value::tuple(vec![Value::Float(r), Value::Float(phi)]))
}

fn rect_fn(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let [r, phi] = args else {
        return Err(PyErr::type_error(format!(
            "rect expected 2 arguments, got {}",
            args.len()
        )));
    };
    let (r, phi) = (to_f64_vm(vm, r)?, to_f64_vm(vm, phi)?);
    if r != 0.0 && !r.is_nan() && phi.is_infinite() {
        return Err(PyErr::value_error("math domain error"));
    }
    // phi == 0 (either sign) keeps the sign of zero in the imaginary part.
    let z = if r.is_infinite() && phi.is_finite() && phi != 0.0 {
        // cos(phi) or sin(phi) may be 0: only their signs matter.
        let s = if r > 0.0 { 1.0 } else { -1.0 };
        c(
            s * f64::INFINITY.copysign(phi.cos()),
            s * f64::INFINITY.copysign(phi.sin()),
        )
    } else if r == 0.0 && !phi.is_finite() {
        c(0.0, 0.0)
    } else if phi == 0.0 {
        // inf * 0 would be NaN: the zero takes the sign of r * phi.
        let sign = if r < 0.0 { -1.0 } else { 1.0 };
        let im = match r {
            _ if r.is_finite() => r * phi,
            _ if r.is_nan() => 0.0,
            _ => sign * phi,
        };
        c(r, im)
    } else if !r.is_finite() || !phi.is_finite() {
        if r.is_infinite() {
            c(f64::INFINITY, f64::NAN)
        } else {
            c(f64::NAN, f64::NAN)
        }
    } else {
        c(r * phi.cos(), r * phi.sin())
    };
    Ok(complex::value(z.re, z.im))
}

fn predicate(vm: &mut Vm, name: &str, args: &[Value], f: fn(Complex) -> bool) -> PyResult<Value> {
    let z = complex_arg(vm, one(name, args)?)?;
    Ok(Value::Bool(f(z)))
}

fn isfinite_fn(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    predicate(vm, "isfinite", args, finite)
}

fn isinf_fn(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    predicate(vm, "isinf", args, |z| {
        z.re.is_infinite() || z.im.is_infinite()
    })
}

fn isnan_fn(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    predicate(vm, "isnan", args, |z| z.re.is_nan() || z.im.is_nan())
}

/// `isclose(a, b, *, rel_tol=1e-09, abs_tol=0.0)`.
fn isclose_fn(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    if args.len() > 2 {
        return Err(PyErr::type_error(format!(
            "isclose() takes exactly 2 positional arguments ({} given)",
            args.len()
        )));
    }
    let [a, b, rel, abs_tol] = bind_args("isclose", ["a", "b", "rel_tol", "abs_tol"], args, kw)?;
    let (Some(a), Some(b)) = (a, b) else {
        let (name, pos) = if a.is_none() { ("a", 1) } else { ("b", 2) };
        return Err(PyErr::type_error(format!(
            "isclose() missing required argument '{name}' (pos {pos})"
        )));
    };
    let (a, b) = (complex_arg(vm, a)?, complex_arg(vm, b)?);
    let rel = match rel {
        Some(v) => to_f64_vm(vm, v)?,
        None => 1e-9,
    };
    let abs_tol = match abs_tol {
        Some(v) => to_f64_vm(vm, v)?,
        None => 0.0,
    };
    if rel < 0.0 || abs_tol < 0.0 {
        return Err(PyErr::value_error("tolerances must be non-negative"));
    }
    if a == b {
        return Ok(Value::Bool(true));
    }
    if [a.re, a.im, b.re, b.im].iter().any(|x| x.is_infinite()) {
        return Ok(Value::Bool(false));
    }
    let abs = |z: Complex| z.abs().unwrap_or(f64::INFINITY);
    let diff = abs(a - b);
    Ok(Value::Bool(
        diff <= rel * abs(b) || diff <= rel * abs(a) || diff <= abs_tol,
    ))
}

pub fn make(_vm: &mut Vm) -> PyResult<Arc<Module>> {
    let m = new_module("cmath");
    set_attr(&m, "pi", Value::Float(PI));
    set_attr(&m, "e", Value::Float(std::f64::consts::E));
    set_attr(&m, "tau", Value::Float(std::f64::consts::TAU));
    set_attr(&m, "inf", Value::Float(f64::INFINITY));
    set_attr(&m, "infj", complex::value(0.0, f64::INFINITY));
    set_attr(&m, "nan", Value::Float(f64::NAN));
    set_attr(&m, "nanj", complex::value(0.0, f64::NAN));
    add_functions(
        &m,
        &[
            ("sqrt", sqrt_fn),
            ("exp", exp_fn),
            ("log", log_fn),
            ("log10", log10_fn),
            ("phase", phase_fn),
            ("polar", polar_fn),
            ("rect", rect_fn),
            ("sin", sin_fn),
            ("cos", cos_fn),
            ("tan", tan_fn),
            ("asin", asin_fn),
            ("acos", acos_fn),
            ("atan", atan_fn),
            ("sinh", sinh_fn),
            ("cosh", cosh_fn),
            ("tanh", tanh_fn),
            ("asinh", asinh_fn),
            ("acosh", acosh_fn),
            ("atanh", atanh_fn),
            ("isfinite", isfinite_fn),
            ("isinf", isinf_fn),
            ("isnan", isnan_fn),
            ("isclose", isclose_fn),
        ],
    );
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_match_their_definitions() {
        assert_eq!(LOG_LARGE_DOUBLE, LARGE_DOUBLE.ln());
        assert_eq!(SQRT_LARGE_DOUBLE, LARGE_DOUBLE.sqrt());
        assert_eq!(SQRT_DBL_MIN, f64::MIN_POSITIVE.sqrt());
        assert_eq!((SCALE_UP, SCALE_DOWN), (53, -27));
    }

    #[test]
    fn square_roots_of_negative_reals_are_exact() {
        assert_eq!(sqrt(c(-1.0, 0.0)).0, c(0.0, 1.0));
        assert_eq!(sqrt(c(-4.0, 0.0)).0, c(0.0, 2.0));
        assert_eq!(atan2(0.0, -1.0), PI);
    }
}
