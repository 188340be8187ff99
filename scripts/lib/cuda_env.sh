# shellcheck shell=bash
# Sourced by scripts/main.sh and scripts/test.sh (not run on its own): where nvcc is decides what
# `cmake --preset` needs besides the preset.
#
# cuda_configure_args PRESET
#   nvcc at /usr/local/cuda/bin (where the presets look): puts it on PATH, no extra arguments;
#   nvcc elsewhere on PATH:  configure_args=(-DCMAKE_CUDA_COMPILER=<that nvcc>);
#   no nvcc:                 configure_args=(-DLLMLAB_CUDA=OFF), the emulated kernels only
#                            (nothing for asan, which never builds with nvcc).
# Sets the array configure_args (empty when nothing is needed) and may export PATH.
cuda_configure_args() {
  local preset="$1"
  configure_args=()
  if [[ -x /usr/local/cuda/bin/nvcc ]]; then
    export PATH="/usr/local/cuda/bin:$PATH"
  elif command -v nvcc >/dev/null 2>&1; then
    configure_args+=("-DCMAKE_CUDA_COMPILER=$(command -v nvcc)")  # the presets name /usr/local/cuda/bin/nvcc
  elif [[ "$preset" != asan ]]; then
    configure_args+=(-DLLMLAB_CUDA=OFF)   # no nvcc: build and test the emulated kernels only
  fi
}
