#!/usr/bin/env bash
# The README's second command: install what is missing, build, run the whole test suite.
#   scripts/test.sh [PRESET]     PRESET = default (the default) | asan | gpu | fuzz   (see CMakePresets.json)
# Extra arguments after PRESET go to ctest, e.g. `scripts/test.sh default -L ch00`.
# The whole suite includes the Python module's pytest (label python) and every notebook executed in
# a Jupyter kernel (label notebook): ctest tests of the default preset (python/, notebooks/).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
preset="${1:-default}"
shift || true

"$ROOT/scripts/setup.sh"

# shellcheck source=scripts/lib/cuda_env.sh
source "$ROOT/scripts/lib/cuda_env.sh"
cuda_configure_args "$preset"

cmake --preset "$preset" "${configure_args[@]}"
cmake --build --preset "$preset" -j2
ctest --preset "$preset" "$@"
