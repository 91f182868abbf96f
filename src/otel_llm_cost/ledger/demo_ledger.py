"""``otel-llm-cost demo --ledger URL``: the demo's calls also go to a ledger, and the demo prints the ledger's
own totals next to its table (they agree: both count every call once, the cost of each the same double)."""

from __future__ import annotations

from typing import Any

from ..cli.tables import usd
from .location import LedgerUrlError, parse_location
from .query import Selection, grouped_sql
from .stores import open_store


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be the demo's ledger, or None."""
    try:
        parse_location(url, "--ledger")
    except LedgerUrlError as error:
        return str(error)
    return None


def attach(tracer_provider: Any, url: str) -> Any:
    """A ``LedgerSpanExporter`` behind a batch span processor on the demo's tracer provider."""
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from .exporter import LedgerSpanExporter

    exporter = LedgerSpanExporter(url=url)
    tracer_provider.add_span_processor(BatchSpanProcessor(exporter))
    return exporter


def totals_line(tracer_provider: Any, exporter: Any, url: str) -> str:
    """Flush the calls into the ledger, then its totals, read back from the database."""
    tracer_provider.force_flush()
    if not exporter.force_flush(30_000):
        return f"ledger: not every call could be written to {exporter.location} yet (see the log)"
    store = open_store(parse_location(url, "--ledger"), create=False)
    try:
        sql, params = grouped_sql(store.dialect, (), Selection())
        calls, errors, unpriced, _input, _cached, _output, cost = next(iter(store.query(sql, params)))
    finally:
        store.close()
    return (f"ledger {store.location}: {int(calls)} calls ({int(errors or 0)} failed, {int(unpriced or 0)} "
            f"unpriced), total cost {usd(float(cost or 0.0))}; try: otel-llm-cost report --ledger {url} --by tenant")
