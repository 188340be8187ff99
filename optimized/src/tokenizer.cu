/// \file
/// \ingroup group_tokenizer
/// \brief Byte-level BPE on the GPU: every pre-tokenized piece merged to GPT-2-exact token ids.
///
/// Each piece starts as the tokens of its bytes (DeviceBpeView::byte_ids) and repeatedly merges the
/// adjacent pair of tokens with the lowest merged rank — the leftmost such pair on a tie — until no
/// adjacent pair is in the pair table (a device hash table, DeviceBpeTable). A piece of L bytes
/// has at most L tokens, so piece i owns the id slots under its bytes, `ids[offsets[i] ..
/// offsets[i+1])`, and needs no allocation or prefix sum before the kernel.
///
/// Versions (each tested against the reference in tests/tokenizer_cuda_test.cpp):
/// - v1 one thread per piece, merging in its id slots in global memory: every step looks up every
///   adjacent pair again (O(L²) lookups on one thread), so one long piece — a line of 3,000 `=`
///   in a text file, a run of one letter — holds up its whole warp.
/// - v2 one thread per piece of at most tokenizer_short_piece_bytes (64) bytes, with the tokens and
///   the ranks of the adjacent pairs in local arrays (a merge looks up only the two pairs it
///   changes); the block's longer pieces are then merged by all its 128 threads together, one
///   piece after another: each step is a block-wide argmin of (rank, position) over the pairs
///   (warp shuffles, then the 4 warps' minima in shared memory), then the tokens right of the
///   merge move one slot left. In English prose long pieces are rare: of the GPL-3's 7,129 GPT-2
///   pieces 99.8 % are under 16 bytes and none is over 64; a line of `====` or a run of one
///   letter is one long piece.
///
/// The launcher uses v2 by default: it does the same work as v1 for short pieces with ~L times
/// fewer table lookups, and a long piece costs O(L / 128) per merge instead of O(L). Timing on a
/// GPU awaits a GPU: none has been lent to this project yet. No bench program times encode_pieces
/// yet (bench/tokenizer_bench.py times the CPU tokenizers); the kernel benches in bench/ (e.g.
/// bench/softmax_bench) time emulated versions, which measures the emulator, not a GPU.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "llmlab/core/error.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/primitives.cuh"
#include "llmlab/cuda/tokenizer.cuh"

