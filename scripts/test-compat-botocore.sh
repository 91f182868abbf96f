#!/usr/bin/env bash
# The Bedrock tests again on the oldest botocore/boto3 we support (1.34.116: the first with Converse and
# ConverseStream; the main venv has the newest). A second virtualenv, cached outside the checkout and rebuilt only
# when this script or pyproject.toml change, holds them, our package (editable) and the test dependencies.
# Usage: scripts/test-compat-botocore.sh [extra pytest args]   (runs tests/bedrock)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
version="1.34.116"
source scripts/cached-venv.sh
cached_venv "venv-botocore-$version" scripts/test-compat-botocore.sh pyproject.toml -- -e "$root" \
    "botocore==$version" "boto3==$version" "pytest>=8" "opentelemetry-sdk>=1.27" "genai-prices==0.2.3"
"$venv/bin/python" -c "import botocore, sys; v = botocore.__version__; print('== test-compat-botocore: botocore', v); sys.exit(v != '$version')"
PATH="$venv/bin:$PATH" "$venv/bin/python" -m pytest -p no:cacheprovider tests/bedrock --ignore=tests/bedrock/test_bedrock_peers.py "$@"  # peers: main venv
