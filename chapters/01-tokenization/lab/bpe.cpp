/// \file
/// \brief Lab 01, steps 2–4: byte-level BPE — your `train`, `encode_piece` and `encode`.
///
/// Read the handout (chapters/01-tokenization/README.md) first: it works the algorithms by hand on
/// "banana bandana". Each function below says what to do; the declarations and their exact
/// contracts are in bpe.hpp. The reference, reference/src/tokenizer*.cpp, solves the same problem
/// — try without it first.
///
/// Check your work:   scripts/lab.sh 01
/// (or run build/default/chapters/01-tokenization/ch01_checks --gtest_filter='Ch01Train*').

#include "bpe.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "llmlab/core/error.hpp"
#include "llmlab/ref/tokenizer.hpp"  // llmlab::ref::pretokenize

namespace llmlab::lab {

Vocab train(std::span<const std::string> texts, std::size_t vocab_size) {
  // TODO(step 2): train a byte-level BPE vocabulary.
  //   1. vocab_size < 256: throw llmlab::Error("train", "...") naming vocab_size.
  //   2. Count the pre-tokens: for every text, for every piece of llmlab::ref::pretokenize(text),
  //      counts[std::string(piece)] += 1 (a std::map<std::string, std::uint64_t>). No pieces at
  //      all: throw llmlab::Error("train", "the corpus is empty").
  //   3. Write each distinct pre-token as its byte ids (static_cast<unsigned char>(c) per byte),
  //      keeping its count: a "word" {ids, count}.
  //   4. vocab = Vocab::bytes(); while vocab.size() < vocab_size:
  //      a. count every adjacent pair (ids[i], ids[i+1]) of every word, adding the word's count
  //         (std::map<std::pair<TokenId, TokenId>, std::uint64_t>); no pairs: stop;
  //      b. pick the pair with the largest count; on a tie the one whose
  //         (vocab.tokens[left], vocab.tokens[right]) is greater — std::tie compares left first;
  //      c. id = vocab.add(tokens[left] + tokens[right]);
  //      d. in every word, replace the pair by id, scanning left to right, without overlap
  //         ("a a a" with pair (a, a) becomes "aa a").
  (void)texts, (void)vocab_size;  // delete this line when you use the arguments
  throw Error("train", "not implemented (step 2 of the handout)");
}

std::vector<TokenId> encode_piece(const Vocab& vocab, std::string_view piece) {
  // TODO(step 3): BPE on one pre-token.
  //   1. parts = the piece cut into single bytes (std::string_view's of length 1 into `piece`:
  //      adjacent parts are adjacent in memory, so the concatenation of parts[i] and parts[i+1] is
  //      std::string_view(parts[i].data(), parts[i].size() + parts[i+1].size())).
  //   2. Repeat: find the i whose concatenation of parts[i] and parts[i+1] has the lowest
  //      vocab.rank(...) — the leftmost on a tie (use a strict <). None is a token: stop. Else
  //      widen parts[i] to the concatenation and erase parts[i+1].
  //   3. Return the rank of every part.
  (void)vocab, (void)piece;  // delete this line when you use the arguments
  throw Error("encode_piece", "not implemented (step 3 of the handout)");
}

std::vector<TokenId> encode(const Vocab& vocab, std::string_view text) {
  // TODO(step 4): for every piece of llmlab::ref::pretokenize(text), append encode_piece(vocab,
  // piece) to the result.
  (void)vocab, (void)text;  // delete this line when you use the arguments
  throw Error("encode", "not implemented (step 4 of the handout)");
}

}  // namespace llmlab::lab
