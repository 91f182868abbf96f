"""``PriceBook``: prices one call from (provider, model, usage, time), never raising, O(1) after first sight.

Precedence for one call: provider-reported cost -> user ``[[price]]`` (exact before glob/regex,
newest ``effective_from`` in force) -> bundled price x user ``[[discount]]`` -> bundled price -> unpriced.
Name resolution per (provider, model) is memoised, misses included, in a bounded dict. A call whose price
cannot depend on its time (no dated change, no user price or discount, no time-window variant) is then priced
by a function compiled for its price row (``compiled.py``), memoised per (provider, model, response model,
service tier): the general path runs once per such key and for calls the compiled function declines.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timezone

from ..core.usage import USAGE_FIELDS, Usage
from . import result as r
from .compiled import CompiledPrice, compile_row, compile_unpriced, decline
from .matching import compact_date_to_dashed, is_fine_tuned, normalised_candidates
from .providers import names_for, table_provider_id
from .store import table_in_force
from .table import Breakdown, ModelEntry, NegativeCount, PriceRow, PriceTable, Tiered

TYPE_CHECKING = False  # not `from typing`: importing typing is a large part of this package's import time
if TYPE_CHECKING:  # the override parser is imported only when files are given
    from typing import Any

    from .overrides import Alias, Discount, Overrides, UserPrice

UTC = timezone.utc
logger = logging.getLogger("otel_llm_cost.pricing")
_now = datetime.now


class Resolution:
    """What one (provider, model) resolved to; computed once and memoised.

    ``via_fallback``: found in a fallback provider (e.g. azure -> openai), whose request variants are then
    not applied, as in the source data's own evaluator."""

    __slots__ = ("discounts", "entry", "user_prices", "via_fallback")

    def __init__(self, entry: ModelEntry | None, via_fallback: bool, user_prices: tuple[UserPrice, ...],
                 discounts: tuple[Discount, ...]) -> None:
        self.entry = entry
        self.via_fallback = via_fallback
        self.user_prices = user_prices  # applicable explicit prices, best first
        self.discounts = discounts  # applicable discounts, newest first


def _usage_problem(usage: Usage) -> str | None:
    """Why ``usage`` cannot be priced (negative or non-integer counts), or None. Fast path: all ints."""
    for name in USAGE_FIELDS:
        value = getattr(usage, name)
        if value is None or (value.__class__ is int and value >= 0):
            continue
        if value.__class__ is not int:
            return f"{name} is not a whole number: {value!r}"
        return f"{name} is negative: {value}"
    return None


def _as_utc(at: datetime | None) -> datetime:
    if at is None:
        return _now(UTC)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _counts_beside_tokens(usage: Usage) -> bool:
    """Whether a call without token counts reports what it is billed by instead (OCR pages, audio seconds)."""
    return usage.document_pages is not None or usage.audio_seconds is not None


def _unpriced_unit(usage: Usage, row: PriceRow) -> str | None:
    """The billed unit beside tokens that ``usage`` reports and ``row`` has no price for, or None."""
    if usage.document_pages and "input_document_kpages" not in row.prices:
        return "document page"
    if usage.audio_seconds and not {"audio_hours", "input_audio_hours"} & row.prices.keys():
        return "audio duration"
    return None


def service_tier_context(service_tier: str | None) -> dict[str, str] | None:
    """The price-variant context for an API's service tier value (batch is a processing mode)."""
    if not service_tier:
        return None
    tier = service_tier.lower()
    if tier == "batch":
        return {"processing": "batch"}
    if tier in ("standard", "auto", "default", "standard_only"):
        return {"service_tier": "default"}
    return {"service_tier": tier}


