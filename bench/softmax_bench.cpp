/// \file
/// \brief softmax forward and backward on (R, C) = (256, 1024) for the reference in float and
/// (64, 1024) for every emulated kernel version. Bytes processed: forward reads x and writes y;
/// backward reads dy and y and reads and writes dx (R·C floats each).
///
/// The emulated timings measure the emulator on this CPU (fibers, shuffles), not a GPU: they
/// show what each version costs to *emulate*, which is not its GPU speed.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <vector>
#include <xtensor/xarray.hpp>
#include <xtensor/xtensor.hpp>

#include "llmlab/core/rng.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/softmax.cuh"
#include "llmlab/ref/softmax.hpp"

namespace {

constexpr std::int64_t C = 1024;
constexpr std::int64_t kReferenceRows = 256;
constexpr std::int64_t kEmulatedRows = 64;

xt::xarray<float> logits(std::int64_t rows, std::uint64_t seed) {
  const std::vector<float> v =
      llmlab::Rng(seed).uniform_floats(static_cast<std::size_t>(rows * C), -4.0, 4.0);
  xt::xarray<float> x =
      xt::empty<float>({static_cast<std::size_t>(rows), static_cast<std::size_t>(C)});
  std::copy(v.begin(), v.end(), x.begin());
  return x;
}

void reference_forward_f32(benchmark::State& state) {
  const auto x = logits(kReferenceRows, 1);
  for (auto _ : state) {
    auto y = llmlab::ref::softmax_forward(x);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(state.iterations() * kReferenceRows * C * 2 * 4);
}

void reference_backward_f32(benchmark::State& state) {
  const auto y = llmlab::ref::softmax_forward(logits(kReferenceRows, 2));
  const auto dy = logits(kReferenceRows, 3);
  xt::xarray<float> dx = xt::zeros<float>(y.shape());
  for (auto _ : state) {
    llmlab::ref::softmax_backward(dy, y, dx);
    benchmark::DoNotOptimize(dx.data());
  }
  state.SetBytesProcessed(state.iterations() * kReferenceRows * C * 4 * 4);
}

/// Three (R, C) device buffers, the first two holding logits; freed on scope exit.
struct DeviceRows {
  float *a = nullptr, *b = nullptr, *c = nullptr;
  bool ok = true;
  DeviceRows() {
    const auto x = logits(kEmulatedRows, 4);
    const std::size_t bytes = x.size() * sizeof(float);
    ok = cudaMalloc(&a, bytes) == cudaSuccess && cudaMalloc(&b, bytes) == cudaSuccess &&
         cudaMalloc(&c, bytes) == cudaSuccess;
    if (!ok) return;
    cudaMemcpy(a, x.data(), bytes, cudaMemcpyHostToDevice);
    cudaMemcpy(b, x.data(), bytes, cudaMemcpyHostToDevice);
    cudaMemset(c, 0, bytes);
  }
  ~DeviceRows() {
    cudaFree(a);
    cudaFree(b);
    cudaFree(c);
  }
  DeviceRows(const DeviceRows&) = delete;
  DeviceRows& operator=(const DeviceRows&) = delete;
};

/// Forward version state.range(0), emulated.
void emulated_forward_f32(benchmark::State& state) {
  DeviceRows d;
  if (!d.ok) return state.SkipWithError("cudaMalloc failed");
  for (auto _ : state) {
    if (llmlab::cuda::softmax_forward(d.a, d.c, kEmulatedRows, C,
                                      static_cast<int>(state.range(0))) != cudaSuccess)
      return state.SkipWithError("softmax_forward failed");
    cudaDeviceSynchronize();
  }
  state.SetBytesProcessed(state.iterations() * kEmulatedRows * C * 2 * 4);
}

/// Backward version state.range(0), emulated (dy and y are logits: the timing ignores values).
void emulated_backward_f32(benchmark::State& state) {
  DeviceRows d;
  if (!d.ok) return state.SkipWithError("cudaMalloc failed");
  for (auto _ : state) {
    if (llmlab::cuda::softmax_backward(d.a, d.b, d.c, kEmulatedRows, C,
                                       static_cast<int>(state.range(0))) != cudaSuccess)
      return state.SkipWithError("softmax_backward failed");
    cudaDeviceSynchronize();
  }
  state.SetBytesProcessed(state.iterations() * kEmulatedRows * C * 4 * 4);
}

}  // namespace

BENCHMARK(reference_forward_f32)
    ->Name("softmax/reference_forward_f32")
    ->Unit(benchmark::kMillisecond);
BENCHMARK(reference_backward_f32)
    ->Name("softmax/reference_backward_f32")
    ->Unit(benchmark::kMillisecond);
BENCHMARK(emulated_forward_f32)
    ->Name("softmax/emulated_forward_f32")
    ->DenseRange(1, llmlab::cuda::softmax_forward_versions)
    ->ArgName("v")
    ->UseRealTime()  // the emulator's pool threads do the work, not the calling thread
    ->Unit(benchmark::kMillisecond);
BENCHMARK(emulated_backward_f32)
    ->Name("softmax/emulated_backward_f32")
    ->DenseRange(1, llmlab::cuda::softmax_backward_versions)
    ->ArgName("v")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
