#!/usr/bin/env python3
"""Benchmark gilvm against python3 on the same machine, in the same run.

    python3 scripts/bench.py [--runs N] [--only NAME[,NAME...]] [--gil-runs N]
                             [--no-build] [--gilvm PATH] [--python PATH]

1. Builds the release binary (`cargo build --release`) unless --no-build or
   --gilvm is given.
2. Runs every scripts/bench/*.script except gil_* N times (default 5) under
   gilvm and python3, alternating which goes first, and prints the median
   wall time of each with the ratio gilvm / python3 (below 1.0: gilvm is
   faster). Both must print the same stdout (the checksum line), except for
   scripts whose first line is `# timing-dependent`.
3. Runs every scripts/bench/gil_*.script under gilvm with the GIL on, gilvm
   --gil off and python3; they print `RESULT name value` lines, and the
   median of each figure is shown side by side.

Prints two Markdown tables, ready for the README. Exits 1 when a program
failed or printed different output under gilvm and python3.
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "scripts" / "bench"
TIMING_MARKER = "# timing-dependent"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=5, help="runs per benchmark and interpreter (default 5)")
    p.add_argument("--gil-runs", type=int, default=None, help="runs of each gil_* script per configuration (default: --runs)")
    p.add_argument("--only", action="append", default=[], metavar="NAME",
                   help="run only these benchmarks (file name without .script; repeat or separate with commas)")
    p.add_argument("--no-build", action="store_true", help="do not run `cargo build --release` first")
    p.add_argument("--gilvm", default=None, help="gilvm binary to use (default target/release/gilvm, built first)")
    p.add_argument("--python", default="python3", help="the CPython to compare with (default python3)")
    p.add_argument("--timeout", type=float, default=300, help="seconds before one run is killed (default 300)")
    args = p.parse_args()
    if args.runs < 1:
        p.error("--runs must be at least 1")
    if args.gil_runs is None:
        args.gil_runs = args.runs
    args.only = {name.strip().removesuffix(".script") for arg in args.only for name in arg.split(",") if name.strip()}
    return args


class Run:
    def __init__(self, seconds, code, stdout, stderr):
        self.seconds = seconds
        self.code = code
        self.stdout = stdout
        self.stderr = stderr

    @property
    def ok(self):
        return self.code == 0


def run(cmd, timeout, env=None):
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout, env=env)
    except subprocess.TimeoutExpired as e:
        return Run(time.perf_counter() - start, None, decode(e.stdout), f"timed out after {timeout}s")
    elapsed = time.perf_counter() - start
    return Run(elapsed, proc.returncode, decode(proc.stdout), decode(proc.stderr))


def decode(data):
    return (data or b"").decode("utf-8", "replace")


def is_timing_dependent(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.readline().rstrip() == TIMING_MARKER


def build():
    print("building: cargo build --release", file=sys.stderr, flush=True)
    proc = subprocess.run(["cargo", "build", "--release"], cwd=ROOT)
    if proc.returncode != 0:
        sys.exit("cargo build --release failed")
    return str(ROOT / "target" / "release" / "gilvm")


def version_of(cmd):
    try:
        proc = subprocess.run(cmd + ["--version"], capture_output=True, timeout=30)
        text = decode(proc.stdout or proc.stderr).strip()
        return text.splitlines()[0] if text else "?"
    except OSError:
        return "not found"


def gilvm_env():
    """The environment for gilvm: GIL on unless the command line says off."""
    env = dict(os.environ)
    env.pop("GILVM_GIL", None)
    return env


def failure_note(label, r):
    tail = r.stderr.strip().splitlines()[-1:] or ["(no stderr)"]
    return f"{label}: exit {r.code}: {tail[0]}"


def time_benchmarks(names, gilvm, python, args, problems):
    rows = []
    for name in names:
        path = BENCH_DIR / f"{name}.script"
        rel = str(path.relative_to(ROOT))
        contenders = {"gilvm": [gilvm, rel], "python3": [python, rel]}
        times = {"gilvm": [], "python3": []}
        outputs = {"gilvm": set(), "python3": set()}
        failed = {}
        for i in range(args.runs):
            # Alternate who goes first so drift in machine load hits both alike.
            order = ["gilvm", "python3"] if i % 2 == 0 else ["python3", "gilvm"]
            for who in order:
                if who in failed:
                    continue
                r = run(contenders[who], args.timeout, gilvm_env() if who == "gilvm" else None)
                if not r.ok:
                    failed[who] = r
                    continue
                times[who].append(r.seconds)
                outputs[who].add(r.stdout)
            print(f"  {name}: run {i + 1}/{args.runs}", file=sys.stderr, flush=True)
        cells = {}
        for who in times:
            if who in failed:
                cells[who] = "error"
                problems.append(f"{name}: {failure_note(who, failed[who])}")
            else:
                cells[who] = statistics.median(times[who])
        if not failed and not is_timing_dependent(path):
            if len(outputs["gilvm"]) != 1 or outputs["gilvm"] != outputs["python3"]:
                problems.append(f"{name}: gilvm printed {sorted(outputs['gilvm'])!r}, "
                                f"python3 printed {sorted(outputs['python3'])!r}")
                cells["mismatch"] = True
        rows.append((name, cells))
    return rows


def print_time_table(rows):
    print("| benchmark | gilvm (s) | python3 (s) | ratio |")
    print("|---|---:|---:|---:|")
    for name, cells in rows:
        g, p = cells["gilvm"], cells["python3"]
        ratio = f"{g / p:.2f}" if isinstance(g, float) and isinstance(p, float) and p > 0 else "—"
        if cells.get("mismatch"):
            ratio += " (output differs)"
        print(f"| {name} | {fmt_seconds(g)} | {fmt_seconds(p)} | {ratio} |")


def fmt_seconds(v):
    return f"{v:.3f}" if isinstance(v, float) else v


def parse_results(stdout):
    """`RESULT name value` lines → [(name, float)] in printed order."""
    figures = []
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "RESULT":
            try:
                figures.append((parts[1], float(parts[2])))
            except ValueError:
                pass
    return figures


def gil_figures(names, gilvm, python, args, problems):
    configs = [
        ("gilvm GIL on", [gilvm]),
        ("gilvm GIL off", [gilvm, "--gil", "off"]),
        ("python3", [python]),
    ]
    order_of_figures = []
    values = {}  # (figure, config) -> [values]
    for name in names:
        rel = str((BENCH_DIR / f"{name}.script").relative_to(ROOT))
        label = name.removeprefix("gil_")
        broken = set()
        for i in range(args.gil_runs):
            # Rotate the configuration order from run to run.
            shift = i % len(configs)
            for config, cmd in configs[shift:] + configs[:shift]:
                if config in broken:
                    continue
                r = run(cmd + [rel], args.timeout, gilvm_env() if config.startswith("gilvm") else None)
                if not r.ok:
                    broken.add(config)
                    problems.append(f"{name}: {failure_note(config, r)}")
                    continue
                for figure, value in parse_results(r.stdout):
                    key = f"{label}: {figure}"
                    if key not in order_of_figures:
                        order_of_figures.append(key)
                    values.setdefault((key, config), []).append(value)
            print(f"  {name}: run {i + 1}/{args.gil_runs}", file=sys.stderr, flush=True)
    return order_of_figures, values, [c for c, _ in configs]


def fmt_figure(values):
    if not values:
        return "—"
    v = statistics.median(values)
    if abs(v) >= 1000:
        return f"{v:.0f}"
    return f"{v:.4g}"


def print_gil_table(figures, values, configs):
    print("| figure | " + " | ".join(configs) + " |")
    print("|---|" + "---:|" * len(configs))
    for figure in figures:
        cells = [fmt_figure(values.get((figure, c), [])) for c in configs]
        print(f"| {figure} | " + " | ".join(cells) + " |")


def main():
    args = parse_args()
    gilvm = args.gilvm
    if gilvm is None:
        gilvm = build() if not args.no_build else str(ROOT / "target" / "release" / "gilvm")
    if not Path(gilvm).exists() and os.sep in gilvm:
        sys.exit(f"gilvm binary not found: {gilvm}")

    stems = sorted(p.stem for p in BENCH_DIR.glob("*.script"))
    if args.only:
        unknown = args.only - set(stems)
        if unknown:
            sys.exit(f"unknown benchmark(s): {', '.join(sorted(unknown))}; have: {', '.join(stems)}")
        stems = [s for s in stems if s in args.only]
    timed = [s for s in stems if not s.startswith("gil_")]
    gil = [s for s in stems if s.startswith("gil_")]

    print(f"gilvm: {version_of([gilvm])} ({gilvm}); python3: {version_of([args.python])}; "
          f"{platform.machine()}, {os.cpu_count()} cores; medians of {args.runs} runs "
          f"({args.gil_runs} for GIL figures)")
    print()
    problems = []
    if timed:
        rows = time_benchmarks(timed, gilvm, args.python, args, problems)
        print_time_table(rows)
        print()
    if gil:
        figures, values, configs = gil_figures(gil, gilvm, args.python, args, problems)
        print_gil_table(figures, values, configs)
        print()
    if problems:
        print("Problems:")
        for p in problems:
            print(f"- {p}")
        sys.exit(1)


if __name__ == "__main__":
    main()
