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
        const DType t = cuda_dtype("vector_add", dtype);
        require_ndim<1>(a, "vector_add", "a");
        require_ndim<1>(b, "vector_add", "b");
        if (a.shape(0) != b.shape(0))
          throw Error("vector_add", "a is " + shape_of(a) + " but b is " + shape_of(b));
        const auto n = static_cast<std::int64_t>(a.shape(0));
        DeviceMemory da = to_device(a, t, "vector_add", "a"),
                     db = to_device(b, t, "vector_add", "b");
        DeviceMemory dc(n, t == DType::f32 ? sizeof(float) : sizeof(std::uint16_t));
        launch_checked("vector_add", [&] {
          return t == DType::f32
                     ? cuda::vector_add(da.as<const float>(), db.as<const float>(), dc.as<float>(),
                                        n, version)
                     : cuda::vector_add(da.as<const __nv_bfloat16>(), db.as<const __nv_bfloat16>(),
                                        dc.as<__nv_bfloat16>(), n, version);
        });
        return from_device(dc, t, {static_cast<py::ssize_t>(n)});
      },
      py::arg("a"), py::arg("b"), py::arg("dtype") = "float32", py::arg("version") = 0,
      "c = a + b on the device in `dtype` (float32 or bfloat16); returns float32 (n).\n"
      "version 0 = the best, 1 … vector_add_versions a numbered one.");
  cuda.attr("vector_add_versions") = cuda::vector_add_versions;
}

}  // namespace llmlab::python

LLMLAB_PYTHON_REGISTER(vector_add)
