#!/usr/bin/python3
"""Writes the golden files: the first reference of DESIGN.md §5.

Inputs come from NumPy's seeded generator (np.random.default_rng(seed), never a framework's RNG
stream, so they do not change when PyTorch does) and are stored as float32, because the
reference's float path must read the very same numbers. Outputs are computed by PyTorch in float64
from those float32 values and stored as float64.

Layout: tests/golden/<component>/<case>_<input>.npy for each input, <case>_out.npy for the output.

Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/make_golden.py
"""

from pathlib import Path

import numpy as np
import torch

GOLDEN = Path(__file__).resolve().parent


def uniform_f32(rng: np.random.Generator, shape) -> np.ndarray:
    """Float32 values uniform in [-1, 1): 2u - 1 with u a float32 in [0, 1) (both steps exact)."""
    return rng.random(shape, dtype=np.float32) * np.float32(2) - np.float32(1)


def save(component: str, case: str, arrays: dict) -> None:
    folder = GOLDEN / component
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        np.save(folder / f"{case}_{name}.npy", np.ascontiguousarray(array))


def f64(x: np.ndarray) -> torch.Tensor:
    """The float32 input, widened exactly to float64 for PyTorch."""
    return torch.from_numpy(x).to(torch.float64)


def vector_add() -> None:
    """c = a + b; a, b (n)."""
    for seed, n in enumerate([1, 17, 97, 1000], start=100):
        rng = np.random.default_rng(seed)
        a = uniform_f32(rng, (n,))
        b = uniform_f32(rng, (n,))
        out = (f64(a) + f64(b)).numpy()
        save("vector_add", f"n{n}", {"a": a, "b": b, "out": out})


def reduce_sum() -> None:
    """out[r] = sum_c x[r, c]; x (R, C), out (R)."""
    for seed, (R, C) in enumerate([(1, 1), (3, 17), (5, 97), (2, 1000), (1, 4097)], start=200):
        rng = np.random.default_rng(seed)
        x = uniform_f32(rng, (R, C))
        out = f64(x).sum(dim=1).numpy()
        save("reduce_sum", f"r{R}_c{C}", {"x": x, "out": out})


if __name__ == "__main__":
    vector_add()
    reduce_sum()
    print(f"golden files written under {GOLDEN}")
