"""labelgen.spark against the command line on the same rows: the votes byte for byte, the same
model, probabilities to 1e-12 and the same labels, for 1, 3 and 7 partitions in shuffled order,
in local mode and on a standalone cluster (a master and two workers started with pyspark's own
`spark-class`, on loopback); and the errors a user meets."""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import labelgen as lg
from labelgen import spark as lgs
from conftest import LFS_TOML, run_cli

pyspark = pytest.importorskip("pyspark")
from pyspark.sql import SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402

os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"


def session(master: str) -> SparkSession:
    return (
        SparkSession.builder.master(master)
        .appName("labelgen-tests")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.executor.memory", "768m")
        .getOrCreate()
    )


@pytest.fixture(scope="module")
def cli(comments_csv, tmp_path_factory):
    """The command line's votes, model and labels (random tie-break) of the comments."""
    folder = tmp_path_factory.mktemp("cli")
    run_cli("apply", comments_csv, "--lfs", LFS_TOML, "--id-column", "id", "-o", folder / "L.parquet", "-q")
    run_cli("fit", folder / "L.parquet", "-o", folder / "model.json")
    run_cli("label", folder / "model.json", folder / "L.parquet", "-o", folder / "labels.parquet", "--tie-break", "random")
    with open(folder / "model.json") as handle:
        model = json.load(handle)
    return pq.read_table(folder / "L.parquet"), model, pq.read_table(folder / "labels.parquet")


@pytest.fixture(scope="module")
def comments(comments_csv):
    """The comments as an Arrow table, ids as text (as the command line reads a CSV)."""
    options = pacsv.ConvertOptions(column_types={"id": pa.string(), "label": pa.int64()})
    return pacsv.read_csv(comments_csv, convert_options=options)


def by_id(table: pa.Table) -> pa.Table:
    """Rows in id order (the ids as text, whatever the writer's string layout)."""
    index = table.column_names.index("id")
    ids = pa.array([str(key) for key in table.column("id").to_pylist()])
    return table.set_column(index, "id", ids).sort_by([("id", "ascending")])


def check_against_cli(spark, comments, cli, partitions: int) -> None:
    cli_votes, cli_model, cli_labels = cli
    df = spark.createDataFrame(comments.to_pandas()).repartition(partitions).orderBy(F.rand(seed=partitions))
    lfs = lg.LabelingFunctions.load(LFS_TOML)
    votes = lgs.apply(df, lfs, id_column="id").cache()
    ours = by_id(pa.Table.from_pandas(votes.toPandas(), preserve_index=False))
    theirs = by_id(cli_votes)
    for name in lfs.names:
        assert ours.column(name).to_numpy().astype(np.int8).tobytes() == theirs.column(name).to_numpy().tobytes(), name
    model = lgs.fit(votes)
    fitted = json.loads(model.to_json())
    for key in ("class_balance", "lf_accuracy", "parameters", "classes", "lfs"):
        assert fitted[key] == cli_model[key], key
    labels = by_id(pa.Table.from_pandas(lgs.label(votes, model, tie_break="random").toPandas(), preserve_index=False))
    expected = by_id(cli_labels)
    for column in ("p_HAM", "p_SPAM"):
        assert np.abs(labels.column(column).to_numpy() - expected.column(column).to_numpy()).max() <= 1e-12
    assert labels.column("label").to_pylist() == expected.column("label").to_pylist()
    assert labels.column("covered").to_pylist() == expected.column("covered").to_pylist()
    votes.unpersist()


@pytest.fixture(scope="module")
def local_spark():
    spark = session("local[2]")
    yield spark
    spark.stop()


@pytest.mark.parametrize("partitions", [1, 3, 7])
def test_local_mode_matches_the_command_line(local_spark, comments, cli, partitions):
    check_against_cli(local_spark, comments, cli, partitions)


