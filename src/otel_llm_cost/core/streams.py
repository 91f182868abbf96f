"""Transparent proxies for streamed and raw SDK results, shared by every provider.

The caller keeps the SDK's own object (attributes, context manager, ``close()``, ``response``...) through a
``wrapt.ObjectProxy``; we only observe items as they pass. Whatever way the stream ends (exhausted, early
``close()``, ``with``-exit, an exception mid-stream, or the proxy being garbage-collected unfinished), the
observer's ``end`` runs exactly once, so the span ends and what was seen is recorded.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import wrapt

from ..budgets.errors import BudgetExceeded

logger = logging.getLogger("otel_llm_cost")

if TYPE_CHECKING:
    _Proxy = wrapt.ObjectProxy[Any]
else:  # wrapt 1.x, which opentelemetry-instrumentation < 0.61 pins (beside mistralai 2.0-2.9), is not generic
    _Proxy = wrapt.ObjectProxy


class Observer(Protocol):
    """What a provider adapter implements for one call."""

    def on_item(self, item: Any) -> bool:
        """See one streamed item; return False to hide it from the caller (an injected usage-only chunk)."""

    def on_result(self, result: Any) -> None:
        """See the parsed, non-streamed result of a raw-response call."""

    def on_end(self, error: BaseException | None) -> None:
        """The call is over: record it (called once)."""


def _nesting_mark(observer: Observer) -> Any:
    """While a stream we record is read, inner layers of ours step aside, as during the call itself: what the
    outer SDK sends while its stream is read (a request it starts lazily, a Router's mid-stream fallback) belongs
    to the same logical call. The observer's ``nesting_mark`` (a ``ContextVar[bool]`` set True around each step),
    or None for an observer without nesting. Looked up once per stream; set and reset inline on every item (two
    C calls, no Python call of ours)."""
    return getattr(observer, "nesting_mark", None)


def _steady(observer: Observer) -> Callable[[Any], bool]:
    """What sees every item after the first: the observer's ``steady_on_item()`` when it has one (one Python call
    fewer per item), else its ``on_item``. Looked up once per stream, after its first item."""
    steady = getattr(observer, "steady_on_item", None)
    return observer.on_item if steady is None else steady()


def _read_kinds(observer: Observer) -> tuple[str, frozenset[str]] | None:
    """The observer's ``read_kinds`` (``Adapter.read_kinds``): items of other kinds pass with no call."""
    return getattr(observer, "read_kinds", None)


class _Steps:
    """A stream proxy's per-item state in one plain object: reading an attribute of a ``wrapt`` proxy costs about
    ten times a plain object's, and ``__next__`` reads several per item; it reads this one once."""

    __slots__ = ("kinds", "mark", "on_item", "step")

    def __init__(self, step: Any, observer: Observer) -> None:
        # the stream's own step (sync: ``iter(stream).__next__``; async: the async iterator); None: bound on the
        # first item
        self.step = step
        self.mark = _nesting_mark(observer)
        self.on_item: Callable[[Any], bool] | None = None  # _steady(), from the second item on
        self.kinds = _read_kinds(observer)


def _not_a_context_manager(stream: Any) -> None:
    """Raise what ``with stream:`` raises for a stream that is no context manager (a generator, as Ollama's):
    the statement itself is run on it, so the error is the interpreter's own, whatever its version."""
    with stream:  # no __enter__: raises before anything runs
        pass


async def _not_an_async_context_manager(stream: Any) -> None:
    """Raise what ``async with stream:`` raises for a stream that is no async context manager (an async
    generator)."""
    async with stream:  # no __aenter__: raises before anything runs
        pass


class _Finisher:
    """Finalise-once bookkeeping shared by the proxies (state lives on the proxy as ``_self_*``)."""

    _self_observer: Observer
    _self_done: bool

    def _self_end(self, error: BaseException | None = None) -> None:
        if self._self_done:
            return
        self._self_done = True
        _finish(self._self_observer, error)

    def __del__(self) -> None:  # an abandoned stream still ends its span with what was seen
        if not getattr(self, "_self_done", True):
            self._self_end(None)


