"""What a call will cost, before it is made: low and high USD bounds that contain the billed cost.

One implementation for ``otel_llm_cost.estimate_cost()`` and the budget guard's pre-call reservation (its
``high_usd``). Prices come from the same ``PriceBook.cost`` that prices finished calls, so overrides, discounts,
dated prices, long-context tiers and service tiers apply alike. Input tokens are counted by ``request_tokens``.

The bounds:
- low: the fewest input tokens the request can have, no output, and every input token a cache read when the
  call can hit a prompt cache (Anthropic-style models only when the request marks ``cache_control``; OpenAI only
  from 1,024 prompt tokens). Nothing the call does costs less.
- high: the most input tokens, the output bound (the request's max tokens times its choice count, else the
  model's context window minus the input), written to the 1-hour cache when caching is possible, and reasoning
  priced separately when the model does so: the most expensive way the call can be billed.
Not included: provider-side tool fees (web search per-request prices), which no request bounds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..core.usage import Usage
from . import default_price_book
from .book import PriceBook, Resolution
from .request_tokens import OPENAI_PROVIDERS, count_request, request_of
from .result import Cost, Unpriced

OPENAI_CACHE_MIN_TOKENS = 1024  # OpenAI caches prompts from this length on
_MAX_OUTPUT_KEYS = ("max_completion_tokens", "max_output_tokens", "max_tokens")


@dataclass(frozen=True)
class Estimate:
    """Bounds of one call's cost. ``low_usd``/``high_usd`` are None when the model is unpriced (``unpriced_reason``
    says why); ``high_usd`` is also None when no output bound is known (no max tokens, no context window)."""

    provider: str
    model: str
    low_usd: float | None
    high_usd: float | None
    input_tokens_low: int
    input_tokens_high: int
    max_output_tokens: int | None  # the bound used for high_usd (request's max tokens, else model limit if known)
    price_row: str | None  # which table row priced it
    unpriced_reason: str | None


def estimate_cost(*, provider: str, model: str, messages: Any = None, input_tokens: int | None = None,
                  max_output_tokens: int | None = None, at: datetime | None = None,
                  book: PriceBook | None = None) -> Estimate:
    """Low and high USD cost of a call of ``model`` at ``provider`` (``gen_ai.provider.name`` values).

    ``messages``: a prompt string, a list of chat messages, or the whole request's keyword arguments (then its
    system prompt, tools, max tokens, choice count and service tier count too). ``input_tokens``: a known count
    instead. ``max_output_tokens`` overrides the request's. ``at``: the price date (default now). ``book``: the
    price book (default: the bundled table with ``OTEL_LLM_COST_PRICES_FILE``).
    """
    if messages is None and input_tokens is None:
        raise ValueError("estimate_cost needs messages=... (the prompt or request) or input_tokens=...")
    _check_count("input_tokens", input_tokens)
    _check_count("max_output_tokens", max_output_tokens)
    book = book if book is not None else default_price_book()
    request: Mapping[str, Any] = request_of(messages) if messages is not None else {}
    if input_tokens is not None:
        low_in = high_in = input_tokens
        cache_marked = True  # unknown: a cache hit may happen
    else:
        counted = count_request(provider, model, request)
        low_in, high_in, cache_marked = counted.low, counted.high, counted.cache_marked
    tier = request.get("service_tier")
    tier = tier if isinstance(tier, str) else None
    output = max_output_tokens if max_output_tokens is not None else _requested_output(request)
    if output is None:
        window = _context_window(book, provider, model)
        output = max(window - low_in, 0) if window else None

    def cost(usage: Usage) -> Cost | Unpriced:
        return book.cost(provider, model, usage, at=at, service_tier=tier)

    floor = cost(Usage(input_tokens=low_in, output_tokens=0))
    if not isinstance(floor, Cost):
        return Estimate(provider, model, None, None, low_in, high_in, output, None,
                        f"{floor.reason}: {floor.detail}" if floor.detail else floor.reason)
    caching = _cache_possible(provider, model, cache_marked, high_in)
    lows: list[Cost | Unpriced] = [floor]
    if caching:
        lows.append(cost(Usage(input_tokens=low_in, cache_read_tokens=low_in, output_tokens=0)))
    high_usd = None
    if output is not None:
        highs = [cost(Usage(input_tokens=high_in, output_tokens=output)),
                 cost(Usage(input_tokens=high_in, output_tokens=output, reasoning_tokens=output))]
        if caching:
            highs.append(cost(Usage(input_tokens=high_in, output_tokens=output, cache_write_tokens=high_in,
                                    cache_write_1h_tokens=high_in)))
            highs.append(cost(Usage(input_tokens=high_in, output_tokens=output, cache_write_tokens=high_in)))
        high_usd = max(c.total for c in highs if isinstance(c, Cost))
    low_usd = min(c.total for c in lows if isinstance(c, Cost))
    row = f"{floor.provider}/{floor.model} ({floor.price_table}{f', {tier} tier' if tier else ''})"
    return Estimate(provider, model, low_usd, high_usd, low_in, high_in, output, row, None)


def _check_count(name: str, value: Any) -> None:
    if value is not None and (value.__class__ is not int or value < 0):
        raise ValueError(f"estimate_cost: {name} must be a whole number >= 0, not {value!r}")


def _requested_output(request: Mapping[str, Any]) -> int | None:
    """The request's own output limit (each of its ``n`` choices may use it all)."""
    for key in _MAX_OUTPUT_KEYS:
        value = request.get(key)
        if value.__class__ is int and value >= 0:
            choices = request.get("n")
            return int(value * (choices if choices.__class__ is int and choices > 1 else 1))
    return None


def _context_window(book: PriceBook, provider: str, model: str) -> int | None:
    found = book.resolve(provider, model)
    if isinstance(found, Resolution) and found.entry is not None:
        return found.entry.context_window
    return None


def _cache_possible(provider: str, model: str, cache_marked: bool, high_in: int) -> bool:
    """Whether the call may read or write a prompt cache (priced apart from plain input)."""
    if provider == "anthropic" or "claude" in model.lower():
        return cache_marked  # Anthropic caches only what the request marks
    if provider in OPENAI_PROVIDERS:
        return high_in >= OPENAI_CACHE_MIN_TOKENS
    return True


__all__ = ["Estimate", "estimate_cost"]
