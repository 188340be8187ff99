/// \file
/// \brief Bindings of the residual add: llmlab.ref / llmlab.cuda residual_forward,
/// residual_backward.
///
/// Element-wise over any shape (a and b alike): the kernels see the flattened arrays.

#include "llmlab/cuda/residual.cuh"

#include <utility>

#include "bindings.hpp"
#include "llmlab/ref/residual.hpp"

namespace llmlab::python {

void bind_residual(py::module_& ref, py::module_& cuda) {
  ref.def(
      "residual_forward",
      [](const py::array& a, const py::array& b) -> py::array {
        return dispatch_float("residual_forward", {{"a", &a}, {"b", &b}}, [&]<class T>() {
          return py::array(to_numpy(ref::residual_forward<T>(
              to_xarray<T>(a, "residual_forward", "a"), to_xarray<T>(b, "residual_forward", "b"))));
        });
      },
      py::arg("a"), py::arg("b"), "out = a + b (the residual stream plus a branch), any shape.");
  ref.def(
      "residual_backward",
      [](const py::array& dout) -> py::tuple {
        return dispatch_float("residual_backward", {{"dout", &dout}}, [&]<class T>() {
          const auto g = to_xarray<T>(dout, "residual_backward", "dout");
          xt::xarray<T> da = xt::zeros<T>(g.shape()), db = xt::zeros<T>(g.shape());
          ref::residual_backward<T>(g, da, db);
          return py::make_tuple(to_numpy(da), to_numpy(db));
        });
      },
      py::arg("dout"), "(da, db), both dout: the add passes its gradient to both inputs.");

  cuda.def(
      "residual_forward",
      [](const py::array& a, const py::array& b, const std::string& dtype) {
        if (shape_vec(a) != shape_vec(b))
          throw Error("residual_forward", "a is " + shape_of(a) + " but b is " + shape_of(b));
        return dispatch_cuda("residual_forward", dtype, [&]<class E>() {
          auto da = device_input<E>(a, "residual_forward", "a");
          auto db = device_input<E>(b, "residual_forward", "b");
          testing::DeviceBuffer<E> out(da.size());
          launch_checked("residual_forward", [&] {
            return cuda::residual_forward(da.cget(), db.cget(), out.get(), da.size());
          });
          return to_numpy(out, shape_vec(a));
        });
      },
      py::arg("a"), py::arg("b"), py::arg("dtype") = "float32",
      "out = a + b on the device in `dtype` (one rounding); returns float32 of a's shape.");
  cuda.def(
      "residual_backward",
      [](const py::array& dout, const std::string& dtype) {
        return dispatch_cuda("residual_backward", dtype, [&]<class E>() {
          auto g = device_input<E>(dout, "residual_backward", "dout");
          testing::DeviceBuffer<E> da(g.size()), db(g.size());  // zeroed: both accumulate
          launch_checked("residual_backward", [&] {
            return cuda::residual_backward(g.cget(), da.get(), db.get(), g.size());
          });
          return py::make_tuple(to_numpy(da, shape_vec(dout)), to_numpy(db, shape_vec(dout)));
        });
      },
      py::arg("dout"), py::arg("dtype") = "float32",
      "(da, db) on the device, each accumulated from zero; returns float32 arrays.");
}

}  // namespace llmlab::python

LLMLAB_PYTHON_REGISTER(residual)
