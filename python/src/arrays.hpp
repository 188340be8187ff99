#pragma once
/// \file
/// \brief NumPy ↔ llmlab for the bindings: dtype checks, xtensor copies, device buffers, launch
/// errors as Python exceptions.
///
/// Conventions every binding follows (python/README.md):
/// - the reference runs in the dtype of its inputs, float64 or float32; all of a call's float
///   inputs must share it; anything else raises TypeError naming the function and the argument;
/// - the CUDA side takes float32 or float64 inputs, rounds them to `dtype` ("float32" or
///   "bfloat16") on the way to the device, and returns float32 arrays (bf16 results widened
///   exactly: NumPy has no bfloat16);
/// - shapes are checked by the C++ functions themselves, whose llmlab::Error becomes llmlab.Error.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include <xtensor/xarray.hpp>
#include <xtensor/xtensor.hpp>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/error.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/values.hpp"

namespace llmlab::python {

namespace py = pybind11;

/// A failed kernel launch: the CUDA error and, under the emulator, its diagnostic
/// (llmlab.LaunchError).
class LaunchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// "float32", "float64", "int64", … — NumPy's name of an array's dtype.
inline std::string dtype_str(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

/// "(2, 3)" — an array's shape as llmlab's messages print it.
inline std::string shape_of(const py::array& a) {
  std::vector<std::int64_t> s(a.shape(), a.shape() + a.ndim());
  return shape_str(s);
}

/// True when `a` holds T.
template <class T>
bool holds(const py::array& a) {
  return a.dtype().is(py::dtype::of<T>());
}

/// Throws TypeError "fn: arg must be float32 or float64, got int64".
[[noreturn]] inline void bad_float_dtype(std::string_view fn, std::string_view arg,
                                         const py::array& a) {
  throw py::type_error(std::string(fn) + ": " + std::string(arg) +
                       " must be float32 or float64, got " + dtype_str(a));
}

/// Raises Python's MemoryError with `message`.
[[noreturn]] void raise_memory_error(const std::string& message);

/// Raises MemoryError "fn: arg of shape (…) needs N bytes as <type>: not enough memory" — for a
/// copy of `a` that could not be made (a broadcast view of 2^40 elements, say).
/// @param element_bytes the size of one element of the copy
[[noreturn]] void out_of_memory(std::string_view fn, std::string_view arg, const py::array& a,
                                std::size_t element_bytes, std::string_view type);

/// `a` as a C-contiguous NumPy array of T: `a` itself when it already is one, else a copy (of a
/// strided or broadcast view; converted from another dtype with py::array::forcecast in Flags).
/// pybind11's ensure() answers a failed copy with an empty handle; this raises MemoryError naming
/// fn, arg and the size instead (callers have checked the dtype, so only memory can fail).
template <class T, int Flags = py::array::c_style>
py::array_t<T, Flags> contiguous(const py::array& a, std::string_view fn, std::string_view arg) {
  auto c = py::array_t<T, Flags>::ensure(a);
  if (!c) out_of_memory(fn, arg, a, sizeof(T), py::str(py::dtype::of<T>()).cast<std::string>());
  return c;
}

/// Runs `f`; a std::bad_alloc (bad_array_new_length included) or std::length_error thrown while
/// copying `a` becomes MemoryError naming fn, arg and the size.
template <class F>
auto copying(std::string_view fn, std::string_view arg, const py::array& a,
             std::size_t element_bytes, std::string_view type, F&& f) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    out_of_memory(fn, arg, a, element_bytes, type);
  } catch (const std::length_error&) {
    out_of_memory(fn, arg, a, element_bytes, type);
  }
}

/// Throws llmlab::Error unless `a` has N axes: "fn: arg must have N axes, got shape (…)".
template <std::size_t N>
void require_ndim(const py::array& a, std::string_view fn, std::string_view arg) {
  if (static_cast<std::size_t>(a.ndim()) != N)
    throw Error(fn, std::string(arg) + " must have " + std::to_string(N) + " axes, got shape " +
                        shape_of(a));
}

/// A copy of `a` (which must hold T and have N axes) as an xtensor.
template <class T, std::size_t N>
xt::xtensor<T, N> to_xtensor(const py::array& a, std::string_view fn, std::string_view arg) {
  require_ndim<N>(a, fn, arg);
  if (!holds<T>(a)) bad_float_dtype(fn, arg, a);
  const auto c = contiguous<T>(a, fn, arg);
  std::array<std::size_t, N> shape{};
  for (std::size_t i = 0; i < N; ++i)
    shape[i] = static_cast<std::size_t>(a.shape(static_cast<py::ssize_t>(i)));
  return copying(fn, arg, a, sizeof(T), dtype_str(a), [&] {
    xt::xtensor<T, N> x(shape);
    std::copy(c.data(), c.data() + c.size(), x.data());
    return x;
  });
}

/// A NumPy copy of an xtensor.
template <class T, std::size_t N>
py::array_t<T> to_numpy(const xt::xtensor<T, N>& x) {
  std::vector<py::ssize_t> shape(x.shape().begin(), x.shape().end());
  py::array_t<T> a(shape);
  std::copy(x.data(), x.data() + x.size(), a.mutable_data());
  return a;
}

/// A copy of `a` (which must hold T, any rank) as an xarray.
template <class T>
xt::xarray<T> to_xarray(const py::array& a, std::string_view fn, std::string_view arg) {
  if (!holds<T>(a)) bad_float_dtype(fn, arg, a);
  const auto c = contiguous<T>(a, fn, arg);
  std::vector<std::size_t> shape(a.shape(), a.shape() + a.ndim());
  return copying(fn, arg, a, sizeof(T), dtype_str(a), [&] {
    xt::xarray<T> x(shape);
    std::copy(c.data(), c.data() + c.size(), x.data());
    return x;
  });
}

