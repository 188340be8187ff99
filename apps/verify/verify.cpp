/// \file
/// \brief `llmlab verify`: choose the components, load the library, check its symbols, sweep.

#include "verify/verify.hpp"

#include <unistd.h>

#include <memory>
#include <ostream>
#include <system_error>
#include <vector>

#include "verify/library.hpp"
#include "verify/output.hpp"
#include "verify/registry.hpp"
#include "verify/worker.hpp"

// Set by apps/CMakeLists.txt: the build tree's plugins (empty when a flavour is not built) and the
// install tree's library directory relative to its bin directory.
#ifndef LLMLAB_PLUGIN_EMU_BUILD
/// The build tree's libllmlab_plugin_emu.so ("" when unknown).
#define LLMLAB_PLUGIN_EMU_BUILD ""
#endif
#ifndef LLMLAB_PLUGIN_GPU_BUILD
/// The build tree's libllmlab_plugin_gpu.so ("" when nvcc was not there to build it).
#define LLMLAB_PLUGIN_GPU_BUILD ""
#endif
#ifndef LLMLAB_LIBDIR_FROM_BINDIR
/// Where the installed plugins are, relative to the installed executable's directory.
#define LLMLAB_LIBDIR_FROM_BINDIR "../lib"
#endif

namespace llmlab::app {
namespace {

constexpr const char* kNoGpu = "the gpu backend was not built (no nvcc) or no GPU";

/// Every symbol of every chosen component must be there; the message lists each missing one.
/// With `partial`, a missing symbol is only marked (its cases are reported as not checked) unless
/// the component has none of its symbols. Names each symbol's parameters in `lib`, for the guard
/// zones' messages.
void require_symbols(KernelLibrary& lib, const std::vector<const Component*>& chosen,
                     bool partial) {
  std::string missing;
  for (const Component* c : chosen) {
    std::string missing_here;
    std::size_t absent = 0;
    for (const Symbol& s : c->symbols)
      if (lib.name_parameters(s.name, s.parameters); lib.find(s.name.c_str()) == nullptr) {
        missing_here += (missing_here.empty() ? "" : "\n") + lib.shown() + " does not export `" +
                        s.name + "` (" + s.signature + ") — see <llmlab/cuda/abi/" + c->name() +
                        ".h>";
        ++absent;
        if (partial) lib.mark_not_exported(s.name);
      }
    if (partial && absent < c->symbols.size()) continue;
    if (!missing_here.empty()) missing += (missing.empty() ? "" : "\n") + missing_here;
  }
  if (!missing.empty()) throw SetupError(missing);
}

}  // namespace

std::string impl_problem(const std::string& path) {
  if (path.empty()) return "the path is empty: give the path of your kernel library (a .so)";
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  const std::string quoted = "'" + path + "'";
  if (!std::filesystem::exists(status)) return quoted + ": no such file";
  if (std::filesystem::is_directory(status))
    return quoted + " is a directory, not a kernel library (a .so)";
  if (!std::filesystem::is_regular_file(status)) return quoted + " is not a regular file";
  if (::access(path.c_str(), R_OK) != 0) return quoted + " cannot be read (permission denied)";
  return "";
}

std::string schedule_problem(const char* value) {
  if (value == nullptr) return "";
  const std::string s = value;
  if (s.empty() || s == "forward" || s == "reverse") return "";
  if (s.rfind("random:", 0) == 0 && s.size() > 7 &&
      s.find_first_not_of("0123456789", 7) == std::string::npos && s.size() <= 7 + 19)
    return "";
  return "LLMLAB_EMU_SCHEDULE='" + s.substr(0, 40) + (s.size() > 40 ? "…" : "") +
         "' is not a schedule: expected forward, reverse or random:SEED";
}

std::filesystem::path plugin_path(std::string_view backend) {
  const std::string file = "libllmlab_plugin_" + std::string(backend) + ".so";
  std::vector<std::filesystem::path> candidates;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) candidates.push_back(exe.parent_path() / LLMLAB_LIBDIR_FROM_BINDIR / file);
  const std::string built = backend == "gpu" ? LLMLAB_PLUGIN_GPU_BUILD : LLMLAB_PLUGIN_EMU_BUILD;
  if (!built.empty()) candidates.emplace_back(built);

  std::string looked;
  for (const auto& p : candidates) {
    if (std::filesystem::exists(p, ec)) return p.lexically_normal();
    looked += (looked.empty() ? "" : ", ") + p.lexically_normal().string();
  }
  if (looked.empty()) looked = "nowhere: this llmlab was built without it";
  if (backend == "gpu")
    throw SetupError(std::string(kNoGpu) + ": no " + file + " (looked in " + looked + ")");
  throw SetupError("cannot find our " + std::string(backend) + " plugin " + file + " (looked in " +
                   looked + "); build the target llmlab_plugin_" + std::string(backend));
}

int run_verify(const VerifyOptions& opts, std::ostream& out) {
  const std::vector<const Component*> chosen = select_components(opts.component);
  if (const std::string bad = schedule_problem(std::getenv("LLMLAB_EMU_SCHEDULE")); !bad.empty())
    throw SetupError(bad);

  const bool ours = opts.impl.empty();
  const std::filesystem::path path =
      ours ? plugin_path(opts.backend) : std::filesystem::path(opts.impl);
  const Isolation where{path, ours ? path.string() : opts.impl, opts.timeout_s};

  // In a worker first: the library loads, has every symbol and a runtime, and one small
  // allocation proves there is a device. A library that crashes while loading fails every
  // component instead of killing llmlab.
  const std::string died = probe_library(where, [&](KernelLibrary& lib) {
    require_symbols(lib, chosen, opts.partial);
    lib.bind_runtime();
    try {
      lib.release(lib.allocate(1));
    } catch (const std::exception& e) {
      throw SetupError((ours && opts.backend == "gpu" ? std::string(kNoGpu) + ": "
                                                      : lib.shown() + ": no usable device: ") +
                       e.what());
    }
  });

  std::unique_ptr<Output> output = opts.json ? json_output(out) : table_output(out);
  output->begin(ours ? where.shown + " (our " + opts.backend + " kernels)" : where.shown);
  const Emit emit = [&](CaseResult r) { output->add(r); };
  for (const Component* c : chosen) {
    if (!died.empty()) {
      emit(failed_case(c->name(), "-", "-", oracle::Rule::exact(),
                       "loading " + where.shown + " " + died +
                           " before any call (in the library's initialisation: a constructor?)"));
      continue;
    }
    sweep_isolated(where, *c, [&](KernelLibrary& lib) {
      require_symbols(lib, {c}, opts.partial);
      lib.bind_runtime();
    }, emit);
  }
  output->end();
  return output->failed() == 0 ? 0 : 1;
}

}  // namespace llmlab::app
