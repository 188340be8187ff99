#!/usr/bin/env bash
# One command per lab: build chapter NN's lab in student mode and check it.
#
#   scripts/lab.sh NN            build chapters/NN-*/lab (your code) and run the chapter's checks
#                                under every emulator schedule, then print one line per check:
#                                passed, failed (with the oracle's first bad index and a hint), or
#                                not implemented yet — and what to do next
#   scripts/lab.sh NN --reset    restore the starter code of chapters/NN-*/lab (asks first)
#
# It works in a build directory of its own, build/lab (configured with -DLLMLAB_CHECK_LAB=chNN), so
# the default build keeps checking llmlab's own solution. Exit code: 0 every check passed, 1 some
# check failed or is not implemented yet, 2 bad usage or a build error.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

usage() {
  sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 2
}

[[ $# -ge 1 ]] || usage
number="$1"
shift
reset=0
for arg in "$@"; do
  case "$arg" in
    --reset) reset=1 ;;
    -h | --help) usage ;;
    *) echo "lab.sh: unknown option '$arg' (expected --reset)" >&2; exit 2 ;;
  esac
done
if [[ ! "$number" =~ ^[0-9]{2}$ ]]; then
  echo "lab.sh: the chapter is two digits, e.g. 03 (got '$number')" >&2
  exit 2
fi
shopt -s nullglob
folders=(chapters/"$number"-*/)
if [[ ${#folders[@]} -ne 1 || ! -d "${folders[0]}lab" ]]; then
  echo "lab.sh: no chapter $number with a lab: the labs are $(ls -d chapters/[0-9][0-9]-*/lab | cut -d/ -f2 | tr '\n' ' ')" >&2
  exit 2
fi
chapter="${folders[0]%/}"
lab="$chapter/lab"

if (( reset )); then
  if ! git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    echo "lab.sh: --reset restores the starter from git, but $ROOT is not a git checkout" >&2
    exit 2
  fi
  changed="$(git status --porcelain -- "$lab")"
  if [[ -z "$changed" ]]; then
    echo "$lab is already the starter code: nothing to reset."
    exit 0
  fi
  echo "These files of $lab differ from the starter code:"
  echo "$changed"
  read -r -p "Restore the starter code? Your changes to them are lost. [y/N] " answer
  if [[ "$answer" != [yY]* ]]; then
    echo "Nothing changed."
    exit 0
  fi
  git checkout -- "$lab"
  git clean -q -f -- "$lab"
  echo "$lab is the starter code again."
  exit 0
fi

"$ROOT/scripts/setup.sh" >/dev/null

export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}" CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=true
build="${LLMLAB_LAB_BUILD_DIR:-$ROOT/build/lab}"   # the test of this script builds elsewhere
reports="$build/reports/ch$number"
rm -rf "$reports"
mkdir -p "$reports"
log="$build/lab-ch$number.log"

echo "lab.sh: building chapter $number's lab ($lab) in student mode, in build/lab ..."
# Emulated kernels only (the lab's checks run on the CPU), no benchmarks: a small, quick build.
if ! { cmake --preset default -B "$build" -DLLMLAB_CHECK_LAB="ch$number" -DLLMLAB_CUDA=OFF \
         -DLLMLAB_BENCH=OFF -DLLMLAB_TEST_REPORTS="$reports" &&
       cmake --build "$build" -j2 --target "ch$number"; } >"$log" 2>&1; then
  # A compile error in the student's code is the most common case: show the compiler's words.
  grep -E -A3 "error|Error" "$log" | head -40 >&2 || true
  echo "lab.sh: the build failed; the whole log is $log" >&2
  exit 2
fi

# Several emulator threads, so that blocks really run concurrently and a race can show itself.
export LLMLAB_EMU_THREADS="${LLMLAB_EMU_THREADS:-4}"
ctest --test-dir "$build" -R "^ch${number}_" -LE install --output-junit "$reports/ctest.xml" >>"$log" 2>&1 || true

python="$ROOT/.venv/bin/python"
[[ -x "$python" ]] || python=python3
exec "$python" "$ROOT/scripts/lab_report.py" --chapter "$number" --folder "$chapter" \
  --reports "$reports" --log "$log"
