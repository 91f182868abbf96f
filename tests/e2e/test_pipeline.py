"""The shipped pipeline, end to end with the real components: an app under ``opentelemetry-instrument``
-> OTLP -> our built collector (collector-config/otelcol.yaml) -> remote write -> Prometheus.

The app keeps a ledger of the cost the instrumentation put on each call's span; Prometheus must hold exactly
that much, by model and by feature, also when Prometheus was down for a minute while the app kept calling.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from stack import (
    COLLECTOR_CONFIG,
    LOOPBACK,
    REPO,
    Collector,
    Stack,
    collector_cache_path,
    finish_app,
    free_port,
    http_get_text,
    require,
    run_instrumented_app,
    spawn_instrumented_app,
)

APP = Path(__file__).with_name("cost_app.py")
REL = 1e-9


def ledger(path: Path) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = json.loads(path.read_text())["calls"]
    assert calls, "the app recorded no priced call"
    return calls


def totals(calls: list[dict[str, Any]], key: str) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for call in calls:
        if call["cost"] is not None:
            out[call[key]] += call["cost"]
    return dict(out)


def by_label(stack: Stack, expr: str, label: str) -> dict[str, float]:
    return {r["metric"].get(label, ""): float(r["value"][1]) for r in stack.query(expr)}


def close(a: float, b: float) -> bool:
    return abs(a - b) <= REL * max(abs(a), abs(b))


def wait_for_total(stack: Stack, expected: float, selector: str = "", timeout: float = 30.0) -> None:
    stack.wait_for(f"sum(gen_ai_client_cost_USD_total{selector})",
                   lambda r: bool(r) and close(float(r[0]["value"][1]), expected), timeout=timeout)


def assert_exact_by(stack: Stack, calls: list[dict[str, Any]], selector: str) -> None:
    for key, label in (("model", "gen_ai_request_model"), ("feature", "feature")):
        expected = totals(calls, key)
        got = by_label(stack, f"sum by ({label}) (gen_ai_client_cost_USD_total{selector})", label)
        assert got.keys() == expected.keys(), (label, got, expected)
        for value, cost in expected.items():
            assert close(got[value], cost), (label, value, got[value], cost)


def test_costs_reach_prometheus_exactly(stack: Stack, tmp_path: Path) -> None:
    """Two apps, one over OTLP/HTTP with deployment.environment, one over OTLP/gRPC with only the newer
    deployment.environment.name: every ledger dollar arrives, with the labels."""
    old_style, new_style = tmp_path / "checkout.json", tmp_path / "search.json"
    checkout = stack.app_env("checkout-api", "staging")
    search = {**stack.app_env("search-api", "ignored", protocol="grpc"),
              "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=production"}
    # Both at once: independent processes, and it halves the wall time.
    first = spawn_instrumented_app(APP, ["--out", str(old_style), "--rounds", "3"], checkout)
    outputs = [run_instrumented_app(APP, ["--out", str(new_style), "--rounds", "2"], search).stderr,
               finish_app(first)]
    # Default traces exporter (nop): the apps' spans are accepted and dropped, without any export error.
    for output in outputs:
        assert "Failed to export" not in output and "Traceback" not in output, output

    checkout_calls, search_calls = ledger(old_style), ledger(new_style)
    everything = checkout_calls + search_calls
    wait_for_total(stack, sum(c["cost"] for c in everything if c["cost"] is not None))

    for service, environment, calls in (("checkout-api", "staging", checkout_calls),
                                        ("search-api", "production", search_calls)):
        selector = f'{{service_name="{service}",deployment_environment="{environment}"}}'
        wait_for_total(stack, sum(c["cost"] for c in calls if c["cost"] is not None), selector, timeout=5)
        assert_exact_by(stack, calls, selector)
        # Per-call costs: the cost histogram holds the same dollars and one observation per priced call.
        priced = [c["cost"] for c in calls if c["cost"] is not None]
        assert close(stack.query_value(f"sum(gen_ai_client_operation_cost_USD_sum{selector})") or 0, sum(priced))
        assert stack.query_value(f"sum(gen_ai_client_operation_cost_USD_count{selector})") == len(priced)
        unpriced = sum(1 for c in calls if c["cost"] is None)
        assert unpriced > 0
        assert stack.query_value(
            f'sum(gen_ai_client_operation_unpriced_total{{service_name="{service}",'
            f'llm_cost_unpriced_reason="unknown_model",gen_ai_request_model="gpt-9-preview"}})') == unpriced

    # Every cost series carries the resource labels (none lost on the way), and teams come through too.
    series = stack.query("gen_ai_client_cost_USD_total")
    assert series and all(s["metric"].get("service_name") and s["metric"].get("deployment_environment")
                          for s in series)
    assert set(by_label(stack, "sum by (team) (gen_ai_client_cost_USD_total)", "team")) == {"growth", "core"}
    # The resource processor must not override an explicit deployment.environment.
    assert stack.query('gen_ai_client_cost_USD_total{deployment_environment="ignored"}') == []
    # Both OTLP receivers were in use.
    assert stack.collector is not None
    for transport in ("http", "grpc"):
        assert collector_metric(stack.collector, "otelcol_receiver_accepted_metric_points", transport=transport) > 0
        assert collector_metric(stack.collector, "otelcol_receiver_accepted_spans", transport=transport) > 0
    assert collector_metric(stack.collector, "otelcol_receiver_refused_spans") == 0



def test_every_server_listens_on_loopback_only(stack: Stack) -> None:
    sockets = stack.listening_sockets()
    assert set(sockets) == {"collector", "prometheus", "alertmanager"}
    for name, found in sockets.items():
        assert found, f"{name} listens nowhere?"
        assert all(address == LOOPBACK for address, _ in found), (name, found)
    # OTLP gRPC + HTTP, health check and the collector's own metrics (the scrape exporter is not in use).
    assert len(sockets["collector"]) == 4


def test_collector_config_validates_with_the_built_collector(tmp_path: Path) -> None:
    """``otelcol validate`` with the defaults, with each documented alternative, and a negative control."""
    binary = require("otelcol")["otelcol"]
    for env in ({}, {"OTELCOL_METRICS_EXPORTER": "prometheus", "OTELCOL_TRACES_EXPORTER": "otlp_grpc",
                     "OTELCOL_TRACES_ENDPOINT": "jaeger:4317"}):
        done = Collector(binary, tmp_path, env=env).validate()
        assert done.returncode == 0, (env, done.stdout, done.stderr)
    bad = Collector(binary, tmp_path, env={"OTELCOL_TRACES_EXPORTER": "zipkin"}).validate()
    assert bad.returncode != 0 and 'exporter "zipkin"' in bad.stdout + bad.stderr
    # The build holds exactly the components the config uses (builder-config.yaml is lean on purpose).
    listing = subprocess.run([str(binary), "components"], capture_output=True, text=True, timeout=30, check=True)
    config = COLLECTOR_CONFIG.read_text()
    for component in ("otlp", "memory_limiter", "batch", "resource", "prometheus_remote_write", "prometheus",
                      "otlp_grpc", "nop", "health_check"):
        assert f"- name: {component}\n" in listing.stdout, component
        assert f"\n  {component}:" in config or f"\n  {component}/" in config, component


def test_prometheus_configs_pass_promtool(stack: Stack) -> None:
    """The example prometheus/prometheus.yml and the harness's own config, checked by promtool."""
    promtool = require("promtool")["promtool"]
    configs = [stack.prometheus.config_path]
    example = REPO / "prometheus" / "prometheus.yml"
    assert example.is_file(), "prometheus/prometheus.yml (the example config) is missing"
    configs.append(example)
    for config in configs:
        done = subprocess.run([str(promtool), "check", "config", str(config)], capture_output=True, text=True,
                              timeout=60, check=False, cwd=config.parent)
        assert done.returncode == 0, (config, done.stdout, done.stderr)


