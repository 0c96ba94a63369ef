#!/usr/bin/env python3
"""End to end (read CSV + apply the 7 tutorial LFs + write Parquet), in one run on one machine:
`labelgen apply` with the TOML LFs and with the plugin, against the same LFs as vectorised
Python polars expressions (benches/polars_apply.py). Reports the median wall time of REPEATS
runs, rows/s, peak resident memory, and labelgen's speed-up over polars. Also checks that the
three outputs hold the same votes.

Usage: benches/compare_apply.py [--rows N] [--repeats R] [--python PYTHON_WITH_POLARS]

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


def run(command: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one run of `command`."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        sys.exit(f"failed ({status}): {' '.join(command)}")
    return elapsed, usage.ru_maxrss


def measure(name: str, command: list[str], repeats: int) -> dict:
    run(command)  # warm the page cache and the binary
    results = [run(command) for _ in range(repeats)]
    return {
        "name": name,
        "seconds": statistics.median(seconds for seconds, _ in results),
        "rss_mib": max(rss for _, rss in results) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()

    data_dir = os.path.join(ROOT, "bench-data")
    os.makedirs(data_dir, exist_ok=True)
    data = os.path.join(data_dir, f"comments_{args.rows}.csv")
    if not os.path.exists(data):
        subprocess.check_call([sys.executable, os.path.join(HERE, "make_comments.py"), str(args.rows), data])
    labelgen = os.path.join(ROOT, "target", "release", "labelgen")
    plugin = os.path.join(ROOT, "target", "release", "libyoutube_spam_lfs.so")
    toml = os.path.join(ROOT, "labeling_functions", "youtube_spam.toml")
    outputs = {name: os.path.join(data_dir, f"L_{name}.parquet") for name in ["toml", "plugin", "polars"]}
    common = [labelgen, "apply", data, "--column", "text=CONTENT", "-q"]
    runs = [
        measure("labelgen apply (TOML LFs)", common + ["--lfs", toml, "-o", outputs["toml"]], args.repeats),
        measure("labelgen apply (plugin LFs)", common + ["--plugin", plugin, "-o", outputs["plugin"]], args.repeats),
        measure("Python polars expressions", [args.python, os.path.join(HERE, "polars_apply.py"), data, "CONTENT", outputs["polars"]], args.repeats),
    ]

    check = (
        "import polars as pl, sys\n"
        "frames = [pl.read_parquet(path) for path in sys.argv[1:]]\n"
        "assert all(frame.equals(frames[0]) for frame in frames), 'outputs differ'\n"
        "print(frames[0].height)\n"
    )
    rows = subprocess.check_output([args.python, "-c", check, *outputs.values()], text=True).strip()

    baseline = runs[2]["seconds"]
    print(f"{args.rows} comments ({os.path.getsize(data) / 1e6:.0f} MB CSV), read + 7 LFs + write Parquet, "
          f"median of {args.repeats}, {os.cpu_count()} cores; all three outputs equal ({rows} rows)\n")
    print("| run | seconds | rows/s | peak RSS (MiB) | speed-up vs polars |")
    print("|---|---|---|---|---|")
    for result in runs:
        print(f"| {result['name']} | {result['seconds']:.3f} | {args.rows / result['seconds']:,.0f} | "
              f"{result['rss_mib']:.0f} | {baseline / result['seconds']:.2f}x |")


if __name__ == "__main__":
    main()
