"""The package's shape: backends, submodules, exceptions."""

import llmlab
import llmlab.cuda
import llmlab.emu
import llmlab.ref


def test_backends_are_the_reference_and_the_emulator():
    assert llmlab.backends() == ["ref", "emu"]


def test_submodules_import_as_modules_and_expose_the_same_functions():
    from llmlab.cuda import reduce_sum  # noqa: F401  (a real module, not only an attribute)

    assert {"vector_add", "reduce_sum"} <= set(llmlab.ref.__all__)
    assert {"vector_add", "reduce_sum"} <= set(llmlab.cuda.__all__)


def test_errors_are_python_exceptions():
    assert issubclass(llmlab.Error, ValueError)
    assert issubclass(llmlab.LaunchError, RuntimeError)
