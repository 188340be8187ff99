"""llmlab — every piece of training a GPT, written twice, for NumPy arrays.

    import llmlab
    llmlab.backends()                      # ['ref', 'emu']
    llmlab.ref.vector_add(a, b)            # the C++ reference, in the dtype of a and b
    llmlab.cuda.vector_add(a, b, dtype="bfloat16", version=1)   # a kernel (emulated here)
    tok = llmlab.Tokenizer.train(text, vocab_size=512)

The C++ lives in the extension module ``llmlab._llmlab`` (python/src/); this package only
arranges it. Errors: bad shapes raise :class:`llmlab.Error` (a ValueError) with the C++
message, bad dtypes raise TypeError, a failed kernel launch raises :class:`llmlab.LaunchError`
(a RuntimeError) carrying the emulator's diagnostic.
"""

from . import _llmlab
from ._arguments import check_methods
from ._llmlab import Error, FastTokenizer, LaunchError, Tokenizer
from . import cuda, emu, ref
from .ref import GPT  # the reference GPT-2 and its training state (python/src/gpt.cpp)

for _cls in (Tokenizer, FastTokenizer):  # a wrong argument raises a TypeError naming it
    check_methods(_cls)

__all__ = ["Error", "FastTokenizer", "GPT", "LaunchError", "Tokenizer", "backends", "cuda", "emu",
           "ref"]


def backends():
    """The backends this build offers: ``"ref"`` (the C++ reference) and ``"emu"`` (the CUDA
    kernels under the emulator). A ``"gpu"`` backend is not built into the Python module yet:
    ``llmlab.cuda`` always runs under the emulator (see python/README.md)."""
    return ["ref", "emu"] if _llmlab.emulated else ["ref", "gpu"]
