/// \file
/// \brief The extension module `llmlab._llmlab`: submodules ref, cuda and emu, the tokenizers,
/// and llmlab::Error → llmlab.Error (a ValueError), kernel launch failures → llmlab.LaunchError.
///
/// Users import `llmlab` (python/llmlab/__init__.py), which wraps this module.

#include "bindings.hpp"

PYBIND11_MODULE(_llmlab, m) {
  namespace py = pybind11;
  using namespace llmlab::python;
  m.doc() = "llmlab's C++ reference and CUDA kernels (emulated) for NumPy arrays";
  py::register_exception<llmlab::Error>(m, "Error", PyExc_ValueError);
  py::register_exception<LaunchError>(m, "LaunchError", PyExc_RuntimeError);
  m.attr("emulated") = static_cast<bool>(LLMLAB_EMULATED);

  py::module_ ref =
      m.def_submodule("ref", "The reference (llmlab::ref): float64 or float32, as the inputs");
  py::module_ cuda =
      m.def_submodule("cuda", "The CUDA kernels (llmlab::cuda), dtype float32 or bfloat16");
  py::module_ emu = m.def_submodule("emu", "The CUDA emulator (llmlab::emu)");

  bind_tokenizer(m);
  bind_vector_add(ref, cuda);
  bind_reduce_sum(ref, cuda);
  bind_matmul(ref, cuda);
  bind_layernorm(ref, cuda);
  bind_gelu(ref, cuda);
  bind_softmax(ref, cuda);
  bind_embedding(ref, cuda);
  bind_emulator(emu);
}
