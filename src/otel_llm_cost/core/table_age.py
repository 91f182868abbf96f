"""``llm_cost.price_table.age``: how many days old the price table in force is, as an observable gauge.

Why: an install a few months old prices new models as unpriced and misses price changes silently; this gauge
(with the ``LLMPriceTableStale`` alert past 60 days) makes that visible where the spend is watched. One gauge per
meter: instrumenting again with the same meter provider points it at the new price book's table.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from typing import Any

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

from ..pricing.store import age_days
from ..pricing.table import PriceTable
from .telemetry import PRICE_TABLE

NAME = "llm_cost.price_table.age"


class TableAgeGauge:
    def __init__(self, meter: metrics.Meter) -> None:
        self.table: PriceTable | None = None
        meter.create_observable_gauge(NAME, callbacks=[self._observe], unit="d",
                                      description="Age of the price table in force (days since it was generated "
                                                  "or fetched)")

    def _observe(self, options: CallbackOptions) -> Iterable[Observation]:
        table = self.table
        if table is None:
            return []
        return [Observation(round(age_days(table), 3), {PRICE_TABLE: table.table_id})]

    @classmethod
    def track(cls, meter: metrics.Meter, table: PriceTable) -> TableAgeGauge:
        """The meter's gauge, now reporting ``table``."""
        with _LOCK:
            gauge = _GAUGES.get(meter)
            if gauge is None:
                gauge = _GAUGES[meter] = cls(meter)
            gauge.table = table
            return gauge


_GAUGES: weakref.WeakKeyDictionary[Any, TableAgeGauge] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()
