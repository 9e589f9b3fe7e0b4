//! `hmac`: `new`/`HMAC`, `digest` and `compare_digest` over the algorithms of
//! `hashlib` (RustCrypto's `SimpleHmac`). HMAC objects follow the hash
//! objects' lock and GIL protocol (`hashlib::Locked`), as CPython's
//! `_hashlib.HMAC` does.

use std::sync::{Arc, OnceLock};

use hmac::{KeyInit, Mac as _, SimpleHmac};

use crate::stdlib::hashlib::{
    algo_of, buffer_arg, builtin_value, hash_data, hex, Algo, Feed, Locked,
};
use crate::stdlib::{add_functions, native_object, native_property, new_module, set_attr};
use crate::stdlib::{type_name, NativeClass};
use crate::vm::error::{PyErr, PyResult};
use crate::vm::interp::Vm;
use crate::vm::value::{Kwargs, Module, Value};

/// A keyed HMAC state of one algorithm.
#[derive(Clone)]
enum MacState {
    Md5(SimpleHmac<md5::Md5>),
    Sha1(SimpleHmac<sha1::Sha1>),
    Sha224(SimpleHmac<sha2::Sha224>),
    Sha256(SimpleHmac<sha2::Sha256>),
    Sha384(SimpleHmac<sha2::Sha384>),
    Sha512(SimpleHmac<sha2::Sha512>),
    Sha512_224(SimpleHmac<sha2::Sha512_224>),
    Sha512_256(SimpleHmac<sha2::Sha512_256>),
    Sha3_224(SimpleHmac<sha3::Sha3_224>),
    Sha3_256(SimpleHmac<sha3::Sha3_256>),
    Sha3_384(SimpleHmac<sha3::Sha3_384>),
    Sha3_512(SimpleHmac<sha3::Sha3_512>),
}

/// Run `$body` with `$m` bound to the concrete MAC inside `$state`.
macro_rules! each_mac {
    ($state:expr, $m:ident => $body:expr) => {
        match $state {
            MacState::Md5($m) => $body,
            MacState::Sha1($m) => $body,
            MacState::Sha224($m) => $body,
            MacState::Sha256($m) => $body,
            MacState::Sha384($m) => $body,
            MacState::Sha512($m) => $body,
            MacState::Sha512_224($m) => $body,
            MacState::Sha512_256($m) => $body,
            MacState::Sha3_224($m) => $body,
            MacState::Sha3_256($m) => $body,
            MacState::Sha3_384($m) => $body,
            MacState::Sha3_512($m) => $body,
        }
    };
}

/// `SimpleHmac` takes keys of any length: `new_from_slice` cannot fail.
fn keyed<M: KeyInit>(key: &[u8]) -> Option<M> {
    M::new_from_slice(key).ok()
}

impl MacState {
    fn new(algo: Algo, key: &[u8]) -> Option<MacState> {
        Some(match algo {
            Algo::Md5 => MacState::Md5(keyed(key)?),
            Algo::Sha1 => MacState::Sha1(keyed(key)?),
            Algo::Sha224 => MacState::Sha224(keyed(key)?),
            Algo::Sha256 => MacState::Sha256(keyed(key)?),
            Algo::Sha384 => MacState::Sha384(keyed(key)?),
            Algo::Sha512 => MacState::Sha512(keyed(key)?),
            Algo::Sha512_224 => MacState::Sha512_224(keyed(key)?),
            Algo::Sha512_256 => MacState::Sha512_256(keyed(key)?),
            Algo::Sha3_224 => MacState::Sha3_224(keyed(key)?),
            Algo::Sha3_256 => MacState::Sha3_256(keyed(key)?),
            Algo::Sha3_384 => MacState::Sha3_384(keyed(key)?),
            Algo::Sha3_512 => MacState::Sha3_512(keyed(key)?),
        })
    }

    /// The MAC so far; the state goes on accepting data.
    fn digest(&self) -> Vec<u8> {
        each_mac!(self, m => m.clone().finalize().into_bytes().to_vec())
    }
}

impl Feed for MacState {
    fn feed(&mut self, data: &[u8]) {
        each_mac!(self, m => m.update(data))
    }
}

/// The state of one `hmac.HMAC` object.
struct HmacObj {
    algo: Algo,
    state: Locked<MacState>,
}

fn hmac_class() -> &'static NativeClass {
    static CLASS: OnceLock<NativeClass> = OnceLock::new();
    CLASS.get_or_init(|| {
        let nc = NativeClass::new(
            "HMAC",
            "hmac",
            &[
                ("update", hmac_update),
                ("digest", hmac_digest_method),
                ("hexdigest", hmac_hexdigest),
                ("copy", hmac_copy),
            ],
            &[("__new__", hmac_class_new)],
        );
        {
            let mut attrs = nc.class.attrs.lock();
            attrs.insert("blocksize".into(), Value::Int(64));
            attrs.insert(
                "name".into(),
                native_property("name", "HMAC.name", hmac_name),
            );
            attrs.insert(
                "digest_size".into(),
                native_property("digest_size", "HMAC.digest_size", hmac_digest_size),
            );
            attrs.insert(
                "block_size".into(),
                native_property("block_size", "HMAC.block_size", hmac_block_size),
            );
        }
        nc
    })
}

