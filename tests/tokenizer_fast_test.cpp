// The fast tokenizer (llmlab::fast) against the reference (llmlab::ref) and GPT-2's real ids:
//   - GPT-2's ids for every case of issue 3 (tokenizer_cases.hpp, from tiktoken), and the same ids
//     as the reference on random Unicode with invalid bytes, on megabytes of real text, on every
//     code point in context (the generated class tables against PCRE2 at run time), on worst
//     cases (one character repeated);
//   - streaming, batch and parallel encoding equal one-shot encoding;
//   - the fast trainer's merges equal the reference trainer's, on real text and on small
//     contrived corpora full of ties; the tie rule by hand;
//   - bad input: llmlab::Error naming the problem;
//   - and that these comparisons can fail: a vocabulary with two ranks swapped is caught.
//
// The reference is the oracle and is slow where the fast path is not (its merge loop is
// quadratic in a pre-token's length, its trainer recounts every pair per merge), so the inputs it
// checks are sized to keep this test under ~30 s; the fast path alone runs the full worst cases.

#include "llmlab/fast/tokenizer.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "llmlab/core/error.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/ref/tokenizer.hpp"
#include "tokenizer_cases.hpp"

namespace {

using Ids = std::vector<std::uint32_t>;
namespace fs = std::filesystem;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;  // everything runs several times slower: smaller inputs
#else
constexpr bool kSanitized = false;
#endif

// ---- helpers ----------------------------------------------------------------------------------

/// GPT-2 loaded once into both tokenizers. Fails (does not skip) without the vocabulary file.
struct Gpt2 {
  llmlab::ref::Tokenizer ref;
  llmlab::fast::Tokenizer fast;
};
const Gpt2& gpt2() {
  static const Gpt2* g = [] {
    if (!fs::exists(LLMLAB_GPT2_VOCAB)) {
      throw std::runtime_error(std::string("GPT-2's vocabulary is missing: ") + LLMLAB_GPT2_VOCAB +
                               " (run scripts/setup.sh)");
    }
    return new Gpt2{llmlab::ref::Tokenizer::gpt2(LLMLAB_GPT2_VOCAB),
                    llmlab::fast::Tokenizer::gpt2(LLMLAB_GPT2_VOCAB)};
  }();
  return *g;
}

/// Real text installed on every Debian machine, in a fixed order: the common licenses, packages'
/// copyright files (English prose), then C++ headers and Python sources (code). Up to max_bytes,
/// taking at most a third from each kind so the mix holds at every size.
std::string real_text(std::size_t max_bytes) {
  auto sorted = [](const fs::path& dir, auto&& keep) {
    std::vector<fs::path> files;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file(ec) && keep(it->path())) files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
    return files;
  };
  const std::vector<std::vector<fs::path>> kinds = {
      [&] {
        auto v = sorted("/usr/share/common-licenses", [](const fs::path&) { return true; });
        auto c = sorted("/usr/share/doc", [](const fs::path& p) { return p.filename() == "copyright"; });
        v.insert(v.end(), c.begin(), c.end());
        return v;
      }(),
      sorted("/usr/include/c++", [](const fs::path& p) { return p.extension() == ".h" || p.extension() == ""; }),
      sorted("/usr/lib/python3.11", [](const fs::path& p) { return p.extension() == ".py"; }),
  };
  std::string text;
  for (const auto& files : kinds) {
    const std::size_t stop = text.size() + max_bytes / kinds.size();
    for (const fs::path& f : files) {
      if (text.size() >= stop) break;
      std::ifstream in(f, std::ios::binary);
      std::stringstream s;
      s << in.rdbuf();
      text += s.str().substr(0, stop - text.size());
    }
  }
  return text;
}

