#!/usr/bin/env python3
"""Labelling priors estimated from the model's own posteriors: measured, not adopted.

For each WRENCH-layout dataset directory: fit the default model on the train split
(`labelgen fit`), label the train split (`labelgen label`, the model's uniform class balance),
and estimate the class balance of the covered training rows two ways:

- "one step": the mean of the rows' posteriors (what the fitted model expects the covered rows'
  class shares to be; one EM step of re-estimating a prior with the likelihoods held fixed,
  Saerens, Latinne and Decaestecker, Neural Computation 2002);
- "converged": that EM iterated until the prior moves by less than 1e-10 (the maximum-likelihood
  prior for the fixed likelihoods).

Then score the test split with each as the labelling prior (`labelgen score --class-balance`,
random tie-break) next to the default and majority vote: covered-row accuracy / macro-F1 per
dataset, their means, and each variant's worst loss against the better of default and majority
vote on any dataset.

Usage: benches/estimated_prior.py DIR [DIR ...]   (for example ../shared/data/youtube, or every
directory under bench-data/synthetic_3 written by make_synthetic_sets.py)
Needs a release build (`cargo build --release`); Python's standard library only.
"""
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LABELGEN = os.path.join(ROOT, "target", "release", "labelgen")
VARIANTS = ["default", "majority", "one step", "converged"]


def labelgen(*arguments):
    """Stdout of one labelgen command; exits with its stderr when it fails."""
    process = subprocess.run([LABELGEN, *arguments], capture_output=True, text=True)
    if process.returncode != 0:
        sys.exit(f"failed: labelgen {' '.join(arguments)}\n{process.stderr}")
    return process.stdout


def covered_scores(model, split, *options):
    """(accuracy, macro-F1) over the covered rows of `split`, random tie-break."""
    report = json.loads(labelgen("score", model, split, "--json", *options))[1]
    assert report["tie_break"] == "random"
    return report["covered_rows"]["accuracy"], report["covered_rows"]["macro_f1"]


def covered_posteriors(model, split, work):
    """The probability rows of the covered rows of `split` under `model`."""
    path = os.path.join(work, "train_labels.csv")
    labelgen("label", model, split, "-o", path)
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    columns = [name for name in rows[0] if name.startswith("p_")]
    return [[float(row[name]) for name in columns] for row in rows if row["covered"] == "true"]


def reestimated(posteriors, fitted, steps):
    """The class balance after `steps` EM steps (at most) from the fitted one, the likelihoods
    held fixed: each row's posterior reweighted by new / fitted balance, then averaged."""
    balance = list(fitted)
    for _ in range(steps):
        totals = [0.0] * len(balance)
        for row in posteriors:
            weights = [p * new / old for p, new, old in zip(row, balance, fitted)]
            norm = sum(weights)
            for index, weight in enumerate(weights):
                totals[index] += weight / norm
        update = [total / len(posteriors) for total in totals]
        moved = max(abs(a - b) for a, b in zip(update, balance))
        balance = update
        if moved < 1e-10:
            break
    return balance


def scores(directory, work):
    """{variant: (covered accuracy, covered macro-F1)} on the test split of `directory`."""
    train, test = os.path.join(directory, "train.json"), os.path.join(directory, "test.json")
    model, majority = os.path.join(work, "model.json"), os.path.join(work, "majority.json")
    labelgen("fit", train, "-o", model)
    labelgen("fit", train, "--model", "majority", "-o", majority)
    with open(model) as file:
        fitted = json.load(file)["class_balance"]
    posteriors = covered_posteriors(model, train, work)
    result = {"default": covered_scores(model, test), "majority": covered_scores(majority, test)}
    for variant, steps in [("one step", 1), ("converged", 100_000)]:
        balance = reestimated(posteriors, fitted, steps)
        # Floor at 1e-6 so no class is ruled out (the option takes positive shares).
        balance = [max(share, 1e-6) for share in balance]
        argument = ",".join(repr(share) for share in balance)
        result[variant] = covered_scores(model, test, "--class-balance", argument)
    return result


def main():
    directories = sys.argv[1:]
    if not directories:
        sys.exit(__doc__)
    results = {}
    print("| dataset | " + " | ".join(VARIANTS) + " |")
    print("|---|" + "---|" * len(VARIANTS))
    with tempfile.TemporaryDirectory() as work:
        for directory in directories:
            name = os.path.basename(directory.rstrip("/"))
            results[name] = scores(directory, work)
            print(f"| {name} | " + " | ".join(
                "{:.3f} / {:.3f}".format(*results[name][variant]) for variant in VARIANTS) + " |", flush=True)
    means = [statistics.mean(result[variant][index] for result in results.values())
             for variant in VARIANTS for index in (0, 1)]
    print("| **mean** | " + " | ".join(
        f"{means[2 * position]:.3f} / {means[2 * position + 1]:.3f}" for position in range(len(VARIANTS))) + " |")
    print()
    for variant in VARIANTS[2:]:
        for index, figure in [(0, "accuracy"), (1, "macro-F1")]:
            loss, where = min(
                (result[variant][index] - max(result["default"][index], result["majority"][index]), name)
                for name, result in results.items())
            print(f"{variant}: worst covered {figure} against the better of default and majority vote: "
                  f"{100 * loss:+.1f} points ({where})")


if __name__ == "__main__":
    main()
