//! Snapshot tests: every `scripts/**/*.script` (benchmarks aside) run by
//! gilvm with the GIL on; exit code, stdout and stderr go into one insta
//! snapshot per script, `tests/snapshots/<dir>__<name>.snap`.
//!
//! Deterministic scripts under `scripts/threads/` run a second time with
//! `--gil off` and must print exactly what they printed with the GIL on.
//!
//! Review changes with `cargo insta review`, or accept every new output with
//! `INSTA_UPDATE=always cargo test --release --test scripts`.

mod common;

use common::{Output, Script};
use std::panic::{catch_unwind, AssertUnwindSafe};

fn snapshot_text(script: &Script, out: &Output) -> String {
    let mut text = format!("{}\n", out.exit_description());
    for (name, stream) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        text.push_str(&format!("--- {name} ---\n"));
        let shown = script.for_snapshot(stream);
        text.push_str(&shown);
        if !shown.is_empty() && !shown.ends_with('\n') {
            // Otherwise the next header would hide a missing final newline.
            text.push_str("\n[no newline at end]\n");
        }
    }
    text.push_str("--- end ---\n");
    text
}

#[test]
fn script_snapshots() {
    let scripts = common::all_scripts();
    assert!(!scripts.is_empty(), "no scripts found under scripts/");

    let mut failures = Vec::new();
    for script in &scripts {
        let out = match common::run_gilvm(script, &[]) {
            Ok(out) => out,
            Err(e) => {
                failures.push(format!("{}: {e}", script.rel));
                continue;
            }
        };
        let name = script.snapshot_name();
        let text = snapshot_text(script, &out);
        let mut settings = insta::Settings::clone_current();
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.set_description(describe(script, "gilvm (GIL on)"));
        // One failing snapshot must not hide the others: insta writes each
        // pending `.snap.new`, and the failures are reported together below.
        let checked = catch_unwind(AssertUnwindSafe(|| {
            settings.bind(|| insta::assert_snapshot!(name.clone(), text));
        }));
        if checked.is_err() {
            failures.push(format!("{}: snapshot `{name}` differs", script.rel));
        }
        // Never acceptable, even once recorded in a snapshot.
        if let Some(crash) = out.crash() {
            failures.push(format!("{}: {crash}", script.rel));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} scripts failed:\n  {}\n(review with `cargo insta review`)",
        failures.len(),
        scripts.len(),
        failures.join("\n  ")
    );
}

fn describe(script: &Script, how: &str) -> String {
    let mut text = format!("{how}: {}", script.rel);
    if script.timing_dependent {
        text.push_str(" (timing-dependent: indented lines masked)");
    }
    if script.nondeterministic {
        text.push_str(" (nondeterministic: distinct lines, sorted)");
    }
    text
}

#[test]
fn threads_same_output_with_gil_off() {
    let scripts: Vec<Script> = common::all_scripts()
        .into_iter()
        .filter(Script::is_threads)
        .collect();

    let mut failures = Vec::new();
    for script in &scripts {
        let runs = common::run_gilvm(script, &[])
            .and_then(|on| Ok((on, common::run_gilvm(script, &["--gil", "off"])?)));
        let (on, off) = match runs {
            Ok(pair) => pair,
            Err(e) => {
                failures.push(format!("{}: {e}", script.rel));
                continue;
            }
        };
        let mut problems = String::new();
        if on.exit_description() != off.exit_description() {
            problems.push_str(&format!(
                "    GIL on: {}, GIL off: {}\n",
                on.exit_description(),
                off.exit_description()
            ));
        }
        let (on_text, off_text) = (
            script.comparable(&on.stdout),
            script.comparable(&off.stdout),
        );
        if on_text != off_text {
            problems.push_str("    stdout (- GIL on, + GIL off):\n");
            problems.push_str(&common::diff(&on_text, &off_text, 40));
        }
        for (mode, out) in [("GIL on", &on), ("--gil off", &off)] {
            if let Some(crash) = out.crash() {
                problems.push_str(&format!("    {mode}: {crash}\n"));
            }
        }
        if !problems.is_empty() {
            let stderr_tail = off.last_stderr_line();
            failures.push(format!(
                "{}:\n{problems}    stderr with GIL off ends: {stderr_tail}",
                script.rel
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} thread scripts differ between GIL on and --gil off:\n{}",
        failures.len(),
        scripts.len(),
        failures.join("\n")
    );
}