/// Random text made to stress the pre-tokenizer: every class, the contractions (and near
/// misses), ASCII and Unicode white space, combining marks, numbers beyond ASCII, emoji, random
/// code points of the whole range, and invalid UTF-8 (stray continuation bytes, truncated
/// sequences, overlong forms, surrogates, bytes above F4).
std::string random_text(llmlab::Rng& rng, std::size_t max_len) {
  static const std::vector<std::string> atoms = {
      "a", "Z", "x", "hello", "The", " ", " ", "  ", "\t", "\n", "\r\n", "\n\n", "\x0b", "\x0c",
      "0", "42", "3.14", ",", "!", "?", "^", "'", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d",
      "'S", "'r", "'l", "''", "`", "-", std::string(1, '\0'),
      "\xC2\xA0", "\xC2\x85", "\xE3\x80\x80", "\xE2\x80\x83", "\xE1\xA0\x8E", "\xE2\x80\x8B",
      "\xE2\x80\xA8", "\xE1\x9A\x80",                      // white space and near misses
      "caf\xC3\xA9", "e\xCC\x81", "\xC2\xBD", "\xC2\xB2", "\xD9\xA3", "\xE2\x85\xAB",
      "\xE4\xBD\xA0\xE5\xA5\xBD", "\xD0\x9F\xD1\x80\xD0\xB8", "\xF0\x9F\x91\x8D", "\xEF\xBB\xBF",
      "\xE2\x80\x99", "<|endoftext|>",                     // letters, marks, numbers, symbols
      "\x80", "\xBF", "\xFF", "\xC3", "\xE2\x82", "\xF0\x9F\x91", "\xED\xA0\x80", "\xC0\xAF",
      "\xC1\x81", "\xE0\x80\x80", "\xF5\x80\x80\x80", "\xF4\x90\x80\x80", "\xF8",  // invalid
  };
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng.uniform() * static_cast<double>(n)) % n; };
  const std::size_t len = pick(max_len + 1);
  std::string s;
  while (s.size() < len) {
    const double u = rng.uniform();
    if (u < 0.75) {
      s += atoms[pick(atoms.size())];
    } else if (u < 0.9) {  // a random valid code point
      std::uint32_t cp = static_cast<std::uint32_t>(pick(0x110000));
      if (cp >= 0xD800 && cp <= 0xDFFF) cp = 'q';
      if (cp < 0x80) {
        s += static_cast<char>(cp);
      } else if (cp < 0x800) {
        s += static_cast<char>(0xC0 | (cp >> 6));
        s += static_cast<char>(0x80 | (cp & 0x3F));
      } else if (cp < 0x10000) {
        s += static_cast<char>(0xE0 | (cp >> 12));
        s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        s += static_cast<char>(0x80 | (cp & 0x3F));
      } else {
        s += static_cast<char>(0xF0 | (cp >> 18));
        s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        s += static_cast<char>(0x80 | (cp & 0x3F));
      }
    } else {  // a random byte
      s += static_cast<char>(pick(256));
    }
  }
  return s;
}

/// "pre-token|pre-token|…" with bytes escaped, for readable failure messages.
std::string show(const std::vector<std::string_view>& pieces) {
  std::string out;
  for (std::string_view p : pieces) {
    if (!out.empty()) out += '|';
    for (unsigned char c : p) {
      if (c >= 0x20 && c < 0x7F) {
        out += static_cast<char>(c);
      } else {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", c);
        out += buf;
      }
    }
  }
  return out;
}

/// The index of the first difference of two id lists (or the shorter length), for messages.
std::size_t first_difference(const Ids& a, const Ids& b) {
  std::size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  return i;
}

#define EXPECT_SAME_IDS(fast_ids, ref_ids, what)                                                  \
  do {                                                                                            \
    const Ids& f_ = (fast_ids);                                                                   \
    const Ids& r_ = (ref_ids);                                                                    \
    EXPECT_TRUE(f_ == r_) << what << ": fast gives " << f_.size() << " ids, reference "           \
                          << r_.size() << "; first difference at index " << first_difference(f_, r_); \
  } while (0)

/// Runs `f`, expects an llmlab::Error whose message contains `part`.
void expect_error(const std::function<void()>& f, const std::string& part) {
  try {
    f();
    ADD_FAILURE() << "expected llmlab::Error mentioning \"" << part << "\", nothing thrown";
  } catch (const llmlab::Error& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
        << "message \"" << e.what() << "\" does not mention \"" << part << "\"";
  }
}

