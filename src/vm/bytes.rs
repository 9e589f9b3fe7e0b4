//! `bytes`, and the read-only methods it shares with `bytearray`: each
//! method is written once over `&[u8]` (see `bytes_algo`), installed on
//! both types, and builds its results in the receiver's type.

use std::ops::Deref;
use std::sync::Arc;

use crate::compile::code::CompareKind;
use crate::vm::builtins::{
    arity, base_value, class_method, constructor, descriptor_error, index_value, method, method_kw,
    no_args, one_arg, type_name,
};
use crate::vm::bytes_algo as algo;
use crate::vm::error::{ExcKind, PyErr, PyResult};
use crate::vm::interp::Vm;
use crate::vm::number::int_ref;
use crate::vm::str::{
    adjust_range, arg_type_name, check_size, decode, encode, merge_kwargs, must_str_arg, opt_index,
    str_arg,
};
use crate::vm::types::{types, Types};
use crate::vm::value::{Class, Kwargs, NativeFn, Value};

/// The bytes of a bytes-like value: shared for `bytes`, a snapshot for a
/// `bytearray` (taken under its lock, so later changes do not show).
pub enum Buf {
    Shared(Arc<Vec<u8>>),
    Copied(Vec<u8>),
}

impl Deref for Buf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Buf::Shared(b) => b,
            Buf::Copied(v) => v,
        }
    }
}

/// The bytes of `bytes`, `bytearray` or an instance of a subclass of either.
pub fn bytes_like(v: &Value) -> Option<Buf> {
    match v {
        Value::Bytes(b) => Some(Buf::Shared(b.clone())),
        Value::ByteArray(b) => Some(Buf::Copied(b.data.lock().clone())),
        Value::Instance(_) => match base_value(v) {
            b @ (Value::Bytes(_) | Value::ByteArray(_)) => bytes_like(&b),
            _ => None,
        },
        _ => None,
    }
}

/// [`bytes_like`], or CPython's TypeError for anything else.
pub fn must_bytes_like(v: &Value) -> PyResult<Buf> {
    bytes_like(v).ok_or_else(|| {
        PyErr::type_error(format!(
            "a bytes-like object is required, not '{}'",
            type_name(v)
        ))
    })
}

fn byte_range_error() -> PyErr {
    PyErr::value_error("byte must be in range(0, 256)")
}

/// An int in range(256), through `__index__` (bytearray items, append, ...).
pub fn byte_of(vm: &mut Vm, v: &Value) -> PyResult<u8> {
    if let Value::BigInt(_) = base_value(v) {
        return Err(byte_range_error());
    }
    let n = index_value(vm, v)?;
    u8::try_from(n).map_err(|_| byte_range_error())
}

/// `x in b` for the bytes `b`: a byte value or a bytes-like substring.
pub fn contains(hay: &[u8], item: &Value) -> PyResult<bool> {
    if let Some(sub) = bytes_like(item) {
        return Ok(algo::find(hay, &sub, false).is_some());
    }
    match int_ref(&base_value(item)) {
        Some(n) => match n.to_i64() {
            Some(n @ 0..=255) => Ok(hay.contains(&(n as u8))),
            _ => Err(byte_range_error()),
        },
        None => Err(PyErr::type_error(format!(
            "a bytes-like object is required, not '{}'",
            type_name(item)
        ))),
    }
}

/// Which of the two types a shared method runs for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bytes,
    ByteArray,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Bytes => "bytes",
            Kind::ByteArray => "bytearray",
        }
    }

    /// A new value of this type.
    fn make(self, v: Vec<u8>) -> Value {
        match self {
            Kind::Bytes => Value::Bytes(v.into()),
            Kind::ByteArray => Value::bytearray(v),
        }
    }

    fn make_slice(self, v: &[u8]) -> Value {
        self.make(v.to_vec())
    }
}

/// The receiver of a shared method, which must be of `kind`'s type.
fn recv(args: &[Value], name: &str, kind: Kind) -> PyResult<Buf> {
    let Some(first) = args.first() else {
        return Err(PyErr::type_error(format!(
            "unbound method {}.{name}() needs an argument",
            kind.name()
        )));
    };
    match (base_value(first), kind) {
        (Value::Bytes(b), Kind::Bytes) => Ok(Buf::Shared(b)),
        (Value::ByteArray(b), Kind::ByteArray) => Ok(Buf::Copied(b.data.lock().clone())),
        _ => Err(descriptor_error(name, kind.name(), first)),
    }
}

