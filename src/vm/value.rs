//! The object model: [`Value`] and the heap objects behind it.
//!
//! `Value` is 16 bytes: small immutable values inline, everything else behind
//! an `Arc`. Every mutable object keeps its state behind a `parking_lot` lock
//! held for one operation only, so that memory safety never depends on the
//! GIL (`--gil off` runs threads truly in parallel). Never hold one of these
//! locks while calling back into script code or while blocking.

use std::any::Any;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;

use num_bigint::BigInt;
use parking_lot::Mutex;

use crate::compile::code::Code;
use crate::vm::brc::Brc;
use crate::vm::error::PyResult;
use crate::vm::interp::Vm;
use crate::vm::spin::SpinMutex;

/// The layout is fixed (`repr(u8)`: the tag in byte 0; an int, float or
/// pointer at offset 8) so that the dispatch loop can write a whole value
/// with one 16-byte store (`vm::slot`).
#[repr(u8)]
pub enum Value {
    /// Internal marker, never visible to scripts: an unbound local slot, or
    /// "no self" in the `LoadMethod`/`CallMethod` protocol.
    Null = 0,
    None = 1,
    Bool(bool) = 2,
    Int(i64) = 3,
    Float(f64) = 4,
    /// Only for ints outside i64: arithmetic normalises back to `Int`.
    BigInt(Arc<BigInt>) = 5,
    Str(Brc<PyStr>) = 6,
    /// Bytes behind a thin pointer, to keep `Value` at 16 bytes.
    Bytes(Arc<Vec<u8>>) = 7,
    List(Brc<PyList>) = 8,
    Tuple(Arc<PyTuple>) = 9,
    Dict(Brc<PyDict>) = 10,
    Set(Arc<PySet>) = 11,
    FrozenSet(Arc<PySet>) = 12,
    Function(Brc<Function>) = 13,
    Native(Arc<NativeFunction>) = 14,
    BoundMethod(Arc<BoundMethod>) = 15,
    Class(Arc<Class>) = 16,
    Instance(Brc<Instance>) = 17,
    Module(Arc<Module>) = 18,
    /// Every other built-in object: ranges, slices, iterators, generators,
    /// cells, properties, files, locks, ...
    Object(Arc<Object>) = 19,
    /// A mutable byte string (see `vm::bytearray`).
    ByteArray(Arc<PyByteArray>) = 20,
}

impl Clone for Value {
    /// Take the reference, then copy the 16 bytes whole. A derived clone
    /// builds the copy field by field (tag byte, then payload), which the
    /// next whole-value load of it cannot forward from (see `vm::slot`).
    #[inline]
    fn clone(&self) -> Value {
        match self {
            Value::Null | Value::None | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {}
            Value::BigInt(x) => std::mem::forget(x.clone()),
            Value::Str(x) => std::mem::forget(x.clone()),
            Value::Bytes(x) => std::mem::forget(x.clone()),
            Value::List(x) => std::mem::forget(x.clone()),
            Value::Tuple(x) => std::mem::forget(x.clone()),
            Value::Dict(x) => std::mem::forget(x.clone()),
            Value::Set(x) | Value::FrozenSet(x) => std::mem::forget(x.clone()),
            Value::Function(x) => std::mem::forget(x.clone()),
            Value::Native(x) => std::mem::forget(x.clone()),
            Value::BoundMethod(x) => std::mem::forget(x.clone()),
            Value::Class(x) => std::mem::forget(x.clone()),
            Value::Instance(x) => std::mem::forget(x.clone()),
            Value::Module(x) => std::mem::forget(x.clone()),
            Value::Object(x) => std::mem::forget(x.clone()),
            Value::ByteArray(x) => std::mem::forget(x.clone()),
        }
        // SAFETY: the reference taken above belongs to the copy; every
        // other variant owns nothing, so its bits are a complete copy.
        unsafe { std::ptr::read(self) }
    }
}

pub use crate::vm::attrs::AttrMap;

/// Strings up to this many bytes are stored inside the `PyStr`, so most
/// strings cost one allocation (the `Arc`), not two.
const INLINE_STR: usize = 30;

