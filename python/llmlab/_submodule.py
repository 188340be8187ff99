"""Copies the public names of one of the extension's submodules into a real Python module, so
``import llmlab.ref`` and ``from llmlab.cuda import matmul_forward`` work. Functions are wrapped
so that a wrong argument raises a TypeError naming it (_arguments.py)."""

from ._arguments import checked


def export(submodule, namespace):
    names = [n for n in dir(submodule) if not n.startswith("_")]
    for n in names:
        value = getattr(submodule, n)
        if type(value).__name__ == "builtin_function_or_method":
            value = checked(value, n)
        namespace[n] = value
    return names
