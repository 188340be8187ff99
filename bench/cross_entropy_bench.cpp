/// \file
/// \brief cross-entropy forward and backward over GPT-2's vocabulary (V = 50257): the reference in
/// float on 4 rows, and both kernel versions — v1 unfused through a (rows, V) fp32 workspace, v2
/// fused — fp32 and bf16 logits, on 8 rows under the emulator and 8 · 1024 rows on a GPU.
///
/// Every kernel benchmark reports the bytes its version moves per logit (`bytes/logit`, the
/// model below) beside the minimum any implementation must move (`min_bytes/logit`), and two
/// rates: bytes_per_second (what the version moves) and min_bytes_per_second (the minimum's bytes
/// over the same time: the rate that compares versions, since a version that moves less gets no
/// credit for traffic it avoided). With s = sizeof(logit), per logit:
/// - forward v1: log-softmax reads x three times (max, sum, write) and writes log q in fp32:
///   3s + 4; v2 reads x once: s (the minimum);
/// - backward v1: reads x, writes q (fp32), reads q, writes dlogits: 2s + 8; v2 reads x and writes
///   dlogits: 2s (the minimum).
/// The per-row values (targets, lse, losses, dlosses: B·T of them) are left out: V times fewer.
/// v1's timing includes its workspace's cudaMalloc and cudaFree.
///
/// The emulated timings measure the emulator on this CPU, not a GPU. Compiled by nvcc
/// (cross_entropy_bench_gpu) it times the GPU kernels and prints peak_GB/s beside the rates.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <xtensor/xtensor.hpp>

#include "bandwidth.hpp"
#include "llmlab/cuda/cross_entropy.cuh"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/ref/cross_entropy.hpp"
#include "llmlab/testing/cross_entropy_case.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/values.hpp"