enum Text {
    Inline {
        len: u8,
        buf: [u8; INLINE_STR],
    },
    /// A `String`, not a `Box<str>`: spare capacity lets a string nobody
    /// else references grow in place (`s += t`, see [`PyStr::push_unique`]).
    Heap(String),
}

/// An immutable string with its hash computed once.
pub struct PyStr {
    text: Text,
    /// 0 means "not computed yet" (a real hash of 0 is stored as 1... see `hash`).
    hash: AtomicI64,
    /// ASCII strings index by byte in O(1).
    pub ascii: bool,
}

impl PyStr {
    pub fn new<S: Into<String> + AsRef<str>>(s: S) -> PyStr {
        let ascii = s.as_ref().is_ascii();
        PyStr::with_ascii(s, ascii)
    }

    /// Like [`PyStr::new`] when the caller knows whether `s` is ASCII
    /// (concatenating ASCII strings need not scan the result again).
    pub fn with_ascii<S: Into<String> + AsRef<str>>(s: S, ascii: bool) -> PyStr {
        let r = s.as_ref();
        debug_assert_eq!(ascii, r.is_ascii());
        let text = if r.len() <= INLINE_STR {
            let mut buf = [0u8; INLINE_STR];
            buf[..r.len()].copy_from_slice(r.as_bytes());
            Text::Inline {
                len: r.len() as u8,
                buf,
            }
        } else {
            Text::Heap(s.into())
        };
        PyStr {
            text,
            hash: AtomicI64::new(0),
            ascii,
        }
    }

    /// `a + b`, built in place when short (no temporary `String`).
    pub fn concat(a: &str, b: &str, ascii: bool) -> PyStr {
        let n = a.len() + b.len();
        if n > INLINE_STR {
            let mut s = String::with_capacity(n);
            s.push_str(a);
            s.push_str(b);
            return PyStr::with_ascii(s, ascii);
        }
        let mut buf = [0u8; INLINE_STR];
        buf[..a.len()].copy_from_slice(a.as_bytes());
        buf[a.len()..n].copy_from_slice(b.as_bytes());
        PyStr {
            // Two whole `&str`s back to back are valid UTF-8.
            text: Text::Inline { len: n as u8, buf },
            hash: AtomicI64::new(0),
            ascii,
        }
    }

    /// Append `b` to `s` in place when this is the only reference to `s`
    /// (`Brc::get_mut` checks that exactly, so no other thread or value
    /// can observe the change); `false` leaves `s` untouched.
    pub fn push_unique(s: &mut Brc<PyStr>, b: &PyStr) -> bool {
        PyStr::grow_unique(s, b, false)
    }

    /// Put `a` in front of `s` in place when this is the only reference to
    /// `s` (see [`PyStr::push_unique`]); `false` leaves `s` untouched.
    pub fn prepend_unique(s: &mut Brc<PyStr>, a: &PyStr) -> bool {
        PyStr::grow_unique(s, a, true)
    }

    fn grow_unique(s: &mut Brc<PyStr>, other: &PyStr, in_front: bool) -> bool {
        let Some(me) = Brc::get_mut(s) else {
            return false;
        };
        let add = other.as_str();
        match &mut me.text {
            Text::Inline { len, buf } => {
                let (n, m) = (*len as usize, *len as usize + add.len());
                if m <= INLINE_STR {
                    // Two whole `&str`s back to back are valid UTF-8.
                    if in_front {
                        buf.copy_within(..n, add.len());
                        buf[..add.len()].copy_from_slice(add.as_bytes());
                    } else {
                        buf[n..m].copy_from_slice(add.as_bytes());
                    }
                    *len = m as u8;
                } else {
                    // Room to grow at the end: `s += c` loops go on in place.
                    let mut t = String::with_capacity((2 * m).max(64));
                    if in_front {
                        t.push_str(add);
                        t.push_str(inline_text(&buf[..n]));
                    } else {
                        t.push_str(inline_text(&buf[..n]));
                        t.push_str(add);
                    }
                    me.text = Text::Heap(t);
                }
            }
            // `String` grows geometrically: a loop of `s += c` is linear.
            Text::Heap(t) if in_front => t.insert_str(0, add),
            Text::Heap(t) => t.push_str(add),
        }
        me.ascii &= other.ascii;
        *me.hash.get_mut() = 0;
        true
    }

