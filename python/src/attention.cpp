/// \file
/// \brief Bindings of attention: llmlab.ref / llmlab.cuda attention_forward → (out, lse) and
/// attention_backward → (dq, dk, dv), for q, k, v (B, H, T, D).

#include "llmlab/cuda/attention.cuh"

#include <array>

#include "bindings.hpp"
#include "llmlab/ref/attention.hpp"

namespace llmlab::python {
namespace {

/// (B, H, T, D) of q after checking that q has 4 axes and every array in `same` its shape.
std::array<std::int64_t, 4> heads_shape(
    std::string_view fn, const py::array& q,
    std::initializer_list<std::pair<const char*, const py::array*>> same) {
  require_ndim<4>(q, fn, "q");
  for (const auto& [name, a] : same)
    if (shape_vec(*a) != shape_vec(q))
      throw Error(fn, std::string(name) + " is " + shape_of(*a) + " but q is " + shape_of(q));
  return {q.shape(0), q.shape(1), q.shape(2), q.shape(3)};
}

}  // namespace

void bind_attention(py::module_& ref, py::module_& cuda) {
  ref.def(
      "attention_forward",
      [](const py::array& q, const py::array& k, const py::array& v, bool causal) {
        return dispatch_float(
            "attention_forward", {{"q", &q}, {"k", &k}, {"v", &v}}, [&]<class T>() -> py::tuple {
              const auto f =
                  ref::attention_forward<T>(to_xarray<T>(q, "attention_forward", "q"),
                                            to_xarray<T>(k, "attention_forward", "k"),
                                            to_xarray<T>(v, "attention_forward", "v"), causal);
              return py::make_tuple(to_numpy(f.out), to_numpy(f.lse));
            });
      },
      py::arg("q"), py::arg("k"), py::arg("v"), py::arg("causal") = true,
      "(out (B, H, T, D), lse (B, H, T)) = softmax(q k^T / sqrt(D), causal mask) v and the rows' "
      "logsumexp, for q, k, v (B, H, T, D).");
  ref.def(
      "attention_backward",
      [](const py::array& dout, const py::array& q, const py::array& k, const py::array& v,
         const py::array& out, const py::array& lse, bool causal) {
        constexpr const char* fn = "attention_backward";
        return dispatch_float(
            fn, {{"dout", &dout}, {"q", &q}, {"k", &k}, {"v", &v}, {"out", &out}, {"lse", &lse}},
            [&]<class T>() -> py::tuple {
              const auto g = ref::attention_backward<T>(
                  to_xarray<T>(dout, fn, "dout"), to_xarray<T>(q, fn, "q"),
                  to_xarray<T>(k, fn, "k"), to_xarray<T>(v, fn, "v"), to_xarray<T>(out, fn, "out"),
                  to_xarray<T>(lse, fn, "lse"), causal);
              return py::make_tuple(to_numpy(g.dq), to_numpy(g.dk), to_numpy(g.dv));
            });
      },
      py::arg("dout"), py::arg("q"), py::arg("k"), py::arg("v"), py::arg("out"), py::arg("lse"),
      py::arg("causal") = true,
      "(dq, dk, dv), each (B, H, T, D), from dout and the forward's out and lse.");

  cuda.def(
      "attention_forward",
      [](const py::array& q, const py::array& k, const py::array& v, bool causal,
         const std::string& dtype, int version) {
        constexpr const char* fn = "attention_forward";
        return dispatch_cuda(fn, dtype, [&]<class E>() {
          const auto [B, H, T, D] = heads_shape(fn, q, {{"k", &k}, {"v", &v}});
          auto dq = device_input<E>(q, fn, "q");
          auto dk = device_input<E>(k, fn, "k");
          auto dv = device_input<E>(v, fn, "v");
          testing::DeviceBuffer<E> out(dq.size());
          testing::DeviceBuffer<float> lse(B * H * T);
          launch_checked(fn, [&] {
            return cuda::attention_forward(dq.cget(), dk.cget(), dv.cget(), out.get(), lse.get(), B,
                                           H, T, D, causal, version);
          });
          return py::make_tuple(to_numpy(out, shape_vec(q)), to_numpy(lse, {B, H, T}));
        });
      },
      py::arg("q"), py::arg("k"), py::arg("v"), py::arg("causal") = true,
      py::arg("dtype") = "float32", py::arg("version") = 0,
      "(out, lse) on the device in `dtype` (lse always fp32); returns float32 arrays.");
  cuda.def(
      "attention_backward",
      [](const py::array& dout, const py::array& q, const py::array& k, const py::array& v,
         const py::array& out, const py::array& lse, bool causal, const std::string& dtype,
         int version) {
        constexpr const char* fn = "attention_backward";
        return dispatch_cuda(fn, dtype, [&]<class E>() {
          const auto [B, H, T, D] =
              heads_shape(fn, q, {{"dout", &dout}, {"k", &k}, {"v", &v}, {"out", &out}});
          if (shape_vec(lse) != std::vector<py::ssize_t>{B, H, T})
            throw Error(fn, "lse is " + shape_of(lse) + " but q is " + shape_of(q) +
                                ": it must be (B, H, T)");
          auto ddo = device_input<E>(dout, fn, "dout");
          auto dq_in = device_input<E>(q, fn, "q");
          auto dk_in = device_input<E>(k, fn, "k");
          auto dv_in = device_input<E>(v, fn, "v");
          auto dout_o = device_input<E>(out, fn, "out");
          auto dlse = device_input<float>(lse, fn, "lse");
          testing::DeviceBuffer<E> dq(ddo.size()), dk(ddo.size()), dv(ddo.size());
          launch_checked(fn, [&] {
            return cuda::attention_backward(ddo.cget(), dq_in.cget(), dk_in.cget(), dv_in.cget(),
                                            dout_o.cget(), dlse.cget(), dq.get(), dk.get(),
                                            dv.get(), B, H, T, D, causal, version);
          });
          const auto shape = shape_vec(q);
          return py::make_tuple(to_numpy(dq, shape), to_numpy(dk, shape), to_numpy(dv, shape));
        });
      },
      py::arg("dout"), py::arg("q"), py::arg("k"), py::arg("v"), py::arg("out"), py::arg("lse"),
      py::arg("causal") = true, py::arg("dtype") = "float32", py::arg("version") = 0,
      "(dq, dk, dv) on the device in `dtype` from dout and the forward's out and lse; returns "
      "float32 arrays.");
  cuda.attr("attention_forward_versions") = cuda::attention_forward_versions;
  cuda.attr("attention_backward_versions") = cuda::attention_backward_versions;
}

}  // namespace llmlab::python

LLMLAB_PYTHON_REGISTER(attention)
