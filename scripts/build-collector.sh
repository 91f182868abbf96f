#!/usr/bin/env bash
# Builds our OpenTelemetry Collector (collector-config/builder-config.yaml) with the collector builder, from
# the Go module proxy, into a cache outside the checkout:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/otel-llm-cost/otelcol-<sha256 of the manifest>/otelcol-llm-cost
# and prints that path (the only line on stdout; progress goes to stderr). A build whose manifest did not
# change is reused. Needs Go >= 1.26 (the collector's go.mod minimum). The Go module and build caches
# (GOMODCACHE, GOCACHE) stay where Go puts them by default, so a rebuild after a manifest bump is incremental.
# Env: OTEL_LLM_COST_CACHE_DIR overrides the cache root; OTELCOL_BUILDER_VERBOSE=1 shows the builder's output.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
manifest="$repo/collector-config/builder-config.yaml"
cache="${OTEL_LLM_COST_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/otel-llm-cost}"
name="otelcol-llm-cost"

sha="$(sha256sum "$manifest" | cut -c1-16)"
out="$cache/otelcol-$sha"
bin="$out/$name"
if [ -x "$bin" ] && "$bin" --version >/dev/null 2>&1; then
  echo "$bin"; exit 0
fi

command -v go >/dev/null || { echo "build-collector: 'go' (>= 1.26) is not on PATH" >&2; exit 1; }
goversion="$(go env GOVERSION)"   # e.g. go1.26.8
IFS=. read -r major minor _ <<<"${goversion#go}"
if [ "${major:-0}" -lt 1 ] || { [ "$major" = 1 ] && [ "${minor:-0}" -lt 26 ]; }; then
  echo "build-collector: $goversion is too old; the collector's modules need Go >= 1.26" >&2; exit 1
fi
# The builder takes the version of the core components it pins (all components share it).
version="$(sed -n 's|.*go\.opentelemetry\.io/collector/receiver/otlpreceiver \(v[0-9.]*\).*|\1|p' "$manifest")"
[ -n "$version" ] || { echo "build-collector: no otlpreceiver version in $manifest" >&2; exit 1; }

mkdir -p "$cache"
# One build at a time (CI setup and a local stack may both ask for it).
exec 9>"$cache/build.lock"
flock -w 1800 9 || { echo "build-collector: timed out waiting for $cache/build.lock" >&2; exit 1; }
if [ -x "$bin" ] && "$bin" --version >/dev/null 2>&1; then
  echo "$bin"; exit 0
fi

export GOTOOLCHAIN=local   # never fetch another Go toolchain behind the user's back
gobin="$cache/builder-$version"
if [ ! -x "$gobin/builder" ]; then
  echo "build-collector: installing go.opentelemetry.io/collector/cmd/builder@$version" >&2
  GOBIN="$gobin" go install "go.opentelemetry.io/collector/cmd/builder@$version" >&2
fi

tmp="$(mktemp -d "$cache/.build-$sha.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "build-collector: building $name $version into $out (a cold build takes several minutes)" >&2
start=$SECONDS
args=(--config="$manifest" --output-path="$tmp")
[ "${OTELCOL_BUILDER_VERBOSE:-0}" = 1 ] && args+=(--verbose)
if ! "$gobin/builder" "${args[@]}" >"$tmp.log" 2>&1; then
  tail -n 60 "$tmp.log" >&2; rm -f "$tmp.log"
  echo "build-collector: the build failed" >&2; exit 1
fi
rm -f "$tmp.log"
"$tmp/$name" --version >&2
rm -rf "$out"; mv "$tmp" "$out"; trap - EXIT
echo "build-collector: built in $((SECONDS - start)) s" >&2
echo "$bin"
