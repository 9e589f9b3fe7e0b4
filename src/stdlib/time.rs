//! `time`: clocks, `sleep` (which releases the GIL and can be interrupted by
//! Ctrl-C in the main thread), and calendar conversions with `strftime`.
//!
//! Local time is UTC: gilvm reads no time-zone database (the machines it runs
//! on are set to UTC; `timezone`/`tzname` say so).

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::stdlib::{
    add_functions, check_args, downcast, native, native_object, new_module, set_attr, to_f64,
    to_i64, type_name, NativeClass,
};
use crate::vm::error::{PyErr, PyResult};
use crate::vm::interp::Vm;
use crate::vm::types::types;
use crate::vm::value::{Kwargs, Module, ObjKind, Object, Value};

// ---------------------------------------------------------------------------
// Clocks.

fn origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

fn epoch_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Monotonic nanoseconds since the process's first clock reading.
pub fn monotonic_ns() -> u128 {
    origin().elapsed().as_nanos()
}

/// CPU time of the whole process (`/proc/self/stat`: utime + stime, in clock ticks).
fn process_cpu_ns() -> u128 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return monotonic_ns();
    };
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u128>().ok())
            .unwrap_or(0)
    };
    // fields[0] is the state (3rd field overall), so utime is fields[11].
    (ticks(11) + ticks(12)) * 10_000_000
}

/// CPU time of the calling thread (`/proc/thread-self/schedstat`, in nanoseconds).
fn thread_cpu_ns() -> u128 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|f| f.parse().ok()))
        .unwrap_or_else(process_cpu_ns)
}

fn ns_value(ns: u128) -> Value {
    match i64::try_from(ns) {
        Ok(i) => Value::Int(i),
        Err(_) => crate::stdlib::int_value(num_bigint::BigInt::from(ns)),
    }
}

fn no_args(name: &str, args: &[Value]) -> PyResult<()> {
    check_args(name, args, 0, 0)
}

fn time(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    no_args("time", args)?;
    Ok(Value::Float(epoch_now().as_secs_f64()))
}

fn time_ns(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    no_args("time_ns", args)?;
    Ok(ns_value(epoch_now().as_nanos()))
}

fn perf_counter(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    no_args("perf_counter", args)?;
    Ok(Value::Float(monotonic_ns() as f64 / 1e9))
}

fn perf_counter_ns(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    no_args("perf_counter_ns", args)?;
    Ok(ns_value(monotonic_ns()))
}

fn process_time(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    no_args("process_time", args)?;
    Ok(Value::Float(process_cpu_ns() as f64 / 1e9))
}

fn process_time_ns(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    no_args("process_time_ns", args)?;
    Ok(ns_value(process_cpu_ns()))
}

fn thread_time(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    no_args("thread_time", args)?;
    Ok(Value::Float(thread_cpu_ns() as f64 / 1e9))
}

fn thread_time_ns(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    no_args("thread_time_ns", args)?;
    Ok(ns_value(thread_cpu_ns()))
}

/// A duration in seconds as `time.sleep` and lock timeouts read it.
pub fn seconds_arg(v: &Value) -> PyResult<f64> {
    match v {
        Value::Float(f) => {
            if f.is_nan() {
                return Err(PyErr::value_error("Invalid value NaN (not a number)"));
            }
            Ok(*f)
        }
        Value::Int(_) | Value::BigInt(_) | Value::Bool(_) => to_f64(v),
        other => Err(PyErr::type_error(format!(
            "'{}' object cannot be interpreted as an integer",
            type_name(other)
        ))),
    }
}

fn sleep(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("sleep", args, 1, 1)?;
    let secs = seconds_arg(&args[0])?;
    if secs < 0.0 {
        return Err(PyErr::value_error("sleep length must be non-negative"));
    }
    if secs > 9.2e9 {
        return Err(PyErr::overflow_error("sleep length is too large"));
    }
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    crate::runtime::threads::wait_until(vm, Some(deadline), || false)?;
    Ok(Value::None)
}

// ---------------------------------------------------------------------------
// Calendar.

