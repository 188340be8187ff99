/// \file
/// \ingroup group_tokenizer
/// \brief The fast tokenizer: vocabulary tables, loading and saving, BPE merging, encode and decode.
#include "llmlab/fast/tokenizer.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "llmlab/core/error.hpp"
#include "scanner.hpp"
#include "tables.hpp"

namespace llmlab::fast {

namespace detail {

namespace {

/// tiktoken's scan for short pieces. ids[i] is part i; rank[i] the id of parts i and i+1 merged
/// (kNone when they are not a token). Each step merges the leftmost lowest-ranked pair and
/// recomputes only the two pairs around it.
void merge_small(const Tokenizer::Tables& t, const char* s, std::size_t n, std::vector<TokenId>& out) {
  TokenId ids[kSmallPiece];
  TokenId rank[kSmallPiece];
  for (std::size_t i = 0; i < n; ++i) ids[i] = t.byte_id[static_cast<unsigned char>(s[i])];
  for (std::size_t i = 0; i + 1 < n; ++i) rank[i] = t.pairs.find(ids[i], ids[i + 1]);
  std::size_t m = n;  // parts
  while (m > 1) {
    TokenId best = kNone;
    std::size_t at = 0;
    for (std::size_t i = 0; i + 1 < m; ++i) {
      if (rank[i] < best) {
        best = rank[i];
        at = i;
      }
    }
    if (best == kNone) break;
    // Parts at, at+1 become one; pairs (at−1, at) and (at, at+2) change.
    ids[at] = best;
    std::memmove(ids + at + 1, ids + at + 2, (m - at - 2) * sizeof(TokenId));
    if (at + 3 <= m) std::memmove(rank + at + 1, rank + at + 2, (m - at - 3) * sizeof(TokenId));
    --m;
    rank[at] = (at + 1 < m) ? t.pairs.find(ids[at], ids[at + 1]) : kNone;
    if (at > 0) rank[at - 1] = t.pairs.find(ids[at - 1], ids[at]);
  }
  out.insert(out.end(), ids, ids + m);
}

/// Long pieces: the same merges in the same order (lowest rank first, leftmost among equals),
/// in O(n log n) worst case and about linear time in practice.
///
/// Parts form a doubly linked list over byte positions; rank[p] is the id of the pair starting
/// at part p (kNone if none, or p merged away) — the truth; everything else may hold stale
/// entries, recognised by rank[p] no longer matching.
///
/// Ranks are processed in increasing order. Each rank r has a bucket: the positions where a
/// pair of rank r was formed. Sweeping bucket r left to right merges its pairs in the order the
/// scan would. A merge at p changes only the pairs at p and at its left neighbour; a new pair
/// with rank > r goes to its bucket (swept later); one with rank ≤ r starts at or left of p, so
/// it is the global minimum (or, at rank r, the leftmost) and is merged at once, through a small
/// heap `low` drained after every merge of the sweep. So when bucket r is finished no pair of
/// rank ≤ r remains, and the next rank is larger: the outer order is monotonic.
///
/// (v1 was one binary heap of (rank, position) over all pairs: 210 ms for a megabyte of `x` —
/// a million-entry heap is cache-bound. Buckets make most pushes and pops plain appends and
/// reads.)
struct LargeScratch {
  std::vector<TokenId> ids, rank;
  std::vector<std::uint32_t> next, prev;
  std::vector<std::uint32_t> bucket_of;            // rank → index into buckets + 1 (0: none)
  std::vector<std::vector<std::uint32_t>> buckets;  // positions; reused across pieces
  std::vector<std::uint32_t> free_buckets;
  std::vector<TokenId> ranks;                       // min-heap of ranks that have a bucket
  std::vector<std::uint64_t> low;                   // min-heap of rank << 32 | position
};

void merge_large(const Tokenizer::Tables& t, const char* s, std::size_t n, std::vector<TokenId>& out) {
  constexpr std::uint32_t kEnd = 0xFFFFFFFFu;
  thread_local LargeScratch x;
  x.ids.resize(n);
  x.rank.assign(n, kNone);
  x.next.resize(n);
  x.prev.resize(n);
  if (x.bucket_of.size() < t.offsets.size()) x.bucket_of.assign(t.offsets.size(), 0);
  x.ranks.clear();
  x.low.clear();
  TokenId* ids = x.ids.data();
  TokenId* rank = x.rank.data();
  std::uint32_t* next = x.next.data();
  std::uint32_t* prev = x.prev.data();
  for (std::size_t i = 0; i < n; ++i) {
    ids[i] = t.byte_id[static_cast<unsigned char>(s[i])];
    next[i] = (i + 1 < n) ? static_cast<std::uint32_t>(i + 1) : kEnd;
    prev[i] = (i > 0) ? static_cast<std::uint32_t>(i - 1) : kEnd;
  }
  auto bucket_add = [&](TokenId r, std::uint32_t pos) {
    std::uint32_t& b = x.bucket_of[r];
    if (b == 0) {
      if (x.free_buckets.empty()) {
        x.buckets.emplace_back();
        x.free_buckets.push_back(static_cast<std::uint32_t>(x.buckets.size() - 1));
      }
      b = x.free_buckets.back() + 1;
      x.free_buckets.pop_back();
      x.ranks.push_back(r);
      std::push_heap(x.ranks.begin(), x.ranks.end(), std::greater<>());
    }
    x.buckets[b - 1].push_back(pos);
  };
  TokenId current = 0;  // the rank being swept
  // Records the pair at pos (rank[pos] already set) where it will be found.
  auto schedule = [&](std::uint32_t pos) {
    const TokenId r = rank[pos];
    if (r == kNone) return;
    if (r <= current) {
      x.low.push_back((std::uint64_t{r} << 32) | pos);
      std::push_heap(x.low.begin(), x.low.end(), std::greater<>());
    } else {
      bucket_add(r, pos);
    }
  };
  // Merges the pair at i (valid) and reschedules the two pairs it changes.
  auto merge_at = [&](std::uint32_t i) {
    const std::uint32_t j = next[i];
    ids[i] = rank[i];
    const std::uint32_t k = next[j];
    next[i] = k;
    if (k != kEnd) prev[k] = i;
    rank[j] = kNone;
    rank[i] = (k != kEnd) ? t.pairs.find(ids[i], ids[k]) : kNone;
    schedule(i);
    if (const std::uint32_t h = prev[i]; h != kEnd) {
      rank[h] = t.pairs.find(ids[h], ids[i]);
      schedule(h);
    }
  };
  for (std::size_t i = 0; i + 1 < n; ++i) {
    rank[i] = t.pairs.find(ids[i], ids[i + 1]);
    if (rank[i] != kNone) bucket_add(rank[i], static_cast<std::uint32_t>(i));
  }
  while (!x.ranks.empty()) {
    std::pop_heap(x.ranks.begin(), x.ranks.end(), std::greater<>());
    current = x.ranks.back();
    x.ranks.pop_back();
    const std::uint32_t b = x.bucket_of[current] - 1;
    x.bucket_of[current] = 0;
    std::vector<std::uint32_t> list = std::move(x.buckets[b]);
    x.buckets[b].clear();
    if (!std::is_sorted(list.begin(), list.end())) std::sort(list.begin(), list.end());
    for (const std::uint32_t p : list) {
      if (rank[p] != current) continue;  // stale
      merge_at(p);
      while (!x.low.empty()) {
        std::pop_heap(x.low.begin(), x.low.end(), std::greater<>());
        const std::uint64_t top = x.low.back();
        x.low.pop_back();
        const auto q = static_cast<std::uint32_t>(top);
        if (rank[q] == static_cast<TokenId>(top >> 32)) merge_at(q);
      }
    }
    list.clear();
    x.buckets[b].swap(list);  // keep the capacity for the next piece
    x.free_buckets.push_back(b);  // only now: the sweep may have opened other buckets
  }
  for (std::uint32_t i = 0; i != kEnd; i = next[i]) out.push_back(ids[i]);
}

}  // namespace

void merge_piece(const Tokenizer::Tables& t, const char* s, std::size_t n, std::vector<TokenId>& out) {
  if (n <= kSmallPiece) {
    merge_small(t, s, n, out);
  } else {
    merge_large(t, s, n, out);
  }
}

}  // namespace detail

namespace {

constexpr const char* kB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t(std::uint8_t(in[i])) << 16) |
                            (std::uint32_t(std::uint8_t(in[i + 1])) << 8) | std::uint8_t(in[i + 2]);
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (const std::size_t rest = in.size() - i) {
    std::uint32_t v = std::uint32_t(std::uint8_t(in[i])) << 16;
    if (rest == 2) v |= std::uint32_t(std::uint8_t(in[i + 1])) << 8;
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += rest == 2 ? kB64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

/// Standard base64 with padding; false on any other character, bad length or bad padding.
bool base64_decode(std::string_view in, std::string& out) {
  static const auto table = [] {
    std::array<int, 256> t;
    t.fill(-1);
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kB64[i])] = i;
    return t;
  }();
  out.clear();
  if (in.empty() || in.size() % 4 != 0) return false;
  for (std::size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = in[i + k];
      if (c == '=' && i + 4 == in.size() && k >= 2) {
        v[k] = 0;
        ++pad;
      } else if (pad || (v[k] = table[static_cast<unsigned char>(c)]) < 0) {
        return false;
      }
    }
    const std::uint32_t w = (std::uint32_t(v[0]) << 18) | (std::uint32_t(v[1]) << 12) |
                            (std::uint32_t(v[2]) << 6) | std::uint32_t(v[3]);
    out += static_cast<char>(w >> 16);
    if (pad < 2) out += static_cast<char>((w >> 8) & 0xFF);
    if (pad < 1) out += static_cast<char>(w & 0xFF);
  }
  return true;
}

