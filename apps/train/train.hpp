#pragma once
/// \file
/// \ingroup group_gpt
/// \brief `llmlab train` and `llmlab generate`: train a small GPT on text files with the CPU
/// reference (llmlab::ref::train_step), and sample from its checkpoint.
///
///     llmlab train [--data FILE...|PREPARED_DIR] [--delimiter LINE --val X --test X]
///                  [--tokenizer FILE.tiktoken [--gpt2] | --vocab-size N]
///                  [--config FILE.json] [--layers L --heads H --embd C --context T]
///                  [--steps S --batch B --grad-accum A --lr X --min-lr X --warmup W
///                  --weight-decay X --clip X --seed N --eval-every N --threads N]
///                  [--out DIR] [--resume DIR] [--stop-at STEP]
///                  [--backend ref|emu|gpu [--dtype f32|bf16]]
///     llmlab generate --checkpoint DIR [--prompt TEXT --max-tokens N --temperature X
///                     --top-k K --seed N]
///     llmlab eval --checkpoint DIR --data FILE...|PREPARED_DIR [--split val|test]
///                 [--max-windows N] [--delimiter LINE] [--bleu [--bleu-docs N
///                 --bleu-prompt-tokens P --bleu-tokens K --bleu-out DIR]] [--threads N]
///                 (train/eval.cpp)
///
/// With no arguments, `train` trains on the **default corpus**: Debian's fortunes (package
/// `fortunes`, installed by scripts/setup.sh) — the files listed in kDefaultCorpus under
/// /usr/share/games/fortunes, about 1 MB of English, one fortune per document — into
/// `runs/default`, with the defaults below (a vocabulary of 512 tokens trained on the data) (about 2 minutes of CPU time: 4.51 validation loss against the unigram baseline's
/// 5.35 when measured). The environment's
/// LLMLAB_FORTUNES_DIR replaces /usr/share/games/fortunes (the tests' tiny files of the same names).
///
/// `--data` is either text files, prepared first exactly as `llmlab data prepare` does
/// (data/prepare.hpp: cleaning, deduplication, a tokenizer given or trained, the split by document;
/// `--delimiter` as there) into `DIR/data`, or one directory `llmlab data prepare` wrote (its
/// shards and tokenizer are used). The model: `--config FILE.json` (an object with any of
/// `n_layer`, `n_head`, `n_embd`, `block_size` and `vocab_size`, which must be the tokenizer's),
/// the flags `--layers --heads --embd --context` over it, the defaults under both. `--batch` is the
/// global batch; `--grad-accum A` computes it as A micro-batches of batch/A sequences (the same
/// update up to float rounding). `--threads` bounds the reference's threads (ref::set_cpu_threads:
/// its loops and GEMMs on OpenMP, the same bits for any count) and the tokenizer's (0: all).
///
/// While it trains: on a terminal a progress line on stderr (step, loss, tokens/s, ETA), else a
/// plain line every `--log-every` steps; the validation loss and perplexity every `--eval-every`
/// steps. At the end: the validation loss against the unigram baseline of the same tokenizer
/// (the train split's token frequencies, add-one smoothed, scored on the validation split), the
/// test split's loss and perplexity, and three samples. DIR receives `model.ckpt`
/// (llmlab::ref::save_checkpoint's format), `tokenizer.tiktoken` (+ `.specials.json`),
/// `metrics.jsonl` (one JSON object per step: step, loss, lr, grad_norm, ms, tok_s, and val_loss /
/// val_ppl when evaluated), `loss.svg` (the loss curve) and `data/` (the shards); the checkpoint,
/// metrics and curve are written at every evaluation and the last step, each to a temporary file
/// and renamed. `--resume DIR` continues DIR's run to `--steps` (the total), bitwise as an
/// uninterrupted run would (its data: `--data`, prepared with the run's tokenizer, or else
/// `DIR/data`); `--stop-at STEP` ends this invocation after STEP (with a checkpoint) without
/// changing the schedule, as an interruption would.
///
/// `--backend` chooses who takes the steps (train/backend.hpp): `ref` (default) the CPU
/// reference; `emu` llmlab's CUDA kernels composed into llmlab::cuda::Gpt, run by the emulator on
/// the CPU (slow: tiny configurations only); `gpu` the same model on a GPU, when llmlab was built
/// with nvcc and one is present (else it stops, saying so). Checkpoints, evaluation and samples
/// are the same whatever the backend.
///
/// SIGINT (Ctrl-C) ends the run after the step in progress: the checkpoint and metrics are saved,
/// a line says how to resume, and the exit code is 130 (the environment's LLMLAB_TRAIN_SIGINT_AT=k
/// makes the run raise SIGINT itself after step k, for the tests).
///
/// Exit codes: 0 done; 130 interrupted by SIGINT, state saved; 2 nothing (more) was done — a bad
/// command line, missing or empty data, a split shorter than one context window, a checkpoint that
/// is refused or a model config that is not the resumed checkpoint's, a non-finite loss (the last
/// good checkpoint is kept) — with one line on stderr naming the problem, and no run directory
/// left behind by a fresh run that was refused.

#include <CLI/CLI.hpp>