/// A temporary file path removed at scope end.
struct TempFile {
  fs::path path;
  explicit TempFile(const std::string& name)
      : path(fs::temp_directory_path() / ("llmlab_fast_" + name + "_" + std::to_string(::getpid()))) {}
  ~TempFile() {
    std::error_code ec;
    fs::remove(path, ec);
  }
  const fs::path& write(const std::string& text) const {
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
};

/// The reference's vocabulary as a fast tokenizer (same bytes, same ids, same specials).
llmlab::fast::Tokenizer fast_from_ref(const llmlab::ref::Tokenizer& ref) {
  std::vector<std::string> bytes;
  for (std::size_t id = 0; id < ref.mergeable_count(); ++id) bytes.push_back(ref.token_bytes(static_cast<std::uint32_t>(id)));
  std::vector<std::pair<std::string, std::uint32_t>> specials(ref.special_tokens().begin(), ref.special_tokens().end());
  return llmlab::fast::Tokenizer(std::move(bytes), specials);
}

// ---- GPT-2's ids --------------------------------------------------------------------------------

TEST(FastTokenizerGpt2, EveryIssueCaseGivesGpt2Ids) {
  const auto& g = gpt2();
  for (const auto& c : llmlab::testing::gpt2_cases()) {
    EXPECT_EQ(g.fast.encode(c.text, llmlab::fast::SpecialPolicy::plain_text), c.ids) << c.name;
    EXPECT_EQ(g.fast.encode_ordinary(c.text), c.ids) << c.name;
    EXPECT_EQ(g.fast.decode(c.ids), c.text) << c.name;
  }
}

TEST(FastTokenizerGpt2, AllowedSpecialGivesItsIdAndTheDefaultPolicyThrowsNamingIt) {
  const auto& g = gpt2();
  ASSERT_FALSE(llmlab::testing::gpt2_allowed_special_cases().empty());
  for (const auto& c : llmlab::testing::gpt2_allowed_special_cases()) {
    EXPECT_EQ(g.fast.encode(c.text, llmlab::fast::SpecialPolicy::allow), c.ids) << c.name;
    expect_error([&] { g.fast.encode(c.text); }, "<|endoftext|>");
  }
  EXPECT_EQ(g.fast.vocab_size(), g.ref.vocab_size());
  EXPECT_EQ(g.fast.mergeable_count(), 50256u);
}

TEST(FastTokenizerGpt2, PretokenizerEqualsReferenceOnEveryIssueCase) {
  for (const auto& c : llmlab::testing::gpt2_cases()) {
    EXPECT_EQ(show(llmlab::fast::pretokenize(c.text)), show(llmlab::ref::pretokenize(c.text))) << c.name;
  }
}

// ---- the pre-tokenizer's classes and rules against PCRE2 -------------------------------------------

TEST(FastPretokenizer, EqualsReferenceOnEveryCodePointInContext) {
  // Each code point C in "aC1C,C C\nC'sC": a letter, a number, other, a space, a newline and a
  // contraction next to it, so a class that differs from PCRE2's changes the split.
  const std::uint32_t step = kSanitized ? 5 : 1;
  std::string text;
  std::size_t checked = 0;
  auto flush = [&] {
    const auto f = llmlab::fast::pretokenize(text);
    const auto r = llmlab::ref::pretokenize(text);
    if (f != r) {
      std::size_t i = 0;
      while (i < f.size() && i < r.size() && f[i] == r[i]) ++i;
      ADD_FAILURE() << "pre-tokens differ from pre-token " << i << ": fast "
                    << show({f.begin() + static_cast<std::ptrdiff_t>(i), f.begin() + static_cast<std::ptrdiff_t>(std::min(f.size(), i + 4))})
                    << " reference "
                    << show({r.begin() + static_cast<std::ptrdiff_t>(i), r.begin() + static_cast<std::ptrdiff_t>(std::min(r.size(), i + 4))});
    }
    text.clear();
  };
  for (std::uint32_t cp = 0; cp < 0x110000; cp += step) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    std::string c;
    if (cp < 0x80) {
      c += static_cast<char>(cp);
    } else if (cp < 0x800) {
      c += static_cast<char>(0xC0 | (cp >> 6));
      c += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      c += static_cast<char>(0xE0 | (cp >> 12));
      c += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      c += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      c += static_cast<char>(0xF0 | (cp >> 18));
      c += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      c += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      c += static_cast<char>(0x80 | (cp & 0x3F));
    }
    text += "a" + c + "1" + c + "," + c + " " + c + "\n" + c + "'s" + c + c + " ";
    ++checked;
    if (text.size() > (1 << 20)) flush();
  }
  flush();
  EXPECT_GT(checked, 1000u);
}

TEST(FastPretokenizer, EqualsReferenceOnRandomUnicodeAndInvalidBytes) {
  llmlab::Rng rng(20261123);
  const int n = kSanitized ? 3000 : 20000;
  for (int i = 0; i < n; ++i) {
    const std::string text = random_text(rng, 64);
    const auto f = llmlab::fast::pretokenize(text);
    const auto r = llmlab::ref::pretokenize(text);
    ASSERT_EQ(show(f), show(r)) << "random text " << i;
  }
}

// ---- encoding against the reference ------------------------------------------------------------

