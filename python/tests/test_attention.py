"""attention: the reference against PyTorch's golden files and against NumPy's math, every kernel
version against the reference in double under the oracle's rule (k = 2 for out and lse, 3 for the
gradients), and the errors naming the argument. (PyTorch is not in the venv: the golden files are
its answers.)"""

import numpy as np
import pytest

import llmlab
from conftest import bf16


def np_attention(q, k, v, causal):
    """NumPy's softmax(q k^T / sqrt(D), mask) v and logsumexp, q, k, v (B, H, T, D)."""
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if causal:
        T = q.shape[2]
        s = np.where(np.triu(np.ones((T, T), bool), 1), -np.inf, s)
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - m)
    return (e / e.sum(axis=-1, keepdims=True)) @ v, (m + np.log(e.sum(axis=-1, keepdims=True)))[..., 0]


def bound(ref32, ref64, k):
    """k · max|ref32 − ref64| + a floor of 4 float32 ulps at max|ref64| (the oracle's ratio rule)."""
    return k * np.abs(ref32 - ref64).max() + 4 * np.finfo(np.float32).eps * np.abs(ref64).max()


def golden_cases(golden_dir):
    folder = golden_dir / "attention"
    return sorted(p.name[: -len("_out.npy")] for p in folder.glob("*_out.npy"))


def test_reference_matches_the_golden_files(golden_dir):
    folder = golden_dir / "attention"
    cases = golden_cases(golden_dir)
    assert len(cases) == 4
    for case in cases:
        load = lambda name: np.load(folder / f"{case}_{name}.npy")  # noqa: E731
        causal = case.endswith("_c1")
        q, k, v, dout = (load(n).astype(np.float64) for n in ("q", "k", "v", "dout"))
        out, lse = llmlab.ref.attention_forward(q, k, v, causal=causal)
        dq, dk, dv = llmlab.ref.attention_backward(dout, q, k, v, out, lse, causal=causal)
        for name, got in [("out", out), ("lse", lse), ("dq", dq), ("dk", dk), ("dv", dv)]:
            want = load(name)
            assert np.abs(got - want).max() <= 1e-10 * np.abs(want).max(), (case, name)


@pytest.mark.parametrize("causal", [True, False])
def test_reference_agrees_with_numpy(rng, causal):
    q, k, v = (rng.normal(size=(2, 3, 17, 8)) for _ in range(3))
    out, lse = llmlab.ref.attention_forward(q, k, v, causal=causal)
    want_out, want_lse = np_attention(q, k, v, causal)
    np.testing.assert_allclose(out, want_out, rtol=0, atol=1e-13)
    np.testing.assert_allclose(lse, want_lse, rtol=0, atol=1e-13)


def case(rng, shape=(1, 2, 97, 16), scale=1.0):
    q, k = (rng.uniform(-scale, scale, shape).astype(np.float32) for _ in range(2))
    v, dout = (rng.uniform(-1, 1, shape).astype(np.float32) for _ in range(2))
    return q, k, v, dout


@pytest.mark.parametrize("version", range(llmlab.cuda.attention_forward_versions + 1))
@pytest.mark.parametrize("causal", [True, False])
def test_kernel_forward_within_the_oracle_bound(rng, version, causal):
    q, k, v, _ = case(rng)
    ref64 = llmlab.ref.attention_forward(*(a.astype(np.float64) for a in (q, k, v)), causal=causal)
    ref32 = llmlab.ref.attention_forward(q, k, v, causal=causal)
    got = llmlab.cuda.attention_forward(q, k, v, causal=causal, version=version)
    for g, r32, r64 in zip(got, ref32, ref64):
        assert np.abs(g - r64).max() <= bound(r32, r64, 2)


