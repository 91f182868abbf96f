"""Reviewed price corrections (``data/corrections.toml``), applied on top of both price sources.

Why: the table is only as right as its sources, and a source can be months stale (DeepSeek) or name a model
wrongly. A correction is data a reviewer can check: the price, the instant it took effect, the provider's own
page it comes from, and a note. It becomes a dated row of the model's history (source ``correction``), so
calls before the change keep the old price and calls after it get the new one.

A ``[[tier]]`` prices a request variant of many models as a multiple of their own price, where the provider
states one rule (Bedrock: batch at 50% of on-demand, flex -50%, priority +75%): every model of the provider
whose id matches one of its globs and has no price of its own for that variant gets one, ``multiplier`` x its
newest row, from ``effective``. With ``stacks = true`` it is a surcharge instead (Anthropic's US-only inference,
``inference_geo = "us"``: 1.1x): the table multiplies whatever row prices the call (its date's row, long-context
tiers, batch or fast-mode prices) by it, so it stacks with the other variants.

A correction with ``variant`` prices a request variant instead (a service tier, batch processing: the context
``service_tier_context`` gives for the call's tier); it is added to the model's variants from its effective date,
replacing a source variant for the same context.

The same file lists the known ``[[difference]]``\\ s with LiteLLM's map: a model both sources price that still
differs by more than 1% after corrections must be listed there with the reason we keep our price, or the
cross-check (``otel-llm-cost prices diff``, run by the tests) fails.

```toml
[[correction]]
provider = "deepseek"              # price-table provider id
model = "deepseek-chat"            # price-table model id (with match = [...] it may be a new model)
effective = 2025-09-05T16:00:00Z   # when the price took effect (UTC instant or date)
input = 0.56                       # USD per 1M tokens; the full row (fields as in price files)
cache_read = 0.07
output = 1.68
source = "https://api-docs.deepseek.com/news/news250821"
note = "V3.1 prices for both models; night-time discounts ended"

[[correction]]                     # a request variant's price (a service tier, batch processing...)
provider = "aws"
model = "amazon.nova-pro-v1:0"
variant = { service_tier = "latency_optimized" }   # the request context that selects it (price book contexts)
effective = 2024-12-02
input = 1.0                        # the variant's prices replace these parts of the model's row in force
output = 4.0
source = "https://aws.amazon.com/bedrock/pricing/"
note = "latency-optimized inference"

[[tier]]
provider = "aws"
models = ["*amazon.nova-pro-*"]    # globs over the provider's model ids
variant = { service_tier = "priority" }
multiplier = 1.75
effective = 2025-11-18
source = "https://aws.amazon.com/bedrock/pricing/"
note = "Priority tier: +75% over standard on-demand"

[[difference]]
provider = "aws"
model = "eu.*"                     # glob over the model name LiteLLM uses, or our model id
reason = "LiteLLM has EU region prices; ..."
ratio = 1.1                        # optional: explains only ours / theirs = 1.1 (within 1%)
```
"""

from __future__ import annotations

import copy
import fnmatch
import os
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Any

from .overrides import PRICE_FIELDS, PriceFileError, _parse_text

CORRECTION_FIELDS = {"provider", "model", "effective", "source", "note", "match", "variant", *PRICE_FIELDS}
# the request-context keys the price book selects variants by
VARIANT_KEYS = {"service_tier", "processing", "inference_geo"}
DIFFERENCE_FIELDS = {"provider", "model", "reason", "ratio"}
TIER_FIELDS = {"provider", "models", "variant", "multiplier", "stacks", "effective", "source", "note"}
CORRECTION = "correction"


@dataclass(frozen=True)
class Correction:
    provider: str
    model: str
    effective: datetime  # UTC
    prices: dict[str, float]  # price-table keys, USD per 1M
    source: str  # the provider's page
    note: str
    match: tuple[str, ...] = ()  # names of a model the sources do not have (creates it)
    variant: tuple[tuple[str, str], ...] = ()  # a request variant's context (service_tier = "flex"), else ()

    def start(self) -> str:
        """The row constraint's start: a date when at midnight UTC, else the instant."""
        if self.effective.time() == time(0):
            return self.effective.date().isoformat()
        return self.effective.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Difference:
    provider: str
    model: str  # glob
    reason: str
    ratio: float | None = None  # when given, it explains only ours / theirs within 1% of it (e.g. 1.1: +10%)

    def covers(self, provider: str, *names: str) -> bool:
        return self.provider == provider and any(fnmatch.fnmatchcase(n, self.model) for n in names)

    def explains(self, ours: float | None, theirs: float) -> bool:
        """Whether this reason accounts for these two prices (any, unless a ratio is stated)."""
        if self.ratio is None:
            return True
        return ours is not None and theirs > 0 and abs(ours / theirs - self.ratio) <= 0.01 * self.ratio


