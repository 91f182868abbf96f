"""What a budget store does (memory, Redis), the counter keys, and money as integer nano-USD.

Counters are integer nano-USD: adding floats drifts over millions of calls (Redis ``INCRBYFLOAT`` included),
integers do not, so the store's total is exactly the sum of what was settled. One key per budget instance
(budget name + its scope values) per window; reservations carry a deadline so a dead process cannot hold
budget for ever.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple, Protocol
from urllib.parse import quote, unquote

NANOS_PER_USD = 1_000_000_000
# One Redis Cluster hash slot for every counter ({budgets}): a check-and-reserve touches several budgets at once.
KEY_PREFIX = "llmcost:{budgets}:"


def to_nanos(usd: float) -> int:
    return max(0, round(usd * NANOS_PER_USD))


def to_usd(nanos: int) -> float:
    return nanos / NANOS_PER_USD


def window_prefix(name: str, window: str) -> str:
    """The key prefix of a budget's counters in one window: ``llmcost:{budgets}:<name>:<window start>:``."""
    return f"{KEY_PREFIX}{quote(name, safe='')}:{window}:"


@lru_cache(maxsize=8192)
def _scope_part(key: str, value: str) -> str:
    return f"{quote(key, safe='')}={quote(value, safe='')}"


def slot_key(name: str, window: str, values: Sequence[tuple[str, str]], prefix: str | None = None) -> str:
    """``llmcost:{budgets}:<name>:<window start>:<k=v&...>``, every part percent-encoded."""
    return (prefix or window_prefix(name, window)) + "&".join(_scope_part(k, v) for k, v in values)


def parse_key(key: str) -> tuple[str, str, dict[str, str]] | None:
    """(budget name, window label, scope values) of a counter key, or None for another key."""
    if not key.startswith(KEY_PREFIX):
        return None
    parts = key[len(KEY_PREFIX):].split(":")
    if len(parts) != 3:
        return None
    name, window, scope = parts
    values = dict(pair.split("=", 1) for pair in scope.split("&") if "=" in pair)
    return unquote(name), window, {unquote(k): unquote(v) for k, v in values.items()}


class Slot(NamedTuple):
    """One budget instance in one window, as a check-and-reserve sees it."""

    key: str
    limit: int  # nano-USD
    blocks: bool  # False for a warn budget: never refuses, never reserves, still counts spend
    expires_at: float  # epoch seconds after which the store may forget the window


class Reserved(NamedTuple):
    """The outcome of a check-and-reserve: the first refusing slot (or -1) and each slot's state after it."""

    refused: int
    spent: list[int]
    reserved: list[int]


class StoreUnavailable(Exception):
    """The store could not be reached or answered wrongly (the guard then fails open or closed)."""


class Store(Protocol):
    """Budget counters. ``reserve`` and ``settle`` are each one atomic step (one round trip for Redis)."""

    url: str

    def reserve(self, slots: Sequence[Slot], amount: int, reservation: str, now: float,
                ttl: float) -> Reserved:
        """If ``spent + reserved + amount <= limit`` for every blocking slot, reserve ``amount`` on each."""

    def settle(self, slots: Sequence[Slot], reservation: str, actual: int, retry: bool) -> list[int]:
        """Release the reservation and add ``actual`` to spent; return each slot's spent. A ``retry`` (the
        first attempt's answer was lost) adds only where the reservation is still held, so never twice."""

    def read(self, keys: Sequence[str], now: float) -> list[tuple[int, int]]:
        """(spent, reserved) of each key, expired reservations left out."""

    def scan(self, prefix: str) -> list[str]:
        """Every counter key starting with ``prefix`` (for ``otel-llm-cost budgets status``)."""

    def ping(self) -> None:
        """Raise ``StoreUnavailable`` when the store cannot be reached (``doctor``)."""

    def close(self) -> None:
        """Release connections."""
