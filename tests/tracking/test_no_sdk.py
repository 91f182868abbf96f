"""``track()`` in a process with no OpenTelemetry SDK at all (a notebook): the API's no-op tracer and meter record
nothing, and the tracker still counts every call at the prices the instrumented app would export."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fake_openai import GPT_4O_MINI_COST

from otel_llm_cost.core.usage import Usage
from otel_llm_cost.pricing import PriceBook

APP = Path(__file__).with_name("notebook_app.py")
TESTS = APP.parents[1]


def test_tracker_works_with_the_no_op_providers_of_the_api() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["PYTHONPATH"] = os.pathsep.join(str(TESTS / d) for d in ("openai", "anthropic", "."))
    out = subprocess.run([sys.executable, str(APP)], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["sdk_loaded"] == []  # nothing configured an SDK: spans and metrics went nowhere
    assert result["tracer_provider"] == "ProxyTracerProvider"
    assert result["calls"] == 3 and result["unpriced_calls"] == 1
    # Claude Haiku 4.5 with the simulated API's default usage (cache reads and writes, thinking, web searches)
    haiku = PriceBook().cost("anthropic", "claude-haiku-4-5-20251001", Usage(
        input_tokens=1200 + 3000 + 10000, output_tokens=800, cache_read_tokens=10000, cache_write_tokens=3000,
        cache_write_1h_tokens=1000, reasoning_tokens=300, web_searches=2))
    assert result["by_model"] == {"openai/gpt-4o-mini": pytest.approx(GPT_4O_MINI_COST, rel=1e-12),
                                  "anthropic/claude-haiku-4-5": pytest.approx(haiku.total, rel=1e-12),
                                  "openai/gpt-7-preview": 0.0}
    assert result["total_usd"] == pytest.approx(GPT_4O_MINI_COST + haiku.total, rel=1e-12)
    assert "gpt-7-preview" in result["summary"] and "1 unpriced" in result["summary"]
