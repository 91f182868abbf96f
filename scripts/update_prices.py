#!/usr/bin/env python3
"""Regenerate the bundled price table from genai-prices (installed) and LiteLLM's map, with the corrections.

genai-prices is a development dependency only: this script writes its provider/model data in the shape of
genai-prices' published data file and hands it to the package's own converter and merge
(``otel_llm_cost.pricing.genai_data`` / ``.merge``, the same code ``otel-llm-cost prices update`` runs), which
add LiteLLM's models genai-prices does not price and apply ``pricing/data/corrections.toml``. The result is
``src/otel_llm_cost/pricing/data/prices.json``, which our own evaluator reads at run time: the installed package
never imports pydantic, genai-prices or litellm and never touches the network.

Kept from genai-prices: dated price history and time-of-day windows, long-context tiers, every price key,
request variants (batch, service tiers, speed, route), provider and model match rules, fallback providers.

Run: ``python scripts/update_prices.py [--litellm WHEEL_OR_JSON]`` (``--check`` exits 1 when the file is stale).
The LiteLLM map defaults to the pinned wheel that ``scripts/setup.d/30-litellm-price-map.sh`` caches, else an
installed litellm.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from otel_llm_cost.pricing import litellm_map
from otel_llm_cost.pricing.corrections import load_corrections
from otel_llm_cost.pricing.genai_data import convert_providers
from otel_llm_cost.pricing.merge import build_table, litellm_table_model

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

Models that genai-prices does not price are taken from LiteLLM's model price map
(model_prices_and_context_window_backup.json, https://github.com/BerriAI/litellm), distributed under the
MIT License (the same terms as above) with this notice:

Copyright (c) 2023 Berri AI
"""


def _number(value: Decimal) -> float | int:
    """A Decimal as the shortest JSON number that round-trips to the same float."""
    as_int = int(value)
    return as_int if value == as_int else float(value)


# --- genai-prices' objects in the shape of its published data file (prices/new_data/v2/data.json) --------

def _price(value: Any) -> Any:
    from genai_prices import types as t

    if isinstance(value, t.TieredPrices):
        return {"base": _number(value.base), "tiers": [{"start": tier.start, "price": _number(tier.price)}
                                                        for tier in value.tiers]}
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


def _constraint(constraint: Any) -> dict[str, str]:
    from genai_prices import types as t

    if isinstance(constraint, t.StartDateConstraint):
        return {"start_date": constraint.start_date.isoformat()}
    if isinstance(constraint, t.TimeOfDateConstraint):
        return {"start_time": constraint.start_time.isoformat().replace("+00:00", "Z"),
                "end_time": constraint.end_time.isoformat().replace("+00:00", "Z")}
    raise TypeError(f"unknown price constraint {constraint!r}")


def _model(model: Any) -> dict[str, Any]:
    from genai_prices import types as t

    out: dict[str, Any] = {"id": model.id, "match": _clause(model.match)}
    for key in ("name", "context_window", "deprecated"):
        if getattr(model, key):
            out[key] = getattr(model, key)
    if isinstance(model.prices, t.ModelPrice):
        out["prices"] = _prices(model.prices)
    else:
        out["prices"] = [{"constraint": _constraint(cp.constraint), "prices": _prices(cp.prices)} if cp.constraint
                         else {"prices": _prices(cp.prices)} for cp in model.prices]
    if model.price_variants:
        out["price_variants"] = [
            {"when": dict(v.when), "prices": _prices(v.prices),
             **({"constraint": _constraint(v.constraint)} if v.constraint else {})}
            for v in model.price_variants
        ]
    return out


def genai_prices_data() -> list[dict[str, Any]]:
    """The installed genai-prices' providers as its published data file has them."""
    from genai_prices.data_snapshot import get_snapshot

    out = []
    for provider in get_snapshot().providers:
        entry: dict[str, Any] = {"id": provider.id, "name": provider.name, "api_pattern": provider.api_pattern}
        if provider.provider_match is not None:
            entry["provider_match"] = _clause(provider.provider_match)
        if provider.model_match is not None:
            entry["model_match"] = _clause(provider.model_match)
        if provider.fallback_model_providers:
            entry["fallback_model_providers"] = list(provider.fallback_model_providers)
        entry["models"] = [_model(m) for m in provider.models]
        out.append(entry)
    return out


def genai_prices_units() -> dict[str, Any]:
    """Every unit genai-prices knows (not only the used ones), so user price files can price any of them."""
    from genai_prices.units import _get_registry

    return {unit.price_key: {"usage": unit.usage_key, "per": unit.per, "dimensions": dict(unit.dimensions)}
            for unit in _get_registry().units.values()}


def build(litellm_path: str | None = None) -> dict[str, Any]:
    import genai_prices

    units = genai_prices_units()
    providers = convert_providers(genai_prices_data(), units)
    data, ll_version = litellm_map.read_map(litellm_map.find_map(litellm_path))
    extra = [(m.provider, litellm_table_model(m)) for m in litellm_map.models(data)]
    today = dt.date.today().isoformat()
    version = genai_prices.__version__
    return build_table(
        providers, units, extra=extra, corrections=load_corrections(),
        table_id=f"genai-prices-{version}+litellm-{ll_version}@{today}", generated_at=today,
        source={"package": "genai-prices", "version": version, "license": "MIT", "litellm": ll_version,
                "litellm_license": "MIT"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the bundled table differs (ignores the date)")
    parser.add_argument("--litellm", metavar="WHEEL_OR_JSON", default=None,
                        help=f"LiteLLM's map: a litellm wheel or the JSON (default: the cached "
                             f"litellm-{litellm_map.LITELLM_PINNED} wheel, else an installed litellm)")
    parser.add_argument("--output", type=Path, default=OUT)
    args = parser.parse_args(argv)
    table = build(args.litellm)
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
    n_litellm = sum(m.get("source") == "litellm" for p in table["providers"] for m in p["models"])
    print(f"wrote {args.output}: {len(table['providers'])} providers, {n_models} models "
          f"({n_litellm} from LiteLLM), {args.output.stat().st_size // 1024} KiB, table {table['table_id']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
