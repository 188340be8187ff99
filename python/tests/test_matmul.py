"""matmul: y = x Wᵀ + b. The reference against NumPy, every kernel version against the reference
in double under the oracle's rule (fp32 and bf16 inputs), a wrong answer the rule rejects, errors."""

import numpy as np
import pytest

import llmlab
from conftest import bf16
from oracle import FORWARD, GRADIENT, agrees, bound, error

VERSIONS = range(llmlab.cuda.matmul_versions + 1)


@pytest.fixture
def case(rng):
    x = rng.uniform(-1, 1, (2, 17, 33)).astype(np.float32)  # (B, T, in): no tile fits
    w = rng.uniform(-1, 1, (19, 33)).astype(np.float32)     # (out, in)
    b = rng.uniform(-1, 1, 19).astype(np.float32)
    return x, w, b


def test_reference_agrees_with_numpy(case):
    x, w, b = (a.astype(np.float64) for a in case)
    np.testing.assert_allclose(llmlab.ref.matmul_forward(x, w, b), x @ w.T + b, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(llmlab.ref.matmul_forward(x, w), x @ w.T, rtol=1e-13, atol=1e-13)
    dy = np.ones((2, 17, 19))
    dx, dw, db = llmlab.ref.matmul_backward(dy, x, w)
    np.testing.assert_allclose(dx, dy @ w, rtol=1e-13)
    np.testing.assert_allclose(dw, dy.reshape(-1, 19).T @ x.reshape(-1, 33), rtol=1e-13)
    np.testing.assert_allclose(db, dy.sum(axis=(0, 1)), rtol=1e-13)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_kernel_forward_within_the_oracle_bound(case, version, dtype):
    x, w, b = case
    if dtype == "bfloat16":  # judged on the inputs it actually saw, against a bf16-rounded baseline
        x, w, b = bf16(x), bf16(w), bf16(b)
    ref64 = llmlab.ref.matmul_forward(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64))
    ref32 = llmlab.ref.matmul_forward(x, w, b)
    if dtype == "bfloat16":
        ref32 = bf16(ref32)
    agrees(llmlab.cuda.matmul_forward(x, w, b, dtype=dtype, version=version), ref32, ref64, FORWARD)


@pytest.mark.parametrize("version", VERSIONS)
def test_kernel_backward_within_the_oracle_bound(rng, case, version):
    x, w, _ = case
    dy = rng.uniform(-1, 1, (2, 17, 19)).astype(np.float32)
    ref64 = llmlab.ref.matmul_backward(dy.astype(np.float64), x.astype(np.float64), w.astype(np.float64))
    ref32 = llmlab.ref.matmul_backward(dy, x, w)
    got = llmlab.cuda.matmul_backward(dy, x, w, version=version)
    for g, r32, r64 in zip(got, ref32, ref64):
        assert g.shape == r64.shape
        agrees(g, r32, r64, GRADIENT)


def test_the_rule_rejects_a_transposed_weight(rng):
    x = rng.uniform(-1, 1, (5, 16)).astype(np.float32)
    w = rng.uniform(-1, 1, (16, 16)).astype(np.float32)
    ref64 = llmlab.ref.matmul_forward(x.astype(np.float64), w.astype(np.float64))
    wrong = llmlab.cuda.matmul_forward(x, np.ascontiguousarray(w.T))
    assert error(wrong, ref64) > bound(llmlab.ref.matmul_forward(x, w), ref64, FORWARD)


def test_errors(case):
    x, w, b = case
    for m in (llmlab.ref, llmlab.cuda):
        with pytest.raises(llmlab.Error, match="matmul_forward"):
            m.matmul_forward(x, w[:, :5])
        with pytest.raises(llmlab.Error, match="matmul_forward"):
            m.matmul_forward(x, w, b[:3])
        with pytest.raises(llmlab.Error, match="matmul_backward"):
            m.matmul_backward(np.zeros((2, 17, 4), np.float32), x, w)
    with pytest.raises(TypeError, match="w is float64 but x is float32"):
        llmlab.ref.matmul_forward(x, w.astype(np.float64))
    with pytest.raises(TypeError, match="matmul_forward: x must be float32 or float64, got int64"):
        llmlab.cuda.matmul_forward(x.astype(np.int64), w)
