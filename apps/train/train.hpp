#pragma once
/// \file
/// \ingroup group_gpt
/// \brief `llmlab train` and `llmlab generate`: train a small GPT on text files with the CPU
/// reference (llmlab::ref::train_step), and sample from its checkpoint.
///
///     llmlab train --data FILE... [--tokenizer FILE.tiktoken [--gpt2] | --vocab-size N]
///                  [--layers L --heads H --embd C --context T] [--steps S --batch B --lr X
///                  --min-lr X --warmup W --weight-decay X --clip X --seed N --eval-every N]
///                  --out DIR [--resume DIR] [--stop-at STEP]
///     llmlab generate --checkpoint DIR [--prompt TEXT --max-tokens N --temperature X
///                     --top-k K --seed N]
///     llmlab eval --checkpoint DIR --data FILE... [--max-windows N]
///
/// `train` reads the files (each one document), tokenizes them with the given vocabulary or one
/// trained on them (`--vocab-size`, default 512), keeps the last 10 % of the tokens for
/// validation, trains, prints a line per logged step (step, loss, lr, gradient norm, ms per step),
/// evaluates the validation loss and perplexity against the unigram baseline of the same tokens,
/// and writes into DIR: `model.ckpt` (llmlab::ref::save_checkpoint's format),
/// `tokenizer.tiktoken` (+ `.specials.json`) and `metrics.jsonl` (one JSON object per step: step,
/// loss, lr, grad_norm, ms, and val_loss / val_ppl when evaluated); the checkpoint and the metrics
/// up to it are written at every evaluation (`--eval-every`, and the last step). Every file is
/// written to a temporary file and renamed. `--resume DIR` continues DIR's run to `--steps` (the
/// total), bitwise as an uninterrupted run would; `--stop-at STEP` ends this invocation after STEP
/// (with a checkpoint) without changing the schedule, as an interruption would.
///
/// SIGINT (Ctrl-C) ends the run after the step in progress: the checkpoint and metrics are saved,
/// a line says how to resume, and the exit code is 130 (the environment's LLMLAB_TRAIN_SIGINT_AT=k
/// makes the run raise SIGINT itself after step k, for the tests).
///
/// Exit codes: 0 done; 130 interrupted by SIGINT, state saved; 2 nothing (more) was done — a bad
/// command line, missing or empty data, text shorter than two context windows, a checkpoint that is
/// refused, a non-finite loss (the last good checkpoint is kept) — with one line on stderr naming
/// the problem.

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace llmlab::app {

/// The command line of `llmlab train`.
struct TrainCliOptions {
  std::vector<std::string> data;  ///< the text files, each one document
  std::string tokenizer;          ///< a .tiktoken to use ("" : train one on the data)
  bool gpt2 = false;              ///< load `tokenizer` as GPT-2's (<|endoftext|> = 50256)
  std::size_t vocab_size = 512;   ///< the trained vocabulary's size (without --tokenizer)
  std::int64_t layers = 2;        ///< n_layer
  std::int64_t heads = 4;         ///< n_head
  std::int64_t embd = 64;         ///< n_embd, the width
  std::int64_t context = 64;      ///< block_size, also T of a batch
  std::int64_t steps = 200;       ///< the total steps
  std::int64_t batch = 8;         ///< sequences per step
  std::int64_t warmup = -1;       ///< the linear warm-up's steps (-1: a tenth of steps)
  std::int64_t seed = 1337;       ///< the initialisation's and the batches' seed
  double lr = 3e-3;               ///< the peak learning rate
  double min_lr = 3e-4;           ///< where the cosine ends
  double weight_decay = 0.1;      ///< AdamW's decoupled decay (weight matrices only)
  double clip = 1.0;              ///< the global gradient norm kept (0: none)
  std::int64_t eval_every = 50;   ///< steps between evaluations (and checkpoints)
  std::int64_t log_every = 10;    ///< steps between printed lines
  std::int64_t stop_at = 0;       ///< stop (checkpointed) once this step is done, 0: at steps
  std::string out;                ///< the run's directory
  std::string resume;             ///< a run's directory to continue ("" : a fresh run)
};

/// The command line of `llmlab generate`.
struct GenerateCliOptions {
  std::string checkpoint;         ///< a run's directory (model.ckpt, tokenizer.tiktoken)
  std::string prompt = "\n";      ///< the text to continue
  std::int64_t max_tokens = 100;  ///< tokens to generate
  std::int64_t top_k = 0;         ///< sample among the k likeliest (0: all)
  std::int64_t seed = 1;          ///< the sampler's seed
  double temperature = 0.8;       ///< 0: greedy
};

/// The command line of `llmlab eval`.
struct EvalCliOptions {
  std::string checkpoint;          ///< a run's directory (model.ckpt, tokenizer.tiktoken)
  std::vector<std::string> data;   ///< the text files to score
  std::int64_t max_windows = 256;  ///< context windows scored at most
};

/// Adds `train` to `app`, parsing into `opts`. @returns the subcommand
CLI::App* add_train_command(CLI::App& app, TrainCliOptions& opts);
/// Adds `generate` to `app`, parsing into `opts`. @returns the subcommand
CLI::App* add_generate_command(CLI::App& app, GenerateCliOptions& opts);

/// Runs `llmlab train`. @returns 0, or 2 with one line on stderr (see the file's comment)
int run_train(const TrainCliOptions& opts);
/// Adds `eval` to `app`, parsing into `opts`. @returns the subcommand
CLI::App* add_eval_command(CLI::App& app, EvalCliOptions& opts);
/// Runs `llmlab eval`: the mean loss and perplexity of the checkpoint on the files' tokens, over
/// consecutive context windows (llmlab::ref::evaluate). @returns 0, or 2 with one line on stderr
int run_eval(const EvalCliOptions& opts);
/// Runs `llmlab generate`: prints the prompt and its continuation. @returns 0, or 2 with one line
/// on stderr naming the problem (a missing or refused checkpoint, a tokenizer that does not match
/// the model, bad sampling options)
int run_generate(const GenerateCliOptions& opts);

}  // namespace llmlab::app
