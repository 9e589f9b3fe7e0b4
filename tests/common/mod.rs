//! Shared helpers for the script tests: finding `scripts/**/*.script`,
//! running gilvm (and python3, the oracle) on one with a timeout, and
//! normalising output the way both test files compare it.
//!
//! Programs always run with the repository root as working directory and the
//! script's path relative to it (`scripts/errors/name_error.script`); the
//! repository root is cut from absolute paths in their output, so tracebacks
//! name the file the same way on every machine.

// Each test crate uses a different subset of these helpers.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// A script that runs longer than this is killed and reported as a failure
/// (seconds; `GILVM_TEST_TIMEOUT` overrides it on a slow machine).
const DEFAULT_TIMEOUT_SECS: u64 = 60;

pub fn timeout() -> Duration {
    let secs = std::env::var("GILVM_TEST_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_TIMEOUT_SECS);
    Duration::from_secs(secs)
}

/// Output beyond this many bytes per stream is read and dropped, so a runaway
/// `print` loop fails the test instead of exhausting memory.
const OUTPUT_CAP: usize = 16 << 20;

/// First line of a script whose output depends on timing.
const TIMING_MARKER: &str = "# timing-dependent";

/// Replaces every indented line of a timing-dependent script in snapshots.
pub const TIMING_PLACEHOLDER: &str = "  <timing>";

pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// One `.script` file under `scripts/`.
#[derive(Debug, Clone)]
pub struct Script {
    /// Path relative to the repository root with `/` separators, e.g.
    /// `scripts/errors/name_error.script`.
    pub rel: String,
    /// The first line is `# timing-dependent`: only lines starting at
    /// column 0 are stable.
    pub timing_dependent: bool,
    /// Under a `nondeterministic/` folder: lines may come in any order and
    /// repeated lines any number of times.
    pub nondeterministic: bool,
}

impl Script {
    fn load(rel: String) -> Script {
        let bytes = std::fs::read(repo_root().join(&rel)).unwrap_or_default();
        let first_line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
        let timing_dependent = String::from_utf8_lossy(first_line).trim_end() == TIMING_MARKER;
        let nondeterministic = rel.split('/').any(|part| part == "nondeterministic");
        Script {
            rel,
            timing_dependent,
            nondeterministic,
        }
    }

    /// Snapshot name: the path under `scripts/` without the extension, `/`
    /// turned into `__` (`errors__name_error`).
    pub fn snapshot_name(&self) -> String {
        let under = self.rel.strip_prefix("scripts/").unwrap_or(&self.rel);
        let stem = under.strip_suffix(".script").unwrap_or(under);
        stem.replace('/', "__")
    }

    /// Scripts under `scripts/threads/` are also run with `--gil off`.
    pub fn is_threads(&self) -> bool {
        self.rel.starts_with("scripts/threads/")
    }

    /// Normalises stdout (or stderr) for comparison between two runs:
    /// timing-dependent scripts keep only their column-0 lines, and
    /// nondeterministic ones are compared as the set of distinct lines
    /// (how many times a racing daemon thread printed is not stable).
    pub fn comparable(&self, text: &str) -> String {
        let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
        if self.timing_dependent {
            lines.retain(|line| !starts_indented(line));
        }
        if self.nondeterministic {
            lines.sort_unstable();
            lines.dedup();
        }
        lines.concat()
    }

    /// Normalises output for a snapshot: like [`Script::comparable`], but
    /// indented lines of a timing-dependent script become `  <timing>` so the
    /// snapshot still shows the program's shape.
    pub fn for_snapshot(&self, text: &str) -> String {
        let mut lines: Vec<String> = text
            .split_inclusive('\n')
            .map(|line| {
                if self.timing_dependent && starts_indented(line) {
                    let newline = if line.ends_with('\n') { "\n" } else { "" };
                    format!("{TIMING_PLACEHOLDER}{newline}")
                } else {
                    hide_future_id(&hide_addresses(line))
                }
            })
            .collect();
        if self.nondeterministic {
            lines.sort_unstable();
            lines.dedup();
        }
        lines.concat()
    }
}

/// concurrent.futures reports a misused future by its `id()`, which changes
/// from run to run: `Future 140648727750992 in unexpected state: FINISHED`.
fn hide_future_id(line: &str) -> String {
    let Some(rest) = line.strip_prefix("Future ") else {
        return line.to_string();
    };
    let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 {
        return line.to_string();
    }
    format!("Future ID{}", &rest[digits..])
}

/// Object addresses (`<Future at 0x7f22...>`) change from run to run.
fn hide_addresses(line: &str) -> String {
    const MARK: &str = " at 0x";
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(i) = rest.find(MARK) {
        out.push_str(&rest[..i + MARK.len()]);
        rest = &rest[i + MARK.len()..];
        let digits = rest.len()
            - rest
                .trim_start_matches(|c: char| c.is_ascii_hexdigit())
                .len();
        if digits > 0 {
            out.push_str("ADDR");
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

fn starts_indented(line: &str) -> bool {
    line.starts_with(' ') || line.starts_with('\t')
}

/// Every `scripts/**/*.script` except the benchmarks, sorted by path.
pub fn all_scripts() -> Vec<Script> {
    let mut rels = Vec::new();
    collect_scripts(&repo_root().join("scripts"), "scripts", &mut rels);
    rels.sort();
    rels.into_iter().map(Script::load).collect()
}

fn collect_scripts(dir: &Path, rel: &str, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let child_rel = format!("{rel}/{name}");
        let path = entry.path();
        if path.is_dir() {
            // Benchmarks run for seconds and print timings: the bench runner
            // checks them, not the test suite.
            if child_rel != "scripts/bench" {
                collect_scripts(&path, &child_rel, out);
            }
        } else if name.ends_with(".script") {
            out.push(child_rel);
        }
    }
}

/// What a finished (or killed) program produced.
#[derive(Debug, Clone)]
pub struct Output {
    /// The exit status, `None` when killed by a signal.
    pub code: Option<i32>,
    /// The signal that ended the program, if any.
    pub signal: Option<i32>,
    pub timed_out: bool,
    /// A process the program started kept stdout or stderr open after the
    /// program ended, so the output may be incomplete.
    pub pipes_left_open: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// `exit code 1`, `killed by signal 11`, `timed out after 60s (killed)`.
    pub fn exit_description(&self) -> String {
        let status = self.status_description();
        if self.pipes_left_open {
            format!("{status}, output pipes left open by a leftover process")
        } else {
            status
        }
    }

    fn status_description(&self) -> String {
        if self.timed_out {
            format!("timed out after {}s (killed)", timeout().as_secs())
        } else if let Some(code) = self.code {
            format!("exit code {code}")
        } else if let Some(signal) = self.signal {
            format!("killed by signal {signal}")
        } else {
            "unknown exit status".to_string()
        }
    }

    /// Why this run counts as a crash of the interpreter, whatever the
    /// snapshot says: a hang, a signal (stack overflow aborts), a Rust panic.
    pub fn crash(&self) -> Option<String> {
        if self.timed_out || self.signal.is_some() {
            Some(self.exit_description())
        } else if self.stderr.contains(" panicked at ") {
            Some("the interpreter panicked".to_string())
        } else {
            None
        }
    }

    /// The last non-empty line of stderr: the exception line of a traceback.
    pub fn last_stderr_line(&self) -> &str {
        self.stderr
            .lines()
            .rev()
            .find(|line| !line.trim().is_empty())
            .unwrap_or("")
    }
}

/// The binary under test: the crate's `gilvm`, or `GILVM_TEST_BIN` to run
/// the same tests against another build or implementation.
pub fn gilvm_bin() -> PathBuf {
    match std::env::var_os("GILVM_TEST_BIN") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => PathBuf::from(env!("CARGO_BIN_EXE_gilvm")),
    }
}

/// Runs gilvm on `script` with `flags` placed before the file name.
/// The GIL is on unless the flags say otherwise (`GILVM_GIL` is cleared).
pub fn run_gilvm(script: &Script, flags: &[&str]) -> Result<Output, String> {
    let mut cmd = Command::new(gilvm_bin());
    cmd.args(flags).arg(&script.rel).env_remove("GILVM_GIL");
    run_command(cmd)
}

/// The oracle interpreter: `GILVM_TEST_PYTHON`, else `python3`.
pub fn python_bin() -> String {
    std::env::var("GILVM_TEST_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".to_string())
}

/// `Ok(version)` when the oracle runs and is CPython 3.11 (the version whose
/// messages gilvm follows), otherwise `Err(reason)` to skip on.
pub fn python_available() -> Result<String, String> {
    let python = python_bin();
    let out = Command::new(&python)
        .args(["-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("`{python}` could not be started: {e}"))?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() {
        return Err(format!("`{python}` failed to report its version"));
    }
    if !version.starts_with("3.11.") {
        return Err(format!(
            "`{python}` is Python {version}; the oracle must be 3.11 \
             (set GILVM_TEST_PYTHON to a python3.11)"
        ));
    }
    Ok(version)
}

pub fn run_python(script: &Script) -> Result<Output, String> {
    let mut cmd = Command::new(python_bin());
    cmd.arg(&script.rel)
        // Same text encoding whatever the machine's locale.
        .env("PYTHONUTF8", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        // One str hash seed: a script whose output depends on which keys
        // collide (`builtin_call_paths`) then prints the same every run.
        .env("PYTHONHASHSEED", "0");
    for var in [
        "PYTHONSTARTUP",
        "PYTHONPATH",
        "PYTHONWARNINGS",
        "PYTHONINSPECT",
        "PYTHONUNBUFFERED",
        "PYTHONIOENCODING",
    ] {
        cmd.env_remove(var);
    }
    run_command(cmd)
}

/// Runs `cmd` from the repository root with stdin closed (so `input()` sees
/// end of file), collecting both streams, and kills it after [`timeout()`]
/// so a hung program fails the test instead of hanging it.
pub fn run_command(cmd: Command) -> Result<Output, String> {
    run_command_with_stdin(cmd, None)
}

/// Runs gilvm with `args` (flags, `-c CODE`, a file...) and, when `stdin` is
/// given, feeds it those bytes; `GILVM_GIL` is cleared unless `env` sets it.
pub fn run_gilvm_args(
    args: &[&str],
    env: &[(&str, &str)],
    stdin: Option<&[u8]>,
) -> Result<Output, String> {
    let mut cmd = Command::new(gilvm_bin());
    cmd.args(args).env_remove("GILVM_GIL");
    for (key, value) in env {
        cmd.env(key, value);
    }
    run_command_with_stdin(cmd, stdin)
}

/// Like [`run_command`], but writes `input` to the program's stdin (then
/// closes it) instead of leaving stdin closed.
pub fn run_command_with_stdin(mut cmd: Command, input: Option<&[u8]>) -> Result<Output, String> {
    cmd.current_dir(repo_root())
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let program = format!("{:?}", cmd.get_program());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    if let (Some(input), Some(mut pipe)) = (input, child.stdin.take()) {
        // A writer thread, so a program that does not read its stdin cannot
        // block the test on a full pipe; dropping the pipe sends end of file.
        let input = input.to_vec();
        thread::spawn(move || {
            use std::io::Write as _;
            let _ = pipe.write_all(&input);
        });
    }

    let (done_tx, done_rx) = mpsc::channel();
    let stdout = spawn_reader(child.stdout.take(), done_tx.clone());
    let stderr = spawn_reader(child.stderr.take(), done_tx);

    let deadline = Instant::now() + timeout();
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if Instant::now() >= deadline {
            timed_out = true;
            let _ = child.kill();
            break child.wait().map_err(|e| e.to_string())?;
        }
        thread::sleep(Duration::from_millis(5));
    };
    // The pipes close when the program exits, unless a process it started
    // still holds them: that one is not waited for (its reader is abandoned).
    let mut streams_open = 2;
    let grace = Instant::now() + Duration::from_secs(2);
    while streams_open > 0 && Instant::now() < grace {
        if done_rx.recv_timeout(Duration::from_millis(20)).is_ok() {
            streams_open -= 1;
        }
    }

    #[cfg(unix)]
    let signal = {
        use std::os::unix::process::ExitStatusExt;
        status.signal()
    };
    #[cfg(not(unix))]
    let signal = None;
    Ok(Output {
        code: if timed_out { None } else { status.code() },
        signal: if timed_out { None } else { signal },
        timed_out,
        pipes_left_open: streams_open > 0,
        stdout: strip_repo_root(&stdout.take()),
        stderr: strip_repo_root(&stderr.take()),
    })
}

/// CPython names the script by its absolute path in tracebacks and
/// SyntaxErrors; the repository root is cut from such paths so outputs and
/// snapshots do not depend on where the repository is checked out.
fn strip_repo_root(text: &str) -> String {
    let mut text = text.to_string();
    let root = repo_root();
    let mut roots = vec![root.to_path_buf()];
    if let Ok(real) = root.canonicalize() {
        roots.push(real);
    }
    for root in roots {
        let prefix = format!("{}/", root.display());
        text = text.replace(&prefix, "");
    }
    text
}

/// A stream being read on its own thread; `take` returns what arrived so far.
struct Reader(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Reader {
    fn take(&self) -> String {
        let bytes = std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()));
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

fn spawn_reader<R: Read + Send + 'static>(source: Option<R>, done: mpsc::Sender<()>) -> Reader {
    let buffer = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = buffer.clone();
    thread::spawn(move || {
        if let Some(mut source) = source {
            let mut chunk = [0u8; 8192];
            loop {
                match source.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let mut buf = sink.lock().unwrap_or_else(|e| e.into_inner());
                        let room = OUTPUT_CAP.saturating_sub(buf.len());
                        buf.extend_from_slice(&chunk[..n.min(room)]);
                    }
                }
            }
        }
        let _ = done.send(());
    });
    Reader(buffer)
}

/// A line diff of `expected` against `actual` (`-` expected only, `+`
/// actual only), with a little context, cut to `max_lines` lines.
pub fn diff(expected: &str, actual: &str, max_lines: usize) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    if a.is_empty() != b.is_empty() {
        let (side, lines) = if b.is_empty() { ('-', &a) } else { ('+', &b) };
        let mut out = format!(
            "   (one side is empty; the other has {} lines)\n",
            lines.len()
        );
        for line in lines.iter().take(max_lines.min(5)) {
            let _ = writeln!(out, " {side} {line}");
        }
        return out;
    }
    let ops = diff_ops(&a, &b);
    const CONTEXT: usize = 2;
    let mut out = String::new();
    let mut shown = 0;
    let mut last_printed: Option<usize> = None;
    for (i, (tag, line)) in ops.iter().enumerate() {
        let near_change = ops[i.saturating_sub(CONTEXT)..(i + CONTEXT + 1).min(ops.len())]
            .iter()
            .any(|(t, _)| *t != ' ');
        if !near_change {
            continue;
        }
        if shown >= max_lines {
            out.push_str("   ... (diff cut)\n");
            break;
        }
        if last_printed.is_some_and(|p| p + 1 != i) {
            out.push_str("   ...\n");
        }
        let _ = writeln!(out, " {tag} {line}");
        last_printed = Some(i);
        shown += 1;
    }
    if out.is_empty() {
        out.push_str("   (same lines; the outputs differ in the final newline)\n");
    }
    out
}

/// Longest-common-subsequence edit script; falls back to a plain
/// line-by-line pairing when the outputs are too large for the table.
fn diff_ops<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<(char, &'a str)> {
    let (n, m) = (a.len(), b.len());
    if n.saturating_mul(m) > 4_000_000 {
        let mut ops = Vec::new();
        for i in 0..n.max(m) {
            match (a.get(i), b.get(i)) {
                (Some(x), Some(y)) if x == y => ops.push((' ', *x)),
                (x, y) => {
                    ops.extend(x.map(|x| ('-', *x)));
                    ops.extend(y.map(|y| ('+', *y)));
                }
            }
        }
        return ops;
    }
    // lcs[i][j]: length of the LCS of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut ops = Vec::with_capacity(n + m);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            ops.push(('+', b[j]));
            j += 1;
        } else {
            ops.push(('-', a[i]));
            i += 1;
        }
    }
    ops
}
