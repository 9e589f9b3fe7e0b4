//! `sys`: the interpreter's knobs (recursion limit, switch interval, GIL state),
//! `argv`, `exit`, `modules`, `exc_info`, and the standard streams.
//!
//! `sys.stdout`/`sys.stderr` write through the interpreter's writers, the same
//! ones `print` uses, so their output interleaves in program order and one
//! call's text never tears with another thread's.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::stdlib::{
    add_functions, check_args, downcast, native_object, new_module, set_attr, to_f64, to_i64,
    type_name, NativeClass,
};
use crate::vm::error::{ExcKind, PyErr, PyResult};
use crate::vm::interp::Vm;
use crate::vm::types::types;
use crate::vm::value::{Kwargs, Module, Value};

pub const VERSION: &str = "3.11.7 (gilvm 0.1.0)";

// ---------------------------------------------------------------------------
// Standard streams.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Stream {
    Stdin,
    Stdout,
    Stderr,
}

impl Stream {
    fn name(self) -> &'static str {
        match self {
            Stream::Stdin => "<stdin>",
            Stream::Stdout => "<stdout>",
            Stream::Stderr => "<stderr>",
        }
    }
}

fn stream_of(v: &Value) -> PyResult<Stream> {
    downcast::<Stream>(v)
        .copied()
        .ok_or_else(|| PyErr::type_error("descriptor requires a '_io.TextIOWrapper' object"))
}

fn stream_class() -> &'static NativeClass {
    static CLASS: OnceLock<NativeClass> = OnceLock::new();
    CLASS.get_or_init(|| {
        let c = NativeClass::new(
            "TextIOWrapper",
            "_io",
            &[
                ("write", s_write),
                ("flush", s_flush),
                ("readline", s_readline),
                ("read", s_read),
                ("readlines", s_readlines),
                ("isatty", s_isatty),
                ("fileno", s_fileno),
                ("writable", s_writable),
                ("readable", s_readable),
                ("__repr__", s_repr),
                ("__enter__", s_enter),
                ("__exit__", s_exit),
                ("__iter__", s_enter),
                ("__next__", s_next),
            ],
            &[],
        );
        let mut attrs = c.class.attrs.lock();
        attrs.insert(
            "buffer".into(),
            crate::stdlib::native_property("buffer", "TextIOWrapper.buffer", s_buffer),
        );
        attrs.insert("encoding".into(), Value::str("utf-8"));
        attrs.insert("errors".into(), Value::str("strict"));
        attrs.insert("closed".into(), Value::Bool(false));
        attrs.insert("line_buffering".into(), Value::Bool(true));
        drop(attrs);
        c
    })
}

/// `sys.stdout` & co: one object per stream, made once.
pub fn stream(which: Stream) -> Value {
    static STREAMS: OnceLock<[Value; 3]> = OnceLock::new();
    let all = STREAMS.get_or_init(|| {
        let class = &stream_class().class;
        [
            native_object(class, Stream::Stdin),
            native_object(class, Stream::Stdout),
            native_object(class, Stream::Stderr),
        ]
    });
    all[which as usize].clone()
}

// The binary layer under each stream (`sys.stdin.buffer`): the same
// process stream, read and written as bytes.

