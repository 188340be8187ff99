/// \file
/// \brief The `tokenize` command group: its options (CLI11) and the dispatch with exit codes.

#include "tokenize/tokenize.hpp"

#include <charconv>
#include <cstdint>
#include <exception>
#include <iostream>
#include <string>
#include <system_error>

#include "tokenize/files.hpp"

namespace llmlab::app {
namespace {

/// The largest --vocab-size: token ids are 32-bit, and one past the last must still be one.
constexpr std::uint64_t kMaxVocabSize = 2147483647;

/// A whole number from `min` to `max` written in decimal digits (no sign: "-5" would wrap around
/// in an unsigned option), else CLI11's error "--opt: -5 is not a whole number from 256 to …".
CLI::Validator whole_number(std::uint64_t min, std::uint64_t max) {
  return CLI::Validator(
      [min, max](std::string& text) -> std::string {
        std::uint64_t v = 0;
        const char* end = text.data() + text.size();
        const auto [at, ec] = std::from_chars(text.data(), end, v);
        if (text.empty() || ec != std::errc() || at != end || v < min || v > max)
          return "'" + excerpt(text, 40) + "' is not a whole number from " + std::to_string(min) +
                 " to " + std::to_string(max);
        return "";
      },
      "UINT", "whole number");
}

/// --vocab and --gpt2, shared by encode, decode and stats.
void add_vocab_options(CLI::App* cmd, TokenizeOptions& opts) {
  cmd->add_option("--vocab", opts.vocab,
                  "Vocabulary (.tiktoken); its special tokens are read from PATH.specials.json "
                  "when present")
      ->required();
  cmd->add_flag("--gpt2", opts.gpt2,
                "Load --vocab as GPT-2's (e.g. vocab/gpt2.tiktoken), with <|endoftext|> = 50256");
}

/// --allow-special and --special-as-text, shared by encode and stats.
void add_special_policy(CLI::App* cmd, TokenizeOptions& opts) {
  CLI::Option* allow =
      cmd->add_flag("--allow-special", opts.allow_special,
                    "A special token's text in the input becomes its id (default: it is an error)");
  cmd->add_flag("--special-as-text", opts.special_as_text,
                "A special token's text in the input is encoded as ordinary text")
      ->excludes(allow);
}

/// --backend, shared by every subcommand.
void add_backend(CLI::App* cmd, TokenizeOptions& opts) {
  cmd->add_option("--backend", opts.backend,
                  "fast (llmlab::fast) or ref (the reference): the same ids and merges, the "
                  "reference slower and simpler")
      ->check(CLI::IsMember({"ref", "fast"}))
      ->capture_default_str();
}

}  // namespace

TokenizeCommands add_tokenize_commands(CLI::App& app, TokenizeOptions& opts) {
  TokenizeCommands c;
  c.group = app.add_subcommand("tokenize", "Byte-level BPE: train a vocabulary, encode, decode");
  c.group->require_subcommand(1);
  c.group->footer(
      "Vocabularies are tiktoken files (base64 token, rank); a trained one's special tokens are "
      "in PATH.specials.json.\nExit code: 0 done, 2 an error (one line on stderr; no output file "
      "is left half-written).");

  c.train = c.group->add_subcommand(
      "train",
      "Learn a vocabulary from text files (ties go to the lexicographically greater pair)");
  c.train->add_option("--input", opts.inputs, "Text files to learn from (each one text)")
      ->required()
      ->expected(1, -1);
  c.train
      ->add_option("--vocab-size", opts.vocab_size, "Tokens in all: 256 bytes + merges + specials")
      ->check(whole_number(0, kMaxVocabSize))
      ->required();
  c.train
      ->add_option("--special", opts.specials,
                   "A special token (repeat for more); ids follow the merges in this order")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  c.train->add_option("--out", opts.out, "The .tiktoken file to write (and OUT.specials.json)")
      ->required();
  add_backend(c.train, opts);

  c.encode = c.group->add_subcommand("encode", "Text to token ids (space-separated decimal)");
  add_vocab_options(c.encode, opts);
  add_special_policy(c.encode, opts);
  add_backend(c.encode, opts);
  c.encode->add_option("--input", opts.inputs, "Text file, or - for stdin")
      ->expected(1)
      ->default_val(std::vector<std::string>{"-"});
  c.encode->add_option("--out", opts.out, "Where the ids go (default: stdout)");
  c.encode
      ->add_option("--chunk-bytes", opts.chunk_bytes,
                   "Encode in chunks of about this many bytes, cut where the ids cannot change "
                   "(for the progress bar; 0 = one chunk)")
      ->check(whole_number(0, std::uint64_t{1} << 40))
      ->capture_default_str();

  c.decode = c.group->add_subcommand("decode", "Token ids (whitespace-separated) to text");
  add_vocab_options(c.decode, opts);
  c.decode->add_option("--input", opts.inputs, "File of ids, or - for stdin")
      ->expected(1)
      ->default_val(std::vector<std::string>{"-"});
  c.decode->add_option("--out", opts.out, "Where the bytes go (default: stdout)");
  add_backend(c.decode, opts);

  c.stats = c.group->add_subcommand(
      "stats", "Bytes per token and vocabulary use of a vocabulary on text files");
  add_vocab_options(c.stats, opts);
  add_special_policy(c.stats, opts);
  c.stats->add_option("--input", opts.inputs, "Text files")->required()->expected(1, -1);
  add_backend(c.stats, opts);
  return c;
}

int run_tokenize(const TokenizeCommands& commands, const TokenizeOptions& opts) {
  std::string name = "tokenize";
  try {
    if (commands.train->parsed()) {
      name = "tokenize train";
      tokenize_train(opts);
    } else if (commands.encode->parsed()) {
      name = "tokenize encode";
      tokenize_encode(opts);
    } else if (commands.decode->parsed()) {
      name = "tokenize decode";
      tokenize_decode(opts);
    } else if (commands.stats->parsed()) {
      name = "tokenize stats";
      tokenize_stats(opts);
    }
  } catch (const std::exception& e) {
    std::cerr << "llmlab " << name << ": " << excerpt(e.what()) << "\n";
    return 2;
  }
  return 0;
}

}  // namespace llmlab::app
