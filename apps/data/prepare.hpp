#pragma once
/// \file
/// \ingroup group_gpt
/// \brief `llmlab data prepare`: text files → cleaned, deduplicated documents → tokens → binary
/// token shards split by document into train / validation / test.
///
///     llmlab data prepare --data FILE... --out DIR [--delimiter LINE|blank|file]
///                         [--tokenizer FILE.tiktoken [--gpt2] | --vocab-size N]
///                         [--val FRACTION --test FRACTION --seed N --threads N]
///
/// **Documents.** Each input file is read line by line; a line that is exactly the delimiter
/// (default `%`, the fortune files' format) ends a document, and so does the end of a file.
/// `--delimiter blank` ends one at every blank line (paragraphs), `--delimiter file` makes each
/// file one document.
///
/// **Streaming.** Pass 1 cleans each document (data/clean.hpp), drops empty ones and exact
/// duplicates (a hash set of 64-bit FNV-1a hashes of the cleaned documents: 8 bytes and a node per
/// distinct document, nothing else grows with the corpus) and appends the rest to a temporary
/// file in DIR; without `--tokenizer` the first `--tokenizer-sample` bytes of documents (8 MB
/// by default) are kept to train the vocabulary (`<|endoftext|>` its last id). Pass 2 reads the
/// temporary file back in batches of about 4 MB, encodes each batch's documents in parallel (the
/// fast tokenizer's encode_batch, `--threads`, 0 = all) and appends each document's tokens and
/// `<|endoftext|>` to its split's shard. Memory: one document, one batch and the hash set —
/// measured (/usr/bin/time -v, a given tokenizer, 2 threads): 29 MB peak resident on 50 MB of
/// fortune-format text (259 436 documents), 55 MB on 200 MB (1 034 328 documents), the
/// difference the hash set's ~34 bytes per distinct document.
///
/// **Split.** A document goes to validation when \f$ u < \f$ `--val`, to test when
/// \f$ u < \f$ `--val` + `--test`, else to train, with \f$ u \in [0, 1) \f$ a hash of the seed and
/// the document's text — deterministic given `--seed`, and independent of the order of files.
///
/// **Output** (DIR): `train.bin`, `val.bin`, `test.bin` (llmlab/core/token_shard.hpp),
/// `tokenizer.tiktoken` (+ `.specials.json`) and `prepare.json` (the counts of every step); each
/// written to a temporary file and renamed.

#include <CLI/CLI.hpp>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "data/clean.hpp"
#include "tokenize/backend.hpp"

namespace llmlab::app {

/// The command line of `llmlab data prepare` (and what `llmlab train` passes for raw text).
struct PrepareOptions {
  std::vector<std::string> data;           ///< the text files
  std::string delimiter = "%";             ///< a document-ending line, "blank" or "file"
  std::string tokenizer;                   ///< a .tiktoken to use ("" : train one)
  bool gpt2 = false;                       ///< load `tokenizer` as GPT-2's
  std::size_t vocab_size = 512;            ///< the trained vocabulary's size
  std::size_t tokenizer_sample = 8 << 20;  ///< bytes of documents the vocabulary trains on
  double val = 0.05;                       ///< the validation split's share of documents
  double test = 0.05;                      ///< the test split's share of documents
  std::int64_t seed = 1337;                ///< the split's seed
  int threads = 0;                         ///< encoding threads (0: all)
  std::string out;                         ///< the directory to write
};

/// What a preparation did.
struct PrepareReport {
  CleanCounts clean;                    ///< the cleaning's counts
  std::uint64_t vocab_size = 0;         ///< the tokenizer's size
  std::uint64_t tokens[3] = {0, 0, 0};  ///< train, validation, test tokens
  std::uint64_t docs[3] = {0, 0, 0};    ///< train, validation, test documents
};

/// Adds the options `data prepare` and `train` share to `c`: --delimiter, --val, --test,
/// --tokenizer, --gpt2, --vocab-size, --tokenizer-sample.
void add_prepare_options(CLI::App* c, PrepareOptions& opts);

/// Adds `data prepare` to `app`. @returns the `data` group
CLI::App* add_data_command(CLI::App& app, PrepareOptions& opts);

/// Prepares `opts.data` into `opts.out` (see the file's comment), printing what each step did to
/// `log`. With `tok` not null it is used (a resumed run's), else `--tokenizer` or a trained one.
/// @throws TokenizeError naming the option: no files, no document left after cleaning, fractions
///         outside [0, 1) or summing to ≥ 1, a tokenizer without `<|endoftext|>`; llmlab::Error
///         from the shards. Nothing is left in `opts.out` but what was there before (the files
///         are renamed into place only when everything is written).
PrepareReport prepare_data(const PrepareOptions& opts, const AnyTokenizer* tok,
                           std::ostream& log);

/// Runs `llmlab data prepare`. @returns 0, or 2 with one line on stderr naming the problem
int run_data_prepare(const PrepareOptions& opts);

/// Calls `emit(document)` for every document of `files`, one line in memory at a time: a line
/// that is exactly `delimiter` ends a document, as does a blank line for "blank" and the end of
/// each file (alone, for "file"); lines are joined by a line feed, without their carriage
/// return. Empty documents are emitted too.
/// @throws TokenizeError "--data: cannot read 'PATH'"
void read_documents(const std::vector<std::string>& files, const std::string& delimiter,
                    const std::function<void(const std::string&)>& emit);

/// The id of `<|endoftext|>` in `tok`. @throws TokenizeError when it has none
std::int32_t end_of_text(const AnyTokenizer& tok);

}  // namespace llmlab::app
