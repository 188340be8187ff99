#!/usr/bin/env bash
# Installs everything llmlab needs on Debian 12, idempotently:
#   - Debian packages (apt-get only when one is missing; `apt-get update` only then);
#   - a Python venv at .venv with scripts/requirements.txt (skipped while its hash is unchanged);
#   - GPT-2's vocabulary at vocab/gpt2.tiktoken (from PyPI's openai-whisper sdist; only if missing);
#   - checks that nvcc is there (without it the emulated build still works).
# Usage: scripts/setup.sh [--with-torch]
#   --with-torch  also python3-torch + python3-numpy, needed only to regenerate the golden files
#                 with /usr/bin/python3 tests/golden/make_golden.py.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DEBIAN_FRONTEND=noninteractive

with_torch=0
for arg in "$@"; do
  case "$arg" in
    --with-torch) with_torch=1 ;;
    -h|--help) sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

packages=(
  build-essential cmake ninja-build ccache git pkg-config
  libboost-context-dev libboost-stacktrace-dev libxtensor-dev libxtensor-blas-dev libopenblas-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev libpcre2-dev libelf-dev
  pybind11-dev doxygen graphviz libjs-mathjax openmpi-bin libopenmpi-dev
  python3-venv python3-dev
  clang libclang-rt-14-dev
  chromium
  # llmlab train's default corpus (/usr/share/games/fortunes) and data prepare's Unicode (ICU)
  fortunes libicu-dev
)
if (( with_torch )); then
  packages+=(python3-torch python3-numpy)
fi

# ---- Debian packages ------------------------------------------------------------------------
missing=()
for p in "${packages[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done
sudo=()
if (( EUID != 0 )); then sudo=(sudo); fi
if (( ${#missing[@]} )); then
  echo "setup: installing ${#missing[@]} Debian package(s): ${missing[*]}"
  # Wait for another apt/dpkg run (a second setup.sh, unattended upgrades) instead of failing.
  apt_lock=(-o DPkg::Lock::Timeout=600)
  "${sudo[@]}" apt-get "${apt_lock[@]}" update -qq
  "${sudo[@]}" apt-get "${apt_lock[@]}" install -y -qq --no-install-recommends "${missing[@]}"
  apt_note="installed ${missing[*]}"
else
  apt_note="all ${#packages[@]} present"
fi

# ---- Python venv ----------------------------------------------------------------------------
# Made from Debian's /usr/bin/python3 (python3-dev gives its headers): python/ builds the `llmlab`
# extension module against this venv's interpreter, so both must be the same Python, whatever
# other python3 (pyenv, conda) comes first on PATH.
# (A .venv that is a symlink, as in a git worktree sharing another checkout's venv, is used where it
# points: `python -m venv --clear` on the link itself would empty the target and then fail.)
venv="$(realpath -m "$ROOT/.venv")"
req="$ROOT/scripts/requirements.txt"
base_python=/usr/bin/python3
marker="$venv/.llmlab-requirements.sha256"
# The requirements' content, not their path: a checkout elsewhere shares the same marker.
want="$( (sha256sum <"$req"; "$base_python" --version 2>&1; echo "$base_python") | sha256sum | cut -d' ' -f1)"
if [[ -x "$venv/bin/python" && -f "$marker" && "$(cat "$marker")" == "$want" ]]; then
  venv_note="up to date"
else
  echo "setup: creating the Python venv at .venv (pip install -r scripts/requirements.txt)"
  "$base_python" -m venv --clear "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
  echo "$want" > "$marker"
  venv_note="installed from scripts/requirements.txt"
fi

# ---- GPT-2's vocabulary (never committed; /vocab/ is ignored) -------------------------------
# The tokenizer's golden tests load GPT-2's real vocabulary. PyPI's openai-whisper *source*
# package ships it as whisper/assets/gpt2.tiktoken (one `base64 rank` line per token, ranks
# 0–50255): download the sdist without installing it and take that one file out.
gpt2_vocab="$ROOT/vocab/gpt2.tiktoken"
gpt2_bytes=835554
gpt2_sha256=306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930
if [[ -f "$gpt2_vocab" && "$(stat -c %s "$gpt2_vocab")" == "$gpt2_bytes" ]]; then
  vocab_note="present"
else
  echo "setup: downloading GPT-2's vocabulary (openai-whisper's sdist from PyPI, not installed)"
  dl="$(mktemp -d)"
  "$venv/bin/python" -m pip download --quiet --disable-pip-version-check --no-deps \
    --no-binary :all: -d "$dl" openai-whisper==20250625
  mkdir -p "$ROOT/vocab"
  tar -xzf "$dl"/openai[-_]whisper-*.tar.gz -O --wildcards '*/whisper/assets/gpt2.tiktoken' \
    > "$gpt2_vocab.part"
  rm -rf "$dl"
  got_bytes="$(stat -c %s "$gpt2_vocab.part")"
  got_sha256="$(sha256sum "$gpt2_vocab.part" | cut -d' ' -f1)"
  if [[ "$got_bytes" != "$gpt2_bytes" || "$got_sha256" != "$gpt2_sha256" ]]; then
    rm -f "$gpt2_vocab.part"
    echo "setup: gpt2.tiktoken from openai-whisper is $got_bytes bytes, sha256 $got_sha256;" \
         "expected $gpt2_bytes bytes, sha256 $gpt2_sha256" >&2
    exit 1
  fi
  mv "$gpt2_vocab.part" "$gpt2_vocab"
  vocab_note="downloaded ($gpt2_bytes bytes, sha256 verified)"
fi

# ---- CUDA toolkit ---------------------------------------------------------------------------
if [[ -x /usr/local/cuda/bin/nvcc ]]; then
  nvcc=/usr/local/cuda/bin/nvcc
else
  nvcc="$(command -v nvcc || true)"
fi
if [[ -n "$nvcc" ]]; then
  nvcc_note="$nvcc ($("$nvcc" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p'))"
else
  nvcc_note="NOT FOUND: only the emulated kernels will be built (the nvcc build for sm_80/sm_90 is skipped)"
fi

echo "setup: Debian packages: $apt_note"
echo "setup: Python venv .venv: $venv_note"
echo "setup: nvcc: $nvcc_note"
echo "setup: GPT-2 vocabulary vocab/gpt2.tiktoken: $vocab_note"
