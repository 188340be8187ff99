/// \file
/// \brief matmul, \f$ y = x W^\top + b \f$: the reference on the CPU (triple loop and BLAS, forward
/// and backward) and the kernels; every benchmark reports its FLOP rate (2 · N · in · out per
/// forward, twice that per backward). Inputs are matmul's seeded cases (its one description,
/// llmlab/testing/matmul_case.hpp), x and W ~ U(±1).
///
/// Built twice:
/// - `matmul_bench` (g++, emulated kernels): the reference at (N, in, out) = (64, 768, 768) and
///   every kernel version at (64, 256, 128). The emulated timings measure the emulator on this CPU
///   (fibers, barriers), not a GPU.
/// - `matmul_bench_gpu` (this file compiled by nvcc against the GPU kernels, when nvcc is found):
///   additionally every version, cuBLAS (version 0) included, at GPT-2's MLP up-projection
///   (8192, 768, 3072) in fp32 and bf16, timed with CUDA events, and prints the achieved TFLOP/s
///   next to the device's peak (fp32: SMs × 128 or 64 lanes × 2 × clock; bf16 tensor cores: a table
///   for sm_80 and sm_90).

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "compute_peak.hpp"
#include "event_timing.hpp"
#include "llmlab/core/dtype.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/matmul.cuh"
#include "llmlab/ref/matmul.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/matmul_case.hpp"
#include "llmlab/testing/values.hpp"