def collector_metric(collector: Collector, name: str, **labels: str) -> float:
    """Sum of one of the collector's own counters (its telemetry endpoint, Prometheus text; with or without
    the _total suffix, which depends on the collector version), over the series with these labels."""
    text = http_get_text(collector.telemetry_url)
    names = tuple(f"{n}{end}" for n in (name, f"{name}_total") for end in ("{", " "))
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(names) and all(f'{k}="{v}"' in line for k, v in labels.items()))


def test_traces_reach_the_configured_backend(stack_factory: Any, tmp_path: Path) -> None:
    """OTELCOL_TRACES_EXPORTER=otlp_grpc sends spans on. The backend here is a second collector with the
    default config, which also shows the default: spans accepted (none refused) and dropped by nop."""
    binary = require("otelcol")["otelcol"]
    backend_dir = tmp_path / "backend"
    backend_dir.mkdir()
    backend = Collector(binary, backend_dir)
    backend.start()
    try:
        stack = stack_factory(with_alertmanager=False, rule_files=[], collector_env={
            "OTELCOL_TRACES_EXPORTER": "otlp_grpc",
            "OTELCOL_TRACES_ENDPOINT": backend.otlp_grpc_endpoint.removeprefix("http://")})
        done = stack.run_instrumented_app(APP, ["--out", str(tmp_path / "sent.json"), "--rounds", "1"])
        assert "Failed to export" not in done.stderr, done.stderr
        spans = len(ledger(tmp_path / "sent.json"))
        stack.collector.stop()  # drains the batch processor into the backend
        assert collector_metric(backend, "otelcol_receiver_accepted_spans") >= spans
        assert collector_metric(backend, "otelcol_receiver_refused_spans") == 0
    finally:
        backend.stop()


