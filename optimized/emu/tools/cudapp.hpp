#pragma once
/// \file
/// \ingroup group_emulator
/// \brief llmlab-cudapp: turns ordinary CUDA source into C++ the emulator compiles (docs/cuda_code.md).
///
/// A small tokenizer (comments, string/char/raw-string literals, preprocessor lines, bracket
/// nesting) finds, outside comments and literals:
/// - launches `callee<<<config>>>(args)` → `launch_chevrons(Chevrons(config), "callee",
///   [&](auto&&... a) { callee(a...); }, args)` (of llmlab::emu), so the kernel is chosen exactly as a call
///   would choose it (overloads, template argument deduction);
/// - `extern __shared__ [attributes] T name[];` → a `T*` to the block's dynamic shared memory (a
///   local pointer in a function, a macro at namespace scope);
/// - constructs the emulator does not run (inline `asm`, textures and surfaces, CUDA graphs, a launch
///   inside a `__global__` function) → a `#pragma GCC error` naming the construct, so g++ refuses the
///   file at that line only if the code is really compiled (not in an `#if __CUDA_ARCH__` branch).
/// Line numbers are kept: the output starts with `#line 1 "file"` and every replacement keeps its
/// newlines, so compiler errors and emulator diagnostics name the user's file and line.

#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace llmlab::cudapp {

/// A source the preprocessor cannot read (an unterminated launch, comment or literal).
struct SyntaxError : std::runtime_error {
  /// `line` is 1-based; `what()` is "file:line: error: message".
  SyntaxError(const std::string& file, int line, const std::string& message)
      : std::runtime_error(file + ":" + std::to_string(line) + ": error: llmlab-cudapp: " + message),
        line(line) {}
  int line;  ///< the 1-based line of the problem
};

/// Where rewritten local headers go, and what the output depends on.
struct Options {
  /// If not empty: a header included as `#include "x"` from next to the file (recursively) that
  /// holds a launch or `extern __shared__` is rewritten into this directory and included from there.
  std::string header_dir;
  /// If set: receives every local header found (for a depfile), rewritten or not.
  std::vector<std::string>* dependencies = nullptr;
  /// Internal: the headers being rewritten (include cycles stop here).
  std::set<std::string>* visiting = nullptr;
};

/// The emulator-ready C++ for CUDA `source` read from `file` (the name written into `#line`;
/// local headers are resolved next to it). The result first includes `<llmlab/emu/chevrons.hpp>`
/// (the emulator, before any CUDA header).
/// @throws SyntaxError when a launch, comment or literal is not terminated (also in a header).
std::string preprocess(std::string_view source, const std::string& file, const Options& options = {});

}  // namespace llmlab::cudapp
