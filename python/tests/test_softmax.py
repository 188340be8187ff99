"""softmax: the reference against NumPy, every kernel version against the reference in double
under the oracle's rule (k = 2 forward, 3 backward), and the errors."""

import numpy as np
import pytest

import llmlab
from conftest import bf16


def np_softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def bound(ref32, ref64, k):
    """k · max|ref32 − ref64| + a floor of 4 float32 ulps at max|ref64| (the oracle's ratio rule)."""
    return k * np.abs(ref32 - ref64).max() + 4 * np.finfo(np.float32).eps * np.abs(ref64).max()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_reference_forward_and_backward_agree_with_numpy(rng, dtype):
    x = rng.normal(0, 3, (2, 5, 97)).astype(dtype)
    y = llmlab.ref.softmax_forward(x)
    assert y.dtype == dtype and y.shape == x.shape
    tol = 1e-14 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(y, np_softmax(x), rtol=0, atol=tol)
    dy = rng.normal(size=x.shape).astype(dtype)
    dx = llmlab.ref.softmax_backward(dy, y)
    np.testing.assert_allclose(dx, y * (dy - (dy * y).sum(axis=-1, keepdims=True)), rtol=0, atol=tol * 10)


@pytest.mark.parametrize("version", range(llmlab.cuda.softmax_forward_versions + 1))
@pytest.mark.parametrize("shape", [(1, 1), (3, 17), (2, 4, 129)])
def test_kernel_forward_within_the_oracle_bound(rng, version, shape):
    x = rng.normal(0, 3, shape).astype(np.float32)
    ref64 = llmlab.ref.softmax_forward(x.astype(np.float64))
    err = np.abs(llmlab.cuda.softmax_forward(x, version=version) - ref64).max()
    assert err <= bound(llmlab.ref.softmax_forward(x), ref64, 2)


@pytest.mark.parametrize("version", range(llmlab.cuda.softmax_backward_versions + 1))
def test_kernel_backward_within_the_oracle_bound(rng, version):
    x = rng.normal(0, 3, (3, 97)).astype(np.float32)
    dy = rng.normal(size=x.shape).astype(np.float32)
    y32 = llmlab.ref.softmax_forward(x)
    ref64 = llmlab.ref.softmax_backward(dy.astype(np.float64), y32.astype(np.float64))
    err = np.abs(llmlab.cuda.softmax_backward(dy, y32, version=version) - ref64).max()
    assert err <= bound(llmlab.ref.softmax_backward(dy, y32), ref64, 3)


def test_kernel_bfloat16_rows_sum_to_one_within_bf16_rounding(rng):
    x = rng.normal(0, 3, (4, 97)).astype(np.float32)
    y = llmlab.cuda.softmax_forward(x, dtype="bfloat16")
    np.testing.assert_array_equal(y, bf16(y))  # every output is a bf16 value
    np.testing.assert_allclose(y.sum(axis=-1), 1, atol=97 * 2**-8)


def test_the_bound_rejects_a_wrong_softmax(rng):
    x = rng.normal(0, 3, (3, 17)).astype(np.float32)
    ref64 = llmlab.ref.softmax_forward(x.astype(np.float64))
    wrong = llmlab.cuda.softmax_forward(x[:, ::-1].copy())  # rows reversed
    assert np.abs(wrong - ref64).max() > bound(llmlab.ref.softmax_forward(x), ref64, 2)


def test_errors():
    with pytest.raises(llmlab.Error, match="softmax_forward"):
        llmlab.ref.softmax_forward(np.zeros((2, 0)))
    with pytest.raises(llmlab.Error, match=r"softmax_backward: dy is \(2, 3\) but y is \(2, 4\)"):
        llmlab.cuda.softmax_backward(np.zeros((2, 3), np.float32), np.zeros((2, 4), np.float32))
    with pytest.raises(llmlab.Error, match="softmax_backward"):
        llmlab.ref.softmax_backward(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(TypeError, match="softmax_forward: x must be float32 or float64, got int64"):
        llmlab.cuda.softmax_forward(np.zeros((2, 3), np.int64))