namespace {

using llmlab::DType;
using llmlab::testing::device_values;
using llmlab::testing::DeviceBuffer;
using llmlab::testing::make_matmul_case;
using llmlab::testing::MatmulCase;
using llmlab::testing::matrix;
using llmlab::testing::tensor;

/// FLOPs of one forward: one multiply and one add per product.
double forward_flops(std::int64_t N, std::int64_t in, std::int64_t out) {
  return 2.0 * static_cast<double>(N) * static_cast<double>(in) * static_cast<double>(out);
}

// ---- the reference on the CPU -------------------------------------------------------------------

constexpr std::int64_t kN = 64, kIn = 768, kOut = 768;  // 64 tokens of a GPT-2 small projection

/// state.range(0): 0 = triple loop, 1 = BLAS.
template <class T>
void reference_forward(benchmark::State& state) {
  const bool blas = state.range(0) == 1;
  const MatmulCase k = make_matmul_case({kN, kIn, kOut}, DType::f32);
  const auto x = matrix<T>(k.x, kN, kIn), w = matrix<T>(k.w, kOut, kIn);
  const auto b = tensor<T>(k.b);
  for (auto _ : state) {
    auto y =
        blas ? llmlab::ref::matmul_forward_blas(x, w, b) : llmlab::ref::matmul_forward(x, w, b);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["FLOP/s"] = benchmark::Counter(forward_flops(kN, kIn, kOut),
                                                benchmark::Counter::kIsIterationInvariantRate);
}

template <class T>
void reference_backward(benchmark::State& state) {
  const bool blas = state.range(0) == 1;
  const MatmulCase k = make_matmul_case({kN, kIn, kOut}, DType::f32);
  const auto x = matrix<T>(k.x, kN, kIn), w = matrix<T>(k.w, kOut, kIn);
  const auto dy = matrix<T>(k.dy, kN, kOut);
  xt::xtensor<T, 2> dx = xt::zeros<T>(x.shape()), dw = xt::zeros<T>(w.shape());
  xt::xtensor<T, 1> db = xt::zeros<T>({static_cast<std::size_t>(kOut)});
  for (auto _ : state) {
    if (blas)
      llmlab::ref::matmul_backward_blas(dy, x, w, dx, dw, db);
    else
      llmlab::ref::matmul_backward(dy, x, w, dx, dw, db);
    benchmark::DoNotOptimize(dx.data());
  }
  state.counters["FLOP/s"] = benchmark::Counter(2 * forward_flops(kN, kIn, kOut),
                                                benchmark::Counter::kIsIterationInvariantRate);
}

// ---- the kernels --------------------------------------------------------------------------------

/// x, W, b and y of one shape in device memory, T = float or __nv_bfloat16, from matmul's case.
template <class T>
struct DeviceProblem {
  std::int64_t N, in, out;
  DeviceBuffer<T> x, w, b, y;
  DeviceProblem(const MatmulCase& k)
      : N(k.shape.N),
        in(k.shape.in),
        out(k.shape.out),
        x(device_values<T>(k.x)),
        w(device_values<T>(k.w)),
        b(device_values<T>(k.b)),
        y(N * out) {}
  /// matmul's case of (N, in, out) in T's dtype.
  DeviceProblem(std::int64_t n, std::int64_t i, std::int64_t o)
      : DeviceProblem(make_matmul_case({n, i, o}, sizeof(T) == 2 ? DType::bf16 : DType::f32)) {}

  cudaError_t run(int version) const {
    return llmlab::cuda::matmul_forward(x.cget(), w.cget(), b.cget(), y.get(), N, in, out, version);
  }
};

/// Kernel version state.range(0) at (64, 256, 128), timed on the host clock (under the emulator
/// the pool threads do the work, not the calling thread).
template <class T>
void emulated_kernel(benchmark::State& state) {
  const DeviceProblem<T> p(64, 256, 128);
  for (auto _ : state) {
    if (p.run(static_cast<int>(state.range(0))) != cudaSuccess) {
      state.SkipWithError("matmul_forward failed");
      break;
    }
    cudaDeviceSynchronize();
  }
  state.counters["FLOP/s"] = benchmark::Counter(forward_flops(p.N, p.in, p.out),
                                                benchmark::Counter::kIsIterationInvariantRate);
}

#if !LLMLAB_EMULATED
using llmlab::bench::device_peak;
using llmlab::bench::Peak;

/// GPT-2 small's MLP up-projection for 8 × 1024 tokens; version state.range(0), timed with events.
template <class T>
void gpu_kernel(benchmark::State& state) {
  const DeviceProblem<T> p(8192, 768, 3072);
  const int version = static_cast<int>(state.range(0));
  // The warm-up run also creates the cuBLAS handle (version 0).
  llmlab::bench::time_with_cuda_events(state, "matmul_forward failed", [&] { return p.run(version); });
  const Peak peak = device_peak();
  const double peak_tflops = sizeof(T) == 4 ? peak.fp32 : peak.bf16;
  state.counters["FLOP/s"] = benchmark::Counter(forward_flops(p.N, p.in, p.out),
                                                benchmark::Counter::kIsIterationInvariantRate);
  state.counters["peak_TFLOP/s"] = peak_tflops;
  state.SetLabel(std::string(peak.name) +
                 (sizeof(T) == 4 ? ", peak fp32 (CUDA cores)" : ", peak bf16 (tensor cores)"));
}
#endif

}  // namespace

BENCHMARK_TEMPLATE(reference_forward, float)
    ->Name("matmul/reference_forward_f32")
    ->Arg(0)
    ->Arg(1)
    ->ArgName("blas")
    ->UseRealTime()  // BLAS runs on OpenBLAS's threads too
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(reference_forward, double)
    ->Name("matmul/reference_forward_f64")
    ->Arg(0)
    ->Arg(1)
    ->ArgName("blas")
    ->UseRealTime()  // BLAS runs on OpenBLAS's threads too
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(reference_backward, float)
    ->Name("matmul/reference_backward_f32")
    ->Arg(0)
    ->Arg(1)
    ->ArgName("blas")
    ->UseRealTime()  // BLAS runs on OpenBLAS's threads too
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(emulated_kernel, float)
    ->Name(LLMLAB_EMULATED ? "matmul/emulated_f32" : "matmul/small_f32")
    ->DenseRange(1, llmlab::cuda::matmul_versions)
    ->ArgName("v")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(emulated_kernel, __nv_bfloat16)
    ->Name(LLMLAB_EMULATED ? "matmul/emulated_bf16" : "matmul/small_bf16")
    ->DenseRange(1, llmlab::cuda::matmul_versions)
    ->ArgName("v")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
#if !LLMLAB_EMULATED
BENCHMARK_TEMPLATE(gpu_kernel, float)
    ->Name("matmul/gpu_f32_8192x768x3072")
    ->DenseRange(0, llmlab::cuda::matmul_versions)
    ->ArgName("v")
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(gpu_kernel, __nv_bfloat16)
    ->Name("matmul/gpu_bf16_8192x768x3072")
    ->DenseRange(0, llmlab::cuda::matmul_versions)
    ->ArgName("v")
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
#endif

BENCHMARK_MAIN();
