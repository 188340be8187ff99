#pragma once
/// \file
/// \ingroup group_embedding
/// \brief Reference token + position embedding: the first layer of GPT-2, forward and backward.

#include <cstdint>
#include <xtensor/xtensor.hpp>

namespace llmlab::ref {

/// Token plus position embedding lookup (GPT-2's first layer, llm.c's `encoder_forward`).
/// \f$ \mathrm{out}_{b,t,c} = \mathrm{wte}_{\mathrm{ids}_{b,t},\,c} + \mathrm{wpe}_{t,c} \f$
/// @tparam T the scalar (double: the oracle; float: the same-precision baseline)
/// @param ids (B, T) token ids, each in [0, V)
/// @param wte (V, C) token embeddings   @param wpe (maxT, C) position embeddings, T ≤ maxT
/// @returns out (B, T, C), each element one rounding of T away from the exact sum
/// @throws llmlab::Error naming the shapes when wte and wpe differ in C or T > maxT, and naming
///         the index [b, t] and the id when an id is outside [0, V).
template <class T>
xt::xtensor<T, 3> embedding_forward(const xt::xtensor<std::int32_t, 2>& ids,
                                    const xt::xtensor<T, 2>& wte, const xt::xtensor<T, 2>& wpe);

/// Backward of embedding_forward: each output row's gradient flows to the token row and the
/// position row it was summed from. Gradients **accumulate** (`+=`, llm.c's convention, so
/// gradient accumulation over micro-batches works): zero dwte and dwpe before the first call.
/// \f$ \mathrm{dwte}_{v,c} \mathrel{+}= \sum_{(b,t):\,\mathrm{ids}_{b,t} = v}
/// \mathrm{dout}_{b,t,c},
///     \qquad \mathrm{dwpe}_{t,c} \mathrel{+}= \sum_b \mathrm{dout}_{b,t,c} \f$
/// A token that occurs several times gathers several rows: the sums run over (b, t) in row-major
/// order, left to right.
/// @param dout (B, T, C)   @param ids (B, T), each in [0, V)
/// @param dwte (V, C), accumulated into   @param dwpe (maxT, C), accumulated into (rows t ≥ T
///        untouched)
/// @throws llmlab::Error naming the shapes when dout, ids, dwte and dwpe disagree (B, T, C) or
///         T > maxT, and naming [b, t] and the id when an id is outside [0, V).
template <class T>
void embedding_backward(const xt::xtensor<T, 3>& dout, const xt::xtensor<std::int32_t, 2>& ids,
                        xt::xtensor<T, 2>& dwte, xt::xtensor<T, 2>& dwpe);

/// \cond EXPLICIT_INSTANTIATIONS
extern template xt::xtensor<float, 3> embedding_forward(const xt::xtensor<std::int32_t, 2>&,
                                                        const xt::xtensor<float, 2>&,
                                                        const xt::xtensor<float, 2>&);
extern template xt::xtensor<double, 3> embedding_forward(const xt::xtensor<std::int32_t, 2>&,
                                                         const xt::xtensor<double, 2>&,
                                                         const xt::xtensor<double, 2>&);
extern template void embedding_backward(const xt::xtensor<float, 3>&,
                                        const xt::xtensor<std::int32_t, 2>&, xt::xtensor<float, 2>&,
                                        xt::xtensor<float, 2>&);
extern template void embedding_backward(const xt::xtensor<double, 3>&,
                                        const xt::xtensor<std::int32_t, 2>&,
                                        xt::xtensor<double, 2>&, xt::xtensor<double, 2>&);
/// \endcond

}  // namespace llmlab::ref
