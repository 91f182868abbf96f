"""The package as users run it: ``opentelemetry-instrument python app.py`` with the Prometheus, console and
OTLP/HTTP exporters (the last one received by a tiny in-process OTLP receiver that decodes the protobuf)."""

from __future__ import annotations

import gzip
import re
import socket
import subprocess
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fake_openai import GPT_4O_MINI_COST
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from subprocess_app import app_command, app_env, cost_points, json_documents, run_to_exit

APP = Path(__file__).parent / "app_under_otel.py"
# 4 chat calls at the gpt-4o-mini price + one embedding (8 tokens x $0.02/1M); exact
EXPECTED_TOTAL = 4 * GPT_4O_MINI_COST + 8 * 0.02 / 1e6
BASE_ENV = {"OTEL_LOGS_EXPORTER": "none", "OTEL_SERVICE_NAME": "checkout-api",
            "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "openai"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _scrape(extra_env: dict[str, str]) -> str:
    port = _free_port()
    env = app_env(APP, {"OTEL_METRICS_EXPORTER": "prometheus", "OTEL_TRACES_EXPORTER": "console",
                        "OTEL_LOGS_EXPORTER": "none", "OTEL_EXPORTER_PROMETHEUS_HOST": "127.0.0.1",
                        "OTEL_EXPORTER_PROMETHEUS_PORT": str(port), "OTEL_SERVICE_NAME": "checkout-api",
                        **extra_env})
    proc = subprocess.Popen(app_command(APP, "60"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
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
    expected_total = EXPECTED_TOTAL
    assert _value(text, "gen_ai_client_cost_USD_total") == pytest.approx(expected_total, rel=1e-9)
    assert _value(text, "gen_ai_client_operation_cost_USD_sum") == pytest.approx(expected_total, rel=1e-9)
    assert _value(text, "gen_ai_client_cost_USD_total", feature="search", team="growth",
                  gen_ai_provider_name="openai") == pytest.approx(expected_total, rel=1e-9)
    assert _value(text, "gen_ai_client_operation_unpriced_total", llm_cost_unpriced_reason="unknown_model",
                  gen_ai_request_model="gpt-9-preview") == 1


def _run_to_exit(env: dict[str, str]) -> str:
    """Run the app under opentelemetry-instrument, let it exit (exporters flush on shutdown), return stdout."""
    return run_to_exit(APP, "0", env={**BASE_ENV, **env}, stdin="stop\n", timeout=60)


def test_console_exporters() -> None:
    out = _run_to_exit({"OTEL_TRACES_EXPORTER": "console", "OTEL_METRICS_EXPORTER": "console"})
    assert "READY" in out
    # the whole output: on a slow machine the batch span processor's 5 s timer prints the first spans before READY
    docs = list(json_documents(out))
    spans = [d for d in docs if d.get("kind") == "SpanKind.CLIENT" and d.get("name", "").startswith("chat ")]
    priced = [s for s in spans if "gen_ai.usage.cost.amount" in s["attributes"]]
    assert len(spans) == 5 and len(priced) == 4, [s["name"] for s in spans]
    assert all(s["attributes"]["gen_ai.usage.cost.currency"] == "USD" for s in priced)
    assert sum(s["attributes"]["gen_ai.usage.cost.amount"] for s in priced) == pytest.approx(4 * GPT_4O_MINI_COST)
    points = cost_points(docs)
    assert points and sum(p["value"] for p in points) == pytest.approx(EXPECTED_TOTAL, rel=1e-9)


class _OtlpReceiver(ThreadingHTTPServer):
    """OTLP/HTTP (protobuf) on 127.0.0.1: keeps every decoded export request."""

    def __init__(self) -> None:
        self.traces: list[ExportTraceServiceRequest] = []
        self.metrics: list[ExportMetricsServiceRequest] = []
        super().__init__(("127.0.0.1", 0), _OtlpHandler)


class _OtlpHandler(BaseHTTPRequestHandler):
    server: _OtlpReceiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        reply: Any
        if self.path == "/v1/traces":
            self.server.traces.append(ExportTraceServiceRequest.FromString(body))
            reply = ExportTraceServiceResponse()
        elif self.path == "/v1/metrics":
            self.server.metrics.append(ExportMetricsServiceRequest.FromString(body))
            reply = ExportMetricsServiceResponse()
        else:
            self.send_response(404)
            self.end_headers()
            return
        payload = reply.SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


def _attr(kvs: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kv in kvs:
        field = kv.value.WhichOneof("value")
        out[kv.key] = getattr(kv.value, field) if field else None
    return out


def test_otlp_http_exporter() -> None:
    receiver = _OtlpReceiver()
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    try:
        _run_to_exit({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_METRICS_EXPORTER": "otlp",
                      "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
                      "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{receiver.server_address[1]}"})
    finally:
        receiver.shutdown()
        receiver.server_close()
        thread.join(timeout=10)
    spans = [(span, _attr(span.attributes)) for req in receiver.traces for rs in req.resource_spans
             for ss in rs.scope_spans if ss.scope.name == "otel_llm_cost" for span in ss.spans]
    assert len(spans) == 6  # 5 chat + 1 embeddings
    assert {s.name for s, _ in spans} == {"chat gpt-4o-mini", "chat gpt-9-preview", "embeddings text-embedding-3-small"}
    assert all(s.kind == s.SPAN_KIND_CLIENT for s, _ in spans)
    amounts = [a["gen_ai.usage.cost.amount"] for _, a in spans if "gen_ai.usage.cost.amount" in a]
    assert len(amounts) == 5 and all(isinstance(x, float) for x in amounts)
    assert sum(amounts) == pytest.approx(EXPECTED_TOTAL, rel=1e-12)
    assert all(a["feature"] == "search" and a["gen_ai.usage.input_tokens"] > 0 for _, a in spans)
    resources = {_attr(rs.resource.attributes)["service.name"] for req in receiver.traces for rs in req.resource_spans}
    assert resources == {"checkout-api"}
    metrics = {m.name: m for req in receiver.metrics for rm in req.resource_metrics for sm in rm.scope_metrics
               if sm.scope.name == "otel_llm_cost" for m in sm.metrics}  # cumulative: the last export wins
    cost, histogram = metrics["gen_ai.client.cost"], metrics["gen_ai.client.operation.cost"]
    assert cost.unit == "USD" and cost.sum.is_monotonic and histogram.unit == "USD"
    assert sum(p.as_double for p in cost.sum.data_points) == pytest.approx(EXPECTED_TOTAL, rel=1e-9)
    assert sum(p.sum for p in histogram.histogram.data_points) == pytest.approx(EXPECTED_TOTAL, rel=1e-9)
    assert metrics["gen_ai.client.operation.duration"].unit == "s"
    assert metrics["gen_ai.client.token.usage"].unit == "{token}"
    unpriced = metrics["gen_ai.client.operation.unpriced"].sum.data_points
    assert [(_attr(p.attributes)["llm_cost.unpriced_reason"], p.as_int) for p in unpriced] == [("unknown_model", 1)]
