//! `hashlib`: md5, sha1, the sha2 and sha3 families (RustCrypto crates) behind
//! CPython's `_hashlib.HASH` objects, and `pbkdf2_hmac`.
//!
//! As in CPython's `_hashopenssl.c`, hashing 2048 bytes or more releases the
//! GIL, so threads hashing big buffers run in parallel. A hash object's state
//! sits behind its own mutex (the GIL is not relied on: it may be off); the
//! first big `update` marks the object "threaded" (CPython allocates its lock
//! then), after which every `update` releases the GIL while it waits for and
//! holds that mutex.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use parking_lot::{Mutex, MutexGuard};
use sha2::Digest;

use crate::stdlib::{
    add_functions, native, native_object, native_property, new_module, set_attr, type_name,
    NativeClass,
};
use crate::vm::error::{ExcKind, PyErr, PyResult};
use crate::vm::interp::Vm;
use crate::vm::types::types;
use crate::vm::value::{Class, InstanceBase, Kwargs, Module, PySet, Value};

/// `HASHLIB_GIL_MINSIZE`: data this long is hashed with the GIL released.
const GIL_MINSIZE: usize = 2048;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Algo {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    Sha512_224,
    Sha512_256,
    Sha3_224,
    Sha3_256,
    Sha3_384,
    Sha3_512,
}

const ALGOS: [Algo; 12] = [
    Algo::Md5,
    Algo::Sha1,
    Algo::Sha224,
    Algo::Sha256,
    Algo::Sha384,
    Algo::Sha512,
    Algo::Sha512_224,
    Algo::Sha512_256,
    Algo::Sha3_224,
    Algo::Sha3_256,
    Algo::Sha3_384,
    Algo::Sha3_512,
];

/// The subset of CPython's `algorithms_guaranteed` implemented here (no
/// blake2, no shake).
const GUARANTEED: [Algo; 10] = [
    Algo::Md5,
    Algo::Sha1,
    Algo::Sha224,
    Algo::Sha256,
    Algo::Sha384,
    Algo::Sha512,
    Algo::Sha3_224,
    Algo::Sha3_256,
    Algo::Sha3_384,
    Algo::Sha3_512,
];

