"""labelgen: weak supervision from labeling functions, in Rust, over Arrow data.

    import labelgen as lg
    lfs = lg.LabelingFunctions.load("lfs.toml", plugins=["target/release/libmy_lfs.so"])
    L = lfs.apply(df)                 # df: polars, pandas or pyarrow (any Arrow stream), or a path
    model = lg.fit(L)                 # or lg.fit(L_numpy, cardinality=2): Snorkel's L works as is
    labels = model.label(L, keep=df.select("id", "text"))   # p_<class>, label, covered
    lg.analyze(L, gold=y)             # Snorkel's lf_summary columns
    model.save("model.json")          # the same files as the command line's
    clf = lg.train(labels, texts=df["text"])   # the end model, on the probabilistic labels

Every function calls the library the `labelgen` command line calls, with the same results and
the same error messages (raised as `LabelgenError`); the GIL is released while it works. Tables
come back as pyarrow Tables (`pl.from_arrow(table)` makes a polars DataFrame without a copy).
"""
from __future__ import annotations

import json
from os import PathLike, fspath
from typing import Any, Iterable, Optional, Sequence, Union

import numpy as np
import pyarrow as pa

from . import _labelgen
from ._labelgen import LabelgenError, Statistics

__all__ = [
    "Classifier",
    "LabelgenError",
    "LabelingFunctions",
    "LabelMatrix",
    "Model",
    "Statistics",
    "analyze",
    "fit",
    "read_matrix",
    "train",
    "__version__",
]
__version__ = _labelgen.__version__

Path = Union[str, "PathLike[str]"]


def _arrow(data: Any) -> Any:
    """`data` as an object exporting an Arrow C stream, or a path string."""
    if isinstance(data, (str, PathLike)):
        return fspath(data)
    if hasattr(data, "__arrow_c_stream__"):
        return data
    module = type(data).__module__.split(".")[0]
    if module == "pandas":
        return pa.Table.from_pandas(data, preserve_index=False)
    if module == "polars":
        return data.to_arrow()
    if isinstance(data, (pa.RecordBatch,)):
        return pa.Table.from_batches([data])
    raise LabelgenError(
        f"cannot read a {type(data).__name__} as a table: give a polars, pandas or pyarrow "
        "table, a RecordBatchReader, or a file path"
    )


def _table(stream: Any) -> pa.Table:
    return pa.RecordBatchReader.from_stream(stream).read_all()


class LabelMatrix:
    """Votes of every LF on every row (-1 = abstain), with LF and class names and, when the
    input had an id column, the rows' keys."""

    def __init__(self, native: "_labelgen.LabelMatrix"):
        self._native = native

    @staticmethod
    def from_numpy(
        votes: Any,
        cardinality: Optional[int] = None,
        lfs: Optional[Sequence[str]] = None,
        classes: Optional[Sequence[str]] = None,
        keys: Optional[Sequence[Any]] = None,
        key_name: str = "id",
    ) -> "LabelMatrix":
        """A matrix from a rows x LFs integer array (Snorkel's `L`: -1 = abstain), with the
        rows' keys if given (integers or strings)."""
        array = np.ascontiguousarray(np.asarray(votes), dtype=np.int8)
        if array.ndim != 2:
            raise LabelgenError(f"a label matrix has two dimensions, got {array.ndim}")
        if array.size and (np.asarray(votes) != array).any():
            raise LabelgenError("votes must be integers from -1 to 126")
        if classes is None:
            k = cardinality if cardinality is not None else max(int(array.max(initial=-1)) + 1, 2)
            classes = [str(c) for c in range(k)]
        if lfs is None:
            lfs = [f"lf_{j}" for j in range(array.shape[1])]
        if keys is not None:
            keys = [k.item() if hasattr(k, "item") else k for k in keys]
        return LabelMatrix(
            _labelgen.LabelMatrix.from_votes(
                array.tobytes(), array.shape[0], list(lfs), list(classes), keys, key_name
            )
        )

    @staticmethod
    def read(path: Path, cardinality: Optional[int] = None) -> "LabelMatrix":
        """Read a matrix file: Parquet or CSV from `labelgen apply`, another tool's integer
        votes, or a WRENCH split (see `read_matrix` for its gold labels too)."""
        native, _ = _labelgen.LabelMatrix.read(fspath(path), cardinality)
        return LabelMatrix(native)

    def write(self, path: Path) -> None:
        """Write the matrix as `labelgen apply` does (Parquet, or CSV with a metadata file)."""
        self._native.write(fspath(path))

    @property
    def shape(self) -> tuple:
        return self._native.shape

    @property
    def lfs(self) -> list:
        return self._native.lfs

    @property
    def classes(self) -> list:
        return self._native.classes

    @property
    def row_key(self) -> Optional[str]:
        return self._native.row_key

    def to_numpy(self) -> np.ndarray:
        """The votes, rows x LFs, int8."""
        rows, lfs = self.shape
        return np.frombuffer(self._native.votes_bytes(), dtype=np.int8).reshape(rows, lfs)

    def to_arrow(self) -> pa.Table:
        """The row key (if any) and one Int8 column per LF."""
        return _table(self._native.to_arrow_stream())

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self._native.to_arrow_stream().__arrow_c_stream__(requested_schema)

    def statistics(self) -> Statistics:
        """The sufficient statistics (distinct vote rows and counts), mergeable across shards."""
        return self._native.statistics()

    def __repr__(self) -> str:
        rows, lfs = self.shape
        return f"LabelMatrix({rows} rows x {lfs} LFs, classes {self.classes})"


