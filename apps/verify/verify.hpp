#pragma once
/// \file
/// \brief `llmlab verify <component|all>`: load a kernel library and judge it with the oracle.

#include <filesystem>
#include <iosfwd>
#include <string>
#include <string_view>

namespace llmlab::app {

/// The command line of `llmlab verify`.
struct VerifyOptions {
  std::string component;        ///< a registered component's name, or "all"
  std::string backend = "emu";  ///< "emu" or "gpu": which of our plugins to load without --impl
  std::string impl;             ///< the user's kernel library; empty → our plugin for `backend`
  bool json = false;            ///< one JSON document on `out` instead of the table
  double timeout_s = 300;       ///< seconds one case may take before its worker is killed
  /// Check only the functions the library exports; the others' cases are listed as not checked
  /// (a lab that writes part of a component, e.g. chapter 02's forward-only matmul). A component
  /// none of whose functions is exported is still an error.
  bool partial = false;
};

/// The check of `--impl` (CLI11 prefixes "--impl: "): "" when `path` names a readable regular
/// file, else why not (an empty path, no such file, a directory, unreadable), naming the value.
std::string impl_problem(const std::string& path);

/// The check of LLMLAB_EMU_SCHEDULE (forward, reverse, random:SEED, or unset): "" when valid, else
/// the message naming the value. The emulator refuses a bad schedule only at its first launch, as
/// a failed kernel; `llmlab verify` refuses it up front, as a usage error.
std::string schedule_problem(const char* value);

/// Runs every case of the selected components against the library and prints the verdicts.
/// @param opts the command line   @param out where the table (or JSON) goes
/// The library is loaded and called only in worker processes (verify/worker.hpp): a case whose
/// kernel crashes, exits, hangs past `timeout_s` or writes outside its buffers is a FAIL row.
/// @returns 0 when every case passed, 1 otherwise
/// @throws SetupError (→ exit code 2) for an unknown component, a bad LLMLAB_EMU_SCHEDULE, a
///         library that does not load, a missing C symbol or runtime function, or no usable device.
int run_verify(const VerifyOptions& opts, std::ostream& out);

/// Where our plugin for `backend` ("emu" or "gpu") is: `<exe
/// dir>/<bin→lib>/libllmlab_plugin_<backend>.so` after install, else the build tree's copy (a path
/// compiled in).
/// @throws SetupError when neither exists; for gpu: "the gpu backend was not built (no nvcc) or no
/// GPU".
std::filesystem::path plugin_path(std::string_view backend);

}  // namespace llmlab::app
