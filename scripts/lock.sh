#!/usr/bin/env bash
# Regenerate the lock files from the hand-edited inputs:
#   requirements.in      -> requirements.txt      (runtime: the dashboard, a hosted demo)
#   requirements-dev.in  -> requirements-dev.txt  (runtime + tests, benchmarks, lint; complete on its own)
# Existing pins are kept where they still satisfy the inputs; extra arguments go to
# pip-compile, e.g. `bash scripts/lock.sh --upgrade` or `--upgrade-package numpy`.
# pip-tools runs from its own venv, .venv-lock/ (git-ignored), never from .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
PIP_VERSION=26.3
PIP_TOOLS_VERSION=7.6.2
TOOLS=.venv-lock
if [ ! -x "$TOOLS/bin/pip-compile" ]; then
  "$PY" -m venv "$TOOLS"
  "$TOOLS/bin/python" -m pip install --quiet "pip==$PIP_VERSION"
  "$TOOLS/bin/python" -m pip install --quiet "pip-tools==$PIP_TOOLS_VERSION"
fi
export CUSTOM_COMPILE_COMMAND="bash scripts/lock.sh"
# No index or find-links lines in the locks: those are this machine's pip configuration.
compile() {
  "$TOOLS/bin/pip-compile" --quiet --strip-extras --allow-unsafe \
    --no-emit-index-url --no-emit-find-links --output-file="$2" "$1" "${@:3}"
}
compile requirements.in requirements.txt "$@"
# The dev input is constrained by requirements.txt, so it must come second.
compile requirements-dev.in requirements-dev.txt "$@"
# The hosted demo installs requirements.txt: nothing for tests or benchmarks in it.
if grep -E -i '^(torch|pytest|ruff|playwright|psutil)==' requirements.txt; then
  echo "lock.sh: requirements.txt must hold the runtime dependencies only" >&2; exit 1
fi
# PyTorch is pinned as the CPU build: a CUDA build would drag nvidia-* and triton wheels.
if ! grep -q -E '^torch==[^ ]+\+cpu$' requirements-dev.txt \
   || grep -E -i '^(nvidia-|triton)' requirements-dev.txt; then
  echo "lock.sh: requirements-dev.txt must pin torch's CPU build and no CUDA packages" >&2; exit 1
fi
echo "lock.sh: requirements.txt and requirements-dev.txt regenerated; commit them with the .in files"
