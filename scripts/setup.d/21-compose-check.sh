#!/usr/bin/env bash
# Builds tests/deploy/composecheck (a Compose file loader on compose-go, the library `docker compose` uses)
# into a cache outside the checkout, so tests/deploy/test_compose.py can validate deploy/compose.yaml on
# machines without Docker. Idempotent: rebuilt only when its sources change. Needs Go and the Go module proxy.
set -euo pipefail
cd "$(dirname "$0")/../.."
src=tests/deploy/composecheck
cache="${OTEL_LLM_COST_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/otel-llm-cost}"
sha="$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-16)"
bin="$cache/composecheck-$sha/composecheck"
if [ -x "$bin" ]; then
  echo "21-compose-check: up to date ($bin)"; exit 0
fi
command -v go >/dev/null || { echo "21-compose-check: 'go' is not on PATH" >&2; exit 1; }
mkdir -p "$(dirname "$bin")"
(cd "$src" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly go build -trimpath -o "$bin.tmp" .)
mv "$bin.tmp" "$bin"
echo "21-compose-check: built $bin"