int hardware_threads(int threads) {
  if (threads > 0) return threads;
  const unsigned h = std::thread::hardware_concurrency();
  return h ? static_cast<int>(h) : 1;
}

}  // namespace

// ---- construction -----------------------------------------------------------------------------

Tokenizer::Tokenizer() : Tokenizer([] {
  std::vector<std::string> bytes(256);
  for (int b = 0; b < 256; ++b) bytes[b] = std::string(1, static_cast<char>(b));
  return bytes;
}()) {}

Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

Tokenizer::Tokenizer(std::vector<std::string> token_bytes,
                     const std::vector<std::pair<std::string, TokenId>>& specials,
                     std::vector<Merge> merges)
    : token_bytes_(std::move(token_bytes)), merges_(std::move(merges)),
      tables_(std::make_unique<Tables>()) {
  constexpr const char* where = "fast::Tokenizer";
  Tables& t = *tables_;
  static std::atomic<std::uint64_t> serials{0};
  t.serial = ++serials;
  const std::size_t n = token_bytes_.size();
  require(n < 0x7FFFFFFFu, where, "too many tokens");

  // The arena: every token's bytes back to back, addressed by id.
  t.offsets.resize(n + 1);
  std::size_t total = 0;
  for (std::size_t id = 0; id < n; ++id) {
    require(!token_bytes_[id].empty(), where, "token " + std::to_string(id) + " is empty");
    t.offsets[id] = static_cast<std::uint32_t>(total);
    total += token_bytes_[id].size();
    require(total < 0xFFFFFFFFu, where, "the tokens' bytes exceed 4 GiB");
  }
  t.offsets[n] = static_cast<std::uint32_t>(total);
  t.arena.reserve(total);
  for (const std::string& b : token_bytes_) t.arena += b;

  // bytes → id; the lowest id wins where two tokens have the same bytes.
  t.tokens.reset(n, t.arena.data(), t.offsets.data());
  std::vector<bool> canonical(n, false);
  for (std::size_t id = 0; id < n; ++id) canonical[id] = t.tokens.insert(static_cast<std::uint32_t>(id), false);

  // Single bytes.
  std::array<bool, 256> have{};
  for (std::size_t id = 0; id < n; ++id) {
    if (token_bytes_[id].size() == 1 && canonical[id]) {
      const auto b = static_cast<unsigned char>(token_bytes_[id][0]);
      t.byte_id[b] = static_cast<TokenId>(id);
      have[b] = true;
    }
  }
  for (int b = 0; b < 256; ++b) {
    require(have[b], where, "the vocabulary has no token for the byte " + std::to_string(b) +
                                " (every byte must be a token)");
  }

  // (left, right) → merged: every way of splitting a token into two tokens. A pair's rank is the
  // rank of its concatenation, so this is the same lookup as rank(bytes(left) + bytes(right)).
  std::size_t splits = 0;
  for (const std::string& b : token_bytes_) splits += b.size() - 1;
  t.pairs.reserve(splits);
  for (std::size_t id = 0; id < n; ++id) {
    if (!canonical[id]) continue;
    const char* s = t.arena.data() + t.offsets[id];
    const std::size_t len = token_bytes_[id].size();
    for (std::size_t k = 1; k < len; ++k) {
      const auto* l = t.tokens.find(s, k);
      const auto* r = t.tokens.find(s + k, len - k);
      if (l && r) t.pairs.insert(l->id, r->id, static_cast<TokenId>(id));
    }
  }

  // Tokens whose own bytes BPE to themselves: a pre-token equal to one is one lookup.
  std::vector<TokenId> ids;
  for (std::size_t id = 0; id < n; ++id) {
    const std::size_t len = token_bytes_[id].size();
    if (!canonical[id] || len < 2) continue;
    ids.clear();
    detail::merge_piece(t, t.arena.data() + t.offsets[id], len, ids);
    if (ids.size() == 1 && ids[0] == id) t.tokens.set_flag(static_cast<std::uint32_t>(id));
  }

  // Specials.
  for (const auto& [text, id] : specials) {
    require(!text.empty(), where, "a special token is empty");
    require(id >= n, where, "special token '" + text + "' has id " + std::to_string(id) +
                                ", which is a mergeable token's (ids 0.." + std::to_string(n - 1) + ")");
    require(specials_.emplace(text, id).second, where, "special token '" + text + "' is given twice");
    require(t.special_text.emplace(id, text).second, where,
            "special token '" + text + "' has id " + std::to_string(id) + ", as another special does");
    t.specials_longest.emplace_back(text, id);
    t.special_first[static_cast<unsigned char>(text[0])] = true;
    t.max_special = std::max(t.max_special, text.size());
  }
  std::stable_sort(t.specials_longest.begin(), t.specials_longest.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

Tokenizer Tokenizer::from_tiktoken(const std::filesystem::path& path,
                                   const std::vector<std::pair<std::string, TokenId>>& specials) {
  const std::string where = "fast::Tokenizer::from_tiktoken(" + path.string() + ")";
  std::ifstream in(path, std::ios::binary);
  require(static_cast<bool>(in), where, "cannot open the file");
  std::vector<std::string> bytes;
  std::vector<bool> seen;
  std::string line, token;
  std::size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const std::string at = where + ":" + std::to_string(lineno);
    const std::size_t space = line.find(' ');
    require(space != std::string::npos && space > 0, at, "expected 'base64 rank', got '" + line + "'");
    require(base64_decode(std::string_view(line).substr(0, space), token), at,
            "bad base64 '" + line.substr(0, space) + "'");
    const std::string rank_text = line.substr(space + 1);
    std::size_t rank = 0;
    bool ok = !rank_text.empty() && rank_text.size() <= 9;
    for (char c : rank_text) ok = ok && c >= '0' && c <= '9';
    if (ok) rank = std::stoul(rank_text);
    require(ok, at, "bad rank '" + rank_text + "'");
    if (rank >= bytes.size()) {
      bytes.resize(rank + 1);
      seen.resize(rank + 1, false);
    }
    require(!token.empty(), at, "the token is empty");
    require(!seen[rank], at, "rank " + std::to_string(rank) + " is given twice");
    seen[rank] = true;
    bytes[rank] = token;
  }
  require(!in.bad(), where, "read error");
  require(!bytes.empty(), where, "no tokens in the file");
  for (std::size_t r = 0; r < bytes.size(); ++r) {
    require(seen[r], where, "rank " + std::to_string(r) + " is missing (the ranks have a gap)");
  }
  Tokenizer tok(std::move(bytes), specials);
  for (std::size_t r = 0; r < tok.token_bytes_.size(); ++r) {
    require(*tok.rank(tok.token_bytes_[r]) == r, where,
            "rank " + std::to_string(r) + " has the same bytes as rank " +
                std::to_string(*tok.rank(tok.token_bytes_[r])) + " (a token given twice)");
  }
  return tok;
}

Tokenizer Tokenizer::gpt2(const std::filesystem::path& tiktoken_file) {
  return from_tiktoken(tiktoken_file, {{"<|endoftext|>", 50256}});
}

void Tokenizer::save_tiktoken(const std::filesystem::path& path) const {
  const std::string where = "fast::Tokenizer::save_tiktoken(" + path.string() + ")";
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    require(static_cast<bool>(out), where, "cannot open " + tmp.string() + " for writing");
    for (std::size_t id = 0; id < token_bytes_.size(); ++id) {
      out << base64_encode(token_bytes_[id]) << ' ' << id << '\n';
    }
    out.flush();
    if (!out) {
      out.close();
      std::filesystem::remove(tmp);
      throw Error(where, "write failed");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp);
    throw Error(where, "cannot rename into place: " + ec.message());
  }
}

