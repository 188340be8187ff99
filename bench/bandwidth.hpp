#pragma once
/// \file
/// \brief For memory-bound kernels' benchmarks: the device's peak memory bandwidth beside the
/// achieved bytes_per_second, in GPU builds (under the emulator there is no device to compare).

#include <benchmark/benchmark.h>

#include "llmlab/cuda/kernel.cuh"

namespace llmlab::bench {

#if !LLMLAB_EMULATED
/// The device's peak memory bandwidth in GB/s: 2 transfers per memory clock (DDR/HBM) × the bus
/// width in bytes, from the device's attributes.
inline double peak_gbps() {
  int dev = 0, khz = 0, bits = 0;
  cudaGetDevice(&dev);
  cudaDeviceGetAttribute(&khz, cudaDevAttrMemoryClockRate, dev);
  cudaDeviceGetAttribute(&bits, cudaDevAttrGlobalMemoryBusWidth, dev);
  return 2.0 * khz * 1e3 * (bits / 8.0) / 1e9;
}
#endif

/// Adds the counter peak_GB/s (GPU builds only) next to the benchmark's bytes_per_second.
inline void report_peak([[maybe_unused]] benchmark::State& state) {
#if !LLMLAB_EMULATED
  state.counters["peak_GB/s"] = peak_gbps();
#endif
}

}  // namespace llmlab::bench