@dataclass(frozen=True)
class TierRule:
    """A request variant priced as ``multiplier`` x the model's own price, for the models its globs match."""

    provider: str
    models: tuple[str, ...]  # globs over model ids
    variant: tuple[tuple[str, str], ...]
    multiplier: float
    effective: datetime
    source: str
    note: str
    # False: the variant's prices are the model's newest row x multiplier (replaces it, like a service tier).
    # True: a surcharge on whatever row the call is priced at (its date, batch, fast mode, long context).
    stacks: bool = False

    def covers(self, model_id: str) -> bool:
        return any(fnmatch.fnmatchcase(model_id, glob) for glob in self.models)


@dataclass(frozen=True)
class Corrections:
    corrections: tuple[Correction, ...] = ()
    differences: tuple[Difference, ...] = ()
    tiers: tuple[TierRule, ...] = ()

    def for_model(self, provider: str, model: str) -> list[Correction]:
        return [c for c in self.corrections if c.provider == provider and c.model == model]

    def difference(self, provider: str, *names: str, ours: float | None = None, theirs: float = 0.0
                   ) -> Difference | None:
        """The first listed difference that covers the model and explains these prices."""
        return next((d for d in self.differences if d.covers(provider, *names) and d.explains(ours, theirs)), None)


def bundled_corrections_path() -> str:
    return os.path.join(os.path.dirname(__file__), "data", "corrections.toml")


def load_corrections(path: str | None = None) -> Corrections:
    """Parse and check a corrections file (default: the bundled one); raises PriceFileError naming the entry."""
    path = path or bundled_corrections_path()
    with open(path, encoding="utf-8") as handle:
        data = _parse_text(path, handle.read())
    problems: list[str] = []
    corrections = [c for i, raw in enumerate(data.get("correction", ()))
                   if (c := _correction(raw, f"[[correction]] #{i + 1}", problems)) is not None]
    differences = [d for i, raw in enumerate(data.get("difference", ()))
                   if (d := _difference(raw, f"[[difference]] #{i + 1}", problems)) is not None]
    tiers = [t for i, raw in enumerate(data.get("tier", ()))
             if (t := _tier(raw, f"[[tier]] #{i + 1}", problems)) is not None]
    unknown = set(data) - {"schema", "correction", "difference", "tier"}
    if unknown:
        problems.append(f"unknown top-level keys {sorted(unknown)}")
    if problems:
        raise PriceFileError(f"corrections file {path}: " + "; ".join(problems))
    return Corrections(tuple(corrections), tuple(differences), tuple(tiers))


