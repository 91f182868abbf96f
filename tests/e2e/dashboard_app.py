"""The workload behind tests/e2e/test_dashboards_live.py, run under the real ``opentelemetry-instrument``.

Several providers (OpenAI, Anthropic, Anthropic on Bedrock), models, features, teams and tenants, plain and
streamed calls, cached prompts, a reasoning model, a model the price table does not know, calls made outside any
attribution block, and provider errors: enough for every dashboard panel to have data. The real SDKs talk to the
simulated APIs of tests/openai/fake_openai.py and tests/anthropic/fake_anthropic.py. Every call's span (cost,
attribution, error) is kept in a ledger written as JSON at exit, the ground truth the test compares with.

    opentelemetry-instrument python dashboard_app.py --out ledger.json --duration 20 --interval 1
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "anthropic"))

from fake_anthropic import FakeAnthropic
from fake_openai import FakeOpenAI
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor

from otel_llm_cost import attributes

QUESTION = [{"role": "user", "content": "Summarise our refund policy for a customer in two sentences."}]
BEDROCK_MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"


class Ledger(SpanProcessor):
    """Every finished span of our instrumentation, as the facts the dashboards aggregate."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def on_end(self, span: ReadableSpan) -> None:
        if span.instrumentation_scope is None or span.instrumentation_scope.name != "otel_llm_cost":
            return
        a = span.attributes or {}
        with self._lock:
            self.calls.append({key: a.get(attr) for key, attr in (
                ("provider", "gen_ai.provider.name"), ("model", "gen_ai.request.model"), ("feature", "feature"),
                ("team", "team"), ("tenant", "tenant"), ("cost", "gen_ai.usage.cost.amount"),
                ("error", "error.type"), ("unpriced", "llm_cost.unpriced_reason"))})


class Workload:
    def __init__(self) -> None:
        self.fake_openai, self.fake_anthropic = FakeOpenAI(), FakeAnthropic()
        self.openai = self.fake_openai.client()
        self.anthropic = self.fake_anthropic.client()
        self.bedrock = self.fake_anthropic.bedrock()

    def _openai_failure(self) -> None:
        self.fake_openai.fail = (429, {"error": {"message": "Rate limit reached for gpt-4o-mini",
                                                 "type": "requests", "code": "rate_limit_exceeded"}})
        try:
            self.openai.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
        except Exception as exc:  # the SDK's RateLimitError: what an application would see
            assert type(exc).__name__ == "RateLimitError", exc
        finally:
            self.fake_openai.fail = None

    def _anthropic_failure(self) -> None:
        self.fake_anthropic.fail = (529, {"type": "error", "error": {"type": "overloaded_error",
                                                                     "message": "Overloaded"}})
        try:
            self.anthropic.messages.create(model="claude-haiku-4-5", max_tokens=512, messages=QUESTION)
        except Exception as exc:
            assert "Overloaded" in type(exc).__name__ or "529" in str(exc), exc
        finally:
            self.fake_anthropic.fail = None

    def round(self, n: int) -> None:
        """One round of calls; errors every other round so the error ratio is not 100 % or 0 %."""
        steps: list[tuple[dict[str, str], Callable[[], Any]]] = [
            ({"feature": "search", "team": "growth", "tenant": "acme"},
             lambda: self.openai.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)),
            ({"feature": "search", "team": "growth", "tenant": "acme"},
             lambda: list(self.openai.chat.completions.create(model="gpt-4o-mini", messages=QUESTION,
                                                              stream=True))),
            ({"feature": "search", "team": "growth", "tenant": "globex"},
             lambda: self.openai.embeddings.create(model="text-embedding-3-small", input="refund policy")),
            ({"feature": "chat", "team": "core", "tenant": "globex"},
             lambda: self.openai.chat.completions.create(model="gpt-4o", messages=QUESTION)),
            ({"feature": "chat", "team": "core", "tenant": "globex"},
             lambda: self.openai.chat.completions.create(model="gpt-9-preview", messages=QUESTION)),
            ({"feature": "summarize", "team": "core", "tenant": "acme"},
             lambda: self.openai.responses.create(model="o4-mini", input="Summarise the refund policy.")),
            ({"feature": "chat", "team": "core", "tenant": "acme"},
             lambda: self.anthropic.messages.create(model="claude-sonnet-4-5", max_tokens=1024,
                                                    messages=QUESTION)),
            ({"feature": "chat", "team": "core", "tenant": "globex"},
             lambda: list(self.anthropic.messages.create(model="claude-haiku-4-5", max_tokens=512,
                                                         messages=QUESTION, stream=True))),
            ({"feature": "report-writer", "team": "research", "tenant": "initech"},
             lambda: self.bedrock.messages.create(model=BEDROCK_MODEL, max_tokens=2048, messages=QUESTION)),
            ({}, lambda: self.openai.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)),
        ]
        if n % 2 == 0:
            steps += [({"feature": "search", "team": "growth", "tenant": "acme"}, self._openai_failure),
                      ({"feature": "chat", "team": "core", "tenant": "globex"}, self._anthropic_failure)]
        for attribution, step in steps:
            with attributes(**attribution):
                step()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--duration", type=float, default=20.0, help="keep calling for this many seconds")
    parser.add_argument("--interval", type=float, default=1.0, help="pause between rounds")
    args = parser.parse_args()
    ledger = Ledger()
    trace.get_tracer_provider().add_span_processor(ledger)  # type: ignore[attr-defined]
    workload, start, rounds = Workload(), time.monotonic(), 0
    while rounds == 0 or time.monotonic() - start < args.duration:
        workload.round(rounds)
        rounds += 1
        print(f"CALLS {len(ledger.calls)}", flush=True)
        time.sleep(args.interval)
    Path(args.out).write_text(json.dumps({"calls": ledger.calls, "rounds": rounds}))
    # Exiting shuts the SDK down, which exports the final cumulative metric values.


if __name__ == "__main__":
    main()
