/// \file
/// \ingroup group_layernorm
/// \brief `llmlab verify layernorm`: layer normalisation forward (y, mean, rstd) and its
/// accumulating backward (dx, dw, db), fp32 and bf16 (bf16 activations, fp32 statistics and
/// parameter gradients), over the sweep of layernorm's one description
/// (llmlab/testing/layernorm_case.hpp).

#include "llmlab/cuda/abi/layernorm.h"

#include <cstdint>
#include <string>

#include "llmlab/testing/layernorm_case.hpp"
#include "verify/elements.hpp"
#include "verify/registry.hpp"

namespace llmlab::app {
namespace {

using testing::LayerNormCase;

/// One case through the library's forward and backward of element type E (float or bf16 bits).
/// The backward starts from the statistics a float forward saved (testing::layernorm_saved).
template <class E, class Forward, class Backward>
void check(const KernelLibrary& lib, Found<Forward> forward, Found<Backward> backward,
           const LayerNormCase& k, const Emit& emit) {
  const auto expected = testing::layernorm_expected(k);
  const std::int64_t N = k.shape.N, C = k.shape.C;
  const std::string shape = k.shape.label();
  const auto n = static_cast<std::size_t>(N);
  {  // forward
    DeviceArray<E> x(lib, device_values<E>(k.x)), w(lib, device_values<E>(k.w)),
        b(lib, device_values<E>(k.b)), y(lib, k.x.size());
    DeviceArray<float> mean(lib, n), rstd(lib, n);
    emit_judged(lib, "layernorm", shape, k.dtype, testing::only(expected, {"y", "mean", "rstd"}),
                forward.name,
                forward.fn(x.get(), w.get(), b.get(), y.get(), mean.get(), rstd.get(), N, C, 1e-5f),
                {{"y", &y}, {"mean", &mean}, {"rstd", &rstd}}, emit);
  }
  {  // backward
    const testing::LayerNormSaved saved = testing::layernorm_saved(k);
    DeviceArray<E> dy(lib, device_values<E>(k.dy)), x(lib, device_values<E>(k.x)),
        w(lib, device_values<E>(k.w)), dx(lib, device_values<E>(k.dx0));
    DeviceArray<float> mean(lib, saved.mean), rstd(lib, saved.rstd), dw(lib, k.dw0), db(lib, k.db0);
    emit_judged(lib, "layernorm", shape, k.dtype, testing::only(expected, {"dx", "dw", "db"}),
                backward.name,
                backward.fn(dy.get(), x.get(), w.get(), mean.get(), rstd.get(), dx.get(), dw.get(),
                            db.get(), N, C),
                {{"dx", &dx}, {"dw", &dw}, {"db", &db}}, emit);
  }
}

void sweep(const KernelLibrary& lib, const Emit& emit) {
  for (const auto& shape : testing::layernorm_shapes()) {
    check<float>(lib, LLMLAB_FIND(lib, llmlab_layernorm_forward_f32),
                 LLMLAB_FIND(lib, llmlab_layernorm_backward_f32),
                 testing::make_layernorm_case(shape, DType::f32), emit);
    check<std::uint16_t>(lib, LLMLAB_FIND(lib, llmlab_layernorm_forward_bf16),
                         LLMLAB_FIND(lib, llmlab_layernorm_backward_bf16),
                         testing::make_layernorm_case(shape, DType::bf16), emit);
  }
}

Component layernorm_component() {
  const testing::LayerNormShape one{6, 17};
  return {
      testing::layernorm_card(),
      {LLMLAB_C_SYMBOL(llmlab_layernorm_forward_f32, "x", "w", "b", "y", "mean", "rstd", "N", "C",
                       "eps"),
       LLMLAB_C_SYMBOL(llmlab_layernorm_forward_bf16, "x", "w", "b", "y", "mean", "rstd", "N", "C",
                       "eps"),
       LLMLAB_C_SYMBOL(llmlab_layernorm_backward_f32, "dy", "x", "w", "mean", "rstd", "dx", "dw",
                       "db", "N", "C"),
       LLMLAB_C_SYMBOL(llmlab_layernorm_backward_bf16, "dy", "x", "w", "mean", "rstd", "dx", "dw",
                       "db", "N", "C")},
      case_labels(testing::layernorm_shapes()),
      // mean, rstd, dw and db are fp32 in a bf16 run too: their rules are the f32 run's.
      rules_in_words({testing::layernorm_expected(testing::make_layernorm_case(one, DType::f32)),
                      testing::only(testing::layernorm_expected(
                                        testing::make_layernorm_case(one, DType::bf16)),
                                    {"y", "dx"})}),
      sweep};
}

}  // namespace
}  // namespace llmlab::app

LLMLAB_VERIFY_REGISTER(llmlab::app::layernorm_component())
