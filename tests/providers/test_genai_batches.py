"""Gemini batch jobs: each inlined response of a finished job is a call of its own, priced at the batch rate
(Google: half the standard price; the table's ``processing: batch`` variant), recorded once however often the
job is polled or listed. Results in a file (Vertex Cloud Storage / BigQuery, Gemini ``responses_file``) are out
of the SDK's sight: nothing is recorded, nothing breaks."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import cases  # noqa: F401  (the simulated APIs' path)
import pytest
from fake_genai import MODEL, FakeGenAI, batch_operation, response, usage, vertex_batch_job

from telemetry_fixtures import Otel

COST = "gen_ai.usage.cost.amount"
INPUT, OUTPUT = "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"
# gemini-2.5-flash in a batch, USD per 1M tokens (ai.google.dev/gemini-api/docs/pricing, "Batch"): input 0.15,
# output (thinking included) 1.25. Item 0: 1,000 prompt + 200 answer + 100 thinking; item 1: 400 + 50.
ITEM_0 = (1_000 * 0.15 + 300 * 1.25) / 1e6
ITEM_1 = (400 * 0.15 + 50 * 1.25) / 1e6


def _finished_job(fake: FakeGenAI) -> str:
    name = f"batches/{uuid.uuid4().hex[:12]}"
    answers: list[dict[str, Any] | None] = [
        response("Paris", usage(prompt=1_000, cached=0, tool_use=0, candidates=200, thoughts=100)),
        None,  # a failed request: not billed, not recorded
        response("Rome", usage(prompt=400, cached=0, tool_use=0, candidates=50, thoughts=0)),
    ]
    fake.batches[name] = batch_operation(name, MODEL, "BATCH_STATE_SUCCEEDED", answers)
    return name


def test_a_finished_job_prices_each_inlined_response_at_the_batch_rate(otel: Otel) -> None:
    fake = FakeGenAI()
    name = _finished_job(fake)
    job = fake.client().batches.get(name=name)
    assert job.state.value == "JOB_STATE_SUCCEEDED"
    assert len(job.dest.inlined_responses) == 3  # the SDK's own object, untouched
    spans = sorted(otel.finished(), key=lambda s: s.attributes[INPUT], reverse=True)
    assert [s.attributes[INPUT] for s in spans] == [1_000, 400]
    assert [s.attributes[OUTPUT] for s in spans] == [300, 50]
    for span, cost in zip(spans, (ITEM_0, ITEM_1), strict=True):
        assert span.name == f"chat models/{MODEL}"
        assert span.attributes["gen_ai.provider.name"] == "gcp.gemini"
        assert span.attributes["llm_cost.service_tier"] == "batch"
        assert span.attributes[COST] == pytest.approx(cost)
    # the standard price would be double: 0.30 input, 2.50 output
    assert spans[0].attributes[COST] == pytest.approx((1_000 * 0.30 + 300 * 2.50) / 1e6 / 2)
    assert otel.metric_sum("gen_ai.client.cost") == pytest.approx(ITEM_0 + ITEM_1)


def test_polling_and_listing_never_count_a_result_twice(otel: Otel) -> None:
    fake = FakeGenAI()
    name = _finished_job(fake)
    client = fake.client()
    client.batches.get(name=name)
    client.batches.get(name=name)
    assert [job.name for job in client.batches.list()] == [name]
    assert len(otel.finished()) == 2
    assert otel.metric_sum("gen_ai.client.cost") == pytest.approx(ITEM_0 + ITEM_1)


def test_listing_records_a_finished_job_first_seen_there(otel: Otel) -> None:
    fake = FakeGenAI()
    _finished_job(fake)
    list(fake.client().batches.list())
    assert len(otel.finished()) == 2
    assert otel.metric_sum("gen_ai.client.cost") == pytest.approx(ITEM_0 + ITEM_1)


def test_async_get_and_a_pending_job(otel: Otel) -> None:
    fake = FakeGenAI()
    aclient = fake.async_client()

    async def main() -> tuple[Any, Any]:
        pending = await aclient.batches.create(model=MODEL, src=[{"contents": [{"parts": [{"text": "hi"}],
                                                                                "role": "user"}]}])
        name = _finished_job(fake)
        return pending, await aclient.batches.get(name=name)

    pending, done = asyncio.run(main())
    assert pending.state.value == "JOB_STATE_PENDING" and pending.dest is None
    assert done.state.value == "JOB_STATE_SUCCEEDED"
    assert len(otel.finished()) == 2  # the pending job has no results yet: nothing recorded for it
    assert otel.metric_sum("gen_ai.client.cost") == pytest.approx(ITEM_0 + ITEM_1)


def test_a_result_without_usage_is_unpriced_never_zero(otel: Otel) -> None:
    fake = FakeGenAI()
    name = f"batches/{uuid.uuid4().hex[:12]}"
    fake.batches[name] = batch_operation(name, MODEL, "BATCH_STATE_SUCCEEDED", [response("Paris", None)])
    fake.client().batches.get(name=name)
    (span,) = otel.finished()
    assert COST not in span.attributes
    assert span.attributes["llm_cost.unpriced_reason"] == "no_usage"


def test_vertex_results_in_cloud_storage_are_out_of_sight(otel: Otel) -> None:
    fake = FakeGenAI(vertex=True)
    name = "projects/acme-prod/locations/us-central1/batchPredictionJobs/4711"
    fake.batches[name] = vertex_batch_job(name, MODEL)
    job = fake.client().batches.get(name=name)
    assert job.state.value == "JOB_STATE_SUCCEEDED" and job.dest.gcs_uri == "gs://acme-batch/out"
    assert otel.finished() == []
    assert otel.metric_sum("gen_ai.client.cost") == 0


def test_a_broken_job_object_never_breaks_the_app(otel: Otel, monkeypatch: pytest.MonkeyPatch) -> None:
    from otel_llm_cost.providers import google_genai

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("instrumentation bug")

    monkeypatch.setattr(google_genai, "_record_batch_jobs", broken)
    fake = FakeGenAI()
    name = _finished_job(fake)
    assert fake.client().batches.get(name=name).name == name
    assert otel.finished() == []


def test_a_job_is_priced_as_of_when_it_was_sent(otel: Otel) -> None:
    fake = FakeGenAI()
    name = f"batches/{uuid.uuid4().hex[:12]}"
    answer = response("Paris", usage(prompt=1_000, cached=0, tool_use=0, candidates=300, thoughts=0),
                      model="gemini-4-argon")
    job = batch_operation(name, "gemini-4-argon", "BATCH_STATE_SUCCEEDED", [answer])
    job["metadata"]["createTime"] = "2026-11-30T22:00:00Z"  # gemini-4-argon doubled its prices on 2026-12-01
    fake.batches[name] = job
    fake.client().batches.get(name=name)
    (span,) = otel.finished()
    # gemini-4-argon in a batch sent before 2026-12-01, USD per 1M: input 1.00, output 5.00 (from then: 2 / 10)
    assert span.attributes[COST] == pytest.approx((1_000 * 1.00 + 300 * 5.00) / 1e6)
