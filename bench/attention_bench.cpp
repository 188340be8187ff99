/// \file
/// \brief attention, \f$ O = \mathrm{softmax}(QK^\top/\sqrt{D})\,V \f$, forward and backward: the
/// reference on the CPU and every kernel version; every benchmark reports its FLOP rate with
/// FlashAttention's count — 4·B·H·T²·D per forward (\f$ QK^\top \f$ and PV, a multiply and an add
/// each), halved when causal, and 2.5× that per backward. Inputs are attention's seeded cases (its
/// one description, llmlab/testing/attention_case.hpp).
///
/// Built twice:
/// - `attention_bench` (g++, emulated kernels): the reference in float and every version, fp32
///   and bf16, at B·H = 8, T = 256, D = 64, causal — and that case's forward + backward in one
///   iteration, the chapter's CPU goal (under 2 s). The emulated timings measure the emulator on
///   this CPU (fibers, barriers), not a GPU.
/// - `attention_bench_gpu` (this file compiled by nvcc, when nvcc is found): the flash forward and
///   backward in bf16 at T = 1k … 8k, D = 64 and 128, B·H = 16, causal, timed with CUDA events,
///   with the achieved TFLOP/s next to the device's dense bf16 peak. The goal: ≥ 50 % of it for
///   the forward at T ≥ 2k (FlashAttention-2 reports 50–73 % on an A100 with tensor cores; these
///   teaching kernels use none, so expect far less).

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <xtensor/xarray.hpp>

#include "compute_peak.hpp"
#include "event_timing.hpp"
#include "llmlab/core/dtype.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/cuda/attention.cuh"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/ref/attention.hpp"
#include "llmlab/testing/attention_case.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/values.hpp"

