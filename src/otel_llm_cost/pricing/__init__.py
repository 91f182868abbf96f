"""Pricing: bundled dated price table, model-name resolution, user overrides and cost arithmetic.

Pure Python with no OpenTelemetry import, so the command line and tests can use it alone.
"""

from __future__ import annotations

import logging
import threading

from .book import PriceBook, Resolution
from .result import Cost, CostResult, Unpriced
from .store import reset_table_in_force, table_in_force

TYPE_CHECKING = False  # not `from typing`: importing typing is a large part of this package's import time
if TYPE_CHECKING:
    from typing import Any

    from .overrides import PriceFileError


def __getattr__(name: str) -> Any:
    """``PriceFileError`` without importing the override parser at start-up (it is rarely needed)."""
    if name == "PriceFileError":
        from .overrides import PriceFileError

        return PriceFileError
    raise AttributeError(name)


__all__ = [
    "Cost",
    "CostResult",
    "PriceBook",
    "PriceFileError",
    "Resolution",
    "Unpriced",
    "default_price_book",
    "load_price_book",
    "reset_default_price_book",
]

logger = logging.getLogger("otel_llm_cost.pricing")

PRICES_FILE_ENV = "OTEL_LLM_COST_PRICES_FILE"
PRICES_STRICT_ENV = "OTEL_LLM_COST_PRICES_STRICT"

_default: PriceBook | None = None
_lock = threading.Lock()


def load_price_book(files: list[str] | None = None, *, strict: bool | None = None,
                    prices_cache: str | None = None) -> PriceBook:
    """A price book from the table in force (bundled, or updated in ``prices_cache``: default from the
    environment, see ``store.py``) plus override files (default: from the environment).

    A bad file is logged (one error naming file, entry and field) and skipped so the bundled prices stay
    in force; with ``strict`` (or OTEL_LLM_COST_PRICES_STRICT=true) it raises PriceFileError instead.
    """
    if files is None or strict is None:
        from ..core.settings import setting  # parsed as instrument() parses it; imported only when needed

        files = list(setting(PRICES_FILE_ENV)) if files is None else files
        strict = setting(PRICES_STRICT_ENV) if strict is None else strict
    table = table_in_force(prices_cache or None)
    if not files:
        return PriceBook(table)
    from .overrides import Overrides, PriceFileError, load_override_file

    overrides = Overrides()
    for path in files:
        try:
            overrides = overrides + load_override_file(path)
        except PriceFileError as exc:
            if strict:
                raise
            logger.error("otel-llm-cost: %s. This file is ignored; the bundled prices stay in force.", exc)
    return PriceBook(table, overrides=overrides)


def default_price_book() -> PriceBook:
    """The process-wide price book (bundled table + files from the environment), built once."""
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                _default = load_price_book()
    return _default


def reset_default_price_book() -> None:
    """Forget the process-wide book so the next use re-reads the environment (tests, reconfiguration)."""
    global _default
    with _lock:
        _default = None
        reset_table_in_force()
