"""``BudgetExceeded``: what the application catches when a budget refuses a call before it is sent."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

LIMIT = "limit"
STORE_UNAVAILABLE = "store_unavailable"


class BudgetExceeded(Exception):
    """A ``block`` budget refused an LLM call: the request was not sent.

    ``budget`` and ``scope`` say which budget (``scope``: the values of its scope keys, e.g. the user id);
    ``spent_usd``/``reserved_usd`` are the window's settled spend and the holds of calls in flight,
    ``limit_usd`` the budget, ``requested_usd`` what this call could cost at most, ``resets_at`` (UTC) when the
    window ends. ``reason`` is ``"limit"``, or ``"store_unavailable"`` when the shared store could not be
    reached and ``OTEL_LLM_COST_BUDGET_FAIL=closed`` (then the amounts are None).
    """

    def __init__(self, budget: str, scope: Mapping[str, str], *, spent_usd: float | None,
                 reserved_usd: float | None, limit_usd: float, requested_usd: float | None,
                 resets_at: datetime | None, reason: str = LIMIT) -> None:
        self.budget = budget
        self.scope = dict(scope)
        self.spent_usd = spent_usd
        self.reserved_usd = reserved_usd
        self.limit_usd = limit_usd
        self.requested_usd = requested_usd
        self.resets_at = resets_at
        self.reason = reason
        super().__init__(self._message())

    def _message(self) -> str:
        scope = ", ".join(f"{k}={v}" for k, v in self.scope.items())
        which = f"budget {self.budget!r}" + (f" ({scope})" if scope else "")
        if self.reason == STORE_UNAVAILABLE:
            return (f"{which}: the budget store cannot be reached and OTEL_LLM_COST_BUDGET_FAIL=closed; "
                    "the LLM call was not sent")
        resets = f"; resets at {self.resets_at:%Y-%m-%d %H:%M} UTC" if self.resets_at else ""
        return (f"{which}: spent ${self.spent_usd or 0:.6f} + in flight ${self.reserved_usd or 0:.6f} + this call "
                f"up to ${self.requested_usd or 0:.6f} exceeds the limit ${self.limit_usd:.2f}; the LLM call was "
                f"not sent{resets}")
