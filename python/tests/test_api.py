"""The Python API against the command line on the same data: the same votes, models,
probabilities and messages."""
import json
import threading
import time

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import labelgen as lg
from conftest import LFS_TOML, YOUTUBE, run_cli


@pytest.fixture(scope="module")
def lfs():
    return lg.LabelingFunctions.load(LFS_TOML)


@pytest.fixture(scope="module")
def cli_matrix(comments_csv, tmp_path_factory):
    """The command line's matrix of the comments, as a NumPy array, and its folder."""
    folder = tmp_path_factory.mktemp("cli")
    run_cli("apply", comments_csv, "--lfs", LFS_TOML, "--id-column", "id", "-o", folder / "L.parquet", "-q")
    table = pq.read_table(folder / "L.parquet")
    votes = np.column_stack([table.column(name).to_numpy() for name in table.column_names[1:]])
    return votes, folder


@pytest.mark.parametrize("kind", ["polars", "pandas", "pyarrow", "reader", "path"])
def test_every_input_kind_gives_the_command_lines_votes(lfs, comments_csv, cli_matrix, kind):
    table = pacsv.read_csv(comments_csv, convert_options=pacsv.ConvertOptions(column_types={"id": pa.int64()}))
    data = {
        "polars": lambda: pl.from_arrow(table),
        "pandas": lambda: table.to_pandas(),
        "pyarrow": lambda: table,
        "reader": lambda: pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=100)),
        "path": lambda: comments_csv,
    }[kind]()
    L = lfs.apply(data, id_column="id")
    votes, _ = cli_matrix
    assert L.shape == votes.shape
    assert L.to_numpy().tobytes() == votes.astype(np.int8).tobytes()
    assert L.lfs == lfs.names and L.classes == ["HAM", "SPAM"]
    keys = L.to_arrow().column("id").to_pylist()
    # A CSV file keeps its ids as text, as the command line does; tables keep integers.
    assert [str(key) for key in keys] == [str(row) for row in range(len(keys))]


def test_fit_and_label_match_the_command_line(lfs, comments_csv, cli_matrix):
    _, folder = cli_matrix
    run_cli("fit", folder / "L.parquet", "-o", folder / "model.json")
    run_cli("label", folder / "model.json", folder / "L.parquet", "-o", folder / "labels.csv", "--tie-break", "random")
    # From the file, as the command line reads it: the ids are text there, and a random
    # tie-break hashes the key as it is (an integer key hashes otherwise).
    L = lfs.apply(comments_csv, id_column="id")
    model = lg.fit(L)
    with open(folder / "model.json") as handle:
        theirs = json.load(handle)
    ours = json.loads(model.to_json())
    for key in ("class_balance", "lf_accuracy", "parameters", "classes", "lfs"):
        assert ours[key] == theirs[key], key
    labels = model.label(L, tie_break="random")
    cli = pacsv.read_csv(folder / "labels.csv")
    for column in ("p_HAM", "p_SPAM"):
        assert np.abs(labels.column(column).to_numpy() - cli.column(column).to_numpy()).max() <= 1e-12
    assert labels.column("label").to_pylist() == cli.column("label").to_pylist()
    assert labels.column("covered").to_pylist() == cli.column("covered").to_pylist()
    # A saved model is the command line's file format: the command line reads it back.
    model.save(folder / "py_model.json")
    run_cli("score", folder / "py_model.json", folder / "L.parquet", "--gold", f"{comments_csv}:label")
    assert lg.Model.load(folder / "py_model.json").lf_accuracy == model.lf_accuracy


def test_keep_columns_and_probabilities(lfs, comments_csv):
    df = pl.read_csv(comments_csv)
    L = lfs.apply(df, id_column="id")
    model = lg.fit(L)
    labels = model.label(L, keep=df.select("id", "text"))
    assert labels.column_names == ["id", "text", "p_HAM", "p_SPAM", "label", "covered"]
    assert labels.column("text").to_pylist()[:3] == df["text"].to_list()[:3]
    probabilities = model.predict_proba(L)
    assert probabilities.shape == (df.height, 2)
    assert np.allclose(probabilities.sum(axis=1), 1.0)


def test_snorkels_numpy_matrix_works_as_is():
    L = np.array([[0, 1, -1], [1, 1, -1], [-1, 0, 0], [1, -1, 1]] * 50)
    model = lg.fit(L, cardinality=2)
    assert model.lfs == ["lf_0", "lf_1", "lf_2"]
    assert model.predict_proba(L).shape == (200, 2)
    majority = lg.fit(L, cardinality=2, model="majority")
    assert majority.kind == "majority"