TEST(FastTokenizerGpt2, EqualsReferenceAndRoundTripsOnRandomUnicodeAndInvalidBytes) {
  const auto& g = gpt2();
  llmlab::Rng rng(7);
  const int n = kSanitized ? 1000 : 5000;
  for (int i = 0; i < n; ++i) {
    const std::string text = random_text(rng, 200);
    const Ids f = g.fast.encode(text, llmlab::fast::SpecialPolicy::plain_text);
    EXPECT_SAME_IDS(f, g.ref.encode_ordinary(text), "random text " << i);
    EXPECT_EQ(g.fast.decode(f), text) << "random text " << i;
    EXPECT_SAME_IDS(g.fast.encode(text, llmlab::fast::SpecialPolicy::allow),
                    g.ref.encode(text, llmlab::ref::SpecialPolicy::allow), "random text " << i << " (allow)");
  }
}

TEST(FastTokenizerGpt2, EqualsReferenceOnMegabytesOfRealText) {
  const auto& g = gpt2();
  const std::string text = real_text(kSanitized ? (1 << 19) : (3 << 20));
  ASSERT_GT(text.size(), 100000u) << "too little real text found on this machine";
  const Ids f = g.fast.encode_ordinary(text);
  EXPECT_SAME_IDS(f, g.ref.encode_ordinary(text), "real text (" << text.size() << " bytes)");
  EXPECT_EQ(g.fast.decode(f), text);
}

TEST(FastTokenizerGpt2, TheComparisonCatchesAVocabularyWithTwoRanksSwapped) {
  // A deliberately wrong fast tokenizer: " the" and " and" trade ranks. The reference
  // comparison used above must see the difference.
  const auto& g = gpt2();
  std::vector<std::string> bytes;
  for (std::uint32_t id = 0; id < g.ref.mergeable_count(); ++id) bytes.push_back(g.ref.token_bytes(id));
  const auto the = *g.ref.rank(" the"), and_ = *g.ref.rank(" and");
  std::swap(bytes[the], bytes[and_]);
  const llmlab::fast::Tokenizer wrong(std::move(bytes));
  const std::string text = real_text(1 << 16);
  EXPECT_NE(wrong.encode_ordinary(text), g.ref.encode_ordinary(text));
}

TEST(FastTokenizerGpt2, LongPiecesTakeTheBucketPathAndEqualReference) {
  // Pre-tokens longer than the scan's limit (96 bytes): long words, digit runs, punctuation runs,
  // white space, and a random mixture of letters that merge in many orders.
  const auto& g = gpt2();
  llmlab::Rng rng(99);
  std::vector<std::string> texts = {std::string(300, 'a'), std::string(257, '9'), std::string(200, '-'),
                                    std::string(150, ' ') + "x", std::string(130, '\n') + "y",
                                    "=" + std::string(120, '='), std::string(97, 'z')};
  for (int i = 0; i < (kSanitized ? 20 : 100); ++i) {
    std::string w;
    const std::size_t len = 97 + static_cast<std::size_t>(rng.uniform() * 300);
    while (w.size() < len) w += "etaoinshrdlu"[static_cast<int>(rng.uniform() * 12) % 12];
    texts.push_back(w);
  }
  for (const std::string& t : texts) {
    EXPECT_SAME_IDS(g.fast.encode_ordinary(t), g.ref.encode_ordinary(t), "long piece of " << t.size() << " bytes");
    EXPECT_SAME_IDS(g.fast.encode_piece(t), g.ref.encode_piece(t), "encode_piece of " << t.size() << " bytes");
  }
}

TEST(FastTokenizerGpt2, WorstCasesFinishFastAndEqualReferenceOnShorterRuns) {
  // One character repeated: a single pre-token as long as the input. The reference's merge loop
  // is quadratic in it, so it checks shorter runs; the fast path runs a full megabyte.
  const auto& g = gpt2();
  const std::size_t ref_len = kSanitized ? 2000 : 6000;
  for (char c : {'x', '^', ' ', '\n'}) {
    const std::string small(ref_len, c);
    EXPECT_SAME_IDS(g.fast.encode_ordinary(small), g.ref.encode_ordinary(small),
                    "run of " << ref_len << " × byte " << int(c));
    const std::string big(1 << 20, c);
    const auto t0 = std::chrono::steady_clock::now();
    const Ids ids = g.fast.encode_ordinary(big);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(g.fast.decode(ids), big);
    // A quadratic merge would take minutes; the goal (bench/) is < 0.1 s without sanitizers.
    EXPECT_LT(s, 5.0) << "1 MiB of byte " << int(c);
  }
}