impl Algo {
    /// The Python name (`HASH.name`).
    pub fn name(self) -> &'static str {
        match self {
            Algo::Md5 => "md5",
            Algo::Sha1 => "sha1",
            Algo::Sha224 => "sha224",
            Algo::Sha256 => "sha256",
            Algo::Sha384 => "sha384",
            Algo::Sha512 => "sha512",
            Algo::Sha512_224 => "sha512_224",
            Algo::Sha512_256 => "sha512_256",
            Algo::Sha3_224 => "sha3_224",
            Algo::Sha3_256 => "sha3_256",
            Algo::Sha3_384 => "sha3_384",
            Algo::Sha3_512 => "sha3_512",
        }
    }

    pub fn digest_size(self) -> usize {
        match self {
            Algo::Md5 => 16,
            Algo::Sha1 => 20,
            Algo::Sha224 | Algo::Sha512_224 | Algo::Sha3_224 => 28,
            Algo::Sha256 | Algo::Sha512_256 | Algo::Sha3_256 => 32,
            Algo::Sha384 | Algo::Sha3_384 => 48,
            Algo::Sha512 | Algo::Sha3_512 => 64,
        }
    }

    pub fn block_size(self) -> usize {
        match self {
            Algo::Md5 | Algo::Sha1 | Algo::Sha224 | Algo::Sha256 => 64,
            Algo::Sha384 | Algo::Sha512 | Algo::Sha512_224 | Algo::Sha512_256 => 128,
            Algo::Sha3_224 => 144,
            Algo::Sha3_256 => 136,
            Algo::Sha3_384 => 104,
            Algo::Sha3_512 => 72,
        }
    }

    /// The OpenSSL names (matched ignoring case) that CPython falls back to
    /// when a name is not one of its own.
    fn openssl_names(self) -> &'static [&'static str] {
        match self {
            Algo::Md5 => &["MD5", "SSL3-MD5", "1.2.840.113549.2.5"],
            Algo::Sha1 => &["SHA1", "SHA-1", "SSL3-SHA1", "1.3.14.3.2.26"],
            Algo::Sha224 => &["SHA2-224", "SHA-224", "SHA224", "2.16.840.1.101.3.4.2.4"],
            Algo::Sha256 => &["SHA2-256", "SHA-256", "SHA256", "2.16.840.1.101.3.4.2.1"],
            Algo::Sha384 => &["SHA2-384", "SHA-384", "SHA384", "2.16.840.1.101.3.4.2.2"],
            Algo::Sha512 => &["SHA2-512", "SHA-512", "SHA512", "2.16.840.1.101.3.4.2.3"],
            Algo::Sha512_224 => &[
                "SHA2-512/224",
                "SHA-512/224",
                "SHA512-224",
                "2.16.840.1.101.3.4.2.5",
            ],
            Algo::Sha512_256 => &[
                "SHA2-512/256",
                "SHA-512/256",
                "SHA512-256",
                "2.16.840.1.101.3.4.2.6",
            ],
            Algo::Sha3_224 => &["SHA3-224", "2.16.840.1.101.3.4.2.7"],
            Algo::Sha3_256 => &["SHA3-256", "2.16.840.1.101.3.4.2.8"],
            Algo::Sha3_384 => &["SHA3-384", "2.16.840.1.101.3.4.2.9"],
            Algo::Sha3_512 => &["SHA3-512", "2.16.840.1.101.3.4.2.10"],
        }
    }

    /// CPython's lookup: its own names and upper-case aliases exactly
    /// (`sha256`, `SHA256`, `SHA512_224`), then OpenSSL's names ignoring case
    /// (`sha-256`, `SHA3-256`; not `SHA3_256`).
    pub fn from_name(name: &str) -> Option<Algo> {
        let exact = ALGOS.iter().find(|a| {
            let py = a.name();
            name == py || (!py.starts_with("sha3") && name == py.to_ascii_uppercase())
        });
        exact.copied().or_else(|| {
            ALGOS.iter().copied().find(|a| {
                a.openssl_names()
                    .iter()
                    .any(|n| n.eq_ignore_ascii_case(name))
            })
        })
    }

    fn hasher(self) -> Hasher {
        match self {
            Algo::Md5 => Hasher::Md5(Default::default()),
            Algo::Sha1 => Hasher::Sha1(Default::default()),
            Algo::Sha224 => Hasher::Sha224(Default::default()),
            Algo::Sha256 => Hasher::Sha256(Default::default()),
            Algo::Sha384 => Hasher::Sha384(Default::default()),
            Algo::Sha512 => Hasher::Sha512(Default::default()),
            Algo::Sha512_224 => Hasher::Sha512_224(Default::default()),
            Algo::Sha512_256 => Hasher::Sha512_256(Default::default()),
            Algo::Sha3_224 => Hasher::Sha3_224(Default::default()),
            Algo::Sha3_256 => Hasher::Sha3_256(Default::default()),
            Algo::Sha3_384 => Hasher::Sha3_384(Default::default()),
            Algo::Sha3_512 => Hasher::Sha3_512(Default::default()),
        }
    }
}

/// A running hash of one algorithm.
#[derive(Clone)]
enum Hasher {
    Md5(md5::Md5),
    Sha1(sha1::Sha1),
    Sha224(sha2::Sha224),
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
    Sha512_224(sha2::Sha512_224),
    Sha512_256(sha2::Sha512_256),
    Sha3_224(sha3::Sha3_224),
    Sha3_256(sha3::Sha3_256),
    Sha3_384(sha3::Sha3_384),
    Sha3_512(sha3::Sha3_512),
}

/// Run `$body` with `$h` bound to the concrete hasher inside `$state`.
macro_rules! each_hasher {
    ($state:expr, $h:ident => $body:expr) => {
        match $state {
            Hasher::Md5($h) => $body,
            Hasher::Sha1($h) => $body,
            Hasher::Sha224($h) => $body,
            Hasher::Sha256($h) => $body,
            Hasher::Sha384($h) => $body,
            Hasher::Sha512($h) => $body,
            Hasher::Sha512_224($h) => $body,
            Hasher::Sha512_256($h) => $body,
            Hasher::Sha3_224($h) => $body,
            Hasher::Sha3_256($h) => $body,
            Hasher::Sha3_384($h) => $body,
            Hasher::Sha3_512($h) => $body,
        }
    };
}