/// Broken-down time, the nine fields of `struct_time` plus the zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tm {
    pub year: i64,
    pub mon: i64,
    pub mday: i64,
    pub hour: i64,
    pub min: i64,
    pub sec: i64,
    /// Monday is 0.
    pub wday: i64,
    /// 1-based.
    pub yday: i64,
    pub isdst: i64,
    /// Made by `gmtime`: its zone is "GMT" (others are local time, "UTC").
    pub gmt: bool,
}

const FIELDS: [&str; 9] = [
    "tm_year", "tm_mon", "tm_mday", "tm_hour", "tm_min", "tm_sec", "tm_wday", "tm_yday", "tm_isdst",
];

impl Tm {
    /// `tm_zone`: local time is UTC here.
    fn zone(&self) -> &'static str {
        if self.gmt {
            "GMT"
        } else {
            "UTC"
        }
    }

    fn fields(&self) -> [i64; 9] {
        [
            self.year, self.mon, self.mday, self.hour, self.min, self.sec, self.wday, self.yday,
            self.isdst,
        ]
    }

    fn from_fields(f: [i64; 9]) -> Tm {
        Tm {
            year: f[0],
            mon: f[1],
            mday: f[2],
            hour: f[3],
            min: f[4],
            sec: f[5],
            wday: f[6],
            yday: f[7],
            isdst: f[8],
            gmt: false,
        }
    }
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

pub fn gm(secs: i64) -> Tm {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, mon, mday) = civil_from_days(days);
    let yday = days - days_from_civil(year, 1, 1) + 1;
    Tm {
        year,
        mon,
        mday,
        hour: rem / 3600,
        min: rem % 3600 / 60,
        sec: rem % 60,
        // 1970-01-01 was a Thursday (3 with Monday = 0).
        wday: (days + 3).rem_euclid(7),
        yday,
        isdst: 0,
        gmt: false,
    }
}

const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn day_name(tm: &Tm) -> &'static str {
    DAYS[tm.wday.rem_euclid(7) as usize]
}

fn month_name(tm: &Tm) -> &'static str {
    MONTHS[(tm.mon - 1).rem_euclid(12) as usize]
}

/// `strftime` in the C locale for the common conversion codes; unknown codes are kept.
/// C's `strftime` as glibc does it, in the C locale: the conversions, the
/// `E`/`O` modifiers (ignored), and the flags `-` (no padding), `_` (pad
/// with spaces), `0` (pad with zeros), `^` (upper case), `#` (swap case)
/// with a field width. Unknown conversions are copied as written.
pub fn strftime(fmt: &str, tm: &Tm) -> String {
    let mut out = String::new();
    let mut rest = fmt;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let spec = &rest[i + 1..];
        let flags_len = spec
            .find(|c: char| !matches!(c, '-' | '_' | '0' | '^' | '#'))
            .unwrap_or(spec.len());
        let flags = &spec[..flags_len];
        let after_flags = &spec[flags_len..];
        let width_len = after_flags
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(after_flags.len());
        let width: Option<usize> = after_flags[..width_len].parse().ok();
        let mut conv = &after_flags[width_len..];
        if conv.starts_with(['E', 'O']) {
            conv = &conv[1..];
        }
        let Some(code) = conv.chars().next() else {
            // A lone '%' at the end stays as written.
            out.push_str(&rest[i..]);
            return out;
        };
        let used = spec.len() - conv.len() + code.len_utf8();
        match conversion(code, tm) {
            Some(field) => out.push_str(&field.render(flags, width)),
            // glibc copies an unknown conversion as written, padded too.
            None => {
                let literal = rest[i..i + 1 + used].to_string();
                out.push_str(&Field::Text(literal, None).render(flags, width));
            }
        }
        rest = &spec[used..];
    }
    out.push_str(rest);
    out
}

/// One converted field before flags and width are applied.
enum Field {
    /// A number with its default width and padding character.
    Num(i64, usize, char),
    /// Text; `swap` is what `#` does to it (true: upper case, false: lower).
    Text(String, Option<bool>),
}

