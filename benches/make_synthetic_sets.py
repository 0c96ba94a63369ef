#!/usr/bin/env python3
"""Seeded synthetic weak-supervision datasets in WRENCH layout, for judging label models
beyond the three real sets: imbalanced binary tasks with many sparse LFs, dependent LFs,
skewed multi-class tasks and LFs that vote several classes.

Each LF targets one class: it fires on that class's rows at a rate drawn from `fire` and on
other rows at a fraction (drawn from `leak`) of it, so every LF is informative but none is
perfect, and its precision falls with its class's share. With `groups`, each LF belongs to
one of that many groups and fires 1.7 times as often on the half of the rows where its
group's latent trait is high and 0.3 times as often on the other half: LFs of a group fire
together whatever the class (a dependency no conditionally independent model captures). A
`multi` share of the LFs also vote, on half of the other classes' rows they fire on, the
row's true class (a crowd-worker-like LF). Each dataset is split 80/20 into train.json and
test.json (id -> {label, weak_labels, data}) with label.json naming the classes.

With `--small`, the same scenarios plus two with many classes (12 classes whose LFs also
vote the true class of other rows, 20 classes), each with only 100, 300 or 1000 training rows
and 3000 test rows: label models on small samples, where an LF has not yet shown every class
it votes (OUT_DIR/<scenario>_t<train rows>_<seed>).

With `--stress`, eight regimes the scenarios leave out (2 % and 5 % positives, weak LFs, three
LFs, crowd workers voting any class, 164 sparse LFs over 9 classes, 30 classes, weak dependent
LFs), 6,000 rows each, where a label model might collapse (OUT_DIR/<regime>_<seed>).
Usage: make_synthetic_sets.py OUT_DIR [SEEDS] [--small | --stress]   (needs numpy; SEEDS datasets per
scenario, default 3, written to OUT_DIR/<scenario>_<seed>)
"""
import json
import os
import sys

import numpy as np

SCENARIOS = {
    "binary_10pct_sparse": dict(balance=[0.9, 0.1], lfs=30, fire=(0.02, 0.2), leak=(0.03, 0.4)),
    "binary_15pct_dependent": dict(balance=[0.85, 0.15], lfs=20, fire=(0.05, 0.3), leak=(0.03, 0.35), groups=4),
    "binary_25pct": dict(balance=[0.75, 0.25], lfs=12, fire=(0.05, 0.4), leak=(0.03, 0.35)),
    "binary_30pct_dependent": dict(balance=[0.7, 0.3], lfs=15, fire=(0.05, 0.35), leak=(0.05, 0.45), groups=3),
    "binary_balanced": dict(balance=[0.5, 0.5], lfs=12, fire=(0.05, 0.4), leak=(0.03, 0.35)),
    "three_balanced_dependent": dict(balance=[1, 1, 1], lfs=15, fire=(0.05, 0.35), leak=(0.05, 0.5), groups=3),
    "four_skewed": dict(balance=[0.5, 0.25, 0.15, 0.1], lfs=16, fire=(0.05, 0.4), leak=(0.05, 0.5)),
    "six_skewed_multi": dict(balance=[0.35, 0.25, 0.15, 0.1, 0.1, 0.05], lfs=24, fire=(0.05, 0.3), leak=(0.05, 0.6), multi=0.3),
}
ROWS = 6000
# `--small`: the scenarios above and two with many classes, on few training rows.
SMALL_SCENARIOS = dict(
    SCENARIOS,
    twelve_balanced_multi=dict(balance=[1] * 12, lfs=30, fire=(0.05, 0.3), leak=(0.05, 0.5), multi=0.5),
    twenty_balanced=dict(balance=[1] * 20, lfs=40, fire=(0.05, 0.4), leak=(0.03, 0.3)),
)
SMALL_TRAIN_ROWS = (100, 300, 1000)
# `--stress`: regimes the scenarios above leave out (very rare positives, weak LFs, three LFs,
# crowd workers, many sparse LFs, thirty classes, weak dependent LFs), where a label model might
# collapse: each must stay near majority vote or above it.
STRESS_SCENARIOS = {
    "binary_2pct": dict(balance=[0.98, 0.02], lfs=20, fire=(0.05, 0.3), leak=(0.02, 0.2)),
    "binary_5pct_few_sparse": dict(balance=[0.95, 0.05], lfs=10, fire=(0.02, 0.15), leak=(0.05, 0.4)),
    "binary_weak_lfs": dict(balance=[0.5, 0.5], lfs=12, fire=(0.05, 0.4), leak=(0.5, 0.95)),
    "binary_three_lfs": dict(balance=[0.6, 0.4], lfs=3, fire=(0.2, 0.6), leak=(0.1, 0.5)),
    "crowd_10_classes": dict(balance=[1] * 10, lfs=40, fire=(0.1, 0.3), leak=(0.1, 0.5), multi=1.0),
    "nine_classes_164_sparse_lfs": dict(balance=[3, 2, 2, 1, 1, 1, 1, 0.5, 0.5], lfs=164,
                                        fire=(0.002, 0.03), leak=(0.02, 0.3)),
    "thirty_classes": dict(balance=[1] * 30, lfs=45, fire=(0.05, 0.3), leak=(0.01, 0.2)),
    "four_weak_dependent": dict(balance=[4, 3, 2, 1], lfs=20, fire=(0.05, 0.3), leak=(0.3, 0.8), groups=5),
}
SMALL_TEST_ROWS = 3000


