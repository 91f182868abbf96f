"""Generator of grafana-dashboards/*.json (run ``python scripts/gen_dashboards.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import attribution, overview, usage

# file name (without .json) -> builder
DASHBOARDS: dict[str, Callable[[], dict[str, Any]]] = {
    "llm-spend-overview": overview.build,
    "llm-spend-attribution": attribution.build,
    "llm-usage-performance": usage.build,
}
