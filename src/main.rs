//! The `gilvm` command line: parse the flags, then run a program, `-c`
//! code, stdin or the interactive prompt on an interpreter thread with a
//! large stack.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;

use gilvm::runtime::gil::Gil;
use gilvm::vm::interp::{Interp, Options, Vm, MAIN_STACK_SIZE};
use gilvm::vm::traceback::report_uncaught;
use gilvm::vm::{PyErr, PyResult, Value};
use libmimalloc_sys as mi;

/// Scripts allocate many small short-lived objects (strings, instances,
/// frames' vectors); mimalloc serves those several times faster than the
/// system allocator.
#[global_allocator]
static ALLOCATOR: Mimalloc = Mimalloc;

/// mimalloc, asked for an alignment only when plain `mi_malloc` might not
/// give it: `mimalloc::MiMalloc` always takes the aligned entry points,
/// which cost several times more per call.
struct Mimalloc;

/// What `mi_malloc` guarantees: every block of 16 bytes or more is 16-byte
/// aligned, and smaller ones are aligned to their size class (8).
const MI_MIN_ALIGN: usize = 16;

/// Whether plain `mi_malloc` of `size` bytes is aligned enough for `align`.
fn plain(align: usize, size: usize) -> bool {
    align <= MI_MIN_ALIGN && align <= size
}

// SAFETY: every block comes from mimalloc and goes back to it (`mi_free`
// takes blocks from both its plain and aligned entry points); a block is
// served by the plain entry points only when `plain` says their alignment
// suffices for the layout, as `std`'s own system allocator decides for
// `malloc`. Sizes are passed through unchanged.
unsafe impl std::alloc::GlobalAlloc for Mimalloc {
    #[inline]
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        if plain(layout.align(), layout.size()) {
            mi::mi_malloc(layout.size()) as *mut u8
        } else {
            mi::mi_malloc_aligned(layout.size(), layout.align()) as *mut u8
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        if plain(layout.align(), layout.size()) {
            mi::mi_zalloc(layout.size()) as *mut u8
        } else {
            mi::mi_zalloc_aligned(layout.size(), layout.align()) as *mut u8
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: std::alloc::Layout) {
        mi::mi_free(ptr as *mut std::ffi::c_void)
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        let p = ptr as *mut std::ffi::c_void;
        if plain(layout.align(), new_size) {
            mi::mi_realloc(p, new_size) as *mut u8
        } else {
            mi::mi_realloc_aligned(p, new_size, layout.align()) as *mut u8
        }
    }
}

/// A Python 3.11 subset interpreter with a real, switchable global interpreter lock.
#[derive(Parser, Debug)]
#[command(name = "gilvm", version, about, disable_help_subcommand = true)]
struct Cli {
    /// Run CODE (sys.argv[0] is '-c')
    #[arg(short = 'c', value_name = "CODE", allow_hyphen_values = true)]
    command: Option<String>,

    /// Run with the GIL (on, the default) or without it (off); the flag beats GILVM_GIL=1|0
    #[arg(long, value_name = "on|off", value_parser = parse_on_off)]
    gil: Option<bool>,

    /// How long (in milliseconds) a thread may hold the GIL while others wait
    #[arg(long, value_name = "MS", default_value = "5", value_parser = parse_interval)]
    switch_interval: Duration,

    /// Print per-thread GIL statistics to stderr at exit
    #[arg(long)]
    gil_stats: bool,

    /// Print the program's bytecode (every code object) instead of running it
    #[arg(long)]
    dis: bool,

    /// The program file (- reads it from stdin), then its arguments
    #[arg(
        value_name = "FILE|- [ARGS]",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    args: Vec<String>,
}

fn parse_on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" | "1" => Ok(true),
        "off" | "0" => Ok(false),
        _ => Err(format!("expected 'on' or 'off', got '{s}'")),
    }
}

fn parse_interval(s: &str) -> Result<Duration, String> {
    let ms: f64 = s
        .parse()
        .map_err(|_| format!("expected a number of milliseconds, got '{s}'"))?;
    if !(ms > 0.0 && ms.is_finite()) {
        return Err("the switch interval must be a positive number of milliseconds".into());
    }
    Ok(Duration::from_secs_f64(ms / 1000.0))
}

/// What to run.
enum Program {
    File(String),
    Command(String),
    Stdin,
    Repl,
}

