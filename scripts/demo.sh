#!/usr/bin/env bash
# README's first command: sets up the virtualenv on a fresh machine, then runs the demo (no API key needed).
set -euo pipefail
cd "$(dirname "$0")/.."
OTEL_LLM_COST_EXTRAS="${OTEL_LLM_COST_EXTRAS:-dev}" source scripts/venv.sh
exec otel-llm-cost demo "$@"
