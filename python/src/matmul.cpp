/// \file
/// \brief Bindings of matmul (\f$ y = x W^T + b \f$): llmlab.ref / llmlab.cuda matmul_forward,
/// matmul_backward.
///
/// x may be (N, in) or (B, T, in), any leading axes: they are flattened to N rows and y keeps them.

#include "llmlab/cuda/matmul.cuh"

#include <optional>

#include "bindings.hpp"
#include "llmlab/ref/matmul.hpp"

namespace llmlab::python {
namespace {

/// x's shape with the last axis replaced by n.
std::vector<py::ssize_t> with_last(const py::array& x, py::ssize_t n) {
  auto s = shape_vec(x);
  s.back() = n;
  return s;
}

}  // namespace

void bind_matmul(py::module_& ref, py::module_& cuda) {
  ref.def(
      "matmul_forward",
      [](const py::array& x, const py::array& w, const std::optional<py::array>& b) -> py::array {
        const py::array x2 = as_rows(x, "matmul_forward", "x");
        const auto run = [&]<class T>() -> py::array {
          const auto xx = to_xtensor<T, 2>(x2, "matmul_forward", "x");
          const auto xw = to_xtensor<T, 2>(w, "matmul_forward", "w");
          const auto y =
              b ? ref::matmul_forward<T>(xx, xw, to_xtensor<T, 1>(*b, "matmul_forward", "b"))
                : ref::matmul_forward<T>(xx, xw);
          return reshaped(to_numpy(y), with_last(x, static_cast<py::ssize_t>(xw.shape(0))));
        };
        return b ? dispatch_float("matmul_forward", {{"x", &x}, {"w", &w}, {"b", &*b}}, run)
                 : dispatch_float("matmul_forward", {{"x", &x}, {"w", &w}}, run);
      },
      py::arg("x"), py::arg("w"), py::arg("b") = py::none(),
      "y (..., out) = x Wᵀ + b for x (..., in), w (out, in), b (out) or None.");
  ref.def(
      "matmul_backward",
      [](const py::array& dy, const py::array& x, const py::array& w) -> py::tuple {
        const py::array dy2 = as_rows(dy, "matmul_backward", "dy"),
                        x2 = as_rows(x, "matmul_backward", "x");
        return dispatch_float(
            "matmul_backward", {{"dy", &dy}, {"x", &x}, {"w", &w}}, [&]<class T>() -> py::tuple {
              const auto xdy = to_xtensor<T, 2>(dy2, "matmul_backward", "dy");
              const auto xx = to_xtensor<T, 2>(x2, "matmul_backward", "x");
              const auto xw = to_xtensor<T, 2>(w, "matmul_backward", "w");
              xt::xtensor<T, 2> dx = xt::zeros<T>(xx.shape()), dw = xt::zeros<T>(xw.shape());
              xt::xtensor<T, 1> db = xt::zeros<T>({xw.shape(0)});
              ref::matmul_backward<T>(xdy, xx, xw, dx, dw, db);
              return py::make_tuple(reshaped(to_numpy(dx), shape_vec(x)), to_numpy(dw),
                                    to_numpy(db));
            });
      },
      py::arg("dy"), py::arg("x"), py::arg("w"),
      "(dx (..., in), dw (out, in), db (out)) from dy (..., out), x and w (fresh, no "
      "accumulation).");

  cuda.def(
      "matmul_forward",
      [](const py::array& x, const py::array& w, const std::optional<py::array>& b,
         const std::string& dtype, int version) {
        const py::array x2 = as_rows(x, "matmul_forward", "x");
        require_ndim<2>(w, "matmul_forward", "w");
        const auto N = static_cast<std::int64_t>(x2.shape(0)),
                   in = static_cast<std::int64_t>(x2.shape(1));
        const auto out = static_cast<std::int64_t>(w.shape(0));
        if (w.shape(1) != in)
          throw Error("matmul_forward", "x is " + shape_of(x) + " but w is " + shape_of(w));
        if (b && (b->ndim() != 1 || b->shape(0) != out))
          throw Error("matmul_forward", "w is " + shape_of(w) + " but b is " + shape_of(*b));
        return dispatch_cuda("matmul_forward", dtype, [&]<class E>() {
          auto dx = device_input<E>(x2, "matmul_forward", "x");
          auto dw = device_input<E>(w, "matmul_forward", "w");
          auto db = b ? device_input<E>(*b, "matmul_forward", "b") : testing::DeviceBuffer<E>(0);
          testing::DeviceBuffer<E> dy(N * out);
          launch_checked("matmul_forward", [&] {
            return cuda::matmul_forward(dx.cget(), dw.cget(), b ? db.cget() : nullptr, dy.get(), N,
                                        in, out, version);
          });
          return to_numpy(dy, with_last(x, static_cast<py::ssize_t>(out)));
        });
      },
      py::arg("x"), py::arg("w"), py::arg("b") = py::none(), py::arg("dtype") = "float32",
      py::arg("version") = 0, "y (..., out) = x Wᵀ + b on the device in `dtype`; returns float32.");
  cuda.def(
      "matmul_backward",
      [](const py::array& dy, const py::array& x, const py::array& w, const std::string& dtype,
         int version) {
        const py::array dy2 = as_rows(dy, "matmul_backward", "dy"),
                        x2 = as_rows(x, "matmul_backward", "x");
        require_ndim<2>(w, "matmul_backward", "w");
        const auto N = static_cast<std::int64_t>(x2.shape(0)),
                   in = static_cast<std::int64_t>(x2.shape(1));
        const auto out = static_cast<std::int64_t>(w.shape(0));
        if (w.shape(1) != in || dy2.shape(0) != N || dy2.shape(1) != out)
          throw Error("matmul_backward", "dy is " + shape_of(dy) + ", x is " + shape_of(x) +
                                             " and w is " + shape_of(w));
        return dispatch_cuda("matmul_backward", dtype, [&]<class E>() {
          auto ddy = device_input<E>(dy2, "matmul_backward", "dy");
          auto dx = device_input<E>(x2, "matmul_backward", "x");
          auto dw = device_input<E>(w, "matmul_backward", "w");
          // Gradients accumulate: start from zero. dx in E; dw and db fp32 in both dtypes.
          testing::DeviceBuffer<E> ddx(N * in);
          testing::DeviceBuffer<float> ddw(out * in), ddb(out);
          launch_checked("matmul_backward", [&] {
            return cuda::matmul_backward(ddy.cget(), dx.cget(), dw.cget(), ddx.get(), ddw.get(),
                                         ddb.get(), N, in, out, version);
          });
          return py::make_tuple(to_numpy(ddx, shape_vec(x)), to_numpy(ddw, {out, in}),
                                to_numpy(ddb, {out}));
        });
      },
      py::arg("dy"), py::arg("x"), py::arg("w"), py::arg("dtype") = "float32",
      py::arg("version") = 0,
      "(dx, dw, db) on the device in `dtype` (dw and db accumulated in fp32 either way); returns "
      "float32.");
  cuda.attr("matmul_versions") = cuda::matmul_versions;
}

}  // namespace llmlab::python

LLMLAB_PYTHON_REGISTER(matmul)
