#!/usr/bin/env bash
# The README's first command: install every dependency, build, run the main job.
# The main job is `llmlab train` with no arguments: a small GPT trained on the default corpus
# (Debian's fortunes, installed by setup.sh). Arguments, if any, replace it (e.g. `verify all`).
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
  set -- train
fi
echo "main: build/default/apps/llmlab $*"
exec "$ROOT/build/default/apps/llmlab" "$@"
