#!/usr/bin/python3
"""Writes the golden files: the first reference of docs/design.md §5.

Inputs come from NumPy's seeded generator (np.random.default_rng(seed), never a framework's RNG
stream, so they do not change when PyTorch does) and are stored as float32, because the
reference's float path must read the very same numbers. Outputs are computed by PyTorch in float64
from those float32 values and stored as float64.

Layout: tests/golden/<component>/<case>_<input>.npy for each input, <case>_out.npy for the output.

Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/make_golden.py
"""

import math
from pathlib import Path

import numpy as np
import torch

GOLDEN = Path(__file__).resolve().parent


def uniform_f32(rng: np.random.Generator, shape) -> np.ndarray:
    """Float32 values uniform in [-1, 1): 2u - 1 with u a float32 in [0, 1) (both steps exact)."""
    return rng.random(shape, dtype=np.float32) * np.float32(2) - np.float32(1)


def save(component: str, case: str, arrays: dict) -> None:
    folder = GOLDEN / component
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        np.save(folder / f"{case}_{name}.npy", np.ascontiguousarray(array))


def f64(x: np.ndarray) -> torch.Tensor:
    """The float32 input, widened exactly to float64 for PyTorch."""
    return torch.from_numpy(x).to(torch.float64)


def vector_add() -> None:
    """c = a + b; a, b (n)."""
    for seed, n in enumerate([1, 17, 97, 1000], start=100):
        rng = np.random.default_rng(seed)
        a = uniform_f32(rng, (n,))
        b = uniform_f32(rng, (n,))
        out = (f64(a) + f64(b)).numpy()
        save("vector_add", f"n{n}", {"a": a, "b": b, "out": out})


def reduce_sum() -> None:
    """out[r] = sum_c x[r, c]; x (R, C), out (R)."""
    for seed, (R, C) in enumerate([(1, 1), (3, 17), (5, 97), (2, 1000), (1, 4097)], start=200):
        rng = np.random.default_rng(seed)
        x = uniform_f32(rng, (R, C))
        out = f64(x).sum(dim=1).numpy()
        save("reduce_sum", f"r{R}_c{C}", {"x": x, "out": out})


def embedding() -> None:
    """out[b, t] = wte[ids[b, t]] + wpe[t]; ids (B, T) int32, wte (V, C), wpe (maxT, C); the
    gradients dwte, dwpe of sum(out * dout) by autograd. Ids drawn with repeats (the scatter
    must sum them), V not a multiple of 128, C = 1, 17, 768, and T = maxT in the last case."""
    cases = [(2, 3, 1, 5, 4), (3, 17, 17, 131, 20), (1, 4, 768, 3, 4)]
    for seed, (B, T, C, V, maxT) in enumerate(cases, start=300):
        rng = np.random.default_rng(seed)
        ids = rng.integers(0, V, size=(B, T), dtype=np.int32)
        ids.flat[-1] = ids.flat[0]  # at least one repeated token in every case
        wte = uniform_f32(rng, (V, C))
        wpe = uniform_f32(rng, (maxT, C))
        dout = uniform_f32(rng, (B, T, C))
        wte_t = f64(wte).requires_grad_()
        wpe_t = f64(wpe).requires_grad_()
        out = wte_t[torch.from_numpy(ids).long()] + wpe_t[:T]
        out.backward(f64(dout))
        save("embedding", f"b{B}_t{T}_c{C}_v{V}",
             {"ids": ids, "wte": wte, "wpe": wpe, "dout": dout, "out": out.detach().numpy(),
              "dwte": wte_t.grad.numpy(), "dwpe": wpe_t.grad.numpy()})


def residual() -> None:
    """out = a + b; da = db = dout by autograd; a, b, dout (B, T, C)."""
    for seed, (B, T, C) in enumerate([(1, 1, 1), (2, 3, 17), (2, 5, 97)], start=400):
        rng = np.random.default_rng(seed)
        a, b, dout = (uniform_f32(rng, (B, T, C)) for _ in range(3))
        a_t = f64(a).requires_grad_()
        b_t = f64(b).requires_grad_()
        out = a_t + b_t
        out.backward(f64(dout))
        save("residual", f"b{B}_t{T}_c{C}",
             {"a": a, "b": b, "dout": dout, "out": out.detach().numpy(),
              "da": a_t.grad.numpy(), "db": b_t.grad.numpy()})


