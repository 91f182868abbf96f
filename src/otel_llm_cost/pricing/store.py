"""Which price table is in force: the bundled one, or a newer one ``otel-llm-cost prices update`` stored.

The updated table lives in the user cache (XDG: ``$XDG_CACHE_HOME/otel-llm-cost/prices/prices.json``, else
``~/.cache/...``; ``OTEL_LLM_COST_PRICES_CACHE`` names another directory). It is read once per process, on the
first priced call, like the bundled table: never fetched here, never at import. It is used only when it is at
least as new as the bundled table (an upgraded package brings newer data) and readable; anything else logs one
warning and the bundled table stays in force.
"""

from __future__ import annotations

import contextlib
import logging
import os
from datetime import date, datetime, timezone
from functools import cache

from .table import PriceTable, bundled_table, table_from_json

PRICES_CACHE_ENV = "OTEL_LLM_COST_PRICES_CACHE"
TABLE_FILE = "prices.json"
logger = logging.getLogger("otel_llm_cost.pricing")


def cache_dir(environ: dict[str, str] | None = None) -> str:
    """The directory of the updated table (XDG cache rules; OTEL_LLM_COST_PRICES_CACHE moves it)."""
    env = os.environ if environ is None else environ
    explicit = env.get(PRICES_CACHE_ENV, "").strip()
    if explicit:
        return os.path.expanduser(explicit)
    base = env.get("XDG_CACHE_HOME", "").strip()
    if not base or not os.path.isabs(base):  # the XDG spec: a relative value is ignored
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "otel-llm-cost", "prices")


def cached_table_path(environ: dict[str, str] | None = None) -> str:
    return os.path.join(cache_dir(environ), TABLE_FILE)


def read_cached_table(path: str) -> PriceTable:
    """The stored table; raises OSError/ValueError (with the path) when it cannot be used."""
    import json

    with open(path, encoding="utf-8") as handle:
        try:
            raw = json.load(handle)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(raw, dict) or raw.get("schema") != 1:
        raise ValueError(f"{path}: not a price table of schema 1 (written by another otel-llm-cost version?)")
    try:
        return table_from_json(raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: malformed price table ({type(exc).__name__}: {exc})") from None


def table_in_force(directory: str | None = None) -> PriceTable:
    """The updated table (in ``directory``, default ``cache_dir()``) if there is a usable one at least as new
    as the bundled table, else the bundled table. Read once per process and directory."""
    return _table_in_force(os.path.join(directory or cache_dir(), TABLE_FILE))


@cache
def _table_in_force(path: str) -> PriceTable:
    bundled = bundled_table()
    if not os.path.exists(path):
        return bundled
    try:
        cached = read_cached_table(path)
    except (OSError, ValueError) as exc:
        logger.warning("otel-llm-cost: the updated price table cannot be used (%s); the bundled table %s stays in "
                       "force. Run `otel-llm-cost prices update` again, or delete the file.", exc, bundled.table_id)
        return bundled
    if cached.generated_at < bundled.generated_at:
        logger.info("otel-llm-cost: the bundled price table %s is newer than the updated one %s (%s); using the "
                    "bundled table", bundled.table_id, cached.table_id, path)
        return bundled
    return cached


def reset_table_in_force() -> None:
    """Forget the table in force (tests; the next use reads the cache again)."""
    _table_in_force.cache_clear()


def age_days(table: PriceTable, now: datetime | None = None) -> float:
    """Days since the table was generated (or fetched), from midnight UTC of its date."""
    now = now or datetime.now(timezone.utc)
    made = datetime.combine(date.fromisoformat(table.generated_at), datetime.min.time(), timezone.utc)
    return max(0.0, (now - made).total_seconds() / 86400)


def write_atomically(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the new one, never a part: a temporary file
    in the same directory, flushed to disk, then renamed over the old one."""
    import tempfile

    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".prices-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
