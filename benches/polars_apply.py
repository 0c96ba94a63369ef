#!/usr/bin/env python3
"""The seven Snorkel-tutorial LFs as vectorised Python polars expressions: the peer that
`benches/compare_apply.py` times against `labelgen apply` end to end (read CSV, apply, write
Parquet). Same semantics as labeling_functions/youtube_spam.toml: lower-cased substring tests,
`check.*out` case-insensitive, fewer than 5 whitespace-separated tokens.

Usage: polars_apply.py DATA.csv TEXT_COLUMN OUT.parquet
"""
import sys

import polars as pl

HAM, SPAM, ABSTAIN = 0, 1, -1


def vote(condition: pl.Expr, label: int, name: str) -> pl.Expr:
    return pl.when(condition).then(pl.lit(label, pl.Int8)).otherwise(pl.lit(ABSTAIN, pl.Int8)).alias(name)


def main() -> None:
    data, column, out = sys.argv[1], sys.argv[2], sys.argv[3]
    text = pl.col(column)
    lower = text.str.to_lowercase()
    frame = (
        pl.scan_csv(data)
        .select(
            vote(lower.str.contains("my", literal=True), SPAM, "keyword_my"),
            vote(lower.str.contains("subscribe", literal=True), SPAM, "keyword_subscribe"),
            vote(lower.str.contains("http", literal=True), SPAM, "keyword_link"),
            vote(lower.str.contains("please", literal=True) | lower.str.contains("plz", literal=True), SPAM, "keyword_please"),
            vote(lower.str.contains("song", literal=True), HAM, "keyword_song"),
            vote(text.str.contains(r"(?i)check.*out"), SPAM, "regex_check_out"),
            vote(text.str.count_matches(r"\S+") < 5, HAM, "short_comment"),
        )
        .collect()
    )
    frame.write_parquet(out)


if __name__ == "__main__":
    main()