impl Hasher {
    fn update(&mut self, data: &[u8]) {
        each_hasher!(self, h => Digest::update(h, data))
    }

    /// The digest so far; the state goes on accepting data.
    fn digest(&self) -> Vec<u8> {
        each_hasher!(self, h => h.clone().finalize().to_vec())
    }
}

/// PBKDF2 with HMAC over `algo`, into `out`.
fn pbkdf2(algo: Algo, password: &[u8], salt: &[u8], rounds: u32, out: &mut [u8]) {
    use hmac::SimpleHmac;
    use pbkdf2::pbkdf2 as run;
    // SimpleHmac takes keys of any length, so this cannot fail.
    let _ = match algo {
        Algo::Md5 => run::<SimpleHmac<md5::Md5>>(password, salt, rounds, out),
        Algo::Sha1 => run::<SimpleHmac<sha1::Sha1>>(password, salt, rounds, out),
        Algo::Sha224 => run::<SimpleHmac<sha2::Sha224>>(password, salt, rounds, out),
        Algo::Sha256 => run::<SimpleHmac<sha2::Sha256>>(password, salt, rounds, out),
        Algo::Sha384 => run::<SimpleHmac<sha2::Sha384>>(password, salt, rounds, out),
        Algo::Sha512 => run::<SimpleHmac<sha2::Sha512>>(password, salt, rounds, out),
        Algo::Sha512_224 => run::<SimpleHmac<sha2::Sha512_224>>(password, salt, rounds, out),
        Algo::Sha512_256 => run::<SimpleHmac<sha2::Sha512_256>>(password, salt, rounds, out),
        Algo::Sha3_224 => run::<SimpleHmac<sha3::Sha3_224>>(password, salt, rounds, out),
        Algo::Sha3_256 => run::<SimpleHmac<sha3::Sha3_256>>(password, salt, rounds, out),
        Algo::Sha3_384 => run::<SimpleHmac<sha3::Sha3_384>>(password, salt, rounds, out),
        Algo::Sha3_512 => run::<SimpleHmac<sha3::Sha3_512>>(password, salt, rounds, out),
    };
}

impl Feed for Hasher {
    fn feed(&mut self, data: &[u8]) {
        self.update(data);
    }
}

/// What a hash or HMAC object feeds its data to.
pub trait Feed: Send {
    fn feed(&mut self, data: &[u8]);
}

/// The running state of a hash or HMAC object behind the object's own lock,
/// with CPython's GIL protocol around it.
pub struct Locked<S> {
    state: Mutex<S>,
    /// Set by the first update of `GIL_MINSIZE` bytes or more (when CPython
    /// allocates the object's lock); from then on every update releases the GIL.
    threaded: AtomicBool,
}

/// Whether an update of `len` bytes releases the GIL.
fn releases_gil(threaded: bool, len: usize) -> bool {
    threaded || len >= GIL_MINSIZE
}

impl<S: Feed> Locked<S> {
    pub fn new(state: S) -> Locked<S> {
        Locked {
            state: Mutex::new(state),
            threaded: AtomicBool::new(false),
        }
    }

    /// The state, waiting with the GIL released if another thread holds it
    /// (`ENTER_HASHLIB`).
    pub fn lock<'a>(&'a self, vm: &mut Vm) -> MutexGuard<'a, S> {
        if let Some(guard) = self.state.try_lock() {
            return guard;
        }
        vm.allow_threads(|| self.state.lock())
    }

    pub fn update(&self, vm: &mut Vm, data: &[u8]) {
        let threaded = self.threaded.load(Ordering::Relaxed);
        if releases_gil(threaded, data.len()) {
            if !threaded {
                self.threaded.store(true, Ordering::Relaxed);
            }
            // Only this object's mutex and a byte slice: no interpreter object.
            vm.allow_threads(|| self.state.lock().feed(data));
        } else {
            self.lock(vm).feed(data);
        }
    }
}

