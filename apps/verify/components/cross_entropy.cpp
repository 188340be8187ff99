/// \file
/// \ingroup group_cross_entropy
/// \brief `llmlab verify cross_entropy`: the per-token loss and log-sum-exp of fp32 and bf16
/// logits, and the backward's dlogits, over the sweep of cross_entropy's one description
/// (llmlab/testing/cross_entropy_case.hpp), which includes logits ×1000 (exp overflows unless the
/// row maximum is taken out), targets whose probability underflows, ignored targets and GPT-2's
/// V = 50257.

#include "llmlab/cuda/abi/cross_entropy.h"

#include <cstdint>
#include <string>

#include "llmlab/testing/cross_entropy_case.hpp"
#include "verify/elements.hpp"
#include "verify/registry.hpp"

namespace llmlab::app {
namespace {

using testing::CrossEntropyCase;

/// One case through the library's forward for logits of element type E (float or bf16 bits).
template <class E, class Forward>
void check_forward(const KernelLibrary& lib, Found<Forward> forward, const CrossEntropyCase& k,
                   const Emit& emit) {
  const auto& s = k.shape;
  DeviceArray<E> logits(lib, device_values<E>(k.logits));
  DeviceArray<std::int32_t> targets(lib, k.targets);
  DeviceArray<float> losses(lib, k.targets.size()), lse(lib, k.targets.size());
  emit_judged(lib, "cross_entropy", s.label(), k.dtype,
              testing::only(testing::cross_entropy_expected(k), {"losses", "lse"}), forward.name,
              forward.fn(logits.get(), targets.get(), losses.get(), lse.get(), s.B, s.T, s.V,
                         ref::kIgnoreIndex),
              {{"losses", &losses}, {"lse", &lse}}, emit);
}

/// One case through the library's backward from the case's lse and dlosses.
template <class E, class Backward>
void check_backward(const KernelLibrary& lib, Found<Backward> backward, const CrossEntropyCase& k,
                    const Emit& emit) {
  const auto& s = k.shape;
  DeviceArray<E> logits(lib, device_values<E>(k.logits)), dlogits(lib, k.logits.size());
  DeviceArray<std::int32_t> targets(lib, k.targets);
  DeviceArray<float> lse(lib, k.lse), dlosses(lib, k.dlosses);
  emit_judged(lib, "cross_entropy", s.label(), k.dtype,
              testing::only(testing::cross_entropy_expected(k), {"dlogits"}), backward.name,
              backward.fn(logits.get(), targets.get(), lse.get(), dlosses.get(), dlogits.get(), s.B,
                          s.T, s.V, ref::kIgnoreIndex),
              {{"dlogits", &dlogits}}, emit);
}

void sweep(const KernelLibrary& lib, const Emit& emit) {
  for (const auto& shape : testing::cross_entropy_shapes()) {
    const CrossEntropyCase f32 = testing::make_cross_entropy_case(shape, DType::f32);
    const CrossEntropyCase bf16 = testing::make_cross_entropy_case(shape, DType::bf16);
    check_forward<float>(lib, LLMLAB_FIND(lib, llmlab_cross_entropy_forward_f32), f32, emit);
    check_forward<std::uint16_t>(lib, LLMLAB_FIND(lib, llmlab_cross_entropy_forward_bf16), bf16,
                                 emit);
    check_backward<float>(lib, LLMLAB_FIND(lib, llmlab_cross_entropy_backward_f32), f32, emit);
    check_backward<std::uint16_t>(lib, LLMLAB_FIND(lib, llmlab_cross_entropy_backward_bf16), bf16,
                                  emit);
  }
}

Component cross_entropy_component() {
  const testing::CrossEntropyShape shape{3, 17, 97, 4, 4};
  return {testing::cross_entropy_card(),
          {LLMLAB_C_SYMBOL(llmlab_cross_entropy_forward_f32, "logits", "targets", "losses", "lse",
                           "B", "T", "V", "ignore_index"),
           LLMLAB_C_SYMBOL(llmlab_cross_entropy_forward_bf16, "logits", "targets", "losses", "lse",
                           "B", "T", "V", "ignore_index"),
           LLMLAB_C_SYMBOL(llmlab_cross_entropy_backward_f32, "logits", "targets", "lse", "dlosses",
                           "dlogits", "B", "T", "V", "ignore_index"),
           LLMLAB_C_SYMBOL(llmlab_cross_entropy_backward_bf16, "logits", "targets", "lse",
                           "dlosses", "dlogits", "B", "T", "V", "ignore_index")},
          case_labels(testing::cross_entropy_shapes()),
          rules_in_words(
              {testing::cross_entropy_expected(testing::make_cross_entropy_case(shape, DType::f32)),
               testing::only(testing::cross_entropy_expected(
                                 testing::make_cross_entropy_case(shape, DType::bf16)),
                             {"dlogits"})}),
          sweep};
}

}  // namespace
}  // namespace llmlab::app

LLMLAB_VERIFY_REGISTER(llmlab::app::cross_entropy_component())