/// The binary stream for `which`, `BufferedReader` for stdin and
/// `BufferedWriter` for the others, made once.
fn buffer(which: Stream) -> Value {
    static BUFFERS: OnceLock<[Value; 3]> = OnceLock::new();
    let all = BUFFERS.get_or_init(|| {
        let methods: &[(&'static str, crate::vm::value::NativeFn)] = &[
            ("write", b_write),
            ("flush", s_flush),
            ("readline", b_readline),
            ("read", b_read),
            ("readlines", b_readlines),
            ("isatty", s_isatty),
            ("fileno", s_fileno),
            ("writable", s_writable),
            ("readable", s_readable),
            ("__repr__", b_repr),
            ("__enter__", s_enter),
            ("__exit__", s_exit),
            ("__iter__", s_enter),
            ("__next__", b_next),
        ];
        let reader = NativeClass::new("BufferedReader", "_io", methods, &[]);
        let writer = NativeClass::new("BufferedWriter", "_io", methods, &[]);
        [
            native_object(&reader.class, Stream::Stdin),
            native_object(&writer.class, Stream::Stdout),
            native_object(&writer.class, Stream::Stderr),
        ]
    });
    all[which as usize].clone()
}

fn s_buffer(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(buffer(stream_of(&args[0])?))
}

fn b_repr(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let s = stream_of(&args[0])?;
    let class = if s == Stream::Stdin {
        "BufferedReader"
    } else {
        "BufferedWriter"
    };
    Ok(Value::from_string(format!(
        "<_io.{class} name='{}'>",
        s.name()
    )))
}

fn b_write(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let s = stream_of(&args[0])?;
    check_args("write", &args[1..], 1, 1)?;
    let data = crate::vm::bytes::must_bytes_like(&args[1])?;
    let data = &data[..];
    match s {
        Stream::Stdout => vm.interp.write_stdout_bytes(data),
        Stream::Stderr => vm.interp.write_stderr_bytes(data),
        Stream::Stdin => return Err(PyErr::new(ExcKind::OSError, "write")),
    }
    Ok(Value::Int(data.len() as i64))
}

fn b_read(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    use std::io::Read;
    check_stdin(args, "readable")?;
    let limit = match args.get(1) {
        None | Some(Value::None) => None,
        Some(v) => usize::try_from(to_i64(v)?).ok(),
    };
    let interp = vm.interp.clone();
    interp.flush_stdout();
    let mut out = Vec::new();
    let r = vm.allow_threads(|| {
        let mut stdin = std::io::stdin().lock();
        match limit {
            None => stdin.read_to_end(&mut out).map(|_| ()),
            Some(n) => stdin.take(n as u64).read_to_end(&mut out).map(|_| ()),
        }
    });
    r.map_err(|e| PyErr::new(ExcKind::OSError, e.to_string()))?;
    Ok(Value::Bytes(Arc::new(out)))
}

fn s_write(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let s = stream_of(&args[0])?;
    check_args("write", &args[1..], 1, 1)?;
    let Value::Str(text) = &args[1] else {
        return Err(PyErr::type_error(format!(
            "write() argument must be str, not {}",
            type_name(&args[1])
        )));
    };
    match s {
        Stream::Stdout => vm.interp.write_stdout(text.as_str()),
        Stream::Stderr => vm.interp.write_stderr(text.as_str()),
        Stream::Stdin => {
            return Err(PyErr::new(ExcKind::OSError, "not writable"));
        }
    }
    Ok(Value::Int(text.char_len() as i64))
}

fn s_flush(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    if stream_of(&args[0])? == Stream::Stdout {
        let interp = vm.interp.clone();
        vm.allow_threads(|| interp.flush_stdout());
    }
    Ok(Value::None)
}

/// One line of stdin as bytes (with its newline; empty at EOF), GIL released.
fn read_line_bytes(vm: &mut Vm) -> PyResult<Vec<u8>> {
    use std::io::BufRead;
    let interp = vm.interp.clone();
    interp.flush_stdout();
    let mut line = Vec::new();
    let r = vm.allow_threads(|| std::io::stdin().lock().read_until(b'\n', &mut line));
    r.map_err(|e| PyErr::new(ExcKind::OSError, e.to_string()))?;
    Ok(line)
}

/// One line from the process's stdin (with its newline; empty at EOF), GIL released.
pub fn read_line(vm: &mut Vm) -> PyResult<String> {
    utf8(read_line_bytes(vm)?)
}

fn utf8(line: Vec<u8>) -> PyResult<String> {
    String::from_utf8(line)
        .map_err(|_| PyErr::new(ExcKind::OSError, "stream did not contain valid UTF-8"))
}

/// A line as the text stream (`str`) or its buffer (`bytes`) hands it out.
fn line_value(vm: &mut Vm, text: bool) -> PyResult<Option<Value>> {
    let line = read_line_bytes(vm)?;
    if line.is_empty() {
        return Ok(None);
    }
    Ok(Some(if text {
        Value::from_string(utf8(line)?)
    } else {
        Value::Bytes(Arc::new(line))
    }))
}

fn readline(vm: &mut Vm, args: &[Value], text: bool) -> PyResult<Value> {
    check_stdin(args, "readable")?;
    Ok(line_value(vm, text)?.unwrap_or_else(|| match text {
        true => Value::str(""),
        false => Value::Bytes(Arc::new(Vec::new())),
    }))
}

fn next_line(vm: &mut Vm, args: &[Value], text: bool) -> PyResult<Value> {
    check_stdin(args, "readable")?;
    line_value(vm, text)?.ok_or_else(|| PyErr::with_args(ExcKind::StopIteration, vec![]))
}

fn readlines(vm: &mut Vm, args: &[Value], text: bool) -> PyResult<Value> {
    check_stdin(args, "readable")?;
    let mut lines = Vec::new();
    while let Some(line) = line_value(vm, text)? {
        lines.push(line);
    }
    Ok(Value::list(lines))
}

fn s_readline(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    readline(vm, args, true)
}

fn s_next(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    next_line(vm, args, true)
}

fn s_readlines(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    readlines(vm, args, true)
}

fn b_readline(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    readline(vm, args, false)
}

fn b_next(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    next_line(vm, args, false)
}

fn b_readlines(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    readlines(vm, args, false)
}

fn check_stdin(args: &[Value], what: &str) -> PyResult<()> {
    if stream_of(&args[0])? != Stream::Stdin {
        return Err(PyErr::new(ExcKind::OSError, format!("not {what}")));
    }
    Ok(())
}

fn s_read(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    use std::io::Read;
    check_stdin(args, "readable")?;
    let limit = match args.get(1) {
        None | Some(Value::None) => None,
        Some(v) => usize::try_from(to_i64(v)?).ok(),
    };
    let mut out = String::new();
    match limit {
        None => {
            let r = vm.allow_threads(|| std::io::stdin().lock().read_to_string(&mut out));
            r.map_err(|e| PyErr::new(ExcKind::OSError, e.to_string()))?;
        }
        Some(n) => {
            // Character count, read line by line.
            while out.chars().count() < n {
                let line = read_line(vm)?;
                if line.is_empty() {
                    break;
                }
                out.push_str(&line);
            }
            if let Some((i, _)) = out.char_indices().nth(n) {
                out.truncate(i);
            }
        }
    }
    Ok(Value::from_string(out))
}

fn s_isatty(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    use std::io::IsTerminal;
    Ok(Value::Bool(match stream_of(&args[0])? {
        Stream::Stdin => std::io::stdin().is_terminal(),
        Stream::Stdout => std::io::stdout().is_terminal(),
        Stream::Stderr => std::io::stderr().is_terminal(),
    }))
}

fn s_fileno(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::Int(stream_of(&args[0])? as i64))
}

