/// \file
/// \ingroup group_gpt
/// \brief `llmlab eval`: a run's checkpoint scored on text files by mean loss and perplexity
/// (train/train.hpp).

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <vector>

#include "llmlab/ref/train.hpp"
#include "tokenize/files.hpp"
#include "train/run_files.hpp"
#include "train/train.hpp"

namespace llmlab::app {

CLI::App* add_eval_command(CLI::App& app, EvalCliOptions& o) {
  CLI::App* c = app.add_subcommand("eval", "Score a trained checkpoint on text: loss, perplexity");
  c->add_option("--checkpoint", o.checkpoint, "A run's directory (llmlab train --out)")
      ->required()
      ->check(CLI::ExistingDirectory);
  c->add_option("--data", o.data, "Text files")->required()->check(CLI::ExistingFile);
  c->add_option("--max-windows", o.max_windows, "Context windows scored at most")
      ->capture_default_str();
  return c;
}

int run_eval(const EvalCliOptions& o) {
  try {
    const auto [tok, s] = load_run(o.checkpoint);
    std::vector<std::int32_t> tokens;
    for (const std::string& path : o.data) {
      const auto ids = tok.encode(read_input(path), ref::SpecialPolicy::plain_text);
      tokens.insert(tokens.end(), ids.begin(), ids.end());
    }
    if (static_cast<std::int64_t>(tokens.size()) < s.cfg.block_size + 1)
      throw TokenizeError("--data: " + std::to_string(tokens.size()) +
                          " tokens, fewer than one context window of " +
                          std::to_string(s.cfg.block_size + 1));
    const double loss =
        ref::evaluate(s.cfg, s.params, tokens, s.opt.batch, s.cfg.block_size, o.max_windows);
    const auto windows =
        std::min<std::int64_t>((static_cast<std::int64_t>(tokens.size()) - 1) / s.cfg.block_size,
                               std::max<std::int64_t>(o.max_windows, 1));
    std::printf("loss %.4f perplexity %.2f (%lld windows of %lld tokens, step %lld)\n", loss,
                std::exp(loss), static_cast<long long>(windows),
                static_cast<long long>(s.cfg.block_size), static_cast<long long>(s.step));
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "llmlab eval: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace llmlab::app