// ---- lookups ----------------------------------------------------------------------------------

std::size_t Tokenizer::vocab_size() const {
  std::size_t n = token_bytes_.size();
  for (const auto& [text, id] : specials_) n = std::max<std::size_t>(n, std::size_t{id} + 1);
  return n;
}

const std::string& Tokenizer::token_bytes(TokenId id) const {
  require(id < token_bytes_.size(), "fast::Tokenizer::token_bytes",
          "id " + std::to_string(id) + " is not a mergeable token (0.." +
              std::to_string(token_bytes_.size() - 1) + ")");
  return token_bytes_[id];
}

std::optional<TokenId> Tokenizer::rank(std::string_view bytes) const {
  if (bytes.empty()) return std::nullopt;
  if (const auto* e = tables_->tokens.find(bytes.data(), bytes.size())) return e->id;
  return std::nullopt;
}

Tokenizer::SpecialMatch Tokenizer::find_special(std::string_view text, std::size_t from,
                                                std::size_t limit) const {
  const Tables& t = *tables_;
  limit = std::min(limit, text.size());
  for (std::size_t p = from; p < limit; ++p) {
    if (!t.special_first[static_cast<unsigned char>(text[p])]) continue;
    const std::string_view rest = text.substr(p);
    for (const auto& [s, id] : t.specials_longest) {
      if (rest.starts_with(s)) return {p, s.size(), id};
    }
  }
  return {std::string_view::npos, 0, 0};
}

