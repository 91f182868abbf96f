"""The frame every LLM cost dashboard shares: titled rows of panels, the same tags, template variables and links
to the sibling dashboards. One place, so that the three dashboards cannot drift apart."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from . import grafana as g
from .variables import all_variables

TAGS = ["llm-cost", "otel-llm-cost"]
# (row title, function adding that row's panels)
Section = tuple[str, Callable[[g.Layout], None]]


def build(uid: str, title: str, description: str, sections: Sequence[Section]) -> dict[str, Any]:
    """A dashboard of ``sections``, top-down, each under its row."""
    lay = g.Layout()
    for row, fill in sections:
        lay.row(row)
        fill(lay)
    return g.dashboard(uid, title, description, TAGS, all_variables(), lay, g.dashboard_links())