/// The state of one `_hashlib.HASH` object.
pub struct HashObj {
    algo: Algo,
    state: Locked<Hasher>,
}

/// Feed `data` to a new hash state, with the GIL released for big data but
/// without marking the object threaded (`EVP_new_impl`).
fn feed_new<S: Feed>(vm: &mut Vm, state: &mut S, data: &[u8]) {
    if data.len() >= GIL_MINSIZE {
        vm.allow_threads(|| state.feed(data));
    } else {
        state.feed(data);
    }
}

// ---------------------------------------------------------------------------
// Arguments.

/// The built-in value an instance of a subclass of `bytes`/`str`/... wraps,
/// else `v` itself.
pub fn builtin_value(v: &Value) -> Value {
    match v {
        Value::Instance(inst) => match &inst.base {
            InstanceBase::Builtin(inner) => inner.lock().clone(),
            _ => v.clone(),
        },
        _ => v.clone(),
    }
}

/// The bytes of a bytes-like argument (shared, not copied), or CPython's
/// `GET_BUFFER_VIEW_OR_ERROUT` error.
pub fn hash_data(v: &Value) -> PyResult<Arc<Vec<u8>>> {
    match builtin_value(v) {
        Value::Bytes(b) => Ok(b),
        // A snapshot: the hashing may run with the GIL released.
        Value::ByteArray(b) => Ok(Arc::new(b.data.lock().clone())),
        Value::Str(_) => Err(PyErr::type_error("Strings must be encoded before hashing")),
        _ => Err(PyErr::type_error(
            "object supporting the buffer API required",
        )),
    }
}

/// The bytes of a `Py_buffer` argument (`pbkdf2_hmac`'s password and salt).
pub fn buffer_arg(v: &Value) -> PyResult<Arc<Vec<u8>>> {
    match builtin_value(v) {
        Value::Bytes(b) => Ok(b),
        Value::ByteArray(b) => Ok(Arc::new(b.data.lock().clone())),
        _ => Err(PyErr::type_error(format!(
            "a bytes-like object is required, not '{}'",
            type_name(v)
        ))),
    }
}

/// Argument Clinic's "given by name and position" error.
pub fn given_twice(func: &str, name: &str, pos: usize) -> PyErr {
    PyErr::type_error(format!(
        "argument for {func}() given by name ('{name}') and position ({pos})"
    ))
}

pub fn invalid_keyword(func: &str, name: &str) -> PyErr {
    PyErr::type_error(format!(
        "'{name}' is an invalid keyword argument for {func}()"
    ))
}

/// `openssl_<algo>(string=b'', *, usedforsecurity=True)`: the data, if any.
fn ctor_data<'a>(
    vm: &mut Vm,
    func: &str,
    args: &'a [Value],
    kw: Kwargs<'a>,
) -> PyResult<Option<&'a Value>> {
    if args.len() > 1 {
        return Err(PyErr::type_error(format!(
            "{func}() takes at most 1 positional argument ({} given)",
            args.len()
        )));
    }
    let mut data = args.first();
    for (k, v) in kw {
        match &**k {
            "string" if !args.is_empty() => return Err(given_twice(func, "string", 1)),
            "string" => data = Some(v),
            "usedforsecurity" => {
                vm.is_true(v)?;
            }
            other => return Err(invalid_keyword(func, other)),
        }
    }
    Ok(data)
}

// ---------------------------------------------------------------------------
// Hash objects.

fn hash_class() -> &'static NativeClass {
    static CLASS: OnceLock<NativeClass> = OnceLock::new();
    CLASS.get_or_init(|| {
        let nc = NativeClass::new(
            "HASH",
            "_hashlib",
            &[
                ("update", hash_update),
                ("digest", hash_digest),
                ("hexdigest", hash_hexdigest),
                ("copy", hash_copy),
                ("__repr__", hash_repr),
                ("__setattr__", hash_setattr),
                ("__delattr__", hash_delattr),
                ("__getattr__", hash_getattr),
            ],
            &[("__new__", hash_new_instance)],
        );
        {
            let mut attrs = nc.class.attrs.lock();
            attrs.insert(
                "name".into(),
                native_property("name", "HASH.name", hash_name),
            );
            attrs.insert(
                "digest_size".into(),
                native_property("digest_size", "HASH.digest_size", hash_digest_size),
            );
            attrs.insert(
                "block_size".into(),
                native_property("block_size", "HASH.block_size", hash_block_size),
            );
        }
        nc
    })
}

