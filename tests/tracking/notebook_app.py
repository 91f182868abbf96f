"""A notebook's session: no OpenTelemetry SDK configured at all, ``instrument()`` then ``track()``.

Run in a child process by test_no_sdk.py (the API's global providers cannot be reset inside pytest). Prints the
spend and what OpenTelemetry had to work with, as JSON.
"""

from __future__ import annotations

import json
import sys

from fake_anthropic import FakeAnthropic
from fake_openai import FakeOpenAI
from opentelemetry import metrics, trace

import otel_llm_cost

otel_llm_cost.instrument()
messages = [{"role": "user", "content": "Capital of France? Answer in JSON."}]
with otel_llm_cost.track("notebook") as spend:
    FakeOpenAI().client().chat.completions.create(model="gpt-4o-mini", messages=messages)
    FakeAnthropic().client().messages.create(model="claude-haiku-4-5", max_tokens=256, messages=messages)
    FakeOpenAI().client().chat.completions.create(model="gpt-7-preview", messages=messages)
print(json.dumps({
    "calls": spend.calls, "unpriced_calls": spend.unpriced_calls, "total_usd": spend.total_usd,
    "by_model": {"/".join(k): v.total_usd for k, v in spend.by_model.items()},
    "tracer_provider": type(trace.get_tracer_provider()).__name__,
    "meter_provider": type(metrics.get_meter_provider()).__name__,
    "sdk_loaded": sorted(m for m in sys.modules if m.startswith("opentelemetry.sdk")),
    "summary": spend.summary(),
}))
