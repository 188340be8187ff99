/// \file
/// \ingroup group_optimizer
/// \brief The optimizer's C ABI (<llmlab/cuda/abi/optimizer.h>) over llmlab's fused AdamW and
/// two-stage global norm.

#include <cstdint>
#include <string>
#include <vector>

#include "abi_common.cuh"
#include "llmlab/core/error.hpp"
#include "llmlab/cuda/abi/optimizer.h"
#include "llmlab/cuda/optimizer.cuh"

namespace {

using llmlab::cuda::AdamwHyper;
using llmlab::cuda::AdamwList;
using llmlab::cuda::AdamwTensor;

/// The list from the C arrays (tensor k's pointers at index k), then grad_norm when clipping and
/// the fused step with its clip factor.
template <class P>
cudaError_t step_all(P* const* params, float* const* master, const float* const* grads,
                     float* const* m, float* const* v, const int64_t* sizes, int count,
                     const AdamwHyper& h, float max_norm, float* norm) {
  constexpr const char* where = "llmlab_optimizer_adamw";
  if (count < 0) throw llmlab::Error(where, "count = " + std::to_string(count) + " must be >= 0");
  if (count > 0 &&
      (params == nullptr || grads == nullptr || m == nullptr || v == nullptr || sizes == nullptr))
    throw llmlab::Error(where, "a pointer array is null but count = " + std::to_string(count));
  std::vector<AdamwTensor<P>> tensors;
  for (int k = 0; k < count; ++k)
    tensors.push_back(
        {params[k], master != nullptr ? master[k] : nullptr, grads[k], m[k], v[k], sizes[k], 0});
  const AdamwList<P> list(tensors);
  const float* scale = nullptr;
  if (max_norm > 0) {
    const cudaError_t e = llmlab::cuda::grad_norm(list, max_norm, norm);
    if (e != cudaSuccess) return e;
    scale = norm + 1;
  }
  const cudaError_t e = llmlab::cuda::adamw_step(list, h, scale);
  if (e != cudaSuccess) return e;
  return cudaDeviceSynchronize();  // the list's device copy is freed on return
}

}  // namespace

extern "C" {

int llmlab_optimizer_adamw_f32(float* const* params, const float* const* grads, float* const* m,
                               float* const* v, const int64_t* sizes, int count, int64_t step,
                               float lr, float beta1, float beta2, float eps, float weight_decay,
                               float max_norm, float* norm) {
  return llmlab::cuda::abi::guarded([&] {
    return step_all<float>(params, nullptr, grads, m, v, sizes, count,
                           AdamwHyper{lr, beta1, beta2, eps, weight_decay, step, 0}, max_norm,
                           norm);
  });
}

int llmlab_optimizer_adamw_bf16(uint16_t* const* params, float* const* master,
                                const float* const* grads, float* const* m, float* const* v,
                                const int64_t* sizes, int count, int64_t step, float lr,
                                float beta1, float beta2, float eps, float weight_decay,
                                float max_norm, float* norm, uint32_t seed) {
  return llmlab::cuda::abi::guarded([&] {
    return step_all<__nv_bfloat16>(
        reinterpret_cast<__nv_bfloat16* const*>(params), master, grads, m, v, sizes, count,
        AdamwHyper{lr, beta1, beta2, eps, weight_decay, step, seed}, max_norm, norm);
  });
}

}  // extern "C"
