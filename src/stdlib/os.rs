//! `os` and `os.path` (posixpath): process facts, the environment, and the file
//! system operations scripts commonly use.

use std::path::Path;
use std::sync::Arc;

use crate::stdlib::{
    add_functions, check_args, get_attr, kwarg, new_module, set_attr, str_dict, to_i64, type_name,
};
use crate::vm::error::{ExcKind, PyErr, PyResult};
use crate::vm::interp::Vm;
use crate::vm::types::types;
use crate::vm::value::{Kwargs, Module, Value};

/// An `OSError` subclass for an I/O error, as CPython raises it: `args` is
/// `(errno, strerror)` and `filename` is set.
pub fn os_error(err: &std::io::Error, filename: Option<&str>) -> PyErr {
    let errno = err.raw_os_error().unwrap_or(0);
    let kind = match errno {
        2 => ExcKind::FileNotFoundError,
        1 | 13 => ExcKind::PermissionError,
        17 => ExcKind::FileExistsError,
        20 => ExcKind::NotADirectoryError,
        21 => ExcKind::IsADirectoryError,
        _ => match err.kind() {
            std::io::ErrorKind::NotFound => ExcKind::FileNotFoundError,
            std::io::ErrorKind::PermissionDenied => ExcKind::PermissionError,
            std::io::ErrorKind::AlreadyExists => ExcKind::FileExistsError,
            _ => ExcKind::OSError,
        },
    };
    let text = err.to_string();
    let strerror = match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    let e = PyErr::with_args(
        kind,
        vec![
            Value::Int(i64::from(errno)),
            Value::from_string(strerror.clone()),
        ],
    );
    let mut attrs = e.exc.attrs.lock();
    attrs.insert("errno".into(), Value::Int(i64::from(errno)));
    attrs.insert("strerror".into(), Value::from_string(strerror));
    attrs.insert("filename".into(), filename.map_or(Value::None, Value::str));
    attrs.insert("filename2".into(), Value::None);
    drop(attrs);
    e
}

/// A path argument: `str` (bytes paths are not supported).
fn path_arg<'a>(func: &str, v: &'a Value) -> PyResult<&'a str> {
    match v {
        Value::Str(s) => Ok(s.as_str()),
        other => Err(PyErr::type_error(format!(
            "{func}: path should be string, bytes or os.PathLike, not {}",
            type_name(other)
        ))),
    }
}

fn getpid(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("getpid", args, 0, 0)?;
    Ok(Value::Int(i64::from(std::process::id())))
}

fn getppid(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("getppid", args, 0, 0)?;
    Ok(Value::Int(i64::from(std::os::unix::process::parent_id())))
}

fn cpu_count(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("cpu_count", args, 0, 0)?;
    Ok(match std::thread::available_parallelism() {
        Ok(n) => Value::Int(n.get() as i64),
        Err(_) => Value::None,
    })
}

/// `os.getenv`: reads `os.environ`, so assignments to it are seen (as in CPython).
fn getenv(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    check_args("getenv", args, 1, 2)?;
    let Value::Str(key) = &args[0] else {
        return Err(PyErr::type_error(format!(
            "str expected, not {}",
            type_name(&args[0])
        )));
    };
    let default = args
        .get(1)
        .or_else(|| kwarg(kw, "default"))
        .cloned()
        .unwrap_or(Value::None);
    if let Some(Value::Module(os)) = vm.interp.module("os") {
        if let Some(Value::Dict(environ)) = get_attr(&os, "environ") {
            return Ok(environ.get_str(key).unwrap_or(default));
        }
    }
    Ok(match std::env::var(key.as_str()) {
        Ok(v) => Value::from_string(v),
        Err(_) => default,
    })
}

fn getcwd(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("getcwd", args, 0, 0)?;
    let cwd = std::env::current_dir().map_err(|e| os_error(&e, None))?;
    Ok(Value::from_string(cwd.to_string_lossy().into_owned()))
}

fn chdir(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("chdir", args, 1, 1)?;
    let p = path_arg("chdir", &args[0])?;
    std::env::set_current_dir(p).map_err(|e| os_error(&e, Some(p)))?;
    Ok(Value::None)
}