/// The needle of find/count/index: a byte value or a bytes-like object.
fn needle(v: &Value) -> PyResult<Buf> {
    if let Some(b) = bytes_like(v) {
        return Ok(b);
    }
    match int_ref(&base_value(v)) {
        Some(n) => match n.to_i64() {
            Some(n @ 0..=255) => Ok(Buf::Copied(vec![n as u8])),
            _ => Err(byte_range_error()),
        },
        None => Err(PyErr::type_error(format!(
            "argument should be integer or bytes-like object, not '{}'",
            type_name(v)
        ))),
    }
}

/// "find() takes at least 1 argument (0 given)" and its upper twin.
fn check_sub_args(name: &str, rest: &[Value]) -> PyResult<()> {
    if rest.is_empty() || rest.len() > 3 {
        return Err(PyErr::type_error(if rest.is_empty() {
            format!("{name}() takes at least 1 argument (0 given)")
        } else {
            format!("{name}() takes at most 3 arguments ({} given)", rest.len())
        }));
    }
    Ok(())
}

/// find/rfind/index/rindex: the position of the needle in `b[start:end]`.
fn search(args: &[Value], name: &str, kind: Kind, rev: bool) -> PyResult<Option<usize>> {
    let b = recv(args, name, kind)?;
    let rest = &args[1..];
    check_sub_args(name, rest)?;
    // The bounds are parsed first, as CPython's argument clinic does.
    let (st, en) = (opt_index(rest.get(1))?, opt_index(rest.get(2))?);
    let sub = needle(&rest[0])?;
    let (st, en) = adjust_range(b.len(), st, en);
    if en - st < sub.len() as i64 {
        return Ok(None);
    }
    let (st, en) = (st as usize, en as usize);
    Ok(algo::find(&b[st..en], &sub, rev).map(|i| i + st))
}

fn find(_vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    let r = search(args, "find", kind, false)?;
    Ok(Value::Int(r.map_or(-1, |i| i as i64)))
}

fn rfind(_vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    let r = search(args, "rfind", kind, true)?;
    Ok(Value::Int(r.map_or(-1, |i| i as i64)))
}

fn index(_vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    match search(args, "index", kind, false)? {
        Some(i) => Ok(Value::Int(i as i64)),
        None => Err(PyErr::value_error("subsection not found")),
    }
}

fn rindex(_vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    match search(args, "rindex", kind, true)? {
        Some(i) => Ok(Value::Int(i as i64)),
        None => Err(PyErr::value_error("subsection not found")),
    }
}

fn count(_vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    let b = recv(args, "count", kind)?;
    let rest = &args[1..];
    check_sub_args("count", rest)?;
    let (st, en) = (opt_index(rest.get(1))?, opt_index(rest.get(2))?);
    let sub = needle(&rest[0])?;
    let (st, en) = adjust_range(b.len(), st, en);
    if st > en {
        return Ok(Value::Int(0));
    }
    if sub.is_empty() {
        return Ok(Value::Int(en - st + 1));
    }
    let hay = &b[st as usize..en as usize];
    Ok(Value::Int(algo::count(hay, &sub, usize::MAX) as i64))
}

/// `startswith`/`endswith` of one candidate within `b[start:end]`.
fn tailmatch(b: &[u8], sub: &[u8], start: Option<i64>, end: Option<i64>, at_end: bool) -> bool {
    let (st, en) = adjust_range(b.len(), start, end);
    let (len, slen) = (b.len() as i64, sub.len() as i64);
    if en - st < slen || st > len {
        return false;
    }
    let hay = &b[st as usize..en as usize];
    if at_end {
        hay.ends_with(sub)
    } else {
        hay.starts_with(sub)
    }
}

fn affix(args: &[Value], name: &str, kind: Kind, at_end: bool) -> PyResult<Value> {
    let b = recv(args, name, kind)?;
    let rest = &args[1..];
    check_sub_args(name, rest)?;
    let (st, en) = (opt_index(rest.get(1))?, opt_index(rest.get(2))?);
    let candidates: Vec<Buf> = match &rest[0] {
        Value::Tuple(t) => t
            .items
            .iter()
            .map(must_bytes_like)
            .collect::<PyResult<_>>()?,
        v => vec![bytes_like(v).ok_or_else(|| {
            PyErr::type_error(format!(
                "{name} first arg must be bytes or a tuple of bytes, not {}",
                type_name(v)
            ))
        })?],
    };
    let hit = candidates.iter().any(|p| tailmatch(&b, p, st, en, at_end));
    Ok(Value::Bool(hit))
}

fn startswith(_vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    affix(args, "startswith", kind, false)
}

fn endswith(_vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    affix(args, "endswith", kind, true)
}

/// An int argument through `__index__`, or its default.
fn int_or(vm: &mut Vm, v: Option<&Value>, default: i64) -> PyResult<i64> {
    match v {
        Some(v) => index_value(vm, v),
        None => Ok(default),
    }
}

