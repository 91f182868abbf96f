#!/usr/bin/env bash
# Benchmarks (not part of the test pass/fail): per-call overhead against the peer instrumentations, and memory.
# The peers cannot share the project venv: OpenLIT requires openai<3 (and pulls many instrumentations), so a
# bench virtualenv under the cache dir holds openai 2.x, our package (editable), genai-openai, OpenLLMetry,
# OpenLIT and pyinstrument. Every configuration runs on that same SDK and the same mock transport.
# `overhead` runs the openai benchmark, then the same one for anthropic (ours, genai-anthropic, OpenLLMetry, floor,
# the SDK's own spans) in a second venv (OpenLIT holds anthropic below 1).
# Usage: scripts/bench.sh [overhead|overhead-openai|overhead-anthropic|memory|all] [extra args for the benchmark]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/cached-venv.sh
cached_venv "venv-bench" scripts/bench.sh pyproject.toml -- -e "$root" \
    "openai>=2,<3" "opentelemetry-sdk>=1.38" \
    "opentelemetry-instrumentation-genai-openai>=1.3b0,<2" "opentelemetry-util-genai>=1.3b0,<2" \
    "opentelemetry-instrumentation-openai>=0.62,<0.63" "openlit>=1.45,<2" "pyinstrument>=5"
openai_venv="$venv"
anthropic() {  # OpenLIT pins anthropic below 1, we instrument 2.x: the anthropic benchmark has a venv of its own
  cached_venv "venv-bench-anthropic" scripts/bench.sh pyproject.toml -- -e "$root" \
      "anthropic>=2,<3" "opentelemetry-sdk>=1.38" "opentelemetry-util-genai>=1.3b0,<2" \
      "opentelemetry-instrumentation-genai-anthropic>=1.3b0,<2" "opentelemetry-instrumentation-anthropic>=0.62,<0.63"
  "$venv/bin/python" benchmarks/overhead_anthropic.py "$@"
}
what="${1:-overhead}"; shift || true
case "$what" in
  overhead) "$openai_venv/bin/python" benchmarks/overhead.py "$@" && anthropic "$@" ;;
  overhead-openai) "$openai_venv/bin/python" benchmarks/overhead.py "$@" ;;
  overhead-anthropic) anthropic "$@" ;;
  memory) "$openai_venv/bin/python" benchmarks/memory.py "$@" ;;
  all) "$openai_venv/bin/python" benchmarks/overhead.py "$@" && anthropic "$@" \
       && "$openai_venv/bin/python" benchmarks/memory.py ;;
  *) echo "usage: $0 [overhead|overhead-openai|overhead-anthropic|memory|all] [args]" >&2; exit 2 ;;
esac