fn remove(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("remove", args, 1, 1)?;
    let p = path_arg("remove", &args[0])?.to_string();
    let r = vm.allow_threads(|| std::fs::remove_file(&p));
    r.map_err(|e| os_error(&e, Some(&p)))?;
    Ok(Value::None)
}

fn rmdir(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("rmdir", args, 1, 1)?;
    let p = path_arg("rmdir", &args[0])?.to_string();
    let r = vm.allow_threads(|| std::fs::remove_dir(&p));
    r.map_err(|e| os_error(&e, Some(&p)))?;
    Ok(Value::None)
}

fn mkdir(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("mkdir", args, 1, 2)?;
    let p = path_arg("mkdir", &args[0])?.to_string();
    let r = vm.allow_threads(|| std::fs::create_dir(&p));
    r.map_err(|e| os_error(&e, Some(&p)))?;
    Ok(Value::None)
}

fn makedirs(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    check_args("makedirs", args, 1, 3)?;
    let p = path_arg("makedirs", &args[0])?.to_string();
    let exist_ok = match args.get(2).or_else(|| kwarg(kw, "exist_ok")) {
        Some(v) => vm.is_true(v)?,
        None => false,
    };
    if Path::new(&p).is_dir() {
        if exist_ok {
            return Ok(Value::None);
        }
        let e = std::io::Error::from_raw_os_error(17);
        return Err(os_error(&e, Some(&p)));
    }
    let r = vm.allow_threads(|| std::fs::create_dir_all(&p));
    r.map_err(|e| os_error(&e, Some(&p)))?;
    Ok(Value::None)
}

fn rename(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("rename", args, 2, 2)?;
    let a = path_arg("rename", &args[0])?.to_string();
    let b = path_arg("rename", &args[1])?.to_string();
    let r = vm.allow_threads(|| std::fs::rename(&a, &b));
    r.map_err(|e| os_error(&e, Some(&a)))?;
    Ok(Value::None)
}

fn listdir(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("listdir", args, 0, 1)?;
    let p = match args.first() {
        None | Some(Value::None) => ".".to_string(),
        Some(v) => path_arg("listdir", v)?.to_string(),
    };
    // read_dir yields entries in readdir order, as CPython's listdir does.
    let r = vm.allow_threads(|| -> std::io::Result<Vec<String>> {
        std::fs::read_dir(&p)?
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect()
    });
    let names = r.map_err(|e| os_error(&e, Some(&p)))?;
    Ok(Value::list(
        names.into_iter().map(Value::from_string).collect(),
    ))
}

fn urandom(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    use std::io::Read;
    check_args("urandom", args, 1, 1)?;
    let n = to_i64(&args[0])?;
    if n < 0 {
        return Err(PyErr::value_error("negative argument not allowed"));
    }
    let mut buf = vec![0u8; n as usize];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| os_error(&e, None))?;
    Ok(Value::Bytes(buf.into()))
}

fn os_exit(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("_exit", args, 1, 1)?;
    let code = to_i64(&args[0])?;
    vm.interp.flush_stdout();
    std::process::exit(code as i32)
}

fn fspath(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("fspath", args, 1, 1)?;
    let v = &args[0];
    if matches!(v, Value::Str(_) | Value::Bytes(_)) {
        return Ok(v.clone());
    }
    // An os.PathLike object (`DirEntry`, a script's class) says its path.
    let method = match crate::vm::iter::class_lookup(types().class_of(v), "__fspath__") {
        Some(m) => m,
        None => {
            return Err(PyErr::type_error(format!(
                "expected str, bytes or os.PathLike object, not {}",
                type_name(v)
            )))
        }
    };
    let r = vm.call(&method, std::slice::from_ref(v), &[])?;
    match r {
        Value::Str(_) | Value::Bytes(_) => Ok(r),
        other => Err(PyErr::type_error(format!(
            "expected {}.__fspath__() to return str or bytes, not {}",
            type_name(v),
            type_name(&other)
        ))),
    }
}