namespace llmlab::cuda {
namespace {

constexpr TokenId kNone = 0xffffffffu;  // no token / an empty slot / a pair not in the table
constexpr int kPiecesPerBlock = 128;    // threads per block = pieces per block (one per thread)
constexpr int kWarps = kPiecesPerBlock / kWarpSize;                    // warps per block
constexpr int kShort = static_cast<int>(tokenizer_short_piece_bytes);  // v2: one thread's pieces
constexpr int kShiftPerThread = 8;             // v2 long pieces: tokens each thread moves per round
constexpr unsigned long long kNoPair = ~0ull;  // v2 long pieces: "no pair" in the argmin

/// The 64-bit finaliser of MurmurHash3 on the key (left << 32) | right: every key bit reaches
/// every hash bit, so ids that differ only in high bits still spread over the table. The host
/// inserts and the device looks up with this same function.
__host__ __device__ __forceinline__ std::uint64_t pair_hash(TokenId left, TokenId right) {
  std::uint64_t x = (static_cast<std::uint64_t>(left) << 32) | right;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

/// The id of bytes(left) ‖ bytes(right), or kNone when that is not a token: linear probing from
/// the pair's hash until the pair or an empty slot (the table is at most half full).
__device__ __forceinline__ TokenId lookup(const DeviceBpeView& table, TokenId left, TokenId right) {
  const uint4* slots = reinterpret_cast<const uint4*>(table.slots);
  std::uint32_t i = static_cast<std::uint32_t>(pair_hash(left, right)) & table.mask;
  for (;;) {
    const uint4 s = slots[i];
    if (s.x == left && s.y == right) return s.z;
    if (s.x == kNone && s.y == kNone) return kNone;
    i = (i + 1) & table.mask;
  }
}

/// Piece i's bytes [begin, begin + len); a piece whose end is before its start is empty.
__device__ __forceinline__ void piece_extent(const std::int64_t* offsets, std::int64_t i,
                                             std::int64_t& begin, std::int64_t& len) {
  begin = offsets[i];
  len = offsets[i + 1] - begin;
  if (len < 0) len = 0;
}

// ---- v1: one thread per piece, in its id slots --------------------------------------------------

/// BPE on one piece by one thread, in place: tok[0..len) holds the piece's tokens, shrinking by
/// one per merge. @returns the number of tokens left.
__device__ std::int64_t merge_serial(const DeviceBpeView& table, TokenId* tok, std::int64_t len) {
  std::int64_t n = len;
  while (n > 1) {
    TokenId best = kNone;
    std::int64_t p = -1;
    for (std::int64_t j = 0; j + 1 < n; ++j) {
      const TokenId r = lookup(table, tok[j], tok[j + 1]);
      if (r < best) {  // strictly lower: the leftmost pair wins a tie
        best = r;
        p = j;
      }
    }
    if (p < 0) break;
    tok[p] = best;
    for (std::int64_t j = p + 1; j + 1 < n; ++j) tok[j] = tok[j + 1];
    --n;
  }
  return n;
}

/// Launched with ⌈n / 128⌉ blocks of 128 threads; thread i encodes piece i.
__global__ void encode_pieces_v1(DeviceBpeView table, const std::uint8_t* __restrict__ bytes,
                                 const std::int64_t* __restrict__ offsets, std::int64_t n,
                                 TokenId* __restrict__ ids, std::uint32_t* __restrict__ counts) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  std::int64_t begin, len;
  piece_extent(offsets, i, begin, len);
  TokenId* tok = ids + begin;
  for (std::int64_t j = 0; j < len; ++j) tok[j] = table.byte_ids[bytes[begin + j]];
  counts[i] = static_cast<std::uint32_t>(merge_serial(table, tok, len));
}

// ---- v2: short pieces in registers, long pieces by the whole block ------------------------------

/// BPE on a piece of len ≤ kShort bytes by one thread: tokens in tok[], and rank[j] = the merged
/// id of the pair (tok[j], tok[j+1]) so that a merge looks up only the two pairs it changes.
/// Writes the tokens to out[]. @returns their number.
__device__ int encode_short(const DeviceBpeView& table, const std::uint8_t* __restrict__ bytes,
                            int len, TokenId* __restrict__ out) {
  TokenId tok[kShort];
  TokenId rank[kShort];
  int n = len;
  for (int j = 0; j < n; ++j) tok[j] = table.byte_ids[bytes[j]];
  for (int j = 0; j + 1 < n; ++j) rank[j] = lookup(table, tok[j], tok[j + 1]);
  while (n > 1) {
    TokenId best = kNone;
    int p = -1;
    for (int j = 0; j + 1 < n; ++j) {
      if (rank[j] < best) {  // strictly lower: the leftmost pair wins a tie
        best = rank[j];
        p = j;
      }
    }
    if (p < 0) break;
    // Merge pair p: token p becomes `best`, tokens and pairs right of it move one slot left.
    tok[p] = best;
    for (int j = p + 1; j + 1 < n; ++j) tok[j] = tok[j + 1];
    for (int j = p + 1; j + 2 < n; ++j) rank[j] = rank[j + 1];
    --n;
    if (p > 0) rank[p - 1] = lookup(table, tok[p - 1], tok[p]);
    if (p + 1 < n) rank[p] = lookup(table, tok[p], tok[p + 1]);
  }
  for (int j = 0; j < n; ++j) out[j] = tok[j];
  return n;
}

/// The smaller of two 64-bit keys.
__device__ __forceinline__ unsigned long long min64(unsigned long long a, unsigned long long b) {
  return a < b ? a : b;
}

/// The minimum of every thread's `v` over the block, returned to every thread. Ends with the
/// barrier after the warps' minima are written; the caller puts a barrier between two calls.
__device__ __forceinline__ unsigned long long block_min(unsigned long long v) {
  __shared__ unsigned long long warp_min[kWarps];
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2)
    v = min64(v, __shfl_down_sync(kFullMask, v, offset));
  if (threadIdx.x % kWarpSize == 0) warp_min[threadIdx.x / kWarpSize] = v;
  __syncthreads();
  unsigned long long m = warp_min[0];
  for (int w = 1; w < kWarps; ++w) m = min64(m, warp_min[w]);
  return m;
}

/// BPE on one long piece by all kPiecesPerBlock threads of the block, in its id slots tok[0..len).
/// Each step: every thread takes the pairs j ≡ threadIdx.x (mod 128), the block's argmin of
/// (rank << 32 | j) is the lowest rank at the leftmost position, and the tokens right of the
/// merged pair move one slot left in rounds of 128 × kShiftPerThread (read all, barrier, write
/// all, barrier). @returns the number of tokens left (the same in every thread).
__device__ std::int64_t encode_long(const DeviceBpeView& table,
                                    const std::uint8_t* __restrict__ bytes, std::int64_t len,
                                    TokenId* __restrict__ tok) {
  const std::int64_t t = threadIdx.x;
  for (std::int64_t j = t; j < len; j += kPiecesPerBlock) tok[j] = table.byte_ids[bytes[j]];
  __syncthreads();
  std::int64_t n = len;
  while (n > 1) {
    unsigned long long mine = kNoPair;
    for (std::int64_t j = t; j + 1 < n; j += kPiecesPerBlock) {
      const TokenId r = lookup(table, tok[j], tok[j + 1]);
      if (r != kNone)
        mine = min64(
            mine, (static_cast<unsigned long long>(r) << 32) | static_cast<unsigned long long>(j));
    }
    const unsigned long long best = block_min(mine);
    if (best == kNoPair) break;
    const std::int64_t p = static_cast<std::int64_t>(best & 0xffffffffull);
    // tok[p+1 .. n−1) = tok[p+2 .. n), each round reading before any thread writes.
    for (std::int64_t base = p + 1; base < n - 1; base += kPiecesPerBlock * kShiftPerThread) {
      TokenId moved[kShiftPerThread];
      for (int k = 0; k < kShiftPerThread; ++k) {
        const std::int64_t j = base + k * kPiecesPerBlock + t;
        moved[k] = j < n - 1 ? tok[j + 1] : kNone;
      }
      __syncthreads();
      for (int k = 0; k < kShiftPerThread; ++k) {
        const std::int64_t j = base + k * kPiecesPerBlock + t;
        if (j < n - 1) tok[j] = moved[k];
      }
      __syncthreads();
    }
    if (t == 0) tok[p] = static_cast<TokenId>(best >> 32);
    --n;
    __syncthreads();
  }
  return n;
}

/// Launched with ⌈n / 128⌉ blocks of 128 threads; block b owns pieces 128·b … 128·b + 127.
__global__ void encode_pieces_v2(DeviceBpeView table, const std::uint8_t* __restrict__ bytes,
                                 const std::int64_t* __restrict__ offsets, std::int64_t n,
                                 TokenId* __restrict__ ids, std::uint32_t* __restrict__ counts) {
  const std::int64_t first = static_cast<std::int64_t>(blockIdx.x) * kPiecesPerBlock;
  const std::int64_t i = first + threadIdx.x;
  bool is_long = false;
  if (i < n) {  // no early return: every thread takes part in the long pieces below
    std::int64_t begin, len;
    piece_extent(offsets, i, begin, len);
    is_long = len > kShort;
    if (!is_long)
      counts[i] = static_cast<std::uint32_t>(
          encode_short(table, bytes + begin, static_cast<int>(len), ids + begin));
  }
  if (!__syncthreads_or(is_long)) return;  // the same answer in every thread of the block
  const std::int64_t last = first + kPiecesPerBlock < n ? first + kPiecesPerBlock : n;
  for (std::int64_t p = first; p < last; ++p) {
    std::int64_t begin, len;
    piece_extent(offsets, p, begin, len);
    if (len <= kShort) continue;
    const std::int64_t count = encode_long(table, bytes + begin, len, ids + begin);
    if (threadIdx.x == 0) counts[p] = static_cast<std::uint32_t>(count);
  }
}

// ---- host: the table ----------------------------------------------------------------------------

/// Throws llmlab::Error(where, what + the CUDA error) unless err is cudaSuccess.
void check_cuda(cudaError_t err, const char* where, const std::string& what) {
  if (err != cudaSuccess) throw Error(where, what + ": " + cudaGetErrorString(err));
}

/// Device memory for n T's (at least one, so the pointer is never null), freed on scope exit
/// unless released.
template <class T>
class DeviceArray {
 public:
  DeviceArray(std::size_t n, const char* where) {
    check_cuda(cudaMalloc(&ptr_, (n > 0 ? n : 1) * sizeof(T)), where,
               "cudaMalloc of " + std::to_string(n * sizeof(T)) + " bytes");
  }
  ~DeviceArray() { cudaFree(ptr_); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  T* get() const { return ptr_; }
  /// Gives up ownership.
  T* release() { return std::exchange(ptr_, nullptr); }
  /// Copies host[0..n) in.
  void upload(const T* host, std::size_t n, const char* where) {
    if (n > 0)
      check_cuda(cudaMemcpy(ptr_, host, n * sizeof(T), cudaMemcpyHostToDevice), where,
                 "cudaMemcpy to the device");
  }
  /// Copies [0..n) out to host.
  void download(T* host, std::size_t n, const char* where) const {
    if (n > 0)
      check_cuda(cudaMemcpy(host, ptr_, n * sizeof(T), cudaMemcpyDeviceToHost), where,
                 "cudaMemcpy from the device");
  }

 private:
  T* ptr_ = nullptr;
};

}  // namespace

BpePairs BpePairs::from_tokens(std::span<const std::string> tokens) {
  constexpr const char* where = "BpePairs::from_tokens";
  if (tokens.size() >= kNone)
    throw Error(where, "tokens has " + std::to_string(tokens.size()) +
                           " entries; ids must stay below 0xffffffff");
  std::unordered_map<std::string_view, TokenId> id_of;
  id_of.reserve(tokens.size());
  for (std::size_t id = 0; id < tokens.size(); ++id) {
    if (tokens[id].empty()) throw Error(where, "token id " + std::to_string(id) + " is empty");
    id_of.emplace(tokens[id], static_cast<TokenId>(id));  // a repeat keeps the first id
  }
  BpePairs pairs;
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const auto it = id_of.find(std::string_view(&c, 1));
    if (it == id_of.end())
      throw Error(where, "byte " + std::to_string(b) +
                             " has no single-byte token: byte-level BPE needs all 256");
    pairs.byte_ids[static_cast<std::size_t>(b)] = it->second;
  }
  for (std::size_t id = 0; id < tokens.size(); ++id) {
    const std::string_view t = tokens[id];
    if (id_of.at(t) != id) continue;  // bytes seen at a lower id: that one is their rank
    for (std::size_t k = 1; k < t.size(); ++k) {
      const auto left = id_of.find(t.substr(0, k));
      if (left == id_of.end()) continue;
      const auto right = id_of.find(t.substr(k));
      if (right == id_of.end()) continue;
      pairs.merges.push_back({left->second, right->second, static_cast<TokenId>(id)});
    }
  }
  return pairs;
}