// ---- streaming, batch, parallel -------------------------------------------------------------------

TEST(FastStreamEncoder, EqualsOneShotForEveryChunkSizeDownToOneByte) {
  const auto& g = gpt2();
  llmlab::Rng rng(5);
  std::string text = real_text(1 << 17);
  for (int i = 0; i < 300; ++i) text += random_text(rng, 100);
  text += std::string(5000, ' ') + "x" + std::string(3000, 'y') + std::string(700, '\n');
  const Ids whole = g.fast.encode_ordinary(text);
  for (std::size_t chunk : {1, 2, 3, 7, 64, 1000, 4096, 65536, 1 << 20}) {
    for (std::size_t window : {64, 4096, 1 << 16}) {
      if (chunk == 1 && window != 64) continue;
      llmlab::fast::StreamEncoder enc(g.fast, llmlab::fast::SpecialPolicy::plain_text, window);
      Ids ids;
      std::size_t most = 0;
      for (std::size_t p = 0; p < text.size(); p += chunk) {
        enc.push(std::string_view(text).substr(p, chunk), ids);
        most = std::max(most, enc.buffered());
      }
      enc.finish(ids);
      EXPECT_SAME_IDS(ids, whole, "chunk " << chunk << ", window " << window);
      // Bounded: twice the window plus one chunk plus the longest pre-token (5000 spaces).
      EXPECT_LE(most, 2 * window + chunk + 2 * 5000 + 64) << "chunk " << chunk << ", window " << window;
    }
  }
}

TEST(FastStreamEncoder, SpecialTokensSplitAcrossChunksAreFoundAndLongestWins) {
  std::vector<std::string> bytes;
  for (int b = 0; b < 256; ++b) bytes.push_back(std::string(1, static_cast<char>(b)));
  bytes.push_back("he");
  bytes.push_back("ll");
  const llmlab::fast::Tokenizer tok(bytes, {{"<|end|>", 300}, {"<|end|><|x|>", 301}, {"<|e", 302}});
  std::vector<std::pair<std::string, std::uint32_t>> ref_specials = {{"<|end|>", 300}, {"<|end|><|x|>", 301}, {"<|e", 302}};
  // The reference's view of the same vocabulary, through a tiktoken file.
  TempFile f("specials_vocab");
  tok.save_tiktoken(f.path);
  const auto ref = llmlab::ref::Tokenizer::from_tiktoken(f.path, ref_specials);
  const std::string text = "hello<|end|>world <|end|><|x|>  <|e<|end|<|end|><|end|>\n<|ex";
  for (auto [fp, rp] : {std::pair{llmlab::fast::SpecialPolicy::allow, llmlab::ref::SpecialPolicy::allow},
                        std::pair{llmlab::fast::SpecialPolicy::plain_text, llmlab::ref::SpecialPolicy::plain_text}}) {
    const Ids expect = ref.encode(text, rp);
    EXPECT_EQ(tok.encode(text, fp), expect);
    for (std::size_t chunk : {1, 2, 3, 5, 13}) {
      llmlab::fast::StreamEncoder enc(tok, fp, 64);
      Ids ids;
      for (std::size_t p = 0; p < text.size(); p += chunk) enc.push(std::string_view(text).substr(p, chunk), ids);
      enc.finish(ids);
      EXPECT_EQ(ids, expect) << "chunk " << chunk;
    }
  }
  llmlab::fast::StreamEncoder enc(tok, llmlab::fast::SpecialPolicy::error, 64);
  Ids ids;
  expect_error([&] {
    for (char c : text) enc.push(std::string_view(&c, 1), ids);
    enc.finish(ids);
  }, "<|end|>");
}

TEST(FastStreamEncoder, EncodeStreamReadsAnIstreamInBoundedChunks) {
  const auto& g = gpt2();
  const std::string text = real_text(1 << 18) + "<|endoftext|>" + real_text(1 << 14);
  for (std::size_t chunk : {1, 100, 1 << 16}) {
    std::istringstream in(text);
    Ids ids;
    std::size_t calls = 0;
    g.fast.encode_stream(in, [&](std::span<const std::uint32_t> part) {
      ids.insert(ids.end(), part.begin(), part.end());
      ++calls;
    }, llmlab::fast::SpecialPolicy::allow, chunk);
    EXPECT_EQ(ids, g.fast.encode(text, llmlab::fast::SpecialPolicy::allow)) << "chunk " << chunk;
    EXPECT_GT(calls, 1u) << "ids should arrive before the end of the input";
  }
}

