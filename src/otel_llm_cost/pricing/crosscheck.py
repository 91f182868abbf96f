"""Cross-check of the price table against LiteLLM's map: no silent disagreement in a release.

Every model both price (resolved through our own name resolution, as a call would be) is compared part by
part (input, output, cache read, cache write) at 100k input tokens, below long-context tiers. A difference
above 1% must be listed with a reason as a ``[[difference]]`` in the corrections file (or fixed there by a
``[[correction]]``); a listed difference that no longer occurs is reported too, so the file stays true.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone

from .book import PriceBook
from .corrections import Corrections, Difference
from .litellm_map import LiteLLMModel
from .result import Unpriced
from .table import PriceTable, Tiered

PARTS = {"input_mtok": "input", "output_mtok": "output", "cache_read_mtok": "cache read",
         "cache_write_mtok": "cache write"}
TOLERANCE = 0.01
AT_INPUT_TOKENS = 100_000


@dataclass(frozen=True)
class Disagreement:
    provider: str
    name: str  # as LiteLLM names it (and a call would)
    litellm_key: str
    model: str  # our model id
    price_source: str
    part: str
    ours: float | None  # None: we have no separate price for this part (billed as input)
    theirs: float
    explained_by: Difference | None

    def describe(self) -> str:
        ours = "none (billed as input)" if self.ours is None else f"{self.ours:g}"
        return (f"{self.provider}/{self.name}: {PARTS[self.part]} ours {ours} ({self.price_source}, {self.model}) "
                f"vs LiteLLM {self.theirs:g} ({self.litellm_key})")


@dataclass
class Report:
    at: datetime
    compared: int = 0
    agreeing: int = 0
    corrected: int = 0  # models whose price in force is a correction, agreeing with LiteLLM
    unpriced: list[LiteLLMModel] = field(default_factory=list)  # LiteLLM prices them, we do not
    disagreements: list[Disagreement] = field(default_factory=list)
    stale: list[Difference] = field(default_factory=list)  # listed differences that no longer occur

    @property
    def unexplained(self) -> list[Disagreement]:
        return [d for d in self.disagreements if d.explained_by is None]

    @property
    def ok(self) -> bool:
        return not self.unexplained and not self.stale and not self.unpriced


def default_time(table: PriceTable) -> datetime:
    """Noon UTC on the table's generation day: a fixed instant, so the check gives the same answer every run."""
    return datetime.combine(date.fromisoformat(table.generated_at), time(12), timezone.utc)


def cross_check(table: PriceTable, litellm: Iterable[LiteLLMModel], corrections: Corrections,
                at: datetime | None = None) -> Report:
    book = PriceBook(table)
    report = Report(at=at or default_time(table))
    seen: set[tuple[str, str]] = set()
    for model in litellm:
        if (model.provider, model.name) in seen or model.provider not in table.providers:
            continue
        seen.add((model.provider, model.name))
        found = book.price_row(model.provider, model.name, report.at)
        if isinstance(found, Unpriced):
            report.unpriced.append(model)
            continue
        resolution, row = found
        entry = resolution.entry
        model_id = entry.id if entry is not None else model.name
        report.compared += 1
        differing = []
        for part in PARTS:
            theirs_raw = model.prices.get(part)
            if theirs_raw is None:
                continue
            theirs = _at(theirs_raw)
            ours = row.unit_price(part, AT_INPUT_TOKENS)
            if ours is None and (theirs == 0 or part == "cache_write_mtok"):
                continue  # no separate price where theirs is 0 (embedding output), or cache writes billed as input
            if ours is None or _differs(ours, theirs):
                differing.append(Disagreement(model.provider, model.name, model.key, model_id, row.source, part,
                                              ours, theirs,
                                              corrections.difference(model.provider, model.name, model_id,
                                                                     ours=ours, theirs=theirs)))
        if differing:
            report.disagreements.extend(differing)
        elif row.source == "correction":
            report.corrected += 1
        else:
            report.agreeing += 1
    used = {id(d.explained_by) for d in report.disagreements if d.explained_by is not None}
    report.stale = [d for d in corrections.differences if id(d) not in used]
    return report


def _at(price: float | dict[str, object] | Tiered) -> float:
    if isinstance(price, dict):
        tiers = sorted((int(s), float(p)) for s, p in price["tiers"])  # type: ignore[attr-defined]
        return Tiered(float(price["base"]), tuple(tiers)).at(AT_INPUT_TOKENS)  # type: ignore[arg-type]
    if isinstance(price, Tiered):
        return price.at(AT_INPUT_TOKENS)
    return float(price)


def _differs(ours: float, theirs: float) -> bool:
    scale = max(abs(ours), abs(theirs))
    return scale > 0 and abs(ours - theirs) > TOLERANCE * scale
