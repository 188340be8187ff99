/// \file
/// \ingroup group_attention
/// \brief `llmlab verify attention`: attention's forward (O and L) and backward (dQ, dK, dV) in
/// fp32 and bf16, causal and full, over the sweep of attention's one description
/// (llmlab/testing/attention_case.hpp) — including q, k ×30, where a flash kernel that does not
/// rescale its accumulator is far off. `--impl libmine.so` checks a student's own kernels.

#include "llmlab/cuda/abi/attention.h"

#include <cstdint>
#include <string>

#include "llmlab/testing/attention_case.hpp"
#include "verify/elements.hpp"
#include "verify/registry.hpp"

namespace llmlab::app {
namespace {

using testing::AttentionCase;

/// One case through the library's forward of element type E (float or bf16 bits).
template <class E, class Forward>
void check_forward(const KernelLibrary& lib, Found<Forward> forward, const AttentionCase& c,
                   const Emit& emit) {
  const auto& s = c.shape;
  DeviceArray<E> q(lib, device_values<E>(c.q)), k(lib, device_values<E>(c.k)),
      v(lib, device_values<E>(c.v)), out(lib, c.q.size());
  DeviceArray<float> lse(lib, c.lse.size());
  emit_judged(lib, "attention", s.label(), c.dtype,
              testing::only(testing::attention_expected(c), {"out", "lse"}), forward.name,
              forward.fn(q.get(), k.get(), v.get(), out.get(), lse.get(), s.B, s.H, s.T, s.D,
                         s.causal ? 1 : 0),
              {{"out", &out}, {"lse", &lse}}, emit);
}

/// One case through the library's backward of element type E, from the case's out and lse.
template <class E, class Backward>
void check_backward(const KernelLibrary& lib, Found<Backward> backward, const AttentionCase& c,
                    const Emit& emit) {
  const auto& s = c.shape;
  DeviceArray<E> dout(lib, device_values<E>(c.dout)), q(lib, device_values<E>(c.q)),
      k(lib, device_values<E>(c.k)), v(lib, device_values<E>(c.v)),
      out(lib, device_values<E>(c.out)), dq(lib, c.q.size()), dk(lib, c.q.size()),
      dv(lib, c.q.size());
  DeviceArray<float> lse(lib, c.lse);
  emit_judged(lib, "attention", s.label(), c.dtype,
              testing::only(testing::attention_expected(c), {"dq", "dk", "dv"}), backward.name,
              backward.fn(dout.get(), q.get(), k.get(), v.get(), out.get(), lse.get(), dq.get(),
                          dk.get(), dv.get(), s.B, s.H, s.T, s.D, s.causal ? 1 : 0),
              {{"dq", &dq}, {"dk", &dk}, {"dv", &dv}}, emit);
}

void sweep(const KernelLibrary& lib, const Emit& emit) {
  for (const auto& shape : testing::attention_shapes()) {
    const AttentionCase f32 = testing::make_attention_case(shape, DType::f32);
    const AttentionCase bf16 = testing::make_attention_case(shape, DType::bf16);
    check_forward<float>(lib, LLMLAB_FIND(lib, llmlab_attention_forward_f32), f32, emit);
    check_forward<std::uint16_t>(lib, LLMLAB_FIND(lib, llmlab_attention_forward_bf16), bf16, emit);
    check_backward<float>(lib, LLMLAB_FIND(lib, llmlab_attention_backward_f32), f32, emit);
    check_backward<std::uint16_t>(lib, LLMLAB_FIND(lib, llmlab_attention_backward_bf16), bf16,
                                  emit);
  }
}

Component attention_component() {
  const testing::AttentionShape shape{1, 2, 17, 16, true};
  return {testing::attention_card(),
          {LLMLAB_C_SYMBOL(llmlab_attention_forward_f32, "q", "k", "v", "out", "lse", "B", "H", "T",
                           "D", "causal"),
           LLMLAB_C_SYMBOL(llmlab_attention_forward_bf16, "q", "k", "v", "out", "lse", "B", "H",
                           "T", "D", "causal"),
           LLMLAB_C_SYMBOL(llmlab_attention_backward_f32, "dout", "q", "k", "v", "out", "lse", "dq",
                           "dk", "dv", "B", "H", "T", "D", "causal"),
           LLMLAB_C_SYMBOL(llmlab_attention_backward_bf16, "dout", "q", "k", "v", "out", "lse",
                           "dq", "dk", "dv", "B", "H", "T", "D", "causal")},
          case_labels(testing::attention_shapes()),
          rules_in_words(
              {testing::attention_expected(testing::make_attention_case(shape, DType::f32)),
               testing::attention_expected(testing::make_attention_case(shape, DType::bf16))}),
          sweep};
}

}  // namespace
}  // namespace llmlab::app

LLMLAB_VERIFY_REGISTER(llmlab::app::attention_component())
