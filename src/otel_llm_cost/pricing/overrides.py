"""User price files: explicit prices, negotiated discounts and model aliases (TOML or JSON).

A file is validated whole before it is used: any problem makes the whole file ignored (bundled prices stay
in force) with one error naming the file, the entry and the field. Parsing happens once at start-up.

```toml
[[price]]                 # explicit USD per 1M tokens; replaces the table for matching models
provider = "openai"       # gen_ai.provider.name or "*" ; model is a glob, or use regex = "..."
model = "gpt-4o*"
effective_from = "2026-12-01"
input = 2.25
output = 9.0
cache_read = 1.125

[[price]]                 # self-hosted (Ollama): GPU time, billed per second of the call, and/or per request
provider = "ollama"
model = "llama3.*"
per_hour = 3.96           # USD per GPU hour (= per_second 0.0011; give one of the two)
per_request = 0.0002

[[discount]]              # multiplies the bundled price (not explicit [[price]] entries)
provider = "anthropic"
model = "*"
multiplier = 0.85

[[alias]]                 # deployment names, application inference profiles, gateway names
provider = "azure.ai.openai"
model = "prod-gpt4o-eastus"
maps_to = "gpt-4o-2024-08-06"
```
"""

from __future__ import annotations

import fnmatch
import math
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

# [[price]] fields (USD per 1M tokens unless said) -> price-table keys.
PRICE_FIELDS: dict[str, str] = {
    "input": "input_mtok",
    "output": "output_mtok",
    "cache_read": "cache_read_mtok",
    "cache_write": "cache_write_mtok",
    "cache_write_1h": "cache_write_1h_mtok",
    "reasoning": "output_reasoning_mtok",
    "input_audio": "input_audio_mtok",
    "output_audio": "output_audio_mtok",
    "input_image": "input_image_mtok",
    "output_image": "output_image_mtok",
    "per_image": "output_image_count",  # USD per image generated (Imagen): the table's own unit
    "rerank_searches": "rerank_searches_kcount",  # USD per 1K searches (Cohere's search units), not per 1M
}
MATCH_FIELDS = {"provider", "model", "regex", "effective_from"}
PRICE_ONLY_FIELDS = {"per_request", "per_second", "per_hour", "tiers"}
DISCOUNT_FIELDS = {"multiplier"}
ALIAS_FIELDS = {"provider", "model", "maps_to", "maps_to_provider"}


class PriceFileError(ValueError):
    """A price override file that cannot be used; the message names the file, entry and field."""


@dataclass(frozen=True)
class ModelPattern:
    """Which (provider, model) an override entry applies to: exact name, glob, or regex."""

    provider: str  # lower-cased; "*" for any
    model: str | None
    regex: re.Pattern[str] | None

    @property
    def is_exact(self) -> bool:
        return self.regex is None and self.model is not None and not any(c in self.model for c in "*?[")

    def matches(self, provider_names: Iterable[str], model: str) -> bool:
        if self.provider != "*" and self.provider not in provider_names:
            return False
        if self.regex is not None:
            return self.regex.search(model) is not None
        assert self.model is not None
        return model == self.model if self.is_exact else fnmatch.fnmatchcase(model, self.model)


@dataclass(frozen=True)
class UserPrice:
    pattern: ModelPattern
    effective_from: date | None
    prices: dict[str, float]  # price-table keys, USD per 1M
    tiers: tuple[tuple[int, dict[str, float]], ...]  # (above input tokens, prices)
    per_request: float
    per_second: float
    origin: str  # "file #n" for messages and the price_table attribute


@dataclass(frozen=True)
class Discount:
    pattern: ModelPattern
    effective_from: date | None
    multiplier: float
    origin: str


@dataclass(frozen=True)
class Alias:
    pattern: ModelPattern
    maps_to: str
    maps_to_provider: str | None
    origin: str


@dataclass(frozen=True)
class Overrides:
    prices: tuple[UserPrice, ...] = ()
    discounts: tuple[Discount, ...] = ()
    aliases: tuple[Alias, ...] = ()
    files: tuple[str, ...] = ()

    def __add__(self, other: Overrides) -> Overrides:
        return Overrides(self.prices + other.prices, self.discounts + other.discounts,
                         self.aliases + other.aliases, self.files + other.files)


