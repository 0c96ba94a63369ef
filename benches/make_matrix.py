#!/usr/bin/env python3
"""Write a synthetic label matrix as Parquet (one Int8 column per LF, -1 = abstain): rows
independent, classes uniform, LFs conditionally independent given the class, each with an
accuracy uniform in 0.55-0.95 and a coverage uniform in 0.05-0.5; a wrong vote names another
class uniformly. Seeded: same arguments, same file.

Usage: make_matrix.py N M K OUT.parquet [SEED]
"""
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def main() -> None:
    n, m, k, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    seed = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    random = np.random.default_rng(seed)
    accuracy = random.uniform(0.55, 0.95, m)
    coverage = random.uniform(0.05, 0.5, m)
    columns = {}
    chunk = 1_000_000
    truth_all = []
    for start in range(0, n, chunk):
        size = min(chunk, n - start)
        truth = random.integers(0, k, size)
        truth_all.append(truth)
        for lf in range(m):
            votes = np.full(size, -1, dtype=np.int8)
            fires = random.random(size) < coverage[lf]
            right = random.random(size) < accuracy[lf]
            wrong = (truth + 1 + random.integers(0, k - 1, size)) % k
            votes[fires] = np.where(right, truth, wrong)[fires].astype(np.int8)
            columns.setdefault(f"lf_{lf}", []).append(votes)
    table = pa.table({name: np.concatenate(parts) for name, parts in columns.items()})
    pq.write_table(table, out, compression="zstd")
    np.save(out + ".truth.npy", np.concatenate(truth_all).astype(np.int8))


if __name__ == "__main__":
    main()
