#!/usr/bin/env bash
# The full test suite: README's second command and what .ci/run calls.
# Installs everything it needs itself (virtualenv, Python packages, Debian packages, the collector build,
# the npm dashboard type checker), then lints, type-checks and tests.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
# Each setup step is idempotent and caches outside the checkout (see the scripts themselves).
for step in scripts/setup.d/*.sh; do
  [ -e "$step" ] || continue
  echo "== setup: $step"; bash "$step"
done
# End-to-end tests fail (instead of skipping) when a component they need is missing.
export OTEL_LLM_COST_E2E_REQUIRED=1
echo "== ruff"; ruff check src tests scripts benchmarks
echo "== mypy"; mypy
echo "== pytest"; python -m pytest "$@"
# The same provider tests on the other supported SDK majors/minimums, each in its own cached venv.
echo "== pytest openai 2.x (httpx)"; bash scripts/test-compat.sh -q
echo "== pytest anthropic 2.0.0 (oldest 2.x)"; bash scripts/test-compat-anthropic.sh -q
echo "== pytest botocore 1.34.116 (oldest supported)"; bash scripts/test-compat-botocore.sh -q
echo "== pytest aiobotocore (async Bedrock clients)"; bash scripts/test-compat-aiobotocore.sh -q
echo "== pytest google-genai 1.32.0 (oldest) with the official google-genai instrumentation"; bash scripts/test-compat-genai.sh -q
echo "== pytest mistralai, cohere, ollama on their oldest supported releases"; bash scripts/test-compat-oldest.sh -q
echo "== pytest litellm (its own venv: it pins openai 2.x)"; bash scripts/test-compat-litellm.sh -q
echo "== pytest mistralai 1.x with OpenLLMetry's mistralai instrumentation"; bash scripts/test-compat-mistralai1.sh -q
# The fast suites on the oldest and newest supported Pythons (3.10, 3.13), each in its own cached venv.
echo "== pytest on Python 3.10 and 3.13 (fast suites)"; bash scripts/test-pythons.sh
