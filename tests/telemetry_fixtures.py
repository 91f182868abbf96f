"""Shared test harness: real OpenTelemetry SDK providers with in-memory exporters, and metric helpers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_llm_cost


@dataclass
class Otel:
    spans: InMemorySpanExporter
    reader: InMemoryMetricReader
    tracer_provider: TracerProvider
    meter_provider: MeterProvider

    def reinstrument(self, **settings: Any) -> None:
        """Instrument again with other settings (same providers)."""
        otel_llm_cost.uninstrument()
        otel_llm_cost.instrument(tracer_provider=self.tracer_provider, meter_provider=self.meter_provider,
                                 **settings)

    def finished(self) -> list[ReadableSpan]:
        return [s for s in self.spans.get_finished_spans() if s.instrumentation_scope.name == "otel_llm_cost"]

    def metrics(self) -> dict[str, list[Any]]:
        """Metric name -> data points (cumulative), from our meter only."""
        out: dict[str, list[Any]] = {}
        data = self.reader.get_metrics_data()
        for rm in data.resource_metrics if data else ():
            for sm in rm.scope_metrics:
                if sm.scope.name != "otel_llm_cost":
                    continue
                for metric in sm.metrics:
                    out.setdefault(metric.name, []).extend(metric.data.data_points)
                    out.setdefault(f"{metric.name}#unit", []).append(metric.unit)
        return out

    def metric_sum(self, name: str, **attrs: Any) -> float:
        total = 0.0
        for point in self.metrics().get(name, []):
            if all(point.attributes.get(k) == v for k, v in attrs.items()):
                total += getattr(point, "sum", None) if hasattr(point, "bucket_counts") else point.value
        return total

    def metric_count(self, name: str, **attrs: Any) -> int:
        return sum(p.count for p in self.metrics().get(name, [])
                   if all(p.attributes.get(k) == v for k, v in attrs.items()))


@pytest.fixture
def otel(monkeypatch: pytest.MonkeyPatch) -> Iterator[Otel]:
    """Instrument with fresh in-memory providers for one test; always uninstrument afterwards."""
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    otel_llm_cost.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    try:
        yield Otel(spans, reader, tracer_provider, meter_provider)
    finally:
        otel_llm_cost.uninstrument()
