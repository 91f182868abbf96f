#!/usr/bin/env bash
# Idempotent: Debian's postgresql for the ledger tests (tests/ledger start a throwaway cluster with initdb and
# pg_ctl in a temporary directory, as the package's postgres user). Installed only when no initdb is found;
# `apt-get update` only when apt knows no candidate. Nothing is started here (no systemd on CI machines).
set -euo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null; then
  echo "34-postgres: $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || command -v initdb)"
  exit 0
fi
sudo=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "34-postgres: need root (or sudo) for apt-get" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-o DPkg::Lock::Timeout=300 -q)
if ! apt-cache policy postgresql 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  "${sudo[@]}" apt-get "${apt_opts[@]}" update
fi
"${sudo[@]}" apt-get "${apt_opts[@]}" install -y --no-install-recommends postgresql
ls -d /usr/lib/postgresql/*/bin