    /// A string of ASCII bytes (digits, say); anything else is replaced
    /// by U+FFFD.
    pub fn from_ascii(b: &[u8]) -> PyStr {
        if b.is_ascii() {
            // SAFETY: ASCII bytes are valid UTF-8 (checked just above).
            PyStr::with_ascii(unsafe { std::str::from_utf8_unchecked(b) }, true)
        } else {
            PyStr::new(String::from_utf8_lossy(b))
        }
    }

    /// An ASCII string with `f` applied to each byte (`lower`, `upper`), or
    /// `None` when `s` or the result is not ASCII.
    #[inline]
    pub fn ascii_mapped(s: &str, f: impl Fn(u8) -> u8) -> Option<PyStr> {
        if s.len() > INLINE_STR || !s.is_ascii() {
            return None;
        }
        let mut buf = [0u8; INLINE_STR];
        for (d, c) in buf.iter_mut().zip(s.bytes()) {
            *d = f(c);
        }
        // Checked, not assumed: `as_str` relies on inline bytes being UTF-8.
        buf[..s.len()].is_ascii().then(|| PyStr {
            text: Text::Inline {
                len: s.len() as u8,
                buf,
            },
            hash: AtomicI64::new(0),
            ascii: true,
        })
    }

    #[inline]
    pub fn as_str(&self) -> &str {
        match &self.text {
            Text::Inline { len, buf } => inline_text(&buf[..*len as usize]),
            Text::Heap(s) => s,
        }
    }

    /// Number of code points (Python's `len`).
    pub fn char_len(&self) -> usize {
        let s = self.as_str();
        if self.ascii {
            s.len()
        } else {
            s.chars().count()
        }
    }

    /// CPython's hash of the string under `PYTHONHASHSEED=0`
    /// (`strhash::hash_str`), cached. 0 marks "not computed yet", so a
    /// string whose hash is 0 is rehashed each time.
    pub fn hash(&self) -> i64 {
        let h = self.hash.load(Ordering::Relaxed);
        if h != 0 {
            return h;
        }
        let h = crate::vm::strhash::hash_str(self.as_str(), self.ascii);
        self.hash.store(h, Ordering::Relaxed);
        h
    }
}

/// The text of an inline string.
#[inline]
fn inline_text(bytes: &[u8]) -> &str {
    // SAFETY: inline bytes up to `len` are only ever written as whole `&str`s
    // (`with_ascii`, `concat`, `push_unique`) or checked ASCII
    // (`ascii_mapped`), so they are valid UTF-8.
    unsafe { std::str::from_utf8_unchecked(bytes) }
}

pub struct PyList {
    pub items: SpinMutex<Vec<Value>>,
}

impl Drop for PyList {
    /// Last item first, as CPython frees a list's items (which `__del__`
    /// methods make visible).
    fn drop(&mut self) {
        let items = self.items.get_mut();
        while let Some(v) = items.pop() {
            drop(v);
        }
    }
}

/// A `bytearray`: its bytes behind a lock, like a list's items.
pub struct PyByteArray {
    pub data: SpinMutex<Vec<u8>>,
}

pub struct PyTuple {
    pub items: Box<[Value]>,
}

impl Drop for PyTuple {
    /// Last item first, as CPython (see `PyList`'s drop).
    fn drop(&mut self) {
        let mut items = std::mem::take(&mut self.items).into_vec();
        while let Some(v) = items.pop() {
            drop(v);
        }
    }
}

pub struct PyDict {
    pub map: crate::vm::dict::DictCell,
}

/// A set or frozenset; iteration order follows CPython's table layout (see `vm::set`).
pub struct PySet {
    pub table: Mutex<crate::vm::set::SetTable>,
}

/// A code object as the VM runs it: the compiler's [`Code`] plus its
/// constants and names converted to runtime values once.
pub struct CodeObj {
    pub code: Arc<Code>,
    pub consts: Box<[Value]>,
    pub names: Box<[Brc<PyStr>]>,
    /// The attribute caches `LoadFastAttr`/`LoadFastStoreAttr` number.
    pub attr_sites: Box<[crate::vm::site_cache::AttrSite]>,
    /// For a plain function (positional parameters only, no cells, not a
    /// generator): its parameter count, so a call passing exactly that many
    /// positional arguments binds them where they are. `u32::MAX` otherwise.
    pub plain_arity: u32,
}