@pytest.mark.parametrize("version", range(llmlab.cuda.attention_backward_versions + 1))
def test_kernel_backward_within_the_oracle_bound(rng, version):
    q, k, v, dout = case(rng, (2, 1, 65, 32))
    out, lse = llmlab.ref.attention_forward(*(a.astype(np.float64) for a in (q, k, v)))
    out, lse = out.astype(np.float32), lse.astype(np.float32)
    ref64 = llmlab.ref.attention_backward(*(a.astype(np.float64) for a in (dout, q, k, v, out, lse)))
    ref32 = llmlab.ref.attention_backward(dout, q, k, v, out, lse)
    got = llmlab.cuda.attention_backward(dout, q, k, v, out, lse, version=version)
    for g, r32, r64 in zip(got, ref32, ref64):
        assert np.abs(g - r64).max() <= bound(r32, r64, 3)


def test_kernel_bfloat16_outputs_are_bf16_values_and_lse_is_fp32(rng):
    q, k, v, _ = case(rng, (1, 1, 33, 16))
    out, lse = llmlab.cuda.attention_forward(q, k, v, dtype="bfloat16")
    np.testing.assert_array_equal(out, bf16(out))
    want_out, want_lse = np_attention(*(bf16(a).astype(np.float64) for a in (q, k, v)), True)
    np.testing.assert_allclose(out, want_out, rtol=0, atol=2**-7)
    np.testing.assert_allclose(lse, want_lse, rtol=0, atol=1e-5)


def test_the_bound_rejects_attention_that_ignores_the_mask(rng):
    q, k, v, _ = case(rng)
    ref64, _ = llmlab.ref.attention_forward(*(a.astype(np.float64) for a in (q, k, v)))
    ref32, _ = llmlab.ref.attention_forward(q, k, v)
    wrong, _ = llmlab.cuda.attention_forward(q, k, v, causal=False)  # sees the future
    assert np.abs(wrong - ref64).max() > bound(ref32, ref64, 2)


def test_errors():
    x = np.zeros((1, 2, 3, 4), np.float32)
    with pytest.raises(llmlab.Error, match=r"attention_forward: k is \(1, 2, 3, 5\) but q is"):
        llmlab.cuda.attention_forward(x, np.zeros((1, 2, 3, 5), np.float32), x)
    with pytest.raises(llmlab.Error, match=r"attention_forward: v is \(1, 2, 3, 5\) but q is"):
        llmlab.ref.attention_forward(x, x, np.zeros((1, 2, 3, 5), np.float32))
    with pytest.raises(llmlab.Error, match="attention_forward: D = 129 exceeds the supported"):
        y = np.zeros((1, 1, 2, 129), np.float32)
        llmlab.cuda.attention_forward(y, y, y)
    with pytest.raises(llmlab.Error, match="attention_forward.*T = 0"):
        y = np.zeros((1, 1, 0, 4), np.float32)
        llmlab.cuda.attention_forward(y, y, y)
    with pytest.raises(llmlab.Error, match=r"attention_backward: lse is \(1, 2\)"):
        llmlab.cuda.attention_backward(x, x, x, x, x, np.zeros((1, 2), np.float32))
    with pytest.raises(llmlab.Error, match="q must have 4 axes"):
        llmlab.cuda.attention_forward(x[0], x[0], x[0])


def test_the_emulator_counts_the_workspace_naive_grows_like_t_squared(rng):
    def workspace(T, version):
        q, k, v, dout = case(rng, (1, 2, T, 16))
        llmlab.emu.reset_memory_counters()
        llmlab.cuda.attention_forward(q, k, v, version=version)
        return llmlab.emu.memory_counters()["allocated_bytes"]

    # The binding's own copies of q, k, v, out and lse count too: 5 arrays linear in T.
    linear = lambda T: (4 * 2 * T * 16 + 2 * T) * 4  # noqa: E731
    assert workspace(64, 2) == linear(64)  # flash: nothing besides the arrays themselves
    assert workspace(64, 1) == linear(64) + 2 * 64 * 64 * 4  # naive: + the B·H·T·T scores
