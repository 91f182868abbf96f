#!/usr/bin/env bash
# Installs the dashboard type checker (@grafana/schema + typescript, versions pinned by
# tests/dashboards/npm/package-lock.json) into a cache outside the checkout. Idempotent: does nothing when the
# cache already holds exactly this lock file. Used by tests/dashboards/test_schema.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
SRC=tests/dashboards/npm
DEST="${OTEL_LLM_COST_NPM_SCHEMA_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/otel-llm-cost/npm-schema}"
if ! command -v npm >/dev/null 2>&1; then
  echo "20-dashboard-schema: npm not found, installing nodejs and npm from apt"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm
fi
if [ -x "$DEST/node_modules/typescript/bin/tsc" ] && cmp -s "$SRC/package-lock.json" "$DEST/package-lock.json"; then
  echo "20-dashboard-schema: up to date in $DEST"
  exit 0
fi
mkdir -p "$DEST"
cp "$SRC/package.json" "$SRC/package-lock.json" "$DEST/"
(cd "$DEST" && npm ci --no-audit --no-fund --loglevel=error)
echo "20-dashboard-schema: installed $(node "$DEST/node_modules/typescript/bin/tsc" --version) and @grafana/schema $(node -p "require('$DEST/node_modules/@grafana/schema/package.json').version") in $DEST"
