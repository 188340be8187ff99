/// \file
/// \brief `ch01_tokenize`: step 5 of chapter 01 — your tokenizer (lab/bpe.cpp) on text of your
/// choice, next to llmlab's reference, id for id.
///
///     ch01_tokenize --gpt2 VOCAB [--input FILE | TEXT]            GPT-2's vocabulary, your encode
///     ch01_tokenize --train FILE --vocab-size N [--input FILE | TEXT]
///                                                                 your train, then your encode
///
/// Prints the merges your `train` learned (with --train), the ids your `encode` gives, the
/// reference's ids for the same vocabulary and text, and whether they agree (exit 0) or where they
/// first differ (exit 1). Bad input exits 2 with one line naming it.

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "bpe.hpp"
#include "llmlab/ref/tokenizer.hpp"

namespace {

using llmlab::lab::TokenId;
using llmlab::lab::Vocab;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// A token's bytes as printable text: "\x0a" for a newline, "␣" for a space.
std::string shown(const std::string& bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    if (c == ' ') {
      out += "\u2423";
    } else if (c < 0x20 || c == 0x7f || c >= 0x80) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

/// The reference tokenizer's vocabulary as the lab's Vocab.
Vocab vocab_of(const llmlab::ref::Tokenizer& tok) {
  std::vector<std::string> tokens;
  for (std::size_t id = 0; id < tok.mergeable_count(); ++id)
    tokens.push_back(tok.token_bytes(static_cast<TokenId>(id)));
  return Vocab::from_tokens(std::move(tokens));
}

/// The first 40 ids (then "…"), so a whole file stays readable.
void print_ids(const char* who, const std::vector<TokenId>& ids) {
  std::cout << who << " (" << ids.size() << " ids):";
  for (std::size_t i = 0; i < ids.size() && i < 40; ++i) std::cout << ' ' << ids[i];
  std::cout << (ids.size() > 40 ? " …\n" : "\n");
}

}  // namespace

/// Parses the command line, runs your train/encode and the reference's, and compares their ids.
/// @returns 0 the same ids, 1 a difference (named), 2 bad input
int main(int argc, char** argv) {
  CLI::App app{"Your chapter-01 tokenizer (lab/bpe.cpp) on your text, next to llmlab's reference"};
  std::string gpt2_vocab, train_file, input_file, text;
  std::size_t vocab_size = 0;
  auto* gpt2 = app.add_option("--gpt2", gpt2_vocab, "GPT-2's vocabulary (vocab/gpt2.tiktoken)")
                   ->check(CLI::ExistingFile);
  auto* train = app.add_option("--train", train_file, "Train your tokenizer on this file")
                    ->check(CLI::ExistingFile)
                    ->excludes(gpt2);
  app.add_option("--vocab-size", vocab_size, "256 + the merges to learn (with --train)")
      ->check(CLI::Range(std::size_t{256}, std::size_t{1} << 20))
      ->needs(train);
  auto* input = app.add_option("--input", input_file, "The text to encode, from a file")
                    ->check(CLI::ExistingFile);
  app.add_option("text", text, "The text to encode")->excludes(input);
  try {
    app.parse(argc, argv);
    if (!gpt2->count() && !train->count())
      throw CLI::ValidationError("choose a vocabulary: --gpt2 VOCAB or --train FILE --vocab-size N");
    if (train->count() && vocab_size == 0)
      throw CLI::ValidationError("--train needs --vocab-size N (N >= 256)");
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  try {
    if (input->count()) text = read_file(input_file);
    Vocab vocab;
    llmlab::ref::Tokenizer reference = gpt2->count()
                                           ? llmlab::ref::Tokenizer::gpt2(gpt2_vocab)
                                           : llmlab::ref::Tokenizer::train(
                                                 std::vector<std::string>{read_file(train_file)},
                                                 vocab_size);
    if (gpt2->count()) {
      vocab = vocab_of(reference);
    } else {
      const std::vector<std::string> corpus = {read_file(train_file)};
      vocab = llmlab::lab::train(corpus, vocab_size);
      std::cout << "your train learned " << vocab.size() - 256 << " merges:";
      for (std::size_t id = 256; id < vocab.size() && id < 256 + 20; ++id)
        std::cout << ' ' << id << '=' << shown(vocab.tokens[id]);
      std::cout << (vocab.size() > 256 + 20 ? " …\n" : "\n");
      if (vocab.size() != reference.mergeable_count())
        std::cout << "the reference learned " << reference.mergeable_count() - 256 << " merges\n";
      for (std::size_t id = 256; id < vocab.size() && id < reference.mergeable_count(); ++id) {
        if (vocab.tokens[id] == reference.token_bytes(static_cast<TokenId>(id))) continue;
        std::cout << "first different merge: token " << id << " is yours "
                  << shown(vocab.tokens[id]) << ", the reference's "
                  << shown(reference.token_bytes(static_cast<TokenId>(id))) << '\n';
        return 1;
      }
    }
    const std::vector<TokenId> mine = llmlab::lab::encode(vocab, text);
    const std::vector<TokenId> theirs = reference.encode_ordinary(text);
    print_ids("yours", mine);
    print_ids("reference", theirs);
    for (std::size_t i = 0; i < mine.size() && i < theirs.size(); ++i) {
      if (mine[i] == theirs[i]) continue;
      std::cout << "first difference at id " << i << ": yours " << mine[i] << " ("
                << shown(vocab.tokens.at(mine[i])) << "), the reference's " << theirs[i] << '\n';
      return 1;
    }
    if (mine.size() != theirs.size()) {
      std::cout << "the same ids up to the shorter list, then different lengths\n";
      return 1;
    }
    std::cout << "the same ids\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "ch01_tokenize: " << e.what() << '\n';
    return 2;
  }
}
