"""The budget guard: before a call, reserve its maximum cost on every budget it falls under; after, settle.

``check`` runs before the SDK sends the request: it matches the call's facts (attribution, baggage, service,
provider, model) against the budgets, estimates the call's maximum cost at table prices and, in one atomic
store step, reserves it on every matching ``block`` budget, or raises ``BudgetExceeded`` if one cannot take it.
``Ticket.settle`` runs when the call ends however it ends (result, error, cancel, abandoned stream): the
reservation is released and the actual cost added. If the store cannot be reached the call goes ahead (fail
open, logged once per outage, counted) or is refused (``OTEL_LLM_COST_BUDGET_FAIL=closed``); settlements that
could not be delivered are retried at the next successful store call. Nothing here raises into the app except
``BudgetExceeded``.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..pricing.estimate import estimate_cost
from ..pricing.result import Cost
from .errors import LIMIT, STORE_UNAVAILABLE, BudgetExceeded
from .file import ANY, Budget
from .metrics import BUDGET, OPERATION, REASON, BudgetMetrics
from .store import Slot, Store, StoreUnavailable, slot_key, to_nanos, to_usd, window_prefix
from .windows import as_utc, window_bounds, window_label

if TYPE_CHECKING:
    from ..core.telemetry import CallRecord
    from ..pricing.result import Unpriced

logger = logging.getLogger("otel_llm_cost")

NO_OUTPUT_OPERATIONS = ("embeddings",)  # billed for input only
KEEP_WINDOW_S = 86400.0  # the store keeps a window's counters this long after it ends (for `budgets status`)
RETRY_AFTER_S = 1.0  # after a store failure, calls do not wait on the store again for this long
MAX_PENDING = 10000  # undelivered settlements kept for retry


class _Ids:
    """Reservation ids unique across processes and replicas: a random prefix per process, then a counter."""

    def __init__(self) -> None:
        self._renew()
        if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
            os.register_at_fork(after_in_child=self._renew)

    def _renew(self) -> None:
        self._prefix = os.urandom(6).hex()
        self._counter = itertools.count()

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter):x}"


_IDS = _Ids()  # one per process (a fork hook registered once)


@dataclass(frozen=True)
class BudgetStatus:
    """What one budget instance has left in its current window (``budget_status()``)."""

    name: str
    scope: Mapping[str, str]
    action: str
    window: str
    limit_usd: float
    spent_usd: float
    reserved_usd: float
    remaining_usd: float
    resets_at: datetime


class Ticket:
    """One call's reservation; ``settle`` exactly once when the call ends."""

    __slots__ = ("call", "floor", "guard", "held", "names", "reservation", "slots", "starts")

    def __init__(self, guard: Guard, call: CallRecord, names: list[str], slots: list[Slot], starts: list[float],
                 reservation: str, floor: int, held: bool = True) -> None:
        self.guard = guard
        self.call = call
        self.held = held  # False: let through unreserved while the store was unreachable (fail open)
        self.names = names
        self.slots = slots
        self.starts = starts
        self.reservation = reservation
        self.floor = floor  # nano-USD billed even if no usage comes back: the input was sent

    def settle(self, result: Cost | Unpriced | None, error: BaseException | None) -> None:
        """Release the reservation and add the call's actual cost. Never raises."""
        try:
            self.guard.settle(self, result, error)
        except Exception:
            logger.debug("otel-llm-cost: settling a budget reservation failed", exc_info=True)


