/// \file
/// \ingroup group_optimizer
/// \brief The fused multi-tensor AdamW step and the two-stage global gradient norm.
///
/// - **adamw_step**: one grid-stride launch over the concatenation of every tensor of an
///   AdamwList. Each thread walks its elements in increasing order, so the tensor an element
///   belongs to only ever advances: a thread finds its first tensor by a scan and then steps
///   forward (no per-element search). Per element it reads g, m, v and p (or master) and writes m,
///   v, p (and master): 16 bytes read and 12 written for fp32 parameters, the minimum for an
///   unfused AdamW that keeps its state in memory; the bias corrections are computed once on the
///   host, in float, exactly as the float reference computes them.
/// - **grad_norm**: stage 1, a grid fixed by the total size (grid_stride_config: at most 1024
///   blocks), each thread summing \f$ g^2 \f$ in fp32 over its elements and the block adding its
///   threads with block_allsum into one partial per block; stage 2, one block adding the partials
///   in a fixed order (thread i takes partials i, i + 256, …; then block_allsum). No atomics: the
///   same list gives the same bits on every run.
/// - bf16 parameters are rounded stochastically: the random 16 bits are a SplitMix64 hash of
///   (seed, step, element index), so they depend on neither the launch shape nor the schedule.
///
/// One version. Timing on a GPU awaits a GPU; bench/optimizer_bench times the emulated kernel.

#include "llmlab/cuda/optimizer.cuh"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "llmlab/core/error.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/primitives.cuh"