fn this(args: &[Value]) -> PyResult<&HmacObj> {
    crate::stdlib::downcast::<HmacObj>(args.first().unwrap_or(&Value::None))
        .ok_or_else(|| PyErr::type_error("descriptor requires a 'hmac.HMAC' object"))
}

/// The algorithm named by `digestmod`: a name, a hashlib constructor, a
/// callable making a hash object, or a module with `new` (CPython's
/// `_init_old` calls `digestmod.new(b'')`).
fn digestmod_algo(vm: &mut Vm, digestmod: &Value) -> PyResult<Algo> {
    if !vm.is_true(digestmod)? {
        return Err(PyErr::type_error("Missing required parameter 'digestmod'."));
    }
    algo_from(vm, digestmod)
}

/// The algorithm of `digestmod` once known to be given.
fn algo_from(vm: &mut Vm, digestmod: &Value) -> PyResult<Algo> {
    if let Value::Str(s) = builtin_value(digestmod) {
        let name = s.as_str();
        return Algo::from_name(name)
            .ok_or_else(|| PyErr::value_error(format!("unsupported hash type {name}")));
    }
    if let Some(algo) = algo_of(digestmod) {
        return Ok(algo);
    }
    let made = if crate::vm::builtins::is_callable(digestmod) {
        vm.call(digestmod, &[], &[])?
    } else {
        let new = vm.get_attr(digestmod, "new")?;
        vm.call(&new, &[Value::Bytes(Arc::new(Vec::new()))], &[])?
    };
    algo_of(&made).ok_or_else(|| {
        PyErr::type_error(format!(
            "digestmod must make a hashlib hash object, not '{}'",
            type_name(&made)
        ))
    })
}

/// `HMAC(key, msg=None, digestmod='')`, for `hmac.new` and the class.
fn make_hmac(vm: &mut Vm, func: &str, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    const NAMES: [&str; 3] = ["key", "msg", "digestmod"];
    if args.len() > 3 {
        return Err(PyErr::type_error(format!(
            "{func}() takes from 1 to 3 positional arguments but {} were given",
            args.len()
        )));
    }
    let slots = crate::stdlib::bind_args(func, NAMES, args, kw)?;
    let Some(key) = slots[0] else {
        return Err(PyErr::type_error(format!(
            "{func}() missing 1 required positional argument: 'key'"
        )));
    };
    let key = match builtin_value(key) {
        Value::Bytes(b) => b,
        Value::ByteArray(b) => Arc::new(b.data.lock().clone()),
        _ => {
            return Err(PyErr::type_error(format!(
                "key: expected bytes or bytearray, but got '{}'",
                type_name(key)
            )))
        }
    };
    let empty = Value::str("");
    let algo = digestmod_algo(vm, slots[2].unwrap_or(&empty))?;
    let msg = match slots[1] {
        None | Some(Value::None) => None,
        Some(m) => Some(hash_data(m)?),
    };
    let state =
        MacState::new(algo, &key).ok_or_else(|| PyErr::value_error("invalid HMAC key length"))?;
    let state = Locked::new(state);
    if let Some(msg) = msg {
        // Unlike a new hash object, a new HMAC object takes its message as
        // an update: a big one marks it threaded (`_hmac_update`).
        state.update(vm, &msg);
    }
    Ok(native_object(&hmac_class().class, HmacObj { algo, state }))
}

fn hmac_new(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    make_hmac(vm, "new", args, kw)
}

fn hmac_class_new(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    make_hmac(vm, "HMAC.__init__", args.get(1..).unwrap_or(&[]), kw)
}

fn hmac_update(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let me = this(args)?;
    let mut msg = args.get(1);
    for (k, v) in kw {
        if &**k != "msg" {
            return Err(PyErr::type_error(format!(
                "HMAC.update() got an unexpected keyword argument '{k}'"
            )));
        }
        if msg.is_some() {
            return Err(PyErr::type_error(
                "HMAC.update() got multiple values for argument 'msg'",
            ));
        }
        msg = Some(v);
    }
    if args.len() > 2 {
        return Err(PyErr::type_error(format!(
            "HMAC.update() takes 2 positional arguments but {} were given",
            args.len()
        )));
    }
    let Some(msg) = msg else {
        return Err(PyErr::type_error(
            "HMAC.update() missing 1 required positional argument: 'msg'",
        ));
    };
    let data = hash_data(msg)?;
    me.state.update(vm, &data);
    Ok(Value::None)
}

/// A method taking only self.
fn no_args<'a>(method: &str, args: &'a [Value], kw: Kwargs) -> PyResult<&'a HmacObj> {
    let me = this(args)?;
    if let Some((k, _)) = kw.first() {
        return Err(PyErr::type_error(format!(
            "HMAC.{method}() got an unexpected keyword argument '{k}'"
        )));
    }
    if args.len() > 1 {
        return Err(PyErr::type_error(format!(
            "HMAC.{method}() takes 1 positional argument but {} were given",
            args.len()
        )));
    }
    Ok(me)
}

