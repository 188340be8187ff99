/// \file
/// \ingroup group_softmax
/// \brief `llmlab verify softmax`: row-wise softmax in fp32 and bf16 and its accumulating backward
/// in fp32, over the sweep of softmax's one description (llmlab/testing/softmax_case.hpp), which
/// includes logits ×1000, near +90, a dominant logit and constant rows, where forgetting to
/// subtract the row maximum overflows or underflows float32.

#include "llmlab/cuda/abi/softmax.h"

#include <cstdint>
#include <string>

#include "llmlab/testing/softmax_case.hpp"
#include "verify/elements.hpp"
#include "verify/registry.hpp"

namespace llmlab::app {
namespace {

using testing::SoftmaxCase;

/// One case through the library's forward of element type E (float or bf16 bits).
template <class E, class Forward>
void check_forward(const KernelLibrary& lib, Found<Forward> forward, const SoftmaxCase& k,
                   const Emit& emit) {
  const std::int64_t R = k.shape.R, C = k.shape.C;
  DeviceArray<E> x(lib, device_values<E>(k.x)), y(lib, k.x.size());
  emit_judged(lib, "softmax", k.shape.label(), k.dtype,
              testing::only(testing::softmax_expected(k), {"y"}), forward.name,
              forward.fn(x.get(), y.get(), R, C), {{"y", &y}}, emit);
}

/// One fp32 case through the library's backward: dx accumulated onto dx0 from the case's y.
template <class Backward>
void check_backward(const KernelLibrary& lib, Found<Backward> backward, const SoftmaxCase& k,
                    const Emit& emit) {
  DeviceArray<float> dy(lib, k.dy), y(lib, k.y), dx(lib, k.dx0);
  emit_judged(lib, "softmax", k.shape.label(), k.dtype,
              testing::only(testing::softmax_expected(k), {"dx"}), backward.name,
              backward.fn(dy.get(), y.get(), dx.get(), k.shape.R, k.shape.C), {{"dx", &dx}}, emit);
}

void sweep(const KernelLibrary& lib, const Emit& emit) {
  for (const auto& shape : testing::softmax_shapes()) {
    const SoftmaxCase f32 = testing::make_softmax_case(shape, DType::f32);
    check_forward<float>(lib, LLMLAB_FIND(lib, llmlab_softmax_forward_f32), f32, emit);
    check_forward<std::uint16_t>(lib, LLMLAB_FIND(lib, llmlab_softmax_forward_bf16),
                                 testing::make_softmax_case(shape, DType::bf16), emit);
    check_backward(lib, LLMLAB_FIND(lib, llmlab_softmax_backward_f32), f32, emit);
  }
}

Component softmax_component() {
  const testing::SoftmaxShape shape{3, 17, 0, 4};
  return {
      testing::softmax_card(),
      {LLMLAB_C_SYMBOL(llmlab_softmax_forward_f32, "x", "y", "rows", "cols"),
       LLMLAB_C_SYMBOL(llmlab_softmax_forward_bf16, "x", "y", "rows", "cols"),
       LLMLAB_C_SYMBOL(llmlab_softmax_backward_f32, "dy", "y", "dx", "rows", "cols")},
      case_labels(testing::softmax_shapes()),
      rules_in_words(
          {testing::softmax_expected(testing::make_softmax_case(shape, DType::f32)),
           testing::only(testing::softmax_expected(testing::make_softmax_case(shape, DType::bf16)),
                         {"y"})}),
      sweep};
}

}  // namespace
}  // namespace llmlab::app

LLMLAB_VERIFY_REGISTER(llmlab::app::softmax_component())
