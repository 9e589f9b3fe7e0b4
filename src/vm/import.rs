//! The import system: `sys.modules`, then native modules, then the embedded
//! in-language modules, then `NAME.script` / `NAME.py` files on the search
//! path. Packages by dotted names; the parent gets the child as attribute.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::vm::error::{ExcKind, PyErr, PyResult};
use crate::vm::frame::{body_function, Frame};
use crate::vm::interp::run::Exit;
use crate::vm::interp::{name_str, Vm};
use crate::vm::value::{CodeObj, Module, PyStr, Value};

impl Vm {
    /// Import `name` (dotted names import their parents first) and return
    /// that module.
    pub fn import(&mut self, name: &str) -> PyResult<Value> {
        if let Some(m) = self.interp.module(name) {
            return Ok(m);
        }
        if name.is_empty() {
            return Err(PyErr::value_error("Empty module name"));
        }
        let parent = match name.rsplit_once('.') {
            Some((p, _)) => Some(self.import(p)?),
            None => None,
        };
        // The parent's import may have imported this module too.
        if let Some(m) = self.interp.module(name) {
            return Ok(m);
        }
        let Some(module) = self.load_module(name)? else {
            let msg = match (&parent, name.rsplit_once('.')) {
                (Some(Value::Module(p)), Some((pname, _))) if p.dict.get("__path__").is_none() => {
                    format!("No module named '{name}'; '{pname}' is not a package")
                }
                _ => format!("No module named '{name}'"),
            };
            return Err(not_found(name, msg));
        };
        if let (Some(Value::Module(p)), Some((_, child))) = (&parent, name.rsplit_once('.')) {
            p.dict.set(child, module.clone());
        }
        if name == "threading" {
            self.interp
                .threading_imported
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(module)
    }

    /// Find and run module `name`; `None` when there is no such module.
    /// As in CPython, the search path (the script's directory first) comes
    /// before the bundled modules, so a local `queue.py` shadows `queue`;
    /// only the modules CPython builds in, freezes or loads before the
    /// program starts are found ahead of the path. `.script` files, which
    /// CPython would not import, never shadow a bundled module (a script
    /// `collections.script` that imports `collections` gets the real one).
    fn load_module(&mut self, name: &str) -> PyResult<Option<Value>> {
        if !loaded_before_path(name) {
            if let Some(m) = self.load_from_path(name, true)? {
                return Ok(Some(m));
            }
        }
        if let Some(r) = crate::stdlib::native_module(self, name) {
            let m = Value::Module(r?);
            self.interp.modules.set(name, m.clone());
            return Ok(Some(m));
        }
        if let Some(src) = crate::stdlib::py_source(name) {
            let filename = format!("<frozen {name}>");
            let is_pkg = crate::stdlib::is_package(name);
            return self
                .exec_source_module(name, src, &filename, None, is_pkg)
                .map(Some);
        }
        self.load_from_path(name, false)
    }

    /// Find and run `NAME.script` / `NAME.py` (or a package) on the search
    /// path; only the `.py` forms when `py_only`.
    fn load_from_path(&mut self, name: &str, py_only: bool) -> PyResult<Option<Value>> {
        let rel = name.replace('.', "/");
        let dirs: Vec<PathBuf> = self.interp.options.path.clone();
        for dir in dirs {
            // CPython reads '' as the working directory, and names module
            // files found there by their absolute path.
            let dir = if dir.as_os_str().is_empty() {
                std::env::current_dir().unwrap_or(dir)
            } else {
                dir
            };
            for (file, is_pkg) in [
                (format!("{rel}.script"), false),
                (format!("{rel}.py"), false),
                (format!("{rel}/__init__.script"), true),
                (format!("{rel}/__init__.py"), true),
            ] {
                let path = dir.join(&file);
                if (py_only && !file.ends_with(".py")) || !path.is_file() {
                    continue;
                }
                let bytes = std::fs::read(&path).map_err(|e| {
                    PyErr::new(
                        ExcKind::ImportError,
                        format!("cannot read {}: {e}", path.display()),
                    )
                })?;
                let filename = display_path(&path);
                let src = match crate::syntax::decode_source(&bytes, &filename) {
                    Ok(s) => s,
                    Err(e) => return Err(self.syntax_error(&e, &filename, None)),
                };
                return self
                    .exec_source_module(name, &src, &filename, Some(&filename), is_pkg)
                    .map(Some);
            }
        }
        Ok(None)
    }

    /// Compile and run module source as module `name`, registered in
    /// `sys.modules` while it runs (and removed again if it fails).
    fn exec_source_module(
        &mut self,
        name: &str,
        src: &str,
        filename: &str,
        file: Option<&str>,
        is_pkg: bool,
    ) -> PyResult<Value> {
        let code = self.compile_source(src, filename)?;
        let module = crate::vm::interp::new_module(name);
        if let Some(f) = file {
            module.dict.set("__file__", Value::str(f));
        }
        let package = if is_pkg {
            name.to_string()
        } else {
            name.rsplit_once('.')
                .map(|(p, _)| p.to_string())
                .unwrap_or_default()
        };
        module.dict.set("__package__", Value::str(&package));
        if is_pkg {
            module.dict.set("__path__", Value::list(Vec::new()));
        }
        let mv = Value::Module(module.clone());
        self.interp.modules.set(name, mv.clone());
        module.initializing.store(true, Ordering::Relaxed);
        let result = self.exec_module_code(code, &module);
        module.initializing.store(false, Ordering::Relaxed);
        if let Err(e) = result {
            let _ = self.interp.modules.del_str(&PyStr::new(name));
            return Err(e);
        }
        // The module may have replaced itself in sys.modules.
        Ok(self.interp.module(name).unwrap_or(mv))
    }

    /// Parse and compile, registering the source for tracebacks.
    pub fn compile_source(&mut self, src: &str, filename: &str) -> PyResult<Arc<CodeObj>> {
        self.interp.add_source(filename, src);
        let ast = crate::syntax::parse_module(src)
            .map_err(|e| self.syntax_error(&e, filename, Some(src)))?;
        let code = crate::compile::compile_module_with_source(&ast, src, filename)
            .map_err(|e| self.compile_error(&e, filename, src))?;
        Ok(crate::vm::interp::load_code(&code))
    }

    /// Run a module body in the module's namespace.
    pub fn exec_module_code(&mut self, code: Arc<CodeObj>, module: &Arc<Module>) -> PyResult<()> {
        let func = body_function(code, module.dict.clone());
        let slots = self.take_vec(func.code.code.max_stack as usize);
        let frame = Frame::new(func, slots);
        match self.run_frame(frame, None)? {
            Exit::Return(_) => Ok(()),
            Exit::Yield(_, f) => {
                self.recycle(f);
                Err(PyErr::new(ExcKind::SystemError, "module body yielded"))
            }
        }
    }

    /// `ImportName`: `import a.b` binds `a` (the top package) unless there
    /// is a from-list; `level` > 0 is relative to the current package.
    pub(crate) fn import_name(
        &mut self,
        name: &str,
        fromlist: &Value,
        level: &Value,
    ) -> PyResult<Value> {
        let level = match level {
            Value::Int(n) => *n,
            _ => 0,
        };
        let full = if level > 0 {
            let globals = self.frame.func.globals.clone();
            let package = match globals.get_str(&PyStr::new("__package__")) {
                Some(Value::Str(p)) if !p.as_str().is_empty() => p.as_str().to_string(),
                _ => match globals.get_str(&PyStr::new("__name__")) {
                    Some(Value::Str(n)) => {
                        if globals.get_str(&PyStr::new("__path__")).is_some() {
                            n.as_str().to_string()
                        } else {
                            n.as_str()
                                .rsplit_once('.')
                                .map(|(p, _)| p.to_string())
                                .unwrap_or_default()
                        }
                    }
                    _ => String::new(),
                },
            };
            if package.is_empty() {
                return Err(PyErr::new(
                    ExcKind::ImportError,
                    "attempted relative import with no known parent package",
                ));
            }
            let mut base = package.as_str();
            for _ in 1..level {
                match base.rsplit_once('.') {
                    Some((p, _)) => base = p,
                    None => {
                        return Err(PyErr::new(
                            ExcKind::ImportError,
                            "attempted relative import beyond top-level package",
                        ))
                    }
                }
            }
            if name.is_empty() {
                base.to_string()
            } else {
                format!("{base}.{name}")
            }
        } else {
            name.to_string()
        };
        let module = self.import(&full)?;
        let has_fromlist = match fromlist {
            Value::Tuple(t) => !t.items.is_empty(),
            Value::List(l) => !l.items.lock().is_empty(),
            Value::None | Value::Null => false,
            _ => true,
        };
        if has_fromlist || level > 0 || !full.contains('.') {
            return Ok(module);
        }
        let top = full.split('.').next().unwrap_or(&full);
        Ok(self.interp.module(top).unwrap_or(module))
    }

    /// `ImportFrom`: `from m import name` (a submodule is imported if needed).
    pub(crate) fn import_from(&mut self, module: &Value, name: &str) -> PyResult<Value> {
        if let Some(v) = self.get_attr_opt(module, name)? {
            return Ok(v);
        }
        let mod_name = match module {
            Value::Module(m) => m.name.to_string(),
            _ => String::new(),
        };
        if !mod_name.is_empty() {
            let full = format!("{mod_name}.{name}");
            match self.import(&full) {
                Ok(v) => return Ok(v),
                Err(e) if e.matches(ExcKind::ModuleNotFoundError) => {}
                Err(e) => return Err(e),
            }
        }
        let location = match module {
            Value::Module(m) => match m.dict.get("__file__") {
                Some(Value::Str(f)) => f.as_str().to_string(),
                _ => "unknown location".to_string(),
            },
            _ => "unknown location".to_string(),
        };
        let e = PyErr::new(
            ExcKind::ImportError,
            format!("cannot import name '{name}' from '{mod_name}' ({location})"),
        );
        {
            let mut attrs = e.exc.attrs.lock();
            attrs.insert("name".into(), Value::str(&mod_name));
            attrs.insert(
                "path".into(),
                if location == "unknown location" {
                    Value::None
                } else {
                    Value::str(&location)
                },
            );
        }
        Err(e)
    }

    /// `from m import *`: `__all__`, or every name not starting with `_`.
    pub(crate) fn import_star(&mut self, module: &Value) -> PyResult<()> {
        let Value::Module(m) = module else {
            return Err(PyErr::type_error(
                "from-import-* object has no __dict__ and no __all__",
            ));
        };
        let names: Vec<Value> = match m.dict.get("__all__") {
            Some(all) => self.collect(&all)?,
            None => m
                .dict
                .keys()
                .into_iter()
                .filter(|k| matches!(k, Value::Str(s) if !s.as_str().starts_with('_')))
                .collect(),
        };
        let target = match self.frame.locals() {
            Some(l) => l.clone(),
            None => self.frame.func.globals.clone(),
        };
        for n in names {
            let Value::Str(s) = &n else { continue };
            let v = self.get_attr(module, s.as_str())?;
            target.set_str(name_str(s.as_str()), v);
        }
        Ok(())
    }
}

/// Modules a file on the search path cannot shadow: CPython's built-in
/// (`sys.builtin_module_names`) and frozen modules, which its importers
/// try before the path, and the ones it has loaded before the program
/// runs. Also this interpreter's own internal modules (`_re`, ...), which
/// the bundled modules rely on.
fn loaded_before_path(name: &str) -> bool {
    name.starts_with('_')
        || matches!(
            name,
            "abc"
                | "atexit"
                | "builtins"
                | "codecs"
                | "encodings"
                | "errno"
                | "faulthandler"
                | "gc"
                | "genericpath"
                | "io"
                | "itertools"
                | "marshal"
                | "os"
                | "os.path"
                | "posix"
                | "posixpath"
                | "pwd"
                | "runpy"
                | "site"
                | "stat"
                | "sys"
                | "time"
                | "xxsubtype"
                | "zipimport"
        )
}

/// A path as tracebacks show it: relative paths stay relative.
fn display_path(p: &std::path::Path) -> String {
    let s = p.to_string_lossy().to_string();
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

/// ModuleNotFoundError for `name`, with its `name` attribute set.
fn not_found(name: &str, msg: String) -> PyErr {
    let e = PyErr::new(ExcKind::ModuleNotFoundError, msg);
    e.exc.attrs.lock().insert("name".into(), Value::str(name));
    e
}
