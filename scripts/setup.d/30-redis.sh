#!/usr/bin/env bash
# Idempotent setup for the budget tests (tests/budgets): the Debian redis-server binary, installed only when
# missing (`apt-get update` only when apt knows no candidate). Nothing is started here: the tests start their
# own redis-server on a free port in a temporary directory and stop it (the package postinst may try to start
# the system service; a machine without systemd declines it, and the tests never use it).
set -euo pipefail

if ! command -v redis-server >/dev/null; then
  sudo=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "30-redis: need root (or sudo) for apt-get" >&2; exit 1; }
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt_opts=(-o DPkg::Lock::Timeout=300 -q)
  if ! apt-cache policy redis-server 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    "${sudo[@]}" apt-get "${apt_opts[@]}" update
  fi
  "${sudo[@]}" apt-get "${apt_opts[@]}" install -y --no-install-recommends redis-server
fi
redis-server --version