fn strerror(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    check_args("strerror", args, 1, 1)?;
    let code = to_i64(&args[0])?;
    let text = std::io::Error::from_raw_os_error(code as i32).to_string();
    let text = match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    Ok(Value::from_string(text))
}

// ---------------------------------------------------------------------------
// os.path (posixpath), string operations written after CPython's posixpath.py.

fn one_path<'a>(func: &str, args: &'a [Value]) -> PyResult<&'a str> {
    check_args(func, args, 1, 1)?;
    path_arg(func, &args[0])
}

pub fn join(parts: &[&str]) -> String {
    let mut path = String::new();
    for (i, p) in parts.iter().enumerate() {
        if p.starts_with('/') || i == 0 {
            path = (*p).to_string();
        } else if path.is_empty() || path.ends_with('/') {
            path.push_str(p);
        } else {
            path.push('/');
            path.push_str(p);
        }
    }
    path
}

/// `posixpath.split`: (head, tail) with trailing slashes stripped from head.
pub fn split(p: &str) -> (String, String) {
    let i = p.rfind('/').map_or(0, |i| i + 1);
    let (head, tail) = (&p[..i], &p[i..]);
    let stripped = head.trim_end_matches('/');
    let head = if stripped.is_empty() { head } else { stripped };
    (head.to_string(), tail.to_string())
}

pub fn splitext(p: &str) -> (String, String) {
    let sep = p.rfind('/').map_or(0, |i| i + 1);
    let Some(dot) = p.rfind('.').filter(|d| *d >= sep) else {
        return (p.to_string(), String::new());
    };
    // A leading run of dots in the name is not an extension (".bashrc").
    if p[sep..dot].chars().all(|c| c == '.') {
        return (p.to_string(), String::new());
    }
    (p[..dot].to_string(), p[dot..].to_string())
}

pub fn normpath(p: &str) -> String {
    if p.is_empty() {
        return ".".to_string();
    }
    let initial = if p.starts_with("//") && !p.starts_with("///") {
        2
    } else if p.starts_with('/') {
        1
    } else {
        0
    };
    let mut out: Vec<&str> = Vec::new();
    for comp in p.split('/') {
        if comp.is_empty() || comp == "." {
            continue;
        }
        if comp != ".." || (initial == 0 && out.is_empty()) || out.last() == Some(&"..") {
            out.push(comp);
        } else if !out.is_empty() {
            out.pop();
        }
    }
    let body = out.join("/");
    let result = format!("{}{}", "/".repeat(initial), body);
    if result.is_empty() {
        ".".to_string()
    } else {
        result
    }
}

pub fn abspath(p: &str) -> String {
    if p.starts_with('/') {
        return normpath(p);
    }
    let cwd = std::env::current_dir()
        .map(|c| c.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "/".to_string());
    normpath(&join(&[&cwd, p]))
}

fn p_join(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    if args.is_empty() {
        return Err(PyErr::type_error(
            "join() missing 1 required positional argument: 'a'",
        ));
    }
    let mut parts = Vec::with_capacity(args.len());
    for a in args {
        match a {
            Value::Str(s) => parts.push(s.as_str()),
            other => {
                return Err(PyErr::type_error(format!(
                    "join() argument must be str, bytes, or os.PathLike object, not '{}'",
                    type_name(other)
                )))
            }
        }
    }
    Ok(Value::from_string(join(&parts)))
}

fn pair(a: String, b: String) -> Value {
    Value::tuple(vec![Value::from_string(a), Value::from_string(b)])
}

fn p_split(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (a, b) = split(one_path("split", args)?);
    Ok(pair(a, b))
}

fn p_splitext(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let (a, b) = splitext(one_path("splitext", args)?);
    Ok(pair(a, b))
}

fn p_basename(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let p = one_path("basename", args)?;
    Ok(Value::str(p.rsplit('/').next().unwrap_or("")))
}

fn p_dirname(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::from_string(split(one_path("dirname", args)?).0))
}

fn p_normpath(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::from_string(normpath(one_path("normpath", args)?)))
}

