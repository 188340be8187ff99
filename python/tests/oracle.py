"""The oracle's ratio rule in NumPy (tests/oracle's rule, docs/design.md §5) for the Python tests:
max|kernel − ref64| ≤ k · max|ref32 − ref64| + floor, k = 2 forward, 3 gradients, floor a few
float32 ulps at max|ref64| (4 ulps: a different but equally good summation order must pass when
the baseline happens to be exact)."""

import numpy as np

FORWARD, GRADIENT = 2.0, 3.0


def bound(ref32, ref64, k):
    ref32, ref64 = np.asarray(ref32, np.float64), np.asarray(ref64, np.float64)
    return k * np.abs(ref32 - ref64).max() + 4 * np.finfo(np.float32).eps * np.abs(ref64).max()


def error(got, ref64):
    return np.abs(np.asarray(got, np.float64) - ref64).max()


def agrees(got, ref32, ref64, k):
    e, b = error(got, ref64), bound(ref32, ref64, k)
    assert e <= b, f"max|kernel - ref64| = {e:.3g} > bound {b:.3g} (k = {k})"
    return e, b