namespace {

using llmlab::DType;
using llmlab::testing::CrossEntropyCase;
using llmlab::testing::device_values;
using llmlab::testing::DeviceBuffer;

constexpr std::int64_t V = 50257;
constexpr std::int64_t kReferenceRows = 4;
/// Rows of the kernels' case (B = 1, T = rows): 8 under the emulator, 8 · 1024 on a GPU.
constexpr std::int64_t kKernelRows = LLMLAB_EMULATED ? 8 : 8 * 1024;

/// cross_entropy's seeded case on `rows` positions, logits ~ U(±4) (its description,
/// llmlab/testing/cross_entropy_case.hpp).
CrossEntropyCase bench_case(std::int64_t rows, DType dtype) {
  return llmlab::testing::make_cross_entropy_case({1, rows, V, 4}, dtype);
}

void reference_forward_f32(benchmark::State& state) {
  const CrossEntropyCase k = bench_case(kReferenceRows, DType::f32);
  const auto logits = llmlab::testing::tensor<float>(k.logits, k.logits_shape());
  const auto targets = k.targets_tensor();
  for (auto _ : state) {
    auto losses = llmlab::ref::cross_entropy_forward(logits, targets);
    benchmark::DoNotOptimize(losses.data());
  }
  state.SetBytesProcessed(state.iterations() * kReferenceRows * V * 4);
}

/// The dtype of device element type T.
template <class T>
constexpr DType dtype_of = sizeof(T) == 2 ? DType::bf16 : DType::f32;

/// The kernels' case in T's dtype, made once.
template <class T>
const CrossEntropyCase& kernel_case() {
  static const CrossEntropyCase k = bench_case(kKernelRows, dtype_of<T>);
  return k;
}

/// Sets the byte counters of a kernel benchmark: `bytes` and `minimum` per logit.
void count_bytes(benchmark::State& state, std::int64_t bytes, std::int64_t minimum) {
  const std::int64_t logits = kKernelRows * V;
  state.SetBytesProcessed(state.iterations() * logits * bytes);
  state.counters["bytes/logit"] = static_cast<double>(bytes);
  state.counters["min_bytes/logit"] = static_cast<double>(minimum);
  state.counters["min_bytes_per_second"] = benchmark::Counter(
      static_cast<double>(state.iterations() * logits * minimum), benchmark::Counter::kIsRate);
  llmlab::bench::report_peak(state);
}

/// Forward version state.range(0) on the kernels' case.
template <class T>
void kernel_forward(benchmark::State& state) {
  const int version = static_cast<int>(state.range(0));
  const CrossEntropyCase& k = kernel_case<T>();
  DeviceBuffer<T> logits(device_values<T>(k.logits));
  DeviceBuffer<std::int32_t> targets(k.targets);
  DeviceBuffer<float> losses(kKernelRows), lse(kKernelRows);
  for (auto _ : state) {
    if (llmlab::cuda::cross_entropy_forward(
            logits.cget(), targets.cget(), losses.get(), lse.get(), 1, kKernelRows, V,
            llmlab::cuda::kCrossEntropyIgnoreIndex, version) != cudaSuccess) {
      state.SkipWithError("cross_entropy_forward failed");
      break;
    }
    cudaDeviceSynchronize();
  }
  constexpr std::int64_t s = sizeof(T);
  count_bytes(state, version == 1 ? 3 * s + 4 : s, s);
}

/// Backward version state.range(0) on the kernels' case, dlogits into their own buffer (in place
/// would change the logits between iterations; the bytes are the same).
template <class T>
void kernel_backward(benchmark::State& state) {
  const int version = static_cast<int>(state.range(0));
  const CrossEntropyCase& k = kernel_case<T>();
  DeviceBuffer<T> logits(device_values<T>(k.logits)), dlogits(kKernelRows * V);
  DeviceBuffer<std::int32_t> targets(k.targets);
  DeviceBuffer<float> lse(k.lse), dlosses(k.dlosses);
  for (auto _ : state) {
    if (llmlab::cuda::cross_entropy_backward(
            logits.cget(), targets.cget(), lse.cget(), dlosses.cget(), dlogits.get(), 1,
            kKernelRows, V, llmlab::cuda::kCrossEntropyIgnoreIndex, version) != cudaSuccess) {
      state.SkipWithError("cross_entropy_backward failed");
      break;
    }
    cudaDeviceSynchronize();
  }
  constexpr std::int64_t s = sizeof(T);
  count_bytes(state, version == 1 ? 2 * s + 8 : 2 * s, 2 * s);
}

}  // namespace

BENCHMARK(reference_forward_f32)
    ->Name("cross_entropy/reference_forward_f32")
    ->Unit(benchmark::kMillisecond);
// UseRealTime: the emulator's pool threads do the work, not the calling thread.
BENCHMARK(kernel_forward<float>)
    ->Name(LLMLAB_EMULATED ? "cross_entropy/emulated_forward_f32" : "cross_entropy/gpu_forward_f32")
    ->DenseRange(1, llmlab::cuda::cross_entropy_forward_versions)
    ->ArgName("v")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(kernel_forward<__nv_bfloat16>)
    ->Name(LLMLAB_EMULATED ? "cross_entropy/emulated_forward_bf16"
                           : "cross_entropy/gpu_forward_bf16")
    ->DenseRange(1, llmlab::cuda::cross_entropy_forward_versions)
    ->ArgName("v")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(kernel_backward<float>)
    ->Name(LLMLAB_EMULATED ? "cross_entropy/emulated_backward_f32"
                           : "cross_entropy/gpu_backward_f32")
    ->DenseRange(1, llmlab::cuda::cross_entropy_backward_versions)
    ->ArgName("v")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(kernel_backward<__nv_bfloat16>)
    ->Name(LLMLAB_EMULATED ? "cross_entropy/emulated_backward_bf16"
                           : "cross_entropy/gpu_backward_bf16")
    ->DenseRange(1, llmlab::cuda::cross_entropy_backward_versions)
    ->ArgName("v")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