fn split_common(
    vm: &mut Vm,
    args: &[Value],
    kw: Kwargs,
    kind: Kind,
    name: &str,
    rev: bool,
) -> PyResult<Value> {
    let b = recv(args, name, kind)?;
    let a = merge_kwargs(name, &args[1..], kw, &["sep", "maxsplit"])?;
    let maxsplit = int_or(vm, a[1].as_ref(), -1)?;
    let parts = match &a[0] {
        None | Some(Value::None) if rev => algo::rsplit_whitespace(&b, maxsplit),
        None | Some(Value::None) => algo::split_whitespace(&b, maxsplit),
        Some(sep) => {
            let sep = must_bytes_like(sep)?;
            if sep.is_empty() {
                return Err(PyErr::value_error("empty separator"));
            }
            if rev {
                algo::rsplit_sep(&b, &sep, maxsplit)
            } else {
                algo::split_sep(&b, &sep, maxsplit)
            }
        }
    };
    Ok(Value::list(
        parts.into_iter().map(|p| kind.make_slice(p)).collect(),
    ))
}

fn split(vm: &mut Vm, args: &[Value], kw: Kwargs, kind: Kind) -> PyResult<Value> {
    split_common(vm, args, kw, kind, "split", false)
}

fn rsplit(vm: &mut Vm, args: &[Value], kw: Kwargs, kind: Kind) -> PyResult<Value> {
    split_common(vm, args, kw, kind, "rsplit", true)
}

fn splitlines(vm: &mut Vm, args: &[Value], kw: Kwargs, kind: Kind) -> PyResult<Value> {
    let b = recv(args, "splitlines", kind)?;
    let a = merge_kwargs("splitlines", &args[1..], kw, &["keepends"])?;
    let keep = int_or(vm, a[0].as_ref(), 0)? != 0;
    Ok(Value::list(
        algo::splitlines(&b, keep)
            .into_iter()
            .map(|p| kind.make_slice(p))
            .collect(),
    ))
}

fn join(vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    let sep = recv(args, "join", kind)?;
    one_arg(&format!("{}.join", kind.name()), &args[1..])?;
    let it = match vm.iter(&args[1]) {
        Err(e) if e.matches(ExcKind::TypeError) => {
            return Err(PyErr::type_error("can only join an iterable"))
        }
        r => r?,
    };
    let items = vm.collect(&it)?;
    let mut out = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let Some(p) = bytes_like(it) else {
            return Err(PyErr::type_error(format!(
                "sequence item {i}: expected a bytes-like object, {} found",
                type_name(it)
            )));
        };
        if i > 0 {
            out.extend_from_slice(&sep);
        }
        check_size(out.len() as u128 + p.len() as u128)?;
        out.extend_from_slice(&p);
    }
    Ok(kind.make(out))
}

fn replace(vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    let b = recv(args, "replace", kind)?;
    arity("replace", &args[1..], 2, 3)?;
    let old = must_bytes_like(&args[1])?;
    let new = must_bytes_like(&args[2])?;
    let n = int_or(vm, args.get(3), -1)?;
    let hits = algo::replace_count(&b, &old, n) as u128;
    check_size(b.len() as u128 + hits * new.len() as u128)?;
    Ok(kind.make(algo::replace(&b, &old, &new, n)))
}

fn strip_common(
    args: &[Value],
    kind: Kind,
    name: &str,
    left: bool,
    right: bool,
) -> PyResult<Value> {
    let b = recv(args, name, kind)?;
    arity(name, &args[1..], 0, 1)?;
    let chars = match args.get(1) {
        None | Some(Value::None) => None,
        Some(v) => Some(must_bytes_like(v)?),
    };
    Ok(kind.make_slice(algo::strip(&b, chars.as_deref(), left, right)))
}

fn strip(_vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    strip_common(args, kind, "strip", true, true)
}

fn lstrip(_vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    strip_common(args, kind, "lstrip", true, false)
}

fn rstrip(_vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    strip_common(args, kind, "rstrip", false, true)
}

fn partition_common(args: &[Value], kind: Kind, name: &str, rev: bool) -> PyResult<Value> {
    let b = recv(args, name, kind)?;
    one_arg(&format!("{}.{name}", kind.name()), &args[1..])?;
    let sep = must_bytes_like(&args[1])?;
    if sep.is_empty() {
        return Err(PyErr::value_error("empty separator"));
    }
    let found = algo::find(&b, &sep, rev);
    let parts = match found {
        Some(i) => [&b[..i], &sep[..], &b[i + sep.len()..]],
        None if rev => [&b[..0], &b[..0], &b[..]],
        None => [&b[..], &b[..0], &b[..0]],
    };
    let mut parts: Vec<Value> = parts.iter().map(|p| kind.make_slice(p)).collect();
    // bytes hands back the separator object itself when it was found.
    if kind == Kind::Bytes && found.is_some() {
        parts[1] = args[1].clone();
    }
    Ok(Value::tuple(parts))
}

