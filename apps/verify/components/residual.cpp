/// \file
/// \ingroup group_residual
/// \brief `llmlab verify residual`: \f$ \mathrm{out} = a + b \f$ and the accumulating backward
/// \f$ \mathrm{da} \mathrel{+}= \mathrm{dout},\ \mathrm{db} \mathrel{+}= \mathrm{dout} \f$ in fp32
/// — each element one rounding, so exact against the reference in float — over the sweep of
/// residual's one description (llmlab/testing/residual_case.hpp).

#include "llmlab/cuda/abi/residual.h"

#include <cstdint>
#include <string>

#include "llmlab/testing/residual_case.hpp"
#include "verify/elements.hpp"
#include "verify/registry.hpp"

namespace llmlab::app {
namespace {

using testing::ResidualCase;

/// One fp32 case through the library's forward and backward.
template <class Forward, class Backward>
void check(const KernelLibrary& lib, Found<Forward> forward, Found<Backward> backward,
           const ResidualCase& k, const Emit& emit) {
  const auto expected = testing::residual_expected(k);
  const std::int64_t n = k.shape.n;
  const std::string shape = k.shape.label();
  DeviceArray<float> a(lib, k.a), b(lib, k.b), out(lib, k.a.size()), dout(lib, k.dout),
      da(lib, k.da0), db(lib, k.db0);
  emit_judged(lib, "residual", shape, k.dtype, testing::only(expected, {"out"}), forward.name,
              forward.fn(a.get(), b.get(), out.get(), n), {{"out", &out}}, emit);
  emit_judged(lib, "residual", shape, k.dtype, testing::only(expected, {"da", "db"}), backward.name,
              backward.fn(dout.get(), da.get(), db.get(), n), {{"da", &da}, {"db", &db}}, emit);
}

void sweep(const KernelLibrary& lib, const Emit& emit) {
  for (const auto& shape : testing::residual_shapes())
    check(lib, LLMLAB_FIND(lib, llmlab_residual_forward_f32),
          LLMLAB_FIND(lib, llmlab_residual_backward_f32),
          testing::make_residual_case(shape, DType::f32), emit);
}

Component residual_component() {
  return {testing::residual_card(),
          {LLMLAB_C_SYMBOL(llmlab_residual_forward_f32, "a", "b", "out", "n"),
           LLMLAB_C_SYMBOL(llmlab_residual_backward_f32, "dout", "da", "db", "n")},
          case_labels(testing::residual_shapes()),
          rules_in_words(
              {testing::residual_expected(testing::make_residual_case({17, 1, 1}, DType::f32))}),
          sweep};
}

}  // namespace
}  // namespace llmlab::app

LLMLAB_VERIFY_REGISTER(llmlab::app::residual_component())
