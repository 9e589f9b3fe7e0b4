//! `bytes`: the bytes-like values (bytes, bytearray and their subclasses)
//! as the rest of the VM reads them, construction, and the installation of
//! the methods it shares with `bytearray` (in `bytes_methods`).

use std::ops::Deref;
use std::sync::Arc;

use crate::vm::builtins::{
    arity, base_value, class_method, constructor, index_value, method, no_args, one_arg, type_name,
};
use crate::vm::bytes_algo as algo;
use crate::vm::bytes_methods::{install_shared, recv};
use crate::vm::error::{ExcKind, PyErr, PyResult};
use crate::vm::interp::Vm;
use crate::vm::number::int_ref;
use crate::vm::str::{check_size, encode, merge_kwargs, must_str_arg, str_arg};
use crate::vm::types::{types, Types};
use crate::vm::value::{Kwargs, Value};

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

pub(crate) fn byte_range_error() -> PyErr {
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
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Bytes => "bytes",
            Kind::ByteArray => "bytearray",
        }
    }

    /// A new value of this type.
    pub(crate) fn make(self, v: Vec<u8>) -> Value {
        match self {
            Kind::Bytes => Value::Bytes(v.into()),
            Kind::ByteArray => Value::bytearray(v),
        }
    }

    pub(crate) fn make_slice(self, v: &[u8]) -> Value {
        self.make(v.to_vec())
    }
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

/// `bytes.__hash__` (for subclasses: the hash of the bytes they hold).
fn bytes_hash(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let b = recv(args, "__hash__", Kind::Bytes)?;
    no_args("bytes.__hash__", &args[1..])?;
    let Buf::Shared(b) = b else {
        return Ok(Value::Int(0));
    };
    Ok(Value::Int(vm.hash(&Value::Bytes(b))?))
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
