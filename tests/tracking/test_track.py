"""``track()``: the in-process spend of a run, counted from the same records as the spans and metrics.

Real SDKs against the simulated APIs, real OpenTelemetry SDK providers with in-memory exporters.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fake_anthropic import FakeAnthropic
from fake_openai import CACHED, COMPLETION, GPT_4O_MINI_COST, PROMPT, FakeOpenAI, http

import openai
import otel_llm_cost
from conversation import MESSAGES
from otel_llm_cost import Spend, attributes, track
from telemetry_fixtures import Otel


def chat(client: Any, model: str = "gpt-4o-mini") -> Any:
    return client.chat.completions.create(model=model, messages=MESSAGES)


def assert_matches_telemetry(spend: Spend, otel: Otel) -> None:
    """The tracker saw exactly the calls the spans and metrics recorded (the test made no others)."""
    spans = otel.finished()
    span_cost = sum(s.attributes.get("gen_ai.usage.cost.amount", 0.0) for s in spans)
    assert spend.calls == len(spans)
    assert spend.total_usd == pytest.approx(span_cost, rel=1e-12, abs=1e-18)
    assert spend.total_usd == pytest.approx(otel.metric_sum("gen_ai.client.cost"), rel=1e-12, abs=1e-18)
    assert spend.total_usd == pytest.approx(otel.metric_sum("gen_ai.client.operation.cost"), rel=1e-12, abs=1e-18)
    assert spend.priced_calls == otel.metric_count("gen_ai.client.operation.cost")
    assert spend.unpriced_calls == otel.metric_sum("gen_ai.client.operation.unpriced")
    assert spend.failed_calls == sum(1 for s in spans if "error.type" in (s.attributes or {}))
    for field, counter in (("input_tokens", "input_tokens"), ("output_tokens", "output_tokens"),
                           ("cache_read_tokens", "cache_read.input_tokens"),
                           ("cache_write_tokens", "cache_write.input_tokens"),
                           ("reasoning_tokens", "reasoning.output_tokens")):
        assert getattr(spend, field) == otel.metric_sum(f"gen_ai.client.inference.usage.{counter}"), field
    savings = otel.metric_sum("gen_ai.client.cost.savings", **{"gen_ai.cost.type": "cache_read"})
    assert spend.cache_savings_usd == pytest.approx(savings, rel=1e-12, abs=1e-18)


def test_a_run_of_both_sdks_matches_spans_and_metrics_exactly(otel: Otel, fake: FakeOpenAI) -> None:
    anthropic_api = FakeAnthropic()
    with track("eval") as spend:
        with attributes(feature="qa", team="search"):
            chat(fake.client())
            stream = fake.client().chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
            assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == '{"answer": "Paris"}'
        with attributes(feature="summaries"):
            anthropic_api.client().messages.create(model="claude-sonnet-4-5", max_tokens=1024, messages=MESSAGES)
            fake.client().embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    assert spend.calls == 4 and spend.failed_calls == 0 and spend.unpriced_calls == 0
    assert spend.total_usd > GPT_4O_MINI_COST
    assert spend.cache_read_tokens == 2 * CACHED + 10000  # two OpenAI chats and Claude's cache reads
    assert spend.cache_write_tokens == 3000
    assert_matches_telemetry(spend, otel)

    by_model = spend.by_model
    assert set(by_model) == {("openai", "gpt-4o-mini"), ("openai", "gpt-4o"), ("anthropic", "claude-sonnet-4-5"),
                             ("openai", "text-embedding-3-small")}
    mini = by_model[("openai", "gpt-4o-mini")]
    assert (mini.calls, mini.input_tokens, mini.output_tokens) == (1, PROMPT, COMPLETION)
    assert mini.total_usd == pytest.approx(GPT_4O_MINI_COST, rel=1e-12)
    assert sum(t.total_usd for t in by_model.values()) == pytest.approx(spend.total_usd, rel=1e-12)
    for model, totals in by_model.items():  # per model too, each equals its metric series
        assert totals.total_usd == pytest.approx(
            otel.metric_sum("gen_ai.client.cost", **{"gen_ai.request.model": model[1]}), rel=1e-12), model

    by_feature = spend.by("feature")
    assert set(by_feature) == {"qa", "summaries"}
    assert by_feature["qa"].calls == 2 and by_feature["summaries"].calls == 2
    assert by_feature["qa"].total_usd == pytest.approx(otel.metric_sum("gen_ai.client.cost", feature="qa"))
    assert spend.by("team") == {"search": by_feature["qa"], None: by_feature["summaries"]}
    assert spend.by("user_id") == {None: spend.totals()}


def test_summary_is_the_demo_table_of_the_tracked_calls(otel: Otel, fake: FakeOpenAI) -> None:
    with track("nightly eval") as spend, attributes(feature="grading", team="research"):
        chat(fake.client())
        chat(fake.client(), model="gpt-7-preview")
    text = spend.summary()
    lines = text.splitlines()
    assert lines[0] == "spend of 'nightly eval':"
    assert lines[1].split()[:4] == ["provider", "model", "feature", "calls"]
    mini = next(line for line in lines if "gpt-4o-mini" in line).split()
    assert mini[:5] == ["openai", "gpt-4o-mini", "grading", "1", "0"]
    assert mini[5:8] == [f"{PROMPT:,}", f"{CACHED:,}", f"{COMPLETION:,}"]
    assert mini[9] == f"${GPT_4O_MINI_COST:,.6f}"
    unknown = next(line for line in lines if "gpt-7-preview" in line).split()
    assert unknown[9] == "n/a" and unknown[-1] == "1"  # unpriced is shown as unknown, never $0
    assert f"total cost ${GPT_4O_MINI_COST:,.6f} over 2 calls (0 failed, 1 unpriced)" in text
    assert f"by team: research ${GPT_4O_MINI_COST:,.6f}" in text
    assert "unpriced: 1 calls to gpt-7-preview (unknown_model)" in text


def test_unpriced_and_failed_calls_are_counted_never_as_zero_cost(otel: Otel, fake: FakeOpenAI) -> None:
    with track() as spend:
        chat(fake.client(), model="gpt-7-preview")
        fake.fail = (500, {"error": {"message": "boom", "type": "server_error"}})
        with pytest.raises(openai.InternalServerError):
            chat(fake.client())
        fake.fail = http.ConnectError("connection refused")
        with pytest.raises(openai.APIConnectionError):
            chat(fake.client())
    assert (spend.calls, spend.failed_calls, spend.unpriced_calls, spend.priced_calls) == (3, 2, 1, 0)
    assert spend.total_usd == 0.0
    assert spend.by_model[("openai", "gpt-7-preview")].unpriced_calls == 1
    assert spend.by_model[("openai", "gpt-4o-mini")].failed_calls == 2
    assert_matches_telemetry(spend, otel)


def test_nested_trackers_each_see_their_calls(otel: Otel, fake: FakeOpenAI) -> None:
    client = fake.client()
    with track("run") as run:
        chat(client)
        with track("step") as step:
            chat(client)
            with track("inner") as inner:
                chat(client, model="gpt-4o")
        chat(client)
    chat(client)  # after the run: no tracker
    assert (run.calls, step.calls, inner.calls) == (4, 2, 1)
    assert step.total_usd == pytest.approx(GPT_4O_MINI_COST + inner.total_usd, rel=1e-12)
    assert len(otel.finished()) == 5


def test_one_tracker_adds_up_several_batches_and_counts_recursion_once(otel: Otel, fake: FakeOpenAI) -> None:
    tracker = track("batches")
    with tracker:
        chat(fake.client())
    chat(fake.client())  # between batches: not counted
    with tracker as spend, tracker:  # entered twice at once: each call still counted once
        chat(fake.client())
    assert spend is tracker.spend and spend.calls == 2
    assert spend.total_usd == pytest.approx(2 * GPT_4O_MINI_COST, rel=1e-12)


def test_decorator_sync_and_async(otel: Otel, fake: FakeOpenAI) -> None:
    @track("sync job")
    def job(n: int) -> int:
        for _ in range(n):
            chat(fake.client())
        return n

    @track("async job")
    async def async_job() -> str:
        result = await fake.async_client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        return str(result.id)

    assert job(2) == 2 and job(1) == 1
    assert asyncio.run(async_job()) == "chatcmpl-abc123"
    assert job.spend.calls == 3  # type: ignore[attr-defined]
    assert job.spend.total_usd == pytest.approx(3 * GPT_4O_MINI_COST, rel=1e-12)  # type: ignore[attr-defined]
    assert async_job.spend.calls == 1  # type: ignore[attr-defined]
    assert job.__name__ == "job" and asyncio.iscoroutinefunction(async_job)

    def answers() -> Any:
        yield chat(fake.client())

    with pytest.raises(TypeError, match=r"cannot decorate the generator function .*answers"):
        track()(answers)


def test_threads_count_when_the_context_is_copied(otel: Otel, fake: FakeOpenAI) -> None:
    client = fake.client()
    with track("threads") as spend, ThreadPoolExecutor(max_workers=4) as pool:
        copied = [pool.submit(contextvars.copy_context().run, chat, client) for _ in range(8)]
        plain = [pool.submit(chat, client) for _ in range(3)]  # a pool thread's own context: no tracker
        for future in copied + plain:
            future.result()
    assert spend.calls == 8
    assert spend.total_usd == pytest.approx(8 * GPT_4O_MINI_COST, rel=1e-12)
    assert len(otel.finished()) == 11


def test_concurrent_trackers_in_threads_stay_apart(otel: Otel, fake: FakeOpenAI) -> None:
    client = fake.client()
    results: dict[int, Spend] = {}
    barrier = threading.Barrier(4)

    def worker(i: int) -> None:
        with track(f"worker {i}") as spend:
            barrier.wait()
            for _ in range(i + 1):
                chat(client)
        results[i] = spend

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [results[i].calls for i in range(4)] == [1, 2, 3, 4]


def test_asyncio_tasks_inherit_the_tracker_and_concurrent_ones_stay_apart(otel: Otel, fake: FakeOpenAI) -> None:
    client = fake.async_client()

    async def one(model: str = "gpt-4o-mini") -> None:
        await client.chat.completions.create(model=model, messages=MESSAGES)

    async def tracked(name: str, n: int) -> Spend:
        with track(name) as spend:
            await asyncio.gather(*(one() for _ in range(n)))
        return spend

    async def main() -> tuple[Spend, list[Spend]]:
        async with track("all") as outer:
            tasks = [asyncio.create_task(tracked(f"task {i}", i + 1)) for i in range(3)]
            inner = await asyncio.gather(*tasks)
            await one("gpt-4o")
        return outer, inner

    outer, inner = asyncio.run(main())
    assert [s.calls for s in inner] == [1, 2, 3]
    assert outer.calls == 7
    assert outer.total_usd == pytest.approx(sum(s.total_usd for s in inner) + outer.by_model[
        ("openai", "gpt-4o")].total_usd, rel=1e-12)
    assert_matches_telemetry(outer, otel)


def test_a_stream_started_inside_counts_there_when_read_after_the_block(otel: Otel, fake: FakeOpenAI) -> None:
    with track() as spend:
        stream = fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    assert spend.calls == 0  # not finished yet
    with track() as later:
        list(stream)
    assert spend.calls == 1 and later.calls == 0
    assert spend.total_usd == pytest.approx(GPT_4O_MINI_COST, rel=1e-12)


def test_anthropic_stream_manager_counts_in_its_tracker(otel: Otel) -> None:
    api = FakeAnthropic()
    with track() as spend, api.client().messages.stream(model="claude-haiku-4-5", max_tokens=512,
                                                        messages=MESSAGES) as stream:
        assert stream.get_final_text() == '{"answer": "Paris"}'
    assert spend.calls == 1 and spend.priced_calls == 1
    assert_matches_telemetry(spend, otel)


def test_public_names() -> None:
    assert otel_llm_cost.track is track and otel_llm_cost.Spend is Spend
    assert callable(otel_llm_cost.estimate_cost)
    assert {"track", "Spend", "estimate_cost"} <= set(otel_llm_cost.__all__)


def test_tracking_without_instrumentation_says_so(monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    from otel_llm_cost.core import tracking

    otel_llm_cost.uninstrument()
    monkeypatch.setattr(tracking, "_warned_uninstrumented", False)
    with caplog.at_level(logging.WARNING, logger="otel_llm_cost"), track() as spend:
        chat(fake.client())
    assert spend.calls == 0
    assert "no SDK is instrumented: call otel_llm_cost.instrument() first" in caplog.text


def test_with_a_peer_instrumentation_each_call_counts_once(otel: Otel, fake: FakeOpenAI) -> None:
    """Under the official genai-openai instrumentation we enrich its span: still one record, one count."""
    from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor

    peer = OpenAIInstrumentor()
    otel_llm_cost.uninstrument()
    peer.instrument(tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider)
    try:
        otel.reinstrument()
        with track() as spend:
            chat(fake.client())
            list(fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    finally:
        peer.uninstrument()
    assert spend.calls == 2 and spend.priced_calls == 2
    assert spend.total_usd == pytest.approx(2 * GPT_4O_MINI_COST, rel=1e-12)
    assert spend.total_usd == pytest.approx(otel.metric_sum("gen_ai.client.cost"), rel=1e-12)
