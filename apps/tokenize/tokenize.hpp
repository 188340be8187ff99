#pragma once
/// \file
/// \brief `llmlab tokenize train|encode|decode|stats`: byte-level BPE from the command line.
///
///     llmlab tokenize train  --input FILE... --vocab-size N [--special TOKEN]... --out PATH
///     llmlab tokenize encode --vocab PATH [--gpt2] [--allow-special | --special-as-text]
///                            [--input FILE|-] [--out FILE]
///     llmlab tokenize decode --vocab PATH [--gpt2] [--input FILE|-] [--out FILE]
///     llmlab tokenize stats  --vocab PATH [--gpt2] [--allow-special | --special-as-text]
///                            --input FILE...
///
/// Every subcommand takes `--backend fast|ref` (default fast): llmlab::fast or the reference
/// llmlab::ref, which give the same ids and learn the same merges.
///
/// Vocabulary files are tiktoken's `.tiktoken` (`base64 rank` per line, ids = ranks). A trained
/// vocabulary's special tokens live beside it in `PATH.specials.json`, a JSON object mapping each
/// special token's text to its id (`{"<|endoftext|>": 1000}`), written by `train` and read by the
/// other commands when present. `--gpt2` instead loads the file as GPT-2's (`<|endoftext|>` =
/// 50256), e.g. `vocab/gpt2.tiktoken`.
///
/// Exit codes: 0 done; 2 nothing was done (a bad command line, a file that cannot be read or
/// parsed, a special token in the input under the default policy, ...), with one line on stderr
/// naming the problem. Output files are written to a temporary file and renamed, so an error never
/// leaves a half-written one.

#include <CLI/CLI.hpp>
#include <cstddef>
#include <string>
#include <vector>

namespace llmlab::app {

/// The command line of every `llmlab tokenize` subcommand (each reads the fields it declares).
struct TokenizeOptions {
  std::vector<std::string> inputs;    ///< train, stats: the text files; encode, decode: one or "-"
  std::size_t vocab_size = 0;         ///< train: 256 + merges + specials
  std::vector<std::string> specials;  ///< train: special tokens, in id order after the merges
  std::string out;                    ///< train: the .tiktoken to write; encode/decode: "" = stdout
  std::string vocab;                  ///< encode, decode, stats: the .tiktoken to load
  bool gpt2 = false;                  ///< load `vocab` as GPT-2's (<|endoftext|> = 50256)
  bool allow_special = false;         ///< special tokens' text in the input → their ids
  bool special_as_text = false;       ///< special tokens' text in the input → ordinary text
  std::string backend = "fast";       ///< "fast" (llmlab::fast) or "ref" (llmlab::ref)
  std::size_t chunk_bytes = 1 << 18;  ///< encode, stats: bytes per progress step
};

/// The `tokenize` group's subcommands, as added to the app.
struct TokenizeCommands {
  CLI::App* group = nullptr;   ///< `llmlab tokenize`
  CLI::App* train = nullptr;   ///< `llmlab tokenize train`
  CLI::App* encode = nullptr;  ///< `llmlab tokenize encode`
  CLI::App* decode = nullptr;  ///< `llmlab tokenize decode`
  CLI::App* stats = nullptr;   ///< `llmlab tokenize stats`
};

/// Adds `tokenize` and its four subcommands to `app`, parsing into `opts`.
TokenizeCommands add_tokenize_commands(CLI::App& app, TokenizeOptions& opts);

/// Runs the subcommand that was parsed. Errors are printed as one line on stderr,
/// `llmlab tokenize <command>: <what is wrong>`.
/// @returns 0 on success, 2 on any error (see the file's comment).
int run_tokenize(const TokenizeCommands& commands, const TokenizeOptions& opts);

/// `llmlab tokenize train`: trains a vocabulary (Tokenizer::train of the backend) on the input
/// files (each file one text) and writes `opts.out` and `opts.out.specials.json`.
/// @throws TokenizeError (tokenize/files.hpp) or llmlab::Error naming the file or the option at
///         fault.
void tokenize_train(const TokenizeOptions& opts);
/// `llmlab tokenize encode`: the input's ids as space-separated decimal text, one line.
/// @throws TokenizeError or llmlab::Error naming the file, the special token or the option.
void tokenize_encode(const TokenizeOptions& opts);
/// `llmlab tokenize decode`: whitespace-separated ids in, their bytes out.
/// @throws TokenizeError or llmlab::Error naming the file, or the word and its position that is
///         not a known id.
void tokenize_decode(const TokenizeOptions& opts);
/// `llmlab tokenize stats`: per file and in total, bytes, tokens, bytes per token, and how many
/// distinct tokens of the vocabulary the inputs use.
/// @throws TokenizeError or llmlab::Error naming the file or the special token at fault.
void tokenize_stats(const TokenizeOptions& opts);

}  // namespace llmlab::app
