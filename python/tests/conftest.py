"""Shared by the Python tests: the repository's paths and the `labelgen` command line built by
`cargo test` (or given by $LABELGEN), to compare the package with."""
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
YOUTUBE = ROOT / "datasets" / "youtube"
LFS_TOML = ROOT / "labeling_functions" / "youtube_spam.toml"
RAW = sorted((YOUTUBE / "raw").glob("Youtube0*.csv"))


def cli_path() -> str:
    return os.environ.get("LABELGEN", str(ROOT / "target" / "debug" / "labelgen"))


def run_cli(*args: str, cwd=None) -> str:
    """Run the command line; its standard output (the test fails with its error otherwise)."""
    process = subprocess.run([cli_path(), *map(str, args)], capture_output=True, text=True, cwd=cwd)
    assert process.returncode == 0, process.stderr
    return process.stdout


@pytest.fixture(scope="session")
def comments_csv(tmp_path_factory) -> Path:
    """The 1,956 UCI comments as one CSV file with columns id, author, text, label."""
    import csv

    path = tmp_path_factory.mktemp("data") / "comments.csv"
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "author", "text", "label"])
        row = 0
        for source in RAW:
            with open(source, encoding="utf-8") as handle:
                for record in csv.DictReader(handle):
                    writer.writerow([row, record["AUTHOR"], record["CONTENT"], record["CLASS"]])
                    row += 1
    return path


@pytest.fixture(scope="session")
def youtube_plugin() -> Path:
    """The example plugin crate (labeling_functions/youtube_spam), built as the Rust tests build
    it (into target/test-plugins), and its library's path."""
    cargo = os.environ.get("CARGO", "cargo")
    subprocess.run([cargo, "build", "-p", "youtube_spam", "--quiet", "--target-dir", str(ROOT / "target" / "test-plugins")],
                   cwd=ROOT, check=True)
    import sys

    name = {"darwin": "libyoutube_spam_lfs.dylib", "win32": "youtube_spam_lfs.dll"}.get(sys.platform, "libyoutube_spam_lfs.so")
    return ROOT / "target" / "test-plugins" / "debug" / name
