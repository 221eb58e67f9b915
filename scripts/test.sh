#!/usr/bin/env bash
# Set up (first time) and run every test: lint, core, pages (AppTest), browser.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