def read_matrix(path: Path, cardinality: Optional[int] = None) -> tuple:
    """A matrix file and its gold labels (a WRENCH split's `label`; None otherwise)."""
    native, gold = _labelgen.LabelMatrix.read(fspath(path), cardinality)
    return LabelMatrix(native), (None if gold is None else np.asarray(gold, dtype=np.int64))


class LabelingFunctions:
    """Labeling functions from TOML files and Rust plugin libraries (see docs/lf-reference.md
    and docs/plugins.md)."""

    def __init__(self, native: "_labelgen.LabelingFunctions", files: Sequence[str] = (), plugins: Sequence[str] = ()):
        self._native = native
        self.files = list(files)
        self.plugins = list(plugins)

    @staticmethod
    def load(files: Union[Path, Sequence[Path]] = (), plugins: Sequence[Path] = ()) -> "LabelingFunctions":
        """Load LF files and plugin libraries; the matrix has their LFs as columns in that order."""
        if isinstance(files, (str, PathLike)):
            files = [files]
        files = [fspath(f) for f in files]
        plugins = [fspath(p) for p in plugins]
        return LabelingFunctions(_labelgen.LabelingFunctions.load(files, plugins), files, plugins)

    @property
    def names(self) -> list:
        return self._native.names

    @property
    def classes(self) -> list:
        return self._native.classes

    @property
    def columns(self) -> list:
        """The input columns the LFs read."""
        return self._native.columns

    def apply(
        self,
        data: Any,
        id_column: Optional[str] = None,
        column_map: Optional[dict] = None,
    ) -> LabelMatrix:
        """Apply the LFs to every row of `data`: a polars, pandas or pyarrow table (any object
        exporting an Arrow C stream) or a file path. `id_column` is kept as the row key;
        `column_map` points an LF column at a data column named otherwise."""
        return LabelMatrix(self._native.apply(_arrow(data), id_column, column_map))

    def __repr__(self) -> str:
        return f"LabelingFunctions({len(self.names)} LFs, classes {self.classes})"


def _matrix(L: Any, cardinality: Optional[int]) -> Any:
    if isinstance(L, LabelMatrix):
        return L._native
    if isinstance(L, Statistics):
        return L
    if isinstance(L, (str, PathLike)):
        return LabelMatrix.read(L, cardinality)._native
    if hasattr(L, "__arrow_c_stream__") or type(L).__module__.split(".")[0] in ("pandas", "polars"):
        table = pa.table(_arrow(L))
        return LabelMatrix.from_numpy(
            np.column_stack([c.to_numpy() for c in table.columns]) if table.num_columns else np.empty((0, 0)),
            cardinality,
            lfs=table.column_names,
        )._native
    return LabelMatrix.from_numpy(L, cardinality)._native


