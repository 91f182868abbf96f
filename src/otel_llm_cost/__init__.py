"""otel-llm-cost: tokens and USD cost on every LLM API call, as OpenTelemetry spans and metrics."""

from __future__ import annotations

__version__ = "0.1.0"
