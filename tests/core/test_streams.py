"""core/streams.py on its own, with a toy stream: every way a stream ends finishes the call exactly once, items
pass unchanged (except one the observer hides), and nothing the observer does reaches the caller."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from otel_llm_cost.core.streams import AsyncStreamProxy, ManagedStreamProxy, SyncStreamProxy


class ToyStream:
    """An SDK stream: iterator, context manager, close(); raises ``error`` after ``fail_after`` items."""

    def __init__(self, items: list[Any], fail_after: int | None = None, error: BaseException | None = None) -> None:
        self.items, self.fail_after, self.error = list(items), fail_after, error
        self.closed = 0
        self.sent = 0

    def __iter__(self) -> ToyStream:
        return self

    def __next__(self) -> Any:
        if self.fail_after is not None and self.sent == self.fail_after:
            raise self.error or RuntimeError("stream broke")
        if self.sent == len(self.items):
            raise StopIteration
        self.sent += 1
        return self.items[self.sent - 1]

    def __enter__(self) -> ToyStream:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.closed += 1


class ToyAsyncStream(ToyStream):
    def __aiter__(self) -> ToyAsyncStream:
        return self

    async def __anext__(self) -> Any:
        try:
            return self.__next__()
        except StopIteration:
            raise StopAsyncIteration from None

    async def close(self) -> None:  # type: ignore[override]
        self.closed += 1


class Recorder:
    """An observer: records what it sees; hides items equal to "hidden"; may be told to fail."""

    def __init__(self, fail: str = "") -> None:
        self.items: list[Any] = []
        self.ends: list[BaseException | None] = []
        self.fail = fail

    def on_item(self, item: Any) -> bool:
        if self.fail == "item":
            raise RuntimeError("observer bug")
        self.items.append(item)
        return item != "hidden"

    def on_result(self, result: Any) -> None:
        self.items.append(result)

    def on_end(self, error: BaseException | None) -> None:
        self.ends.append(error)
        if self.fail == "end":
            raise RuntimeError("observer bug")

    def detach(self) -> None:
        """Managed streams: the SDK's enter returned."""


def test_exhausted_stream_ends_once_and_hides_only_what_the_observer_hides() -> None:
    observer = Recorder()
    proxy = SyncStreamProxy(ToyStream(["a", "hidden", "b"]), observer)
    assert list(proxy) == ["a", "b"]
    assert observer.items == ["a", "hidden", "b"]
    assert observer.ends == [None]
    proxy.close()  # after the end: still once
    assert observer.ends == [None]


@pytest.mark.parametrize("how", ["close", "close-twice", "with", "abandoned"])
def test_a_stream_left_early_ends_once(how: str) -> None:
    observer, raw = Recorder(), ToyStream(["a", "b", "c"])
    proxy: Any = SyncStreamProxy(raw, observer)
    if how == "with":
        with proxy as entered:
            assert next(entered) == "a"
    else:
        assert next(proxy) == "a"
        if how.startswith("close"):
            proxy.close()
            if how == "close-twice":
                proxy.close()
    del proxy
    gc.collect()
    assert observer.ends == [None]
    assert observer.items == ["a"]
    assert raw.closed >= (0 if how == "abandoned" else 1)


def test_an_error_mid_stream_reaches_the_caller_unchanged_and_ends_once() -> None:
    error = ConnectionResetError("peer went away")
    observer = Recorder()
    proxy = SyncStreamProxy(ToyStream(["a", "b"], fail_after=1, error=error), observer)
    with pytest.raises(ConnectionResetError) as raised:
        list(proxy)
    assert raised.value is error
    assert observer.ends == [error]


@pytest.mark.parametrize("fail", ["item", "end"])
def test_observer_failures_never_reach_the_caller(fail: str) -> None:
    observer = Recorder(fail)
    proxy = SyncStreamProxy(ToyStream(["a", "b"]), observer)
    assert list(proxy) == ["a", "b"]
    assert len(observer.ends) == 1


def test_the_proxy_is_transparent() -> None:
    raw = ToyStream(["a"])
    proxy = SyncStreamProxy(raw, Recorder())
    assert proxy.items == ["a"] and isinstance(proxy, ToyStream)


def _run(coro: Callable[[], Any]) -> Any:
    return asyncio.run(coro())


