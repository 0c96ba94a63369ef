#!/usr/bin/env python3
"""The 50 composite LFs of benches/composite_rules.py as vectorised Python polars expressions:
the peer that `benches/compare_apply.py` times against `labelgen apply --lfs
benches/composite_lfs.toml` end to end (read CSV, preprocess, apply, write Parquet).

Usage: polars_composite.py DATA.csv TEXT_COLUMN OUT.parquet
"""
import os
import sys

import polars as pl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from composite_rules import polars_exprs  # noqa: E402


def main() -> None:
    data, column, out = sys.argv[1], sys.argv[2], sys.argv[3]
    pl.scan_csv(data).select(polars_exprs(pl, column)).collect().write_parquet(out)


if __name__ == "__main__":
    main()
