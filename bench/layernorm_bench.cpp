/// \file
/// \brief layernorm forward and backward on (N, C) = (256, 768) (GPT-2 small's width), inputs
/// from layernorm's seeded case (llmlab/testing/layernorm_case.hpp): the reference in float and
/// every emulated kernel version, fp32 and bf16. Bytes processed: forward
/// reads x and writes y (+ w, b, mean, rstd); backward reads dy, x and reads and writes dx
/// (+ the small vectors).
///
/// The emulated timings measure the emulator on this CPU (fibers, barriers, shuffles), not a GPU.
/// Compiled by nvcc (layernorm_bench_gpu) it times the GPU kernels at a larger size and prints
/// the achieved bytes_per_second next to the device's peak_GB/s (these kernels are memory-bound).

#include <benchmark/benchmark.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "bandwidth.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/layernorm.cuh"
#include "llmlab/ref/layernorm.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/layernorm_case.hpp"
#include "llmlab/testing/values.hpp"

namespace {

using llmlab::DType;
using llmlab::testing::device_values;
using llmlab::testing::DeviceBuffer;
using llmlab::testing::LayerNormCase;

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

/// layernorm's seeded case at (N, C), x ~ U(−0.5, 1.5) (its description,
/// llmlab/testing/layernorm_case.hpp).
LayerNormCase bench_case(DType dtype) {
  return llmlab::testing::make_layernorm_case({N, C}, dtype);
}

/// The reference's (1, N, C) view of a case's (N·C) values.
xt::xtensor<float, 3> rows(const std::vector<float>& v) {
  return llmlab::testing::tensor<float>(
      v, std::array<std::size_t, 3>{1, static_cast<std::size_t>(N), static_cast<std::size_t>(C)});
}

void reference_forward_f32(benchmark::State& state) {
  const LayerNormCase k = bench_case(DType::f32);
  const auto x = rows(k.x);
  const auto w = llmlab::testing::tensor<float>(k.w), b = llmlab::testing::tensor<float>(k.b);
  for (auto _ : state) {
    auto out = llmlab::ref::layernorm_forward(x, w, b);
    benchmark::DoNotOptimize(out.y.data());
  }
  state.SetBytesProcessed(state.iterations() * forward_bytes(4));
}

void reference_backward_f32(benchmark::State& state) {
  const LayerNormCase k = bench_case(DType::f32);
  const auto x = rows(k.x), dy = rows(k.dy);
  const auto w = llmlab::testing::tensor<float>(k.w), b = llmlab::testing::tensor<float>(k.b);
  const auto fwd = llmlab::ref::layernorm_forward(x, w, b);
  auto dx = rows(k.dx0);
  auto dw = llmlab::testing::tensor<float>(k.dw0), db = llmlab::testing::tensor<float>(k.db0);
  for (auto _ : state) {
    llmlab::ref::layernorm_backward(dy, x, w, fwd.mean, fwd.rstd, dx, dw, db);
    benchmark::DoNotOptimize(dx.data());
  }
  state.SetBytesProcessed(state.iterations() * backward_bytes(4));
}

/// The dtype of device element type T.
template <class T>
constexpr DType dtype_of = sizeof(T) == 2 ? DType::bf16 : DType::f32;

/// Forward version state.range(0) on device memory; T is float or __nv_bfloat16.
template <class T>
void emulated_forward(benchmark::State& state) {
  const int version = static_cast<int>(state.range(0));
  const LayerNormCase k = bench_case(dtype_of<T>);
  DeviceBuffer<T> x(device_values<T>(k.x)), w(device_values<T>(k.w)), b(device_values<T>(k.b)),
      y(N * C);
  DeviceBuffer<float> mean(N), rstd(N);
  for (auto _ : state) {
    if (llmlab::cuda::layernorm_forward(x.cget(), w.cget(), b.cget(), y.get(), mean.get(),
                                        rstd.get(), N, C, 1e-5f, version) != cudaSuccess) {
      state.SkipWithError("layernorm_forward failed");
      break;
    }
    cudaDeviceSynchronize();
  }
  state.SetBytesProcessed(state.iterations() * forward_bytes(sizeof(T)));
  llmlab::bench::report_peak(state);
}

/// Backward version state.range(0) on device memory, from the statistics a float forward saved.
template <class T>
void emulated_backward(benchmark::State& state) {
  const int version = static_cast<int>(state.range(0));
  const LayerNormCase k = bench_case(dtype_of<T>);
  const llmlab::testing::LayerNormSaved saved = llmlab::testing::layernorm_saved(k);
  DeviceBuffer<T> dy(device_values<T>(k.dy)), x(device_values<T>(k.x)), w(device_values<T>(k.w)),
      dx(device_values<T>(k.dx0));
  DeviceBuffer<float> mean(saved.mean), rstd(saved.rstd), dw(k.dw0), db(k.db0),
      scratch(llmlab::cuda::layernorm_backward_scratch(N, C));
  for (auto _ : state) {
    if (llmlab::cuda::layernorm_backward(dy.cget(), x.cget(), w.cget(), mean.cget(), rstd.cget(),
                                         dx.get(), dw.get(), db.get(), scratch.get(), N, C,
                                         version) != cudaSuccess) {
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
