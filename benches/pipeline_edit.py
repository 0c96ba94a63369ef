#!/usr/bin/env python3
"""`labelgen run` on 1,000,000 rows with 10 LFs: the first run, a run after editing one LF,
and a run with nothing changed, in one go (fresh cache). Prints each run's wall time and
stages, the edit/first ratio (target: at most 25 %) and the no-change run against the time to
hash the inputs alone.

The project: train = N UCI comments repeated (benches/make_comments.py), the 7 tutorial LFs
plus 3 more keyword LFs as TOML, the default label model; `--end-model` adds the classifier
stage (which an LF edit retrains, as it must).

Usage: benches/pipeline_edit.py [--rows N] [--end-model]   (needs `cargo build --release`)
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LABELGEN = os.path.join(ROOT, "target", "release", "labelgen")

EXTRA = """
[[lf]]
name = "keyword_free"
kind = "keyword"
column = "text"
keywords = ["free"]
label = "SPAM"

[[lf]]
name = "keyword_video"
kind = "keyword"
column = "text"
keywords = ["video"]
label = "HAM"

[[lf]]
name = "keyword_love"
kind = "keyword"
column = "text"
keywords = ["love"]
label = "HAM"
"""


def timed_run(project):
    started = time.perf_counter()
    result = subprocess.run([LABELGEN, "run", project], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(result.stderr)
    return seconds, result.stderr


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--end-model", action="store_true")
    args = parser.parse_args()
    data = os.path.join(ROOT, "bench-data")
    comments = os.path.join(data, f"comments_{args.rows}.csv")
    if not os.path.exists(comments):
        subprocess.check_call([sys.executable, os.path.join(HERE, "make_comments.py"), str(args.rows), comments])
    folder = os.path.join(data, "pipeline")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    lfs = os.path.join(folder, "lfs.toml")
    with open(os.path.join(ROOT, "labeling_functions", "youtube_spam.toml")) as handle:
        tutorial = handle.read()
    with open(lfs, "w") as handle:
        handle.write(tutorial + EXTRA)
    project = os.path.join(folder, "labelgen.toml")
    with open(project, "w") as handle:
        handle.write(f"""[project]
name = "bench"

[data]
train = "{comments}"
text_column = "CONTENT"
columns = {{ text = "CONTENT" }}

[lfs]
files = ["lfs.toml"]
""" + ("\n[end_model]\n" if args.end_model else ""))
    first, first_log = timed_run(project)
    with open(lfs) as handle:
        text = handle.read()
    with open(lfs, "w") as handle:
        handle.write(text.replace('keywords = ["free"]', 'keywords = ["free", "gift"]'))
    edited, edited_log = timed_run(project)
    same, same_log = timed_run(project)
    hashing = [line for line in same_log.splitlines() if line.strip().startswith("inputs")]
    print(f"{args.rows} rows, 10 LFs{', end model' if args.end_model else ''}\n")
    print("first run:\n" + first_log)
    print("after editing one LF:\n" + edited_log)
    print("nothing changed:\n" + same_log)
    print("| run | seconds | share of the first |")
    print("|---|---|---|")
    print(f"| first run | {first:.2f} | 100 % |")
    print(f"| one LF edited | {edited:.2f} | {100 * edited / first:.1f} % |")
    print(f"| nothing changed | {same:.2f} | {100 * same / first:.1f} % |")
    print(f"\ninputs stage of the no-change run (hashing the inputs): {hashing[0].split()[1] if hashing else '?'} s")


if __name__ == "__main__":
    main()
