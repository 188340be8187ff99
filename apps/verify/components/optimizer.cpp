/// \file
/// \ingroup group_optimizer
/// \brief `llmlab verify optimizer`: one fused AdamW step over a list of parameter tensors (fp32
/// parameters, and bf16 ones with fp32 master weights), with clipping by the global norm where the
/// case asks for it, over the sweep of the optimizer's one description
/// (llmlab/testing/optimizer_case.hpp).

#include "llmlab/cuda/abi/optimizer.h"

#include <cstdint>
#include <string>
#include <vector>

#include "llmlab/testing/optimizer_case.hpp"
#include "verify/elements.hpp"
#include "verify/registry.hpp"

namespace llmlab::app {
namespace {

using testing::OptimizerCase;

/// The first element of a device array (grad_norm writes the norm, then the clip factor).
class FirstOf : public DeviceOutput {
 public:
  explicit FirstOf(const DeviceArray<float>& a) : a_(a) {}
  std::vector<double> widened() const override { return {a_.widened().at(0)}; }

 private:
  const DeviceArray<float>& a_;
};

/// Each tensor's pointer into one concatenated array (tensor k from the sizes before it).
template <class T>
std::vector<T*> parts(const DeviceArray<T>& all, const std::vector<std::int64_t>& sizes) {
  std::vector<T*> out;
  std::int64_t first = 0;
  for (const std::int64_t n : sizes) {
    out.push_back(all.get() + first);
    first += n;
  }
  return out;
}

template <class Fn>
void check_f32(const KernelLibrary& lib, Found<Fn> fn, const OptimizerCase& k, const Emit& emit) {
  const auto& s = k.shape;
  const auto o = testing::optimizer_options(s);
  DeviceArray<float> p(lib, k.param), g(lib, k.grad), m(lib, k.m), v(lib, k.v), norm(lib, 2);
  const auto pp = parts(p, s.sizes), gp = parts(g, s.sizes), mp = parts(m, s.sizes),
             vp = parts(v, s.sizes);
  const std::vector<const float*> gc(gp.begin(), gp.end());
  const int rc =
      fn.fn(pp.data(), gc.data(), mp.data(), vp.data(), s.sizes.data(),
            static_cast<int>(s.sizes.size()), s.step, static_cast<float>(o.lr),
            static_cast<float>(o.beta1), static_cast<float>(o.beta2), static_cast<float>(o.eps),
            static_cast<float>(o.weight_decay), static_cast<float>(s.max_norm), norm.get());
  const FirstOf n(norm);
  emit_judged(lib, "optimizer", s.label(), k.dtype, testing::optimizer_expected(k), fn.name, rc,
              {{"param", &p}, {"m", &m}, {"v", &v}, {"norm", &n}}, emit);
}

template <class Fn>
void check_bf16(const KernelLibrary& lib, Found<Fn> fn, const OptimizerCase& k, const Emit& emit) {
  const auto& s = k.shape;
  const auto o = testing::optimizer_options(s);
  DeviceArray<std::uint16_t> p(lib, device_values<std::uint16_t>(k.param));
  DeviceArray<float> master(lib, k.param), g(lib, k.grad), m(lib, k.m), v(lib, k.v), norm(lib, 2);
  const auto pp = parts(p, s.sizes);
  const auto wp = parts(master, s.sizes), gp = parts(g, s.sizes), mp = parts(m, s.sizes),
             vp = parts(v, s.sizes);
  const std::vector<const float*> gc(gp.begin(), gp.end());
  const int rc =
      fn.fn(pp.data(), wp.data(), gc.data(), mp.data(), vp.data(), s.sizes.data(),
            static_cast<int>(s.sizes.size()), s.step, static_cast<float>(o.lr),
            static_cast<float>(o.beta1), static_cast<float>(o.beta2), static_cast<float>(o.eps),
            static_cast<float>(o.weight_decay), static_cast<float>(s.max_norm), norm.get(), 1u);
  const FirstOf n(norm);
  emit_judged(lib, "optimizer", s.label(), k.dtype, testing::optimizer_expected(k), fn.name, rc,
              {{"master", &master}, {"m", &m}, {"v", &v}, {"norm", &n}}, emit);
}

void sweep(const KernelLibrary& lib, const Emit& emit) {
  for (const auto& shape : testing::optimizer_shapes()) {
    check_f32(lib, LLMLAB_FIND(lib, llmlab_optimizer_adamw_f32),
              testing::make_optimizer_case(shape, DType::f32), emit);
    check_bf16(lib, LLMLAB_FIND(lib, llmlab_optimizer_adamw_bf16),
               testing::make_optimizer_case(shape, DType::bf16), emit);
  }
}

Component optimizer_component() {
  const testing::OptimizerShape clipped = testing::optimizer_shapes()[2];
  return {
      testing::optimizer_card(),
      {LLMLAB_C_SYMBOL(llmlab_optimizer_adamw_f32, "params", "grads", "m", "v", "sizes", "count",
                       "step", "lr", "beta1", "beta2", "eps", "weight_decay", "max_norm", "norm"),
       LLMLAB_C_SYMBOL(llmlab_optimizer_adamw_bf16, "params", "master", "grads", "m", "v", "sizes",
                       "count", "step", "lr", "beta1", "beta2", "eps", "weight_decay", "max_norm",
                       "norm", "seed")},
      case_labels(testing::optimizer_shapes()),
      rules_in_words(
          {testing::optimizer_expected(testing::make_optimizer_case(clipped, DType::f32)),
           testing::optimizer_expected(testing::make_optimizer_case(clipped, DType::bf16))}),
      sweep};
}

}  // namespace
}  // namespace llmlab::app

LLMLAB_VERIFY_REGISTER(llmlab::app::optimizer_component())
