/// \file
/// \brief `llmlab tokenize stats`: compression (bytes per token) and vocabulary use.

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "tokenize/files.hpp"
#include "tokenize/progress.hpp"
#include "tokenize/tokenize.hpp"

namespace llmlab::app {

void tokenize_stats(const TokenizeOptions& opts) {
  const AnyTokenizer tok = load_vocab(opts);
  const ref::SpecialPolicy policy = special_policy(opts);

  std::vector<bool> used(tok.vocab_size() + 1, false);
  const auto mark = [&](ref::TokenId id) {
    if (id >= used.size()) used.resize(id + 1, false);  // special ids may lie past vocab_size()
    used[id] = true;
  };
  std::size_t all_bytes = 0, all_tokens = 0;
  std::size_t width = 5;
  for (const std::string& path : opts.inputs) width = std::max(width, path.size());

  char line[512];
  std::snprintf(line, sizeof line, "%-*s %12s %12s %12s\n", static_cast<int>(width), "file",
                "bytes", "tokens", "bytes/token");
  std::cout << line;
  for (const std::string& path : opts.inputs) {
    const std::string text = read_input(path);
    ProgressBar bar(path, text.size());
    std::size_t tokens = 0, start = 0;
    for (const std::size_t end : chunk_ends(text, opts.chunk_bytes, tok.special_tokens())) {
      for (const ref::TokenId id :
           encode_text(tok, std::string_view(text).substr(start, end - start), policy, start)) {
        mark(id);
        ++tokens;
      }
      start = end;
      bar.update(end);
    }
    bar.finish();
    all_bytes += text.size();
    all_tokens += tokens;
    std::snprintf(line, sizeof line, "%-*s %12zu %12zu %12.3f\n", static_cast<int>(width),
                  path.c_str(), text.size(), tokens,
                  tokens ? static_cast<double>(text.size()) / static_cast<double>(tokens) : 0.0);
    std::cout << line;
  }
  if (opts.inputs.size() > 1) {
    std::snprintf(
        line, sizeof line, "%-*s %12zu %12zu %12.3f\n", static_cast<int>(width), "total", all_bytes,
        all_tokens,
        all_tokens ? static_cast<double>(all_bytes) / static_cast<double>(all_tokens) : 0.0);
    std::cout << line;
  }
  std::size_t distinct = 0;
  for (const bool u : used) distinct += u ? 1 : 0;
  std::snprintf(line, sizeof line, "distinct tokens used: %zu of %zu (%.1f %%)\n", distinct,
                tok.vocab_size(),
                100.0 * static_cast<double>(distinct) / static_cast<double>(tok.vocab_size()));
  std::cout << line;
}

}  // namespace llmlab::app
