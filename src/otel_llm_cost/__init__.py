"""otel-llm-cost: tokens and USD cost on every LLM API call, as OpenTelemetry spans and metrics.

Usually enabled by ``opentelemetry-instrument`` through the ``llm_cost_*`` entry points; ``instrument()``
does the same by hand for every SDK that is installed.
"""

from __future__ import annotations

import importlib
import logging

__version__ = "0.1.0"

TYPE_CHECKING = False  # not `from typing`: importing typing is a large part of this package's import time
if TYPE_CHECKING:
    from typing import Any

    from .budgets import BudgetExceeded
    from .budgets.status import budget_status
    from .core.attribution import attributes
    from .core.tracking import Spend, track
    from .pricing.estimate import Estimate, estimate_cost
    from .providers.bedrock_batch import price_batch_output

__all__ = ["BudgetExceeded", "Estimate", "Spend", "__version__", "attributes", "budget_status", "estimate_cost",
           "instrument", "price_batch_output", "track", "uninstrument"]

# Public names imported on first use (module, attribute).
_LAZY = {"attributes": ("core.attribution", "attributes"), "track": ("core.tracking", "track"),
         "Spend": ("core.tracking", "Spend"), "estimate_cost": ("pricing.estimate", "estimate_cost"),
         "Estimate": ("pricing.estimate", "Estimate"), "BudgetExceeded": ("budgets", "BudgetExceeded"),
         "budget_status": ("budgets.status", "budget_status"),
         "price_batch_output": ("providers.bedrock_batch", "price_batch_output")}

logger = logging.getLogger("otel_llm_cost")


def __getattr__(name: str) -> Any:
    """The public helpers are imported on first use: ``import otel_llm_cost.pricing`` stays light (no inspect)."""
    if name in _LAZY:
        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(f".{module}", __name__), attribute)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _instrumentors() -> list[Any]:
    from .providers import REGISTRY

    return [entry.load() for entry in REGISTRY]


def instrument(**settings: Any) -> None:
    """Instrument every installed SDK. Keywords are the ``OTEL_LLM_COST_*`` settings in lower case
    (``prices_file``, ``stream_usage``, ``metric_attributes``...), plus ``tracer_provider``/``meter_provider``."""
    for instrumentor in _instrumentors():
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(**settings)


def uninstrument() -> None:
    """Restore every SDK method we patched."""
    for instrumentor in _instrumentors():
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