class SyncStreamProxy(_Finisher, _Proxy):
    """A sync SDK stream (``openai.Stream``, ``anthropic.Stream``...) seen item by item. A stream that is
    iterable but not an iterator (botocore's ``EventStream``) is iterated through one ``iter()`` of it."""

    def __init__(self, wrapped: Any, observer: Observer) -> None:
        super().__init__(wrapped)
        self._self_observer = observer
        self._self_done = False
        # The stream's own step, bound on the first item: ``iter(stream).__next__``, one call per item (``next()``
        # on it would be two). For an iterator that is the stream's ``__next__``; the openai and anthropic
        # ``Stream`` iterate a generator (their ``__iter__``), which steps in C where their ``__next__`` is a
        # Python call per item over that same generator: what the SDK itself does when iterated.
        self._self_steps = _Steps(None, observer)

    def __iter__(self) -> SyncStreamProxy:
        return self

    def __next__(self) -> Any:
        while True:
            steps = self._self_steps
            mark = steps.mark
            nesting = None if mark is None else mark.set(True)
            try:
                if steps.step is None:
                    steps.step = iter(self.__wrapped__).__next__
                item = steps.step()
            except StopIteration:
                self._self_end(None)
                raise
            except BaseException as error:
                self._self_end(error)
                raise
            finally:
                if nesting is not None:
                    try:
                        mark.reset(nesting)
                    except ValueError:  # read in another context than the one the mark was set in
                        mark.set(False)
            try:  # an observer failure never reaches the caller: the item is shown
                on_item = steps.on_item
                kinds = steps.kinds
                if kinds is not None and on_item is not None:  # an item of a kind the adapter does not read
                    try:
                        if item.__dict__[kinds[0]] not in kinds[1]:
                            return item
                    except (AttributeError, KeyError, TypeError):
                        pass
                if on_item is None:  # the first item
                    observer = self._self_observer
                    steps.on_item = _steady(observer)
                    on_item = observer.on_item
                if on_item(item):
                    return item
            except Exception:
                logger.debug("otel-llm-cost: observing a stream item failed", exc_info=True)
                return item

    def __enter__(self) -> SyncStreamProxy:
        if not hasattr(type(self.__wrapped__), "__enter__"):
            _not_a_context_manager(self.__wrapped__)
        self.__wrapped__.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(*exc_info)
        finally:
            self._self_end(None)

    def close(self) -> None:
        try:
            self.__wrapped__.close()
        finally:
            self._self_end(None)


