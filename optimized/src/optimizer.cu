/// \file
/// \ingroup group_optimizer
/// \brief The fused multi-tensor AdamW step (the list, the norm and the rounding's hash are in
/// optimizer_list.cu and <llmlab/cuda/optimizer.cuh>).
///
/// One version: one grid-stride launch over the concatenation of every tensor of an AdamwList.
/// Each thread visits its elements in increasing order, so the tensor an element belongs to only
/// ever advances (tensor_of: a scan forward, no per-element search). Per element it reads g, m, v
/// and p (or the master weight) and writes m, v, p (and the master): 16 bytes read and 12 written
/// for fp32 parameters — the least an AdamW that keeps its state in memory can move. The bias
/// corrections are computed once on the host, in float, exactly as the float reference computes
/// them, and the per-element arithmetic is torch.optim.AdamW's in its order, so under the emulator
/// the kernel equals the float reference to the bit. bf16 parameters are rounded stochastically
/// with bits that depend on (seed, step, index) only, never on the launch shape.
///
/// Timing on a GPU awaits a GPU; bench/optimizer_bench times the emulated kernel.

#include <cmath>
#include <cstdint>

#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/optimizer.cuh"
#include "llmlab/cuda/primitives.cuh"

namespace llmlab::cuda {
namespace {

constexpr int kItemsPerThread = 4;  // the grid: each thread takes at least this many elements

/// The per-step constants, computed once on the host in float as the float reference does.
struct AdamwConstants {
  float beta1, beta2, eps;
  float step_size;              // η / (1 − β1^t)
  float bias_correction2_sqrt;  // √(1 − β2^t)
  float decay;                  // 1 − η λ
  std::int64_t step;
  std::uint32_t seed;
};

template <class P>
__global__ void adamw_fused(const AdamwTensor<P>* list, std::int64_t total, AdamwConstants k,
                            const float* grad_scale) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  const float c = grad_scale != nullptr ? *grad_scale : 1.0f;
  int t = 0;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += stride) {
    t = tensor_of(list, t, i);
    const AdamwTensor<P>& d = list[t];
    const std::int64_t j = i - d.offset;
    const float g = grad_scale != nullptr ? d.grad[j] * c : d.grad[j];
    float p = d.master != nullptr ? d.master[j] : to_float(d.param[j]);
    p = p * k.decay;                                          // param.mul_(1 − lr·wd)
    const float m = d.m[j] * k.beta1 + (1.0f - k.beta1) * g;  // exp_avg.mul_(β1).add_(g, 1 − β1)
    const float v = d.v[j] * k.beta2 + (1.0f - k.beta2) * (g * g);
    const float denom = sqrtf(v) / k.bias_correction2_sqrt + k.eps;
    p = p - k.step_size * (m / denom);
    d.m[j] = m;
    d.v[j] = v;
    if (d.master != nullptr) d.master[j] = p;
    store_param(d.param + j, p, k.seed, k.step, i);
  }
}

}  // namespace

template <class P>
cudaError_t adamw_step(const AdamwList<P>& list, const AdamwHyper& h, const float* grad_scale) {
  check_adamw_hyper(h);
  if (list.total() == 0) return cudaSuccess;
  const float t = static_cast<float>(h.step);
  const float bias_correction1 = 1.0f - std::pow(h.beta1, t);
  const float bias_correction2 = 1.0f - std::pow(h.beta2, t);
  const AdamwConstants k{h.beta1,
                         h.beta2,
                         h.eps,
                         h.lr / bias_correction1,
                         std::sqrt(bias_correction2),
                         1.0f - h.lr * h.weight_decay,
                         h.step,
                         h.seed};
  return launch(grid_stride_config(list.total(), kItemsPerThread), adamw_fused<P>, list.device(),
                list.total(), k, grad_scale);
}

/// \cond EXPLICIT_INSTANTIATIONS
template cudaError_t adamw_step(const AdamwList<float>&, const AdamwHyper&, const float*);
template cudaError_t adamw_step(const AdamwList<__nv_bfloat16>&, const AdamwHyper&, const float*);
/// \endcond

}  // namespace llmlab::cuda
