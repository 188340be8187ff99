#!/usr/bin/env bash
# The README's first command: install every dependency, build, run the main job.
# Until the GPT-training issue lands the main job is `llmlab verify all`: the oracle's sweep over every
# component implemented so far, run under the CUDA emulator. Arguments, if any, replace `verify all`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
preset=default

"$ROOT/scripts/setup.sh"

# shellcheck source=scripts/lib/cuda_env.sh
source "$ROOT/scripts/lib/cuda_env.sh"
cuda_configure_args "$preset"

cmake --preset "$preset" "${configure_args[@]}"
cmake --build --preset "$preset" -j2

if (( $# == 0 )); then
  set -- verify all
fi
echo "main: build/default/apps/llmlab $*"
exec "$ROOT/build/default/apps/llmlab" "$@"
