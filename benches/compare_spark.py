#!/usr/bin/env python3
"""labelgen on Spark against the same LFs as Spark SQL column expressions, in one run.

On N comments (benches/make_comments.py, written once as Parquet so Spark splits the input),
Spark in local mode (local[2] by default, the driver bound to 127.0.0.1):

- Spark SQL: the 7 tutorial LFs as column expressions (`when(lower(text).contains("my"), 1)`
  ..., the best a Spark user would write by hand), the vote columns written as Parquet;
- labelgen apply: `labelgen.spark.apply`, the vote columns written as Parquet;
- labelgen apply + fit + label: votes cached, `fit` (Spark counts the distinct vote rows; the
  driver fits from them), `label`, the labels written as Parquet.

Each is the best of R runs; rows/s, and the Python driver's peak resident memory (it receives
only distinct vote rows and counts, so it should not grow with N: run with two values of N).
The votes of the two applies are checked equal on the first 100,000 rows.

With --snorkel-python PY2 (a Python with Snorkel 0.10 and pyspark 3.5), Snorkel's
`SparkLFApplier` over the same LFs as Snorkel's tutorial writes them, on the same Parquet file
read into an RDD of Rows, one run: it collects the whole label matrix on the driver, as
Snorkel's Spark path does; then `LabelModel.fit` + `predict_proba` on the driver; the time and
that driver's peak resident memory.

Usage: PY benches/compare_spark.py [--rows N] [--runs R] [--master local[2]] [--snorkel-python PY2]
  (PY has the labelgen package built with `maturin build --release`, pyspark 4.x, polars)
"""
import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LFS = os.path.join(ROOT, "labeling_functions", "youtube_spam.toml")


def sql_votes(df):
    """The 7 LFs of labeling_functions/youtube_spam.toml as Spark SQL column expressions."""
    from pyspark.sql import functions as F

    text = F.lower(F.coalesce(F.col("text"), F.lit("")))
    vote = lambda condition, label: F.when(condition, F.lit(label)).otherwise(F.lit(-1)).cast("byte")  # noqa: E731
    words = F.size(F.filter(F.split(F.col("text"), r"\s+"), lambda w: w != ""))
    return df.select(
        "id",
        vote(text.contains("my"), 1).alias("keyword_my"),
        vote(text.contains("subscribe"), 1).alias("keyword_subscribe"),
        vote(text.contains("http"), 1).alias("keyword_link"),
        vote(text.contains("please") | text.contains("plz"), 1).alias("keyword_please"),
        vote(text.contains("song"), 0).alias("keyword_song"),
        vote(F.col("text").rlike("(?i)check.*out"), 1).alias("regex_check_out"),
        vote(F.col("text").isNotNull() & (words < 5), 0).alias("short_comment"),
    )


SNORKEL = r'''
import os, re, resource, sys, time
import torch
from pyspark.sql import SparkSession
from snorkel.labeling import LabelingFunction
from snorkel.labeling.apply.spark import SparkLFApplier
from snorkel.labeling.model import LabelModel
torch.set_num_threads(1)
ABSTAIN, HAM, SPAM = -1, 0, 1
def keyword(name, words, label):
    return LabelingFunction(name, lambda x: label if any(w in (x.text or "").lower() for w in words) else ABSTAIN)
lfs = [keyword("keyword_my", ["my"], SPAM), keyword("keyword_subscribe", ["subscribe"], SPAM),
       keyword("keyword_link", ["http"], SPAM), keyword("keyword_please", ["please", "plz"], SPAM),
       keyword("keyword_song", ["song"], HAM),
       LabelingFunction("regex_check_out", lambda x: SPAM if re.search(r"check.*out", x.text or "", flags=re.I) else ABSTAIN),
       LabelingFunction("short_comment", lambda x: HAM if len((x.text or "").split()) < 5 else ABSTAIN)]
spark = (SparkSession.builder.master(sys.argv[2]).appName("snorkel-bench")
         .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
         .config("spark.ui.enabled", "false").config("spark.driver.memory", "4g")
         .config("spark.driver.maxResultSize", "0").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
started = time.perf_counter()
L = SparkLFApplier(lfs).apply(spark.read.parquet(sys.argv[1]).rdd)
applied = time.perf_counter()
model = LabelModel(cardinality=2, verbose=False)
model.fit(L, n_epochs=500, seed=123, progress_bar=False)
model.predict_proba(L)
done = time.perf_counter()
spark.stop()
print(applied - started, done - applied, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
'''


