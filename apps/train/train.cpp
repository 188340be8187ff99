/// \file
/// \ingroup group_gpt
/// \brief `llmlab train`: the data, the tokenizer, the reference training loop, evaluation
/// against the unigram baseline, and the run's files (train/train.hpp).

#include "train/train.hpp"

#include <signal.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <span>
#include <vector>

#include "llmlab/core/error.hpp"
#include "llmlab/ref/train.hpp"
#include "tokenize/backend.hpp"
#include "tokenize/files.hpp"
#include "tokenize/tokenize.hpp"
#include "train/run_files.hpp"

namespace llmlab::app {

namespace fs = std::filesystem;

CLI::App* add_train_command(CLI::App& app, TrainCliOptions& o) {
  CLI::App* c =
      app.add_subcommand("train", "Train a small GPT on text files with the CPU reference");
  c->add_option("--data", o.data, "Text files, each one document")->check(CLI::ExistingFile);
  c->add_option("--tokenizer", o.tokenizer, "A .tiktoken vocabulary (default: train one)")
      ->check(CLI::ExistingFile);
  c->add_flag("--gpt2", o.gpt2, "Load --tokenizer as GPT-2's (<|endoftext|> = 50256)");
  c->add_option("--vocab-size", o.vocab_size, "The vocabulary to train on the data")
      ->capture_default_str();
  c->add_option("--layers", o.layers, "n_layer")->capture_default_str();
  c->add_option("--heads", o.heads, "n_head")->capture_default_str();
  c->add_option("--embd", o.embd, "n_embd (the width)")->capture_default_str();
  c->add_option("--context", o.context, "block_size (the context, and T of a batch)")
      ->capture_default_str();
  c->add_option("--steps", o.steps, "The total steps (resuming continues to it)")
      ->capture_default_str();
  c->add_option("--batch", o.batch, "Sequences per step")->capture_default_str();
  c->add_option("--lr", o.lr, "The peak learning rate")->capture_default_str();
  c->add_option("--min-lr", o.min_lr, "The learning rate the cosine ends at")
      ->capture_default_str();
  c->add_option("--warmup", o.warmup, "Linear warm-up steps (-1: a tenth of --steps)")
      ->capture_default_str();
  c->add_option("--weight-decay", o.weight_decay, "AdamW's decay (weight matrices only)")
      ->capture_default_str();
  c->add_option("--clip", o.clip, "The global gradient norm kept (0: none)")->capture_default_str();
  c->add_option("--seed", o.seed, "Initialisation and batches")->capture_default_str();
  c->add_option("--eval-every", o.eval_every, "Steps between evaluations and checkpoints")
      ->capture_default_str();
  c->add_option("--log-every", o.log_every, "Steps between printed lines")->capture_default_str();
  c->add_option("--stop-at", o.stop_at, "End this invocation after this step (checkpointed)");
  c->add_option("--out", o.out, "The run's directory (default: --resume's)");
  c->add_option("--resume", o.resume, "Continue the run in this directory")
      ->check(CLI::ExistingDirectory);
  return c;
}

namespace {

volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void on_sigint(int) { g_interrupted = 1; }

/// SIGINT sets g_interrupted while the guard lives (the loop then saves and stops after the step
/// in progress); the previous handler is restored after. A SIGINT ignored at start stays ignored.
struct SigintGuard {
  struct sigaction old {};
  bool installed = false;
  SigintGuard() {
    g_interrupted = 0;
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, nullptr, &old) == 0 && old.sa_handler != SIG_IGN)
      installed = sigaction(SIGINT, &sa, nullptr) == 0;
  }
  ~SigintGuard() {
    if (installed) sigaction(SIGINT, &old, nullptr);
  }
  SigintGuard(const SigintGuard&) = delete;
  SigintGuard& operator=(const SigintGuard&) = delete;
};

/// The step after which the run raises SIGINT itself (the tests' deterministic interruption):
/// the environment's LLMLAB_TRAIN_SIGINT_AT, or -1.
std::int64_t sigint_at() {
  const char* v = std::getenv("LLMLAB_TRAIN_SIGINT_AT");
  return v != nullptr ? std::strtoll(v, nullptr, 10) : -1;
}

