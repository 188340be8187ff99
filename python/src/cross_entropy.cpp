/// \file
/// \brief Bindings of cross_entropy: llmlab.ref / llmlab.cuda cross_entropy_forward and
/// cross_entropy_backward, and the reference's logsumexp, cross_entropy_mean and perplexity.
///
/// Targets may be any integer dtype (int32 or int64 from NumPy), each value within int32; the
/// range against V and ignore_index is the C++ functions' own check.

#include "llmlab/cuda/cross_entropy.cuh"

#include "bindings.hpp"
#include "llmlab/ref/cross_entropy.hpp"

namespace llmlab::python {
namespace {

/// (B, T, V) of logits, which must have 3 axes, and targets, which must be (B, T).
std::array<std::int64_t, 3> sizes(const py::array& logits, const py::array& targets,
                                  std::string_view fn) {
  require_ndim<3>(logits, fn, "logits");
  require_ndim<2>(targets, fn, "targets");
  if (targets.shape(0) != logits.shape(0) || targets.shape(1) != logits.shape(1))
    throw Error(fn, "logits is " + shape_of(logits) + " but targets is " + shape_of(targets));
  return {static_cast<std::int64_t>(logits.shape(0)), static_cast<std::int64_t>(logits.shape(1)),
          static_cast<std::int64_t>(logits.shape(2))};
}

/// The targets (B, T) as int32 on the device.
testing::DeviceBuffer<std::int32_t> device_targets(const py::array& targets, std::string_view fn) {
  const auto t = ids_int32(targets, fn);
  return testing::DeviceBuffer<std::int32_t>(std::vector<std::int32_t>(t.begin(), t.end()));
}

}  // namespace

void bind_cross_entropy(py::module_& ref, py::module_& cuda) {
  ref.def(
      "cross_entropy_forward",
      [](const py::array& logits, const py::array& targets, std::int32_t ignore_index) {
        const auto y = ids_int32(targets, "cross_entropy_forward");
        return dispatch_float(
            "cross_entropy_forward", {{"logits", &logits}}, [&]<class T>() -> py::array {
              return to_numpy(ref::cross_entropy_forward<T>(
                  to_xtensor<T, 3>(logits, "cross_entropy_forward", "logits"), y, ignore_index));
            });
      },
      py::arg("logits"), py::arg("targets"), py::arg("ignore_index") = ref::kIgnoreIndex,
      "losses (B, T) = lse(logits) - logits[target] for logits (B, T, V), targets (B, T); 0 "
      "where the target is ignore_index.");
  ref.def(
      "cross_entropy_backward",
      [](const py::array& logits, const py::array& targets, const py::array& dlosses,
         std::int32_t ignore_index) {
        const auto y = ids_int32(targets, "cross_entropy_backward");
        return dispatch_float(
            "cross_entropy_backward", {{"logits", &logits}, {"dlosses", &dlosses}},
            [&]<class T>() -> py::array {
              return to_numpy(ref::cross_entropy_backward<T>(
                  to_xtensor<T, 2>(dlosses, "cross_entropy_backward", "dlosses"),
                  to_xtensor<T, 3>(logits, "cross_entropy_backward", "logits"), y, ignore_index));
            });
      },
      py::arg("logits"), py::arg("targets"), py::arg("dlosses"),
      py::arg("ignore_index") = ref::kIgnoreIndex,
      "dlogits (B, T, V) = (softmax(logits) - onehot(targets)) * dlosses; 0 on ignored rows.");
  ref.def(
      "cross_entropy_mean",
      [](const py::array& losses, const py::array& targets, std::int32_t ignore_index) {
        const auto y = ids_int32(targets, "cross_entropy_mean");
        return dispatch_float("cross_entropy_mean", {{"losses", &losses}}, [&]<class T>() {
          return static_cast<double>(ref::cross_entropy_mean<T>(
              to_xtensor<T, 2>(losses, "cross_entropy_mean", "losses"), y, ignore_index));
        });
      },
      py::arg("losses"), py::arg("targets"), py::arg("ignore_index") = ref::kIgnoreIndex,
      "The mean of losses (B, T) over the targets that are not ignore_index (NaN if none).");
  ref.def(
      "perplexity", [](double mean_loss) { return ref::perplexity(mean_loss); },
      py::arg("mean_loss"), "exp(mean_loss): the effective number of equally likely choices.");
  ref.def(
      "logsumexp",
      [](const py::array& logits) {
        return dispatch_float("logsumexp", {{"logits", &logits}}, [&]<class T>() -> py::array {
          return to_numpy(ref::logsumexp<T>(to_xtensor<T, 3>(logits, "logsumexp", "logits")));
        });
      },
      py::arg("logits"), "lse (B, T) = m + log sum exp(logits - m) over the last axis.");

  cuda.def(
      "cross_entropy_forward",
      [](const py::array& logits, const py::array& targets, std::int32_t ignore_index,
         const std::string& dtype, int version) {
        return dispatch_cuda("cross_entropy_forward", dtype, [&]<class E>() {
          const auto [B, T, V] = sizes(logits, targets, "cross_entropy_forward");
          auto dy = device_targets(targets, "cross_entropy_forward");
          auto dx = device_input<E>(logits, "cross_entropy_forward", "logits");
          testing::DeviceBuffer<float> losses(B * T), lse(B * T);
          launch_checked("cross_entropy_forward", [&] {
            return cuda::cross_entropy_forward(dx.cget(), dy.cget(), losses.get(), lse.get(), B, T,
                                               V, ignore_index, version);
          });
          return to_numpy(losses, {B, T});
        });
      },
      py::arg("logits"), py::arg("targets"), py::arg("ignore_index") = ref::kIgnoreIndex,
      py::arg("dtype") = "float32", py::arg("version") = 0,
      "Per-token losses (B, T), float32, of logits (B, T, V) in `dtype` on the device.");
  cuda.def(
      "cross_entropy_backward",
      [](const py::array& logits, const py::array& targets, const py::array& dlosses,
         std::int32_t ignore_index, const std::string& dtype, int version) {
        return dispatch_cuda("cross_entropy_backward", dtype, [&]<class E>() {
          const auto [B, T, V] = sizes(logits, targets, "cross_entropy_backward");
          require_ndim<2>(dlosses, "cross_entropy_backward", "dlosses");
          if (dlosses.shape(0) != B || dlosses.shape(1) != T)
            throw Error("cross_entropy_backward",
                        "logits is " + shape_of(logits) + " but dlosses is " + shape_of(dlosses));
          auto dy = device_targets(targets, "cross_entropy_backward");
          auto dx = device_input<E>(logits, "cross_entropy_backward", "logits");
          auto ddl = device_input<float>(dlosses, "cross_entropy_backward", "dlosses");
          testing::DeviceBuffer<float> losses(B * T), lse(B * T);
          // The backward takes the forward's lse; then dlogits overwrites the logits in place.
          launch_checked("cross_entropy_backward", [&] {
            return cuda::cross_entropy_forward(dx.cget(), dy.cget(), losses.get(), lse.get(), B, T,
                                               V, ignore_index, version);
          });
          launch_checked("cross_entropy_backward", [&] {
            return cuda::cross_entropy_backward(dx.cget(), dy.cget(), lse.cget(), ddl.cget(),
                                                dx.get(), B, T, V, ignore_index, version);
          });
          return to_numpy(dx, {B, T, V});
        });
      },
      py::arg("logits"), py::arg("targets"), py::arg("dlosses"),
      py::arg("ignore_index") = ref::kIgnoreIndex, py::arg("dtype") = "float32",
      py::arg("version") = 0,
      "dlogits (B, T, V), float32, computed in place over the device copy of the logits.");
  cuda.attr("cross_entropy_forward_versions") = cuda::cross_entropy_forward_versions;
  cuda.attr("cross_entropy_backward_versions") = cuda::cross_entropy_backward_versions;
}

}  // namespace llmlab::python

LLMLAB_PYTHON_REGISTER(cross_entropy)
