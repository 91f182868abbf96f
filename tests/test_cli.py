"""The ``otel-llm-cost`` command, run as users run it (a subprocess of the installed entry point)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).with_name("otel-llm-cost")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def test_price_breakdown() -> None:
    out = run("price", "claude-sonnet-4-5", "--provider", "anthropic", "--input", "6000", "--cache-read", "3000",
              "--cache-write", "2000", "--output", "500", "--at", "2026-11-20")
    assert out.returncode == 0, out.stderr
    assert "anthropic/claude-sonnet-4-5" in out.stdout
    assert "total        $0.0189" in out.stdout
    assert "cache_write  $0.0075" in out.stdout
    assert "cache saved  $0.0081" in out.stdout


def test_unknown_model_exits_1_with_suggestions() -> None:
    out = run("price", "gpt-4o-mni", "--provider", "openai")
    assert out.returncode == 1
    assert "cannot price 'gpt-4o-mni'" in out.stderr
    assert "did you mean: gpt-4o-mini" in out.stderr


def test_models_listing() -> None:
    out = run("models", "--provider", "gcp.gemini", "gemini-2.5-pro")
    assert out.returncode == 0
    assert "gemini-2.5-pro" in out.stdout and "google" in out.stdout
    bad = run("models", "--provider", "nope")
    assert bad.returncode == 1 and "unknown provider 'nope'" in bad.stderr


def test_prices_check(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[[price]]\nprovider = "openai"\nmodel = "gpt-4o"\ninput = 1\noutput = 2\n')
    bad = tmp_path / "bad.toml"
    bad.write_text('[[price]]\nprovider = "openai"\nmodel = "gpt-4o"\ninput = -1\n')
    ok = run("prices", "check", str(good))
    assert ok.returncode == 0 and "OK" in ok.stdout and "1 prices" in ok.stdout
    failed = run("prices", "check", str(good), str(bad))
    assert failed.returncode == 1
    assert "bad.toml" in failed.stderr and "field 'input'" in failed.stderr


def test_override_file_from_env_applies(tmp_path: Path) -> None:
    prices = tmp_path / "p.toml"
    prices.write_text('[[price]]\nprovider = "ollama"\nmodel = "*"\ninput = 0.5\noutput = 0.5\n')
    out = run("price", "llama3.1:8b", "--provider", "ollama", "--input", "1000000", "--output", "1000000",
              env={"OTEL_LLM_COST_PRICES_FILE": str(prices)})
    assert out.returncode == 0, out.stderr
    assert "total        $1" in out.stdout
