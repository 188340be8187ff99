"""gelu (GPT-2's tanh approximation): the reference against NumPy and finite differences, the
kernels against the reference in double under the oracle's rule (forward k = 2, gradients k = 3),
and the errors."""

import math

import numpy as np
import pytest

import llmlab
from oracle import FORWARD, GRADIENT, agrees


def np_gelu(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def test_gelu_reference_agrees_with_numpy(rng):
    x = rng.normal(0, 3, (3, 5, 7))
    np.testing.assert_allclose(llmlab.ref.gelu_forward(x), np_gelu(x), rtol=1e-14, atol=1e-14)
    h = 1e-6
    dx = llmlab.ref.gelu_backward(np.ones_like(x), x)
    np.testing.assert_allclose(dx, (np_gelu(x + h) - np_gelu(x - h)) / (2 * h), atol=1e-8)


@pytest.mark.parametrize("version", range(llmlab.cuda.gelu_versions + 1))
def test_gelu_kernels_within_the_oracle_bound(rng, version):
    x = rng.normal(0, 3, (4, 129)).astype(np.float32)
    dy = rng.normal(size=x.shape).astype(np.float32)
    x64, dy64 = x.astype(np.float64), dy.astype(np.float64)
    agrees(llmlab.cuda.gelu_forward(x, version=version), llmlab.ref.gelu_forward(x), llmlab.ref.gelu_forward(x64),
           FORWARD)
    agrees(llmlab.cuda.gelu_backward(dy, x, version=version), llmlab.ref.gelu_backward(dy, x),
           llmlab.ref.gelu_backward(dy64, x64), GRADIENT)


def test_errors():
    for m in (llmlab.ref, llmlab.cuda):
        with pytest.raises(llmlab.Error, match="gelu_backward"):
            m.gelu_backward(np.zeros(3, np.float32), np.zeros(4, np.float32))
    with pytest.raises(TypeError, match="gelu_forward"):
        llmlab.cuda.gelu_forward(np.zeros(3, np.int16))
