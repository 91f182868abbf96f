"""``otel-llm-cost export --ledger URL --format csv|json|jsonl``: every ledger row of a window, streamed.

Memory stays flat whatever the number of rows: the database hands rows over in batches (a SQLite cursor, a
Postgres server-side cursor) and each is written out at once. Values are exactly what the ledger holds:
USD as the shortest decimal that reads back as the same double, times in UTC ISO 8601 (``...Z``), empty/null
for unknown (an unpriced call has no cost, never 0). CSV's header row names the columns (units in the names:
``_usd``, ``_s``, ``_tokens``); JSON starts with the columns, their units and meanings.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any, TextIO

from .query import Selection
from .schema import COLUMNS, NAMES, TABLE
from .stores import Dialect, Store

FORMATS = ("csv", "json", "jsonl")
_TIME = NAMES.index("start_time")
_ATTRIBUTES = NAMES.index("attributes")


def _select(dialect: Dialect) -> str:
    def expr(name: str) -> str:
        if name == "start_time":  # the same text from both databases
            return ("replace(start_time, ' ', 'T') || 'Z'" if dialect.name == "sqlite" else
                    "to_char(start_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
        return "attributes::text" if name == "attributes" and dialect.name == "postgres" else name

    return ", ".join(expr(name) for name in NAMES)


def rows(store: Store, selection: Selection) -> Iterator[tuple[Any, ...]]:
    where, params = selection.sql(store.dialect)
    return store.query(f"SELECT {_select(store.dialect)} FROM {TABLE}{where} ORDER BY start_time, span_id", params)


def write_csv(records: Iterator[tuple[Any, ...]], out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(NAMES)
    count = 0
    for record in records:
        writer.writerow(record)  # None -> "", float -> repr (exact)
        count += 1
    return count


def _json_object(record: tuple[Any, ...]) -> str:
    """One row as a JSON object; the attributes JSON text goes in as it is (not parsed and dumped again)."""
    fields = {name: value for name, value in zip(NAMES, record, strict=True) if name != "attributes"}
    head = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return f'{head[:-1]},"attributes":{record[_ATTRIBUTES] or "{}"}}}'


def write_jsonl(records: Iterator[tuple[Any, ...]], out: TextIO) -> int:
    count = 0
    for record in records:
        out.write(_json_object(record) + "\n")
        count += 1
    return count


def write_json(records: Iterator[tuple[Any, ...]], out: TextIO) -> int:
    columns = [{"name": c.name, "unit": c.unit, "description": c.description} for c in COLUMNS]
    out.write('{"table":"' + TABLE + '","columns":' + json.dumps(columns, ensure_ascii=False) + ',"rows":[\n')
    count = 0
    for record in records:
        out.write(("," if count else "") + _json_object(record) + "\n")
        count += 1
    out.write("]}\n")
    return count


WRITERS = {"csv": write_csv, "json": write_json, "jsonl": write_jsonl}


def run(store: Store, selection: Selection, fmt: str, out: TextIO) -> int:
    """Write the rows; the number written."""
    return WRITERS[fmt](rows(store, selection), out)