TEST(FastTokenizerGpt2, BatchEqualsSequentialAndParallelEqualsOneShot) {
  const auto& g = gpt2();
  llmlab::Rng rng(11);
  std::vector<std::string> texts;
  for (int i = 0; i < 500; ++i) texts.push_back(random_text(rng, 300));
  texts.push_back(real_text(1 << 18));
  texts.push_back("");
  std::vector<std::string_view> views(texts.begin(), texts.end());
  for (int threads : {1, 2, 4}) {
    const auto batch = g.fast.encode_batch(views, threads, llmlab::fast::SpecialPolicy::plain_text);
    ASSERT_EQ(batch.size(), texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i) {
      EXPECT_EQ(batch[i], g.fast.encode_ordinary(texts[i])) << "text " << i << ", " << threads << " threads";
    }
  }
  std::string big = real_text(1 << 20);
  for (int i = 0; i < 200; ++i) big += random_text(rng, 200) + (i % 50 == 0 ? "<|endoftext|>" : "");
  for (int threads : {1, 2, 3, 8}) {
    EXPECT_EQ(g.fast.encode_parallel(big, threads, llmlab::fast::SpecialPolicy::allow),
              g.fast.encode(big, llmlab::fast::SpecialPolicy::allow)) << threads << " threads";
    EXPECT_EQ(g.fast.encode_parallel(big, threads, llmlab::fast::SpecialPolicy::plain_text),
              g.fast.encode_ordinary(big)) << threads << " threads";
  }
  expect_error([&] { g.fast.encode_parallel(big, 2); }, "<|endoftext|>");
  std::vector<std::string_view> with_special = {"fine", "not <|endoftext|> fine"};
  expect_error([&] { g.fast.encode_batch(with_special, 2); }, "<|endoftext|>");
}

TEST(FastStreamEncoder, SafeCutsAreWhereNoPretokenSpans) {
  using llmlab::fast::last_safe_cut;
  EXPECT_EQ(last_safe_cut("hello world", 8), 5u);       // before the space
  EXPECT_EQ(last_safe_cut("abc123", 5), 3u);            // letters | numbers
  EXPECT_EQ(last_safe_cut("it's", 3), 2u);              // "it" | "'s", never "'" | "s"
  EXPECT_EQ(last_safe_cut("a   b", 4), 1u);             // never inside white space
  EXPECT_EQ(last_safe_cut("xxxxxxxx", 7), 0u);          // one pre-token: no cut
  EXPECT_EQ(last_safe_cut("caf\xC3\xA9!", 4), 0u);      // never inside a character
  EXPECT_EQ(last_safe_cut("caf\xC3\xA9!", 5), 5u);      // "café" | "!"
  EXPECT_EQ(last_safe_cut("ab\xFF" "cd", 4), 3u);       // after an invalid byte
}

// ---- training ---------------------------------------------------------------------------------

/// Expects the fast and reference tokenizers trained on `texts` to be identical: merges, tokens,
/// specials, and ids on the corpus itself.
void expect_same_training(const std::vector<std::string>& texts, std::size_t vocab,
                          const std::vector<std::string>& specials, const std::string& what) {
  const auto ref = llmlab::ref::Tokenizer::train(texts, vocab, specials);
  for (int threads : {1, 2}) {
    const auto fast = llmlab::fast::Tokenizer::train(texts, vocab, specials, threads);
    ASSERT_EQ(fast.merges().size(), ref.merges().size()) << what;
    for (std::size_t i = 0; i < ref.merges().size(); ++i) {
      const auto& a = fast.merges()[i];
      const auto& b = ref.merges()[i];
      ASSERT_TRUE(a.left == b.left && a.right == b.right && a.id == b.id)
          << what << ": merge " << i << " is (" << a.left << ", " << a.right << ") → " << a.id
          << " but the reference's is (" << b.left << ", " << b.right << ") → " << b.id;
    }
    ASSERT_EQ(fast.vocab_size(), ref.vocab_size()) << what;
    for (std::uint32_t id = 0; id < ref.mergeable_count(); ++id) ASSERT_EQ(fast.token_bytes(id), ref.token_bytes(id));
    EXPECT_EQ(fast.special_tokens(), ref.special_tokens()) << what;
    for (const std::string& t : texts) {
      EXPECT_SAME_IDS(fast.encode(t, llmlab::fast::SpecialPolicy::allow),
                      ref.encode(t, llmlab::ref::SpecialPolicy::allow), what);
    }
  }
}