def _correction(raw: Any, entry: str, problems: list[str]) -> Correction | None:
    if not isinstance(raw, dict):
        problems.append(f"{entry}: expected a table")
        return None
    before = len(problems)
    for key in sorted(set(raw) - CORRECTION_FIELDS):
        problems.append(f"{entry}: unknown field {key!r}")
    for key in ("provider", "model", "source", "note"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            problems.append(f"{entry}: field {key!r} is required (a non-empty string)")
    source = raw.get("source", "")
    if isinstance(source, str) and source and not source.startswith("https://"):
        problems.append(f"{entry}: field 'source' must be the provider's https:// page, got {source!r}")
    effective = _instant(raw.get("effective"))
    if effective is None:
        problems.append(f"{entry}: field 'effective' must be a TOML date or UTC date-time, got "
                        f"{raw.get('effective')!r}")
    prices: dict[str, float] = {}
    for name, key in PRICE_FIELDS.items():
        value = raw.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            problems.append(f"{entry}: field {name!r} must be a number >= 0, got {value!r}")
        else:
            prices[key] = value
    if ("input_mtok" not in prices or "output_mtok" not in prices) and "rerank_searches_kcount" not in prices:
        problems.append(f"{entry}: a correction gives the full row: 'input' and 'output' at least "
                        "(or 'rerank_searches' for a rerank model)")
    match = raw.get("match", [])
    if not isinstance(match, list) or not all(isinstance(m, str) and m for m in match):
        problems.append(f"{entry}: field 'match' must be a list of model names")
    variant = _variant(raw, entry, problems)
    if variant and match:
        problems.append(f"{entry}: a variant correction prices a model the table has: no 'match'")
    if len(problems) > before or effective is None:
        return None
    return Correction(raw["provider"].strip().lower(), raw["model"].strip().lower(), effective, prices,
                      raw["source"], raw["note"].strip(), tuple(m.lower() for m in match),
                      variant)


def _variant(raw: dict[str, Any], entry: str, problems: list[str]) -> tuple[tuple[str, str], ...]:
    variant = raw.get("variant", {})
    if not isinstance(variant, dict) or set(variant) - VARIANT_KEYS or not all(
            isinstance(v, str) and v.strip() for v in variant.values()):
        problems.append(f"{entry}: field 'variant' must be a table of {sorted(VARIANT_KEYS)} -> name, got "
                        f"{variant!r}")
        return ()
    return tuple(sorted((k, v.strip().lower()) for k, v in variant.items()))


def _tier(raw: Any, entry: str, problems: list[str]) -> TierRule | None:
    if not isinstance(raw, dict):
        problems.append(f"{entry}: expected a table")
        return None
    before = len(problems)
    for key in sorted(set(raw) - TIER_FIELDS):
        problems.append(f"{entry}: unknown field {key!r}")
    for key in ("provider", "source", "note"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            problems.append(f"{entry}: field {key!r} is required (a non-empty string)")
    source = raw.get("source", "")
    if isinstance(source, str) and source and not source.startswith("https://"):
        problems.append(f"{entry}: field 'source' must be the provider's https:// page, got {source!r}")
    models = raw.get("models")
    if not isinstance(models, list) or not models or not all(isinstance(m, str) and m for m in models):
        problems.append(f"{entry}: field 'models' must be a non-empty list of model-id globs")
    variant = _variant(raw, entry, problems)
    if not variant and "variant" not in raw:
        problems.append(f"{entry}: field 'variant' is required")
    multiplier = raw.get("multiplier")
    if isinstance(multiplier, bool) or not isinstance(multiplier, (int, float)) or multiplier <= 0:
        problems.append(f"{entry}: field 'multiplier' must be a number > 0, got {multiplier!r}")
    stacks = raw.get("stacks", False)
    if not isinstance(stacks, bool):
        problems.append(f"{entry}: field 'stacks' must be true or false, got {stacks!r}")
    effective = _instant(raw.get("effective"))
    if effective is None:
        problems.append(f"{entry}: field 'effective' must be a TOML date or UTC date-time, got "
                        f"{raw.get('effective')!r}")
    if len(problems) > before or effective is None or not isinstance(models, list) \
            or not isinstance(multiplier, (int, float)):
        return None
    return TierRule(raw["provider"].strip().lower(), tuple(m.lower() for m in models), variant,
                    float(multiplier), effective, raw["source"], raw["note"].strip(), stacks is True)


def _difference(raw: Any, entry: str, problems: list[str]) -> Difference | None:
    if not isinstance(raw, dict):
        problems.append(f"{entry}: expected a table")
        return None
    before = len(problems)
    for key in sorted(set(raw) - DIFFERENCE_FIELDS):
        problems.append(f"{entry}: unknown field {key!r}")
    for key in ("provider", "model", "reason"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            problems.append(f"{entry}: field {key!r} is required (a non-empty string)")
    ratio = raw.get("ratio")
    if ratio is not None and (isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or ratio <= 0):
        problems.append(f"{entry}: field 'ratio' must be a number > 0 (ours / theirs), got {ratio!r}")
    if len(problems) > before:
        return None
    return Difference(raw["provider"].strip().lower(), raw["model"].strip().lower(), raw["reason"].strip(),
                      None if ratio is None else float(ratio))


def _instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return None  # a local time is ambiguous: the file must say UTC (Z)
        return value.astimezone(timezone.utc)
    if isinstance(value, date):
        return datetime.combine(value, time(0), timezone.utc)
    return None


def apply_corrections(providers: list[dict[str, Any]], corrections: Corrections) -> list[dict[str, Any]]:
    """The table's providers with every correction in its model's history (a copy; the input is unchanged).

    A correction row goes before the first row of the source that starts later, so the newest change in force
    wins (rows are "last active wins"); a source row starting at the same instant is replaced."""
    out = copy.deepcopy(providers)
    by_id = {p["id"]: p for p in out}
    for correction in sorted(corrections.corrections, key=lambda c: c.effective):
        provider = by_id.get(correction.provider)
        if provider is None:
            raise PriceFileError(f"correction for {correction.provider}/{correction.model}: no such provider in "
                                 "the price table")
        model = next((m for m in provider["models"] if m["id"] == correction.model), None)
        if model is None:
            if not correction.match:
                raise PriceFileError(f"correction for {correction.provider}/{correction.model}: no such model in "
                                     "the price table (give match = [names] to add it)")
            model = {"id": correction.model, "match": {"or": [{"equals": n} for n in correction.match]},
                     "source": CORRECTION, "prices": []}
            provider["models"].insert(0, model)  # its exact names win over a source's broader rules
        if correction.variant:
            _insert_variant(model, correction)
        else:
            _insert(model, correction)
    for rule in corrections.tiers:
        provider = by_id.get(rule.provider)
        if provider is None:
            raise PriceFileError(f"[[tier]] for {rule.provider}: no such provider in the price table")
        for model in provider["models"]:
            if rule.covers(model["id"]):
                _apply_tier(model, rule)
    return out


def _scaled(price: Any, multiplier: float) -> Any:
    """A price (a number, or long-context tiers ``{"base", "tiers": [[above, price]]}``) x ``multiplier``."""
    if isinstance(price, dict):
        return {**price, "base": _scaled(price["base"], multiplier),
                "tiers": [[above, _scaled(p, multiplier)] for above, p in price.get("tiers", ())]}
    return round(price * multiplier, 10)


def _apply_tier(model: dict[str, Any], rule: TierRule) -> None:
    """The rule's variant for one model, unless the model prices that variant itself (a source or a correction)."""
    when = dict(rule.variant)
    if any(v.get("when") == when for v in model.get("variants", ())) or not model["prices"]:
        return
    start = Correction("", "", rule.effective, {}, "", "").start()
    if rule.stacks:  # the table applies it on top of the row in force (table.ModelEntry.prices_at)
        model.setdefault("variants", []).append({
            "when": when, "prices": {}, "multiplier": rule.multiplier, "constraint": {"start_date": start},
            "source": CORRECTION, "ref": rule.source})
        return
    newest = model["prices"][-1]["prices"]
    model.setdefault("variants", []).append({
        "when": when, "prices": {key: _scaled(price, rule.multiplier) for key, price in newest.items()
                                  if key.endswith("_mtok")},  # per-token prices; per-request fees stay
        "constraint": {"start_date": start}, "source": CORRECTION, "ref": rule.source})


def _insert_variant(model: dict[str, Any], correction: Correction) -> None:
    """The variant row of a correction: it replaces the model's variants for the same context (a source's
    undated variant would otherwise still apply before the correction's date)."""
    when = dict(correction.variant)
    variants = [v for v in model.get("variants", ()) if v.get("when") != when]
    variants.append({"when": when, "prices": dict(correction.prices),
                     "constraint": {"start_date": correction.start()}, "source": CORRECTION,
                     "ref": correction.source})
    model["variants"] = variants


def _insert(model: dict[str, Any], correction: Correction) -> None:
    start = correction.effective
    row = {"when": {"start_date": correction.start()}, "prices": dict(correction.prices), "source": CORRECTION,
           "ref": correction.source}
    rows: list[dict[str, Any]] = model["prices"]
    if not rows:  # a model only the corrections have: nothing before its first price
        rows.append(row)
        return
    for i, existing in enumerate(rows):
        existing_start = _row_start(existing)
        if existing_start is None:
            continue
        if existing_start == start:
            rows[i] = row
            return
        if existing_start > start:
            rows.insert(i, row)
            return
    rows.append(row)


def _row_start(row: dict[str, Any]) -> datetime | None:
    from .table import parse_start

    when = row.get("when") or {}
    return parse_start(when["start_date"]) if "start_date" in when else None
