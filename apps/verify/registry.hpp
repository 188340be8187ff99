#pragma once
/// \file
/// \brief The components `llmlab verify` knows: each registers itself from its own file.
///
/// Adding a component to the command line is one file in apps/verify/: describe its C symbols
/// (from optimized/include/llmlab/cuda/abi.h) and write its sweep, then
/// `LLMLAB_VERIFY_REGISTER(component)` — see vector_add.cpp for the pattern.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "llmlab/oracle/oracle.hpp"
#include "verify/library.hpp"

namespace llmlab::app {

/// A C entry point a kernel library must export for a component.
struct Symbol {
  std::string name;       ///< e.g. "llmlab_vector_add_f32"
  std::string signature;  ///< its C declaration, shown when it is missing
};

/// The verdict on one case of a sweep: which shape and dtype, and the oracle's report.
struct CaseResult {
  std::string component;  ///< e.g. "vector_add"
  std::string shape;      ///< the input's shape, e.g. "(3, 97)"
  std::string dtype;      ///< the input dtype, "f32" or "bf16"
  oracle::Report report;  ///< report.error is set when the kernel call itself failed
};

/// Receives each case's result as soon as it is known (the table prints it at once).
using Emit = std::function<void(CaseResult)>;

/// What a component brings to `llmlab verify`.
struct Component {
  std::string name;             ///< the component's name everywhere in the tree
  std::string description;      ///< one line, shown in --help
  std::vector<Symbol> symbols;  ///< every one of them is required of a library
  /// Runs every case (shapes × dtypes) against the library and emits one result per case.
  /// Called only after every symbol was found.
  std::function<void(const KernelLibrary&, const Emit&)> sweep;
};

/// Adds a component; @returns true (so it can initialise a namespace-scope constant).
bool register_component(Component component);

/// Every registered component, sorted by name.
const std::vector<Component>& components();

/// The component called `name`, or nullptr.
const Component* find_component(std::string_view name);

/// "reduce_sum, vector_add" — the registered names, for messages.
std::string component_names();

/// The message for a failed kernel call: "`llmlab_vector_add_f32` returned <error string>", or ""
/// when `rc` is 0 and the device synchronises cleanly (a kernel's fault may surface only there).
std::string call_error(const KernelLibrary& lib, const char* symbol, int rc);

/// A failed case: the report carries `error` and pass = false.
CaseResult failed_case(std::string component, std::string shape, std::string dtype,
                       oracle::Rule rule, std::string error);

}  // namespace llmlab::app

/// Registers `component` (an expression of type llmlab::app::Component) at program start.
#define LLMLAB_VERIFY_REGISTER(component)                \
  namespace {                                            \
  [[maybe_unused]] const bool llmlab_verify_registered = \
      ::llmlab::app::register_component(component);      \
  }
