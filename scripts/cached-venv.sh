#!/usr/bin/env bash
# Sourced helper: cached_venv NAME STAMP_FILE... -- PIP_ARGS...
# Creates (or reuses) a virtualenv under ${XDG_CACHE_HOME:-$HOME/.cache}/otel-llm-cost/NAME holding what
# PIP_ARGS name; it is rebuilt only when one of the STAMP_FILEs, the pip arguments or the interpreter change.
# The pip arguments are part of the stamp because they hold the checkout's path (`-e "$root"`): a venv made
# for another clone must not be reused, or its editable install would test that clone's code.
# $CACHED_VENV_PYTHON picks the interpreter (default python3).
# Used by the second-SDK test runs (test-compat*.sh), the other-Python runs (test-pythons.sh) and the
# benchmarks (bench.sh): each needs SDK versions, peers or interpreters that cannot share the project venv,
# and rebuilding them on every run would cost CI minutes.
cached_venv() {
  local name="$1"; shift
  local stamp_files=()
  while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do stamp_files+=("$1"); shift; done
  shift  # the --
  local python="${CACHED_VENV_PYTHON:-python3}"
  venv="${XDG_CACHE_HOME:-$HOME/.cache}/otel-llm-cost/$name"
  local stamp
  stamp="$venv/.installed-$( { cat "${stamp_files[@]}"; printf '%s\n' "$@" "$python"; } | sha256sum | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    echo "== building $venv"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet "$@"
    touch "$stamp"
  fi
}
