#!/usr/bin/env python3
"""Label-model designs measured for the default and not adopted (docs/label-models.md).

On each WRENCH dataset given (fit on train, score on test, or valid when there is no test split;
random tie-break, seeded), against majority vote:

- `one-coin`: one accuracy per LF, abstains missing at random (whether an LF votes is not
  evidence), accuracies kept above chance, a Beta(8, 4) prior, EM from majority vote;
- `hybrid`: LFs voting one class with a firing rate per class (own >= other), LFs voting several
  with a one-coin accuracy and abstains missing at random, uniform balance, EM;
- `dawid-skene (MAR)`: full confusion matrices, abstains missing at random, add-one smoothing;
- ensembles of labelgen's default with its `hyper` model and with `one-coin`: the mean of their
  probabilities, and the normalised geometric mean.

Usage: PY benches/label_model_alternatives.py DATASET_DIR ...   (NumPy, scikit-learn; a release build)
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wrench_scores import cardinality, load, random_tie_break, test_split  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402

LABELGEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "release", "labelgen")


def one_hot(L, k):
    V = np.zeros(L.shape + (k,))
    rows, lfs = np.nonzero(L >= 0)
    V[rows, lfs, L[rows, lfs]] = 1
    return V


def majority(L, k):
    counts = one_hot(L, k).sum(axis=1)
    top = counts == counts.max(axis=1, keepdims=True)
    return top / top.sum(axis=1, keepdims=True)


def softmax(S):
    S = S - S.max(axis=1, keepdims=True)
    P = np.exp(S)
    return P / P.sum(axis=1, keepdims=True)


def one_coin(L_train, L_test, k, iterations=200):
    V = one_hot(L_train, k)
    voted = (L_train >= 0).sum(axis=0)
    P = majority(L_train, k)

    def posterior(L, accuracy):
        wrong = np.log((1 - accuracy) / (k - 1))
        return softmax(np.einsum("nmk,m->nk", one_hot(L, k), np.log(accuracy) - wrong))

    for _ in range(iterations):
        right = np.einsum("nmk,nk->m", V, P)
        accuracy = np.clip((right + 7) / (voted + 10), 1 / k + 1e-3, 1 - 1e-3)
        P = posterior(L_train, accuracy)
    return posterior(L_test, accuracy)


def hybrid(L_train, L_test, k, iterations=200, strength=2.0):
    m = L_train.shape[1]
    classes = [np.unique(L_train[:, j][L_train[:, j] >= 0]) for j in range(m)]

    def logits(L, fire_own, fire_other, accuracy, with_abstain):
        S = np.zeros((L.shape[0], k))
        for j in range(m):
            voted = L[:, j] >= 0
            if len(classes[j]) == 1:
                own = classes[j][0]
                vote = np.full(k, np.log(fire_other[j]))
                vote[own] = np.log(fire_own[j])
                S[voted] += vote
                if with_abstain:
                    abstain = np.full(k, np.log(1 - fire_other[j]))
                    abstain[own] = np.log(1 - fire_own[j])
                    S[~voted] += abstain
            elif len(classes[j]) > 1:
                size = len(classes[j])
                inside = np.isin(np.arange(k), classes[j])
                base = np.where(inside, np.log((1 - accuracy[j]) / (size - 1)), np.log(1 / size))
                rows = np.flatnonzero(voted)
                block = np.tile(base, (len(rows), 1))
                block[np.arange(len(rows)), L[rows, j]] = np.log(accuracy[j])
                S[rows] += block
        return S

    P = majority(L_train, k)
    P[~(L_train >= 0).any(axis=1)] = 1 / k
    fire_own, fire_other, accuracy = np.zeros(m), np.zeros(m), np.full(m, 0.7)
    for _ in range(iterations):
        for j in range(m):
            voted = L_train[:, j] >= 0
            if len(classes[j]) == 1:
                p = P[:, classes[j][0]]
                rate = voted.mean()
                own = (p[voted].sum() + strength * rate) / (p.sum() + strength)
                other = ((1 - p)[voted].sum() + strength * rate) / ((1 - p).sum() + strength)
                if own < other:
                    own = other = rate
                fire_own[j], fire_other[j] = np.clip([own, other], 1e-6, 1 - 1e-6)
            elif len(classes[j]) > 1:
                rows = np.flatnonzero(voted)
                right = P[rows, L_train[rows, j]].sum()
                accuracy[j] = np.clip((right + 1) / (len(rows) + 1), 1 / len(classes[j]) + 1e-3, 1 - 1e-4)
        P = softmax(logits(L_train, fire_own, fire_other, accuracy, True))
    return softmax(logits(L_test, fire_own, fire_other, accuracy, False))


def dawid_skene_mar(L_train, L_test, k, iterations=200):
    V = one_hot(L_train, k)
    P = majority(L_train, k)
    for _ in range(iterations):
        confusion = np.einsum("nmv,ny->myv", V, P) + 1.0
        confusion /= confusion.sum(axis=2, keepdims=True)
        P = softmax(np.einsum("nmv,myv->ny", V, np.log(confusion)))
    return softmax(np.einsum("nmv,myv->ny", one_hot(L_test, k), np.log(confusion)))


def labelgen_probabilities(directory, test, work, model):
    path, out = os.path.join(work, "model.json"), os.path.join(work, "labels.csv")
    subprocess.run([LABELGEN, "fit", os.path.join(directory, "train.json"), "--model", model, "-o", path],
                   check=True, capture_output=True)
    subprocess.run([LABELGEN, "label", path, test, "-o", out], check=True, capture_output=True)
    with open(out) as handle:
        header = handle.readline().strip().split(",")
        columns = [index for index, name in enumerate(header) if name.startswith("p_")]
        return np.array([[float(line.split(",")[c]) for c in columns] for line in handle])


def scores(P, L, gold, seed=123):
    predicted = random_tie_break(P, seed)
    covered = (L >= 0).any(axis=1) & (gold >= 0)
    return ((predicted[covered] == gold[covered]).mean(),
            f1_score(gold[covered], predicted[covered], average="macro"))


def geometric(*Ps):
    return softmax(sum(np.log(np.clip(P, 1e-12, 1)) for P in Ps) / len(Ps))


def main():
    totals = {}
    with tempfile.TemporaryDirectory() as work:
        for directory in sys.argv[1:]:
            name = os.path.basename(directory.rstrip("/"))
            k = cardinality(directory)
            L_train, _ = load(os.path.join(directory, "train.json"))
            test = test_split(directory)
            L_test, gold = load(test)
            default = labelgen_probabilities(directory, test, work, "generative")
            hyper = labelgen_probabilities(directory, test, work, "hyper")
            coin = one_coin(L_train, L_test, k)
            candidates = {
                "majority vote": majority(L_test, k),
                "labelgen default": default,
                "one-coin": coin,
                "hybrid": hybrid(L_train, L_test, k),
                "dawid-skene (MAR)": dawid_skene_mar(L_train, L_test, k),
                "mean(default, hyper)": (default + hyper) / 2,
                "mean(default, one-coin)": (default + coin) / 2,
                "mean(default, hyper, one-coin)": (default + hyper + coin) / 3,
                "geometric(default, hyper)": geometric(default, hyper),
            }
            line = []
            for label, P in candidates.items():
                accuracy, macro_f1 = scores(P, L_test, gold)
                totals.setdefault(label, []).append((accuracy, macro_f1))
                line.append(f"{label} {accuracy:.3f}/{macro_f1:.3f}")
            print(f"{name}: " + ", ".join(line), flush=True)
    print("\n| design | covered accuracy | covered macro-F1 | worst set against majority vote |")
    print("|---|---|---|---|")
    base = [accuracy for accuracy, _ in totals["majority vote"]]
    for label, rows in totals.items():
        worst = min(accuracy - b for (accuracy, _), b in zip(rows, base))
        print(f"| {label} | {np.mean([r[0] for r in rows]):.4f} | {np.mean([r[1] for r in rows]):.4f} | {100 * worst:+.1f} |")


if __name__ == "__main__":
    main()
