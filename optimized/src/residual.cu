/// \file
/// \ingroup group_residual
/// \brief residual: the residual stream's add, \f$ \mathrm{out} = a + b \f$, and its backward
/// \f$ \mathrm{da} \mathrel{+}= \mathrm{dout},\ \mathrm{db} \mathrel{+}= \mathrm{dout} \f$.
///
/// The forward *is* chapter 00's vector_add (same versions, same launcher), renamed for where it
/// sits in the model. The backward reads dout once and accumulates it into both gradients; each
/// element is one rounding (fp32, or fp32 rounded once to bf16), so it equals the reference.
///
/// Backward versions (tests/residual_test.cpp checks each, exact):
/// - v1 grid-stride: a grid capped at 1024 blocks of 256 threads walks the n elements, so block
///   launch and index math are paid once per several elements. The default (the only one).

#include <cstdint>
#include <string>

#include "llmlab/core/error.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/primitives.cuh"
#include "llmlab/cuda/residual.cuh"
#include "llmlab/cuda/vector_add.cuh"

namespace llmlab::cuda {
namespace {

template <class T>
__global__ void residual_backward_v1(const T* __restrict__ dout, T* __restrict__ da,
                                     T* __restrict__ db, std::int64_t n) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    const T d = dout[i];    // in the forward out_i = a_i + b_i, so dout_i flows to both unchanged
    da[i] = add(da[i], d);  // formed in fp32, rounded once to T
    db[i] = add(db[i], d);
  }
}

/// vector_add's errors, renamed: "vector_add: ..." becomes "residual_forward: ...".
template <class T>
cudaError_t forward_impl(const T* a, const T* b, T* out, std::int64_t n, int version) {
  try {
    return vector_add(a, b, out, n, version);
  } catch (const Error& e) {
    std::string what = e.what();
    const std::string prefix = "vector_add: ";
    if (what.starts_with(prefix)) what.erase(0, prefix.size());
    throw Error("residual_forward", what);
  }
}

template <class T>
cudaError_t backward_impl(const T* dout, T* da, T* db, std::int64_t n, int version) {
  constexpr const char* where = "residual_backward";
  check_count(where, "n", n);
  check_version(where, version, residual_backward_versions);  // v1 is the only one
  if (n == 0) return cudaSuccess;
  check_pointers(where, "n", {n}, {{dout, "dout"}, {da, "da"}, {db, "db"}});
  return launch(grid_stride_config(n), residual_backward_v1<T>, dout, da, db, n);
}

}  // namespace

cudaError_t residual_forward(const float* a, const float* b, float* out, std::int64_t n,
                             int version) {
  return forward_impl(a, b, out, n, version);
}

cudaError_t residual_forward(const __nv_bfloat16* a, const __nv_bfloat16* b, __nv_bfloat16* out,
                             std::int64_t n, int version) {
  return forward_impl(a, b, out, n, version);
}

cudaError_t residual_backward(const float* dout, float* da, float* db, std::int64_t n,
                              int version) {
  return backward_impl(dout, da, db, n, version);
}

cudaError_t residual_backward(const __nv_bfloat16* dout, __nv_bfloat16* da, __nv_bfloat16* db,
                              std::int64_t n, int version) {
  return backward_impl(dout, da, db, n, version);
}

}  // namespace llmlab::cuda
