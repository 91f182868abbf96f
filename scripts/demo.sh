#!/usr/bin/env bash
# README's first command: sets up the virtualenv on a fresh machine (the package with its `demo` extra: the
# openai and anthropic SDKs, the OpenTelemetry SDK and exporters), then runs the demo (no API key, no network
# besides the package index on first use). Arguments go to `otel-llm-cost demo` (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
OTEL_LLM_COST_EXTRAS="${OTEL_LLM_COST_EXTRAS:-demo}" source scripts/venv.sh
exec otel-llm-cost demo "$@"
