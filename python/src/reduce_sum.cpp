/// \file
/// \brief Bindings of reduce_sum: llmlab.ref.reduce_sum and llmlab.cuda.reduce_sum.

#include "llmlab/cuda/reduce_sum.cuh"

#include "bindings.hpp"
#include "llmlab/ref/reduce_sum.hpp"

namespace llmlab::python {

void bind_reduce_sum(py::module_& ref, py::module_& cuda) {
  ref.def(
      "reduce_sum",
      [](const py::array& x) -> py::array {
        return dispatch_float("reduce_sum", {{"x", &x}}, [&]<class T>() -> py::array {
          return to_numpy(ref::reduce_sum<T>(to_xtensor<T, 2>(x, "reduce_sum", "x")));
        });
      },
      py::arg("x"), "out_r = sum_c x_rc for x (R, C), float64 or float32; returns (R).");

  cuda.def(
      "reduce_sum",
      [](const py::array& x, const std::string& dtype, int version) {
        return dispatch_cuda("reduce_sum", dtype, [&]<class E>() {
          require_ndim<2>(x, "reduce_sum", "x");
          const auto rows = static_cast<std::int64_t>(x.shape(0)),
                     cols = static_cast<std::int64_t>(x.shape(1));
          auto dx = device_input<E>(x, "reduce_sum", "x");
          testing::DeviceBuffer<float> dout(rows);  // fp32 sums for either input dtype
          launch_checked("reduce_sum", [&] {
            return cuda::reduce_sum(dx.cget(), dout.get(), rows, cols, version);
          });
          return to_numpy(dout, {static_cast<py::ssize_t>(rows)});
        });
      },
      py::arg("x"), py::arg("dtype") = "float32", py::arg("version") = 0,
      "Row sums of x (R, C) on the device, x in `dtype` (float32 or bfloat16), accumulated in "
      "fp32;\n"
      "returns float32 (R). version 0 = the best, 1 … reduce_sum_versions a numbered one.");
  cuda.attr("reduce_sum_versions") = cuda::reduce_sum_versions;
}

}  // namespace llmlab::python

LLMLAB_PYTHON_REGISTER(reduce_sum)
