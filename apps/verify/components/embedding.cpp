/// \file
/// \ingroup group_embedding
/// \brief `llmlab verify embedding`: \f$ \mathrm{out}_{b,t} = \mathrm{wte}_{\mathrm{ids}_{b,t}} +
/// \mathrm{wpe}_t \f$ in fp32 and bf16 (exact: one rounding, like the reference), and its
/// accumulating backward in fp32 (the ratio rule for gradients), over the sweep of embedding's one
/// description (llmlab/testing/embedding_case.hpp).

#include "llmlab/cuda/abi/embedding.h"

#include <cstdint>
#include <string>

#include "llmlab/testing/embedding_case.hpp"
#include "verify/elements.hpp"
#include "verify/registry.hpp"

namespace llmlab::app {
namespace {

using testing::EmbeddingCase;

/// One case through the library's forward of element type E (float or bf16 bits).
template <class E, class Forward>
void check_forward(const KernelLibrary& lib, Found<Forward> forward, const EmbeddingCase& k,
                   const Emit& emit) {
  const auto& s = k.shape;
  DeviceArray<std::int32_t> ids(lib, k.ids);
  DeviceArray<E> wte(lib, device_values<E>(k.wte)), wpe(lib, device_values<E>(k.wpe)),
      out(lib, static_cast<std::size_t>(s.B * s.T * s.C));
  emit_judged(lib, "embedding", s.label(), k.dtype,
              testing::only(testing::embedding_expected(k), {"out"}), forward.name,
              forward.fn(ids.get(), wte.get(), wpe.get(), out.get(), s.B, s.T, s.C, s.V, s.maxT),
              {{"out", &out}}, emit);
}

/// One fp32 case through the library's backward: dwte and dwpe accumulated onto dwte0 and dwpe0.
template <class Backward>
void check_backward(const KernelLibrary& lib, Found<Backward> backward, const EmbeddingCase& k,
                    const Emit& emit) {
  const auto& s = k.shape;
  DeviceArray<std::int32_t> ids(lib, k.ids);
  DeviceArray<float> dout(lib, k.dout), dwte(lib, k.dwte0), dwpe(lib, k.dwpe0);
  emit_judged(
      lib, "embedding", s.label(), k.dtype,
      testing::only(testing::embedding_expected(k), {"dwte", "dwpe"}), backward.name,
      backward.fn(dout.get(), ids.get(), dwte.get(), dwpe.get(), s.B, s.T, s.C, s.V, s.maxT),
      {{"dwte", &dwte}, {"dwpe", &dwpe}}, emit);
}

void sweep(const KernelLibrary& lib, const Emit& emit) {
  for (const auto& shape : testing::embedding_shapes()) {
    const EmbeddingCase f32 = testing::make_embedding_case(shape, DType::f32);
    check_forward<float>(lib, LLMLAB_FIND(lib, llmlab_embedding_forward_f32), f32, emit);
    check_forward<std::uint16_t>(lib, LLMLAB_FIND(lib, llmlab_embedding_forward_bf16),
                                 testing::make_embedding_case(shape, DType::bf16), emit);
    check_backward(lib, LLMLAB_FIND(lib, llmlab_embedding_backward_f32), f32, emit);
  }
}

Component embedding_component() {
  const testing::EmbeddingShape shape{2, 3, 17, 5, 4};
  return {
      testing::embedding_card(),
      {LLMLAB_C_SYMBOL(llmlab_embedding_forward_f32, "ids", "wte", "wpe", "out", "B", "T", "C", "V",
                       "maxT"),
       LLMLAB_C_SYMBOL(llmlab_embedding_forward_bf16, "ids", "wte", "wpe", "out", "B", "T", "C",
                       "V", "maxT"),
       LLMLAB_C_SYMBOL(llmlab_embedding_backward_f32, "dout", "ids", "dwte", "dwpe", "B", "T", "C",
                       "V", "maxT")},
      case_labels(testing::embedding_shapes()),
      rules_in_words({testing::embedding_expected(testing::make_embedding_case(shape, DType::f32)),
                      testing::only(testing::embedding_expected(
                                        testing::make_embedding_case(shape, DType::bf16)),
                                    {"out"})}),
      sweep};
}

}  // namespace
}  // namespace llmlab::app

LLMLAB_VERIFY_REGISTER(llmlab::app::embedding_component())
