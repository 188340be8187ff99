/// \file
/// \brief The component registry and helpers the sweeps share.

#include "verify/registry.hpp"

#include <algorithm>
#include <optional>
#include <utility>

#include "verify/library.hpp"

namespace llmlab::app {
namespace {

/// Function-local, so registration works from any translation unit's static initialisers.
std::vector<Component>& registry() {
  static std::vector<Component> all;
  return all;
}

}  // namespace

bool register_component(Component component) {
  auto& all = registry();
  const auto at =
      std::lower_bound(all.begin(), all.end(), component.name(),
                       [](const Component& c, const std::string& n) { return c.name() < n; });
  all.insert(at, std::move(component));
  return true;
}

const std::vector<Component>& components() { return registry(); }

const Component* find_component(std::string_view name) {
  for (const auto& c : registry())
    if (c.name() == name) return &c;
  return nullptr;
}

std::vector<const Component*> select_components(const std::string& name) {
  std::vector<const Component*> chosen;
  if (name == "all") {
    for (const auto& c : registry()) chosen.push_back(&c);
  } else if (const Component* c = find_component(name)) {
    chosen.push_back(c);
  } else {
    throw SetupError("unknown component '" + name + "'; components: " + component_names());
  }
  return chosen;
}

std::string component_names() {
  std::string out;
  for (const auto& c : registry()) out += (out.empty() ? "" : ", ") + c.name();
  return out;
}

std::string call_error(const KernelLibrary& lib, const char* symbol, int rc) {
  if (std::optional<std::string> failure = lib.take_call_failure()) return *std::move(failure);
  if (rc != 0) return std::string("`") + symbol + "` returned " + lib.error_string(rc);
  const int sync = lib.synchronize();
  if (sync != 0) {
    return std::string("cudaDeviceSynchronize after `") + symbol + "` returned " +
           lib.error_string(sync);
  }
  return "";
}

CaseResult failed_case(std::string component, std::string shape, std::string dtype,
                       oracle::Rule rule, std::string error) {
  CaseResult r{std::move(component), std::move(shape), std::move(dtype), {}, {}};
  r.report.name = r.component + " " + r.dtype + " " + r.shape;
  r.report.rule = rule;
  r.report.pass = false;
  r.report.error = std::move(error);
  return r;
}

}  // namespace llmlab::app