class _Problems:
    """Collects every problem of one file so the user fixes them in one go."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.items: list[str] = []

    def add(self, entry: str, field_name: str | None, message: str) -> None:
        where = f"{entry}, field '{field_name}'" if field_name else entry
        self.items.append(f"{where}: {message}")

    def raise_if_any(self) -> None:
        if self.items:
            raise PriceFileError(f"price file {self.path}: " + "; ".join(self.items))


def _parse_text(path: str, text: str) -> Mapping[str, Any]:
    if path.endswith(".json"):
        import json

        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PriceFileError(f"price file {path}: invalid JSON at line {exc.lineno} column {exc.colno}: "
                                 f"{exc.msg}") from None
    else:
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # Python 3.10: the same parser from PyPI
            import tomli as tomllib
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise PriceFileError(f"price file {path}: invalid TOML: {exc}") from None
    if not isinstance(data, dict):
        raise PriceFileError(f"price file {path}: top level must be a table/object with [[price]], "
                             f"[[discount]] or [[alias]] lists")
    return data


def _number(problems: _Problems, entry: str, name: str, value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        problems.add(entry, name, f"must be a number, got {value!r}")
        return None
    if value < 0:
        problems.add(entry, name, f"must not be negative, got {value!r}")
        return None
    return float(value)


def _pattern(problems: _Problems, entry: str, raw: Mapping[str, Any]) -> ModelPattern | None:
    provider = raw.get("provider", "*")
    if not isinstance(provider, str) or not provider:
        problems.add(entry, "provider", f"must be a provider name or \"*\", got {provider!r}")
        return None
    model, regex = raw.get("model"), raw.get("regex")
    if (model is None) == (regex is None):
        problems.add(entry, "model", "give exactly one of 'model' (name or glob) and 'regex'")
        return None
    compiled = None
    if regex is not None:
        if not isinstance(regex, str):
            problems.add(entry, "regex", f"must be a string, got {regex!r}")
            return None
        try:
            compiled = re.compile(regex, re.IGNORECASE)
        except re.error as exc:
            problems.add(entry, "regex", f"invalid regular expression {regex!r}: {exc}")
            return None
    elif not isinstance(model, str) or not model:
        problems.add(entry, "model", f"must be a non-empty string, got {model!r}")
        return None
    return ModelPattern(provider.lower(), model.lower() if isinstance(model, str) else None, compiled)


def _date(problems: _Problems, entry: str, raw: Mapping[str, Any]) -> date | None:
    value = raw.get("effective_from")
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    problems.add(entry, "effective_from", f"must be a date like \"2026-12-01\", got {value!r}")
    return None


def _unknown_fields(problems: _Problems, entry: str, raw: Mapping[str, Any], allowed: set[str]) -> None:
    for name in raw:
        if name not in allowed:
            problems.add(entry, name, f"unknown field; allowed: {', '.join(sorted(allowed))}")


def _entry_name(kind: str, index: int, raw: Any) -> str:
    label = raw.get("model") or raw.get("regex") if isinstance(raw, dict) else None
    return f"[[{kind}]] #{index}" + (f" (model {label!r})" if label else "")


def _price_entry(problems: _Problems, entry: str, raw: Mapping[str, Any], origin: str) -> UserPrice | None:
    _unknown_fields(problems, entry, raw, MATCH_FIELDS | PRICE_ONLY_FIELDS | set(PRICE_FIELDS))
    before = len(problems.items)
    pattern = _pattern(problems, entry, raw)
    effective = _date(problems, entry, raw)
    prices: dict[str, float] = {}
    for name, key in PRICE_FIELDS.items():
        if name in raw and (value := _number(problems, entry, name, raw[name])) is not None:
            prices[key] = value
    extra = {name: _number(problems, entry, name, raw[name]) or 0.0 for name in ("per_request", "per_second")
             if name in raw}
    if "per_hour" in raw:  # a GPU's hourly rate, as clouds quote it; billed per second of the call
        if "per_second" in raw:
            problems.add(entry, "per_hour", "give one of 'per_hour' and 'per_second', not both")
        elif (hourly := _number(problems, entry, "per_hour", raw["per_hour"])) is not None:
            extra["per_second"] = hourly / 3600
    tiers: list[tuple[int, dict[str, float]]] = []
    for t_index, tier in enumerate(raw.get("tiers", []) or [], 1):
        where = f"{entry} tier #{t_index}"
        if not isinstance(tier, dict) or not isinstance(tier.get("above"), int) or tier["above"] < 0:
            problems.add(where, "above", "each tier needs 'above' = a non-negative whole number of input tokens")
            continue
        _unknown_fields(problems, where, tier, {"above"} | set(PRICE_FIELDS))
        tier_prices = {PRICE_FIELDS[n]: v for n in PRICE_FIELDS if n in tier
                       and (v := _number(problems, where, n, tier[n])) is not None}
        tiers.append((tier["above"], tier_prices))
    if not prices and not extra and len(problems.items) == before:
        problems.add(entry, None, f"no price given; set at least one of {', '.join(PRICE_FIELDS)}, "
                                  f"per_request, per_second, per_hour")
    if pattern is None or len(problems.items) != before:
        return None
    return UserPrice(pattern, effective, prices, tuple(sorted(tiers)), extra.get("per_request", 0.0),
                     extra.get("per_second", 0.0), origin)


def _discount_entry(problems: _Problems, entry: str, raw: Mapping[str, Any], origin: str) -> Discount | None:
    _unknown_fields(problems, entry, raw, MATCH_FIELDS | DISCOUNT_FIELDS)
    before = len(problems.items)
    pattern = _pattern(problems, entry, raw)
    effective = _date(problems, entry, raw)
    multiplier = _number(problems, entry, "multiplier", raw.get("multiplier"))
    if multiplier is not None and multiplier > 10:
        problems.add(entry, "multiplier", f"{multiplier} looks like a percentage; 0.85 means 15% off")
    if pattern is None or multiplier is None or len(problems.items) != before:
        return None
    return Discount(pattern, effective, multiplier, origin)


def _alias_entry(problems: _Problems, entry: str, raw: Mapping[str, Any], origin: str) -> Alias | None:
    _unknown_fields(problems, entry, raw, ALIAS_FIELDS)
    before = len(problems.items)
    pattern = _pattern(problems, entry, raw)
    maps_to = raw.get("maps_to")
    if not isinstance(maps_to, str) or not maps_to:
        problems.add(entry, "maps_to", f"must be the model name to price as, got {maps_to!r}")
    target_provider = raw.get("maps_to_provider")
    if target_provider is not None and not isinstance(target_provider, str):
        problems.add(entry, "maps_to_provider", f"must be a provider name, got {target_provider!r}")
    if pattern is None or len(problems.items) != before:
        return None
    assert isinstance(maps_to, str)
    return Alias(pattern, maps_to, target_provider, origin)


def parse_overrides(path: str, text: str) -> Overrides:
    """Validate one file's text; raises PriceFileError listing every problem."""
    data = _parse_text(path, text)
    problems = _Problems(path)
    for key in data:
        if key not in ("price", "discount", "alias", "schema"):
            problems.add(f"top-level key {key!r}", None, "unknown; expected [[price]], [[discount]] or [[alias]]")
    kinds = {"price": _price_entry, "discount": _discount_entry, "alias": _alias_entry}
    parsed: dict[str, list[Any]] = {kind: [] for kind in kinds}
    for kind, build in kinds.items():
        entries = data.get(kind, [])
        if not isinstance(entries, list):
            problems.add(f"[[{kind}]]", None, "must be a list of entries ([[" + kind + "]] in TOML)")
            continue
        for index, raw in enumerate(entries, 1):
            entry = _entry_name(kind, index, raw)
            if not isinstance(raw, dict):
                problems.add(entry, None, "must be a table/object")
                continue
            item = build(problems, entry, raw, f"{os.path.basename(path)} {entry}")
            if item is not None:
                parsed[kind].append(item)
    problems.raise_if_any()
    return Overrides(tuple(parsed["price"]), tuple(parsed["discount"]), tuple(parsed["alias"]), (path,))


def load_override_file(path: str) -> Overrides:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise PriceFileError(f"price file {path}: cannot read: {exc.strerror or exc}") from None
    return parse_overrides(path, text)