def test_async_stream_ends_once_whichever_way() -> None:
    exhausted, closed = Recorder(), Recorder()

    async def main() -> list[Any]:
        items = [item async for item in AsyncStreamProxy(ToyAsyncStream(["a", "hidden", "b"]), exhausted)]
        early = AsyncStreamProxy(ToyAsyncStream(["a", "b"]), closed)
        await early.__anext__()
        await early.aclose()
        await early.close()
        return items

    assert _run(main) == ["a", "b"]
    assert exhausted.ends == [None] and closed.ends == [None]
    assert closed.items == ["a"]


def test_an_async_generator_stream_closes_itself_and_ends_once() -> None:
    """google-genai's aio streams are async generators: aclose() and no close()."""
    recorder, cleaned = Recorder(), []

    async def chunks() -> Any:
        try:
            for item in ("a", "b", "c"):
                yield item
        finally:
            cleaned.append(True)

    async def main() -> None:
        proxy = AsyncStreamProxy(chunks(), recorder)
        assert await proxy.__anext__() == "a"
        await proxy.aclose()
        await proxy.aclose()

    _run(main)
    assert cleaned == [True]  # the SDK's generator was really closed
    assert recorder.ends == [None] and recorder.items == ["a"]


class ToyManager:
    """A stream manager (anthropic ``messages.stream()``): the request runs on enter."""

    def __init__(self, raw: ToyStream, fail_enter: bool = False) -> None:
        self.raw, self.fail_enter, self.entered = raw, fail_enter, 0

    def __enter__(self) -> ToyManager:
        if self.fail_enter:
            raise TimeoutError("request timed out")
        self.entered += 1
        return self

    def __exit__(self, *exc: Any) -> None:
        self.raw.close()


def _managed(manager: ToyManager, observer: Recorder, attach: Callable[[Any, Any], None] | None = None) -> Any:
    begun: list[Recorder] = []

    def begin() -> Recorder:
        begun.append(observer)
        return observer

    def default_attach(entered: Any, wrap: Callable[[Any], Any]) -> None:
        entered.raw = wrap(entered.raw)

    proxy = ManagedStreamProxy(manager, begin, attach or default_attach)
    return proxy, begun


def test_a_managed_stream_starts_on_enter_and_ends_once() -> None:
    observer = Recorder()
    proxy, begun = _managed(ToyManager(ToyStream(["a", "b"])), observer)
    assert begun == []  # never entered: no call
    with proxy as stream:
        assert begun == [observer]
        assert list(stream.raw) == ["a", "b"]
    assert observer.ends == [None]


def test_a_managed_stream_whose_enter_fails_records_the_error() -> None:
    observer = Recorder()
    proxy, _ = _managed(ToyManager(ToyStream([]), fail_enter=True), observer)
    with pytest.raises(TimeoutError), proxy:
        pass
    assert len(observer.ends) == 1 and isinstance(observer.ends[0], TimeoutError)


def test_a_managed_stream_the_provider_cannot_attach_to_still_ends_once() -> None:
    def broken(entered: Any, wrap: Callable[[Any], Any]) -> None:
        raise AttributeError("SDK internals moved")

    observer = Recorder()
    proxy, _ = _managed(ToyManager(ToyStream(["a"])), observer, broken)
    with proxy as stream:
        assert list(stream.raw) == ["a"]  # the caller's stream works
    assert observer.ends == [None]


def _events() -> Iterator[str]:
    yield from ("a", "b")


async def _async_events() -> AsyncIterator[str]:
    for item in ("a", "b"):
        yield item


def test_a_generator_stream_is_no_context_manager_through_the_proxy_either() -> None:
    """A stream that is a plain generator (cohere's ``chat_stream``): ``with`` on it fails as on the generator."""

    def entered(obj: Any) -> BaseException:
        try:
            with obj:
                pass
        except Exception as error:
            return error
        raise AssertionError("entered")

    bare, proxied = entered(_events()), entered(SyncStreamProxy(_events(), Recorder()))
    assert (type(proxied), str(proxied)) == (type(bare), str(bare))

    async def aentered(obj: Any) -> BaseException:
        try:
            async with obj:
                pass
        except Exception as error:
            return error
        raise AssertionError("entered")

    bare, proxied = asyncio.run(aentered(_async_events())), asyncio.run(
        aentered(AsyncStreamProxy(_async_events(), Recorder())))
    assert (type(proxied), str(proxied)) == (type(bare), str(bare))
