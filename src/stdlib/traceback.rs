//! `traceback`: printing and formatting exceptions the way the interpreter
//! reports uncaught ones (`print_exception`, `print_exc`, `format_exc`,
//! `format_exception`, `format_exception_only`, `format_tb`, `print_tb`).

use std::sync::Arc;

use crate::stdlib::{add_functions, arg, check_args, new_module, type_name};
use crate::vm::error::{PyErr, PyResult};
use crate::vm::interp::Vm;
use crate::vm::traceback::Printer;
use crate::vm::value::{InstanceBase, Kwargs, Module, TraceEntry, Value};

/// The full report for `err`, chained causes and contexts first, as the
/// `traceback` module formats it.
pub fn format_exception(vm: &mut Vm, err: &PyErr) -> String {
    crate::vm::traceback::format_exception(vm, err, Printer::Module)
}

fn format_chain(vm: &mut Vm, err: &PyErr, chain: bool) -> String {
    if chain {
        return format_exception(vm, err);
    }
    let mut out = String::new();
    if let Some(data) = err.data() {
        let entries: Vec<TraceEntry> = data.traceback.lock().iter().cloned().collect();
        if !entries.is_empty() {
            out.push_str("Traceback (most recent call last):\n");
            crate::vm::traceback::format_traceback(vm, &entries, Printer::Module, &mut out);
        }
    }
    out.push_str(&format_only(vm, err));
    out
}

/// The last line: `module.Type: message`.
fn format_only(vm: &mut Vm, err: &PyErr) -> String {
    crate::vm::traceback::format_exception_only(vm, &err.exc)
}

/// The exception a `(type, value, tb)` or `(exc)` call is about, if any.
fn exception_arg(args: &[Value], kw: Kwargs) -> Option<PyErr> {
    let first = arg(args, kw, 0, "exc");
    let value = arg(args, kw, 1, "value");
    let pick = match (first, value) {
        (_, Some(v @ Value::Instance(_))) => Some(v),
        (Some(v @ Value::Instance(_)), _) => Some(v),
        _ => None,
    };
    match pick {
        Some(Value::Instance(i)) if matches!(i.base, InstanceBase::Exception(_)) => {
            Some(PyErr { exc: i.clone() })
        }
        _ => None,
    }
}

fn chain_arg(vm: &mut Vm, kw: Kwargs) -> PyResult<bool> {
    match crate::stdlib::kwarg(kw, "chain") {
        Some(v) => vm.is_true(v),
        None => Ok(true),
    }
}

/// Write to `file` (a stream object, default `sys.stderr`).
fn write_to(vm: &mut Vm, file: Option<&Value>, text: &str) -> PyResult<()> {
    let file = match file {
        Some(f) if !f.is_none() => f.clone(),
        _ => match vm.interp.module("sys") {
            Some(sys) => vm.get_attr(&sys, "stderr")?,
            None => {
                vm.interp.write_stderr(text);
                return Ok(());
            }
        },
    };
    let write = vm.get_attr(&file, "write")?;
    vm.call(&write, &[Value::str(text)], &[])?;
    Ok(())
}

fn report(vm: &mut Vm, err: Option<PyErr>, chain: bool) -> String {
    match err {
        Some(e) => format_chain(vm, &e, chain),
        None => "NoneType: None\n".to_string(),
    }
}

fn print_exception(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    check_args("print_exception", args, 1, 5)?;
    let err = exception_arg(args, kw);
    if err.is_none() && !args[0].is_none() && !matches!(args[0], Value::Class(_)) {
        return Err(PyErr::type_error(format!(
            "Exception expected for value, {} found",
            type_name(&args[0])
        )));
    }
    let chain = chain_arg(vm, kw)?;
    let text = report(vm, err, chain);
    write_to(vm, arg(args, kw, 4, "file"), &text)?;
    Ok(Value::None)
}

fn print_exc(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    check_args("print_exc", args, 0, 3)?;
    let chain = chain_arg(vm, kw)?;
    let err = vm.handled_exception();
    let text = report(vm, err, chain);
    write_to(vm, arg(args, kw, 1, "file"), &text)?;
    Ok(Value::None)
}

fn format_exc(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    check_args("format_exc", args, 0, 2)?;
    let chain = chain_arg(vm, kw)?;
    let err = vm.handled_exception();
    Ok(Value::from_string(report(vm, err, chain)))
}

