#!/usr/bin/env python3
"""Training speed: `llmlab train` (the CPU reference) against PyTorch on the CPU, the same GPT-2
config, batch and threads, in the same run; prints tokens/s of both and the ratio.

    /usr/bin/python3 bench/train_bench.py --llmlab build/default/apps/llmlab [--threads 1]
        [--steps 4] [--repeat 3] [--layers 4 --embd 256 --heads 4 --context 128 --vocab 4096
        --batch 8]

llmlab's time is the median `ms` of metrics.jsonl over the steps after the first (`--threads N`:
ref::set_cpu_threads, N OpenMP threads for the reference's loops and its GEMMs, OpenBLAS at one);
PyTorch's the median wall time of the same number of forward + backward + clip + AdamW steps
(torch.set_num_threads). The last line also compares the fastest step of all runs, each side:
the one least disturbed by the machine's other work. Both run with OMP_WAIT_POLICY=passive
unless the environment says otherwise (below). Both train on the same text
(the licences under /usr/share/common-licenses), tokenized by llmlab's trained vocabulary. The two
are run --repeat times, alternated, and the medians compared: on a shared machine one run's
ratio swings by 1.5x.

Measured 2026-12-04 on the 2-core development machine, shared with four other builds (load 4-12,
so every wall time below is noisy; `--steps 8 --repeat 3`):

    before (d7ceabd)   1 thread : llmlab 2002.7 ms/step, PyTorch 954.8 ms/step: 0.477x
                                  (runs 0.877, 0.467, 0.477; the issue's earlier 0.62x)
    after  (c0d1200)   1 thread : llmlab  839.8 ms/step, PyTorch 675.1 ms/step: 0.804x
                                  (runs 0.804, 1.189, 0.781)
    before / after     2 threads: 2.8x / 3.1x — not a measurement: with every core busy,
                                  PyTorch's two OpenMP threads wait on each other (1.2-11 s/step)

CPU time per step at 1 thread, less sensitive to the other builds (llmlab: user + sys of a
10-step run minus a 2-step run, / 8; PyTorch: time.process_time over 12 steps, / 12):
llmlab before 975-1002 ms, after 524-532 ms; PyTorch 444-500 ms — about 0.9x.

Where the time went (perf record, 1 thread): before, attention's row-by-row loops ~26%, GELU's
tanhf/expm1f ~12%, page faults and clearing ~3-5%, OpenBLAS ~29% (that profile includes the
tokenizer's training); after, OpenBLAS 55% (GEMM kernel and packing), the attention scores 5.5%,
expf 5.4%, GELU's own loops 8%, cross-entropy's logsumexp 4%, AdamW 2%. At 2 threads only the GEMMs
use the second core (the reference's own loops are serial): median 560 ms/step against 840 at 1
thread in the runs above, 0.67 of it.

Round 3 (issue 11, trainspeed2): the reference's loops on OpenMP threads (attention's heads,
LayerNorm's and cross-entropy's rows, GELU's and AdamW's elements) and its GEMMs in fixed blocks
of 256 rows side by side on the same threads, OpenBLAS at one thread — one pool, the same bits for
any thread count (tests/train_test.cpp). Two pools (OpenBLAS's and OpenMP's) spun against each
other: 22-25 s of CPU for a 9-step run at 2 threads against 6 s, and libgomp's default spinning
alone cost 3-4x the CPU time on this shared machine, hence OMP_WAIT_POLICY=passive for both
sides. Measured 2026-12-04 11:09-11:19 UTC, before = 1ab2482, after = 472caeb, alternated:

    llmlab alone, `--steps 8`, median ms/step (load 2-3, the quietest minutes):
      2 threads: before 433, 370   after 310, 307    (1.2-1.4x faster)
      1 thread : before 503        after 513         (the same)
    CPU ms/step at 1 thread (10-step minus 2-step run, / 8): before 531, 531; after 519, 509
    this script, `--steps 8 --repeat 3`:
      load 2-3, 2 threads: after  0.880x (0.880, 0.812, 1.554; llmlab 294-339 ms, PyTorch 239-526)
                           before 0.976x (0.557, 0.976, 1.069; llmlab 461-1100 ms, PyTorch 492-613)
                1 thread : after  0.714x (0.701, 0.728, 0.752; llmlab 556-623 ms, PyTorch 410-454)
                           before 0.753x (0.864, 0.720, 0.753; llmlab 533-593 ms, PyTorch 427-460)
      load 5-8, 2 threads: after 0.777x, before 1.169x; 1 thread: after 0.755x, before 0.907x —
                           noise: the per-run ratios span 0.74-1.33 on either binary

So at 2 threads llmlab now gains 1.6x over its 1 thread (PyTorch 1.5-1.9x in the quiet runs) and
stays ~0.8-0.9x PyTorch; at 1 thread it is ~0.71-0.75x in the quiet runs (PyTorch 410-460
ms/step): the goal (>= 1.0x at 1 and 2 threads) is not met. What is left is single-thread work outside the GEMMs (PyTorch's GELU, softmax and exp are
vectorised; ours call expf one element at a time): -O3 on the reference measured no difference
(CPU 521, 540 against 547, 539 ms/step).

Round 4 (issue 11, 2026-12-04 13:40-14:20 UTC, before = 92e11a6, after = ced3ff7). First a fix to
this script: PyTorch's GEMMs are OpenBLAS's and torch.set_num_threads does not reach OpenBLAS, so
the "1 thread" PyTorch above ran its GEMMs on both cores (perf: 14% of its samples in the second
thread's sched_yield); OPENBLAS_NUM_THREADS is now set to --threads before torch loads. Then the
reference: its exp loops (GELU, attention's softmax, cross-entropy) run through glibc's vector
exp (libmvec), and those loops, the attention scores, LayerNorm's and AdamW's are compiled for
AVX-512, AVX2 and baseline x86-64 with the widest picked at start-up
(reference/src/vector_math.hpp); sums keep their left-to-right order, so only exp's last bits
moved. perf at 1 thread, after: OpenBLAS 68% of the samples (GEMM kernel 56%, packing 12%), the
scores 2.5%, xtensor's allocations and copies ~7%, LayerNorm 4%, exp 1.4%. llmlab alone, median
ms/step of `--steps 8` at 1 thread, alternated (14:22): before 653, 665, 577; after 604, 450, 458
(after, at 13:48: 405, 420).
This script, `--steps 8 --repeat 3` and `--steps 10 --repeat 5`, on a machine whose neighbours
moved single runs by 1.5x even at load 1 (the same binary measured 405 ms/step at 13:48 and
509-648 at 14:15):

    1 thread : 0.930x (0.902, 0.932, 0.963; llmlab 403 ms, PyTorch 375), 1.023x (0.939, 0.832,
               1.134), 0.911x (0.934, 0.734, 1.164, 0.874, 0.847; llmlab 558 ms, PyTorch 509)
    2 threads: 0.681x (0.681, 0.573, 0.844), 0.885x (0.959, 0.663, 0.971, 1.015, 0.875; llmlab
               432 ms, PyTorch 383)

Then cross-entropy's row maximum as a vector reduction (exact in any order; the NaN case guarded,
tests/cross_entropy_test.cpp): at 2 threads perf had shown row_logsumexp at 10% of the samples,
its scalar max and sum each a 4,096-long dependency chain per row. llmlab alone, `--steps 10`,
2 threads: before 433, 438, after 325, 348 ms/step; 1 thread `--steps 8`: 513, 479 -> 423, 474.
This script, `--steps 10 --repeat 5` (15:08, load 1.4):

    1 thread : 0.917x (1.417, 0.897, 0.917, 0.871, 0.886; llmlab 420 ms, PyTorch 385)
    2 threads: 0.913x (0.998, 1.159, 0.658, 0.854, 0.964; llmlab 273 ms, PyTorch 249)

So about 0.9x at 1 and 2 threads, against 0.71-0.75x and 0.8-0.9x before
(and the earlier 1-thread ratios flattered PyTorch less than they seemed: it had two cores for its
GEMMs). The goal (>= 1.0x at 1 and 2 threads) is not met. What is left outside the GEMMs is mostly
allocation and copying between xtensor containers (the composition's xarray round trips in
residual_add and reshaped, zero-filled gradient buffers each step), serial at 2 threads.

Round 5 (issue 11, 2026-12-04 15:50-16:40 UTC, before = 3de435f, after = this commit). perf of the
steps alone (samples under train_step) showed what was left besides OpenBLAS's kernel: its packing
(~12%, each block of rows repacking the other operand), copies and zero fills (~6%), and sums
waiting on their own previous addition. Changed, every one keeping the training losses bit for
bit (compared on 3-step runs of this config at 1 and 2 threads):
  - cross-entropy's logsumexp and LayerNorm's rows 8 at a time, attention's scores 4 rows at a
    time: each row's sum still left to right, the rows' chains interleaved;
  - no xarray round trips in residual_add, no copy of a temporary in reshaped (the 16 MB logits
    and dlogits), the residual backward into zeros as a copy, the optimizer stepping the
    parameters and gradients in place of three 17 MB copies a step, matmul's output filled with
    the bias without zeroing it first, the bias gradient and clip_grad_norm's sum a vector at a
    time;
  - GEMMs in blocks of at most 512 rows (was 256: half the repacking), of equal size, two at
    least from 256 on, cut along rows or columns by which repacks less — so that mlp.c_proj's and
    attn.c_proj's weight gradients use both threads, and c_attn's splits 384 + 384.
llmlab alone, min ms/step of `--steps 8` runs, median of 3-4 alternated runs: 1 thread 409-462
(before) -> 352-365; 2 threads 297-425 -> 222-227. This script, `--steps 10 --repeat 7` (16:37,
load 0.9-1.6):

    1 thread : 1.064x (1.222, 1.030, 0.951, 1.100, 1.078, 1.087, 1.046; llmlab 372 ms, PyTorch
               396); fastest step 338.5 against 363.3 ms: 1.073x
    2 threads: 1.513x (1.060, 1.509, 1.749, 1.514, 1.639, 2.251, 1.293; llmlab 240 ms, PyTorch
               363); fastest step 205.2 against 240.6 ms: 1.173x

and again at 17:09-17:10 (load 1.2-1.5), with the equal blocks:

    1 thread : 1.038x (1.119, 1.100, 1.173, 1.005, 1.084, 1.088, 1.065; llmlab 384 ms, PyTorch
               399); fastest step 342.6 against 368.0 ms: 1.074x
    2 threads: 1.292x (1.476, 0.937, 1.315, 1.229, 1.344, 1.292, 1.202; llmlab 295 ms, PyTorch
               381); fastest step 226.5 against 248.8 ms: 1.098x

So the goal (>= 1.0x at 1 and 2 threads) is met, at 1 thread by a margin (4-7%) smaller than one
run's noise on this machine: single runs' ratios span 0.95-1.22. PyTorch's GEMMs are the same
OpenBLAS kernel (perf: 45% of its samples), so what separates the two is everything else. The
PyTorch side at 2 threads suffers more from a busy neighbour (its median steps 254-484 ms).

`--backend emu` times llmlab::cuda::Gpt under the emulator instead (the CUDA kernels on the CPU:
give it a tiny config, e.g. --layers 1 --embd 32 --heads 2 --context 32 --vocab 300 --batch 8,
where it measured 600 … 1,250 tokens/s on 2 shared, busy cores, ref 16,000 … 73,000);
`--backend gpu` on a GPU.
"""

