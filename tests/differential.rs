//! Differential test against CPython: every `scripts/**/*.script`
//! (benchmarks aside) runs under `python3` and under gilvm (GIL on; scripts
//! under `scripts/threads/` also with `--gil off`). They must agree on
//!
//! - the exit code;
//! - stdout, byte for byte (only the column-0 lines of a `# timing-dependent`
//!   script; the sorted lines of a script in a `nondeterministic/` folder);
//! - the last line of stderr (the exception line, SyntaxError included)
//!   when the program fails.
//!
//! Skipped, with a message, where no CPython 3.11 is found
//! (`GILVM_TEST_PYTHON` names another interpreter to use as the oracle).

mod common;

use common::{Output, Script};

/// Compares one gilvm run with python3's; returns the differences found.
fn compare(script: &Script, python: &Output, gilvm: &Output) -> Option<String> {
    let mut report = String::new();
    if python.exit_description() != gilvm.exit_description() {
        report.push_str(&format!(
            "    exit: python3 {}, gilvm {}\n",
            python.exit_description(),
            gilvm.exit_description()
        ));
    }
    let (expected, actual) = (
        script.comparable(&python.stdout),
        script.comparable(&gilvm.stdout),
    );
    if expected != actual {
        report.push_str("    stdout (- python3, + gilvm):\n");
        report.push_str(&common::diff(&expected, &actual, 40));
    }
    if python.code != Some(0) {
        let (expected, actual) = (python.last_stderr_line(), gilvm.last_stderr_line());
        if expected != actual {
            report.push_str(&format!(
                "    last stderr line:\n     - {expected}\n     + {actual}\n"
            ));
        }
    } else if gilvm.code != Some(0) {
        // python3 succeeded: show why gilvm did not.
        report.push_str(&format!(
            "    gilvm stderr ends: {}\n",
            gilvm.last_stderr_line()
        ));
    }
    (!report.is_empty()).then_some(report)
}

/// CPython itself is not deterministic for scripts that race or time
/// things: `print` writes the text and the newline separately, so lines
/// from two threads can tear. For such scripts python3 gets up to
/// [`ORACLE_ATTEMPTS`] runs, and gilvm must match one of them.
const ORACLE_ATTEMPTS: usize = 3;

fn compare_with_retries(
    script: &Script,
    python_runs: &mut Vec<Output>,
    gilvm: &Output,
) -> Option<String> {
    let retry = script.timing_dependent || script.nondeterministic;
    let mut attempt = 0;
    loop {
        let report = compare(script, &python_runs[attempt], gilvm)?;
        attempt += 1;
        if !retry || attempt >= ORACLE_ATTEMPTS {
            return Some(report);
        }
        if attempt == python_runs.len() {
            match common::run_python(script) {
                Ok(out) => python_runs.push(out),
                Err(_) => return Some(report),
            }
        }
    }
}

#[test]
fn same_output_as_python3() {
    let version = match common::python_available() {
        Ok(version) => version,
        Err(reason) => {
            eprintln!("differential test skipped: {reason}");
            return;
        }
    };
    let scripts = common::all_scripts();
    assert!(!scripts.is_empty(), "no scripts found under scripts/");

    let mut failures = Vec::new();
    let mut failing = Vec::new();
    let mut runs = 0;
    for script in &scripts {
        let python = match common::run_python(script) {
            Ok(out) => out,
            Err(e) => {
                failing.push(script.rel.clone());
                failures.push(format!("{}: python3: {e}", script.rel));
                continue;
            }
        };
        let mut modes: Vec<(&str, &[&str])> = vec![("GIL on", &[])];
        if script.is_threads() {
            modes.push(("--gil off", &["--gil", "off"]));
        }
        let mut python_runs = vec![python];
        for (mode, flags) in modes {
            runs += 1;
            match common::run_gilvm(script, flags) {
                Ok(gilvm) => {
                    if let Some(report) = compare_with_retries(script, &mut python_runs, &gilvm) {
                        failing.push(format!("{} ({mode})", script.rel));
                        failures.push(format!("{} ({mode}):\n{report}", script.rel));
                    }
                }
                Err(e) => {
                    failing.push(format!("{} ({mode})", script.rel));
                    failures.push(format!("{} ({mode}): gilvm: {e}", script.rel));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {runs} runs differ from python3 {version}:\n  {}\n\n{}",
        failing.len(),
        failing.join("\n  "),
        failures.join("\n")
    );
}