fn p_abspath(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::from_string(abspath(one_path("abspath", args)?)))
}

fn p_realpath(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let p = abspath(one_path("realpath", args)?);
    Ok(Value::from_string(
        std::fs::canonicalize(&p)
            .map(|c| c.to_string_lossy().into_owned())
            .unwrap_or(p),
    ))
}

fn p_isabs(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    Ok(Value::Bool(one_path("isabs", args)?.starts_with('/')))
}

fn p_expanduser(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let p = one_path("expanduser", args)?;
    if p == "~" || p.starts_with("~/") {
        if let Ok(home) = std::env::var("HOME") {
            let home = home.trim_end_matches('/');
            let home = if home.is_empty() { "/" } else { home };
            return Ok(Value::from_string(format!("{home}{}", &p[1..])));
        }
    }
    Ok(Value::str(p))
}

/// `exists`/`isfile`/`isdir`: any error (including a bad type) is just False.
fn path_test(args: &[Value], func: &str, test: fn(&Path) -> bool) -> PyResult<Value> {
    check_args(func, args, 1, 1)?;
    Ok(Value::Bool(match &args[0] {
        Value::Str(s) => test(Path::new(s.as_str())),
        _ => false,
    }))
}

fn p_exists(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    path_test(args, "exists", |p| p.exists())
}

fn p_isfile(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    path_test(args, "isfile", |p| p.is_file())
}

fn p_isdir(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    path_test(args, "isdir", |p| p.is_dir())
}

fn p_islink(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    path_test(args, "islink", |p| p.is_symlink())
}

fn p_getsize(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let p = one_path("getsize", args)?;
    let meta = std::fs::metadata(p).map_err(|e| os_error(&e, Some(p)))?;
    Ok(Value::Int(meta.len() as i64))
}

fn p_getmtime(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let p = one_path("getmtime", args)?;
    let meta = std::fs::metadata(p).map_err(|e| os_error(&e, Some(p)))?;
    let t = meta
        .modified()
        .ok()
        .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0.0, |d| d.as_secs_f64());
    Ok(Value::Float(t))
}

/// `_stat(path, follow_symlinks)`: the fields of `os.stat_result` (built by
/// the in-language part of the module): ten ints, then the three times as floats.
fn stat_fields(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    use std::os::unix::fs::MetadataExt;
    check_args("_stat", args, 2, 2)?;
    let p = path_arg("stat", &args[0])?;
    let follow = !matches!(args[1], Value::Bool(false));
    let meta = if follow {
        std::fs::metadata(p)
    } else {
        std::fs::symlink_metadata(p)
    }
    .map_err(|e| os_error(&e, Some(p)))?;
    let secs = |s: i64, ns: i64| s as f64 + ns as f64 * 1e-9;
    let int = |n: u64| Value::Int(n as i64);
    Ok(Value::tuple(vec![
        int(u64::from(meta.mode())),
        int(meta.ino()),
        int(meta.dev()),
        int(meta.nlink()),
        int(u64::from(meta.uid())),
        int(u64::from(meta.gid())),
        int(meta.size()),
        Value::Int(meta.atime()),
        Value::Int(meta.mtime()),
        Value::Int(meta.ctime()),
        Value::Float(secs(meta.atime(), meta.atime_nsec())),
        Value::Float(secs(meta.mtime(), meta.mtime_nsec())),
        Value::Float(secs(meta.ctime(), meta.ctime_nsec())),
    ]))
}

/// Run the in-language part of a native module in its namespace.
fn run_overlay(vm: &mut Vm, m: &Arc<Module>, name: &str, src: &str) -> PyResult<()> {
    let code = vm.compile_source(src, &format!("<frozen {name}>"))?;
    vm.exec_module_code(code, m)
}

