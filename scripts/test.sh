#!/usr/bin/env bash
# The README's second command: install what is missing, build, run the whole test suite.
#   scripts/test.sh [PRESET]     PRESET = default (the default) | asan | gpu   (see CMakePresets.json)
# Extra arguments after PRESET go to ctest, e.g. `scripts/test.sh default -L ch00`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
preset="${1:-default}"
shift || true

"$ROOT/scripts/setup.sh"

configure_args=()
if [[ -x /usr/local/cuda/bin/nvcc ]]; then
  export PATH="/usr/local/cuda/bin:$PATH"
elif command -v nvcc >/dev/null 2>&1; then
  configure_args+=("-DCMAKE_CUDA_COMPILER=$(command -v nvcc)")  # the presets name /usr/local/cuda/bin/nvcc
elif [[ "$preset" != asan ]]; then
  configure_args+=(-DLLMLAB_CUDA=OFF)   # no nvcc: build and test the emulated kernels only
fi

cmake --preset "$preset" "${configure_args[@]}"
cmake --build --preset "$preset" -j2
ctest --preset "$preset" "$@"
