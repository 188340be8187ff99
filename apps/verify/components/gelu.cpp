/// \file
/// \ingroup group_gelu
/// \brief `llmlab verify gelu`: GPT-2's GELU forward and its accumulating backward, fp32 and
/// bf16, over the sweep of gelu's one description (llmlab/testing/gelu_case.hpp).

#include "llmlab/testing/gelu_case.hpp"

#include <cstdint>
#include <string>

#include "llmlab/cuda/abi/gelu.h"
#include "verify/elements.hpp"
#include "verify/registry.hpp"

namespace llmlab::app {
namespace {

using testing::GeluCase;

/// One case through the library's forward and backward of element type E (float or bf16 bits).
template <class E, class Forward, class Backward>
void check(const KernelLibrary& lib, Found<Forward> forward, Found<Backward> backward,
           const GeluCase& k, const Emit& emit) {
  const auto expected = testing::gelu_expected(k);
  const std::int64_t n = k.shape.n;
  const std::string shape = k.shape.label();
  DeviceArray<E> x(lib, device_values<E>(k.x)), y(lib, k.x.size()), dy(lib, device_values<E>(k.dy)),
      dx(lib, device_values<E>(k.dx0));
  emit_judged(lib, "gelu", shape, k.dtype, testing::only(expected, {"y"}), forward.name,
              forward.fn(x.get(), y.get(), n), {{"y", &y}}, emit);
  emit_judged(lib, "gelu", shape, k.dtype, testing::only(expected, {"dx"}), backward.name,
              backward.fn(dy.get(), x.get(), dx.get(), n), {{"dx", &dx}}, emit);
}

void sweep(const KernelLibrary& lib, const Emit& emit) {
  for (const auto& shape : testing::gelu_shapes()) {
    check<float>(lib, LLMLAB_FIND(lib, llmlab_gelu_forward_f32),
                 LLMLAB_FIND(lib, llmlab_gelu_backward_f32),
                 testing::make_gelu_case(shape, DType::f32), emit);
    check<std::uint16_t>(lib, LLMLAB_FIND(lib, llmlab_gelu_forward_bf16),
                         LLMLAB_FIND(lib, llmlab_gelu_backward_bf16),
                         testing::make_gelu_case(shape, DType::bf16), emit);
  }
}
Component gelu_component() {
  return {testing::gelu_card(),
          {LLMLAB_C_SYMBOL(llmlab_gelu_forward_f32, "x", "y", "n"),
           LLMLAB_C_SYMBOL(llmlab_gelu_forward_bf16, "x", "y", "n"),
           LLMLAB_C_SYMBOL(llmlab_gelu_backward_f32, "dy", "x", "dx", "n"),
           LLMLAB_C_SYMBOL(llmlab_gelu_backward_bf16, "dy", "x", "dx", "n")},
          case_labels(testing::gelu_shapes()),
          rules_in_words({testing::gelu_expected(testing::make_gelu_case({17, 5}, DType::f32)),
                          testing::gelu_expected(testing::make_gelu_case({17, 5}, DType::bf16))}),
          sweep};
}

}  // namespace
}  // namespace llmlab::app

LLMLAB_VERIFY_REGISTER(llmlab::app::gelu_component())
