/// \file
/// \brief softmax forward and backward on rows of C = 1024 (a context of 1024 tokens' attention
/// scores): the reference in float on 256 rows, and every kernel version, fp32 and bf16, on 64 rows
/// under the emulator. Bytes processed: forward reads x and writes y; backward reads dy and y and
/// reads and writes dx (R·C elements each).
///
/// The emulated timings measure the emulator on this CPU (fibers, shuffles), not a GPU: they
/// show what each version costs to *emulate*, which is not its GPU speed. Compiled by nvcc
/// (softmax_bench_gpu) it times the GPU kernels on 8 · 1024 rows and prints the achieved
/// bytes_per_second next to the device's peak_GB/s (softmax is memory-bound).

#include <benchmark/benchmark.h>

#include <cstdint>
#include <xtensor/xarray.hpp>

#include "bandwidth.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/softmax.cuh"
#include "llmlab/ref/softmax.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/softmax_case.hpp"
#include "llmlab/testing/values.hpp"

namespace {

using llmlab::DType;
using llmlab::testing::device_values;
using llmlab::testing::DeviceBuffer;
using llmlab::testing::SoftmaxCase;

constexpr std::int64_t C = 1024;
constexpr std::int64_t kReferenceRows = 256;
/// Rows of the kernels' case: 64 under the emulator, 8 · 1024 on a GPU.
constexpr std::int64_t kKernelRows = LLMLAB_EMULATED ? 64 : 8 * 1024;

/// softmax's seeded case on `rows` rows, logits ~ U(±4) (its description,
/// llmlab/testing/softmax_case.hpp).
SoftmaxCase bench_case(std::int64_t rows, DType dtype) {
  return llmlab::testing::make_softmax_case({rows, C, 0, 4}, dtype);
}

void reference_forward_f32(benchmark::State& state) {
  const auto x =
      llmlab::testing::matrix<float>(bench_case(kReferenceRows, DType::f32).x, kReferenceRows, C);
  const xt::xarray<float> xa = x;
  for (auto _ : state) {
    auto y = llmlab::ref::softmax_forward(xa);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(state.iterations() * kReferenceRows * C * 2 * 4);
}

void reference_backward_f32(benchmark::State& state) {
  const SoftmaxCase k = bench_case(kReferenceRows, DType::f32);
  const xt::xarray<float> y = llmlab::testing::matrix<float>(k.y, kReferenceRows, C),
                          dy = llmlab::testing::matrix<float>(k.dy, kReferenceRows, C);
  xt::xarray<float> dx = xt::zeros<float>(y.shape());
  for (auto _ : state) {
    llmlab::ref::softmax_backward(dy, y, dx);
    benchmark::DoNotOptimize(dx.data());
  }
  state.SetBytesProcessed(state.iterations() * kReferenceRows * C * 4 * 4);
}

/// The dtype of device element type T.
template <class T>
constexpr DType dtype_of = sizeof(T) == 2 ? DType::bf16 : DType::f32;

/// The kernels' case in T's dtype, made once (on a GPU it is 8M logits and their softmax in
/// double).
template <class T>
const SoftmaxCase& kernel_case() {
  static const SoftmaxCase k = bench_case(kKernelRows, dtype_of<T>);
  return k;
}

/// Forward version state.range(0) on the kernels' case.
template <class T>
void kernel_forward(benchmark::State& state) {
  const int version = static_cast<int>(state.range(0));
  const SoftmaxCase& k = kernel_case<T>();
  DeviceBuffer<T> x(device_values<T>(k.x)), y(kKernelRows * C);
  for (auto _ : state) {
    if (llmlab::cuda::softmax_forward(x.cget(), y.get(), kKernelRows, C, version) != cudaSuccess) {
      state.SkipWithError("softmax_forward failed");
      break;
    }
    cudaDeviceSynchronize();
  }
  state.SetBytesProcessed(state.iterations() * kKernelRows * C * 2 *
                          static_cast<std::int64_t>(sizeof(T)));
  llmlab::bench::report_peak(state);
}

/// Backward version state.range(0) on the kernels' case (dx keeps accumulating: the timing ignores
/// values).
template <class T>
void kernel_backward(benchmark::State& state) {
  const int version = static_cast<int>(state.range(0));
  const SoftmaxCase& k = kernel_case<T>();
  DeviceBuffer<T> dy(device_values<T>(k.dy)), y(device_values<T>(k.y)), dx(device_values<T>(k.dx0));
  for (auto _ : state) {
    if (llmlab::cuda::softmax_backward(dy.cget(), y.cget(), dx.get(), kKernelRows, C, version) !=
        cudaSuccess) {
      state.SkipWithError("softmax_backward failed");
      break;
    }
    cudaDeviceSynchronize();
  }
  state.SetBytesProcessed(state.iterations() * kKernelRows * C * 4 *
                          static_cast<std::int64_t>(sizeof(T)));
  llmlab::bench::report_peak(state);
}

}  // namespace

BENCHMARK(reference_forward_f32)
    ->Name("softmax/reference_forward_f32")
    ->Unit(benchmark::kMillisecond);
BENCHMARK(reference_backward_f32)
    ->Name("softmax/reference_backward_f32")
    ->Unit(benchmark::kMillisecond);
// UseRealTime: the emulator's pool threads do the work, not the calling thread.
BENCHMARK(kernel_forward<float>)
    ->Name(LLMLAB_EMULATED ? "softmax/emulated_forward_f32" : "softmax/gpu_forward_f32")
    ->DenseRange(1, llmlab::cuda::softmax_forward_versions)
    ->ArgName("v")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(kernel_forward<__nv_bfloat16>)
    ->Name(LLMLAB_EMULATED ? "softmax/emulated_forward_bf16" : "softmax/gpu_forward_bf16")
    ->DenseRange(1, llmlab::cuda::softmax_forward_versions)
    ->ArgName("v")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(kernel_backward<float>)
    ->Name(LLMLAB_EMULATED ? "softmax/emulated_backward_f32" : "softmax/gpu_backward_f32")
    ->DenseRange(1, llmlab::cuda::softmax_backward_versions)
    ->ArgName("v")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(kernel_backward<__nv_bfloat16>)
    ->Name(LLMLAB_EMULATED ? "softmax/emulated_backward_bf16" : "softmax/gpu_backward_bf16")
    ->DenseRange(1, llmlab::cuda::softmax_backward_versions)
    ->ArgName("v")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
