#!/usr/bin/env bash
# Builds tests/deploy/k8scheck (strict decoding into the k8s.io/api and prometheus-operator monitoring/v1
# types, plus the API server's checks of names, labels and keys) into a cache outside the checkout, so
# tests/deploy/test_kubernetes.py validates deploy/kubernetes/ offline. Idempotent: rebuilt only when its
# sources change. Needs Go >= 1.26 and the Go module proxy.
set -euo pipefail
cd "$(dirname "$0")/../.."
src=tests/deploy/k8scheck
cache="${OTEL_LLM_COST_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/otel-llm-cost}"
sha="$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-16)"
bin="$cache/k8scheck-$sha/k8scheck"
if [ -x "$bin" ]; then
  echo "22-k8s-check: up to date ($bin)"; exit 0
fi
command -v go >/dev/null || { echo "22-k8s-check: 'go' is not on PATH" >&2; exit 1; }
mkdir -p "$(dirname "$bin")"
(cd "$src" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly go build -trimpath -o "$bin.tmp" .)
mv "$bin.tmp" "$bin"
echo "22-k8s-check: built $bin"
