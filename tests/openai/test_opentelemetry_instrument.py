"""The package as users run it: ``opentelemetry-instrument python app.py`` with the Prometheus exporter."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from fake_openai import GPT_4O_MINI_COST

HERE = Path(__file__).parent
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _scrape(extra_env: dict[str, str]) -> str:
    port = _free_port()
    env = {**os.environ, "OTEL_METRICS_EXPORTER": "prometheus", "OTEL_TRACES_EXPORTER": "console",
           "OTEL_LOGS_EXPORTER": "none", "OTEL_EXPORTER_PROMETHEUS_HOST": "127.0.0.1",
           "OTEL_EXPORTER_PROMETHEUS_PORT": str(port), "OTEL_SERVICE_NAME": "checkout-api",
           "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parent)]), **extra_env}
    proc = subprocess.Popen([str(BIN / "opentelemetry-instrument"), sys.executable, str(HERE / "app_under_otel.py"),
                             "60"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        for line in proc.stdout:
            if line.startswith("READY"):
                break
        else:
            raise AssertionError(f"app failed: {proc.stderr.read() if proc.stderr else ''}")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            return str(response.read().decode())
    finally:
        if proc.stdin:
            proc.stdin.write("stop\n")
            proc.stdin.close()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _value(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.mark.parametrize("peers", ["ours-only", "with-peer-instrumentations"])
def test_prometheus_names_under_opentelemetry_instrument(peers: str) -> None:
    env = {"OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "openai"} if peers == "ours-only" else {}
    text = _scrape(env)
    names = set(re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)", text, re.MULTILINE))
    for expected in ("gen_ai_client_cost_USD_total", "gen_ai_client_operation_cost_USD_bucket",
                     "gen_ai_client_operation_cost_USD_sum", "gen_ai_client_cost_savings_USD_total",
                     "gen_ai_client_operation_unpriced_total", "gen_ai_client_inference_usage_input_tokens_total",
                     "gen_ai_client_inference_usage_cache_read_input_tokens_total"):
        assert expected in names, f"{expected} missing from {sorted(n for n in names if 'gen_ai' in n)}"
    if peers == "ours-only":
        assert "gen_ai_client_operation_duration_seconds_bucket" in names
        assert "gen_ai_client_token_usage_bucket" in names
        assert "gen_ai_client_operation_time_to_first_chunk_seconds_bucket" in names
    # 4 chat calls at the gpt-4o-mini price + one embedding (8 tokens x $0.02/1M); exact
    expected_total = 4 * GPT_4O_MINI_COST + 8 * 0.02 / 1e6
    assert _value(text, "gen_ai_client_cost_USD_total") == pytest.approx(expected_total, rel=1e-9)
    assert _value(text, "gen_ai_client_operation_cost_USD_sum") == pytest.approx(expected_total, rel=1e-9)
    assert _value(text, "gen_ai_client_cost_USD_total", feature="search", team="growth",
                  gen_ai_provider_name="openai") == pytest.approx(expected_total, rel=1e-9)
    assert _value(text, "gen_ai_client_operation_unpriced_total", llm_cost_unpriced_reason="unknown_model",
                  gen_ai_request_model="gpt-9-preview") == 1