// ---- encode -----------------------------------------------------------------------------------

void Tokenizer::encode_ordinary_into(std::string_view text, std::vector<TokenId>& out) const {
  const Tables& t = *tables_;
  detail::PieceCache& cache = detail::piece_cache(t);
  detail::for_each_pretoken(text.data(), text.data() + text.size(), [&](const char* s, std::size_t n) {
    detail::encode_piece_into(t, cache, s, n, out);
  });
}

void Tokenizer::encode_into(std::string_view text, SpecialPolicy policy, std::vector<TokenId>& out) const {
  if (policy == SpecialPolicy::plain_text || specials_.empty()) {
    encode_ordinary_into(text, out);
    return;
  }
  std::size_t pos = 0;
  for (;;) {
    const SpecialMatch m = find_special(text, pos, text.size());
    if (m.pos == std::string_view::npos) break;
    if (policy == SpecialPolicy::error) {
      throw Error("fast::Tokenizer::encode",
                  "the text contains the special token '" + std::string(text.substr(m.pos, m.len)) +
                      "' at byte " + std::to_string(m.pos) +
                      "; pass SpecialPolicy::allow to encode it as its id, or "
                      "SpecialPolicy::plain_text to encode it as text");
    }
    encode_ordinary_into(text.substr(pos, m.pos - pos), out);
    out.push_back(m.id);
    pos = m.pos + m.len;
  }
  encode_ordinary_into(text.substr(pos), out);
}

