#!/usr/bin/env bash
# Creates (or reuses) the project virtualenv and installs the package with its dev tools.
# Sourced by test.sh and demo.sh so both commands work on a fresh machine with nothing set up.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${OTEL_LLM_COST_VENV:-$root/.venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
extras="${OTEL_LLM_COST_EXTRAS:-dev}"
stamp="$venv/.installed-$(cat "$root/pyproject.toml" | sha256sum | cut -c1-16)-${extras//,/-}"
if [ ! -f "$stamp" ]; then
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet -e "$root[$extras]"
  touch "$stamp"
fi
export PATH="$venv/bin:$PATH"
