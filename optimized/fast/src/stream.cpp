/// \file
/// \ingroup group_tokenizer
/// \brief Cutting text where no pre-token can span the cut: the streaming encoder and parallel encode.
#include <algorithm>
#include <atomic>
#include <exception>
#include <istream>
#include <mutex>
#include <thread>

#include "llmlab/core/error.hpp"
#include "llmlab/fast/tokenizer.hpp"
#include "scanner.hpp"
#include "tables.hpp"

namespace llmlab::fast {

namespace {

using detail::CharInfo;

/// The class of the character that ends just before p (b < p, p a character boundary). An ASCII
/// byte is itself; otherwise the lead byte at most 3 bytes back must start a valid sequence
/// ending exactly at p, or the byte before p is an invalid byte (a pre-token of its own).
std::uint8_t class_before(const unsigned char* b, const unsigned char* p) {
  const unsigned c = p[-1];
  if (c < 0x80) return detail::kAsciiClass.v[c];
  if (c >= 0xC0) return detail::kInvalid;  // a lead byte with no continuation after it
  const unsigned char* q = p - 1;
  while (q > b && p - q < 4 && (q[0] & 0xC0) == 0x80) --q;
  if ((q[0] & 0xC0) == 0x80) return detail::kInvalid;
  const CharInfo ci = detail::decode_multibyte(q, p);
  return (ci.cls != detail::kInvalid && q + ci.len == p) ? ci.cls : std::uint8_t{detail::kInvalid};
}

/// True when [b, e) can be cut at p (b < p < e) without changing any pre-token (see StreamEncoder).
bool is_safe_cut(const unsigned char* b, const unsigned char* e, const unsigned char* p) {
  if ((p[0] & 0xC0) == 0x80) return false;  // inside a character (or a stray continuation byte)
  const std::uint8_t c2 = detail::char_at(p, e).cls;
  const std::uint8_t c1 = class_before(b, p);
  if (c1 == detail::kInvalid || c2 == detail::kInvalid) return true;
  if (c1 == detail::kSpace || p[-1] == '\'') return false;  // a white-space run, a contraction
  if (c2 == detail::kSpace) return true;
  return c1 != c2;  // a run of letters / numbers / other ends at p
}

int hardware_threads(int threads) {
  if (threads > 0) return threads;
  const unsigned h = std::thread::hardware_concurrency();
  return h ? static_cast<int>(h) : 1;
}

}  // namespace

std::size_t last_safe_cut(std::string_view text, std::size_t limit) {
  if (text.size() < 2) return 0;
  limit = std::min(limit, text.size() - 1);
  const auto* b = reinterpret_cast<const unsigned char*>(text.data());
  const auto* e = b + text.size();
  for (std::size_t p = limit; p >= 1; --p) {
    if (is_safe_cut(b, e, b + p)) return p;
  }
  return 0;
}

// ---- streaming --------------------------------------------------------------------------------

StreamEncoder::StreamEncoder(const Tokenizer& tokenizer, SpecialPolicy policy, std::size_t window)
    : tok_(&tokenizer), policy_(policy), window_(std::max<std::size_t>(window, 64)),
      next_attempt_(window_) {}

void StreamEncoder::push(std::string_view chunk, std::vector<TokenId>& out) {
  require(!finished_, "fast::StreamEncoder::push", "the stream is finished");
  buffer_.append(chunk);
  if (buffered() >= next_attempt_) drain(false, out);
}

void StreamEncoder::finish(std::vector<TokenId>& out) {
  require(!finished_, "fast::StreamEncoder::finish", "the stream is finished");
  drain(true, out);
  finished_ = true;
}

void StreamEncoder::drain(bool final, std::vector<TokenId>& out) {
  const Tokenizer::Tables& t = *tok_->tables_;
  const bool specials = policy_ != SpecialPolicy::plain_text && !t.specials_longest.empty();
  for (;;) {
    const std::string_view view = std::string_view(buffer_).substr(start_);
    // Special tokens: a start position q is decided once q + (longest special) ≤ size.
    std::size_t decided = view.size();
    if (specials && !final) {
      decided = view.size() >= t.max_special ? view.size() - t.max_special + 1 : 0;
    }
    if (specials) {
      const auto m = tok_->find_special(view, 0, decided);
      if (m.pos != std::string_view::npos) {
        if (policy_ == SpecialPolicy::error) {
          throw Error("fast::StreamEncoder",
                      "the text contains the special token '" + std::string(view.substr(m.pos, m.len)) +
                          "'; pass SpecialPolicy::allow to encode it as its id, or "
                          "SpecialPolicy::plain_text to encode it as text");
        }
        tok_->encode_ordinary_into(view.substr(0, m.pos), out);
        out.push_back(m.id);
        start_ += m.pos + m.len;
        continue;
      }
    }
    if (final) {
      tok_->encode_ordinary_into(view, out);
      start_ = buffer_.size();
      break;
    }
    // Ordinary text: cut where the character after the cut is whole (4 bytes of room) and no
    // special can start before it undecided.
    const std::size_t room = view.size() >= 4 ? view.size() - 4 : 0;
    const std::size_t p = last_safe_cut(view, std::min(decided, room));
    if (p > 0) {
      tok_->encode_ordinary_into(view.substr(0, p), out);
      start_ += p;
    }
    break;
  }
  buffer_.erase(0, start_);
  start_ = 0;
  next_attempt_ = std::max(window_, 2 * buffered());
}

void Tokenizer::encode_stream(std::istream& in, const std::function<void(std::span<const TokenId>)>& sink,
                              SpecialPolicy policy, std::size_t chunk_bytes) const {
  chunk_bytes = std::max<std::size_t>(chunk_bytes, 1);
  StreamEncoder enc(*this, policy, std::max<std::size_t>(chunk_bytes, 64));
  std::string chunk(chunk_bytes, '\0');
  std::vector<TokenId> ids;
  while (in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    require(!in.bad(), "fast::Tokenizer::encode_stream", "read error");
    if (got == 0) break;
    enc.push(std::string_view(chunk.data(), got), ids);
    if (!ids.empty()) {
      sink(ids);
      ids.clear();
    }
  }
  enc.finish(ids);
  if (!ids.empty()) sink(ids);
}

// ---- parallel ---------------------------------------------------------------------------------

std::vector<TokenId> Tokenizer::encode_parallel(std::string_view text, int threads,
                                                SpecialPolicy policy) const {
  const int nthreads = hardware_threads(threads);
  if (nthreads <= 1 || text.size() < (std::size_t{1} << 17)) return encode(text, policy);

  // Tasks in order: ordinary text to encode, or a special token's id.
  struct Task {
    std::string_view text;
    TokenId special;
    bool is_special;
  };
  std::vector<Task> tasks;
  const std::size_t target = std::max<std::size_t>(std::size_t{1} << 16, text.size() / (8 * nthreads));
  auto add_ordinary = [&](std::string_view seg) {
    while (seg.size() > target) {
      std::size_t p = 0;
      for (std::size_t limit = target; p == 0 && limit < seg.size(); limit *= 2) p = last_safe_cut(seg, limit);
      if (p == 0) break;
      tasks.push_back({seg.substr(0, p), 0, false});
      seg.remove_prefix(p);
    }
    if (!seg.empty()) tasks.push_back({seg, 0, false});
  };
  if (policy == SpecialPolicy::plain_text || specials_.empty()) {
    add_ordinary(text);
  } else {
    std::size_t pos = 0;
    for (;;) {
      const SpecialMatch m = find_special(text, pos, text.size());
      if (m.pos == std::string_view::npos) break;
      if (policy == SpecialPolicy::error) return encode(text, policy);  // throws, naming the token
      add_ordinary(text.substr(pos, m.pos - pos));
      tasks.push_back({{}, m.id, true});
      pos = m.pos + m.len;
    }
    add_ordinary(text.substr(pos));
  }

  std::vector<std::vector<TokenId>> parts(tasks.size());
  std::atomic<std::size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto work = [&] {
    try {
      for (std::size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < tasks.size();) {
        if (tasks[i].is_special) {
          parts[i].push_back(tasks[i].special);
        } else {
          parts[i].reserve(tasks[i].text.size() / 4 + 16);
          encode_ordinary_into(tasks[i].text, parts[i]);
        }
      }
    } catch (...) {
      std::lock_guard lock(error_mutex);
      if (!error) error = std::current_exception();
      next.store(tasks.size());
    }
  };
  {
    std::vector<std::jthread> pool;
    for (int i = 1; i < nthreads; ++i) pool.emplace_back(work);
    work();
  }
  if (error) std::rethrow_exception(error);
  std::size_t total = 0;
  for (const auto& p : parts) total += p.size();
  std::vector<TokenId> out;
  out.reserve(total);
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace llmlab::fast
