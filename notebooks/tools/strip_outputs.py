#!/usr/bin/env python3
"""Committed notebooks carry no outputs (CI executes them; outputs would only be stale diffs).

    python notebooks/tools/strip_outputs.py notebooks/*.ipynb          # strip in place
    python notebooks/tools/strip_outputs.py --check notebooks/*.ipynb  # fail if any has outputs

Uses only the standard library (json), so it runs before the venv exists.
"""

import argparse
import json
import sys


def strip(nb):
    """Removes outputs and execution counts; returns True if anything changed."""
    changed = False
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        if cell.get("outputs"):
            cell["outputs"] = []
            changed = True
        if cell.get("execution_count") is not None:
            cell["execution_count"] = None
            changed = True
    return changed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report; exit 1 if outputs are found")
    parser.add_argument("notebooks", nargs="*")
    args = parser.parse_args()
    dirty = []
    for path in args.notebooks:
        with open(path, encoding="utf-8") as f:
            nb = json.load(f)
        if strip(nb):
            dirty.append(path)
            if not args.check:
                with open(path, "w", encoding="utf-8") as f:
                    json.dump(nb, f, indent=1, ensure_ascii=False)
                    f.write("\n")
    if args.check and dirty:
        for path in dirty:
            print(f"{path}: has outputs; run notebooks/tools/strip_outputs.py {path}", file=sys.stderr)
        return 1
    print(f"{len(args.notebooks)} notebook(s) checked, {len(dirty)} {'with outputs' if args.check else 'stripped'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
