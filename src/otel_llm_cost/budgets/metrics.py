"""The budget instruments (DESIGN.md "Budgets"): one series per budget *name*, never per user.

``llm_cost.budget.spent`` is the spend of the budget's fullest instance this process has seen in the current
window (for a budget without ``"*"`` that is simply its spend, read from the shared store at each call), so
``spent / limit`` is how close the nearest user/tenant is to being blocked.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

from .. import __version__
from .file import Budget
from .store import to_usd

BUDGET = "llm_cost.budget"
REASON = "llm_cost.budget.reason"
OPERATION = "llm_cost.budget.store.operation"
SPENT_GAUGE = "llm_cost.budget.spent"
LIMIT_GAUGE = "llm_cost.budget.limit"
BLOCKED_COUNTER = "llm_cost.budget.blocked"
WARNED_COUNTER = "llm_cost.budget.warned"
STORE_UNAVAILABLE_COUNTER = "llm_cost.budget.store.unavailable"


class BudgetMetrics:
    """Counters of refused/warned calls and store outages, gauges of spend and limit per budget name."""

    def __init__(self, budgets: list[Budget], meter_provider: metrics.MeterProvider | None = None) -> None:
        meter = metrics.get_meter("otel_llm_cost", __version__, meter_provider)
        self._limits = {b.name: b.limit_usd for b in budgets}
        self._peak: dict[str, tuple[float, int]] = {}  # name -> (window start, highest spent nano-USD)
        self._lock = threading.Lock()
        self.blocked = meter.create_counter(BLOCKED_COUNTER, unit="{call}",
                                            description="LLM calls a budget refused before they were sent")
        self.warned = meter.create_counter(WARNED_COUNTER, unit="{call}",
                                           description="LLM calls made over a warn-only budget")
        self.store_unavailable = meter.create_counter(
            STORE_UNAVAILABLE_COUNTER, unit="{call}",
            description="Budget checks or settlements that could not reach the budget store")
        meter.create_observable_gauge(SPENT_GAUGE, callbacks=[self._observe_spent], unit="USD",
                                      description="Spend of the budget's fullest instance in the current window")
        meter.create_observable_gauge(LIMIT_GAUGE, callbacks=[self._observe_limits], unit="USD",
                                      description="Budget limit per window")

    def saw(self, name: str, window_start: float, spent: int) -> None:
        """Remember a spend read from the store (the gauge keeps the window's highest)."""
        peak = self._peak.get(name)
        if peak is None or peak[0] != window_start or spent > peak[1]:
            with self._lock:
                peak = self._peak.get(name)
                if peak is None or peak[0] < window_start or (peak[0] == window_start and spent > peak[1]):
                    self._peak[name] = (window_start, spent)

    def _observe_spent(self, options: CallbackOptions) -> Iterable[Observation]:
        with self._lock:
            peaks = list(self._peak.items())
        return [Observation(to_usd(spent), {BUDGET: name}) for name, (_start, spent) in peaks]

    def _observe_limits(self, options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(limit, {BUDGET: name}) for name, limit in self._limits.items()]
