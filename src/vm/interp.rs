//! The VM: state shared by the interpreter threads ([`Interp`]) and one
//! thread's interpreter state ([`Vm`]). The dispatch loop is in `run.rs`.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use std::time::Duration;

use parking_lot::Mutex;

use crate::compile::code::{Code, Const};
use crate::runtime::gil::{Gil, ThreadId};
use crate::syntax::{SyntaxError, SyntaxErrorKind};
use crate::vm::brc::Brc;
use crate::vm::error::{ExcKind, PyErr, PyResult};
use crate::vm::footprint::{Start, Tables};
use crate::vm::frame::{body_function, Frame};
use crate::vm::types::types;
use crate::vm::value::{
    Class, CodeObj, Function, Module, NativeFn, NativeFunction, ObjKind, Object, PyDict, PyStr,
    Value,
};

#[path = "run.rs"]
pub(crate) mod run;

/// The interpreter's default recursion limit (`sys.getrecursionlimit()`).
pub const DEFAULT_RECURSION_LIMIT: usize = 1000;
/// Stack size of the thread running the main program: deep (but legal)
/// recursion through natives must fit, and the VM measures what is left.
pub const MAIN_STACK_SIZE: usize = 256 << 20;
/// Stack size of every other interpreter thread.
pub const THREAD_STACK_SIZE: usize = 64 << 20;
/// What a VM assumes about a thread it did not start (Rust's default for
/// spawned threads; the main thread of a process has more).
pub const DEFAULT_STACK_SIZE: usize = 2 << 20;

/// How the interpreter was started.
#[derive(Clone, Debug)]
pub struct Options {
    pub gil: bool,
    pub switch_interval: Duration,
    pub gil_stats: bool,
    /// `sys.argv`.
    pub argv: Vec<String>,
    /// Directory searched for `NAME.script` / `NAME.py` modules (the main
    /// script's directory, or the current directory).
    pub path: Vec<PathBuf>,
    /// Print the main program's bytecode instead of running it (`--dis`).
    pub dis: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            gil: true,
            switch_interval: crate::runtime::gil::DEFAULT_INTERVAL,
            gil_stats: false,
            dis: false,
            argv: vec![String::new()],
            path: vec![PathBuf::from(".")],
        }
    }
}

/// State shared by every interpreter thread of one process.
pub struct Interp {
    pub gil: Arc<Gil>,
    /// `sys.modules`.
    pub modules: Brc<PyDict>,
    /// The `builtins` namespace.
    pub builtins: Brc<PyDict>,
    /// Source texts by filename, for tracebacks.
    sources: Mutex<HashMap<Arc<str>, Arc<str>>>,
    pub recursion_limit: AtomicUsize,
    pub argv: Vec<String>,
    pub main_tid: ThreadId,
    pub options: Options,
    stdout: Mutex<Vec<u8>>,
    stdout_tty: bool,
    /// Set once `threading` has been imported (shutdown must join threads).
    pub threading_imported: AtomicBool,
    /// The `__build_class__` native pushed by `LoadBuildClass`.
    pub(crate) build_class: Value,
    /// A placeholder function for frames that run no code.
    pub(crate) idle_func: Brc<Function>,
}

static NEXT_TID: AtomicU64 = AtomicU64::new(1);

/// A fresh interpreter thread ident (`threading.get_ident()`), unique in the process.
pub fn new_thread_id() -> ThreadId {
    NEXT_TID.fetch_add(1, Ordering::Relaxed)
}

/// A native function value.
pub fn native(name: &'static str, qualname: &str, func: NativeFn, is_method: bool) -> Value {
    Value::Native(Arc::new(NativeFunction::new(
        name, qualname, func, is_method,
    )))
}

