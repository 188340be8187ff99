"""The optimizer: the reference's SGD, Adam, AdamW, clip_grad_norm and lr_at against torch.optim's
golden files (tests/golden/optimizer, made by make_golden.py's optimizer(); the venv has no torch),
the reference against a NumPy transcription of AdamW, the fused CUDA AdamW and the two-stage
global norm against the reference under the oracle's ratio rule, and the errors."""

import math

import numpy as np
import pytest

import llmlab
from oracle import FORWARD, agrees


def load(golden_dir, name):
    return np.load(golden_dir / "optimizer" / f"{name}.npy")


def run_golden(golden_dir, config):
    """The golden problem (g = c (p - a) + s cos(w t)) for 1,000 steps through llmlab.ref in
    float64: the parameters after steps 1, 10, 100, 1000, as <config>_out.npy."""
    sizes = load(golden_dir, "problem_sizes")
    p0, c, a, s, w = (load(golden_dir, f"problem_{k}").astype(np.float64) for k in "p0 c a s w".split())
    lr, momentum, dampening, wd, nesterov, beta1, beta2, eps = load(golden_dir, f"{config}_hyper")
    cuts = np.cumsum(sizes)[:-1]
    params = np.split(p0.copy(), cuts)
    state = [[np.zeros_like(p), np.zeros_like(p)] for p in params]
    out = []
    for t in range(1, 1001):
        g = np.split(c * (np.concatenate(params) - a) + s * np.cos(w * t), cuts)
        for k in range(len(params)):
            if config.startswith("sgd"):
                params[k], state[k][0] = llmlab.ref.sgd_step(
                    params[k], g[k], state[k][0], t, lr=lr, momentum=momentum,
                    dampening=dampening, weight_decay=wd, nesterov=bool(nesterov))
            else:
                step = llmlab.ref.adamw_step if config.startswith("adamw") else llmlab.ref.adam_step
                params[k], state[k][0], state[k][1] = step(
                    params[k], g[k], state[k][0], state[k][1], t, lr=lr, beta1=beta1,
                    beta2=beta2, eps=eps, weight_decay=wd)
        if t in (1, 10, 100, 1000):
            out.append(np.concatenate(params))
    return np.stack(out)


@pytest.mark.parametrize("config", ["sgd", "sgd_momentum_dampening_wd", "sgd_nesterov_wd",
                                    "adam_wd", "adamw", "adamw_wd"])
def test_reference_matches_torch_optim_over_1000_steps(golden_dir, config):
    # double against float64 torch, the same grouping: measured ≤ 2.3e-16 (tests/optimizer_test)
    np.testing.assert_allclose(run_golden(golden_dir, config), load(golden_dir, f"{config}_out"),
                               rtol=0, atol=1e-13)


def test_clip_and_schedule_match_torch(golden_dir):
    sizes = load(golden_dir, "clip_sizes")
    g = np.split(load(golden_dir, "clip_g").astype(np.float64), np.cumsum(sizes)[:-1])
    for max_norm in (1.0, 10.0):
        norm, clipped = llmlab.ref.clip_grad_norm([g[0], g[1], None, g[2]], max_norm)
        assert clipped[2] is None  # the frozen tensor stays without a gradient
        assert norm == pytest.approx(load(golden_dir, f"clip_max{max_norm:g}_norm")[0], rel=1e-14)
        np.testing.assert_allclose(np.concatenate([clipped[0], clipped[1], clipped[3]]),
                                   load(golden_dir, f"clip_max{max_norm:g}_out"), rtol=1e-14)
    max_lr, min_lr, warmup, total = load(golden_dir, "schedule_hyper")
    got = [llmlab.ref.lr_at(int(s), max_lr, min_lr, int(warmup), int(total))
           for s in load(golden_dir, "schedule_steps")]
    np.testing.assert_allclose(got, load(golden_dir, "schedule_out"), rtol=1e-15)


def test_adamw_reference_is_the_textbook_formula(rng):
    p, g = rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    m, v = rng.normal(size=(3, 5)) / 10, rng.random((3, 5)) / 10
    lr, b1, b2, eps, wd, t = 1e-2, 0.9, 0.95, 1e-8, 0.1, 7
    P, M, V = llmlab.ref.adamw_step(p, g, m, v, t, lr, b1, b2, eps, wd)
    m2 = b1 * m + (1 - b1) * g
    v2 = b2 * v + (1 - b2) * g * g
    want = p * (1 - lr * wd) - lr * (m2 / (1 - b1**t)) / (np.sqrt(v2 / (1 - b2**t)) + eps)
    np.testing.assert_allclose(M, m2, rtol=1e-15)
    np.testing.assert_allclose(V, v2, rtol=1e-15)
    np.testing.assert_allclose(P, want, rtol=1e-14)
    assert P.shape == p.shape


def test_cuda_adamw_within_the_oracle_bound(rng):
    p = rng.uniform(-1, 1, 1000).astype(np.float32)
    g = rng.uniform(-1, 1, 1000).astype(np.float32)
    m = (rng.uniform(-1, 1, 1000) / 10).astype(np.float32)
    v = (rng.random(1000) / 10).astype(np.float32)
    args = (10, 1e-2, 0.9, 0.95, 1e-8, 0.1)
    got = llmlab.cuda.adamw_step(p, g, m, v, *args)
    ref32 = llmlab.ref.adamw_step(p, g, m, v, *args)
    ref64 = llmlab.ref.adamw_step(*(x.astype(np.float64) for x in (p, g, m, v)), *args)
    for k, b, r in zip(got, ref32, ref64):
        agrees(k, b, r, FORWARD)
    again = llmlab.cuda.adamw_step(p, g, m, v, *args)
    for a, b in zip(got, again):  # bitwise on a rerun
        assert np.array_equal(a, b)


def test_cuda_grad_norm(rng):
    grads = [rng.uniform(-1, 1, n).astype(np.float32) for n in (97, 1, 4097)]
    norm, clip = llmlab.cuda.grad_norm(grads, 1.0)
    want = math.sqrt(sum(float(np.sum(x.astype(np.float64) ** 2)) for x in grads))
    assert norm == pytest.approx(want, rel=1e-6)  # fp32 partial sums: a few 2^-24
    assert clip == pytest.approx(1.0 / (want + 1e-6), rel=1e-6)
    assert llmlab.cuda.grad_norm(grads, 1e6)[1] == 1.0  # no clipping: factor exactly 1


def test_errors():
    z = np.zeros(3)
    with pytest.raises(llmlab.Error, match="adamw_step.*lr = -1"):
        llmlab.ref.adamw_step(z, z, z, z, 1, lr=-1.0)
    with pytest.raises(llmlab.Error, match="adam_step.*beta1 = 1"):
        llmlab.ref.adam_step(z, z, z, z, 1, beta1=1.0)
    with pytest.raises(llmlab.Error, match="eps = 0"):
        llmlab.ref.adamw_step(z, z, z, z, 1, eps=0.0)
    with pytest.raises(llmlab.Error, match="param is \\(3\\) but grad is \\(4\\)"):
        llmlab.ref.adamw_step(z, np.zeros(4), z, z, 1)
    with pytest.raises(llmlab.Error, match="adamw_step.*beta2"):
        llmlab.cuda.adamw_step(z, z, z, z, 1, beta2=1.5)
    with pytest.raises(llmlab.Error, match="grad has 4"):
        llmlab.cuda.adamw_step(z, np.zeros(4), z, z, 1)
    with pytest.raises(llmlab.Error, match="lr_at.*total_steps"):
        llmlab.ref.lr_at(0, 1.0, 0.1, 10, 5)