fn s_writable(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::Bool(stream_of(&args[0])? != Stream::Stdin))
}

fn s_readable(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::Bool(stream_of(&args[0])? == Stream::Stdin))
}

fn s_repr(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let s = stream_of(&args[0])?;
    let mode = if s == Stream::Stdin { "r" } else { "w" };
    Ok(Value::from_string(format!(
        "<_io.TextIOWrapper name='{}' mode='{mode}' encoding='utf-8'>",
        s.name()
    )))
}

fn s_enter(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(args[0].clone())
}

fn s_exit(_vm: &mut Vm, _args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::None)
}

// ---------------------------------------------------------------------------
// Functions.

fn exit(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("exit", args, 0, 1)?;
    Err(PyErr::with_args(ExcKind::SystemExit, args.to_vec()))
}

fn get_int_max_str_digits(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("get_int_max_str_digits", args, 0, 0)?;
    let n = crate::vm::number::INT_MAX_STR_DIGITS.load(std::sync::atomic::Ordering::Relaxed);
    Ok(Value::Int(n as i64))
}

/// `sys.set_int_max_str_digits(maxdigits)`: 0 lifts the limit.
fn set_int_max_str_digits(_vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let arg = args
        .first()
        .or_else(|| crate::stdlib::kwarg(kw, "maxdigits"));
    let Some(arg) = arg else {
        return Err(PyErr::type_error(
            "set_int_max_str_digits() missing required argument 'maxdigits' (pos 1)",
        ));
    };
    let n = to_i64(arg)?;
    if n != 0 && n < 640 {
        return Err(PyErr::value_error("maxdigits must be 0 or larger than 640"));
    }
    crate::vm::number::INT_MAX_STR_DIGITS.store(n as usize, std::sync::atomic::Ordering::Relaxed);
    Ok(Value::None)
}