std::vector<TokenId> Tokenizer::encode(std::string_view text, SpecialPolicy policy) const {
  std::vector<TokenId> out;
  out.reserve(text.size() / 4 + 16);
  encode_into(text, policy, out);
  return out;
}

std::vector<TokenId> Tokenizer::encode_ordinary(std::string_view text) const {
  return encode(text, SpecialPolicy::plain_text);
}

std::vector<TokenId> Tokenizer::encode_piece(std::string_view piece) const {
  std::vector<TokenId> out;
  if (piece.size() == 1) {
    out.push_back(tables_->byte_id[static_cast<unsigned char>(piece[0])]);
  } else if (piece.size() > 1) {
    detail::merge_piece(*tables_, piece.data(), piece.size(), out);
  }
  return out;
}

std::vector<std::vector<TokenId>> Tokenizer::encode_batch(std::span<const std::string_view> texts,
                                                          int threads, SpecialPolicy policy) const {
  std::vector<std::vector<TokenId>> result(texts.size());
  const int nthreads = std::min<int>(hardware_threads(threads), static_cast<int>(std::max<std::size_t>(texts.size(), 1)));
  std::atomic<std::size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto work = [&] {
    try {
      for (;;) {
        const std::size_t i = next.fetch_add(1, std::memory_order_relaxed);
        if (i >= texts.size()) break;
        result[i] = encode(texts[i], policy);
      }
    } catch (...) {
      std::lock_guard lock(error_mutex);
      if (!error) error = std::current_exception();
      next.store(texts.size());
    }
  };
  if (nthreads <= 1) {
    work();
  } else {
    std::vector<std::jthread> pool;
    for (int i = 0; i < nthreads; ++i) pool.emplace_back(work);
  }
  if (error) std::rethrow_exception(error);
  return result;
}