class Guard:
    """Budgets, a store and the fail policy; shared by every instrumented call of the process."""

    def __init__(self, budgets: list[Budget], store: Store, *, fail_closed: bool = False,
                 reservation_ttl: float = 900.0, service: str | None = None, tracer_provider: Any = None,
                 meter_provider: Any = None, clock: Callable[[], float] = time.time) -> None:
        self.budgets = budgets
        self.store = store
        self.fail_closed = fail_closed
        self.reservation_ttl = reservation_ttl
        self.clock = clock
        self.metrics = BudgetMetrics(budgets, meter_provider)
        self._service = service
        self._tracer_provider = tracer_provider
        # budget name -> its current window: (start, end, key prefix, limit nano-USD, keep until)
        self._windows: dict[str, tuple[float, float, str, int, float]] = {}
        self._down_until = 0.0
        self._outage_logged = False
        self._pending: deque[tuple[list[Slot], str, int, bool]] = deque(maxlen=MAX_PENDING)
        self._flushing = threading.Lock()
        self._logged: set[tuple[str, ...]] = set()

    # -- before the call ------------------------------------------------------------------------------

    def facts(self, call: CallRecord) -> dict[str, str]:
        """What scopes match against: attribution keys, then the call's service, provider and model."""
        facts = dict(call.attribution)
        service = self.service()
        if service:
            facts["service"] = service
        facts["provider"] = call.provider
        if call.request_model:
            facts["model"] = call.request_model
        return facts

    def service(self) -> str | None:
        """``service.name`` of the tracer provider's resource (else OTEL_SERVICE_NAME), read once."""
        if self._service is None:
            from opentelemetry import trace

            provider = self._tracer_provider or trace.get_tracer_provider()
            resource = getattr(provider, "resource", None)
            name = getattr(resource, "attributes", {}).get("service.name")
            self._service = str(name) if name else os.environ.get("OTEL_SERVICE_NAME", "")
        return self._service or None

    def _window(self, budget: Budget, now: float) -> tuple[float, float, str, int, float]:
        """The budget's window containing ``now``, computed once per window."""
        current = self._windows.get(budget.name)
        if current is None or not current[0] <= now < current[1]:
            assert budget.tz is not None
            start, end = window_bounds(now, budget.window, budget.tz)
            current = self._windows[budget.name] = (start, end, window_prefix(budget.name, window_label(start)),
                                                    to_nanos(budget.limit_usd), end + KEEP_WINDOW_S)
        return current

    def slots(self, facts: Mapping[str, str], now: float) -> tuple[list[Budget], list[Slot], list[float]]:
        """The budgets that apply to a call with ``facts``, their counters now, and their window starts."""
        budgets, slots, starts = [], [], []
        for budget in self.budgets:
            values = budget.match(facts)
            if values is None:
                continue
            start, _end, prefix, limit, keep_until = self._window(budget, now)
            budgets.append(budget)
            slots.append(Slot(slot_key(budget.name, "", values, prefix), limit, budget.blocks, keep_until))
            starts.append(start)
        return budgets, slots, starts

    def check(self, call: CallRecord, kwargs: Mapping[str, Any]) -> Ticket | None:
        """Reserve the call's maximum cost, or raise ``BudgetExceeded``; None when no budget applies."""
        try:
            return self._check(call, kwargs)
        except BudgetExceeded:
            raise
        except Exception:
            logger.debug("otel-llm-cost: budget check failed; the call goes ahead", exc_info=True)
            return None

    def _check(self, call: CallRecord, kwargs: Mapping[str, Any]) -> Ticket | None:
        now = self.clock()
        budgets, slots, starts = self.slots(self.facts(call), now)
        if not slots:
            return None
        most, floor = self._maximum(call, kwargs)
        reservation = _IDS.next()
        try:
            reserved = self._store_call(self.store.reserve, slots, most, reservation, now, self.reservation_ttl)
        except StoreUnavailable:
            self.metrics.store_unavailable.add(1, {OPERATION: "reserve"})
            blocking = next((b for b in budgets if b.blocks), None)
            if self.fail_closed and blocking is not None:
                self.metrics.blocked.add(1, {BUDGET: blocking.name, REASON: STORE_UNAVAILABLE})
                values = blocking.match(self.facts(call)) or ()
                raise BudgetExceeded(blocking.name, _shown(blocking, values), spent_usd=None, reserved_usd=None,
                                     limit_usd=blocking.limit_usd, requested_usd=to_usd(most), resets_at=None,
                                     reason=STORE_UNAVAILABLE) from None
            # fail open: the call goes ahead unreserved; its spend is still settled
            return Ticket(self, call, [b.name for b in budgets], slots, starts, reservation, floor, held=False)
        for budget, start, spent in zip(budgets, starts, reserved.spent, strict=True):
            self.metrics.saw(budget.name, start, spent)
        if reserved.refused >= 0:
            budget, index = budgets[reserved.refused], reserved.refused
            self.metrics.blocked.add(1, {BUDGET: budget.name, REASON: LIMIT})
            values = budget.match(self.facts(call)) or ()
            raise BudgetExceeded(budget.name, _shown(budget, values), spent_usd=to_usd(reserved.spent[index]),
                                 reserved_usd=to_usd(reserved.reserved[index]), limit_usd=budget.limit_usd,
                                 requested_usd=to_usd(most), resets_at=as_utc(self._window(budget, now)[1]))
        for index, budget in enumerate(budgets):
            if not budget.blocks and reserved.spent[index] + reserved.reserved[index] + most > slots[index].limit:
                self._warn(budget, starts[index], reserved.spent[index])
        return Ticket(self, call, [b.name for b in budgets], slots, starts, reservation, floor)

    def _maximum(self, call: CallRecord, kwargs: Mapping[str, Any]) -> tuple[int, int]:
        """(most the call can cost, what it costs even if cut short), nano-USD, at table prices."""
        model = call.request_model or ""
        try:  # the whole request: its content, system prompt, tools, output limit and choice count all count
            estimate = estimate_cost(provider=call.provider, model=model, messages=dict(kwargs),
                                     max_output_tokens=0 if call.operation in NO_OUTPUT_OPERATIONS else None,
                                     at=call.start_time)
        except Exception as error:
            self._log_once(("estimate", call.provider, model), "otel-llm-cost: budgets cannot estimate calls to %s "
                           "model %r (%s: %s): they are let through while the budget is not yet spent",
                           call.provider, model, type(error).__name__, error)
            return 0, 0
        if estimate.low_usd is None:
            self._log_once(("unpriced", call.provider, model), "otel-llm-cost: budgets cannot price calls to %s "
                           "model %r (%s): they are let through while the budget is not yet spent",
                           call.provider, model, estimate.unpriced_reason)
            return 0, 0
        if estimate.high_usd is None:
            self._log_once(("unbounded", call.provider, model), "otel-llm-cost: calls to %s model %r set no output "
                           "limit and the model's is unknown: budgets reserve their input cost only and may be "
                           "overshot by their output (set max_tokens)", call.provider, model)
            return to_nanos(estimate.low_usd), to_nanos(estimate.low_usd)
        return to_nanos(estimate.high_usd), to_nanos(estimate.low_usd)

    def _warn(self, budget: Budget, start: float, spent: int) -> None:
        self.metrics.warned.add(1, {BUDGET: budget.name})
        self._log_once(("warn", budget.name, str(start)), "otel-llm-cost: budget %r (warn only) is exceeded in "
                       "the window starting %s: spent $%.6f of $%.2f, and a call whose maximum does not fit went "
                       "ahead (logged once per window; counted in llm_cost.budget.warned)", budget.name,
                       as_utc(start).isoformat(), to_usd(spent), budget.limit_usd)

    # -- after the call -------------------------------------------------------------------------------

    def settle(self, ticket: Ticket, result: Cost | Unpriced | None, error: BaseException | None) -> None:
        if isinstance(result, Cost):
            actual = to_nanos(result.total)
        elif isinstance(error, Exception) and ticket.call.first_chunk is None:
            actual = 0  # the SDK raised before any answer and reported no usage: an error answer, no charge
        else:  # no usage: cancelled, abandoned, broken mid-stream, or an unpriced model: the input was sent
            actual = ticket.floor
        try:
            spent = self._store_call(self.store.settle, ticket.slots, ticket.reservation, actual, False)
        except StoreUnavailable:
            self.metrics.store_unavailable.add(1, {OPERATION: "settle"})
            # retried later; a held reservation's retry counts only if still held (never twice), an unheld
            # call's spend is added as is
            self._pending.append((ticket.slots, ticket.reservation, actual, ticket.held))
            return
        for name, start, value in zip(ticket.names, ticket.starts, spent, strict=True):
            self.metrics.saw(name, start, value)

    # -- store access ---------------------------------------------------------------------------------

    def _store_call(self, operation: Callable[..., Any], *args: Any) -> Any:
        if self._down_until and time.monotonic() < self._down_until:
            raise StoreUnavailable("retrying shortly")
        try:
            result = operation(*args)
        except Exception as error:
            self._down_until = time.monotonic() + RETRY_AFTER_S
            if not self._outage_logged:
                self._outage_logged = True
                logger.error("otel-llm-cost: budget store %s cannot be reached (%s): calls %s until it answers",
                             self.store.url, error, "under a block budget are refused" if self.fail_closed
                             else "go ahead unchecked (OTEL_LLM_COST_BUDGET_FAIL=closed refuses them)")
            raise StoreUnavailable(str(error)) from None
        if self._down_until:
            self._down_until = 0.0
            self._outage_logged = False
            logger.warning("otel-llm-cost: budget store %s answers again", self.store.url)
        if self._pending:
            self._flush()
        return result

    def _flush(self) -> None:
        """Deliver settlements that failed earlier."""
        if not self._flushing.acquire(blocking=False):
            return
        try:
            while self._pending:
                slots, reservation, actual, held = self._pending.popleft()
                try:
                    self.store.settle(slots, reservation, actual, held)
                except Exception:
                    self._pending.appendleft((slots, reservation, actual, held))
                    return
        finally:
            self._flushing.release()

    # -- status ---------------------------------------------------------------------------------------

    def status(self, facts: Mapping[str, str]) -> list[BudgetStatus]:
        """The budgets that apply to ``facts`` and what each has left (raises ``StoreUnavailable``)."""
        now = self.clock()
        budgets, slots, _starts = self.slots(facts, now)
        states = self.store.read([slot.key for slot in slots], now) if slots else []
        out = []
        for budget, (spent, reserved) in zip(budgets, states, strict=True):
            values = budget.match(facts) or ()
            out.append(BudgetStatus(budget.name, _shown(budget, values), budget.action, budget.window,
                                    budget.limit_usd, to_usd(spent), to_usd(reserved),
                                    max(budget.limit_usd - to_usd(spent + reserved), 0.0),
                                    as_utc(self._window(budget, now)[1])))
        return out

    def close(self) -> None:
        self._flush()
        try:
            self.store.close()
        except Exception:
            logger.debug("otel-llm-cost: closing the budget store failed", exc_info=True)

    def _log_once(self, key: tuple[str, ...], message: str, *args: Any) -> None:
        if key not in self._logged and len(self._logged) < 10000:
            self._logged.add(key)
            logger.warning(message, *args)


def _shown(budget: Budget, values: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """A budget instance's scope as the app sees it (every key, ``"*"`` ones with this call's value)."""
    return dict(values) if values else {k: v for k, v in budget.scope.items() if v != ANY}
