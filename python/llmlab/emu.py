"""The CUDA emulator (``llmlab::emu``): its schedule, its last diagnostic, and the planted-bug
kernels of notebooks/00-emulator.ipynb."""

import contextlib
import os

from . import _llmlab
from ._submodule import export

__all__ = export(_llmlab.emu, globals()) + ["schedule"]


@contextlib.contextmanager
def schedule(order):
    """Runs the enclosed launches under ``order``: "forward", "reverse" or "random:SEED" (the
    order in which a block's threads run between barriers; the emulator reads
    LLMLAB_EMU_SCHEDULE at every launch). The previous value is restored afterwards. Anything
    else raises ValueError at once, not at the next launch."""
    if not isinstance(order, str):
        raise TypeError(f"schedule: order must be a str (\"forward\", \"reverse\" or "
                        f"\"random:SEED\"), got {type(order).__name__}")
    if not _llmlab.emu.valid_schedule(order):
        shown = order if len(order) <= 40 else order[:40] + "…"
        raise ValueError(f"schedule: {shown!r} is not a schedule: expected \"forward\", "
                         f"\"reverse\" or \"random:SEED\"")
    old = os.environ.get("LLMLAB_EMU_SCHEDULE")
    os.environ["LLMLAB_EMU_SCHEDULE"] = order
    try:
        yield
    finally:
        if old is None:
            del os.environ["LLMLAB_EMU_SCHEDULE"]
        else:
            os.environ["LLMLAB_EMU_SCHEDULE"] = old
