#!/usr/bin/env bash
# The full test suite: README's second command and what .ci/run calls.
# Installs everything it needs itself (virtualenv, Python packages), then lints, type-checks and tests.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
echo "== ruff"; ruff check src tests scripts benchmarks
echo "== mypy"; mypy
echo "== pytest"; python -m pytest "$@"
