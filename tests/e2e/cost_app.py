"""An application for the pipeline tests, run under the real ``opentelemetry-instrument`` command.

It calls the openai SDK (against the simulated API of tests/openai/fake_openai.py) across several models,
features and teams, and keeps a ledger of every call's cost as the instrumentation put it on the call's span
(``gen_ai.usage.cost.amount``), read by a span processor it adds to the SDK's tracer provider. On exit it
writes the ledger as JSON; the test compares it with what Prometheus got through the collector.

    opentelemetry-instrument python cost_app.py --out ledger.json [--rounds N] [--duration S --interval I]

It prints ``CALLS <n>`` after every round so a test can follow its progress.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from typing import Any

from fake_openai import FakeOpenAI
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor

from otel_llm_cost import attributes

# (feature, team, call kind, model): priced chat/stream/responses/embeddings calls and one unpriced model.
WORKLOAD = [
    ("search", "growth", "chat", "gpt-4o-mini"),
    ("search", "growth", "stream", "gpt-4o-mini"),
    ("chat", "core", "chat", "gpt-4o"),
    ("summarize", "core", "responses", "o4-mini"),
    ("search", "growth", "embeddings", "text-embedding-3-small"),
    ("chat", "core", "chat", "gpt-9-preview"),
]


class Ledger(SpanProcessor):
    """Every finished span our instrumentation priced (or marked unpriced): model, feature, team, cost.

    That span is ours, or a peer instrumentation's (official/OpenLLMetry openai) when one wraps the SDK
    too: then the cost goes on the peer's span, so the scope name does not tell; the cost attributes do.
    """

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def on_end(self, span: ReadableSpan) -> None:
        attrs = span.attributes or {}
        if "gen_ai.usage.cost.amount" not in attrs and "llm_cost.unpriced_reason" not in attrs:
            return
        with self._lock:
            self.calls.append({"model": attrs.get("gen_ai.request.model"), "feature": attrs.get("feature"),
                               "team": attrs.get("team"), "cost": attrs.get("gen_ai.usage.cost.amount"),
                               "unpriced_reason": attrs.get("llm_cost.unpriced_reason")})


def call(client: Any, kind: str, model: str) -> None:
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    if kind == "chat":
        client.chat.completions.create(model=model, messages=messages)
    elif kind == "stream":
        for _ in client.chat.completions.create(model=model, messages=messages, stream=True):
            pass
    elif kind == "responses":
        client.responses.create(model=model, input="What is the capital of France?")
    else:
        client.embeddings.create(model=model, input="capital of France")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--rounds", type=int, default=1, help="rounds of WORKLOAD (when --duration is 0)")
    parser.add_argument("--duration", type=float, default=0.0, help="keep calling for this many seconds")
    parser.add_argument("--interval", type=float, default=0.5, help="pause between rounds (with --duration)")
    args = parser.parse_args()

    provider = trace.get_tracer_provider()
    ledger = Ledger()
    provider.add_span_processor(ledger)  # type: ignore[attr-defined]  # the SDK provider of the distro

    client = FakeOpenAI().client()
    start, rounds = time.monotonic(), 0
    while True:
        for feature, team, kind, model in WORKLOAD:
            with attributes(feature=feature, team=team):
                call(client, kind, model)
        rounds += 1
        print(f"CALLS {len(ledger.calls)}", flush=True)
        if args.duration <= 0 and rounds >= args.rounds:
            break
        if args.duration > 0 and time.monotonic() - start >= args.duration:
            break
        time.sleep(args.interval if args.duration > 0 else 0)
    with open(args.out, "w") as f:
        json.dump({"calls": ledger.calls, "rounds": rounds}, f)
    # Exiting shuts the SDK down, which exports the final cumulative metric values.


if __name__ == "__main__":
    main()
