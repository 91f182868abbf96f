"""The two calls the provider call flow makes into budgets (``providers/_base.py``), kept here.

``reserve`` before the SDK call: a refused call ends its span with ``error.type=budget_exceeded`` and no
cost, and ``BudgetExceeded`` goes to the caller. The settle side is ``Ticket.settle`` on the observer's end.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from .errors import BudgetExceeded

if TYPE_CHECKING:
    from ..core.telemetry import CallRecord
    from .guard import Guard, Ticket

ERROR_TYPE = "budget_exceeded"


class _Observer(Protocol):
    call: CallRecord

    def on_end(self, error: BaseException | None) -> None: ...

    def detach(self) -> None: ...


def reserve(guard: Guard | None, observer: _Observer, kwargs: Mapping[str, Any]) -> Ticket | None:
    """Check-and-reserve for the call ``observer`` has started; raises ``BudgetExceeded`` after recording it.
    (``guard`` None: budgets were switched off meanwhile, e.g. by ``uninstrument()`` in another thread.)"""
    if guard is None:
        return None
    try:
        return guard.check(observer.call, kwargs)
    except BudgetExceeded as refused:
        observer.call.error_type = ERROR_TYPE
        observer.detach()
        observer.on_end(refused)
        raise
