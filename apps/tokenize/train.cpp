/// \file
/// \brief `llmlab tokenize train`: the reference trainer on text files, written as .tiktoken plus
/// the specials sidecar.

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "tokenize/files.hpp"
#include "tokenize/progress.hpp"
#include "tokenize/tokenize.hpp"

namespace llmlab::app {

void tokenize_train(const TokenizeOptions& opts) {
  std::set<std::string> seen;
  for (const std::string& s : opts.specials) {
    if (s.empty()) throw TokenizeError("--special: a special token cannot be empty");
    if (!seen.insert(s).second) throw TokenizeError("--special '" + s + "' is given twice");
  }
  if (opts.vocab_size < 256 + opts.specials.size())
    throw TokenizeError("--vocab-size " + std::to_string(opts.vocab_size) +
                        " is below 256 bytes + " + std::to_string(opts.specials.size()) +
                        " special token(s)");

  std::vector<std::string> texts;
  std::size_t total = 0;
  for (const std::string& path : opts.inputs) {
    texts.push_back(read_input(path));
    total += texts.back().size();
  }
  if (total == 0) throw TokenizeError("the input files hold no text to learn from");

  status_line("training a " + std::to_string(opts.vocab_size) + "-token vocabulary on " +
              std::to_string(total) + " bytes ...");
  const AnyTokenizer tok = AnyTokenizer::train(opts.backend, texts, opts.vocab_size, opts.specials);
  status_line("");

  // The specials sidecar goes to a temporary file first, the vocabulary is saved (itself through a
  // temporary file), and only then is the sidecar renamed into place.
  nlohmann::json specials = nlohmann::json::object();
  for (const auto& [text, id] : tok.special_tokens()) specials[text] = id;
  OutputFile sidecar(specials_sidecar(opts.out).string());
  sidecar.stream() << specials.dump(2) << "\n";
  tok.save_tiktoken(opts.out);
  sidecar.commit();
}

}  // namespace llmlab::app