import argparse
import json
import math
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

# Both sides' OpenMP threads sleep when they wait, rather than spin (libgomp reads this once, as
# it loads: before torch is imported, and inherited by llmlab): on a machine shared with other
# work, a spinning thread holds a core that the other thread, or another process, needs — llmlab
# at 2 threads spent 3-4x its CPU time spinning. Set it in the environment to compare another.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")


def threads_from_argv():
    """--threads N of the command line (1 when absent), read before torch loads: see below."""
    for i, arg in enumerate(sys.argv):
        if arg == "--threads" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if arg.startswith("--threads="):
            return arg.split("=", 1)[1]
    return "1"


# PyTorch's GEMMs are OpenBLAS's (this Debian build: BLAS_INFO=generic, libblas.so.3 -> OpenBLAS),
# and torch.set_num_threads does not reach OpenBLAS: left alone, OpenBLAS starts one thread per
# core as torch loads, and "1 thread" PyTorch ran its GEMMs on 2 cores (perf: 14% of its samples
# in the second thread's sched_yield). OpenBLAS reads this once, as it loads — before the import.
os.environ["OPENBLAS_NUM_THREADS"] = threads_from_argv()

import torch  # noqa: E402 (after the environment above)
import torch.nn.functional as F  # noqa: E402


def torch_step_ms(a, V, steps):
    torch.manual_seed(0)
    C, T, L, H = a.embd, a.context, a.layers, a.heads
    P = {"wte": torch.randn(V, C) * 0.02, "wpe": torch.randn(T, C) * 0.02}
    for i in range(L):
        P |= {f"{i}.w_attn": torch.randn(3 * C, C) * 0.02, f"{i}.b_attn": torch.zeros(3 * C),
              f"{i}.w_aproj": torch.randn(C, C) * 0.02, f"{i}.b_aproj": torch.zeros(C),
              f"{i}.w_fc": torch.randn(4 * C, C) * 0.02, f"{i}.b_fc": torch.zeros(4 * C),
              f"{i}.w_proj": torch.randn(C, 4 * C) * 0.02, f"{i}.b_proj": torch.zeros(C),
              f"{i}.ln1w": torch.ones(C), f"{i}.ln1b": torch.zeros(C),
              f"{i}.ln2w": torch.ones(C), f"{i}.ln2b": torch.zeros(C)}
    P |= {"lnfw": torch.ones(C), "lnfb": torch.zeros(C)}
    for t in P.values():
        t.requires_grad_()
    opt = torch.optim.AdamW(list(P.values()), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.1)
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
    B = a.batch
    times = []
    for _ in range(steps):
        ids = torch.randint(0, V, (B, T))
        targets = torch.randint(0, V, (B, T))
        t0 = time.perf_counter()
        x = P["wte"][ids] + P["wpe"][:T]
        for i in range(L):
            h = F.layer_norm(x, (C,), P[f"{i}.ln1w"], P[f"{i}.ln1b"])
            q, k, v = F.linear(h, P[f"{i}.w_attn"], P[f"{i}.b_attn"]).split(C, dim=2)
            q, k, v = (z.view(B, T, H, C // H).transpose(1, 2) for z in (q, k, v))
            s = (q @ k.transpose(-1, -2) / math.sqrt(C // H)).masked_fill(mask, float("-inf"))
            y = (torch.softmax(s, -1) @ v).transpose(1, 2).reshape(B, T, C)
            x = x + F.linear(y, P[f"{i}.w_aproj"], P[f"{i}.b_aproj"])
            h = F.layer_norm(x, (C,), P[f"{i}.ln2w"], P[f"{i}.ln2b"])
            x = x + F.linear(F.gelu(F.linear(h, P[f"{i}.w_fc"], P[f"{i}.b_fc"]), approximate="tanh"),
                             P[f"{i}.w_proj"], P[f"{i}.b_proj"])
        logits = F.layer_norm(x, (C,), P["lnfw"], P["lnfb"]) @ P["wte"].T
        loss = F.cross_entropy(logits.view(-1, V), targets.view(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(P.values()), 1.0)
        opt.step()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times[1:]), min(times[1:])


def llmlab_step_ms(a):
    """Median and least ms of llmlab's steps after the first, and the vocabulary size it trained."""
    texts = sorted(str(f) for f in pathlib.Path("/usr/share/common-licenses").iterdir() if f.is_file())
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(a.threads),
                   OMP_NUM_THREADS=str(a.threads))
        subprocess.run([str(a.llmlab), "train", "--data", *texts, "--delimiter", "blank", "--vocab-size", str(a.vocab),
                        "--layers", str(a.layers), "--heads", str(a.heads), "--embd", str(a.embd),
                        "--context", str(a.context), "--batch", str(a.batch),
                        "--steps", str(a.steps), "--eval-every", str(10 ** 9), "--out", d + "/run",
                        "--backend", a.backend, "--threads", str(a.threads)],
                       check=True, env=env, stdout=subprocess.DEVNULL)
        metrics = [json.loads(x) for x in pathlib.Path(d, "run", "metrics.jsonl").read_text().split("\n") if x]
        V = len(pathlib.Path(d, "run", "tokenizer.tiktoken").read_text().splitlines()) + len(
            json.loads(pathlib.Path(d, "run", "tokenizer.tiktoken.specials.json").read_text()))
        ms = [m["ms"] for m in metrics[1:]]
        return statistics.median(ms), min(ms), V


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--llmlab", type=pathlib.Path, default=pathlib.Path("build/default/apps/llmlab"))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--repeat", type=int, default=3, help="alternated llmlab / PyTorch runs")
    p.add_argument("--backend", choices=["ref", "emu", "gpu"], default="ref")
    for name, default in [("layers", 4), ("embd", 256), ("heads", 4), ("context", 128),
                          ("vocab", 4096), ("batch", 8)]:
        p.add_argument(f"--{name}", type=int, default=default)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    tokens = a.batch * a.context
    ours, theirs, ours_best, theirs_best = [], [], [], []
    for r in range(a.repeat):  # alternated, so that a busy spell of a shared machine hits both
        ms, best, V = llmlab_step_ms(a)
        ours.append(ms)
        ours_best.append(best)
        ms, best = torch_step_ms(a, V, a.steps)
        theirs.append(ms)
        theirs_best.append(best)
        print(f"run {r + 1}: llmlab {ours[-1]:8.1f} ms/step, PyTorch {theirs[-1]:8.1f} ms/step, "
              f"ratio {theirs[-1] / ours[-1]:.3f}x (fastest steps {ours_best[-1]:.1f}, "
              f"{theirs_best[-1]:.1f} ms)", flush=True)
    ours_ms, theirs_ms = statistics.median(ours), statistics.median(theirs)
    print(f"config: {a.layers} layers, width {a.embd}, {a.heads} heads, context {a.context}, "
          f"vocab {V}, batch {a.batch}; {a.threads} thread(s); median of {a.steps - 1} steps, "
          f"then of {a.repeat} runs")
    print(f"llmlab train ({a.backend}): {ours_ms:8.1f} ms/step  {tokens / ours_ms * 1e3:9.0f} tokens/s")
    print(f"PyTorch (CPU)     : {theirs_ms:8.1f} ms/step  {tokens / theirs_ms * 1e3:9.0f} tokens/s")
    print(f"ratio llmlab / PyTorch tokens/s: {theirs_ms / ours_ms:.3f}x "
          f"(per run: {', '.join(f'{t / o:.3f}' for o, t in zip(ours, theirs))})")
    # The fastest step of all runs, each side: the least disturbed by other work on the machine
    # (what timeit reports, and for the same reason) — a second view, not a replacement.
    print(f"fastest step: llmlab {min(ours_best):.1f} ms, PyTorch {min(theirs_best):.1f} ms, "
          f"ratio {min(theirs_best) / min(ours_best):.3f}x")


if __name__ == "__main__":
    main()
