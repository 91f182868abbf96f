"""Settings: every knob is an ``OTEL_LLM_COST_*`` environment variable and an ``instrument()`` keyword.

The keyword wins over the variable. An invalid value never stops the application: one log line names the
variable, the bad value and the accepted values, and the default is used.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

logger = logging.getLogger("otel_llm_cost")

# name -> (default, kind, help); the names in lower case are the instrument() keywords.
ENV_VARS: dict[str, tuple[str, str, str]] = {
    "OTEL_LLM_COST_PRICES_FILE": ("", "paths", "price override files (TOML/JSON), separated by ',' or ':'"),
    "OTEL_LLM_COST_PRICES_STRICT": ("false", "bool", "a bad price file raises instead of being skipped"),
    "OTEL_LLM_COST_PRICES_CACHE": ("", "text", "directory of the table `otel-llm-cost prices update` stores "
                                   "(default: $XDG_CACHE_HOME/otel-llm-cost/prices, else ~/.cache/...)"),
    "OTEL_LLM_COST_STREAM_USAGE": ("on", "bool", "ask OpenAI-style streams to report usage (hidden from the caller)"),
    "OTEL_LLM_COST_METRIC_ATTRIBUTES": ("feature,team", "list", "attribution keys that become metric labels"),
    "OTEL_LLM_COST_MAX_ATTRIBUTE_VALUES": ("100", "int", "distinct values kept per metric label; more become _other"),
    "OTEL_LLM_COST_BAGGAGE_KEYS": ("", "list", "W3C baggage keys copied onto spans as attribution"),
    "OTEL_LLM_COST_ANTHROPIC_NATIVE_SPANS": ("keep", "choice:keep,disable",
                                             "keep or disable the anthropic SDK's own spans"),
    "OTEL_LLM_COST_BUDGETS_FILE": ("", "paths", "budget files (TOML [[budget]]) enforced before each call"),
    "OTEL_LLM_COST_BUDGETS_STRICT": ("false", "bool", "a bad budget file raises instead of enforcing nothing"),
    "OTEL_LLM_COST_BUDGET_STORE": ("memory", "store", "where budget counters live: memory (this process) or "
                                                      "redis://host:6379/0 (every replica)"),
    "OTEL_LLM_COST_BUDGET_FAIL": ("open", "choice:open,closed",
                                  "when the budget store is unreachable: let calls through, or refuse them"),
    "OTEL_LLM_COST_BUDGET_RESERVATION_TTL": ("900", "int", "seconds a call's budget reservation is held at most "
                                                           "(frees the holds of a process that died)"),
    "OTEL_LLM_COST_LEDGER_URL": ("sqlite:otel-llm-cost-ledger.db", "text",
                                 "the ledger database of the llm_cost_ledger traces exporter: sqlite:///PATH or "
                                 "postgresql://..."),
    "OTEL_LLM_COST_LEDGER_BUFFER": ("50000", "int", "calls the ledger keeps in memory while its database is slow or "
                                                    "away; beyond it they are dropped and counted"),
}
_STORE_SCHEMES = ("redis://", "rediss://", "unix://")

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def parse_value(name: str, raw: str, kind: str) -> Any:
    """Parse one value of ``kind`` (see ``ENV_VARS``); raises ValueError naming the accepted values."""
    text = raw.strip()
    if kind == "bool":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ValueError("true/false (also 1/0, on/off, yes/no)")
    if kind == "int":
        try:
            value = int(text)
        except ValueError:
            raise ValueError("a whole number >= 1") from None
        if value < 1:
            raise ValueError("a whole number >= 1")
        return value
    if kind == "text":
        return text
    if kind == "list":
        return tuple(dict.fromkeys(p.strip() for p in text.split(",") if p.strip()))
    if kind == "paths":
        return tuple(p.strip() for chunk in text.split(os.pathsep) for p in chunk.split(",") if p.strip())
    if kind == "store":
        if text.lower() == "memory" or text.lower().startswith(_STORE_SCHEMES):
            return "memory" if text.lower() == "memory" else text
        raise ValueError("memory, or a Redis URL: redis://host:6379/0, rediss://..., unix:///path")
    if kind.startswith("choice:"):
        choices = kind.split(":", 1)[1].split(",")
        if text.lower() in choices:
            return text.lower()
        raise ValueError(" or ".join(choices))
    raise AssertionError(kind)


class Settings:
    """Effective configuration, read once at ``instrument()``."""

    __slots__ = ("anthropic_native_spans", "baggage_keys", "budget_fail", "budget_reservation_ttl", "budget_store",
                 "budgets_file", "budgets_strict", "ledger_buffer", "ledger_url", "max_attribute_values",
                 "metric_attributes", "prices_cache", "prices_file", "prices_strict", "sources", "stream_usage")

    prices_file: tuple[str, ...]
    prices_strict: bool
    prices_cache: str
    stream_usage: bool
    metric_attributes: tuple[str, ...]
    max_attribute_values: int
    baggage_keys: tuple[str, ...]
    anthropic_native_spans: str
    budgets_file: tuple[str, ...]
    budgets_strict: bool
    budget_store: str
    budget_fail: str
    budget_reservation_ttl: int
    ledger_url: str
    ledger_buffer: int

    def __init__(self, overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None):
        overrides = overrides or {}
        environ = os.environ if environ is None else environ
        self.sources: dict[str, str] = {}
        for var, (default, kind, _help) in ENV_VARS.items():
            key = var.removeprefix("OTEL_LLM_COST_").lower()
            if key in overrides and overrides[key] is not None:
                value = overrides[key]
                if isinstance(value, str):
                    value = self._checked(var, value, kind, default, f"instrument({key}=...)")
                elif kind in ("list", "paths") and not isinstance(value, tuple):
                    value = tuple(value)
                self.sources[var] = "argument"
            elif environ.get(var, "").strip():
                value = self._checked(var, environ[var], kind, default, var)
                self.sources[var] = "environment"
            else:
                value = parse_value(var, default, kind)
                self.sources[var] = "default"
            setattr(self, key, value)

    @staticmethod
    def _checked(var: str, raw: str, kind: str, default: str, where: str) -> Any:
        try:
            return parse_value(var, raw, kind)
        except ValueError as accepted:
            logger.error("otel-llm-cost: %s=%r is not valid (expected %s); using the default %r",
                         where, raw, accepted, default)
            return parse_value(var, default, kind)

    def as_dict(self) -> dict[str, Any]:
        return {var: getattr(self, var.removeprefix("OTEL_LLM_COST_").lower()) for var in ENV_VARS}


def setting(var: str, environ: Mapping[str, str] | None = None) -> Any:
    """One variable's effective value from the environment: an invalid value is logged and the default used.
    For code that needs one setting without ``instrument()`` (the price book of the command line)."""
    environ = os.environ if environ is None else environ
    default, kind, _help = ENV_VARS[var]
    raw = environ.get(var, "")
    return Settings._checked(var, raw, kind, default, var) if raw.strip() else parse_value(var, default, kind)