class Model:
    """A fitted label model: it estimates each LF's accuracy and labels rows."""

    def __init__(self, native: "_labelgen.Model"):
        self._native = native

    @staticmethod
    def load(path: Path) -> "Model":
        """Read a model file written by `labelgen fit` or `Model.save`."""
        return Model(_labelgen.Model.load(fspath(path)))

    @staticmethod
    def from_json(text: str) -> "Model":
        """A model from a model file's text (`to_json`), checked as a file is."""
        return Model(_labelgen.Model.from_json(text))

    def to_json(self) -> str:
        """The model file's text."""
        return self._native.to_json()

    def save(self, path: Path) -> None:
        """Write the model file (the same versioned JSON as `labelgen fit`'s)."""
        self._native.save(fspath(path))

    @property
    def kind(self) -> str:
        return self._native.kind

    @property
    def classes(self) -> list:
        return self._native.classes

    @property
    def lfs(self) -> list:
        return self._native.lfs

    @property
    def class_balance(self) -> list:
        return self._native.class_balance

    @property
    def lf_accuracy(self) -> dict:
        """Each LF's estimated accuracy (None for an LF that never votes)."""
        return dict(zip(self.lfs, self._native.lf_accuracy))

    @property
    def diagnostics(self) -> dict:
        """How the fit went: iterations, convergence, warnings, the class-balance test."""
        return json.loads(self._native.to_json())["diagnostics"]

    def predict_proba(self, L: Any) -> np.ndarray:
        """`P(Y | votes)` of every row, rows x classes."""
        native = _matrix(L, len(self.classes))
        probabilities = np.frombuffer(self._native.predict_proba_bytes(native), dtype="<f8")
        return probabilities.reshape(-1, len(self.classes))

    def label(
        self,
        L: Any,
        keep: Any = None,
        tie_break: str = "abstain",
        seed: int = 123,
    ) -> pa.Table:
        """Probabilistic labels as a pyarrow Table: the row key (if the matrix has one), the
        columns of `keep` (a table of the same rows, in the same order), `p_<class>` per class,
        `label` (-1 when classes tie and `tie_break` is "abstain"; "random" picks one by a hash
        of the row key and `seed`) and `covered`."""
        native = _matrix(L, len(self.classes))
        labels = _table(self._native.label(native, tie_break, seed))
        if keep is None:
            return labels
        kept = pa.table(_arrow(keep))
        if kept.num_rows != labels.num_rows:
            raise LabelgenError(f"keep has {kept.num_rows} rows, the matrix {labels.num_rows}")
        position = 1 if native.row_key is not None else 0
        for name in reversed(kept.column_names):
            if name in labels.column_names:
                continue
            labels = labels.add_column(position, name, kept.column(name))
        return labels

    def __repr__(self) -> str:
        return f"Model({self.kind}, {len(self.lfs)} LFs, classes {self.classes})"


def fit(
    L: Any,
    cardinality: Optional[int] = None,
    model: str = "generative",
    class_balance: str = "auto",
    l2: Optional[float] = None,
    max_iterations: Optional[int] = None,
    tolerance: Optional[float] = None,
    seed: Optional[int] = None,
    gold: Optional[tuple] = None,
) -> Model:
    """Fit a label model (`generative`, the default; `majority`, `dawid-skene`, `snorkel`,
    `hyper`) to a LabelMatrix, Statistics (merged shards), a NumPy array (Snorkel's `L`, with
    `cardinality`), an integer table or a matrix file. `gold=(L_dev, y_dev)`: labelled rows
    that choose the model by cross-validated accuracy and enter the fit, as
    `labelgen fit --gold` does."""
    labelled = None
    if gold is not None:
        votes, classes = gold
        labelled = (_matrix(votes, cardinality), [int(c) for c in np.asarray(classes).ravel()])
    return Model(
        _labelgen.fit_model(
            _matrix(L, cardinality), model, class_balance, l2, max_iterations, tolerance, seed, labelled
        )
    )


_SUMMARY = [
    ("j", "j"),
    ("Polarity", "polarity"),
    ("Coverage", "coverage"),
    ("Overlaps", "overlaps"),
    ("Conflicts", "conflicts"),
    ("Correct", "correct"),
    ("Incorrect", "incorrect"),
    ("Emp. Acc.", "empirical_accuracy"),
    ("Learned Acc.", "learned_accuracy"),
]


def analyze(L: Any, gold: Any = None, model: Optional[Model] = None, cardinality: Optional[int] = None) -> pa.Table:
    """Per-LF statistics with Snorkel's `LFAnalysis.lf_summary` columns (and names), one row
    per LF: `j`, `Polarity`, `Coverage`, `Overlaps`, `Conflicts`, with `gold` `Correct`,
    `Incorrect`, `Emp. Acc.`, with `model` `Learned Acc.`. The whole analysis (pairwise rates,
    confusion matrices) is `analyze_all`."""
    summary = analyze_all(L, gold, model, cardinality)
    names = [lf["name"] for lf in summary["lfs"]]
    columns = {"LF": names}
    for title, key in _SUMMARY:
        values = [lf.get(key) for lf in summary["lfs"]]
        if key == "polarity":
            values = [list(v) for v in values]
        if all(v is None for v in values) and key not in ("j", "polarity", "coverage", "overlaps", "conflicts"):
            continue
        columns[title] = values
    return pa.table(columns)


def analyze_all(L: Any, gold: Any = None, model: Optional[Model] = None, cardinality: Optional[int] = None) -> dict:
    """Everything `labelgen analyze --format json` reports, as a dict."""
    native = _matrix(L, cardinality)
    labels = None if gold is None else [int(c) for c in np.asarray(gold).ravel()]
    return json.loads(_labelgen.analyze_json(native, labels, None if model is None else model._native))