class AsyncStreamProxy(_Finisher, _Proxy):
    """An async SDK stream seen item by item (one ``__aiter__()`` of it when it is not an async iterator itself,
    as aiobotocore's ``AioEventStream``)."""

    def __init__(self, wrapped: Any, observer: Observer) -> None:
        super().__init__(wrapped)
        self._self_observer = observer
        self._self_done = False
        step = getattr(wrapped, "__anext__", None)
        # aiobotocore's ``__anext__`` is an async generator function, not a step: iterate its ``__aiter__()``
        self._self_steps = _Steps(wrapped if callable(step) and not inspect.isasyncgenfunction(step) else None,
                                  observer)

    def __aiter__(self) -> AsyncStreamProxy:
        return self

    async def __anext__(self) -> Any:
        while True:
            steps = self._self_steps
            mark = steps.mark
            nesting = None if mark is None else mark.set(True)
            try:
                if steps.step is None:
                    steps.step = self.__wrapped__.__aiter__()
                item = await steps.step.__anext__()
            except StopAsyncIteration:
                self._self_end(None)
                raise
            except BaseException as error:
                self._self_end(error)
                raise
            finally:
                if nesting is not None:
                    try:
                        mark.reset(nesting)
                    except ValueError:  # read in another context than the one the mark was set in
                        mark.set(False)
            try:  # an observer failure never reaches the caller: the item is shown
                on_item = steps.on_item
                kinds = steps.kinds
                if kinds is not None and on_item is not None:  # an item of a kind the adapter does not read
                    try:
                        if item.__dict__[kinds[0]] not in kinds[1]:
                            return item
                    except (AttributeError, KeyError, TypeError):
                        pass
                if on_item is None:  # the first item
                    observer = self._self_observer
                    steps.on_item = _steady(observer)
                    on_item = observer.on_item
                if on_item(item):
                    return item
            except Exception:
                logger.debug("otel-llm-cost: observing a stream item failed", exc_info=True)
                return item

    async def __aenter__(self) -> AsyncStreamProxy:
        if not hasattr(type(self.__wrapped__), "__aenter__"):
            await _not_an_async_context_manager(self.__wrapped__)
        await self.__wrapped__.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(*exc_info)
        finally:
            self._self_end(None)

    def close(self) -> Any:
        """The stream's own ``close()``, of its own shape: awaitable for the SDKs' async streams, a plain call for
        one whose close is synchronous (aiobotocore's ``AioEventStream``)."""
        try:
            # an async generator has only aclose()
            result = (getattr(self.__wrapped__, "close", None) or self.__wrapped__.aclose)()
        except BaseException:
            self._self_end(None)
            raise
        if not inspect.isawaitable(result):
            self._self_end(None)
            return result

        async def close_async() -> Any:
            try:
                return await result
            finally:
                self._self_end(None)

        return close_async()

    async def aclose(self) -> None:
        aclose = getattr(self.__wrapped__, "aclose", None)  # an async generator's own way to close
        if aclose is None:
            closed = self.close()
            if inspect.isawaitable(closed):
                await closed
            return
        try:
            await aclose()
        finally:
            self._self_end(None)


class RawResponseProxy(_Finisher, _Proxy):
    """A ``with_raw_response`` / ``with_streaming_response`` result: usage is read when the caller parses it.

    ``parse()`` and ``close()`` keep the SDK's own shape: they are coroutines only where the SDK's are (its
    async *raw* response parses synchronously, its async *streaming* response does not). ``parse()`` returning
    a stream gives the caller our stream proxy, the same one every time, as the SDK caches its stream; a body
    that is never parsed ends the call without usage (never an invented number).
    """

    def __init__(self, wrapped: Any, observer: Observer) -> None:
        super().__init__(wrapped)
        self._self_observer = observer
        self._self_done = False
        self._self_parsed: SyncStreamProxy | AsyncStreamProxy | None = None

    def _self_take(self, parsed: Any, wants_default: bool) -> Any:
        if not wants_default:
            return parsed
        stream = self._self_parsed
        if stream is not None:  # parsed again: the SDK hands back its cached stream, we hand back our proxy
            return stream if parsed is stream.__wrapped__ else parsed
        if self._self_done:
            return parsed
        if _looks_like_stream(parsed):
            proxy = AsyncStreamProxy if hasattr(type(parsed), "__anext__") else SyncStreamProxy
            self._self_parsed = proxy(parsed, self._self_observer)
            self._self_done = True  # the stream proxy owns the end from now on
            return self._self_parsed
        try:
            self._self_observer.on_result(parsed)
        except Exception:
            logger.debug("otel-llm-cost: reading a raw response failed", exc_info=True)
        self._self_end(None)
        return parsed

    def parse(self, *args: Any, **kwargs: Any) -> Any:
        wants_default = not args and kwargs.get("to") is None
        parsed = self.__wrapped__.parse(*args, **kwargs)
        if _awaitable(parsed):
            async def parse_async() -> Any:
                return self._self_take(await parsed, wants_default)

            return parse_async()
        return self._self_take(parsed, wants_default)

    def close(self) -> Any:
        result = self.__wrapped__.close()
        if _awaitable(result):
            async def close_async() -> Any:
                try:
                    return await result
                finally:
                    self._self_end(None)

            return close_async()
        self._self_end(None)
        return result


