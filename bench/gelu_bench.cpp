/// \file
/// \brief gelu forward and backward on n = 256 · 3072 (the MLP's hidden activations for 256
/// tokens of GPT-2 small): the reference in float and every emulated kernel version, fp32 and
/// bf16. Bytes processed: forward reads x and writes y; backward reads dy, x and reads and
/// writes dx.
///
/// The emulated timings measure the emulator on this CPU, not a GPU. Compiled by nvcc
/// (gelu_bench_gpu) it times the GPU kernels at a larger size and prints the achieved
/// bytes_per_second next to the device's peak_GB/s (GELU is memory-bound).

#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "bandwidth.hpp"
#include "llmlab/cuda/gelu.cuh"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/ref/gelu.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/gelu_case.hpp"
#include "llmlab/testing/values.hpp"

namespace {

using llmlab::DType;
using llmlab::testing::DeviceBuffer;
using llmlab::testing::device_values;
using llmlab::testing::GeluCase;

/// Elements: 256 tokens × 3072 under the emulator; 8 × 1024 tokens on a GPU.
constexpr std::int64_t n = (LLMLAB_EMULATED ? 256 : 8 * 1024) * 3072;

/// gelu's seeded case at n elements, x ~ U(±5) (its description, llmlab/testing/gelu_case.hpp).
GeluCase bench_case(DType dtype) { return llmlab::testing::make_gelu_case({n, 5}, dtype); }

void reference_forward_f32(benchmark::State& state) {
  const auto x = llmlab::testing::tensor<float>(bench_case(DType::f32).x);
  for (auto _ : state) {
    auto y = llmlab::ref::gelu_forward(x);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(state.iterations() * n * 2 * 4);
}

void reference_backward_f32(benchmark::State& state) {
  const GeluCase k = bench_case(DType::f32);
  const auto x = llmlab::testing::tensor<float>(k.x), dy = llmlab::testing::tensor<float>(k.dy);
  xt::xtensor<float, 1> dx = xt::zeros<float>(x.shape());
  for (auto _ : state) {
    llmlab::ref::gelu_backward(dy, x, dx);
    benchmark::DoNotOptimize(dx.data());
  }
  state.SetBytesProcessed(state.iterations() * n * 4 * 4);
}

/// The dtype of device element type T.
template <class T>
constexpr DType dtype_of = sizeof(T) == 2 ? DType::bf16 : DType::f32;

template <class T>
void emulated_forward(benchmark::State& state) {
  const int version = static_cast<int>(state.range(0));
  const GeluCase k = bench_case(dtype_of<T>);
  DeviceBuffer<T> x(device_values<T>(k.x)), y(n);
  for (auto _ : state) {
    if (llmlab::cuda::gelu_forward(x.cget(), y.get(), n, version) != cudaSuccess) {
      state.SkipWithError("gelu_forward failed");
      break;
    }
    cudaDeviceSynchronize();
  }
  state.SetBytesProcessed(state.iterations() * n * 2 * static_cast<std::int64_t>(sizeof(T)));
  llmlab::bench::report_peak(state);
}

template <class T>
void emulated_backward(benchmark::State& state) {
  const int version = static_cast<int>(state.range(0));
  const GeluCase k = bench_case(dtype_of<T>);
  DeviceBuffer<T> dy(device_values<T>(k.dy)), x(device_values<T>(k.x)), dx(n);
  for (auto _ : state) {
    if (llmlab::cuda::gelu_backward(dy.cget(), x.cget(), dx.get(), n, version) != cudaSuccess) {
      state.SkipWithError("gelu_backward failed");
      break;
    }
    cudaDeviceSynchronize();
  }
  state.SetBytesProcessed(state.iterations() * n * 4 * static_cast<std::int64_t>(sizeof(T)));
  llmlab::bench::report_peak(state);
}

}  // namespace

BENCHMARK(reference_forward_f32)->Name("gelu/reference_forward_f32")->Unit(benchmark::kMillisecond);
BENCHMARK(reference_backward_f32)
    ->Name("gelu/reference_backward_f32")
    ->Unit(benchmark::kMillisecond);
// UseRealTime: the emulator's pool threads do the work, not the calling thread.
BENCHMARK(emulated_forward<float>)
    ->Name(LLMLAB_EMULATED ? "gelu/emulated_forward_f32" : "gelu/gpu_forward_f32")
    ->DenseRange(1, llmlab::cuda::gelu_versions)
    ->ArgName("v")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(emulated_forward<__nv_bfloat16>)
    ->Name(LLMLAB_EMULATED ? "gelu/emulated_forward_bf16" : "gelu/gpu_forward_bf16")
    ->DenseRange(1, llmlab::cuda::gelu_versions)
    ->ArgName("v")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(emulated_backward<float>)
    ->Name(LLMLAB_EMULATED ? "gelu/emulated_backward_f32" : "gelu/gpu_backward_f32")
    ->DenseRange(1, llmlab::cuda::gelu_versions)
    ->ArgName("v")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(emulated_backward<__nv_bfloat16>)
    ->Name(LLMLAB_EMULATED ? "gelu/emulated_backward_bf16" : "gelu/gpu_backward_bf16")
    ->DenseRange(1, llmlab::cuda::gelu_versions)
    ->ArgName("v")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
