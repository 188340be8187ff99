#pragma once
/// \file
/// \ingroup group_emulator
/// \brief The single kernel header: every `.cu` file in llmlab includes this and nothing else CUDA.
///
/// It gives the same names under nvcc (real GPUs) and under g++ (the CUDA execution emulator in
/// optimized/emu), so one source file builds both ways (docs/design.md §4):
/// - the CUDA keywords and built-ins kernels use (`__global__`, `__shared__`, `threadIdx`, ...),
///   `__syncthreads`, warp functions with `_sync` masks, atomics, `__nv_bfloat16` / `__half`;
/// - the runtime subset (`cudaMalloc`, `cudaMemcpy`, `cudaMemset`, `cudaFree`,
///   `cudaDeviceSynchronize`, `cudaGetLastError`, `cudaGetErrorString`, events and streams);
/// - `llmlab::cuda::launch(cfg, kernel, args...)`, which returns the launch's error (ordinary
///   `kernel<<<grid, block, smem>>>(args...)` works too: llmlab-cudapp rewrites it for g++);
/// - `llmlab::cuda::dynamic_shared<T>()`, a plain pointer (`extern __shared__ T smem[]` works too).
///
/// `LLMLAB_EMULATED` is 1 under the emulator and 0 under nvcc.

#if defined(__CUDACC__)

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <utility>

#define LLMLAB_EMULATED 0  ///< 1 under the emulator, 0 under nvcc

namespace llmlab::cuda {

/// Launches `kernel` with the grid, block, dynamic shared memory and stream of `cfg`.
/// Under nvcc this is `cudaLaunchKernelEx`; under the emulator the kernel runs before `launch`
/// returns. @returns cudaSuccess or the launch error.
template <class... Params, class... Args>
cudaError_t launch(const cudaLaunchConfig_t& cfg, void (*kernel)(Params...), Args&&... args) {
  return cudaLaunchKernelEx(&cfg, kernel, std::forward<Args>(args)...);
}

/// The block's dynamic shared memory (`cfg.dynamicSmemBytes` bytes, 16-byte aligned), as T*.
template <class T>
__device__ __forceinline__ T* dynamic_shared() {
  extern __shared__ __align__(16) unsigned char llmlab_dynamic_shared_bytes[];
  return reinterpret_cast<T*>(llmlab_dynamic_shared_bytes);
}

}  // namespace llmlab::cuda

#else  // g++: the emulator

#include "llmlab/emu/emu.hpp"

#define LLMLAB_EMULATED 1  ///< 1 under the emulator, 0 under nvcc

namespace llmlab::cuda {

/// Launches `kernel` with the grid, block, dynamic shared memory and stream of `cfg`.
/// Under nvcc this is `cudaLaunchKernelEx`; under the emulator the kernel runs before `launch`
/// returns. @returns cudaSuccess or the launch error (the emulator's diagnostic is printed and kept
/// in llmlab::emu::last_diagnostic()).
template <class... Params, class... Args>
cudaError_t launch(const cudaLaunchConfig_t& cfg, void (*kernel)(Params...), Args&&... args) {
  return ::llmlab::emu::launch(cfg, kernel, std::forward<Args>(args)...);
}

/// The block's dynamic shared memory (`cfg.dynamicSmemBytes` bytes, 16-byte aligned), as T*.
template <class T>
inline T* dynamic_shared() {
  return static_cast<T*>(::llmlab::emu::dynamic_shared_memory());
}

}  // namespace llmlab::cuda

#endif

namespace llmlab::cuda {

/// A cudaLaunchConfig_t for `grid` blocks of `block` threads with `smem` bytes of dynamic shared
/// memory on the default stream.
inline cudaLaunchConfig_t launch_config(dim3 grid, dim3 block, std::size_t smem = 0) {
  cudaLaunchConfig_t cfg{};
  cfg.gridDim = grid;
  cfg.blockDim = block;
  cfg.dynamicSmemBytes = smem;
  cfg.stream = nullptr;
  cfg.attrs = nullptr;
  cfg.numAttrs = 0;
  return cfg;
}

/// \f$ \lceil a / b \rceil \f$ — blocks needed to cover a items with b per block.
constexpr unsigned ceil_div(long long a, long long b) { return static_cast<unsigned>((a + b - 1) / b); }

}  // namespace llmlab::cuda
