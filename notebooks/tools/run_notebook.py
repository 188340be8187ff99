#!/usr/bin/env python3
"""Executes a notebook top to bottom in a real Jupyter kernel (nbclient, the kernel of the Python
running this script) and exits non-zero if any cell raises. Used by ctest (notebooks/CMakeLists.txt).

    .venv/bin/python notebooks/tools/run_notebook.py notebooks/00-emulator.ipynb [--output OUT.ipynb]

The executed copy (with outputs) goes to --output, never over the committed notebook.
"""

import argparse
import pathlib
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=pathlib.Path)
    parser.add_argument("--output", type=pathlib.Path, help="where to write the executed notebook")
    parser.add_argument("--timeout", type=int, default=240, help="seconds per cell")
    args = parser.parse_args()

    nb = nbformat.read(args.notebook, as_version=4)
    # The kernel runs in the notebook's folder, so relative paths read as they do in Jupyter.
    client = NotebookClient(nb, timeout=args.timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(args.notebook.parent.resolve())}})
    start = time.monotonic()
    try:
        client.execute()
    except CellExecutionError as e:
        print(f"{args.notebook}: a cell failed\n{e}", file=sys.stderr)
        return 1
    finally:
        if args.output:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, args.output)
    cells = sum(1 for c in nb.cells if c.cell_type == "code")
    print(f"{args.notebook.name}: {cells} code cells ran in {time.monotonic() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
