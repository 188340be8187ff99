#pragma once
// Names for reports: a kernel's demangled name and where it is defined, found from its address
// with Boost.Stacktrace (libbacktrace backend: the symbol table and DWARF line tables, so kernels
// with internal linkage and template kernels are named too), and a launch's one-line description.

#include <string>

#include "llmlab/emu/emu.hpp"

namespace llmlab::emu::detail {

/// A kernel as reports name it.
struct KernelInfo {
  std::string name;  ///< "ns::k<float, 4>" (no return type, no parameter list)
  std::string site;  ///< "/src/k.cu:12" where it is defined, or "" without debug information
};

/// The kernel at `address`, looked up once per address and cached (thread-safe). Never an address:
/// a kernel no symbol names is "an unnamed kernel in <library>".
const KernelInfo& kernel_info(const void* address);

/// "void (anonymous namespace)::k<float, 4>(float*)" → "(anonymous namespace)::k<float, 4>".
std::string strip_signature(std::string demangled);

/// "kernel `k` (k.cu:12) with grid (2,1,1) and block (64,1,1)".
std::string describe_launch(const KernelInfo& kernel, const LaunchSpec& spec);

}  // namespace llmlab::emu::detail