#include "data/prepare.hpp"
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace llmlab::app {

/// The default corpus: these fortune files of Debian's `fortunes` package (about 1 MB).
inline constexpr std::array<const char*, 9> kDefaultCorpus = {
    "cookie", "computers", "people", "science", "work", "wisdom", "literature", "humorists",
    "education"};
/// Where the default corpus's files are.
inline constexpr const char* kFortunesDir = "/usr/share/games/fortunes";
/// The most steps `llmlab train --steps` accepts (a larger number is a typo, not a plan).
inline constexpr std::int64_t kMaxSteps = 1'000'000'000;
/// The most tokens `llmlab generate --max-tokens` accepts.
inline constexpr std::int64_t kMaxGenerate = 1'000'000;

/// The command line of `llmlab train`.
struct TrainCliOptions {
  std::vector<std::string> data;  ///< text files, or one prepared directory (none: the default)
  PrepareOptions prepare;         ///< text files: how they are prepared (data/prepare.hpp)
  std::string config;             ///< a model config file (JSON), "" : none
  std::optional<std::int64_t> layers;   ///< n_layer (default 2)
  std::optional<std::int64_t> heads;    ///< n_head (default 4)
  std::optional<std::int64_t> embd;     ///< n_embd, the width (default 96)
  std::optional<std::int64_t> context;  ///< block_size, also T of a batch (default 64)
  std::int64_t steps = 300;       ///< the total steps
  std::int64_t batch = 16;        ///< sequences per step (the global batch)
  std::int64_t grad_accum = 1;    ///< micro-batches per step
  std::int64_t warmup = -1;       ///< the linear warm-up's steps (-1: a tenth of steps)
  std::int64_t seed = 1337;       ///< the initialisation's, the batches' and the split's seed
  double lr = 3e-3;               ///< the peak learning rate
  double min_lr = 3e-4;           ///< where the cosine ends
  double weight_decay = 0.1;      ///< AdamW's decoupled decay (weight matrices only)
  double clip = 1.0;              ///< the global gradient norm kept (0: none)
  std::int64_t eval_every = 50;   ///< steps between evaluations (and checkpoints)
  std::int64_t log_every = 10;    ///< steps between printed lines (not on a terminal)
  std::int64_t stop_at = 0;       ///< stop (checkpointed) once this step is done, 0: at steps
  int threads = 0;                ///< the reference's (OpenMP) and the tokenizer's threads (0: all)
  std::int64_t samples = 3;       ///< samples printed at the end
  std::string out;                ///< the run's directory ("" : --resume's, or runs/default)
  std::string resume;             ///< a run's directory to continue ("" : a fresh run)
  std::string backend = "ref";    ///< who trains: ref, emu or gpu (train/backend.hpp)
  std::string dtype = "f32";      ///< emu and gpu: f32, or bf16 with fp32 master weights
  std::vector<std::string> given; ///< the flags given on the command line (e.g. "--lr")
};

/// The command line of `llmlab generate`.
struct GenerateCliOptions {
  std::string checkpoint;         ///< a run's directory (model.ckpt, tokenizer.tiktoken)
  std::string prompt = "\n";      ///< the text to continue
  std::int64_t max_tokens = 100;  ///< tokens to generate (at most kMaxGenerate)
  std::int64_t top_k = 0;         ///< sample among the k likeliest (0: all)
  std::int64_t seed = 1;          ///< the sampler's seed
  double temperature = 0.8;       ///< 0: greedy
};

/// The command line of `llmlab eval` (train/eval.cpp's comment says what it computes).
struct EvalCliOptions {
  std::string checkpoint;          ///< a run's directory (model.ckpt, tokenizer.tiktoken)
  std::vector<std::string> data;   ///< the text files to score, or one prepared directory
  std::string split;               ///< a prepared directory's split: "test" ("" ) or "val"
  std::string delimiter = "%";     ///< text files: what ends a document (as data prepare's)
  std::int64_t max_windows = 256;  ///< context windows scored at most
  bool bleu = false;               ///< also BLEU of greedy continuations
  std::int64_t bleu_docs = 100;    ///< documents continued at most
  std::int64_t bleu_prompt_tokens = 32;  ///< P, the prompt: each document's first P tokens
  std::int64_t bleu_tokens = 32;   ///< K, the reference: at most the next K tokens
  std::string bleu_out;            ///< a directory for the prompts, hypotheses and references
  int threads = 0;                 ///< the reference's threads, ref::set_cpu_threads (0: all)
};

/// Adds `train` to `app`, parsing into `opts`. @returns the subcommand
CLI::App* add_train_command(CLI::App& app, TrainCliOptions& opts);
/// Adds `generate` to `app`, parsing into `opts`. @returns the subcommand
CLI::App* add_generate_command(CLI::App& app, GenerateCliOptions& opts);

/// Runs `llmlab train`. @returns 0, or 2 with one line on stderr (see the file's comment)
int run_train(const TrainCliOptions& opts);
/// Adds `eval` to `app`, parsing into `opts`. @returns the subcommand
CLI::App* add_eval_command(CLI::App& app, EvalCliOptions& opts);
/// Runs `llmlab eval`: the mean loss and perplexity of the checkpoint on the data's tokens, over
/// consecutive context windows (llmlab::ref::evaluate), and with `--bleu` the BLEU of greedy
/// continuations (llmlab::ref::corpus_bleu). @returns 0, or 2 with one line on stderr
int run_eval(const EvalCliOptions& opts);
/// Runs `llmlab generate`: prints the prompt and its continuation. @returns 0, or 2 with one line
/// on stderr naming the problem (a missing or refused checkpoint, a tokenizer that does not match
/// the model, bad sampling options)
int run_generate(const GenerateCliOptions& opts);

}  // namespace llmlab::app
