#pragma once
/// \file
/// \ingroup group_emulator
/// \brief Drop-in `<cooperative_groups.h>` for emulated builds: thread blocks, tiles of 1–32
/// threads, and cg::reduce / inclusive_scan / exclusive_scan (docs/cuda_code.md).
///
/// Built on the emulator's barrier and warp functions, so their diagnostics still apply and name
/// the caller's line: every member takes a defaulted `std::source_location`. A tile of N threads is
/// N consecutive lanes of a warp (linear thread index = x + y·Dx + z·Dx·Dy, as CUDA numbers them);
/// its functions are the `_sync` warp functions with the tile's lane mask and `width` N.

#include <cuda_runtime.h>

#include <source_location>

namespace cooperative_groups {

namespace detail {
/// x + y·Dx + z·Dx·Dy: this thread's linear index in its block.
inline unsigned block_rank() {
  return threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
}
}  // namespace detail

/// The thread block the calling thread belongs to (`cg::this_thread_block()`).
class thread_block {
 public:
  /// __syncthreads() for the block.
  void sync(const std::source_location& where = std::source_location::current()) const {
    __syncthreads(where);
  }
  /// This thread's linear index in the block, 0 … size() − 1.
  unsigned thread_rank() const { return detail::block_rank(); }
  /// Threads in the block, Dx·Dy·Dz.
  unsigned size() const { return blockDim.x * blockDim.y * blockDim.z; }
  /// Same as size().
  unsigned num_threads() const { return size(); }
  /// blockIdx.
  dim3 group_index() const { return blockIdx; }
  /// threadIdx.
  dim3 thread_index() const { return threadIdx; }
  /// blockDim.
  dim3 dim_threads() const { return blockDim; }
  /// blockDim (the older name).
  dim3 group_dim() const { return blockDim; }
};

/// The calling thread's block.
inline thread_block this_thread_block() { return {}; }

namespace detail {
/// What every tile of N threads can do (thread_block_tile<N, Parent> adds only its parent's type).
template <unsigned N>
class tile_base {
  static_assert(N >= 1 && N <= 32 && (N & (N - 1)) == 0,
                "thread_block_tile<N>: N must be a power of two from 1 to 32");

 public:
  /// The tile containing this thread, numbered `meta_rank` of `meta_size` in its parent.
  tile_base(unsigned meta_rank, unsigned meta_size)
      : meta_rank_(meta_rank), meta_size_(meta_size) {}

  /// This thread's index in the tile, 0 … N − 1.
  unsigned thread_rank() const { return detail::block_rank() % N; }
  /// N.
  static constexpr unsigned size() { return N; }
  /// N.
  static constexpr unsigned num_threads() { return N; }
  /// This tile's index among the tiles of its parent.
  unsigned meta_group_rank() const { return meta_rank_; }
  /// The number of tiles its parent was split into.
  unsigned meta_group_size() const { return meta_size_; }
  /// The tile's lanes as a warp mask.
  unsigned mask() const {
    const unsigned lane = detail::block_rank() % 32u;
    return N == 32 ? 0xffffffffu : ((1u << N) - 1u) << (lane - lane % N);
  }
  /// __syncwarp over the tile's lanes.
  void sync(const std::source_location& where = std::source_location::current()) const {
    __syncwarp(mask(), where);
  }
  /// The value of `var` held by tile rank `src` (mod N).
  template <class T>
  T shfl(T var, int src, const std::source_location& where = std::source_location::current()) const {
    return __shfl_sync(mask(), var, src, static_cast<int>(N), where);
  }
  /// The value held by tile rank − delta (ranks below delta keep their own).
  template <class T>
  T shfl_up(T var, unsigned delta,
            const std::source_location& where = std::source_location::current()) const {
    return __shfl_up_sync(mask(), var, delta, static_cast<int>(N), where);
  }
  /// The value held by tile rank + delta (ranks at or past N − delta keep their own).
  template <class T>
  T shfl_down(T var, unsigned delta,
              const std::source_location& where = std::source_location::current()) const {
    return __shfl_down_sync(mask(), var, delta, static_cast<int>(N), where);
  }
  /// The value held by tile rank XOR lane_mask.
  template <class T>
  T shfl_xor(T var, int lane_mask,
             const std::source_location& where = std::source_location::current()) const {
    return __shfl_xor_sync(mask(), var, lane_mask, static_cast<int>(N), where);
  }
  /// Bit r set iff tile rank r's predicate is non-zero.
  unsigned ballot(int predicate,
                  const std::source_location& where = std::source_location::current()) const {
    const unsigned lane = detail::block_rank() % 32u;
    return __ballot_sync(mask(), predicate, where) >> (lane - lane % N);
  }
  /// Non-zero iff some thread of the tile has a non-zero predicate.
  int any(int predicate, const std::source_location& where = std::source_location::current()) const {
    return __any_sync(mask(), predicate, where);
  }
  /// Non-zero iff every thread of the tile has a non-zero predicate.
  int all(int predicate, const std::source_location& where = std::source_location::current()) const {
    return __all_sync(mask(), predicate, where);
  }

