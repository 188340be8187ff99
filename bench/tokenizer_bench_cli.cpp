/// \file
/// \brief The C++ half of bench/tokenizer_bench.py: times llmlab's tokenizers and prints JSON.
///
///     tokenizer_bench_cli encode --vocab gpt2.tiktoken --input FILE [--threads N] [--repeat R]
///                                [--reference-bytes B]
///     tokenizer_bench_cli worst  --vocab gpt2.tiktoken [--bytes B]
///     tokenizer_bench_cli train  --input FILE --vocab-size N [--threads N]
///
/// `encode` times the fast path on one thread (Tokenizer::encode_ordinary) and on all threads
/// (Tokenizer::encode_parallel), best of R runs, and the reference on the first B bytes; it
/// prints MB/s (10⁶ bytes per second), the token count and an FNV-1a hash of the ids so the
/// Python side can check they are tiktoken's. `worst` times one character repeated B times
/// (x, ^, spaces, newlines). `train` times the fast trainer. Python compares with tiktoken and
/// Hugging Face tokenizers in the same run.

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "llmlab/fast/tokenizer.hpp"
#include "llmlab/ref/tokenizer.hpp"

namespace {

using Clock = std::chrono::steady_clock;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// FNV-1a over the ids as little-endian 32-bit words (the Python side computes the same).
std::uint64_t fnv1a(const std::vector<std::uint32_t>& ids) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (std::uint32_t id : ids) {
    for (int k = 0; k < 4; ++k) {
      h ^= (id >> (8 * k)) & 0xFF;
      h *= 0x100000001b3ull;
    }
  }
  return h;
}

/// Best wall time of `repeat` calls of f, in seconds.
template <class F>
double best_of(int repeat, F&& f) {
  double best = 1e300;
  for (int i = 0; i < repeat; ++i) {
    const auto t0 = Clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"llmlab tokenizer benchmark helper (JSON on stdout)"};
  app.require_subcommand(1);
  std::string vocab, input;
  int threads = 0, repeat = 3;
  std::size_t reference_bytes = 1 << 20, bytes = 1 << 20, vocab_size = 32000;

  auto* encode = app.add_subcommand("encode", "fast (1 thread, all threads) and reference MB/s");
  encode->add_option("--vocab", vocab, "GPT-2's .tiktoken file")->required();
  encode->add_option("--input", input, "text to encode")->required();
  encode->add_option("--threads", threads, "threads for the parallel run (0: all)");
  encode->add_option("--repeat", repeat, "runs per timing (the best is kept)");
  encode->add_option("--reference-bytes", reference_bytes, "bytes the reference encodes (0: skip)");

  auto* worst = app.add_subcommand("worst", "one character repeated: x, ^, spaces, newlines");
  worst->add_option("--vocab", vocab, "GPT-2's .tiktoken file")->required();
  worst->add_option("--bytes", bytes, "length of each run");

  auto* train = app.add_subcommand("train", "the fast trainer's time");
  train->add_option("--input", input, "training text")->required();
  train->add_option("--vocab-size", vocab_size, "256 + merges");
  train->add_option("--threads", threads, "threads for counting (0: all)");

  CLI11_PARSE(app, argc, argv);
  nlohmann::json out;
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int nthreads = threads > 0 ? threads : hw;

  if (*encode) {
    const std::string text = read_file(input);
    const auto fast = llmlab::fast::Tokenizer::gpt2(vocab);
    std::vector<std::uint32_t> ids;
    const double t1 = best_of(repeat, [&] { ids = fast.encode_ordinary(text); });
    std::vector<std::uint32_t> ids_mt;
    const double tn = best_of(repeat, [&] {
      ids_mt = fast.encode_parallel(text, nthreads, llmlab::fast::SpecialPolicy::plain_text);
    });
    out["bytes"] = text.size();
    out["tokens"] = ids.size();
    out["ids_fnv1a"] = fnv1a(ids);
    out["parallel_equals_one_thread"] = ids_mt == ids;
    out["threads"] = nthreads;
    out["fast_1thread_mbps"] = static_cast<double>(text.size()) / t1 / 1e6;
    out["fast_all_threads_mbps"] = static_cast<double>(text.size()) / tn / 1e6;
    if (reference_bytes > 0) {
      // A prefix ending at a line break, so both sides cut the same place.
      std::string prefix = text.substr(0, std::min(reference_bytes, text.size()));
      if (const auto nl = prefix.rfind('\n'); nl != std::string::npos && nl > 0) prefix.resize(nl + 1);
      const auto ref = llmlab::ref::Tokenizer::gpt2(vocab);
      std::vector<std::uint32_t> ref_ids;
      const double tr = best_of(1, [&] { ref_ids = ref.encode_ordinary(prefix); });
      out["reference_bytes"] = prefix.size();
      out["reference_mbps"] = static_cast<double>(prefix.size()) / tr / 1e6;
      out["reference_equals_fast"] = ref_ids == fast.encode_ordinary(prefix);
    }
  } else if (*worst) {
    const auto fast = llmlab::fast::Tokenizer::gpt2(vocab);
    for (const auto& [name, c] : std::vector<std::pair<std::string, char>>{
             {"x", 'x'}, {"caret", '^'}, {"spaces", ' '}, {"newlines", '\n'}}) {
      const std::string text(bytes, c);
      std::vector<std::uint32_t> ids;
      const double t = best_of(3, [&] { ids = fast.encode_ordinary(text); });
      out[name] = {{"bytes", bytes}, {"ms", t * 1e3}, {"tokens", ids.size()}, {"ids_fnv1a", fnv1a(ids)}};
    }
  } else if (*train) {
    const std::vector<std::string> texts = {read_file(input)};
    const auto t0 = Clock::now();
    const auto tok = llmlab::fast::Tokenizer::train(texts, vocab_size, {}, nthreads);
    const double t = std::chrono::duration<double>(Clock::now() - t0).count();
    out["bytes"] = texts[0].size();
    out["vocab_size"] = tok.vocab_size();
    out["merges"] = tok.merges().size();
    out["threads"] = nthreads;
    out["seconds"] = t;
  }
  std::cout << out.dump() << "\n";
  return 0;
}
