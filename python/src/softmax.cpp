/// \file
/// \brief Bindings of softmax: llmlab.ref / llmlab.cuda softmax_forward and softmax_backward.
///
/// Rows are every index of the leading axes of x (..., C); the kernels see them as (R, C).

#include "llmlab/cuda/softmax.cuh"

#include "bindings.hpp"
#include "llmlab/ref/softmax.hpp"

namespace llmlab::python {
namespace {

/// (R, C) of an array (..., C): R the product of the leading axes (also when C = 0, so that a
/// (2, 0) input reaches the kernel's check and is refused as the reference refuses it). Throws for
/// rank 0.
std::pair<std::int64_t, std::int64_t> rows_cols(const py::array& x, std::string_view fn,
                                                std::string_view arg) {
  const py::array rows = as_rows(x, fn, arg);
  return {static_cast<std::int64_t>(rows.shape(0)), static_cast<std::int64_t>(rows.shape(1))};
}

}  // namespace

void bind_softmax(py::module_& ref, py::module_& cuda) {
  ref.def(
      "softmax_forward",
      [](const py::array& x) -> py::array {
        return dispatch_float("softmax_forward", {{"x", &x}}, [&]<class T>() -> py::array {
          return to_numpy(ref::softmax_forward<T>(to_xarray<T>(x, "softmax_forward", "x")));
        });
      },
      py::arg("x"), "y = softmax over the last axis of x (..., C), max subtracted first.");
  ref.def(
      "softmax_backward",
      [](const py::array& dy, const py::array& y) -> py::array {
        return dispatch_float("softmax_backward", {{"dy", &dy}, {"y", &y}},
                              [&]<class T>() -> py::array {
                                const auto xdy = to_xarray<T>(dy, "softmax_backward", "dy");
                                const auto xy = to_xarray<T>(y, "softmax_backward", "y");
                                xt::xarray<T> dx = xt::zeros<T>(xdy.shape());
                                ref::softmax_backward<T>(xdy, xy, dx);
                                return to_numpy(dx);
                              });
      },
      py::arg("dy"), py::arg("y"),
      "dx (..., C) from dy and the forward's output y (a fresh dx: no accumulation).");

  cuda.def(
      "softmax_forward",
      [](const py::array& x, const std::string& dtype, int version) {
        return dispatch_cuda("softmax_forward", dtype, [&]<class E>() {
          const auto [rows, cols] = rows_cols(x, "softmax_forward", "x");
          auto dx = device_input<E>(x, "softmax_forward", "x");
          testing::DeviceBuffer<E> dy(dx.size());
          launch_checked("softmax_forward", [&] {
            return cuda::softmax_forward(dx.cget(), dy.get(), rows, cols, version);
          });
          return to_numpy(dy, shape_vec(x));
        });
      },
      py::arg("x"), py::arg("dtype") = "float32", py::arg("version") = 0,
      "Softmax over the last axis of x (..., C) on the device in `dtype`; returns float32.");
  cuda.def(
      "softmax_backward",
      [](const py::array& dy, const py::array& y, const std::string& dtype, int version) {
        return dispatch_cuda("softmax_backward", dtype, [&]<class E>() {
          if (shape_vec(dy) != shape_vec(y))
            throw Error("softmax_backward", "dy is " + shape_of(dy) + " but y is " + shape_of(y));
          const auto [rows, cols] = rows_cols(dy, "softmax_backward", "dy");
          auto ddy = device_input<E>(dy, "softmax_backward", "dy");
          auto dyy = device_input<E>(y, "softmax_backward", "y");
          testing::DeviceBuffer<E> ddx(ddy.size());  // zeroed: dx accumulates
          launch_checked("softmax_backward", [&] {
            return cuda::softmax_backward(ddy.cget(), dyy.cget(), ddx.get(), rows, cols, version);
          });
          return to_numpy(ddx, shape_vec(dy));
        });
      },
      py::arg("dy"), py::arg("y"), py::arg("dtype") = "float32", py::arg("version") = 0,
      "dx (..., C) on the device from dy and the forward's output y; returns float32.");
  cuda.attr("softmax_forward_versions") = cuda::softmax_forward_versions;
  cuda.attr("softmax_backward_versions") = cuda::softmax_backward_versions;
}

}  // namespace llmlab::python

LLMLAB_PYTHON_REGISTER(softmax)
