"""residual: the reference against NumPy and PyTorch's golden files, the kernels against the
reference (exact: one rounding per element), the backward's two gradients, and the errors."""

import numpy as np
import pytest

import llmlab
from conftest import bf16


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_reference_forward_equals_numpy_in_the_inputs_dtype(rng, dtype):
    a, b = rng.uniform(-1, 1, (2, 3, 5, 17)).astype(dtype)
    out = llmlab.ref.residual_forward(a, b)
    assert out.dtype == dtype and out.shape == a.shape
    np.testing.assert_array_equal(out, a + b)


def test_reference_in_double_equals_pytorch_golden(golden_dir):
    d = golden_dir / "residual"
    a = np.load(d / "b2_t3_c17_a.npy").astype(np.float64)
    b = np.load(d / "b2_t3_c17_b.npy").astype(np.float64)
    np.testing.assert_array_equal(llmlab.ref.residual_forward(a, b), np.load(d / "b2_t3_c17_out.npy"))


def test_reference_backward_passes_dout_to_both_inputs(rng):
    dout = rng.uniform(-1, 1, (4, 97))
    da, db = llmlab.ref.residual_backward(dout)
    np.testing.assert_array_equal(da, dout)
    np.testing.assert_array_equal(db, dout)


def test_kernel_float32_equals_reference_exactly(rng):
    a, b = rng.uniform(-1, 1, (2, 4, 1025)).astype(np.float32)
    np.testing.assert_array_equal(llmlab.cuda.residual_forward(a, b), llmlab.ref.residual_forward(a, b))
    da, db = llmlab.cuda.residual_backward(a)
    np.testing.assert_array_equal(da, a)
    np.testing.assert_array_equal(db, a)


def test_kernel_bfloat16_rounds_inputs_and_sum_once(rng):
    a, b = rng.uniform(-1, 1, (2, 1000)).astype(np.float32)
    out = llmlab.cuda.residual_forward(a, b, dtype="bfloat16")
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, bf16(bf16(a) + bf16(b)))


def test_a_wrong_answer_is_caught(rng):
    a, b = rng.uniform(-1, 1, (2, 97)).astype(np.float32)
    out = llmlab.cuda.residual_forward(a, b)
    out[-1] += np.float32(1e-6)  # one element off by far less than its size
    with pytest.raises(AssertionError):
        np.testing.assert_array_equal(out, llmlab.ref.residual_forward(a, b))


def test_mismatched_shapes_and_dtypes_raise_naming_them(rng):
    a = rng.uniform(-1, 1, (2, 3)).astype(np.float32)
    with pytest.raises(llmlab.Error, match=r"residual_forward.*\(2, 3\).*\(3, 2\)"):
        llmlab.cuda.residual_forward(a, a.reshape(3, 2))
    with pytest.raises(TypeError, match="residual_forward"):
        llmlab.ref.residual_forward(a, a.astype(np.float64))
    with pytest.raises(ValueError, match="bfloat8"):
        llmlab.cuda.residual_forward(a, a, dtype="bfloat8")
