"""One replica of a service for the multi-process budget test: 16 threads calling through the real openai and
anthropic SDKs (simulated APIs in this process, whose usage depends on the request, as the real ones do) under
budgets in a shared Redis. Writes what the "server" received and what the spans say it cost.

    python budget_app.py REPLICAS CALLS_PER_THREAD LATENCY_S PAUSE_S RESULT_DIR
    (budget settings come from the OTEL_LLM_COST_* variables; each replica writes RESULT_DIR/<n>.json)
"""

from __future__ import annotations

import json
import os
import random
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "openai"), str(HERE.parent / "anthropic")]

from fake_anthropic import FakeAnthropic  # noqa: E402
from fake_openai import FakeOpenAI  # noqa: E402
from opentelemetry.sdk.metrics import MeterProvider  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402

import otel_llm_cost  # noqa: E402
from otel_llm_cost.budgets.store import to_nanos  # noqa: E402

_request = threading.local()  # the body the simulated API is answering, per thread (the transport is in-thread)


def _usage_for(body: dict[str, Any]) -> tuple[int, int]:
    """Input: about four characters a token of what was sent; output: up to the request's max tokens."""
    text = json.dumps(body.get("messages", []))
    rng = random.Random(text + str(time.perf_counter_ns()))
    return max(1, len(text) // 4), rng.randint(1, int(body.get("max_tokens") or 1))


class OpenAIServer(FakeOpenAI):
    def handle(self, request: Any) -> Any:
        _request.body = json.loads(request.content or b"{}")
        time.sleep(LATENCY)
        return super().handle(request)

    def _usage(self, model: str) -> dict[str, Any]:
        prompt, completion = _usage_for(_request.body)
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


class AnthropicServer(FakeAnthropic):
    def handle(self, request: Any, is_async: bool = False) -> Any:
        _request.body = json.loads(request.content or b"{}")
        time.sleep(LATENCY)
        return super().handle(request, is_async)

    def message(self, model: str, thinking: bool = False) -> dict[str, Any]:
        prompt, completion = _usage_for(_request.body)
        self_usage = {"input_tokens": prompt, "output_tokens": completion, "cache_creation_input_tokens": 0,
                      "cache_read_input_tokens": 0}
        message = super().message(model, thinking)
        message["usage"] = self_usage
        return message


def worker(index: int, calls: int, out: dict[str, Any], lock: threading.Lock) -> None:
    rng = random.Random(index)
    openai_client, anthropic_client = OPENAI.client(), ANTHROPIC.client()
    ok = refused = 0
    unexpected: list[str] = []
    for n in range(calls):
        words = " ".join(rng.choice(("cost", "budget", "token", "replica", "invoice"))
                         for _ in range(rng.randint(5, 60)))
        messages = [{"role": "user", "content": f"Summarise: {words}"}]
        max_tokens = rng.randint(50, 800)
        kind = (index + n) % 4
        try:
            if kind == 0:
                openai_client.chat.completions.create(model="gpt-4o", messages=messages, max_tokens=max_tokens)
            elif kind == 1:
                stream = openai_client.chat.completions.create(model="gpt-4o", messages=messages,
                                                               max_tokens=max_tokens, stream=True)
                for _chunk in stream:
                    pass
            elif kind == 2:
                anthropic_client.messages.create(model="claude-sonnet-4-5", messages=messages, max_tokens=max_tokens)
            else:
                with anthropic_client.messages.stream(model="claude-sonnet-4-5", messages=messages,
                                                      max_tokens=max_tokens) as stream:
                    stream.get_final_message()
            ok += 1
        except otel_llm_cost.BudgetExceeded as error:
            refused += 1
            with lock:
                out["reasons"][error.reason] = out["reasons"].get(error.reason, 0) + 1
        except Exception as error:  # must never happen: reported to the test
            unexpected.append(repr(error))
        if PAUSE:
            time.sleep(PAUSE)
    with lock:
        out["ok"] += ok
        out["refused"] += refused
        out["unexpected"] += unexpected


def replica(seed: int, ready: int, go: int, result: Path) -> None:
    """One replica (a forked child): instrument, say ready, wait for go, call, write the result."""
    global OPENAI, ANTHROPIC
    OPENAI, ANTHROPIC = OpenAIServer(), AnthropicServer()
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    otel_llm_cost.instrument(tracer_provider=tracer_provider, meter_provider=MeterProvider())
    out: dict[str, Any] = {"ok": 0, "refused": 0, "unexpected": [], "reasons": {}}
    lock = threading.Lock()
    os.write(ready, b"r")
    os.read(go, 1)
    threads = [threading.Thread(target=worker, args=(seed * 16 + i, CALLS, out, lock)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    otel_llm_cost.uninstrument()  # closes the guard: delivers settlements still waiting for the store
    finished = [s for s in spans.get_finished_spans() if s.instrumentation_scope.name == "otel_llm_cost"]
    costs = [s.attributes.get("gen_ai.usage.cost.amount") for s in finished if not s.attributes.get("error.type")]
    out["server_requests"] = len(OPENAI.requests) + len(ANTHROPIC.requests)
    out["spans_ok"] = len(costs)
    out["unpriced_ok"] = sum(c is None for c in costs)
    out["cost_usd"] = sum(c or 0.0 for c in costs)
    out["cost_nanos"] = sum(to_nanos(c or 0.0) for c in costs)
    out["blocked_spans"] = sum(s.attributes.get("error.type") == "budget_exceeded" for s in finished)
    result.write_text(json.dumps(out))


if __name__ == "__main__":
    REPLICAS, CALLS, LATENCY, PAUSE = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
    results = Path(sys.argv[5])
    # The SDKs are imported once, here; each replica is a forked process of its own (its own guard, its own
    # Redis connections, its own simulated API), as on separate machines, without paying the imports 8 times.
    import redis  # noqa: F401

    import otel_llm_cost.budgets.redis_store
    import otel_llm_cost.providers.anthropic
    import otel_llm_cost.providers.openai
    from otel_llm_cost.pricing import default_price_book

    default_price_book()  # the price table too: parsed once, shared by the forked replicas
    _ = (OpenAIServer().client().chat.completions, AnthropicServer().client().messages)  # lazy SDK modules
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    children = []
    for seed in range(REPLICAS):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                replica(seed, ready_w, go_r, results / f"{seed}.json")
            except BaseException:
                import traceback

                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        children.append(pid)
    for _ in range(REPLICAS):
        os.read(ready_r, 1)
    os.write(go_w, b"g" * REPLICAS)  # every replica starts calling at once
    print("started", flush=True)
    failed = [pid for pid in children if os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) != 0]
    print("done" if not failed else f"failed: {failed}", flush=True)
    sys.exit(1 if failed else 0)
