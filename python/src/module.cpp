/// \file
/// \brief The extension module `llmlab._llmlab`: submodules ref, cuda and emu, the tokenizers,
/// and llmlab::Error → llmlab.Error (a ValueError), kernel launch failures → llmlab.LaunchError.
///
/// Users import `llmlab` (python/llmlab/__init__.py), which wraps this module.

#include "bindings.hpp"

#include <map>
#include <string>

namespace llmlab::python {
namespace {

/// Function-local, so registration works from any translation unit's static initialisers.
std::map<std::string, Binder>& binders() {
  static std::map<std::string, Binder> all;
  return all;
}

}  // namespace

bool register_binder(const char* component, Binder bind) {
  binders()[component] = bind;
  return true;
}

void bind_components(py::module_& ref, py::module_& cuda) {
  for (const auto& [name, bind] : binders()) bind(ref, cuda);
}

}  // namespace llmlab::python

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
  bind_components(ref, cuda);
  bind_emulator(emu);
}
