"""Reading a ledger back in the tests: every row as a dict of its columns."""

from __future__ import annotations

from typing import Any

from otel_llm_cost.ledger.location import parse_location
from otel_llm_cost.ledger.schema import NAMES
from otel_llm_cost.ledger.stores import open_store


def ledger_rows(url: str) -> list[dict[str, Any]]:
    store = open_store(parse_location(url), create=False)
    try:
        return [dict(zip(NAMES, row, strict=True)) for row in store.query(
            f"SELECT {', '.join(NAMES)} FROM llm_cost_ledger ORDER BY start_time", [])]
    finally:
        store.close()