fn partition(_vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    partition_common(args, kind, "partition", false)
}

fn rpartition(_vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    partition_common(args, kind, "rpartition", true)
}

/// A method without arguments mapping the bytes to new bytes.
fn transform(args: &[Value], kind: Kind, name: &str, f: fn(&[u8]) -> Vec<u8>) -> PyResult<Value> {
    let b = recv(args, name, kind)?;
    no_args(&format!("{}.{name}", kind.name()), &args[1..])?;
    Ok(kind.make(f(&b)))
}

fn upper(_vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    transform(args, kind, "upper", <[u8]>::to_ascii_uppercase)
}

fn lower(_vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    transform(args, kind, "lower", <[u8]>::to_ascii_lowercase)
}

fn capitalize(_vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    transform(args, kind, "capitalize", algo::capitalize)
}

fn title(_vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    transform(args, kind, "title", algo::title)
}

fn swapcase(_vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    transform(args, kind, "swapcase", algo::swapcase)
}

/// A predicate method without arguments.
fn test(args: &[Value], kind: Kind, name: &str, f: fn(&[u8]) -> bool) -> PyResult<Value> {
    let b = recv(args, name, kind)?;
    no_args(&format!("{}.{name}", kind.name()), &args[1..])?;
    Ok(Value::Bool(f(&b)))
}

/// Non-empty and every byte satisfies `f`.
fn all_of(b: &[u8], f: fn(&u8) -> bool) -> bool {
    !b.is_empty() && b.iter().all(f)
}

fn isalpha(_vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    test(args, kind, "isalpha", |b| {
        all_of(b, u8::is_ascii_alphabetic)
    })
}

fn isdigit(_vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    test(args, kind, "isdigit", |b| all_of(b, u8::is_ascii_digit))
}

fn isalnum(_vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    test(args, kind, "isalnum", |b| {
        all_of(b, u8::is_ascii_alphanumeric)
    })
}

fn isspace(_vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    test(args, kind, "isspace", |b| all_of(b, |c| algo::is_space(*c)))
}

fn islower(_vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    test(args, kind, "islower", algo::islower)
}

fn isupper(_vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    test(args, kind, "isupper", algo::isupper)
}

fn istitle(_vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    test(args, kind, "istitle", algo::istitle)
}

fn isascii(_vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    test(args, kind, "isascii", <[u8]>::is_ascii)
}

/// center/ljust/rjust: the receiver, the width and the fill byte.
fn justify_args(vm: &mut Vm, args: &[Value], kind: Kind, name: &str) -> PyResult<(Buf, usize, u8)> {
    let b = recv(args, name, kind)?;
    arity(name, &args[1..], 1, 2)?;
    let width = index_value(vm, &args[1])?.max(0) as usize;
    let fill = match args.get(2) {
        None => b' ',
        Some(v) => match bytes_like(v) {
            Some(f) if f.len() == 1 => f[0],
            _ => {
                return Err(PyErr::type_error(format!(
                    "{name}() argument 2 must be a byte string of length 1, not {}",
                    arg_type_name(v)
                )))
            }
        },
    };
    check_size(width as u128)?;
    Ok((b, width, fill))
}

/// `center`, `ljust` (`left` = 0 fill bytes before) and `rjust`.
fn justify(
    vm: &mut Vm,
    args: &[Value],
    kind: Kind,
    name: &str,
    left: fn(usize, usize) -> usize,
) -> PyResult<Value> {
    let (b, width, fill) = justify_args(vm, args, kind, name)?;
    if width <= b.len() {
        return Ok(kind.make_slice(&b));
    }
    Ok(kind.make(algo::pad(&b, width, fill, left(b.len(), width))))
}

fn center(vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    justify(vm, args, kind, "center", algo::center_left)
}

fn ljust(vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    justify(vm, args, kind, "ljust", |_, _| 0)
}

fn rjust(vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    justify(vm, args, kind, "rjust", |len, width| width - len)
}

fn zfill(vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    let b = recv(args, "zfill", kind)?;
    one_arg(&format!("{}.zfill", kind.name()), &args[1..])?;
    let width = index_value(vm, &args[1])?.max(0) as usize;
    check_size(width as u128)?;
    Ok(kind.make(algo::zfill(&b, width)))
}

