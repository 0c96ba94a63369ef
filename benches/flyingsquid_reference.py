#!/usr/bin/env python3
"""FlyingSquid's LabelModel (Fu et al., ICML 2020) on a WRENCH dataset: fit on train, predict on test.

Prints accuracy / macro-F1 with the random tie-break, over all rows and over the rows at least
one LF covered, in snorkel_reference.py's line format. FlyingSquid models one binary task
(votes +1 / -1, 0 = abstain): a binary dataset is fitted as is, and a dataset of k > 2 classes
one class against the rest (class c's model sees +1 where an LF voted c, -1 where it voted
another class), each model's P(Y = +1) taken as its class's score and the k scores normalised,
as WRENCH's FlyingSquid wrapper does. Class balance uniform (1/2, or 1/k against the rest),
like labelgen's default and Snorkel's; triplet seed 0, the library's defaults otherwise.

Usage: flyingsquid_reference.py DATASET_DIR
Needs flyingsquid==0.0.0a0 with pgmpy==0.1.12 (it imports pgmpy's MarkovModel, gone from later
versions), numpy<2, networkx<3, scikit-learn.
"""
import os
import sys

import numpy as np
from flyingsquid.label_model import LabelModel

from wrench_scores import cardinality, load, print_scores, random_tie_break, test_split

# Random tie-breaks, as Snorkel's `tie_break_policy="random"` (its own generator, fixed seed).
TIE_SEED = 123


def signed(L, positive):
    """+1 where an LF voted `positive`, -1 where it voted another class, 0 where it abstained."""
    return np.where(L == -1, 0, np.where(L == positive, 1, -1))


def positive_probability(L_train, L_test, positive, share):
    """P(Y = +1) on the test rows of a model fitted to `positive` against the rest."""
    model = LabelModel(L_train.shape[1])
    model.fit(signed(L_train, positive), class_balance=np.array([1 - share, share]))
    return np.asarray(model.predict_proba_marginalized(signed(L_test, positive))).reshape(-1)


def main():
    directory = sys.argv[1]
    k = cardinality(directory)
    L_train, _ = load(os.path.join(directory, "train.json"))
    L_test, y_test = load(test_split(directory))
    if k == 2:
        p = positive_probability(L_train, L_test, 1, 0.5)
        proba = np.stack([1 - p, p], axis=1)
    else:
        scores = np.stack([positive_probability(L_train, L_test, c, 1 / k) for c in range(k)], axis=1)
        totals = scores.sum(axis=1, keepdims=True)
        proba = np.where(totals > 0, scores / np.where(totals > 0, totals, 1), 1 / k)
    predicted = random_tie_break(proba, TIE_SEED, tolerance=1e-9)
    print_scores(directory, "flyingsquid", predicted, L_test, y_test)


if __name__ == "__main__":
    main()
