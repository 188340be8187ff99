/// \file
/// \brief `llmlab verify layernorm`: layer normalisation forward (y, mean, rstd; ratio rule, k = 2)
/// and its accumulating backward (dx, dw, db; k = 3), fp32 and bf16 (bf16 activations, fp32
/// statistics and parameter gradients).

#include "llmlab/ref/layernorm.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/error.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/oracle/oracle.hpp"
#include "llmlab/testing/values.hpp"
#include "verify/registry.hpp"

namespace llmlab::app {
namespace {

using testing::bf16_bits;
using testing::rounded_to_bf16;
using testing::tensor;
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

/// Everything one case needs: inputs (bf16-rounded for bf16), and the reference in double and
/// float — forward from the inputs, backward from the float forward's statistics onto nonzero
/// starting gradients (the kernels accumulate).
struct Case {
  std::int64_t N, C;
  std::vector<float> x, w, b, dy, dx0, dw0, db0;
  ref::LayerNormForward<double> f64;
  ref::LayerNormForward<float> f32;
  xt::xtensor<double, 3> dx64;
  xt::xtensor<float, 3> dx32;
  xt::xtensor<double, 1> dw64, db64;
  xt::xtensor<float, 1> dw32, db32;
};

template <class T>
void reference(Case& k, ref::LayerNormForward<T>& fwd, xt::xtensor<T, 3>& dx, xt::xtensor<T, 1>& dw,
               xt::xtensor<T, 1>& db) {
  const std::array<std::size_t, 3> s{1, static_cast<std::size_t>(k.N),
                                     static_cast<std::size_t>(k.C)};
  const auto x = tensor<T>(k.x, s), dy = tensor<T>(k.dy, s);
  const auto w = tensor<T>(k.w), b = tensor<T>(k.b);
  fwd = ref::layernorm_forward(x, w, b);
  dx = tensor<T>(k.dx0, s);
  dw = tensor<T>(k.dw0);
  db = tensor<T>(k.db0);
  ref::layernorm_backward(dy, x, w, fwd.mean, fwd.rstd, dx, dw, db);
}

Case make_case(std::int64_t N, std::int64_t C, bool bf16) {
  Rng rng(0x1a7e'0000u + static_cast<std::uint64_t>(N * 100003 + C));
  const auto nc = static_cast<std::size_t>(N * C), c = static_cast<std::size_t>(C);
  Case k{N,
         C,
         rng.uniform_floats(nc, -0.5, 1.5),
         rng.uniform_floats(c),
         rng.uniform_floats(c),
         rng.uniform_floats(nc),
         rng.uniform_floats(nc),
         rng.uniform_floats(c),
         rng.uniform_floats(c),
         {},
         {},
         {},
         {},
         {},
         {},
         {},
         {}};
  if (bf16)
    for (auto* v : {&k.x, &k.w, &k.b, &k.dy, &k.dx0}) *v = rounded_to_bf16(*v);
  reference(k, k.f64, k.dx64, k.dw64, k.db64);
  reference(k, k.f32, k.dx32, k.dw32, k.db32);
  return k;
}

/// v as the device element type: floats, or bf16 bits.
template <class E>
std::vector<E> device_values(const std::vector<float>& v) {
  if constexpr (sizeof(E) == 2)
    return bf16_bits(v);
  else
    return v;
}

/// Device elements back as doubles.
template <class E>
std::vector<double> widened_device(const std::vector<E>& v) {
  if constexpr (sizeof(E) == 2)
    return oracle::widen_bf16(v);
  else
    return oracle::widen(v);
}

/// The baseline of an output in E: the float reference, rounded once to bf16 for bf16.
template <class E, class T>
std::vector<double> baseline(const T& ref32) {
  std::vector<double> out;
  for (const float v : ref32) out.push_back(sizeof(E) == 2 ? round_to_bf16(v) : v);
  return out;
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
  const std::string shape = shape_str({k.N, k.C});
  const auto n = static_cast<std::size_t>(k.N);
  {  // forward
    DeviceArray<E> x(lib, std::span<const E>(device_values<E>(k.x))),
        w(lib, std::span<const E>(device_values<E>(k.w))),
        b(lib, std::span<const E>(device_values<E>(k.b))), y(lib, k.x.size());
    DeviceArray<float> mean(lib, n), rstd(lib, n);
    const std::string err = call_error(
        lib, fwd_symbol,
        forward(x.get(), w.get(), b.get(), y.get(), mean.get(), rstd.get(), k.N, k.C, 1e-5f));
    if (!err.empty()) {
      emit(failed_case("layernorm/y", shape, dtype, oracle::Rule::forward(act), err));
    } else {
      emit(judge("y", shape, dtype, widened(k.f64.y), baseline<E>(k.f32.y),
                 widened_device(y.download()), oracle::Rule::forward(act)));
      emit(judge("mean", shape, dtype, widened(k.f64.mean), widened(k.f32.mean),
                 oracle::widen(mean.download()), oracle::Rule::forward(DType::f32)));
      emit(judge("rstd", shape, dtype, widened(k.f64.rstd), widened(k.f32.rstd),
                 oracle::widen(rstd.download()), oracle::Rule::forward(DType::f32)));
    }
  }
  {  // backward, from the float forward's statistics
    const std::vector<float> mean32(k.f32.mean.begin(), k.f32.mean.end());
    const std::vector<float> rstd32(k.f32.rstd.begin(), k.f32.rstd.end());
    DeviceArray<E> dy(lib, std::span<const E>(device_values<E>(k.dy))),
        x(lib, std::span<const E>(device_values<E>(k.x))),
        w(lib, std::span<const E>(device_values<E>(k.w))),
        dx(lib, std::span<const E>(device_values<E>(k.dx0)));
    DeviceArray<float> mean(lib, std::span<const float>(mean32)),
        rstd(lib, std::span<const float>(rstd32)), dw(lib, std::span<const float>(k.dw0)),
        db(lib, std::span<const float>(k.db0));
    const std::string err = call_error(lib, bwd_symbol,
                                       backward(dy.get(), x.get(), w.get(), mean.get(), rstd.get(),
                                                dx.get(), dw.get(), db.get(), k.N, k.C));
    if (!err.empty()) {
      emit(failed_case("layernorm/dx", shape, dtype, oracle::Rule::gradient(act), err));
      return;
    }
    emit(judge("dx", shape, dtype, widened(k.dx64), baseline<E>(k.dx32),
               widened_device(dx.download()), oracle::Rule::gradient(act)));
    emit(judge("dw", shape, dtype, widened(k.dw64), widened(k.dw32), oracle::widen(dw.download()),
               oracle::Rule::gradient(DType::f32)));
    emit(judge("db", shape, dtype, widened(k.db64), widened(k.db32), oracle::widen(db.download()),
               oracle::Rule::gradient(DType::f32)));
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
  return {"layernorm",
          "layer normalisation over the last axis, forward (y, mean, rstd) and accumulating "
          "backward (dx, dw, db); fp32, bf16 activations with fp32 statistics and dw/db",
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
          sweep};
}

}  // namespace
}  // namespace llmlab::app

LLMLAB_VERIFY_REGISTER(llmlab::app::layernorm_component())
