/// \file
/// \brief reduce_sum on (R, C) = (64, 4096): the reference in float and every emulated kernel
/// version, fp32 and bf16 input. Bytes processed = the input read plus the R floats written.
///
/// The emulated timings measure the emulator on this CPU (fibers, barriers, shuffles), not a GPU:
/// they show what each version costs to *emulate*, which is not its GPU speed. Compiled by nvcc
/// (reduce_sum_bench_gpu) it times the GPU kernels at a larger size and prints the achieved
/// bytes_per_second next to the device's peak_GB/s (a row sum is memory-bound).

#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "bandwidth.hpp"
#include "llmlab/core/dtype.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/reduce_sum.cuh"
#include "llmlab/ref/reduce_sum.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/reduce_sum_case.hpp"
#include "llmlab/testing/values.hpp"

namespace {

using llmlab::DType;
using llmlab::testing::device_values;
using llmlab::testing::DeviceBuffer;
using llmlab::testing::ReduceSumCase;

/// Rows: 64 under the emulator; 64 × 256 on a GPU (64 Mi elements, 256 MiB of fp32).
constexpr std::int64_t R = (LLMLAB_EMULATED ? 1 : 256) * 64;
/// Columns.
constexpr std::int64_t C = 4096;

/// reduce_sum's seeded case at (R, C), x ~ U(±1) (its description,
/// llmlab/testing/reduce_sum_case.hpp).
ReduceSumCase bench_case(DType dtype) {
  return llmlab::testing::make_reduce_sum_case({R, C, 1}, dtype);
}

/// Bytes one call moves: x (R, C) of `in_bytes` each, out (R) floats.
std::int64_t bytes_per_call(std::size_t in_bytes) {
  return R * C * static_cast<std::int64_t>(in_bytes) + R * static_cast<std::int64_t>(sizeof(float));
}

void reference_f32(benchmark::State& state) {
  const auto x = llmlab::testing::matrix<float>(bench_case(DType::f32).x, R, C);
  for (auto _ : state) {
    auto out = llmlab::ref::reduce_sum(x);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * bytes_per_call(sizeof(float)));
}

/// The dtype of device element type T.
template <class T>
constexpr DType dtype_of = sizeof(T) == 2 ? DType::bf16 : DType::f32;

/// Kernel version state.range(0) on device memory; T is float or __nv_bfloat16.
template <class T>
void emulated_kernel(benchmark::State& state) {
  const int version = static_cast<int>(state.range(0));
  const DeviceBuffer<T> x(device_values<T>(bench_case(dtype_of<T>).x));
  DeviceBuffer<float> out(R);
  for (auto _ : state) {
    if (llmlab::cuda::reduce_sum(x.cget(), out.get(), R, C, version) != cudaSuccess) {
      state.SkipWithError("reduce_sum launch failed");
      break;
    }
    cudaDeviceSynchronize();
  }
  state.SetBytesProcessed(state.iterations() * bytes_per_call(sizeof(T)));
  llmlab::bench::report_peak(state);
}

}  // namespace

BENCHMARK(reference_f32)->Name("reduce_sum/reference_f32")->Unit(benchmark::kMillisecond);
// UseRealTime: the emulator's pool threads do the work, not the calling thread.
BENCHMARK(emulated_kernel<float>)
    ->Name(LLMLAB_EMULATED ? "reduce_sum/emulated_f32" : "reduce_sum/gpu_f32")
    ->DenseRange(1, llmlab::cuda::reduce_sum_versions)
    ->ArgName("v")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(emulated_kernel<__nv_bfloat16>)
    ->Name(LLMLAB_EMULATED ? "reduce_sum/emulated_bf16" : "reduce_sum/gpu_bf16")
    ->DenseRange(1, llmlab::cuda::reduce_sum_versions)
    ->ArgName("v")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
