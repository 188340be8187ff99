/// \file
/// \brief layernorm forward and backward on (N, C) = (256, 768) (GPT-2 small's width): the
/// reference in float and every emulated kernel version, fp32 and bf16. Bytes processed: forward
/// reads x and writes y (+ w, b, mean, rstd); backward reads dy, x and reads and writes dx
/// (+ the small vectors).
///
/// The emulated timings measure the emulator on this CPU (fibers, barriers, shuffles), not a GPU.
/// Compiled by nvcc (layernorm_bench_gpu) it times the GPU kernels at a larger size and prints
/// the achieved bytes_per_second next to the device's peak_GB/s (these kernels are memory-bound).

#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "bandwidth.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/layernorm.cuh"
#include "llmlab/ref/layernorm.hpp"

namespace {

/// Rows: 256 under the emulator (seconds per run); 8 × 1024 tokens on a GPU, where a launch must
/// move megabytes for its bandwidth to show.
constexpr std::int64_t N = LLMLAB_EMULATED ? 256 : 8 * 1024;
constexpr std::int64_t C = 768;

/// Bytes one forward call moves: x and y (N, C) in `act` bytes each, w and b, mean and rstd.
std::int64_t forward_bytes(std::int64_t act) { return 2 * N * C * act + 2 * C * act + 2 * N * 4; }
/// Bytes one backward call moves: dy, x read, dx read and written; w; mean, rstd; dw, db.
std::int64_t backward_bytes(std::int64_t act) {
  return 4 * N * C * act + C * act + 2 * N * 4 + 4 * C * 4;
}

xt::xtensor<float, 3> activations(std::uint64_t seed) {
  const std::vector<float> v = llmlab::Rng(seed).uniform_floats(static_cast<std::size_t>(N * C));
  xt::xtensor<float, 3> t =
      xt::empty<float>({std::size_t{1}, static_cast<std::size_t>(N), static_cast<std::size_t>(C)});
  std::copy(v.begin(), v.end(), t.begin());
  return t;
}

void reference_forward_f32(benchmark::State& state) {
  const auto x = activations(1);
  const xt::xtensor<float, 1> w = xt::ones<float>({static_cast<std::size_t>(C)}), b = w * 0.5f;
  for (auto _ : state) {
    auto out = llmlab::ref::layernorm_forward(x, w, b);
    benchmark::DoNotOptimize(out.y.data());
  }
  state.SetBytesProcessed(state.iterations() * forward_bytes(4));
}

void reference_backward_f32(benchmark::State& state) {
  const auto x = activations(1), dy = activations(2);
  const xt::xtensor<float, 1> w = xt::ones<float>({static_cast<std::size_t>(C)}), b = w * 0.5f;
  const auto fwd = llmlab::ref::layernorm_forward(x, w, b);
  xt::xtensor<float, 3> dx = xt::zeros<float>(x.shape());
  xt::xtensor<float, 1> dw = xt::zeros<float>(w.shape()), db = xt::zeros<float>(w.shape());
  for (auto _ : state) {
    llmlab::ref::layernorm_backward(dy, x, w, fwd.mean, fwd.rstd, dx, dw, db);
    benchmark::DoNotOptimize(dx.data());
  }
  state.SetBytesProcessed(state.iterations() * backward_bytes(4));
}

/// Device memory for one benchmark, freed on scope exit.
template <class T>
struct Device {
  T* p = nullptr;
  explicit Device(std::int64_t n, float fill) {
    cudaMalloc(&p, static_cast<std::size_t>(n) * sizeof(T));
    std::vector<T> host(static_cast<std::size_t>(n), static_cast<T>(fill));
    cudaMemcpy(p, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice);
  }
  ~Device() { cudaFree(p); }
};

/// Forward version state.range(0) on emulated device memory; T is float or __nv_bfloat16.
template <class T>
void emulated_forward(benchmark::State& state) {
  const int version = static_cast<int>(state.range(0));
  Device<T> x(N * C, 0.25f), w(C, 1.0f), b(C, 0.5f), y(N * C, 0.0f);
  Device<float> mean(N, 0.0f), rstd(N, 0.0f);
  for (auto _ : state) {
    if (llmlab::cuda::layernorm_forward(x.p, w.p, b.p, y.p, mean.p, rstd.p, N, C, 1e-5f, version) !=
        cudaSuccess) {
      state.SkipWithError("layernorm_forward failed");
      break;
    }
    cudaDeviceSynchronize();
  }
  state.SetBytesProcessed(state.iterations() * forward_bytes(sizeof(T)));
  llmlab::bench::report_peak(state);
}

/// Backward version state.range(0) on emulated device memory.
template <class T>
void emulated_backward(benchmark::State& state) {
  const int version = static_cast<int>(state.range(0));
  Device<T> dy(N * C, 0.1f), x(N * C, 0.25f), w(C, 1.0f), dx(N * C, 0.0f);
  Device<float> mean(N, 0.25f), rstd(N, 2.0f), dw(C, 0.0f), db(C, 0.0f),
      scratch(llmlab::cuda::layernorm_backward_scratch(N, C), 0.0f);
  for (auto _ : state) {
    if (llmlab::cuda::layernorm_backward(dy.p, x.p, w.p, mean.p, rstd.p, dx.p, dw.p, db.p,
                                         scratch.p, N, C, version) != cudaSuccess) {
      state.SkipWithError("layernorm_backward failed");
      break;
    }
    cudaDeviceSynchronize();
  }
  state.SetBytesProcessed(state.iterations() * backward_bytes(sizeof(T)));
  llmlab::bench::report_peak(state);
}

}  // namespace

BENCHMARK(reference_forward_f32)
    ->Name("layernorm/reference_forward_f32")
    ->Unit(benchmark::kMillisecond);
BENCHMARK(reference_backward_f32)
    ->Name("layernorm/reference_backward_f32")
    ->Unit(benchmark::kMillisecond);
// UseRealTime: the emulator's pool threads do the work, not the calling thread.
BENCHMARK(emulated_forward<float>)
    ->Name(LLMLAB_EMULATED ? "layernorm/emulated_forward_f32" : "layernorm/gpu_forward_f32")
    ->DenseRange(1, llmlab::cuda::layernorm_forward_versions)
    ->ArgName("v")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(emulated_forward<__nv_bfloat16>)
    ->Name(LLMLAB_EMULATED ? "layernorm/emulated_forward_bf16" : "layernorm/gpu_forward_bf16")
    ->DenseRange(1, llmlab::cuda::layernorm_forward_versions)
    ->ArgName("v")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(emulated_backward<float>)
    ->Name(LLMLAB_EMULATED ? "layernorm/emulated_backward_f32" : "layernorm/gpu_backward_f32")
    ->DenseRange(1, llmlab::cuda::layernorm_backward_versions)
    ->ArgName("v")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(emulated_backward<__nv_bfloat16>)
    ->Name(LLMLAB_EMULATED ? "layernorm/emulated_backward_bf16" : "layernorm/gpu_backward_bf16")
    ->DenseRange(1, llmlab::cuda::layernorm_backward_versions)
    ->ArgName("v")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
