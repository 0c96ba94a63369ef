"""labelgen on Apache Spark: apply, fit and label where the data already lives.

    from labelgen import spark as lgs
    votes = lgs.apply(spark_df, lfs, id_column="id")   # one Int8 (ByteType) column per LF, the id kept
    model = lgs.fit(votes)                             # the driver sees counts, never the matrix
    out = lgs.label(votes, model)                      # id, p_<class>, label, covered

How the work splits, as labelgen's label models allow it (they read only the distinct vote rows
and their counts, which add up across shards):

- `apply`: each executor applies the LFs to its partitions (`mapInArrow`), with the LF files
  and plugin libraries shipped by `SparkContext.addFile` and loaded once per worker process;
- `statistics` / `fit`: Spark's own `groupBy(<every LF column>).count()` merges the vote rows;
  the driver collects the distinct rows and their counts (their number does not grow with the
  rows) and fits once;
- `label`: each executor labels its partitions with the model (broadcast as its file's text).

Row ids travel with the rows, so nothing depends on the number or the order of partitions: the
votes are byte for byte the command line's, the model is the one `labelgen fit` gives the same
matrix, and so are the probabilities. Tested with pyspark 4.0.1 (by scripts/test)
and 3.5.9 (python/tests/test_spark*.py run by hand in a venv with pyspark 3.5 and pandas 2).
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import pyarrow as pa

from . import LabelgenError, LabelingFunctions, LabelMatrix, Model, Statistics, fit as _fit

__all__ = ["apply", "statistics", "fit", "label"]

# Column metadata key holding an LF column's classes, so fit and label need only the votes.
_CLASSES = "labelgen_classes"

# LF sets loaded in this worker process, by their shipped files.
_LOADED: Dict[Tuple[Tuple[str, ...], Tuple[str, ...]], LabelingFunctions] = {}


def _spark_type(arrow_type: pa.DataType) -> Any:
    from pyspark.sql import types as T

    if pa.types.is_integer(arrow_type):
        return T.LongType()
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type) or str(arrow_type) == "string_view":
        return T.StringType()
    raise LabelgenError(f"an id column of type {arrow_type} cannot be a row key: use integers or strings")


def _worker_lfs(files: Sequence[str], plugins: Sequence[str]) -> LabelingFunctions:
    """The LF set shipped to this worker, loaded once per process."""
    from pyspark import SparkFiles

    key = (tuple(files), tuple(plugins))
    if key not in _LOADED:
        local = lambda names: [SparkFiles.get(name) for name in names]  # noqa: E731
        try:
            _LOADED[key] = LabelingFunctions.load(local(files), local(plugins))
        except LabelgenError as error:
            import socket

            raise LabelgenError(f"on executor host {socket.gethostname()}: {error}") from None
    return _LOADED[key]


def _check_types(df: Any, lfs: LabelingFunctions, id_column: str, column_map: Optional[dict], columns: List[str]) -> None:
    """Refuse, on the driver, columns of a type the LFs cannot read (naming the column and the
    LF), as the executors would, before any job runs: the LFs applied to no row of the
    DataFrame's schema."""
    try:
        from pyspark.sql.pandas.types import to_arrow_schema

        schema = to_arrow_schema(df.select(*columns).schema)
    except Exception:  # a Spark type Arrow cannot hold: the executors will say which
        return
    lfs.apply(pa.RecordBatchReader.from_batches(schema, []), id_column=id_column, column_map=column_map)


def apply(
    df: Any,
    lfs: LabelingFunctions,
    id_column: str,
    column_map: Optional[dict] = None,
    extra_files: Sequence[str] = (),
) -> Any:
    """Apply `lfs` to every row of the Spark DataFrame `df`: a DataFrame of `id_column` and one
    ByteType column per LF (-1 = abstain), the LF's classes in the column's metadata. The LF
    files and plugin libraries are shipped to the executors (`extra_files`: list or table files
    the LF files read, shipped beside them)."""
    from pyspark.sql import types as T

    spark = df.sparkSession
    if id_column not in df.columns:
        raise LabelgenError(f"the id column `{id_column}` is not in the DataFrame; it has {', '.join(df.columns)}")
    wanted = [(column_map or {}).get(c, c) for c in lfs.columns]
    missing = [c for c in wanted if c not in df.columns]
    if missing:
        raise LabelgenError(
            f"the LFs read column(s) {', '.join('`' + c + '`' for c in missing)}, which the DataFrame "
            f"lacks; it has {', '.join(df.columns)} (map a name with column_map)"
        )
    _check_types(df, lfs, id_column, column_map, [id_column] + sorted(set(wanted) - {id_column}))
    for path in [*lfs.files, *lfs.plugins, *extra_files]:
        spark.sparkContext.addFile(os.path.abspath(path))
    files = [os.path.basename(p) for p in lfs.files]
    plugins = [os.path.basename(p) for p in lfs.plugins]
    names, classes = lfs.names, lfs.classes
    id_type = df.schema[id_column].dataType
    if not isinstance(id_type, (T.StringType, T.LongType, T.IntegerType, T.ShortType, T.ByteType)):
        raise LabelgenError(f"the id column `{id_column}` is {id_type.simpleString()}: use integers or strings")
    integer_ids = not isinstance(id_type, T.StringType)
    arrow_id = pa.int64() if integer_ids else pa.string()
    schema = T.StructType(
        [T.StructField(id_column, T.LongType() if integer_ids else T.StringType(), False)]
        + [T.StructField(name, T.ByteType(), False) for name in names]
    )
    arrow_schema = pa.schema([pa.field(id_column, arrow_id)] + [pa.field(n, pa.int8()) for n in names])
    columns = [id_column] + sorted(set(wanted) - {id_column})

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        lf_set = _worker_lfs(files, plugins)
        for batch in batches:
            if batch.num_rows == 0:
                continue
            table = pa.Table.from_batches([batch])
            if integer_ids:
                table = table.set_column(0, id_column, table.column(0).cast(pa.int64()))
            matrix = lf_set.apply(table, id_column=id_column, column_map=column_map)
            yield from matrix.to_arrow().cast(arrow_schema).to_batches()

    votes = df.select(*columns).mapInArrow(run, schema)
    for name in names:
        votes = votes.withMetadata(name, {_CLASSES: classes})
    return votes


