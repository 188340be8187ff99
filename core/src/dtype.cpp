#include "llmlab/core/dtype.hpp"

namespace llmlab {

std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "f32";
    case DType::f64: return "f64";
    case DType::bf16: return "bf16";
  }
  return "?";
}

double dtype_epsilon(DType t) {
  switch (t) {
    case DType::f32: return 0x1p-23;
    case DType::f64: return 0x1p-52;
    case DType::bf16: return 0x1p-7;
  }
  return 0;
}

}  // namespace llmlab
