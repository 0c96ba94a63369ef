#!/usr/bin/env python3
"""`labelgen analyze` against Snorkel 0.10.0's `LFAnalysis(L).lf_summary(Y)`, in one run.

On a synthetic N x M matrix with K classes and its gold labels (benches/make_matrix.py writes
the matrix and the true labels): `labelgen analyze MATRIX --gold GOLD:label --format json`
as a process (read Parquet, every per-LF, pairwise and confusion figure, write JSON), median
of several runs, and Snorkel's `lf_summary(Y)` in memory (reading not timed), once. Prints
wall times, peak memory and the ratios. Also checks that both agree on every per-LF figure
Snorkel computes (to 1e-9).

Usage: benches/compare_analyze.py --snorkel-python PY [--rows N] [--lfs M] [--classes K]
       [--repeats R]
Needs a release build (`cargo build --release`).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LABELGEN = os.path.join(ROOT, "target", "release", "labelgen")


def timed(command):
    """Wall seconds and peak RSS (MiB) of one command."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdout = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        sys.exit(f"failed: {' '.join(command)}: {process.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss / 1024, stdout


GOLD_SCRIPT = """
import sys, numpy as np, pandas as pd
truth = np.load(sys.argv[1])
pd.DataFrame({"label": truth.astype("int64")}).to_parquet(sys.argv[2])
"""

SNORKEL_SCRIPT = """
import json, sys, time
import numpy as np, pandas as pd
from snorkel.labeling import LFAnalysis
L = pd.read_parquet(sys.argv[1]).to_numpy()
Y = pd.read_parquet(sys.argv[2])["label"].to_numpy()
started = time.perf_counter()
summary = LFAnalysis(L).lf_summary(Y)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "coverage": summary["Coverage"].tolist(),
    "overlaps": summary["Overlaps"].tolist(), "conflicts": summary["Conflicts"].tolist(),
    "correct": [int(x) for x in summary["Correct"]], "incorrect": [int(x) for x in summary["Incorrect"]],
    "accuracy": summary["Emp. Acc."].tolist()}))
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--snorkel-python", required=True)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--lfs", type=int, default=50)
    parser.add_argument("--classes", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    data = os.path.join(ROOT, "bench-data")
    os.makedirs(data, exist_ok=True)
    matrix = os.path.join(data, f"L_{args.rows}_{args.lfs}_{args.classes}.parquet")
    gold = os.path.join(data, f"gold_{args.rows}_{args.lfs}_{args.classes}.parquet")
    if not os.path.exists(matrix):
        subprocess.check_call([args.snorkel_python, os.path.join(HERE, "make_matrix.py"),
                               str(args.rows), str(args.lfs), str(args.classes), matrix])
    if not os.path.exists(gold):
        subprocess.check_call([args.snorkel_python, "-c", GOLD_SCRIPT, matrix + ".truth.npy", gold])
    with tempfile.TemporaryDirectory() as work:
        output = os.path.join(work, "summary.json")
        command = [LABELGEN, "analyze", matrix, "--cardinality", str(args.classes),
                   "--gold", f"{gold}:label", "--format", "json", "-o", output]
        runs = [timed(command)[:2] for _ in range(args.repeats)]
        ours = json.load(open(output))
    seconds = statistics.median(run[0] for run in runs)
    memory = max(run[1] for run in runs)
    snorkel_wall, snorkel_memory, printed = timed([args.snorkel_python, "-c", SNORKEL_SCRIPT, matrix, gold])
    snorkel = json.loads(printed)
    for index, lf in enumerate(ours["lfs"]):
        for field, theirs in [("coverage", "coverage"), ("overlaps", "overlaps"), ("conflicts", "conflicts"),
                              ("correct", "correct"), ("incorrect", "incorrect"), ("empirical_accuracy", "accuracy")]:
            assert abs(lf[field] - snorkel[theirs][index]) < 1e-9, (lf["name"], field, lf[field], snorkel[theirs][index])
    print(f"{args.rows} x {args.lfs} matrix, {args.classes} classes, with gold; labelgen median of {args.repeats}\n")
    print("| run | seconds | peak RSS (MiB) |")
    print("|---|---|---|")
    print(f"| labelgen analyze (process: read Parquet + gold, all figures incl. pairwise, write JSON) | {seconds:.3f} | {memory:.0f} |")
    print(f"| Snorkel lf_summary(Y) (in memory, reading not timed) | {snorkel['seconds']:.2f} | {snorkel_memory:.0f} (process) |")
    print(f"\nspeed-up (Snorkel in-memory / labelgen whole process): {snorkel['seconds'] / seconds:.0f}x; "
          f"memory ratio {snorkel_memory / memory:.1f}x; per-LF figures agree to 1e-9")


if __name__ == "__main__":
    main()
