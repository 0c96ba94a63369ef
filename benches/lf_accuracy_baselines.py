#!/usr/bin/env python3
"""How good can an LF accuracy estimate be, set by set? The default model's per-LF accuracies
(`labelgen fit` on the train split, the model file's `lf_accuracy`) against three other
estimates, each scored as compare_models.py scores them (mean |estimate - accuracy measured on
the test split's gold| over LFs with at least 10 votes there; tennis: valid):

- posterior: each LF's mean posterior probability of its own vote over the train rows it
  votes on (`labelgen label` on the train split), the estimate a user could compute by hand;
- 0.7 for every LF (no information);
- train gold (an oracle, not available to a label model): the LF's accuracy measured on the
  train split's gold, what sampling between the splits leaves.

Usage: PY benches/lf_accuracy_baselines.py [DATA_DIR]  (PY has numpy and scikit-learn, as for
compare_models.py; needs target/release/labelgen)
"""
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_models import LABELGEN, ROOT, lf_accuracy_error as error  # noqa: E402
from wrench_scores import load, test_split  # noqa: E402


def main():
    data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "data")
    print("| dataset | default model | posterior | 0.7 for every LF | train gold (oracle) |")
    print("|---|---|---|---|---|")
    columns = []
    for name in sorted(os.listdir(data)):
        directory = os.path.join(data, name)
        train = os.path.join(directory, "train.json")
        if not os.path.exists(train):
            continue
        test = test_split(directory)
        with tempfile.TemporaryDirectory() as work:
            model_path, labels_path = os.path.join(work, "model.json"), os.path.join(work, "p.csv")
            subprocess.run([LABELGEN, "fit", train, "-o", model_path], check=True, capture_output=True)
            subprocess.run([LABELGEN, "label", model_path, train, "-o", labels_path], check=True, capture_output=True)
            with open(model_path) as handle:
                model = json.load(handle)
            with open(labels_path) as handle:
                rows = list(csv.DictReader(handle))
        P = np.array([[float(r["p_" + c]) for c in model["classes"]] for r in rows])
        L_train, gold_train = load(train)
        L_test, gold_test = load(test)
        posterior, oracle = [], []
        for lf in range(L_train.shape[1]):
            voted = L_train[:, lf] != -1
            posterior.append(P[voted][np.arange(voted.sum()), L_train[voted, lf]].mean() if voted.any() else None)
            known = voted & (gold_train >= 0)
            oracle.append((L_train[known, lf] == gold_train[known]).mean() if known.any() else None)
        row = [error(model["lf_accuracy"], L_test, gold_test), error(posterior, L_test, gold_test),
               error([0.7] * L_train.shape[1], L_test, gold_test)]
        has_gold = any(o is not None for o in oracle)
        row.append(error(oracle, L_test, gold_test) if has_gold else None)
        columns.append(row)
        cells = " | ".join("no train gold" if v is None else f"{v:.3f}" for v in row)
        print(f"| {name} | {cells} |", flush=True)
    means = [statistics.mean(v for v in column if v is not None) for column in zip(*columns)]
    print("| mean | " + " | ".join(f"{m:.3f}" for m in means) + " |")


if __name__ == "__main__":
    main()
