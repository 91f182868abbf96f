"""``otel-llm-cost demo``: realistic LLM traffic through the real SDKs, priced, in under a minute, no API key.

A SIMULATED provider (``simulated_provider``) listens on 127.0.0.1; the real ``openai`` and ``anthropic``
clients point their ``base_url`` at it; ``otel_llm_cost.instrument()`` patches them with every instrumentor
this installation has; the demo application (``demo.workload``) makes its calls; the spend table is read
from the very metric points that are exported (OTLP with ``--otlp``, a scrape endpoint with
``--prometheus-port``), so the table and the dashboards agree to the last digit.
"""

from __future__ import annotations

import importlib
import logging
import random
import socket
import sys
import threading
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TextIO
from urllib.parse import urlsplit

from ..cli.tables import usd
from .summary import format_summary, summarize

DEMO_EXTRA = "pip install 'otel-llm-cost[demo]'   (or: ./scripts/demo.sh from a checkout)"
SERVICE_NAME = "otel-llm-cost-demo"


@dataclass
class DemoOptions:
    duration: float = 20.0
    rate: float = 6.0
    otlp: str | None = None
    prometheus_port: int | None = None
    linger: float | None = None
    seed: int = 7
    ledger: str | None = None  # also write every call to this ledger URL


class Progress:
    """A one-line ANSI progress bar on a terminal; a few plain lines otherwise (CI logs, pipes)."""

    def __init__(self, stream: TextIO, total: float) -> None:
        self.stream = stream
        self.total = total
        self.tty = stream.isatty()
        self.next_quarter = 0.25

    def update(self, elapsed: float, calls: int, errors: int, cost: float) -> None:
        done = min(1.0, elapsed / self.total) if self.total else 1.0
        text = f"{calls} calls, {errors} failed, {usd(cost, 4)} so far"
        if self.tty:
            bar = "#" * int(done * 30)
            self.stream.write(f"\r\x1b[2K[{bar:<30}] {done:4.0%} {elapsed:5.1f}s  {text}")
            self.stream.flush()
        elif done >= self.next_quarter:
            self.stream.write(f"  {done:4.0%} {elapsed:5.1f}s  {text}\n")
            self.stream.flush()
            while self.next_quarter <= done:
                self.next_quarter += 0.25

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


# the demo's providers named by their SDK, where the two differ
_SDK_OF = {"aws.bedrock": "boto3", "mistral_ai": "mistralai"}


def _missing(modules: tuple[str, ...]) -> list[str]:
    out = []
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            out.append(name)
    return out


def _reachable(endpoint: str) -> str | None:
    """None when something listens at the OTLP endpoint; else why not (checked once, before the run)."""
    parts = urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4318), timeout=2):
            return None
    except OSError as error:
        return str(error)


class _Telemetry:
    """The demo's OpenTelemetry SDK: in-memory reader (the table) + optional OTLP and Prometheus exporters."""

    def __init__(self, options: DemoOptions) -> None:
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricReader
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider

        resource = Resource.create({"service.name": SERVICE_NAME, "deployment.environment.name": "demo"})
        self.memory = InMemoryMetricReader()
        self.ledger: Any = None
        readers: list[MetricReader] = [self.memory]
        self.tracer_provider = TracerProvider(resource=resource)
        if options.otlp:
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
            from opentelemetry.sdk.trace.export import BatchSpanProcessor

            base = options.otlp.rstrip("/")
            base = base if "://" in base else f"http://{base}"
            readers.append(PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=f"{base}/v1/metrics"),
                                                         export_interval_millis=5000))
            self.tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces")))
        if options.ledger:
            from ..ledger.demo_ledger import attach

            self.ledger = attach(self.tracer_provider, options.ledger)
        if options.prometheus_port is not None:
            from opentelemetry.exporter.prometheus import PrometheusMetricReader
            from prometheus_client import start_http_server

            start_http_server(options.prometheus_port, addr="127.0.0.1")
            readers.append(PrometheusMetricReader())
        self.meter_provider = MeterProvider(metric_readers=readers, resource=resource)

    def summary_data(self) -> Any:
        return self.memory.get_metrics_data()

    def shutdown(self) -> None:
        self.meter_provider.shutdown()  # a last OTLP export of the final values
        self.tracer_provider.shutdown()


