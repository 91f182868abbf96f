"""The native groq SDK as a ``ProviderCase``: chat completions plain, streamed (usage under ``x_groq.usage``), raw
and streaming responses, sync and async (the simulated API is tests/providers/fake_groq.py)."""

from __future__ import annotations

import json
from typing import Any

import groq
import httpx
from fake_groq import MODEL, FakeGroq
from provider_case import ProviderCase, Surface, Wire, decode_answer

CHAT = {"model": MODEL, "messages": [{"role": "user", "content": "Capital of France?"}]}


def _surfaces() -> tuple[Surface, ...]:
    out: list[Surface] = []
    for is_async in (False, True):
        tag = "async " if is_async else ""
        out += [
            Surface(f"{tag}chat", is_async, "plain", lambda c: c.chat.completions.create(**CHAT)),
            Surface(f"{tag}chat stream", is_async, "stream",
                    lambda c: c.chat.completions.create(**CHAT, stream=True)),
            Surface(f"{tag}chat raw", is_async, "raw", lambda c: c.chat.completions.with_raw_response.create(**CHAT)),
            Surface(f"{tag}chat raw stream", is_async, "raw_stream",
                    lambda c: c.chat.completions.with_raw_response.create(**CHAT, stream=True)),
        ]
    return tuple(out)


class GroqCase(ProviderCase):
    name = "groq"
    http = httpx
    surfaces = _surfaces()

    def __init__(self) -> None:
        self.fake = FakeGroq()

    def client(self, handler: Any, is_async: bool) -> Any:
        if is_async:
            async def handle(request: Any) -> Any:
                return handler(request)

            return groq.AsyncGroq(api_key="gsk-test", max_retries=0,
                                  http_client=httpx.AsyncClient(transport=httpx.MockTransport(handle)))
        return groq.Groq(api_key="gsk-test", max_retries=0,
                         http_client=httpx.Client(transport=httpx.MockTransport(handler)))

    def answer(self, body: dict[str, Any], url: Any) -> Wire:
        self.fake.requests.clear()
        return decode_answer(self.fake.handle(httpx.Request("POST", url, content=json.dumps(body).encode())))
