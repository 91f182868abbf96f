"""What ``otel-llm-cost doctor`` says about the price table in force: which, how old, from where."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from .store import cached_table_path
from .table import PriceTable

STALE_DAYS = 60  # the same age as the LLMPriceTableStale alert's threshold


def table_status(table: PriceTable, env: Mapping[str, str], today: date) -> tuple[str, str, str]:
    """(``ok`` or ``warn``, message, fix) for the table in force."""
    age = (today - date.fromisoformat(table.generated_at)).days
    url = table.source.get("url")
    where = f"updated from {url}, stored in {cached_table_path(dict(env))}" if url else "bundled with the package"
    message = f"price table in force: {table.table_id} ({age} days old; {where})"
    if age > STALE_DAYS:
        return ("warn", f"{message}: older than {STALE_DAYS} days, so models released since are unpriced and "
                        "price changes since are missed",
                "otel-llm-cost prices update (then restart the app), or pip install -U otel-llm-cost")
    return ("ok", message, "")