impl Interp {
    pub fn new(options: Options) -> Arc<Interp> {
        let gil = Arc::new(Gil::new(options.gil, options.switch_interval));
        let main_tid = new_thread_id();
        gil.register_thread(main_tid, "MainThread");
        let idle_code = Arc::new(CodeObj::new(
            Arc::new(crate::compile::code::Code {
                name: "<idle>".into(),
                qualname: "<idle>".into(),
                filename: "<idle>".into(),
                instrs: Vec::new(),
                spans: Vec::new(),
                lines: Vec::new(),
                consts: Vec::new(),
                names: Vec::new(),
                varnames: Vec::new(),
                cellvars: Vec::new(),
                cell2arg: Vec::new(),
                freevars: Vec::new(),
                argcount: 0,
                posonlyargcount: 0,
                kwonlyargcount: 0,
                flags: 0,
                first_line: 0,
                max_stack: 0,
                attr_sites: 0,
            }),
            Box::new([]),
            Box::new([]),
        ));
        install_vm_methods();
        let builtins = Brc::new(PyDict::new());
        crate::vm::builtins::fill_builtins(&builtins);
        intern_keys(&builtins);
        let modules = Brc::new(PyDict::new());
        modules.set(
            "builtins",
            Value::Module(Arc::new(Module {
                name: "builtins".into(),
                dict: builtins.clone(),
                initializing: Default::default(),
            })),
        );
        builtins.set("__name__", Value::str("builtins"));
        Arc::new(Interp {
            gil,
            modules,
            idle_func: body_function(idle_code, builtins.clone()),
            builtins,
            sources: Mutex::new(HashMap::new()),
            recursion_limit: AtomicUsize::new(DEFAULT_RECURSION_LIMIT),
            argv: options.argv.clone(),
            main_tid,
            stdout: Mutex::new(Vec::with_capacity(8192)),
            stdout_tty: std::io::stdout().is_terminal(),
            threading_imported: AtomicBool::new(false),
            build_class: native(
                "__build_class__",
                "builtins.__build_class__",
                crate::vm::class::build_class,
                false,
            ),
            options,
        })
    }

    pub fn recursion_limit(&self) -> usize {
        self.recursion_limit.load(Ordering::Relaxed)
    }

    pub fn set_recursion_limit(&self, n: usize) {
        self.recursion_limit.store(n, Ordering::Relaxed);
    }

    /// Remember a file's source text for tracebacks.
    pub fn add_source(&self, filename: &str, text: &str) {
        self.sources.lock().insert(filename.into(), text.into());
    }

    pub fn source(&self, filename: &str) -> Option<Arc<str>> {
        self.sources.lock().get(filename).cloned()
    }

    /// Line `line` (1-based) of a registered file, without its newline.
    pub fn source_line(&self, filename: &str, line: u32) -> Option<String> {
        let text = self.source(filename)?;
        text.split('\n')
            .nth(line.checked_sub(1)? as usize)
            .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
    }

    /// Write to stdout through the process-wide buffer: one call's text is
    /// never interleaved with another thread's.
    pub fn write_stdout(&self, s: &str) {
        self.write_stdout_bytes(s.as_bytes());
    }

    /// `sys.stdout.buffer.write`: bytes into the same buffer as text.
    pub fn write_stdout_bytes(&self, s: &[u8]) {
        let mut buf = self.stdout.lock();
        buf.extend_from_slice(s);
        if self.stdout_tty || buf.len() >= 8192 {
            flush_buf(&mut buf);
        }
    }

    pub fn flush_stdout(&self) {
        flush_buf(&mut self.stdout.lock());
    }

    /// Stderr is unbuffered; stdout is flushed first so the two stay in order
    /// on a terminal.
    pub fn write_stderr(&self, s: &str) {
        self.write_stderr_bytes(s.as_bytes());
    }

    /// `sys.stderr.buffer.write`.
    pub fn write_stderr_bytes(&self, s: &[u8]) {
        self.flush_stdout();
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(s);
        let _ = err.flush();
    }

    /// A module from `sys.modules`.
    pub fn module(&self, name: &str) -> Option<Value> {
        self.modules.get_str(&PyStr::new(name))
    }
}

/// Install the methods this part of the VM defines (exceptions, generators,
/// `super`) into the built-in classes, once per process.
fn install_vm_methods() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let t = types();
        crate::vm::exceptions::install(t);
        crate::vm::generator::install(t);
        crate::vm::class::install(t);
    });
}

/// Convert a compiled code object's constants and names to runtime values
/// (nested code objects too), once per load.
pub fn load_code(code: &Arc<Code>) -> Arc<CodeObj> {
    let consts = code.consts.iter().map(const_value).collect();
    let names = code.names.iter().map(|n| intern(n)).collect();
    Arc::new(CodeObj::new(code.clone(), consts, names))
}

