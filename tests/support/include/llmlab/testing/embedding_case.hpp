#pragma once
/// \file
/// \ingroup group_embedding
/// \brief embedding's one description (the component kit, component.hpp): its sweep, seeded cases,
/// the reference run, its named outputs with their rules, and its card. Used by
/// tests/embedding_test.cpp, chapter 03's embedding checks, `llmlab verify embedding`,
/// bench/embedding_bench.cpp and the Python tests (through `llmlab describe`). Its users link
/// llmlab::reference.

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/ref/embedding.hpp"
#include "llmlab/testing/component.hpp"
#include "llmlab/testing/values.hpp"

namespace llmlab::testing {

/// One point of embedding's sweep: ids (B, T) into a (V, C) token table and a (maxT, C) position
/// table, every float input uniform in ±scale.
struct EmbeddingShape {
  std::int64_t B;     ///< sequences
  std::int64_t T;     ///< positions per sequence (T ≤ maxT)
  std::int64_t C;     ///< channels
  std::int64_t V;     ///< vocabulary: rows of wte
  std::int64_t maxT;  ///< rows of wpe
  double scale = 1;   ///< wte, wpe, dout and the starting gradients ~ U(−scale, scale)
  /// "(2, 5, 768) V=37 maxT=8 U(±1)"
  std::string label() const {
    char s[32];
    std::snprintf(s, sizeof s, "%g", scale);
    return "(" + std::to_string(B) + ", " + std::to_string(T) + ", " + std::to_string(C) +
           ") V=" + std::to_string(V) + " maxT=" + std::to_string(maxT) + " U(±" + s + ")";
  }
};

/// The sweep every checker runs: one token of one channel; C = 1, 17 and 33 (no multiple of the
/// vector width), 64 and GPT-2's 768 (the wide path); V = 131 (no multiple of 128), V = 2 and
/// V = 1 (one token repeated B·T times: its gradient row gathers every position); T = maxT and
/// T < maxT. Every case repeats a token (the last id copies the first). Then the value scales:
/// ×1000 and ×1e-3 (the bf16 sum rounds at another exponent; the gradients sum large and tiny
/// rows).
inline const std::vector<EmbeddingShape>& embedding_shapes() {
  static const std::vector<EmbeddingShape> shapes = {
      {1, 1, 1, 1, 1},          {2, 3, 1, 5, 4},           {3, 17, 17, 131, 20}, {2, 5, 768, 37, 8},
      {1, 7, 64, 10, 7},        {4, 16, 64, 50, 16},       {2, 4, 8, 1, 4},      {3, 7, 33, 2, 9},
      {2, 5, 768, 37, 8, 1000}, {3, 17, 17, 131, 20, 1e-3}};
  return shapes;
}

/// Inputs of one case; with bf16, the tables and dout a bf16 kernel reads are rounded to bf16
/// first. The gradients are fp32 in both dtypes (the launchers' contract).
struct EmbeddingCase {
  EmbeddingShape shape;           ///< the sweep point
  DType dtype;                    ///< the dtype of wte, wpe, out and dout: f32 or bf16
  std::vector<std::int32_t> ids;  ///< (B, T) in [0, V), the last a copy of the first
  std::vector<float> wte;         ///< (V, C) token table
  std::vector<float> wpe;         ///< (maxT, C) position table
  std::vector<float> dout;        ///< (B, T, C) the output's gradient
  std::vector<float> dwte0;       ///< (V, C) fp32: dwte before the backward accumulates into it
  std::vector<float> dwpe0;       ///< (maxT, C) fp32: dwpe before the backward accumulates
  /// The ids as the reference takes them, (B, T).
  xt::xtensor<std::int32_t, 2> ids_tensor() const {
    xt::xtensor<std::int32_t, 2> t = xt::empty<std::int32_t>(
        {static_cast<std::size_t>(shape.B), static_cast<std::size_t>(shape.T)});
    std::copy(ids.begin(), ids.end(), t.begin());
    return t;
  }
};

/// The case for `shape` in `dtype`, from a generator seeded by `seed` and the sizes.
inline EmbeddingCase make_embedding_case(const EmbeddingShape& shape, DType dtype,
                                         std::uint64_t seed = 0xe3b0'0000u) {
  const auto& s = shape;
  Rng rng(seed + static_cast<std::uint64_t>(s.B * 1009 + s.T * 101 + s.C * 7 + s.V));
  EmbeddingCase k{shape, dtype, {}, {}, {}, {}, {}, {}};
  k.ids.resize(static_cast<std::size_t>(s.B * s.T));
  for (auto& id : k.ids)
    id = static_cast<std::int32_t>(
        std::min<double>(rng.uniform() * static_cast<double>(s.V), static_cast<double>(s.V - 1)));
  if (!k.ids.empty()) k.ids.back() = k.ids.front();
  const auto n = [](std::int64_t m) { return static_cast<std::size_t>(m); };
  k.wte = rng.uniform_floats(n(s.V * s.C), -s.scale, s.scale);
  k.wpe = rng.uniform_floats(n(s.maxT * s.C), -s.scale, s.scale);
  k.dout = rng.uniform_floats(n(s.B * s.T * s.C), -s.scale, s.scale);
  k.dwte0 = rng.uniform_floats(n(s.V * s.C), -s.scale, s.scale);
  k.dwpe0 = rng.uniform_floats(n(s.maxT * s.C), -s.scale, s.scale);
  if (dtype == DType::bf16)
    for (auto* v : {&k.wte, &k.wpe, &k.dout}) *v = rounded_to_bf16(*v);
  return k;
}

/// The reference's answers on a case: out = wte[ids] + wpe[t], and the gradients accumulated onto
/// dwte0 and dwpe0.
template <class T>
struct EmbeddingRun {
  xt::xtensor<T, 3> out;   ///< (B, T, C)
  xt::xtensor<T, 2> dwte;  ///< (V, C): dwte0 + the rows of dout of each token
  xt::xtensor<T, 2> dwpe;  ///< (maxT, C): dwpe0 + the rows of dout of each position
};

/// The reference in T on a case.
template <class T>
EmbeddingRun<T> embedding_reference(const EmbeddingCase& k) {
  const auto& s = k.shape;
  const auto ids = k.ids_tensor();
  EmbeddingRun<T> r{
      ref::embedding_forward<T>(ids, matrix<T>(k.wte, s.V, s.C), matrix<T>(k.wpe, s.maxT, s.C)),
      matrix<T>(k.dwte0, s.V, s.C), matrix<T>(k.dwpe0, s.maxT, s.C)};
  const auto dout = tensor<T>(k.dout, std::array<std::size_t, 3>{static_cast<std::size_t>(s.B),
                                                                 static_cast<std::size_t>(s.T),
                                                                 static_cast<std::size_t>(s.C)});
  ref::embedding_backward<T>(dout, ids, r.dwte, r.dwpe);
  return r;
}

/// The outputs embedding's kernels write, each with its rule: out exact in the case's dtype (data
/// movement and one fp32 addition: the float reference, rounded once to bf16 for bf16), dwte and
/// dwpe gradients (k = 3) in fp32, whatever the dtype of dout.
inline std::vector<Expected> embedding_expected(const EmbeddingCase& k) {
  const auto r64 = embedding_reference<double>(k);
  const auto r32 = embedding_reference<float>(k);
  return {{"out", exact_rule(k.dtype), widened(r64.out), widened(r32.out)},
          {"dwte", oracle::Rule::gradient(DType::f32), widened(r64.dwte), widened(r32.dwte)},
          {"dwpe", oracle::Rule::gradient(DType::f32), widened(r64.dwpe), widened(r32.dwpe)}};
}

/// embedding's card: what its page says besides its C symbols.
inline ComponentCard embedding_card() {
  return {"embedding",
          "token + position embedding out[b, t] = wte[ids[b, t]] + wpe[t] (fp32, bf16: exact) and "
          "its deterministic accumulating backward into fp32 dwte, dwpe",
          {"llmlab.ref.embedding_forward(ids, wte, wpe) -> out",
           "llmlab.ref.embedding_backward(dout, ids, V, maxT) -> (dwte, dwpe)",
           "llmlab.cuda.embedding_forward(ids, wte, wpe, dtype='float32', version=0) -> out",
           "llmlab.cuda.embedding_backward(dout, ids, V, maxT, dtype='float32', version=0) -> "
           "(dwte, dwpe)",
           "llmlab.cuda.embedding_forward_versions", "llmlab.cuda.embedding_backward_versions"},
          {{"out",
            "(B, T, C), the tables' dtype, overwritten: the fp32 sum wte + wpe, for bf16 rounded "
            "once (so exact: the float reference, rounded once to bf16)"},
           {"dwte", "(V, C), fp32 in every dtype, accumulated: dwte[ids[b, t]] += dout[b, t]"},
           {"dwpe", "(maxT, C), fp32 in every dtype, accumulated: dwpe[t] += dout[b, t]"}},
          "one token of one channel; C = 1, 17, 33 (no multiple of the vector width), 64 and "
          "GPT-2's 768; V = 131 (no multiple of 128), 2 and 1 (a token repeated at every "
          "position); T = maxT and T < maxT; every case repeats a token; U(±1), ×1000 and ×1e-3",
          "ch03"};
}

}  // namespace llmlab::testing
