"""genai-prices' published data (a JSON list of providers) -> the providers of our price table.

One implementation for both ways a table is made: ``scripts/update_prices.py`` (the bundled table, from the
installed genai-prices package) and ``otel-llm-cost prices update`` (the newest published data file). Input
that is not what this code knows (a newer schema, a truncated file, an unknown price key or match clause)
raises ``PriceDataError`` naming the place, so a bad file is never half-used.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, time, timedelta
from typing import Any

CLAUSE_KINDS = ("equals", "starts_with", "ends_with", "contains", "regex")


class PriceDataError(ValueError):
    """Price data that cannot be used; the message names the provider/model/field."""


def convert_providers(raw: Any, units: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Our table's ``providers`` from genai-prices' provider list; ``units`` are the price keys we know."""
    if not isinstance(raw, list):
        found = f"an object with keys {sorted(raw)[:6]}" if isinstance(raw, dict) else type(raw).__name__
        raise PriceDataError(f"expected a JSON list of providers (genai-prices data v2), got {found}: "
                             "a newer or different schema")
    if not raw:
        raise PriceDataError("the provider list is empty")
    seen: set[str] = set()
    providers = []
    for index, provider in enumerate(raw):
        where = f"provider #{index + 1}"
        if not isinstance(provider, dict):
            raise PriceDataError(f"{where}: expected an object")
        out = _provider(provider, where, units)
        if out["id"] in seen:
            raise PriceDataError(f"{where}: provider id {out['id']!r} appears twice")
        seen.add(out["id"])
        providers.append(out)
    return providers


def _provider(raw: Mapping[str, Any], where: str, units: Mapping[str, Any]) -> dict[str, Any]:
    pid = _text(raw, "id", where)
    where = f"provider {pid!r}"
    entry: dict[str, Any] = {"id": pid, "name": _text(raw, "name", where), "api_pattern": raw.get("api_pattern", "")}
    for key, out_key in (("provider_match", "provider_match"), ("model_match", "model_match")):
        if raw.get(key) is not None:
            entry[out_key] = clause(raw[key], f"{where}, {key}")
    if raw.get("fallback_model_providers"):
        entry["fallback"] = [str(p) for p in raw["fallback_model_providers"]]
    models = raw.get("models")
    if not isinstance(models, list):
        raise PriceDataError(f"{where}: 'models' must be a list")
    entry["models"] = [_model(m, f"{where}, model #{i + 1}", units) for i, m in enumerate(models)]
    return entry


