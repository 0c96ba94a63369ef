"""Shared by the reference scripts: load a WRENCH split, and print accuracy / macro-F1 of hard
labels over all rows and over the rows some LF covered, in one line format
(`DATASET MODEL all|covered accuracy A macro-F1 F`) that compare_models.py reads."""
import json
import os

import numpy as np
from sklearn.metrics import accuracy_score, f1_score


def load(path):
    """The votes (rows x LFs, -1 = abstain) and gold labels of a WRENCH split file."""
    with open(path) as handle:
        rows = json.load(handle)
    ids = list(rows)
    L = np.array([rows[i]["weak_labels"] for i in ids])
    y = np.array([rows[i]["label"] for i in ids])
    return L, y


def test_split(directory):
    """The split a dataset is scored on: `test.json`, or `valid.json` when there is no test
    split (tennis: its train split has no gold labels)."""
    test = os.path.join(directory, "test.json")
    return test if os.path.exists(test) else os.path.join(directory, "valid.json")


def cardinality(directory):
    """The number of classes of a WRENCH dataset (its label.json)."""
    with open(os.path.join(directory, "label.json")) as handle:
        return len(json.load(handle))


def random_tie_break(proba, seed=123, tolerance=1e-12):
    """Hard labels of a rows x classes probability table: among the classes within `tolerance`
    of a row's largest probability, one drawn with NumPy's generator seeded with `seed`."""
    random = np.random.default_rng(seed)
    tied = proba >= proba.max(axis=1, keepdims=True) - tolerance
    return np.array([random.choice(np.flatnonzero(row)) for row in tied])


def print_scores(directory, model, predicted, L_test, y_test):
    """Accuracy and macro-F1 of `predicted` over all rows and over covered rows, rows whose
    gold label is unknown (-1) left out."""
    covered = (L_test != -1).any(axis=1)
    name = os.path.basename(directory.rstrip("/"))
    for rows, mask in [("all", np.ones(len(y_test), bool)), ("covered", covered)]:
        keep = mask & (y_test >= 0)
        accuracy = accuracy_score(y_test[keep], predicted[keep])
        macro_f1 = f1_score(y_test[keep], predicted[keep], average="macro")
        print(f"{name} {model} {rows} accuracy {accuracy:.4f} macro-F1 {macro_f1:.4f}")
