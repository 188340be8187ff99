/// \file
/// \brief `llmlab tokenize encode` and `decode`.

#include <charconv>
#include <string>
#include <string_view>
#include <vector>

#include "tokenize/files.hpp"
#include "tokenize/progress.hpp"
#include "tokenize/tokenize.hpp"

namespace llmlab::app {

namespace {

/// Whether `id` is a mergeable token's or a special token's.
bool known_id(const AnyTokenizer& tok, ref::TokenId id) {
  if (id < tok.mergeable_count()) return true;
  for (const auto& [text, special] : tok.special_tokens())
    if (special == id) return true;
  return false;
}

/// The files --out must not be: the input, the vocabulary and its specials sidecar.
std::vector<std::string> written_from(const TokenizeOptions& opts) {
  std::vector<std::string> files = opts.inputs;
  files.push_back(opts.vocab);
  files.push_back(specials_sidecar(opts.vocab).string());
  return files;
}

}  // namespace

void tokenize_encode(const TokenizeOptions& opts) {
  const AnyTokenizer tok = load_vocab(opts);
  const std::string text = read_input(opts.inputs.at(0));
  const ref::SpecialPolicy policy = special_policy(opts);

  OutputFile out(opts.out, written_from(opts));
  ProgressBar bar("encoding", text.size());
  std::size_t start = 0;
  bool first = true;
  for (const std::size_t end : chunk_ends(text, opts.chunk_bytes, tok.special_tokens())) {
    for (const ref::TokenId id :
         encode_text(tok, std::string_view(text).substr(start, end - start), policy, start)) {
      if (!first) out.stream() << ' ';
      out.stream() << id;
      first = false;
    }
    start = end;
    bar.update(end);
  }
  out.stream() << '\n';
  bar.finish();
  out.commit();
}

void tokenize_decode(const TokenizeOptions& opts) {
  const AnyTokenizer tok = load_vocab(opts);
  const std::string text = read_input(opts.inputs.at(0));

  // Whitespace-separated decimal ids; the n-th word that is not one is named with its position.
  std::vector<ref::TokenId> ids;
  std::size_t i = 0;
  const auto space = [](char c) {
    return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
  };
  while (true) {
    while (i < text.size() && space(text[i])) ++i;
    if (i == text.size()) break;
    std::size_t j = i;
    while (j < text.size() && !space(text[j])) ++j;
    const std::string_view word(text.data() + i, j - i);
    ref::TokenId id = 0;
    const auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), id);
    if (ec != std::errc() || end != word.data() + word.size() || !known_id(tok, id))
      throw TokenizeError("'" + std::string(word.substr(0, 40)) + "' (word " +
                          std::to_string(ids.size() + 1) + ", at byte " + std::to_string(i) +
                          " of the input) is not an id of this vocabulary (" +
                          std::to_string(tok.mergeable_count()) + " tokens and " +
                          std::to_string(tok.special_tokens().size()) + " special)");
    ids.push_back(id);
    i = j;
  }
  OutputFile out(opts.out, written_from(opts));
  out.stream() << tok.decode(ids);
  out.commit();
}

}  // namespace llmlab::app
