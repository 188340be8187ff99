#pragma once
/// \file
/// \brief `llmlab describe <component|all>`: a component's one description as its documentation
/// page — C symbols, outputs and their oracle rules, Python names, the sweep.

#include <iosfwd>
#include <string>

#include "verify/registry.hpp"

namespace llmlab::app {

/// The command line of `llmlab describe`.
struct DescribeOptions {
  std::string component;  ///< a registered component's name, or "all"
  bool json = false;      ///< one JSON document instead of Markdown
  std::string out_dir;    ///< write `component_<name>.md` per component here instead of stdout
};

/// The Markdown page of one component (a Doxygen page `component_<name>`).
std::string describe_markdown(const Component& c);

/// Runs `llmlab describe`. @returns 0 @throws SetupError for an unknown component or an
/// output directory that cannot be written.
int run_describe(const DescribeOptions& opts, std::ostream& out);

}  // namespace llmlab::app
