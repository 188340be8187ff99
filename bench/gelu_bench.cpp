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
#include "llmlab/core/rng.hpp"
#include "llmlab/cuda/gelu.cuh"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/ref/gelu.hpp"

namespace {

/// Elements: 256 tokens × 3072 under the emulator; 8 × 1024 tokens on a GPU.
constexpr std::int64_t n = (LLMLAB_EMULATED ? 256 : 8 * 1024) * 3072;

xt::xtensor<float, 1> values(std::uint64_t seed) {
  const std::vector<float> v =
      llmlab::Rng(seed).uniform_floats(static_cast<std::size_t>(n), -5.0, 5.0);
  xt::xtensor<float, 1> t = xt::empty<float>({static_cast<std::size_t>(n)});
  std::copy(v.begin(), v.end(), t.begin());
  return t;
}

void reference_forward_f32(benchmark::State& state) {
  const auto x = values(1);
  for (auto _ : state) {
    auto y = llmlab::ref::gelu_forward(x);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(state.iterations() * n * 2 * 4);
}

void reference_backward_f32(benchmark::State& state) {
  const auto x = values(1), dy = values(2);
  xt::xtensor<float, 1> dx = xt::zeros<float>(x.shape());
  for (auto _ : state) {
    llmlab::ref::gelu_backward(dy, x, dx);
    benchmark::DoNotOptimize(dx.data());
  }
  state.SetBytesProcessed(state.iterations() * n * 4 * 4);
}

/// Device memory for one benchmark, freed on scope exit.
template <class T>
struct Device {
  T* p = nullptr;
  explicit Device(float fill) {
    cudaMalloc(&p, static_cast<std::size_t>(n) * sizeof(T));
    std::vector<T> host(static_cast<std::size_t>(n), static_cast<T>(fill));
    cudaMemcpy(p, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice);
  }
  ~Device() { cudaFree(p); }
};

template <class T>
void emulated_forward(benchmark::State& state) {
  const int version = static_cast<int>(state.range(0));
  Device<T> x(0.5f), y(0.0f);
  for (auto _ : state) {
    if (llmlab::cuda::gelu_forward(x.p, y.p, n, version) != cudaSuccess) {
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
  Device<T> dy(0.1f), x(0.5f), dx(0.0f);
  for (auto _ : state) {
    if (llmlab::cuda::gelu_backward(dy.p, x.p, dx.p, n, version) != cudaSuccess) {
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