impl CodeObj {
    pub fn new(code: Arc<Code>, consts: Box<[Value]>, names: Box<[Brc<PyStr>]>) -> CodeObj {
        use crate::compile::code::flags;
        let general = flags::VARARGS
            | flags::VARKEYWORDS
            | flags::GENERATOR
            | flags::COROUTINE
            | flags::NAME_LOCALS;
        let plain = code.flags & general == 0
            && code.kwonlyargcount == 0
            && code.cellvars.is_empty()
            && code.freevars.is_empty();
        let plain_arity = if plain { code.argcount } else { u32::MAX };
        let attr_sites = crate::vm::site_cache::attr_sites(&code, &names);
        CodeObj {
            code,
            consts,
            names,
            attr_sites,
            plain_arity,
        }
    }
}

pub struct Function {
    pub code: Arc<CodeObj>,
    /// The defining module's namespace.
    pub globals: Brc<PyDict>,
    pub name: Arc<str>,
    pub qualname: Arc<str>,
    /// Defaults of the last positional parameters.
    pub defaults: Box<[Value]>,
    pub kwdefaults: Option<Brc<PyDict>>,
    pub closure: Box<[Arc<Cell>]>,
    /// `func.__dict__` (decorators sometimes set attributes), `__doc__`, `__module__`.
    pub attrs: Mutex<AttrMap>,
}

/// A closure cell.
pub struct Cell {
    pub value: Mutex<Value>,
}

/// Keyword arguments as passed to native functions.
pub type Kwargs<'a> = &'a [(Arc<str>, Value)];

/// A function implemented in Rust. Methods receive `self` as `args[0]`.
pub type NativeFn = fn(&mut Vm, &[Value], Kwargs) -> PyResult<Value>;

/// A native's fast path for the argument shapes it recognises (`len` of a
/// str, `append` to a plain list), as CPython specialises its calls. It runs
/// on the positional arguments in place on the value stack, with no `Vm`,
/// and may move an argument out (leaving `Null`). It cannot fail: `None`
/// declines, with the arguments untouched, and the general `func` runs.
pub type FastFn = fn(&mut [Value]) -> Option<Value>;

pub struct NativeFunction {
    pub name: &'static str,
    /// `str.upper`, `builtins.print`, `_thread.allocate_lock`.
    pub qualname: Arc<str>,
    pub func: NativeFn,
    /// Native methods bind like functions (`"a".upper` is a bound method).
    pub is_method: bool,
    /// Whether the function parses keyword arguments itself. Most built-in
    /// methods take none (`"a".strip(chars="x")`): for those the call
    /// machinery raises CPython's "takes no keyword arguments" before `func`
    /// runs, so `func` may ignore its `Kwargs`.
    pub takes_kwargs: bool,
    pub fast: Option<FastFn>,
}

impl NativeFunction {
    pub fn new(name: &'static str, qualname: &str, func: NativeFn, is_method: bool) -> Self {
        NativeFunction {
            name,
            qualname: qualname.into(),
            func,
            is_method,
            takes_kwargs: true,
            fast: None,
        }
    }
}

pub struct BoundMethod {
    pub func: Value,
    pub receiver: Value,
}

/// A class: user-defined or built-in. Built-in types (int, str, list, ...,
/// the exception classes) are classes too, created once per process.
pub struct Class {
    /// `__name__` (CPython's `tp_name`: what messages call the class) and
    /// `__qualname__`: a script may assign them.
    pub name: ClassName,
    pub qualname: ClassName,
    /// The module the class was created in (`builtins` for the built-in
    /// types). It never changes, so it can tell built-in classes apart; a
    /// script's `C.__module__ = ...` goes to the class namespace, which is
    /// what reprs read (`ops::class_module`).
    pub module: Arc<str>,
    pub bases: Vec<Arc<Class>>,
    /// The method resolution order *after* this class (C3), ending in `object`.
    pub mro: Vec<Arc<Class>>,
    pub attrs: Mutex<AttrMap>,
    /// The built-in layout instances of this class have.
    pub layout: Layout,
    /// Attribute-protocol facts about the class (see `vm::ops::class_flags`),
    /// tagged with the class epoch they were computed in; 0 = not computed.
    pub flags: std::sync::atomic::AtomicU64,
    /// The metaclass, `type(cls)`, when it is not `type` itself (`None`
    /// for every class that did not ask for one, so ordinary classes pay
    /// nothing for metaclass support).
    pub meta: Option<Arc<Class>>,
    /// A number no other class has (never reused, unlike the address), for
    /// caches that must not hold the class alive (`site_cache::AttrSite`).
    pub uid: u32,
}