DeviceBpeTable::DeviceBpeTable(std::span<const std::string> tokens)
    : DeviceBpeTable(BpePairs::from_tokens(tokens)) {}

DeviceBpeTable::DeviceBpeTable(const BpePairs& pairs) {
  constexpr const char* where = "DeviceBpeTable";
  // Capacity: the smallest power of two ≥ 2 × entries (and ≥ 2), so a slot is always empty.
  std::size_t capacity = 2;
  while (capacity < 2 * pairs.merges.size()) capacity *= 2;
  if (capacity > (std::size_t{1} << 32))
    throw Error(where, std::to_string(pairs.merges.size()) + " pairs do not fit a 2^32-slot table");
  const auto mask = static_cast<std::uint32_t>(capacity - 1);

  std::vector<std::uint32_t> slots(4 * capacity, 0);
  for (std::size_t s = 0; s < capacity; ++s) slots[4 * s] = slots[4 * s + 1] = kNone;
  for (const PairMerge& m : pairs.merges) {
    const std::string pair = "(" + std::to_string(m.left) + ", " + std::to_string(m.right) + ")";
    if (m.left == kNone || m.right == kNone || m.merged == kNone)
      throw Error(where, "pair " + pair + " → " + std::to_string(m.merged) +
                             " uses the reserved id 0xffffffff");
    std::uint32_t i = static_cast<std::uint32_t>(pair_hash(m.left, m.right)) & mask;
    while (!(slots[4 * i] == kNone && slots[4 * i + 1] == kNone)) {
      if (slots[4 * i] == m.left && slots[4 * i + 1] == m.right)
        throw Error(where, "pair " + pair + " is given twice (→ " +
                               std::to_string(slots[4 * i + 2]) + " and → " +
                               std::to_string(m.merged) + ")");
      i = (i + 1) & mask;
    }
    slots[4 * i] = m.left;
    slots[4 * i + 1] = m.right;
    slots[4 * i + 2] = m.merged;
  }
  for (const TokenId b : pairs.byte_ids)
    if (b == kNone) throw Error(where, "byte_ids holds the reserved id 0xffffffff");

  DeviceArray<std::uint32_t> dslots(slots.size(), where);
  dslots.upload(slots.data(), slots.size(), where);
  DeviceArray<TokenId> dbytes(256, where);
  dbytes.upload(pairs.byte_ids.data(), 256, where);
  slots_ = dslots.release();
  byte_ids_ = dbytes.release();
  mask_ = mask;
  entries_ = pairs.merges.size();
}

