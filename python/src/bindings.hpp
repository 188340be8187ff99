#pragma once
/// \file
/// \brief One `bind_<component>` per component, each in python/src/<component>.cpp, called by
/// module.cpp. A component with a reference and kernels binds into both submodules:
/// `llmlab.ref.<name>` and `llmlab.cuda.<name>` (python/README.md, "Adding a component").

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "arrays.hpp"

namespace llmlab::python {

/// llmlab.Tokenizer (the reference, llmlab::ref) and llmlab.FastTokenizer (llmlab::fast).
void bind_tokenizer(py::module_& m);
/// llmlab.ref.vector_add, llmlab.cuda.vector_add.
void bind_vector_add(py::module_& ref, py::module_& cuda);
/// llmlab.ref.reduce_sum, llmlab.cuda.reduce_sum.
void bind_reduce_sum(py::module_& ref, py::module_& cuda);
/// llmlab.ref / llmlab.cuda softmax_forward, softmax_backward.
void bind_softmax(py::module_& ref, py::module_& cuda);
/// llmlab.ref / llmlab.cuda embedding_forward, embedding_backward.
void bind_embedding(py::module_& ref, py::module_& cuda);
/// llmlab.ref / llmlab.cuda matmul_forward, matmul_backward.
void bind_matmul(py::module_& ref, py::module_& cuda);
/// llmlab.ref / llmlab.cuda layernorm_forward, layernorm_backward.
void bind_layernorm(py::module_& ref, py::module_& cuda);
/// llmlab.ref / llmlab.cuda gelu_forward, gelu_backward.
void bind_gelu(py::module_& ref, py::module_& cuda);
/// llmlab.emu: the emulator's last diagnostic and the planted-bug kernels of notebook 00.
void bind_emulator(py::module_& emu);

}  // namespace llmlab::python