/// A class's name or qualified name. A script may assign it from any thread
/// (`C.__name__ = "D"`): the new text sits behind a lock, and a flag tells
/// readers of a never-renamed class (every built-in type, almost every
/// script class) to take the original without locking. Only slow paths
/// read names (reprs, messages, `C.__name__`), never attribute lookups.
pub struct ClassName {
    original: Arc<str>,
    renamed: AtomicBool,
    current: parking_lot::RwLock<Option<Arc<str>>>,
}

impl ClassName {
    pub fn new(name: Arc<str>) -> ClassName {
        ClassName {
            original: name,
            renamed: AtomicBool::new(false),
            current: parking_lot::RwLock::new(None),
        }
    }

    /// The current text.
    pub fn get(&self) -> Arc<str> {
        if self.renamed.load(Ordering::Acquire) {
            if let Some(n) = &*self.current.read() {
                return n.clone();
            }
        }
        self.original.clone()
    }

    pub fn set(&self, name: Arc<str>) {
        // The old text is dropped after the lock is released.
        let old = self.current.write().replace(name);
        self.renamed.store(true, Ordering::Release);
        drop(old);
    }
}

impl From<&str> for ClassName {
    fn from(s: &str) -> ClassName {
        ClassName::new(s.into())
    }
}

impl From<Arc<str>> for ClassName {
    fn from(s: Arc<str>) -> ClassName {
        ClassName::new(s)
    }
}

impl fmt::Display for ClassName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.get())
    }
}

impl PartialEq<str> for ClassName {
    fn eq(&self, other: &str) -> bool {
        if !self.renamed.load(Ordering::Acquire) {
            return &*self.original == other;
        }
        *self.get() == *other
    }
}

/// What a class's instances are made of: a plain instance, or a built-in
/// value (for the built-in types and user subclasses of them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    Object,
    Type,
    NoneType,
    Bool,
    Int,
    Float,
    Str,
    Bytes,
    ByteArray,
    List,
    Tuple,
    Dict,
    Set,
    FrozenSet,
    Function,
    Native,
    BoundMethod,
    Module,
    BaseException,
    /// Native objects (`Value::Object`) describe themselves.
    Other,
}

pub struct Instance {
    pub class: Arc<Class>,
    pub attrs: SpinMutex<AttrMap>,
    pub base: InstanceBase,
}

