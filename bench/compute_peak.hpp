#pragma once
/// \file
/// \brief For compute-bound kernels' benchmarks (matmul, attention): the device's dense peak in
/// TFLOP/s beside the achieved FLOP/s, in GPU builds (under the emulator there is no device).

#include <cstdio>

#include "llmlab/cuda/kernel.cuh"

namespace llmlab::bench {

#if !LLMLAB_EMULATED
/// The device's peak in TFLOP/s: fp32 on the CUDA cores from its attributes, bf16 on the tensor
/// cores (dense) from NVIDIA's data sheets for the SXM parts of sm_80 (A100) and sm_90 (H100);
/// 0 where unknown.
struct Peak {
  double fp32 = 0;      ///< TFLOP/s on the CUDA cores: SMs × fp32 lanes × 2 × clock
  double bf16 = 0;      ///< TFLOP/s on the tensor cores, dense (0: device not in the table)
  char name[256] = {};  ///< the device's name
};

/// The peak of the current device.
inline Peak device_peak() {
  Peak p;
  int dev = 0, sms = 0, khz = 0, major = 0, minor = 0;
  cudaGetDevice(&dev);
  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev);
  cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, dev);
  cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev);
  cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev);
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, dev) == cudaSuccess)
    std::snprintf(p.name, sizeof p.name, "%s", prop.name);
  const int lanes = (major == 8 && minor == 0) ? 64 : 128;  // fp32 lanes per SM: A100 64, else 128
  p.fp32 = 2.0 * sms * lanes * khz * 1e3 / 1e12;
  if (major == 8 && minor == 0) p.bf16 = 312;
  if (major == 9 && minor == 0) p.bf16 = 989;
  return p;
}
#endif

}  // namespace llmlab::bench
