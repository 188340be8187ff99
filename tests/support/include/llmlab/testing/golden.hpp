#pragma once
/// \file
/// \brief The golden files' cases: `tests/golden/<component>/<case>_<input>.npy` and
/// `<case>_out.npy`, written by tests/golden/make_golden.py.

#include <filesystem>
#include <string>
#include <vector>

namespace llmlab::testing {

/// The cases in `dir`: every `<case>` with a `<case>_out.npy`, in directory order.
inline std::vector<std::string> golden_cases(const std::filesystem::path& dir) {
  std::vector<std::string> cases;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    const std::string suffix = "_out.npy";
    if (name.size() > suffix.size() && name.ends_with(suffix))
      cases.push_back(name.substr(0, name.size() - suffix.size()));
  }
  return cases;
}

}  // namespace llmlab::testing
