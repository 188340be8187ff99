/// \file
/// \brief The BLAS matmul reference: the same \f$ y = x W^\top + b \f$ and backward as the triple
/// loop, as GEMMs through xtensor-blas (OpenBLAS's sgemm / dgemm).

#include <algorithm>
#include <cstddef>
#include <vector>
#include <xtensor-blas/xblas.hpp>

#include "cpu_threads.hpp"
#include "llmlab/ref/matmul.hpp"
#include "matmul_shapes.hpp"
#include "vector_math.hpp"

namespace llmlab::ref {
namespace {

/// The most rows (or columns) of C per GEMM call in gemm_accumulate. The blocks are a function of
/// C's shape alone, so that the calls — and so the bits, since OpenBLAS picks its kernel by a
/// call's sizes — are the same for any thread count. Each call packs the whole of the other operand
/// again, so larger blocks cost less: at the bench's sizes (bench/train_bench.py, N = 1024 rows,
/// one block per core of a 2-core machine) 512 measured ~3% faster than 256 on one thread, and one
/// call per GEMM ~3% faster again; smaller blocks would give more than two threads work on 1024
/// rows.
constexpr std::size_t kGemmRows = 512;

/// How C's `extent` rows (or columns) are cut: into equal blocks of at most kGemmRows — two at
/// least from kGemmRows / 2 on, so that a 256-row product still has a block for each of two
/// threads, and 768 rows go as 384 + 384 rather than 512 + 256. @returns the rows (or columns)
/// per block.
inline std::size_t block_size(std::size_t extent) {
  std::size_t blocks = (extent + kGemmRows - 1) / kGemmRows;
  if (extent >= kGemmRows / 2) blocks = std::max<std::size_t>(blocks, 2);
  return (extent + blocks - 1) / blocks;
}

/// C (+)= α op(A) op(B) with β = 1 (C is already filled), skipped when a dimension is 0: BLAS
/// rejects a leading dimension of 0, and an empty product adds nothing. C goes in blocks of rows
/// (block_size), one GEMM each: row i of C is \f$ C_{i\cdot} \mathrel{+}= \sum_k
/// \mathrm{op}(A)_{ik} \mathrm{op}(B)_{k\cdot} \f$ in its block's call — or in blocks of columns
/// when those repack less (a wide C with few rows, e.g. mlp.c_proj's C × 4C weight gradient).
/// The blocks run side by side on set_cpu_threads's OpenMP threads (cpu_threads.hpp), else one
/// after another, each on OpenBLAS's threads; either way the same calls, the same bits
/// (tests/train_test.cpp).
template <class T>
void gemm_accumulate(const xt::xtensor<T, 2>& A, const xt::xtensor<T, 2>& B, xt::xtensor<T, 2>& C,
                     bool transpose_A, bool transpose_B) {
  const std::size_t K = transpose_A ? A.shape(0) : A.shape(1);
  if (C.size() == 0 || K == 0) return;
  const std::size_t M = C.shape(0), Nc = C.shape(1);
  // Each call packs its slice of one operand and the whole of the other: blocks of rows repack
  // op(B) (K·Nc) per block, blocks of columns op(A) (M·K). Cut along the one that packs less,
  // unless only one of them has more than one block.
  const std::size_t per_row_block = block_size(M), per_col_block = block_size(Nc);
  const std::size_t row_blocks = (M + per_row_block - 1) / per_row_block,
                    col_blocks = (Nc + per_col_block - 1) / per_col_block;
  const bool by_columns = row_blocks == 1 ? col_blocks > 1  // the only cut with blocks for threads
                          : col_blocks == 1 ? false
                                            : col_blocks * M + Nc < M + row_blocks * Nc;
  const std::size_t per_block = by_columns ? per_col_block : per_row_block,
                    blocks = by_columns ? col_blocks : row_blocks;
  using Index = xt::blas_index_t;
  const auto op = [](bool t) {
    return t ? cxxblas::Transpose::Trans : cxxblas::Transpose::NoTrans;
  };
#pragma omp parallel for schedule(static) num_threads(detail::cpu_threads())
  for (std::size_t block = 0; block < blocks; ++block) {
    const std::size_t i0 = block * per_block;  // C's first row, or first column
    const T* a = A.data();
    const T* b = B.data();
    T* c = C.data();
    std::size_t rows = M, cols = Nc;
    if (by_columns) {  // columns [i0, i1) of op(B): columns of B, or rows of B when transposed
      cols = std::min(Nc, i0 + per_block) - i0;
      b += transpose_B ? i0 * B.shape(1) : i0;
      c += i0;
    } else {  // rows [i0, i1) of op(A): rows of A, or columns of A when transposed
      rows = std::min(M, i0 + per_block) - i0;
      a += transpose_A ? i0 : i0 * A.shape(1);
      c += i0 * Nc;
    }
    cxxblas::gemm<Index>(cxxblas::StorageOrder::RowMajor, op(transpose_A), op(transpose_B),
                         static_cast<Index>(rows), static_cast<Index>(cols), static_cast<Index>(K),
                         T(1), a, static_cast<Index>(A.shape(1)), b, static_cast<Index>(B.shape(1)),
                         T(1), c, static_cast<Index>(Nc));
  }
}

/// db_o += Σ_n dy_no for the `out` columns of dy (N, out): each column's sum over n in order,
/// a row of dy at a time — the columns side by side, a vector of them per instruction
/// (vector_math.hpp's clones), each still its own sum in the same order.
template <class T>
LLMLAB_VECTOR_CLONES void column_sums_into(const T* dy, std::size_t N, std::size_t out, T* db) {
  std::vector<T> sum(out, T(0));
  for (std::size_t n = 0; n < N; ++n) {
    const T* row = dy + n * out;
    T* s = sum.data();
#pragma omp simd
    for (std::size_t o = 0; o < out; ++o) s[o] += row[o];
  }
  for (std::size_t o = 0; o < out; ++o) db[o] += sum[o];
}

template <class T>
xt::xtensor<T, 2> forward(const xt::xtensor<T, 2>& x, const xt::xtensor<T, 2>& w,
                          const xt::xtensor<T, 1>* b) {
  detail::check_forward<T>("matmul_forward_blas", x, w, b);
  const std::size_t N = x.shape(0), out = w.shape(0);
  // y = b on every row (or 0 without a bias), then y += x W^T
  xt::xtensor<T, 2> y =
      b != nullptr ? xt::xtensor<T, 2>::from_shape({N, out}) : xt::zeros<T>({N, out});
  if (b != nullptr)
    for (std::size_t n = 0; n < N; ++n) std::copy(b->begin(), b->end(), y.data() + n * out);
  gemm_accumulate<T>(x, w, y, false, true);
  return y;
}

template <class T>
void backward(const xt::xtensor<T, 2>& dy, const xt::xtensor<T, 2>& x, const xt::xtensor<T, 2>& w,
              xt::xtensor<T, 2>& dx, xt::xtensor<T, 2>& dw, xt::xtensor<T, 1>* db) {
  detail::check_backward<T>("matmul_backward_blas", dy, x, w, dx, dw, db);
  gemm_accumulate<T>(dy, w, dx, false, false);  // dx (N, in) += dy (N, out) W (out, in)
  gemm_accumulate<T>(dy, x, dw, true, false);   // dW (out, in) += dy^T (out, N) x (N, in)
  if (db != nullptr) column_sums_into(dy.data(), dy.shape(0), dy.shape(1), db->data());
}

}  // namespace

template <class T>
xt::xtensor<T, 2> matmul_forward_blas(const xt::xtensor<T, 2>& x, const xt::xtensor<T, 2>& w,
                                      const xt::xtensor<T, 1>& b) {
  return forward<T>(x, w, &b);
}

template <class T>
xt::xtensor<T, 2> matmul_forward_blas(const xt::xtensor<T, 2>& x, const xt::xtensor<T, 2>& w) {
  return forward<T>(x, w, nullptr);
}

template <class T>
void matmul_backward_blas(const xt::xtensor<T, 2>& dy, const xt::xtensor<T, 2>& x,
                          const xt::xtensor<T, 2>& w, xt::xtensor<T, 2>& dx, xt::xtensor<T, 2>& dw,
                          xt::xtensor<T, 1>& db) {
  backward<T>(dy, x, w, dx, dw, &db);
}

template <class T>
void matmul_backward_blas(const xt::xtensor<T, 2>& dy, const xt::xtensor<T, 2>& x,
                          const xt::xtensor<T, 2>& w, xt::xtensor<T, 2>& dx,
                          xt::xtensor<T, 2>& dw) {
  backward<T>(dy, x, w, dx, dw, nullptr);
}

/// \cond EXPLICIT_INSTANTIATIONS
template xt::xtensor<float, 2> matmul_forward_blas(const xt::xtensor<float, 2>&,
                                                   const xt::xtensor<float, 2>&,
                                                   const xt::xtensor<float, 1>&);
template xt::xtensor<double, 2> matmul_forward_blas(const xt::xtensor<double, 2>&,
                                                    const xt::xtensor<double, 2>&,
                                                    const xt::xtensor<double, 1>&);
template xt::xtensor<float, 2> matmul_forward_blas(const xt::xtensor<float, 2>&,
                                                   const xt::xtensor<float, 2>&);
template xt::xtensor<double, 2> matmul_forward_blas(const xt::xtensor<double, 2>&,
                                                    const xt::xtensor<double, 2>&);
template void matmul_backward_blas(const xt::xtensor<float, 2>&, const xt::xtensor<float, 2>&,
                                   const xt::xtensor<float, 2>&, xt::xtensor<float, 2>&,
                                   xt::xtensor<float, 2>&, xt::xtensor<float, 1>&);
template void matmul_backward_blas(const xt::xtensor<double, 2>&, const xt::xtensor<double, 2>&,
                                   const xt::xtensor<double, 2>&, xt::xtensor<double, 2>&,
                                   xt::xtensor<double, 2>&, xt::xtensor<double, 1>&);
template void matmul_backward_blas(const xt::xtensor<float, 2>&, const xt::xtensor<float, 2>&,
                                   const xt::xtensor<float, 2>&, xt::xtensor<float, 2>&,
                                   xt::xtensor<float, 2>&);
template void matmul_backward_blas(const xt::xtensor<double, 2>&, const xt::xtensor<double, 2>&,
                                   const xt::xtensor<double, 2>&, xt::xtensor<double, 2>&,
                                   xt::xtensor<double, 2>&);
/// \endcond

}  // namespace llmlab::ref
