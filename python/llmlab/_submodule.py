"""Copies the public names of one of the extension's submodules into a real Python module, so
``import llmlab.ref`` and ``from llmlab.cuda import matmul_forward`` work."""


def export(submodule, namespace):
    names = [n for n in dir(submodule) if not n.startswith("_")]
    for n in names:
        namespace[n] = getattr(submodule, n)
    return names
