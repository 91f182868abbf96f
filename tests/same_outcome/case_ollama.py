"""The native ollama SDK as a ``ProviderCase``: chat and generate plain and streamed (NDJSON, counts on the final
``done`` part), embed and the legacy embeddings, sync and async (the simulated API is
tests/providers/fake_ollama.py)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import ollama
from fake_ollama import CREATED, EMBED_MODEL, HOST, MODEL, FakeOllama
from provider_case import Event, ProviderCase, Surface, Wire

CHAT = {"model": MODEL, "messages": [{"role": "user", "content": "Capital of France?"}]}
GENERATE = {"model": MODEL, "prompt": "Capital of France?"}


def _surfaces() -> tuple[Surface, ...]:
    out: list[Surface] = []
    for is_async in (False, True):
        tag = "async " if is_async else ""
        out += [
            Surface(f"{tag}chat", is_async, "plain", lambda c: c.chat(**CHAT)),
            Surface(f"{tag}chat stream", is_async, "generator", lambda c: c.chat(**CHAT, stream=True)),
            Surface(f"{tag}generate", is_async, "plain", lambda c: c.generate(**GENERATE)),
            Surface(f"{tag}generate stream", is_async, "generator", lambda c: c.generate(**GENERATE, stream=True)),
            Surface(f"{tag}embed", is_async, "plain", lambda c: c.embed(model=EMBED_MODEL, input=["a", "b"])),
            Surface(f"{tag}embeddings", is_async, "plain", lambda c: c.embeddings(model=EMBED_MODEL, prompt="a")),
        ]
    return tuple(out)


class OllamaCase(ProviderCase):
    name = "ollama"
    http = httpx
    surfaces = _surfaces()
    stream_content_type = "application/x-ndjson"
    # a stream that ends early: a done part without counts (what a server stopped mid-answer may send)
    early_end: Event = (None, {"model": MODEL, "created_at": CREATED, "done": True, "done_reason": "stop"})

    def __init__(self) -> None:
        self.fake = FakeOllama()

    def client(self, handler: Any, is_async: bool) -> Any:
        if is_async:
            async def handle(request: Any) -> Any:
                return handler(request)

            return ollama.AsyncClient(host=HOST, transport=httpx.MockTransport(handle))
        return ollama.Client(host=HOST, transport=httpx.MockTransport(handler))

    def encode_event(self, event: Event) -> bytes:
        data = event[1]
        return (data if isinstance(data, str) else json.dumps(data)).encode() + b"\n"

    def error_body(self, status: int) -> Any:
        return {"error": f"status {status}"}

    def answer(self, body: dict[str, Any], url: Any) -> Wire:
        self.fake.requests.clear()
        response = self.fake.handle(httpx.Request("POST", url, content=json.dumps(body).encode()))
        payload = response.read()
        if response.headers.get("content-type") == "application/x-ndjson":
            return Wire(status=response.status_code,
                        events=[(None, json.loads(line)) for line in payload.splitlines() if line])
        return Wire(status=response.status_code, body=json.loads(payload))
