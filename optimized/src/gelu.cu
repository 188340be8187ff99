/// \file
/// \brief gelu_forward / gelu_backward: GPT-2's GELU, \f$ y = \tfrac{1}{2} x (1 + \tanh u) \f$ with
/// \f$ u = \sqrt{2/\pi}(x + 0.044715 x^3) \f$, and its derivative, element-wise.
///
/// fp32 or bf16 in and out, always fp32 math (tanhf; bf16 outputs rounded once). Memory-bound:
/// forward reads 1 and writes 1 value per element, backward reads 3 and writes 1, for ~20 flops.
/// The derivative uses \f$ \mathrm{sech}^2 u = 1 - \tanh^2 u \f$ (one tanhf, no coshf: coshf
/// overflows to inf for |u| > 89 and llm.c's 1/cosh² version then relies on 1/inf = 0).
/// No -ffast-math (docs/design.md §8: it turned llm.c's GELU backward into NaNs).
///
/// Versions (each tested against the reference in tests/gelu_test.cpp):
/// - v1 naive: one thread per element, ⌈n / 256⌉ blocks of 256.
/// - v2 grid-stride with wide loads: at most 1024 blocks, each thread ≥ 4 items; when every
///   pointer is aligned, float4 (fp32) or __nv_bfloat162 (bf16) per load, the tail scalar — as
///   vector_add v2.
///
/// Both are the same arithmetic per element, so their outputs are bitwise equal; the launcher uses
/// v2 by default (fewer, wider memory instructions). Timing on a GPU awaits a GPU: none has been
/// lent to this project yet. bench/gelu_bench times the emulated versions, which measures the
/// emulator, not a GPU.

#include <climits>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "llmlab/core/error.hpp"
#include "llmlab/cuda/gelu.cuh"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/primitives.cuh"
#include "llmlab/cuda/wide_loads.cuh"

namespace llmlab::cuda {
namespace {

// Both versions run blocks of kBlock threads; store() rounds bf16 outputs once (primitives.cuh).
constexpr int kItemsPerThread = 4;  // v2: grid sized so each thread handles at least this many
constexpr float kRootTwoOverPi = 0.7978845608028654f;  // sqrt(2 / pi)
constexpr float kCubic = 0.044715f;

/// GELU of one value, in fp32.
__device__ __forceinline__ float gelu(float x) {
  const float u = kRootTwoOverPi * (x + kCubic * x * x * x);
  return 0.5f * x * (1.0f + tanhf(u));
}

/// dy/dx of gelu at x: ½(1 + tanh u) + ½ x sech²u · √(2/π)(1 + 3·0.044715 x²).
__device__ __forceinline__ float gelu_grad(float x) {
  const float u = kRootTwoOverPi * (x + kCubic * x * x * x);
  const float tanh_u = tanhf(u);
  const float sech2_u = 1.0f - tanh_u * tanh_u;
  const float du_dx = kRootTwoOverPi * (1.0f + 3.0f * kCubic * x * x);
  return 0.5f * (1.0f + tanh_u) + 0.5f * x * sech2_u * du_dx;
}

/// Element i of each operation (the wide path calls these per element of a vector).
template <class T>
__device__ __forceinline__ void forward_at(const T* x, T* y, std::int64_t i) {
  store(y + i, gelu(to_float(x[i])));
}
template <class T>
__device__ __forceinline__ void backward_at(const T* dy, const T* x, T* dx, std::int64_t i) {
  store(dx + i, to_float(dx[i]) + gelu_grad(to_float(x[i])) * to_float(dy[i]));
}

// ---- v1: one thread per element -----------------------------------------------------------------

template <class T>
__global__ void gelu_forward_v1(const T* x, T* y, std::int64_t n) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) forward_at(x, y, i);
}

template <class T>
__global__ void gelu_backward_v1(const T* dy, const T* x, T* dx, std::int64_t n) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) backward_at(dy, x, dx, i);
}

// ---- v2: grid-stride, wide loads when aligned ---------------------------------------------------

/// The W elements of a wide vector v, in place (a register array the compiler keeps as such).
template <class V>
__device__ __forceinline__ auto* elements(V& v) {
  if constexpr (sizeof(V) == sizeof(float4)) {
    return reinterpret_cast<float*>(&v);
  } else {
    return reinterpret_cast<__nv_bfloat16*>(&v);
  }
}

