/// \file
/// \brief Bindings of vector_add: llmlab.ref.vector_add and llmlab.cuda.vector_add.

#include "llmlab/cuda/vector_add.cuh"

#include "bindings.hpp"
#include "llmlab/ref/vector_add.hpp"

namespace llmlab::python {

void bind_vector_add(py::module_& ref, py::module_& cuda) {
  ref.def(
      "vector_add",
      [](const py::array& a, const py::array& b) -> py::array {
        return dispatch_float("vector_add", {{"a", &a}, {"b", &b}}, [&]<class T>() -> py::array {
          const auto xa =
              to_xtensor<T, 1>(a, "vector_add", "a");  // a first: errors name a before b
          const auto xb = to_xtensor<T, 1>(b, "vector_add", "b");
          return to_numpy(ref::vector_add<T>(xa, xb));
        });
      },
      py::arg("a"), py::arg("b"),
      "c = a + b for a, b (n), float64 or float32 (the reference runs in the inputs' dtype).");

  cuda.def(
      "vector_add",
      [](const py::array& a, const py::array& b, const std::string& dtype, int version) {
        return dispatch_cuda("vector_add", dtype, [&]<class E>() {
          require_ndim<1>(a, "vector_add", "a");
          require_ndim<1>(b, "vector_add", "b");
          if (a.shape(0) != b.shape(0))
            throw Error("vector_add", "a is " + shape_of(a) + " but b is " + shape_of(b));
          auto da = device_input<E>(a, "vector_add", "a"),
               db = device_input<E>(b, "vector_add", "b");
          testing::DeviceBuffer<E> dc(da.size());
          launch_checked("vector_add", [&] {
            return cuda::vector_add(da.cget(), db.cget(), dc.get(), da.size(), version);
          });
          return to_numpy(dc, shape_vec(a));
        });
      },
      py::arg("a"), py::arg("b"), py::arg("dtype") = "float32", py::arg("version") = 0,
      "c = a + b on the device in `dtype` (float32 or bfloat16); returns float32 (n).\n"
      "version 0 = the best, 1 … vector_add_versions a numbered one.");
  cuda.attr("vector_add_versions") = cuda::vector_add_versions;
}

}  // namespace llmlab::python

LLMLAB_PYTHON_REGISTER(vector_add)
