"""The ledger table: one row per GenAI call, its columns (with units, for the export headers and the README)
and the versioned migrations that create it and evolve it in place.

One list of columns drives the DDL of both databases, the insert statement, the export's header and the row
tuples built from spans, so they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Row = tuple[Any, ...]  # one ledger row, values in COLUMNS order
TABLE = "llm_cost_ledger"
VERSIONS_TABLE = "llm_cost_ledger_schema"


@dataclass(frozen=True)
class Column:
    name: str
    sqlite: str       # SQLite type
    postgres: str     # Postgres type
    unit: str         # "" when the value has no unit
    description: str


_TEXT = ("TEXT", "text")
_TOKENS = ("INTEGER", "bigint")
_USD = ("REAL", "double precision")

COLUMNS: tuple[Column, ...] = (
    Column("span_id", "TEXT NOT NULL", "text NOT NULL", "", "span id, 16 hex digits (with trace_id, the row's key)"),
    Column("trace_id", "TEXT NOT NULL", "text NOT NULL", "", "trace id, 32 hex digits"),
    Column("start_time", "TEXT NOT NULL", "timestamptz NOT NULL", "UTC",
           "when the call started (SQLite: 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC)"),
    Column("duration_s", "REAL", "double precision", "s", "call duration (a stream: until its last chunk)"),
    Column("service_name", *_TEXT, "", "resource service.name"),
    Column("environment", *_TEXT, "", "resource deployment.environment.name"),
    Column("provider", *_TEXT, "", "gen_ai.provider.name"),
    Column("operation", *_TEXT, "", "gen_ai.operation.name (chat, embeddings, ...)"),
    Column("request_model", *_TEXT, "", "gen_ai.request.model"),
    Column("response_model", *_TEXT, "", "gen_ai.response.model"),
    Column("server_address", *_TEXT, "", "server.address"),
    Column("response_id", *_TEXT, "", "gen_ai.response.id (the provider's id of the answer)"),
    Column("service_tier", *_TEXT, "", "the tier that served the call (batch, flex, priority ...)"),
    Column("input_tokens", *_TOKENS, "{token}", "input tokens, cache reads and writes included"),
    Column("output_tokens", *_TOKENS, "{token}", "output tokens, reasoning included"),
    Column("cache_read_tokens", *_TOKENS, "{token}", "input tokens read from the prompt cache"),
    Column("cache_write_tokens", *_TOKENS, "{token}", "input tokens written to the prompt cache"),
    Column("reasoning_tokens", *_TOKENS, "{token}", "output tokens spent on reasoning"),
    Column("cost_usd", *_USD, "USD", "the call's total cost (empty when unpriced: never $0)"),
    Column("input_cost_usd", *_USD, "USD", "cost of the uncached input"),
    Column("output_cost_usd", *_USD, "USD", "cost of the output"),
    Column("cache_read_cost_usd", *_USD, "USD", "cost of the cache reads"),
    Column("cache_write_cost_usd", *_USD, "USD", "cost of the cache writes"),
    Column("cost_source", *_TEXT, "", "local (price table), provider (reported by the API) or estimated"),
    Column("price_table", *_TEXT, "", "the price table (version/date) or override file that priced it"),
    Column("unpriced_reason", *_TEXT, "", "why there is no cost (unknown_model, no_usage, ...)"),
    Column("error_type", *_TEXT, "", "the error's type when the call failed"),
    Column("user_id", *_TEXT, "", "attribution user_id (also user.id, enduser.id)"),
    Column("tenant", *_TEXT, "", "attribution tenant (also tenant_id, tenant.id)"),
    Column("feature", *_TEXT, "", "attribution feature"),
    Column("team", *_TEXT, "", "attribution team"),
    Column("attributes", "TEXT NOT NULL DEFAULT '{}'", "jsonb NOT NULL DEFAULT '{}'", "",
           "every attribution key of the call (the four above too), a JSON object"),
)
NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
INDEX = {name: i for i, name in enumerate(NAMES)}
# Attribution keys with a column of their own (queried without JSON), and the span attribute keys that fill them.
ATTRIBUTION_COLUMNS: dict[str, tuple[str, ...]] = {
    "user_id": ("user_id", "user.id", "enduser.id"),
    "tenant": ("tenant", "tenant_id", "tenant.id"),
    "feature": ("feature",),
    "team": ("team",),
}


def _create_table(dialect: str) -> list[str]:
    columns = ",\n  ".join(f"{c.name} {getattr(c, dialect)}" for c in COLUMNS)
    return [f"CREATE TABLE {TABLE} (\n  {columns},\n  PRIMARY KEY (span_id, trace_id)\n)",
            *(f"CREATE INDEX {TABLE}_{name}_idx ON {TABLE} ({cols})"
              for name, cols in (("start_time", "start_time"), ("user_id", "user_id, start_time"),
                                 ("tenant", "tenant, start_time")))]


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    sqlite: tuple[str, ...]
    postgres: tuple[str, ...]


# Append only: a database at version N gets the migrations above N, in order, in one transaction.
MIGRATIONS: list[Migration] = [
    Migration(1, "the ledger table, keyed by (span_id, trace_id), indexed by time, user and tenant",
              tuple(_create_table("sqlite")), tuple(_create_table("postgres"))),
]


def latest_version() -> int:
    return MIGRATIONS[-1].version


class SchemaError(Exception):
    """The database holds a ledger this version cannot use (written by a newer otel-llm-cost)."""