/// The one shared `PyStr` for an identifier. Names in code objects are
/// interned, so namespace lookups of the same name from different code
/// objects usually match by pointer (`DictMap::find_str`) instead of by
/// comparing bytes. Only compiled names and identifier-like constants go
/// here, so the table stays as small as the programs' source.
pub fn intern(s: &str) -> Brc<PyStr> {
    static TABLE: std::sync::OnceLock<Mutex<HashMap<Box<str>, Brc<PyStr>>>> =
        std::sync::OnceLock::new();
    let mut table = TABLE.get_or_init(|| Mutex::new(HashMap::new())).lock();
    if let Some(p) = table.get(s) {
        return p.clone();
    }
    let p = Brc::new(PyStr::new(s));
    table.insert(s.into(), p.clone());
    p
}

/// Re-key a namespace with interned names (same order), so that global
/// lookups falling through to it match by pointer.
fn intern_keys(d: &PyDict) {
    let fresh = PyDict::new();
    for (k, v) in d.items() {
        match &k {
            Value::Str(s) => fresh.set_str(intern(s.as_str()), v),
            _ => return,
        }
    }
    std::mem::swap(&mut *d.map.lock(), &mut *fresh.map.lock());
}

/// CPython interns string constants that look like identifiers.
fn is_identifier_like(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn const_value(c: &Const) -> Value {
    match c {
        Const::None => Value::None,
        Const::Bool(b) => Value::Bool(*b),
        Const::Ellipsis => types().ellipsis.clone(),
        Const::Int(i) => Value::Int(*i),
        Const::BigInt(digits) => match digits.parse::<num_bigint::BigInt>() {
            Ok(b) => Value::BigInt(Arc::new(b)),
            Err(_) => Value::Int(0),
        },
        Const::Float(f) => Value::Float(*f),
        Const::Complex(re, im) => crate::vm::complex::value(*re, *im),
        Const::Str(s) if is_identifier_like(s) => Value::Str(intern(s)),
        Const::Str(s) => Value::Str(intern(s)),
        Const::Bytes(b) => Value::Bytes(Arc::new(b.to_vec())),
        Const::Tuple(items) => Value::tuple(items.iter().map(const_value).collect()),
        Const::Code(c) => Value::Object(Arc::new(Object {
            class: types().code.clone(),
            kind: ObjKind::Code(load_code(c)),
        })),
    }
}

fn flush_buf(buf: &mut Vec<u8>) {
    if buf.is_empty() {
        return;
    }
    let mut out = std::io::stdout().lock();
    // A closed pipe is not worth dying over; CPython would report it at exit.
    let _ = out.write_all(buf);
    let _ = out.flush();
    buf.clear();
}

/// One interpreter thread's state.
pub struct Vm {
    pub interp: Arc<Interp>,
    pub tid: ThreadId,
    pub is_main: bool,
    /// Cached from `interp` for the dispatch loop's checks.
    pub(crate) gil: Arc<Gil>,
    pub(crate) builtins: Brc<PyDict>,
    /// The running frame; `frames` holds its callers (innermost last).
    pub(crate) frame: Frame,
    pub(crate) frames: Vec<Frame>,
    /// The thread's value stack: every running frame's locals and
    /// temporaries, from its `base` up.
    pub(crate) stack: Vec<Value>,
    /// The exception being handled (`Value::None` if none).
    pub(crate) handled: Value,
    /// Active frames plus native recursion (`enter_recursion`).
    pub(crate) depth: usize,
    /// The return value of the generator that just finished.
    pub(crate) stop_value: Option<Value>,
    /// Address near the base of this thread's stack, and the bytes usable below it.
    stack_base: usize,
    stack_budget: usize,
    /// Recycled vectors for frame slots and call arguments.
    pool: Vec<Vec<Value>>,
    /// How the error leaving the dispatch loop was raised (see `run.rs`).
    pub(crate) raise_mode: run::RaiseMode,
    /// Positional argument count spread onto the stack by `CallEx`.
    pub(crate) spread_npos: usize,
    /// Global/builtin lookups, validated by dict change counters.
    pub(crate) global_cache: run::GlobalCache,
    /// Attribute lookups, per instruction site.
    pub(crate) site_cache: crate::vm::site_cache::SiteCache,
    /// `__del__` methods are running (`vm::finalize`): do not nest them.
    pub(crate) finalizing: bool,
}

impl Vm {
    /// A VM for the current thread, which must have (at least)
    /// [`DEFAULT_STACK_SIZE`] of stack; see [`Vm::set_stack_size`].
    pub fn new(interp: Arc<Interp>, tid: ThreadId) -> Vm {
        // Full-size caches for the main thread, small growing ones for the
        // others: see `vm::footprint`.
        let start = if tid == interp.main_tid {
            Start::Full
        } else {
            Start::Small
        };
        Vm::with_tables(interp, tid, Tables::new(start))
    }

    /// [`Vm::new`] with caches and value stack made beforehand, possibly
    /// by another thread (see [`Tables`]).
    pub fn with_tables(interp: Arc<Interp>, tid: ThreadId, tables: Tables) -> Vm {
        let marker = 0u8;
        let stack_base = std::ptr::addr_of!(marker) as usize;
        let is_main = tid == interp.main_tid;
        crate::vm::ops::install_thread_tables(tables.attr_cache, tables.intern);
        Vm {
            gil: interp.gil.clone(),
            builtins: interp.builtins.clone(),
            frame: Frame::empty(interp.idle_func.clone()),
            frames: Vec::new(),
            stack: tables.stack,
            handled: Value::None,
            depth: 0,
            stop_value: None,
            stack_base,
            stack_budget: budget_for(DEFAULT_STACK_SIZE),
            pool: Vec::new(),
            raise_mode: run::RaiseMode::Fresh,
            spread_npos: 0,
            global_cache: tables.global_cache,
            site_cache: tables.site_cache,
            finalizing: false,
            interp,
            tid,
            is_main,
        }
    }

    /// Declare the size of the thread's stack (the thread was spawned with it).
    pub fn set_stack_size(&mut self, bytes: usize) {
        self.stack_budget = budget_for(bytes);
    }

    /// Called at every nested entry into the dispatch loop and from
    /// `enter_recursion`: refuse to go deeper when the Rust stack runs low.
    #[inline]
    pub(crate) fn check_stack(&self) -> PyResult<()> {
        let marker = 0u8;
        let here = std::ptr::addr_of!(marker) as usize;
        if self.stack_base.saturating_sub(here) > self.stack_budget {
            return Err(PyErr::new(
                ExcKind::RecursionError,
                "maximum recursion depth exceeded",
            ));
        }
        Ok(())
    }

    /// Natives that recurse on the Rust stack (repr/eq/hash of nested
    /// containers) bracket each level with this and `leave_recursion`.
    pub fn enter_recursion(&mut self) -> PyResult<()> {
        self.enter_recursion_for("")
    }

    /// Like `enter_recursion`, naming the activity in the message
    /// (" while getting the repr of an object").
    pub fn enter_recursion_for(&mut self, what: &str) -> PyResult<()> {
        if self.depth >= self.interp.recursion_limit() || self.check_stack().is_err() {
            return Err(PyErr::new(
                ExcKind::RecursionError,
                format!("maximum recursion depth exceeded{what}"),
            ));
        }
        self.depth += 1;
        Ok(())
    }

    pub fn leave_recursion(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Run `f` one recursion level deeper (see `enter_recursion_for`), as
    /// CPython's C functions that hold a level while they call back into
    /// the program.
    #[inline]
    pub fn at_level<R>(
        &mut self,
        what: &str,
        f: impl FnOnce(&mut Vm) -> PyResult<R>,
    ) -> PyResult<R> {
        self.enter_recursion_for(what)?;
        let r = f(self);
        self.leave_recursion();
        r
    }

    /// Release the GIL around a blocking call.
    pub fn allow_threads<R>(&mut self, f: impl FnOnce() -> R) -> R {
        self.gil.allow_threads(self.tid, f)
    }

    /// Handle a pending eval-breaker request now (for natives that loop or
    /// wait in slices): a GIL drop request, or Ctrl-C in the main thread.
    pub fn check_signals(&mut self) -> PyResult<()> {
        if self.gil.eval_breaker() != 0 && self.gil.handle_break(self.tid, self.is_main) {
            return Err(PyErr::with_args(ExcKind::KeyboardInterrupt, vec![]));
        }
        Ok(())
    }

    /// The exception currently being handled (`sys.exc_info()`, bare `raise`).
    pub fn handled_exception(&self) -> Option<PyErr> {
        match &self.handled {
            Value::Instance(i) => Some(PyErr { exc: i.clone() }),
            _ => None,
        }
    }

    /// The globals of the running frame (the `__main__` namespace when idle).
    pub fn current_globals(&self) -> Brc<PyDict> {
        if self.frames.is_empty() {
            if let Some(Value::Module(m)) = self.interp.module("__main__") {
                return m.dict.clone();
            }
        }
        self.frame.func.globals.clone()
    }

    /// The locals mapping of the running frame if it has one (module and
    /// class bodies), for `locals()` / `vars()`.
    pub fn current_locals(&self) -> Option<Brc<PyDict>> {
        self.frame.locals().cloned()
    }

    /// The value of the running frame's local slot `name` (for `locals()` in functions).
    pub fn current_fast_locals(&self) -> Vec<(Arc<str>, Value)> {
        let code = &self.frame.func.code.code;
        let mut out = Vec::new();
        let base = self.frame.base as usize;
        for (i, name) in code.varnames.iter().enumerate() {
            if let Some(v) = self.stack.get(base + i) {
                if !v.is_null() {
                    out.push((name.clone(), v.clone()));
                }
            }
        }
        for (i, name) in code.cellvars.iter().chain(code.freevars.iter()).enumerate() {
            if let Some(cell) = self.frame.cells().get(i) {
                let v = cell.value.lock().clone();
                if !v.is_null() {
                    out.push((name.clone(), v));
                }
            }
        }
        out
    }

    /// The return value of the generator that just finished (`None` if it returned nothing).
    pub fn take_stop_value(&mut self) -> Value {
        self.stop_value.take().unwrap_or(Value::None)
    }

    /// A vector from the pool with room for `cap` values.
    #[inline]
    pub(crate) fn take_vec(&mut self, cap: usize) -> Vec<Value> {
        match self.pool.pop() {
            Some(mut v) => {
                v.reserve(cap);
                v
            }
            None => Vec::with_capacity(cap.max(8)),
        }
    }

    #[inline]
    pub(crate) fn give_vec(&mut self, mut v: Vec<Value>) {
        // Most slots hold scalars: decide their (absent) drop inline.
        while let Some(x) = v.pop() {
            match x {
                Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::None | Value::Null => {
                    std::mem::forget(x)
                }
                other => drop(other),
            }
        }
        if self.pool.len() < 64 && v.capacity() <= 4096 {
            self.pool.push(v);
        }
    }

    /// The names a frame of this thread is running, outermost first (for `sys._getframe`-like needs).
    pub fn frame_names(&self) -> Vec<Arc<str>> {
        self.frames
            .iter()
            .skip(1)
            .chain(std::iter::once(&self.frame))
            .map(|f| f.func.code.code.name.clone())
            .collect()
    }

    /// Filename, line and module `__name__` of the frame `n` levels up from
    /// the running one (0: the running frame), for `warnings.warn`.
    pub fn frame_location(&self, n: usize) -> Option<(Arc<str>, u32, Option<Value>)> {
        let f = std::iter::once(&self.frame)
            .chain(self.frames.iter().skip(1).rev())
            .nth(n)?;
        let code = &f.func.code.code;
        Some((
            code.filename.clone(),
            f.line(),
            f.func.globals.get("__name__"),
        ))
    }

    /// Run a program as the `__main__` module. `file` sets `__file__`.
    pub fn run_main(&mut self, src: &str, filename: &str, file: Option<&str>) -> PyResult<()> {
        let module = new_module("__main__");
        // CPython's globals of `__main__`, in its order.
        let loader = self.main_loader(file)?;
        module.dict.set("__loader__", loader);
        module.dict.set("__spec__", Value::None);
        module
            .dict
            .set("__annotations__", Value::Dict(Brc::new(PyDict::new())));
        if let Some(b) = self.interp.module("builtins") {
            module.dict.set("__builtins__", b);
        }
        if let Some(f) = file {
            module.dict.set("__file__", Value::str(f));
            module.dict.set("__cached__", Value::None);
        }
        self.interp
            .modules
            .set("__main__", Value::Module(module.clone()));
        let code = match self.compile_source(src, filename) {
            Err(e) if file.is_some() => return Err(self.main_syntax_error(e, src, filename)),
            r => r?,
        };
        if self.interp.options.dis {
            self.interp
                .write_stdout(&crate::compile::disassemble(&code.code));
            return Ok(());
        }
        self.exec_module_code(code, &module)
    }

    /// `__main__.__loader__`: a `SourceFileLoader` for a program read from a
    /// file, the `BuiltinImporter` class for one given with -c or on stdin.
    fn main_loader(&mut self, file: Option<&str>) -> PyResult<Value> {
        match file {
            Some(path) if path != "<stdin>" => {
                let m = self.import("_frozen_importlib_external")?;
                let class = self.get_attr(&m, "SourceFileLoader")?;
                self.call(&class, &[Value::str("__main__"), Value::str(path)], &[])
            }
            _ => {
                let m = self.import("_frozen_importlib")?;
                self.get_attr(&m, "BuiltinImporter")
            }
        }
    }

    /// A program read from a file or stdin: CPython's file tokenizer has no
    /// column for an error found at the end of the input.
    fn main_syntax_error(&self, e: PyErr, src: &str, filename: &str) -> PyErr {
        let front_end = crate::syntax::parse_module(src).err().filter(|se| {
            se.at_eof
                && !matches!(
                    se.kind,
                    SyntaxErrorKind::TooDeep | SyntaxErrorKind::NoMemory
                )
        });
        match front_end {
            Some(se) => self.syntax_error_at(&se, filename, Some(src), true, false),
            None => e,
        }
    }

    /// The Python exception for a front-end error in `filename` (whose text
    /// is `src`, when it could be decoded).
    pub fn syntax_error(&self, e: &SyntaxError, filename: &str, src: Option<&str>) -> PyErr {
        self.syntax_error_at(e, filename, src, false, false)
    }

    /// [`Vm::syntax_error`] for an error found by the compiler (scoping,
    /// `return` outside a function, ...): CPython gives its column in bytes.
    pub fn compile_error(&self, e: &SyntaxError, filename: &str, src: &str) -> PyErr {
        self.syntax_error_at(e, filename, Some(src), false, true)
    }

    /// [`Vm::syntax_error`]; `from_file` for a program read as a file,
    /// where an error at the end of the input has no column.
    fn syntax_error_at(
        &self,
        e: &SyntaxError,
        filename: &str,
        src: Option<&str>,
        from_file: bool,
        compiling: bool,
    ) -> PyErr {
        let kind = match e.kind {
            SyntaxErrorKind::SyntaxError => ExcKind::SyntaxError,
            SyntaxErrorKind::IndentationError => ExcKind::IndentationError,
            SyntaxErrorKind::TabError => ExcKind::TabError,
            SyntaxErrorKind::TooDeep => return PyErr::new(ExcKind::RecursionError, e.msg.clone()),
            SyntaxErrorKind::NoMemory => return PyErr::with_args(ExcKind::MemoryError, vec![]),
        };
        let (Some(src), true) = (src, e.has_location()) else {
            return PyErr::new(kind, e.msg.clone());
        };
        if let Some(q) = &e.quote {
            let (lineno, _, _) = position(src, e.span.start as usize);
            let info = Value::tuple(vec![
                Value::str(filename),
                Value::Int(lineno as i64),
                Value::Int(q.offset as i64),
                Value::str(&q.text),
                Value::Int(lineno as i64),
                Value::Int(q.end_offset as i64),
            ]);
            return PyErr::with_args(kind, vec![Value::str(&e.msg), info]);
        }
        let (start, end) = (e.span.start as usize, e.span.end.max(e.span.start) as usize);
        let (lineno, mut offset, mut text) = position(src, start);
        let (end_lineno, mut end_offset, _) = position(src, end);
        // A file's line is quoted as CPython re-reads it, with its columns;
        // the tokenizer's own errors quote its copy, counting characters.
        let reread = !tokenizer_message(&e.msg);
        if let Some(line) = reread
            .then(|| crate::vm::program_text::program_line(filename, lineno))
            .flatten()
        {
            let (col, end_col) = (byte_column(src, start), byte_column(src, end));
            if line.declared_encoding && !compiling {
                offset = crate::vm::program_text::char_column(&line.text, col);
                end_offset = crate::vm::program_text::char_column(&line.text, end_col);
            } else {
                (offset, end_offset) = (col, end_col);
            }
            text = line.text;
        }
        // CPython gives these no column.
        if e.msg == NULL_BYTES || e.msg.starts_with("Exceeds the limit (") {
            (offset, end_offset) = (0, 0);
        }
        // CPython raises this one with an end column of -1, stored as 0.
        if e.msg == "':' expected after dictionary key" {
            end_offset = 0;
        }
        // No column (so no caret) for the end of a file, or for a plain
        // "invalid syntax" at the end of any input.
        if e.at_eof && (from_file || e.msg == "invalid syntax") {
            offset = 0;
        }
        let info = Value::tuple(vec![
            Value::str(filename),
            Value::Int(lineno as i64),
            Value::Int(offset as i64),
            Value::from_string(text),
            Value::Int(end_lineno as i64),
            Value::Int(end_offset as i64),
        ]);
        PyErr::with_args(kind, vec![Value::str(&e.msg), info])
    }

    /// Construct an instance of a user class (or of a subclass of a built-in
    /// type) with the built-in part its layout needs. Used by `object.__new__`.
    pub fn new_instance(class: &Arc<Class>) -> Value {
        crate::vm::class::new_instance(class)
    }
}

/// The message of the check for null bytes, which CPython reports without
/// a column.
const NULL_BYTES: &str = "source code cannot contain null bytes";

/// Errors CPython's tokenizer raises itself (`syntaxerror()` in
/// Parser/tokenizer.c) rather than through the parser.
fn tokenizer_message(msg: &str) -> bool {
    const PREFIXES: [&str; 14] = [
        "invalid character",
        "invalid non-printable character",
        "invalid decimal literal",
        "invalid hexadecimal literal",
        "invalid octal literal",
        "invalid binary literal",
        "invalid digit",
        "leading zeros",
        "invalid imaginary literal",
        "unterminated string literal",
        "unterminated triple-quoted string literal",
        "too many nested parentheses",
        "unmatched '",
        "closing parenthesis",
    ];
    PREFIXES.iter().any(|p| msg.starts_with(p))
}

/// The 1-based byte column of byte offset `at` in its line of `src`.
fn byte_column(src: &str, at: usize) -> usize {
    let at = at.min(src.len());
    at - src.as_bytes()[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1)
        + 1
}

/// Line number (1-based), column (1-based, in characters) and the text of
/// the line (with its newline) of byte offset `at` in `src`.
fn position(src: &str, at: usize) -> (usize, usize, String) {
    let mut at = at.min(src.len());
    while !src.is_char_boundary(at) {
        at -= 1;
    }
    let line_start = src[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line_end = src[at..]
        .find('\n')
        .map(|i| at + i + 1)
        .unwrap_or(src.len());
    let lineno = src[..at].matches('\n').count() + 1;
    let col = src[line_start..at].chars().count() + 1;
    (lineno, col, src[line_start..line_end].to_string())
}

fn budget_for(stack_size: usize) -> usize {
    // Keep a quarter (at least 256 KiB) for the natives running at the deepest level.
    stack_size.saturating_sub((stack_size / 4).max(256 << 10))
}

/// `type(v).__name__`, for error messages.
pub fn type_name(v: &Value) -> Arc<str> {
    let c = types().class_of(v);
    // CPython's `types.UnionType` and `types.GenericAlias` carry their
    // module in the name their messages use, as do the `datetime` classes
    // (C types there, in-language here).
    if &*c.module == "types" && c.layout == crate::vm::value::Layout::Other {
        return format!("types.{}", c.name).into();
    }
    if &*c.module == "datetime" {
        return format!("datetime.{}", c.name).into();
    }
    c.name.get()
}

/// A module object with a fresh namespace holding `__name__`.
pub fn new_module(name: &str) -> Arc<Module> {
    let dict = Brc::new(PyDict::new());
    dict.set_str(Brc::new(PyStr::new("__name__")), Value::str(name));
    dict.set_str(Brc::new(PyStr::new("__doc__")), Value::None);
    dict.set_str(Brc::new(PyStr::new("__package__")), Value::None);
    Arc::new(Module {
        name: name.into(),
        dict,
        initializing: Default::default(),
    })
}

/// Interned-enough string value for a name.
pub fn name_str(s: &str) -> Brc<PyStr> {
    intern(s)
}