fn new_hash(algo: Algo, hasher: Hasher) -> Value {
    native_object(
        &hash_class().class,
        HashObj {
            algo,
            state: Locked::new(hasher),
        },
    )
}

/// A new hash object of `algo` fed with `data`.
fn construct(vm: &mut Vm, algo: Algo, data: Option<&[u8]>) -> Value {
    let mut hasher = algo.hasher();
    if let Some(data) = data {
        feed_new(vm, &mut hasher, data);
    }
    new_hash(algo, hasher)
}

fn this(args: &[Value]) -> PyResult<&HashObj> {
    crate::stdlib::downcast::<HashObj>(args.first().unwrap_or(&Value::None))
        .ok_or_else(|| PyErr::type_error("descriptor requires a '_hashlib.HASH' object"))
}

/// A method taking no arguments: its receiver.
fn no_args<'a>(method: &str, args: &'a [Value], kw: Kwargs) -> PyResult<&'a HashObj> {
    let me = this(args)?;
    if !kw.is_empty() {
        return Err(PyErr::type_error(format!(
            "HASH.{method}() takes no keyword arguments"
        )));
    }
    if args.len() > 1 {
        return Err(PyErr::type_error(format!(
            "HASH.{method}() takes no arguments ({} given)",
            args.len() - 1
        )));
    }
    Ok(me)
}

fn hash_new_instance(_vm: &mut Vm, _args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Err(PyErr::type_error("cannot create '_hashlib.HASH' instances"))
}

fn hash_update(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let me = this(args)?;
    if !kw.is_empty() {
        return Err(PyErr::type_error(
            "HASH.update() takes no keyword arguments",
        ));
    }
    if args.len() != 2 {
        return Err(PyErr::type_error(format!(
            "HASH.update() takes exactly one argument ({} given)",
            args.len() - 1
        )));
    }
    let data = hash_data(&args[1])?;
    me.state.update(vm, &data);
    Ok(Value::None)
}

fn digest_of(vm: &mut Vm, method: &str, args: &[Value], kw: Kwargs) -> PyResult<Vec<u8>> {
    let me = no_args(method, args, kw)?;
    let digest = me.state.lock(vm).digest();
    Ok(digest)
}

fn hash_digest(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let digest = digest_of(vm, "digest", args, kw)?;
    Ok(Value::Bytes(Arc::new(digest)))
}

fn hash_hexdigest(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let digest = digest_of(vm, "hexdigest", args, kw)?;
    Ok(Value::from_string(hex(&digest)))
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn hash_copy(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let me = no_args("copy", args, kw)?;
    let state = me.state.lock(vm).clone();
    Ok(new_hash(me.algo, state))
}

fn hash_repr(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let me = this(args)?;
    Ok(Value::from_string(format!(
        "<{} _hashlib.HASH object @ {:#x}>",
        me.algo.name(),
        args[0].heap_ptr().unwrap_or(0)
    )))
}

fn hash_name(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::str(this(args)?.algo.name()))
}

fn hash_digest_size(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::Int(this(args)?.algo.digest_size() as i64))
}

fn hash_block_size(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::Int(this(args)?.algo.block_size() as i64))
}

/// The attribute name argument of `__setattr__`/`__delattr__`/`__getattr__`.
fn attr_name(args: &[Value], count: usize) -> PyResult<&str> {
    if args.len() != count + 1 {
        return Err(PyErr::type_error(format!(
            "expected {count} argument{}, got {}",
            if count == 1 { "" } else { "s" },
            args.len().saturating_sub(1)
        )));
    }
    match &args[1] {
        Value::Str(s) => Ok(s.as_str()),
        other => Err(PyErr::type_error(format!(
            "attribute name must be string, not '{}'",
            type_name(other)
        ))),
    }
}

