#!/usr/bin/env python3
"""Regenerate the bundled price table from the installed ``genai-prices`` package data.

genai-prices is a development dependency only: this script turns its provider/model data into a compact
JSON file (``src/otel_llm_cost/pricing/data/prices.json``) that our own evaluator reads at run time, so the
installed package never imports pydantic/genai-prices and never touches the network.

Kept from the source: dated price history and time-of-day windows, long-context tiers, every price key
(cache read/write 5 min and 1 h, reasoning, audio/image/video, per-request and per-search fees),
request variants (batch, service tiers, speed, route), provider match rules, model match rules, and
fallback providers. Run: ``python scripts/update_prices.py`` (``--check`` exits 1 when the file is stale).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "otel_llm_cost" / "pricing" / "data" / "prices.json"
NOTICE = ROOT / "src" / "otel_llm_cost" / "pricing" / "data" / "GENAI_PRICES_LICENSE.txt"

GENAI_PRICES_LICENSE = """\
The bundled price data (prices.json) is generated from the genai-prices project
(https://github.com/pydantic/genai-prices), distributed under the MIT License:

MIT License

Copyright (c) Pydantic Services Inc. 2025 to present

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""


def _number(value: Decimal) -> float | int:
    """A Decimal as the shortest JSON number that round-trips to the same float."""
    as_int = int(value)
    return as_int if value == as_int else float(value)


def _price(value: Any) -> Any:
    from genai_prices import types as t

    if isinstance(value, t.TieredPrices):
        return {"base": _number(value.base), "tiers": [[tier.start, _number(tier.price)] for tier in value.tiers]}
    return _number(value)


def _prices(model_price: Any) -> dict[str, Any]:
    return {key: _price(v) for key, v in model_price.__dict__.items() if v is not None and not key.startswith("_")}


def _clause(clause: Any) -> dict[str, Any]:
    from genai_prices import types as t

    if isinstance(clause, t.ClauseOr):
        return {"or": [_clause(c) for c in clause.or_]}
    if isinstance(clause, t.ClauseAnd):
        return {"and": [_clause(c) for c in clause.and_]}
    for kind in ("equals", "starts_with", "ends_with", "contains", "regex"):
        if hasattr(clause, kind):
            return {kind: getattr(clause, kind)}
    raise TypeError(f"unknown match clause {clause!r}")


def _constraint(constraint: Any) -> dict[str, str] | None:
    from genai_prices import types as t

    if constraint is None:
        return None
    if isinstance(constraint, t.StartDateConstraint):
        return {"start_date": constraint.start_date.isoformat()}
    if isinstance(constraint, t.TimeOfDateConstraint):
        for value in (constraint.start_time, constraint.end_time):
            if value.tzinfo is not None and value.utcoffset() != dt.timedelta(0):
                raise ValueError(f"time-of-day constraint with non-UTC offset: {constraint!r}")
        return {
            "start_time": constraint.start_time.replace(tzinfo=None).isoformat(),
            "end_time": constraint.end_time.replace(tzinfo=None).isoformat(),
        }
    raise TypeError(f"unknown price constraint {constraint!r}")


def _model(model: Any) -> dict[str, Any]:
    from genai_prices import types as t

    out: dict[str, Any] = {"id": model.id, "match": _clause(model.match)}
    if model.name:
        out["name"] = model.name
    if model.context_window:
        out["context_window"] = model.context_window
    if model.deprecated:
        out["deprecated"] = True
    if isinstance(model.prices, t.ModelPrice):
        out["prices"] = [{"prices": _prices(model.prices)}]
    else:
        out["prices"] = [
            {"when": _constraint(cp.constraint), "prices": _prices(cp.prices)} if cp.constraint else
            {"prices": _prices(cp.prices)}
            for cp in model.prices
        ]
    if model.price_variants:
        out["variants"] = [
            {"when": dict(v.when), "prices": _prices(v.prices), **(
                {"constraint": _constraint(v.constraint)} if v.constraint else {})}
            for v in model.price_variants
        ]
    return out


def build_table() -> dict[str, Any]:
    import genai_prices
    from genai_prices.data_snapshot import get_snapshot
    from genai_prices.units import _get_registry

    registry = _get_registry()
    providers = []
    used_keys: set[str] = set()
    for provider in get_snapshot().providers:
        entry: dict[str, Any] = {"id": provider.id, "name": provider.name, "api_pattern": provider.api_pattern}
        if provider.provider_match is not None:
            entry["provider_match"] = _clause(provider.provider_match)
        if provider.model_match is not None:
            entry["model_match"] = _clause(provider.model_match)
        if provider.fallback_model_providers:
            entry["fallback"] = list(provider.fallback_model_providers)
        entry["models"] = [_model(m) for m in provider.models]
        for model in entry["models"]:
            for row in model["prices"] + model.get("variants", []):
                used_keys.update(row["prices"])
        providers.append(entry)
    # Every unit the source knows (not only the used ones), so user price files can price any of them.
    units = {
        unit.price_key: {"usage": unit.usage_key, "per": unit.per, "dimensions": dict(unit.dimensions)}
        for unit in registry.units.values()
    }
    unknown = used_keys - set(units)
    if unknown:
        raise ValueError(f"price keys without a unit definition: {sorted(unknown)}")
    version = genai_prices.__version__
    newest = max(
        (row["when"]["start_date"] for p in providers for m in p["models"] for row in m["prices"]
         if row.get("when", {}).get("start_date")),
        default="",
    )
    today = dt.date.today().isoformat()
    return {
        "schema": 1,
        "table_id": f"genai-prices-{version}@{today}",
        "source": {"package": "genai-prices", "version": version, "license": "MIT"},
        "generated_at": today,
        "newest_price_change": newest,
        "units": units,
        "providers": providers,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the bundled table differs (ignores the date)")
    parser.add_argument("--output", type=Path, default=OUT)
    args = parser.parse_args(argv)
    table = build_table()
    if args.check:
        current = json.loads(args.output.read_text())
        strip = ("table_id", "generated_at")
        same = {k: v for k, v in current.items() if k not in strip} == {
            k: v for k, v in table.items() if k not in strip}
        print("prices.json is up to date" if same else "prices.json is stale: run scripts/update_prices.py")
        return 0 if same else 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(table, separators=(",", ":"), sort_keys=False) + "\n")
    NOTICE.write_text(GENAI_PRICES_LICENSE)
    n_models = sum(len(p["models"]) for p in table["providers"])
    print(f"wrote {args.output.relative_to(ROOT)}: {len(table['providers'])} providers, {n_models} models, "
          f"{args.output.stat().st_size // 1024} KiB, table {table['table_id']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
