/// \file
/// \brief Device memory and dtype conversion for the bindings (arrays.hpp).

#include "arrays.hpp"

#include <climits>
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
  if (const std::string d = llmlab::emu::last_diagnostic(); !d.empty()) message += "\n" + d;
#endif
  throw LaunchError(message);
}

xt::xtensor<std::int32_t, 2> ids_int32(const py::array& ids, std::string_view fn) {
  require_ndim<2>(ids, fn, "ids");
  if (ids.dtype().kind() != 'i' && ids.dtype().kind() != 'u')
    throw py::type_error(std::string(fn) + ": ids must be integers, got " + dtype_str(ids));
  const auto wide =
      py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(ids);
  xt::xtensor<std::int32_t, 2> out(
      {static_cast<std::size_t>(ids.shape(0)), static_cast<std::size_t>(ids.shape(1))});
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

DeviceMemory::DeviceMemory(std::int64_t n, std::size_t bytes_per_element) : n_(n) {
  if (n > 0)
    check_launch(cudaMalloc(&ptr_, static_cast<std::size_t>(n) * bytes_per_element), "cudaMalloc");
}

DeviceMemory::~DeviceMemory() { cudaFree(ptr_); }

void DeviceMemory::upload(const void* host, std::size_t bytes) {
  if (bytes > 0) check_launch(cudaMemcpy(ptr_, host, bytes, cudaMemcpyHostToDevice), "cudaMemcpy");
}

void DeviceMemory::download(void* host, std::size_t bytes) const {
  if (bytes > 0) check_launch(cudaMemcpy(host, ptr_, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy");
}

DeviceMemory device_zeros(std::int64_t n, std::size_t bytes_per_element) {
  DeviceMemory d(n, bytes_per_element);
  if (n > 0)
    check_launch(cudaMemset(d.as<void>(), 0, static_cast<std::size_t>(n) * bytes_per_element),
                 "cudaMemset");
  return d;
}

DeviceMemory to_device(const py::array& a, DType dtype, std::string_view fn, std::string_view arg) {
  if (!holds<float>(a) && !holds<double>(a)) bad_float_dtype(fn, arg, a);
  const auto f = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(a);
  const auto n = static_cast<std::int64_t>(f.size());
  if (dtype == DType::f32) {
    DeviceMemory d(n, sizeof(float));
    d.upload(f.data(), static_cast<std::size_t>(n) * sizeof(float));
    return d;
  }
  std::vector<std::uint16_t> bits(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i)
    bits[static_cast<std::size_t>(i)] = float_to_bf16_bits(f.data()[i]);
  DeviceMemory d(n, sizeof(std::uint16_t));
  d.upload(bits.data(), bits.size() * sizeof(std::uint16_t));
  return d;
}

py::array_t<float> from_device(const DeviceMemory& d, DType dtype, std::vector<py::ssize_t> shape) {
  py::array_t<float> out(shape);
  const auto n = static_cast<std::size_t>(d.size());
  if (dtype == DType::f32) {
    d.download(out.mutable_data(), n * sizeof(float));
    return out;
  }
  std::vector<std::uint16_t> bits(n);
  d.download(bits.data(), n * sizeof(std::uint16_t));
  for (std::size_t i = 0; i < n; ++i) out.mutable_data()[i] = bf16_bits_to_float(bits[i]);
  return out;
}

}  // namespace llmlab::python
