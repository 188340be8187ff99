"""vector_add: the reference against NumPy and PyTorch's golden files, the kernels against the
reference, and the errors."""

import numpy as np
import pytest

import llmlab
from conftest import bf16


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_reference_equals_numpy_in_the_inputs_dtype(rng, dtype):
    a, b = rng.uniform(-1, 1, (2, 97)).astype(dtype)
    c = llmlab.ref.vector_add(a, b)
    assert c.dtype == dtype
    np.testing.assert_array_equal(c, a + b)  # one rounding in the inputs' dtype: exact


def test_reference_in_double_equals_pytorch_golden(golden_dir):
    a = np.load(golden_dir / "vector_add" / "n97_a.npy").astype(np.float64)
    b = np.load(golden_dir / "vector_add" / "n97_b.npy").astype(np.float64)
    out = np.load(golden_dir / "vector_add" / "n97_out.npy")
    np.testing.assert_array_equal(llmlab.ref.vector_add(a, b), out)


@pytest.mark.parametrize("version", range(llmlab.cuda.vector_add_versions + 1))
def test_kernel_float32_equals_reference_float32(rng, version):
    a, b = rng.uniform(-1, 1, (2, 1000)).astype(np.float32)
    np.testing.assert_array_equal(llmlab.cuda.vector_add(a, b, version=version), llmlab.ref.vector_add(a, b))


@pytest.mark.parametrize("version", range(llmlab.cuda.vector_add_versions + 1))
def test_kernel_bfloat16_rounds_inputs_and_sum_once(rng, version):
    a, b = rng.uniform(-1, 1, (2, 1000)).astype(np.float32)
    c = llmlab.cuda.vector_add(a, b, dtype="bfloat16", version=version)
    assert c.dtype == np.float32
    np.testing.assert_array_equal(c, bf16(bf16(a) + bf16(b)))


def test_a_wrong_answer_is_caught(rng):
    # The comparison above can fail: a bf16 result is not the fp32 sum.
    a, b = rng.uniform(-1, 1, (2, 1000)).astype(np.float32)
    assert not np.array_equal(llmlab.cuda.vector_add(a, b, dtype="bfloat16"), a + b)


def test_lengths_that_differ_raise_naming_both_shapes():
    with pytest.raises(llmlab.Error, match=r"vector_add: a is \(3\) but b is \(4\)"):
        llmlab.ref.vector_add(np.zeros(3), np.zeros(4))
    with pytest.raises(llmlab.Error, match=r"vector_add: a is \(3\) but b is \(4\)"):
        llmlab.cuda.vector_add(np.zeros(3, np.float32), np.zeros(4, np.float32))


def test_wrong_dtypes_and_ranks_raise():
    with pytest.raises(TypeError, match="vector_add: a must be float32 or float64, got int64"):
        llmlab.ref.vector_add(np.zeros(3, np.int64), np.zeros(3, np.int64))
    with pytest.raises(TypeError, match="b is float32 but a is float64"):
        llmlab.ref.vector_add(np.zeros(3), np.zeros(3, np.float32))
    with pytest.raises(TypeError, match="vector_add: a must be float32 or float64, got int32"):
        llmlab.cuda.vector_add(np.zeros(3, np.int32), np.zeros(3, np.int32))
    with pytest.raises(llmlab.Error, match=r"vector_add: a must have 1 axes, got shape \(2, 3\)"):
        llmlab.ref.vector_add(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match='dtype must be "float32" or "bfloat16", got "float16"'):
        llmlab.cuda.vector_add(np.zeros(3, np.float32), np.zeros(3, np.float32), dtype="float16")


def test_a_version_out_of_range_raises_the_launchers_error():
    with pytest.raises(llmlab.Error, match="version"):
        llmlab.cuda.vector_add(np.zeros(3, np.float32), np.zeros(3, np.float32), version=99)