fn getrecursionlimit(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("getrecursionlimit", args, 0, 0)?;
    Ok(Value::Int(vm.interp.recursion_limit() as i64))
}

fn setrecursionlimit(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("setrecursionlimit", args, 1, 1)?;
    if let Value::Float(_) = &args[0] {
        return Err(PyErr::type_error(
            "'float' object cannot be interpreted as an integer",
        ));
    }
    let n = to_i64(&args[0])?;
    if n < 1 {
        return Err(PyErr::value_error(
            "recursion limit must be greater or equal than 1",
        ));
    }
    let depth = vm.depth;
    if (n as usize) <= depth {
        return Err(PyErr::new(
            ExcKind::RecursionError,
            format!(
                "cannot set the recursion limit to {n} at the recursion depth {depth}: the limit is too low"
            ),
        ));
    }
    vm.interp.set_recursion_limit(n as usize);
    Ok(Value::None)
}

fn getswitchinterval(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("getswitchinterval", args, 0, 0)?;
    let micros = match SWITCH_MICROS.load(Ordering::Relaxed) {
        u64::MAX => vm.interp.gil.interval().as_micros() as u64,
        m => m,
    };
    // CPython keeps whole microseconds and returns `1e-6 * micros`.
    Ok(Value::Float(1e-6 * micros as f64))
}

/// The interval last set, in whole microseconds as CPython stores it (it
/// may round to 0, which the GIL itself cannot use); `u64::MAX` until set.
static SWITCH_MICROS: AtomicU64 = AtomicU64::new(u64::MAX);

fn setswitchinterval(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("setswitchinterval", args, 1, 1)?;
    let secs = to_f64(&args[0])?;
    if secs.is_nan() || secs <= 0.0 {
        return Err(PyErr::value_error(
            "switch interval must be strictly positive",
        ));
    }
    // Truncated to whole microseconds, as CPython's `(unsigned long)(1e6 * interval)`.
    let micros = (1e6 * secs).min((u64::MAX - 1) as f64) as u64;
    SWITCH_MICROS.store(micros, Ordering::Relaxed);
    vm.interp
        .gil
        .set_interval(Duration::from_micros(micros.max(1)));
    Ok(Value::None)
}

fn is_gil_enabled(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("_is_gil_enabled", args, 0, 0)?;
    Ok(Value::Bool(vm.interp.gil.is_enabled()))
}

fn exc_info(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("exc_info", args, 0, 0)?;
    Ok(match vm.handled_exception() {
        None => Value::tuple(vec![Value::None, Value::None, Value::None]),
        Some(err) => {
            let exc = err.value();
            let tb = match err.data() {
                Some(d) => crate::stdlib::traceback::traceback_object(d),
                None => Value::None,
            };
            Value::tuple(vec![Value::Class(err.exc.class.clone()), exc, tb])
        }
    })
}

fn exception(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("exception", args, 0, 0)?;
    Ok(vm.handled_exception().map_or(Value::None, |e| e.value()))
}

fn intern(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("intern", args, 1, 1)?;
    match &args[0] {
        v @ Value::Str(_) => Ok(v.clone()),
        other => Err(PyErr::type_error(format!(
            "intern() argument must be str, not {}",
            type_name(other)
        ))),
    }
}

fn getdefaultencoding(_vm: &mut Vm, _args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::str("utf-8"))
}

