// The fast BPE trainer: parallel pre-token counting, incremental pair counts, a max-heap with
// lazy deletion. Produces the reference trainer's merges exactly (same counts, same tie rule).
#include <algorithm>
#include <array>
#include <cstring>
#include <atomic>
#include <set>
#include <thread>

#include "hash_tables.hpp"
#include "llmlab/core/error.hpp"
#include "llmlab/fast/tokenizer.hpp"
#include "scanner.hpp"

namespace llmlab::fast {

namespace {

/// Pre-token → count, open addressing over views into the corpus (which outlives it).
class WordCounter {
 public:
  struct Slot {
    const char* s = nullptr;
    std::uint64_t hash = 0;
    std::uint64_t count = 0;
    std::uint32_t len = 0;
  };
  WordCounter() : slots_(1 << 12), mask_((1 << 12) - 1) {}

  void add(const char* s, std::size_t n, std::uint64_t count) { add_hashed(s, n, detail::hash_bytes(s, n), count); }

  void add_hashed(const char* s, std::size_t n, std::uint64_t h, std::uint64_t count) {
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& e = slots_[i];
      if (e.s == nullptr) {
        e = Slot{s, h, count, static_cast<std::uint32_t>(n)};
        if (++size_ * 2 > slots_.size()) grow();
        return;
      }
      if (e.hash == h && e.len == n && std::memcmp(e.s, s, n) == 0) {
        e.count += count;
        return;
      }
    }
  }
  /// Adds every entry of `other` into this one.
  void merge(const WordCounter& other) {
    for (const Slot& e : other.slots_) {
      if (e.s) add_hashed(e.s, e.len, e.hash, e.count);
    }
  }
  const std::vector<Slot>& slots() const { return slots_; }
  std::size_t size() const { return size_; }

 private:
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    mask_ = slots_.size() - 1;
    for (const Slot& e : old) {
      if (!e.s) continue;
      std::size_t i = e.hash & mask_;
      while (slots_[i].s) i = (i + 1) & mask_;
      slots_[i] = e;
    }
  }
  std::vector<Slot> slots_;
  std::size_t mask_;
  std::size_t size_ = 0;
};

/// Pair (left, right) → its count over all words and the list of words that (may) contain it.
/// Entries are never removed (a count may drop to 0); open addressing, grows at half full.
class PairCounts {
 public:
  struct Slot {
    std::uint64_t key = kEmpty;
    std::int64_t count = 0;
    std::uint32_t list = 0;  // index into lists()
  };
  PairCounts() : slots_(1 << 16), mask_((1 << 16) - 1), shift_(64 - 16) {}

  static std::uint64_t key(TokenId l, TokenId r) { return (std::uint64_t{l} << 32) | r; }

  /// The slot of `k`, created (count 0, a fresh empty word list) when absent. The reference is
  /// valid until the next get().
  Slot& get(std::uint64_t k) {
    for (std::size_t i = slot(k);; i = (i + 1) & mask_) {
      Slot& e = slots_[i];
      if (e.key == k) return e;
      if (e.key == kEmpty) {
        if ((size_ + 1) * 2 > slots_.size()) {
          grow();
          return get(k);
        }
        ++size_;
        e.key = k;
        e.list = static_cast<std::uint32_t>(lists_.size());
        lists_.emplace_back();
        return e;
      }
    }
  }
  /// The count of `k` (0 when absent).
  std::int64_t count(std::uint64_t k) const {
    for (std::size_t i = slot(k);; i = (i + 1) & mask_) {
      const Slot& e = slots_[i];
      if (e.key == k) return e.count;
      if (e.key == kEmpty) return 0;
    }
  }
  std::vector<std::vector<std::uint32_t>>& lists() { return lists_; }
  const std::vector<Slot>& slots() const { return slots_; }

 private:
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};
  std::size_t slot(std::uint64_t k) const {
    return static_cast<std::size_t>((k * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    mask_ = slots_.size() - 1;
    --shift_;
    for (const Slot& e : old) {
      if (e.key == kEmpty) continue;
      std::size_t i = slot(e.key);
      while (slots_[i].key != kEmpty) i = (i + 1) & mask_;
      slots_[i] = e;
    }
  }
  std::vector<Slot> slots_;
  std::size_t mask_;
  int shift_;
  std::size_t size_ = 0;
  std::vector<std::vector<std::uint32_t>> lists_;
};

/// A heap entry: a pair and its count when pushed (≥ its current count; see train()).
struct Candidate {
  std::int64_t count;
  TokenId left, right;
};

}  // namespace

