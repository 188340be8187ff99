/// \file
/// \brief `llmlab verify embedding`: \f$ \mathrm{out}_{b,t} = \mathrm{wte}_{\mathrm{ids}_{b,t}} +
/// \mathrm{wpe}_t \f$ in fp32 and bf16 (exact: one rounding, like the reference), and its
/// accumulating backward in fp32 (the ratio rule for gradients).

#include "llmlab/ref/embedding.hpp"

#include <algorithm>
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

using ForwardF32 = int(const std::int32_t* ids, const float* wte, const float* wpe, float* out,
                       std::int64_t B, std::int64_t T, std::int64_t C, std::int64_t V,
                       std::int64_t maxT);
using ForwardBf16 = int(const std::int32_t* ids, const std::uint16_t* wte, const std::uint16_t* wpe,
                        std::uint16_t* out, std::int64_t B, std::int64_t T, std::int64_t C,
                        std::int64_t V, std::int64_t maxT);
using BackwardF32 = int(const float* dout, const std::int32_t* ids, float* dwte, float* dwpe,
                        std::int64_t B, std::int64_t T, std::int64_t C, std::int64_t V,
                        std::int64_t maxT);

/// One case's sizes and inputs.
struct Case {
  std::int64_t B, T, C, V, maxT;
  std::vector<std::int32_t> ids;
  std::vector<float> wte, wpe, dout, dwte0, dwpe0;

  /// (B, T, C) for the table's shape column.
  std::string shape() const { return shape_str({B, T, C}); }
  /// The shape and V, for report names.
  std::string full() const { return shape() + " V=" + std::to_string(V); }
  xt::xtensor<std::int32_t, 2> ids_tensor() const {
    xt::xtensor<std::int32_t, 2> t =
        xt::empty<std::int32_t>({static_cast<std::size_t>(B), static_cast<std::size_t>(T)});
    std::copy(ids.begin(), ids.end(), t.begin());
    return t;
  }
  template <class T_>
  xt::xtensor<T_, 2> mat(const std::vector<float>& v, std::int64_t rows) const {
    return tensor<T_>(
        v, std::array<std::size_t, 2>{static_cast<std::size_t>(rows), static_cast<std::size_t>(C)});
  }
};

/// (B, T, C, V, maxT): one token, C = 1, no multiple of any width, GPT-2's C = 768, V not a
/// multiple of 128, T = maxT. Ids repeat (the backward must gather every row of a token).
constexpr std::array<std::array<std::int64_t, 5>, 5> kShapes = {{{1, 1, 1, 1, 1},
                                                                 {2, 3, 17, 131, 4},
                                                                 {2, 5, 768, 37, 8},
                                                                 {4, 16, 64, 50, 16},
                                                                 {3, 7, 33, 2, 9}}};