 private:
  unsigned meta_rank_, meta_size_;
};

}  // namespace detail

/// N consecutive lanes of a warp (N = 1, 2, 4, 8, 16 or 32) working as a group, as
/// `tiled_partition<N>(parent)` returns it; converts to `thread_block_tile<N>` (Parent void).
template <unsigned N, class Parent = void>
class thread_block_tile : public detail::tile_base<N> {
 public:
  /// The tile containing this thread, numbered `meta_rank` of `meta_size` in its parent.
  thread_block_tile(unsigned meta_rank, unsigned meta_size) : detail::tile_base<N>(meta_rank, meta_size) {}
  /// The same tile, under another parent type (e.g. thread_block_tile<32, thread_block> → <32>).
  template <class P>
  thread_block_tile(const thread_block_tile<N, P>& other) : detail::tile_base<N>(other) {}  // NOLINT
};

/// The block split into tiles of N consecutive threads; returns the caller's tile.
template <unsigned N>
thread_block_tile<N, thread_block> tiled_partition(const thread_block& parent) {
  return {detail::block_rank() / N, (parent.size() + N - 1) / N};
}

/// A tile of M threads split into tiles of N (N ≤ M); returns the caller's tile.
template <unsigned N, unsigned M, class P>
thread_block_tile<N, thread_block_tile<M, P>> tiled_partition(const thread_block_tile<M, P>& parent) {
  static_assert(N <= M, "tiled_partition<N>(tile<M>): N must not exceed M");
  return {parent.thread_rank() / N, M / N};
}

/// g.sync().
template <class Group>
void sync(const Group& g, const std::source_location& where = std::source_location::current()) {
  g.sync(where);
}
/// g.thread_rank().
template <class Group>
unsigned thread_rank(const Group& g) { return g.thread_rank(); }

/// a + b, for reduce and the scans.
template <class T>
struct plus {
  /// a + b
  T operator()(const T& a, const T& b) const { return a + b; }
};
/// The smaller of a and b.
template <class T>
struct less {
  /// min(a, b)
  T operator()(const T& a, const T& b) const { return b < a ? b : a; }
};
/// The larger of a and b.
template <class T>
struct greater {
  /// max(a, b)
  T operator()(const T& a, const T& b) const { return a < b ? b : a; }
};
/// a & b.
template <class T>
struct bit_and {
  /// a & b
  T operator()(const T& a, const T& b) const { return a & b; }
};
/// a | b.
template <class T>
struct bit_or {
  /// a | b
  T operator()(const T& a, const T& b) const { return a | b; }
};
/// a ^ b.
template <class T>
struct bit_xor {
  /// a ^ b
  T operator()(const T& a, const T& b) const { return a ^ b; }
};

/// op over the values of all N threads of the tile (a butterfly of shfl_xor); every thread gets it.
template <unsigned N, class P, class T, class Op>
T reduce(const thread_block_tile<N, P>& g, T val, Op op,
         const std::source_location& where = std::source_location::current()) {
  for (unsigned offset = N / 2; offset > 0; offset /= 2)
    val = op(val, g.shfl_xor(val, static_cast<int>(offset), where));
  return val;
}

/// Thread r gets op(v_0, …, v_r) (a Hillis–Steele scan with shfl_up).
template <unsigned N, class P, class T, class Op = plus<T>>
T inclusive_scan(const thread_block_tile<N, P>& g, T val, Op op = {},
                 const std::source_location& where = std::source_location::current()) {
  const unsigned rank = g.thread_rank();
  for (unsigned d = 1; d < N; d *= 2) {
    const T other = g.shfl_up(val, d, where);
    if (rank >= d) val = op(other, val);
  }
  return val;
}

/// Thread r gets op(v_0, …, v_{r−1}); thread 0 gets T{} (CUDA leaves it undefined except for plus).
template <unsigned N, class P, class T, class Op = plus<T>>
T exclusive_scan(const thread_block_tile<N, P>& g, T val, Op op = {},
                 const std::source_location& where = std::source_location::current()) {
  const T inclusive = inclusive_scan(g, val, op, where);
  const T previous = g.shfl_up(inclusive, 1, where);
  return g.thread_rank() == 0 ? T{} : previous;
}

}  // namespace cooperative_groups