fn hmac_digest_method(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let me = no_args("digest", args, kw)?;
    let digest = me.state.lock(vm).digest();
    Ok(Value::Bytes(Arc::new(digest)))
}

fn hmac_hexdigest(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let me = no_args("hexdigest", args, kw)?;
    let digest = me.state.lock(vm).digest();
    Ok(Value::from_string(hex(&digest)))
}

fn hmac_copy(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let me = no_args("copy", args, kw)?;
    let state = me.state.lock(vm).clone();
    Ok(native_object(
        &hmac_class().class,
        HmacObj {
            algo: me.algo,
            state: Locked::new(state),
        },
    ))
}

fn hmac_name(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::from_string(format!(
        "hmac-{}",
        this(args)?.algo.name()
    )))
}

fn hmac_digest_size(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::Int(this(args)?.algo.digest_size() as i64))
}

fn hmac_block_size(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::Int(this(args)?.algo.block_size() as i64))
}

/// `hmac.digest(key, msg, digest)`: one shot, with the GIL released.
fn hmac_digest(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    const NAMES: [&str; 3] = ["key", "msg", "digest"];
    if args.len() > 3 {
        return Err(PyErr::type_error(format!(
            "digest() takes 3 positional arguments but {} were given",
            args.len()
        )));
    }
    let slots = crate::stdlib::bind_args("digest", NAMES, args, kw)?;
    let missing: Vec<String> = NAMES
        .iter()
        .zip(&slots)
        .filter(|(_, s)| s.is_none())
        .map(|(n, _)| format!("'{n}'"))
        .collect();
    let [Some(key), Some(msg), Some(digest)] = slots else {
        let list = match missing.as_slice() {
            [one] => one.clone(),
            [a, b] => format!("{a} and {b}"),
            [init @ .., last] => format!("{}, and {last}", init.join(", ")),
            [] => String::new(),
        };
        return Err(PyErr::type_error(format!(
            "digest() missing {} required positional argument{}: {list}",
            missing.len(),
            if missing.len() == 1 { "" } else { "s" }
        )));
    };
    let algo = algo_from(vm, digest)?;
    let key = buffer_arg(key)?;
    let msg = buffer_arg(msg)?;
    let mut state =
        MacState::new(algo, &key).ok_or_else(|| PyErr::value_error("invalid HMAC key length"))?;
    let out = vm.allow_threads(|| {
        state.feed(&msg);
        state.digest()
    });
    Ok(Value::Bytes(Arc::new(out)))
}

/// `hmac.compare_digest(a, b)`: equality in time independent of where the
/// inputs differ.
fn compare_digest(_vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    if !kw.is_empty() {
        return Err(PyErr::type_error(
            "_hashlib.compare_digest() takes no keyword arguments",
        ));
    }
    if args.len() != 2 {
        return Err(PyErr::type_error(format!(
            "compare_digest expected 2 arguments, got {}",
            args.len()
        )));
    }
    let (a, b) = (&args[0], &args[1]);
    let equal = match (builtin_value(a), builtin_value(b)) {
        (Value::Str(x), Value::Str(y)) => {
            if !x.as_str().is_ascii() || !y.as_str().is_ascii() {
                return Err(PyErr::type_error(
                    "comparing strings with non-ASCII characters is not supported",
                ));
            }
            constant_time_eq(x.as_str().as_bytes(), y.as_str().as_bytes())
        }
        _ => {
            let bytes_like = |v: &Value| matches!(builtin_value(v), Value::Bytes(_));
            if !bytes_like(a) && !bytes_like(b) {
                return Err(PyErr::type_error(format!(
                    "unsupported operand types(s) or combination of types: '{}' and '{}'",
                    type_name(a),
                    type_name(b)
                )));
            }
            let x = buffer_arg(a)?;
            let y = buffer_arg(b)?;
            constant_time_eq(&x, &y)
        }
    };
    Ok(Value::Bool(equal))
}

/// `_tscmp`: looks at every byte of `b` whatever the lengths and contents.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut result = u8::from(a.len() != b.len());
    let left = if a.len() == b.len() { a } else { b };
    for (x, y) in left.iter().zip(b) {
        result |= x ^ y;
    }
    result == 0
}

pub fn make(_vm: &mut Vm) -> PyResult<Arc<Module>> {
    let m = new_module("hmac");
    add_functions(
        &m,
        &[
            ("new", hmac_new),
            ("digest", hmac_digest),
            ("compare_digest", compare_digest),
        ],
    );
    set_attr(&m, "HMAC", Value::Class(hmac_class().class.clone()));
    set_attr(&m, "digest_size", Value::None);
    set_attr(
        &m,
        "__all__",
        Value::tuple(vec![
            Value::str("new"),
            Value::str("digest"),
            Value::str("HMAC"),
            Value::str("compare_digest"),
        ]),
    );
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_4231_case_2() {
        let mut m = MacState::new(Algo::Sha256, b"Jefe").unwrap();
        m.feed(b"what do ya want for nothing?");
        assert_eq!(
            hex(&m.digest()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn constant_time_eq_compares_lengths_and_bytes() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
