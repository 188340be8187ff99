#pragma once
/// \file
/// \ingroup group_optimizer
/// \brief The fused multi-tensor AdamW step and the deterministic global gradient norm on the GPU
/// (src/optimizer.cu, src/optimizer_list.cu).
///
/// A model's parameters are many tensors; one AdamwList describes them all once (a device array of
/// pointers and sizes, uploaded when the list is made), and every step is then one launch for the
/// norm's two stages and one for the update of every tensor. Moments and gradients are fp32
/// (docs/conventions.md: parameter gradients are fp32); parameters are fp32, or bf16 with optional
/// fp32 master weights, rounded to bf16 stochastically with a seed.

#include <cstdint>
#include <span>

#include "llmlab/cuda/kernel.cuh"

namespace llmlab::cuda {

/// One parameter tensor of a fused AdamW step, flattened to (n). P is float or __nv_bfloat16.
template <class P>
struct AdamwTensor {
  P* param = nullptr;  ///< (n) device: the parameters, updated
  float* master =
      nullptr;  ///< (n) device fp32 master weights, updated; null: none (fp32 P: must be null)
  const float* grad = nullptr;  ///< (n) device: \f$ \partial L / \partial p \f$, fp32, not modified
  float* m = nullptr;           ///< (n) device: the first moment, fp32, updated
  float* v = nullptr;           ///< (n) device: the second moment, fp32, updated
  std::int64_t n = 0;           ///< elements ≥ 0
  std::int64_t offset = 0;      ///< set by AdamwList: the elements of the tensors before this one
};

/// AdamW's hyper-parameters for one step, torch.optim.AdamW's names.
struct AdamwHyper {
  float lr = 1e-3f;           ///< \f$ \eta \ge 0 \f$ (this step's, e.g. from a schedule)
  float beta1 = 0.9f;         ///< \f$ \beta_1 \in [0, 1) \f$
  float beta2 = 0.999f;       ///< \f$ \beta_2 \in [0, 1) \f$
  float eps = 1e-8f;          ///< \f$ \varepsilon > 0 \f$
  float weight_decay = 0.0f;  ///< \f$ \lambda \ge 0 \f$, decoupled
  std::int64_t step = 1;      ///< t ≥ 1, for the bias corrections
  std::uint32_t seed = 0;     ///< bf16 parameters: the stochastic rounding's seed (with step)
};

/// The parameter tensors of a fused AdamW step, uploaded to the device once: their descriptors
/// (with each one's offset in the concatenation of all of them) and a workspace for the global
/// norm's per-block partial sums. Neither copyable nor shared between concurrent launches.
template <class P>
class AdamwList {
 public:
  /// Checks and uploads the descriptors (the device pointers themselves are not read here).
  /// @param tensors each tensor's pointers and size (offset is filled in)
  /// @throws llmlab::Error naming AdamwList, the argument and the tensor ("tensor k") when n < 0, a
  ///         pointer is null while n > 0, or master is set for fp32 parameters; or the
  ///         runtime's error when the upload fails.
  explicit AdamwList(std::span<const AdamwTensor<P>> tensors);
  ~AdamwList();
  AdamwList(const AdamwList&) = delete;
  AdamwList& operator=(const AdamwList&) = delete;

  /// The device array of count() descriptors.
  const AdamwTensor<P>* device() const { return device_; }
  /// The number of tensors.
  int count() const { return count_; }
  /// \f$ \sum_k n_k \f$: every element of every tensor.
  std::int64_t total() const { return total_; }
  /// The device workspace of the norm's partial sums (kGridStrideMaxBlocks floats).
  float* partials() const { return partials_; }

