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

/// x flattened to (n).
py::array flat(const py::array& x) { return x.attr("reshape")(py::make_tuple(-1)); }

}  // namespace

void bind_gelu(py::module_& ref, py::module_& cuda) {
  ref.def(
      "gelu_forward",
      [](const py::array& x) -> py::array {
        return dispatch_float("gelu_forward", {{"x", &x}}, [&]<class T>() -> py::array {
          const auto y = ref::gelu_forward<T, 1>(to_xtensor<T, 1>(flat(x), "gelu_forward", "x"));
          return reshaped(to_numpy(y), shape_vec(x));
        });
      },
      py::arg("x"), "GELU (tanh approximation) of every element of x, any shape.");
  ref.def(
      "gelu_backward",
      [](const py::array& dy, const py::array& x) -> py::array {
        return dispatch_float("gelu_backward", {{"dy", &dy}, {"x", &x}},
                              [&]<class T>() -> py::array {
                                const auto xdy = to_xtensor<T, 1>(flat(dy), "gelu_backward", "dy");
                                const auto xx = to_xtensor<T, 1>(flat(x), "gelu_backward", "x");
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
        const DType t = cuda_dtype("gelu_forward", dtype);
        const auto n = static_cast<std::int64_t>(x.size());
        DeviceMemory dx = to_device(x, t, "gelu_forward", "x");
        DeviceMemory dy(n, bytes_of(t));
        launch_checked("gelu_forward", [&] {
          return t == DType::f32
                     ? cuda::gelu_forward(dx.as<const float>(), dy.as<float>(), n, version)
                     : cuda::gelu_forward(dx.as<const __nv_bfloat16>(), dy.as<__nv_bfloat16>(), n,
                                          version);
        });
        return from_device(dy, t, shape_vec(x));
      },
      py::arg("x"), py::arg("dtype") = "float32", py::arg("version") = 0,
      "GELU of every element on the device in `dtype`; returns float32 of x's shape.");
  cuda.def(
      "gelu_backward",
      [](const py::array& dy, const py::array& x, const std::string& dtype, int version) {
        const DType t = cuda_dtype("gelu_backward", dtype);
        if (shape_vec(dy) != shape_vec(x))
          throw Error("gelu_backward", "dy is " + shape_of(dy) + " but x is " + shape_of(x));
        const auto n = static_cast<std::int64_t>(x.size());
        DeviceMemory ddy = to_device(dy, t, "gelu_backward", "dy");
        DeviceMemory dx = to_device(x, t, "gelu_backward", "x");
        DeviceMemory ddx = device_zeros(n, bytes_of(t));  // dx accumulates
        launch_checked("gelu_backward", [&] {
          return t == DType::f32 ? cuda::gelu_backward(ddy.as<const float>(), dx.as<const float>(),
                                                       ddx.as<float>(), n, version)
                                 : cuda::gelu_backward(ddy.as<const __nv_bfloat16>(),
                                                       dx.as<const __nv_bfloat16>(),
                                                       ddx.as<__nv_bfloat16>(), n, version);
        });
        return from_device(ddx, t, shape_vec(x));
      },
      py::arg("dy"), py::arg("x"), py::arg("dtype") = "float32", py::arg("version") = 0,
      "dx on the device from dy and the forward's input x; returns float32.");
  cuda.attr("gelu_versions") = cuda::gelu_versions;
}

}  // namespace llmlab::python
