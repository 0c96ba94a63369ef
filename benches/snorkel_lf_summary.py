#!/usr/bin/env python3
"""Snorkel 0.10.0's `LFAnalysis(L).lf_summary(Y)`.

- `snorkel_lf_summary.py SPLIT.json OUT.csv`: on a WRENCH split (its weak_labels and gold
  labels); writes the summary as CSV (Polarity as class ids joined by spaces). Wrote
  tests/fixtures/snorkel/youtube_test_lf_summary.csv from ../shared/data/youtube/test.json.
- `snorkel_lf_summary.py MATRIX.parquet GOLD.parquet`: times lf_summary on a Parquet matrix
  with a Parquet gold column `label` (as benches/compare_analyze.py writes them) and prints
  the seconds; reading is not timed.
"""
import json
import sys
import time

import numpy as np
import pandas as pd
import snorkel
from snorkel.labeling import LFAnalysis


def main() -> None:
    source, target = sys.argv[1], sys.argv[2]
    if source.endswith(".json"):
        with open(source) as handle:
            split = json.load(handle)
        L = np.array([row["weak_labels"] for row in split.values()])
        Y = np.array([row["label"] for row in split.values()])
        summary = LFAnalysis(L).lf_summary(Y)
        summary["Polarity"] = summary["Polarity"].map(lambda classes: " ".join(map(str, classes)))
        summary.insert(0, "j", range(L.shape[1]))
        summary.to_csv(target, index=False, float_format="%.17g")
        print(f"snorkel {snorkel.__version__}: {L.shape[0]} rows x {L.shape[1]} LFs")
        return
    L = pd.read_parquet(source).to_numpy()
    Y = pd.read_parquet(target)["label"].to_numpy()
    started = time.perf_counter()
    summary = LFAnalysis(L).lf_summary(Y)
    print(f"snorkel lf_summary {time.perf_counter() - started:.2f} s, lfs {len(summary)}")


if __name__ == "__main__":
    main()
