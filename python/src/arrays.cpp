/// \file
/// \brief Device memory and dtype conversion for the bindings (arrays.hpp).

#include "arrays.hpp"

#include <climits>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <functional>
#include <numeric>

namespace llmlab::python {

void check_launch(cudaError_t err, std::string_view fn) {
  if (err == cudaSuccess) return;
  cudaGetLastError();  // clear the sticky error, so the next call starts clean
  std::string message = std::string(fn) + ": " + cudaGetErrorString(err);
#if LLMLAB_EMULATED
  // The emulator's error string carries the diagnostic already when it belongs to this error.
  if (const std::string d = llmlab::emu::last_diagnostic();
      !d.empty() && message.find(d) == std::string::npos)
    message += "\n" + d;
#endif
  throw LaunchError(message);
}

void out_of_memory(std::string_view fn, std::string_view arg, const py::array& a,
                   std::size_t element_bytes, std::string_view type) {
  const auto n = static_cast<long double>(a.size()) * static_cast<long double>(element_bytes);
  char size[64];
  std::snprintf(size, sizeof size, "%.0Lf bytes (%.1Lf GiB)", n, n / (1024.0L * 1024 * 1024));
  const std::string message = std::string(fn) + ": " + std::string(arg) + " of shape " +
                              shape_of(a) + " needs " + size + " as " + std::string(type) +
                              ": not enough memory for that copy";
  raise_memory_error(message);
}

void raise_memory_error(const std::string& message) {
  PyErr_SetString(PyExc_MemoryError, message.c_str());
  throw py::error_already_set();
}

xt::xtensor<std::int32_t, 2> ids_int32(const py::array& ids, std::string_view fn) {
  require_ndim<2>(ids, fn, "ids");
  if (ids.dtype().kind() != 'i' && ids.dtype().kind() != 'u')
    throw py::type_error(std::string(fn) + ": ids must be integers, got " + dtype_str(ids));
  const auto wide = contiguous<std::int64_t, py::array::c_style | py::array::forcecast>(ids, fn, "ids");
  xt::xtensor<std::int32_t, 2> out = copying(fn, "ids", ids, sizeof(std::int32_t), "int32", [&] {
    return xt::xtensor<std::int32_t, 2>(
        {static_cast<std::size_t>(ids.shape(0)), static_cast<std::size_t>(ids.shape(1))});
  });
  for (py::ssize_t i = 0; i < wide.size(); ++i) {
    const std::int64_t v = wide.data()[i];
    if (v < INT32_MIN || v > INT32_MAX)
      throw Error(fn,
                  "ids holds " + std::to_string(v) + ", outside int32 (ids " + shape_of(ids) + ")");
    out.data()[i] = static_cast<std::int32_t>(v);
  }
  return out;
}

py::array as_rows(const py::array& x, std::string_view fn, std::string_view arg) {
  if (x.ndim() == 0) throw Error(fn, std::string(arg) + " must have at least 1 axis, got a scalar");
  const py::ssize_t C = x.shape(x.ndim() - 1);
  const py::ssize_t N = C == 0 ? 0 : x.size() / C;
  if (C == 0)  // reshape(-1, 0) is ambiguous: count the rows from the leading axes
    return x.attr("reshape")(py::make_tuple(
        static_cast<py::ssize_t>(std::accumulate(x.shape(), x.shape() + x.ndim() - 1,
                                                 py::ssize_t{1}, std::multiplies<>())),
        0));
  return x.attr("reshape")(py::make_tuple(N, C));
}

}  // namespace llmlab::python
