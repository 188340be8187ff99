"""The CUDA emulator (``llmlab::emu``): its schedule, its last diagnostic, its memory-traffic
counters, and the planted-bug kernels of notebooks/00-emulator.ipynb."""

import contextlib
import json
import os

from . import _llmlab
from ._submodule import export

__all__ = export(_llmlab.emu, globals()) + ["schedule", "profiling", "profile"]


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


@contextlib.contextmanager
def profiling(reset=True):
    """Counts the memory traffic of the launches in the enclosed block (docs/emulator.md,
    "Memory-traffic counters"); ``reset`` forgets earlier counts first. Read them with profile()
    or profile_table(). Raises RuntimeError where the kernels carry no access hooks (the asan
    preset), where nothing could be counted."""
    if not _llmlab.emu.profile_available():
        raise RuntimeError("profiling: the kernels in this build carry no access hooks (the asan "
                           "preset): the memory-traffic counters are unavailable")
    was = _llmlab.emu.profile_enabled()
    if reset:
        _llmlab.emu.reset_profile()
    _llmlab.emu.set_profile_enabled(True)
    try:
        yield
    finally:
        _llmlab.emu.set_profile_enabled(was)


def profile():
    """The counters since the last reset, as a dict from kernel name (demangled, with template
    arguments) to its counters: launches, flops, and global_load / global_store / global_atomic
    (requests, sectors, ideal_sectors, bytes_requested, bytes_moved) and shared_load /
    shared_store (requests, wavefronts, ideal_wavefronts, bank_conflicts, bytes_requested)."""
    return {k["kernel"]: k for k in json.loads(_llmlab.emu.profile_json())}
