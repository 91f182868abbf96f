"""``otel-llm-cost doctor``'s budget checks: the budget file(s) parse, and the store answers."""

from __future__ import annotations

from collections.abc import Mapping


def budget_checks(env: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(level, message, fix) lines for doctor's "Budgets" section; levels are doctor's OK/WARN/FAIL/INFO."""
    from ..cli.doctor import FAIL, INFO, OK, WARN
    from ..core.settings import Settings
    from .file import BudgetFileError, load_budget_files
    from .setup import open_store
    from .store import StoreUnavailable

    settings = Settings(environ=env)
    if not settings.budgets_file:
        return [(INFO, "no budget file (OTEL_LLM_COST_BUDGETS_FILE): no budget is enforced", "")]
    strict = settings.budgets_strict
    try:
        budgets = load_budget_files(settings.budgets_file)
    except BudgetFileError as error:
        return [(FAIL, f"{error}" + (" (strict mode: the app will fail to start)" if strict else
                                     "; no budget is enforced"), "correct the file, then run doctor again")]
    lines = [(OK, f"budget file(s) {', '.join(settings.budgets_file)}: {len(budgets)} budget(s): "
              + ", ".join(f"{b.name} ({b.action} ${b.limit_usd:g}/{b.window})" for b in budgets), "")]
    if not budgets:
        lines.append((WARN, "the budget file defines no [[budget]]: nothing is enforced", "add [[budget]] entries"))
        return lines
    url = settings.budget_store
    if url == "memory":
        lines.append((INFO, "budget store: memory (each process counts only its own spend; several replicas "
                      "share budgets through OTEL_LLM_COST_BUDGET_STORE=redis://...)", ""))
        return lines
    store = open_store(url)
    try:
        store.ping()
        lines.append((OK, f"budget store {url}: reachable", ""))
    except StoreUnavailable as error:
        closed = settings.budget_fail == "closed"
        lines.append((FAIL, f"budget store {url}: cannot be reached ({error}): calls under a block budget "
                      + ("are refused (OTEL_LLM_COST_BUDGET_FAIL=closed)" if closed else "go ahead unchecked"),
                      "start Redis or fix OTEL_LLM_COST_BUDGET_STORE; `pip install 'otel-llm-cost[budgets-redis]'` "
                      "if the client is missing"))
    finally:
        store.close()
    return lines