 private:
  AdamwTensor<P>* device_ = nullptr;
  float* partials_ = nullptr;
  int count_ = 0;
  std::int64_t total_ = 0;
};

/// The global gradient norm over every tensor of the list, and the clip factor, in two
/// deterministic stages (no atomics): each block of a grid fixed by total() writes the fp32 sum of
/// \f$ g_i^2 \f$ over its grid-stride share (block_allsum), then one block adds those partials in
/// a fixed order and writes
/// \f[ \mathrm{out}_0 = \|g\| = \Big(\sum g_i^2\Big)^{1/2}, \qquad
///     \mathrm{out}_1 = c = \begin{cases} \mathrm{max\_norm} / (\|g\| + 10^{-6}) & \text{if that is
///     } < 1 \\ 1 & \text{otherwise} \end{cases} \f]
/// (torch.nn.utils.clip_grad_norm_'s clip; pass out + 1 to adamw_step as its grad_scale).
/// @param list the tensors (only grad is read)   @param max_norm ≥ 0
/// @param out (2) device: the norm and the clip factor
/// @returns the launches' cudaError_t
/// @throws llmlab::Error naming grad_norm and the argument when max_norm < 0 or is not finite, or
///         out is null.
template <class P>
cudaError_t grad_norm(const AdamwList<P>& list, float max_norm, float* out);

/// One fused AdamW step over every tensor of the list, in one launch, torch.optim.AdamW's
/// arithmetic in fp32 and its grouping, per element (p read from master when there is one):
/// \f[ g \leftarrow c\,g, \quad p \leftarrow p\,(1 - \eta\lambda), \quad
///     m \leftarrow \beta_1 m + (1 - \beta_1) g, \quad v \leftarrow \beta_2 v + (1 - \beta_2) g^2,
/// \f]
/// \f[ p \leftarrow p - \frac{\eta}{1 - \beta_1^t} \cdot
///     \frac{m}{\sqrt{v} / \sqrt{1 - \beta_2^t} + \varepsilon}, \f]
/// with c = *grad_scale (1 when null); m, v and master written in fp32; an fp32 param written as
/// p, a bf16 param rounded stochastically: up with probability equal to p's distance to the bf16
/// below, in bf16 ulps, the random bits a hash of (seed, step, the element's index in the
/// concatenation), so a rerun gives the same bits whatever the launch shape.
/// @param list the tensors   @param h the hyper-parameters and step
/// @param grad_scale device scalar c (e.g. grad_norm's out + 1), or null for 1
/// @returns the launch's cudaError_t (cudaSuccess without a launch when total() == 0)
/// @throws llmlab::Error naming adamw_step and the argument when lr < 0, a beta is outside
///         [0, 1), eps ≤ 0, weight_decay < 0 or step < 1.
template <class P>
cudaError_t adamw_step(const AdamwList<P>& list, const AdamwHyper& h,
                       const float* grad_scale = nullptr);

/// The checks adamw_step makes of its hyper-parameters (every AdamW launcher calls it first).
/// @param h the hyper-parameters and step
/// @throws llmlab::Error naming adamw_step and the argument when lr < 0, a beta is outside
///         [0, 1), eps ≤ 0, weight_decay < 0 or step < 1.
void check_adamw_hyper(const AdamwHyper& h);

/// Stochastic rounding of one fp32 value to bf16, on the host exactly as the kernel does it (for
/// tests and the chapter): \f$ \mathrm{bits}(x) + (r \bmod 2^{16}) \f$, then the low 16 bits
/// dropped; NaN and ±inf round to nearest.
/// @param x the value   @param seed the rounding's seed   @param step the step t
/// @param index the element's index in the concatenation of the list's tensors
/// @returns the bf16 bit pattern
std::uint16_t stochastic_round_bf16(float x, std::uint32_t seed, std::int64_t step,
                                    std::int64_t index);

// ---- for kernels over an AdamwList (llmlab's and chapter 06's) ----------------------------------

/// SplitMix64's finaliser (Steele, Lea & Flood 2014): a bijective mix of 64 bits.
/// @param x the key   @returns 64 well-mixed bits
__host__ __device__ __forceinline__ std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/// The bf16 bits of the fp32 value with bits `bits`, rounded stochastically: 16 random bits
/// \f$ r \f$ added below the kept ones, then truncation, so x rounds away from zero with
/// probability (its distance to the bf16 toward zero) / (one bf16 ulp) — unbiased. r is
/// splitmix64(splitmix64(seed · 2^32 ⊕ step) ⊕ index). NaN and ±inf round to nearest.
/// @param bits the fp32 value's bits   @param seed the seed   @param step the step
/// @param index the element's index in the list's concatenation   @returns the bf16 bits
__host__ __device__ __forceinline__ std::uint16_t stochastic_round_bits(std::uint32_t bits,
                                                                        std::uint32_t seed,
                                                                        std::int64_t step,
                                                                        std::int64_t index) {
  if ((bits & 0x7f800000u) == 0x7f800000u)  // inf or NaN: nearest (a NaN stays a NaN)
    return static_cast<std::uint16_t>((bits >> 16) | ((bits & 0xffffu) != 0 ? 0x40u : 0u));
  const std::uint64_t key =
      splitmix64((static_cast<std::uint64_t>(seed) << 32) ^ static_cast<std::uint64_t>(step));
  const auto r = static_cast<std::uint32_t>(splitmix64(key ^ static_cast<std::uint64_t>(index)));
  return static_cast<std::uint16_t>((bits + (r & 0xffffu)) >> 16);
}

/// Writes the fp32 result x as an fp32 parameter: *p = x.
/// @param p the parameter   @param x its new value (seed, step and index are unused)
__device__ __forceinline__ void store_param(float* p, float x, std::uint32_t, std::int64_t,
                                            std::int64_t) {
  *p = x;
}
/// Writes the fp32 result x as a bf16 parameter, rounded stochastically (stochastic_round_bits).
/// @param p the parameter   @param x its new value   @param seed the seed   @param step the step
/// @param index the element's index in the list's concatenation
__device__ __forceinline__ void store_param(__nv_bfloat16* p, float x, std::uint32_t seed,
                                            std::int64_t step, std::int64_t index) {
  __nv_bfloat16_raw raw;
  raw.x = stochastic_round_bits(__float_as_uint(x), seed, step, index);
  *p = __nv_bfloat16(raw);
}

/// The index of the tensor that holds element i of the list's concatenation, searching from
/// tensor t on: a thread that visits its elements in increasing order only ever moves forward
/// (and steps over empty tensors).
/// @param list the device descriptors   @param t where to start   @param i the element
/// @returns the tensor's index
template <class P>
__device__ __forceinline__ int tensor_of(const AdamwTensor<P>* list, int t, std::int64_t i) {
  while (i >= list[t].offset + list[t].n) ++t;
  return t;
}

}  // namespace llmlab::cuda
