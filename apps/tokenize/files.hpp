#pragma once
/// \file
/// \brief What the `tokenize` commands share: reading inputs, writing outputs atomically, loading
/// a vocabulary with its specials sidecar, and the cut points of the chunked encode.

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iosfwd>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "llmlab/ref/tokenizer.hpp"
#include "tokenize/backend.hpp"

namespace llmlab::app {

struct TokenizeOptions;

/// An error of the command line's own (a file, an option); the message is the whole sentence.
struct TokenizeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// `message` cut to at most `limit` bytes ("…" and the number of bytes left out after the cut), so
/// that an error quoting a bad input stays one readable line.
std::string excerpt(std::string_view message, std::size_t limit = 300);

/// The whole contents of `path`, or of stdin for "-".
/// @throws TokenizeError "cannot read input file 'PATH': REASON"
std::string read_input(const std::string& path);

/// The special-token policy the flags ask for: --allow-special, --special-as-text, or by default
/// an error (tiktoken's default).
ref::SpecialPolicy special_policy(const TokenizeOptions& opts);

/// tok.encode(text, policy), where `text` starts at byte `base` of the input; under the default
/// policy a special token in the text is refused with the command line's ways out.
/// @throws TokenizeError "the input contains the special token 'T' at byte N: --allow-special
///         encodes it as its id (I), --special-as-text as ordinary text"
std::vector<ref::TokenId> encode_text(const AnyTokenizer& tok, std::string_view text,
                                      ref::SpecialPolicy policy, std::size_t base);

/// Where the specials of a trained vocabulary are kept: `PATH.specials.json`.
std::filesystem::path specials_sidecar(const std::filesystem::path& vocab);

/// The tokenizer of `opts.vocab` on `opts.backend`: GPT-2's with `--gpt2` (<|endoftext|> = 50256),
/// else the .tiktoken file with the special tokens of its sidecar (none without a sidecar).
/// @throws TokenizeError naming the path when the file does not exist or the sidecar is not a JSON
///         object of text → id; llmlab::Error from the reference when the file does not parse.
AnyTokenizer load_vocab(const TokenizeOptions& opts);

/// What an `--out PATH` really names, checked before anything is written.
struct OutputTarget {
  std::filesystem::path path;  ///< the file to replace: PATH, or a symlink's target (the link stays)
  bool stream_into = false;    ///< PATH is a FIFO, a device or a socket: write into it, never replace
  std::optional<std::filesystem::perms> perms;  ///< an existing file's permissions, to keep
};

/// Resolves and checks `out` (docs/hostile_input.md): a symlink is written through (its target is
/// replaced, the link kept); a FIFO, device or socket is written into when `may_stream`, else
/// refused; a directory, a missing output directory and a path that is one of `inputs` are refused.
/// @throws TokenizeError naming the path and what is wrong
OutputTarget resolve_output(const std::string& out, const std::vector<std::string>& inputs,
                            bool may_stream);

/// Removes `path` if SIGINT, SIGTERM or SIGHUP ends the process before forget_on_signal(); the
/// handler (installed once) then lets the signal end the process as it would have.
/// @returns a ticket for forget_on_signal (−1 when the table of 8 is full: nothing is removed)
int remove_on_signal(const std::filesystem::path& path);
/// The file of `ticket` is no longer the signal handler's to remove.
void forget_on_signal(int ticket);

/// An output file written to `PATH.tmp-PID` and renamed to PATH by commit(); destroyed without
/// commit() (an error on the way) or ended by SIGINT/SIGTERM, the temporary file is removed and
/// PATH is untouched. An existing PATH keeps its permissions; a symlink is written through; a FIFO
/// or device is written into directly (resolve_output). Path "" or "-" is stdout (commit()
/// flushes it).
class OutputFile {
 public:
  /// @param path where the output goes ("" or "-": stdout)
  /// @param inputs the command's input files, which `path` must not be
  /// @throws TokenizeError from resolve_output, or "cannot create output file 'PATH': REASON"
  explicit OutputFile(const std::string& path, const std::vector<std::string>& inputs = {});
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  /// Where to write.
  std::ostream& stream();
  /// Closes and renames into place. @throws TokenizeError when writing or renaming failed.
  void commit();

 private:
  OutputTarget target_;
  std::filesystem::path temp_;
  std::ofstream file_;
  int ticket_ = -1;
  bool to_stdout_ = false;
  bool committed_ = false;
};

/// Where `text` may be cut into chunks of about `chunk` bytes that encode independently to the
/// same ids as the whole: right after a '\n' that follows and precedes a printable ASCII
/// character (0x21–0x7e). There the whitespace run is the '\n' alone, so GPT-2's pattern ends a
/// pre-token before it and makes it a pre-token of its own whether or not the text goes on, and
/// the next pre-token starts after it either way; no special token without a '\n' can straddle
/// it, and valid UTF-8 stays valid on both sides. Returns the chunks' end offsets (the last is
/// text.size()); one chunk when there is no cut point, or when one of `specials` contains '\n'.
std::vector<std::size_t> chunk_ends(std::string_view text, std::size_t chunk,
                                    const std::map<std::string, ref::TokenId>& specials);

}  // namespace llmlab::app