def _instrument(tel: _Telemetry) -> dict[str, bool]:
    """Instrument with every instrumentor this installation registers; name -> active."""
    import otel_llm_cost
    from otel_llm_cost.providers import REGISTRY

    otel_llm_cost.uninstrument()  # under opentelemetry-instrument: re-instrument onto the demo's own providers
    otel_llm_cost.instrument(tracer_provider=tel.tracer_provider, meter_provider=tel.meter_provider)
    active = {}
    for entry in REGISTRY:
        try:
            active[entry.entry_point] = bool(entry.load().is_instrumented_by_opentelemetry)
        except Exception:
            active[entry.entry_point] = False
    return active


def _clients(base_url: str, available: set[str]) -> Any:
    from .workload import Clients

    openai_client = anthropic_client = None
    if "openai" in available:
        import openai

        openai_client = openai.OpenAI(base_url=f"{base_url}/v1", api_key="sk-simulated", max_retries=0, timeout=30)
    if "anthropic" in available:
        import anthropic

        anthropic_client = anthropic.Anthropic(base_url=base_url, api_key="sk-ant-simulated", max_retries=0,
                                               timeout=30)
    bedrock_client = None
    if "aws.bedrock" in available:
        import boto3
        from botocore.config import Config

        bedrock_client = boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=base_url,
                                      aws_access_key_id="simulated", aws_secret_access_key="simulated",
                                      config=Config(retries={"total_max_attempts": 1}, read_timeout=30))
    gemini_client = _gemini_client(base_url) if "gcp.gemini" in available else None
    mistral_client = None
    if "mistral_ai" in available:
        from mistralai.client import Mistral

        from .simulated_mistral import PREFIX

        mistral_client = Mistral(api_key="simulated", server_url=base_url + PREFIX, timeout_ms=30_000)
    return Clients(openai_client, anthropic_client, bedrock=bedrock_client, gemini=gemini_client,
                   mistral=mistral_client)


def _gemini_client(base_url: str) -> Any:
    from google import genai

    return genai.Client(api_key="simulated", http_options={"base_url": base_url, "timeout": 30_000})


def _progress(progress: Progress, elapsed: float, tel: _Telemetry) -> None:
    """Calls, failures and cost so far from the recorded metrics, counted exactly as the final table counts them
    (an app-level task can make several LLM calls: the asyncio tagging job makes three)."""
    total = summarize(tel.summary_data()).total()
    progress.update(elapsed, total.calls, total.errors, total.cost)


def _drive(options: DemoOptions, tel: _Telemetry, base_url: str, available: set[str], out: TextIO) -> Counter[str]:
    """Make calls at ``rate`` per second for ``duration`` seconds; returns calls made per provider."""
    from .workload import companion, make_call, pick

    clients = _clients(base_url, available)
    rng = random.Random(options.seed)
    made: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    lock = threading.Lock()
    progress = Progress(sys.stderr, options.duration)
    pending: list[Future[None]] = []

    def one(scenario: Any, call_rng: random.Random, extra: dict[str, str]) -> None:
        error = make_call(scenario, clients, call_rng, extra)
        with lock:
            made[scenario.provider] += 1
            if error:
                failed[error] += 1

    workers = max(4, min(32, int(options.rate * 2)))
    start = time.monotonic()
    last_draw = 0.0
    interrupted = False
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="demo-app") as pool:
        i = 0
        try:
            while True:
                now = time.monotonic() - start
                due = i / options.rate
                if due >= options.duration:
                    break
                if now >= due:
                    scenario, extra = pick(rng, available)
                    pending.append(pool.submit(one, scenario, random.Random(rng.getrandbits(32)), extra))
                    if (riding := companion(i, available)) is not None:
                        pending.append(pool.submit(one, riding, random.Random(i), {}))
                    i += 1
                    continue
                if now - last_draw >= 0.25:
                    _progress(progress, now, tel)
                    last_draw = now
                time.sleep(min(0.05, due - now))
        except KeyboardInterrupt:  # Ctrl-C: stop making calls, finish those in flight, still print the table
            interrupted = True
        for future in pending:
            future.result()
    elapsed = time.monotonic() - start if interrupted else options.duration
    _progress(progress, elapsed, tel)
    progress.close()
    if interrupted:
        out.write(f"interrupted after {elapsed:.1f}s: the table covers the calls made so far\n")
    if failed:
        out.write("provider errors the app saw (simulated): "
                  + ", ".join(f"{n} x {name}" for name, n in sorted(failed.items())) + "\n")
    return made


