#!/usr/bin/env bash
# The google-genai tests again on the oldest supported SDK (google-genai 1.32.0: httpx, where the current 3.x sends
# through httpx2), with the official opentelemetry-instrumentation-google-genai loaded as a peer (it instruments
# google-genai < 3 only, so the main venv cannot run it). A second virtualenv, cached outside the checkout and
# rebuilt only when this script or pyproject.toml change. The other SDKs and their peers are there because the
# shared provider cases (tests/providers/cases.py) load every provider.
# Usage: scripts/test-compat-genai.sh [extra pytest args]   (runs the gemini/vertex cases of tests/providers and
# the google-genai batch, Imagen and Vertex-price tests)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
version="1.32.0"
source scripts/cached-venv.sh
cached_venv "venv-genai-$version" scripts/test-compat-genai.sh pyproject.toml -- -e "$root" \
    "google-genai==$version" "openai>=3" "anthropic>=2" "groq>=0.30" "boto3>=1.34.116" "httpx2" "pytest>=8" \
    "opentelemetry-sdk>=1.27" "opentelemetry-distro>=0.48b0" \
    "opentelemetry-exporter-otlp-proto-http>=1.27" \
    "opentelemetry-instrumentation-google-genai>=1.3b0,<2" "opentelemetry-util-genai>=1.3b0,<2" \
    "opentelemetry-instrumentation-genai-openai>=1.3b0,<2" "opentelemetry-instrumentation-openai>=0.62,<0.63" \
    "opentelemetry-instrumentation-genai-anthropic>=1.3b0,<2" "opentelemetry-instrumentation-anthropic>=0.62,<0.63" \
    "opentelemetry-instrumentation-botocore>=0.48b0" "opentelemetry-instrumentation-bedrock>=0.62,<0.63"
"$venv/bin/python" -c "from google.genai import version; import sys; v = version.__version__; print('== test-compat-genai: google-genai', v); sys.exit(v != '$version')"
PATH="$venv/bin:$PATH" "$venv/bin/python" -m pytest -p no:cacheprovider tests/providers/test_google_genai.py \
    tests/providers/test_genai_batches.py tests/providers/test_genai_images.py \
    tests/providers/test_genai_vertex_prices.py \
    tests/providers/test_provider_behaviour.py -k "gemini or vertex or genai or batch or imagen or image" "$@"