/// Split a report into CPython's list items: the header, each frame (file
/// line plus source line), and the exception line.
fn as_lines(text: &str) -> Value {
    let mut items: Vec<String> = Vec::new();
    let mut lines = text.split_inclusive('\n').peekable();
    while let Some(line) = lines.next() {
        let continues_frame =
            line.starts_with("    ") && items.last().is_some_and(|l| l.starts_with("  File"));
        let chain_separator = line == "\n"
            && lines.peek().is_some_and(|next| {
                next.starts_with("The above exception") || next.starts_with("During handling")
            });
        if continues_frame {
            if let Some(last) = items.last_mut() {
                last.push_str(line);
            }
        } else if chain_separator {
            // "\nThe above exception ...:\n\n" is one item.
            let mut joined = line.to_string();
            joined.push_str(lines.next().unwrap_or(""));
            if lines.peek() == Some(&"\n") {
                joined.push_str(lines.next().unwrap_or(""));
            }
            items.push(joined);
        } else {
            items.push(line.to_string());
        }
    }
    Value::list(items.into_iter().map(Value::from_string).collect())
}

fn format_exception_fn(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    check_args("format_exception", args, 1, 5)?;
    let chain = chain_arg(vm, kw)?;
    let err = exception_arg(args, kw);
    let text = report(vm, err, chain);
    Ok(as_lines(&text))
}

fn format_exception_only(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    check_args("format_exception_only", args, 1, 2)?;
    let text = match exception_arg(args, kw) {
        Some(e) => format_only(vm, &e),
        None => "NoneType: None\n".to_string(),
    };
    Ok(Value::list(vec![Value::from_string(text)]))
}

/// The entries of `format_tb`/`print_tb`'s traceback argument, cut to
/// `limit` (from the outermost, or from the innermost when negative).
fn tb_entries(args: &[Value], kw: Kwargs) -> PyResult<Vec<TraceEntry>> {
    let tb = arg(args, kw, 0, "tb").cloned().unwrap_or(Value::None);
    let Some(mut entries) = entries_of(&tb) else {
        return Err(PyErr::type_error(format!(
            "'{}' object is not a traceback",
            type_name(&tb)
        )));
    };
    match arg(args, kw, 1, "limit") {
        None | Some(Value::None) => {}
        // A positive limit keeps the outermost entries, a negative one the
        // innermost.
        Some(Value::Int(n)) if *n >= 0 => entries.truncate(*n as usize),
        Some(Value::Int(n)) => {
            let cut = entries.len().saturating_sub(n.unsigned_abs() as usize);
            entries.drain(..cut);
        }
        Some(other) => {
            return Err(PyErr::type_error(format!(
                "'{}' object cannot be interpreted as an integer",
                type_name(other)
            )))
        }
    }
    Ok(entries)
}

/// `traceback.format_tb(tb, limit=None)`: one string per frame.
fn format_tb(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    check_args("format_tb", args, 1, 2)?;
    let entries = tb_entries(args, kw)?;
    let mut text = String::new();
    crate::vm::traceback::format_traceback(vm, &entries, Printer::Module, &mut text);
    Ok(as_lines(&text))
}

/// `traceback.print_tb(tb, limit=None, file=None)`.
fn print_tb(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    check_args("print_tb", args, 1, 3)?;
    let entries = tb_entries(args, kw)?;
    let mut text = String::new();
    crate::vm::traceback::format_traceback(vm, &entries, Printer::Module, &mut text);
    write_to(vm, arg(args, kw, 2, "file"), &text)?;
    Ok(Value::None)
}

fn print_stack(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    check_args("print_stack", args, 0, 3)?;
    let names = vm.frame_names();
    let mut text = String::new();
    for n in names {
        text.push_str(&format!("  in {n}\n"));
    }
    write_to(vm, arg(args, kw, 2, "file"), &text)?;
    Ok(Value::None)
}

/// `traceback._caller_info(module)`: `(filename, lineno, funcname)` of the
/// innermost running frame whose module is not `module` (None if every frame
/// is), for `logging`'s record fields (CPython walks `sys._getframe()`).
fn caller_info(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("_caller_info", args, 1, 1)?;
    let Value::Str(skip) = &args[0] else {
        return Err(crate::vm::error::PyErr::type_error(
            "_caller_info() expects a module name",
        ));
    };
    let frames = std::iter::once(&vm.frame).chain(vm.frames.iter().skip(1).rev());
    for f in frames {
        let module = f.func.globals.get("__name__");
        if matches!(&module, Some(Value::Str(n)) if n.as_str() == skip.as_str()) {
            continue;
        }
        let code = &f.func.code.code;
        return Ok(Value::tuple(vec![
            Value::str(&code.filename),
            Value::Int(f.line() as i64),
            Value::str(&code.name),
        ]));
    }
    Ok(Value::None)
}

