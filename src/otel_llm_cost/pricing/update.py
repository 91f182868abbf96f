"""``otel-llm-cost prices update``: newer genai-prices data into the user cache, checked, converted, atomically.

Only ever run by a person (or their cron job) through the command: never at import, never on a call. The data is
genai-prices' published data file; it is converted and merged exactly as the bundled table is
(``genai_data``, ``merge``: the bundled table's LiteLLM-only models and the reviewed corrections on top), checked
whole, and only then written. On any problem (unreachable source, truncated or malformed file, a newer schema)
the command says what and where, writes nothing, and the table in force stays in force.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .corrections import load_corrections
from .genai_data import PriceDataError, convert_providers
from .merge import build_table, check_table, litellm_rows_of
from .store import age_days, cached_table_path, write_atomically
from .table import PriceTable

DEFAULT_SOURCE = ("https://raw.githubusercontent.com/pydantic/genai-prices/refs/heads/main/prices/new_data/v2/"
                  "data.json")
MAX_BYTES = 32 * 1024 * 1024  # the v2 file is about 0.4 MB; anything this large is not it
TIMEOUT_S = 30.0


class UpdateError(Exception):
    """The update cannot be used; the message says why, naming the source."""


@dataclass
class Changes:
    """What replacing the table in force with a new one would change for calls priced now."""

    added: list[str] = field(default_factory=list)  # provider/model
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # provider/model: part old -> new


def fetch(source: str, timeout: float = TIMEOUT_S) -> bytes:
    """The bytes of ``source``: an http(s) URL or a local file."""
    if "://" not in source or source.startswith("file://"):
        path = source.removeprefix("file://")
        try:
            with open(path, "rb") as handle:
                return handle.read(MAX_BYTES + 1)
        except OSError as exc:
            raise UpdateError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not source.startswith(("http://", "https://")):
        raise UpdateError(f"unsupported source {source!r}: give an http(s) URL or a file")
    import urllib.error
    import urllib.request

    request = urllib.request.Request(source, headers={"User-Agent": "otel-llm-cost prices update",
                                                      "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body: bytes = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise UpdateError(f"{source} answered HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UpdateError(f"cannot reach {source}: {reason}") from None
    if len(body) > MAX_BYTES:
        raise UpdateError(f"{source} is larger than {MAX_BYTES // (1024 * 1024)} MB: not a price data file")
    return body


def build_update(body: bytes, source: str, base: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """The table made from genai-prices data ``body``, with ``base``'s (the bundled table's) units and LiteLLM
    models and the bundled corrections; checked whole."""
    now = now or datetime.now(timezone.utc)
    try:
        raw = json.loads(body)
    except UnicodeDecodeError:
        raise UpdateError(f"{source}: not UTF-8 text, not a price data file") from None
    except json.JSONDecodeError as exc:
        hint = "truncated?" if exc.pos >= len(body.rstrip()) - 1 else "malformed"
        raise UpdateError(f"{source}: invalid JSON ({hint}): {exc.msg} at line {exc.lineno} column {exc.colno}") \
            from None
    try:
        providers = convert_providers(raw, base["units"])
        digest = hashlib.sha256(body).hexdigest()
        day = now.date().isoformat()
        return build_table(providers, base["units"], extra=litellm_rows_of(base), corrections=load_corrections(),
                           table_id=f"genai-prices-data@{day}+{digest[:8]}", generated_at=day,
                           source={"package": "genai-prices", "url": source, "sha256": digest,
                                   "fetched_at": now.replace(microsecond=0).isoformat(),
                                   "litellm": str(base["source"].get("litellm", "")), "license": "MIT"})
    except PriceDataError as exc:
        raise UpdateError(f"{source}: {exc}") from None


def bundled_raw() -> dict[str, Any]:
    path = os.path.join(os.path.dirname(__file__), "data", "prices.json")
    with open(path, encoding="utf-8") as handle:
        raw: dict[str, Any] = json.load(handle)
    return raw


def changes(old: PriceTable, new: PriceTable, at: datetime | None = None) -> Changes:
    """Models added or removed, and prices in force ``at`` (now) that differ by more than rounding."""
    at = at or datetime.now(timezone.utc)
    out = Changes()
    old_models = {(p.id, m.id): m for p in old.providers.values() for m in p.models}
    new_models = {(p.id, m.id): m for p in new.providers.values() for m in p.models}
    out.added = sorted(f"{p}/{m}" for p, m in new_models.keys() - old_models.keys())
    out.removed = sorted(f"{p}/{m}" for p, m in old_models.keys() - new_models.keys())
    for key in sorted(old_models.keys() & new_models.keys()):
        before = old_models[key].prices_at(at).prices
        after = new_models[key].prices_at(at).prices
        parts = []
        for part in sorted(before.keys() | after.keys()):
            a, b = _flat(before.get(part)), _flat(after.get(part))
            if a != b and (a is None or b is None or abs(a - b) > 1e-12 * max(abs(a), abs(b))):
                parts.append(f"{part.removesuffix('_mtok')} {_show(a)} -> {_show(b)}")
        if parts:
            out.changed.append(f"{key[0]}/{key[1]}: " + ", ".join(parts))
    return out


def _flat(price: object) -> float | None:
    if price is None:
        return None
    base = getattr(price, "base", price)
    return float(base)  # type: ignore[arg-type]


def _show(value: float | None) -> str:
    return "none" if value is None else f"{value:g}"


@dataclass
class UpdateResult:
    table: dict[str, Any]
    path: str
    changes: Changes
    written: bool


def update(source: str, *, check: bool = False, in_force: PriceTable | None = None,
           path: str | None = None) -> UpdateResult:
    """Fetch, convert, check, compare with the table in force and (unless ``check``) store atomically."""
    from .store import table_in_force

    path = path or cached_table_path()
    base = bundled_raw()
    table = build_update(fetch(source), source, base)
    current = in_force or table_in_force()
    diff = changes(current, PriceTable(table))
    if not check:
        try:
            write_atomically(path, (json.dumps(table, separators=(",", ":")) + "\n").encode())
        except OSError as exc:
            raise UpdateError(f"cannot write {path}: {exc.strerror or exc}; the table in force is unchanged") \
                from None
    return UpdateResult(table, path, diff, not check)


__all__ = ["DEFAULT_SOURCE", "Changes", "UpdateError", "UpdateResult", "age_days", "build_update", "changes",
           "check_table", "fetch", "update"]
