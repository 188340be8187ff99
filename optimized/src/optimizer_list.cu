/// \file
/// \ingroup group_optimizer
/// \brief What every AdamW kernel over an AdamwList shares, llmlab's (optimizer.cu) and chapter
/// 06's lab alike: the list itself (checked, uploaded once), the checks of the hyper-parameters,
/// the host twin of the stochastic rounding, and the global gradient norm.
///
/// **grad_norm** runs in two deterministic stages: stage 1 on a grid fixed by the total size
/// (grid_stride_config: at most 1024 blocks), each thread summing \f$ g^2 \f$ in fp32 (one fmaf
/// per term) over its grid-stride share and block_allsum adding the block's threads into one
/// partial per block; stage 2, one block adding the partials in a fixed order (thread i takes
/// partials i, i + 256, …, then block_allsum) and writing the norm and the clip factor. No
/// atomics: the same list gives the same bits on every run and under every emulator schedule.

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "llmlab/core/error.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/optimizer.cuh"
#include "llmlab/cuda/primitives.cuh"

namespace llmlab::cuda {
namespace {

constexpr int kItemsPerThread = 4;  // the norm's grid: each thread takes at least this many

/// Stage 1: partials[block] = Σ g² over the block's grid-stride share, in fp32.
template <class P>
__global__ void grad_norm_partials(const AdamwTensor<P>* list, std::int64_t total,
                                   float* partials) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  float sum = 0.0f;
  int t = 0;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += stride) {
    t = tensor_of(list, t, i);
    const float g = list[t].grad[i - list[t].offset];
    sum = fmaf(g, g, sum);  // one rounding per term, the same on a GPU (which would contract it)
  }
  sum = block_allsum(sum);
  if (threadIdx.x == 0) partials[blockIdx.x] = sum;
}

/// Stage 2, one block: the partials added in a fixed order, then the norm and the clip factor.
__global__ void grad_norm_finish(const float* partials, int count, float max_norm, float* out) {
  float sum = 0.0f;
  for (int b = static_cast<int>(threadIdx.x); b < count; b += kBlock) sum += partials[b];
  sum = block_allsum(sum);
  if (threadIdx.x == 0) {
    const float norm = sqrtf(sum);
    const float clip = max_norm / (norm + 1e-6f);
    out[0] = norm;
    out[1] = clip < 1.0f ? clip : 1.0f;
  }
}

/// "lr = -0.5" for messages.
std::string named(const char* name, double value) {
  char s[48];
  std::snprintf(s, sizeof s, "%s = %g", name, value);
  return s;
}

/// Throws Error(where, …) naming the runtime's error when err is not cudaSuccess.
void check_cuda(cudaError_t err, const char* where) {
  if (err != cudaSuccess)
    throw Error(where, std::string("CUDA runtime: ") + cudaGetErrorString(err));
}

}  // namespace

void check_adamw_hyper(const AdamwHyper& h) {
  constexpr const char* where = "adamw_step";
  if (!(h.lr >= 0)) throw Error(where, named("lr", h.lr) + " must be >= 0");
  if (!(h.beta1 >= 0 && h.beta1 < 1))
    throw Error(where, named("beta1", h.beta1) + " must be in [0, 1)");
  if (!(h.beta2 >= 0 && h.beta2 < 1))
    throw Error(where, named("beta2", h.beta2) + " must be in [0, 1)");
  if (!(h.eps > 0)) throw Error(where, named("eps", h.eps) + " must be > 0");
  if (!(h.weight_decay >= 0))
    throw Error(where, named("weight_decay", h.weight_decay) + " must be >= 0");
  if (h.step < 1) throw Error(where, "step = " + std::to_string(h.step) + " must be >= 1");
}

template <class P>
AdamwList<P>::AdamwList(std::span<const AdamwTensor<P>> tensors) {
  constexpr const char* where = "AdamwList";
  std::vector<AdamwTensor<P>> host(tensors.begin(), tensors.end());
  for (std::size_t k = 0; k < host.size(); ++k) {
    AdamwTensor<P>& d = host[k];
    if (d.n < 0)
      throw Error(where,
                  "tensor " + std::to_string(k) + ": n = " + std::to_string(d.n) + " must be >= 0");
    if (d.n > 0)
      check_pointers(where, "tensor " + std::to_string(k) + " has n = " + std::to_string(d.n),
                     {{d.param, "param"}, {d.grad, "grad"}, {d.m, "m"}, {d.v, "v"}});
    if (sizeof(P) == sizeof(float) && d.master != nullptr)
      throw Error(where, "tensor " + std::to_string(k) +
                             ": master is for bf16 parameters, but param is fp32");
    d.offset = total_;
    total_ += d.n;
  }
  count_ = static_cast<int>(host.size());
  if (count_ > 0) {
    check_cuda(cudaMalloc(&device_, host.size() * sizeof(AdamwTensor<P>)), where);
    check_cuda(cudaMemcpy(device_, host.data(), host.size() * sizeof(AdamwTensor<P>),
                          cudaMemcpyHostToDevice),
               where);
  }
  check_cuda(cudaMalloc(&partials_, kGridStrideMaxBlocks * sizeof(float)), where);
}

template <class P>
AdamwList<P>::~AdamwList() {
  cudaFree(device_);
  cudaFree(partials_);
}

template <class P>
cudaError_t grad_norm(const AdamwList<P>& list, float max_norm, float* out) {
  constexpr const char* where = "grad_norm";
  if (!(max_norm >= 0) || !std::isfinite(max_norm))
    throw Error(where, named("max_norm", max_norm) + " must be finite and >= 0");
  if (out == nullptr) throw Error(where, "out is null");
  const cudaLaunchConfig_t cfg = grid_stride_config(list.total(), kItemsPerThread);
  const int blocks = list.total() > 0 ? static_cast<int>(cfg.gridDim.x) : 0;
  if (blocks > 0) {
    const cudaError_t e =
        launch(cfg, grad_norm_partials<P>, list.device(), list.total(), list.partials());
    if (e != cudaSuccess) return e;
  }
  return launch(launch_config(dim3(1), dim3(kBlock)), grad_norm_finish,
                static_cast<const float*>(list.partials()), blocks, max_norm, out);
}

std::uint16_t stochastic_round_bf16(float x, std::uint32_t seed, std::int64_t step,
                                    std::int64_t index) {
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return stochastic_round_bits(bits, seed, step, index);
}

/// \cond EXPLICIT_INSTANTIATIONS
template class AdamwList<float>;
template class AdamwList<__nv_bfloat16>;
template cudaError_t grad_norm(const AdamwList<float>&, float, float*);
template cudaError_t grad_norm(const AdamwList<__nv_bfloat16>&, float, float*);
/// \endcond

}  // namespace llmlab::cuda
