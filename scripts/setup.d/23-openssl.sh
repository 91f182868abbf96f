#!/usr/bin/env bash
# The openssl command line, which tests/e2e/certs.py uses to make the test certificates (CA, server, client,
# expired). Idempotent: installs the Debian package only when the command is missing.
set -euo pipefail
if command -v openssl >/dev/null; then
  echo "23-openssl: $(openssl version)"; exit 0
fi
sudo=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "23-openssl: need root (or sudo) for apt-get" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-cache policy openssl 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 -q update
fi
"${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 -q install -y --no-install-recommends openssl
echo "23-openssl: $(openssl version)"
