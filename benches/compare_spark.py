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

Usage: PY benches/compare_spark.py [--rows N] [--runs R] [--master local[2]]
  (PY has the labelgen package built with `maturin develop --release`, pyspark 4.x, polars)
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
    args = parser.parse_args()
    data = os.path.join(ROOT, "bench-data", f"comments_{args.rows}.parquet")
    if not os.path.exists(data):
        import polars as pl

        csv = os.path.join(ROOT, "bench-data", f"comments_{args.rows}.csv")
        if not os.path.exists(csv):
            subprocess.check_call([sys.executable, os.path.join(HERE, "make_comments.py"), str(args.rows), csv])
        (pl.scan_csv(csv).select(pl.col("COMMENT_ID").alias("id"), pl.col("CONTENT").alias("text"))
         .sink_parquet(data, row_group_size=256 * 1024))
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
    print(f"\nlabelgen apply against Spark SQL: {sql / apply:.2f}x; Python driver peak RSS {driver:.0f} MiB")


if __name__ == "__main__":
    main()
