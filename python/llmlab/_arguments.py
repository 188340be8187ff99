"""Clear TypeErrors for wrong arguments.

pybind11 answers any argument it cannot convert with one generic message ("incompatible function
arguments. The following argument types are supported: ..."). The functions of llmlab.ref,
llmlab.cuda and llmlab.emu are wrapped here so that the same mistake raises a TypeError naming the
argument, what it accepts and what it got: ``gelu_forward: dtype must be a str ("float32" or
"bfloat16"), got the type numpy.float32``. Only the message changes: the call itself is pybind11's.
"""

import difflib
import functools
import os
import re

import numpy as np

# pybind11's signature line: "name(x: numpy.ndarray, dtype: str = 'float32', version: int = 0) -> …"
_SIGNATURE = re.compile(r"^\w+\((?P<params>.*)\)\s*->")
_PARAM = re.compile(r"^(?P<name>\w+): (?P<type>[^=]+?)(?: = (?P<default>.+))?$")

# What a parameter accepts, in words, by its pybind11 type (and, for some names, its values).
_ACCEPTS = {
    "numpy.ndarray": "a NumPy array (np.asarray(...) makes one)",
    "str": "a str",
    "int": "an int",
    "float": "a float",
    "bool": "a bool",
}
_VALUES = {
    "dtype": '"float32" or "bfloat16"',
    "version": "a kernel number; 0 = the best",
}
_INT_RANGE = (-(2**31), 2**31)  # version and other C++ ints: 32 bits
_SIZE_RANGE = (-(2**63), 2**64)  # sizes (std::size_t, int64_t): 64 bits
_SIZES = {"vocab_size", "n", "seed", "id"}


def _split_params(text):
    """Splits "a: int, b: List[int] = [1, 2]" at the commas outside brackets and quotes."""
    out, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(text):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(text[start:i].strip())
            start = i + 1
    if text[start:].strip():
        out.append(text[start:].strip())
    return out


def _parameters(fn):
    """[(name, pybind11 type, has_default)] from the first signature line of fn's docstring."""
    doc = (getattr(fn, "__doc__", None) or "").splitlines()
    match = _SIGNATURE.match(doc[0]) if doc else None
    if not match:
        return None
    params = []
    for p in _split_params(match.group("params")):
        m = _PARAM.match(p)
        if not m:
            return None
        params.append((m.group("name"), m.group("type").strip(), m.group("default") is not None))
    return params


def _type_name(value):
    t = type(value)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def _got(value):
    """How a message names a wrong value: its type, and the value itself when short."""
    if value is None:
        return "None"
    if isinstance(value, type):
        return f"the type {value.__module__}.{value.__qualname__}"
    text = repr(value)
    return f"{_type_name(value)} {text}" if len(text) <= 40 else _type_name(value)


def _fits(kind, value, name=""):
    """Whether pybind11 would take `value` for a parameter `name` of type `kind` (None: cannot
    tell)."""
    if kind == "numpy.ndarray":  # pybind11 converts nothing else: not a list, not a NumPy scalar
        return isinstance(value, np.ndarray)
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        lo, hi = _SIZE_RANGE if name in _SIZES else _INT_RANGE
        return (isinstance(value, (int, np.integer)) and not isinstance(value, bool)
                and lo <= int(value) < hi)
    if kind.startswith("List["):
        return isinstance(value, (list, tuple, np.ndarray))
    if kind == "os.PathLike":
        return isinstance(value, (str, bytes, os.PathLike))
    if kind == "float":
        return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, (bool, np.bool_))
    return None


def _accepts(name, kind):
    what = _ACCEPTS.get(kind, kind)
    if kind == "int":
        what += " within 64 bits" if name in _SIZES else " within 32 bits"
    if kind.startswith("List["):
        what = f"a list of {kind[5:-1]}"
    if kind == "os.PathLike":
        what = "a path (str or pathlib.Path)"
    values = _VALUES.get(name)
    return f"{what} ({values})" if values else what


def explain(fname, params, args, kwargs):
    """The message for a call pybind11 refused, or None when no argument can be blamed."""
    names = [p[0] for p in params]
    listing = ", ".join(n for n in names if n != "self")
    for key in kwargs:
        if key not in names:
            close = difflib.get_close_matches(key, names, n=1)
            hint = f"; did you mean {close[0]}=?" if close else ""
            return f"{fname}: no argument named {key}={hint} ({fname} takes {listing})"
    if len(args) > len(params):
        return f"{fname} takes at most {len(params)} arguments ({listing}), got {len(args)}"
    bound = dict(zip(names, args))
    for key, value in kwargs.items():
        if key in bound:
            return f"{fname}: {key} given twice (by position and as {key}=)"
        bound[key] = value
    for name, kind, has_default in params:
        if name not in bound and not has_default:
            return f"{fname}: missing the argument {name} ({_accepts(name, kind)})"
    for name, kind, _ in params:
        if name in bound and _fits(kind, bound[name], name) is False:
            return f"{fname}: {name} must be {_accepts(name, kind)}, got {_got(bound[name])}"
    return None


def checked(fn, fname):
    """fn, raising explain()'s TypeError instead of pybind11's generic one."""
    params = _parameters(fn)
    if params is None:
        return fn

    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except TypeError as e:
            if "incompatible function arguments" not in str(e):
                raise
            message = explain(fname, params, args, kwargs)
            if message is None:
                raise
            raise TypeError(message) from None

    return call


def check_methods(cls):
    """Wraps the methods and static methods of a pybind11 class `cls` with checked(), so that
    ``tok.encode(123)`` says "Tokenizer.encode: text must be a str, got int 123"."""
    for name, attr in list(vars(cls).items()):
        if name.startswith("_"):
            continue
        qualname = f"{cls.__name__}.{name}"
        if isinstance(attr, staticmethod):
            setattr(cls, name, staticmethod(checked(attr.__func__, qualname)))
        elif type(attr).__name__ == "instancemethod":
            setattr(cls, name, checked(attr.__func__, qualname))
