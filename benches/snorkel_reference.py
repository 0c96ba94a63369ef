#!/usr/bin/env python3
"""Snorkel 0.10.0's LabelModel on a WRENCH dataset: fit on train, predict_proba on test.

Writes the test probabilities as CSV (one row per test row, in file order) and prints
accuracy / macro-F1 of LabelModel and MajorityLabelVoter with the random tie-break, over all
rows and over rows at least one LF covered. Settings: 500 epochs, lr 0.01, seed 123, the
defaults otherwise (SGD with momentum 0.9, uniform class balance, prec_init 0.7, l2 0).

Usage: snorkel_reference.py DATASET_DIR OUT.csv   (needs snorkel==0.10.0, torch==1.13.1)
"""
import os
import sys

import numpy as np
import torch
from snorkel.labeling.model import LabelModel, MajorityLabelVoter

from wrench_scores import cardinality, load, print_scores, test_split


def main():
    torch.set_num_threads(1)
    directory, out = sys.argv[1], sys.argv[2]
    k = cardinality(directory)
    L_train, _ = load(os.path.join(directory, "train.json"))
    L_test, y_test = load(test_split(directory))
    model = LabelModel(cardinality=k, verbose=False)
    model.fit(L_train, n_epochs=500, lr=0.01, seed=123, progress_bar=False)
    proba = model.predict_proba(L_test)
    np.savetxt(out, proba, delimiter=",", fmt="%.17g")
    for name, labeler in [("snorkel", model), ("majority", MajorityLabelVoter(cardinality=k))]:
        print_scores(directory, name, labeler.predict(L_test, tie_break_policy="random"), L_test, y_test)


if __name__ == "__main__":
    main()
