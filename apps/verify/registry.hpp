#pragma once
/// \file
/// \brief The components `llmlab verify` knows: each registers itself from its own file.
///
/// Adding a component to the command line is one file, `apps/verify/components/<component>.cpp`:
/// name its C symbols (LLMLAB_C_SYMBOL over the declarations of
/// `<llmlab/cuda/abi/<component>.h>`), run its description's sweep through them, then
/// `LLMLAB_VERIFY_REGISTER(component)` — see components/gelu.cpp for the pattern.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "llmlab/oracle/oracle.hpp"
#include "llmlab/testing/component.hpp"
#include "verify/library.hpp"

namespace llmlab::app {

/// A C entry point a kernel library must export for a component.
struct Symbol {
  std::string name;       ///< e.g. "llmlab_vector_add_f32"
  std::string signature;  ///< its C declaration with parameter names, shown when it is missing
  std::vector<std::string> parameters;  ///< the parameters' names, e.g. {"a", "b", "c", "n"}
};

/// The C spelling of a parameter type of the C ABI.
template <class T>
constexpr const char* c_type_name() {
  if constexpr (std::is_same_v<T, const float*>) return "const float*";
  else if constexpr (std::is_same_v<T, float*>) return "float*";
  else if constexpr (std::is_same_v<T, const std::uint16_t*>) return "const uint16_t*";
  else if constexpr (std::is_same_v<T, std::uint16_t*>) return "uint16_t*";
  else if constexpr (std::is_same_v<T, const std::int32_t*>) return "const int32_t*";
  else if constexpr (std::is_same_v<T, std::int32_t*>) return "int32_t*";
  else if constexpr (std::is_same_v<T, std::int64_t>) return "int64_t";
  else if constexpr (std::is_same_v<T, float>) return "float";
  else if constexpr (std::is_same_v<T, int>) return "int";
  else if constexpr (std::is_same_v<T, std::uint32_t>) return "uint32_t";
  else if constexpr (std::is_same_v<T, const std::int64_t*>) return "const int64_t*";
  else if constexpr (std::is_same_v<T, float* const*>) return "float* const*";
  else if constexpr (std::is_same_v<T, const float* const*>) return "const float* const*";
  else if constexpr (std::is_same_v<T, std::uint16_t* const*>) return "uint16_t* const*";
  else static_assert(sizeof(T) == 0, "a C ABI parameter type c_type_name does not know yet");
}

/// How a C function type spells its parameters.
template <class F>
struct CFunction;
/// int f(A...): the C ABI's shape.
template <class... A>
struct CFunction<int(A...)> {
  static constexpr std::size_t arity = sizeof...(A);  ///< number of parameters
  /// "const float* x, float* y, int64_t n" from the parameter names.
  static std::string parameters(const char* const* names) {
    const char* types[] = {c_type_name<A>()..., ""};
    std::string out;
    for (std::size_t i = 0; i < arity; ++i)
      out += std::string(i ? ", " : "") + types[i] + " " + names[i];
    return out;
  }
};

/// What the guard check needs of one argument: a pointer's address and element size, or nothing.
template <class A>
CallArg call_arg(A a) {
  if constexpr (std::is_pointer_v<A>)
    return {a, sizeof(std::remove_pointer_t<A>)};
  else
    return {};
}

/// A C function of a loaded library, called through KernelLibrary::call: the harness's gate
/// decides first, and the guard zones of every buffer passed are checked after.
template <class F>
struct GuardedFunction;
/// int f(A...): the C ABI's shape.
template <class... A>
struct GuardedFunction<int(A...)> {
  const KernelLibrary* lib;  ///< where it was found
  int (*fn)(A...);           ///< the function itself
  const char* name;          ///< its symbol
  /// Calls it; @returns its return value (0 for a call the gate skipped, -1 for one it failed).
  int operator()(A... args) const {
    return lib->call(name, {call_arg(args)...}, [&] { return fn(args...); });
  }
};

/// A C function found in a library: the guarded function and its symbol's name (for messages).
template <class F>
struct Found {
  GuardedFunction<F> fn;  ///< call it as `found.fn(args…)` (verify checked every symbol first)
  const char* name;       ///< "llmlab_gelu_forward_f32"
};

/// The Symbol of C function `name` of type F (decltype of its declaration in
/// `<llmlab/cuda/abi/<component>.h>`), with its parameters' names. The types come from the
/// declaration itself; a wrong number of names does not compile.
template <class F, std::size_t N>
Symbol c_symbol(const char* name, const char* const (&params)[N]) {
  static_assert(CFunction<F>::arity == N, "one name per parameter of the C declaration");
  return {name, std::string("int ") + name + "(" + CFunction<F>::parameters(params) + ")",
          std::vector<std::string>(params, params + N)};
}

}  // namespace llmlab::app

