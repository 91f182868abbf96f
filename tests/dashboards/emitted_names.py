"""Print, as JSON, every Prometheus series name and its label names that the package emits for a workload.

Run in its own process (a clean global MeterProvider and prometheus_client registry): the real openai SDK
against the simulated API (tests/openai/fake_openai.py), instrumented by ``otel_llm_cost.instrument()`` with
``metric_attributes="feature,team,tenant"``, read through the real Prometheus exporter. The workload covers
every instrument the dashboards read: priced chat with cached tokens (cost, savings), a reasoning model
(reasoning tokens), a stream (time to first chunk), an unpriced model and a failed call (error.type).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TESTS / "openai"), str(TESTS)]

from fake_openai import FakeOpenAI  # noqa: E402
from opentelemetry.exporter.prometheus import PrometheusMetricReader  # noqa: E402
from opentelemetry.sdk.metrics import MeterProvider  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from prometheus_client import REGISTRY, generate_latest  # noqa: E402

import otel_llm_cost  # noqa: E402
from conversation import MESSAGES  # noqa: E402


def workload(fake: FakeOpenAI, client: Any) -> None:
    with otel_llm_cost.attributes(feature="search", team="growth", tenant="acme"):
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        for _ in client.chat.completions.create(model="o4-mini", messages=MESSAGES, stream=True):
            pass
        client.embeddings.create(model="text-embedding-3-small", input="capital of France")
        client.chat.completions.create(model="gpt-9-preview", messages=MESSAGES)
        fake.fail = (429, {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit"}})
        try:
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        except Exception as exc:  # the SDK's own RateLimitError: recorded with error.type
            print(f"expected failure: {type(exc).__name__}", file=sys.stderr)
        fake.fail = None


def main() -> None:
    reader = PrometheusMetricReader()
    otel_llm_cost.instrument(meter_provider=MeterProvider(metric_readers=[reader]),
                             tracer_provider=TracerProvider(), metric_attributes="feature,team,tenant")
    fake = FakeOpenAI()
    workload(fake, fake.client())
    series: dict[str, set[str]] = {}
    for line in generate_latest(REGISTRY).decode().splitlines():
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s", line)
        if m and m.group(1).startswith("gen_ai_"):
            series.setdefault(m.group(1), set()).update(re.findall(r'(\w+)="', m.group(2) or ""))
    json.dump({name: sorted(labels) for name, labels in sorted(series.items())}, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
