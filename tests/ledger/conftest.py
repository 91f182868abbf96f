"""Fixtures of the ledger tests: a SQLite file, a throwaway Postgres (postgres_server.py), and the ledger URL of
either (``ledger_url`` runs a test on both), plus the real openai SDK against the simulated API."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from postgres_server import PostgresServer, require_bindir

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "openai"))  # fake_openai: the simulated API

_databases = itertools.count(1)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One Postgres server for the session (each test gets its own database: ``postgres_url``)."""
    server = PostgresServer(require_bindir())
    try:
        yield server
    finally:
        server.close()


def new_database(server: PostgresServer) -> str:
    import psycopg

    name = f"ledger_test_{next(_databases)}"
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
    return server.url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> str:
    return new_database(postgres)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite://{tmp_path / 'ledger.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'ledger.db'}"
    return new_database(request.getfixturevalue("postgres"))
