#!/usr/bin/env bash
# LiteLLM in its own virtualenv: it pins openai < 3 (the main venv holds openai 3.x), so llm_cost_litellm is tested
# here only, with openai 2.x underneath (LiteLLM sends OpenAI-compatible calls through it) and LiteLLM's peers
# (OpenLLMetry's and OpenInference's LiteLLM instrumentations; LiteLLM's own otel callback needs the OTel SDK).
# The other SDKs and their peers are there because the shared provider cases (tests/providers/cases.py) load
# every provider. Cached outside the checkout; rebuilt only when this script or pyproject.toml change.
# Runs the shared behaviour suite for the litellm case and tests/providers/test_litellm.py.
# Usage: scripts/test-compat-litellm.sh [extra pytest args]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
version="1.110.2"
source scripts/cached-venv.sh
cached_venv "venv-litellm-$version" scripts/test-compat-litellm.sh pyproject.toml -- -e "$root" \
    "litellm==$version" "openai>=2.20,<3" "respx>=0.21" "anthropic>=2" "groq>=0.30" "boto3>=1.34.116" \
    "google-genai>=1.32" "httpx2" "pytest>=8" "hypothesis>=6" \
    "opentelemetry-sdk>=1.27" "opentelemetry-exporter-otlp-proto-http>=1.27" \
    "opentelemetry-instrumentation-litellm>=0.62,<0.63" "openinference-instrumentation-litellm>=0.1.51" \
    "opentelemetry-instrumentation-genai-openai>=1.3b0,<2" "opentelemetry-util-genai>=1.3b0,<2" \
    "opentelemetry-instrumentation-openai>=0.62,<0.63" \
    "opentelemetry-instrumentation-genai-anthropic>=1.3b0,<2" "opentelemetry-instrumentation-anthropic>=0.62,<0.63" \
    "opentelemetry-instrumentation-botocore>=0.48b0" "opentelemetry-instrumentation-bedrock>=0.62,<0.63"
"$venv/bin/python" -c "from importlib.metadata import version; import sys; v = version('litellm'); print('== test-compat-litellm: litellm', v, 'openai', version('openai')); sys.exit(v != '$version')"
# LITELLM_LOCAL_MODEL_COST_MAP: LiteLLM reads its bundled price map instead of downloading one at import
LITELLM_LOCAL_MODEL_COST_MAP=True OTEL_LLM_COST_PARTIAL_SDKS=1 PATH="$venv/bin:$PATH" "$venv/bin/python" -m pytest \
    -p no:cacheprovider -W "ignore::DeprecationWarning" -W "ignore::UserWarning" \
    tests/providers/test_litellm.py tests/providers/test_provider_behaviour.py -k litellm "$@"