def test_errors_name_what_is_wrong(local_spark, comments, tmp_path):
    lfs = lg.LabelingFunctions.load(LFS_TOML)
    df = local_spark.createDataFrame(comments.select(["id", "author"]).to_pandas())
    with pytest.raises(lg.LabelgenError, match="`text`.*lacks"):
        lgs.apply(df, lfs, id_column="id")
    with pytest.raises(lg.LabelgenError, match="id column `key`"):
        lgs.apply(df, lfs, id_column="key")
    # A column of a type the LFs cannot read: refused on the driver, naming it and an LF.
    numbers = local_spark.createDataFrame([(1, 5), (2, 7)], "id long, text int")
    with pytest.raises(lg.LabelgenError, match="column `text` of `DataFrame` is Int32, but text is needed .*keyword_my"):
        lgs.apply(numbers, lfs, id_column="id")
    # A plugin library that cannot load on the executors: its path and the executor's host.
    fake = tmp_path / "libfake.so"
    fake.write_text("not a library")
    texts = local_spark.createDataFrame(comments.select(["id", "text"]).to_pandas())
    broken = lg.LabelingFunctions(lfs._native, lfs.files, [str(fake)])
    with pytest.raises(Exception, match=r"on executor host .*libfake\.so"):
        lgs.apply(texts, broken, id_column="id").count()
    # A model of other LFs.
    votes = lgs.apply(texts, lfs, id_column="id")
    other = lg.fit(lg.LabelMatrix.from_numpy(np.array([[0, 1], [1, 1]] * 5), classes=["HAM", "SPAM"]))
    with pytest.raises(lg.LabelgenError, match="`lf_0`, `lf_1` are not columns"):
        lgs.label(votes, other)


def check_plugin_against_cli(spark, comments, comments_csv, plugin, folder, partitions: int):
    """labelgen.spark.apply with the LFs of a plugin library alone gives `labelgen apply
    --plugin`'s votes on the same comments; the DataFrame of the comments it applied them to."""
    run_cli("apply", comments_csv, "--plugin", plugin, "--id-column", "id", "-o", folder / "L.parquet", "-q")
    lfs = lg.LabelingFunctions.load([], plugins=[plugin])
    df = spark.createDataFrame(comments.to_pandas()).repartition(partitions)
    ours = by_id(pa.Table.from_pandas(lgs.apply(df, lfs, id_column="id").toPandas(), preserve_index=False))
    theirs = by_id(pq.read_table(folder / "L.parquet"))
    for name in lfs.names:
        assert ours.column(name).to_numpy().astype(np.int8).tobytes() == theirs.column(name).to_numpy().tobytes(), name
    return df


def test_a_plugin_is_shipped_to_the_executors_and_loaded_once_per_worker(local_spark, comments, comments_csv,
                                                                         youtube_plugin, tmp_path):
    """A plugin library, shipped by addFile and loaded from the executors' copies, gives the
    command line's votes; each Python worker process loads the LF set once, however many
    partitions it runs."""
    df = check_plugin_against_cli(local_spark, comments, comments_csv, youtube_plugin, tmp_path, 6)
    files, plugins = [], [os.path.basename(youtube_plugin)]

    def probe(batches):
        from labelgen import spark as worker

        for _ in batches:
            pass
        key = (tuple(files), tuple(plugins))
        loaded_before = key in worker._LOADED
        loaded = worker._worker_lfs(files, plugins)
        yield pa.RecordBatch.from_pydict({"pid": [os.getpid()], "before": [loaded_before], "set": [id(loaded)]})

    reports = df.mapInArrow(probe, "pid long, before boolean, set long").toPandas()
    assert len(reports) == 6
    # Python workers are reused (spark.python.worker.reuse): some process ran several partitions.
    assert reports.groupby("pid").size().max() >= 2, reports
    for pid, rows in reports.groupby("pid"):
        assert (~rows["before"]).sum() <= 1, f"worker {pid} loaded the LF set {(~rows['before']).sum()} times"
        assert rows["set"].nunique() == 1, f"worker {pid} holds {rows['set'].nunique()} LF sets"
