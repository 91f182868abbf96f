"""``otel-llm-cost doctor`` against crafted misconfigurations, run as users run it (the installed command).

(Doctor without any LLM SDK or OpenTelemetry SDK is checked in tests/demo/test_fresh_install.py, in a fresh
virtual environment; ``doctor --prometheus`` against a real Prometheus in test_report_live.py.)
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

BIN = Path(sys.executable).with_name("otel-llm-cost")


@pytest.fixture
def collector_port() -> Iterator[int]:
    """Something listening where the OTLP endpoint points (doctor only connects)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield int(server.getsockname()[1])


def healthy_env(port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_") or k == "OTEL_LLM_COST_PRICES_CACHE"}
    env.update({"OTEL_SERVICE_NAME": "checkout", "OTEL_METRICS_EXPORTER": "otlp", "OTEL_TRACES_EXPORTER": "otlp",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
                "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}"})
    return env


def doctor(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), "doctor", *args], capture_output=True, text=True, timeout=120, env=env)


def lines(out: str, level: str) -> list[str]:
    return [line.strip() for line in out.splitlines() if line.strip().startswith(level)]


def test_healthy_setup_exits_0_and_lists_what_is_instrumented(collector_port: int) -> None:
    done = doctor(healthy_env(collector_port))
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert not lines(out, "FAIL"), out
    assert "instrumented by entry point llm_cost_openai" in out
    assert f"OTLP endpoint http://127.0.0.1:{collector_port}: reachable" in out
    assert "OTEL_METRICS_EXPORTER=otlp: otlp_proto_http" in out
    assert "price table in force: genai-prices-" in out and "bundled with the package" in out
    for var in ("OTEL_LLM_COST_PRICES_FILE", "OTEL_LLM_COST_METRIC_ATTRIBUTES", "OTEL_LLM_COST_STREAM_USAGE"):
        assert f"{var} = " in out
    assert "0 problem(s)" in out


def test_invalid_settings_are_problems_with_the_accepted_values(collector_port: int) -> None:
    env = {**healthy_env(collector_port), "OTEL_LLM_COST_MAX_ATTRIBUTE_VALUES": "lots",
           "OTEL_LLM_COST_STREAM_USAGE": "maybe", "OTEL_LLM_COST_ANTHROPIC_NATIVE_SPANS": "drop",
           "OTEL_LLM_COST_PRICE_FILE": "typo.toml"}
    done = doctor(env)
    assert done.returncode == 1
    fails = "\n".join(lines(done.stdout, "FAIL"))
    assert "OTEL_LLM_COST_MAX_ATTRIBUTE_VALUES='lots' is invalid: the default '100' is used" in fails
    assert "OTEL_LLM_COST_STREAM_USAGE='maybe' is invalid" in fails
    assert "OTEL_LLM_COST_ANTHROPIC_NATIVE_SPANS='drop' is invalid" in fails
    assert "fix: set it to a whole number >= 1, or unset it" in done.stdout
    assert "fix: set it to keep or disable, or unset it" in done.stdout
    assert "OTEL_LLM_COST_PRICE_FILE is set but otel-llm-cost has no such setting" in done.stdout
    assert "3 problem(s)" in done.stdout


def test_price_files_bad_missing_and_good(tmp_path: Path, collector_port: int) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[[price]]\nprovider = "openai"\nmodel = "gpt-4o"\ninput = 2\noutput = 8\n')
    bad = tmp_path / "bad.toml"
    bad.write_text('[[price]]\nprovider = "openai"\nmodel = "gpt-4o"\ninput = -1\n')
    missing = tmp_path / "nope.toml"
    env = {**healthy_env(collector_port), "OTEL_LLM_COST_PRICES_FILE": f"{good},{bad},{missing}"}
    done = doctor(env)
    assert done.returncode == 1
    out = done.stdout
    assert f"ok    price file {good}: 1 prices, 0 discounts, 0 aliases loaded" in out
    bad_line = next(line for line in lines(out, "FAIL") if "bad.toml" in line)
    assert "field 'input'" in bad_line and "bundled prices are used" in bad_line
    assert f"fix: correct it and check with: otel-llm-cost prices check {bad}" in out
    assert f"price file {missing}: does not exist" in out
    strict = doctor({**env, "OTEL_LLM_COST_PRICES_STRICT": "true"})
    assert "strict mode: the app will fail to start" in strict.stdout


def test_metrics_exporter_none_is_a_problem(collector_port: int) -> None:
    done = doctor({**healthy_env(collector_port), "OTEL_METRICS_EXPORTER": "none"})
    assert done.returncode == 1
    assert "FAIL  OTEL_METRICS_EXPORTER=none: metrics are not exported: no cost metrics reach Prometheus" in done.stdout
    assert "fix: export OTEL_METRICS_EXPORTER=otlp" in done.stdout


@pytest.mark.skipif(importlib.util.find_spec("opentelemetry.exporter.otlp.proto.grpc") is not None,
                    reason="the gRPC exporter is installed here: the default protocol works")
def test_default_grpc_protocol_without_the_grpc_exporter(collector_port: int) -> None:
    env = healthy_env(collector_port)
    del env["OTEL_EXPORTER_OTLP_PROTOCOL"]
    done = doctor(env)
    assert done.returncode == 1
    assert "exporter 'otlp_proto_grpc' is not installed, so metrics are dropped" in done.stdout
    assert "fix: pip install opentelemetry-exporter-otlp-proto-grpc  (or export " \
           "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf" in done.stdout


def test_warnings_do_not_fail_but_say_the_fix() -> None:
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        dead = int(probe.getsockname()[1])
    env = {**healthy_env(dead), "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "llm_cost_openai",
           "OTEL_LLM_COST_METRIC_ATTRIBUTES": "feature,team,user_id",
           "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": "delta"}
    del env["OTEL_SERVICE_NAME"]
    done = doctor(env)
    warns = "\n".join(lines(done.stdout, "WARN"))
    assert f"OTLP endpoint http://127.0.0.1:{dead}: nothing answers" in warns
    assert "llm_cost_openai is listed in OTEL_PYTHON_DISABLED_INSTRUMENTATIONS" in warns
    assert "metric label(s) user_id have one value per user/request" in warns
    assert "TEMPORALITY_PREFERENCE=delta" in warns
    assert "OTEL_SERVICE_NAME is not set" in warns
    assert "fix: export OTEL_SERVICE_NAME=my-service" in done.stdout
    # llm_cost_openai disabled: if no other SDK is instrumented, that is a problem; otherwise warnings only
    if "no supported LLM SDK is installed and instrumented" not in done.stdout:
        assert done.returncode == 0, done.stdout


def test_an_exporter_that_is_not_installed_is_a_problem(collector_port: int) -> None:
    done = doctor({**healthy_env(collector_port), "OTEL_METRICS_EXPORTER": "otlp,zipkin_json"})
    assert done.returncode == 1
    assert "exporter 'zipkin_json' is not installed, so metrics are dropped" in done.stdout
    assert "OTEL_METRICS_EXPORTER=otlp,zipkin_json: otlp_proto_http" in done.stdout  # the other one is fine
