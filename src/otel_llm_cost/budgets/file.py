"""The budget file (TOML, named by ``OTEL_LLM_COST_BUDGETS_FILE``): what may be spent, by whom, per window.

```toml
[[budget]]
name = "free-plan-users"
scope = { plan = "free", user_id = "*" }   # attribution keys (+ service, provider, model); "*" = one per value
limit_usd = 0.50
window = "day"                             # hour | day | week | month, calendar, UTC unless timezone = "..."
action = "block"                           # block | warn
```
A file is validated whole: any problem is one ``BudgetFileError`` naming the file, the entry and the field.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

WINDOWS = ("hour", "day", "week", "month")
ACTIONS = ("block", "warn")
ANY = "*"
BUDGET_FIELDS = ("name", "scope", "limit_usd", "window", "timezone", "action")
# Facts every call has besides its attribution (scope keys with these names match them).
CALL_FACTS = ("service", "provider", "model")


class BudgetFileError(ValueError):
    """A budget file that cannot be used; the message names the file, the entry and the field."""


@dataclass(frozen=True)
class Budget:
    """One ``[[budget]]`` entry. ``scope`` maps a key to a required value or ``"*"`` (one budget per value)."""

    name: str
    scope: Mapping[str, str]
    limit_usd: float
    window: str
    action: str
    timezone: str = "UTC"
    tz: tzinfo | None = field(default=None, compare=False, repr=False)

    @property
    def blocks(self) -> bool:
        return self.action == "block"

    def match(self, facts: Mapping[str, str]) -> tuple[tuple[str, str], ...] | None:
        """The scope's (key, value) pairs for a call with these facts, or None when the budget does not apply."""
        values = []
        for key, wanted in self.scope.items():
            value = facts.get(key)
            if value is None or (wanted != ANY and value != wanted):
                return None
            values.append((key, value))
        return tuple(values)


def _load_toml(path: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        with open(path, "rb") as handle:
            loaded: dict[str, Any] = tomllib.load(handle)
            return loaded
    except OSError as error:
        raise BudgetFileError(f"budget file {path}: cannot be read ({error.strerror or error})") from None
    except tomllib.TOMLDecodeError as error:
        raise BudgetFileError(f"budget file {path}: not valid TOML ({error})") from None


def _zone(name: str, where: str) -> tzinfo:
    from datetime import timezone

    if name.upper() == "UTC":
        return timezone.utc
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception:  # ZoneInfoNotFoundError, ValueError for odd keys, no tz database
        raise BudgetFileError(f"{where}, field 'timezone': unknown time zone {name!r} "
                              "(an IANA name such as 'Europe/Paris', or 'UTC')") from None


def _entry(raw: Any, where: str) -> Budget:
    if not isinstance(raw, dict):
        raise BudgetFileError(f"{where}: expected a table with fields {', '.join(BUDGET_FIELDS)}")
    unknown = sorted(set(raw) - set(BUDGET_FIELDS))
    if unknown:
        raise BudgetFileError(f"{where}, field {unknown[0]!r}: unknown field (known: {', '.join(BUDGET_FIELDS)})")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise BudgetFileError(f"{where}, field 'name': required, a non-empty string")
    where = f"{where} ({name!r})"
    scope = raw.get("scope", {})
    if not isinstance(scope, dict):
        raise BudgetFileError(f"{where}, field 'scope': expected a table of key = \"value\" or \"*\"")
    for key, value in scope.items():
        if not isinstance(value, str) or not value:
            raise BudgetFileError(f"{where}, field 'scope.{key}': expected a non-empty string (a value, or \"*\" "
                                  f"for one budget per distinct value), got {value!r}")
    limit = raw.get("limit_usd")
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not math.isfinite(limit) or limit < 0:
        raise BudgetFileError(f"{where}, field 'limit_usd': required, a number of USD >= 0, got {limit!r}")
    window = raw.get("window")
    if window not in WINDOWS:
        raise BudgetFileError(f"{where}, field 'window': expected one of {', '.join(WINDOWS)}, got {window!r}")
    action = raw.get("action", "block")
    if action not in ACTIONS:
        raise BudgetFileError(f"{where}, field 'action': expected block or warn, got {action!r}")
    zone_name = raw.get("timezone", "UTC")
    if not isinstance(zone_name, str):
        raise BudgetFileError(f"{where}, field 'timezone': expected a string such as 'UTC', got {zone_name!r}")
    return Budget(name.strip(), dict(scope), float(limit), window, action, zone_name, _zone(zone_name, where))


def parse_budgets(data: Mapping[str, Any], path: str) -> list[Budget]:
    """The budgets of one parsed file; raises ``BudgetFileError`` on the first problem."""
    unknown = sorted(set(data) - {"budget"})
    if unknown:
        raise BudgetFileError(f"budget file {path}: unknown top-level key {unknown[0]!r} (expected [[budget]])")
    entries = data.get("budget", [])
    if not isinstance(entries, list):
        raise BudgetFileError(f"budget file {path}: 'budget' must be an array of tables ([[budget]])")
    budgets: list[Budget] = []
    seen: set[str] = set()
    for index, raw in enumerate(entries, 1):
        budget = _entry(raw, f"budget file {path}, [[budget]] #{index}")
        if budget.name in seen:
            raise BudgetFileError(f"budget file {path}, [[budget]] #{index}, field 'name': {budget.name!r} is "
                                  "used twice (each budget needs its own name)")
        seen.add(budget.name)
        budgets.append(budget)
    return budgets


def load_budget_file(path: str) -> list[Budget]:
    """Read and validate one budget file."""
    return parse_budgets(_load_toml(path), path)


def load_budget_files(paths: tuple[str, ...] | list[str]) -> list[Budget]:
    """Every budget of every file; a name used in two files is an error naming both."""
    budgets: list[Budget] = []
    origin: dict[str, str] = {}
    for path in paths:
        for budget in load_budget_file(path):
            if budget.name in origin:
                raise BudgetFileError(f"budget file {path}: budget {budget.name!r} is also defined in "
                                      f"{origin[budget.name]}")
            origin[budget.name] = path
            budgets.append(budget)
    return budgets