fn make_path_module(vm: &mut Vm) -> PyResult<Arc<Module>> {
    let m = new_module("posixpath");
    add_functions(
        &m,
        &[
            ("join", p_join),
            ("split", p_split),
            ("splitext", p_splitext),
            ("basename", p_basename),
            ("dirname", p_dirname),
            ("normpath", p_normpath),
            ("abspath", p_abspath),
            ("realpath", p_realpath),
            ("isabs", p_isabs),
            ("expanduser", p_expanduser),
            ("exists", p_exists),
            ("isfile", p_isfile),
            ("isdir", p_isdir),
            ("islink", p_islink),
            ("getsize", p_getsize),
            ("getmtime", p_getmtime),
        ],
    );
    set_attr(&m, "sep", Value::str("/"));
    set_attr(&m, "curdir", Value::str("."));
    set_attr(&m, "pardir", Value::str(".."));
    set_attr(&m, "extsep", Value::str("."));
    set_attr(&m, "pathsep", Value::str(":"));
    set_attr(&m, "devnull", Value::str("/dev/null"));
    run_overlay(vm, &m, "posixpath", include_str!("py/native/posixpath.py"))?;
    Ok(m)
}

pub fn make(vm: &mut Vm) -> PyResult<Arc<Module>> {
    let m = new_module("os");
    add_functions(
        &m,
        &[
            ("getpid", getpid),
            ("getppid", getppid),
            ("cpu_count", cpu_count),
            ("getenv", getenv),
            ("getcwd", getcwd),
            ("chdir", chdir),
            ("remove", remove),
            ("unlink", remove),
            ("rmdir", rmdir),
            ("mkdir", mkdir),
            ("makedirs", makedirs),
            ("rename", rename),
            ("replace", rename),
            ("listdir", listdir),
            ("urandom", urandom),
            ("_exit", os_exit),
            ("fspath", fspath),
            ("strerror", strerror),
            ("_stat", stat_fields),
        ],
    );
    let environ = str_dict(std::env::vars_os().map(|(k, v)| {
        (
            k.to_string_lossy().into_owned(),
            Value::from_string(v.to_string_lossy().into_owned()),
        )
    }));
    set_attr(&m, "environ", environ);
    set_attr(&m, "path", Value::Module(make_path_module(vm)?));
    set_attr(&m, "name", Value::str("posix"));
    set_attr(&m, "sep", Value::str("/"));
    set_attr(&m, "altsep", Value::None);
    set_attr(&m, "linesep", Value::str("\n"));
    set_attr(&m, "curdir", Value::str("."));
    set_attr(&m, "pardir", Value::str(".."));
    set_attr(&m, "extsep", Value::str("."));
    set_attr(&m, "pathsep", Value::str(":"));
    set_attr(&m, "devnull", Value::str("/dev/null"));
    set_attr(
        &m,
        "error",
        Value::Class(
            crate::vm::types::types()
                .exception(ExcKind::OSError)
                .clone(),
        ),
    );
    run_overlay(vm, &m, "os", include_str!("py/native/os.py"))?;
    Ok(m)
}

/// `import os.path`: the `path` attribute of `os` (importing `os` first).
pub fn make_path(vm: &mut Vm) -> PyResult<Arc<Module>> {
    if let Ok(Value::Module(os)) = vm.import("os") {
        if let Some(Value::Module(p)) = get_attr(&os, "path") {
            return Ok(p);
        }
    }
    make_path_module(vm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posixpath_matches_cpython() {
        assert_eq!(join(&["a", "b", "/c", "d"]), "/c/d");
        assert_eq!(join(&["a/", "b"]), "a/b");
        assert_eq!(splitext("a/b.tar.gz"), ("a/b.tar".into(), ".gz".into()));
        assert_eq!(splitext(".bashrc"), (".bashrc".into(), "".into()));
        assert_eq!(splitext("a.b/c"), ("a.b/c".into(), "".into()));
        assert_eq!(split("a/b/"), ("a/b".into(), "".into()));
        assert_eq!(split("/a"), ("/".into(), "a".into()));
        assert_eq!(split("a"), ("".into(), "a".into()));
        assert_eq!(normpath("a//b/../c/./"), "a/c");
        assert_eq!(normpath("/../x"), "/x");
        assert_eq!(normpath("../x/.."), "..");
        assert_eq!(normpath(""), ".");
    }
}
