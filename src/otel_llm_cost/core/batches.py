"""Batch results: every finished item of a provider's batch job is a call of its own, recorded once.

A batch's results are not seen when the job is sent but when the application reads them (Anthropic's results
stream, a Gemini batch job's inlined responses on ``batches.get``), maybe many times (polling, listing).
``SEEN`` remembers which items were recorded, by a key the provider gives each item (a message id, the job name
and the item's index), so reading a batch again never counts its cost twice. ``record_item`` records one item
as a call of its own, priced at the batch rate unless the item names another tier.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from .telemetry import CallRecord, Telemetry

BATCH_TIER = "batch"


class SeenKeys:
    """Keys of the batch items already recorded (bounded: the oldest are forgotten past ``limit``)."""

    def __init__(self, limit: int = 100_000) -> None:
        self.keys: OrderedDict[str, None] = OrderedDict()
        self.limit = limit
        self._lock = threading.Lock()  # two threads polling one job must not both see an item first

    def first_time(self, key: str) -> bool:
        with self._lock:
            if key in self.keys:
                return False
            self.keys[key] = None
            if len(self.keys) > self.limit:
                self.keys.popitem(last=False)
            return True


SEEN = SeenKeys()  # process-wide: a batch read through two clients is still one batch


def record_item(telemetry: Telemetry, call: CallRecord, read: Callable[[CallRecord], Any]) -> None:
    """Record one batch item as a finished call: its span is opened and closed here (it is not current: the
    application's own code is running), ``read`` fills usage and facts, and the batch tier prices it."""
    telemetry.start(call)
    telemetry.detach(call)
    read(call)
    call.service_tier = call.service_tier or BATCH_TIER
    telemetry.finish(call)
