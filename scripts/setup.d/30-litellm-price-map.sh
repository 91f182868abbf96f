#!/usr/bin/env bash
# Idempotent: the pinned litellm wheel, whose bundled model price map is the price table's second source, into a
# cache outside the checkout (${XDG_CACHE_HOME:-~/.cache}/otel-llm-cost/litellm). Downloaded, never installed
# (litellm pins an older openai major): tests/pricing/test_crosscheck.py, scripts/update_prices.py and
# `otel-llm-cost prices diff` read the JSON straight from the wheel. The version is LITELLM_PINNED in
# src/otel_llm_cost/pricing/litellm_map.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
version="$(python -c 'from otel_llm_cost.pricing.litellm_map import LITELLM_PINNED; print(LITELLM_PINNED)')"
dir="$(python -c 'from otel_llm_cost.pricing.litellm_map import cached_wheel_dir; print(cached_wheel_dir())')"
if ! ls "$dir"/litellm-"$version"-*.whl >/dev/null 2>&1; then
  mkdir -p "$dir"
  python -m pip download --quiet --no-deps --only-binary=:all: "litellm==$version" -d "$dir"
fi
ls "$dir"/litellm-"$version"-*.whl