template <class T, bool kWide>
__global__ void gelu_forward_v2(const T* x, T* y, std::int64_t n) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  const std::int64_t first = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  std::int64_t done = 0;  // elements the wide loop covers
  if constexpr (kWide) {
    using V = typename Wide<T>::type;
    constexpr int W = Wide<T>::width;
    const std::int64_t nv = n / W;
    for (std::int64_t j = first; j < nv; j += stride) {
      V v = reinterpret_cast<const V*>(x)[j];
      T* e = elements(v);
      for (int k = 0; k < W; ++k) store(e + k, gelu(to_float(e[k])));
      reinterpret_cast<V*>(y)[j] = v;
    }
    done = nv * W;
  }
  for (std::int64_t i = done + first; i < n; i += stride) forward_at(x, y, i);
}

template <class T, bool kWide>
__global__ void gelu_backward_v2(const T* dy, const T* x, T* dx, std::int64_t n) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  const std::int64_t first = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  std::int64_t done = 0;
  if constexpr (kWide) {
    using V = typename Wide<T>::type;
    constexpr int W = Wide<T>::width;
    const std::int64_t nv = n / W;
    for (std::int64_t j = first; j < nv; j += stride) {
      V g = reinterpret_cast<const V*>(dy)[j];
      V in = reinterpret_cast<const V*>(x)[j];
      V acc = reinterpret_cast<const V*>(dx)[j];
      const T* ge = elements(g);
      const T* ine = elements(in);
      T* acce = elements(acc);
      for (int k = 0; k < W; ++k)
        store(acce + k, to_float(acce[k]) + gelu_grad(to_float(ine[k])) * to_float(ge[k]));
      reinterpret_cast<V*>(dx)[j] = acc;
    }
    done = nv * W;
  }
  for (std::int64_t i = done + first; i < n; i += stride) backward_at(dy, x, dx, i);
}

// ---- the launchers ------------------------------------------------------------------------------

/// Both launchers' checks; @returns the version to run (0 → gelu_versions).
int checked_args(const char* where, std::int64_t n, int version,
                 std::initializer_list<NamedPointer> pointers) {
  check_count(where, "n", n);
  version = checked_version(where, version, gelu_versions);
  check_pointers(where, "n", {n}, pointers);
  if (version == 1 && (n + kBlock - 1) / kBlock > INT_MAX)
    throw Error(where,
                "n = " + std::to_string(n) + " needs more than v1's 2^31 - 1 blocks (use v2)");
  return version;
}

template <class T>
cudaError_t gelu_forward_impl(const T* x, T* y, std::int64_t n, int version) {
  version = checked_args("gelu_forward", n, version, {{x, "x"}, {y, "y"}});
  if (n == 0) return cudaSuccess;
  if (version == 1) return launch(thread_per_item_config(n), gelu_forward_v1<T>, x, y, n);
  const bool wide = wide_aligned(x) && wide_aligned(y);
  const cudaLaunchConfig_t cfg = grid_stride_config(wide ? n / Wide<T>::width : n, kItemsPerThread);
  return wide ? launch(cfg, gelu_forward_v2<T, true>, x, y, n)
              : launch(cfg, gelu_forward_v2<T, false>, x, y, n);
}

template <class T>
cudaError_t gelu_backward_impl(const T* dy, const T* x, T* dx, std::int64_t n, int version) {
  version = checked_args("gelu_backward", n, version, {{dy, "dy"}, {x, "x"}, {dx, "dx"}});
  if (n == 0) return cudaSuccess;
  if (version == 1) return launch(thread_per_item_config(n), gelu_backward_v1<T>, dy, x, dx, n);
  const bool wide = wide_aligned(dy) && wide_aligned(x) && wide_aligned(dx);
  const cudaLaunchConfig_t cfg = grid_stride_config(wide ? n / Wide<T>::width : n, kItemsPerThread);
  return wide ? launch(cfg, gelu_backward_v2<T, true>, dy, x, dx, n)
              : launch(cfg, gelu_backward_v2<T, false>, dy, x, dx, n);
}

}  // namespace

cudaError_t gelu_forward(const float* x, float* y, std::int64_t n, int version) {
  return gelu_forward_impl(x, y, n, version);
}
cudaError_t gelu_forward(const __nv_bfloat16* x, __nv_bfloat16* y, std::int64_t n, int version) {
  return gelu_forward_impl(x, y, n, version);
}
cudaError_t gelu_backward(const float* dy, const float* x, float* dx, std::int64_t n, int version) {
  return gelu_backward_impl(dy, x, dx, n, version);
}
cudaError_t gelu_backward(const __nv_bfloat16* dy, const __nv_bfloat16* x, __nv_bfloat16* dx,
                          std::int64_t n, int version) {
  return gelu_backward_impl(dy, x, dx, n, version);
}

}  // namespace llmlab::cuda
