/// \file
/// \brief Bindings of layernorm: llmlab.ref / llmlab.cuda layernorm_forward, layernorm_backward.
///
/// x may be (B, T, C) or any (..., C): rows are the leading axes; mean and rstd have their shape.

#include "llmlab/cuda/layernorm.cuh"

#include "bindings.hpp"
#include "llmlab/ref/layernorm.hpp"

namespace llmlab::python {
namespace {

/// x (..., C) as the reference's (1, N, C).
template <class T>
xt::xtensor<T, 3> as_btc(const py::array& x, std::string_view fn, std::string_view arg) {
  const py::array rows = as_rows(x, fn, arg);
  return to_xtensor<T, 3>(rows.attr("reshape")(py::make_tuple(1, rows.shape(0), rows.shape(1))), fn,
                          arg);
}

/// The leading axes of x (..., C): the shape of mean and rstd.
std::vector<py::ssize_t> leading(const py::array& x) {
  auto s = shape_vec(x);
  s.pop_back();
  return s;
}

/// The forward's shapes as the caller passed them (the reference would name its (1, N, C) view):
/// x (..., C ≥ 1) with w and b (C). Throws llmlab::Error naming all three.
void check_forward_shapes(const py::array& x, const py::array& w, const py::array& b) {
  const py::array x2 = as_rows(x, "layernorm_forward", "x");
  const py::ssize_t C = x2.shape(1);
  if (C == 0) throw Error("layernorm_forward", "x is " + shape_of(x) + ": C must be >= 1");
  if (w.ndim() != 1 || b.ndim() != 1 || w.shape(0) != C || b.shape(0) != C)
    throw Error("layernorm_forward", "x is " + shape_of(x) + " but w is " + shape_of(w) +
                                         " and b is " + shape_of(b));
}

/// The backward's shapes as the caller passed them: dy and x (..., C), w (C), mean and rstd (...)
/// or N values. Throws llmlab::Error naming all five.
void check_backward_shapes(const py::array& dy, const py::array& x, const py::array& w,
                           const py::array& mean, const py::array& rstd) {
  const py::array x2 = as_rows(x, "layernorm_backward", "x");
  const py::ssize_t N = x2.shape(0), C = x2.shape(1);
  if (C == 0) throw Error("layernorm_backward", "x is " + shape_of(x) + ": C must be >= 1");
  if (shape_vec(dy) != shape_vec(x) || w.ndim() != 1 || w.shape(0) != C || mean.size() != N ||
      rstd.size() != N)
    throw Error("layernorm_backward", "dy is " + shape_of(dy) + ", x is " + shape_of(x) +
                                          ", w is " + shape_of(w) + ", mean is " + shape_of(mean) +
                                          ", rstd is " + shape_of(rstd));
}

}  // namespace

void bind_layernorm(py::module_& ref, py::module_& cuda) {
  ref.def(
      "layernorm_forward",
      [](const py::array& x, const py::array& w, const py::array& b, double eps) -> py::tuple {
        return dispatch_float(
            "layernorm_forward", {{"x", &x}, {"w", &w}, {"b", &b}}, [&]<class T>() -> py::tuple {
              check_forward_shapes(x, w, b);
              const auto xx = as_btc<T>(x, "layernorm_forward", "x");
              const auto f =
                  ref::layernorm_forward<T>(xx, to_xtensor<T, 1>(w, "layernorm_forward", "w"),
                                            to_xtensor<T, 1>(b, "layernorm_forward", "b"), eps);
              return py::make_tuple(reshaped(to_numpy(f.y), shape_vec(x)),
                                    reshaped(to_numpy(f.mean), leading(x)),
                                    reshaped(to_numpy(f.rstd), leading(x)));
            });
      },
      py::arg("x"), py::arg("w"), py::arg("b"), py::arg("eps") = 1e-5,
      "(y (..., C), mean (...), rstd (...)) = LayerNorm over the last axis of x, gain w (C), bias "
      "b (C).");
  ref.def(
      "layernorm_backward",
      [](const py::array& dy, const py::array& x, const py::array& w, const py::array& mean,
         const py::array& rstd) -> py::tuple {
        return dispatch_float("layernorm_backward",
                              {{"dy", &dy}, {"x", &x}, {"w", &w}, {"mean", &mean}, {"rstd", &rstd}},
                              [&]<class T>() -> py::tuple {
                                check_backward_shapes(dy, x, w, mean, rstd);
                                const auto xdy = as_btc<T>(dy, "layernorm_backward", "dy");
                                const auto xx = as_btc<T>(x, "layernorm_backward", "x");
                                const auto xw = to_xtensor<T, 1>(w, "layernorm_backward", "w");
                                const auto two_d = [&](const py::array& a, const char* arg) {
                                  return to_xtensor<T, 2>(a.attr("reshape")(py::make_tuple(1, -1)),
                                                          "layernorm_backward", arg);
                                };
                                xt::xtensor<T, 3> dx = xt::zeros<T>(xx.shape());
                                xt::xtensor<T, 1> dw = xt::zeros<T>(xw.shape()),
                                                  db = xt::zeros<T>(xw.shape());
                                ref::layernorm_backward<T>(xdy, xx, xw, two_d(mean, "mean"),
                                                           two_d(rstd, "rstd"), dx, dw, db);
                                return py::make_tuple(reshaped(to_numpy(dx), shape_vec(x)),
                                                      to_numpy(dw), to_numpy(db));
                              });
      },
      py::arg("dy"), py::arg("x"), py::arg("w"), py::arg("mean"), py::arg("rstd"),
      "(dx (..., C), dw (C), db (C)) from dy, the forward's x, w and its mean and rstd (fresh "
      "gradients).");

  cuda.def(
      "layernorm_forward",
      [](const py::array& x, const py::array& w, const py::array& b, double eps,
         const std::string& dtype, int version) {
        return dispatch_cuda("layernorm_forward", dtype, [&]<class E>() {
          check_forward_shapes(x, w, b);
          const py::array x2 = as_rows(x, "layernorm_forward", "x");
          const auto N = static_cast<std::int64_t>(x2.shape(0)),
                     C = static_cast<std::int64_t>(x2.shape(1));
          auto dx = device_input<E>(x2, "layernorm_forward", "x");
          auto dw = device_input<E>(w, "layernorm_forward", "w");
          auto db = device_input<E>(b, "layernorm_forward", "b");
          testing::DeviceBuffer<E> dy(N * C);
          testing::DeviceBuffer<float> dmean(N), drstd(N);  // fp32 in both dtypes
          launch_checked("layernorm_forward", [&] {
            return cuda::layernorm_forward(dx.cget(), dw.cget(), db.cget(), dy.get(), dmean.get(),
                                           drstd.get(), N, C, static_cast<float>(eps), version);
          });
          return py::make_tuple(to_numpy(dy, shape_vec(x)), to_numpy(dmean, leading(x)),
                                to_numpy(drstd, leading(x)));
        });
      },
      py::arg("x"), py::arg("w"), py::arg("b"), py::arg("eps") = 1e-5, py::arg("dtype") = "float32",
      py::arg("version") = 0,
      "(y, mean, rstd) on the device, x/w/b/y in `dtype`, mean and rstd fp32.");
  cuda.def(
      "layernorm_backward",
      [](const py::array& dy, const py::array& x, const py::array& w, const py::array& mean,
         const py::array& rstd, const std::string& dtype, int version) {
        return dispatch_cuda("layernorm_backward", dtype, [&]<class E>() {
          const py::array dy2 = as_rows(dy, "layernorm_backward", "dy"),
                          x2 = as_rows(x, "layernorm_backward", "x");
          check_backward_shapes(dy, x, w, mean, rstd);
          const auto N = static_cast<std::int64_t>(x2.shape(0)),
                     C = static_cast<std::int64_t>(x2.shape(1));
          auto ddy = device_input<E>(dy2, "layernorm_backward", "dy");
          auto dx = device_input<E>(x2, "layernorm_backward", "x");
          auto dw = device_input<E>(w, "layernorm_backward", "w");
          auto dmean = device_input<float>(mean, "layernorm_backward", "mean");
          auto drstd = device_input<float>(rstd, "layernorm_backward", "rstd");
          // Gradients accumulate: they start zeroed. dw and db stay fp32 in both dtypes.
          testing::DeviceBuffer<E> ddx(N * C);
          testing::DeviceBuffer<float> ddw(C), ddb(C),
              scratch(cuda::layernorm_backward_scratch(N, C));
          launch_checked("layernorm_backward", [&] {
            return cuda::layernorm_backward(ddy.cget(), dx.cget(), dw.cget(), dmean.cget(),
                                            drstd.cget(), ddx.get(), ddw.get(), ddb.get(),
                                            scratch.get(), N, C, version);
          });
          return py::make_tuple(to_numpy(ddx, shape_vec(x)), to_numpy(ddw, {C}),
                                to_numpy(ddb, {C}));
        });
      },
      py::arg("dy"), py::arg("x"), py::arg("w"), py::arg("mean"), py::arg("rstd"),
      py::arg("dtype") = "float32", py::arg("version") = 0,
      "(dx, dw, db) on the device; dx in `dtype`, dw and db fp32; returns float32.");
  cuda.attr("layernorm_forward_versions") = cuda::layernorm_forward_versions;
  cuda.attr("layernorm_backward_versions") = cuda::layernorm_backward_versions;
}

}  // namespace llmlab::python

LLMLAB_PYTHON_REGISTER(layernorm)