def _texts(texts: Any) -> list:
    """A column of texts (a sequence, NumPy array, pyarrow array, polars or pandas Series) as a
    list of str, refusing anything else."""
    if hasattr(texts, "to_pylist"):
        values = texts.to_pylist()
    elif hasattr(texts, "to_list"):
        values = texts.to_list()
    elif isinstance(texts, str):
        raise LabelgenError("texts: give a column of strings, not one string")
    else:
        values = list(texts)
    for row, value in enumerate(values):
        if value is None:
            values[row] = ""
        elif not isinstance(value, str):
            raise LabelgenError(
                f"texts: row {row} (counting from 0) is a {type(value).__name__}, not text"
            )
    return values


class Classifier:
    """The end model: a soft-label logistic regression on hashed word and character n-grams
    (`labelgen train`), trained on probabilistic labels; it classifies any text, covered by an
    LF or not."""

    def __init__(self, native: "_labelgen.Classifier"):
        self._native = native

    @staticmethod
    def load(path: Path) -> "Classifier":
        """Read a classifier file written by `labelgen train` or `Classifier.save`."""
        return Classifier(_labelgen.Classifier.load(fspath(path)))

    def save(self, path: Path) -> None:
        """Write the classifier file (the same JSON as `labelgen train`'s)."""
        self._native.save(fspath(path))

    @property
    def classes(self) -> list:
        return self._native.classes

    @property
    def training(self) -> dict:
        """How it was trained: rows, targets, L2, the optimiser's report, model selection."""
        return json.loads(self._native.training_json())

    def predict_proba(self, texts: Any) -> np.ndarray:
        """Class probabilities of `texts`, rows x classes (as `labelgen predict`)."""
        values = _texts(texts)
        probabilities = np.frombuffer(self._native.predict_proba_bytes(values), dtype="<f8")
        return probabilities.reshape(len(values), len(self.classes))

    def predict(self, texts: Any) -> np.ndarray:
        """The most probable class id of each text."""
        return self.predict_proba(texts).argmax(axis=1)

    def __repr__(self) -> str:
        return f"Classifier(classes {self.classes}, {self.training['rows']} training rows)"


def train(
    labels: Any,
    texts: Any,
    classes: Optional[Sequence[str]] = None,
    include_uncovered: bool = False,
    hard: bool = False,
    class_weight: Union[None, str, Sequence[float]] = None,
    l2: Optional[float] = None,
    max_iterations: Optional[int] = None,
    hash_bits: Optional[int] = None,
    word_ngrams: Optional[int] = None,
    char_ngrams: Union[str, None, tuple] = "default",
    raw_tf: bool = False,
    valid: Optional[tuple] = None,
) -> Classifier:
    """Train the end model on probabilistic labels, as `labelgen train` does.

    `labels`: the table `Model.label` returns (its `p_<class>` columns, and `covered`: rows no
    LF covered are left out unless `include_uncovered`), or a rows x classes array of
    probabilities with `classes`. `texts`: the rows' texts, in the same order.
    `class_weight`: "balanced" or one weight per class. `char_ngrams`: (min, max), None for
    none, "default" for the command line's. `valid=(texts, gold class ids)`: rows with gold
    labels (-1 = unknown) that choose the L2 strength and stop training early."""
    keep = None
    if isinstance(labels, np.ndarray):
        probabilities = np.ascontiguousarray(labels, dtype=np.float64)
        if classes is None:
            raise LabelgenError("give the class names (`classes`) with an array of probabilities")
    else:
        table = pa.table(_arrow(labels))
        columns = [name for name in table.column_names if name.startswith("p_")]
        if not columns:
            raise LabelgenError(
                "labels: no `p_<class>` column; give the table `Model.label` returns or an array"
            )
        if classes is None:
            classes = [name[2:] for name in columns]
        probabilities = np.column_stack([table.column(name).to_numpy() for name in columns])
        if "covered" in table.column_names and not include_uncovered:
            keep = [bool(c) for c in table.column("covered").to_pylist()]
    values = _texts(texts)
    if probabilities.ndim != 2 or probabilities.shape[0] != len(values):
        raise LabelgenError(
            f"{len(values)} texts and labels of shape {probabilities.shape}: give one row of "
            "probabilities per text"
        )
    balanced = isinstance(class_weight, str)
    if balanced and class_weight != "balanced":
        raise LabelgenError(f"class_weight `{class_weight}`: give \"balanced\" or one weight per class")
    weights = None if class_weight is None or balanced else [float(w) for w in class_weight]
    validation = None
    if valid is not None:
        valid_texts, gold = valid
        validation = (_texts(valid_texts), [int(g) for g in np.asarray(gold).ravel()])
    native = _labelgen.train_classifier(
        values,
        probabilities.ravel().tolist(),
        list(classes),
        keep,
        hard,
        balanced,
        weights,
        l2,
        max_iterations,
        hash_bits,
        word_ngrams,
        None if char_ngrams in ("default", None) else tuple(char_ngrams),
        char_ngrams is None,
        raw_tf,
        validation,
    )
    return Classifier(native)