DeviceBpeTable::~DeviceBpeTable() { release(); }

DeviceBpeTable::DeviceBpeTable(DeviceBpeTable&& other) noexcept
    : slots_(std::exchange(other.slots_, nullptr)),
      mask_(std::exchange(other.mask_, 0)),
      byte_ids_(std::exchange(other.byte_ids_, nullptr)),
      entries_(std::exchange(other.entries_, 0)) {}

DeviceBpeTable& DeviceBpeTable::operator=(DeviceBpeTable&& other) noexcept {
  if (this != &other) {
    release();
    slots_ = std::exchange(other.slots_, nullptr);
    mask_ = std::exchange(other.mask_, 0);
    byte_ids_ = std::exchange(other.byte_ids_, nullptr);
    entries_ = std::exchange(other.entries_, 0);
  }
  return *this;
}

void DeviceBpeTable::release() noexcept {
  cudaFree(slots_);
  cudaFree(byte_ids_);
  slots_ = nullptr;
  byte_ids_ = nullptr;
}

// ---- the launcher and the host convenience ------------------------------------------------------

cudaError_t encode_pieces(const DeviceBpeView& table, const std::uint8_t* bytes,
                          const std::int64_t* offsets, std::int64_t n, TokenId* ids,
                          std::uint32_t* counts, int version) {
  constexpr const char* where = "encode_pieces";
  check_count(where, "n", n);
  version = checked_version(where, version, tokenizer_versions);
  if (n / kPiecesPerBlock >= 0x7fffffff)
    throw Error(where, "n = " + std::to_string(n) + " pieces need more than 2^31 − 1 blocks");
  if (table.slots == nullptr || table.byte_ids == nullptr)
    throw Error(where, "table is empty (a moved-from DeviceBpeTable?)");
  if (n == 0) return cudaSuccess;
  // bytes and ids may be null only when every piece is empty; the launcher cannot read offsets[n]
  // (device memory), so it asks for both.
  check_pointers(where, "n", {n},
                 {{offsets, "offsets"}, {counts, "counts"}, {bytes, "bytes"}, {ids, "ids"}});

  const cudaLaunchConfig_t cfg = thread_per_item_config(n, kPiecesPerBlock);
  if (version == 1) return launch(cfg, encode_pieces_v1, table, bytes, offsets, n, ids, counts);
  return launch(cfg, encode_pieces_v2, table, bytes, offsets, n, ids, counts);
}

