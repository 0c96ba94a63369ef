#!/usr/bin/env python3
"""End to end (read CSV + apply LFs + write Parquet), in one run on one machine:
- the 7 tutorial LFs: `labelgen apply` with the TOML LFs and with the plugin, against the same
  LFs as vectorised Python polars expressions (benches/polars_apply.py);
- 50 composite LFs with preprocessing (benches/composite_lfs.toml) against the same rules as
  polars expressions (benches/polars_composite.py, both from benches/composite_rules.py).
Reports the median wall time of REPEATS runs, rows/s, peak resident memory, the speed-up
over polars, and the median CPU time (user + system; steadier than wall time on a busy
machine). Checks that each set's outputs hold the same votes.

With `--before DIR`, also times the 7-LF TOML and plugin runs of another build (DIR holds its
`labelgen` and `libyoutube_spam_lfs.so`, e.g. the main branch's release build copied aside),
in the same run, to compare a change with what it changes.

Usage: benches/compare_apply.py [--rows N] [--repeats R] [--python PYTHON_WITH_POLARS]
                                [--before DIR]

Needs: a release build (`cargo build --release --workspace`) and a Python with polars
(`python3 -m venv /tmp/bench && /tmp/bench/bin/pip install polars`). Data is generated into
bench-data/ (git-ignored) by benches/make_comments.py.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run(command: list[str]) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (KiB) and CPU seconds (user + system) of one run of `command`."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        sys.exit(f"failed ({status}): {' '.join(command)}")
    return elapsed, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def measure(name: str, command: list[str], repeats: int) -> dict:
    run(command)  # warm the page cache and the binary
    results = [run(command) for _ in range(repeats)]
    return {
        "name": name,
        "seconds": statistics.median(seconds for seconds, _, _ in results),
        "rss_mib": max(rss for _, rss, _ in results) / 1024,
        "cpu": statistics.median(cpu for _, _, cpu in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--before", help="folder with another build's labelgen and plugin")
    args = parser.parse_args()

    data_dir = os.path.join(ROOT, "bench-data")
    os.makedirs(data_dir, exist_ok=True)
    data = os.path.join(data_dir, f"comments_{args.rows}.csv")
    if not os.path.exists(data):
        subprocess.check_call([sys.executable, os.path.join(HERE, "make_comments.py"), str(args.rows), data])
    labelgen = os.path.join(ROOT, "target", "release", "labelgen")
    plugin = os.path.join(ROOT, "target", "release", "libyoutube_spam_lfs.so")
    toml = os.path.join(ROOT, "labeling_functions", "youtube_spam.toml")
    composite = os.path.join(HERE, "composite_lfs.toml")
    names = ["toml", "plugin", "polars", "composite", "polars_composite", "before_toml", "before_plugin"]
    outputs = {name: os.path.join(data_dir, f"L_{name}.parquet") for name in names}
    common = [labelgen, "apply", data, "--column", "text=CONTENT", "-q"]
    tutorial = [
        measure("labelgen apply (TOML LFs)", common + ["--lfs", toml, "-o", outputs["toml"]], args.repeats),
        measure("labelgen apply (plugin LFs)", common + ["--plugin", plugin, "-o", outputs["plugin"]], args.repeats),
    ]
    checks = [["toml", "plugin", "polars"], ["composite", "polars_composite"]]
    if args.before:
        before = [os.path.join(args.before, "labelgen"), "apply", data, "--column", "text=CONTENT", "-q"]
        before_plugin = os.path.join(args.before, "libyoutube_spam_lfs.so")
        tutorial += [
            measure("before: labelgen apply (TOML LFs)", before + ["--lfs", toml, "-o", outputs["before_toml"]], args.repeats),
            measure("before: labelgen apply (plugin LFs)", before + ["--plugin", before_plugin, "-o", outputs["before_plugin"]], args.repeats),
        ]
        checks[0] += ["before_toml", "before_plugin"]
    tutorial.append(measure("Python polars expressions", [args.python, os.path.join(HERE, "polars_apply.py"), data, "CONTENT", outputs["polars"]], args.repeats))
    composites = [
        measure("labelgen apply (50 composite LFs)", common + ["--lfs", composite, "-o", outputs["composite"]], args.repeats),
        measure("Python polars expressions (50 composite LFs)", [args.python, os.path.join(HERE, "polars_composite.py"), data, "CONTENT", outputs["polars_composite"]], args.repeats),
    ]

    check = (
        "import polars as pl, sys\n"
        "frames = [pl.read_parquet(path) for path in sys.argv[1:]]\n"
        "for frame in frames[1:]:\n"
        "    for name in frame.columns:\n"
        "        diff = (frame[name] != frames[0][name]).sum()\n"
        "        assert diff == 0, f'{name}: {diff} rows differ'\n"
        "print(frames[0].height)\n"
    )
    for group in checks:
        rows = subprocess.check_output([args.python, "-c", check, *(outputs[name] for name in group)], text=True).strip()

    print(f"{args.rows} comments ({os.path.getsize(data) / 1e6:.0f} MB CSV), read + LFs + write Parquet, "
          f"median of {args.repeats}, {os.cpu_count()} cores; outputs of each set equal ({rows} rows)\n")
    for title, runs in [("7 tutorial LFs", tutorial), ("50 composite LFs with preprocessing", composites)]:
        baseline = runs[-1]["seconds"]
        print(f"{title}\n")
        print("| run | seconds | rows/s | peak RSS (MiB) | speed-up vs polars | CPU seconds |")
        print("|---|---|---|---|---|---|")
        for result in runs:
            print(f"| {result['name']} | {result['seconds']:.3f} | {args.rows / result['seconds']:,.0f} | "
                  f"{result['rss_mib']:.0f} | {baseline / result['seconds']:.2f}x | {result['cpu']:.2f} |")
        print()


if __name__ == "__main__":
    main()
