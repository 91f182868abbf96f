"""Reviewed price corrections (``data/corrections.toml``), applied on top of both price sources.

Why: the table is only as right as its sources, and a source can be months stale (DeepSeek) or name a model
wrongly. A correction is data a reviewer can check: the price, the instant it took effect, the provider's own
page it comes from, and a note. It becomes a dated row of the model's history (source ``correction``), so
calls before the change keep the old price and calls after it get the new one.

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

CORRECTION_FIELDS = {"provider", "model", "effective", "source", "note", "match", *PRICE_FIELDS}
DIFFERENCE_FIELDS = {"provider", "model", "reason", "ratio"}
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
class Corrections:
    corrections: tuple[Correction, ...] = ()
    differences: tuple[Difference, ...] = ()

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
    unknown = set(data) - {"schema", "correction", "difference"}
    if unknown:
        problems.append(f"unknown top-level keys {sorted(unknown)}")
    if problems:
        raise PriceFileError(f"corrections file {path}: " + "; ".join(problems))
    return Corrections(tuple(corrections), tuple(differences))


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
    if len(problems) > before or effective is None:
        return None
    return Correction(raw["provider"].strip().lower(), raw["model"].strip().lower(), effective, prices,
                      raw["source"], raw["note"].strip(), tuple(m.lower() for m in match))


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
        _insert(model, correction)
    return out


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
