/// \file
/// \brief reduce_sum on (R, C) = (64, 4096): the reference in float and every emulated kernel
/// version, fp32 and bf16 input. Bytes processed = the input read plus the R floats written.
///
/// The emulated timings measure the emulator on this CPU (fibers, barriers, shuffles), not a GPU:
/// they show what each version costs to *emulate*, which is not its GPU speed.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/reduce_sum.cuh"
#include "llmlab/ref/reduce_sum.hpp"

namespace {

constexpr std::int64_t R = 64;
constexpr std::int64_t C = 4096;

std::vector<float> inputs() {
  return llmlab::Rng(7).uniform_floats(static_cast<std::size_t>(R * C));
}

/// Bytes one call moves: x (R, C) of `in_bytes` each, out (R) floats.
std::int64_t bytes_per_call(std::size_t in_bytes) {
  return R * C * static_cast<std::int64_t>(in_bytes) + R * static_cast<std::int64_t>(sizeof(float));
}

void reference_f32(benchmark::State& state) {
  const std::vector<float> v = inputs();
  xt::xtensor<float, 2> x =
      xt::empty<float>({static_cast<std::size_t>(R), static_cast<std::size_t>(C)});
  for (std::size_t i = 0; i < v.size(); ++i) x.flat(i) = v[i];
  for (auto _ : state) {
    auto out = llmlab::ref::reduce_sum(x);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * bytes_per_call(sizeof(float)));
}

/// Kernel version state.range(0) on device (emulated) memory; T is float or __nv_bfloat16.
template <class T>
void emulated_kernel(benchmark::State& state) {
  const int version = static_cast<int>(state.range(0));
  std::vector<float> v = inputs();
  std::vector<T> host(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) host[i] = static_cast<T>(v[i]);
  T* x = nullptr;
  float* out = nullptr;
  if (cudaMalloc(&x, host.size() * sizeof(T)) != cudaSuccess ||
      cudaMalloc(&out, R * sizeof(float)) != cudaSuccess) {
    state.SkipWithError("cudaMalloc failed");
    return;
  }
  cudaMemcpy(x, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice);
  for (auto _ : state) {
    if (llmlab::cuda::reduce_sum(x, out, R, C, version) != cudaSuccess) {
      state.SkipWithError("reduce_sum launch failed");
      break;
    }
    cudaDeviceSynchronize();
  }
  state.SetBytesProcessed(state.iterations() * bytes_per_call(sizeof(T)));
  cudaFree(x);
  cudaFree(out);
}

}  // namespace

BENCHMARK(reference_f32)->Name("reduce_sum/reference_f32")->Unit(benchmark::kMillisecond);
BENCHMARK(emulated_kernel<float>)
    ->Name("reduce_sum/emulated_f32")
    ->DenseRange(1, llmlab::cuda::reduce_sum_versions)
    ->ArgName("v")
    ->UseRealTime()  // the emulator's pool threads do the work, not the calling thread
    ->Unit(benchmark::kMillisecond);
BENCHMARK(emulated_kernel<__nv_bfloat16>)
    ->Name("reduce_sum/emulated_bf16")
    ->DenseRange(1, llmlab::cuda::reduce_sum_versions)
    ->ArgName("v")
    ->UseRealTime()  // the emulator's pool threads do the work, not the calling thread
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
