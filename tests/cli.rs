//! The command line: how programs are given (`FILE ARGS`, `-c CODE`, `-`),
//! exit statuses (CPython's: 0, 1 on an uncaught exception, 2 on a usage
//! error, `sys.exit`'s argument), and the GIL switches (`--gil`,
//! `GILVM_GIL`, `--switch-interval`, `--gil-stats`) and `--dis`.

mod common;

use common::Output;
use std::path::PathBuf;

fn gilvm(args: &[&str]) -> Output {
    gilvm_env(args, &[])
}

fn gilvm_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let out =
        common::run_gilvm_args(args, env, None).unwrap_or_else(|e| panic!("gilvm {args:?}: {e}"));
    if let Some(crash) = out.crash() {
        panic!("gilvm {args:?}: {crash}\n{}", out.stderr);
    }
    out
}

fn gilvm_stdin(args: &[&str], input: &str) -> Output {
    common::run_gilvm_args(args, &[], Some(input.as_bytes()))
        .unwrap_or_else(|e| panic!("gilvm {args:?}: {e}"))
}

/// A program file in the system's temporary directory, removed on drop.
struct TempScript(PathBuf);

impl TempScript {
    fn new(name: &str, source: &str) -> TempScript {
        let path =
            std::env::temp_dir().join(format!("gilvm-cli-{}-{name}.script", std::process::id()));
        std::fs::write(&path, source).expect("cannot write a temporary script");
        TempScript(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("temporary path is not UTF-8")
    }
}

impl Drop for TempScript {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[track_caller]
fn assert_status(out: &Output, code: i32) {
    assert_eq!(
        out.code,
        Some(code),
        "{}\n--- stdout ---\n{}--- stderr ---\n{}",
        out.exit_description(),
        out.stdout,
        out.stderr
    );
}

#[test]
fn file_arguments_become_sys_argv() {
    let script = TempScript::new("argv", "import sys\nprint(sys.argv[1:])\n");
    // Options after the file belong to the program, not to gilvm.
    let out = gilvm(&[script.path(), "a", "-b", "--gil", "off"]);
    assert_status(&out, 0);
    assert_eq!(out.stdout, "['a', '-b', '--gil', 'off']\n");
    let out = gilvm(&[script.path()]);
    assert_eq!(out.stdout, "[]\n");
}

#[test]
fn sys_argv_zero_is_the_file_name() {
    let script = TempScript::new("argv0", "import sys\nprint(sys.argv[0])\n");
    let out = gilvm(&[script.path()]);
    assert_status(&out, 0);
    assert_eq!(out.stdout.trim_end(), script.path());
}

#[test]
fn dash_c_runs_code() {
    let out = gilvm(&["-c", "import sys; print(sys.argv); print(6 * 7)", "x", "-y"]);
    assert_status(&out, 0);
    assert_eq!(out.stdout, "['-c', 'x', '-y']\n42\n");
}

#[test]
fn dash_reads_the_program_from_stdin() {
    let out = gilvm_stdin(
        &["-", "arg"],
        "import sys\nprint(sys.argv)\nprint('from stdin')\n",
    );
    assert_status(&out, 0);
    assert_eq!(out.stdout, "['-', 'arg']\nfrom stdin\n");
}

#[test]
fn piped_stdin_without_arguments_is_a_program() {
    let out = gilvm_stdin(&[], "import sys\nprint(1 + 1, sys.argv, __file__)\n");
    assert_status(&out, 0);
    assert_eq!(out.stdout, "2 [''] <stdin>\n");
}

#[test]
fn stdin_reads_as_bytes_and_through_descriptor_zero() {
    let code = "import sys\n\
        first = sys.stdin.buffer.readline()\n\
        print(first, type(sys.stdin.buffer).__name__)\n\
        print(sys.stdin.buffer.readline().decode().strip())\n\
        rest = sys.stdin.buffer.read().split()\n\
        print(rest, sum(map(int, rest)))\n\
        n = sys.stdout.buffer.write(b'caf\\xc3\\xa9\\n')\n\
        print(n)\n";
    let out = gilvm_stdin(&["-c", code], "hello\nline two\n1 2\n3\n");
    assert_status(&out, 0);
    assert_eq!(
        out.stdout,
        "b'hello\\n' BufferedReader\nline two\n[b'1', b'2', b'3'] 6\ncaf\u{e9}\n6\n"
    );
    // `open(0)` reads the same stream through a descriptor of its own.
    let out = gilvm_stdin(&["-c", "print(open(0).read().split())"], "1 2\n3\n");
    assert_status(&out, 0);
    assert_eq!(out.stdout, "['1', '2', '3']\n");
}

#[test]
fn version_and_help() {
    let out = gilvm(&["--version"]);
    assert_status(&out, 0);
    assert!(out.stdout.starts_with("gilvm "), "{}", out.stdout);
    let out = gilvm(&["--help"]);
    assert_status(&out, 0);
    for flag in ["-c", "--gil", "--switch-interval", "--gil-stats"] {
        assert!(
            out.stdout.contains(flag),
            "--help lacks {flag}:\n{}",
            out.stdout
        );
    }
}

#[test]
fn clean_exit_is_zero() {
    let out = gilvm(&["-c", "print('fine')"]);
    assert_status(&out, 0);
    assert_eq!(out.stderr, "");
}

#[test]
fn uncaught_exception_exits_one_with_a_traceback() {
    let out = gilvm(&["-c", "print('before')\nraise ValueError('bad')"]);
    assert_status(&out, 1);
    assert_eq!(out.stdout, "before\n");
    assert_eq!(
        out.stderr,
        "Traceback (most recent call last):\n  File \"<string>\", line 2, in <module>\n\
         ValueError: bad\n"
    );
}

#[test]
fn syntax_error_exits_one() {
    let out = gilvm(&["-c", "x = ("]);
    assert_status(&out, 1);
    assert_eq!(out.last_stderr_line(), "SyntaxError: '(' was never closed");
}

#[test]
fn unknown_option_is_a_usage_error() {
    for flag in ["--bogus", "-x"] {
        let out = gilvm(&[flag]);
        assert_status(&out, 2);
        assert!(
            out.stderr.starts_with(&format!("unknown option {flag}\n")),
            "{}",
            out.stderr
        );
        assert_eq!(out.stdout, "");
    }
}

#[test]
fn missing_file_is_a_usage_error() {
    let out = gilvm(&["no_such_file.script"]);
    assert_status(&out, 2);
    // CPython: `python3: can't open file '/abs/path': [Errno 2] ...`; the
    // repository root (the working directory) is cut from the path.
    assert!(
        out.stderr.ends_with(
            ": can't open file 'no_such_file.script': [Errno 2] No such file or directory\n"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn bad_flag_values_are_usage_errors() {
    for args in [
        ["--gil", "maybe"],
        ["--switch-interval", "0"],
        ["--switch-interval", "soon"],
    ] {
        let out = gilvm(&[args[0], args[1], "-c", "pass"]);
        assert_status(&out, 2);
        assert!(!out.stderr.is_empty());
    }
}

#[test]
fn sys_exit_status_and_message() {
    let cases: [(&str, i32, &str); 7] = [
        ("import sys; sys.exit(3)", 3, ""),
        ("import sys; sys.exit()", 0, ""),
        ("import sys; sys.exit(None)", 0, ""),
        ("import sys; sys.exit(0)", 0, ""),
        ("import sys; sys.exit('msg')", 1, "msg\n"),
        ("raise SystemExit(True)", 1, ""),
        ("import sys; sys.exit([1])", 1, "[1]\n"),
    ];
    for (code, status, stderr) in cases {
        let out = gilvm(&["-c", code]);
        assert_eq!(out.code, Some(status), "{code}: {}", out.stderr);
        assert_eq!(out.stderr, stderr, "{code}");
    }
}

#[test]
fn sys_exit_in_a_thread_ends_only_that_thread() {
    let code = "import sys, threading\n\
                t = threading.Thread(target=sys.exit, args=(5,))\n\
                t.start(); t.join()\n\
                print('main goes on')";
    let out = gilvm(&["-c", code]);
    assert_status(&out, 0);
    assert_eq!(out.stdout, "main goes on\n");
    assert_eq!(out.stderr, "");
}

#[test]
fn exception_in_a_thread_does_not_change_the_exit_status() {
    let code = "import threading\n\
                def f():\n    raise KeyError('k')\n\
                t = threading.Thread(target=f, name='worker')\n\
                t.start(); t.join()\n\
                print('main goes on')";
    let out = gilvm(&["-c", code]);
    assert_status(&out, 0);
    assert_eq!(out.stdout, "main goes on\n");
    assert!(
        out.stderr
            .starts_with("Exception in thread worker:\nTraceback"),
        "{}",
        out.stderr
    );
    assert_eq!(out.last_stderr_line(), "KeyError: 'k'");
}

const GIL_ENABLED: &str = "import sys; print(sys._is_gil_enabled())";

#[test]
fn gil_is_on_by_default() {
    let out = gilvm(&["-c", GIL_ENABLED]);
    assert_eq!(out.stdout, "True\n");
}

#[test]
fn gil_flag_switches_it() {
    assert_eq!(
        gilvm(&["--gil", "off", "-c", GIL_ENABLED]).stdout,
        "False\n"
    );
    assert_eq!(gilvm(&["--gil", "on", "-c", GIL_ENABLED]).stdout, "True\n");
}

#[test]
fn gil_environment_variable_switches_it() {
    let off = gilvm_env(&["-c", GIL_ENABLED], &[("GILVM_GIL", "0")]);
    assert_eq!(off.stdout, "False\n");
    let on = gilvm_env(&["-c", GIL_ENABLED], &[("GILVM_GIL", "1")]);
    assert_eq!(on.stdout, "True\n");
}

#[test]
fn gil_flag_beats_the_environment() {
    let out = gilvm_env(&["--gil", "on", "-c", GIL_ENABLED], &[("GILVM_GIL", "0")]);
    assert_eq!(out.stdout, "True\n");
    let out = gilvm_env(&["--gil", "off", "-c", GIL_ENABLED], &[("GILVM_GIL", "1")]);
    assert_eq!(out.stdout, "False\n");
}

#[test]
fn switch_interval_flag_sets_sys_getswitchinterval() {
    let code = "import sys; print(sys.getswitchinterval())";
    assert_eq!(gilvm(&["-c", code]).stdout, "0.005\n");
    assert_eq!(
        gilvm(&["--switch-interval", "20", "-c", code]).stdout,
        "0.02\n"
    );
    let code = "import sys; sys.setswitchinterval(0.001); print(sys.getswitchinterval())";
    assert_eq!(gilvm(&["-c", code]).stdout, "0.001\n");
}

#[test]
fn gil_stats_prints_a_table_on_stderr() {
    let code = "import threading\n\
                t = threading.Thread(target=sum, args=([1, 2],), name='worker')\n\
                t.start(); t.join()\n\
                print('done')";
    let out = gilvm(&["--gil-stats", "-c", code]);
    assert_status(&out, 0);
    // The table goes to stderr only: stdout is the program's.
    assert_eq!(out.stdout, "done\n");
    assert!(out.stderr.contains("MainThread"), "{}", out.stderr);
    assert!(out.stderr.contains("worker"), "{}", out.stderr);
    let without = gilvm(&["-c", code]);
    assert_eq!(without.stderr, "");
}

#[test]
fn dis_prints_the_bytecode_instead_of_running() {
    let code = "print('ran')\nfor x in [1, 2]:\n    y = x\n";
    let out = gilvm(&["--dis", "-c", code]);
    assert_status(&out, 0);
    assert!(!out.stdout.contains("ran\n"), "{}", out.stdout);
    assert!(out.stdout.starts_with("code <module>"), "{}", out.stdout);
    assert!(
        out.stdout.contains("LoadName               0 (print)"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("StoreName"), "{}", out.stdout);
    // A program that does not compile reports its SyntaxError as a run would.
    let bad = gilvm(&["--dis", "-c", "x = = 1"]);
    assert_status(&bad, 1);
    assert_eq!(bad.last_stderr_line(), "SyntaxError: invalid syntax");
}

#[test]
fn uncaught_keyboard_interrupt_ends_by_sigint_as_cpython() {
    let out = common::run_gilvm_args(&["-c", "raise KeyboardInterrupt"], &[], None)
        .expect("gilvm did not run");
    assert_eq!(out.last_stderr_line(), "KeyboardInterrupt");
    // CPython re-raises SIGINT on itself: shells report status 130.
    assert_eq!(out.signal, Some(2), "{}", out.exit_description());
}

#[cfg(unix)]
#[test]
fn ctrl_c_interrupts_a_blocked_main_thread() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    let code = "import threading, time\n\
                ev = threading.Event()\n\
                t = threading.Thread(target=ev.wait, daemon=True)\n\
                t.start()\n\
                try:\n    print('ready', flush=True)\n    t.join()\n\
                except KeyboardInterrupt:\n    print('interrupted join')\n";
    let mut child = Command::new(common::gilvm_bin())
        .args(["-c", code])
        .env_remove("GILVM_GIL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot start gilvm");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("cannot read stdout");
    assert_eq!(line, "ready\n");
    // One SIGINT: whether it lands before or inside join(), the main thread
    // is inside the try block and the join never returns on its own.
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + common::timeout();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait failed") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("gilvm ignored SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut rest = String::new();
    let _ = std::io::Read::read_to_string(&mut stdout, &mut rest);
    assert_eq!(rest, "interrupted join\n");
    assert_eq!(status.code(), Some(0));
}

/// A directory in the system's temporary directory holding the given
/// files, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str, files: &[(&str, &str)]) -> TempDir {
        let dir = std::env::temp_dir().join(format!("gilvm-cli-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("cannot create a temporary directory");
        for (file, source) in files {
            std::fs::write(dir.join(file), source).expect("cannot write a temporary file");
        }
        TempDir(dir)
    }

    fn file(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn modules_next_to_the_script_are_imported() {
    let dir = TempDir::new(
        "helper",
        &[
            ("helper.py", "def f():\n    return 'helper ok'\n"),
            ("main.py", "import helper\nprint(helper.f())\n"),
        ],
    );
    let out = gilvm(&[&dir.file("main.py")]);
    assert_status(&out, 0);
    assert_eq!(out.stdout, "helper ok\n");
}

#[test]
fn the_script_directory_shadows_bundled_modules() {
    // CPython: sys.path[0] (the script's directory) comes before the
    // standard library, so a local queue.py is the `queue` imported.
    let dir = TempDir::new(
        "shadow",
        &[
            (
                "queue.py",
                "class Queue:\n    def __init__(self):\n        print('local Queue')\n",
            ),
            (
                "main.py",
                "import queue, sys, os\nqueue.Queue()\n\
                 print(sys.path[0] == os.path.dirname(os.path.realpath(__file__)))\n",
            ),
        ],
    );
    let out = gilvm(&[&dir.file("main.py")]);
    assert_status(&out, 0);
    assert_eq!(out.stdout, "local Queue\nTrue\n");
}

#[test]
fn a_script_named_like_a_module_imports_itself() {
    // `import random` in random.py runs the file again as module `random`,
    // which sees itself half-built: CPython's circular-import message.
    let dir = TempDir::new(
        "selfimport",
        &[("random.py", "import random\nprint(random.randint(1, 1))\n")],
    );
    let out = gilvm(&[&dir.file("random.py")]);
    assert_status(&out, 1);
    assert_eq!(
        out.stderr.lines().last(),
        Some(
            "AttributeError: partially initialized module 'random' has no attribute 'randint' \
             (most likely due to a circular import)"
        )
    );
}

#[test]
fn built_in_modules_are_not_shadowed() {
    // sys and time are built into CPython and found before the path.
    let dir = TempDir::new(
        "builtin",
        &[
            ("time.py", "raise SystemExit('local time imported')\n"),
            ("main.py", "import time\nprint(callable(time.time))\n"),
        ],
    );
    let out = gilvm(&[&dir.file("main.py")]);
    assert_status(&out, 0);
    assert_eq!(out.stdout, "True\n");
}

#[test]
fn dash_c_puts_the_working_directory_first() {
    let out = gilvm(&["-c", "import sys; print(repr(sys.path[0]))"]);
    assert_status(&out, 0);
    assert_eq!(out.stdout, "''\n");
}

#[test]
fn directory_as_program_names_the_missing_main_module() {
    let dir = std::env::temp_dir();
    let dir = dir.to_str().unwrap();
    let out = gilvm(&[dir]);
    assert_status(&out, 1);
    let err = &out.stderr;
    assert!(
        err.ends_with(&format!(": can't find '__main__' module in '{dir}'\n")),
        "{err}"
    );
}
