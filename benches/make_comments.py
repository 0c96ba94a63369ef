#!/usr/bin/env python3
"""Write N comments to a CSV by repeating the UCI YouTube Spam Collection (datasets/youtube/raw).

Usage: make_comments.py N OUT.csv

Columns as in the UCI files (COMMENT_ID, AUTHOR, DATE, CONTENT, CLASS); COMMENT_ID gets a
`-<repeat>` suffix so keys stay unique. Deterministic: same N, same bytes.
"""
import csv
import glob
import os
import sys


def main() -> None:
    count, out = int(sys.argv[1]), sys.argv[2]
    here = os.path.dirname(os.path.abspath(__file__))
    rows = []
    for path in sorted(glob.glob(os.path.join(here, "..", "datasets", "youtube", "raw", "Youtube0*.csv"))):
        with open(path, newline="", encoding="utf-8") as handle:
            rows.extend(csv.DictReader(handle))
    tmp = out + ".tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["COMMENT_ID", "AUTHOR", "DATE", "CONTENT", "CLASS"])
        for index in range(count):
            row = rows[index % len(rows)]
            repeat = index // len(rows)
            writer.writerow([f"{row['COMMENT_ID']}-{repeat}", row["AUTHOR"], row["DATE"], row["CONTENT"], row["CLASS"]])
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
