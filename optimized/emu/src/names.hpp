#pragma once
// Names for reports: a kernel's demangled name and where it is defined, found from its address
// with Boost.Stacktrace (libbacktrace backend: the symbol table and DWARF line tables, so kernels
// with internal linkage and template kernels are named too), and a launch's one-line description.

#include <string>

#include "llmlab/emu/emu.hpp"

namespace llmlab::emu::detail {

/// A kernel as reports name it.
struct KernelInfo {
  const void* address = nullptr;  ///< its entry point
  std::string name;               ///< "ns::k<float, 4>" (no return type, no parameter list)
};

/// The kernel at `address`, looked up once per address and cached (thread-safe): the dynamic
/// symbol table (dladdr) when it names exactly this address, else the full symbol table through
/// Boost.Stacktrace. Never an address: a kernel no symbol names is "an unnamed kernel in <library>".
const KernelInfo& kernel_info(const void* address);

/// "/src/k.cu:12", the line of the kernel's entry in the DWARF line table (its first statement
/// under optimisation), or "" without debug information. Read only when a report needs it (the
/// first read of a binary's line tables takes a while), then cached.
std::string kernel_site(const void* address);

/// "/src/k.cu:31" for an instruction address (a faulting one), or "" without debug information.
std::string source_line_of(const void* pc);

/// "void (anonymous namespace)::k<float, 4>(float*)" → "(anonymous namespace)::k<float, 4>".
std::string strip_signature(std::string demangled);

/// "kernel `k` (k.cu:12) with grid (2,1,1) and block (64,1,1)".
std::string describe_launch(const KernelInfo& kernel, const LaunchSpec& spec);

}  // namespace llmlab::emu::detail
