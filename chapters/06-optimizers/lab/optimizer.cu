/// \file
/// \brief Lab 06: the fused AdamW step — one launch that updates every parameter tensor of a
/// model, torch.optim.AdamW's arithmetic in fp32, for fp32 parameters and for bf16 parameters
/// with fp32 master weights.
///
/// The interface is llmlab's own (<llmlab/cuda/optimizer.cuh>): an AdamwList is a device array
/// of AdamwTensor descriptors (param, master, grad, m, v, n, offset), made once; the list itself,
/// the global gradient norm and the stochastic rounding are given (the header, and
/// optimized/src/optimizer_list.cu, which this lab is built with). You write:
/// - step 2: the per-step constants in the launcher (the bias corrections, on the host);
/// - step 3: the kernel's loop over every element of every tensor, and the update of one element;
/// - step 4: the bf16 path — read the master weight when there is one, write it back, and store
///   the parameter with store_param (which rounds bf16 stochastically).
///
/// Check your work:   scripts/lab.sh 06
/// (or configure with -DLLMLAB_CHECK_LAB=ON and run
/// build/default/chapters/06-optimizers/ch06_checks).

#include <cmath>
#include <cstdint>

#include "llmlab/core/error.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/optimizer.cuh"

namespace llmlab::cuda {
namespace {

constexpr int kBlock = 256;             // threads per block
constexpr long long kMaxBlocks = 1024;  // the grid-stride loop's cap on blocks

/// The numbers every element of one step shares, computed once on the host.
struct AdamwConstants {
  float beta1, beta2, eps;
  float step_size;              // η / (1 − β1^t)
  float bias_correction2_sqrt;  // √(1 − β2^t)
  float decay;                  // 1 − η λ
  std::int64_t step;            // for store_param's random bits
  std::uint32_t seed;
};

/// x as a float (exact for both element types).
[[maybe_unused]] __device__ __forceinline__ float to_float(float x) { return x; }
[[maybe_unused]] __device__ __forceinline__ float to_float(__nv_bfloat16 x) {
  return __bfloat162float(x);
}

/// Launched with at most 1024 blocks of 256 threads over `total` elements: the concatenation of
/// every tensor of the list (tensor t holds elements list[t].offset … list[t].offset + n − 1).
template <class P>
__global__ void adamw_kernel(const AdamwTensor<P>* list, std::int64_t total, AdamwConstants k,
                             const float* grad_scale) {
  // TODO(step 3): a grid-stride loop, i = blockIdx.x * blockDim.x + threadIdx.x, i += gridDim.x *
  //   blockDim.x, while i < total (use std::int64_t: a model has more than 2^31 parameters).
  //   - t = tensor_of(list, t, i) finds element i's tensor (start t at 0 before the loop: it only
  //     moves forward); j = i - list[t].offset is the element inside it.
  //   - g = list[t].grad[j], times *grad_scale when grad_scale is not null (the clip factor).
  //   - p = to_float(list[t].param[j])   (step 4: list[t].master[j] when master is not null).
  //   - torch.optim.AdamW, in this order (see the handout's worked numbers):
  //       p = p * k.decay;
  //       m = m * beta1 + (1 - beta1) * g;          v = v * beta2 + (1 - beta2) * (g * g);
  //       p = p - k.step_size * (m / (sqrtf(v) / k.bias_correction2_sqrt + k.eps));
  //   - write m and v back, then the parameter with store_param(list[t].param + j, p, k.seed,
  //     k.step, i)   (step 4: and list[t].master[j] = p first, when there is a master).
  (void)list, (void)total, (void)k, (void)grad_scale;
}

}  // namespace

template <class P>
cudaError_t adamw_step(const AdamwList<P>& list, const AdamwHyper& h, const float* grad_scale) {
  check_adamw_hyper(h);  // lr ≥ 0, betas in [0, 1), eps > 0, weight_decay ≥ 0, step ≥ 1
  if (list.total() == 0) return cudaSuccess;
  // TODO(step 2): delete this statement, then fill k: the bias corrections in float,
  //   bias_correction1 = 1 - std::pow(h.beta1, (float)h.step), the same for beta2, and
  //   k = {h.beta1, h.beta2, h.eps, h.lr / bias_correction1, std::sqrt(bias_correction2),
  //        1 - h.lr * h.weight_decay, h.step, h.seed}.
  throw Error("adamw_step",
              "not implemented — write adamw_step's constants and adamw_kernel in "
              "chapters/06-optimizers/lab/optimizer.cu (steps 2 and 3 of the handout)");
  const AdamwConstants k{};
  long long blocks = (list.total() + kBlock - 1) / kBlock;
  if (blocks > kMaxBlocks) blocks = kMaxBlocks;
  return launch(launch_config(dim3(static_cast<unsigned>(blocks)), dim3(kBlock)), adamw_kernel<P>,
                list.device(), list.total(), k, grad_scale);
}

/// \cond EXPLICIT_INSTANTIATIONS
template cudaError_t adamw_step(const AdamwList<float>&, const AdamwHyper&, const float*);
template cudaError_t adamw_step(const AdamwList<__nv_bfloat16>&, const AdamwHyper&, const float*);
/// \endcond

}  // namespace llmlab::cuda
