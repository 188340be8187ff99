#pragma once
/// \file
/// \ingroup group_optimizer
/// \brief An optimizer case on the device: one buffer per tensor and per array (so a kernel that
/// strays past a tensor's end reads another allocation, which AddressSanitizer and the values
/// catch), the AdamwList describing them, and the outputs collected by name for the oracle. Used
/// by tests/optimizer_test.cpp, chapter 06's checks and bench/optimizer_bench.cpp.

#include <cstdint>
#include <deque>
#include <initializer_list>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "llmlab/core/dtype.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/optimizer.cuh"
#include "llmlab/testing/component.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/env.hpp"
#include "llmlab/testing/optimizer_case.hpp"

namespace llmlab::testing {

/// One case's tensors on the device. P is float (fp32 parameters) or __nv_bfloat16 (bf16
/// parameters rounded to nearest from the case's values, which become the fp32 master weights).
template <class P>
class OptimizerDevice {
 public:
  /// Uploads every tensor of `k` and builds the list (grad_norm's output buffer starts at NaN).
  explicit OptimizerDevice(const OptimizerCase& k) : k_(k) {
    std::size_t first = 0;
    std::vector<cuda::AdamwTensor<P>> tensors;
    for (const std::int64_t n : k.shape.sizes) {
      const auto part = [&](const std::vector<float>& all) {
        return std::vector<float>(all.begin() + static_cast<std::ptrdiff_t>(first),
                                  all.begin() + static_cast<std::ptrdiff_t>(first) + n);
      };
      param_.emplace_back(device_values<P>(part(k.param)));
      if constexpr (sizeof(P) == 2) master_.emplace_back(part(k.param));
      grad_.emplace_back(part(k.grad));
      m_.emplace_back(part(k.m));
      v_.emplace_back(part(k.v));
      tensors.push_back({param_.back().get(), sizeof(P) == 2 ? master_.back().get() : nullptr,
                         grad_.back().cget(), m_.back().get(), v_.back().get(), n, 0});
      first += static_cast<std::size_t>(n);
    }
    list_.emplace_back(std::span<const cuda::AdamwTensor<P>>(tensors));
    norm_.fill_nan();
  }

  /// The list of every tensor, as adamw_step and grad_norm take it.
  const cuda::AdamwList<P>& list() const { return list_.front(); }
  /// grad_norm's output (2): the norm, then the clip factor.
  float* norm_out() const { return norm_.get(); }

  /// What the kernels wrote, by the names of optimizer_expected: "param" or "master", "m", "v",
  /// and "norm" when the case clips.
  Outputs outputs() const {
    Outputs out;
    const char* p = sizeof(P) == 2 ? "master" : "param";
    out[p] = sizeof(P) == 2 ? concat(master_) : concat(param_);
    out["m"] = concat(m_);
    out["v"] = concat(v_);
    if (k_.shape.max_norm > 0) out["norm"] = {norm_.widened()[0]};
    return out;
  }
  /// The parameters as the kernel left them (bf16 or fp32), widened, concatenated.
  std::vector<double> params() const { return concat(param_); }

 private:
  template <class E>
  static std::vector<double> concat(const std::deque<DeviceBuffer<E>>& parts) {
    std::vector<double> all;
    for (const auto& b : parts) {
      const auto w = b.widened();
      all.insert(all.end(), w.begin(), w.end());
    }
    return all;
  }

  OptimizerCase k_;
  std::deque<DeviceBuffer<P>> param_;
  std::deque<DeviceBuffer<float>> master_, grad_, m_, v_;
  DeviceBuffer<float> norm_{2};
  std::deque<cuda::AdamwList<P>> list_;  // a deque: built in place once the buffers exist
};

/// One AdamW step of `k` through llmlab's kernels: grad_norm first when the case clips (its clip
/// factor then scales the gradients inside adamw_step), in the case's hyper-parameters.
/// @param d the case on the device   @param k the case
/// @param seed the stochastic rounding's seed (bf16)
template <class P>
void run_optimizer_case(const OptimizerDevice<P>& d, const OptimizerCase& k,
                        std::uint32_t seed = 1) {
  const ref::AdamOptions o = optimizer_options(k.shape);
  const cuda::AdamwHyper h{static_cast<float>(o.lr),
                           static_cast<float>(o.beta1),
                           static_cast<float>(o.beta2),
                           static_cast<float>(o.eps),
                           static_cast<float>(o.weight_decay),
                           k.shape.step,
                           seed};
  const float* scale = nullptr;
  if (k.shape.max_norm > 0) {
    check(cuda::grad_norm(d.list(), static_cast<float>(k.shape.max_norm), d.norm_out()),
          "grad_norm");
    scale = d.norm_out() + 1;
  }
  check(cuda::adamw_step(d.list(), h, scale), "adamw_step");
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
}

/// One run of `k` through llmlab's kernels (run_optimizer_case): the outputs by name, plus
/// "params", the parameters as the kernel stored them (bf16 ones widened).
template <class P>
Outputs run_optimizer_outputs(const OptimizerCase& k, std::uint32_t seed) {
  const OptimizerDevice<P> d(k);
  run_optimizer_case(d, k, seed);
  Outputs out = d.outputs();
  out["params"] = d.params();
  return out;
}

/// How many bf16 parameters of a run (its "params" and "master" outputs) differ from
/// cuda::stochastic_round_bf16 of their master weight with this seed and step.
inline int stochastic_rounding_mismatches(const Outputs& out, std::uint32_t seed,
                                          std::int64_t step) {
  const std::vector<double>& params = out.at("params");
  const std::vector<double>& master = out.at("master");
  int wrong = 0;
  for (std::size_t i = 0; i < params.size(); ++i)
    wrong += float_to_bf16_bits(static_cast<float>(params[i])) !=
             cuda::stochastic_round_bf16(static_cast<float>(master[i]), seed, step,
                                         static_cast<std::int64_t>(i));
  return wrong;
}

/// Reruns `k` (P parameters) once as it is and, under the emulator, once under each schedule in
/// `schedules` (LLMLAB_EMU_SCHEDULE); @returns "<rerun> <output>" for every output whose bits
/// differ from the first run's (empty: bitwise reproducible).
template <class P>
std::vector<std::string> rerun_differences(const OptimizerCase& k, std::uint32_t seed,
                                           std::initializer_list<const char*> schedules) {
  const Outputs first = run_optimizer_outputs<P>(k, seed);
  std::vector<std::pair<std::string, Outputs>> again = {
      {"rerun", run_optimizer_outputs<P>(k, seed)}};
#if LLMLAB_EMULATED
  for (const char* schedule : schedules) {
    ScopedEnv env("LLMLAB_EMU_SCHEDULE", schedule);
    again.push_back({schedule, run_optimizer_outputs<P>(k, seed)});
  }
#else
  (void)schedules;
#endif
  std::vector<std::string> differ;
  for (const auto& [label, out] : again)
    for (const auto& [name, values] : first)
      if (out.at(name) != values) differ.push_back(label + " " + name);
  return differ;
}

}  // namespace llmlab::testing
