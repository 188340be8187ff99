/// \file
/// \brief Inputs, atomic outputs, vocabularies with their specials sidecar, chunk cut points.

#include "tokenize/files.hpp"

#include <signal.h>
#include <unistd.h>

#include <array>
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
namespace {

// Temporary files for the signal handler to remove: fixed storage, since a handler may call only
// async-signal-safe functions (unlink, signal, raise).
constexpr int kTemps = 8;
std::array<std::array<char, 4096>, kTemps> g_temp_paths;
volatile sig_atomic_t g_temp_used[kTemps] = {};

extern "C" void remove_temps_then_die(int sig) {
  for (int i = 0; i < kTemps; ++i)
    if (g_temp_used[i]) ::unlink(g_temp_paths[static_cast<std::size_t>(i)].data());
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

}  // namespace

int remove_on_signal(const std::filesystem::path& path) {
  static const bool installed = [] {
    for (const int sig : {SIGINT, SIGTERM, SIGHUP}) {
      struct sigaction old {};
      // Only where the signal still has its default action: one ignored when we started (nohup,
      // a background job) stays ignored, and one the program handles itself (llmlab train saves
      // and stops cleanly on SIGINT, removing nothing half-written) keeps its handler.
      if (::sigaction(sig, nullptr, &old) == 0 && !(old.sa_flags & SA_SIGINFO) &&
          old.sa_handler == SIG_DFL)
        ::signal(sig, remove_temps_then_die);
    }
    return true;
  }();
  (void)installed;
  const std::string& p = path.native();
  if (p.size() >= g_temp_paths[0].size()) return -1;
  for (int i = 0; i < kTemps; ++i)
    if (!g_temp_used[i]) {
      auto& slot = g_temp_paths[static_cast<std::size_t>(i)];
      std::copy(p.begin(), p.end(), slot.begin());
      slot[p.size()] = '\0';
      g_temp_used[i] = 1;
      return i;
    }
  return -1;
}

void forget_on_signal(int ticket) {
  if (ticket >= 0 && ticket < kTemps) g_temp_used[ticket] = 0;
}

std::string excerpt(std::string_view message, std::size_t limit) {
  if (message.size() <= limit) return std::string(message);
  std::size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(message[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
  return std::string(message.substr(0, cut)) + "… (" + std::to_string(message.size() - cut) +
         " more bytes not shown)";
}

OutputTarget resolve_output(const std::string& out, const std::vector<std::string>& inputs,
                            bool may_stream) {
  namespace fs = std::filesystem;
  std::error_code ec;
  OutputTarget t;
  t.path = out;
  if (fs::is_symlink(fs::symlink_status(t.path, ec))) {
    t.path = fs::weakly_canonical(t.path, ec);  // write through: replace the target, keep the link
    if (ec) throw TokenizeError("--out '" + out + "': cannot follow the link: " + ec.message());
  }
  for (const std::string& in : inputs)
    if (in != "-" && fs::equivalent(t.path, in, ec))
      throw TokenizeError("--out '" + out + "' is the input file '" + in +
                          "': writing it would destroy the input");
  const fs::file_status st = fs::status(t.path, ec);
  if (fs::is_directory(st))
    throw TokenizeError("--out '" + out + "' is a directory; give a file name in it");
  if (fs::exists(st) && !fs::is_regular_file(st)) {
    if (!may_stream)
      throw TokenizeError("--out '" + out +
                          "' is not a regular file (a FIFO, device or socket); this command "
                          "writes a file next to it, so give a file name");
    t.stream_into = true;
    return t;
  }
  if (fs::exists(st)) t.perms = st.permissions();
  const fs::path dir = t.path.parent_path();
  if (!dir.empty() && !fs::is_directory(dir, ec))
    throw TokenizeError("cannot write --out '" + out + "': the directory '" + dir.string() +
                        (fs::exists(dir, ec) ? "' is not a directory" : "' does not exist"));
  return t;
}

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
  if (std::filesystem::is_directory(path, ec))
    throw TokenizeError("--vocab '" + opts.vocab + "' is a directory, not a vocabulary file");
  if (!std::filesystem::is_regular_file(path, ec))
    throw TokenizeError(
        "vocabulary file '" + opts.vocab + "' does not exist" +
        (opts.gpt2 ? " (scripts/setup.sh downloads GPT-2's to vocab/gpt2.tiktoken)" : ""));
  if (opts.gpt2) {
    AnyTokenizer tok = AnyTokenizer::from_tiktoken(opts.backend, opts.vocab, {});
    // GPT-2's: 50256 mergeable tokens, "hello" = 31373 and " world" = 995 (tiktoken's gpt2).
    const ref::TokenId hello[] = {31373}, world[] = {995};
    if (tok.mergeable_count() != 50256 || tok.decode(hello) != "hello" ||
        tok.decode(world) != " world")
      throw TokenizeError("--gpt2: '" + opts.vocab + "' is not GPT-2's vocabulary (it has " +
                          std::to_string(tok.mergeable_count()) +
                          " tokens; GPT-2's has 50256, with \"hello\" = 31373), so "
                          "<|endoftext|> = 50256 would be wrong; leave out --gpt2");
    return AnyTokenizer::from_tiktoken(opts.backend, opts.vocab, {{"<|endoftext|>", 50256}});
  }

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

OutputFile::OutputFile(const std::string& path, const std::vector<std::string>& inputs) {
  if (path.empty() || path == "-") {
    to_stdout_ = true;
    return;
  }
  target_ = resolve_output(path, inputs, /*may_stream=*/true);
  if (target_.stream_into) {  // a FIFO or device: write into it, there is nothing to rename
    file_.open(target_.path, std::ios::binary | std::ios::out);
    if (!file_)
      throw TokenizeError("cannot open output '" + path + "': " + std::strerror(errno));
    return;
  }
  temp_ = target_.path;
  temp_ += ".tmp-" + std::to_string(::getpid());
  ticket_ = remove_on_signal(temp_);
  file_.open(temp_, std::ios::binary | std::ios::trunc);
  if (!file_) {
    forget_on_signal(ticket_);
    throw TokenizeError("cannot create output file '" + temp_.string() +
                        "': " + std::strerror(errno));
  }
}

OutputFile::~OutputFile() {
  if (to_stdout_ || committed_ || target_.stream_into) return;
  file_.close();
  std::error_code ignored;
  std::filesystem::remove(temp_, ignored);
  forget_on_signal(ticket_);
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
  if (target_.stream_into) {
    if (!file_) throw TokenizeError("cannot write to '" + target_.path.string() + "'");
    committed_ = true;
    return;
  }
  if (!file_) throw TokenizeError("cannot write output file '" + temp_.string() + "'");
  std::error_code ec;
  if (target_.perms) std::filesystem::permissions(temp_, *target_.perms, ec);
  std::filesystem::rename(temp_, target_.path, ec);
  if (ec)
    throw TokenizeError("cannot rename '" + temp_.string() + "' to '" + target_.path.string() +
                        "': " + ec.message());
  forget_on_signal(ticket_);
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
