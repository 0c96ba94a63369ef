#!/usr/bin/env python3
"""What a few gold labels buy: `labelgen fit --gold` with 10, 50 and 200 labelled rows.

For every shared set with a valid split that is not its scoring split (tennis scores on valid;
the crowd sets have none), SEEDS random samples of N rows of the valid split (N = 10, 50, 200;
a split with fewer than 200 labelled rows gives all of them for the last) are written as a WRENCH file and given to `labelgen fit --gold
FILE:label` on the train split; the test split is scored (`labelgen score`, random tie-break).
Printed: covered accuracy / macro-F1 and all-row accuracy, mean over the seeds, against the
default fit without gold in the same run, and which model the gold rows chose.

Usage: python3 benches/gold_curve.py [--seeds S] [DATASET_DIR ...]   (needs a release build)
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LABELGEN = os.path.join(ROOT, "target", "release", "labelgen")
SIZES = [10, 50, 200]


def run(command):
    process = subprocess.run(command, capture_output=True, text=True)
    if process.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{process.stderr}")
    return process.stdout


def scores(directory, work, extra):
    model = os.path.join(work, "model.json")
    run([LABELGEN, "fit", os.path.join(directory, "train.json"), "-o", model, *extra])
    report = json.loads(run([LABELGEN, "score", model, os.path.join(directory, "test.json"), "--json"]))[1]
    with open(model) as handle:
        kind = json.load(handle)["kind"]
    return (report["covered_rows"]["accuracy"], report["covered_rows"]["macro_f1"],
            report["all_rows"]["accuracy"], kind)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("datasets", nargs="*")
    args = parser.parse_args()
    shared = os.path.join(ROOT, "..", "shared", "data")
    datasets = args.datasets or sorted(
        os.path.join(shared, name) for name in os.listdir(shared)
        if os.path.exists(os.path.join(shared, name, "valid.json"))
        and os.path.exists(os.path.join(shared, name, "test.json")))
    print("| dataset | gold rows | covered accuracy | covered macro-F1 | all-row accuracy | models chosen |")
    print("|---|---|---|---|---|---|")
    gains = {}
    with tempfile.TemporaryDirectory() as work:
        for directory in datasets:
            name = os.path.basename(directory.rstrip("/"))
            base = scores(directory, work, [])
            print(f"| {name} | 0 | {base[0]:.4f} | {base[1]:.4f} | {base[2]:.4f} | {base[3]} |")
            with open(os.path.join(directory, "valid.json")) as handle:
                valid = json.load(handle)
            ids = [key for key, row in valid.items() if row["label"] >= 0]
            for size in SIZES:
                # A split smaller than the size gives all its rows (once: the samples are equal).
                if size > len(ids) and size != SIZES[-1]:
                    continue
                size = min(size, len(ids))
                runs = []
                for seed in range(args.seeds):
                    chosen = random.Random(seed).sample(ids, size)
                    path = os.path.join(work, "gold.json")
                    with open(path, "w") as handle:
                        json.dump({key: valid[key] for key in chosen}, handle)
                    # The WRENCH reader takes class names from label.json beside the file.
                    with open(os.path.join(directory, "label.json")) as source, \
                            open(os.path.join(work, "label.json"), "w") as target:
                        target.write(source.read())
                    runs.append(scores(directory, work, ["--gold", path + ":label"]))
                means = [statistics.mean(run[index] for run in runs) for index in range(3)]
                kinds = sorted({run[3] for run in runs})
                print(f"| {name} | {size} | {means[0]:.4f} | {means[1]:.4f} | {means[2]:.4f} | {', '.join(kinds)} |")
                gains.setdefault(min(size, SIZES[-1]) if size in SIZES else "all (< 200)", []).append([means[index] - base[index] for index in range(3)])
    print()
    for size, rows in gains.items():
        mean = [statistics.mean(row[index] for row in rows) for index in range(3)]
        print(f"{size} gold rows ({len(rows)} datasets): covered accuracy {100 * mean[0]:+.1f} points, "
              f"macro-F1 {100 * mean[1]:+.1f}, all-row accuracy {100 * mean[2]:+.1f} (mean over datasets, "
              f"each the mean of {args.seeds} samples)")


if __name__ == "__main__":
    main()
