"""scripts/local-stack.sh: start the collector, Prometheus and Alertmanager, send a real app's telemetry
through them, read it back from Prometheus, stop everything by PID."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from stack import REPO, free_port, http_get_json, require, run_instrumented_app

SCRIPT = REPO / "scripts" / "local-stack.sh"
PORTS = ("OTLP_GRPC", "OTLP_HTTP", "HEALTH", "COLLECTOR_METRICS", "PROMETHEUS", "ALERTMANAGER")


def run(command: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), command], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


@pytest.fixture
def local_stack(tmp_path: Path) -> Iterator[dict[str, str]]:
    binaries = require("otelcol", "prometheus", "alertmanager")
    env = {**os.environ, "LOCAL_STACK_DIR": str(tmp_path / "run"), "LOCAL_STACK_LIFETIME": "300",
           "OTEL_LLM_COST_OTELCOL": str(binaries["otelcol"]),
           "OTEL_LLM_COST_PROMETHEUS": str(binaries["prometheus"]),
           "OTEL_LLM_COST_ALERTMANAGER": str(binaries["alertmanager"]),
           **{f"LOCAL_STACK_{name}_PORT": str(free_port()) for name in PORTS}}
    try:
        yield env
    finally:
        run("stop", env)


def test_start_status_send_stop(local_stack: dict[str, str], tmp_path: Path) -> None:
    env = local_stack
    started = time.monotonic()
    done = run("start", env)
    assert done.returncode == 0, done.stdout + done.stderr
    print(f"local stack ready in {time.monotonic() - started:.1f} s")
    pids = {c: int((Path(env["LOCAL_STACK_DIR"]) / f"{c}.pid").read_text()) for c in
            ("otelcol", "prometheus", "alertmanager")}
    status = run("status", env)
    assert status.returncode == 0 and status.stdout.count(": up") == 3, status.stdout

    again = run("start", env)  # a second start refuses instead of doubling the processes
    assert again.returncode != 0 and "already running" in again.stderr

    app_env = dict(line.removeprefix("export ").split("=", 1) for line in run("env", env).stdout.split("\n")
                   if line.startswith("export OTEL_EXPORTER"))
    app_env.update({"OTEL_METRICS_EXPORTER": "otlp", "OTEL_TRACES_EXPORTER": "otlp", "OTEL_LOGS_EXPORTER": "none",
                    "OTEL_SERVICE_NAME": "local-stack-test", "OTEL_METRIC_EXPORT_INTERVAL": "1000"})
    ledger = tmp_path / "ledger.json"
    run_instrumented_app(REPO / "tests" / "e2e" / "cost_app.py", ["--out", str(ledger)], app_env)
    expected = sum(c["cost"] for c in json.loads(ledger.read_text())["calls"] if c["cost"] is not None)

    prometheus = f"http://127.0.0.1:{env['LOCAL_STACK_PROMETHEUS_PORT']}"
    query = urllib.parse.urlencode({"query": 'sum(gen_ai_client_cost_USD_total{service_name="local-stack-test"})'})
    deadline, value = time.monotonic() + 30, None
    while time.monotonic() < deadline:
        result = http_get_json(f"{prometheus}/api/v1/query?{query}")["data"]["result"]
        value = float(result[0]["value"][1]) if result else None
        if value is not None and abs(value - expected) < 1e-9:
            break
        time.sleep(0.5)
    assert value == pytest.approx(expected, rel=1e-9, abs=1e-12)
    groups = http_get_json(f"{prometheus}/api/v1/rules")["data"]["groups"]
    assert groups, "Prometheus loaded no rule group from prometheus/rules"

    stopped = run("stop", env)
    assert stopped.returncode == 0, stopped.stderr
    for name, pid in pids.items():
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower(), \
            f"{name} (pid {pid}) still running"
    assert run("status", env).returncode == 3