def test_statistics_of_shards_merge_to_the_whole_and_fit_the_same_model(lfs, comments_csv):
    df = pl.read_csv(comments_csv)
    whole = lfs.apply(df, id_column="id")
    shards = [lfs.apply(df.slice(start, 500), id_column="id").statistics() for start in range(0, df.height, 500)]
    merged = shards[0]
    for shard in reversed(shards[1:]):
        merged = merged.merge(shard)
    assert merged == whole.statistics()
    assert lg.Statistics.from_bytes(merged.to_bytes()) == merged
    assert json.loads(lg.fit(merged).to_json()) == json.loads(lg.fit(whole).to_json())


def test_analyze_has_snorkels_columns(lfs, comments_csv):
    df = pl.read_csv(comments_csv)
    L = lfs.apply(df, id_column="id")
    model = lg.fit(L)
    summary = lg.analyze(L, gold=df["label"].to_numpy(), model=model)
    assert summary.column_names == [
        "LF", "j", "Polarity", "Coverage", "Overlaps", "Conflicts", "Correct", "Incorrect",
        "Emp. Acc.", "Learned Acc.",
    ]
    assert summary.column("LF").to_pylist() == lfs.names
    coverage = (L.to_numpy() != -1).mean(axis=0)
    assert np.allclose(summary.column("Coverage").to_numpy(), coverage)


def test_errors_are_the_command_lines(lfs, tmp_path):
    with pytest.raises(lg.LabelgenError, match="`text`.*needed by LF"):
        lfs.apply(pl.DataFrame({"id": [1], "body": ["hi"]}))
    bad = tmp_path / "bad.toml"
    bad.write_text('classes = ["A", "B"]\n[[lf]]\nname = "x"\nkind = "keyword"\ncolumn = "t"\nkeywrods = ["a"]\nlabel = "A"\n')
    with pytest.raises(lg.LabelgenError, match="LF `x`: unknown field `keywrods`"):
        lg.LabelingFunctions.load(bad)
    with pytest.raises(lg.LabelgenError, match="not a label model"):
        lg.fit(np.array([[0, 1]]), cardinality=2, model="best")
    other = lg.fit(lg.LabelMatrix.from_numpy(np.array([[0, 1], [1, 1]] * 5), classes=["HAM", "SPAM"]))
    with pytest.raises(lg.LabelgenError, match="LFs differ from the model"):
        other.label(lfs.apply(pl.DataFrame({"text": ["check out my channel"]})))


def test_the_gil_is_released_while_labelgen_works(lfs, comments_csv):
    df = pl.concat([pl.read_csv(comments_csv)] * 200)  # 391,200 rows
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    thread = threading.Thread(target=tick)
    thread.start()
    started = time.perf_counter()
    lfs.apply(df)
    elapsed = time.perf_counter() - started
    stop.set()
    thread.join()
    during = [t for t in ticks if started < t < started + elapsed]
    # The other thread kept running while apply ran (it would be frozen if the GIL were held).
    assert len(during) > 0.25 * elapsed / 0.002, (len(during), elapsed)


def test_the_type_stubs_describe_the_native_module():
    import ast
    from pathlib import Path

    import labelgen._labelgen as native

    stubs = ast.parse((Path(lg.__file__).parent / "_labelgen.pyi").read_text())
    declared = {node.name for node in stubs.body if isinstance(node, (ast.ClassDef, ast.FunctionDef))}
    exported = {name for name in dir(native) if not name.startswith("_")}
    assert declared == exported
    for node in stubs.body:
        if isinstance(node, ast.ClassDef):
            methods = {item.name for item in node.body if isinstance(item, ast.FunctionDef)}
            assert methods <= set(dir(getattr(native, node.name))), node.name