fn expandtabs(vm: &mut Vm, args: &[Value], kw: Kwargs, kind: Kind) -> PyResult<Value> {
    let b = recv(args, "expandtabs", kind)?;
    let a = merge_kwargs("expandtabs", &args[1..], kw, &["tabsize"])?;
    let tab = int_or(vm, a[0].as_ref(), 8)?;
    // CPython takes the tab size as a C int.
    if i32::try_from(tab).is_err() {
        return Err(PyErr::overflow_error(
            "Python int too large to convert to C int",
        ));
    }
    check_size(algo::expandtabs_len(&b, tab))?;
    Ok(kind.make(algo::expandtabs(&b, tab)))
}

fn removeprefix(_vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    let b = recv(args, "removeprefix", kind)?;
    one_arg(&format!("{}.removeprefix", kind.name()), &args[1..])?;
    let p = must_bytes_like(&args[1])?;
    Ok(kind.make_slice(b.strip_prefix(&p[..]).unwrap_or(&b)))
}

fn removesuffix(_vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    let b = recv(args, "removesuffix", kind)?;
    one_arg(&format!("{}.removesuffix", kind.name()), &args[1..])?;
    let p = must_bytes_like(&args[1])?;
    Ok(kind.make_slice(b.strip_suffix(&p[..]).unwrap_or(&b)))
}

fn decode_method(_vm: &mut Vm, args: &[Value], kw: Kwargs, kind: Kind) -> PyResult<Value> {
    let b = recv(args, "decode", kind)?;
    let a = merge_kwargs("decode", &args[1..], kw, &["encoding", "errors"])?;
    let text_arg = |v: &Option<Value>, what: &str, default: &str| -> PyResult<String> {
        Ok(match v {
            Some(v) => must_str_arg(v, what)?.as_str().to_string(),
            None => default.into(),
        })
    };
    let enc = text_arg(&a[0], "decode() argument 'encoding' must be str", "utf-8")?;
    let errors = text_arg(&a[1], "decode() argument 'errors' must be str", "strict")?;
    Ok(Value::from_string(decode(&b, &enc, &errors)?))
}

/// `hex(sep=None, bytes_per_sep=1)`.
fn hex(vm: &mut Vm, args: &[Value], kw: Kwargs, kind: Kind) -> PyResult<Value> {
    let b = recv(args, "hex", kind)?;
    let a = merge_kwargs("hex", &args[1..], kw, &["sep", "bytes_per_sep"])?;
    let per = int_or(vm, a[1].as_ref(), 1)?;
    let sep = match &a[0] {
        None => None,
        Some(v) => {
            // CPython asks for the length first, then the type.
            if crate::vm::builtins::len_of(vm, v)? != 1 {
                return Err(PyErr::value_error("sep must be length 1."));
            }
            let c = match (str_arg(v), base_value(v)) {
                (Some(s), _) => s.as_str().chars().next(),
                (_, Value::Bytes(b)) => b.first().map(|&c| c as char),
                _ => return Err(PyErr::type_error("sep must be str or bytes.")),
            };
            match c {
                Some(c) if c.is_ascii() => Some(c),
                _ => return Err(PyErr::value_error("sep must be ASCII.")),
            }
        }
    };
    Ok(Value::from_string(algo::hex(&b, sep, per)))
}

/// `translate(table, /, delete=b'')`.
fn translate(_vm: &mut Vm, args: &[Value], kw: Kwargs, kind: Kind) -> PyResult<Value> {
    let b = recv(args, "translate", kind)?;
    let rest = &args[1..];
    if rest.is_empty() {
        return Err(PyErr::type_error(
            "translate() takes at least 1 positional argument (0 given)",
        ));
    }
    if let Some((k, _)) = kw.iter().find(|(k, _)| &**k != "delete") {
        return Err(PyErr::type_error(format!(
            "translate() got an unexpected keyword argument '{k}'"
        )));
    }
    let delete_kw = kw.iter().find(|(k, _)| &**k == "delete").map(|(_, v)| v);
    if rest.len() > 2 || (rest.len() == 2 && delete_kw.is_some()) {
        return Err(PyErr::type_error(format!(
            "translate() takes at most 2 arguments ({} given)",
            rest.len() + delete_kw.is_some() as usize
        )));
    }
    let table = match &rest[0] {
        Value::None => None,
        v => {
            let t = must_bytes_like(v)?;
            if t.len() != 256 {
                return Err(PyErr::value_error(
                    "translation table must be 256 characters long",
                ));
            }
            Some(t)
        }
    };
    let delete = match rest.get(1).or(delete_kw) {
        Some(v) => Some(must_bytes_like(v)?),
        None => None,
    };
    let out = b
        .iter()
        .filter(|c| !delete.as_ref().is_some_and(|d| d.contains(c)))
        .map(|&c| table.as_ref().map_or(c, |t| t[c as usize]))
        .collect();
    Ok(kind.make(out))
}

