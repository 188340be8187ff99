"""The CUDA kernels (``llmlab::cuda``). Each function takes NumPy arrays (float32 or float64),
rounds them to ``dtype`` ("float32" or "bfloat16") on the device, and returns float32 arrays;
``version`` picks a numbered kernel (0 = the best). In this build they run under the emulator."""

from . import _llmlab
from ._submodule import export

__all__ = export(_llmlab.cuda, globals())
