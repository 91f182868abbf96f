#!/usr/bin/env bash
# Idempotent setup for the end-to-end tests: Prometheus + promtool and Alertmanager + amtool from Debian
# (installed only when missing; `apt-get update` only when apt knows no candidate), then our collector
# (scripts/build-collector.sh: built once per manifest into a cache outside the checkout).
# Nothing is started here: the package postinst tries to, but a machine without systemd declines it.
set -euo pipefail
cd "$(dirname "$0")/../.."

missing=0
for bin in prometheus promtool prometheus-alertmanager amtool; do
  command -v "$bin" >/dev/null || { echo "10-observability: $bin missing"; missing=1; }
done
if [ "$missing" = 1 ]; then
  sudo=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "10-observability: need root (or sudo) for apt-get" >&2; exit 1; }
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt_opts=(-o DPkg::Lock::Timeout=300 -q)
  # apt-get update only when the package lists do not know the packages yet (fresh machine).
  for pkg in prometheus prometheus-alertmanager; do
    if ! apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
      "${sudo[@]}" apt-get "${apt_opts[@]}" update
      break
    fi
  done
  "${sudo[@]}" apt-get "${apt_opts[@]}" install -y --no-install-recommends prometheus prometheus-alertmanager
fi
prometheus --version 2>&1 | head -n1
prometheus-alertmanager --version 2>&1 | head -n1

bash scripts/build-collector.sh