/// `bytes.maketrans(frm, to)` (a static method: no receiver).
fn maketrans(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    arity("maketrans", args, 2, 2)?;
    let frm = must_bytes_like(&args[0])?;
    let to = must_bytes_like(&args[1])?;
    if frm.len() != to.len() {
        return Err(PyErr::value_error(
            "maketrans arguments must have same length",
        ));
    }
    let mut table: Vec<u8> = (0..=255).collect();
    for (&f, &t) in frm.iter().zip(to.iter()) {
        table[f as usize] = t;
    }
    Ok(Value::Bytes(table.into()))
}

/// `cls.fromhex(s)`: a class method, `args[0]` is the class.
fn fromhex(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let t = types();
    let owner = match &args[0] {
        Value::Class(c) if crate::vm::ops::is_subclass(c, &t.bytearray) => "bytearray",
        _ => "bytes",
    };
    one_arg(&format!("{owner}.fromhex"), &args[1..])?;
    let s = str_arg(&args[1]).ok_or_else(|| {
        PyErr::type_error(format!(
            "fromhex() argument must be str, not {}",
            type_name(&args[1])
        ))
    })?;
    let out = algo::fromhex(s.as_str()).map_err(|i| {
        PyErr::value_error(format!(
            "non-hexadecimal number found in fromhex() arg at position {i}"
        ))
    })?;
    match &args[0] {
        Value::Class(c) if Arc::ptr_eq(c, &t.bytes) => Ok(Value::Bytes(out.into())),
        Value::Class(c) if Arc::ptr_eq(c, &t.bytearray) => Ok(Value::bytearray(out)),
        // A subclass: `cls(result)`, as CPython does.
        cls => {
            let base = match cls {
                Value::Class(c) if crate::vm::ops::is_subclass(c, &t.bytearray) => {
                    Value::bytearray(out)
                }
                _ => Value::Bytes(out.into()),
            };
            vm.call(cls, &[base], &[])
        }
    }
}

fn len(_vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    Ok(Value::Int(recv(args, "__len__", kind)?.len() as i64))
}

/// The receiver as it is (not a copy): the VM's protocol paths do the rest.
fn this_value(args: &[Value], name: &str, kind: Kind) -> PyResult<Value> {
    recv(args, name, kind)?;
    Ok(base_value(&args[0]))
}

fn iter(vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    let b = this_value(args, "__iter__", kind)?;
    vm.iter(&b)
}

fn contains_method(vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    let b = this_value(args, "__contains__", kind)?;
    one_arg(&format!("{}.__contains__", kind.name()), &args[1..])?;
    Ok(Value::Bool(vm.contains(&b, &args[1])?))
}

fn getitem(vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    let b = this_value(args, "__getitem__", kind)?;
    one_arg(&format!("{}.__getitem__", kind.name()), &args[1..])?;
    vm.get_item(&b, &args[1])
}

fn repr(_vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    let b = recv(args, "__repr__", kind)?;
    Ok(Value::from_string(match kind {
        Kind::Bytes => crate::vm::str::bytes_repr(&b),
        // A subclass shows its own name: `MyArray(b'..')`.
        Kind::ByteArray => format!(
            "{}({})",
            type_name(&args[0]),
            crate::vm::str::bytearray_literal(&b)
        ),
    }))
}

fn mod_method(vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
    let b = recv(args, "__mod__", kind)?;
    one_arg(&format!("{}.__mod__", kind.name()), &args[1..])?;
    Ok(kind.make(crate::vm::format::percent_format_bytes(vm, &b, &args[1])?))
}

/// Rich comparisons: bytes compares with bytes only (anything else is
/// NotImplemented, so `b'x' == bytearray(b'x')` asks bytearray), bytearray
/// with any bytes-like object.
fn compare(args: &[Value], kind: Kind, name: &str, op: CompareKind) -> PyResult<Value> {
    let b = recv(args, name, kind)?;
    one_arg(&format!("{}.{name}", kind.name()), &args[1..])?;
    let other = match (kind, base_value(&args[1])) {
        (Kind::Bytes, Value::Bytes(o)) => Buf::Shared(o),
        (Kind::ByteArray, _) => match bytes_like(&args[1]) {
            Some(o) => o,
            None => return Ok(types().not_implemented.clone()),
        },
        _ => return Ok(types().not_implemented.clone()),
    };
    let o = (*b).cmp(&*other);
    Ok(Value::Bool(match op {
        CompareKind::Eq => o.is_eq(),
        CompareKind::Ne => o.is_ne(),
        CompareKind::Lt => o.is_lt(),
        CompareKind::Le => o.is_le(),
        CompareKind::Gt => o.is_gt(),
        _ => o.is_ge(),
    }))
}