class PriceBook:
    """Bundled price table plus user overrides; ``cost()`` is the hot path."""

    def __init__(self, table: PriceTable | None = None, overrides: Overrides | None = None,
                 *, memo_size: int = 4096) -> None:
        self.table = table if table is not None else table_in_force()
        if overrides is None:
            from .overrides import Overrides

            overrides = Overrides()
        self.overrides = overrides
        self.table_id = self.table.table_id
        self._memo: dict[tuple[str, str], Resolution | r.Unpriced] = {}
        self._memo_size = memo_size
        self._user_rows: dict[int, PriceRow] = {}
        self._errors_logged: set[str] = set()
        self._unpriced_warned: set[tuple[str, str]] = set()
        self._compiled: dict[tuple[str, str | None, str | None, str | None], CompiledPrice] = {}
        self._row_pricers: dict[tuple[PriceRow, str, str], CompiledPrice] = {}  # bounded by the table's rows

    # -- resolution (once per distinct provider/model) -------------------------------------------------

    def resolve(self, provider: str, model: str | None) -> Resolution | r.Unpriced:
        """The table entry and overrides that price ``model`` at ``provider`` (memoised)."""
        if not model:
            return r.Unpriced(r.NO_MODEL, "the call reported no model name")
        key = (provider, model)
        found = self._memo.get(key)
        if found is None:
            found = self._resolve(provider or "", model)
            _bounded_put(self._memo, key, found, self._memo_size)
        return found

    def _warn_unpriced(self, provider: str, model: str, unpriced: r.Unpriced) -> None:
        """Say once per (provider, model) that its calls are unpriced: only when no name of the call priced it
        (an unknown answering name whose request model is known is not worth a warning)."""
        key = (provider, model)
        if key not in self._unpriced_warned and len(self._unpriced_warned) < self._memo_size:
            self._unpriced_warned.add(key)
            logger.warning("otel-llm-cost: no price for model %r of provider %r (%s); calls are counted as "
                           "unpriced. Add it to a price file (OTEL_LLM_COST_PRICES_FILE) to price it.",
                           model, provider, unpriced.detail or unpriced.reason)

    def _alias(self, names: frozenset[str], name: str) -> Alias | None:
        return next((a for a in self.overrides.aliases if a.pattern.matches(names, name)), None)

    def _resolve(self, provider: str, model: str) -> Resolution | r.Unpriced:
        name = model.strip().lower()
        names = names_for(provider)
        alias = self._alias(names, name)
        if alias is not None:
            name = alias.maps_to.lower()
            if alias.maps_to_provider:
                provider, names = alias.maps_to_provider, names_for(alias.maps_to_provider)

        table_provider = (self.table.provider(table_provider_id(provider)) if provider
                          else self.table.provider_for_model(name))
        entry: ModelEntry | None = None
        via_fallback = False
        if table_provider is not None:
            names = names | {table_provider.id}
            candidates = [name, compact_date_to_dashed(name), *normalised_candidates(name)]
            for candidate in dict.fromkeys(candidates):
                found = self.table.find(table_provider, candidate)
                if found is not None:
                    entry, via_fallback = found
                    break

        model_names = {name} if entry is None else {name, entry.id}
        user_prices = [p for p in self.overrides.prices if any(p.pattern.matches(names, m) for m in model_names)]
        # Exact names beat patterns; then the newest effective_from first (None = always, oldest).
        user_prices.sort(key=lambda p: (not p.pattern.is_exact, -(p.effective_from.toordinal()
                                                                  if p.effective_from else 0)))
        discounts = sorted((d for d in self.overrides.discounts if any(d.pattern.matches(names, m)
                                                                       for m in model_names)),
                           key=lambda d: -(d.effective_from.toordinal() if d.effective_from else 0))
        if entry is None and not user_prices:
            if is_fine_tuned(name):
                return r.Unpriced(r.FINE_TUNED_UNKNOWN, "the table has no fine-tuned price for it (the base "
                                  "model's price would be wrong)")
            if table_provider is None:
                return r.Unpriced(r.UNKNOWN_PROVIDER, f"provider {provider!r} is not in the price table")
            return r.Unpriced(r.UNKNOWN_MODEL, f"model {model!r} is not in the price table for {table_provider.id}")
        return Resolution(entry, via_fallback, tuple(user_prices), tuple(discounts))

    # -- pricing (every call) -----------------------------------------------------------------------

    def cost(self, provider: str, model: str | None, usage: Usage, *, at: datetime | None = None,
             response_model: str | None = None, service_tier: str | None = None,
             context: dict[str, str] | None = None, duration_s: float | None = None,
             provider_cost: float | None = None) -> r.Cost | r.Unpriced:
        """USD cost of one call, or Unpriced with the reason. Never raises.

        ``response_model`` (the concrete snapshot the provider answered with) is tried before ``model``.
        ``at`` is the request start time (dated prices); ``service_tier`` selects batch/flex/priority prices.
        ``provider_cost`` is a cost the provider reported itself (OpenRouter ``usage.cost``): it wins.
        """
        try:
            if context is None and provider_cost is None:
                compiled = self._compiled.get((provider, model, response_model, service_tier))
                if compiled is not None:
                    priced = compiled(usage)
                    if priced is not None:
                        return priced
            return self._cost(provider, model, usage, at, response_model, service_tier, context, duration_s,
                              provider_cost)
        except Exception as exc:  # never break the host application
            cause = f"{type(exc).__name__}: {exc}"
            if cause not in self._errors_logged and len(self._errors_logged) < 100:
                self._errors_logged.add(cause)
                logger.debug("otel-llm-cost: pricing failed for %r/%r", provider, model, exc_info=True)
            return r.Unpriced(r.PRICING_ERROR, cause)

    def _cost(self, provider: str, model: str | None, usage: Usage, at: datetime | None,
              response_model: str | None, service_tier: str | None, context: dict[str, str] | None,
              duration_s: float | None, provider_cost: float | None) -> r.Cost | r.Unpriced:
        problem = _usage_problem(usage)
        if problem is not None:
            return r.Unpriced(r.INVALID_USAGE, problem)
        reported = _valid_provider_cost(provider_cost)
        counted = usage.input_tokens is not None or _counts_beside_tokens(usage)
        if not counted and reported is None:
            return r.Unpriced(r.NO_USAGE, "the response carried no token usage")

        resolution: Resolution | r.Unpriced = r.Unpriced(r.NO_MODEL, "the call reported no model name")
        for name in (response_model, model):
            if name:
                resolution = self.resolve(provider, name)
                if isinstance(resolution, Resolution):
                    break
        local: r.Cost | r.Unpriced
        if not isinstance(resolution, Resolution):
            local = resolution
            if model or response_model:
                self._warn_unpriced(provider, model or response_model or "", resolution)
                if context is None and reported is None and len(self._compiled) < self._memo_size:
                    self._compiled[(provider, model, response_model, service_tier)] = compile_unpriced(resolution)
        elif not counted:
            local = r.Unpriced(r.NO_USAGE, "the response carried no token usage")
        else:
            local = self._local(resolution, usage, _as_utc(at), service_tier, context, duration_s)
            if context is None and reported is None and isinstance(local, r.Cost):
                self._compile(resolution, (provider, model, response_model, service_tier))
        if reported is not None:
            return _provider_reported(reported, local, provider, response_model or model or "", self.table_id)
        return local

    def _local(self, res: Resolution, usage: Usage, when: datetime, service_tier: str | None,
               context: dict[str, str] | None, duration_s: float | None) -> r.Cost | r.Unpriced:
        entry = res.entry
        try:
            if res.user_prices:
                day = when.date()
                user = next((p for p in res.user_prices if p.effective_from is None or p.effective_from <= day),
                            None)
                if user is not None:
                    parts = self._user_row(user).cost(usage)
                    other = parts.other + user.per_request * usage.requests + user.per_second * (duration_s or 0.0)
                    return _cost(parts, other, 1.0, f"override:{user.origin}",
                                 entry.provider_id if entry else "override", entry.id if entry else
                                 (user.pattern.model or (user.pattern.regex.pattern if user.pattern.regex else "")),
                                 "override")
            if entry is None:  # only user prices, none in force yet
                return r.Unpriced(r.NO_PRICE_AT_DATE, f"no user price in force on {when.date()}")
            if context is None and service_tier:
                context = service_tier_context(service_tier)
            row = entry.prices_at(when, None if res.via_fallback else context)
            unpriced = _unpriced_unit(usage, row)
            if unpriced is not None:
                if usage.input_tokens is None:  # billed by that unit alone: never a silent $0
                    return r.Unpriced(r.UNKNOWN_MODEL, f"the price table has no price per {unpriced} for {entry.id}")
                self._warn_unpriced_part(entry, unpriced)
            parts = row.cost(usage)
            if usage.web_searches and "web_searches_kcount" not in row.prices:
                self._warn_unpriced_part(entry, "web searches")
        except NegativeCount as exc:
            return r.Unpriced(r.INVALID_USAGE, str(exc))
        multiplier = 1.0
        if res.discounts:
            day = when.date()
            discount = next((d for d in res.discounts if d.effective_from is None or d.effective_from <= day), None)
            if discount is not None:
                multiplier = discount.multiplier
        return _cost(parts, parts.other, multiplier, self.table_id, entry.provider_id, entry.id, row.source)

    def _compile(self, res: Resolution, key: tuple[str, str | None, str | None, str | None]) -> None:
        """Remember how calls of ``key`` are priced from now on: a compiled pricer when its price row cannot
        depend on the call's time, else ``decline`` (the general path), so that this is decided once per key."""
        if key in self._compiled:
            return
        entry = res.entry
        row = None
        if entry is not None and not res.user_prices and not res.discounts:
            row = entry.fixed_row(None if res.via_fallback else service_tier_context(key[3]))
        pricer: CompiledPrice = decline
        if entry is not None and row is not None:
            row_key = (row, entry.provider_id, entry.id)  # many names can share a row: compile it once (~0.6 ms)
            pricer = self._row_pricers.get(row_key) or compile_row(row, self.table_id, entry.provider_id, entry.id)
            self._row_pricers[row_key] = pricer
        _bounded_put(self._compiled, key, pricer, self._memo_size)

    def _warn_unpriced_part(self, entry: ModelEntry, part: str) -> None:
        """The call is priced, but the table has no price for one of its billed parts: say so once per model,
        so an under-count is never silent."""
        key = f"{entry.provider_id}/{entry.id}/{part}"
        if key not in self._errors_logged and len(self._errors_logged) < 100:
            self._errors_logged.add(key)
            logger.warning("otel-llm-cost: the price table has no price for %s of %s at %s; those calls are priced "
                           "without them (add a [[price]] with per_request to a price file to include them).",
                           part, entry.id, entry.provider_id)

    def _user_row(self, user: UserPrice) -> PriceRow:
        row = self._user_rows.get(id(user))
        if row is None:
            prices: dict[str, float | Tiered] = dict(user.prices)
            for key, base in user.prices.items():
                tiers = tuple((above, tier[key]) for above, tier in user.tiers if key in tier)
                if tiers:
                    prices[key] = Tiered(base, tiers)
            row = self._user_rows[id(user)] = PriceRow(prices, self.table.units, "override")
        return row

    # -- introspection for the CLI ---------------------------------------------------------------------

    def price_row(self, provider: str, model: str, at: datetime | None = None,
                  service_tier: str | None = None) -> tuple[Resolution, PriceRow] | r.Unpriced:
        """The resolution and the price row that would price a call (for ``otel-llm-cost price``)."""
        res = self.resolve(provider, model)
        if isinstance(res, r.Unpriced):
            return res
        when = _as_utc(at)
        user = next((p for p in res.user_prices if p.effective_from is None or p.effective_from <= when.date()), None)
        if user is not None:
            return res, self._user_row(user)
        if res.entry is None:
            return r.Unpriced(r.NO_PRICE_AT_DATE, f"no user price in force on {when.date()}")
        return res, res.entry.prices_at(when, None if res.via_fallback else service_tier_context(service_tier))


