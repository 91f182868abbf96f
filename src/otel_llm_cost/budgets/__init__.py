"""Budgets that stop the spend before the request leaves: the budget file, the guard, the stores.

Loaded only when ``OTEL_LLM_COST_BUDGETS_FILE`` names a file; with none, the call path pays one attribute
check. ``BudgetExceeded`` is importable on its own (``otel_llm_cost.BudgetExceeded``).
"""

from __future__ import annotations

from .errors import BudgetExceeded

__all__ = ["BudgetExceeded"]