def best(runs, work):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--snorkel-python", default=None)
    args = parser.parse_args()
    data = os.path.join(ROOT, "bench-data", f"comments_{args.rows}.parquet")
    if not os.path.exists(data):
        csv = os.path.join(ROOT, "bench-data", f"comments_{args.rows}.csv")
        if not os.path.exists(csv):
            subprocess.check_call([sys.executable, os.path.join(HERE, "make_comments.py"), str(args.rows), csv])
        # In another process, so that the driver's peak memory below is Spark's work alone.
        subprocess.check_call([sys.executable, "-c", (
            "import sys, polars as pl; pl.scan_csv(sys.argv[1]).select(pl.col('COMMENT_ID').alias('id'), "
            "pl.col('CONTENT').alias('text')).sink_parquet(sys.argv[2], row_group_size=256 * 1024)"), csv, data])
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    from pyspark.sql import SparkSession

    import labelgen as lg
    from labelgen import spark as lgs

    spark = (SparkSession.builder.master(args.master).appName("labelgen-bench")
             .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
             .config("spark.ui.enabled", "false").config("spark.driver.memory", "4g").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    df = spark.read.parquet(data)
    lfs = lg.LabelingFunctions.load(LFS)
    work = tempfile.mkdtemp(prefix="labelgen-spark-bench-")
    out = lambda name: os.path.join(work, name)  # noqa: E731
    try:
        sample = df.limit(100_000)
        ours = lgs.apply(sample, lfs, id_column="id").orderBy("id").toPandas()
        theirs = sql_votes(sample).orderBy("id").toPandas()
        assert (ours[lfs.names].to_numpy() == theirs[lfs.names].to_numpy()).all(), "the two applies differ"
        sql = best(args.runs, lambda: sql_votes(df).write.mode("overwrite").parquet(out("sql")))
        apply = best(args.runs, lambda: lgs.apply(df, lfs, id_column="id").write.mode("overwrite").parquet(out("votes")))

        def pipeline():
            votes = lgs.apply(df, lfs, id_column="id").cache()
            model = lgs.fit(votes)
            lgs.label(votes, model).write.mode("overwrite").parquet(out("labels"))
            votes.unpersist()

        whole = best(args.runs, pipeline)
    finally:
        spark.stop()
        shutil.rmtree(work, ignore_errors=True)
    driver = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = args.rows
    print(f"\n{rows:,} comments, Spark {args.master}, best of {args.runs}\n")
    print("| run | seconds | rows/s |")
    print("|---|---|---|")
    print(f"| Spark SQL column expressions, votes written as Parquet | {sql:.1f} | {rows / sql:,.0f} |")
    print(f"| labelgen.spark.apply, votes written as Parquet | {apply:.1f} | {rows / apply:,.0f} |")
    print(f"| labelgen.spark apply + fit + label, labels written as Parquet | {whole:.1f} | {rows / whole:,.0f} |")
    if args.snorkel_python:
        env = dict(os.environ, PYSPARK_PYTHON=args.snorkel_python)
        output = subprocess.run([args.snorkel_python, "-c", SNORKEL, data, args.master], check=True,
                                capture_output=True, text=True, env=env).stdout
        apply_s, model_s, snorkel_rss = map(float, output.split()[-3:])
        snorkel = apply_s + model_s
        print(f"| Snorkel 0.10 SparkLFApplier (collects the matrix) + LabelModel on the driver (apply {apply_s:.1f} s, fit + predict_proba {model_s:.1f} s) | {snorkel:.1f} | {rows / snorkel:,.0f} |")
    print(f"\nlabelgen apply against Spark SQL: {sql / apply:.2f}x; labelgen apply + fit + label against "
          f"Spark SQL's apply alone: {sql / whole:.2f}x; Python driver peak RSS {driver:.0f} MiB")
    if args.snorkel_python:
        print(f"Snorkel's Python driver peak RSS {snorkel_rss:.0f} MiB; labelgen apply + fit + label against "
              f"Snorkel: {snorkel / whole:.1f}x")


if __name__ == "__main__":
    main()
