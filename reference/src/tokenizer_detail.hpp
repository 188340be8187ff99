#pragma once
// Helpers the tokenizer's source files share (not installed, not part of the interface).

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "llmlab/ref/tokenizer.hpp"

namespace llmlab::ref::detail {

/// The length (1–4) of the well-formed UTF-8 sequence starting at byte `i` of `s`, or 0 when none
/// starts there (a lone continuation byte, an overlong form, a surrogate, a code point above
/// U+10FFFF, a sequence cut short). Requires i < s.size().
std::size_t utf8_sequence_length(std::string_view s, std::size_t i);

/// `bytes` for an error message: printable ASCII as is, every other byte (and the backslash) as
/// `\xNN`, so a token with a newline or invalid UTF-8 prints on one line.
std::string escape_bytes(std::string_view bytes);

/// At most the first `limit` bytes of `bytes`, escaped as escape_bytes does, then "… (N bytes in
/// all)" when cut: an error never echoes a whole bad file.
std::string excerpt(std::string_view bytes, std::size_t limit = 80);

/// A stretch of text between special tokens, or one special token.
struct Chunk {
  std::string_view text;      ///< a view into the input
  const TokenId* special_id;  ///< the special's id when this chunk is a special token, else null
};

/// Cuts `text` at every occurrence of a special token's text: scanning left to right, at each
/// position the longest special that starts there wins. Returns the alternating chunks (ordinary
/// text chunks are never empty). With no specials, one chunk: the whole text (if not empty).
std::vector<Chunk> split_specials(std::string_view text,
                                  const std::map<std::string, TokenId>& specials);

}  // namespace llmlab::ref::detail
