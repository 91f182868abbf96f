#!/usr/bin/env bash
# mistralai 1.x (the `from mistralai import Mistral` layout, httpx) with OpenLLMetry's mistralai instrumentation,
# which imports that layout and so loads only beside 1.x: the shared suite's coexistence tests run with it here
# (one span, one cost). mistralai 2.0 (the oldest of the mistralai.client layout) is in test-compat-oldest.sh.
# Usage: scripts/test-compat-mistralai1.sh [extra pytest args]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
version="1.9.3"
source scripts/cached-venv.sh
cached_venv "venv-mistralai-$version" scripts/test-compat-mistralai1.sh pyproject.toml -- -e "$root" \
    "mistralai==$version" "opentelemetry-instrumentation-mistralai>=0.62,<0.63" \
    "openai>=3" "anthropic>=2" "groq>=0.30" "boto3>=1.34.116" "google-genai>=1.32" "httpx2" "pytest>=8" \
    "opentelemetry-sdk>=1.27"
"$venv/bin/python" -c "import mistralai, sys; v = mistralai.__version__; print('== test-compat-mistralai1: mistralai', v); sys.exit(v != '$version')"
OTEL_LLM_COST_PARTIAL_SDKS=1 PATH="$venv/bin:$PATH" "$venv/bin/python" -m pytest -p no:cacheprovider \
    tests/providers/test_mistral.py tests/providers/test_provider_behaviour.py -k mistral "$@" \
    `# 1.x's EventStream has no close(): an app cannot call it, with us or without` \
    --deselect "tests/providers/test_provider_behaviour.py::test_a_stream_left_early_is_finished_once_with_what_was_seen[closed-mistral]"
