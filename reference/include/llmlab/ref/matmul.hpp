#pragma once
/// \file
/// \ingroup group_matmul
/// \brief Reference matmul, the linear layer \f$ y = x W^\top + b \f$, and its backward — twice:
/// a triple loop a student can follow line by line (the oracle, run in double) and the BLAS path
/// (xtensor-blas over OpenBLAS) that the reference model uses for speed.
///
/// Shapes follow `torch.nn.Linear`: x (N, in), W (out, in), b (out), y (N, out), where N is every
/// row of activations (B · T for a (B, T, C) tensor, reshaped by the caller).
///
/// Gradients **accumulate** (llm.c's convention, docs/design.md §3): the backward adds into dx, dW and
/// db instead of overwriting them, so gradient accumulation over micro-batches (and a weight used
/// twice, like GPT-2's tied lm_head) works. Zero them before the first backward of a step.

#include <xtensor/xtensor.hpp>

namespace llmlab::ref {

/// The linear layer: \f$ y_{n,o} = \sum_{i=0}^{\mathrm{in}-1} x_{n,i} W_{o,i} + b_o \f$ — a triple
/// loop, each sum taken left to right over i, then b added.
/// @tparam T the scalar (double: the oracle; float: the same-precision baseline)
/// @param x (N, in)   @param w (out, in)   @param b (out)
/// @returns y (N, out); N, in or out may be 0 (in = 0 gives y = b on every row)
/// @throws llmlab::Error naming `matmul_forward` and the shapes when w's second dimension is not
///         x's second or b's length is not w's first.
template <class T>
xt::xtensor<T, 2> matmul_forward(const xt::xtensor<T, 2>& x, const xt::xtensor<T, 2>& w,
                                 const xt::xtensor<T, 1>& b);

/// The linear layer without bias: \f$ y_{n,o} = \sum_{i} x_{n,i} W_{o,i} \f$ (a triple loop).
/// @param x (N, in)   @param w (out, in)   @returns y (N, out)
/// @throws llmlab::Error naming `matmul_forward` and the shapes when x and w disagree on `in`.
template <class T>
xt::xtensor<T, 2> matmul_forward(const xt::xtensor<T, 2>& x, const xt::xtensor<T, 2>& w);

/// Backward of matmul_forward, written against it line by line; every gradient accumulates (+=).
/// In the forward \f$ y_{n,o} = \sum_i x_{n,i} W_{o,i} + b_o \f$, so with
/// \f$ dy = \partial L / \partial y \f$:
/// \f[ dx_{n,i} \mathrel{+}= \sum_{o} dy_{n,o} W_{o,i}, \qquad
///     dW_{o,i} \mathrel{+}= \sum_{n} dy_{n,o}\, x_{n,i}, \qquad
///     db_o \mathrel{+}= \sum_{n} dy_{n,o}. \f]
/// Each sum is formed left to right, then added to the gradient already there.
/// @param dy (N, out)   @param x (N, in)   @param w (out, in)
/// @param dx (N, in), accumulated   @param dw (out, in), accumulated   @param db (out), accumulated
/// @throws llmlab::Error naming `matmul_backward`, the argument and the shapes when any shape
///         disagrees with x (N, in) and w (out, in).
template <class T>
void matmul_backward(const xt::xtensor<T, 2>& dy, const xt::xtensor<T, 2>& x,
                     const xt::xtensor<T, 2>& w, xt::xtensor<T, 2>& dx, xt::xtensor<T, 2>& dw,
                     xt::xtensor<T, 1>& db);

/// Backward of the bias-free matmul_forward: dx and dW as above, accumulated (+=).
/// @param dy (N, out)   @param x (N, in)   @param w (out, in)
/// @param dx (N, in), accumulated   @param dw (out, in), accumulated
/// @throws llmlab::Error as the overload with db.
template <class T>
void matmul_backward(const xt::xtensor<T, 2>& dy, const xt::xtensor<T, 2>& x,
                     const xt::xtensor<T, 2>& w, xt::xtensor<T, 2>& dx, xt::xtensor<T, 2>& dw);

/// matmul_forward through BLAS: y is filled with b on every row, then one GEMM
/// (`xt::blas::gemm`, OpenBLAS's `?gemm` with W transposed) adds \f$ x W^\top \f$ into it. Same
/// math as the triple loop; BLAS blocks and orders the sums its own way.
/// @param x (N, in)   @param w (out, in)   @param b (out)   @returns y (N, out)
/// @throws llmlab::Error naming `matmul_forward_blas` and the shapes, as matmul_forward.
template <class T>
xt::xtensor<T, 2> matmul_forward_blas(const xt::xtensor<T, 2>& x, const xt::xtensor<T, 2>& w,
                                      const xt::xtensor<T, 1>& b);

/// matmul_forward without bias through BLAS: \f$ y = x W^\top \f$ in one GEMM.
/// @param x (N, in)   @param w (out, in)   @returns y (N, out)
/// @throws llmlab::Error naming `matmul_forward_blas` and the shapes.
template <class T>
xt::xtensor<T, 2> matmul_forward_blas(const xt::xtensor<T, 2>& x, const xt::xtensor<T, 2>& w);

/// matmul_backward through BLAS, accumulating like the triple loop: two GEMMs with β = 1,
/// \f$ dx \mathrel{+}= dy\, W \f$ and \f$ dW \mathrel{+}= dy^\top x \f$, and the column sums of dy
/// into db.
/// @param dy (N, out)   @param x (N, in)   @param w (out, in)
/// @param dx (N, in), accumulated   @param dw (out, in), accumulated   @param db (out), accumulated
/// @throws llmlab::Error naming `matmul_backward_blas`, the argument and the shapes.
template <class T>
void matmul_backward_blas(const xt::xtensor<T, 2>& dy, const xt::xtensor<T, 2>& x,
                          const xt::xtensor<T, 2>& w, xt::xtensor<T, 2>& dx, xt::xtensor<T, 2>& dw,
                          xt::xtensor<T, 1>& db);

/// matmul_backward without bias through BLAS: the two GEMMs, accumulated.
/// @param dy (N, out)   @param x (N, in)   @param w (out, in)
/// @param dx (N, in), accumulated   @param dw (out, in), accumulated
/// @throws llmlab::Error as the overload with db.
template <class T>
void matmul_backward_blas(const xt::xtensor<T, 2>& dy, const xt::xtensor<T, 2>& x,
                          const xt::xtensor<T, 2>& w, xt::xtensor<T, 2>& dx, xt::xtensor<T, 2>& dw);

/// \cond EXPLICIT_INSTANTIATIONS
extern template xt::xtensor<float, 2> matmul_forward(const xt::xtensor<float, 2>&,
                                                     const xt::xtensor<float, 2>&,
                                                     const xt::xtensor<float, 1>&);
extern template xt::xtensor<float, 2> matmul_forward(const xt::xtensor<float, 2>&,
                                                     const xt::xtensor<float, 2>&);
extern template void matmul_backward(const xt::xtensor<float, 2>&, const xt::xtensor<float, 2>&,
                                     const xt::xtensor<float, 2>&, xt::xtensor<float, 2>&,
                                     xt::xtensor<float, 2>&, xt::xtensor<float, 1>&);
extern template void matmul_backward(const xt::xtensor<float, 2>&, const xt::xtensor<float, 2>&,
                                     const xt::xtensor<float, 2>&, xt::xtensor<float, 2>&,
                                     xt::xtensor<float, 2>&);
extern template xt::xtensor<float, 2> matmul_forward_blas(const xt::xtensor<float, 2>&,
                                                          const xt::xtensor<float, 2>&,
                                                          const xt::xtensor<float, 1>&);
extern template xt::xtensor<float, 2> matmul_forward_blas(const xt::xtensor<float, 2>&,
                                                          const xt::xtensor<float, 2>&);
extern template void matmul_backward_blas(const xt::xtensor<float, 2>&,
                                          const xt::xtensor<float, 2>&,
                                          const xt::xtensor<float, 2>&, xt::xtensor<float, 2>&,
                                          xt::xtensor<float, 2>&, xt::xtensor<float, 1>&);
extern template void matmul_backward_blas(const xt::xtensor<float, 2>&,
                                          const xt::xtensor<float, 2>&,
                                          const xt::xtensor<float, 2>&, xt::xtensor<float, 2>&,
                                          xt::xtensor<float, 2>&);
extern template xt::xtensor<double, 2> matmul_forward(const xt::xtensor<double, 2>&,
                                                      const xt::xtensor<double, 2>&,
                                                      const xt::xtensor<double, 1>&);
extern template xt::xtensor<double, 2> matmul_forward(const xt::xtensor<double, 2>&,
                                                      const xt::xtensor<double, 2>&);
extern template void matmul_backward(const xt::xtensor<double, 2>&, const xt::xtensor<double, 2>&,
                                     const xt::xtensor<double, 2>&, xt::xtensor<double, 2>&,
                                     xt::xtensor<double, 2>&, xt::xtensor<double, 1>&);
extern template void matmul_backward(const xt::xtensor<double, 2>&, const xt::xtensor<double, 2>&,
                                     const xt::xtensor<double, 2>&, xt::xtensor<double, 2>&,
                                     xt::xtensor<double, 2>&);
extern template xt::xtensor<double, 2> matmul_forward_blas(const xt::xtensor<double, 2>&,
                                                           const xt::xtensor<double, 2>&,
                                                           const xt::xtensor<double, 1>&);
extern template xt::xtensor<double, 2> matmul_forward_blas(const xt::xtensor<double, 2>&,
                                                           const xt::xtensor<double, 2>&);
extern template void matmul_backward_blas(const xt::xtensor<double, 2>&,
                                          const xt::xtensor<double, 2>&,
                                          const xt::xtensor<double, 2>&, xt::xtensor<double, 2>&,
                                          xt::xtensor<double, 2>&, xt::xtensor<double, 1>&);
extern template void matmul_backward_blas(const xt::xtensor<double, 2>&,
                                          const xt::xtensor<double, 2>&,
                                          const xt::xtensor<double, 2>&, xt::xtensor<double, 2>&,
                                          xt::xtensor<double, 2>&);
/// \endcond

}  // namespace llmlab::ref
