#!/usr/bin/env python3
"""Label models against Snorkel 0.10.0, in one run on one machine.

1. Accuracy: for each WRENCH dataset given (fit on train, score on test, random tie-break),
   labelgen's models (`labelgen fit` + `labelgen score`) and Snorkel's LabelModel and
   MajorityLabelVoter (benches/snorkel_reference.py), accuracy and macro-F1 over all rows and
   over the rows some LF covered.
2. Speed and memory: on a synthetic N x M matrix with K classes (benches/make_matrix.py),
   `labelgen fit` + `labelgen label` (processes, Parquet in and out) against Snorkel's
   `fit` + `predict_proba` (benches/snorkel_fit.py: in memory, one torch thread), wall time
   (labelgen: median of 5 runs; Snorkel: the faster of 2) and peak resident memory; and, on
   the default 1M x 50 x 4, labelgen's count + fit + predict_proba in memory (`cargo bench --bench label_model`) against Snorkel's in-memory
   fit + predict_proba, in the same run.

Usage: benches/compare_models.py --snorkel-python PY [--datasets DIR ...] [--rows N] [--lfs M]
       [--classes K] [--epochs E]
Needs a release build (`cargo build --release`) and a Python with snorkel==0.10.0 (see
TOOLCHAIN notes: torch==1.13.1, numpy<2, pandas<3, pyarrow==19.0.1, scikit-learn==1.5.2).
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
MODELS = ["majority", "generative", "dawid-skene", "snorkel"]
# labelgen's processes take about a second: the median of several runs steadies the figure.
LABELGEN_RUNS = 5


def run(command):
    """Wall seconds and stdout of one command."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = process.communicate()
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{stderr}")
    return elapsed, stdout


