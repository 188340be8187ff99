/// \file
/// \brief `llmlab verify layernorm`: layer normalisation forward (y, mean, rstd; ratio rule, k = 2)
/// and its accumulating backward (dx, dw, db; k = 3), fp32 and bf16 (bf16 activations, fp32
/// statistics and parameter gradients).

#include "llmlab/ref/layernorm.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/error.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/oracle/oracle.hpp"
#include "llmlab/testing/layernorm_case.hpp"
#include "llmlab/testing/values.hpp"
#include "verify/elements.hpp"
#include "verify/registry.hpp"

namespace llmlab::app {
namespace {

using testing::widened;

template <class E>
using ForwardFn = int(const E* x, const E* w, const E* b, E* y, float* mean, float* rstd,
                      std::int64_t rows, std::int64_t cols, float eps);
template <class E>
using BackwardFn = int(const E* dy, const E* x, const E* w, const float* mean, const float* rstd,
                       E* dx, float* dw, float* db, std::int64_t rows, std::int64_t cols);

/// (N, C): one value per row, C below a warp, GPT-2 small's 768 and XL's 1600, N over several
/// of a kernel's row groups.
constexpr std::array<std::array<std::int64_t, 2>, 5> kShapes{
    {{3, 1}, {6, 17}, {5, 768}, {2, 1600}, {70, 97}}};

/// One case: its inputs (bf16-rounded for bf16) and the reference on them in double and float.
/// The kernel's backward starts from the float forward's statistics, as after a float forward.
struct Case {
  testing::LayerNormCase in;
  testing::LayerNormRun<double> r64;
  testing::LayerNormRun<float> r32;
};

Case make_case(std::int64_t N, std::int64_t C, bool bf16) {
  auto in = testing::make_layernorm_case(0x1a7e'0000u + static_cast<std::uint64_t>(N * 100003 + C),
                                         N, C, bf16);
  auto r64 = testing::layernorm_reference<double>(in);
  auto r32 = testing::layernorm_reference<float>(in);
  return {std::move(in), std::move(r64), std::move(r32)};
}

/// One output's verdict, e.g. "layernorm/dx".
CaseResult judge(const std::string& what, const std::string& shape, const char* dtype,
                 std::vector<double> ref64, std::vector<double> ref32, std::vector<double> got,
                 oracle::Rule rule) {
  const std::string component = "layernorm/" + what;
  return {component, shape, dtype,
          oracle::compare_ratio(component + " " + dtype + " " + shape, ref64, ref32, got, rule)};
}

template <class E>
void check(const KernelLibrary& lib, ForwardFn<E>* forward, BackwardFn<E>* backward,
           const char* dtype, const char* fwd_symbol, const char* bwd_symbol, const Case& k,
           const Emit& emit) {
  constexpr DType act = sizeof(E) == 2 ? DType::bf16 : DType::f32;
  const std::string shape = shape_str({k.in.N, k.in.C});
  const auto n = static_cast<std::size_t>(k.in.N);
  {  // forward
    DeviceArray<E> x(lib, std::span<const E>(device_values<E>(k.in.x))),
        w(lib, std::span<const E>(device_values<E>(k.in.w))),
        b(lib, std::span<const E>(device_values<E>(k.in.b))), y(lib, k.in.x.size());
    DeviceArray<float> mean(lib, n), rstd(lib, n);
    const std::string err = call_error(
        lib, fwd_symbol,
        forward(x.get(), w.get(), b.get(), y.get(), mean.get(), rstd.get(), k.in.N, k.in.C, 1e-5f));
    if (!err.empty()) {
      emit(failed_case("layernorm/y", shape, dtype, oracle::Rule::forward(act), err));
    } else {
      emit(judge("y", shape, dtype, widened(k.r64.fwd.y), baseline<E>(k.r32.fwd.y),
                 widened_device(y.download()), oracle::Rule::forward(act)));
      emit(judge("mean", shape, dtype, widened(k.r64.fwd.mean), widened(k.r32.fwd.mean),
                 oracle::widen(mean.download()), oracle::Rule::forward(DType::f32)));
      emit(judge("rstd", shape, dtype, widened(k.r64.fwd.rstd), widened(k.r32.fwd.rstd),
                 oracle::widen(rstd.download()), oracle::Rule::forward(DType::f32)));
    }
  }
  {  // backward, from the float forward's statistics
    const std::vector<float> mean32(k.r32.fwd.mean.begin(), k.r32.fwd.mean.end());
    const std::vector<float> rstd32(k.r32.fwd.rstd.begin(), k.r32.fwd.rstd.end());
    DeviceArray<E> dy(lib, std::span<const E>(device_values<E>(k.in.dy))),
        x(lib, std::span<const E>(device_values<E>(k.in.x))),
        w(lib, std::span<const E>(device_values<E>(k.in.w))),
        dx(lib, std::span<const E>(device_values<E>(k.in.dx0)));
    DeviceArray<float> mean(lib, std::span<const float>(mean32)),
        rstd(lib, std::span<const float>(rstd32)), dw(lib, std::span<const float>(k.in.dw0)),
        db(lib, std::span<const float>(k.in.db0));
    const std::string err = call_error(lib, bwd_symbol,
                                       backward(dy.get(), x.get(), w.get(), mean.get(), rstd.get(),
                                                dx.get(), dw.get(), db.get(), k.in.N, k.in.C));
    if (!err.empty()) {
      emit(failed_case("layernorm/dx", shape, dtype, oracle::Rule::gradient(act), err));
      return;
    }
    emit(judge("dx", shape, dtype, widened(k.r64.dx), baseline<E>(k.r32.dx),
               widened_device(dx.download()), oracle::Rule::gradient(act)));
    emit(judge("dw", shape, dtype, widened(k.r64.dw), widened(k.r32.dw),
               oracle::widen(dw.download()), oracle::Rule::gradient(DType::f32)));
    emit(judge("db", shape, dtype, widened(k.r64.db), widened(k.r32.db),
               oracle::widen(db.download()), oracle::Rule::gradient(DType::f32)));
  }
}

void sweep(const KernelLibrary& lib, const Emit& emit) {
  auto* fwd_f32 = lib.function<ForwardFn<float>>("llmlab_layernorm_forward_f32");
  auto* fwd_bf16 = lib.function<ForwardFn<std::uint16_t>>("llmlab_layernorm_forward_bf16");
  auto* bwd_f32 = lib.function<BackwardFn<float>>("llmlab_layernorm_backward_f32");
  auto* bwd_bf16 = lib.function<BackwardFn<std::uint16_t>>("llmlab_layernorm_backward_bf16");
  for (const auto& [N, C] : kShapes) {
    check<float>(lib, fwd_f32, bwd_f32, "f32", "llmlab_layernorm_forward_f32",
                 "llmlab_layernorm_backward_f32", make_case(N, C, false), emit);
    check<std::uint16_t>(lib, fwd_bf16, bwd_bf16, "bf16", "llmlab_layernorm_forward_bf16",
                         "llmlab_layernorm_backward_bf16", make_case(N, C, true), emit);
  }
}

Component layernorm_component() {
  return {{"layernorm", "layer normalisation over the last axis, forward (y, mean, rstd) and accumulating "
          "backward (dx, dw, db); fp32, bf16 activations with fp32 statistics and dw/db", {}, {}, "", ""},
          {{"llmlab_layernorm_forward_f32",
            "int llmlab_layernorm_forward_f32(const float* x, const float* w, const float* b, "
            "float* y, float* mean, float* rstd, int64_t rows, int64_t cols, float eps)"},
           {"llmlab_layernorm_forward_bf16",
            "int llmlab_layernorm_forward_bf16(const uint16_t* x, const uint16_t* w, "
            "const uint16_t* b, uint16_t* y, float* mean, float* rstd, int64_t rows, "
            "int64_t cols, float eps)"},
           {"llmlab_layernorm_backward_f32",
            "int llmlab_layernorm_backward_f32(const float* dy, const float* x, const float* w, "
            "const float* mean, const float* rstd, float* dx, float* dw, float* db, int64_t rows, "
            "int64_t cols)"},
           {"llmlab_layernorm_backward_bf16",
            "int llmlab_layernorm_backward_bf16(const uint16_t* dy, const uint16_t* x, "
            "const uint16_t* w, const float* mean, const float* rstd, uint16_t* dx, float* dw, "
            "float* db, int64_t rows, int64_t cols)"}},
          {},
          {},
          sweep};
}

}  // namespace
}  // namespace llmlab::app

LLMLAB_VERIFY_REGISTER(llmlab::app::layernorm_component())
