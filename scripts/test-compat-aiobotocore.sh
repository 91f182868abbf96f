#!/usr/bin/env bash
# The Bedrock tests with aiobotocore (async boto3 clients; aioboto3 is built on it). aiobotocore pins botocore to a
# narrow window, so it gets its own virtualenv, cached outside the checkout and rebuilt only when this script or
# pyproject.toml change, holding aiobotocore, the boto3 that matches its botocore, our package (editable) and
# the test dependencies. Usage: scripts/test-compat-aiobotocore.sh [extra pytest args]   (runs tests/bedrock)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/cached-venv.sh
cached_venv "venv-aiobotocore" scripts/test-compat-aiobotocore.sh pyproject.toml -- -e "$root" \
    "aiobotocore>=2.13" "boto3" "pytest>=8" "opentelemetry-sdk>=1.27"
"$venv/bin/python" -c "import aiobotocore, botocore; print('== test-compat-aiobotocore: aiobotocore', aiobotocore.__version__, 'botocore', botocore.__version__)"
PATH="$venv/bin:$PATH" "$venv/bin/python" -m pytest -p no:cacheprovider tests/bedrock --ignore=tests/bedrock/test_bedrock_peers.py "$@"  # peers: main venv
