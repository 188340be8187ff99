/// \file
/// \brief Inputs, atomic outputs, vocabularies with their specials sidecar, chunk cut points.

#include "tokenize/files.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>
#include <utility>

#include "tokenize/tokenize.hpp"

namespace llmlab::app {

std::string read_input(const std::string& path) {
  if (path == "-") {
    std::ostringstream all;
    all << std::cin.rdbuf();
    if (std::cin.bad()) throw TokenizeError("cannot read the standard input");
    return all.str();
  }
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw TokenizeError("cannot read input file '" + path + "': it is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TokenizeError("cannot read input file '" + path + "': " + std::strerror(errno));
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) throw TokenizeError("cannot read input file '" + path + "'");
  return text;
}

ref::SpecialPolicy special_policy(const TokenizeOptions& opts) {
  if (opts.allow_special) return ref::SpecialPolicy::allow;
  if (opts.special_as_text) return ref::SpecialPolicy::plain_text;
  return ref::SpecialPolicy::error;
}

std::vector<ref::TokenId> encode_text(const AnyTokenizer& tok, std::string_view text,
                                      ref::SpecialPolicy policy, std::size_t base) {
  if (policy == ref::SpecialPolicy::error) {
    // The first special token in the text (the longest where several start at the same byte).
    std::size_t at = std::string_view::npos;
    const std::pair<const std::string, ref::TokenId>* found = nullptr;
    for (const auto& special : tok.special_tokens()) {
      const std::size_t p = text.find(special.first);
      if (p < at ||
          (p == at && p != std::string_view::npos && special.first.size() > found->first.size())) {
        at = p;
        found = &special;
      }
    }
    if (found != nullptr)
      throw TokenizeError("the input contains the special token '" + found->first + "' at byte " +
                          std::to_string(base + at) + ": --allow-special encodes it as its id (" +
                          std::to_string(found->second) + "), --special-as-text as ordinary text");
  }
  return tok.encode(text, policy);
}

std::filesystem::path specials_sidecar(const std::filesystem::path& vocab) {
  std::filesystem::path sidecar = vocab;
  sidecar += ".specials.json";
  return sidecar;
}

AnyTokenizer load_vocab(const TokenizeOptions& opts) {
  const std::filesystem::path path = opts.vocab;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw TokenizeError(
        "vocabulary file '" + opts.vocab + "' does not exist" +
        (opts.gpt2 ? " (scripts/setup.sh downloads GPT-2's to vocab/gpt2.tiktoken)" : ""));
  if (opts.gpt2)
    return AnyTokenizer::from_tiktoken(opts.backend, opts.vocab, {{"<|endoftext|>", 50256}});

  std::vector<std::pair<std::string, ref::TokenId>> specials;
  const std::filesystem::path sidecar = specials_sidecar(path);
  if (std::filesystem::exists(sidecar, ec)) {
    const std::string text = read_input(sidecar.string());
    const auto bad = [&](const std::string& why) {
      return TokenizeError("special tokens file '" + sidecar.string() + "': " + why);
    };
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      throw bad(std::string("not valid JSON: ") + e.what());
    }
    if (!j.is_object()) throw bad("expected a JSON object {\"<|token|>\": id, ...}");
    for (const auto& [token, id] : j.items()) {
      if (!id.is_number_unsigned() || id.get<std::uint64_t>() > 0xfffffffeu)
        throw bad("the id of '" + token + "' is not a number from 0 to 4294967294");
      specials.emplace_back(token, id.get<ref::TokenId>());
    }
  }
  return AnyTokenizer::from_tiktoken(opts.backend, opts.vocab, specials);
}

OutputFile::OutputFile(const std::string& path) {
  if (path.empty() || path == "-") {
    to_stdout_ = true;
    return;
  }
  path_ = path;
  temp_ = path_;
  temp_ += ".tmp-" + std::to_string(::getpid());
  file_.open(temp_, std::ios::binary | std::ios::trunc);
  if (!file_)
    throw TokenizeError("cannot create output file '" + temp_.string() +
                        "': " + std::strerror(errno));
}

OutputFile::~OutputFile() {
  if (to_stdout_ || committed_) return;
  file_.close();
  std::error_code ignored;
  std::filesystem::remove(temp_, ignored);
}

std::ostream& OutputFile::stream() { return to_stdout_ ? std::cout : file_; }

void OutputFile::commit() {
  if (to_stdout_) {
    std::cout.flush();
    if (!std::cout) throw TokenizeError("cannot write to the standard output");
    committed_ = true;
    return;
  }
  file_.close();
  if (!file_) throw TokenizeError("cannot write output file '" + temp_.string() + "'");
  std::error_code ec;
  std::filesystem::rename(temp_, path_, ec);
  if (ec)
    throw TokenizeError("cannot rename '" + temp_.string() + "' to '" + path_.string() +
                        "': " + ec.message());
  committed_ = true;
}

std::vector<std::size_t> chunk_ends(std::string_view text, std::size_t chunk,
                                    const std::map<std::string, ref::TokenId>& specials) {
  std::vector<std::size_t> ends;
  bool can_cut = chunk > 0;
  for (const auto& [special, id] : specials)
    if (special.find('\n') != std::string::npos) can_cut = false;
  const auto printable = [&](std::size_t i) {
    const auto c = static_cast<unsigned char>(text[i]);
    return c >= 0x21 && c <= 0x7e;
  };
  std::size_t start = 0;
  while (can_cut && text.size() - start > chunk) {
    // The first cut point at or after start + chunk: i with text[i−1] = '\n' between printables.
    std::size_t i = start + chunk;
    for (; i < text.size(); ++i)
      if (i >= 2 && text[i - 1] == '\n' && printable(i - 2) && printable(i)) break;
    if (i >= text.size()) break;
    ends.push_back(i);
    start = i;
  }
  ends.push_back(text.size());
  return ends;
}

}  // namespace llmlab::app