fn getrefcount(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("getrefcount", args, 1, 1)?;
    // Arc strong counts are not Python reference counts; report a plausible one.
    Ok(Value::Int(2))
}

fn getsizeof(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("getsizeof", args, 1, 2)?;
    Ok(Value::Int(sizeof(&args[0]) as i64))
}

/// CPython 3.11's `sys.getsizeof` on a 64-bit build: the object's header
/// plus what it allocates, as CPython lays it out.
fn sizeof(v: &Value) -> usize {
    // An int holds 30-bit digits, at least one.
    let int_size = |bits: u64| 24 + 4 * (bits.div_ceil(30).max(1) as usize);
    match v {
        Value::None => 16,
        Value::Bool(_) => 28,
        Value::Int(i) => int_size(64 - u64::from(i.unsigned_abs().leading_zeros())),
        Value::BigInt(b) => int_size(b.bits()),
        Value::Float(_) => 24,
        Value::Str(s) => {
            // PEP 393: ASCII text after a 48-byte header; otherwise a
            // 72-byte header and 1, 2 or 4 bytes a character (and a NUL).
            let text = s.as_str();
            if text.is_ascii() {
                return 49 + text.len();
            }
            let kind = match text.chars().map(u32::from).max().unwrap_or(0) {
                0..=0xff => 1,
                0x100..=0xffff => 2,
                _ => 4,
            };
            72 + (text.chars().count() + 1) * kind
        }
        Value::Bytes(b) => 33 + b.len(),
        Value::ByteArray(b) => match b.data.lock().len() {
            0 => 56,
            n => 57 + n,
        },
        Value::Tuple(t) => 40 + 8 * t.items.len(),
        Value::List(l) => {
            let (len, capacity) = {
                let items = l.items.lock();
                (items.len(), items.capacity())
            };
            // A list made whole (a display, `list(...)`, `sorted`) has the
            // room CPython preallocates, rounded up to even from three items
            // on; one that grew item by item has what CPython's appends give.
            let slots = match len {
                _ if capacity != len => list_capacity(len),
                0..=2 => len,
                _ => (len + 1) & !1,
            };
            56 + 8 * slots
        }
        Value::Dict(d) => {
            let ((table, all_str), len) = {
                let map = d.map.lock();
                (map.table_shape(), map.len())
            };
            if table == 0 {
                return 64;
            }
            // The keys table as CPython's inserts grow it: 8 slots, two
            // thirds usable; when full, the power of two above 3 * used.
            let mut size = 8;
            while len > size * 2 / 3 {
                size = (size * 2 / 3 * 3).next_power_of_two();
            }
            let index_bytes = match size {
                0..=128 => 1,
                129..=0x8000 => 2,
                0x8001..=0x8000_0000 => 4,
                _ => 8,
            };
            let entry = if all_str { 16 } else { 24 };
            96 + size * index_bytes + (size * 2 / 3) * entry
        }
        Value::Set(s) | Value::FrozenSet(s) => match s.table.lock().table_size() {
            // The first eight slots live inside the set object.
            0..=8 => 216,
            n => 216 + 16 * n,
        },
        Value::Object(o) if matches!(o.kind, crate::vm::value::ObjKind::Range { .. }) => 48,
        _ => 56,
    }
}

/// The capacity CPython's `list_resize` reaches after `len` appends.
fn list_capacity(len: usize) -> usize {
    let mut allocated = 0;
    for size in 1..=len {
        if allocated < size {
            allocated = (size + (size >> 3) + 6) & !3;
        }
    }
    allocated
}

fn excepthook(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("excepthook", args, 3, 3)?;
    if let Value::Instance(i) = &args[1] {
        let err = PyErr { exc: i.clone() };
        let text = crate::vm::traceback::format_exception(
            vm,
            &err,
            crate::vm::traceback::Printer::Interpreter,
        );
        vm.interp.write_stderr(&text);
    }
    Ok(Value::None)
}

/// A namespace object for `sys.implementation`, `sys.float_info`, ...
fn namespace(name: &str, items: &[(&str, Value)]) -> Value {
    let m = new_module(name);
    for (k, v) in items {
        set_attr(&m, k, v.clone());
    }
    Value::Module(m)
}

