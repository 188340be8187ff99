"""reduce_sum: the reference against NumPy and PyTorch's golden files, every kernel version
against the reference in double under the oracle's rule."""

import numpy as np
import pytest

import llmlab
from conftest import bf16


def oracle_bound(x32, k=2.0):
    """The oracle's rule: k · max|ref32 − ref64| + a floor of a few ulps of max_r Σ_c |x_rc|."""
    ref64 = llmlab.ref.reduce_sum(x32.astype(np.float64))
    ref32 = llmlab.ref.reduce_sum(x32)
    floor = 4 * np.finfo(np.float32).eps * np.abs(x32.astype(np.float64)).sum(axis=1).max()
    return ref64, k * np.abs(ref32 - ref64).max() + floor


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_reference_agrees_with_numpy(rng, dtype):
    x = rng.uniform(-1, 1, (5, 97)).astype(dtype)
    out = llmlab.ref.reduce_sum(x)
    assert out.dtype == dtype and out.shape == (5,)
    np.testing.assert_allclose(out, x.astype(np.float64).sum(axis=1), rtol=0, atol=97 * np.finfo(dtype).eps)


def test_reference_in_double_agrees_with_pytorch_golden(golden_dir):
    x = np.load(golden_dir / "reduce_sum" / "r5_c97_x.npy").astype(np.float64)
    out = np.load(golden_dir / "reduce_sum" / "r5_c97_out.npy")
    np.testing.assert_allclose(llmlab.ref.reduce_sum(x), out, rtol=1e-10, atol=0)


@pytest.mark.parametrize("version", range(llmlab.cuda.reduce_sum_versions + 1))
@pytest.mark.parametrize("shape", [(1, 1), (3, 17), (2, 1000)])
def test_kernel_float32_within_the_oracle_bound(rng, version, shape):
    x = rng.uniform(-1, 1, shape).astype(np.float32)
    ref64, bound = oracle_bound(x)
    err = np.abs(llmlab.cuda.reduce_sum(x, version=version) - ref64).max()
    assert err <= bound, f"max error {err:.3g} > bound {bound:.3g}"


@pytest.mark.parametrize("version", range(llmlab.cuda.reduce_sum_versions + 1))
def test_kernel_bfloat16_sums_the_rounded_inputs(rng, version):
    x = rng.uniform(-1, 1, (3, 97)).astype(np.float32)
    xb = bf16(x)
    ref64, bound = oracle_bound(xb)
    err = np.abs(llmlab.cuda.reduce_sum(x, dtype="bfloat16", version=version) - ref64).max()
    assert err <= bound


def test_the_bound_rejects_a_wrong_sum(rng):
    x = rng.uniform(-1, 1, (3, 97)).astype(np.float32)
    ref64, bound = oracle_bound(x)
    wrong = llmlab.cuda.reduce_sum(x[:, :-1].copy())  # one column short
    assert np.abs(wrong - ref64).max() > bound


def test_wrong_rank_and_dtype_raise():
    with pytest.raises(llmlab.Error, match=r"reduce_sum: x must have 2 axes, got shape \(4\)"):
        llmlab.ref.reduce_sum(np.zeros(4))
    with pytest.raises(llmlab.Error, match=r"reduce_sum: x must have 2 axes"):
        llmlab.cuda.reduce_sum(np.zeros(4, np.float32))
    with pytest.raises(TypeError, match="reduce_sum: x must be float32 or float64, got bool"):
        llmlab.cuda.reduce_sum(np.zeros((2, 2), bool))