/// The Symbol of a C ABI function declared in `<llmlab/cuda/abi/<component>.h>`, its parameter
/// names after it: `LLMLAB_C_SYMBOL(llmlab_gelu_forward_f32, "x", "y", "n")`.
#define LLMLAB_C_SYMBOL(fn, ...) ::llmlab::app::c_symbol<decltype(fn)>(#fn, {__VA_ARGS__})

/// The function `fn` of a loaded library, typed as its declaration, with its name:
/// `LLMLAB_FIND(lib, llmlab_gelu_forward_f32)` → a Found<F>.
#define LLMLAB_FIND(lib, fn)                                                      \
  ::llmlab::app::Found<decltype(fn)> {                                           \
    {&(lib), (lib).function<decltype(fn)>(#fn), #fn}, #fn                        \
  }

namespace llmlab::app {

/// The verdict on one case of a sweep: which shape and dtype, and the oracle's report.
struct CaseResult {
  std::string component;  ///< e.g. "vector_add"
  std::string shape;      ///< the input's shape, e.g. "(3, 97)"
  std::string dtype;      ///< the input dtype, "f32" or "bf16"
  oracle::Report report;  ///< report.error is set when the kernel call itself failed
  /// Non-empty when the case was not run: why (`llmlab verify --partial`, a function the library
  /// does not export). Such a row counts neither as passed nor as failed.
  std::string not_checked;
};

/// Receives each case's result as soon as it is known (the table prints it at once).
using Emit = std::function<void(CaseResult)>;

/// What a component brings to `llmlab verify`: its card (testing::ComponentCard, from its one
/// description in `llmlab/testing/<component>_case.hpp`), its C symbols, its sweep's labels and the
/// sweep itself.
struct Component {
  testing::ComponentCard card;     ///< name, summary, Python names, outputs and their rules
  std::vector<Symbol> symbols;     ///< every one of them is required of a library
  std::vector<std::string> cases;  ///< the sweep's shapes and value scales, as labels
  /// Each output's oracle rule in words, per dtype (from the description's `<c>_expected`).
  std::map<std::string, std::string> rules;
  /// Runs every case (shapes × dtypes) against the library and emits one result per case.
  /// Called only after every symbol was found.
  std::function<void(const KernelLibrary&, const Emit&)> sweep;
  /// The component's name everywhere in the tree.
  const std::string& name() const { return card.name; }
};

/// Each output's rule in words for the dtypes given, "f32: ratio k=2 + 2 ulp(f32); bf16: …", from
/// a description's expected outputs on one case per dtype.
inline std::map<std::string, std::string> rules_in_words(
    std::initializer_list<std::vector<testing::Expected>> per_dtype) {
  std::map<std::string, std::string> out;
  for (const auto& expected : per_dtype)
    for (const testing::Expected& e : expected) {
      std::string& s = out[e.name];
      const std::string rule = std::string(dtype_name(e.rule.dtype)) + ": " + e.rule.describe();
      if (s.find(rule) == std::string::npos) s += (s.empty() ? "" : "; ") + rule;  // once each
    }
  return out;
}

/// The labels of a description's sweep (each shape's label()).
template <class Shapes>
std::vector<std::string> case_labels(const Shapes& shapes) {
  std::vector<std::string> out;
  for (const auto& s : shapes) out.push_back(s.label());
  return out;
}

/// Adds a component; @returns true (so it can initialise a namespace-scope constant).
bool register_component(Component component);

/// Every registered component, sorted by name.
const std::vector<Component>& components();

/// The component called `name`, or nullptr.
const Component* find_component(std::string_view name);

/// The components `name` selects: "all" every registered one, else the one so named.
/// @throws SetupError "unknown component 'x'; components: a, b" (library.hpp)
std::vector<const Component*> select_components(const std::string& name);

/// "reduce_sum, vector_add" — the registered names, for messages.
std::string component_names();

/// The message for a failed kernel call: what KernelLibrary::call found (a guard zone overwritten, a
/// failed synchronisation, the crash or timeout of an earlier worker in this case), else
/// "`llmlab_vector_add_f32` returned <error string>", or "" when `rc` is 0 and the device
/// synchronises cleanly (a kernel's fault may surface only there).
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
