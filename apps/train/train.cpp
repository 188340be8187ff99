/// \file
/// \ingroup group_gpt
/// \brief `llmlab train`: the data, the tokenizer, the reference training loop, evaluation
/// against the unigram baseline, and the run's files (train/train.hpp).

#include "train/train.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <new>
#include <optional>
#include <nlohmann/json.hpp>
#include <span>
#include <vector>

#include "data/prepare.hpp"
#include "llmlab/core/error.hpp"
#include "llmlab/core/token_shard.hpp"
#include "llmlab/ref/train.hpp"
#include "tokenize/backend.hpp"
#include "tokenize/files.hpp"
#include "tokenize/tokenize.hpp"
#include "train/backend.hpp"
#include "train/report.hpp"
#include "train/run_files.hpp"

namespace llmlab::app {

namespace fs = std::filesystem;

CLI::App* add_train_command(CLI::App& app, TrainCliOptions& o) {
  CLI::App* c = app.add_subcommand(
      "train", "Train a small GPT with the CPU reference (no arguments: on Debian's fortunes)");
  c->add_option("--data", o.data,
                "Text files, or a directory `llmlab data prepare` wrote (default: the fortunes)")
      ->check(CLI::ExistingPath);
  add_prepare_options(c, o.prepare);
  c->add_option("--config", o.config,
                "A model config (JSON: n_layer, n_head, n_embd, block_size, vocab_size)")
      ->check(CLI::ExistingFile);
  c->add_option("--layers", o.layers, "n_layer (default 2)");
  c->add_option("--heads", o.heads, "n_head (default 4)");
  c->add_option("--embd", o.embd, "n_embd, the width (default 96)");
  c->add_option("--context", o.context, "block_size, the context and T of a batch (default 64)");
  c->add_option("--steps", o.steps,
                "The total steps (resuming continues to it; default there: the run's own)")
      ->check(CLI::Range(std::int64_t{1}, kMaxSteps))
      ->capture_default_str();
  c->add_option("--batch", o.batch, "Sequences per step (the global batch)")
      ->capture_default_str();
  c->add_option("--grad-accum", o.grad_accum, "Micro-batches per step (each batch/A sequences)")
      ->capture_default_str();
  c->add_option("--lr", o.lr, "The peak learning rate")->capture_default_str();
  c->add_option("--min-lr", o.min_lr, "The learning rate the cosine ends at")
      ->capture_default_str();
  c->add_option("--warmup", o.warmup, "Linear warm-up steps (-1: a tenth of --steps)")
      ->capture_default_str();
  c->add_option("--weight-decay", o.weight_decay, "AdamW's decay (weight matrices only)")
      ->capture_default_str();
  c->add_option("--clip", o.clip, "The global gradient norm kept (0: none)")->capture_default_str();
  c->add_option("--seed", o.seed, "Initialisation, batches and the split")->capture_default_str();
  c->add_option("--eval-every", o.eval_every, "Steps between evaluations and checkpoints")
      ->capture_default_str();
  c->add_option("--log-every", o.log_every, "Steps between printed lines (not on a terminal)")
      ->capture_default_str();
  c->add_option("--threads", o.threads,
                "Threads for the reference (its loops and GEMMs) and the tokenizer (0: all)")
      ->capture_default_str();
  c->add_option("--samples", o.samples, "Samples printed at the end (at most 1000)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1000}))
      ->capture_default_str();
  c->add_option("--stop-at", o.stop_at, "End this invocation after this step (checkpointed)");
  c->add_option("--out", o.out, "The run's directory (default: --resume's, or runs/default)");
  c->add_option("--backend", o.backend,
                 "Who trains: ref (the CPU reference), emu (the CUDA kernels under the emulator, "
                 "on the CPU: tiny configs only), gpu (needs nvcc and a GPU)")
      ->check(CLI::IsMember({"ref", "emu", "gpu"}))
      ->capture_default_str();
  c->add_option("--dtype", o.dtype, "emu and gpu: f32, or bf16 (fp32 master weights)")
      ->check(CLI::IsMember({"f32", "bf16"}))
      ->capture_default_str();
  c->add_option("--resume", o.resume, "Continue the run in this directory")
      ->check(CLI::ExistingDirectory);
  c->final_callback([c, &o] {
    for (const CLI::Option* opt : c->get_options())
      if (opt->count() > 0 && !opt->get_lnames().empty())
        o.given.push_back("--" + opt->get_lnames().front());
  });
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

/// A directory removed when the guard ends, unless released.
struct DirGuard {
  fs::path path;
  ~DirGuard() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
};

/// Whether `data` names one directory `llmlab data prepare` wrote.
bool is_prepared(const std::vector<std::string>& data) {
  std::error_code ec;
  return data.size() == 1 && fs::is_directory(data[0], ec) &&
         fs::exists(fs::path(data[0]) / "train.bin", ec);
}

/// The whole contents of a file ("" when it cannot be read).
std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// The model the options ask for: `base` (the defaults, or the resumed run's), `--config` over
/// it, the flags over both.
ref::GptConfig wanted_config(const TrainCliOptions& o, std::int64_t vocab,
                             ref::GptConfig c = {0, 64, 2, 4, 96}) {
  c.vocab_size = vocab;
  if (!o.config.empty()) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(read_input(o.config));
    } catch (const nlohmann::json::exception& e) {
      throw TokenizeError("--config " + o.config + ": not JSON (" + e.what() + ")");
    }
    if (!j.is_object()) throw TokenizeError("--config " + o.config + ": not a JSON object");
    for (const auto& [key, value] : j.items()) {
      std::int64_t* field = key == "n_layer"      ? &c.n_layer
                            : key == "n_head"     ? &c.n_head
                            : key == "n_embd"     ? &c.n_embd
                            : key == "block_size" ? &c.block_size
                            : key == "vocab_size" ? &c.vocab_size
                                                  : nullptr;
      if (field == nullptr)
        throw TokenizeError("--config " + o.config + ": unknown key '" + key +
                            "' (known: n_layer, n_head, n_embd, block_size, vocab_size)");
      if (!value.is_number_integer())
        throw TokenizeError("--config " + o.config + ": '" + key + "' is not an integer");
      *field = value.get<std::int64_t>();
    }
    if (c.vocab_size != vocab)
      throw TokenizeError("--config " + o.config + ": vocab_size " + std::to_string(c.vocab_size) +
                          " is not the tokenizer's " + std::to_string(vocab));
  }
  if (o.layers) c.n_layer = *o.layers;
  if (o.heads) c.n_head = *o.heads;
  if (o.embd) c.n_embd = *o.embd;
  if (o.context) c.block_size = *o.context;
  return c;
}

std::string config_str(const ref::GptConfig& c) {
  return "n_layer " + std::to_string(c.n_layer) + ", n_head " + std::to_string(c.n_head) +
         ", n_embd " + std::to_string(c.n_embd) + ", block_size " + std::to_string(c.block_size) +
         ", vocab_size " + std::to_string(c.vocab_size);
}

/// Refuses option values that cannot train, naming the flag, before anything is read or written.
void check_options(const TrainCliOptions& o) {
  for (const auto& [flag, v] : {std::pair{"--lr", o.lr}, std::pair{"--min-lr", o.min_lr},
                                std::pair{"--weight-decay", o.weight_decay},
                                std::pair{"--clip", o.clip}})
    if (!std::isfinite(v) || v < 0)
      throw TokenizeError(std::string(flag) + " " + std::to_string(v) +
                          ": must be a finite number ≥ 0");
  if (o.eval_every < 1 || o.log_every < 1)
    throw TokenizeError("--eval-every and --log-every must be ≥ 1");
  if (o.threads < 0) throw TokenizeError("--threads must be ≥ 0");
  if (o.stop_at < 0) throw TokenizeError("--stop-at must be ≥ 0");
}

/// Refuses an --out that cannot become a run's directory — a link to nothing, a file or device, a
/// directory that cannot be written or that holds other files than an llmlab run — before
/// anything is read or written.
void check_out(const fs::path& out) {
  std::error_code ec;
  const std::string name = "--out " + out.string() + ": ";
  if (fs::is_symlink(fs::symlink_status(out, ec)) && !fs::exists(out, ec))
    throw TokenizeError(name + "a symbolic link to nothing (" +
                        fs::read_symlink(out, ec).string() + ")");
  fs::path dir = out;  // the directory that must be writable: out, or the ancestor it goes in
  if (fs::exists(out, ec)) {
    if (!fs::is_directory(out, ec)) throw TokenizeError(name + "exists and is not a directory");
    if (!fs::is_empty(out, ec) && !fs::exists(out / "tokenizer.tiktoken", ec))
      throw TokenizeError(name + "a directory that holds other files and no llmlab run (no " +
                          "tokenizer.tiktoken): give a new or empty directory");
  } else {
    dir = fs::absolute(out, ec).parent_path();
    while (dir.has_relative_path() && !fs::exists(dir, ec)) dir = dir.parent_path();
    if (!fs::is_directory(dir, ec))
      throw TokenizeError(name + dir.string() + " is not a directory");
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw TokenizeError(name + dir.string() + " is not writable (" + std::strerror(errno) + ")");
}

/// Refuses a model too large for this machine's memory before allocating it: its parameters,
/// gradients and two AdamW moments (16 bytes a parameter) and the activations of a batch of B
/// windows (about \f$ 4 B T (L (16 C + 2 H T) + 2 V) \f$ bytes), counted in double (no overflow).
void check_fits(const ref::GptConfig& c, std::int64_t batch) {
  const auto d = [](std::int64_t v) { return static_cast<double>(v); };
  const double C = d(c.n_embd), T = d(c.block_size), L = d(c.n_layer), V = d(c.vocab_size);
  const double params = V * C + T * C + L * (12 * C * C + 13 * C) + 2 * C;
  const double bytes =
      16 * params + 4 * d(batch) * T * (L * (16 * C + 2 * d(c.n_head) * T) + 2 * V);
  const double memory = d(::sysconf(_SC_PHYS_PAGES)) * d(::sysconf(_SC_PAGE_SIZE));
  if (memory > 0 && bytes > memory) {
    char msg[160];
    std::snprintf(msg, sizeof msg, "%.3g parameters, about %.3g GB to train with batch %lld, more "
                  "than this machine's %.3g GB", params, bytes / 1e9,
                  static_cast<long long>(batch), memory / 1e9);
    throw TokenizeError("the model (" + config_str(c) + ") has " + msg +
                        ": give smaller --layers, --embd, --context or --batch");
  }
}

/// Moves directory `from` to `to` (replacing it): a rename, or a copy across file systems.
void move_dir(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::remove_all(to, ec);
  fs::rename(from, to, ec);
  if (ec) {
    fs::copy(from, to, fs::copy_options::recursive);
    fs::remove_all(from);
  }
}

int train(const TrainCliOptions& o) {
  const SigintGuard guard;
  check_options(o);
  ref::set_cpu_threads(o.threads);  // 0: one per processor
  const fs::path out = !o.out.empty() ? fs::path(o.out)
                       : !o.resume.empty() ? fs::path(o.resume)
                                           : fs::path("runs/default");
  check_out(out);
  const auto given = [&](const char* flag) {
    return std::find(o.given.begin(), o.given.end(), flag) != o.given.end();
  };

  // the data: a prepared directory, text files (prepared now), or the default corpus
  std::vector<std::string> files = o.data;
  if (files.empty() && !o.resume.empty()) {  // the run's data: its data/ (or the link to it)
    const fs::path run_data = fs::path(o.resume) / "data";
    if (!fs::exists(run_data / "train.bin"))
      throw TokenizeError("--resume " + o.resume + ": " + run_data.string() + " is missing" +
                          (fs::is_symlink(run_data) ? " (a link to " +
                                                          fs::read_symlink(run_data).string() + ")"
                                                    : "") +
                          ": give --data, the data the run was trained on");
    files = {run_data.string()};
  }
  if (files.empty()) {
    const char* env_dir = std::getenv("LLMLAB_FORTUNES_DIR");  // the tests' tiny fortune files
    const fs::path dir = env_dir != nullptr ? fs::path(env_dir) : fs::path(kFortunesDir);
    for (const char* name : kDefaultCorpus) {
      const fs::path p = dir / name;
      if (!fs::exists(p))
        throw TokenizeError("the default corpus, Debian's fortunes, is not installed (" +
                            p.string() + " is missing): run scripts/setup.sh (or apt-get " +
                            "install fortunes), or give --data");
      files.push_back(p.string());
    }
    std::printf("llmlab train: the default corpus, %zu fortune files of %s\n", files.size(),
                dir.string().c_str());
  }
  std::optional<AnyTokenizer> run_tok;
  ref::TrainState s;
  if (!o.resume.empty()) {
    run_tok.emplace(load_run_tokenizer(o.resume));
    s = ref::load_checkpoint(fs::path(o.resume) / "model.ckpt");
  }
  DirGuard prepared_now;
  fs::path data_dir;
  if (is_prepared(files)) {
    data_dir = files[0];
  } else {
    PrepareOptions p = o.prepare;
    p.data = files;
    p.seed = o.resume.empty() ? o.seed : static_cast<std::int64_t>(s.opt.seed);  // the run's split
    p.threads = o.threads;
    prepared_now.path = fs::temp_directory_path() /
                        ("llmlab-prepare-" + std::to_string(::getpid()));
    p.out = prepared_now.path.string();
    fs::remove_all(prepared_now.path);
    prepare_data(p, run_tok ? &*run_tok : nullptr, std::cout);
    data_dir = prepared_now.path;
  }
  const bool resumed_tok = run_tok.has_value();
  if (!run_tok) run_tok.emplace(load_run_tokenizer(data_dir));
  const AnyTokenizer& tok = *run_tok;
  if (resumed_tok && file_bytes(data_dir / "tokenizer.tiktoken") !=
                     file_bytes(fs::path(o.resume) / "tokenizer.tiktoken"))
    throw TokenizeError("--data " + data_dir.string() +
                        " was prepared with another tokenizer than the run in --resume " +
                        o.resume);
  const std::int32_t eot = end_of_text(tok);
  const TokenShard train_shard = read_token_shard(data_dir / "train.bin"),
                   val_shard = read_token_shard(data_dir / "val.bin"),
                   test_shard = read_token_shard(data_dir / "test.bin");
  const std::vector<std::int32_t>&train_tokens = train_shard.tokens, &val = val_shard.tokens,
                                 &test = test_shard.tokens;

  const bool model_given = !o.config.empty() || o.layers || o.heads || o.embd || o.context;
  if (!o.resume.empty()) {
    if (static_cast<std::size_t>(s.cfg.vocab_size) < tok.vocab_size())
      throw TokenizeError("--resume " + o.resume + ": the tokenizer has " +
                          std::to_string(tok.vocab_size()) + " tokens, the model " +
                          std::to_string(s.cfg.vocab_size));
    if (model_given) {
      const ref::GptConfig want = wanted_config(o, s.cfg.vocab_size, s.cfg);
      if (want.n_layer != s.cfg.n_layer || want.n_head != s.cfg.n_head ||
          want.n_embd != s.cfg.n_embd || want.block_size != s.cfg.block_size)
        throw TokenizeError("--config/--layers/--heads/--embd/--context ask for " +
                            config_str(want) + ", but the checkpoint in --resume " + o.resume +
                            " has " + config_str(s.cfg));
    }
    for (const char* flag : {"--batch", "--grad-accum", "--lr", "--min-lr", "--warmup",
                             "--weight-decay", "--clip", "--seed", "--tokenizer", "--gpt2",
                             "--vocab-size"})
      if (given(flag))
        throw TokenizeError(std::string(flag) + " is the run's own: --resume " + o.resume +
                            " continues with the options it was started with (only --steps, " +
                            "the total, may change)");
    if (given("--steps")) {
      if (o.steps < s.step)
        throw TokenizeError("--steps " + std::to_string(o.steps) + ": the run in --resume " +
                            o.resume + " is already at step " + std::to_string(s.step) +
                            " (--steps is the total)");
      s.opt.steps = o.steps;
      s.opt.warmup = std::min(s.opt.warmup, o.steps);
    }
  } else {
    ref::TrainOptions t;
    t.batch = o.batch;
    t.grad_accum = o.grad_accum;
    t.steps = o.steps;
    t.warmup = o.warmup == -1 ? o.steps / 10 : o.warmup;
    t.lr = o.lr;
    t.min_lr = o.min_lr;
    t.weight_decay = o.weight_decay;
    t.clip = o.clip;
    t.seed = static_cast<std::uint64_t>(o.seed);
    const ref::GptConfig cfg = wanted_config(o, static_cast<std::int64_t>(tok.vocab_size()));
    ref::gpt_check_config(cfg);
    check_fits(cfg, o.batch);
    s = ref::train_init(cfg, t);
  }
  const std::int64_t T = s.cfg.block_size;
  for (const auto& [name, split] : {std::pair{"train", &train_tokens}, std::pair{"validation", &val},
                                    std::pair{"test", &test}})
    if (static_cast<std::int64_t>(split->size()) < T + 1)
      throw TokenizeError("--data: the " + std::string(name) + " split has " +
                          std::to_string(split->size()) + " tokens, fewer than one context " +
                          "window of " + std::to_string(T + 1) +
                          ": give more text or more documents (--delimiter), or a smaller " +
                          "--context");

  const double unigram =
      unigram_loss(train_tokens, val, static_cast<std::size_t>(s.cfg.vocab_size));
  std::printf("llmlab train: %zu tokens (%zu train, %zu validation, %zu test), vocabulary %zu\n",
              train_tokens.size() + val.size() + test.size(), train_tokens.size(), val.size(),
              test.size(), tok.vocab_size());
  std::printf("model: %lld layers, %lld heads, width %lld, context %lld: %lld parameters; "
              "batch %lld (%lld micro-batches), %lld steps\n",
              static_cast<long long>(s.cfg.n_layer), static_cast<long long>(s.cfg.n_head),
              static_cast<long long>(s.cfg.n_embd), static_cast<long long>(T),
              static_cast<long long>(ref::gpt_num_params(s.cfg)),
              static_cast<long long>(s.opt.batch), static_cast<long long>(s.opt.grad_accum),
              static_cast<long long>(s.opt.steps));
  std::printf("unigram baseline: validation loss %.4f (perplexity %.1f)\n", unigram,
              std::exp(unigram));
  std::fflush(stdout);

  // the backend before anything is written: one that cannot start leaves no run directory
  const std::unique_ptr<TrainBackend> backend = make_train_backend(o.backend, o.dtype, s);
  if (g_interrupted) {
    std::printf("interrupted (SIGINT) before the first step: nothing written\n");
    return 130;
  }
  const bool created_out = !fs::exists(out);
  try {
    fs::create_directories(out);
  } catch (const fs::filesystem_error& e) {
    throw TokenizeError("--out " + out.string() + ": cannot create it (" + e.code().message() +
                        ")");
  }
  DirGuard remove_out;  // a run that ends before its first checkpoint leaves no directory
  if (created_out) remove_out.path = out;
  if (!prepared_now.path.empty()) {
    move_dir(prepared_now.path, out / "data");
    prepared_now.path.clear();
  } else if (std::error_code ec; !fs::equivalent(out / "data", data_dir, ec)) {
    // a prepared directory elsewhere: out/data links to it (replacing an earlier run's data), so
    // that --resume finds the same data
    fs::remove_all(out / "data");
    fs::create_directory_symlink(fs::absolute(data_dir), out / "data");
  }
  const std::int64_t raise_at = sigint_at();
  TrainProgress bar(s.step, s.opt.steps);
  save_run_tokenizer(tok, out);
  std::vector<nlohmann::json> metrics;
  if (!o.resume.empty()) metrics = read_metrics(o.resume, s.step);
  const auto eval = [&](std::span<const std::int32_t> split) {
    backend->sync(s);
    return ref::evaluate(s.cfg, s.params, split, s.opt.batch, T, 64);
  };
  std::error_code same_ec;  // the step of the checkpoint in out (-1: none), and of the first save
  std::int64_t saved = !o.resume.empty() && fs::equivalent(out, o.resume, same_ec) ? s.step : -1;
  std::int64_t first_save = std::min((s.step / o.eval_every + 1) * o.eval_every, s.opt.steps);
  if (o.stop_at > s.step) first_save = std::min(first_save, o.stop_at);
  const auto save = [&] {  // the checkpoint, the metrics up to it and the curve, together
    backend->sync(s);
    save_run_checkpoint(s, out);  // model.ckpt and model.safetensors
    write_metrics(out, metrics);
    write_loss_svg(out / "loss.svg", metrics);
    saved = s.step;
    remove_out.path.clear();
  };
  // A step that failed or diverged: the error names it, and what is kept; nothing is saved.
  const auto stop = [&](const std::string& what) {
    bar.clear();
    if (saved < 0)
      return TokenizeError(what + "; no checkpoint had been written yet (the first comes at " +
                           "step " + std::to_string(first_save) +
                           (created_out ? "): the run directory is removed" : ")"));
    write_metrics(out, metrics);
    return TokenizeError(what + "; the last good checkpoint, " + (out / "model.ckpt").string() +
                         " (step " + std::to_string(saved) + "), is kept");
  };
  double val_loss = NAN;
  while (s.step < s.opt.steps) {
    const auto t0 = std::chrono::steady_clock::now();
    ref::StepStats st;
    try {
      st = backend->step(s, train_tokens);
    } catch (const std::exception& e) {
      throw stop(e.what());
    }
    if (!std::isfinite(st.loss) || !std::isfinite(st.grad_norm))
      throw stop("step " + std::to_string(s.step) + ": the loss is " + std::to_string(st.loss) +
                 " and the gradient norm " + std::to_string(st.grad_norm) +
                 ": training diverged (a smaller --lr?)");
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const double tok_s = static_cast<double>(s.opt.batch * T) / ms * 1e3;
    nlohmann::json m = {{"step", s.step}, {"loss", st.loss},  {"lr", st.lr},
                        {"grad_norm", st.grad_norm}, {"ms", ms}, {"tok_s", tok_s}};
    const bool last = s.step == s.opt.steps || s.step == o.stop_at;
    const bool evaluated = s.step % o.eval_every == 0 || last;
    if (evaluated) {
      val_loss = eval(val);
      if (!std::isfinite(val_loss))
        throw stop("step " + std::to_string(s.step) + ": the validation loss is " +
                   std::to_string(val_loss) + ": training diverged (a smaller --lr?)");
      m["val_loss"] = val_loss;
      m["val_ppl"] = std::exp(val_loss);
    }
    metrics.push_back(m);
    if (evaluated) save();
    bar.update(s.step, st.loss, tok_s);
    if ((!bar.active() && s.step % o.log_every == 0) || s.step == 1 || last || evaluated) {
      bar.clear();
      std::printf("step %5lld/%lld | loss %.4f | lr %.2e | norm %.3f | %.1f ms | %.0f tok/s",
                  static_cast<long long>(s.step), static_cast<long long>(s.opt.steps), st.loss,
                  st.lr, st.grad_norm, ms, tok_s);
      if (m.contains("val_loss"))
        std::printf(" | val loss %.4f ppl %.2f", val_loss, std::exp(val_loss));
      std::printf("\n");
      std::fflush(stdout);
    }
    if (s.step == raise_at) std::raise(SIGINT);
    if (g_interrupted) {
      bar.clear();
      if (!evaluated) save();
      std::printf("interrupted (SIGINT) after step %lld: %s saved; continue with --resume %s\n",
                  static_cast<long long>(s.step), (out / "model.ckpt").string().c_str(),
                  out.string().c_str());
      return 130;
    }
    if (s.step == o.stop_at) break;
  }
  bar.clear();
  write_metrics(out, metrics);
  write_loss_svg(out / "loss.svg", metrics);
  if (std::isnan(val_loss)) val_loss = eval(val);
  std::printf("validation loss %.4f (perplexity %.2f) vs the unigram baseline %.4f (%.1f)\n",
              val_loss, std::exp(val_loss), unigram, std::exp(unigram));
  const double test_loss = eval(test);
  std::printf("test loss %.4f (perplexity %.2f)\n", test_loss, std::exp(test_loss));
  backend->sync(s);
  for (std::int64_t i = 0; i < o.samples; ++i) {  // a fresh document after <|endoftext|>
    const auto ids = ref::generate(s.cfg, s.params, {eot}, 48, 0.8, 40,
                                   static_cast<std::uint64_t>(o.seed + i));
    std::vector<ref::TokenId> text;
    for (std::size_t k = 1; k < ids.size() && ids[k] != eot; ++k)
      text.push_back(static_cast<ref::TokenId>(ids[k]));
    std::printf("sample %lld: %s\n", static_cast<long long>(i + 1), tok.decode(text).c_str());
  }
  std::printf(
      "wrote %s (model.ckpt, model.safetensors, tokenizer.tiktoken, metrics.jsonl, loss.svg, data/)\n",
      out.string().c_str());
  return 0;
}

}  // namespace

int run_train(const TrainCliOptions& opts) {
  try {
    return train(opts);
  } catch (const std::bad_alloc&) {
    std::cerr << "llmlab train: out of memory: give a smaller model or batch\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "llmlab train: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace llmlab::app
