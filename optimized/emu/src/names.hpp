#pragma once
// Names for reports: a kernel's demangled name and where it is defined, found from its address
// with Boost.Stacktrace (libbacktrace backend: the symbol table and DWARF line tables, so kernels
// with internal linkage and template kernels are named too), a launch's one-line description, and
// a static __shared__ variable's name from its thread-local offset (libelf, src/tls_names.cpp).

#include <cstddef>
#include <cstdint>
#include <optional>
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

/// A loaded module (the program or a shared library), found from an address in its code.
struct LoadedModule {
  const char* path = "";          ///< its file, "" for the main program (dl_iterate_phdr's name)
  std::uintptr_t base = 0;        ///< where it is loaded
  std::uintptr_t tls_module = 0;  ///< its TLS module id (static __shared__ lives there), 0 if none
  std::size_t tls_size = 0;       ///< its TLS block's bytes
};

/// The module whose loaded segments hold `code_address` (src/tls_names.cpp); empty if none does.
std::optional<LoadedModule> module_of(const void* code_address);

/// A static `__shared__` variable (a thread-local of the kernel's module) as reports name it.
struct StaticVariable {
  std::string name;        ///< demangled: "ns::k(float*)::tile" for one declared in kernel k
  std::size_t size = 0;    ///< its bytes
  std::size_t offset = 0;  ///< the byte asked about, counted from the variable's start
};

/// The static `__shared__` variable at byte `tls_offset` of the thread-local block of the module
/// that holds `code_address` (the kernel's entry), from the module's `STT_TLS` symbols
/// (src/tls_names.cpp: libelf; read on the first report about a module, then cached;
/// thread-safe). Empty when no symbol covers the offset (a stripped module, or a variable the
/// symbol table does not size).
std::optional<StaticVariable> static_variable(const void* code_address, std::size_t tls_offset);

/// "kernel `k` (k.cu:12) with grid (2,1,1) and block (64,1,1)".
std::string describe_launch(const KernelInfo& kernel, const LaunchSpec& spec);

}  // namespace llmlab::emu::detail
