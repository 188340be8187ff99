#include "llmlab/core/error.hpp"

#include <sstream>

namespace llmlab {

Error::Error(std::string_view where, std::string_view what)
    : std::runtime_error(std::string(where) + ": " + std::string(what)) {}

std::string shape_str(std::span<const std::int64_t> shape) {
  std::ostringstream s;
  s << '(';
  for (std::size_t i = 0; i < shape.size(); ++i) s << (i ? ", " : "") << shape[i];
  s << ')';
  return s.str();
}

std::string shape_str(std::initializer_list<std::int64_t> shape) {
  return shape_str(std::span<const std::int64_t>(shape.begin(), shape.size()));
}

}  // namespace llmlab
