"""llmlab.emu's memory-traffic counters (docs/emulator.md "Memory-traffic counters") on the matmul
kernels, against counts worked out by hand for x (64, 64), W (64, 64), no bias, fp32."""

import pytest

import llmlab
import numpy as np

pytestmark = pytest.mark.skipif(not llmlab.emu.profile_available(),
                                reason="no access hooks in this build (asan): no counters")

N = IN = OUT = 64


def traffic(rng, version, flops=None):
    x = rng.uniform(-1, 1, (N, IN)).astype(np.float32)
    w = rng.uniform(-1, 1, (OUT, IN)).astype(np.float32)
    with llmlab.emu.profiling():
        if flops is not None:
            llmlab.emu.annotate_next_launch_flops(flops)
        llmlab.cuda.matmul_forward(x, w, version=version)
    (name, k), = ((n, k) for n, k in llmlab.emu.profile().items() if f"gemm_v{version}<" in n)
    return k


def test_naive_v1_reads_a_sector_per_lane_for_x_and_broadcasts_w(rng):
    k = traffic(rng, 1)
    # 32 × 8 blocks on a 64 × 64 result: 128 warps, each 32 rows (lanes) × 1 column. Per step k a
    # warp loads x[row·64 + k] (lanes 256 bytes apart: 32 sectors) and W[col·64 + k] (one address:
    # 1 sector) — 2 requests, 33 sectors; 64 steps.
    assert k["launches"] == 1
    assert k["global_load"]["requests"] == 128 * 64 * 2
    assert k["global_load"]["sectors"] == 128 * 64 * 33
    assert k["global_load"]["ideal_sectors"] == 128 * 64 * (4 + 1)
    # Its store of y[row·64 + col]: 32 lanes 256 bytes apart, 32 sectors per warp.
    assert k["global_store"]["requests"] == 128
    assert k["global_store"]["sectors"] == 128 * 32
    assert k["shared_load"]["requests"] == 0


def test_tiled_v3_loads_each_tile_once_without_bank_conflicts(rng):
    k = traffic(rng, 3, flops=2 * N * IN * OUT)
    # 2 × 2 blocks of 32 warps, 2 depth steps: per step each warp loads a 128-byte row of the x
    # tile and of the W tile (4 sectors each).
    assert k["global_load"]["requests"] == 4 * 2 * 32 * 2
    assert k["global_load"]["sectors"] == 4 * 2 * 32 * 2 * 4
    assert k["global_load"]["sectors"] == k["global_load"]["ideal_sectors"]
    assert k["global_store"]["sectors"] == 4 * 32 * 4
    # Shared stores: rows of Ls (32 banks) and columns of the 33-wide Rs (32 banks): 1 wavefront.
    assert k["shared_store"]["requests"] == 4 * 2 * 32 * 2
    assert k["shared_store"]["bank_conflicts"] == 0
    # Shared loads: Ls[ty][kk] (one word: broadcast) and Rs[kk][tx] (32 banks), 32 kk per step.
    assert k["shared_load"]["requests"] == 4 * 2 * 32 * 32 * 2
    assert k["shared_load"]["wavefronts"] == k["shared_load"]["requests"]
    assert k["shared_load"]["bank_conflicts"] == 0
    assert k["flops"] == 2 * N * IN * OUT


def test_the_counters_are_off_outside_profiling(rng):
    llmlab.emu.reset_profile()
    x = rng.uniform(-1, 1, (4, 8)).astype(np.float32)
    llmlab.cuda.matmul_forward(x, x, version=1)
    assert llmlab.emu.profile() == {}
    assert "0 kernel(s)" in llmlab.emu.profile_table()


def test_bad_flops_name_the_argument():
    with pytest.raises(ValueError, match="flops"):
        llmlab.emu.annotate_next_launch_flops(-1.0)


def test_device_peaks_follow_llmlab_emu_device(monkeypatch):
    monkeypatch.setenv("LLMLAB_EMU_DEVICE", "a100")
    a100 = llmlab.emu.device_peaks()
    assert a100["fp32_flops_per_s"] == pytest.approx(19.49e12, rel=1e-3)
    assert a100["dram_bytes_per_s"] == pytest.approx(2.039e12, rel=1e-3)
    monkeypatch.setenv("LLMLAB_EMU_DEVICE", "h100")
    assert llmlab.emu.device_peaks()["dram_bytes_per_s"] == pytest.approx(3.352e12, rel=1e-3)