namespace llmlab::cuda {
namespace {

constexpr int kItemsPerThread = 4;  // the grid: each thread takes at least this many elements

/// SplitMix64's finaliser (Steele, Lea & Flood 2014): a bijective 64-bit mix.
__host__ __device__ __forceinline__ std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/// Stochastic rounding of x to bf16 bits: add 16 random bits below the kept ones and truncate, so
/// x rounds up with probability (its distance to the bf16 below) / (one bf16 ulp). NaN and ±inf
/// keep round-to-nearest.
__host__ __device__ __forceinline__ std::uint16_t round_bits(std::uint32_t bits, std::uint32_t seed,
                                                             std::int64_t step,
                                                             std::int64_t index) {
  if ((bits & 0x7f800000u) == 0x7f800000u)  // inf or NaN: nearest (NaN stays NaN)
    return static_cast<std::uint16_t>((bits >> 16) | ((bits & 0xffffu) != 0 ? 0x40u : 0u));
  const std::uint64_t key = splitmix64((static_cast<std::uint64_t>(seed) << 32) ^
                                       static_cast<std::uint64_t>(step));
  const auto r = static_cast<std::uint32_t>(splitmix64(key ^ static_cast<std::uint64_t>(index)));
  return static_cast<std::uint16_t>((bits + (r & 0xffffu)) >> 16);
}

/// The fp32 value stored as a parameter of type P: itself, or stochastically rounded to bf16.
__device__ __forceinline__ void store_param(float* p, float x, std::uint32_t, std::int64_t,
                                            std::int64_t) {
  *p = x;
}
__device__ __forceinline__ void store_param(__nv_bfloat16* p, float x, std::uint32_t seed,
                                            std::int64_t step, std::int64_t index) {
  __nv_bfloat16_raw raw;
  raw.x = round_bits(__float_as_uint(x), seed, step, index);
  *p = __nv_bfloat16(raw);
}

/// The per-step constants, computed once on the host in float as the float reference does.
struct AdamwConstants {
  float beta1, beta2, eps;
  float step_size;              // η / (1 − β1^t)
  float bias_correction2_sqrt;  // √(1 − β2^t)
  float decay;                  // 1 − η λ
  std::int64_t step;
  std::uint32_t seed;
};

/// The index of the tensor holding element i, searching from tensor t on.
template <class P>
__device__ __forceinline__ int tensor_of(const AdamwTensor<P>* list, int t, std::int64_t i) {
  while (i >= list[t].offset + list[t].n) ++t;
  return t;
}

template <class P>
__global__ void adamw_fused(const AdamwTensor<P>* list, std::int64_t total, AdamwConstants k,
                            const float* grad_scale) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  const float c = grad_scale != nullptr ? *grad_scale : 1.0f;
  int t = 0;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       i < total; i += stride) {
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

/// Stage 1: partials[block] = Σ g² over the block's grid-stride share, in fp32.
template <class P>
__global__ void grad_norm_partials(const AdamwTensor<P>* list, std::int64_t total,
                                   float* partials) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  float sum = 0.0f;
  int t = 0;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       i < total; i += stride) {
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

std::string named(const char* name, double value) {
  char s[48];
  std::snprintf(s, sizeof s, "%s = %g", name, value);
  return s;
}

/// Throws Error(where, …) naming the runtime's error when err is not cudaSuccess.
void check_cuda(cudaError_t err, const char* where) {
  if (err != cudaSuccess) throw Error(where, std::string("CUDA runtime: ") + cudaGetErrorString(err));
}

void check_hyper(const AdamwHyper& h) {
  constexpr const char* where = "adamw_step";
  if (!(h.lr >= 0)) throw Error(where, named("lr", h.lr) + " must be >= 0");
  if (!(h.beta1 >= 0 && h.beta1 < 1)) throw Error(where, named("beta1", h.beta1) + " must be in [0, 1)");
  if (!(h.beta2 >= 0 && h.beta2 < 1)) throw Error(where, named("beta2", h.beta2) + " must be in [0, 1)");
  if (!(h.eps > 0)) throw Error(where, named("eps", h.eps) + " must be > 0");
  if (!(h.weight_decay >= 0)) throw Error(where, named("weight_decay", h.weight_decay) + " must be >= 0");
  if (h.step < 1) throw Error(where, "step = " + std::to_string(h.step) + " must be >= 1");
}

}  // namespace

template <class P>
AdamwList<P>::AdamwList(std::span<const AdamwTensor<P>> tensors) {
  constexpr const char* where = "AdamwList";
  std::vector<AdamwTensor<P>> host(tensors.begin(), tensors.end());
  for (std::size_t k = 0; k < host.size(); ++k) {
    AdamwTensor<P>& d = host[k];
    const std::string which = "tensor " + std::to_string(k) + ": ";
    if (d.n < 0) throw Error(where, which + "n = " + std::to_string(d.n) + " must be >= 0");
    if (d.n > 0)
      check_pointers(where, "tensor " + std::to_string(k) + " has n = " + std::to_string(d.n),
                     {{d.param, "param"}, {d.grad, "grad"}, {d.m, "m"}, {d.v, "v"}});
    if (sizeof(P) == sizeof(float) && d.master != nullptr)
      throw Error(where, which + "master is for bf16 parameters, but param is fp32");
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
  const int blocks = static_cast<int>(cfg.gridDim.x);
  if (list.total() > 0) {
    const cudaError_t e =
        launch(cfg, grad_norm_partials<P>, list.device(), list.total(), list.partials());
    if (e != cudaSuccess) return e;
  }
  return launch(launch_config(dim3(1), dim3(kBlock)), grad_norm_finish,
                static_cast<const float*>(list.partials()), list.total() > 0 ? blocks : 0,
                max_norm, out);
}

template <class P>
cudaError_t adamw_step(const AdamwList<P>& list, const AdamwHyper& h, const float* grad_scale) {
  check_hyper(h);
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

std::uint16_t stochastic_round_bf16(float x, std::uint32_t seed, std::int64_t step,
                                    std::int64_t index) {
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return round_bits(bits, seed, step, index);
}

template class AdamwList<float>;
template class AdamwList<__nv_bfloat16>;
template cudaError_t grad_norm(const AdamwList<float>&, float, float*);
template cudaError_t grad_norm(const AdamwList<__nv_bfloat16>&, float, float*);
template cudaError_t adamw_step(const AdamwList<float>&, const AdamwHyper&, const float*);
template cudaError_t adamw_step(const AdamwList<__nv_bfloat16>&, const AdamwHyper&, const float*);

}  // namespace llmlab::cuda
