#!/usr/bin/env python3
"""Real-data stand-ins for the kinds of dataset labelgen is scored on but does not have.

Built from the shared real sets (../shared/data, WRENCH layout) by changing only what a regime
changes, never the votes' relation to the truth:

- crowd work, sparse: crowd_dog made binary (class 0 against the rest), its positives
  subsampled to 12 %, and each item's votes cut to 3 random ones; crowd_duck and crowd_dog (4
  classes) cut to 3 votes an item;
- spam hunted by many keyword LFs: the raw UCI YouTube comments (videos 1-4 train, 5 test) with
  one-class keyword LFs chosen on the training gold (tokens seen at least 4 times and at least
  85 % one class, up to 40 per class), spam subsampled to 13 %;
- a tester's LF set: 10 regular-expression LFs written for the YouTube comments without
  looking at gold (8 voting SPAM, 2 HAM: the kind of set a user writes while hunting a class),
  on the WRENCH youtube splits, and on the raw comments with spam subsampled to 13 %;
- relation extraction at low coverage: spouse_small and rdp_rna with positives subsampled to 7 %;
- many one-class LFs over several classes: yoruba and hausa with keyword LFs chosen on the
  training gold (up to 10 per class, tokens seen at least 5 times and at least 50 % one class).

Keyword LFs chosen on the training gold are as strong there as LF authors' rules tuned on a dev
set; the scores are on test splits the choice never saw. Seeded: the same files every run.

Usage: python3 benches/make_analogue_sets.py OUT_DIR   (Python 3 alone)
"""
import csv
import glob
import json
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "..", "shared", "data")
TOKEN = re.compile(r"\w+", re.UNICODE)

TESTER = [  # (pattern, class): 1 = SPAM, 0 = HAM; None = fewer than 5 tokens
    (r"subscrib|\bsub\b|sub4sub", 1),
    (r"http|www\.|\.com\b", 1),
    (r"check (out|my|it)", 1),
    (r"\bmy (channel|video|music|page|songs?)\b", 1),
    (r"\bmoney\b|\bearn\b|\$|\bfree\b|\bcash\b|\bwin\b", 1),
    (r"\bplease\b|\bplz\b|\bpls\b", 1),
    (r"\bfollow\b|like this comment|thumbs up", 1),
    (r"\bviews?\b|\bfacebook\b|\binstagram\b|\btwitter\b", 1),
    (r"love (this|the) song|best song|\bbeautiful\b|\bamazing\b", 0),
    (None, 0),
]


def split(name, part):
    with open(os.path.join(SHARED, name, part + ".json")) as handle:
        rows = json.load(handle)
    return [(row["weak_labels"], row["label"], row["data"].get("text", "")) for row in rows.values()]


def keyword_lfs(texts, labels, k, per_class, min_count, min_share):
    counts = {}
    for text, label in zip(texts, labels):
        for token in set(TOKEN.findall(text.lower())):
            counts.setdefault(token, [0] * k)[label] += 1
    lfs = []
    for c in range(k):
        chosen = sorted(((sum(v), t) for t, v in counts.items()
                         if sum(v) >= min_count and v[c] / sum(v) >= min_share and len(t) > 1), reverse=True)
        lfs += [(token, c) for _, token in chosen[:per_class]]
    return lfs


def apply_keywords(texts, lfs):
    out = []
    for text in texts:
        tokens = set(TOKEN.findall(text.lower()))
        out.append([c if token in tokens else -1 for token, c in lfs])
    return out


def apply_tester(texts):
    out = []
    for text in texts:
        low = text.lower()
        out.append([c if (len(low.split()) < 5 if pattern is None else re.search(pattern, low)) else -1
                    for pattern, c in TESTER])
    return out


def subsample(rows, positive, rate, rng):
    """All rows not of class `positive`, and enough of it, drawn at random, for a share of `rate`."""
    mine = [index for index, row in enumerate(rows) if row[1] == positive]
    keep = set(rng.sample(mine, min(len(mine), round(rate / (1 - rate) * (len(rows) - len(mine))))))
    return [row for index, row in enumerate(rows) if row[1] != positive or index in keep]