impl Field {
    fn render(self, flags: &str, width: Option<usize>) -> String {
        let pad_flag = flags.chars().rev().find(|c| matches!(c, '-' | '_' | '0'));
        match self {
            Field::Num(n, default_width, default_pad) => {
                let (pad, width) = match pad_flag {
                    // '-' drops the default padding; a width still pads.
                    Some('-') => (' ', width.unwrap_or(0)),
                    Some('_') => (' ', width.unwrap_or(default_width)),
                    Some('0') => ('0', width.unwrap_or(default_width)),
                    _ => (default_pad, width.unwrap_or(default_width)),
                };
                let digits = n.unsigned_abs().to_string();
                let sign = if n < 0 { "-" } else { "" };
                let fill = width.saturating_sub(digits.len() + sign.len());
                if pad == '0' {
                    format!("{sign}{}{digits}", "0".repeat(fill))
                } else {
                    format!("{}{sign}{digits}", " ".repeat(fill))
                }
            }
            Field::Text(mut text, swap) => {
                if flags.contains('^') {
                    text = text.to_uppercase();
                } else if flags.contains('#') {
                    match swap {
                        Some(true) => text = text.to_uppercase(),
                        Some(false) => text = text.to_lowercase(),
                        None => {}
                    }
                }
                let fill = width.unwrap_or(0).saturating_sub(text.chars().count());
                let pad = if pad_flag == Some('0') { "0" } else { " " };
                format!("{}{text}", pad.repeat(fill))
            }
        }
    }
}

/// The field for conversion `code`, or None if glibc does not know it.
fn conversion(code: char, tm: &Tm) -> Option<Field> {
    use Field::{Num, Text};
    let hour12 = if tm.hour % 12 == 0 { 12 } else { tm.hour % 12 };
    // Week numbers: %U counts Sundays, %W Mondays, as C does.
    let sunday_wday = (tm.wday + 1) % 7;
    let text = |s: &str| Text(s.to_string(), None);
    Some(match code {
        'a' => Text(day_name(tm)[..3].to_string(), Some(true)),
        'A' => Text(day_name(tm).to_string(), Some(true)),
        'b' | 'h' => Text(month_name(tm)[..3].to_string(), Some(true)),
        'B' => Text(month_name(tm).to_string(), Some(true)),
        'c' => text(&strftime("%a %b %e %H:%M:%S %Y", tm)),
        'C' => Num(tm.year.div_euclid(100), 2, '0'),
        'd' => Num(tm.mday, 2, '0'),
        'D' | 'x' => text(&strftime("%m/%d/%y", tm)),
        'e' => Num(tm.mday, 2, ' '),
        'F' => text(&strftime("%Y-%m-%d", tm)),
        'g' => Num(iso_week(tm).0.rem_euclid(100), 2, '0'),
        'G' => Num(iso_week(tm).0, 1, '0'),
        'H' => Num(tm.hour, 2, '0'),
        'I' => Num(hour12, 2, '0'),
        'j' => Num(tm.yday, 3, '0'),
        'k' => Num(tm.hour, 2, ' '),
        'l' => Num(hour12, 2, ' '),
        'm' => Num(tm.mon, 2, '0'),
        'M' => Num(tm.min, 2, '0'),
        'n' => text("\n"),
        'p' => Text((if tm.hour < 12 { "AM" } else { "PM" }).into(), Some(false)),
        'P' => text(if tm.hour < 12 { "am" } else { "pm" }),
        'r' => text(&strftime("%I:%M:%S %p", tm)),
        'R' => text(&strftime("%H:%M", tm)),
        's' => Num(
            days_from_civil(tm.year, tm.mon, tm.mday) * 86_400
                + tm.hour * 3600
                + tm.min * 60
                + tm.sec,
            1,
            '0',
        ),
        'S' => Num(tm.sec, 2, '0'),
        't' => text("\t"),
        'T' | 'X' => text(&strftime("%H:%M:%S", tm)),
        'u' => Num(tm.wday + 1, 1, '0'),
        'U' => Num((tm.yday - 1 + 7 - sunday_wday) / 7, 2, '0'),
        'V' => Num(iso_week(tm).1, 2, '0'),
        'w' => Num(sunday_wday, 1, '0'),
        'W' => Num((tm.yday - 1 + 7 - tm.wday) / 7, 2, '0'),
        'y' => Num(tm.year.rem_euclid(100), 2, '0'),
        'Y' => Num(tm.year, 1, '0'),
        // An unknown daylight-saving state (-1) leaves the zone unknown.
        'z' if tm.isdst < 0 && !tm.gmt => text(""),
        'z' => text("+0000"),
        'Z' if tm.isdst < 0 && !tm.gmt => text(""),
        'Z' => Text(tm.zone().into(), Some(false)),
        '%' => text("%"),
        _ => return None,
    })
}