def softmax() -> None:
    """out = softmax(x, dim=-1); dx of sum(out * dy) by autograd. The last case's logits sit near
    90, where exp overflows float32 unless the row maximum is subtracted first."""
    cases = [("r1_c1", (1, 1), 0.0, 1.0), ("r3_c17", (3, 17), 0.0, 4.0),
             ("r2x3_c768", (2, 3, 768), 0.0, 3.0), ("r5_c97_big", (5, 97), 90.0, 8.0)]
    for seed, (case, shape, offset, scale) in enumerate(cases, start=500):
        rng = np.random.default_rng(seed)
        x = np.float32(offset) + uniform_f32(rng, shape) * np.float32(scale)
        dy = uniform_f32(rng, shape)
        x_t = f64(x).requires_grad_()
        out = torch.softmax(x_t, dim=-1)
        out.backward(f64(dy))
        save("softmax", case, {"x": x, "dy": dy, "out": out.detach().numpy(),
                               "dx": x_t.grad.numpy()})


def layernorm() -> None:
    """y = F.layer_norm(x, (C,), w, b, eps=1e-5) over the last axis; mean and rstd (B, T) of each
    row (biased variance, as layer_norm uses); dx, dw, db of sum(y * dy) by autograd. Awkward C:
    1 (the variance is 0, y = b), 17, 768 (GPT-2 small) and 1600 (GPT-2 XL); x is shifted by 0.5 so
    no row mean is near 0 by construction."""
    cases = [(3, 1, 1), (2, 3, 17), (1, 5, 768), (1, 2, 1600)]
    for seed, (B, T, C) in enumerate(cases, start=600):
        rng = np.random.default_rng(seed)
        x = uniform_f32(rng, (B, T, C)) + np.float32(0.5)
        w = uniform_f32(rng, (C,))
        b = uniform_f32(rng, (C,))
        dy = uniform_f32(rng, (B, T, C))
        x_t, w_t, b_t = (f64(a).requires_grad_() for a in (x, w, b))
        y = torch.nn.functional.layer_norm(x_t, (C,), w_t, b_t, eps=1e-5)
        y.backward(f64(dy))
        xd = f64(x)
        mean = xd.mean(dim=-1)
        rstd = 1.0 / torch.sqrt(xd.var(dim=-1, unbiased=False) + 1e-5)
        save("layernorm", f"b{B}_t{T}_c{C}",
             {"x": x, "w": w, "b": b, "dy": dy, "out": y.detach().numpy(),
              "mean": mean.numpy(), "rstd": rstd.numpy(), "dx": x_t.grad.numpy(),
              "dw": w_t.grad.numpy(), "db": b_t.grad.numpy()})


def gelu() -> None:
    """y = F.gelu(x, approximate='tanh') (GPT-2's GELU); dx of sum(y * dy) by autograd. x spans
    [-5, 5): the tails where y -> 0 and y -> x, and the bend around 0."""
    for seed, n in enumerate([1, 17, 1000], start=700):
        rng = np.random.default_rng(seed)
        x = uniform_f32(rng, (n,)) * np.float32(5)
        dy = uniform_f32(rng, (n,))
        x_t = f64(x).requires_grad_()
        y = torch.nn.functional.gelu(x_t, approximate="tanh")
        y.backward(f64(dy))
        save("gelu", f"n{n}", {"x": x, "dy": dy, "out": y.detach().numpy(),
                               "dx": x_t.grad.numpy()})


