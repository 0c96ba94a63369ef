#!/usr/bin/env python3
"""The Python API against the command line and against Snorkel, in one run on one machine.

On N comments (benches/make_comments.py: the UCI comments repeated) and the 7 LFs of the
Snorkel tutorial (labeling_functions/youtube_spam.toml), apply + fit + label:

- `labelgen` (Python): from a polars DataFrame already in memory (`lfs.apply(df)`, `lg.fit`,
  `model.label`), timed in the process, best of R runs; and the same with `pl.read_csv` timed
  too;
- the command line on the same CSV: `labelgen apply` + `fit` + `label` processes (Parquet
  between them), best of R runs of the three;
- Snorkel 0.10 (in its own Python, given with --snorkel-python): `PandasLFApplier` over the
  same LFs written as Snorkel's tutorial writes them, then `LabelModel.fit` (500 epochs, one
  torch thread) and `predict_proba`, one run (it takes minutes).

The outputs are checked: the Python API's votes equal the command line's.

Usage: PY benches/compare_python.py [--rows N] [--runs R] [--snorkel-python PY]
  (PY has the labelgen package built with `maturin develop --release`, and polars)
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import polars as pl
import pyarrow.parquet as pq

import labelgen as lg

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LABELGEN = os.path.join(ROOT, "target", "release", "labelgen")
LFS = os.path.join(ROOT, "labeling_functions", "youtube_spam.toml")

SNORKEL = r'''
import re, sys, time
import pandas as pd, torch
from snorkel.labeling import LabelingFunction, PandasLFApplier
from snorkel.labeling.model import LabelModel
torch.set_num_threads(1)
ABSTAIN, HAM, SPAM = -1, 0, 1
def keyword(name, words, label):
    return LabelingFunction(name, lambda x: label if any(w in x.text.lower() for w in words) else ABSTAIN)
lfs = [keyword("keyword_my", ["my"], SPAM), keyword("keyword_subscribe", ["subscribe"], SPAM),
       keyword("keyword_link", ["http"], SPAM), keyword("keyword_please", ["please", "plz"], SPAM),
       keyword("keyword_song", ["song"], HAM),
       LabelingFunction("regex_check_out", lambda x: SPAM if re.search(r"check.*out", x.text, flags=re.I) else ABSTAIN),
       LabelingFunction("short_comment", lambda x: HAM if len(x.text.split()) < 5 else ABSTAIN)]
started = time.perf_counter()
df = pd.read_csv(sys.argv[1]).rename(columns={"CONTENT": "text"})
df["text"] = df["text"].fillna("")
L = PandasLFApplier(lfs).apply(df, progress_bar=False)
applied = time.perf_counter()
model = LabelModel(cardinality=2, verbose=False)
model.fit(L, n_epochs=500, seed=123, progress_bar=False)
model.predict_proba(L)
done = time.perf_counter()
print(f"{applied - started} {done - applied}")
'''


def run(command):
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--snorkel-python", default=None)
    args = parser.parse_args()
    data = os.path.join(ROOT, "bench-data", f"comments_{args.rows}.csv")
    if not os.path.exists(data):
        os.makedirs(os.path.dirname(data), exist_ok=True)
        subprocess.check_call([sys.executable, os.path.join(HERE, "make_comments.py"), str(args.rows), data])
    lfs = lg.LabelingFunctions.load(LFS)
    python_times, read_times = [], []
    for _ in range(args.runs):
        started = time.perf_counter()
        df = pl.read_csv(data)
        loaded = time.perf_counter()
        L = lfs.apply(df, id_column="COMMENT_ID", column_map={"text": "CONTENT"})
        model = lg.fit(L)
        labels = model.label(L)
        done = time.perf_counter()
        python_times.append(done - loaded)
        read_times.append(done - started)
    with tempfile.TemporaryDirectory() as work:
        matrix, model_path, out = (os.path.join(work, name) for name in ("L.parquet", "model.json", "labels.parquet"))
        cli_times = []
        for _ in range(args.runs):
            cli_times.append(
                run([LABELGEN, "apply", data, "--lfs", LFS, "--column", "text=CONTENT", "--id-column", "COMMENT_ID", "-o", matrix, "-q"])
                + run([LABELGEN, "fit", matrix, "-o", model_path])
                + run([LABELGEN, "label", model_path, matrix, "-o", out])
            )
        table = pq.read_table(matrix)
        cli_votes = np.column_stack([table.column(name).to_numpy() for name in lfs.names])
        assert cli_votes.astype(np.int8).tobytes() == L.to_numpy().tobytes(), "votes differ"
    assert labels.num_rows == args.rows
    python, with_read, cli = min(python_times), min(read_times), min(cli_times)
    print(f"\n{args.rows:,} comments, 7 LFs: apply + fit + label (best of {args.runs})\n")
    print("| run | seconds | rows/s | against the command line |")
    print("|---|---|---|---|")
    print(f"| labelgen Python, from a polars DataFrame in memory | {python:.2f} | {args.rows / python:,.0f} | {cli / python:.2f}x |")
    print(f"| labelgen Python, with `pl.read_csv` | {with_read:.2f} | {args.rows / with_read:,.0f} | {cli / with_read:.2f}x |")
    print(f"| labelgen command line (apply + fit + label processes, CSV in) | {cli:.2f} | {args.rows / cli:,.0f} | 1.00x |")
    if args.snorkel_python:
        output = subprocess.run([args.snorkel_python, "-c", SNORKEL, data], check=True, capture_output=True, text=True).stdout
        apply_s, model_s = map(float, output.split())
        snorkel = apply_s + model_s
        print(f"| Snorkel 0.10 PandasLFApplier + LabelModel (read_csv, apply {apply_s:.1f} s, fit + predict_proba {model_s:.1f} s) | {snorkel:.2f} | {args.rows / snorkel:,.0f} | {cli / snorkel:.3f}x |")
        print(f"\nlabelgen Python (with read_csv) against Snorkel: {snorkel / with_read:.1f}x")


if __name__ == "__main__":
    main()