/// HASH objects have no `__dict__`: their three attributes are read-only
/// getsets, anything else does not exist.
fn readonly_or_missing(name: &str) -> PyErr {
    if matches!(name, "name" | "digest_size" | "block_size") {
        PyErr::attribute_error(format!(
            "attribute '{name}' of '_hashlib.HASH' objects is not writable"
        ))
    } else {
        PyErr::attribute_error(format!("'_hashlib.HASH' object has no attribute '{name}'"))
    }
}

fn hash_setattr(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    this(args)?;
    Err(readonly_or_missing(attr_name(args, 2)?))
}

fn hash_delattr(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    this(args)?;
    Err(readonly_or_missing(attr_name(args, 1)?))
}

fn hash_getattr(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    this(args)?;
    let name = attr_name(args, 1)?;
    Err(PyErr::attribute_error(format!(
        "'_hashlib.HASH' object has no attribute '{name}'"
    )))
}

// ---------------------------------------------------------------------------
// Module functions.

/// One constructor per algorithm, named as CPython's (`openssl_sha256`).
macro_rules! constructors {
    ($($fname:ident => $algo:expr),* $(,)?) => {
        $(
            fn $fname(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
                let data = ctor_data(vm, stringify!($fname), args, kw)?;
                let data = data.map(hash_data).transpose()?;
                Ok(construct(vm, $algo, data.as_ref().map(|d| d.as_slice())))
            }
        )*
        const CONSTRUCTORS: &[(Algo, &str, crate::vm::value::NativeFn)] = &[
            $(($algo, stringify!($fname), $fname)),*
        ];
    };
}

constructors! {
    openssl_md5 => Algo::Md5,
    openssl_sha1 => Algo::Sha1,
    openssl_sha224 => Algo::Sha224,
    openssl_sha256 => Algo::Sha256,
    openssl_sha384 => Algo::Sha384,
    openssl_sha512 => Algo::Sha512,
    openssl_sha3_224 => Algo::Sha3_224,
    openssl_sha3_256 => Algo::Sha3_256,
    openssl_sha3_384 => Algo::Sha3_384,
    openssl_sha3_512 => Algo::Sha3_512,
}

/// The algorithm of a hashlib constructor (`hashlib.sha256`) or hash object.
pub fn algo_of(v: &Value) -> Option<Algo> {
    match v {
        Value::Native(f) => CONSTRUCTORS
            .iter()
            .find(|(_, name, _)| *name == f.name)
            .map(|(algo, _, _)| *algo),
        other => crate::stdlib::downcast::<HashObj>(other).map(|h| h.algo),
    }
}

/// `hashlib.new(name, data=b'', **kwargs)`, which CPython writes in Python
/// (`__hash_new`) over `_hashlib.new(name, string=b'', *, usedforsecurity=True)`.
fn hash_new(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    const FUNC: &str = "__hash_new";
    if args.len() > 2 {
        return Err(PyErr::type_error(format!(
            "{FUNC}() takes from 1 to 2 positional arguments but {} were given",
            args.len()
        )));
    }
    let mut name = args.first();
    let mut data = args.get(1);
    let mut rest = Vec::new();
    for (k, v) in kw {
        let slot = match &**k {
            "name" => &mut name,
            "data" => &mut data,
            _ => {
                rest.push((k, v));
                continue;
            }
        };
        if slot.is_some() {
            return Err(PyErr::type_error(format!(
                "{FUNC}() got multiple values for argument '{k}'"
            )));
        }
        *slot = Some(v);
    }
    let Some(name) = name else {
        return Err(PyErr::type_error(format!(
            "{FUNC}() missing 1 required positional argument: 'name'"
        )));
    };
    // `name in __block_openssl_constructor` hashes it first.
    vm.hash(name)?;
    for (k, v) in rest {
        match &**k {
            "string" => return Err(given_twice("new", "string", 2)),
            "usedforsecurity" => {
                vm.is_true(v)?;
            }
            other => return Err(invalid_keyword("new", other)),
        }
    }
    let name = builtin_value(name);
    let name = match &name {
        Value::Str(s) if !s.as_str().contains('\0') => s.as_str(),
        _ => return Err(PyErr::type_error("name must be a string")),
    };
    let data = data.map(hash_data).transpose()?;
    let algo = Algo::from_name(name)
        .ok_or_else(|| PyErr::value_error(format!("unsupported hash type {name}")))?;
    Ok(construct(vm, algo, data.as_ref().map(|d| d.as_slice())))
}