def test_the_end_model_is_the_command_lines(lfs, comments_csv, cli_matrix, tmp_path):
    """`lg.train` on `Model.label`'s table gives `labelgen train`'s classifier on the same
    labels, and its probabilities are `labelgen predict`'s."""
    df = pl.read_csv(comments_csv)
    L = lfs.apply(df, id_column="id")
    model = lg.fit(L)
    labels = model.label(L, keep=df.select("text"), tie_break="random")
    pq.write_table(labels, tmp_path / "labels.parquet")
    run_cli("train", tmp_path / "labels.parquet", "-o", tmp_path / "clf.json", "--class-weight", "balanced")
    clf = lg.train(labels, texts=df["text"], class_weight="balanced")
    clf.save(tmp_path / "py_clf.json")
    with open(tmp_path / "clf.json") as handle:
        theirs = json.load(handle)
    with open(tmp_path / "py_clf.json") as handle:
        ours = json.load(handle)
    assert theirs["training"].pop("labels_hash") is not None
    assert ours["training"].pop("labels_hash") is None
    assert ours == theirs
    assert clf.training["rows"] == int(np.asarray(labels.column("covered")).sum())

    run_cli("predict", tmp_path / "clf.json", comments_csv, "--id-column", "id", "-o", tmp_path / "pred.csv")
    predicted = pacsv.read_csv(tmp_path / "pred.csv")
    probabilities = lg.Classifier.load(tmp_path / "clf.json").predict_proba(df["text"])
    for class_id, name in enumerate(clf.classes):
        assert np.abs(probabilities[:, class_id] - predicted.column(f"p_{name}").to_numpy()).max() <= 1e-12
    # Gold is not used to train: the end model must still find spam from the labels.
    accuracy = (clf.predict(df["text"]) == df["label"].to_numpy()).mean()
    assert accuracy > 0.8, accuracy


def test_the_end_model_selects_on_validation_rows_as_the_command_line_does(lfs, comments_csv, tmp_path):
    """With validation rows, `lg.train` chooses the L2 strength and the stopping point as
    `labelgen train --valid` does: the same classifier file."""
    df = pl.read_csv(comments_csv)
    L = lfs.apply(df, id_column="id")
    labels = lg.fit(L).label(L, keep=df.select("text"))
    pq.write_table(labels, tmp_path / "labels.parquet")
    valid = df[::7]
    valid.write_csv(tmp_path / "valid.csv")
    run_cli("train", tmp_path / "labels.parquet", "-o", tmp_path / "clf.json", "--valid", tmp_path / "valid.csv",
            "--valid-gold", "label", "--max-iterations", "30")
    clf = lg.train(labels, texts=df["text"], valid=(valid["text"], valid["label"]), max_iterations=30)
    with open(tmp_path / "clf.json") as handle:
        theirs = json.load(handle)
    theirs["training"]["labels_hash"] = None
    ours = clf.training
    assert len(ours["validation"]) == 3, ours["validation"]
    assert ours == theirs["training"]
    clf.save(tmp_path / "py_clf.json")
    with open(tmp_path / "py_clf.json") as handle:
        saved = json.load(handle)
    saved["training"]["labels_hash"] = None
    assert saved == theirs


def test_the_end_model_refuses_bad_input(lfs, comments_csv):
    df = pl.read_csv(comments_csv)
    L = lfs.apply(df)
    labels = lg.fit(L).label(L)
    with pytest.raises(lg.LabelgenError, match=r"10 texts and labels of shape \(1956, 2\)"):
        lg.train(labels, texts=df["text"][:10])
    with pytest.raises(lg.LabelgenError, match="row 1 .* is a int, not text"):
        lg.train(np.full((3, 2), 0.5), texts=["a", 5, "c"], classes=["HAM", "SPAM"])
    with pytest.raises(lg.LabelgenError, match="class_weight `heavy`"):
        lg.train(labels, texts=df["text"], class_weight="heavy")
    with pytest.raises(lg.LabelgenError, match="2 class weights|class weights for"):
        lg.train(labels, texts=df["text"], class_weight=[1.0, 2.0, 3.0])
    with pytest.raises(lg.LabelgenError, match="not a distribution"):
        lg.train(np.full((2, 2), -1.0), texts=["a", "b"], classes=["HAM", "SPAM"])


def test_an_empty_table_is_checked_like_any_other(lfs):
    """A table of no rows has a schema: a column the LFs cannot read is refused all the same."""
    wrong = pa.table({"id": pa.array([], pa.int64()), "text": pa.array([], pa.int32())})
    with pytest.raises(lg.LabelgenError, match="column `text` of `DataFrame` is Int32, but text is needed"):
        lfs.apply(wrong, id_column="id")
    right = pa.table({"id": pa.array([], pa.int64()), "text": pa.array([], pa.string())})
    assert lfs.apply(right, id_column="id").shape == (0, len(lfs.names))
