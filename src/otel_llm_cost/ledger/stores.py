"""The two databases a ledger lives in: a SQLite file (stdlib ``sqlite3``) and Postgres (``psycopg`` 3, the
``ledger-postgres`` extra, imported only when a Postgres URL is used).

Each store migrates the schema in place when it opens (one transaction, serialised between processes: SQLite's
write lock, a Postgres advisory lock), writes a batch of rows in one transaction with "insert unless the key is
there" (a retried batch never counts a call twice), and streams query results without holding them in memory.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol
from urllib.parse import quote

from .location import Location
from .schema import COLUMNS, MIGRATIONS, NAMES, TABLE, VERSIONS_TABLE, Migration, Row, SchemaError, latest_version


class NoLedger(Exception):
    """The database exists but holds no ledger (nothing has been written to it yet)."""


@dataclass(frozen=True)
class Dialect:
    """What differs in the SQL of the report and export queries."""

    name: str
    param: str             # placeholder
    attribute_sql: str     # one attribution key's value, the key's path/name a parameter
    day_sql: str
    month_sql: str

    def attribute_param(self, key: str) -> str:
        return f'$."{key}"' if self.name == "sqlite" else key

    def time_param(self, when: datetime) -> Any:
        return _sqlite_time(when) if self.name == "sqlite" else when


SQLITE = Dialect("sqlite", "?", "json_extract(attributes, ?)", "substr(start_time, 1, 10)",
                 "substr(start_time, 1, 7)")
POSTGRES = Dialect("postgres", "%s", "(attributes ->> %s)",
                   "to_char(start_time AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
                   "to_char(start_time AT TIME ZONE 'UTC', 'YYYY-MM')")


class Store(Protocol):
    location: Location
    dialect: Dialect

    def write(self, rows: Sequence[Row]) -> None: ...

    def query(self, sql: str, params: Sequence[Any]) -> Iterator[tuple[Any, ...]]: ...

    def schema_version(self) -> int: ...

    def close(self) -> None: ...


def open_store(location: Location, *, create: bool = True) -> Store:
    """Connect and migrate; ``create=False`` (the commands) raises ``NoLedger`` where no ledger was written."""
    if location.kind == "sqlite":
        return SqliteStore(location, create=create)
    return PostgresStore(location, create=create)


def _pending(location: Location, current: int, create: bool) -> list[Migration]:
    if current == 0 and not create:
        raise NoLedger(f"{location} holds no otel-llm-cost ledger (no call has been written to it)")
    if current > latest_version():
        raise SchemaError(f"the ledger at {location} has schema version {current}, newer than this otel-llm-cost "
                          f"understands ({latest_version()}): upgrade otel-llm-cost")
    return [m for m in MIGRATIONS if m.version > current]


def _sqlite_time(when: datetime) -> str:
    """UTC, 'YYYY-MM-DD HH:MM:SS.ffffff': sorts as time, and SQLite's date functions read it."""
    return when.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds")


_INSERT_COLUMNS = ", ".join(NAMES)
_STAGING = f"{TABLE}_incoming"
_VERSIONS_DDL = (f"CREATE TABLE IF NOT EXISTS {VERSIONS_TABLE} (version integer PRIMARY KEY, "
                 "description text NOT NULL, applied_at text NOT NULL)")


