"""The ledger exporter with the real openai SDK (simulated API), on a real SQLite file and a real Postgres:
one row per call with the span's numbers, idempotent under retried exports, a full buffer counted, bad URLs
logged with the ledger off and the app untouched."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fake_openai import GPT_4O_MINI_COST, FakeOpenAI
from ledger_helpers import ledger_rows
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import openai
import otel_llm_cost
from otel_llm_cost.ledger.exporter import LedgerSpanExporter
from otel_llm_cost.ledger.rows import span_row
from otel_llm_cost.ledger.schema import COLUMNS
from telemetry_fixtures import Otel


@pytest.fixture
def app(otel: Otel) -> Iterator[FakeOpenAI]:
    yield FakeOpenAI()


def make_calls(fake: FakeOpenAI) -> None:
    """A priced call, a stream, an embedding, an unpriced model and a failed call, with attribution."""
    client = fake.client()
    with otel_llm_cost.attributes(user_id="u-7", tenant="acme", feature="support", team="cs", plan="pro"):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        list(client.chat.completions.create(model="gpt-4o-mini", stream=True,
                                            messages=[{"role": "user", "content": "hi"}]))
    with otel_llm_cost.attributes(user_id="u-8", tenant="globex"):
        client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
        client.chat.completions.create(model="gpt-9-preview", messages=[{"role": "user", "content": "hi"}])
        fake.fail = (429, {"error": {"message": "slow down", "type": "rate_limit"}})
        with pytest.raises(openai.RateLimitError):
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        fake.fail = None


def test_one_row_per_call_with_the_spans_numbers(otel: Otel, app: FakeOpenAI, ledger_url: str) -> None:
    exporter = LedgerSpanExporter(url=ledger_url)
    otel.tracer_provider.add_span_processor(BatchSpanProcessor(exporter))
    otel.tracer_provider.get_tracer("web").start_span("GET /checkout").end()  # not a GenAI call: no row
    make_calls(app)
    assert otel.tracer_provider.force_flush()  # the batch processor hands the spans to the exporter ...
    assert exporter.force_flush(10_000)  # ... whose writer writes them (the processor's flush does not wait)
    spans = {format(s.context.span_id, "016x"): s for s in otel.finished()}
    rows = {r["span_id"]: r for r in ledger_rows(ledger_url)}
    assert set(rows) == set(spans) and len(rows) == 5
    for span_id, row in rows.items():
        attrs = spans[span_id].attributes or {}
        assert row["trace_id"] == format(spans[span_id].context.trace_id, "032x")
        assert row["provider"] == "openai" and row["operation"] == attrs["gen_ai.operation.name"]
        assert row["request_model"] == attrs["gen_ai.request.model"]
        assert row["response_model"] == attrs.get("gen_ai.response.model")
        assert row["input_tokens"] == attrs.get("gen_ai.usage.input_tokens")
        assert row["output_tokens"] == attrs.get("gen_ai.usage.output_tokens")
        assert row["cache_read_tokens"] == attrs.get("gen_ai.usage.cache_read.input_tokens")
        assert row["cost_usd"] == attrs.get("gen_ai.usage.cost.amount")  # the same double, bit for bit
        assert row["input_cost_usd"] == attrs.get("llm_cost.input")
        assert row["cache_read_cost_usd"] == attrs.get("llm_cost.cache_read")
        assert row["unpriced_reason"] == attrs.get("llm_cost.unpriced_reason")
        assert row["error_type"] == attrs.get("error.type")
        assert row["user_id"] == attrs["user_id"] and row["tenant"] == attrs["tenant"]
    by_model = {(r["request_model"], r["error_type"] is None): r for r in rows.values()}
    priced = [r for r in rows.values() if r["request_model"] == "gpt-4o-mini" and not r["error_type"]]
    assert len(priced) == 2 and all(r["cost_usd"] == pytest.approx(GPT_4O_MINI_COST, rel=1e-12) for r in priced)
    assert priced[0]["attributes"] in ('{"feature":"support","plan":"pro","team":"cs","tenant":"acme",'
                                       '"user_id":"u-7"}',
                                       {"feature": "support", "plan": "pro", "team": "cs", "tenant": "acme",
                                        "user_id": "u-7"})  # SQLite: JSON text; Postgres: jsonb
    assert priced[0]["feature"] == "support" and priced[0]["team"] == "cs" and priced[0]["cost_source"] == "local"
    unpriced = by_model[("gpt-9-preview", True)]
    assert unpriced["cost_usd"] is None and unpriced["unpriced_reason"] == "unknown_model"  # never $0
    failed = by_model[("gpt-4o-mini", False)]
    assert failed["error_type"] == "openai.RateLimitError" and failed["cost_usd"] is None
    assert by_model[("text-embedding-3-small", True)]["operation"] == "embeddings"
    exporter.shutdown()


def test_a_retried_export_never_counts_a_call_twice(otel: Otel, app: FakeOpenAI, ledger_url: str) -> None:
    make_calls(app)
    spans = otel.finished()
    exporter = LedgerSpanExporter(url=ledger_url)
    for _ in range(3):  # the batch processor or a user's retry exports the same spans again
        exporter.export(spans)
        assert exporter.force_flush(10_000)
    exporter.export(spans[:2])
    exporter.shutdown()
    rows = ledger_rows(ledger_url)
    assert sorted(r["span_id"] for r in rows) == sorted(format(s.context.span_id, "016x") for s in spans)
    assert exporter.writer is not None and exporter.writer.dropped == 0


def _span(provider: TracerProvider, name: str, **attrs: Any) -> None:
    provider.get_tracer("otel_llm_cost").start_span(name, attributes=attrs).end()


def test_resource_and_peer_spans(ledger_url: str) -> None:
    """service.name and environment come from the resource; a peer instrumentation's GenAI span we priced is
    kept, one we did not touch is not (another library's calls are not ours to count)."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "checkout",
                                                        "deployment.environment.name": "prod"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    _span(provider, "chat gpt-4o", **{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai"})
    peer = provider.get_tracer("opentelemetry.instrumentation.openai_v2")
    peer.start_span("chat a", attributes={"gen_ai.operation.name": "chat", "gen_ai.usage.cost.amount": 0.5,
                                          "user.id": "u-1", "tenant_id": "t-1", "llm.is_streaming": "no"}).end()
    peer.start_span("chat b", attributes={"gen_ai.operation.name": "chat"}).end()
    exporter = LedgerSpanExporter(url=ledger_url)
    exporter.export(memory.get_finished_spans())
    exporter.shutdown()
    rows = ledger_rows(ledger_url)
    assert len(rows) == 2
    assert {(r["service_name"], r["environment"]) for r in rows} == {("checkout", "prod")}
    peer_row = next(r for r in rows if r["cost_usd"] == 0.5)
    assert (peer_row["user_id"], peer_row["tenant"]) == ("u-1", "t-1")


def test_row_tuple_matches_the_columns() -> None:
    provider = TracerProvider()
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    _span(provider, "chat m", **{"gen_ai.operation.name": "chat"})
    span: ReadableSpan = memory.get_finished_spans()[0]
    row = span_row(span)
    assert row is not None and len(row) == len(COLUMNS)


def test_a_full_buffer_drops_counts_and_logs(otel: Otel, app: FakeOpenAI, postgres_url: str, postgres: Any,
                                             caplog: pytest.LogCaptureFixture) -> None:
    make_calls(app)
    spans = otel.finished()
    # the database is away: nothing can be written, so the buffer (3 calls) fills up
    postgres.stop()
    try:
        exporter = LedgerSpanExporter(url=postgres_url, buffer_rows=3, first_backoff_s=0.05, max_backoff_s=0.2,
                                      meter_provider=otel.meter_provider)
        with caplog.at_level(logging.WARNING, "otel_llm_cost.ledger"):
            assert exporter.export(spans).name == "SUCCESS"  # the batch never fails: other exporters unaffected
        assert exporter.writer is not None
        assert exporter.writer.dropped == 2 and exporter.writer.pending() == 3
        assert "dropped calls because its buffer of 3 rows is full" in caplog.text
        assert "OTEL_LLM_COST_LEDGER_BUFFER" in caplog.text
        assert otel.metric_sum("llm_cost.ledger.dropped") == 2  # visible next to the cost metrics
    finally:
        postgres.start()
    assert exporter.force_flush(30_000)
    exporter.shutdown()
    assert len(ledger_rows(postgres_url)) == 3


@pytest.mark.parametrize(("url", "said"), [
    ("mysql://u:secret@db/ledger", "unknown database 'mysql'"),
    ("sqlite:///no/such/folder/ledger.db", "the folder /no/such/folder does not exist"),
    ("sqlite://dbhost/ledger.db", "not on host 'dbhost'"),
    ("postgresql://u:secret@db:99999/ledger", "not a valid Postgres URL"),
    ("postgresql://u:secret@db:5432", "names no database"),
    ("ledger.db", "is not a ledger URL"),
])
def test_a_bad_url_names_the_variable_and_the_app_runs_on(otel: Otel, app: FakeOpenAI, url: str, said: str,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("OTEL_LLM_COST_LEDGER_URL", url)
    with caplog.at_level(logging.ERROR, "otel_llm_cost.ledger"):
        exporter = LedgerSpanExporter()
    assert exporter.writer is None
    assert "otel-llm-cost ledger is OFF: OTEL_LLM_COST_LEDGER_URL" in caplog.text and said in caplog.text
    assert "secret" not in caplog.text  # never a password in the logs
    otel.tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    answer = app.client().chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    assert answer.choices[0].message.content  # the app got its answer; the span still went to other exporters
    assert len(otel.finished()) == 1
    exporter.shutdown()


def test_the_default_is_a_sqlite_file_in_the_working_directory(tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                                                               otel: Otel, app: FakeOpenAI) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OTEL_LLM_COST_LEDGER_URL", raising=False)
    exporter = LedgerSpanExporter()
    assert exporter.location is not None and exporter.location.target == str(tmp_path / "otel-llm-cost-ledger.db")
    make_calls(app)
    exporter.export(otel.finished())
    exporter.shutdown()
    assert len(ledger_rows("sqlite:otel-llm-cost-ledger.db")) == 5


def test_a_forked_worker_writes_its_own_calls(sqlite_url: str) -> None:
    """A pre-forking server builds the exporter before forking: the worker gets a writer thread of its own, and
    both processes write the one SQLite file."""
    import os

    exporter = LedgerSpanExporter(url=sqlite_url)
    provider = TracerProvider()
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    pid = os.fork()
    if pid == 0:  # the worker
        code = 1
        try:
            _span(provider, "chat m", **{"gen_ai.operation.name": "chat", "user_id": "from-the-worker"})
            exporter.export(memory.get_finished_spans())
            code = 0 if exporter.force_flush(20_000) else 3
        finally:
            os._exit(code)
    _span(provider, "chat m", **{"gen_ai.operation.name": "chat", "user_id": "from-the-parent"})
    exporter.export(memory.get_finished_spans())  # meanwhile, into the same SQLite file
    assert exporter.force_flush(20_000)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    exporter.shutdown()
    assert sorted(r["user_id"] for r in ledger_rows(sqlite_url)) == ["from-the-parent", "from-the-worker"]


def test_shutdown_in_an_outage_says_what_was_lost(otel: Otel, app: FakeOpenAI, postgres_url: str, postgres: Any,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    """The app's exit waits a bounded time for the database, then says how many calls the ledger lacks."""
    make_calls(app)
    postgres.stop()
    try:
        exporter = LedgerSpanExporter(url=postgres_url, shutdown_timeout_s=1.0, first_backoff_s=0.05,
                                      max_backoff_s=0.2)
        exporter.export(otel.finished())
        with caplog.at_level(logging.ERROR, "otel_llm_cost.ledger"):
            exporter.shutdown()
        assert "5 calls were not written to postgresql://ledger@127.0.0.1" in caplog.text
        assert exporter.export(otel.finished()).name == "SUCCESS"  # after shutdown: counted as dropped, no error
        assert exporter.writer is not None and exporter.writer.dropped == 5
    finally:
        postgres.start()