macro_rules! comparisons {
    ($($imp:ident => $name:literal, $op:ident;)*) => {
        $(fn $imp(_vm: &mut Vm, args: &[Value], _kw: Kwargs, kind: Kind) -> PyResult<Value> {
            compare(args, kind, $name, CompareKind::$op)
        })*
    };
}

comparisons! {
    eq => "__eq__", Eq;
    ne => "__ne__", Ne;
    lt => "__lt__", Lt;
    le => "__le__", Le;
    gt => "__gt__", Gt;
    ge => "__ge__", Ge;
}

/// `bytes.__hash__` (for subclasses: the hash of the bytes they hold).
fn bytes_hash(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let b = recv(args, "__hash__", Kind::Bytes)?;
    no_args("bytes.__hash__", &args[1..])?;
    let Buf::Shared(b) = b else {
        return Ok(Value::Int(0));
    };
    Ok(Value::Int(vm.hash(&Value::Bytes(b))?))
}

/// One native per type for each shared method (the receiver check names
/// the type, as CPython's descriptors do), and the installer of both sets.
macro_rules! shared_methods {
    ($($name:literal => $imp:ident $(, $kw:ident)?;)*) => {
        mod on_bytes {
            use super::*;
            $(pub fn $imp(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
                super::$imp(vm, args, kw, Kind::Bytes)
            })*
        }
        mod on_bytearray {
            use super::*;
            $(pub fn $imp(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
                super::$imp(vm, args, kw, Kind::ByteArray)
            })*
        }
        /// Install the methods `bytes` and `bytearray` share on `class`.
        fn install_shared(class: &Arc<Class>, kind: Kind) {
            $({
                let f: NativeFn = match kind {
                    Kind::Bytes => on_bytes::$imp,
                    Kind::ByteArray => on_bytearray::$imp,
                };
                let takes_kw = false $(|| stringify!($kw) == "kw")?;
                if takes_kw {
                    method_kw(class, $name, f);
                } else {
                    method(class, $name, f);
                }
            })*
        }
    };
}

shared_methods! {
    "find" => find;
    "rfind" => rfind;
    "index" => index;
    "rindex" => rindex;
    "count" => count;
    "startswith" => startswith;
    "endswith" => endswith;
    "split" => split, kw;
    "rsplit" => rsplit, kw;
    "splitlines" => splitlines, kw;
    "join" => join;
    "replace" => replace;
    "strip" => strip;
    "lstrip" => lstrip;
    "rstrip" => rstrip;
    "partition" => partition;
    "rpartition" => rpartition;
    "upper" => upper;
    "lower" => lower;
    "capitalize" => capitalize;
    "title" => title;
    "swapcase" => swapcase;
    "isalpha" => isalpha;
    "isdigit" => isdigit;
    "isalnum" => isalnum;
    "isspace" => isspace;
    "islower" => islower;
    "isupper" => isupper;
    "istitle" => istitle;
    "isascii" => isascii;
    "center" => center;
    "ljust" => ljust;
    "rjust" => rjust;
    "zfill" => zfill;
    "expandtabs" => expandtabs, kw;
    "removeprefix" => removeprefix;
    "removesuffix" => removesuffix;
    "decode" => decode_method, kw;
    "hex" => hex, kw;
    "translate" => translate, kw;
    "__len__" => len;
    "__iter__" => iter;
    "__contains__" => contains_method;
    "__getitem__" => getitem;
    "__repr__" => repr;
    "__mod__" => mod_method;
    "__eq__" => eq;
    "__ne__" => ne;
    "__lt__" => lt;
    "__le__" => le;
    "__gt__" => gt;
    "__ge__" => ge;
}

/// `bytes(x)`, `bytes(n)`, `bytes(str, encoding[, errors])`.
fn bytes_new(vm: &mut Vm, args: &[Value], kwargs: Kwargs) -> PyResult<Value> {
    let cls = args.first().cloned().unwrap_or(Value::None);
    let a = merge_kwargs(
        "bytes",
        &args[1..],
        kwargs,
        &["source", "encoding", "errors"],
    )?;
    let out = match &a[0] {
        Some(src) => {
            let special = match base_value(src) {
                Value::Instance(inst) => {
                    crate::vm::ops::lookup_with_owner(&inst.class, "__bytes__").is_some()
                }
                _ => false,
            };
            if special && a[1].is_none() && a[2].is_none() {
                let r = vm.call_method(src, "__bytes__", &[])?;
                match base_value(&r) {
                    Value::Bytes(b) => b.to_vec(),
                    _ => {
                        return Err(PyErr::type_error(format!(
                            "__bytes__ returned non-bytes (type {})",
                            type_name(&r)
                        )))
                    }
                }
            } else {
                from_source(vm, src, a[1].as_ref(), a[2].as_ref(), Kind::Bytes)?
            }
        }
        None => no_source(a[1].as_ref(), a[2].as_ref())?,
    };
    crate::vm::number::wrap_for_class(&cls, Value::Bytes(out.into()), &types().bytes)
}