/// The unigram baseline: \f$ -\frac{1}{n}\sum_i \log p(v_i) \f$ over the validation tokens, with
/// p the training tokens' frequencies, add-one smoothed over V.
double unigram_loss(std::span<const std::int32_t> train, std::span<const std::int32_t> val,
                    std::size_t V) {
  std::vector<double> count(V, 1.0);
  for (const std::int32_t t : train) count[static_cast<std::size_t>(t)] += 1;
  const double total = static_cast<double>(train.size() + V);
  double sum = 0;
  for (const std::int32_t t : val) sum -= std::log(count[static_cast<std::size_t>(t)] / total);
  return sum / static_cast<double>(val.size());
}

int train(const TrainCliOptions& o) {
  const SigintGuard guard;
  if (o.data.empty()) throw TokenizeError("--data: give at least one text file");
  if (o.eval_every < 1 || o.log_every < 1)
    throw TokenizeError("--eval-every and --log-every must be ≥ 1");
  if (o.out.empty() && o.resume.empty()) throw TokenizeError("--out: give the run's directory");
  const fs::path out = o.out.empty() ? fs::path(o.resume) : fs::path(o.out);
  std::vector<std::string> texts;
  std::size_t bytes = 0;
  for (const std::string& path : o.data) {
    texts.push_back(read_input(path));
    bytes += texts.back().size();
  }
  if (bytes == 0) throw TokenizeError("--data: the files hold no text");

  // the tokenizer: the resumed run's, the given one, or one trained on the data
  const AnyTokenizer tok = !o.resume.empty()    ? load_run_tokenizer(o.resume)
                           : !o.tokenizer.empty() ? [&] {
                               TokenizeOptions t;
                               t.vocab = o.tokenizer;
                               t.gpt2 = o.gpt2;
                               return load_vocab(t);
                             }()
                                                  : AnyTokenizer::train("fast", texts, o.vocab_size, {});
  std::vector<std::int32_t> tokens;
  for (const std::string& text : texts) {
    const auto ids = tok.encode(text, ref::SpecialPolicy::plain_text);
    tokens.insert(tokens.end(), ids.begin(), ids.end());
  }

  ref::TrainState s;
  if (!o.resume.empty()) {
    s = ref::load_checkpoint(fs::path(o.resume) / "model.ckpt");
    if (static_cast<std::size_t>(s.cfg.vocab_size) < tok.vocab_size())
      throw TokenizeError("--resume " + o.resume + ": the tokenizer has " +
                          std::to_string(tok.vocab_size()) + " tokens, the model " +
                          std::to_string(s.cfg.vocab_size));
    s.opt.steps = o.steps;
    s.opt.warmup = std::min(s.opt.warmup, o.steps);
  } else {
    ref::TrainOptions t;
    t.batch = o.batch;
    t.steps = o.steps;
    t.warmup = o.warmup == -1 ? o.steps / 10 : o.warmup;
    t.lr = o.lr;
    t.min_lr = o.min_lr;
    t.weight_decay = o.weight_decay;
    t.clip = o.clip;
    t.seed = static_cast<std::uint64_t>(o.seed);
    s = ref::train_init(
        {static_cast<std::int64_t>(tok.vocab_size()), o.context, o.layers, o.heads, o.embd}, t);
  }
  const std::int64_t T = s.cfg.block_size;
  const auto n_val = tokens.size() / 10;
  const std::span<const std::int32_t> all(tokens), train_tokens = all.first(tokens.size() - n_val),
                                                   val = all.last(n_val);
  if (static_cast<std::int64_t>(val.size()) < T + 1)
    throw TokenizeError("--data: " + std::to_string(tokens.size()) + " tokens are too few: the " +
                        "validation split (10 %) needs a context window of " +
                        std::to_string(T + 1) + " tokens, so at least " +
                        std::to_string(10 * (T + 1)) + " (or a smaller --context)");

  const double unigram =
      unigram_loss(train_tokens, val, static_cast<std::size_t>(s.cfg.vocab_size));
  std::printf("llmlab train: %zu bytes, %zu tokens (%zu train, %zu validation), vocabulary %zu\n",
              bytes, tokens.size(), train_tokens.size(), val.size(), tok.vocab_size());
  std::printf("model: %lld layers, %lld heads, width %lld, context %lld: %lld parameters\n",
              static_cast<long long>(s.cfg.n_layer), static_cast<long long>(s.cfg.n_head),
              static_cast<long long>(s.cfg.n_embd), static_cast<long long>(T),
              static_cast<long long>(ref::gpt_num_params(s.cfg)));
  std::printf("unigram baseline: validation loss %.4f (perplexity %.1f)\n", unigram,
              std::exp(unigram));
  std::fflush(stdout);

  if (g_interrupted) {
    std::printf("interrupted (SIGINT) before the first step: nothing written\n");
    return 130;
  }
  fs::create_directories(out);
  const std::int64_t raise_at = sigint_at();
  save_run_tokenizer(tok, out);
  std::vector<nlohmann::json> metrics;
  if (!o.resume.empty()) metrics = read_metrics(o.resume, s.step);
  const auto eval = [&] { return ref::evaluate(s.cfg, s.params, val, s.opt.batch, T, 64); };
  double val_loss = NAN;
  while (s.step < s.opt.steps) {
    const auto t0 = std::chrono::steady_clock::now();
    ref::StepStats st;
    try {
      st = ref::train_step(s, train_tokens);
    } catch (const llmlab::Error& e) {
      write_metrics(out, metrics);
      throw TokenizeError(std::string(e.what()) + "; the last good checkpoint, " +
                          (out / "model.ckpt").string() + ", is kept");
    }
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    nlohmann::json m = {{"step", s.step},
                        {"loss", st.loss},
                        {"lr", st.lr},
                        {"grad_norm", st.grad_norm},
                        {"ms", ms}};
    const bool last = s.step == s.opt.steps || s.step == o.stop_at;
    const bool evaluated = s.step % o.eval_every == 0 || last;
    if (evaluated) {
      val_loss = eval();
      m["val_loss"] = val_loss;
      m["val_ppl"] = std::exp(val_loss);
    }
    metrics.push_back(m);
    if (evaluated) {  // the checkpoint and the metrics up to it, together
      save_run_checkpoint(s, out);
      write_metrics(out, metrics);
    }
    if (s.step % o.log_every == 0 || s.step == 1 || last || m.contains("val_loss")) {
      std::printf("step %5lld/%lld | loss %.4f | lr %.2e | norm %.3f | %.1f ms | %.0f tok/s",
                  static_cast<long long>(s.step), static_cast<long long>(s.opt.steps), st.loss,
                  st.lr, st.grad_norm, ms, static_cast<double>(s.opt.batch * T) / ms * 1e3);
      if (m.contains("val_loss"))
        std::printf(" | val loss %.4f ppl %.2f", val_loss, std::exp(val_loss));
      std::printf("\n");
      std::fflush(stdout);
    }
    if (s.step == raise_at) std::raise(SIGINT);
    if (g_interrupted) {
      if (!evaluated) {
        save_run_checkpoint(s, out);
        write_metrics(out, metrics);
      }
      std::printf("interrupted (SIGINT) after step %lld: %s saved; continue with --resume %s\n",
                  static_cast<long long>(s.step), (out / "model.ckpt").string().c_str(),
                  out.string().c_str());
      return 130;
    }
    if (s.step == o.stop_at) break;
  }
  write_metrics(out, metrics);
  if (std::isnan(val_loss)) val_loss = eval();
  std::printf("validation loss %.4f (perplexity %.2f) vs the unigram baseline %.4f (%.1f)\n",
              val_loss, std::exp(val_loss), unigram, std::exp(unigram));
  std::printf("wrote %s (model.ckpt, model.safetensors, tokenizer.tiktoken, metrics.jsonl)\n",
              out.string().c_str());
  return 0;
}

}  // namespace

int run_train(const TrainCliOptions& opts) {
  try {
    return train(opts);
  } catch (const std::exception& e) {
    std::cerr << "llmlab train: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace llmlab::app
