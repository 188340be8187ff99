"""cross_entropy: the reference against PyTorch's golden files and NumPy, every kernel version
against the reference in double under the oracle's rule (k = 2 forward, 3 backward), targets as
int32 or int64, ignored targets, and the errors for bad targets."""

import numpy as np
import pytest

import llmlab
from oracle import FORWARD, GRADIENT, agrees


def load(golden_dir, case, what):
    return np.load(golden_dir / "cross_entropy" / f"{case}_{what}.npy")


CASES = ["b2_t3_v1", "b3_t2_v2", "b2_t5_v97_ignore", "b1_t4_v97_x1000", "b1_t3_v97_unlikely"]


@pytest.mark.parametrize("case", CASES)
def test_reference_in_double_matches_pytorch(golden_dir, case):
    x = load(golden_dir, case, "logits").astype(np.float64)
    y = load(golden_dir, case, "targets")
    dl = load(golden_dir, case, "dlosses").astype(np.float64)
    losses = llmlab.ref.cross_entropy_forward(x, y)
    scale = max(1.0, np.abs(load(golden_dir, case, "out")).max())
    np.testing.assert_allclose(losses, load(golden_dir, case, "out"), rtol=0, atol=1e-10 * scale)
    mean = llmlab.ref.cross_entropy_mean(losses, y)
    np.testing.assert_allclose(mean, load(golden_dir, case, "mean")[0], rtol=1e-12)
    dlogits = llmlab.ref.cross_entropy_backward(x, y, dl)
    np.testing.assert_allclose(dlogits, load(golden_dir, case, "dlogits"), rtol=0, atol=1e-12)


def test_reference_agrees_with_numpy_and_perplexity_of_a_uniform_guess_is_v(rng):
    x = rng.normal(0, 3, (2, 5, 97))
    y = rng.integers(0, 97, (2, 5))
    m = x.max(axis=-1, keepdims=True)
    lse = (m + np.log(np.exp(x - m).sum(axis=-1, keepdims=True)))[..., 0]
    np.testing.assert_allclose(llmlab.ref.logsumexp(x), lse, rtol=1e-14)
    want = lse - np.take_along_axis(x, y[..., None], axis=-1)[..., 0]
    np.testing.assert_allclose(llmlab.ref.cross_entropy_forward(x, y), want, rtol=1e-13)
    uniform = llmlab.ref.cross_entropy_forward(np.zeros((1, 4, 97)), y[:1, :4])
    ppl = llmlab.ref.perplexity(llmlab.ref.cross_entropy_mean(uniform, y[:1, :4]))
    assert ppl == pytest.approx(97, rel=1e-13)


def case(rng, B, T, V, scale, dtype=np.float32):
    x = (rng.uniform(-scale, scale, (B, T, V))).astype(dtype)
    y = rng.integers(0, V, (B, T))
    y[0, 0] = -100  # one ignored target in every case
    return x, y


@pytest.mark.parametrize("version", range(llmlab.cuda.cross_entropy_forward_versions + 1))
@pytest.mark.parametrize("shape", [(2, 3, 1, 1.0), (3, 17, 97, 4.0), (1, 3, 1025, 1000.0)])
def test_kernel_forward_within_the_oracle_bound(rng, version, shape):
    x, y = case(rng, *shape)
    ref64 = llmlab.ref.cross_entropy_forward(x.astype(np.float64), y)
    got = llmlab.cuda.cross_entropy_forward(x, y, version=version)
    assert got.shape == y.shape and got.dtype == np.float32 and got[0, 0] == 0
    agrees(got, llmlab.ref.cross_entropy_forward(x, y), ref64, FORWARD)


@pytest.mark.parametrize("version", range(llmlab.cuda.cross_entropy_backward_versions + 1))
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_kernel_backward_within_the_oracle_bound(rng, version, dtype):
    x, y = case(rng, 3, 5, 97, 4.0)
    if dtype == "bfloat16":  # both references start from the kernel's own bf16 logits
        from conftest import bf16
        x = bf16(x)
    dl = rng.uniform(-1, 1, y.shape).astype(np.float32)
    ref64 = llmlab.ref.cross_entropy_backward(x.astype(np.float64), y, dl.astype(np.float64))
    ref32 = llmlab.ref.cross_entropy_backward(x, y, dl)
    if dtype == "bfloat16":
        ref32 = bf16(ref32)
    got = llmlab.cuda.cross_entropy_backward(x, y, dl, dtype=dtype, version=version)
    assert got.shape == x.shape and not got[0, 0].any()  # the ignored row has no gradient
    agrees(got, ref32, ref64, GRADIENT)


@pytest.mark.parametrize("int_dtype", [np.int32, np.int64])
def test_targets_may_be_int32_or_int64(rng, int_dtype):
    x, y = case(rng, 2, 3, 17, 2.0)
    want = llmlab.ref.cross_entropy_forward(x, y.astype(np.int64))
    np.testing.assert_array_equal(llmlab.ref.cross_entropy_forward(x, y.astype(int_dtype)), want)
    np.testing.assert_allclose(llmlab.cuda.cross_entropy_forward(x, y.astype(int_dtype)), want,
                               rtol=1e-6)


@pytest.mark.parametrize("fn", [llmlab.ref.cross_entropy_forward,
                                llmlab.cuda.cross_entropy_forward])
def test_a_target_outside_the_vocabulary_is_an_error_naming_position_and_value(rng, fn):
    x, y = case(rng, 2, 3, 5, 1.0)
    y[0, 0] = 0
    y[1, 2] = 5
    with pytest.raises(llmlab.Error, match=r"targets\[1, 2\] = 5 is outside \[0, V = 5\)"):
        fn(x, y)
    y[1, 2] = -1
    with pytest.raises(llmlab.Error, match=r"targets\[1, 2\] = -1"):
        fn(x, y)
    assert fn(x, y, ignore_index=-1)[1, 2] == 0  # unless -1 is this call's ignore_index
