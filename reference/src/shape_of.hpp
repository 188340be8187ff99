#pragma once
/// \file
/// \brief Private to reference/src: an xtensor's shape as messages print it.

#include <cstdint>
#include <string>
#include <vector>

#include "llmlab/core/error.hpp"

namespace llmlab::ref::detail {

/// "(2, 3, 5)" for any xtensor or xarray's shape.
template <class E>
std::string shape_of(const E& e) {
  return shape_str(std::vector<std::int64_t>(e.shape().begin(), e.shape().end()));
}

}  // namespace llmlab::ref::detail