/// The ISO 8601 (year, week) of `tm`, from its `tm_yday` and `tm_wday` as
/// glibc computes them (weeks start on Monday; week 1 holds a Thursday).
fn iso_week(tm: &Tm) -> (i64, i64) {
    // glibc's iso_week_days, with C's 0-based yday and Sunday-based wday:
    // the days since the Monday starting week 1 of the year.
    let wday = (tm.wday + 1) % 7;
    // (378 is a multiple of 7 that keeps the `%` operand non-negative.)
    let week_days = |yday: i64| yday - (yday - wday + 4 + 378) % 7 + 3;
    let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let yday = tm.yday - 1;
    let mut year = tm.year;
    let mut days = week_days(yday);
    if days < 0 {
        year -= 1;
        days = week_days(yday + 365 + i64::from(leap(year)));
    } else {
        let next = week_days(yday - 365 - i64::from(leap(year)));
        if next >= 0 {
            year += 1;
            days = next;
        }
    }
    (year, days / 7 + 1)
}

// ---------------------------------------------------------------------------
// struct_time: a native object with CPython's repr, indexing and tm_* attributes.

fn struct_time_class() -> &'static NativeClass {
    static CLASS: OnceLock<NativeClass> = OnceLock::new();
    CLASS.get_or_init(|| {
        let c = NativeClass::new(
            "struct_time",
            "time",
            &[
                ("__repr__", st_repr),
                ("__getitem__", st_getitem),
                ("__len__", st_len),
                ("__iter__", st_iter),
                ("__eq__", st_eq),
            ],
            &[],
        );
        let mut attrs = c.class.attrs.lock();
        for (i, name) in FIELDS.iter().enumerate() {
            attrs.insert((*name).into(), field_property(i));
        }
        attrs.insert("tm_zone".into(), field_property(9));
        attrs.insert("tm_gmtoff".into(), field_property(10));
        attrs.insert("n_fields".into(), Value::Int(11));
        attrs.insert("n_sequence_fields".into(), Value::Int(9));
        drop(attrs);
        c
    })
}

/// A read-only property returning field `i`.
fn field_property(i: usize) -> Value {
    const GETTERS: [crate::vm::value::NativeFn; 11] = [
        |_, a, _| field(a, 0),
        |_, a, _| field(a, 1),
        |_, a, _| field(a, 2),
        |_, a, _| field(a, 3),
        |_, a, _| field(a, 4),
        |_, a, _| field(a, 5),
        |_, a, _| field(a, 6),
        |_, a, _| field(a, 7),
        |_, a, _| field(a, 8),
        |_, a, _| {
            let tm = tm_of(a.first().unwrap_or(&Value::None))?;
            Ok(Value::str(tm.zone()))
        },
        |_, _, _| Ok(Value::Int(0)),
    ];
    Value::Object(Arc::new(Object {
        class: types().property.clone(),
        kind: ObjKind::Property {
            fget: native(
                FIELDS.get(i).copied().unwrap_or("tm_zone"),
                "struct_time",
                GETTERS[i],
                true,
            ),
            fset: Value::None,
            fdel: Value::None,
            doc: Value::None,
        },
    }))
}

fn tm_of(v: &Value) -> PyResult<Tm> {
    downcast::<Tm>(v)
        .copied()
        .ok_or_else(|| PyErr::type_error("descriptor requires a 'time.struct_time' object"))
}