TEST(FastTrainer, MergesEqualReferenceOnRealText) {
  const std::string text = real_text(kSanitized ? 60000 : 200000);
  // Three texts, one with specials inside (never counted).
  const std::size_t third = text.size() / 3;
  std::vector<std::string> texts = {text.substr(0, third), text.substr(third, third) + "<|endoftext|>",
                                    "<|endoftext|>" + text.substr(2 * third) + "<|pad|>x<|endoftext|>"};
  expect_same_training(texts, kSanitized ? 500 : 1000, {"<|endoftext|>", "<|pad|>"}, "real text");
}

TEST(FastTrainer, MergesEqualReferenceOnContrivedCorporaFullOfTies) {
  // Small alphabets, repeated characters (overlapping pairs: "aaa" holds (a, a) twice), words
  // that re-create bytes already in the vocabulary, equal counts everywhere.
  llmlab::Rng rng(3);
  for (int trial = 0; trial < (kSanitized ? 40 : 150); ++trial) {
    std::vector<std::string> texts;
    const int ntexts = 1 + static_cast<int>(rng.uniform() * 3);
    const std::string alphabet = trial % 3 == 0 ? "ab" : trial % 3 == 1 ? "abc " : "aab\xC3\xA9 ,1";
    for (int t = 0; t < ntexts; ++t) {
      std::string s;
      const int len = static_cast<int>(rng.uniform() * 200);
      for (int i = 0; i < len; ++i) s += alphabet[static_cast<std::size_t>(rng.uniform() * static_cast<double>(alphabet.size())) % alphabet.size()];
      texts.push_back(s);
    }
    if (texts[0].empty()) texts[0] = "aaaa";
    expect_same_training(texts, 256 + static_cast<std::size_t>(rng.uniform() * 40), {}, "trial " + std::to_string(trial));
  }
  expect_same_training({"aaaaaaa aaa aa a"}, 270, {}, "runs of a");
  expect_same_training({"abab ab ba baba"}, 300, {}, "alternations");
}

TEST(FastTrainer, TiesGoToTheLexicographicallyGreaterPair) {
  // "ab" and "cd" once each: (a,b) and (c,d) both count 1; (c,d) is greater ('c' > 'a'), so it
  // is merged first (id 256), then (a,b) (id 257). Then " x" and " y": (' ', 'y') > (' ', 'x').
  const auto tok = llmlab::fast::Tokenizer::train(std::vector<std::string>{"ab cd"}, 260);
  ASSERT_GE(tok.merges().size(), 3u);
  EXPECT_EQ(tok.merges()[0], (llmlab::fast::Merge{'c', 'd', 256}));
  // After it: "ab" (1), " cd" = (' ', 256) (1). (a,b) vs (' ', 256): 'a' > ' ', so (a, b).
  EXPECT_EQ(tok.merges()[1], (llmlab::fast::Merge{'a', 'b', 257}));
  EXPECT_EQ(tok.merges()[2], (llmlab::fast::Merge{' ', 256, 258}));
  // Same left token, the right decides: "xa" and "xb" once each → (x, b) first.
  const auto tok2 = llmlab::fast::Tokenizer::train(std::vector<std::string>{"xa,xb"}, 257);
  EXPECT_EQ(tok2.merges().at(0), (llmlab::fast::Merge{'x', 'b', 256}));
  // A larger count beats the order: "ab ab cd" → (a, b) twice.
  const auto tok3 = llmlab::fast::Tokenizer::train(std::vector<std::string>{"ab,ab,cd"}, 257);
  EXPECT_EQ(tok3.merges().at(0), (llmlab::fast::Merge{'a', 'b', 256}));
}

TEST(FastTrainer, BadArgumentsThrowNamingTheProblem) {
  const std::vector<std::string> texts = {"hello"};
  expect_error([&] { llmlab::fast::Tokenizer::train(texts, 255); }, "below 256");
  expect_error([&] { llmlab::fast::Tokenizer::train(texts, 257, {"<a>", "<b>"}); }, "below 256");
  expect_error([&] { llmlab::fast::Tokenizer::train(texts, 300, {"<a>", "<a>"}); }, "given twice");
  expect_error([&] { llmlab::fast::Tokenizer::train(std::vector<std::string>{}, 300); }, "empty");
  expect_error([&] { llmlab::fast::Tokenizer::train(std::vector<std::string>{"", "<a>"}, 300, {"<a>"}); }, "empty");
}