BatchEncoding encode_batch_on_device(const DeviceBpeTable& table,
                                     std::span<const std::string_view> pieces, int version) {
  constexpr const char* where = "encode_batch_on_device";
  const std::size_t n = pieces.size();
  std::vector<std::int64_t> offsets(n + 1, 0);
  for (std::size_t i = 0; i < n; ++i) {
    if (pieces[i].size() > 0x7fffffffu)
      throw Error(where, "piece " + std::to_string(i) + " has " + std::to_string(pieces[i].size()) +
                             " bytes; at most 2^31 − 1");
    offsets[i + 1] = offsets[i] + static_cast<std::int64_t>(pieces[i].size());
  }
  const auto total = static_cast<std::size_t>(offsets[n]);
  std::vector<std::uint8_t> bytes(total);
  for (std::size_t i = 0; i < n; ++i)
    if (!pieces[i].empty())
      std::memcpy(bytes.data() + offsets[i], pieces[i].data(), pieces[i].size());

  BatchEncoding out;
  out.offsets.assign(n + 1, 0);
  if (n == 0) return out;
  DeviceArray<std::uint8_t> dbytes(total, where);
  DeviceArray<std::int64_t> doffsets(n + 1, where);
  DeviceArray<TokenId> dids(total, where);
  DeviceArray<std::uint32_t> dcounts(n, where);
  dbytes.upload(bytes.data(), total, where);
  doffsets.upload(offsets.data(), n + 1, where);
  check_cuda(encode_pieces(table.view(), dbytes.get(), doffsets.get(), static_cast<std::int64_t>(n),
                           dids.get(), dcounts.get(), version),
             where, "the encode_pieces launch");
  check_cuda(cudaDeviceSynchronize(), where, "the encode_pieces kernel");

  std::vector<TokenId> slots(total);
  std::vector<std::uint32_t> counts(n);
  dids.download(slots.data(), total, where);
  dcounts.download(counts.data(), n, where);
  // Pack: piece i's counts[i] ids sit at slots[offsets[i]...].
  out.ids.reserve(total);
  for (std::size_t i = 0; i < n; ++i) {
    if (counts[i] > pieces[i].size())
      throw Error(where, "the kernel reports " + std::to_string(counts[i]) + " tokens for piece " +
                             std::to_string(i) + " of " + std::to_string(pieces[i].size()) +
                             " bytes");
    const auto* first = slots.data() + offsets[i];
    out.ids.insert(out.ids.end(), first, first + counts[i]);
    out.offsets[i + 1] = static_cast<std::int64_t>(out.ids.size());
  }
  return out;
}

}  // namespace llmlab::cuda