fn field(args: &[Value], i: usize) -> PyResult<Value> {
    let tm = tm_of(args.first().unwrap_or(&Value::None))?;
    Ok(Value::Int(tm.fields()[i]))
}

fn struct_time(tm: Tm) -> Value {
    native_object(&struct_time_class().class, tm)
}

fn st_repr(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let tm = tm_of(&args[0])?;
    let parts: Vec<String> = FIELDS
        .iter()
        .zip(tm.fields())
        .map(|(n, v)| format!("{n}={v}"))
        .collect();
    Ok(Value::from_string(format!(
        "time.struct_time({})",
        parts.join(", ")
    )))
}

fn st_tuple(v: &Value) -> PyResult<Value> {
    Ok(Value::tuple(
        tm_of(v)?.fields().iter().map(|f| Value::Int(*f)).collect(),
    ))
}

fn st_getitem(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("__getitem__", &args[1..], 1, 1)?;
    let t = st_tuple(&args[0])?;
    vm.get_item(&t, &args[1])
}

fn st_len(_vm: &mut Vm, _args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::Int(9))
}

fn st_iter(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let t = st_tuple(&args[0])?;
    vm.iter(&t)
}

fn st_eq(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let a = st_tuple(&args[0])?;
    let b = match args.get(1) {
        Some(v) if downcast::<Tm>(v).is_some() => st_tuple(v)?,
        Some(v @ Value::Tuple(_)) => v.clone(),
        _ => return Ok(types().not_implemented.clone()),
    };
    Ok(Value::Bool(vm.eq(&a, &b)?))
}

/// A `struct_time` or 9-tuple argument.
fn tm_arg(v: &Value, func: &str) -> PyResult<Tm> {
    if let Some(tm) = downcast::<Tm>(v) {
        return Ok(*tm);
    }
    let Value::Tuple(t) = v else {
        return Err(PyErr::type_error("Tuple or struct_time argument required"));
    };
    if t.items.len() != 9 {
        return Err(PyErr::type_error(format!(
            "{func}(): illegal time tuple argument"
        )));
    }
    let mut f = [0i64; 9];
    for (slot, item) in f.iter_mut().zip(t.items.iter()) {
        *slot = to_i64(item)?;
    }
    Ok(Tm::from_fields(f))
}

/// Optional seconds argument (`None` or missing means now).
fn secs_arg(args: &[Value]) -> PyResult<i64> {
    match args.first() {
        None | Some(Value::None) => Ok(epoch_now().as_secs() as i64),
        Some(v) => {
            let f = seconds_arg(v)?;
            if !f.is_finite() {
                return Err(PyErr::overflow_error(
                    "timestamp out of range for platform time_t",
                ));
            }
            Ok(f.floor() as i64)
        }
    }
}

fn gmtime(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("gmtime", args, 0, 1)?;
    let tm = Tm {
        gmt: true,
        ..gm(secs_arg(args)?)
    };
    Ok(struct_time(tm))
}

fn localtime(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("localtime", args, 0, 1)?;
    Ok(struct_time(gm(secs_arg(args)?)))
}

fn mktime(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("mktime", args, 1, 1)?;
    let tm = tm_arg(&args[0], "mktime")?;
    // Normalise out-of-range months like C's mktime.
    let months = tm.year * 12 + tm.mon - 1;
    let (y, m) = (months.div_euclid(12), months.rem_euclid(12) + 1);
    let secs = days_from_civil(y, m, 1) * 86_400
        + (tm.mday - 1) * 86_400
        + tm.hour * 3600
        + tm.min * 60
        + tm.sec;
    Ok(Value::Float(secs as f64))
}

fn format_tm_arg(args: &[Value], i: usize, func: &str) -> PyResult<Tm> {
    match args.get(i) {
        None | Some(Value::None) => Ok(gm(epoch_now().as_secs() as i64)),
        Some(v) => tm_arg(v, func),
    }
}

/// `time.strptime(string, format)`: parsed by the `datetime` module's
/// parser (CPython's, too, is written in the language: `_strptime`).
fn strptime_fn(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let module = vm.import("datetime")?;
    let parse = vm.get_attr(&module, "_time_strptime")?;
    vm.call(&parse, args, kw)
}

