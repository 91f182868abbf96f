"""Streams that are plain generators (Ollama's): a caller misusing one as a context manager gets exactly the error
it gets without us (the interpreter's own), and the call still ends once."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Iterator
from typing import Any

from test_streams import Recorder

from otel_llm_cost.core.streams import AsyncStreamProxy, SyncStreamProxy


def _parts() -> Iterator[str]:
    yield from ("a", "b")


async def _async_parts() -> AsyncIterator[str]:
    for part in ("a", "b"):
        yield part


def _error_of(action: Any) -> tuple[type[BaseException], str]:
    try:
        action()
    except Exception as error:
        return type(error), str(error)
    raise AssertionError("no error")


def test_with_on_a_generator_raises_what_it_raises_without_us() -> None:
    def use(stream: Any) -> None:
        with stream:
            pass

    observer = Recorder()
    bare = _error_of(lambda: use(_parts()))
    seen = _error_of(lambda: use(SyncStreamProxy(_parts(), observer)))
    assert seen == bare
    gc.collect()
    assert observer.ends == [None]


def test_async_with_on_an_async_generator_raises_what_it_raises_without_us() -> None:
    async def use(stream: Any) -> None:
        async with stream:
            pass

    observer = Recorder()
    bare = _error_of(lambda: asyncio.run(use(_async_parts())))
    seen = _error_of(lambda: asyncio.run(use(AsyncStreamProxy(_async_parts(), observer))))
    assert seen == bare
    gc.collect()
    assert observer.ends == [None]
