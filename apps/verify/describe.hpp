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
  /// Write the pages here instead of stdout: `component_<name>.md` per component and, for "all",
  /// `components.md` (the index) and `component_groups.dox` (one Doxygen group per component).
  std::string out_dir;
};

/// The Markdown page of one component (a Doxygen page `component_<name>`).
std::string describe_markdown(const Component& c);

/// The index page `components` listing every registered component's page.
std::string components_index();

/// One `\defgroup group_<name>` per registered component: its summary, page and chapter; the
/// files of a component join it with `\ingroup group_<name>`.
std::string component_groups();

/// Runs `llmlab describe`. @returns 0 @throws SetupError for an unknown component or an
/// output directory that cannot be written.
int run_describe(const DescribeOptions& opts, std::ostream& out);

}  // namespace llmlab::app