pub fn make(_vm: &mut Vm) -> PyResult<Arc<Module>> {
    let m = new_module("traceback");
    add_functions(
        &m,
        &[
            ("print_exception", print_exception),
            ("print_exc", print_exc),
            ("format_exc", format_exc),
            ("format_exception", format_exception_fn),
            ("format_exception_only", format_exception_only),
            ("print_stack", print_stack),
            ("format_tb", format_tb),
            ("print_tb", print_tb),
            ("_frame_location", frame_location),
            ("_caller_info", caller_info),
        ],
    );
    Ok(m)
}

/// `_frame_location(n)`: `(filename, lineno, module name)` of the frame `n`
/// levels above the caller's, or None past the outermost frame
/// (`warnings.warn` uses it for `stacklevel`).
fn frame_location(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("_frame_location", args, 1, 1)?;
    let n = match &args[0] {
        Value::Int(n) if *n >= 0 => *n as usize,
        _ => return Ok(Value::None),
    };
    Ok(match vm.frame_location(n) {
        Some((file, line, name)) => Value::tuple(vec![
            Value::str(&file),
            Value::Int(i64::from(line)),
            name.unwrap_or(Value::None),
        ]),
        None => Value::None,
    })
}

/// A traceback object (`sys.exc_info()[2]`): frame entries from `index` on,
/// outermost first, with `tb_lineno` and `tb_next`.
struct Traceback {
    entries: Arc<[crate::vm::value::TraceEntry]>,
    index: usize,
}

fn traceback_class() -> &'static crate::stdlib::NativeClass {
    static CLASS: std::sync::OnceLock<crate::stdlib::NativeClass> = std::sync::OnceLock::new();
    CLASS.get_or_init(|| {
        let c = crate::stdlib::NativeClass::new("traceback", "builtins", &[], &[]);
        let mut attrs = c.class.attrs.lock();
        for (name, getter) in [
            ("tb_lineno", tb_lineno as crate::vm::value::NativeFn),
            ("tb_next", tb_next),
            ("tb_lasti", tb_lasti),
            ("tb_frame", tb_frame),
        ] {
            attrs.insert(name.into(), crate::stdlib::property(name, getter));
        }
        drop(attrs);
        c
    })
}

fn tb_of(args: &[Value]) -> PyResult<&Traceback> {
    args.first()
        .and_then(crate::stdlib::downcast::<Traceback>)
        .ok_or_else(|| PyErr::type_error("descriptor requires a 'traceback' object"))
}

fn tb_lineno(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let tb = tb_of(args)?;
    Ok(Value::Int(i64::from(tb.entries[tb.index].line)))
}

fn tb_next(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let tb = tb_of(args)?;
    Ok(make_traceback(tb.entries.clone(), tb.index + 1))
}

fn tb_lasti(_vm: &mut Vm, _args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::Int(0))
}

fn tb_frame(_vm: &mut Vm, _args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::None)
}

fn make_traceback(entries: Arc<[crate::vm::value::TraceEntry]>, index: usize) -> Value {
    if index >= entries.len() {
        return Value::None;
    }
    crate::stdlib::native_object(&traceback_class().class, Traceback { entries, index })
}

/// `exc.__traceback__ = tb` / `exc.with_traceback(tb)`: `tb` is a traceback
/// object (its entries from there on replace the exception's) or `None`.
pub fn set_traceback(data: &crate::vm::value::ExcData, tb: &Value) -> PyResult<()> {
    let Some(entries) = entries_of(tb) else {
        return Err(PyErr::type_error(
            "__traceback__ must be a traceback or None",
        ));
    };
    *data.traceback.lock() = entries.into();
    Ok(())
}

/// The frame entries a traceback object (or `None`) stands for; `None` when
/// `tb` is neither.
fn entries_of(tb: &Value) -> Option<Vec<TraceEntry>> {
    match tb {
        Value::None => Some(Vec::new()),
        _ => crate::stdlib::downcast::<Traceback>(tb).map(|t| t.entries[t.index..].to_vec()),
    }
}

/// The traceback object of an exception (`None` if it was never raised).
pub fn traceback_object(data: &crate::vm::value::ExcData) -> Value {
    let entries: Arc<[crate::vm::value::TraceEntry]> =
        data.traceback.lock().iter().cloned().collect();
    make_traceback(entries, 0)
}
