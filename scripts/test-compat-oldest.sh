#!/usr/bin/env bash
# The native-SDK providers that joined later (mistralai, cohere, ollama) on the oldest release of each that we
# support, in ONE cached virtualenv (one venv build instead of one per SDK keeps CI short). Each provider adds its
# oldest pin to `pins` and its test files to `tests`. The SDKs every shared provider case loads come along.
# Usage: scripts/test-compat-oldest.sh [extra pytest args]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/cached-venv.sh
pins=(
    "ollama==0.4.7"  # pydantic responses since 0.4.0; 0.4.7 is the first beside httpx 0.28, which the others need
    "cohere==5.9.4"  # the first release with every v2 surface (ClientV2 chat, chat_stream, embed, rerank) as keywords
    "mistralai==2.0.0"  # the first release with the mistralai.client layout (httpx, not yet httpx2)
)
tests=(
    tests/providers/test_ollama.py
    tests/providers/test_cohere.py
    tests/providers/test_mistral.py
)
if [ "${#pins[@]}" -eq 0 ]; then echo "== test-compat-oldest: no provider listed"; exit 0; fi
cached_venv "venv-oldest" scripts/test-compat-oldest.sh pyproject.toml -- -e "$root" "${pins[@]}" \
    "openai>=3" "anthropic>=2" "groq>=0.30" "boto3>=1.34.116" "google-genai>=1.32" "httpx2" "pytest>=8" \
    "hypothesis>=6" "opentelemetry-sdk>=1.27" "opentelemetry-exporter-otlp-proto-http>=1.27"
"$venv/bin/python" -m pip list 2>/dev/null | grep -iE "^(mistralai|cohere|ollama) " || true
OTEL_LLM_COST_PARTIAL_SDKS=1 PATH="$venv/bin:$PATH" "$venv/bin/python" -m pytest -p no:cacheprovider "${tests[@]}" "$@"