TEST(FastTrainer, PieceCacheNeverServesAnotherTokenizersIds) {
  // Each thread caches recent pre-tokens' ids for one tokenizer at a time; alternating two
  // tokenizers (one destroyed and another made, possibly at the same address) must not mix them.
  const auto& g = gpt2();
  const std::string text = real_text(1 << 15);
  const Ids want = g.ref.encode_ordinary(text);
  for (int round = 0; round < 3; ++round) {
    const auto trained = llmlab::fast::Tokenizer::train(std::vector<std::string>{text}, 300 + 50 * round);
    const auto ref = llmlab::ref::Tokenizer::train(std::vector<std::string>{text}, 300 + 50 * round);
    EXPECT_SAME_IDS(g.fast.encode_ordinary(text), want, "GPT-2, round " << round);
    EXPECT_SAME_IDS(trained.encode_ordinary(text), ref.encode_ordinary(text), "trained, round " << round);
    EXPECT_SAME_IDS(g.fast.encode_ordinary(text), want, "GPT-2 again, round " << round);
  }
}

// ---- files and errors -----------------------------------------------------------------------------

TEST(FastTokenizer, SavedTiktokenLoadsBackIdenticalInBothTokenizers) {
  const auto trained = llmlab::fast::Tokenizer::train(std::vector<std::string>{real_text(50000)}, 400, {"<|endoftext|>"});
  TempFile f("saved");
  trained.save_tiktoken(f.path);
  ASSERT_EQ(trained.mergeable_count(), 399u);
  ASSERT_EQ(trained.special_tokens().at("<|endoftext|>"), 399u);
  const auto fast = llmlab::fast::Tokenizer::from_tiktoken(f.path, {{"<|endoftext|>", 399}});
  const auto ref = llmlab::ref::Tokenizer::from_tiktoken(f.path, {{"<|endoftext|>", 399}});
  const std::string text = real_text(20000) + "<|endoftext|>";
  const Ids ids = fast.encode(text, llmlab::fast::SpecialPolicy::allow);
  EXPECT_EQ(ids, trained.encode(text, llmlab::fast::SpecialPolicy::allow));
  EXPECT_EQ(ids, ref.encode(text, llmlab::ref::SpecialPolicy::allow));
  EXPECT_EQ(fast.decode(ids), text);
  EXPECT_EQ(fast_from_ref(ref).encode(text, llmlab::fast::SpecialPolicy::allow), ids);
}

TEST(FastTokenizer, BadVocabularyFilesAndIdsThrowNamingTheProblem) {
  using llmlab::fast::Tokenizer;
  std::string good;
  for (int b = 0; b < 256; ++b) {
    static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    good += std::string{k[b >> 2], k[(b & 3) << 4], '=', '='} + " " + std::to_string(b) + "\n";
  }
  TempFile f("bad");
  EXPECT_EQ(Tokenizer::from_tiktoken(f.write(good)).mergeable_count(), 256u);
  expect_error([&] { Tokenizer::from_tiktoken(f.path.string() + ".missing"); }, "cannot open");
  expect_error([&] { Tokenizer::from_tiktoken(f.write(good + "a*b= 256\n")); }, ":257");
  expect_error([&] { Tokenizer::from_tiktoken(f.write(good + "aGk= 255\n")); }, "given twice");
  expect_error([&] { Tokenizer::from_tiktoken(f.write(good + "aGk= 258\n")); }, "rank 256 is missing");
  expect_error([&] { Tokenizer::from_tiktoken(f.write(good + "QQ== 256\n")); }, "same bytes");
  expect_error([&] { Tokenizer::from_tiktoken(f.write(good + "aGk=\n")); }, "expected 'base64 rank'");
  expect_error([&] { Tokenizer::from_tiktoken(f.write(good), {{"<s>", 10}}); }, "<s>");
  expect_error([&] { Tokenizer::from_tiktoken(f.write(good), {{"<s>", 300}, {"<t>", 300}}); }, "<t>");
  std::vector<std::string> no_byte_7;
  for (int b = 0; b < 256; ++b) no_byte_7.push_back(b == 7 ? "ab" : std::string(1, static_cast<char>(b)));
  expect_error([&] { const Tokenizer t(no_byte_7); }, "byte 7");
  const Tokenizer bytes_only;
  const std::vector<std::uint32_t> bad = {104, 300};
  expect_error([&] { bytes_only.decode(bad); }, "300");
  expect_error([&] { bytes_only.token_bytes(256); }, "256");
}

}  // namespace