def sparse(rows, per_item, rng):
    out = []
    for votes, label in rows:
        cast = [lf for lf, vote in enumerate(votes) if vote >= 0]
        drop = set(rng.sample(cast, len(cast) - per_item)) if len(cast) > per_item else set()
        out.append(([-1 if lf in drop else vote for lf, vote in enumerate(votes)], label))
    return out


def raw_youtube():
    videos = []
    for path in sorted(glob.glob(os.path.join(SHARED, "youtube", "raw", "*.csv"))):
        with open(path, encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        videos.append(([row["CONTENT"] for row in rows], [int(row["CLASS"]) for row in rows]))
    return videos


def write(out, name, k, train, test):
    directory = os.path.join(out, name)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "label.json"), "w") as handle:
        json.dump({str(c): f"c{c}" for c in range(k)}, handle)
    for part, rows in [("train", train), ("test", test)]:
        with open(os.path.join(directory, part + ".json"), "w") as handle:
            json.dump({str(i): {"label": label, "weak_labels": votes, "data": {}}
                       for i, (votes, label) in enumerate(rows)}, handle)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out, rng = sys.argv[1], random.Random(7)
    dog = [(votes, label) for votes, label, _ in split("crowd_dog", "train")]
    binary = [([-1 if v < 0 else int(v == 0) for v in votes], int(label == 0)) for votes, label in dog]
    binary = sparse(subsample(binary, 1, 0.12, rng), 3, rng)
    write(out, "crowd_dog_binary_sparse", 2, binary, binary)
    duck = sparse([(votes, label) for votes, label, _ in split("crowd_duck", "train")], 3, rng)
    write(out, "crowd_duck_sparse", 2, duck, duck)
    dog4 = sparse(dog, 3, rng)
    write(out, "crowd_dog_sparse", 4, dog4, dog4)

    videos = raw_youtube()
    train_texts = sum((texts for texts, _ in videos[:4]), [])
    train_labels = sum((labels for _, labels in videos[:4]), [])
    test_texts, test_labels = videos[4]
    lfs = keyword_lfs(train_texts, train_labels, 2, 40, 4, 0.85)
    train = subsample(list(zip(apply_keywords(train_texts, lfs), train_labels)), 1, 0.13, rng)
    test = subsample(list(zip(apply_keywords(test_texts, lfs), test_labels)), 1, 0.13, rng)
    write(out, "youtube_keywords_imbalanced", 2, train, test)

    wrench = {part: split("youtube", part) for part in ("train", "test")}
    write(out, "youtube_tester", 2,
          *[list(zip(apply_tester([t for _, _, t in wrench[part]]), [label for _, label, _ in wrench[part]]))
            for part in ("train", "test")])
    train = subsample(list(zip(apply_tester(train_texts), train_labels)), 1, 0.13, rng)
    test = subsample(list(zip(apply_tester(test_texts), test_labels)), 1, 0.13, rng)
    write(out, "youtube_tester_imbalanced", 2, train, test)

    for name in ("spouse_small", "rdp_rna"):
        parts = [[(votes, label) for votes, label, _ in split(name, part)] for part in ("train", "test")]
        write(out, f"{name}_imbalanced", 2, *[subsample(rows, 1, 0.07, rng) for rows in parts])

    for name, k in (("yoruba", 7), ("hausa", 5)):
        train, test = split(name, "train"), split(name, "test")
        lfs = keyword_lfs([t for _, _, t in train], [label for _, label, _ in train], k, 10, 5, 0.5)
        write(out, f"{name}_keywords", k,
              *[list(zip(apply_keywords([t for _, _, t in rows], lfs), [label for _, label, _ in rows]))
                for rows in (train, test)])
    print(f"wrote {len(os.listdir(out))} sets to {out}")


if __name__ == "__main__":
    main()
