#!/usr/bin/env python3
"""Label models against their peers, in one run on one machine.

1. Accuracy: for each WRENCH dataset (by default every set in ../shared/data; fit on train,
   score on test, or on valid when there is no test split; random tie-break), every labelgen
   model (`labelgen fit --model M` + `labelgen score`) and the peers of issue 17's table:
   Snorkel 0.10's MajorityLabelVoter and LabelModel (snorkel_reference.py), Dawid-Skene as
   WRENCH 1.1.1 fits it (wrench_dawid_skene.py) and the Hyper Label Model from PyPI hyperlm
   0.0.5 (hyperlm_reference.py), accuracy and macro-F1 over all rows and over the rows some
   LF covered, and each labelgen model's LF accuracy error (mean |estimated - measured on the
   test split's gold| over LFs with at least 10 votes there). Then the means, the best peer
   per dataset, the default's margin over the best single peer, every dataset on which it falls
   more than 2 points below majority vote, and its LF accuracy error per dataset. With
   `--flyingsquid-python PY`, FlyingSquid's LabelModel (flyingsquid_reference.py) is scored
   too. `--analogues` does the same on benches/make_analogue_sets.py's real-data stand-ins for the
   regimes labelgen is scored on but does not have; `--synthetic SEEDS`, `--small SEEDS` and
   `--stress SEEDS` on the sets of benches/make_synthetic_sets.py (scenarios, small training
   sets, stress regimes).
2. Speed and memory: on a synthetic N x M matrix with K classes (benches/make_matrix.py),
   `labelgen fit` + `labelgen label` (processes, Parquet in and out) against Snorkel's
   `fit` + `predict_proba` (benches/snorkel_fit.py: in memory, one torch thread), wall time
   (labelgen: median of 5 runs; Snorkel: the faster of 2) and peak resident memory; and, on
   the default 1M x 50 x 4, labelgen's count + fit + predict_proba in memory (`cargo bench
   --bench label_model`) against Snorkel's in-memory fit + predict_proba, in the same run.

Usage: PY benches/compare_models.py --snorkel-python PY [--flyingsquid-python PY] [--datasets DIR ...]
       [--analogues] [--synthetic SEEDS] [--small SEEDS] [--stress SEEDS] [--rows N (0: no speed run)] [--lfs M]
       [--classes K] [--epochs E]
Run it with a Python that has NumPy and scikit-learn (the Snorkel venv's will do). Needs a release
build (`cargo build --release`) and a Python with snorkel==0.10.0 and hyperlm==0.0.5 (see
TOOLCHAIN notes: torch==1.13.1, numpy<2, pandas<3, pyarrow==19.0.1, scikit-learn==1.5.2);
FlyingSquid wants its own (flyingsquid==0.0.0a0, pgmpy==0.1.12, numpy<2, networkx<3, scipy<1.12,
pandas<2.2, scikit-learn).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wrench_scores import load, test_split  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LABELGEN = os.path.join(ROOT, "target", "release", "labelgen")
MODELS = ["generative", "majority", "dawid-skene", "snorkel", "hyper"]
DEFAULT = "labelgen generative"
# labelgen's processes take about a second: the median of several runs steadies the figure.
LABELGEN_RUNS = 5
SNORKEL_MODEL, SNORKEL_MAJORITY = "Snorkel LabelModel", "Snorkel MajorityLabelVoter"
WRENCH_DS, HYPERLM = "Dawid-Skene (WRENCH's)", "Hyper Label Model (hyperlm)"
FLYINGSQUID = "FlyingSquid LabelModel"
# The peers of the table: the default must beat the best of them, and never fall far
# below majority vote.
PEERS = [SNORKEL_MAJORITY, SNORKEL_MODEL, WRENCH_DS, HYPERLM]
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


def peer_scores(python, script, directory, name):
    """(all accuracy, all macro-F1, covered accuracy, covered macro-F1) of peer `name` as
    printed by `script` (wrench_scores.py's format)."""
    _, output = run([python, os.path.join(HERE, script), directory])
    figures = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 7 and parts[1] == name:
            figures[parts[2]] = (float(parts[4]), float(parts[6]))
    return figures["all"] + figures["covered"]


def accuracy(datasets, snorkel_python, flyingsquid_python=None):
    """Score every labelgen model and every peer on each dataset (fit on train, score on test,
    or valid when there is no test split; random tie-break); print them, with each labelgen
    model's LF accuracy error. Return ({(dataset, model): (all accuracy, all macro-F1, covered
    accuracy, covered macro-F1)}, {(dataset, model): LF accuracy error})."""
    results, errors = {}, {}
    print("| dataset | model | all: accuracy | all: macro-F1 | covered: accuracy | covered: macro-F1 | LF accuracy error |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as work:
        for directory in datasets:
            name = os.path.basename(directory.rstrip("/"))
            for model in MODELS:
                key = (name, f"labelgen {model}")
                results[key], errors[key] = labelgen_scores(directory, work, ["--model", model])
            _, output = run([snorkel_python, os.path.join(HERE, "snorkel_reference.py"), directory,
                             os.path.join(work, "proba.csv")])
            snorkel = {}
            for line in output.splitlines():
                parts = line.split()
                snorkel[(parts[1], parts[2])] = (float(parts[4]), float(parts[6]))
            for model, label in [("snorkel", SNORKEL_MODEL), ("majority", SNORKEL_MAJORITY)]:
                results[(name, label)] = snorkel[(model, "all")] + snorkel[(model, "covered")]
            results[(name, WRENCH_DS)] = peer_scores(snorkel_python, "wrench_dawid_skene.py", directory,
                                                     "wrench-dawid-skene")
            results[(name, HYPERLM)] = peer_scores(snorkel_python, "hyperlm_reference.py", directory, "hyperlm")
            if flyingsquid_python:
                results[(name, FLYINGSQUID)] = peer_scores(flyingsquid_python, "flyingsquid_reference.py",
                                                           directory, "flyingsquid")
            for (dataset, model), figures in results.items():
                if dataset == name:
                    error = errors.get((dataset, model))
                    shown = "" if error is None else f"{error:.3f}"
                    print(f"| {name} | {model} | " + " | ".join(f"{figure:.4f}" for figure in figures)
                          + f" | {shown} |")
    return results, errors


def labelgen_scores(directory, work, fit_options, score_options=()):
    """`labelgen fit` on the train split with `fit_options`, then `score` on the test split
    with `score_options`: ((all accuracy, all macro-F1, covered accuracy, covered macro-F1),
    random tie-break; the mean absolute error of the model's LF accuracies against the test
    split's gold, over LFs with at least 10 votes there, or None when none has)."""
    path = os.path.join(work, "model.json")
    test = test_split(directory)
    run([LABELGEN, "fit", os.path.join(directory, "train.json"), *fit_options, "-o", path])
    _, report = run([LABELGEN, "score", path, test, "--json", *score_options])
    scores = json.loads(report)[1]
    assert scores["tie_break"] == "random"
    with open(path) as handle:
        estimated = json.load(handle)["lf_accuracy"]
    return ((scores["all_rows"]["accuracy"], scores["all_rows"]["macro_f1"],
             scores["covered_rows"]["accuracy"], scores["covered_rows"]["macro_f1"]),
            lf_accuracy_error(estimated, *load(test)))


def lf_accuracy_error(estimated, L, gold):
    """Mean |estimated - measured| LF accuracy, measured on gold over LFs with >= 10 votes."""
    gaps = []
    for lf, estimate in enumerate(estimated):
        voted = (L[:, lf] != -1) & (gold >= 0)
        if estimate is not None and voted.sum() >= 10:
            gaps.append(abs(estimate - (L[voted, lf] == gold[voted]).mean()))
    return statistics.mean(gaps) if gaps else None


def summary(results, errors, title):
    """The issue's table (mean covered accuracy / macro-F1 of the default, every labelgen model
    and the peers, and of the best peer per dataset), the default's margins, whether it ever
    falls more than 2 points below majority vote, and its LF accuracy error."""
    datasets = sorted({dataset for dataset, _ in results})
    models = [f"labelgen {model}" for model in MODELS] + PEERS
    if (datasets[0], FLYINGSQUID) in results:
        models.append(FLYINGSQUID)
    mean = lambda model, index: statistics.mean(results[(dataset, model)][index] for dataset in datasets)
    best = lambda dataset, index: max(results[(dataset, peer)][index] for peer in PEERS)
    print(f"\n{title}: mean over {len(datasets)} datasets\n")
    print("| model | all rows: accuracy | covered: accuracy | covered: macro-F1 | LF accuracy error |")
    print("|---|---|---|---|---|")
    for model in models:
        gaps = [errors[(dataset, model)] for dataset in datasets if errors.get((dataset, model)) is not None]
        error = f"{statistics.mean(gaps):.3f}" if gaps else ""
        print(f"| {model} | {mean(model, 0):.4f} | {mean(model, 2):.4f} | {mean(model, 3):.4f} | {error} |")
    best_means = [statistics.mean(best(dataset, index) for dataset in datasets) for index in (2, 3)]
    print(f"| best of the peers per dataset | | {best_means[0]:.4f} | {best_means[1]:.4f} | |")
    for index, figure in [(2, "accuracy"), (3, "macro-F1")]:
        single = max(PEERS, key=lambda peer: mean(peer, index))
        print(f"default - best single peer ({single}), covered {figure}: "
              f"{100 * (mean(DEFAULT, index) - mean(single, index)):+.1f} points")
    for index, rows in [(2, "covered"), (0, "all-row")]:
        gaps = sorted((results[(dataset, DEFAULT)][index] - results[(dataset, SNORKEL_MAJORITY)][index], dataset)
                      for dataset in datasets)
        below = [f"{dataset} {100 * gap:+.1f}" for gap, dataset in gaps if gap < -0.02]
        print(f"default - majority vote, {rows} accuracy: worst {100 * gaps[0][0]:+.1f} ({gaps[0][1]}); "
              f"more than 2 points below on {len(below)} of {len(datasets)}" + (f": {', '.join(below)}" if below else ""))
    per_set = [f"{dataset} {errors[(dataset, DEFAULT)]:.3f}" for dataset in datasets
               if errors.get((dataset, DEFAULT)) is not None]
    print("default's LF accuracy error per dataset: " + ", ".join(per_set))


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


def generated_sets(python, kind, seeds, *flags):
    """The dataset directories of bench-data/KIND_SEEDS, written by make_synthetic_sets.py (with
    `flags`) when missing."""
    directory = os.path.join(ROOT, "bench-data", f"{kind}_{seeds}")
    if not os.path.exists(directory):
        subprocess.check_call([python, os.path.join(HERE, "make_synthetic_sets.py"), directory, str(seeds), *flags])
    print()
    return [os.path.join(directory, name) for name in sorted(os.listdir(directory))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--snorkel-python", required=True)
    parser.add_argument("--flyingsquid-python", default=None,
                        help="also score FlyingSquid's LabelModel (benches/flyingsquid_reference.py) with this Python")
    shared = os.path.join(ROOT, "..", "shared", "data")
    parser.add_argument("--datasets", nargs="*", default=sorted(
        os.path.join(shared, name) for name in os.listdir(shared)
        if os.path.exists(os.path.join(shared, name, "train.json"))) if os.path.isdir(shared) else [])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--lfs", type=int, default=50)
    parser.add_argument("--classes", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=500)
    parser.add_argument("--synthetic", type=int, default=0, metavar="SEEDS",
                        help="also score SEEDS datasets of each benches/make_synthetic_sets.py scenario")
    parser.add_argument("--small", type=int, default=0, metavar="SEEDS",
                        help="also score make_synthetic_sets.py --small: SEEDS datasets per scenario and "
                             "training size (100, 300, 1000 rows)")
    parser.add_argument("--analogues", action="store_true",
                        help="also score benches/make_analogue_sets.py's real-data stand-ins for unseen regimes")
    parser.add_argument("--stress", type=int, default=0, metavar="SEEDS",
                        help="also score make_synthetic_sets.py --stress: SEEDS datasets per regime")
    args = parser.parse_args()
    if args.datasets:
        summary(*accuracy(args.datasets, args.snorkel_python, args.flyingsquid_python), "WRENCH datasets")
    if args.synthetic > 0:
        sets = generated_sets(args.snorkel_python, "synthetic", args.synthetic)
        summary(*accuracy(sets, args.snorkel_python, args.flyingsquid_python), "synthetic datasets (benches/make_synthetic_sets.py)")
    if args.analogues:
        directory = os.path.join(ROOT, "bench-data", "analogues")
        if not os.path.exists(directory):
            subprocess.check_call([sys.executable, os.path.join(HERE, "make_analogue_sets.py"), directory])
        sets = [os.path.join(directory, name) for name in sorted(os.listdir(directory))]
        summary(*accuracy(sets, args.snorkel_python, args.flyingsquid_python),
                "real-data stand-ins for unseen regimes (make_analogue_sets.py)")
    if args.stress > 0:
        sets = generated_sets(args.snorkel_python, "stress", args.stress, "--stress")
        summary(*accuracy(sets, args.snorkel_python, args.flyingsquid_python),
                "stress regimes (make_synthetic_sets.py --stress)")
    if args.small > 0:
        sets = generated_sets(args.snorkel_python, "small", args.small, "--small")
        results, errors = accuracy(sets, args.snorkel_python, args.flyingsquid_python)
        summary(results, errors, "small training sets (make_synthetic_sets.py --small)")
        for train in (100, 300, 1000):
            subset = {key: value for key, value in results.items() if f"_t{train}_" in key[0]}
            summary(subset, errors, f"small training sets, {train} training rows")
    if args.rows > 0:
        speed(args.snorkel_python, args.rows, args.lfs, args.classes, args.epochs)


if __name__ == "__main__":
    main()