class ManagedObserver(Observer, Protocol):
    """An observer whose call was started (span current) by ``ManagedStreamProxy`` on enter."""

    def detach(self) -> None:
        """Stop the call's span being current (the SDK's enter has returned)."""


class ManagedStreamProxy(_Proxy):
    """A stream *manager* (anthropic ``messages.stream()``) whose request runs on ``__enter__``/``__aenter__``.

    The call starts only then (``begin()``), so a manager that is never entered records nothing, and the
    request (and any span the SDK makes for it) runs while our span is current. ``attach(entered, wrap)``
    is the provider's: it puts ``wrap(raw_stream)`` (our stream proxy) where the SDK's stream object reads
    its raw items, so iterating, ``text_stream``, ``get_final_message()`` and ``close()`` are all seen.
    """

    def __init__(self, wrapped: Any, begin: Callable[[], ManagedObserver | None],
                 attach: Callable[[Any, Callable[[Any], Any]], None]) -> None:
        super().__init__(wrapped)
        self._self_begin = begin
        self._self_attach = attach
        self._self_stream: SyncStreamProxy | AsyncStreamProxy | None = None

    def _self_start(self) -> ManagedObserver | None:
        try:
            return self._self_begin()
        except BudgetExceeded:
            raise  # a budget refused the call: the request is not sent, the caller is told
        except Exception:
            logger.debug("otel-llm-cost: could not start a call record", exc_info=True)
            return None

    def _self_entered(self, observer: ManagedObserver, entered: Any, proxy_type: type) -> Any:
        observer.detach()

        def wrap(raw: Any) -> Any:
            self._self_stream = proxy_type(raw, observer)
            return self._self_stream

        try:
            self._self_attach(entered, wrap)
        except Exception:  # an SDK whose internals moved: the call is still recorded, without usage
            logger.debug("otel-llm-cost: could not observe a managed stream", exc_info=True)
            if self._self_stream is None:
                _finish(observer, None)
        return entered

    def _self_failed(self, observer: ManagedObserver, error: BaseException) -> None:
        observer.detach()
        _finish(observer, error)

    def _self_exited(self) -> None:
        stream = self._self_stream
        if stream is not None:
            stream._self_end(None)

    def __enter__(self) -> Any:
        observer = self._self_start()
        if observer is None:
            return self.__wrapped__.__enter__()
        try:
            entered = self.__wrapped__.__enter__()
        except BaseException as error:
            self._self_failed(observer, error)
            raise
        return self._self_entered(observer, entered, SyncStreamProxy)

    def __exit__(self, *exc_info: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(*exc_info)
        finally:
            self._self_exited()

    async def __aenter__(self) -> Any:
        observer = self._self_start()
        if observer is None:
            return await self.__wrapped__.__aenter__()
        try:
            entered = await self.__wrapped__.__aenter__()
        except BaseException as error:
            self._self_failed(observer, error)
            raise
        return self._self_entered(observer, entered, AsyncStreamProxy)

    async def __aexit__(self, *exc_info: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(*exc_info)
        finally:
            self._self_exited()


def end_stream(stream: Any) -> None:
    """End the call of ``stream`` if it is one of our stream proxies (a helper closed its response past it)."""
    if isinstance(stream, (SyncStreamProxy, AsyncStreamProxy)):
        stream._self_end(None)


def _finish(observer: Observer, error: BaseException | None) -> None:
    """End the observer's call; a failure inside our recording never reaches the app."""
    try:
        observer.on_end(error)
    except Exception:
        logger.debug("otel-llm-cost: finishing a call failed", exc_info=True)


def _awaitable(obj: Any) -> bool:
    return hasattr(type(obj), "__await__")


def _looks_like_stream(obj: Any) -> bool:
    cls = type(obj)
    return (hasattr(cls, "__next__") or hasattr(cls, "__anext__")) and hasattr(cls, "close")
