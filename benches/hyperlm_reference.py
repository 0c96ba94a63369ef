#!/usr/bin/env python3
"""The Hyper Label Model's own outputs (PyPI hyperlm 0.0.5, with torch), two ways.

1. `hyperlm_reference.py fixtures OUT_DIR`: the reference fixtures of labelgen's `hyper` model
   test (tests/model/hyper_reference.rs): `HyperLabelModel().infer(L, return_probs=True)` on
   the youtube train split's votes (`youtube_train_proba.csv`), and on a seeded 3-class
   synthetic matrix written beside it (`three_class_votes.csv`, `three_class_proba.csv`).
2. `hyperlm_reference.py DATASET_DIR`: a peer for benches/compare_models.py. hyperlm has no
   fit/predict split (it reads one whole matrix), so it is run on the test split's votes alone,
   as its authors evaluate it, and its accuracy / macro-F1 printed in compare_models.py's
   format (random tie-break; wrench_scores.py).

Needs hyperlm==0.0.5 and torch (1.13.1 used here, see TOOLCHAIN notes), numpy, scikit-learn.
"""
import os
import sys

import numpy as np
import torch
from hyperlm import HyperLabelModel

from wrench_scores import cardinality, load, print_scores, random_tie_break, test_split


def fixtures(out):
    here = os.path.dirname(os.path.abspath(__file__))
    model = HyperLabelModel(device="cpu")
    votes, _ = load(os.path.join(here, "..", "datasets", "youtube", "train.json"))
    np.savetxt(os.path.join(out, "youtube_train_proba.csv"), model.infer(votes, return_probs=True),
               delimiter=",", fmt="%.9g")
    # 300 rows, 6 LFs, 3 classes: accuracy 0.5-0.9, coverage 0.2-0.8, seeded; every class voted.
    random = np.random.default_rng(20261205)
    truth = random.integers(0, 3, 300)
    accuracy, coverage = random.uniform(0.5, 0.9, 6), random.uniform(0.2, 0.8, 6)
    fires = random.random((300, 6)) < coverage
    right = random.random((300, 6)) < accuracy
    wrong = (truth[:, None] + random.integers(1, 3, (300, 6))) % 3
    votes = np.where(fires, np.where(right, truth[:, None], wrong), -1)
    np.savetxt(os.path.join(out, "three_class_votes.csv"), votes, delimiter=",", fmt="%d")
    np.savetxt(os.path.join(out, "three_class_proba.csv"), model.infer(votes, return_probs=True),
               delimiter=",", fmt="%.9g")


def peer(directory):
    torch.set_num_threads(1)
    k = cardinality(directory)
    votes, gold = load(test_split(directory))
    proba = HyperLabelModel(device="cpu").infer(votes, return_probs=True)
    # hyperlm counts classes from the largest vote and drops trailing all-abstain rows: pad.
    full = np.full((len(votes), k), 1.0 / k)
    full[: proba.shape[0], : proba.shape[1]] = proba
    full[~(votes != -1).any(axis=1)] = 1.0 / k
    predicted = random_tie_break(full)
    print_scores(directory, "hyperlm", predicted, votes, gold)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "fixtures":
        fixtures(sys.argv[2])
    elif len(sys.argv) == 2:
        peer(sys.argv[1])
    else:
        sys.exit(__doc__)