/// `_hashlib.UnsupportedDigestmodError`, a `ValueError`.
fn unsupported_digestmod_class() -> Option<&'static Arc<Class>> {
    static CLASS: OnceLock<Option<Arc<Class>>> = OnceLock::new();
    CLASS
        .get_or_init(|| {
            let mut attrs = crate::vm::value::AttrMap::for_class();
            attrs.insert("__module__".into(), Value::str("_hashlib"));
            crate::vm::types::new_class(
                "UnsupportedDigestmodError",
                "_hashlib",
                vec![types().exception(ExcKind::ValueError).clone()],
                crate::vm::value::Layout::BaseException,
                attrs,
            )
            .ok()
        })
        .as_ref()
}

fn unsupported_digestmod(msg: &str) -> PyErr {
    let mut err = PyErr::value_error(msg);
    if let Some(class) = unsupported_digestmod_class() {
        err.exc = crate::vm::brc::Brc::new(crate::vm::value::Instance::new(
            class.clone(),
            crate::vm::value::InstanceBase::Exception(Box::new(crate::vm::value::ExcData::new(
                vec![Value::str(msg)],
            ))),
        ));
    }
    err
}

/// A C `long` argument (`PyLong_AsLong` without `__index__` on instances).
fn long_arg(v: &Value) -> PyResult<i64> {
    match v {
        Value::Int(_) | Value::Bool(_) | Value::BigInt(_) => crate::stdlib::to_i64(v),
        other => Err(PyErr::type_error(format!(
            "'{}' object cannot be interpreted as an integer",
            type_name(other)
        ))),
    }
}

/// `pbkdf2_hmac(hash_name, password, salt, iterations, dklen=None)`; the key
/// is derived with the GIL released.
fn pbkdf2_hmac(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    const FUNC: &str = "pbkdf2_hmac";
    const NAMES: [&str; 5] = ["hash_name", "password", "salt", "iterations", "dklen"];
    let total = args.len() + kw.len();
    if total > NAMES.len() {
        return Err(PyErr::type_error(format!(
            "{FUNC}() takes at most 5 arguments ({total} given)"
        )));
    }
    let mut slots: [Option<&Value>; 5] = [None; 5];
    for (slot, v) in slots.iter_mut().zip(args) {
        *slot = Some(v);
    }
    for (k, v) in kw {
        let Some(i) = NAMES.iter().position(|n| *n == &**k) else {
            return Err(invalid_keyword(FUNC, k));
        };
        if slots[i].is_some() {
            return Err(given_twice(FUNC, k, i + 1));
        }
        slots[i] = Some(v);
    }
    let mut required = [&Value::None; 4];
    for (i, r) in required.iter_mut().enumerate() {
        *r = slots[i].ok_or_else(|| {
            PyErr::type_error(format!(
                "{FUNC}() missing required argument '{}' (pos {})",
                NAMES[i],
                i + 1
            ))
        })?;
    }
    let [name, password, salt, iterations] = required;
    let name = builtin_value(name);
    let name = match &name {
        Value::Str(s) if !s.as_str().contains('\0') => s.as_str(),
        Value::Str(_) => return Err(PyErr::value_error("embedded null character")),
        other => {
            return Err(PyErr::type_error(format!(
                "{FUNC}() argument 'hash_name' must be str, not {}",
                type_name(other)
            )))
        }
    };
    let password = buffer_arg(password)?;
    let salt = buffer_arg(salt)?;
    let iterations = long_arg(iterations)?;
    let dklen = slots[4].unwrap_or(&Value::None);
    let algo = Algo::from_name(name)
        .ok_or_else(|| unsupported_digestmod("[digital envelope routines] unsupported"))?;
    if iterations < 1 {
        return Err(PyErr::value_error(
            "iteration value must be greater than 0.",
        ));
    }
    let rounds = match u32::try_from(iterations) {
        Ok(r) if r <= i32::MAX as u32 => r,
        _ => return Err(PyErr::overflow_error("iteration value is too great.")),
    };
    let dklen = match dklen {
        Value::None => algo.digest_size() as i64,
        v => long_arg(v)?,
    };
    if dklen < 1 {
        return Err(PyErr::value_error("key length must be greater than 0."));
    }
    if dklen > i64::from(i32::MAX) {
        return Err(PyErr::overflow_error("key length is too great."));
    }
    let mut out = vec![0u8; dklen as usize];
    vm.allow_threads(|| pbkdf2(algo, &password, &salt, rounds, &mut out));
    Ok(Value::Bytes(Arc::new(out)))
}

