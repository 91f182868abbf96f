"""Build the price table from its sources, with a stated precedence, and check it before anyone uses it.

Precedence, per model: a reviewed correction (``data/corrections.toml``) from its effective instant >
genai-prices (dated history, tiers, variants; the primary source) > LiteLLM's map (only for models genai-prices
does not price: they are added as exact names). Each row keeps its source, which priced calls carry as
``llm_cost.price_source``. Used by ``scripts/update_prices.py`` (the bundled table) and ``otel-llm-cost prices
update`` (a newer genai-prices data file), so both make tables the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from .corrections import Corrections, apply_corrections
from .genai_data import PriceDataError
from .litellm_map import LiteLLMModel
from .table import PriceTable

SCHEMA = 1
LITELLM = "litellm"
# Units genai-prices has no key for, added to every table we build (additive: an older reader of the table never
# meets a row using them unless a correction prices one). Per image generated: Imagen's price unit.
OWN_UNITS: dict[str, dict[str, Any]] = {
    "output_image_count": {"usage": "output_images", "per": 1, "dimensions": {"family": "images",
                                                                               "direction": "output"}},
}


def litellm_table_model(model: LiteLLMModel) -> dict[str, Any]:
    """A LiteLLM entry as a table model matching exactly the name it was listed under."""
    out: dict[str, Any] = {"id": model.name, "match": {"equals": model.name}, "source": LITELLM,
                           "prices": [{"prices": dict(model.prices)}]}
    if model.source_url:
        out["ref"] = model.source_url
    if model.variants:
        out["variants"] = [dict(v) for v in model.variants]
    return out


def litellm_rows_of(table: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The LiteLLM-sourced models of an existing table, as (provider, model): an update keeps them."""
    return [(p["id"], m) for p in table["providers"] for m in p["models"] if m.get("source") == LITELLM]


def unpriced_litellm(providers: list[dict[str, Any]], units: Mapping[str, Any],
                     candidates: Iterable[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """The (provider, model) of ``candidates`` that ``providers`` price nowhere (not even through name
    normalisation or a fallback provider), first of each (provider, name)."""
    from .book import PriceBook

    book = PriceBook(PriceTable(_table(providers, units, "check", {})))
    seen: set[tuple[str, str]] = set()
    out = []
    for provider, model in candidates:
        key = (provider, model["id"])
        if key in seen or provider not in book.table.providers:
            continue
        seen.add(key)
        if not _resolves(book, provider, model["id"]):
            out.append((provider, model))
    return out


def _resolves(book: Any, provider: str, name: str) -> bool:
    from .book import Resolution

    return isinstance(book.resolve(provider, name), Resolution)


def build_table(genai_providers: list[dict[str, Any]], units: Mapping[str, Any], *,
                extra: Iterable[tuple[str, dict[str, Any]]], corrections: Corrections,
                table_id: str, source: Mapping[str, str], generated_at: str | None = None) -> dict[str, Any]:
    """The merged table: genai-prices' providers, plus ``extra`` (LiteLLM) models they do not price, with the
    corrections applied on top; checked (``check_table``) before it is returned."""
    units = {**units, **OWN_UNITS}
    providers = [dict(p, models=list(p["models"])) for p in genai_providers]
    by_id = {p["id"]: p for p in providers}
    for provider, model in unpriced_litellm(providers, units, extra):
        by_id[provider]["models"].append(model)
    providers = apply_corrections(providers, corrections)
    table = _table(providers, units, table_id, source, generated_at)
    check_table(table)
    return table


def _table(providers: list[dict[str, Any]], units: Mapping[str, Any], table_id: str, source: Mapping[str, str],
           generated_at: str | None = None) -> dict[str, Any]:
    newest = max((row["when"]["start_date"][:10] for p in providers for m in p["models"] for row in m["prices"]
                  if "start_date" in (row.get("when") or {})), default="")
    return {"schema": SCHEMA, "table_id": table_id, "source": dict(source),
            "generated_at": generated_at or date.today().isoformat(), "newest_price_change": newest,
            "units": dict(units), "providers": providers}


def check_table(raw: Any) -> PriceTable:
    """Parse every provider, model, price row and constraint of a table; PriceDataError names what is wrong.

    The same checks for the bundled table (its tests), a built table and a downloaded update."""
    if not isinstance(raw, dict):
        raise PriceDataError("a price table must be a JSON object")
    if raw.get("schema") != SCHEMA:
        raise PriceDataError(f"price table schema {raw.get('schema')!r}: this version reads schema {SCHEMA} "
                             "(a newer otel-llm-cost wrote it?)")
    for key in ("table_id", "generated_at", "source", "units", "providers"):
        if key not in raw:
            raise PriceDataError(f"price table without '{key}'")
    try:
        date.fromisoformat(raw["generated_at"])
        table = PriceTable(raw)
        count = 0
        for provider in table.providers.values():
            for model in provider.models:
                count += 1
                for _, row in model.history:
                    missing = set(row.prices) - set(table.units)
                    if missing:
                        raise PriceDataError(f"{provider.id}/{model.id}: price keys without a unit {sorted(missing)}")
    except PriceDataError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PriceDataError(f"price table {raw.get('table_id')!r} is malformed: {type(exc).__name__}: {exc}") from None
    if count == 0:
        raise PriceDataError("price table without any model")
    return table
