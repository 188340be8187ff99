/// \file
/// \brief Bindings of gelu (tanh approximation): llmlab.ref / llmlab.cuda gelu_forward,
/// gelu_backward.
///
/// Element-wise, so any shape: the bindings hand the C++ functions the flattened array.

#include "llmlab/cuda/gelu.cuh"

#include "bindings.hpp"
#include "llmlab/ref/gelu.hpp"

namespace llmlab::python {
namespace {

/// x flattened to (n), as T. Made contiguous first, so that a copy too big for memory is reported
/// with the shape the caller passed (arrays.hpp, contiguous).
template <class T>
py::array flat(const py::array& x, std::string_view fn, std::string_view arg) {
  if (!holds<T>(x)) bad_float_dtype(fn, arg, x);
  return contiguous<T>(x, fn, arg).attr("reshape")(py::make_tuple(-1));
}

}  // namespace

void bind_gelu(py::module_& ref, py::module_& cuda) {
  ref.def(
      "gelu_forward",
      [](const py::array& x) -> py::array {
        return dispatch_float("gelu_forward", {{"x", &x}}, [&]<class T>() -> py::array {
          const auto y = ref::gelu_forward<T, 1>(
              to_xtensor<T, 1>(flat<T>(x, "gelu_forward", "x"), "gelu_forward", "x"));
          return reshaped(to_numpy(y), shape_vec(x));
        });
      },
      py::arg("x"), "GELU (tanh approximation) of every element of x, any shape.");
  ref.def(
      "gelu_backward",
      [](const py::array& dy, const py::array& x) -> py::array {
        return dispatch_float("gelu_backward", {{"dy", &dy}, {"x", &x}},
                              [&]<class T>() -> py::array {
                                const auto xdy = to_xtensor<T, 1>(flat<T>(dy, "gelu_backward", "dy"),
                                                                  "gelu_backward", "dy");
                                const auto xx = to_xtensor<T, 1>(flat<T>(x, "gelu_backward", "x"),
                                                                 "gelu_backward", "x");
                                xt::xtensor<T, 1> dx = xt::zeros<T>(xx.shape());
                                ref::gelu_backward<T, 1>(xdy, xx, dx);
                                return reshaped(to_numpy(dx), shape_vec(x));
                              });
      },
      py::arg("dy"), py::arg("x"),
      "dx (the shape of x) from dy and the forward's input (a fresh dx).");

  cuda.def(
      "gelu_forward",
      [](const py::array& x, const std::string& dtype, int version) {
        return dispatch_cuda("gelu_forward", dtype, [&]<class E>() {
          auto dx = device_input<E>(x, "gelu_forward", "x");
          testing::DeviceBuffer<E> dy(dx.size());
          launch_checked("gelu_forward",
                         [&] { return cuda::gelu_forward(dx.cget(), dy.get(), dx.size(), version); });
          return to_numpy(dy, shape_vec(x));
        });
      },
      py::arg("x"), py::arg("dtype") = "float32", py::arg("version") = 0,
      "GELU of every element on the device in `dtype`; returns float32 of x's shape.");
  cuda.def(
      "gelu_backward",
      [](const py::array& dy, const py::array& x, const std::string& dtype, int version) {
        if (shape_vec(dy) != shape_vec(x))
          throw Error("gelu_backward", "dy is " + shape_of(dy) + " but x is " + shape_of(x));
        return dispatch_cuda("gelu_backward", dtype, [&]<class E>() {
          auto ddy = device_input<E>(dy, "gelu_backward", "dy");
          auto dx = device_input<E>(x, "gelu_backward", "x");
          testing::DeviceBuffer<E> ddx(dx.size());  // zeroed: dx accumulates
          launch_checked("gelu_backward", [&] {
            return cuda::gelu_backward(ddy.cget(), dx.cget(), ddx.get(), dx.size(), version);
          });
          return to_numpy(ddx, shape_vec(x));
        });
      },
      py::arg("dy"), py::arg("x"), py::arg("dtype") = "float32", py::arg("version") = 0,
      "dx on the device from dy and the forward's input x; returns float32.");
  cuda.attr("gelu_versions") = cuda::gelu_versions;
}

}  // namespace llmlab::python

LLMLAB_PYTHON_REGISTER(gelu)