def test_scrape_endpoint_alternative(stack_factory: Any, tmp_path: Path) -> None:
    """OTELCOL_METRICS_EXPORTER=prometheus: Prometheus scrapes the collector instead; same dollars."""
    require("otelcol", "prometheus")
    port = free_port()
    stack = stack_factory(with_alertmanager=False, scrape_targets=[f"{LOOPBACK}:{port}"], collector_env={
        "OTELCOL_METRICS_EXPORTER": "prometheus", "OTELCOL_PROMETHEUS_PORT": str(port),
        "OTELCOL_PROMETHEUS_RW_ENDPOINT": "http://127.0.0.1:9/unused"})
    out = tmp_path / "ledger.json"
    stack.run_instrumented_app(APP, ["--out", str(out), "--rounds", "2"], service_name="scraped-api")
    calls = ledger(out)
    selector = '{service_name="scraped-api",deployment_environment="test"}'
    wait_for_total(stack, sum(c["cost"] for c in calls if c["cost"] is not None), selector, timeout=30)
    assert_exact_by(stack, calls, selector)


def test_prometheus_outage_loses_no_cost(stack: Stack, tmp_path: Path) -> None:
    """Prometheus stops for ~60 s while the app keeps calling; the collector's queue delivers everything."""
    out = tmp_path / "ledger.json"
    app = spawn_instrumented_app(APP, ["--out", str(out), "--duration", "75", "--interval", "0.5"],
                                 stack.app_env("outage-api", "production"))
    try:
        stack.wait_for("sum(gen_ai_client_cost_USD_total)", timeout=30)
        before = stack.query_value("sum(gen_ai_client_cost_USD_total)") or 0.0
        stack.stop_prometheus()
        stopped_at = time.time()
        time.sleep(60)
        restarted_at = time.time()
        stack.start_prometheus()
        finish_app(app, timeout=120)
    finally:
        if app.poll() is None:
            app.kill()
            app.wait(timeout=10)
    calls = ledger(out)
    wait_for_total(stack, sum(c["cost"] for c in calls if c["cost"] is not None), timeout=60)
    assert_exact_by(stack, calls, "")
    # Not just the final cumulative value: the points exported during the outage were queued and delivered
    # late, so Prometheus has values for the outage window that grow past the value before the stop.
    during = stack.query_value("sum(gen_ai_client_cost_USD_total)", at=(stopped_at + restarted_at) / 2)
    assert during is not None and during > before, (before, during)
    at_restart = stack.query_value("sum(gen_ai_client_cost_USD_total)", at=restarted_at - 1)
    assert at_restart is not None and at_restart > during, (during, at_restart)


def test_harness_evaluates_rules_and_delivers_alerts(stack_factory: Any, tmp_path: Path) -> None:
    """The plumbing the rule/alert tests rely on: rule files loaded, evaluated every second, alerts routed
    through the real Alertmanager to the in-process webhook."""
    rules = tmp_path / "harness-rules.yaml"
    rules.write_text(json.dumps({"groups": [{"name": "harness", "rules": [
        {"record": "e2e:harness:one", "expr": "vector(1)"},
        {"alert": "E2EHarnessAlways", "expr": "e2e:harness:one > 0", "labels": {"severity": "info"},
         "annotations": {"summary": "always firing"}}]}]}))
    stack = stack_factory(rule_files=[rules], with_collector=False)
    assert stack.wait_for("e2e:harness:one", timeout=15)[0]["value"][1] == "1"
    firing = stack.wait_for_alert("E2EHarnessAlways", timeout=30)
    assert firing[0]["labels"]["severity"] == "info"
    assert firing[0]["annotations"]["summary"] == "always firing"
    assert {r["name"] for r in stack.prometheus.rules()} == {"e2e:harness:one", "E2EHarnessAlways"}
    assert stack.alertmanager is not None and stack.alertmanager.alerts()


def test_build_script_reuses_the_cached_collector() -> None:
    """scripts/build-collector.sh prints the cached binary at once when the manifest did not change."""
    binary = require("otelcol")["otelcol"]
    started = time.monotonic()
    done = subprocess.run(["bash", str(REPO / "scripts" / "build-collector.sh")], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip() == str(binary) == str(collector_cache_path())
    assert time.monotonic() - started < 10