impl Instance {
    /// A fresh instance of `class` with an empty namespace.
    pub fn new(class: Arc<Class>, base: InstanceBase) -> Instance {
        Instance {
            class,
            attrs: SpinMutex::new(AttrMap::default()),
            base,
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        crate::vm::finalize::on_drop(self);
    }
}

/// The built-in part of an instance whose class derives from a built-in type.
pub enum InstanceBase {
    Plain,
    /// Boxed: plain instances, by far the most, stay small.
    Exception(Box<ExcData>),
    /// A subclass of list/dict/set/int/str/...: the built-in value it wraps.
    Builtin(Mutex<Value>),
}

/// State of an exception instance.
pub struct ExcData {
    pub args: Mutex<Arc<PyTuple>>,
    /// A deque: each frame an exception unwinds adds its entry at the
    /// front, so deep native recursion stays linear.
    pub traceback: Mutex<std::collections::VecDeque<TraceEntry>>,
    pub cause: Mutex<Option<Value>>,
    pub context: Mutex<Option<Value>>,
    pub suppress_context: AtomicBool,
    /// A NameError's "Did you mean" suggestion, computed when it was raised
    /// (the frame whose names it draws on is gone when it is printed).
    pub suggestion: Mutex<Option<String>>,
    /// The values of the frames it unwound, kept while it lives, as
    /// CPython's traceback keeps those frames (only while some class has a
    /// `__del__`, the one thing that can tell).
    pub frame_values: Mutex<Vec<Value>>,
}

/// One line of a traceback, innermost last.
#[derive(Clone, Debug)]
pub struct TraceEntry {
    pub filename: Arc<str>,
    pub name: Arc<str>,
    pub line: u32,
    /// Byte offsets in the file of the failing instruction's expression,
    /// for the caret line under the source line.
    pub span: crate::syntax::ast::Span,
}

pub struct Module {
    pub name: Arc<str>,
    pub dict: Brc<PyDict>,
    /// True while an import runs the module's body: a failed attribute
    /// lookup then names the likely circular import, as CPython does.
    pub initializing: std::sync::atomic::AtomicBool,
}

/// A built-in object other than the common ones: `class` says what it is.
pub struct Object {
    pub class: Arc<Class>,
    pub kind: ObjKind,
}

pub enum ObjKind {
    NotImplemented,
    Ellipsis,
    Range {
        start: i64,
        stop: i64,
        step: i64,
    },
    Slice {
        start: Value,
        stop: Value,
        step: Value,
    },
    Cell(Arc<Cell>),
    Code(Arc<CodeObj>),
    Property {
        fget: Value,
        fset: Value,
        fdel: Value,
        doc: Value,
    },
    StaticMethod(Value),
    ClassMethod(Value),
    /// `super(cls, obj)`.
    Super {
        cls: Arc<Class>,
        obj: Value,
    },
    /// Iterators over built-in containers, `map`, `zip`, ... (see `vm::iter`).
    Iter(SpinMutex<crate::vm::iter::IterState>),
    /// Generators and coroutines (see `vm::generator`).
    Generator(crate::vm::generator::Generator),
    /// Anything a native module defines (locks, files, thread-locals, ...).
    Native(Box<dyn Any + Send + Sync>),
    /// A complex number (see `vm::complex`).
    Complex(crate::vm::complex::Complex),
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Brc::new(PyStr::new(s)))
    }

    pub fn from_string(s: String) -> Value {
        Value::Str(Brc::new(PyStr::new(s)))
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Brc::new(PyList {
            items: SpinMutex::new(items),
        }))
    }

    pub fn tuple(items: Vec<Value>) -> Value {
        Value::Tuple(Arc::new(PyTuple {
            items: items.into_boxed_slice(),
        }))
    }

    pub fn bytearray(data: Vec<u8>) -> Value {
        Value::ByteArray(Arc::new(PyByteArray {
            data: SpinMutex::new(data),
        }))
    }

    pub fn is_none(&self) -> bool {
        matches!(self, Value::None)
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// `a is b`.
    pub fn is(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) | (None, None) => true,
            (Bool(a), Bool(b)) => a == b,
            // Small ints are cached in CPython; identity of equal ints is
            // what programs observe there for the common range.
            (Int(a), Int(b)) => a == b,
            (Float(a), Float(b)) => a.to_bits() == b.to_bits(),
            _ => match (self.heap_ptr(), other.heap_ptr()) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            },
        }
    }

    /// The address of the heap object, for `is` and `id()`.
    pub fn heap_ptr(&self) -> Option<usize> {
        use Value::*;
        Some(match self {
            BigInt(a) => Arc::as_ptr(a) as *const u8 as usize,
            Str(a) => Brc::as_ptr(a) as *const u8 as usize,
            Bytes(a) => Arc::as_ptr(a) as *const u8 as usize,
            List(a) => Brc::as_ptr(a) as *const u8 as usize,
            Tuple(a) => Arc::as_ptr(a) as *const u8 as usize,
            Dict(a) => Brc::as_ptr(a) as *const u8 as usize,
            Set(a) | FrozenSet(a) => Arc::as_ptr(a) as *const u8 as usize,
            Function(a) => Brc::as_ptr(a) as *const u8 as usize,
            Native(a) => Arc::as_ptr(a) as *const u8 as usize,
            BoundMethod(a) => Arc::as_ptr(a) as *const u8 as usize,
            Class(a) => Arc::as_ptr(a) as *const u8 as usize,
            Instance(a) => Brc::as_ptr(a) as *const u8 as usize,
            Module(a) => Arc::as_ptr(a) as *const u8 as usize,
            Object(a) => Arc::as_ptr(a) as *const u8 as usize,
            ByteArray(a) => Arc::as_ptr(a) as *const u8 as usize,
            Null | None | Bool(_) | Int(_) | Float(_) => return Option::None,
        })
    }

    /// Borrow the text of a `str` value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s.as_str()),
            _ => None,
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => write!(f, "<null>"),
            Value::None => write!(f, "None"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::BigInt(b) => write!(f, "{b}"),
            Value::Str(s) => write!(f, "{:?}", s.as_str()),
            _ => write!(f, "<object at {:#x}>", self.heap_ptr().unwrap_or(0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_is_sixteen_bytes() {
        assert_eq!(std::mem::size_of::<Value>(), 16);
    }

    #[test]
    fn a_plain_instance_stays_small() {
        // Exception data and big attribute indexes are boxed: every object
        // a program creates pays only for a class pointer, a namespace and
        // a tag.
        assert!(
            std::mem::size_of::<Instance>() <= 88,
            "{}",
            std::mem::size_of::<Instance>()
        );
    }

    #[test]
    fn a_class_name_can_be_renamed_while_other_threads_read_it() {
        let name = Arc::new(ClassName::from("Draft"));
        assert!(*name == *"Draft");
        let readers: Vec<_> = (0..4)
            .map(|_| {
                let name = name.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        let n = name.get();
                        assert!(&*n == "Draft" || n.starts_with("Final"));
                    }
                })
            })
            .collect();
        for i in 0..1000 {
            name.set(format!("Final{i}").into());
        }
        for r in readers {
            r.join().unwrap();
        }
        assert_eq!(name.to_string(), "Final999");
        assert!(*name == *"Final999");
    }

    #[test]
    fn push_unique_grows_only_unshared_strings_and_forgets_the_hash() {
        let mut s = Brc::new(PyStr::new("ab"));
        let h = s.hash();
        let other = s.clone();
        assert!(!PyStr::push_unique(&mut s, &PyStr::new("c")));
        assert_eq!(s.as_str(), "ab");
        drop(other);
        assert!(PyStr::push_unique(&mut s, &PyStr::new("c")));
        assert_eq!(s.as_str(), "abc");
        assert_ne!(s.hash(), h);
        assert_eq!(s.hash(), PyStr::new("abc").hash());
        // Past the inline size, then growing on the heap; ASCII-ness follows.
        for _ in 0..20 {
            assert!(PyStr::push_unique(&mut s, &PyStr::new("xy")));
        }
        assert!(s.ascii);
        assert!(PyStr::push_unique(&mut s, &PyStr::new("é")));
        assert!(!s.ascii);
        let want = format!("abc{}é", "xy".repeat(20));
        assert_eq!(s.as_str(), want);
        assert_eq!(s.char_len(), want.chars().count());
        assert_eq!(s.hash(), PyStr::new(want).hash());
    }

    #[test]
    fn prepend_unique_grows_only_unshared_strings() {
        let mut s = Brc::new(PyStr::new("cd"));
        let h = s.hash();
        let other = s.clone();
        assert!(!PyStr::prepend_unique(&mut s, &PyStr::new("ab")));
        drop(other);
        assert!(PyStr::prepend_unique(&mut s, &PyStr::new("ab")));
        assert_eq!(s.as_str(), "abcd");
        assert_ne!(s.hash(), h);
        assert_eq!(s.hash(), PyStr::new("abcd").hash());
        let long = "é".repeat(20);
        assert!(PyStr::prepend_unique(&mut s, &PyStr::new(long.as_str())));
        assert!(PyStr::prepend_unique(&mut s, &PyStr::new("x")));
        let want = format!("x{long}abcd");
        assert_eq!(s.as_str(), want);
        assert!(!s.ascii);
        assert_eq!(s.char_len(), want.chars().count());
    }
}
