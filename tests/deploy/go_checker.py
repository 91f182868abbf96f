"""Where scripts/setup.d builds the small Go checkers of tests/deploy/ (composecheck, k8scheck), and a skip (or,
with OTEL_LLM_COST_E2E_REQUIRED=1 as in CI, a failure) when one is missing."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def required(message: str) -> None:
    if os.environ.get("OTEL_LLM_COST_E2E_REQUIRED") == "1":
        pytest.fail(message)
    pytest.skip(message)


def checker_path(name: str) -> Path:
    """<cache>/<name>-<sha256(go.mod, go.sum, main.go)[:16]>/<name>: the setup.d step's hashing."""
    source = HERE / name
    digest = hashlib.sha256(b"".join((source / n).read_bytes() for n in ("go.mod", "go.sum", "main.go")))
    cache = os.environ.get("OTEL_LLM_COST_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "otel-llm-cost")
    return Path(cache) / f"{name}-{digest.hexdigest()[:16]}" / name


def require_checker(name: str, setup_step: str) -> Path:
    path = checker_path(name)
    if not path.exists():
        required(f"{path} missing: run scripts/setup.d/{setup_step}")
    return path
