"""Where the ledger lives: ``OTEL_LLM_COST_LEDGER_URL`` parsed into a SQLite file or a Postgres conninfo.

Checked when the exporter starts, without connecting (an app's start is never held up by a database): a bad
value is a ``LedgerUrlError`` whose message names the setting, the value and the accepted forms.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

ACCEPTED = ("sqlite:///ABSOLUTE/PATH.db, sqlite:RELATIVE/PATH.db (from the working directory), "
            "or postgresql://USER:PASSWORD@HOST:PORT/DATABASE")
POSTGRES_EXTRA = "pip install 'otel-llm-cost[ledger-postgres]'"


class LedgerUrlError(ValueError):
    """The ledger URL cannot be used; the message says which setting, why, and what is accepted."""


@dataclass(frozen=True)
class Location:
    kind: str      # "sqlite" or "postgres"
    target: str    # the SQLite file's absolute path, or the Postgres conninfo URL
    display: str   # for messages: the path, or the URL without its password

    def __str__(self) -> str:
        return self.display


def parse_location(url: str, setting: str = "OTEL_LLM_COST_LEDGER_URL", *, require_driver: bool = True) -> Location:
    """The ledger location of ``url``; ``setting`` names where the value came from in error messages."""
    text = url.strip()
    scheme, sep, rest = text.partition(":")
    scheme = scheme.lower()
    if not sep or not rest:
        raise LedgerUrlError(f"{setting}={redact(url)!r} is not a ledger URL (expected {ACCEPTED})")
    if scheme == "sqlite":
        return _sqlite(url, rest, setting)
    if scheme in ("postgresql", "postgres"):
        return _postgres(url, setting, require_driver)
    raise LedgerUrlError(f"{setting}={redact(url)!r}: unknown database {scheme!r} (expected {ACCEPTED})")


def redact(url: str) -> str:
    """The URL with its password replaced by ``***`` (messages and logs never show it)."""
    try:
        password = urlsplit(url.strip()).password
    except ValueError:
        return url
    return url.replace(f":{password}@", ":***@", 1) if password else url


def _sqlite(url: str, rest: str, setting: str) -> Location:
    if rest.startswith("//"):
        host, _, path = rest[2:].partition("/")
        if host:
            raise LedgerUrlError(f"{setting}={url!r}: a SQLite ledger is a local file, not on host {host!r} "
                                 f"(expected {ACCEPTED})")
        path = "/" + path.lstrip("/")
    else:
        path = rest
    if path in ("", "/") or path.endswith("/"):
        raise LedgerUrlError(f"{setting}={url!r} names no file (expected {ACCEPTED})")
    if ":memory:" in path:
        raise LedgerUrlError(f"{setting}={url!r}: an in-memory SQLite database would vanish with the process; "
                             "name a file")
    path = os.path.abspath(os.path.expanduser(path))
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        raise LedgerUrlError(f"{setting}={url!r}: the folder {folder} does not exist")
    return Location("sqlite", path, path)


def _postgres(url: str, setting: str, require_driver: bool) -> Location:
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as error:
        raise LedgerUrlError(f"{setting}: not a valid Postgres URL ({error}); expected {ACCEPTED}") from None
    if not parts.path.strip("/") and "dbname=" not in parts.query:
        raise LedgerUrlError(f"{setting}: the Postgres URL names no database (expected {ACCEPTED})")
    if require_driver and importlib.util.find_spec("psycopg") is None:
        raise LedgerUrlError(f"{setting} is a Postgres URL but psycopg is not installed: {POSTGRES_EXTRA}")
    display = redact(urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")))
    return Location("postgres", url.strip(), display)
