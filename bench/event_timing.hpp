#pragma once
/// \file
/// \brief For GPU benchmarks: one Google Benchmark loop timed with CUDA events (the kernels' time
/// on the device, not the host's), shared by the compute-bound benchmarks (matmul, attention).

#include <benchmark/benchmark.h>

#include "llmlab/cuda/kernel.cuh"

namespace llmlab::bench {

#if !LLMLAB_EMULATED
/// Runs `launch` (a callable returning cudaError_t) once to warm up (handles, caches), then once
/// per iteration of `state` between two CUDA events, and sets each iteration's time to the
/// events' elapsed time (register the benchmark with UseManualTime()). A launch that fails stops
/// the benchmark with `what` as its error.
template <class Launch>
void time_with_cuda_events(benchmark::State& state, const char* what, Launch&& launch) {
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  launch();  // warm-up
  for (auto _ : state) {
    cudaEventRecord(start);
    const cudaError_t err = launch();
    cudaEventRecord(stop);
    cudaEventSynchronize(stop);
    if (err != cudaSuccess) {
      state.SkipWithError(what);
      break;
    }
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    state.SetIterationTime(ms / 1e3);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
}
#endif

}  // namespace llmlab::bench
