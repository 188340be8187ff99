#pragma once
/// \file
/// \brief The one exception type of llmlab and helpers that build messages naming shapes.

#include <cstdint>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace llmlab {

/// Every argument, shape or file error in llmlab throws this. The message always starts with the
/// function that refused (`layernorm_forward: x is (2, 3, 5) but w is (4)`).
class Error : public std::runtime_error {
 public:
  /// @param where the function (or file) that refuses  @param what what is wrong, shapes named
  Error(std::string_view where, std::string_view what);
};

/// "(2, 3, 5)" — a shape the way messages print it.
std::string shape_str(std::span<const std::int64_t> shape);
/// "(2, 3, 5)" from a braced list.
std::string shape_str(std::initializer_list<std::int64_t> shape);

/// Throws Error(where, what) when cond is false.
inline void require(bool cond, std::string_view where, std::string_view what) {
  if (!cond) throw Error(where, what);
}

}  // namespace llmlab