def _bounded_put(memo: dict[Any, Any], key: Any, value: Any, size: int) -> None:
    """``memo[key] = value``, first dropping the oldest entry when full. Threads may race here: losing an
    eviction to another thread is harmless, an exception would turn a priced call into a pricing error."""
    if len(memo) >= size:
        with contextlib.suppress(RuntimeError, StopIteration):
            memo.pop(next(iter(memo)), None)
    memo[key] = value


def _valid_provider_cost(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 and number == number and number != float("inf") else None


def _cost(parts: Breakdown, other: float, multiplier: float, table_id: str, provider_id: str,
          model_id: str, price_source: str) -> r.Cost:
    if multiplier == 1.0:
        total = parts.input + parts.output + parts.cache_read + parts.cache_write + other
        return r.Cost.local(total, parts.input, parts.output, parts.cache_read, parts.cache_write, other, table_id,
                            provider_id, model_id, parts.cache_savings, 0.0, price_source)
    m = multiplier
    full = parts.input + parts.output + parts.cache_read + parts.cache_write + other
    inp, out, cr, cw, oth = parts.input * m, parts.output * m, parts.cache_read * m, parts.cache_write * m, other * m
    total = inp + out + cr + cw + oth
    return r.Cost(total=total, input=inp, output=out, cache_read=cr, cache_write=cw, other=oth, source="local",
                  price_table=table_id, provider=provider_id, model=model_id,
                  cache_savings=parts.cache_savings * m, discount_savings=full - total, price_source=price_source)


def _provider_reported(total: float, local: r.Cost | r.Unpriced, provider: str, model: str,
                       table_id: str) -> r.Cost:
    """A provider-reported total, split like our local breakdown when we have one (else all "other")."""
    if isinstance(local, r.Cost) and local.total > 0:
        f = total / local.total
        parts = (local.input * f, local.output * f, local.cache_read * f, local.cache_write * f)
        return r.Cost(total=total, input=parts[0], output=parts[1], cache_read=parts[2], cache_write=parts[3],
                      other=total - sum(parts), source="provider", price_table=table_id, provider=local.provider,
                      model=local.model, cache_savings=local.cache_savings * f, price_source=local.price_source)
    return r.Cost(total=total, input=0.0, output=0.0, cache_read=0.0, cache_write=0.0, other=total,
                  source="provider", price_table=table_id, provider=provider, model=model)