// ---- decode -----------------------------------------------------------------------------------

std::string Tokenizer::decode(std::span<const TokenId> ids) const {
  const Tables& t = *tables_;
  const std::size_t n = token_bytes_.size();
  std::size_t size = 0;
  for (TokenId id : ids) {
    if (id < n) {
      size += t.offsets[id + 1] - t.offsets[id];
    } else {
      const auto it = t.special_text.find(id);
      require(it != t.special_text.end(), "fast::Tokenizer::decode",
              "id " + std::to_string(id) + " is not in the vocabulary (" + std::to_string(n) +
                  " mergeable tokens, " + std::to_string(specials_.size()) + " specials)");
      size += it->second.size();
    }
  }
  std::string out;
  out.resize(size);
  char* o = out.data();
  for (TokenId id : ids) {
    if (id < n) {
      const std::size_t len = t.offsets[id + 1] - t.offsets[id];
      std::memcpy(o, t.arena.data() + t.offsets[id], len);
      o += len;
    } else {
      const std::string& s = t.special_text.find(id)->second;
      std::memcpy(o, s.data(), s.size());
      o += s.size();
    }
  }
  return out;
}

// ---- pre-tokenizer ----------------------------------------------------------------------------

std::vector<std::string_view> pretokenize(std::string_view text) {
  std::vector<std::string_view> pieces;
  detail::for_each_pretoken(text.data(), text.data() + text.size(),
                            [&](const char* s, std::size_t n) { pieces.emplace_back(s, n); });
  return pieces;
}

}  // namespace llmlab::fast
