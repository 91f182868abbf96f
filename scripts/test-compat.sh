#!/usr/bin/env bash
# The OpenAI tests again on the previous major SDK: openai 2.x, which sends through httpx (3.x uses httpx2).
# A second virtualenv, cached outside the checkout and rebuilt only when this script or pyproject.toml change,
# holds openai>=2,<3, our package (editable), the peer instrumentations and the test dependencies.
# Usage: scripts/test-compat.sh [extra pytest args]   (runs tests/openai)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/cached-venv.sh
cached_venv "venv-openai2" scripts/test-compat.sh pyproject.toml -- -e "$root" \
    "openai>=2,<3" "httpx>=0.27,<1" "pydantic>=2" "pytest>=8" \
    "opentelemetry-sdk>=1.27" "opentelemetry-distro>=0.48b0" \
    "opentelemetry-exporter-prometheus>=0.48b0" "opentelemetry-exporter-otlp-proto-http>=1.27" \
    "opentelemetry-instrumentation-genai-openai>=1.3b0,<2" "opentelemetry-util-genai>=1.3b0,<2" \
    "opentelemetry-instrumentation-openai>=0.62,<0.63"
"$venv/bin/python" -c 'import openai, sys; v = openai.__version__; print("== test-compat: openai", v); sys.exit(v.split(".")[0] != "2")'
PATH="$venv/bin:$PATH" "$venv/bin/python" -m pytest -p no:cacheprovider tests/openai "$@"
