"""Who or what a call is for: ``attributes(feature=..., team=...)``, W3C baggage, and metric cardinality caps.

Attribution lives in a ContextVar, so threads and asyncio tasks each keep their own and nested blocks
merge (inner values win). Spans get every attribution key; metrics only the allowlisted keys, each capped
at a number of distinct values beyond which the value is ``_other`` (so a user id cannot explode series).
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar, Token
from types import MappingProxyType, TracebackType
from typing import Any, TypeVar, cast

_EMPTY: Mapping[str, str] = MappingProxyType({})
_current: ContextVar[Mapping[str, str]] = ContextVar("otel_llm_cost_attribution", default=_EMPTY)

F = TypeVar("F", bound=Callable[..., Any])
OTHER = "_other"


class attributes:  # lower case: used like a function, `with attributes(feature="x"):`
    """Attach attribution (feature, team, user_id, tenant, ...) to every LLM call made inside.

    Works as a context manager (``with``/``async with``) and as a decorator of sync and async functions.
    Values are converted to strings; ``None`` removes a key set by an outer block.
    """

    def __init__(self, **values: object) -> None:
        self._values = values
        self._tokens: list[Token[Mapping[str, str]]] = []

    def _enter(self) -> None:
        merged = dict(_current.get())
        for key, value in self._values.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = str(value)
        self._tokens.append(_current.set(MappingProxyType(merged)))

    def _exit(self) -> None:
        _current.reset(self._tokens.pop())

    def __enter__(self) -> attributes:
        self._enter()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._exit()

    async def __aenter__(self) -> attributes:
        self._enter()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._exit()

    def __call__(self, func: F) -> F:
        values = self._values
        if inspect.iscoroutinefunction(func):
            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with attributes(**values):
                    return await func(*args, **kwargs)

            return cast(F, async_wrapper)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with attributes(**values):
                return func(*args, **kwargs)

        return cast(F, wrapper)


def current() -> Mapping[str, str]:
    """The attribution in force in this context (explicit ``attributes`` blocks only)."""
    return _current.get()


class Attribution:
    """Turns the context's attribution (+ baggage) into span attributes and capped metric attributes."""

    def __init__(self, metric_keys: Iterable[str], max_values: int, baggage_keys: Iterable[str] = ()) -> None:
        self.metric_keys = tuple(metric_keys)
        self.max_values = max_values
        self.baggage_keys = tuple(baggage_keys)
        self._seen: dict[str, set[str]] = {key: set() for key in self.metric_keys}
        self._lock = threading.Lock()
        if not self.baggage_keys:  # every call asks: without baggage keys it is the ContextVar's value, read in C
            self.span_attributes = _current.get  # type: ignore[method-assign]

    def span_attributes(self) -> Mapping[str, str]:
        """Every attribution key in force, baggage first so explicit attributes win."""
        explicit = _current.get()
        if not self.baggage_keys:
            return explicit
        from opentelemetry import baggage

        merged: dict[str, str] = {}
        for key in self.baggage_keys:
            value = baggage.get_baggage(key)
            if value is not None:
                merged[key] = str(value)
        merged.update(explicit)
        return merged

    def metric_attributes(self, span_attributes: Mapping[str, str]) -> dict[str, str]:
        """The allowlisted keys, each value kept only while the key has fewer than the cap."""
        out: dict[str, str] = {}
        for key in self.metric_keys:
            value = span_attributes.get(key)
            if value is None:
                continue
            seen = self._seen[key]
            if value not in seen:
                with self._lock:
                    if value not in seen and len(seen) >= self.max_values:
                        value = OTHER
                    else:
                        seen.add(value)
            out[key] = value
        return out
