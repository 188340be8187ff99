/// \file
/// \brief `llmlab verify matmul`: the linear layer \f$ y = x W^\top + b \f$ (fp32 and bf16) and its
/// fp32 backward (dx, dW, db, accumulated) against the reference.

#include "llmlab/ref/matmul.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "llmlab/core/error.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/oracle/oracle.hpp"
#include "llmlab/testing/values.hpp"
#include "verify/registry.hpp"

namespace llmlab::app {
namespace {

using testing::bf16_bits;
using testing::matrix;
using testing::rounded_to_bf16;
using testing::tensor;
using testing::widened;

using ForwardF32 = int(const float* x, const float* w, const float* b, float* y, std::int64_t N,
                       std::int64_t in, std::int64_t out);
using ForwardBf16 = int(const std::uint16_t* x, const std::uint16_t* w, const std::uint16_t* b,
                        std::uint16_t* y, std::int64_t N, std::int64_t in, std::int64_t out);
using BackwardF32 = int(const float* dy, const float* x, const float* w, float* dx, float* dw,
                        float* db, std::int64_t N, std::int64_t in, std::int64_t out);

/// (N, in, out): all 1; sizes below, between and above common tiles (16, 32, 64) and never a
/// multiple of one; in = 1 and GPT-2's 768; one output column.
struct Shape {
  std::int64_t N, in, out;
};
constexpr Shape kShapes[] = {{1, 1, 1},    {1, 17, 1},   {17, 97, 129}, {97, 17, 1},
                             {129, 1, 17}, {3, 768, 65}, {65, 129, 97}};

/// One shape's inputs, uniform in [−1, 1) from a seed fixed per shape.
struct Inputs {
  std::vector<float> x, w, b, dy, dx0, dw0, db0;  // dx0, dw0, db0: the gradients before backward
  explicit Inputs(const Shape& s) {
    Rng rng(0x3a73'0000u + static_cast<std::uint64_t>(s.N * 1000003 + s.in * 1009 + s.out));
    auto draw = [&](std::int64_t n) { return rng.uniform_floats(static_cast<std::size_t>(n)); };
    x = draw(s.N * s.in), w = draw(s.out * s.in), b = draw(s.out), dy = draw(s.N * s.out);
    dx0 = draw(s.N * s.in), dw0 = draw(s.out * s.in), db0 = draw(s.out);
  }
};

template <class T>
xt::xtensor<T, 2> y_ref(const Inputs& v, const Shape& s) {
  return ref::matmul_forward(matrix<T>(v.x, s.N, s.in), matrix<T>(v.w, s.out, s.in),
                             tensor<T>(v.b));
}

/// fp32 forward: ref64 in double, ref32 the same sums in float.
CaseResult forward_f32(const KernelLibrary& lib, ForwardF32* fn, const Inputs& v, const Shape& s) {
  const std::string shape = shape_str({s.N, s.in, s.out});
  const auto rule = oracle::Rule::forward(DType::f32);
  DeviceArray<float> x(lib, std::span<const float>(v.x)), w(lib, std::span<const float>(v.w)),
      b(lib, std::span<const float>(v.b)), y(lib, static_cast<std::size_t>(s.N * s.out));
  const std::string err = call_error(lib, "llmlab_matmul_forward_f32",
                                     fn(x.get(), w.get(), b.get(), y.get(), s.N, s.in, s.out));
  if (!err.empty()) return failed_case("matmul", shape, "f32", rule, err);
  return {"matmul", shape, "f32",
          oracle::compare_ratio("matmul f32 " + shape, widened(y_ref<double>(v, s)),
                                widened(y_ref<float>(v, s)), oracle::widen(y.download()), rule)};
}

/// bf16 forward: inputs rounded to bf16 first; the baseline is the float sum rounded once to bf16,
/// what a correct bf16 kernel writes.
CaseResult forward_bf16(const KernelLibrary& lib, ForwardBf16* fn, const Inputs& in,
                        const Shape& s) {
  const std::string shape = shape_str({s.N, s.in, s.out});
  const auto rule = oracle::Rule::forward(DType::bf16);
  Inputs v = in;
  v.x = rounded_to_bf16(v.x), v.w = rounded_to_bf16(v.w), v.b = rounded_to_bf16(v.b);
  std::vector<double> ref32 = widened(y_ref<float>(v, s));
  for (double& r : ref32) r = round_to_bf16(static_cast<float>(r));

  const auto x16 = bf16_bits(v.x), w16 = bf16_bits(v.w), b16 = bf16_bits(v.b);
  DeviceArray<std::uint16_t> x(lib, std::span<const std::uint16_t>(x16)),
      w(lib, std::span<const std::uint16_t>(w16)), b(lib, std::span<const std::uint16_t>(b16)),
      y(lib, static_cast<std::size_t>(s.N * s.out));
  const std::string err = call_error(lib, "llmlab_matmul_forward_bf16",
                                     fn(x.get(), w.get(), b.get(), y.get(), s.N, s.in, s.out));
  if (!err.empty()) return failed_case("matmul", shape, "bf16", rule, err);
  return {"matmul", shape, "bf16",
          oracle::compare_ratio("matmul bf16 " + shape, widened(y_ref<double>(v, s)), ref32,
                                oracle::widen_bf16(y.download()), rule)};
}

/// fp32 backward from non-zero gradients (so accumulation is checked): one case per gradient.
void backward_f32(const KernelLibrary& lib, BackwardF32* fn, const Inputs& v, const Shape& s,
                  const Emit& emit) {
  const std::string shape = shape_str({s.N, s.in, s.out});
  const auto rule = oracle::Rule::gradient(DType::f32);
  auto reference = [&]<class T>(T) {
    struct {
      xt::xtensor<T, 2> dx, dw;
      xt::xtensor<T, 1> db;
    } g{matrix<T>(v.dx0, s.N, s.in), matrix<T>(v.dw0, s.out, s.in), tensor<T>(v.db0)};
    ref::matmul_backward(matrix<T>(v.dy, s.N, s.out), matrix<T>(v.x, s.N, s.in),
                         matrix<T>(v.w, s.out, s.in), g.dx, g.dw, g.db);
    return g;
  };
  const auto r64 = reference(0.0);
  const auto r32 = reference(0.0f);

  using F = std::span<const float>;
  DeviceArray<float> dy(lib, F(v.dy)), x(lib, F(v.x)), w(lib, F(v.w)), dx(lib, F(v.dx0)),
      dw(lib, F(v.dw0)), db(lib, F(v.db0));
  const std::string err =
      call_error(lib, "llmlab_matmul_backward_f32",
                 fn(dy.get(), x.get(), w.get(), dx.get(), dw.get(), db.get(), s.N, s.in, s.out));
  const char* names[] = {"matmul dx", "matmul dw", "matmul db"};
  if (!err.empty()) {
    for (const char* n : names) emit(failed_case(n, shape, "f32", rule, err));
    return;
  }
  emit({names[0], shape, "f32",
        oracle::compare_ratio("matmul dx f32 " + shape, widened(r64.dx), widened(r32.dx),
                              oracle::widen(dx.download()), rule)});
  emit({names[1], shape, "f32",
        oracle::compare_ratio("matmul dw f32 " + shape, widened(r64.dw), widened(r32.dw),
                              oracle::widen(dw.download()), rule)});
  emit({names[2], shape, "f32",
        oracle::compare_ratio("matmul db f32 " + shape, widened(r64.db), widened(r32.db),
                              oracle::widen(db.download()), rule)});
}

/// Every shape × {f32 forward, bf16 forward, f32 backward}.
void sweep(const KernelLibrary& lib, const Emit& emit) {
  auto* fwd_f32 = lib.function<ForwardF32>("llmlab_matmul_forward_f32");
  auto* fwd_bf16 = lib.function<ForwardBf16>("llmlab_matmul_forward_bf16");
  auto* bwd_f32 = lib.function<BackwardF32>("llmlab_matmul_backward_f32");
  for (const Shape& s : kShapes) {
    const Inputs v(s);
    emit(forward_f32(lib, fwd_f32, v, s));
    emit(forward_bf16(lib, fwd_bf16, v, s));
    backward_f32(lib, bwd_f32, v, s, emit);
  }
}

Component matmul_component() {
  return {{"matmul", "linear layer y = x W^T + b (fp32; bf16 summed in float, rounded once) and its fp32 "
          "backward dx, dW, db (accumulated)", {}, {}, "", ""},
          {{"llmlab_matmul_forward_f32",
            "int llmlab_matmul_forward_f32(const float* x, const float* w, const float* b, "
            "float* y, int64_t N, int64_t in, int64_t out)"},
           {"llmlab_matmul_forward_bf16",
            "int llmlab_matmul_forward_bf16(const uint16_t* x, const uint16_t* w, "
            "const uint16_t* b, uint16_t* y, int64_t N, int64_t in, int64_t out)"},
           {"llmlab_matmul_backward_f32",
            "int llmlab_matmul_backward_f32(const float* dy, const float* x, const float* w, "
            "float* dx, float* dw, float* db, int64_t N, int64_t in, int64_t out)"}},
          {},
          {},
          sweep};
}

}  // namespace
}  // namespace llmlab::app

LLMLAB_VERIFY_REGISTER(llmlab::app::matmul_component())