fn main() {
    let cli = Cli::parse();
    let gil_on = cli.gil.unwrap_or_else(|| {
        !matches!(
            std::env::var("GILVM_GIL").as_deref(),
            Ok("0") | Ok("off") | Ok("false")
        )
    });
    let (program, argv) = match (&cli.command, cli.args.first()) {
        (Some(code), _) => {
            let mut argv = vec!["-c".to_string()];
            argv.extend(cli.args.iter().cloned());
            (Program::Command(code.clone()), argv)
        }
        (None, Some(first)) if first == "-" => (Program::Stdin, cli.args.clone()),
        // Arguments after the file are the program's, so hyphens are allowed
        // there; before it, an unknown option is a usage error as in CPython.
        (None, Some(first)) if first.starts_with('-') => usage_error(first),
        (None, Some(first)) => (Program::File(first.clone()), cli.args.clone()),
        (None, None) if std::io::stdin().is_terminal() => (Program::Repl, vec![String::new()]),
        // CPython: sys.argv is [''] for a program piped in without `-`.
        (None, None) => (Program::Stdin, vec![String::new()]),
    };
    let path_dir = match &program {
        // CPython puts the script's real directory first on sys.path.
        Program::File(f) => {
            let parent = PathBuf::from(absolute(f))
                .parent()
                .map(|p| p.to_path_buf())
                .unwrap_or_default();
            if parent.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                std::fs::canonicalize(&parent).unwrap_or(parent)
            }
        }
        // `-c` and stdin programs: '' (the working directory), as CPython.
        _ => PathBuf::new(),
    };
    let options = Options {
        gil: gil_on,
        switch_interval: cli.switch_interval,
        gil_stats: cli.gil_stats,
        argv,
        path: vec![path_dir],
        dis: cli.dis,
    };
    let thread = std::thread::Builder::new()
        .name("MainThread".into())
        .stack_size(MAIN_STACK_SIZE)
        .spawn(move || run(options, program));
    let code = match thread {
        Ok(handle) => handle.join().unwrap_or(70),
        Err(e) => {
            eprintln!("gilvm: cannot start the interpreter thread: {e}");
            70
        }
    };
    if UNCAUGHT_INTERRUPT.load(std::sync::atomic::Ordering::Relaxed) {
        // CPython ends by SIGINT after an uncaught KeyboardInterrupt, so a
        // calling shell or script sees "killed by Ctrl-C", not an exit code.
        let _ = signal_hook::low_level::emulate_default_handler(signal_hook::consts::SIGINT);
    }
    // Daemon threads still running end with the process.
    std::process::exit(code);
}

/// `gilvm --bogus`: CPython's message shape and exit status 2.
fn usage_error(option: &str) -> ! {
    eprintln!(
        "unknown option {option}\nusage: gilvm [OPTIONS] [-c CODE | FILE | -] [ARGS]...\n\
         Try 'gilvm --help' for more information."
    );
    std::process::exit(2)
}

/// Set when the main program ends with an uncaught KeyboardInterrupt.
static UNCAUGHT_INTERRUPT: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// The interpreter's main thread: returns the exit status.
fn run(options: Options, program: Program) -> i32 {
    let interp = Interp::new(options);
    let mut vm = Vm::new(interp.clone(), interp.main_tid);
    vm.set_stack_size(MAIN_STACK_SIZE);
    interp.gil.take(interp.main_tid);
    watch_sigint(interp.gil.clone());

    let result: PyResult<()> = match program {
        // A directory runs its `__main__.py` in CPython; without zip/package
        // execution here, it gets CPython's message for one lacking it.
        Program::File(path) if std::path::Path::new(&path).is_dir() => {
            let python = std::env::args().next().unwrap_or_else(|| "gilvm".into());
            interp.write_stderr(&format!(
                "{python}: can't find '__main__' module in '{}'\n",
                absolute(&path)
            ));
            return 1;
        }
        Program::File(path) => match std::fs::read(&path) {
            // CPython names the main script by its absolute path (`__file__`,
            // tracebacks, syntax errors); sys.argv[0] keeps the path as given.
            Ok(bytes) => {
                let file = absolute(&path);
                match gilvm::syntax::decode_source(&bytes, &file) {
                    Ok(src) => vm.run_main(&src, &file, Some(&file)),
                    Err(e) => Err(vm.syntax_error(&e, &file, None)),
                }
            }
            Err(e) => {
                // CPython names itself by argv[0] and the file by its absolute path.
                let python = std::env::args().next().unwrap_or_else(|| "gilvm".into());
                interp.write_stderr(&format!(
                    "{python}: can't open file '{}': [Errno {}] {}\n",
                    absolute(&path),
                    e.raw_os_error().unwrap_or(2),
                    errno_text(&e)
                ));
                return 2;
            }
        },
        Program::Command(code) => vm.run_main(&code, "<string>", None),
        Program::Stdin => {
            let mut bytes = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut bytes);
            match gilvm::syntax::decode_source(&bytes, "<stdin>") {
                Ok(src) => vm.run_main(&src, "<stdin>", Some("<stdin>")),
                Err(e) => Err(vm.syntax_error(&e, "<stdin>", None)),
            }
        }
        Program::Repl => {
            repl(&mut vm);
            Ok(())
        }
    };
    let mut status = match result {
        Ok(()) => 0,
        Err(e) => {
            if e.matches(gilvm::vm::ExcKind::KeyboardInterrupt) {
                UNCAUGHT_INTERRUPT.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            report_uncaught(&mut vm, &e)
        }
    };
    if let Err(e) = shutdown_threads(&mut vm) {
        status = report_uncaught(&mut vm, &e);
    }
    run_atexit(&mut vm);
    // Module teardown: objects the program's globals still hold are
    // finalized (`__del__`) before the process ends.
    if let Some(Value::Module(m)) = vm.interp.module("__main__") {
        vm.finalize_main(&m.dict);
    }
    interp.flush_stdout();
    if interp.options.gil_stats {
        interp.write_stderr(&interp.gil.render_stats());
    }
    status
}