fn strftime_fn(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("strftime", args, 1, 2)?;
    let Value::Str(fmt) = &args[0] else {
        return Err(PyErr::type_error(format!(
            "strftime() argument 1 must be str, not {}",
            type_name(&args[0])
        )));
    };
    let tm = format_tm_arg(args, 1, "strftime")?;
    if !(1..=12).contains(&tm.mon) {
        return Err(PyErr::value_error("month out of range"));
    }
    Ok(Value::from_string(strftime(fmt.as_str(), &tm)))
}

fn asctime(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("asctime", args, 0, 1)?;
    let tm = format_tm_arg(args, 0, "asctime")?;
    Ok(Value::from_string(strftime("%a %b %e %H:%M:%S %Y", &tm)))
}

fn ctime(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("ctime", args, 0, 1)?;
    Ok(Value::from_string(strftime(
        "%a %b %e %H:%M:%S %Y",
        &gm(secs_arg(args)?),
    )))
}

fn struct_time_new(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    // struct_time(sequence): args[0] is the class.
    check_args("struct_time", &args[1.min(args.len())..], 1, 1)?;
    let items = vm.collect(&args[1])?;
    if items.len() != 9 {
        return Err(PyErr::type_error(format!(
            "time.struct_time() takes a 9-sequence ({}-sequence given)",
            items.len()
        )));
    }
    let mut f = [0i64; 9];
    for (slot, item) in f.iter_mut().zip(&items) {
        *slot = to_i64(item)?;
    }
    Ok(struct_time(Tm::from_fields(f)))
}

pub fn make(_vm: &mut Vm) -> PyResult<Arc<Module>> {
    origin();
    let m = new_module("time");
    add_functions(
        &m,
        &[
            ("time", time),
            ("time_ns", time_ns),
            ("perf_counter", perf_counter),
            ("perf_counter_ns", perf_counter_ns),
            ("monotonic", perf_counter),
            ("monotonic_ns", perf_counter_ns),
            ("process_time", process_time),
            ("process_time_ns", process_time_ns),
            ("thread_time", thread_time),
            ("thread_time_ns", thread_time_ns),
            ("sleep", sleep),
            ("gmtime", gmtime),
            ("localtime", localtime),
            ("mktime", mktime),
            ("strftime", strftime_fn),
            ("strptime", strptime_fn),
            ("asctime", asctime),
            ("ctime", ctime),
        ],
    );
    let class = struct_time_class();
    class.class.attrs.lock().insert(
        "__new__".into(),
        native("__new__", "struct_time.__new__", struct_time_new, false),
    );
    set_attr(&m, "struct_time", Value::Class(class.class.clone()));
    set_attr(&m, "timezone", Value::Int(0));
    set_attr(&m, "altzone", Value::Int(0));
    set_attr(&m, "daylight", Value::Int(0));
    set_attr(
        &m,
        "tzname",
        Value::tuple(vec![Value::str("UTC"), Value::str("UTC")]),
    );
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_matches_c() {
        // time.gmtime(1_700_000_000)
        let tm = gm(1_700_000_000);
        assert_eq!(tm.fields(), [2023, 11, 14, 22, 13, 20, 1, 318, 0]);
        assert_eq!(
            strftime("%Y-%m-%d %H:%M:%S %a %b %j %p %I", &tm),
            "2023-11-14 22:13:20 Tue Nov 318 PM 10"
        );
        assert_eq!(
            strftime("%c|%x|%X|%%|%U|%W|%w|%u", &tm),
            "Tue Nov 14 22:13:20 2023|11/14/23|22:13:20|%|46|46|2|2"
        );
        let tm = gm(0);
        assert_eq!(tm.fields(), [1970, 1, 1, 0, 0, 0, 3, 1, 0]);
        assert_eq!(strftime("%e|%U|%W", &tm), " 1|00|00");
        assert_eq!(gm(-1).fields(), [1969, 12, 31, 23, 59, 59, 2, 365, 0]);
        assert!(is_leap(2000) && !is_leap(1900));
    }
}
