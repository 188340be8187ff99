#!/usr/bin/env bash
# The README's first command: install every dependency, build, run the main job.
# Until the GPT-training issue lands the main job is `llmlab verify all`: the oracle's sweep over every
# component implemented so far, run under the CUDA emulator. Arguments, if any, replace `verify all`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
preset=default

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

if (( $# == 0 )); then
  set -- verify all
fi
echo "main: build/default/apps/llmlab $*"
exec "$ROOT/build/default/apps/llmlab" "$@"
