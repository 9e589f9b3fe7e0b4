//! The `eval`, `exec` and `compile` builtins: source text run in a given
//! (or the caller's) namespace.

use crate::vm::brc::Brc;
use std::sync::Arc;

use crate::compile::code::Code;
use crate::syntax::SyntaxError;
use crate::vm::builtins::{arity, locals_dict, type_name};
use crate::vm::error::{ExcKind, PyErr, PyResult};
use crate::vm::frame::{body_function, Frame};
use crate::vm::interp::run::Exit;
use crate::vm::interp::{load_code, Vm};
use crate::vm::types::types;
use crate::vm::value::{CodeObj, Kwargs, ObjKind, Object, PyDict, Value};

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Exec,
    Eval,
}

/// Parse and compile `src`. Runtime tracebacks show no source line for
/// `<string>`, as CPython's, so the text is not registered; syntax errors
/// quote it.
fn compile_text(vm: &Vm, src: &str, filename: &str, mode: Mode) -> PyResult<Arc<CodeObj>> {
    // Checked before parsing, and worded for a string, as CPython does.
    if src.contains('\0') {
        return Err(PyErr::new(
            ExcKind::SyntaxError,
            "source code string cannot contain null bytes",
        ));
    }
    // `eval` ignores leading blanks (CPython strips spaces and tabs).
    let src = match mode {
        Mode::Eval => src.trim_start_matches([' ', '\t']),
        Mode::Exec => src,
    };
    // Parser errors quote the text; in `eval`, an "invalid syntax" past its
    // end has no column.
    let parse_error = |mut e: SyntaxError| {
        if mode == Mode::Eval && e.span.start as usize >= src.len() {
            e.at_eof = true;
        }
        vm.syntax_error(&e, filename, Some(src))
    };
    if mode == Mode::Eval {
        if src.trim().is_empty() {
            return Err(located("invalid syntax", filename, 0, Some("")));
        }
        if let Some(e) = statement_keyword(src) {
            return Err(parse_error(e));
        }
    }
    let module = match crate::syntax::parse_module(src) {
        Ok(m) => m,
        Err(e) => {
            if mode == Mode::Eval {
                if let Some(span) = assignment_operator(src, e.span.start as usize) {
                    return Err(parse_error(invalid_syntax(span)));
                }
            }
            return Err(parse_error(e));
        }
    };
    if mode == Mode::Eval {
        if let Some(first) = module.body.iter().find(|s| {
            !matches!(s.kind, crate::syntax::ast::StmtKind::Expr(_)) || module.body.len() > 1
        }) {
            let span = crate::compile::codegen::eval_error_span(first, src);
            return Err(parse_error(invalid_syntax(span)));
        }
    }
    let code: Arc<Code> = match mode {
        Mode::Exec => crate::compile::compile_module_with_source(&module, src, filename),
        Mode::Eval => crate::compile::compile_eval(&module, src, filename),
    }
    // Scoping errors found while compiling: CPython gives the line, no text.
    .map_err(|e| {
        let line = src[..(e.span.start as usize).min(src.len())]
            .matches('\n')
            .count()
            + 1;
        match e.kind {
            crate::syntax::SyntaxErrorKind::SyntaxError => located(&e.msg, filename, line, None),
            _ => vm.syntax_error(&e, filename, Some(src)),
        }
    })?;
    Ok(load_code(&code))
}

fn invalid_syntax(span: crate::syntax::ast::Span) -> SyntaxError {
    SyntaxError {
        kind: crate::syntax::SyntaxErrorKind::SyntaxError,
        msg: "invalid syntax".into(),
        span,
        at_eof: false,
        quote: None,
    }
}

/// A SyntaxError at `line` of `filename` with the given text (none: no
/// source line is printed) and no column.
fn located(msg: &str, filename: &str, line: usize, text: Option<&str>) -> PyErr {
    let info = Value::tuple(vec![
        Value::str(filename),
        Value::Int(line as i64),
        Value::Int(0),
        text.map_or(Value::None, Value::str),
        Value::Int(line as i64),
        Value::Int(0),
    ]);
    PyErr::with_args(ExcKind::SyntaxError, vec![Value::str(msg), info])
}

