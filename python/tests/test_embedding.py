"""embedding: lookups are exact (data movement): the reference equals NumPy's indexing, the kernels
equal the reference in float; the backward sums rows back; bad ids and shapes raise."""

import numpy as np
import pytest

import llmlab
from conftest import bf16

B, T, C, V, MAXT = 2, 17, 12, 50, 20


@pytest.fixture
def case(rng):
    ids = rng.integers(0, V, (B, T))
    wte = rng.uniform(-1, 1, (V, C)).astype(np.float32)
    wpe = rng.uniform(-1, 1, (MAXT, C)).astype(np.float32)
    return ids, wte, wpe


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_reference_forward_equals_numpy_indexing(case, dtype):
    ids, wte, wpe = case
    out = llmlab.ref.embedding_forward(ids, wte.astype(dtype), wpe.astype(dtype))
    assert out.dtype == dtype and out.shape == (B, T, C)
    np.testing.assert_array_equal(out, wte.astype(dtype)[ids] + wpe.astype(dtype)[:T])


@pytest.mark.parametrize("version", range(llmlab.cuda.embedding_forward_versions + 1))
def test_kernel_forward_equals_reference_exactly(case, version):
    ids, wte, wpe = case
    np.testing.assert_array_equal(llmlab.cuda.embedding_forward(ids.astype(np.int32), wte, wpe, version=version),
                                  llmlab.ref.embedding_forward(ids, wte, wpe))
    out_bf16 = llmlab.cuda.embedding_forward(ids, wte, wpe, dtype="bfloat16", version=version)
    np.testing.assert_array_equal(out_bf16, bf16(bf16(wte)[ids] + bf16(wpe)[:T]))


@pytest.mark.parametrize("version", range(llmlab.cuda.embedding_backward_versions + 1))
def test_backward_sums_each_row_back_to_its_token_and_position(rng, case, version):
    ids, _, _ = case
    dout = rng.uniform(-1, 1, (B, T, C)).astype(np.float32)
    want_wte = np.zeros((V, C))
    np.add.at(want_wte, ids, dout.astype(np.float64))
    want_wpe = np.zeros((MAXT, C))
    want_wpe[:T] = dout.astype(np.float64).sum(axis=0)
    dwte64, dwpe64 = llmlab.ref.embedding_backward(dout.astype(np.float64), ids, V, MAXT)
    np.testing.assert_allclose(dwte64, want_wte, rtol=0, atol=1e-14)
    np.testing.assert_allclose(dwpe64, want_wpe, rtol=0, atol=1e-14)
    # The kernels sum in the reference's order: equal to the reference in float, bit for bit.
    dwte32, dwpe32 = llmlab.ref.embedding_backward(dout, ids, V, MAXT)
    dwte, dwpe = llmlab.cuda.embedding_backward(dout, ids, V, MAXT, version=version)
    np.testing.assert_array_equal(dwte, dwte32)
    np.testing.assert_array_equal(dwpe, dwpe32)


def test_a_wrong_lookup_is_caught(case):
    ids, wte, wpe = case
    shifted = llmlab.cuda.embedding_forward((ids + 1) % V, wte, wpe)
    assert not np.array_equal(shifted, llmlab.ref.embedding_forward(ids, wte, wpe))


def test_errors(case):
    ids, wte, wpe = case
    bad = ids.copy()
    bad[1, 3] = V
    for f in (llmlab.ref.embedding_forward, llmlab.cuda.embedding_forward):
        with pytest.raises(llmlab.Error, match=r"\[1, 3\]"):
            f(bad, wte, wpe)
        with pytest.raises(llmlab.Error, match="embedding_forward"):
            f(ids, wte, wpe[:, :5])
        with pytest.raises(TypeError, match="ids must be integers, got float64"):
            f(ids.astype(np.float64), wte, wpe)
    with pytest.raises(llmlab.Error, match="ids holds 4294967296, outside int32"):
        llmlab.ref.embedding_forward(np.full((1, 1), 2**32), wte, wpe)
    with pytest.raises(llmlab.Error, match=r"embedding_forward"):
        llmlab.ref.embedding_forward(ids, wte, wpe[:10])  # T = 17 > maxT = 10
