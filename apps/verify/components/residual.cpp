/// \file
/// \brief `llmlab verify residual`: \f$ \mathrm{out} = a + b \f$ and the accumulating backward
/// \f$ \mathrm{da} \mathrel{+}= \mathrm{dout},\ \mathrm{db} \mathrel{+}= \mathrm{dout} \f$ in fp32
/// — each element one rounding, so exact against the reference in float.

#include "llmlab/ref/residual.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "llmlab/core/error.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/oracle/oracle.hpp"
#include "llmlab/testing/values.hpp"
#include "verify/registry.hpp"

namespace llmlab::app {
namespace {

using testing::tensor;
using testing::widened;

using ForwardF32 = int(const float* a, const float* b, float* out, std::int64_t n);
using BackwardF32 = int(const float* dout, float* da, float* db, std::int64_t n);

/// Lengths that are no multiple of any block or vector width.
constexpr std::int64_t kSizes[] = {1, 17, 97, 4097, 65537};

xt::xarray<float> array_of(const std::vector<float>& v) {
  return tensor<float>(v, std::array<std::size_t, 1>{v.size()});
}

void sweep(const KernelLibrary& lib, const Emit& emit) {
  auto* forward = lib.function<ForwardF32>("llmlab_residual_forward_f32");
  auto* backward = lib.function<BackwardF32>("llmlab_residual_backward_f32");
  for (const std::int64_t n : kSizes) {
    Rng rng(0x4e51'0000u + static_cast<std::uint64_t>(n));
    const auto count = static_cast<std::size_t>(n);
    const std::vector<float> a = rng.uniform_floats(count), b = rng.uniform_floats(count),
                             dout = rng.uniform_floats(count), da0 = rng.uniform_floats(count),
                             db0 = rng.uniform_floats(count);
    const std::string shape = shape_str({n});
    const auto out = ref::residual_forward<float>(array_of(a), array_of(b));
    auto da = array_of(da0), db = array_of(db0);
    ref::residual_backward<float>(array_of(dout), da, db);

    DeviceArray<float> d_a(lib, std::span<const float>(a)), d_b(lib, std::span<const float>(b)),
        d_out(lib, count), d_dout(lib, std::span<const float>(dout)),
        d_da(lib, std::span<const float>(da0)), d_db(lib, std::span<const float>(db0));
    std::string err = call_error(lib, "llmlab_residual_forward_f32",
                                 forward(d_a.get(), d_b.get(), d_out.get(), n));
    if (!err.empty())
      emit(failed_case("residual", shape, "f32", oracle::Rule::exact(), err));
    else
      emit({"residual", shape, "f32",
            oracle::compare_exact("residual f32 " + shape, widened(out),
                                  oracle::widen(d_out.download()))});
    err = call_error(lib, "llmlab_residual_backward_f32",
                     backward(d_dout.get(), d_da.get(), d_db.get(), n));
    if (!err.empty()) {
      emit(failed_case("residual/dab", shape, "f32", oracle::Rule::exact(), err));
      continue;
    }
    std::vector<double> want = widened(da), got = oracle::widen(d_da.download());
    const std::vector<double> want_db = widened(db), got_db = oracle::widen(d_db.download());
    want.insert(want.end(), want_db.begin(), want_db.end());  // da then db
    got.insert(got.end(), got_db.begin(), got_db.end());
    emit({"residual/dab", shape, "f32",
          oracle::compare_exact("residual da, db f32 " + shape, want, got)});
  }
}

Component residual_component() {
  return {
      {"residual",
       "the residual add out = a + b and its accumulating backward da += dout, db += dout "
       "(fp32; exact)",
       {}, {}, "", ""},
      {{"llmlab_residual_forward_f32",
        "int llmlab_residual_forward_f32(const float* a, const float* b, float* out, "
        "int64_t n)"},
       {"llmlab_residual_backward_f32",
        "int llmlab_residual_backward_f32(const float* dout, float* da, float* db, int64_t n)"}},
      {},
      {},
      sweep};
}

}  // namespace
}  // namespace llmlab::app

LLMLAB_VERIFY_REGISTER(llmlab::app::residual_component())