Tokenizer Tokenizer::train(std::span<const std::string> texts, std::size_t vocab_size,
                           const std::vector<std::string>& specials, int threads) {
  constexpr const char* where = "fast::Tokenizer::train";
  require(vocab_size >= 256 + specials.size(), where,
          "vocab_size " + std::to_string(vocab_size) + " is below 256 bytes + " +
              std::to_string(specials.size()) + " special tokens");
  {
    std::set<std::string> seen;
    for (const std::string& s : specials) {
      require(!s.empty(), where, "a special token is empty");
      require(seen.insert(s).second, where, "special token '" + s + "' is given twice");
    }
  }

  // 1. The text to count: each text without its special tokens' occurrences (leftmost, longest
  //    first), cut into parts of about 1 MiB where no pre-token spans the cut.
  std::vector<std::string> by_length(specials);
  std::stable_sort(by_length.begin(), by_length.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  std::vector<std::string_view> parts;
  constexpr std::size_t kPart = std::size_t{1} << 20;
  auto add_segment = [&](std::string_view seg) {
    while (seg.size() > kPart) {
      std::size_t p = 0;
      for (std::size_t limit = kPart; p == 0 && limit < seg.size(); limit *= 2) p = last_safe_cut(seg, limit);
      if (p == 0) break;
      parts.push_back(seg.substr(0, p));
      seg.remove_prefix(p);
    }
    if (!seg.empty()) parts.push_back(seg);
  };
  std::array<bool, 256> first{};
  for (const std::string& s : specials) first[static_cast<unsigned char>(s[0])] = true;
  for (const std::string& text : texts) {
    std::string_view rest(text);
    std::size_t from = 0;
    for (std::size_t p = 0; !by_length.empty() && p < rest.size(); ++p) {
      if (!first[static_cast<unsigned char>(rest[p])]) continue;
      for (const std::string& s : by_length) {
        if (rest.substr(p).starts_with(s)) {
          add_segment(rest.substr(from, p - from));
          from = p + s.size();
          p = from - 1;
          break;
        }
      }
    }
    add_segment(rest.substr(from));
  }

  // 2. Count pre-tokens on `threads` threads, then merge the counters.
  const int nthreads = std::max(1, std::min<int>(threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())),
                                                 static_cast<int>(parts.size())));
  std::vector<WordCounter> counters(std::max(nthreads, 1));
  {
    std::atomic<std::size_t> next{0};
    auto work = [&](int me) {
      WordCounter& c = counters[me];
      for (std::size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < parts.size();) {
        detail::for_each_pretoken(parts[i].data(), parts[i].data() + parts[i].size(),
                                  [&](const char* s, std::size_t n) { c.add(s, n, 1); });
      }
    };
    std::vector<std::jthread> pool;
    for (int i = 1; i < nthreads; ++i) pool.emplace_back(work, i);
    work(0);
  }
  for (int i = 1; i < nthreads; ++i) {
    counters[0].merge(counters[i]);
    counters[i] = WordCounter();
  }
  require(counters[0].size() > 0, where,
          "the training corpus is empty (" + std::to_string(texts.size()) +
              " texts with no bytes outside special tokens)");

  // 3. Words: each distinct pre-token as a sequence of token ids (bytes first) with its count.
  std::vector<std::uint32_t> syms;                 // all words' symbols, back to back
  std::vector<std::size_t> word_off;               // word → offset in syms
  std::vector<std::uint32_t> word_len;             // word → current length
  std::vector<std::int64_t> word_count;            // word → occurrences in the corpus
  for (const auto& e : counters[0].slots()) {
    if (!e.s || e.len < 2) continue;               // one byte: no pairs, never changes
    word_off.push_back(syms.size());
    word_len.push_back(e.len);
    word_count.push_back(static_cast<std::int64_t>(e.count));
    for (std::uint32_t k = 0; k < e.len; ++k) syms.push_back(static_cast<unsigned char>(e.s[k]));
  }
  counters.clear();

  // 4. Initial pair counts and the pair → words index.
  PairCounts pairs;
  for (std::uint32_t w = 0; w < word_off.size(); ++w) {
    const std::uint32_t* s = syms.data() + word_off[w];
    for (std::uint32_t k = 0; k + 1 < word_len[w]; ++k) {
      auto& slot = pairs.get(PairCounts::key(s[k], s[k + 1]));
      slot.count += word_count[w];
      auto& list = pairs.lists()[slot.list];
      if (list.empty() || list.back() != w) list.push_back(w);
    }
  }

  // 5. Merge. The heap's order is the tie rule: larger count first, then the lexicographically
  //    greater pair (left token's bytes, then right token's bytes).
  std::vector<std::string> tok(256);
  for (int b = 0; b < 256; ++b) tok[b] = std::string(1, static_cast<char>(b));
  auto less = [&tok](const Candidate& a, const Candidate& b) {
    if (a.count != b.count) return a.count < b.count;
    if (const int c = tok[a.left].compare(tok[b.left]); c != 0) return c < 0;
    return tok[a.right].compare(tok[b.right]) < 0;
  };
  std::vector<Candidate> heap;
  for (const auto& e : pairs.slots()) {
    if (e.count > 0) heap.push_back({e.count, static_cast<TokenId>(e.key >> 32), static_cast<TokenId>(e.key)});
  }
  std::make_heap(heap.begin(), heap.end(), less);

  // Why lazy deletion is exact: after a merge (A, B) → Z only pairs that contain Z gain counts
  // (every other adjacency of the new words existed before), and they are pushed with their full
  // count at once. So every entry's count is ≥ its pair's current count; a popped entry whose
  // count is current is the maximum under the heap's order, and a stale one is pushed back with
  // its current count.
  const std::size_t target = vocab_size - specials.size();
  std::vector<Merge> merges;
  std::vector<std::pair<std::uint64_t, std::int64_t>> delta;   // pair, change of its count
  std::vector<std::pair<std::uint64_t, std::uint32_t>> added;  // (pair with Z, word)
  while (tok.size() < target && !heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), less);
    const Candidate top = heap.back();
    heap.pop_back();
    const std::uint64_t k = PairCounts::key(top.left, top.right);
    const std::int64_t current = pairs.count(k);
    if (current != top.count) {
      if (current > 0) {
        heap.push_back({current, top.left, top.right});
        std::push_heap(heap.begin(), heap.end(), less);
      }
      continue;
    }
    const TokenId A = top.left, B = top.right, Z = static_cast<TokenId>(tok.size());
    tok.push_back(tok[A] + tok[B]);
    merges.push_back({A, B, Z});

    std::vector<std::uint32_t> words = std::move(pairs.lists()[pairs.get(k).list]);
    pairs.lists()[pairs.get(k).list].clear();
    delta.clear();
    added.clear();
    for (std::uint32_t w : words) {
      std::uint32_t* s = syms.data() + word_off[w];
      const std::uint32_t n = word_len[w];
      bool has = false;
      for (std::uint32_t i = 0; i + 1 < n && !has; ++i) has = s[i] == A && s[i + 1] == B;
      if (!has) continue;  // a stale index entry
      const std::int64_t c = word_count[w];
      auto touches = [&](std::uint32_t x) { return x == A || x == B || x == Z; };
      for (std::uint32_t i = 0; i + 1 < n; ++i) {
        if (touches(s[i]) || touches(s[i + 1])) delta.push_back({PairCounts::key(s[i], s[i + 1]), -c});
      }
      // Left to right, non-overlapping: A B A B → Z Z, A A A → Z A.
      std::uint32_t m = 0;
      for (std::uint32_t i = 0; i < n;) {
        if (i + 1 < n && s[i] == A && s[i + 1] == B) {
          s[m++] = Z;
          i += 2;
        } else {
          s[m++] = s[i++];
        }
      }
      word_len[w] = m;
      for (std::uint32_t i = 0; i + 1 < m; ++i) {
        if (touches(s[i]) || touches(s[i + 1])) {
          const std::uint64_t p = PairCounts::key(s[i], s[i + 1]);
          delta.push_back({p, c});
          if (s[i] == Z || s[i + 1] == Z) added.push_back({p, w});
        }
      }
    }
    std::sort(delta.begin(), delta.end());
    for (std::size_t i = 0; i < delta.size();) {
      const std::uint64_t p = delta[i].first;
      std::int64_t d = 0;
      for (; i < delta.size() && delta[i].first == p; ++i) d += delta[i].second;
      if (d == 0) continue;
      auto& slot = pairs.get(p);
      slot.count += d;
      const auto l = static_cast<TokenId>(p >> 32), r = static_cast<TokenId>(p);
      if ((l == Z || r == Z) && slot.count > 0) {
        heap.push_back({slot.count, l, r});
        std::push_heap(heap.begin(), heap.end(), less);
      }
    }
    for (const auto& [p, w] : added) {
      auto& list = pairs.lists()[pairs.get(p).list];
      if (list.empty() || list.back() != w) list.push_back(w);
    }
  }

  std::vector<std::pair<std::string, TokenId>> special_ids;
  for (const std::string& s : specials) special_ids.emplace_back(s, static_cast<TokenId>(tok.size() + special_ids.size()));
  return Tokenizer(std::move(tok), special_ids, std::move(merges));
}

}  // namespace llmlab::fast
