#!/usr/bin/env python3
"""Execute notebooks headless, in their own folder, and fail on the first cell that fails.

Usage: notebooks/run.py NOTEBOOK.ipynb [...]   (outputs are not written back)
"""
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def main() -> None:
    for path in map(Path, sys.argv[1:]):
        notebook = nbformat.read(path, as_version=4)
        client = NotebookClient(notebook, timeout=900, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        client.execute()
        cells = sum(cell.cell_type == "code" for cell in notebook.cells)
        print(f"{path}: {cells} code cells ran")


if __name__ == "__main__":
    main()