def make(seed, balance, lfs, fire, leak, groups=0, multi=0.0, rows=ROWS):
    rng = np.random.default_rng(seed)
    balance = np.asarray(balance, dtype=float) / np.sum(balance)
    k = len(balance)
    y = rng.choice(k, size=rows, p=balance)
    # Every class has an LF; the rest target classes at random.
    targets = np.concatenate([np.arange(k), rng.choice(k, size=lfs - k)])
    rng.shuffle(targets)
    group = rng.integers(0, groups, size=lfs) if groups else None
    trait = rng.random((rows, max(groups, 1))) > 0.5
    L = -np.ones((rows, lfs), dtype=int)
    for j, target in enumerate(targets):
        rate_in = rng.uniform(*fire)
        p = np.where(y == target, rate_in, rate_in * rng.uniform(*leak))
        if group is not None:
            p = np.clip(p * np.where(trait[:, group[j]], 1.7, 0.3), 0.0, 1.0)
        fires = rng.random(rows) < p
        vote = np.full(rows, target)
        if rng.random() < multi:
            vote = np.where((y != target) & (rng.random(rows) < 0.5), y, target)
        L[fires, j] = vote[fires]
    return L, y, k


def write(directory, L, y, k, cut=None):
    """train.json = the first `cut` rows (default 80 %), test.json the rest."""
    os.makedirs(directory, exist_ok=True)
    cut = int(len(y) * 0.8) if cut is None else cut
    for name, rows in [("train", range(cut)), ("test", range(cut, len(y)))]:
        split = {str(i): {"label": int(y[i]), "weak_labels": [int(v) for v in L[i]], "data": {}} for i in rows}
        with open(os.path.join(directory, f"{name}.json"), "w") as handle:
            json.dump(split, handle)
    with open(os.path.join(directory, "label.json"), "w") as handle:
        json.dump({str(c): f"class_{c}" for c in range(k)}, handle)


def main():
    arguments = [argument for argument in sys.argv[1:] if argument not in ("--small", "--stress")]
    out = arguments[0]
    seeds = int(arguments[1]) if len(arguments) > 1 else 3
    if "--stress" in sys.argv:
        for number, (name, settings) in enumerate(STRESS_SCENARIOS.items()):
            for seed in range(seeds):
                L, y, k = make(90_000 + 1000 * number + seed, **settings)
                write(os.path.join(out, f"{name}_{seed}"), L, y, k)
        return
    if "--small" in sys.argv:
        for number, (name, settings) in enumerate(SMALL_SCENARIOS.items()):
            for train in SMALL_TRAIN_ROWS:
                for seed in range(seeds):
                    L, y, k = make(50_000 + 1000 * number + 10 * train + seed, **settings,
                                   rows=train + SMALL_TEST_ROWS)
                    write(os.path.join(out, f"{name}_t{train}_{seed}"), L, y, k, cut=train)
        return
    for number, (name, settings) in enumerate(SCENARIOS.items()):
        for seed in range(seeds):
            L, y, k = make(1000 * number + seed, **settings)
            write(os.path.join(out, f"{name}_{seed}"), L, y, k)


if __name__ == "__main__":
    main()
