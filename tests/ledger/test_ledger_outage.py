"""Losing the database loses nothing: a real Postgres is stopped while the app keeps making calls, then started
again; every call is in the ledger exactly once, the app never waited or saw an error.

The outage lasts OTEL_LLM_COST_LEDGER_OUTAGE_S seconds (default 3; the backoff is shortened to match, the logic
is the same at any length: run it with 60 for a minute-long outage).
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI
from ledger_helpers import ledger_rows
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from postgres_server import PostgresServer, require_bindir

import otel_llm_cost
from otel_llm_cost.ledger.exporter import LedgerSpanExporter
from telemetry_fixtures import Otel

OUTAGE_S = float(os.environ.get("OTEL_LLM_COST_LEDGER_OUTAGE_S", "3"))


def _calls(fake: FakeOpenAI, count: int, user: str) -> None:
    client = fake.client()
    with otel_llm_cost.attributes(user_id=user):
        for _ in range(count):
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])


def test_a_postgres_outage_loses_no_call(otel: Otel, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    server = PostgresServer(require_bindir())
    try:
        exporter = LedgerSpanExporter(url=server.url, first_backoff_s=0.1, max_backoff_s=max(0.5, OUTAGE_S / 6))
        otel.tracer_provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=100))
        fake = FakeOpenAI()
        with caplog.at_level(logging.WARNING, "otel_llm_cost.ledger"):
            _calls(fake, 20, "before")
            otel.tracer_provider.force_flush()
            assert exporter.force_flush(10_000)
            server.stop()
            deadline = time.monotonic() + OUTAGE_S
            during = 0
            while time.monotonic() < deadline:  # the app goes on making calls while the database is away
                _calls(fake, 10, "during")
                during += 10
                time.sleep(0.1)
            otel.tracer_provider.force_flush()
            assert exporter.writer is not None and exporter.writer.failures > 0  # the outage was really seen
            assert exporter.writer.pending() > 0
            server.start()
            _calls(fake, 20, "after")
            otel.tracer_provider.force_flush()
            assert exporter.force_flush(60_000)
        assert "cannot write to" in caplog.text and "retrying with backoff" in caplog.text
        assert "is back after" in caplog.text
        rows = ledger_rows(server.url)
        span_ids = sorted(format(s.context.span_id, "016x") for s in otel.finished())
        assert sorted(r["span_id"] for r in rows) == span_ids  # every call, once
        assert sum(r["user_id"] == "during" for r in rows) == during
        assert exporter.writer.dropped == 0
        exporter.shutdown()
    finally:
        server.close()
