"""The in-process budget store (the default): one process's counters under one lock.

Enough for a single process; several replicas each see only their own spend (use Redis for those).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from .store import Reserved, Slot


class _Counter:
    __slots__ = ("expires_at", "holds", "reserved", "spent")

    def __init__(self, expires_at: float) -> None:
        self.spent = 0
        self.reserved = 0
        self.holds: dict[str, tuple[int, float]] = {}  # reservation -> (amount, deadline)
        self.expires_at = expires_at

    def purge(self, now: float) -> None:
        for reservation, (amount, deadline) in list(self.holds.items()):
            if deadline <= now:
                del self.holds[reservation]
                self.reserved -= amount


class MemoryStore:
    """Counters in a dict; windows past their expiry are dropped as new ones appear."""

    url = "memory"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, _Counter] = {}
        self._next_sweep = 0.0

    def _counter(self, slot: Slot) -> _Counter:
        counter = self._counters.get(slot.key)
        if counter is None:
            counter = self._counters[slot.key] = _Counter(slot.expires_at)
        return counter

    def reserve(self, slots: Sequence[Slot], amount: int, reservation: str, now: float,
                ttl: float) -> Reserved:
        with self._lock:
            if now >= self._next_sweep:
                self._sweep(now)
            counters = [self._counter(slot) for slot in slots]
            refused = -1
            for index, (slot, counter) in enumerate(zip(slots, counters, strict=True)):
                if counter.holds:
                    counter.purge(now)
                if slot.blocks and refused < 0 and counter.spent + counter.reserved + amount > slot.limit:
                    refused = index
            if refused < 0 and amount > 0:
                for slot, counter in zip(slots, counters, strict=True):
                    if slot.blocks:
                        counter.reserved += amount
                        counter.holds[reservation] = (amount, now + ttl)
            return Reserved(refused, [c.spent for c in counters], [c.reserved for c in counters])

    def settle(self, slots: Sequence[Slot], reservation: str, actual: int, retry: bool) -> list[int]:
        with self._lock:
            spent = []
            for slot in slots:
                counter = self._counter(slot)
                held = counter.holds.pop(reservation, None)
                if held is not None:
                    counter.reserved -= held[0]
                if held is not None or not retry:
                    counter.spent += actual
                spent.append(counter.spent)
            return spent

    def read(self, keys: Sequence[str], now: float) -> list[tuple[int, int]]:
        with self._lock:
            out = []
            for key in keys:
                counter = self._counters.get(key)
                if counter is None:
                    out.append((0, 0))
                    continue
                counter.purge(now)
                out.append((counter.spent, counter.reserved))
            return out

    def scan(self, prefix: str) -> list[str]:
        with self._lock:
            return [key for key in self._counters if key.startswith(prefix)]

    def _sweep(self, now: float) -> None:
        """Forget windows that are over (a user seen once does not stay in memory for ever)."""
        for key in [k for k, c in self._counters.items() if c.expires_at <= now]:
            del self._counters[key]
        self._next_sweep = now + 60.0

    def ping(self) -> None:
        """Always reachable."""

    def close(self) -> None:
        """Nothing to release."""