Case make_case(const std::array<std::int64_t, 5>& s) {
  Case c{s[0], s[1], s[2], s[3], s[4], {}, {}, {}, {}, {}, {}};
  Rng rng(0xe3b0'0000u + static_cast<std::uint64_t>(c.B * 1009 + c.T * 101 + c.C * 7 + c.V));
  c.ids.resize(static_cast<std::size_t>(c.B * c.T));
  for (auto& id : c.ids)
    id = static_cast<std::int32_t>(std::min<double>(rng.uniform() * c.V, c.V - 1));
  c.ids.back() = c.ids.front();
  const auto n = [](std::int64_t k) { return static_cast<std::size_t>(k); };
  c.wte = rng.uniform_floats(n(c.V * c.C));
  c.wpe = rng.uniform_floats(n(c.maxT * c.C));
  c.dout = rng.uniform_floats(n(c.B * c.T * c.C));
  c.dwte0 = rng.uniform_floats(n(c.V * c.C));
  c.dwpe0 = rng.uniform_floats(n(c.maxT * c.C));
  return c;
}

/// The forward in fp32 (bf16: on bf16-rounded tables, the float result rounded once): exact.
template <class Fn, class Elem>
CaseResult check_forward(const KernelLibrary& lib, Fn* forward, const char* symbol,
                         const char* dtype, const Case& c) {
  const bool bf16 = std::string(dtype) == "bf16";
  const std::vector<float> wte = bf16 ? rounded_to_bf16(c.wte) : c.wte;
  const std::vector<float> wpe = bf16 ? rounded_to_bf16(c.wpe) : c.wpe;
  const auto sum = ref::embedding_forward<float>(c.ids_tensor(), c.mat<float>(wte, c.V),
                                                 c.mat<float>(wpe, c.maxT));
  std::vector<double> want(sum.size());
  for (std::size_t i = 0; i < want.size(); ++i)
    want[i] = bf16 ? round_to_bf16(sum.flat(i)) : sum.flat(i);

  std::vector<Elem> wte_dev, wpe_dev;
  if constexpr (sizeof(Elem) == 2) {
    wte_dev = bf16_bits(wte);
    wpe_dev = bf16_bits(wpe);
  } else {
    wte_dev = wte;
    wpe_dev = wpe;
  }
  DeviceArray<std::int32_t> d_ids(lib, std::span<const std::int32_t>(c.ids));
  DeviceArray<Elem> d_wte(lib, std::span<const Elem>(wte_dev)),
      d_wpe(lib, std::span<const Elem>(wpe_dev)), d_out(lib, want.size());
  const std::string err = call_error(
      lib, symbol,
      forward(d_ids.get(), d_wte.get(), d_wpe.get(), d_out.get(), c.B, c.T, c.C, c.V, c.maxT));
  if (!err.empty()) return failed_case("embedding", c.shape(), dtype, oracle::Rule::exact(), err);
  const std::vector<Elem> got = d_out.download();
  std::vector<double> got64;
  if constexpr (sizeof(Elem) == 2)
    got64 = oracle::widen_bf16(got);
  else
    got64 = oracle::widen(got);
  return {"embedding", c.shape(), dtype,
          oracle::compare_exact(std::string("embedding ") + dtype + " " + c.full(), want, got64)};
}

/// The backward in fp32 onto nonzero gradients: dwte and dwpe each against the reference.
void check_backward(const KernelLibrary& lib, BackwardF32* backward, const Case& c,
                    const Emit& emit) {
  std::array<std::vector<double>, 2> ref64, ref32;
  {
    auto dwte = c.mat<double>(c.dwte0, c.V), dwpe = c.mat<double>(c.dwpe0, c.maxT);
    const std::array<std::size_t, 3> s3{static_cast<std::size_t>(c.B),
                                        static_cast<std::size_t>(c.T),
                                        static_cast<std::size_t>(c.C)};
    ref::embedding_backward<double>(tensor<double>(c.dout, s3), c.ids_tensor(), dwte, dwpe);
    ref64 = {widened(dwte), widened(dwpe)};
    auto dwte32 = c.mat<float>(c.dwte0, c.V), dwpe32 = c.mat<float>(c.dwpe0, c.maxT);
    ref::embedding_backward<float>(tensor<float>(c.dout, s3), c.ids_tensor(), dwte32, dwpe32);
    ref32 = {widened(dwte32), widened(dwpe32)};
  }
  const auto rule = oracle::Rule::gradient(DType::f32);
  DeviceArray<std::int32_t> d_ids(lib, std::span<const std::int32_t>(c.ids));
  DeviceArray<float> d_dout(lib, std::span<const float>(c.dout)),
      d_dwte(lib, std::span<const float>(c.dwte0)), d_dwpe(lib, std::span<const float>(c.dwpe0));
  const std::string err = call_error(
      lib, "llmlab_embedding_backward_f32",
      backward(d_dout.get(), d_ids.get(), d_dwte.get(), d_dwpe.get(), c.B, c.T, c.C, c.V, c.maxT));
  const char* names[] = {"embedding/dwte", "embedding/dwpe"};
  if (!err.empty()) {
    for (const char* name : names) emit(failed_case(name, c.shape(), "f32", rule, err));
    return;
  }
  const std::vector<float> got[] = {d_dwte.download(), d_dwpe.download()};
  for (int i = 0; i < 2; ++i)
    emit({names[i], c.shape(), "f32",
          oracle::compare_ratio(std::string(names[i]) + " f32 " + c.full(), ref64[i], ref32[i],
                                oracle::widen(got[i]), rule)});
}

void sweep(const KernelLibrary& lib, const Emit& emit) {
  auto* fwd_f32 = lib.function<ForwardF32>("llmlab_embedding_forward_f32");
  auto* fwd_bf16 = lib.function<ForwardBf16>("llmlab_embedding_forward_bf16");
  auto* bwd_f32 = lib.function<BackwardF32>("llmlab_embedding_backward_f32");
  for (const auto& s : kShapes) {
    const Case c = make_case(s);
    emit(check_forward<ForwardF32, float>(lib, fwd_f32, "llmlab_embedding_forward_f32", "f32", c));
    emit(check_forward<ForwardBf16, std::uint16_t>(lib, fwd_bf16, "llmlab_embedding_forward_bf16",
                                                   "bf16", c));
    check_backward(lib, bwd_f32, c, emit);
  }
}

Component embedding_component() {
  return {{"embedding", "token + position embedding out = wte[ids] + wpe[t] (fp32, bf16; exact) and its "
          "accumulating backward (fp32)", {}, {}, "", ""},
          {{"llmlab_embedding_forward_f32",
            "int llmlab_embedding_forward_f32(const int32_t* ids, const float* wte, "
            "const float* wpe, float* out, int64_t B, int64_t T, int64_t C, int64_t V, "
            "int64_t maxT)"},
           {"llmlab_embedding_forward_bf16",
            "int llmlab_embedding_forward_bf16(const int32_t* ids, const uint16_t* wte, "
            "const uint16_t* wpe, uint16_t* out, int64_t B, int64_t T, int64_t C, int64_t V, "
            "int64_t maxT)"},
           {"llmlab_embedding_backward_f32",
            "int llmlab_embedding_backward_f32(const float* dout, const int32_t* ids, "
            "float* dwte, float* dwpe, int64_t B, int64_t T, int64_t C, int64_t V, "
            "int64_t maxT)"}},
          {},
          {},
          sweep};
}

}  // namespace
}  // namespace llmlab::app

LLMLAB_VERIFY_REGISTER(llmlab::app::embedding_component())
