"""``otel-llm-cost doctor``: what is installed, instrumented and configured, and a fix for each problem.

It checks what silently costs people their cost data: an SDK version the instrumentor refuses, missing entry
points, no OpenTelemetry SDK, metrics exporter ``none`` or an exporter package that is not installed, an
unreachable collector, delta temporality (Prometheus remote write drops it), invalid ``OTEL_LLM_COST_*``
values, broken price files, a stale price table, high-cardinality metric labels, and peer instrumentations.
Exit status 1 when a problem (FAIL) is found; warnings alone exit 0.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import platform
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import TextIO
from urllib.parse import urlsplit

from .. import __version__
from ..core.settings import ENV_VARS, parse_value

OK, INFO, WARN, FAIL = "ok", "--", "WARN", "FAIL"
# distribution -> what it is and how it coexists with otel-llm-cost
PEERS = {
    "opentelemetry-instrumentation-openai": "OpenLLMetry's OpenAI instrumentation (entry point `openai`)",
    "opentelemetry-instrumentation-openai-v2": "the official OpenAI instrumentation (deprecated)",
    "opentelemetry-instrumentation-genai-openai": "the official GenAI OpenAI instrumentation",
    "opentelemetry-instrumentation-anthropic": "OpenLLMetry's Anthropic instrumentation",
    "opentelemetry-instrumentation-genai-anthropic": "the official GenAI Anthropic instrumentation",
    "opentelemetry-instrumentation-botocore": "the official botocore instrumentation (its Bedrock extension)",
    "opentelemetry-instrumentation-bedrock": "OpenLLMetry's Bedrock instrumentation",
    "traceloop-sdk": "Traceloop SDK (turns on the OpenLLMetry instrumentations)",
}
COST_PEERS = {
    "openlit": "OpenLIT computes its own cost (metric gen_ai.usage.cost -> gen_ai_usage_cost_USD_*)",
    "langfuse": "Langfuse computes cost on its server from the spans it ingests",
    "litellm": "LiteLLM computes its own spend (litellm_spend_metric, response_cost)",
}
# variables of this repository's scripts and tests (not library settings): never reported as typos
_TOOLING_VARS = frozenset({"OTEL_LLM_COST_VENV", "OTEL_LLM_COST_EXTRAS", "OTEL_LLM_COST_CACHE_DIR",
                           "OTEL_LLM_COST_OTELCOL", "OTEL_LLM_COST_PROMETHEUS", "OTEL_LLM_COST_PROMTOOL",
                           "OTEL_LLM_COST_ALERTMANAGER", "OTEL_LLM_COST_AMTOOL", "OTEL_LLM_COST_NPM_SCHEMA_DIR"})
_HIGH_CARDINALITY = ("user", "user_id", "session", "session_id", "request_id", "trace_id", "conversation_id",
                     "customer_id", "email")


@dataclass
class Report:
    """Checks grouped in sections; ``failed`` when any FAIL was found."""

    sections: list[tuple[str, list[tuple[str, str, str]]]] = field(default_factory=list)

    def section(self, title: str) -> list[tuple[str, str, str]]:
        lines: list[tuple[str, str, str]] = []
        self.sections.append((title, lines))
        return lines

    @property
    def failed(self) -> bool:
        return any(level == FAIL for _t, lines in self.sections for level, _m, _f in lines)

    def write(self, out: TextIO) -> None:
        for title, lines in self.sections:
            out.write(f"\n{title}\n")
            for level, message, fix in lines:
                out.write(f"  {level:<4}  {message}\n")
                if fix:
                    out.write(f"        fix: {fix}\n")
        problems = sum(level == FAIL for _t, lines in self.sections for level, _m, _f in lines)
        warnings = sum(level == WARN for _t, lines in self.sections for level, _m, _f in lines)
        out.write(f"\n{problems} problem(s), {warnings} warning(s)\n")


def _version(dist: str) -> str | None:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def _instrumentors(report: Report, env: Mapping[str, str]) -> int:
    """SDKs, their version ranges and our entry points; returns how many SDKs we can instrument."""
    from opentelemetry.instrumentation.dependencies import get_dependency_conflicts

    from ..providers import REGISTRY

    lines = report.section("LLM SDKs and otel-llm-cost instrumentors")
    registered = {ep.name: ep for ep in md.entry_points(group="opentelemetry_instrumentor")
                  if ep.value.startswith("otel_llm_cost.")}
    disabled = {n.strip() for n in env.get("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "").split(",") if n.strip()}
    usable = 0
    for entry in REGISTRY:
        name = entry.entry_point
        try:
            deps = list(entry.load().instrumentation_dependencies())
        except Exception as error:
            lines.append((FAIL, f"{name}: cannot load {entry.target}: {error}", "reinstall otel-llm-cost"))
            continue
        sdk = deps[0].split()[0] if deps else name
        version = _version(sdk)
        conflict = get_dependency_conflicts(deps)
        if version is None:
            lines.append((INFO, f"{sdk}: not installed ({name} stays inert)", ""))
            continue
        if conflict is not None:
            lines.append((FAIL, f"{sdk} {version}: {name} needs {', '.join(deps)}; calls are NOT instrumented",
                          f"pip install '{deps[0]}'"))
            continue
        if name not in registered:
            lines.append((FAIL, f"{sdk} {version}: entry point {name} is not registered, so "
                          "opentelemetry-instrument will not load it",
                          "reinstall the package (pip install --force-reinstall otel-llm-cost): entry points "
                          "come from its installed metadata"))
            continue
        try:
            registered[name].load()
        except Exception as error:
            lines.append((FAIL, f"entry point {name} fails to load: {error}", "reinstall otel-llm-cost"))
            continue
        if name in disabled:
            lines.append((WARN, f"{sdk} {version}: {name} is listed in OTEL_PYTHON_DISABLED_INSTRUMENTATIONS",
                          f"remove {name} from OTEL_PYTHON_DISABLED_INSTRUMENTATIONS"))
            continue
        lines.append((OK, f"{sdk} {version}: instrumented by entry point {name} ({', '.join(deps)})", ""))
        usable += 1
    for name in sorted(set(registered) - {entry.entry_point for entry in REGISTRY}):
        lines.append((WARN, f"entry point {name} is registered but this version has no such instrumentor",
                      "reinstall otel-llm-cost (stale metadata from another version)"))
    if not usable:
        lines.append((FAIL, "no supported LLM SDK is installed and instrumented: nothing will be priced",
                      "pip install openai anthropic (the SDKs your app uses), or 'otel-llm-cost[demo]' to try it"))
    return usable


def _exporter_package(name: str) -> str:
    return {"otlp_proto_grpc": "opentelemetry-exporter-otlp-proto-grpc",
            "otlp_proto_http": "opentelemetry-exporter-otlp-proto-http",
            "prometheus": "opentelemetry-exporter-prometheus", "console": "opentelemetry-sdk"}.get(
        name, f"the package providing the '{name}' exporter")


def _exporters(report: Report, env: Mapping[str, str]) -> None:
    lines = report.section("OpenTelemetry SDK and exporters")
    sdk, distro = _version("opentelemetry-sdk"), _version("opentelemetry-distro")
    if sdk is None:
        lines.append((FAIL, "opentelemetry-sdk is not installed: spans and metrics go nowhere",
                      "pip install opentelemetry-distro opentelemetry-exporter-otlp-proto-http"))
        return
    lines.append((OK, f"opentelemetry-sdk {sdk}, opentelemetry-api {_version('opentelemetry-api')}", ""))
    if distro is None:
        lines.append((WARN, "opentelemetry-distro is not installed: opentelemetry-instrument sets up no exporter "
                      "unless OTEL_*_EXPORTER say so", "pip install opentelemetry-distro"))
    else:
        lines.append((OK, f"opentelemetry-distro {distro} (opentelemetry-instrument defaults exporters to otlp)", ""))
    if not env.get("OTEL_SERVICE_NAME") and "service.name" not in env.get("OTEL_RESOURCE_ATTRIBUTES", ""):
        lines.append((WARN, "OTEL_SERVICE_NAME is not set: spend by service shows unknown_service",
                      "export OTEL_SERVICE_NAME=my-service"))
    else:
        lines.append((OK, f"service name: {env.get('OTEL_SERVICE_NAME') or env.get('OTEL_RESOURCE_ATTRIBUTES')}", ""))
    installed = {ep.name for ep in md.entry_points(group="opentelemetry_metrics_exporter")}
    for signal, var in (("metrics", "OTEL_METRICS_EXPORTER"), ("traces", "OTEL_TRACES_EXPORTER")):
        raw = env.get(var, "").strip() or ("otlp" if distro else "")
        shown = f"{var}={env[var]}" if env.get(var) else f"{var} unset (default {raw or 'none'})"
        if not raw or raw.lower() == "none":
            level = FAIL if signal == "metrics" else WARN
            lines.append((level, f"{shown}: {signal} are not exported" + (
                ": no cost metrics reach Prometheus" if signal == "metrics" else ""),
                f"export {var}=otlp (and run a collector, see collector-config/README.md)"))
            continue
        protocol = (env.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_PROTOCOL") or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
                    or ("grpc" if distro else "")).strip()
        group = "opentelemetry_metrics_exporter" if signal == "metrics" else "opentelemetry_traces_exporter"
        available = installed if signal == "metrics" else {ep.name for ep in md.entry_points(group=group)}
        for name in (n.strip() for n in raw.split(",") if n.strip()):
            resolved = name
            if name == "otlp":
                resolved = {"http/protobuf": "otlp_proto_http", "grpc": "otlp_proto_grpc"}.get(protocol or "grpc", "")
                if not resolved:
                    lines.append((FAIL, f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r} is not grpc or http/protobuf",
                                  "export OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf"))
                    continue
            if resolved not in available:
                other = "http/protobuf" if resolved == "otlp_proto_grpc" else "grpc"
                lines.append((FAIL, f"{shown}: exporter '{resolved}' is not installed, so {signal} are dropped",
                              f"pip install {_exporter_package(resolved)}" + (
                                  f"  (or export OTEL_EXPORTER_OTLP_PROTOCOL={other} if that one is installed)"
                                  if name == "otlp" else "")))
            else:
                lines.append((OK, f"{shown}: {resolved}", ""))
            if resolved.startswith("otlp") and signal == "metrics":
                _endpoint(lines, env, resolved)
    temporality = env.get("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "").strip().lower()
    if temporality in ("delta", "lowmemory"):
        lines.append((WARN, f"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE={temporality}: Prometheus remote "
                      "write (our collector config) drops delta counters", "unset it (cumulative is the default)"))


def _endpoint(lines: list[tuple[str, str, str]], env: Mapping[str, str], exporter: str) -> None:
    http = exporter == "otlp_proto_http"
    url = (env.get("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
           or ("http://localhost:4318" if http else "http://localhost:4317"))
    parts = urlsplit(url if "://" in url else f"http://{url}")
    host, port = parts.hostname or "localhost", parts.port or (4318 if http else 4317)
    try:
        with socket.create_connection((host, port), timeout=1.0):
            lines.append((OK, f"OTLP endpoint {url}: reachable", ""))
    except OSError as error:
        lines.append((WARN, f"OTLP endpoint {url}: nothing answers on {host}:{port} ({error})",
                      "start a collector (./scripts/local-stack.sh start, or see collector-config/README.md) or "
                      "set OTEL_EXPORTER_OTLP_ENDPOINT"))


def _settings(report: Report, env: Mapping[str, str]) -> tuple[str, ...]:
    """Every OTEL_LLM_COST_* variable with its effective value; returns the price files named."""
    lines = report.section("otel-llm-cost settings (OTEL_LLM_COST_*)")
    files: tuple[str, ...] = ()
    for var, (default, kind, help_text) in ENV_VARS.items():
        raw = env.get(var, "")
        try:
            value = parse_value(var, raw if raw.strip() else default, kind)
        except ValueError as accepted:
            lines.append((FAIL, f"{var}={raw!r} is invalid: the default {default!r} is used instead",
                          f"set it to {accepted}, or unset it"))
            continue
        if var == "OTEL_LLM_COST_PRICES_FILE":
            files = value
        shown = ",".join(value) if isinstance(value, tuple) else str(value).lower()
        where = "set" if raw.strip() else "default"
        lines.append((OK, f"{var} = {shown or '(none)'}  [{where}]  {help_text}", ""))
        if var == "OTEL_LLM_COST_METRIC_ATTRIBUTES":
            risky = [k for k in value if k.lower() in _HIGH_CARDINALITY]
            if risky:
                lines.append((WARN, f"metric label(s) {', '.join(risky)} have one value per user/request: every "
                              "value is a new time series (capped by OTEL_LLM_COST_MAX_ATTRIBUTE_VALUES)",
                              "keep them on spans only (OTEL_LLM_COST_BAGGAGE_KEYS / attributes()), "
                              "not in OTEL_LLM_COST_METRIC_ATTRIBUTES"))
    unknown = sorted(v for v in env if v.startswith("OTEL_LLM_COST_") and v not in ENV_VARS
                     and v not in _TOOLING_VARS and not v.startswith("OTEL_LLM_COST_E2E"))
    for var in unknown:
        lines.append((WARN, f"{var} is set but otel-llm-cost has no such setting (typo?)",
                      "known: " + ", ".join(ENV_VARS)))
    return files


def _prices(report: Report, files: tuple[str, ...], env: Mapping[str, str], today: date) -> None:
    from ..pricing import load_price_book
    from ..pricing.overrides import PriceFileError, load_override_file

    lines = report.section("Price table and overrides")
    book = load_price_book([], prices_cache=env.get("OTEL_LLM_COST_PRICES_CACHE") or None)  # files: below
    from ..pricing.table_status import table_status

    level, message, fix = table_status(book.table, env, today)
    lines.append((WARN if level == "warn" else OK, message, fix))
    strict = env.get("OTEL_LLM_COST_PRICES_STRICT", "").strip().lower() in ("1", "true", "yes", "on")
    for path in files:
        if not os.path.exists(path):
            lines.append((FAIL, f"price file {path}: does not exist" + (
                " (strict mode: the app will fail to start)" if strict else "; bundled prices are used instead"),
                "fix the path in OTEL_LLM_COST_PRICES_FILE"))
            continue
        try:
            overrides = load_override_file(path)
        except PriceFileError as error:
            lines.append((FAIL, f"{error}" + (" (strict mode: the app will fail to start)" if strict else
                                              "; this file is ignored, bundled prices are used"),
                          f"correct it and check with: otel-llm-cost prices check {path}"))
            continue
        lines.append((OK, f"price file {path}: {len(overrides.prices)} prices, {len(overrides.discounts)} "
                      f"discounts, {len(overrides.aliases)} aliases loaded", ""))


def _peers(report: Report) -> None:
    lines = report.section("Other GenAI instrumentations (double counting)")
    found = False
    for dist, what in PEERS.items():
        version = _version(dist)
        if version:
            found = True
            lines.append((OK, f"{dist} {version}: {what}. otel-llm-cost nests inside its wrapper and adds cost to "
                          "its span: one span, tokens and cost recorded once", ""))
    for dist, what in COST_PEERS.items():
        version = _version(dist)
        if version:
            found = True
            lines.append((WARN, f"{dist} {version}: {what}; both numbers describe the same calls",
                          "chart one cost source only: never add its cost to gen_ai_client_cost_USD_total"))
    if not found:
        lines.append((OK, "none installed", ""))


def _prometheus(report: Report, url: str) -> None:
    """Does this Prometheus receive our metrics, how fresh are they, are the rules loaded?"""
    from .prom import PrometheusClient, PrometheusError
    from .report import holds_our_data

    lines = report.section(f"Prometheus {url}")
    client = PrometheusClient(url)
    try:
        if not holds_our_data(client):
            lines.append((FAIL, "reachable, but it holds no otel-llm-cost series (gen_ai_client_*)",
                          "point the collector's prometheusremotewrite exporter at it (Prometheus needs "
                          "--web.enable-remote-write-receiver) or scrape your app; see collector-config/README.md"))
            return
        fresh = client.query('count({__name__=~"gen_ai_client_.*"})')
        if fresh:
            lines.append((OK, f"{int(fresh[0][1])} gen_ai_client_* series with samples in the last 5 minutes", ""))
        else:
            lines.append((WARN, "otel-llm-cost series exist, but none is live now (no sample in the last 5 minutes)",
                          "is the app still running and the collector still sending? (`otel-llm-cost report "
                          "--since 7d` shows the older data)"))
        by_service = client.query("count by (service_name, job) (gen_ai_client_cost_USD_total)")
        services = sorted({labels.get("service_name") or labels.get("job", "-") for labels, _v in by_service})
        if services:
            lines.append((OK, "services reporting cost: " + ", ".join(services), ""))
        rules = set(client.rule_names())
        if "llm:cost_usd:rate5m" in rules:
            alerts = sorted(r for r in rules if r.startswith("LLM"))
            lines.append((OK, f"{sum(r.startswith('llm:') for r in rules)} llm:* recording rules, alerts: "
                          + (", ".join(alerts) or "none"), ""))
        else:
            lines.append((WARN, "the llm:* recording rules are not loaded: dashboards' spend panels and the budget "
                          "alerts stay empty", "add prometheus/rules/*.yaml to rule_files (prometheus/README.md)"))
    except PrometheusError as error:
        lines.append((FAIL, str(error), "check the URL (e.g. http://127.0.0.1:9090) and that Prometheus runs"))


def run_doctor(out: TextIO | None = None, env: Mapping[str, str] | None = None, today: date | None = None,
               prometheus: str | None = None) -> int:
    """Print the report; 1 when a problem was found, else 0."""
    out = out or sys.stdout
    env = os.environ if env is None else env
    today = today or datetime.now(timezone.utc).date()
    report = Report()
    out.write(f"otel-llm-cost {__version__} doctor (Python {platform.python_version()}, {sys.executable})\n")
    _instrumentors(report, env)
    _exporters(report, env)
    files = _settings(report, env)
    _prices(report, files, env, today)
    from ..budgets.doctor import budget_checks

    report.section("Budgets").extend(budget_checks(env))
    _peers(report)
    if prometheus:
        _prometheus(report, prometheus)
    report.write(out)
    return 1 if report.failed else 0