def matmul() -> None:
    """y = x W^T + b (torch.nn.functional.linear); x (N, in), w (out, in), b (out); the gradients
    dx, dw, db of sum(y * dy) by autograd. Awkward shapes: in = 17 with out = 33, in = 1, and
    GPT-2's C = 768 (out kept at 17 so the files stay small)."""
    for seed, (N, IN, OUT) in enumerate([(5, 17, 33), (97, 1, 7), (3, 768, 17)], start=800):
        rng = np.random.default_rng(seed)
        x, w, b, dy = (uniform_f32(rng, shape) for shape in [(N, IN), (OUT, IN), (OUT,), (N, OUT)])
        x_t, w_t, b_t = (f64(a).requires_grad_() for a in (x, w, b))
        out = torch.nn.functional.linear(x_t, w_t, b_t)
        out.backward(f64(dy))
        save("matmul", f"n{N}_in{IN}_out{OUT}",
             {"x": x, "w": w, "b": b, "dy": dy, "out": out.detach().numpy(),
              "dx": x_t.grad.numpy(), "dw": w_t.grad.numpy(), "db": b_t.grad.numpy()})


def attention() -> None:
    """Scaled dot-product attention over heads: q, k, v, dout (B, H, T, D);
    S = q k^T / sqrt(D), masked to -inf above the diagonal when causal, P = softmax(S), out = P v,
    lse = logsumexp(S) (B, H, T); dq, dk, dv of sum(out * dout) by autograd (lse is an output, not
    differentiated). Written out rather than torch's fused function so that it is PyTorch's plain
    float64 math. Case prefixes spell the sizes and c1 (causal) or c0. T = 1 (one key), 9 and 17
    (no multiple of a tile), D = 16 and 80.

    Also the multi-head block GPT calls (nanoGPT's CausalSelfAttention without dropout), in
    tests/golden/attention_block: x (B, T, C); qkv = x c_attn.weight^T + c_attn.bias, split into q,
    k, v (C each), heads (B, H, T, D), causal attention, heads merged back to (B, T, C),
    y = . c_proj.weight^T + c_proj.bias; dx and every parameter gradient of sum(y * dy)."""
    cases = [(1, 1, 1, 16, True), (1, 2, 17, 16, False), (2, 1, 17, 16, True),
             (1, 1, 9, 80, True)]
    for seed, (B, H, T, D, causal) in enumerate(cases, start=900):
        rng = np.random.default_rng(seed)
        q, k, v, dout = (uniform_f32(rng, (B, H, T, D)) for _ in range(4))
        q_t, k_t, v_t = (f64(a).requires_grad_() for a in (q, k, v))
        s = q_t @ k_t.transpose(-1, -2) / np.sqrt(D)
        if causal:
            future = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
            s = s.masked_fill(future, float("-inf"))
        out = torch.softmax(s, dim=-1) @ v_t
        lse = torch.logsumexp(s, dim=-1)
        out.backward(f64(dout))
        save("attention", f"b{B}_h{H}_t{T}_d{D}_c{int(causal)}",
             {"q": q, "k": k, "v": v, "dout": dout, "out": out.detach().numpy(),
              "lse": lse.detach().numpy(), "dq": q_t.grad.numpy(), "dk": k_t.grad.numpy(),
              "dv": v_t.grad.numpy()})
    for seed, (B, T, C, H) in enumerate([(2, 5, 16, 2), (1, 7, 12, 3)], start=950):
        rng = np.random.default_rng(seed)
        x, wa, ba, wp, bp, dy = (uniform_f32(rng, shape) for shape in
                                 [(B, T, C), (3 * C, C), (3 * C,), (C, C), (C,), (B, T, C)])
        x_t, wa_t, ba_t, wp_t, bp_t = (f64(a).requires_grad_() for a in (x, wa, ba, wp, bp))
        q, k, v = torch.nn.functional.linear(x_t, wa_t, ba_t).split(C, dim=2)
        q, k, v = (a.view(B, T, H, C // H).transpose(1, 2) for a in (q, k, v))
        s = q @ k.transpose(-1, -2) / np.sqrt(C // H)
        s = s.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1),
                          float("-inf"))
        heads = (torch.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(B, T, C)
        y = torch.nn.functional.linear(heads, wp_t, bp_t)
        y.backward(f64(dy))
        save("attention_block", f"b{B}_t{T}_c{C}_h{H}",
             {"x": x, "c_attn_w": wa, "c_attn_b": ba, "c_proj_w": wp, "c_proj_b": bp, "dy": dy,
              "out": y.detach().numpy(), "dx": x_t.grad.numpy(), "dc_attn_w": wa_t.grad.numpy(),
              "dc_attn_b": ba_t.grad.numpy(), "dc_proj_w": wp_t.grad.numpy(),
              "dc_proj_b": bp_t.grad.numpy()})
def cross_entropy() -> None:
    """losses = F.cross_entropy(x.view(-1, V), y.view(-1), reduction='none') per token, (B, T);
    mean = the same with reduction='mean' (over the targets that are not ignore_index = -100);
    dlogits of sum(losses * dlosses) by autograd, (B, T, V). logits (B, T, V), targets (B, T)
    int32. Cases: V = 1 (every loss 0), V = 2, V = 97 with a quarter of the targets ignored,
    logits x1000 (exp overflows without the row maximum), and a target 120 below its row's
    maximum (probability e^-120: 0 in float32, loss ~120)."""
    cases = [("b2_t3_v1", (2, 3, 1), 1.0, False), ("b3_t2_v2", (3, 2, 2), 2.0, False),
             ("b2_t5_v97_ignore", (2, 5, 97), 4.0, False),
             ("b1_t4_v97_x1000", (1, 4, 97), 1000.0, False),
             ("b1_t3_v97_unlikely", (1, 3, 97), 2.0, True)]
    for seed, (case, (B, T, V), scale, unlikely) in enumerate(cases, start=1000):
        rng = np.random.default_rng(seed)
        x = uniform_f32(rng, (B, T, V)) * np.float32(scale)
        y = rng.integers(0, V, size=(B, T), dtype=np.int32)
        if case.endswith("ignore"):
            y.flat[::4] = -100
        if unlikely:
            for b, t in np.ndindex(B, T):
                x[b, t, y[b, t]] = x[b, t].max() - np.float32(120)
        dlosses = uniform_f32(rng, (B, T))
        x_t = f64(x).requires_grad_()
        targets = torch.from_numpy(y).long().view(-1)
        losses = torch.nn.functional.cross_entropy(x_t.view(-1, V), targets, reduction="none")
        mean = torch.nn.functional.cross_entropy(f64(x).view(-1, V), targets, reduction="mean")
        (losses * f64(dlosses).view(-1)).sum().backward()
        save("cross_entropy", case,
             {"logits": x, "targets": y, "dlosses": dlosses,
              "out": losses.detach().view(B, T).numpy(), "mean": mean.reshape(1).numpy(),
              "dlogits": x_t.grad.numpy()})


def optimizer() -> None:
    """torch.optim.SGD / Adam / AdamW for 1,000 steps, torch.nn.utils.clip_grad_norm_ and a
    LambdaLR warm-up + cosine schedule, all in float64.

    The problem (problem_*.npy, float32, concatenated over three parameter tensors of sizes
    problem_sizes = [12, 5, 1]): parameters start at p0, and the gradient at step t = 1, 2, ... is
    a fixed deterministic function of the parameters, g = c * (p - a) + s * cos(w * t) — a
    quadratic bowl around a plus a smooth drive that stands in for minibatch noise and neither
    vanishes nor stands still (|s| >= 0.1, w >= 0.1), so the gradient never settles at 0, where
    Adam's normalised step would amplify rounding noise. <config>_hyper.npy holds [lr, momentum, dampening, weight_decay, nesterov, beta1,
    beta2, eps]; <config>_out.npy (4, 18) the parameters after steps 1, 10, 100 and 1000.

    clip_*: gradients of tensors of sizes clip_sizes = [12, 5, 1] plus a frozen tensor of 3 (no
    grad, skipped); clip_max<m>_out the clipped gradients, clip_max<m>_norm the total norm.

    schedule_*: lr(s) = max_lr (s + 1) / W for s < W, then min_lr + (1 + cos(pi r)) / 2 (max_lr -
    min_lr) with r = (s - W) / (S - W), min_lr past S, driven by LambdaLR over SGD;
    schedule_hyper = [max_lr, min_lr, W, S], schedule_steps the steps s, schedule_out lr(s)."""
    rng = np.random.default_rng(1000)
    sizes = [12, 5, 1]
    n = sum(sizes)
    p0 = uniform_f32(rng, (n,))
    c = np.float32(1.25) + uniform_f32(rng, (n,)) * np.float32(0.75)  # curvatures in [0.5, 2)
    a = uniform_f32(rng, (n,))
    # |s| in [0.1, 0.25) and w in [0.1, 0.5): the drive neither vanishes nor stands still, so the
    # parameters never settle where g = 0 (there Adam would chatter on the sign of rounding noise)
    u = uniform_f32(rng, (n,))
    s = np.sign(u) * (np.float32(0.1) + np.abs(u) * np.float32(0.15))
    w = np.float32(0.3) + uniform_f32(rng, (n,)) * np.float32(0.2)
    save("optimizer", "problem", {"sizes": np.array(sizes, dtype=np.int32), "p0": p0, "c": c,
                                  "a": a, "s": s, "w": w})
    C, A, S, W = (f64(x) for x in (c, a, s, w))
    configs = {  # name: (class, kwargs)
        "sgd": (torch.optim.SGD, dict(lr=0.05)),
        "sgd_wd": (torch.optim.SGD, dict(lr=0.05, weight_decay=0.1)),
        "sgd_momentum": (torch.optim.SGD, dict(lr=0.05, momentum=0.9)),
        "sgd_momentum_dampening_wd": (torch.optim.SGD,
                                      dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.1)),
        "sgd_nesterov_wd": (torch.optim.SGD,
                            dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
        "adam": (torch.optim.Adam, dict(lr=0.01)),
        "adam_wd": (torch.optim.Adam, dict(lr=0.01, weight_decay=0.1)),
        "adamw": (torch.optim.AdamW, dict(lr=0.01, weight_decay=0.0)),
        "adamw_wd": (torch.optim.AdamW, dict(lr=0.01, betas=(0.8, 0.95), weight_decay=0.1)),
    }
    for name, (cls, kw) in configs.items():
        flat = f64(p0).clone()
        params = [t.clone().requires_grad_() for t in torch.split(flat, sizes)]
        opt = cls(params, **kw)
        recorded = []
        for t in range(1, 1001):
            p = torch.cat([q.detach() for q in params])
            g = C * (p - A) + S * torch.cos(W * float(t))
            for q, gq in zip(params, torch.split(g, sizes)):
                q.grad = gq.clone()
            opt.step()
            if t in (1, 10, 100, 1000):
                recorded.append(torch.cat([q.detach() for q in params]).numpy())
        d = opt.defaults
        betas = d.get("betas", (0.0, 0.0))
        hyper = [d["lr"], d.get("momentum", 0.0), d.get("dampening", 0.0), d["weight_decay"],
                 float(d.get("nesterov", False)), betas[0], betas[1], d.get("eps", 0.0)]
        save("optimizer", name, {"hyper": np.array(hyper, dtype=np.float64),
                                 "out": np.stack(recorded)})

    rng = np.random.default_rng(1001)
    g32 = uniform_f32(rng, (n,))
    save("optimizer", "clip", {"sizes": np.array(sizes, dtype=np.int32), "g": g32})
    for max_norm in (1.0, 10.0):  # the norm is ~2.4: clipped, then left alone
        params = [torch.zeros(k, dtype=torch.float64, requires_grad=True) for k in sizes]
        for q, gq in zip(params, torch.split(f64(g32), sizes)):
            q.grad = gq.clone()
        frozen = torch.zeros(3, dtype=torch.float64, requires_grad=True)  # .grad stays None
        norm = torch.nn.utils.clip_grad_norm_(params[:2] + [frozen] + params[2:], max_norm)
        save("optimizer", f"clip_max{max_norm:g}",
             {"out": torch.cat([q.grad for q in params]).numpy(),
              "norm": np.array([norm.item()], dtype=np.float64)})

    max_lr, min_lr, warmup, total = 6e-4, 6e-5, 10, 100

    def lr_at(step):
        if step < warmup:
            return max_lr * (step + 1) / warmup
        if step >= total:
            return min_lr
        r = (step - warmup) / (total - warmup)
        return min_lr + 0.5 * (1.0 + math.cos(math.pi * r)) * (max_lr - min_lr)

    opt = torch.optim.SGD([torch.zeros(1, dtype=torch.float64, requires_grad=True)], lr=max_lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_at(s) / max_lr)
    steps = [0, 9, 10, 55, 100, 105]  # warm-up start and end, cosine start, middle, end, past it
    lrs = {}
    for step in range(max(steps) + 1):
        lrs[step] = sched.get_last_lr()[0]
        opt.step()
        sched.step()
    save("optimizer", "schedule",
         {"hyper": np.array([max_lr, min_lr, warmup, total], dtype=np.float64),
          "steps": np.array(steps, dtype=np.float64),
          "out": np.array([lrs[k] for k in steps], dtype=np.float64)})


def gpt() -> None:
    """GPT-2 (nanoGPT's GPT without dropout) in float64 on a tiny config, for tests/gpt_test.cpp:
    V = 64, block_size = 8, L = 2, H = 2, C = 16; ids and targets (B, T) = (2, 7) (T short of
    block_size, so wpe's last row gets no gradient; one target is ignore_index = -100).
    x = wte[ids] + wpe[:T]; per block x = x + attn(ln_1(x)), x = x + c_proj(gelu_tanh(c_fc(ln_2(x))));
    logits = ln_f(x) wte^T (tied lm_head); loss = F.cross_entropy(mean over the counted targets);
    every parameter's gradient of loss by autograd; then 10 AdamW steps with clipping on the same
    batch (adamw10_*: the losses and gradient norms before each step, the final parameters).

    Parameters are float32 draws (weights N(0, 0.2^2) so the model is far from uniform, biases and
    LayerNorm shifts U(-0.1, 0.1), gains 1 + U(-0.1, 0.1)), concatenated flat in nanoGPT's
    state_dict order without lm_head (wte, wpe, per block ln_1 w b, attn.c_attn w b, attn.c_proj
    w b, ln_2 w b, mlp.c_fc w b, mlp.c_proj w b; ln_f w b): params (float32), grads (float64)."""
    V, M, L, H, C, B, T = 64, 8, 2, 2, 16, 2, 7
    rng = np.random.default_rng(1100)
    shapes = [("wte", (V, C)), ("wpe", (M, C))]
    for i in range(L):
        shapes += [(f"h.{i}.{n}", s) for n, s in
                   [("ln_1.weight", (C,)), ("ln_1.bias", (C,)), ("attn.c_attn.weight", (3 * C, C)),
                    ("attn.c_attn.bias", (3 * C,)), ("attn.c_proj.weight", (C, C)),
                    ("attn.c_proj.bias", (C,)), ("ln_2.weight", (C,)), ("ln_2.bias", (C,)),
                    ("mlp.c_fc.weight", (4 * C, C)), ("mlp.c_fc.bias", (4 * C,)),
                    ("mlp.c_proj.weight", (C, 4 * C)), ("mlp.c_proj.bias", (C,))]]
    shapes += [("ln_f.weight", (C,)), ("ln_f.bias", (C,))]
    arrays = {}
    for name, shape in shapes:
        if len(shape) == 2:
            arrays[name] = (rng.standard_normal(shape) * 0.2).astype(np.float32)
        elif name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name == "ln_f.weight":
            arrays[name] = np.float32(1) + np.float32(0.1) * uniform_f32(rng, shape)
        else:
            arrays[name] = np.float32(0.1) * uniform_f32(rng, shape)
    ids = rng.integers(0, V, size=(B, T)).astype(np.int32)
    targets = rng.integers(0, V, size=(B, T)).astype(np.int32)
    targets[1, 3] = -100
    F = torch.nn.functional
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
    ids_t, targets_t = torch.from_numpy(ids).long(), torch.from_numpy(targets).long()

    def forward(P):
        x = P["wte"][ids_t] + P["wpe"][:T]
        for i in range(L):
            p = {n[len(f"h.{i}."):]: t for n, t in P.items() if n.startswith(f"h.{i}.")}
            a = F.layer_norm(x, (C,), p["ln_1.weight"], p["ln_1.bias"], eps=1e-5)
            q, k, v = F.linear(a, p["attn.c_attn.weight"], p["attn.c_attn.bias"]).split(C, dim=2)
            q, k, v = (t.view(B, T, H, C // H).transpose(1, 2) for t in (q, k, v))
            s = (q @ k.transpose(-1, -2) / np.sqrt(C // H)).masked_fill(mask, float("-inf"))
            y = (torch.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(B, T, C)
            x = x + F.linear(y, p["attn.c_proj.weight"], p["attn.c_proj.bias"])
            a = F.layer_norm(x, (C,), p["ln_2.weight"], p["ln_2.bias"], eps=1e-5)
            hdn = F.gelu(F.linear(a, p["mlp.c_fc.weight"], p["mlp.c_fc.bias"]), approximate="tanh")
            x = x + F.linear(hdn, p["mlp.c_proj.weight"], p["mlp.c_proj.bias"])
        x = F.layer_norm(x, (C,), P["ln_f.weight"], P["ln_f.bias"], eps=1e-5)
        logits = x @ P["wte"].T
        return logits, F.cross_entropy(logits.view(-1, V), targets_t.view(-1), ignore_index=-100)

    P = {name: f64(a).requires_grad_() for name, a in arrays.items()}
    logits, loss = forward(P)
    loss.backward()

    # 10 AdamW steps on the same batch (nanoGPT's groups: decay on the 2-D tensors only), the
    # gradients clipped to a global norm of 1 first, the lr of a warm-up (2 steps) + cosine (to
    # step 10) schedule from 1e-2 to 1e-3: the losses before each step and the final parameters.
    Q = {name: f64(a).requires_grad_() for name, a in arrays.items()}
    opt = torch.optim.AdamW(
        [{"params": [Q[n] for n, sh in shapes if len(sh) == 2], "weight_decay": 0.1},
         {"params": [Q[n] for n, sh in shapes if len(sh) != 2], "weight_decay": 0.0}],
        lr=1e-2, betas=(0.9, 0.95), eps=1e-8)
    losses, norms = [], []
    for step in range(10):
        lr = 1e-2 * (step + 1) / 2 if step < 2 else \
            1e-3 + 0.5 * (1 + math.cos(math.pi * (step - 2) / 8)) * (1e-2 - 1e-3)
        for group in opt.param_groups:
            group["lr"] = lr
        opt.zero_grad()
        _, step_loss = forward(Q)
        step_loss.backward()
        norms.append(torch.nn.utils.clip_grad_norm_(list(Q.values()), 1.0).item())
        opt.step()
        losses.append(step_loss.item())
    save("gpt", "v64_t8_l2_h2_c16",
         {"config": np.array([V, M, L, H, C], dtype=np.int64), "ids": ids, "targets": targets,
          "params": np.concatenate([arrays[n].ravel() for n, _ in shapes]),
          "out": logits.detach().numpy(), "loss": loss.detach().reshape(1).numpy(),
          "grads": np.concatenate([P[n].grad.numpy().ravel() for n, _ in shapes]),
          "adamw10_losses": np.array(losses), "adamw10_norms": np.array(norms),
          "adamw10_params": np.concatenate([Q[n].detach().numpy().ravel() for n, _ in shapes])})


def bleu() -> None:
    """sacrebleu's corpus BLEU on varied corpora, for tests/bleu_test.cpp: bleu_golden.py (which
    imports sacrebleu, not torch) run by the project venv's Python, where scripts/requirements.txt
    installs sacrebleu; this interpreter when it has sacrebleu itself."""
    import importlib.util
    import subprocess
    import sys
    script = GOLDEN / "bleu_golden.py"
    python = sys.executable
    if importlib.util.find_spec("sacrebleu") is None:
        python = str(GOLDEN.parents[1] / ".venv" / "bin" / "python")
    subprocess.run([python, str(script)], check=True)


if __name__ == "__main__":
    vector_add()
    reduce_sum()
    embedding()
    residual()
    softmax()
    layernorm()
    gelu()
    matmul()
    attention()
    cross_entropy()
    optimizer()
    gpt()
    bleu()
    print(f"golden files written under {GOLDEN}")