/// A struct sequence such as `sys.version_info`: an instance of a tuple
/// subclass `sys.<name>` whose items are also readable by field name, and
/// which prints as `sys.<name>(field=value, ...)`.
fn struct_seq(name: &str, fields: &[(&str, Value)]) -> Value {
    use crate::vm::value::{AttrMap, Instance, InstanceBase, Layout};
    let items: Vec<Value> = fields.iter().map(|(_, v)| v.clone()).collect();
    let tuple = Value::tuple(items);
    let n = Value::Int(fields.len() as i64);
    let mut attrs = AttrMap::for_class();
    for (field, v) in fields {
        attrs.insert((*field).into(), v.clone());
    }
    let names = fields.iter().map(|(f, _)| Value::str(f)).collect();
    attrs.insert("__match_args__".into(), Value::tuple(names));
    attrs.insert("n_fields".into(), n.clone());
    attrs.insert("n_sequence_fields".into(), n);
    attrs.insert("n_unnamed_fields".into(), Value::Int(0));
    attrs.insert("__module__".into(), Value::str("sys"));
    attrs.insert(
        "__repr__".into(),
        crate::vm::interp::native("__repr__", "structseq.__repr__", struct_seq_repr, true),
    );
    let class = crate::vm::types::new_class(
        name,
        "sys",
        vec![types().tuple.clone()],
        Layout::Tuple,
        attrs,
    );
    match class {
        Ok(class) => Value::Instance(crate::vm::brc::Brc::new(Instance::new(
            class,
            InstanceBase::Builtin(parking_lot::Mutex::new(tuple)),
        ))),
        Err(_) => tuple,
    }
}