fn name_set(vm: &mut Vm, algos: &[Algo]) -> PyResult<Value> {
    let set = Arc::new(PySet::new());
    for a in algos {
        vm.set_add(&set, Value::str(a.name()))?;
    }
    Ok(Value::Set(set))
}

pub fn make(vm: &mut Vm) -> PyResult<Arc<Module>> {
    let m = new_module("hashlib");
    let mut all = Vec::new();
    for (algo, fname, f) in CONSTRUCTORS {
        set_attr(&m, algo.name(), native(fname, fname, *f, false));
        all.push(Value::str(algo.name()));
    }
    set_attr(
        &m,
        "new",
        native("__hash_new", "__hash_new", hash_new, false),
    );
    add_functions(&m, &[("pbkdf2_hmac", pbkdf2_hmac)]);
    set_attr(&m, "algorithms_guaranteed", name_set(vm, &GUARANTEED)?);
    set_attr(&m, "algorithms_available", name_set(vm, &ALGOS)?);
    for name in [
        "new",
        "algorithms_guaranteed",
        "algorithms_available",
        "pbkdf2_hmac",
    ] {
        all.push(Value::str(name));
    }
    set_attr(&m, "__all__", Value::tuple(all));
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hexdigest(algo: Algo, data: &[u8]) -> String {
        let mut h = algo.hasher();
        h.update(data);
        hex(&h.digest())
    }

    #[test]
    fn gil_is_released_from_2048_bytes_or_once_threaded() {
        assert!(!releases_gil(false, 0));
        assert!(!releases_gil(false, 2047));
        assert!(releases_gil(false, 2048));
        assert!(releases_gil(true, 1));
    }

    #[test]
    fn names_resolve_as_in_cpython() {
        assert_eq!(Algo::from_name("sha256"), Some(Algo::Sha256));
        assert_eq!(Algo::from_name("SHA256"), Some(Algo::Sha256));
        assert_eq!(Algo::from_name("Sha256"), Some(Algo::Sha256));
        assert_eq!(Algo::from_name("sha-256"), Some(Algo::Sha256));
        assert_eq!(Algo::from_name("SHA512_256"), Some(Algo::Sha512_256));
        assert_eq!(Algo::from_name("sha3-256"), Some(Algo::Sha3_256));
        assert_eq!(Algo::from_name("SHA3_256"), None);
        assert_eq!(Algo::from_name("Sha3_256"), None);
        assert_eq!(Algo::from_name("sha256 "), None);
        assert_eq!(Algo::from_name(""), None);
        for a in ALGOS {
            assert_eq!(Algo::from_name(a.name()), Some(a));
            assert_eq!(a.hasher().digest().len(), a.digest_size());
        }
    }

    #[test]
    fn known_digests() {
        assert_eq!(
            hexdigest(Algo::Md5, b""),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
        assert_eq!(
            hexdigest(Algo::Sha256, b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let mut h = Algo::Sha1.hasher();
        h.update(b"a");
        let before = h.digest();
        h.update(b"bc");
        assert_eq!(hex(&before), hexdigest(Algo::Sha1, b"a"));
        assert_eq!(hex(&h.digest()), hexdigest(Algo::Sha1, b"abc"));
    }
}