class SqliteStore:
    dialect = SQLITE

    def __init__(self, location: Location, *, create: bool = True) -> None:
        self.location = location
        mode = "rwc" if create else "rw"
        try:
            self.conn = sqlite3.connect(f"file:{quote(location.target)}?mode={mode}", uri=True, timeout=30,
                                        isolation_level=None, check_same_thread=False)
        except sqlite3.OperationalError as error:
            if not create:
                raise NoLedger(f"no ledger at {location} ({error})") from None
            raise
        try:
            # WAL: readers (report, export) never block the writer; several processes can share the file.
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            # 16 MB of page cache (default 2 MB): the key and user/tenant indexes take random inserts
            self.conn.execute("PRAGMA cache_size=-16000")
            self._migrate(create)
        except BaseException:
            self.conn.close()
            raise
        marks = ", ".join("?" * len(COLUMNS))
        self._insert = f"INSERT OR IGNORE INTO {TABLE} ({_INSERT_COLUMNS}) VALUES ({marks})"

    def _migrate(self, create: bool) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.execute(_VERSIONS_DDL)
            current = self.schema_version()
            for migration in _pending(self.location, current, create):
                for statement in migration.sqlite:
                    self.conn.execute(statement)
                self.conn.execute(f"INSERT INTO {VERSIONS_TABLE} VALUES (?, ?, ?)",
                                  (migration.version, migration.description,
                                   datetime.now(timezone.utc).isoformat()))
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def schema_version(self) -> int:
        return int(self.conn.execute(f"SELECT coalesce(max(version), 0) FROM {VERSIONS_TABLE}").fetchone()[0])

    def write(self, rows: Sequence[Row]) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.executemany(self._insert, ((*r[:2], _sqlite_time(r[2]), *r[3:]) for r in rows))
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise

    def query(self, sql: str, params: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        cursor = self.conn.execute(sql, tuple(params))
        try:
            while batch := cursor.fetchmany(2000):
                yield from batch
        finally:
            cursor.close()

    def close(self) -> None:
        self.conn.close()


class PostgresStore:
    dialect = POSTGRES

    def __init__(self, location: Location, *, create: bool = True) -> None:
        import psycopg

        self.location = location
        self.conn = psycopg.connect(location.target, autocommit=True, connect_timeout=10,
                                    application_name="otel-llm-cost-ledger")
        try:
            self._migrate(create)
        except BaseException:
            self.conn.close()
            raise
        self._staging_made = False
        self._copy = f"COPY {_STAGING} ({_INSERT_COLUMNS}) FROM STDIN"
        self._move = (f"INSERT INTO {TABLE} ({_INSERT_COLUMNS}) SELECT {_INSERT_COLUMNS} FROM {_STAGING} "
                      "ON CONFLICT (span_id, trace_id) DO NOTHING")

    def _migrate(self, create: bool) -> None:
        with self.conn.transaction():
            # one migrating process at a time (replicas starting together); released at commit
            self.conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (VERSIONS_TABLE,))
            self.conn.execute(_VERSIONS_DDL)
            current = self.schema_version()
            for migration in _pending(self.location, current, create):
                for statement in migration.postgres:
                    self.conn.execute(statement)  # our own constant DDL
                self.conn.execute(f"INSERT INTO {VERSIONS_TABLE} VALUES (%s, %s, %s)",
                                  (migration.version, migration.description, datetime.now(timezone.utc).isoformat()))

    def schema_version(self) -> int:
        row = self.conn.execute(f"SELECT coalesce(max(version), 0) FROM {VERSIONS_TABLE}").fetchone()
        return int(row[0]) if row else 0

    def write(self, rows: Sequence[Row]) -> None:
        # Batches arrive by COPY into a session-private staging table, then move over in one INSERT that skips
        # the keys already there: several times faster than row-by-row inserts, and as idempotent.
        if not self._staging_made:
            self.conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_STAGING} (LIKE {TABLE} INCLUDING DEFAULTS) "
                              "ON COMMIT DELETE ROWS")
            self._staging_made = True
        with self.conn.transaction(), self.conn.cursor() as cursor:
            with cursor.copy(self._copy) as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(self._move)

    def query(self, sql: str, params: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        # a server-side cursor: the rows come over in batches, whatever the result's size
        with self.conn.transaction(), self.conn.cursor(name="otel_llm_cost_ledger_query") as cursor:
            cursor.itersize = 2000
            cursor.execute(sql, tuple(params))
            yield from cursor

    def close(self) -> None:
        self.conn.close()