/// A NumPy copy of an xarray.
template <class T>
py::array_t<T> to_numpy(const xt::xarray<T>& x) {
  std::vector<py::ssize_t> shape(x.shape().begin(), x.shape().end());
  py::array_t<T> a(shape);
  std::copy(x.data(), x.data() + x.size(), a.mutable_data());
  return a;
}

/// Token ids (B, T) as int32: any integer dtype, each value within int32 (range against V is the
/// C++ function's check). Throws TypeError for non-integers, llmlab::Error for values past int32.
xt::xtensor<std::int32_t, 2> ids_int32(const py::array& ids, std::string_view fn);

/// The shape of `a` as a vector (for outputs shaped like an input).
inline std::vector<py::ssize_t> shape_vec(const py::array& a) {
  return {a.shape(), a.shape() + a.ndim()};
}

/// x (..., C) viewed as rows (N, C), N the product of the leading axes (a NumPy reshape, no copy
/// for C-contiguous x). Throws llmlab::Error "fn: arg must have at least 1 axis" for a scalar.
py::array as_rows(const py::array& x, std::string_view fn, std::string_view arg);

/// `a` reshaped to `shape` (the inverse of as_rows for outputs).
inline py::array reshaped(const py::array& a, const std::vector<py::ssize_t>& shape) {
  return a.attr("reshape")(py::tuple(py::cast(shape)));
}

/// Calls `f.template operator()<T>()` with T = double or float, the dtype of `a` (and of every
/// array in `same`, which must match it). The reference runs in the dtype of its inputs.
template <class F>
auto dispatch_float(std::string_view fn,
                    std::initializer_list<std::pair<const char*, const py::array*>> args, F&& f) {
  const auto& [first_name, first] = *args.begin();
  const bool f64 = holds<double>(*first);
  if (!f64 && !holds<float>(*first)) bad_float_dtype(fn, first_name, *first);
  for (const auto& [name, a] : args) {
    if (!a->dtype().is(first->dtype()))
      throw py::type_error(std::string(fn) + ": " + name + " is " + dtype_str(*a) + " but " +
                           first_name + " is " + dtype_str(*first) +
                           " (the reference runs in one dtype)");
  }
  try {
    if (f64) return f.template operator()<double>();
    return f.template operator()<float>();
  } catch (const std::bad_alloc& e) {
    raise_memory_error(std::string(fn) + ": not enough memory (" + e.what() + ")");
  }
}

// ---- the CUDA side ------------------------------------------------------------------------------

/// The element type a CUDA binding runs in: `dtype` = "float32" (f32) or "bfloat16" (bf16).
inline DType cuda_dtype(std::string_view fn, std::string_view dtype) {
  if (dtype == "float32") return DType::f32;
  if (dtype == "bfloat16") return DType::bf16;
  throw py::value_error(std::string(fn) + ": dtype must be \"float32\" or \"bfloat16\", got \"" +
                        std::string(dtype) + "\"");
}

/// Calls `f.template operator()<E>()` with E the device element type of `dtype`: float for
/// "float32", __nv_bfloat16 for "bfloat16" (anything else raises ValueError naming `fn`). The one
/// place a binding turns its dtype argument into a type.
/// std::bad_alloc from anywhere in a call (a result, a temporary) also becomes MemoryError naming
/// `fn`.
template <class F>
auto dispatch_cuda(std::string_view fn, std::string_view dtype, F&& f) {
  const bool bf16 = cuda_dtype(fn, dtype) == DType::bf16;
  try {
    if (bf16) return f.template operator()<__nv_bfloat16>();
    return f.template operator()<float>();
  } catch (const std::bad_alloc& e) {
    raise_memory_error(std::string(fn) + ": not enough memory (" + e.what() + ")");
  }
}

/// `a` (float32 or float64, any shape) on the device as E, flattened: fp32, or bf16 rounded to
/// nearest-even. Throws TypeError for other input dtypes.
template <class E>
testing::DeviceBuffer<E> device_input(const py::array& a, std::string_view fn,
                                      std::string_view arg) {
  if (!holds<float>(a) && !holds<double>(a)) bad_float_dtype(fn, arg, a);
  const auto f = contiguous<float, py::array::c_style | py::array::forcecast>(a, fn, arg);
  return copying(fn, arg, a, sizeof(E), sizeof(E) == 2 ? "bfloat16" : "float32", [&] {
    const std::vector<float> values(f.data(), f.data() + f.size());
    if constexpr (sizeof(E) == 2)
      return testing::DeviceBuffer<E>(testing::bf16_bits(values));
    else
      return testing::DeviceBuffer<E>(values);
  });
}

/// A float32 NumPy array of `shape` holding a device buffer's values (bf16 widened exactly).
template <class E>
py::array_t<float> to_numpy(const testing::DeviceBuffer<E>& d,
                            const std::vector<py::ssize_t>& shape) {
  py::array_t<float> out(shape);
  const std::vector<double> v = d.widened();
  std::copy(v.begin(), v.end(), out.mutable_data());
  return out;
}

/// Throws LaunchError "fn: <CUDA error>" plus the emulator's diagnostic when `err` is not success.
void check_launch(cudaError_t err, std::string_view fn);

/// Releases the GIL while the emulator runs a kernel on its own threads.
using without_gil = py::gil_scoped_release;

/// Runs `launch` (returning a cudaError_t) without the GIL, then check_launch(err, fn).
template <class F>
void launch_checked(std::string_view fn, F&& launch) {
  cudaError_t err;
  {
    without_gil release;
    err = launch();
  }
  check_launch(err, fn);
}

}  // namespace llmlab::python
