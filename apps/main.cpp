/// \file
/// \brief The `llmlab` command line.
///
///     llmlab verify <component|all> [--backend emu|gpu] [--impl libmine.so] [--partial] [--json]
///                   [--timeout SECONDS]
///     llmlab describe <component|all> [--json] [--out DIR]   (verify/describe.hpp)
///     llmlab tokenize train|encode|decode|stats ...   (tokenize/tokenize.hpp)
///     llmlab data prepare --data FILE... --out DIR ...   (data/prepare.hpp)
///     llmlab train --data FILE... --out DIR ... / llmlab generate|eval --checkpoint DIR ...
///     (train/train.hpp)
///
/// Exit codes: 0 every check passed; 1 some check failed; 2 the checks could not run (unknown
/// component, a library that does not load or lacks a symbol, no device, a bad command line).

#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

#include "data/prepare.hpp"
#include "tokenize/files.hpp"
#include "tokenize/tokenize.hpp"
#include "train/train.hpp"
#include "verify/describe.hpp"
#include "verify/library.hpp"
#include "verify/registry.hpp"
#include "verify/verify.hpp"

namespace {

/// "unknown command 'x'; `llmlab tokenize` has: train, encode, decode, stats" when argv names a
/// command that does not exist (CLI11 would only say "A subcommand is required"); "" otherwise.
std::string unknown_command(CLI::App& app, int argc, char** argv) {
  CLI::App* at = &app;
  std::string path = "llmlab";
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    const auto subs = at->get_subcommands([](CLI::App*) { return true; });
    if (word.empty() || word[0] == '-' || subs.empty()) return "";
    CLI::App* next = nullptr;
    std::string names;
    for (CLI::App* sub : subs) {
      if (sub->check_name(word)) next = sub;
      names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    if (next == nullptr)
      return "unknown command '" + llmlab::app::excerpt(word, 40) + "'; `" + path +
             "` has: " + names;
    at = next;
    path += " " + word;
  }
  return "";
}

}  // namespace

/// Parses the command line, runs the subcommand, and returns the exit code (0, 1 or 2 as above).
int main(int argc, char** argv) {
  using namespace llmlab::app;
  CLI::App app{
      "llmlab — every piece of training a GPT, written twice, and an oracle that proves they "
      "agree"};
  app.require_subcommand(1);

  VerifyOptions opts;
  CLI::App* verify = app.add_subcommand(
      "verify",
      "Check a kernel library against the reference in double, with the oracle's ratio rule");
  verify
      ->add_option("component", opts.component,
                   "What to check: all, or one of: " + component_names())
      ->required();
  CLI::Option* backend = verify
                             ->add_option("--backend", opts.backend,
                                          "Our kernels to check: emu (the CPU emulator) or gpu")
                             ->check(CLI::IsMember({"emu", "gpu"}))
                             ->capture_default_str();
  verify
      ->add_option("--impl", opts.impl,
                   "Your kernel library (.so) exporting the C symbols of "
                   "<llmlab/cuda/abi/<component>.h> (`llmlab describe <component>` lists them)")
      ->check(CLI::Validator([](std::string& p) { return impl_problem(p); }, "PATH", "kernel library"))
      ->excludes(backend);
  verify
      ->add_option("--timeout", opts.timeout_s,
                   "Seconds one case may run before it is stopped and reported as FAIL")
      ->check(CLI::Range(0.001, 86400.0))
      ->capture_default_str();
  verify->add_flag("--json", opts.json, "Print one JSON document instead of the table");
  verify->add_flag("--partial", opts.partial,
                   "Check only the C functions the library exports and list the others' cases as "
                   "NOT CHECKED (for a lab that writes part of a component); without it a missing "
                   "function is an error");
  std::string components_help;
  for (const auto& c : components()) components_help += "\n  " + c.name() + ": " + c.card.summary;
  verify->footer("Components:" + components_help +
                 "\nExit code: 0 all passed, 1 some failed, 2 could not run.");

  DescribeOptions describe_opts;
  CLI::App* describe = app.add_subcommand(
      "describe",
      "A component's page: its C symbols, outputs and oracle rules, Python names and sweep");
  describe
      ->add_option("component", describe_opts.component,
                   "all, or one of: " + component_names())
      ->required();
  describe->add_flag("--json", describe_opts.json, "One JSON document instead of Markdown");
  describe->add_option("--out", describe_opts.out_dir,
                       "Write component_<name>.md per component into this directory");

  TokenizeOptions tokenize_opts;
  const TokenizeCommands tokenize = add_tokenize_commands(app, tokenize_opts);
  PrepareOptions prepare_opts;
  CLI::App* data = add_data_command(app, prepare_opts);
  TrainCliOptions train_opts;
  CLI::App* train = add_train_command(app, train_opts);
  GenerateCliOptions generate_opts;
  CLI::App* generate = add_generate_command(app, generate_opts);
  EvalCliOptions eval_opts;
  CLI::App* eval = add_eval_command(app, eval_opts);

  if (const std::string bad = unknown_command(app, argc, argv); !bad.empty()) {
    std::cerr << "llmlab: " << bad << "\n";
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  try {
    if (verify->parsed()) return run_verify(opts, std::cout);
    if (describe->parsed()) return run_describe(describe_opts, std::cout);
    if (tokenize.group->parsed()) return run_tokenize(tokenize, tokenize_opts);
    if (data->parsed()) return run_data_prepare(prepare_opts);
    if (train->parsed()) return run_train(train_opts);
    if (generate->parsed()) return run_generate(generate_opts);
    if (eval->parsed()) return run_eval(eval_opts);
  } catch (const SetupError& e) {
    std::cerr << "llmlab " << (describe->parsed() ? "describe" : "verify") << ": " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "llmlab: error: " << llmlab::app::excerpt(e.what()) << "\n";
    return 2;
  }
  return 0;
}