/// In text that did not parse, the first assignment operator (`=`, `+=`, ...)
/// outside brackets and strings before `limit`: where CPython's expression
/// grammar gives up on `eval("x = ")`.
fn assignment_operator(src: &str, limit: usize) -> Option<crate::syntax::ast::Span> {
    let b = src.as_bytes();
    let (mut depth, mut i) = (0i32, 0usize);
    while i < b.len().min(limit + 1) {
        match b[i] {
            q @ (b'\'' | b'"') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'#' => return None,
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b'=' if depth == 0 => {
                let prev = if i > 0 { b[i - 1] } else { b' ' };
                if b.get(i + 1) == Some(&b'=') || b"=<>!:".contains(&prev) {
                    i += 2;
                    continue;
                }
                let mut start = i;
                while start > 0 && b"+-*/%@&|^<>".contains(&b[start - 1]) {
                    start -= 1;
                }
                return Some(crate::syntax::ast::Span::new(start, i + 1));
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// `eval` of text starting with a statement keyword: CPython's expression
/// grammar fails right there ("invalid syntax" under the keyword).
fn statement_keyword(src: &str) -> Option<SyntaxError> {
    const KEYWORDS: &[&str] = &[
        "assert", "break", "class", "continue", "def", "del", "for", "from", "global", "if",
        "import", "nonlocal", "pass", "raise", "return", "try", "while", "with",
    ];
    let word: &str = src.split(|c: char| !c.is_ascii_alphabetic()).next()?;
    if !KEYWORDS.contains(&word) {
        return None;
    }
    Some(SyntaxError {
        kind: crate::syntax::SyntaxErrorKind::SyntaxError,
        msg: "invalid syntax".into(),
        span: crate::syntax::ast::Span::new(0, word.len()),
        at_eof: false,
        quote: None,
    })
}

/// The source argument: text, or a code object from `compile()`.
fn code_arg(vm: &Vm, func: &str, v: &Value, mode: Mode) -> PyResult<Arc<CodeObj>> {
    match v {
        Value::Str(s) => compile_text(vm, s.as_str(), "<string>", mode),
        Value::Bytes(_) | Value::ByteArray(_) => {
            let source = crate::vm::bytes::must_bytes_like(v)?;
            match std::str::from_utf8(&source) {
                Ok(s) => compile_text(vm, s, "<string>", mode),
                Err(_) => Err(PyErr::new(
                    ExcKind::SyntaxError,
                    "source code cannot be decoded as UTF-8",
                )),
            }
        }
        Value::Object(o) => match &o.kind {
            ObjKind::Code(c) => Ok(c.clone()),
            _ => Err(source_type_error(func, v)),
        },
        _ => Err(source_type_error(func, v)),
    }
}

fn source_type_error(func: &str, _v: &Value) -> PyErr {
    PyErr::type_error(format!(
        "{func}() arg 1 must be a string, bytes or code object"
    ))
}

/// The namespaces for `eval`/`exec`: the caller's when none are given.
fn namespaces(
    vm: &mut Vm,
    func: &str,
    globals: Option<&Value>,
    locals: Option<&Value>,
) -> PyResult<(Brc<PyDict>, Brc<PyDict>)> {
    let globals = match globals {
        None | Some(Value::None) => None,
        Some(Value::Dict(d)) => Some(d.clone()),
        Some(other) => {
            let msg = match (func, other) {
                ("exec", _) => format!("exec() globals must be a dict, not {}", type_name(other)),
                (_, Value::List(_) | Value::Instance(_)) => {
                    "globals must be a real dict; try eval(expr, {}, mapping)".to_string()
                }
                _ => "globals must be a dict".to_string(),
            };
            return Err(PyErr::type_error(msg));
        }
    };
    let locals = match locals {
        None | Some(Value::None) => None,
        Some(Value::Dict(d)) => Some(d.clone()),
        Some(other) => {
            return Err(PyErr::type_error(if func == "exec" {
                format!("locals must be a mapping or None, not {}", type_name(other))
            } else {
                "locals must be a mapping".to_string()
            }))
        }
    };
    Ok(match (globals, locals) {
        (None, None) => (vm.current_globals(), locals_dict(vm)),
        (None, Some(l)) => (vm.current_globals(), l),
        (Some(g), None) => (g.clone(), g),
        (Some(g), Some(l)) => (g, l),
    })
}

fn run(
    vm: &mut Vm,
    code: Arc<CodeObj>,
    globals: Brc<PyDict>,
    locals: Brc<PyDict>,
) -> PyResult<Value> {
    // CPython puts the builtins into a globals dict that lacks them.
    if globals.get("__builtins__").is_none() {
        if let Some(b) = vm.interp.module("builtins") {
            globals.set("__builtins__", b);
        }
    }
    let separate = !Brc::ptr_eq(&globals, &locals);
    let func = body_function(code, globals);
    let slots = vm.take_vec(func.code.code.max_stack as usize);
    let mut frame = Frame::new(func, slots);
    if separate {
        frame.set_locals(locals);
    }
    match vm.run_frame(frame, None)? {
        Exit::Return(v) => Ok(v),
        Exit::Yield(_, f) => {
            vm.recycle(f);
            Err(PyErr::new(ExcKind::SystemError, "code yielded"))
        }
    }
}

fn args3<'a>(
    func: &str,
    args: &'a [Value],
    kw: Kwargs<'a>,
) -> PyResult<(&'a Value, Option<&'a Value>, Option<&'a Value>)> {
    arity(func, args, 1, 3)?;
    let kwarg = |name: &str| kw.iter().find(|(k, _)| &**k == name).map(|(_, v)| v);
    for (k, _) in kw {
        if !matches!(&**k, "globals" | "locals") {
            return Err(PyErr::type_error(format!(
                "{func}() got an unexpected keyword argument '{k}'"
            )));
        }
    }
    Ok((
        &args[0],
        args.get(1).or_else(|| kwarg("globals")),
        args.get(2).or_else(|| kwarg("locals")),
    ))
}

/// `eval(source, globals=None, locals=None)`.
pub fn b_eval(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let (source, globals, locals) = args3("eval", args, kw)?;
    let code = code_arg(vm, "eval", source, Mode::Eval)?;
    let (g, l) = namespaces(vm, "eval", globals, locals)?;
    run(vm, code, g, l)
}

/// `exec(source, globals=None, locals=None)`.
pub fn b_exec(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let (source, globals, locals) = args3("exec", args, kw)?;
    let code = code_arg(vm, "exec", source, Mode::Exec)?;
    let (g, l) = namespaces(vm, "exec", globals, locals)?;
    run(vm, code, g, l)?;
    Ok(Value::None)
}

/// `compile(source, filename, mode)`: a code object for `exec`/`eval`.
pub fn b_compile(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let get = |i: usize, name: &str| {
        args.get(i)
            .or_else(|| kw.iter().find(|(k, _)| &**k == name).map(|(_, v)| v))
    };
    let (Some(source), Some(filename), Some(mode)) =
        (get(0, "source"), get(1, "filename"), get(2, "mode"))
    else {
        return Err(PyErr::type_error(
            "compile() missing required argument 'source' (pos 1)",
        ));
    };
    let Value::Str(filename) = filename else {
        return Err(PyErr::type_error(format!(
            "compile() argument 'filename' must be str, not {}",
            type_name(filename)
        )));
    };
    let mode = match mode.as_str() {
        Some("exec" | "single") => Mode::Exec,
        Some("eval") => Mode::Eval,
        Some(_) => {
            return Err(PyErr::value_error(
                "compile() mode must be 'exec', 'eval' or 'single'",
            ))
        }
        None => {
            return Err(PyErr::type_error(format!(
                "compile() argument 'mode' must be str, not {}",
                type_name(mode)
            )))
        }
    };
    let Value::Str(src) = source else {
        return Err(PyErr::type_error(
            "compile() arg 1 must be a string, bytes or AST object",
        ));
    };
    let code = compile_text(vm, src.as_str(), filename.as_str(), mode)?;
    Ok(Value::Object(Arc::new(Object {
        class: types().code.clone(),
        kind: ObjKind::Code(code),
    })))
}
