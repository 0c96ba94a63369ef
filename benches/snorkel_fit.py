#!/usr/bin/env python3
"""Snorkel 0.10.0 LabelModel fit + predict_proba on a Parquet label matrix (as written by
benches/make_matrix.py), one torch thread. Prints seconds for each step; run it under
/usr/bin/time (or benches/compare_models.py) for peak memory.

Usage: snorkel_fit.py MATRIX.parquet K [EPOCHS]
"""
import sys
import time

import pandas as pd
import torch
from snorkel.labeling.model import LabelModel


def main() -> None:
    torch.set_num_threads(1)
    path, k = sys.argv[1], int(sys.argv[2])
    epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 500
    L = pd.read_parquet(path).to_numpy()
    started = time.perf_counter()
    model = LabelModel(cardinality=k, verbose=False)
    model.fit(L, n_epochs=epochs, lr=0.01, seed=123, progress_bar=False)
    fitted = time.perf_counter()
    proba = model.predict_proba(L)
    done = time.perf_counter()
    print(f"snorkel fit {fitted - started:.2f} s, predict_proba {done - fitted:.2f} s, rows {proba.shape[0]}")


if __name__ == "__main__":
    main()
