"""The reference (``llmlab::ref``): clear C++ on the CPU, run in the dtype of the inputs (float64:
the oracle; float32: the same-precision baseline). Shapes follow docs/design.md §3."""

from . import _llmlab
from ._submodule import export

__all__ = export(_llmlab.ref, globals())
