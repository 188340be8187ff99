"""Shared fixtures: the seeded generator, paths to GPT-2's vocabulary and the golden files.

Run by ctest (python_test, label python) with PYTHONPATH set to the build's python/ folder, or by
hand:  PYTHONPATH=build/default/python .venv/bin/python -m pytest python/tests
"""

import os
import pathlib

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def rng():
    return np.random.default_rng(20261129)


@pytest.fixture(scope="session")
def gpt2_vocab():
    path = pathlib.Path(os.environ.get("LLMLAB_GPT2_VOCAB", REPO / "vocab" / "gpt2.tiktoken"))
    if not path.exists():
        pytest.fail(f"{path} is missing: run scripts/setup.sh (it downloads GPT-2's vocabulary)")
    return path


@pytest.fixture(scope="session")
def golden_dir():
    return pathlib.Path(os.environ.get("LLMLAB_GOLDEN_DIR", REPO / "tests" / "golden"))


def bf16(x):
    """x (float32) rounded to the nearest bfloat16, ties to even — NumPy's own rounding of the bits,
    independent of llmlab's C++ helper."""
    u = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return u.astype(np.uint32).view(np.float32)
