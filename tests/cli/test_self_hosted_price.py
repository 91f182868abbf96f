"""``otel-llm-cost price`` for a self-hosted model: the explicit $0 default is explained, not reported as an error;
a per-hour price from the user's file is shown."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).with_name("otel-llm-cost")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def test_the_self_hosted_default_is_explained() -> None:
    out = run("price", "llama3.2", "--provider", "ollama", "--input", "1000")
    assert out.returncode == 0, out.stderr
    assert "no price declared: every call costs an explicit $0 (table self-hosted:default)" in out.stdout


def test_a_declared_self_hosted_price_is_used(tmp_path: Path) -> None:
    prices = tmp_path / "gpu.toml"
    prices.write_text('[[price]]\nprovider = "ollama"\nmodel = "*"\ninput = 0.5\noutput = 0.5\nper_hour = 3.6\n')
    out = run("price", "llama3.2", "--provider", "ollama", "--input", "1000000", "--output", "1000000",
              env={"OTEL_LLM_COST_PRICES_FILE": str(prices)})
    assert out.returncode == 0, out.stderr
    assert "total        $1" in out.stdout  # per token: 0.5 + 0.5 per 1M (per-hour needs a call's seconds)
