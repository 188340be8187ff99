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

}  // namespace

void bind_layernorm(py::module_& ref, py::module_& cuda) {
  ref.def(
      "layernorm_forward",
      [](const py::array& x, const py::array& w, const py::array& b, double eps) -> py::tuple {
        return dispatch_float(
            "layernorm_forward", {{"x", &x}, {"w", &w}, {"b", &b}}, [&]<class T>() -> py::tuple {
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
        const DType t = cuda_dtype("layernorm_forward", dtype);
        const py::array x2 = as_rows(x, "layernorm_forward", "x");
        const auto N = static_cast<std::int64_t>(x2.shape(0)),
                   C = static_cast<std::int64_t>(x2.shape(1));
        if (w.ndim() != 1 || b.ndim() != 1 || w.shape(0) != C || b.shape(0) != C)
          throw Error("layernorm_forward", "x is " + shape_of(x) + " but w is " + shape_of(w) +
                                               " and b is " + shape_of(b));
        DeviceMemory dx = to_device(x2, t, "layernorm_forward", "x"),
                     dw = to_device(w, t, "layernorm_forward", "w");
        DeviceMemory db = to_device(b, t, "layernorm_forward", "b");
        DeviceMemory dy(N * C, bytes_of(t)), dmean(N, sizeof(float)), drstd(N, sizeof(float));
        launch_checked("layernorm_forward", [&] {
          return t == DType::f32
                     ? cuda::layernorm_forward(dx.as<const float>(), dw.as<const float>(),
                                               db.as<const float>(), dy.as<float>(),
                                               dmean.as<float>(), drstd.as<float>(), N, C,
                                               static_cast<float>(eps), version)
                     : cuda::layernorm_forward(
                           dx.as<const __nv_bfloat16>(), dw.as<const __nv_bfloat16>(),
                           db.as<const __nv_bfloat16>(), dy.as<__nv_bfloat16>(), dmean.as<float>(),
                           drstd.as<float>(), N, C, static_cast<float>(eps), version);
        });
        return py::make_tuple(from_device(dy, t, shape_vec(x)),
                              from_device(dmean, DType::f32, leading(x)),
                              from_device(drstd, DType::f32, leading(x)));
      },
      py::arg("x"), py::arg("w"), py::arg("b"), py::arg("eps") = 1e-5, py::arg("dtype") = "float32",
      py::arg("version") = 0,
      "(y, mean, rstd) on the device, x/w/b/y in `dtype`, mean and rstd fp32.");
  cuda.def(
      "layernorm_backward",
      [](const py::array& dy, const py::array& x, const py::array& w, const py::array& mean,
         const py::array& rstd, const std::string& dtype, int version) {
        const DType t = cuda_dtype("layernorm_backward", dtype);
        const py::array dy2 = as_rows(dy, "layernorm_backward", "dy"),
                        x2 = as_rows(x, "layernorm_backward", "x");
        const auto N = static_cast<std::int64_t>(x2.shape(0)),
                   C = static_cast<std::int64_t>(x2.shape(1));
        if (shape_vec(dy) != shape_vec(x) || w.ndim() != 1 || w.shape(0) != C || mean.size() != N ||
            rstd.size() != N)
          throw Error("layernorm_backward", "dy is " + shape_of(dy) + ", x is " + shape_of(x) +
                                                ", w is " + shape_of(w) + ", mean is " +
                                                shape_of(mean) + ", rstd is " + shape_of(rstd));
        DeviceMemory ddy = to_device(dy2, t, "layernorm_backward", "dy");
        DeviceMemory dx = to_device(x2, t, "layernorm_backward", "x"),
                     dw = to_device(w, t, "layernorm_backward", "w");
        DeviceMemory dmean = to_device(mean, DType::f32, "layernorm_backward", "mean");
        DeviceMemory drstd = to_device(rstd, DType::f32, "layernorm_backward", "rstd");
        // Gradients accumulate: start from zero. dw and db stay fp32 in both dtypes.
        DeviceMemory ddx = device_zeros(N * C, bytes_of(t));
        DeviceMemory ddw = device_zeros(C, sizeof(float)), ddb = device_zeros(C, sizeof(float));
        DeviceMemory scratch(cuda::layernorm_backward_scratch(N, C), sizeof(float));
        launch_checked("layernorm_backward", [&] {
          return t == DType::f32
                     ? cuda::layernorm_backward(
                           ddy.as<const float>(), dx.as<const float>(), dw.as<const float>(),
                           dmean.as<const float>(), drstd.as<const float>(), ddx.as<float>(),
                           ddw.as<float>(), ddb.as<float>(), scratch.as<float>(), N, C, version)
                     : cuda::layernorm_backward(
                           ddy.as<const __nv_bfloat16>(), dx.as<const __nv_bfloat16>(),
                           dw.as<const __nv_bfloat16>(), dmean.as<const float>(),
                           drstd.as<const float>(), ddx.as<__nv_bfloat16>(), ddw.as<float>(),
                           ddb.as<float>(), scratch.as<float>(), N, C, version);
        });
        return py::make_tuple(from_device(ddx, t, shape_vec(x)), from_device(ddw, DType::f32, {C}),
                              from_device(ddb, DType::f32, {C}));
      },
      py::arg("dy"), py::arg("x"), py::arg("w"), py::arg("mean"), py::arg("rstd"),
      py::arg("dtype") = "float32", py::arg("version") = 0,
      "(dx, dw, db) on the device; dx in `dtype`, dw and db fp32; returns float32.");
  cuda.attr("layernorm_forward_versions") = cuda::layernorm_forward_versions;
  cuda.attr("layernorm_backward_versions") = cuda::layernorm_backward_versions;
}

}  // namespace llmlab::python

LLMLAB_PYTHON_REGISTER(layernorm)