def _model(raw: Any, where: str, units: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise PriceDataError(f"{where}: expected an object")
    mid = _text(raw, "id", where)
    where = f"{where.rsplit(',', 1)[0]}, model {mid!r}"
    out: dict[str, Any] = {"id": mid, "match": clause(raw.get("match"), f"{where}, match")}
    if raw.get("name"):
        out["name"] = str(raw["name"])
    if raw.get("context_window"):
        out["context_window"] = int(raw["context_window"])
    if raw.get("deprecated"):
        out["deprecated"] = True
    prices = raw.get("prices")
    if isinstance(prices, dict):
        out["prices"] = [{"prices": price_row(prices, f"{where}, prices", units)}]
    elif isinstance(prices, list) and prices:
        rows = []
        for i, conditional in enumerate(prices):
            row_where = f"{where}, prices[{i}]"
            if not isinstance(conditional, dict) or "prices" not in conditional:
                raise PriceDataError(f"{row_where}: expected an object with 'prices'")
            row: dict[str, Any] = {}
            if conditional.get("constraint"):
                row["when"] = constraint(conditional["constraint"], row_where)
            row["prices"] = price_row(conditional["prices"], row_where, units)
            rows.append(row)
        out["prices"] = rows
    else:
        raise PriceDataError(f"{where}: 'prices' must be an object or a non-empty list")
    variants = raw.get("price_variants")
    if variants:
        out["variants"] = [_variant(v, f"{where}, price_variants[{i}]", units) for i, v in enumerate(variants)]
    return out


def _variant(raw: Any, where: str, units: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(raw, dict) or not isinstance(raw.get("when"), dict) or "prices" not in raw:
        raise PriceDataError(f"{where}: expected an object with 'when' and 'prices'")
    out: dict[str, Any] = {"when": {str(k): str(v) for k, v in raw["when"].items()},
                           "prices": price_row(raw["prices"], where, units)}
    if raw.get("constraint"):
        out["constraint"] = constraint(raw["constraint"], where)
    return out


def clause(raw: Any, where: str) -> dict[str, Any]:
    """A match clause, checked: exactly one known kind, with a string (or a list of clauses for or/and)."""
    if not isinstance(raw, dict) or len(raw) != 1:
        raise PriceDataError(f"{where}: a match clause must be an object with one key, got {raw!r}")
    (kind, value), = raw.items()
    if kind in ("or", "and"):
        if not isinstance(value, list) or not value:
            raise PriceDataError(f"{where}: '{kind}' needs a non-empty list")
        return {kind: [clause(c, where) for c in value]}
    if kind not in CLAUSE_KINDS:
        raise PriceDataError(f"{where}: unknown match clause {kind!r} (a newer schema?)")
    if not isinstance(value, str):
        raise PriceDataError(f"{where}: '{kind}' needs a string")
    if kind == "regex":
        import re

        try:
            re.compile(value)
        except re.error as exc:
            raise PriceDataError(f"{where}: bad regex {value!r}: {exc}") from None
    return {kind: value}


def constraint(raw: Any, where: str) -> dict[str, str]:
    """A dated (``start_date``) or daily UTC time-window (``start_time``/``end_time``) constraint."""
    if isinstance(raw, dict) and set(raw) == {"start_date"}:
        try:
            date.fromisoformat(str(raw["start_date"])[:10])
        except ValueError:
            raise PriceDataError(f"{where}: bad start_date {raw['start_date']!r}") from None
        return {"start_date": str(raw["start_date"])}
    if isinstance(raw, dict) and set(raw) == {"start_time", "end_time"}:
        return {key: _utc_time(raw[key], f"{where}, {key}") for key in ("start_time", "end_time")}
    raise PriceDataError(f"{where}: unknown constraint {raw!r} (a newer schema?)")


def _utc_time(value: Any, where: str) -> str:
    text = str(value).replace("Z", "+00:00")
    try:
        parsed = time.fromisoformat(text)
    except ValueError:
        raise PriceDataError(f"{where}: bad time {value!r}") from None
    if parsed.utcoffset() not in (None, timedelta(0)):
        raise PriceDataError(f"{where}: time-of-day {value!r} is not UTC")
    return parsed.replace(tzinfo=None).isoformat()


def price_row(raw: Any, where: str, units: Mapping[str, Any]) -> dict[str, Any]:
    """Prices by key: finite non-negative numbers, or long-context tiers; every key a unit we know."""
    if not isinstance(raw, dict):
        raise PriceDataError(f"{where}: prices must be an object")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if value is None:
            continue
        if key not in units:
            raise PriceDataError(f"{where}: unknown price key {key!r} (a newer schema? this version knows "
                                 f"{len(units)} keys)")
        if isinstance(value, dict):
            tiers = value.get("tiers")
            if "base" not in value or not isinstance(tiers, list):
                raise PriceDataError(f"{where}, {key}: tiered prices need 'base' and 'tiers'")
            out[key] = {"base": _price_number(value["base"], f"{where}, {key}"),
                        "tiers": [[_tier_start(t, f"{where}, {key}"), _price_number(_tier_price(t), f"{where}, {key}")]
                                  for t in tiers]}
        else:
            out[key] = _price_number(value, f"{where}, {key}")
    return out


def _tier_start(tier: Any, where: str) -> int:
    start = tier.get("start") if isinstance(tier, dict) else (tier[0] if isinstance(tier, list) else None)
    if isinstance(start, bool) or not isinstance(start, int) or start < 0:
        raise PriceDataError(f"{where}: a tier needs a whole 'start' token count, got {tier!r}")
    return start


def _tier_price(tier: Any) -> Any:
    return tier.get("price") if isinstance(tier, dict) else tier[1]


def _price_number(value: Any, where: str) -> float | int:
    if isinstance(value, str):  # Decimal prices serialised as strings
        try:
            value = float(value)
        except ValueError:
            raise PriceDataError(f"{where}: not a number: {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise PriceDataError(f"{where}: a price must be a finite number >= 0, got {value!r}")
    return value


def _text(raw: Mapping[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise PriceDataError(f"{where}: missing or empty '{key}'")
    return value