/// `bytes()`/`bytearray()` without a source: empty, unless an encoding or
/// errors came without the string they apply to.
pub fn no_source(encoding: Option<&Value>, errors: Option<&Value>) -> PyResult<Vec<u8>> {
    if encoding.is_some() {
        return Err(PyErr::type_error("encoding without a string argument"));
    }
    if errors.is_some() {
        return Err(PyErr::type_error("errors without a string argument"));
    }
    Ok(Vec::new())
}

/// The bytes `bytes(src, encoding, errors)` or `bytearray(...)` holds.
pub fn from_source(
    vm: &mut Vm,
    src: &Value,
    encoding: Option<&Value>,
    errors: Option<&Value>,
    kind: Kind,
) -> PyResult<Vec<u8>> {
    let fname = kind.name();
    if let Some(enc) = encoding {
        let enc = must_str_arg(enc, &format!("{fname}() argument 'encoding' must be str"))?;
        let Some(text) = str_arg(src) else {
            return Err(PyErr::type_error("encoding without a string argument"));
        };
        let errors = match errors {
            Some(e) => must_str_arg(e, &format!("{fname}() argument 'errors' must be str"))?
                .as_str()
                .to_string(),
            None => "strict".into(),
        };
        return encode(text.as_str(), enc.as_str(), &errors);
    }
    if errors.is_some() {
        return Err(PyErr::type_error(if str_arg(src).is_some() {
            "string argument without an encoding"
        } else {
            "errors without a string argument"
        }));
    }
    if let Some(b) = bytes_like(src) {
        return Ok(b.to_vec());
    }
    let cannot = || {
        PyErr::type_error(format!(
            "cannot convert '{}' object to {fname}",
            type_name(src)
        ))
    };
    match base_value(src) {
        Value::Str(_) => Err(PyErr::type_error("string argument without an encoding")),
        Value::Int(n) => {
            if n < 0 {
                return Err(PyErr::value_error("negative count"));
            }
            check_size(n as u128)?;
            Ok(vec![0; n as usize])
        }
        Value::Bool(b) => Ok(vec![0; b as usize]),
        Value::BigInt(_) => Err(PyErr::overflow_error(
            "cannot fit 'int' into an index-sized integer",
        )),
        Value::Float(_) | Value::None => Err(cannot()),
        Value::Instance(inst)
            if crate::vm::iter::class_lookup(&inst.class, "__index__").is_some() =>
        {
            let n = index_value(vm, src)?;
            from_source(vm, &Value::Int(n), None, None, kind)
        }
        _ => {
            let it = match vm.iter(src) {
                Ok(it) => it,
                Err(e) if e.matches(ExcKind::TypeError) => return Err(cannot()),
                Err(e) => return Err(e),
            };
            let mut out = Vec::new();
            while let Some(item) = vm.next(&it)? {
                out.push(byte_of(vm, &item).map_err(|e| match kind {
                    // bytes() says it in the plural.
                    Kind::Bytes if e.matches(ExcKind::ValueError) => {
                        PyErr::value_error("bytes must be in range(0, 256)")
                    }
                    _ => e,
                })?);
            }
            Ok(out)
        }
    }
}

/// Install the methods of `bytes`, and those `bytearray` shares with it.
pub fn install(t: &Types) {
    let c = &t.bytes;
    constructor(c, bytes_new);
    install_shared(c, Kind::Bytes);
    method(c, "__hash__", bytes_hash);
    install_shared(&t.bytearray, Kind::ByteArray);
    for class in [&t.bytes, &t.bytearray] {
        class_method(class, "fromhex", fromhex);
        let static_fn = crate::vm::builtins::native_no_kwargs(
            "maketrans",
            &format!("{}.maketrans", class.name),
            maketrans,
            false,
        );
        let wrapped = Value::Object(Arc::new(crate::vm::value::Object {
            class: t.staticmethod.clone(),
            kind: crate::vm::value::ObjKind::StaticMethod(static_fn),
        }));
        class.attrs.lock().insert("maketrans".into(), wrapped);
    }
}
