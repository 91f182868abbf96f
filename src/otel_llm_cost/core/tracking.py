"""In-process spend of one run: ``with track("eval") as spend: ...; print(spend.summary())``.

For scripts, notebooks and eval runs that want "what did this cost?" without a collector. The numbers are the
very ``Cost`` and ``Usage`` objects ``telemetry`` records as spans and metrics, handed over once per finished
call, so a tracker always agrees with the metrics of the same calls.

Which trackers see a call: those active (a ContextVar) when the call *started*, so a stream read to its end
after the block still counts in the block that made it. Nested trackers each see their calls; threads and
tasks see the trackers of the context they run in (asyncio copies it into every task; for a thread pool submit
``contextvars.copy_context().run``). With no tracker active, a call pays one ContextVar read.
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
from collections.abc import Callable, Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass, field, fields
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ..pricing.result import Cost, Unpriced

if TYPE_CHECKING:
    from .usage import Usage

F = TypeVar("F", bound=Callable[..., Any])
logger = logging.getLogger("otel_llm_cost")

# The trackers in force in this context, innermost last; () when none (the per-call check is `if trackers:`).
_active: ContextVar[tuple[Spend, ...]] = ContextVar("otel_llm_cost_trackers", default=())


# The trackers that a call starting now is counted in, read once per call by ``Telemetry.start``: the ContextVar's
# own (C) method, so a call with no tracker pays one read and no Python frame.
active = _active.get


@dataclass
class Totals:
    """Calls, tokens and USD of a group of calls (a tracker, one model, one attribution value).

    ``total_usd`` = input + output + cache_read + cache_write + other; unpriced calls add no USD but are counted
    in ``unpriced_calls`` (never a silent $0). Token counts follow the conventions: ``input_tokens`` includes
    cache reads and writes, ``output_tokens`` includes reasoning.
    """

    calls: int = 0
    failed_calls: int = 0
    priced_calls: int = 0
    unpriced_calls: int = 0
    total_usd: float = 0.0
    input_usd: float = 0.0
    output_usd: float = 0.0
    cache_read_usd: float = 0.0
    cache_write_usd: float = 0.0
    other_usd: float = 0.0
    cache_savings_usd: float = 0.0
    discount_savings_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0

    def _add_call(self, failed: bool, usage: Usage | None, result: Cost | Unpriced | None) -> None:
        self.calls += 1
        if failed:
            self.failed_calls += 1
        if usage is not None:  # reported counts only: None (not reported) and invalid values add nothing
            value = usage.input_tokens
            self.input_tokens += value if value.__class__ is int and value > 0 else 0
            value = usage.output_tokens
            self.output_tokens += value if value.__class__ is int and value > 0 else 0
            value = usage.cache_read_tokens
            self.cache_read_tokens += value if value.__class__ is int and value > 0 else 0
            value = usage.cache_write_tokens
            self.cache_write_tokens += value if value.__class__ is int and value > 0 else 0
            value = usage.reasoning_tokens
            self.reasoning_tokens += value if value.__class__ is int and value > 0 else 0
        if result.__class__ is Cost:
            cost: Cost = result
            self.priced_calls += 1
            self.total_usd += cost.total
            self.input_usd += cost.input
            self.output_usd += cost.output
            self.cache_read_usd += cost.cache_read
            self.cache_write_usd += cost.cache_write
            self.other_usd += cost.other
            self.cache_savings_usd += cost.cache_savings
            self.discount_savings_usd += cost.discount_savings
        elif result is not None:
            self.unpriced_calls += 1

    def _merge(self, other: Totals) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def copy(self) -> Totals:
        out = Totals()
        out._merge(self)
        return out


# One group of calls that share provider, model and attribution: the unit every breakdown is summed from.
_CellKey = tuple[str, str, tuple[tuple[str, str], ...]]


@dataclass
class _Cell:
    totals: Totals = field(default_factory=Totals)
    unpriced_reasons: dict[str, int] = field(default_factory=dict)


class Spend:
    """The live spend of a tracker: totals, ``by_model``, ``by(key)`` and ``summary()``; safe across threads.

    Every attribute reads the current value, so it can be printed while the run goes on.
    """

    def __init__(self, name: str | None = None) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._total = Totals()
        self._cells: dict[_CellKey, _Cell] = {}

    # -- recording (called by telemetry for every finished call this tracker was active for) --------------

    def _record(self, provider: str, model: str, attribution: Mapping[str, str], failed: bool,
                usage: Usage | None, result: Cost | Unpriced | None) -> None:
        key: _CellKey = (provider, model, tuple(sorted(attribution.items())) if attribution else ())
        with self._lock:
            cell = self._cells.get(key)
            if cell is None:
                cell = self._cells[key] = _Cell()
            cell.totals._add_call(failed, usage, result)
            self._total._add_call(failed, usage, result)
            if isinstance(result, Unpriced):
                cell.unpriced_reasons[result.reason] = cell.unpriced_reasons.get(result.reason, 0) + 1

    # -- reading ------------------------------------------------------------------------------------------

    def totals(self) -> Totals:
        """A snapshot of the tracker's totals."""
        with self._lock:
            return self._total.copy()

    @property
    def total_usd(self) -> float:
        return self._total.total_usd

    @property
    def calls(self) -> int:
        return self._total.calls

    @property
    def failed_calls(self) -> int:
        return self._total.failed_calls

    @property
    def priced_calls(self) -> int:
        return self._total.priced_calls

    @property
    def unpriced_calls(self) -> int:
        return self._total.unpriced_calls

    @property
    def input_tokens(self) -> int:
        return self._total.input_tokens

    @property
    def output_tokens(self) -> int:
        return self._total.output_tokens

    @property
    def cache_read_tokens(self) -> int:
        return self._total.cache_read_tokens

    @property
    def cache_write_tokens(self) -> int:
        return self._total.cache_write_tokens

    @property
    def reasoning_tokens(self) -> int:
        return self._total.reasoning_tokens

    @property
    def cache_savings_usd(self) -> float:
        return self._total.cache_savings_usd

    @property
    def discount_savings_usd(self) -> float:
        return self._total.discount_savings_usd

    @property
    def by_model(self) -> dict[tuple[str, str], Totals]:
        """Totals per (``gen_ai.provider.name``, request model, or the response model when the request named none)."""
        return self._group(lambda key: (key[0], key[1]))

    def by(self, key: str) -> dict[str | None, Totals]:
        """Totals per value of one attribution key (``attributes(feature=...)``); None: calls without it."""
        return self._group(lambda cell_key: dict(cell_key[2]).get(key))

    def _group(self, group_of: Callable[[_CellKey], Any]) -> dict[Any, Totals]:
        out: dict[Any, Totals] = {}
        with self._lock:
            for cell_key, cell in self._cells.items():
                group = group_of(cell_key)
                if group not in out:
                    out[group] = Totals()
                out[group]._merge(cell.totals)
        return out

    def summary(self) -> str:
        """The demo's spend table (per provider, model and feature), totals, spend by team, unpriced reasons."""
        from ..demo.summary import Summary, format_summary

        summary = Summary()
        with self._lock:
            for (provider, model, attribution), cell in self._cells.items():
                attrs = dict(attribution)
                totals = cell.totals
                row = summary.rows[(provider, model, attrs.get("feature", "-"))]
                row.calls += totals.calls
                row.priced += totals.priced_calls
                row.errors += totals.failed_calls
                row.unpriced += totals.unpriced_calls
                row.input += totals.input_tokens
                row.cache_read += totals.cache_read_tokens
                row.output += totals.output_tokens
                row.reasoning += totals.reasoning_tokens
                row.cost += totals.total_usd
                row.savings += totals.cache_savings_usd
                summary.operation_cost += totals.total_usd
                if totals.priced_calls:
                    summary.by_team[attrs.get("team", "-")] += totals.total_usd
                for reason, count in cell.unpriced_reasons.items():
                    summary.unpriced_reasons[(model, reason)] += count
        title = f"spend of {self.name!r}" if self.name else "spend"
        return f"{title}:\n{format_summary(summary)}"

    def __repr__(self) -> str:
        return (f"Spend(name={self.name!r}, total_usd={self.total_usd:.6f}, calls={self.calls}, "
                f"failed_calls={self.failed_calls}, unpriced_calls={self.unpriced_calls})")


