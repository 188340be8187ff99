#pragma once
/// \file
/// \brief `llmlab verify` survives the kernels it judges: the library is loaded and called only in
/// child processes (workers), never in `llmlab` itself.
///
/// A worker is forked per component; it loads the library, runs the component's sweep and sends
/// each call's name and each verdict up a pipe. When it dies (a signal, exit(), an exception) or
/// stays silent longer than the timeout, the case it was in becomes a FAIL row naming the C symbol,
/// the case and the signal or timeout, and a fresh worker carries on with the next case: the
/// report is always complete (docs/hostile_input.md).

#include <filesystem>
#include <functional>
#include <string>

#include "verify/library.hpp"
#include "verify/registry.hpp"

namespace llmlab::app {

/// Where the workers find the library, and how long a case may take.
struct Isolation {
  std::filesystem::path path;  ///< the library to dlopen
  std::string shown;           ///< how messages name it
  double timeout_s = 300;      ///< seconds a worker may stay silent (one case) before it is killed
};

/// Loads the library in a worker and runs `prepare` on it (symbol checks, the runtime, a device).
/// @param where the library and the timeout   @param prepare the checks, run in the worker
/// @returns "" when that went through; otherwise how the worker died ("crashed: SIGSEGV
///          (Segmentation fault)", "did not answer within 5 s", "exited with status 0"), which the
///          caller reports as a failure of every component (a constructor that crashes is the
///          library's fault, not a usage error)
/// @throws SetupError with prepare's message when it threw (a missing symbol, no device)
std::string probe_library(const Isolation& where,
                          const std::function<void(KernelLibrary&)>& prepare);

/// Runs `component`'s sweep in workers, emitting every row: the kernels' verdicts, and a FAIL row
/// for each case whose worker died or timed out (then the next worker resumes after that case).
/// @param where the library and the timeout   @param component the component to sweep
/// @param prepare run on the library in each worker before the sweep (names parameters, binds the
///        runtime)
/// @param emit receives every row, as it arrives
void sweep_isolated(const Isolation& where, const Component& component,
                    const std::function<void(KernelLibrary&)>& prepare, const Emit& emit);

}  // namespace llmlab::app
