//! The methods `bytes` and `bytearray` share, written once over `&[u8]`
//! (the algorithms are in `bytes_algo`) and installed on both types: each
//! builds its results in the receiver's type.

use std::sync::Arc;

use crate::compile::code::CompareKind;
use crate::vm::builtins::{
    arity, base_value, descriptor_error, index_value, method, method_kw, no_args, one_arg,
    type_name,
};
use crate::vm::bytes::{byte_range_error, bytes_like, must_bytes_like, Buf, Kind};
use crate::vm::bytes_algo as algo;
use crate::vm::error::{ExcKind, PyErr, PyResult};
use crate::vm::interp::Vm;
use crate::vm::number::int_ref;
use crate::vm::str::{
    adjust_range, arg_type_name, check_size, decode, merge_kwargs, must_str_arg, opt_index, str_arg,
};
use crate::vm::types::types;
use crate::vm::value::{Class, Kwargs, NativeFn, Value};

/// The receiver of a shared method, which must be of `kind`'s type.
pub(crate) fn recv(args: &[Value], name: &str, kind: Kind) -> PyResult<Buf> {
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

/// One native per type for each shared method (the receiver check names
/// the type, as CPython's descriptors do), and the installer of both sets;
/// `method_kw` marks the methods that parse keyword arguments.
macro_rules! shared_methods {
    ($($name:literal => $imp:ident, $install:ident;)*) => {
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
        pub(crate) fn install_shared(class: &Arc<Class>, kind: Kind) {
            $({
                let f: NativeFn = match kind {
                    Kind::Bytes => on_bytes::$imp,
                    Kind::ByteArray => on_bytearray::$imp,
                };
                $install(class, $name, f);
            })*
        }
    };
}

shared_methods! {
    "find" => find, method;
    "rfind" => rfind, method;
    "index" => index, method;
    "rindex" => rindex, method;
    "count" => count, method;
    "startswith" => startswith, method;
    "endswith" => endswith, method;
    "split" => split, method_kw;
    "rsplit" => rsplit, method_kw;
    "splitlines" => splitlines, method_kw;
    "join" => join, method;
    "replace" => replace, method;
    "strip" => strip, method;
    "lstrip" => lstrip, method;
    "rstrip" => rstrip, method;
    "partition" => partition, method;
    "rpartition" => rpartition, method;
    "upper" => upper, method;
    "lower" => lower, method;
    "capitalize" => capitalize, method;
    "title" => title, method;
    "swapcase" => swapcase, method;
    "isalpha" => isalpha, method;
    "isdigit" => isdigit, method;
    "isalnum" => isalnum, method;
    "isspace" => isspace, method;
    "islower" => islower, method;
    "isupper" => isupper, method;
    "istitle" => istitle, method;
    "isascii" => isascii, method;
    "center" => center, method;
    "ljust" => ljust, method;
    "rjust" => rjust, method;
    "zfill" => zfill, method;
    "expandtabs" => expandtabs, method_kw;
    "removeprefix" => removeprefix, method;
    "removesuffix" => removesuffix, method;
    "decode" => decode_method, method_kw;
    "hex" => hex, method_kw;
    "translate" => translate, method_kw;
    "__len__" => len, method;
    "__iter__" => iter, method;
    "__contains__" => contains_method, method;
    "__getitem__" => getitem, method;
    "__repr__" => repr, method;
    "__mod__" => mod_method, method;
    "__eq__" => eq, method;
    "__ne__" => ne, method;
    "__lt__" => lt, method;
    "__le__" => le, method;
    "__gt__" => gt, method;
    "__ge__" => ge, method;
}
