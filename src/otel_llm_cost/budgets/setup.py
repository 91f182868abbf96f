"""Building the guard from the settings at ``instrument()``: the budget files, the store, the fail policy.

A bad budget file is logged (file, entry, field) and no budget is enforced: the app keeps running; with
``OTEL_LLM_COST_BUDGETS_STRICT=true`` it raises instead. A store that cannot even be set up (no redis client,
bad URL) behaves as an unreachable one, so the fail policy decides.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from .file import BudgetFileError, load_budget_files
from .guard import Guard
from .memory import MemoryStore
from .store import Reserved, Slot, Store, StoreUnavailable

logger = logging.getLogger("otel_llm_cost")


class BrokenStore:
    """A store that could not be set up: every operation is unavailable, with the reason."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason

    def _fail(self) -> Any:
        raise StoreUnavailable(self.reason)

    def reserve(self, slots: Sequence[Slot], amount: int, reservation: str, now: float, ttl: float) -> Reserved:
        return self._fail()  # type: ignore[no-any-return]

    def settle(self, slots: Sequence[Slot], reservation: str, actual: int, retry: bool) -> list[int]:
        return self._fail()  # type: ignore[no-any-return]

    def read(self, keys: Sequence[str], now: float) -> list[tuple[int, int]]:
        return self._fail()  # type: ignore[no-any-return]

    def scan(self, prefix: str) -> list[str]:
        return self._fail()  # type: ignore[no-any-return]

    def ping(self) -> None:
        self._fail()

    def close(self) -> None:
        """Nothing to release."""


def open_store(url: str) -> Store:
    """The store named by OTEL_LLM_COST_BUDGET_STORE (``memory``, ``redis://``, ``rediss://``, ``unix://``)."""
    if url == "memory":
        return MemoryStore()
    try:
        from .redis_store import RedisStore

        return RedisStore(url)
    except StoreUnavailable as error:
        logger.error("otel-llm-cost: %s", error)
        return BrokenStore(url, str(error))


def load_guard(files: Sequence[str], *, strict: bool, store_url: str, fail_closed: bool,
               reservation_ttl: float, tracer_provider: Any = None, meter_provider: Any = None) -> Guard | None:
    """The process's guard, or None when there is nothing to enforce (no file, or a bad one not in strict)."""
    try:
        budgets = load_budget_files(list(files))
    except BudgetFileError as error:
        if strict:
            raise
        logger.error("otel-llm-cost: %s. No budget is enforced (OTEL_LLM_COST_BUDGETS_STRICT=true makes this "
                     "fatal).", error)
        return None
    if not budgets:
        logger.warning("otel-llm-cost: the budget file(s) %s define no [[budget]]: nothing is enforced",
                       ", ".join(files))
        return None
    return Guard(budgets, open_store(store_url), fail_closed=fail_closed, reservation_ttl=reservation_ttl,
                 tracer_provider=tracer_provider, meter_provider=meter_provider)
