"""layernorm: the reference against NumPy, the kernels against the reference in double
under the oracle's rule (forward k = 2, gradients k = 3), and the errors."""

import numpy as np
import pytest

import llmlab
from oracle import FORWARD, GRADIENT, agrees, bound, error


@pytest.fixture
def case(rng):
    x = rng.normal(0.5, 2, (2, 17, 97)).astype(np.float32)
    w = rng.uniform(0.5, 1.5, 97).astype(np.float32)
    b = rng.uniform(-1, 1, 97).astype(np.float32)
    return x, w, b


def np_layernorm(x, w, b, eps=1e-5):
    mean = x.mean(axis=-1)
    rstd = 1 / np.sqrt(((x - mean[..., None]) ** 2).mean(axis=-1) + eps)
    return (x - mean[..., None]) * rstd[..., None] * w + b, mean, rstd


def test_layernorm_reference_agrees_with_numpy(case):
    x, w, b = (a.astype(np.float64) for a in case)
    for got, want in zip(llmlab.ref.layernorm_forward(x, w, b), np_layernorm(x, w, b)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("version", range(llmlab.cuda.layernorm_forward_versions + 1))
def test_layernorm_kernel_forward_within_the_oracle_bound(case, version):
    x, w, b = case
    ref64 = llmlab.ref.layernorm_forward(*(a.astype(np.float64) for a in case))
    ref32 = llmlab.ref.layernorm_forward(x, w, b)
    for got, r32, r64 in zip(llmlab.cuda.layernorm_forward(x, w, b, version=version), ref32, ref64):
        assert got.shape == r64.shape
        agrees(got, r32, r64, FORWARD)


@pytest.mark.parametrize("version", range(llmlab.cuda.layernorm_backward_versions + 1))
def test_layernorm_kernel_backward_within_the_oracle_bound(rng, case, version):
    x, w, b = case
    dy = rng.normal(size=x.shape).astype(np.float32)
    _, mean, rstd = llmlab.ref.layernorm_forward(x, w, b)
    ref64 = llmlab.ref.layernorm_backward(*(a.astype(np.float64) for a in (dy, x, w, mean, rstd)))
    ref32 = llmlab.ref.layernorm_backward(dy, x, w, mean, rstd)
    for got, r32, r64 in zip(llmlab.cuda.layernorm_backward(dy, x, w, mean, rstd, version=version), ref32, ref64):
        agrees(got, r32, r64, GRADIENT)


def test_layernorm_gradient_matches_finite_differences(rng):
    x = rng.normal(size=(1, 2, 7))
    w, b = rng.uniform(0.5, 1.5, 7), rng.uniform(-1, 1, 7)
    dy = rng.normal(size=x.shape)
    dx, dw, db = llmlab.ref.layernorm_backward(dy, x, w, *llmlab.ref.layernorm_forward(x, w, b)[1:])
    h = 1e-6
    e = np.zeros_like(x)
    e[0, 1, 3] = h
    loss = lambda xx: (llmlab.ref.layernorm_forward(xx, w, b)[0] * dy).sum()  # noqa: E731
    assert abs((loss(x + e) - loss(x - e)) / (2 * h) - dx[0, 1, 3]) < 1e-7


def test_layernorm_rule_rejects_a_forgotten_gain(case):
    x, w, b = case
    ref64 = llmlab.ref.layernorm_forward(*(a.astype(np.float64) for a in case))[0]
    wrong = llmlab.cuda.layernorm_forward(x, np.ones_like(w), b)[0]
    assert error(wrong, ref64) > bound(llmlab.ref.layernorm_forward(x, w, b)[0], ref64, FORWARD)


def test_errors(case):
    x, w, b = case
    for m in (llmlab.ref, llmlab.cuda):
        with pytest.raises(llmlab.Error, match="layernorm_forward"):
            m.layernorm_forward(x, w[:5], b)
    with pytest.raises(TypeError, match="layernorm_forward: x must be float32 or float64, got int32"):
        llmlab.ref.layernorm_forward(x.astype(np.int32), w, b)
