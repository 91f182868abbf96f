#!/usr/bin/env bash
# The fast suites (pricing, providers, CLI units) on the oldest and newest supported Pythons, 3.10 and 3.13,
# each in its own cached venv with the dev extras. The main run (test.sh) covers the project venv's Python
# (3.11 here) with everything, including the end-to-end tests, which do not depend on the interpreter.
# Interpreters come from pyenv (present on our machines; nothing is downloaded). A missing one fails the run.
# Usage: scripts/test-pythons.sh [extra pytest args]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/cached-venv.sh
# What runs on every Python: everything but the suites that drive external binaries (collector, Prometheus,
# Grafana schema, compose) or build fresh venvs, which are interpreter-independent and slow.
fast_ignores=(--ignore=tests/e2e --ignore=tests/deploy --ignore=tests/dashboards --ignore=tests/demo
              --ignore=tests/cli/test_report_live.py)
find_python() {
  local minor="$1" candidate
  for candidate in "$(pyenv root 2>/dev/null)"/versions/"$minor".*/bin/python "$HOME"/.pyenv/versions/"$minor".*/bin/python \
                   "$(command -v "python$minor" || true)"; do
    [ -x "$candidate" ] && { echo "$candidate"; return 0; }
  done
  return 1
}
for minor in 3.10 3.13; do
  python="$(find_python "$minor")" || { echo "test-pythons: no Python $minor found (pyenv versions)" >&2; exit 1; }
  CACHED_VENV_PYTHON="$python" cached_venv "venv-py$minor" scripts/test-pythons.sh pyproject.toml -- -e "$root[dev]"
  echo "== pytest on $("$venv/bin/python" --version) (fast suites)"
  # the same-outcome property suite at a fifth of its scenarios: the main run gives it the full count, and what it
  # checks (the app's view with and without us) does not depend on the interpreter
  OTEL_LLM_COST_FUZZ_CASES="${OTEL_LLM_COST_FUZZ_CASES:-300}" PATH="$venv/bin:$PATH" "$venv/bin/python" -m pytest -p no:cacheprovider -q "${fast_ignores[@]}" "$@"
done
