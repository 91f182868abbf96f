#!/usr/bin/env bash
# The Anthropic tests again on the oldest 2.x SDK (anthropic 2.0.0; the main venv has the current 2.x).
# A second virtualenv, cached outside the checkout and rebuilt only when this script or pyproject.toml change,
# holds anthropic==2.0.0, our package (editable), the peer instrumentations and the test dependencies.
# Usage: scripts/test-compat-anthropic.sh [extra pytest args]   (runs tests/anthropic)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
version="2.0.0"
source scripts/cached-venv.sh
cached_venv "venv-anthropic-$version" scripts/test-compat-anthropic.sh pyproject.toml -- -e "$root" \
    "anthropic==$version" "botocore>=1.34" "pydantic>=2" "pytest>=8" \
    "opentelemetry-sdk>=1.27" "opentelemetry-distro>=0.48b0" \
    "opentelemetry-exporter-otlp-proto-http>=1.27" \
    "opentelemetry-instrumentation-genai-anthropic>=1.3b0,<2" "opentelemetry-util-genai>=1.3b0,<2" \
    "opentelemetry-instrumentation-anthropic>=0.62,<0.63"
"$venv/bin/python" -c "import anthropic, sys; v = anthropic.__version__; print('== test-compat-anthropic: anthropic', v); sys.exit(v != '$version')"
PATH="$venv/bin:$PATH" "$venv/bin/python" -m pytest -p no:cacheprovider tests/anthropic "$@"
