#pragma once
/// \file
/// \ingroup group_gpt
/// \brief A training run's directory besides its checkpoint: the tokenizer (`tokenizer.tiktoken`
/// and its specials sidecar) and the metrics (`metrics.jsonl`), each written atomically.

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "llmlab/ref/train.hpp"
#include "tokenize/backend.hpp"

namespace llmlab::app {

/// Writes `dir/tokenizer.tiktoken` and `dir/tokenizer.tiktoken.specials.json`.
/// @throws TokenizeError when a file cannot be written
void save_run_tokenizer(const AnyTokenizer& tok, const std::filesystem::path& dir);

/// Writes the run's checkpoint, `dir/model.ckpt` (ref::save_checkpoint: everything a bitwise
/// resume needs), and beside it `dir/model.safetensors` (ref::save_safetensors: the parameters
/// under nanoGPT's names, for PyTorch), each atomically.
/// @throws llmlab::Error as the two functions when a file cannot be written
void save_run_checkpoint(const ref::TrainState& s, const std::filesystem::path& dir);

/// Loads the tokenizer save_run_tokenizer wrote.
/// @throws TokenizeError naming the directory when it holds no tokenizer.tiktoken
AnyTokenizer load_run_tokenizer(const std::filesystem::path& dir);

/// A run's tokenizer and checkpoint, loaded together.
struct LoadedRun {
  AnyTokenizer tok;   ///< `dir/tokenizer.tiktoken`
  ref::TrainState s;  ///< `dir/model.ckpt`
};

/// Loads `dir`'s tokenizer and checkpoint and checks that the model knows every token.
/// @throws TokenizeError naming the directory when the tokenizer has more tokens than the model;
///         as load_run_tokenizer and llmlab::ref::load_checkpoint
LoadedRun load_run(const std::filesystem::path& dir);

/// The metrics of `dir/metrics.jsonl` up to step `upto` (none when there is no file).
/// @throws TokenizeError naming the file and line that is not JSON
std::vector<nlohmann::json> read_metrics(const std::filesystem::path& dir, std::int64_t upto);

/// Writes `dir/metrics.jsonl`, one object per line (atomically).
void write_metrics(const std::filesystem::path& dir, const std::vector<nlohmann::json>& metrics);

}  // namespace llmlab::app