def timed(command):
    """Wall seconds, peak RSS (MiB) and stdout of one command, measured with wait4."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if status != 0:
            sys.exit(f"failed: {' '.join(command)}: {err.read().decode()}")
        return elapsed, usage.ru_maxrss / 1024, out.read().decode()


def repeated(command, times):
    """Median wall seconds and largest peak RSS (MiB) of `times` runs of one command."""
    runs = [timed(command)[:2] for _ in range(times)]
    return statistics.median(seconds for seconds, _ in runs), max(memory for _, memory in runs)


def accuracy(datasets, snorkel_python):
    print("| dataset | model | all: accuracy | all: macro-F1 | covered: accuracy | covered: macro-F1 |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as work:
        for directory in datasets:
            name = os.path.basename(directory.rstrip("/"))
            for model in MODELS:
                path = os.path.join(work, f"{name}_{model}.json")
                run([LABELGEN, "fit", os.path.join(directory, "train.json"), "--model", model, "-o", path])
                _, report = run([LABELGEN, "score", path, os.path.join(directory, "test.json"), "--json"])
                scores = json.loads(report)[1]
                assert scores["tie_break"] == "random"
                print(f"| {name} | labelgen {model} | {scores['all_rows']['accuracy']:.4f} | {scores['all_rows']['macro_f1']:.4f} "
                      f"| {scores['covered_rows']['accuracy']:.4f} | {scores['covered_rows']['macro_f1']:.4f} |")
            _, output = run([snorkel_python, os.path.join(HERE, "snorkel_reference.py"), directory, os.path.join(work, "proba.csv")])
            results = {}
            for line in output.splitlines():
                parts = line.split()
                results[(parts[1], parts[2])] = (float(parts[4]), float(parts[6]))
            for model in ["snorkel", "majority"]:
                (all_accuracy, all_f1), (covered_accuracy, covered_f1) = results[(model, "all")], results[(model, "covered")]
                label = "Snorkel LabelModel" if model == "snorkel" else "Snorkel MajorityLabelVoter"
                print(f"| {name} | {label} | {all_accuracy:.4f} | {all_f1:.4f} | {covered_accuracy:.4f} | {covered_f1:.4f} |")


def speed(snorkel_python, rows, lfs, classes, epochs):
    data = os.path.join(ROOT, "bench-data")
    os.makedirs(data, exist_ok=True)
    matrix = os.path.join(data, f"L_{rows}_{lfs}_{classes}.parquet")
    if not os.path.exists(matrix):
        subprocess.check_call([snorkel_python, os.path.join(HERE, "make_matrix.py"), str(rows), str(lfs), str(classes), matrix])
    with tempfile.TemporaryDirectory() as work:
        model, labels = os.path.join(work, "model.json"), os.path.join(work, "labels.parquet")
        fit_seconds, fit_memory = repeated([LABELGEN, "fit", matrix, "--cardinality", str(classes), "-o", model], LABELGEN_RUNS)
        label_seconds, label_memory = repeated([LABELGEN, "label", model, matrix, "-o", labels], LABELGEN_RUNS)
    # Snorkel takes half a minute a run: two runs, and the faster of each figure (the
    # conservative side for the ratios below).
    snorkel_runs = [timed([snorkel_python, os.path.join(HERE, "snorkel_fit.py"), matrix, str(classes), str(epochs)])
                    for _ in range(2)]
    snorkel_seconds = min(seconds for seconds, _, _ in snorkel_runs)
    snorkel_memory = max(memory for _, memory, _ in snorkel_runs)
    # snorkel_fit.py prints "snorkel fit F s, predict_proba P s, rows N".
    snorkel_in_memory = min(float(output.split()[2]) + float(output.split()[5]) for _, _, output in snorkel_runs)
    ours, ours_memory = fit_seconds + label_seconds, max(fit_memory, label_memory)
    in_memory = in_memory_seconds() if (rows, lfs, classes) == (1_000_000, 50, 4) else None
    print(f"\n{rows} x {lfs} matrix, {classes} classes; Snorkel {epochs} epochs, one torch thread\n")
    print("| run | seconds | peak RSS (MiB) |")
    print("|---|---|---|")
    print(f"| labelgen fit (process: read Parquet, fit, write JSON; median of {LABELGEN_RUNS}) | {fit_seconds:.2f} | {fit_memory:.0f} |")
    print(f"| labelgen label (process: read Parquet, predict, write Parquet; median of {LABELGEN_RUNS}) | {label_seconds:.2f} | {label_memory:.0f} |")
    print(f"| Snorkel process (read Parquet, fit, predict_proba; faster of 2) | {snorkel_seconds:.2f} | {snorkel_memory:.0f} |")
    for seconds, _, output in snorkel_runs:
        print(f"\nSnorkel run: {seconds:.2f} s as a process; its own timing: {output.strip()}")
    print(f"labelgen fit + label: {ours:.2f} s")
    print(f"\nprocesses (both read the Parquet matrix): Snorkel {snorkel_seconds:.2f} s / labelgen {ours:.2f} s = "
          f"{snorkel_seconds / ours:.1f}x; peak memory {snorkel_memory:.0f} / {ours_memory:.0f} MiB = "
          f"{snorkel_memory / ours_memory:.1f}x less")
    print(f"Snorkel's fit + predict_proba in memory (faster of 2) {snorkel_in_memory:.2f} s / labelgen's processes {ours:.2f} s = "
          f"{snorkel_in_memory / ours:.1f}x")
    if in_memory is not None:
        print(f"in memory (labelgen: cargo bench --bench label_model, count + fit + predict_proba, mean): Snorkel "
              f"{snorkel_in_memory:.2f} s / labelgen {in_memory:.3f} s = {snorkel_in_memory / in_memory:.1f}x")


def in_memory_seconds():
    """Mean seconds of count + fit + predict_proba in memory on 1M x 50 x 4 (criterion)."""
    name = "count + fit + predict_proba, 1M x 50, 4 classes"
    subprocess.run(["cargo", "bench", "--bench", "label_model", "--", "--noplot", name.replace("+", "\\+")],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(os.path.join(ROOT, "target", "criterion", "label_model", name, "new", "estimates.json")) as handle:
        return json.load(handle)["mean"]["point_estimate"] / 1e9


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--snorkel-python", required=True)
    parser.add_argument("--datasets", nargs="*", default=[])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--lfs", type=int, default=50)
    parser.add_argument("--classes", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=500)
    args = parser.parse_args()
    if args.datasets:
        accuracy(args.datasets, args.snorkel_python)
    if args.rows > 0:
        speed(args.snorkel_python, args.rows, args.lfs, args.classes, args.epochs)


if __name__ == "__main__":
    main()
