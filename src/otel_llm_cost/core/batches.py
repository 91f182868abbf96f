"""Batch results: each succeeded item of a batch job is a call of its own, recorded once at the batch rate.

Batch jobs run on the provider's side; what the app sees is their results (Anthropic's ``batches.results``
stream, the JSONL files Bedrock writes to S3). Each result may be read more than once (a retry, a second report),
so every recorded item is remembered by a key its provider makes unique (a message id, a job's record id and
output): a key seen before is not recorded again in this process.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from .telemetry import CallRecord, Telemetry

BATCH = "batch"  # the service tier of a batch result: priced with the table's batch prices


class SeenKeys:
    """Keys of the batch items already recorded (bounded: the oldest are forgotten first)."""

    def __init__(self, limit: int = 100_000) -> None:
        self.keys: OrderedDict[str, None] = OrderedDict()
        self.limit = limit
        self.lock = threading.Lock()

    def first_time(self, key: str) -> bool:
        with self.lock:
            if key in self.keys:
                return False
            self.keys[key] = None
            if len(self.keys) > self.limit:
                self.keys.popitem(last=False)
            return True


SEEN = SeenKeys()


def record_batch_item(telemetry: Telemetry, key: str, call: CallRecord, fill: Callable[[CallRecord], None],
                      request_attributes: Mapping[str, Any] | None = None) -> tuple[bool, Any]:
    """Record one batch result as a call (span and metrics), unless ``key`` was recorded before.
    ``fill`` puts the item's usage and facts on the call; its service tier defaults to batch. Returns whether it
    was recorded now, and the price (``Cost`` or ``Unpriced``, None if recording failed) it was recorded with."""
    if not SEEN.first_time(key):
        return False, None
    telemetry.start(call, request_attributes)
    telemetry.detach(call)
    fill(call)
    call.service_tier = call.service_tier or BATCH
    return True, telemetry.finish(call)