/// `repr()` of a struct sequence: its fields (`__match_args__`) by name.
fn struct_seq_repr(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    use crate::vm::value::InstanceBase;
    let (Some(Value::Instance(inst)), 1) = (args.first(), args.len()) else {
        return Err(PyErr::type_error("structseq.__repr__() takes no arguments"));
    };
    let items = match &inst.base {
        InstanceBase::Builtin(b) => match &*b.lock() {
            Value::Tuple(t) => t.items.to_vec(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    let names = match crate::vm::class::lookup(&inst.class, "__match_args__") {
        Some(Value::Tuple(t)) => t.items.to_vec(),
        _ => Vec::new(),
    };
    let mut parts = Vec::with_capacity(items.len());
    for (name, value) in names.iter().zip(&items) {
        let name = name.as_str().unwrap_or("?");
        parts.push(format!("{name}={}", vm.repr(value)?));
    }
    Ok(Value::from_string(format!(
        "sys.{}({})",
        inst.class.name,
        parts.join(", ")
    )))
}

/// `sys.version_info`.
fn version_info() -> Value {
    struct_seq(
        "version_info",
        &[
            ("major", Value::Int(3)),
            ("minor", Value::Int(11)),
            ("micro", Value::Int(7)),
            ("releaselevel", Value::str("final")),
            ("serial", Value::Int(0)),
        ],
    )
}

pub fn make(vm: &mut Vm) -> PyResult<Arc<Module>> {
    let m = new_module("sys");
    add_functions(
        &m,
        &[
            ("exit", exit),
            ("getrecursionlimit", getrecursionlimit),
            ("get_int_max_str_digits", get_int_max_str_digits),
            ("set_int_max_str_digits", set_int_max_str_digits),
            ("setrecursionlimit", setrecursionlimit),
            ("getswitchinterval", getswitchinterval),
            ("setswitchinterval", setswitchinterval),
            ("_is_gil_enabled", is_gil_enabled),
            ("exc_info", exc_info),
            ("exception", exception),
            ("intern", intern),
            ("getdefaultencoding", getdefaultencoding),
            ("getfilesystemencoding", getdefaultencoding),
            ("getrefcount", getrefcount),
            ("getsizeof", getsizeof),
            ("excepthook", excepthook),
            ("__excepthook__", excepthook),
        ],
    );
    let interp = vm.interp.clone();
    let argv = interp.argv.iter().map(|a| Value::str(a)).collect();
    set_attr(&m, "argv", Value::list(argv));
    let orig: Vec<Value> = std::env::args().map(Value::from_string).collect();
    set_attr(&m, "orig_argv", Value::list(orig));
    let path = interp
        .options
        .path
        .iter()
        .map(|p| Value::from_string(p.to_string_lossy().into_owned()))
        .collect();
    set_attr(&m, "path", Value::list(path));
    set_attr(&m, "modules", Value::Dict(interp.modules.clone()));
    for (name, s) in [
        ("stdin", Stream::Stdin),
        ("stdout", Stream::Stdout),
        ("stderr", Stream::Stderr),
    ] {
        set_attr(&m, name, stream(s));
        set_attr(&m, &format!("__{name}__"), stream(s));
    }
    set_attr(&m, "version", Value::str(VERSION));
    set_attr(&m, "version_info", version_info());
    set_attr(&m, "hexversion", Value::Int(0x030b07f0));
    set_attr(&m, "api_version", Value::Int(1013));
    set_attr(&m, "platform", Value::str("linux"));
    set_attr(
        &m,
        "byteorder",
        Value::str(if cfg!(target_endian = "little") {
            "little"
        } else {
            "big"
        }),
    );
    set_attr(&m, "maxsize", Value::Int(i64::MAX));
    set_attr(&m, "maxunicode", Value::Int(0x10ffff));
    let exe = std::env::current_exe()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    set_attr(&m, "executable", Value::from_string(exe));
    set_attr(&m, "prefix", Value::str("/usr/local"));
    set_attr(
        &m,
        "copyright",
        Value::str("gilvm: a Python 3.11 subset interpreter"),
    );
    set_attr(&m, "dont_write_bytecode", Value::Bool(true));
    set_attr(&m, "warnoptions", Value::list(vec![]));
    set_attr(
        &m,
        "builtin_module_names",
        Value::tuple(
            [
                "_thread",
                "builtins",
                "math",
                "os",
                "random",
                "sys",
                "time",
                "traceback",
            ]
            .iter()
            .map(|s| Value::str(s))
            .collect(),
        ),
    );
    set_attr(
        &m,
        "implementation",
        namespace(
            "implementation",
            &[
                ("name", Value::str("gilvm")),
                ("cache_tag", Value::None),
                ("version", version_info()),
            ],
        ),
    );
    set_attr(
        &m,
        "float_info",
        struct_seq(
            "float_info",
            &[
                ("max", Value::Float(f64::MAX)),
                ("max_exp", Value::Int(1024)),
                ("max_10_exp", Value::Int(308)),
                ("min", Value::Float(f64::MIN_POSITIVE)),
                ("min_exp", Value::Int(-1021)),
                ("min_10_exp", Value::Int(-307)),
                ("dig", Value::Int(15)),
                ("mant_dig", Value::Int(53)),
                ("epsilon", Value::Float(f64::EPSILON)),
                ("radix", Value::Int(2)),
                ("rounds", Value::Int(1)),
            ],
        ),
    );
    set_attr(
        &m,
        "int_info",
        struct_seq(
            "int_info",
            &[
                ("bits_per_digit", Value::Int(30)),
                ("sizeof_digit", Value::Int(4)),
                ("default_max_str_digits", Value::Int(4300)),
                ("str_digits_check_threshold", Value::Int(640)),
            ],
        ),
    );
    set_attr(
        &m,
        "hash_info",
        struct_seq(
            "hash_info",
            &[
                ("width", Value::Int(64)),
                ("modulus", Value::Int((1 << 61) - 1)),
                ("inf", Value::Int(314159)),
                ("nan", Value::Int(0)),
                ("imag", Value::Int(1000003)),
                ("algorithm", Value::str("siphash13")),
                ("hash_bits", Value::Int(64)),
                ("seed_bits", Value::Int(128)),
                ("cutoff", Value::Int(0)),
            ],
        ),
    );
    Ok(m)
}
