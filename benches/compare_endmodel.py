#!/usr/bin/env python3
"""The downstream training stage, measured.

1. Quality: for each WRENCH dataset given (fit the default label model on train, label train
   with its texts, train the classifier on the soft labels, no gold used; predict and evaluate
   on test): accuracy and macro-F1 of majority vote, the label model, and the classifier with
   default features, words only, character 3-5-grams, and on hard labels.
2. Speed: on N comments (benches/make_comments.py; the 7 tutorial LFs as TOML), `labelgen
   train` and `labelgen predict` wall time, rows/s and peak memory.

Usage: benches/compare_endmodel.py [--datasets DIR ...] [--rows N]
Needs a release build (`cargo build --release`).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LABELGEN = os.path.join(ROOT, "target", "release", "labelgen")


def run(*args):
    result = subprocess.run([LABELGEN, *map(str, args)], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"failed: labelgen {' '.join(map(str, args))}\n{result.stderr}")
    return result.stdout


def timed(*args):
    started = time.perf_counter()
    process = subprocess.Popen([LABELGEN, *map(str, args)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        sys.exit(f"failed: labelgen {' '.join(map(str, args))}: {process.stderr.read().decode()}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def quality(datasets):
    print("| dataset | method | accuracy | macro-F1 |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as work:
        for directory in datasets:
            name = os.path.basename(directory.rstrip("/"))
            train, test = os.path.join(directory, "train.json"), os.path.join(directory, "test.json")
            gold = f"{test}:label"
            for model in ["majority", "generative"]:
                path = os.path.join(work, f"{model}.json")
                run("fit", train, "--model", model, "-o", path)
                scores = json.loads(run("score", path, test, "--json"))[1]["all_rows"]
                print(f"| {name} | label model `{model}` | {scores['accuracy']:.4f} | {scores['macro_f1']:.4f} |")
            labels = os.path.join(work, "labels.parquet")
            run("label", os.path.join(work, "generative.json"), train, "-o", labels, "--data", train, "--keep-columns", "text")
            for title, extra in [("classifier, soft labels (defaults: words 1-2, characters 4)", []),
                                 ("classifier, soft labels, words only (--char-ngrams none)", ["--char-ngrams", "none"]),
                                 ("classifier, soft labels, --char-ngrams 3-5", ["--char-ngrams", "3-5"]),
                                 ("classifier, hard labels (--hard)", ["--hard"])]:
                classifier, predictions = os.path.join(work, "clf.json"), os.path.join(work, "pred.parquet")
                run("train", labels, "-o", classifier, *extra)
                run("predict", classifier, test, "-o", predictions)
                scores = json.loads(run("evaluate", predictions, "--gold", gold, "--json"))
                print(f"| {name} | {title} | {scores['accuracy']:.4f} | {scores['macro_f1']:.4f} |")


def speed(rows):
    data = os.path.join(ROOT, "bench-data")
    os.makedirs(data, exist_ok=True)
    comments = os.path.join(data, f"comments_{rows}.csv")
    if not os.path.exists(comments):
        subprocess.check_call([sys.executable, os.path.join(HERE, "make_comments.py"), str(rows), comments])
    with tempfile.TemporaryDirectory() as work:
        matrix, model = os.path.join(work, "L.parquet"), os.path.join(work, "model.json")
        labels, classifier = os.path.join(work, "labels.parquet"), os.path.join(work, "clf.json")
        predictions = os.path.join(work, "pred.parquet")
        run("apply", comments, "--column", "text=CONTENT", "--lfs",
            os.path.join(ROOT, "labeling_functions", "youtube_spam.toml"), "-o", matrix, "-q")
        run("fit", matrix, "-o", model)
        run("label", model, matrix, "-o", labels, "--data", comments, "--keep-columns", "CONTENT")
        train_seconds, train_memory = timed("train", labels, "--text-column", "CONTENT", "-o", classifier)
        info = json.load(open(classifier))["training"]
        predict_seconds, predict_memory = timed("predict", classifier, comments, "--text-column", "CONTENT", "-o", predictions)
    print(f"\n{rows} comments (UCI YouTube comments repeated); {info['rows']} covered rows trained on, "
          f"{info['report']['iterations']} L-BFGS iterations\n")
    print("| command | seconds | rows/s | peak RSS (MiB) |")
    print("|---|---|---|---|")
    print(f"| labelgen train (read labels, featurise, fit, write) | {train_seconds:.1f} | {rows / train_seconds:,.0f} | {train_memory:.0f} |")
    print(f"| labelgen predict (read CSV, featurise, predict, write Parquet) | {predict_seconds:.1f} | {rows / predict_seconds:,.0f} | {predict_memory:.0f} |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", nargs="*", default=[os.path.join(ROOT, "datasets", "youtube")])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    if args.datasets:
        quality(args.datasets)
    if args.rows > 0:
        speed(args.rows)


if __name__ == "__main__":
    main()