/// The working directory joined to a relative `path` as plain text: CPython
/// keeps `./` and `../` components as the user typed them.
fn absolute(path: &str) -> String {
    if path.starts_with('/') {
        return path.to_string();
    }
    match std::env::current_dir() {
        Ok(cwd) => {
            let cwd = cwd.to_string_lossy();
            format!("{}/{path}", cwd.trim_end_matches('/'))
        }
        Err(_) => path.to_string(),
    }
}

/// CPython's wording for the common `open` failures of the program file.
fn errno_text(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "No such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "Permission denied".into(),
        _ => {
            let s = e.to_string();
            s.split(" (os error").next().unwrap_or(&s).to_string()
        }
    }
}

/// At the end of the main program: `threading._shutdown()` waits for the
/// non-daemon threads.
fn shutdown_threads(vm: &mut Vm) -> Result<(), PyErr> {
    if !vm
        .interp
        .threading_imported
        .load(std::sync::atomic::Ordering::Relaxed)
    {
        return Ok(());
    }
    let Some(Value::Module(m)) = vm.interp.module("threading") else {
        return Ok(());
    };
    let Some(f) = m.dict.get("_shutdown") else {
        return Ok(());
    };
    vm.call(&f, &[], &[])?;
    Ok(())
}

/// After the threads: the functions registered with `atexit`, if the
/// program imported it (its errors are reported by `atexit` itself).
fn run_atexit(vm: &mut Vm) {
    let Some(Value::Module(m)) = vm.interp.module("atexit") else {
        return;
    };
    let Some(f) = m.dict.get("_run_exitfuncs") else {
        return;
    };
    if let Err(e) = vm.call(&f, &[], &[]) {
        gilvm::vm::traceback::print_exception(vm, &e);
    }
}

/// Ctrl-C: a watcher thread turns SIGINT into the GIL's signal request; the
/// main interpreter thread raises KeyboardInterrupt at its next check.
fn watch_sigint(gil: Arc<Gil>) {
    let Ok(mut signals) = signal_hook::iterator::Signals::new([signal_hook::consts::SIGINT]) else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("sigint".into())
        .spawn(move || {
            for _ in signals.forever() {
                gil.request_signal();
            }
        });
}

/// The interactive prompt: `>>> ` / `... `, blocks completed by an empty
/// line, expression results printed.
fn repl(vm: &mut Vm) {
    let interp = vm.interp.clone();
    interp.write_stderr(&format!(
        "gilvm {} (a Python 3.11 subset, GIL {})\nType Ctrl-D to leave.\n",
        env!("CARGO_PKG_VERSION"),
        if interp.gil.is_enabled() { "on" } else { "off" }
    ));
    let Ok(mut editor) = rustyline::DefaultEditor::new() else {
        interp.write_stderr("gilvm: cannot start the line editor\n");
        return;
    };
    let main = gilvm::vm::interp::new_module("__main__");
    if let Some(b) = interp.module("builtins") {
        main.dict.set("__builtins__", b);
    }
    interp.modules.set("__main__", Value::Module(main.clone()));
    let mut buffer = String::new();
    loop {
        let prompt = if buffer.is_empty() { ">>> " } else { "... " };
        interp.flush_stdout();
        let line = vm.allow_threads(|| editor.readline(prompt));
        match line {
            Ok(line) => {
                buffer.push_str(&line);
                buffer.push('\n');
                if gilvm::syntax::is_incomplete(&buffer) {
                    continue;
                }
                let source = std::mem::take(&mut buffer);
                if source.trim().is_empty() {
                    continue;
                }
                let _ = editor.add_history_entry(source.trim_end());
                if let Err(e) = run_interactive(vm, &source, &main) {
                    if e.matches(gilvm::vm::ExcKind::SystemExit) {
                        let status = report_uncaught(vm, &e);
                        let _ = shutdown_threads(vm);
                        interp.flush_stdout();
                        std::process::exit(status);
                    }
                    gilvm::vm::traceback::print_exception(vm, &e);
                }
            }
            Err(rustyline::error::ReadlineError::Interrupted) => {
                buffer.clear();
                interp.write_stderr("\nKeyboardInterrupt\n");
            }
            Err(_) => {
                interp.write_stderr("\n");
                break;
            }
        }
    }
}

fn run_interactive(
    vm: &mut Vm,
    source: &str,
    main: &Arc<gilvm::vm::value::Module>,
) -> PyResult<()> {
    let module = match gilvm::syntax::parse_module(source) {
        Ok(m) => m,
        Err(e) => return Err(vm.syntax_error(&e, "<stdin>", Some(source))),
    };
    let code = gilvm::compile::compile_interactive(&module, source, "<stdin>")
        .map_err(|e| vm.syntax_error(&e, "<stdin>", Some(source)))?;
    let code = gilvm::vm::interp::load_code(&code);
    vm.exec_module_code(code, main)
}