namespace {

using llmlab::DType;
using llmlab::testing::AttentionCase;
using llmlab::testing::AttentionShape;
using llmlab::testing::device_values;
using llmlab::testing::DeviceBuffer;

/// FLOPs of one forward: 4·B·H·T²·D, half of it when causal (the masked half is skipped).
double forward_flops(const AttentionShape& s) {
  const double f = 4.0 * static_cast<double>(s.B * s.H) * static_cast<double>(s.T) *
                   static_cast<double>(s.T) * static_cast<double>(s.D);
  return s.causal ? f / 2 : f;
}

/// The FLOP/s counter of `flops` per iteration.
benchmark::Counter rate(double flops) {
  return benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
}

/// The CPU goal's case: B·H = 8 (B = 2, H = 4), T = 256, D = 64, causal.
constexpr AttentionShape kEmulated{2, 4, 256, 64, true};

/// Device buffers of one problem in element type E: q, k, v and dout ~ U(±1) from the seeded
/// generator (no reference run: at T = 8k one in double would take minutes), and out and lse from
/// one forward of the launcher's best version, as a training step hands them to the backward.
template <class E>
struct DeviceProblem {
  AttentionShape s;
  DeviceBuffer<E> q, k, v, dout, out, dq, dk, dv;
  DeviceBuffer<float> lse;
  explicit DeviceProblem(const AttentionShape& shape)
      : s(shape),
        q(values(1)),
        k(values(2)),
        v(values(3)),
        dout(values(4)),
        out(s.elements()),
        dq(s.elements()),
        dk(s.elements()),
        dv(s.elements()),
        lse(s.B * s.H * s.T) {
    forward(0);
  }
  /// Seeded U(±1) values of one (B, H, T, D) tensor in E's device representation.
  auto values(std::uint64_t which) const {
    llmlab::Rng rng(0xa77e'b000u + which);
    auto x = rng.uniform_floats(static_cast<std::size_t>(s.elements()));
    return device_values<E>(x);
  }

  cudaError_t forward(int version) const {
    return llmlab::cuda::attention_forward(q.cget(), k.cget(), v.cget(), out.get(), lse.get(), s.B,
                                           s.H, s.T, s.D, s.causal, version);
  }
  cudaError_t backward(int version) const {
    return llmlab::cuda::attention_backward(dout.cget(), q.cget(), k.cget(), v.cget(), out.cget(),
                                            lse.cget(), dq.get(), dk.get(), dv.get(), s.B, s.H, s.T,
                                            s.D, s.causal, version);
  }
};

/// The reference in float at the emulated case: forward (range 0) or backward (range 1).
void reference(benchmark::State& state) {
  const AttentionCase c = llmlab::testing::make_attention_case(kEmulated, DType::f32);
  const auto q = llmlab::testing::heads<float>(c.q, kEmulated),
             k = llmlab::testing::heads<float>(c.k, kEmulated),
             v = llmlab::testing::heads<float>(c.v, kEmulated);
  const bool backward = state.range(0) == 1;
  const auto f = llmlab::ref::attention_forward(q, k, v, true);
  const auto dout = llmlab::testing::heads<float>(c.dout, kEmulated);
  for (auto _ : state) {
    if (backward) {
      auto g = llmlab::ref::attention_backward(dout, q, k, v, f.out, f.lse, true);
      benchmark::DoNotOptimize(g.dq.data());
    } else {
      auto r = llmlab::ref::attention_forward(q, k, v, true);
      benchmark::DoNotOptimize(r.out.data());
    }
  }
  state.counters["FLOP/s"] = rate(forward_flops(kEmulated) * (backward ? 2.5 : 1.0));
}

/// Emulated version state.range(0): forward (state.range(1) = 0), backward (1), or forward and
/// backward in one iteration (2: the chapter's CPU goal).
template <class E>
void emulated(benchmark::State& state) {
  const DeviceProblem<E> p(kEmulated);
  const int version = static_cast<int>(state.range(0));
  const auto what = state.range(1);
  for (auto _ : state) {
    cudaError_t err = cudaSuccess;
    if (what != 1) err = p.forward(version);
    if (err == cudaSuccess && what != 0) err = p.backward(version);
    if (err != cudaSuccess) {
      state.SkipWithError("attention failed");
      break;
    }
    cudaDeviceSynchronize();
  }
  const double f = forward_flops(kEmulated);
  state.counters["FLOP/s"] = rate(what == 0 ? f : what == 1 ? 2.5 * f : 3.5 * f);
}

#if !LLMLAB_EMULATED
/// The flash version in bf16 at T = state.range(0), D = state.range(1), B·H = 16, causal:
/// forward (state.range(2) = 0) or backward (1), timed with CUDA events.
void gpu_flash(benchmark::State& state) {
  const AttentionShape shape{2, 8, state.range(0), state.range(1), true};
  const DeviceProblem<__nv_bfloat16> p(shape);
  const bool backward = state.range(2) == 1;
  llmlab::bench::time_with_cuda_events(state, "attention failed",
                                       [&] { return backward ? p.backward(2) : p.forward(2); });
  const llmlab::bench::Peak peak = llmlab::bench::device_peak();
  state.counters["FLOP/s"] = rate(forward_flops(shape) * (backward ? 2.5 : 1.0));
  state.counters["peak_TFLOP/s"] = peak.bf16;
  state.SetLabel(std::string(peak.name) + ", peak bf16 (tensor cores, dense)");
}
#endif

}  // namespace

BENCHMARK(reference)
    ->Name("attention/reference_f32")
    ->Arg(0)
    ->Arg(1)
    ->ArgName("backward")
    ->Unit(benchmark::kMillisecond);
// UseRealTime: the emulator's pool threads do the work, not the calling thread.
BENCHMARK_TEMPLATE(emulated, float)
    ->Name(LLMLAB_EMULATED ? "attention/emulated_f32" : "attention/gpu_small_f32")
    ->ArgsProduct({{1, 2}, {0, 1, 2}})
    ->ArgNames({"v", "fwd0_bwd1_both2"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(emulated, __nv_bfloat16)
    ->Name(LLMLAB_EMULATED ? "attention/emulated_bf16" : "attention/gpu_small_bf16")
    ->ArgsProduct({{1, 2}, {0, 1}})
    ->ArgNames({"v", "fwd0_bwd1_both2"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
#if !LLMLAB_EMULATED
BENCHMARK(gpu_flash)
    ->Name("attention/gpu_flash_bf16")
    ->ArgsProduct({{1024, 2048, 4096, 8192}, {64, 128}, {0, 1}})
    ->ArgNames({"T", "D", "backward"})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
#endif

BENCHMARK_MAIN();
