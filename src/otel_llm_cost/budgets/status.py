"""What is left: ``otel_llm_cost.budget_status(**scope)`` for apps, ``otel-llm-cost budgets status`` for people."""

from __future__ import annotations

import sys
import time
from typing import TextIO
from urllib.parse import quote

from .file import Budget
from .guard import BudgetStatus
from .store import KEY_PREFIX, Store, parse_key, to_usd
from .windows import as_utc, window_bounds, window_label


def budget_status(**scope: object) -> list[BudgetStatus]:
    """The budgets that apply to calls with this scope (plus the current ``attributes()``) and what each has
    left in its window, read from the store. Empty when no budget file is loaded. Raises
    ``otel_llm_cost.budgets.store.StoreUnavailable`` when the store cannot be reached."""
    from ..core.attribution import current
    from ..core.calls import RUNTIME

    guard = RUNTIME.guard
    if guard is None:
        return []
    facts = dict(current())
    service = guard.service()
    if service:
        facts["service"] = service
    facts.update({key: str(value) for key, value in scope.items() if value is not None})
    return guard.status(facts)


def _money(value: float) -> str:
    return f"${value:,.6f}"


def print_status(budgets: list[Budget], store: Store, out: TextIO | None = None, now: float | None = None) -> int:
    """Every budget instance the store holds for the current windows; 0, or 1 if the store cannot be read."""
    out = out or sys.stdout
    now = time.time() if now is None else now
    print(f"budget store: {store.url}", file=out)
    if store.url == "memory":
        print("  (the memory store lives inside each app process: this command sees none of it; use "
              "OTEL_LLM_COST_BUDGET_STORE=redis://... to share and inspect budgets)", file=out)
    print(f"{'budget':<24} {'scope':<32} {'window':<6} {'spent':>14} {'in flight':>14} {'limit':>12} "
          f"{'left':>14}  resets (UTC)", file=out)
    for budget in budgets:
        assert budget.tz is not None
        start, end = window_bounds(now, budget.window, budget.tz)
        keys = store.scan(f"{KEY_PREFIX}{quote(budget.name, safe='')}:{window_label(start)}:")
        states = store.read(keys, now) if keys else []
        if not keys:
            print(f"{budget.name:<24} {'(nothing spent yet)':<32} {budget.window:<6} {_money(0):>14} "
                  f"{_money(0):>14} {_money(budget.limit_usd):>12} {_money(budget.limit_usd):>14}  "
                  f"{as_utc(end):%Y-%m-%d %H:%M}", file=out)
        for key, (spent, reserved) in zip(keys, states, strict=True):
            parsed = parse_key(key)
            scope = ",".join(f"{k}={v}" for k, v in parsed[2].items()) if parsed else key
            left = max(budget.limit_usd - to_usd(spent + reserved), 0.0)
            flag = "" if budget.action == "block" or left > 0 else "  (over: warn only)"
            print(f"{budget.name:<24} {scope or '-':<32} {budget.window:<6} {_money(to_usd(spent)):>14} "
                  f"{_money(to_usd(reserved)):>14} {_money(budget.limit_usd):>12} {_money(left):>14}  "
                  f"{as_utc(end):%Y-%m-%d %H:%M}{flag}", file=out)
    return 0
