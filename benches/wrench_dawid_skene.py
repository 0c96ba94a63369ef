#!/usr/bin/env python3
"""Dawid-Skene as WRENCH 1.1.1 fits it (`wrench.labelmodel.DawidSkene`, PyPI ws-benchmark),
re-implemented with NumPy alone so the peer runs without WRENCH's heavy dependencies.

The algorithm, as WRENCH's: each LF's confusion matrix has k + 1 outcomes (abstain is one),
no smoothing; the class marginals are estimated; EM starts from majority vote's posteriors
(a row without votes uniform), alternates M-step (class marginals = mean posterior; confusion
rows = posterior-weighted outcome counts, normalised where non-zero) and E-step (marginal times
the product of every LF's outcome probability, normalised where non-zero), and stops when both
the marginals and the confusion matrices move by less than 1e-5 in total absolute change, or
after 10,000 steps. Fit on the train split, predict_proba on the test split (valid when there is
no test split), scores printed in compare_models.py's format with the random tie-break.

Usage: wrench_dawid_skene.py DATASET_DIR   (NumPy, scikit-learn)
"""
import os
import sys

import numpy as np

from wrench_scores import cardinality, load, print_scores, random_tie_break, test_split


def outcomes(L, k):
    """One-hot outcomes, rows x LFs x (k + 1): column 0 is abstain."""
    return (np.arange(k + 1) == (L + 1)[..., None]).astype(float)


def e_step(onehot, marginals, rates):
    # log of marginal x prod_j rates[j, y, outcome]; exp(-inf) = 0 keeps impossible classes at 0.
    with np.errstate(divide="ignore"):
        log_rates = np.log(rates)
        log_marginals = np.log(marginals)
    # The product over LFs, computed in log space without 0 * -inf: count the zero factors.
    finite = np.where(np.isfinite(log_rates), log_rates, 0.0)
    zeros = (~np.isfinite(log_rates)).astype(float)
    log_product = np.einsum("nmo,myo->ny", onehot, finite, optimize=True)
    impossible = np.einsum("nmo,myo->ny", onehot, zeros, optimize=True) > 0
    scores = log_product + log_marginals[None, :]
    scores[impossible | ~np.isfinite(scores)] = -np.inf
    top = scores.max(axis=1, keepdims=True)
    top[~np.isfinite(top)] = 0.0
    posterior = np.exp(scores - top)
    total = posterior.sum(axis=1, keepdims=True)
    return np.divide(posterior, total, out=np.zeros_like(posterior), where=total != 0)


def fit(L, k, steps=10_000, tolerance=1e-5):
    onehot = outcomes(L, k)
    counts = onehot[:, :, 1:].sum(axis=1)
    counts[counts.sum(axis=1) == 0] = 1.0
    posterior = counts / counts.sum(axis=1, keepdims=True)
    previous = None
    for _ in range(steps):
        marginals = posterior.mean(axis=0)
        rates = np.einsum("ny,nmo->myo", posterior, onehot, optimize=True)
        total = rates.sum(axis=2, keepdims=True)
        rates = np.divide(rates, total, out=np.zeros_like(rates), where=total != 0)
        posterior = e_step(onehot, marginals, rates)
        if previous is not None:
            moved = np.abs(marginals - previous[0]).sum(), np.abs(rates - previous[1]).sum()
            if moved[0] < tolerance and moved[1] < tolerance:
                break
        previous = marginals, rates
    return marginals, rates


def main():
    directory = sys.argv[1]
    k = cardinality(directory)
    L_train, _ = load(os.path.join(directory, "train.json"))
    L_test, y_test = load(test_split(directory))
    marginals, rates = fit(L_train, k)
    proba = e_step(outcomes(L_test, k), marginals, rates)
    predicted = random_tie_break(proba)
    print_scores(directory, "wrench-dawid-skene", predicted, L_test, y_test)


if __name__ == "__main__":
    main()
