"""The ledger's own background writer: a bounded in-memory buffer and one thread that writes it in batches.

Why its own thread and buffer, not just the SDK's batch span processor: while the database is away the writes
must wait and retry, and a processor whose export blocks fills its (small) queue and drops spans of every kind.
Here ``offer`` only appends to a deque, whatever the database does; the thread retries with exponential
backoff, and a retried batch is harmless (rows are keyed by span id). When the buffer is full, new rows are
dropped, counted and logged, never the app's time or memory.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from .schema import Row, SchemaError
from .stores import Store

logger = logging.getLogger("otel_llm_cost.ledger")


class LedgerWriter:
    BATCH_ROWS = 2000
    FIRST_BACKOFF_S = 0.5
    MAX_BACKOFF_S = 30.0
    DROP_LOG_EVERY_S = 60.0

    def __init__(self, open_store: Callable[[], Store], capacity: int, where: str, *,
                 first_backoff_s: float = FIRST_BACKOFF_S, max_backoff_s: float = MAX_BACKOFF_S) -> None:
        self._open_store = open_store
        self.capacity = capacity
        self.where = where
        self._first_backoff = first_backoff_s
        self._max_backoff = max_backoff_s
        self._rows: deque[Row] = deque()
        self._in_flight = 0
        self._cond = threading.Condition()
        self._closing = False
        self.written = 0
        self.dropped = 0
        self.failures = 0  # failed write attempts (each retried)
        self._dropped_logged_at: float | None = None
        self._start_thread()
        if hasattr(os, "register_at_fork"):  # a pre-forking server (gunicorn --preload): each worker writes its own
            method = weakref.WeakMethod(self._after_fork)
            os.register_at_fork(after_in_child=lambda: (after := method()) is not None and after())

    def _start_thread(self) -> None:
        self._thread = threading.Thread(target=self._run, name="otel-llm-cost-ledger", daemon=True)
        self._thread.start()

    def _after_fork(self) -> None:
        """In a forked child the writer thread does not exist: start one, with an empty buffer (the parent's
        rows are the parent's to write) and fresh locks (the parent's may have been held at the fork)."""
        self._cond = threading.Condition()
        self._rows = deque()
        self._in_flight = 0
        self.written = self.dropped = self.failures = 0
        if not self._closing:
            self._start_thread()

    # -- the exporter's side ----------------------------------------------------------------------------

    def offer(self, rows: Sequence[Row]) -> int:
        """Buffer what fits; count and log the rest as dropped. Returns the number buffered. Never blocks."""
        with self._cond:
            room = 0 if self._closing else max(0, self.capacity - len(self._rows) - self._in_flight)
            taken = rows if len(rows) <= room else rows[:room]
            self._rows.extend(taken)
            lost = len(rows) - len(taken)
            if lost:
                self.dropped += lost
                self._log_drop()
            if taken:
                self._cond.notify()
            return len(taken)

    def _log_drop(self) -> None:
        now = time.monotonic()
        if self._dropped_logged_at is None or now - self._dropped_logged_at >= self.DROP_LOG_EVERY_S:
            self._dropped_logged_at = now
            why = "shutting down" if self._closing else f"its buffer of {self.capacity} rows is full"
            logger.warning("otel-llm-cost ledger: dropped calls because %s (%d rows dropped so far; the ledger "
                           "at %s is unreachable or slower than the calls; raise OTEL_LLM_COST_LEDGER_BUFFER)",
                           why, self.dropped, self.where)

    def pending(self) -> int:
        with self._cond:
            return len(self._rows) + self._in_flight

    def flush(self, timeout_s: float) -> bool:
        """Wait until every buffered row is written; False when the time is up first."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            self._cond.notify_all()
            while self._rows or self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0 or not self._thread.is_alive():
                    return False
                self._cond.wait(left)
            return True

    def shutdown(self, timeout_s: float) -> None:
        """Write what is buffered (one last attempt even in an outage), then stop; log what could not be."""
        self.flush(timeout_s)
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(max(0.1, timeout_s / 10))
        left = self.pending()
        if left:
            logger.error("otel-llm-cost ledger: %d calls were not written to %s before shutdown (database "
                         "unreachable)", left, self.where)

    # -- the thread's side ------------------------------------------------------------------------------

    def _take(self) -> list[Row] | None:
        with self._cond:
            while not self._rows and not self._closing:
                self._cond.wait()
            if not self._rows:
                return None
            count = min(len(self._rows), self.BATCH_ROWS)
            batch = [self._rows.popleft() for _ in range(count)]
            self._in_flight = count
            return batch

    def _run(self) -> None:
        store: Store | None = None
        backoff = self._first_backoff
        outage_since: float | None = None
        while (batch := self._take()) is not None:
            try:
                if store is None:
                    store = self._open_store()
                store.write(batch)
            except Exception as error:
                _close(store)
                store = None
                self.failures += 1
                with self._cond:
                    self._rows.extendleft(reversed(batch))
                    self._in_flight = 0
                    self._cond.notify_all()
                    if outage_since is None:
                        outage_since = time.monotonic()
                        _log_outage(self.where, error, len(self._rows), self.capacity)
                    if self._closing:
                        break
                    self._cond.wait(backoff)  # shutdown() wakes it for a last attempt
                backoff = min(backoff * 2, self._max_backoff)
                continue
            backoff = self._first_backoff
            if outage_since is not None:  # said before waking flushers, so a flush that returns has it logged
                logger.warning("otel-llm-cost ledger: %s is back after %.0fs; the calls buffered meanwhile are "
                               "written", self.where, time.monotonic() - outage_since)
                outage_since = None
            with self._cond:
                self.written += len(batch)
                self._in_flight = 0
                self._cond.notify_all()
        _close(store)


def _close(store: Store | None) -> None:
    if store is not None:
        try:
            store.close()
        except Exception:
            logger.debug("otel-llm-cost ledger: closing the database connection failed", exc_info=True)


def _log_outage(where: str, error: Any, buffered: int, capacity: int) -> None:
    if isinstance(error, SchemaError):
        logger.error("otel-llm-cost ledger: %s; calls are kept in memory (up to %d) meanwhile", error, capacity)
        return
    logger.warning("otel-llm-cost ledger: cannot write to %s (%s: %s); keeping up to %d calls in memory "
                   "(%d now) and retrying with backoff", where, type(error).__name__, error, capacity, buffered)