def run_demo(options: DemoOptions | None = None, out: TextIO | None = None) -> int:
    """Run the demo and print the spend table; 0 on success, 2 when a demo dependency is missing."""
    options = options or DemoOptions()
    out = out or sys.stdout
    if _missing(("opentelemetry.sdk",)):
        print(f"otel-llm-cost demo needs the OpenTelemetry SDK: {DEMO_EXTRA}", file=sys.stderr)
        return 2
    available = {sdk for sdk in ("openai", "anthropic") if not _missing((sdk,))}
    if not _missing(("google.genai",)):
        available.add("gcp.gemini")  # named as its calls are recorded
    if not available:
        print(f"otel-llm-cost demo needs the openai and anthropic SDKs: {DEMO_EXTRA}", file=sys.stderr)
        return 2
    if not _missing(("boto3",)):  # Bedrock calls too, when boto3 is installed
        available.add("aws.bedrock")
    if not _missing(("mistralai.client",)):  # and Mistral's, when mistralai is installed
        available.add("mistral_ai")
    exporters = [m for flag, m in ((options.otlp, "opentelemetry.exporter.otlp.proto.http"),
                                   (options.prometheus_port is not None, "opentelemetry.exporter.prometheus"))
                 if flag and _missing((m,))]
    if exporters:
        print(f"otel-llm-cost demo: {', '.join(exporters)} is not installed: {DEMO_EXTRA}", file=sys.stderr)
        return 2
    if options.otlp and (why := _reachable(options.otlp)):
        print(f"otel-llm-cost demo: cannot reach the OTLP endpoint {options.otlp} ({why}); start a collector "
              "(./scripts/local-stack.sh start) or leave out --otlp", file=sys.stderr)
        return 2
    if options.ledger:
        from ..ledger.demo_ledger import url_problem

        if why := url_problem(options.ledger):
            print(f"otel-llm-cost demo: {why}", file=sys.stderr)
            return 2
    from .simulated_provider import SimulatedProviderServer

    logging.getLogger("otel_llm_cost").setLevel(logging.ERROR)  # unpriced models are reported in the table
    try:
        tel = _Telemetry(options)
    except OSError as error:
        print(f"otel-llm-cost demo: cannot serve metrics on 127.0.0.1:{options.prometheus_port}: {error}",
              file=sys.stderr)
        return 2
    active = _instrument(tel)
    with SimulatedProviderServer(seed=options.seed) as server:
        out.write(f"otel-llm-cost demo: {options.duration:g}s of LLM traffic at {options.rate:g} calls/s through the "
                  f"real {' and '.join(sorted(_SDK_OF.get(p, p) for p in available))} SDKs\n")
        out.write(f"provider: SIMULATED, on {server.base_url} (no API key, no network, no real model)\n")
        out.write("instrumentors: " + ", ".join(f"{n} {'on' if on else 'OFF'}" for n, on in active.items()) + "\n")
        if options.otlp:
            out.write(f"exporting metrics and traces over OTLP/HTTP to {options.otlp}\n")
        if options.prometheus_port is not None:
            out.write(f"serving metrics on http://127.0.0.1:{options.prometheus_port}/metrics\n")
        out.flush()
        made = _drive(options, tel, server.base_url, available, out)
    import otel_llm_cost

    otel_llm_cost.uninstrument()
    summary = summarize(tel.summary_data())
    recorded = {provider for provider, _model, _feature in summary.rows}
    out.write("\n" + format_summary(summary) + "\n")
    for provider, count in sorted(made.items()):
        if provider not in recorded and count:
            out.write(f"note: {count} {provider} calls were not recorded: no instrumentor for the {provider} SDK "
                      "is installed here (see `otel-llm-cost doctor`)\n")
    if options.ledger:
        from ..ledger.demo_ledger import totals_line

        out.write(totals_line(tel.tracer_provider, tel.ledger, options.ledger) + "\n")
    if abs(summary.operation_cost - summary.total().cost) > 1e-9:
        out.write(f"WARNING: cost counter {summary.total().cost!r} != operation cost {summary.operation_cost!r}\n")
    out.flush()
    if options.prometheus_port is not None:
        _linger(options, out)
    tel.shutdown()
    return 0


def _linger(options: DemoOptions, out: TextIO) -> None:
    """Keep the scrape endpoint up after the run, so Prometheus gets the final values."""
    if options.linger == 0:
        return
    until = f"for {options.linger:g}s" if options.linger else "until Ctrl-C"
    out.write(f"still serving http://127.0.0.1:{options.prometheus_port}/metrics {until}\n")
    out.flush()
    deadline = time.monotonic() + options.linger if options.linger else None
    try:
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