def _lf_columns(votes: Any) -> Tuple[List[str], List[str]]:
    """The LF columns of a votes DataFrame (those with labelgen's classes) and the classes."""
    lfs, classes = [], None
    for field in votes.schema.fields:
        if _CLASSES in (field.metadata or {}):
            lfs.append(field.name)
            classes = classes or list(field.metadata[_CLASSES])
    if not lfs:
        raise LabelgenError(
            "the DataFrame has no LF columns from labelgen.spark.apply (ByteType columns whose "
            "metadata holds the classes); pass lfs=[...] and classes=[...] for votes made elsewhere"
        )
    return lfs, classes


def statistics(votes: Any, lfs: Optional[Sequence[str]] = None, classes: Optional[Sequence[str]] = None) -> Statistics:
    """The sufficient statistics of a votes DataFrame: Spark counts the distinct vote rows
    (`groupBy(<LF columns>).count()`); the driver receives only those rows and their counts."""
    if lfs is None or classes is None:
        found_lfs, found_classes = _lf_columns(votes)
        lfs, classes = lfs or found_lfs, classes or found_classes
    lfs, classes = list(lfs), list(classes)
    counted = votes.groupBy(*lfs).count().toArrow() if hasattr(votes, "toArrow") else pa.Table.from_pandas(
        votes.groupBy(*lfs).count().toPandas(), preserve_index=False
    )
    if counted.num_rows == 0:
        raise LabelgenError("the votes DataFrame has no rows")
    patterns = np.column_stack([counted.column(name).to_numpy(zero_copy_only=False) for name in lfs]).astype(np.int8)
    counts = counted.column("count").to_numpy(zero_copy_only=False).astype(np.uint64)
    return Statistics.from_rows(lfs, classes, np.ascontiguousarray(patterns).tobytes(), [int(c) for c in counts])


def fit(votes: Any, **options: Any) -> Model:
    """Fit a label model to a votes DataFrame from its statistics (see `statistics`); options as
    `labelgen.fit`'s."""
    return _fit(statistics(votes), **options)


def label(
    votes: Any,
    model: Model,
    id_column: Optional[str] = None,
    tie_break: str = "abstain",
    seed: int = 123,
) -> Any:
    """Probabilistic labels of a votes DataFrame, computed on the executors: the id column,
    `p_<class>` per class, `label` and `covered`."""
    from pyspark.sql import types as T

    lfs = model.lfs
    missing = [lf for lf in lfs if lf not in votes.columns]
    if missing:
        raise LabelgenError(
            f"the model's LFs {', '.join('`' + m + '`' for m in missing)} are not columns of the "
            "votes DataFrame: label with a model fitted on votes of the same LFs"
        )
    if id_column is None:
        others = [c for c in votes.columns if c not in lfs]
        if len(others) != 1:
            raise LabelgenError(f"give id_column: the votes have {len(others)} columns besides the LFs")
        id_column = others[0]
    id_type = votes.schema[id_column].dataType
    integer_ids = not isinstance(id_type, T.StringType)
    text = model.to_json()
    broadcast = votes.sparkSession.sparkContext.broadcast(text)
    classes = model.classes
    schema = T.StructType(
        [T.StructField(id_column, T.LongType() if integer_ids else T.StringType(), False)]
        + [T.StructField(f"p_{c}", T.DoubleType(), False) for c in classes]
        + [T.StructField("label", T.ByteType(), False), T.StructField("covered", T.BooleanType(), False)]
    )
    arrow_schema = pa.schema(
        [pa.field(id_column, pa.int64() if integer_ids else pa.string())]
        + [pa.field(f"p_{c}", pa.float64()) for c in classes]
        + [pa.field("label", pa.int8()), pa.field("covered", pa.bool_())]
    )

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        fitted = Model.from_json(broadcast.value)
        for batch in batches:
            if batch.num_rows == 0:
                continue
            keys = batch.column(0).to_pylist()
            matrix = LabelMatrix.from_numpy(
                np.column_stack([batch.column(i + 1).to_numpy(zero_copy_only=False) for i in range(len(lfs))]),
                lfs=lfs,
                classes=classes,
                keys=[int(k) for k in keys] if integer_ids else [str(k) for k in keys],
                key_name=id_column,
            )
            yield from fitted.label(matrix, tie_break=tie_break, seed=seed).cast(arrow_schema).to_batches()

    return votes.select(id_column, *lfs).mapInArrow(run, schema)
