/// \file
/// \brief `llmlab verify`: choose the components, load the library, check its symbols, sweep.

#include "verify/verify.hpp"

#include <memory>
#include <ostream>
#include <system_error>
#include <vector>

#include "verify/library.hpp"
#include "verify/output.hpp"
#include "verify/registry.hpp"

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
void require_symbols(const KernelLibrary& lib, const std::vector<const Component*>& chosen) {
  std::string missing;
  for (const Component* c : chosen)
    for (const Symbol& s : c->symbols)
      if (lib.find(s.name.c_str()) == nullptr) {
        missing += (missing.empty() ? "" : "\n") + lib.shown() + " does not export `" + s.name +
                   "` (" + s.signature + ") — see <llmlab/cuda/abi/" + c->name() + ".h>";
      }
  if (!missing.empty()) throw SetupError(missing);
}

}  // namespace

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

  const bool ours = opts.impl.empty();
  const std::filesystem::path path =
      ours ? plugin_path(opts.backend) : std::filesystem::path(opts.impl);
  KernelLibrary lib(path, ours ? path.string() : opts.impl);
  require_symbols(lib, chosen);
  lib.bind_runtime();

  // One small allocation proves there is a device before any case runs.
  try {
    lib.release(lib.allocate(1));
  } catch (const std::exception& e) {
    throw SetupError((ours && opts.backend == "gpu" ? std::string(kNoGpu) + ": "
                                                    : lib.shown() + ": no usable device: ") +
                     e.what());
  }

  std::unique_ptr<Output> output = opts.json ? json_output(out) : table_output(out);
  output->begin(ours ? lib.shown() + " (our " + opts.backend + " kernels)" : lib.shown());
  const Emit emit = [&](CaseResult r) { output->add(r); };
  for (const Component* c : chosen) c->sweep(lib, emit);
  output->end();
  return output->failed() == 0 ? 0 : 1;
}

}  // namespace llmlab::app
