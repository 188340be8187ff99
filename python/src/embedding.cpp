/// \file
/// \brief Bindings of embedding: llmlab.ref / llmlab.cuda embedding_forward and embedding_backward.

#include "llmlab/cuda/embedding.cuh"

#include "bindings.hpp"
#include "llmlab/ref/embedding.hpp"

namespace llmlab::python {
namespace {

/// The ids (B, T) as the flat vector a device buffer takes.
std::vector<std::int32_t> ids_vector(const xt::xtensor<std::int32_t, 2>& ids) {
  return {ids.begin(), ids.end()};
}

}  // namespace

void bind_embedding(py::module_& ref, py::module_& cuda) {
  ref.def(
      "embedding_forward",
      [](const py::array& ids, const py::array& wte, const py::array& wpe) -> py::array {
        const auto xids = ids_int32(ids, "embedding_forward");
        return dispatch_float("embedding_forward", {{"wte", &wte}, {"wpe", &wpe}},
                              [&]<class T>() -> py::array {
                                const auto xwte = to_xtensor<T, 2>(wte, "embedding_forward", "wte");
                                const auto xwpe = to_xtensor<T, 2>(wpe, "embedding_forward", "wpe");
                                return to_numpy(ref::embedding_forward<T>(xids, xwte, xwpe));
                              });
      },
      py::arg("ids"), py::arg("wte"), py::arg("wpe"),
      "out (B, T, C) = wte[ids] + wpe[:T] for ids (B, T), wte (V, C), wpe (maxT, C).");
  ref.def(
      "embedding_backward",
      [](const py::array& dout, const py::array& ids, std::int64_t V,
         std::int64_t maxT) -> py::tuple {
        const auto xids = ids_int32(ids, "embedding_backward");
        return dispatch_float("embedding_backward", {{"dout", &dout}}, [&]<class T>() -> py::tuple {
          const auto xdout = to_xtensor<T, 3>(dout, "embedding_backward", "dout");
          require(V >= 0 && maxT >= 0, "embedding_backward", "V and maxT must be >= 0");
          const std::size_t C = xdout.shape(2);
          xt::xtensor<T, 2> dwte = xt::zeros<T>({static_cast<std::size_t>(V), C});
          xt::xtensor<T, 2> dwpe = xt::zeros<T>({static_cast<std::size_t>(maxT), C});
          ref::embedding_backward<T>(xdout, xids, dwte, dwpe);
          return py::make_tuple(to_numpy(dwte), to_numpy(dwpe));
        });
      },
      py::arg("dout"), py::arg("ids"), py::arg("V"), py::arg("maxT"),
      "(dwte (V, C), dwpe (maxT, C)) from dout (B, T, C) and ids (B, T), fresh (no accumulation).");

  cuda.def(
      "embedding_forward",
      [](const py::array& ids, const py::array& wte, const py::array& wpe, const std::string& dtype,
         int version) {
        return dispatch_cuda("embedding_forward", dtype, [&]<class E>() {
          const auto xids = ids_int32(ids, "embedding_forward");
          require_ndim<2>(wte, "embedding_forward", "wte");
          require_ndim<2>(wpe, "embedding_forward", "wpe");
          const auto B = static_cast<std::int64_t>(ids.shape(0)),
                     T = static_cast<std::int64_t>(ids.shape(1));
          const auto V = static_cast<std::int64_t>(wte.shape(0)),
                     C = static_cast<std::int64_t>(wte.shape(1));
          const auto maxT = static_cast<std::int64_t>(wpe.shape(0));
          if (wpe.shape(1) != wte.shape(1))
            throw Error("embedding_forward",
                        "wte is " + shape_of(wte) + " but wpe is " + shape_of(wpe));
          testing::DeviceBuffer<std::int32_t> dids(ids_vector(xids));
          auto dwte = device_input<E>(wte, "embedding_forward", "wte");
          auto dwpe = device_input<E>(wpe, "embedding_forward", "wpe");
          testing::DeviceBuffer<E> dout(B * T * C);
          launch_checked("embedding_forward", [&] {
            return cuda::embedding_forward(dids.cget(), dwte.cget(), dwpe.cget(), dout.get(), B, T,
                                           C, V, maxT, version);
          });
          return to_numpy(dout, {B, T, C});
        });
      },
      py::arg("ids"), py::arg("wte"), py::arg("wpe"), py::arg("dtype") = "float32",
      py::arg("version") = 0,
      "out (B, T, C) = wte[ids] + wpe[:T] on the device in `dtype`; returns float32.");
  cuda.def(
      "embedding_backward",
      [](const py::array& dout, const py::array& ids, std::int64_t V, std::int64_t maxT,
         const std::string& dtype, int version) {
        return dispatch_cuda("embedding_backward", dtype, [&]<class E>() {
          const auto xids = ids_int32(ids, "embedding_backward");
          require_ndim<3>(dout, "embedding_backward", "dout");
          require(V >= 0 && maxT >= 0, "embedding_backward", "V and maxT must be >= 0");
          const auto B = static_cast<std::int64_t>(dout.shape(0)),
                     T = static_cast<std::int64_t>(dout.shape(1));
          const auto C = static_cast<std::int64_t>(dout.shape(2));
          if (ids.shape(0) != B || ids.shape(1) != T)
            throw Error("embedding_backward",
                        "dout is " + shape_of(dout) + " but ids is " + shape_of(ids));
          testing::DeviceBuffer<std::int32_t> dids(ids_vector(xids));
          auto ddout = device_input<E>(dout, "embedding_backward", "dout");
          // The gradients stay fp32 in both dtypes (the launcher's contract), zeroed: they
          // accumulate.
          testing::DeviceBuffer<float> ddwte(V * C), ddwpe(maxT * C);
          launch_checked("embedding_backward", [&] {
            return cuda::embedding_backward(ddout.cget(), dids.cget(), ddwte.get(), ddwpe.get(), B,
                                            T, C, V, maxT, version);
          });
          return py::make_tuple(to_numpy(ddwte, {V, C}), to_numpy(ddwpe, {maxT, C}));
        });
      },
      py::arg("dout"), py::arg("ids"), py::arg("V"), py::arg("maxT"), py::arg("dtype") = "float32",
      py::arg("version") = 0,
      "(dwte (V, C), dwpe (maxT, C)) on the device, dout in `dtype`; fp32 gradients.");
  cuda.attr("embedding_forward_versions") = cuda::embedding_forward_versions;
  cuda.attr("embedding_backward_versions") = cuda::embedding_backward_versions;
}

}  // namespace llmlab::python

LLMLAB_PYTHON_REGISTER(embedding)
