"""The ledger's schema is versioned and migrated in place: recorded once, a newer ledger refused with a clear
message (never written to or damaged), a new migration applied to an existing ledger without losing rows, once
even when several processes open it together."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_llm_cost.ledger import schema
from otel_llm_cost.ledger.commands import export_command
from otel_llm_cost.ledger.location import parse_location
from otel_llm_cost.ledger.rows import span_row
from otel_llm_cost.ledger.schema import Migration, SchemaError
from otel_llm_cost.ledger.stores import open_store


def _rows(count: int) -> list[Any]:
    provider = TracerProvider()
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("otel_llm_cost")
    for i in range(count):
        tracer.start_span("chat m", attributes={"gen_ai.operation.name": "chat", "gen_ai.usage.cost.amount": 0.25,
                                                "user_id": f"u{i}"}).end()
    return [span_row(s) for s in memory.get_finished_spans()]


def _versions(url: str) -> list[Any]:
    store = open_store(parse_location(url), create=False)
    try:
        return list(store.query("SELECT version, description FROM llm_cost_ledger_schema ORDER BY version", []))
    finally:
        store.close()


def test_a_new_ledger_records_its_version_once(ledger_url: str) -> None:
    for _ in range(3):
        open_store(parse_location(ledger_url)).close()
    assert [v for v, _d in _versions(ledger_url)] == [schema.latest_version()] == [1]


def test_a_newer_ledger_is_refused_and_left_alone(ledger_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    store = open_store(parse_location(ledger_url))
    store.write(_rows(2))
    dialect_param = store.dialect.param
    store.close()
    import argparse

    future = open_store(parse_location(ledger_url))
    conn: Any = future.conn  # type: ignore[attr-defined]
    conn.execute(f"INSERT INTO llm_cost_ledger_schema VALUES ({dialect_param}, {dialect_param}, {dialect_param})",
                 (99, "from the future", "2030-01-01"))
    future.close()
    with pytest.raises(SchemaError, match="schema version 99, newer than this otel-llm-cost understands"):
        open_store(parse_location(ledger_url))
    args = argparse.Namespace(ledger=ledger_url, since=None, until=None, where=None, format="csv", output=None)
    assert export_command(args) == 2
    assert "upgrade otel-llm-cost" in capsys.readouterr().err


def test_a_new_migration_upgrades_a_ledger_in_place(ledger_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store(parse_location(ledger_url))
    store.write(_rows(5))
    store.close()
    added = Migration(2, "test: a note column", ("ALTER TABLE llm_cost_ledger ADD COLUMN note TEXT",),
                      ("ALTER TABLE llm_cost_ledger ADD COLUMN note text",))
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, added])
    import otel_llm_cost.ledger.stores as stores

    monkeypatch.setattr(stores, "MIGRATIONS", schema.MIGRATIONS)
    errors: list[BaseException] = []

    def open_and_close() -> None:  # replicas starting together: one migrates, the others wait and see it done
        try:
            open_store(parse_location(ledger_url)).close()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=open_and_close) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert [v for v, _d in _versions(ledger_url)] == [1, 2]
    store = open_store(parse_location(ledger_url), create=False)
    try:
        assert list(store.query("SELECT count(*), count(note), sum(cost_usd) FROM llm_cost_ledger", [])) == [
            (5, 0, 1.25)]
    finally:
        store.close()