def record(trackers: tuple[Spend, ...], provider: str, model: str | None, attribution: Mapping[str, str],
           failed: bool, usage: Usage | None, result: Cost | Unpriced | None) -> None:
    """Count one finished call in each tracker it started under (called by ``Telemetry``)."""
    for spend in trackers:
        spend._record(provider, model or "-", attribution, failed, usage, result)


class track:  # lower case: used like a function, `with track("eval") as spend:`
    """Count the LLM calls made inside into a live ``Spend``: a context manager (``with``/``async with``) and a
    decorator of sync and async functions. Entering the same tracker again (a second batch, each call of a
    decorated function) adds to the same ``Spend``, available as ``.spend`` (and on the decorated function).
    """

    def __init__(self, name: str | None = None) -> None:
        self.spend = Spend(name)
        self._tokens: list[Token[tuple[Spend, ...]]] = []
        self._lock = threading.Lock()

    def _enter(self) -> Spend:
        token = _enter(self.spend)
        with self._lock:
            self._tokens.append(token)
        return self.spend

    def _exit(self) -> None:
        # The newest token of *this* context: the same tracker may be entered in several threads or tasks at once,
        # and a token made in another context cannot reset this one.
        with self._lock:
            for i in range(len(self._tokens) - 1, -1, -1):
                try:
                    _active.reset(self._tokens[i])
                except ValueError:
                    continue
                del self._tokens[i]
                return

    def __enter__(self) -> Spend:
        return self._enter()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._exit()

    async def __aenter__(self) -> Spend:
        return self._enter()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._exit()

    def __call__(self, func: F) -> F:
        spend = self.spend
        if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
            # Its body runs after the call returned, outside the block: every call would be missed, silently.
            raise TypeError(f"track() cannot decorate the generator function {func.__qualname__!r}: "
                            "use `with track(...)` inside it")
        if inspect.iscoroutinefunction(func):
            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                token = _enter(spend)
                try:
                    return await func(*args, **kwargs)
                finally:
                    _active.reset(token)

            async_wrapper.spend = spend  # type: ignore[attr-defined]
            return cast(F, async_wrapper)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = _enter(spend)
            try:
                return func(*args, **kwargs)
            finally:
                _active.reset(token)

        wrapper.spend = spend  # type: ignore[attr-defined]
        return cast(F, wrapper)


_warned_uninstrumented = False


def _warn_if_uninstrumented() -> None:
    """A tracker with no instrumented SDK would stay at $0 without saying why: say it, once per process."""
    global _warned_uninstrumented
    if _warned_uninstrumented:
        return
    from .calls import RUNTIME

    if RUNTIME.telemetry is None:
        _warned_uninstrumented = True
        logger.warning("otel-llm-cost: track() counts only instrumented calls, and no SDK is instrumented: call "
                       "otel_llm_cost.instrument() first (or run under opentelemetry-instrument)")


def _enter(spend: Spend) -> Token[tuple[Spend, ...]]:
    """Make ``spend`` active; re-entering an active tracker (recursion) keeps counting each call once."""
    try:
        _warn_if_uninstrumented()
    except Exception:  # a tracker never breaks the code it measures
        logger.debug("otel-llm-cost: instrumentation check failed", exc_info=True)
    current = _active.get()
    return _active.set(current if spend in current else (*current, spend))
