"""The anthropic SDK as a ``ProviderCase``: messages, every surface, sync and async."""

from __future__ import annotations

import json
from typing import Any

import httpx2
from fake_anthropic import FakeAnthropic
from provider_case import ProviderCase, Surface, Wire, decode_answer

import anthropic
from conversation import MESSAGES

REQUEST = {"model": "claude-sonnet-4-5", "max_tokens": 100, "messages": MESSAGES}


def _surfaces() -> tuple[Surface, ...]:
    out: list[Surface] = []
    for is_async in (False, True):
        tag = "async " if is_async else ""
        out += [
            Surface(f"{tag}messages", is_async, "plain", lambda c: c.messages.create(**REQUEST)),
            Surface(f"{tag}messages stream", is_async, "stream", lambda c: c.messages.create(**REQUEST, stream=True)),
            Surface(f"{tag}messages raw", is_async, "raw", lambda c: c.messages.with_raw_response.create(**REQUEST)),
            Surface(f"{tag}messages raw stream", is_async, "raw_stream",
                    lambda c: c.messages.with_raw_response.create(**REQUEST, stream=True)),
            Surface(f"{tag}messages streaming response", is_async, "streaming_response",
                    lambda c: c.messages.with_streaming_response.create(**REQUEST)),
            Surface(f"{tag}messages streaming response stream", is_async, "streaming_response_stream",
                    lambda c: c.messages.with_streaming_response.create(**REQUEST, stream=True)),
            Surface(f"{tag}messages helper", is_async, "helper", lambda c: c.messages.stream(**REQUEST),
                    final=lambda s: s.get_final_message()),
        ]
    return tuple(out)


class AnthropicCase(ProviderCase):
    name = "anthropic"
    http = httpx2
    surfaces = _surfaces()
    early_end = ("message_stop", {"type": "message_stop"})

    def __init__(self) -> None:
        self.fake = FakeAnthropic()

    def client(self, handler: Any, is_async: bool) -> Any:
        kwargs: dict[str, Any] = {"api_key": "sk-ant-test", "max_retries": 0, "open_telemetry": False}
        if is_async:
            async def handle(request: Any) -> Any:
                return handler(request)

            return anthropic.AsyncAnthropic(http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(handle)),
                                            **kwargs)
        return anthropic.Anthropic(http_client=httpx2.Client(transport=httpx2.MockTransport(handler)), **kwargs)

    def answer(self, body: dict[str, Any], url: Any) -> Wire:
        self.fake.requests.clear()
        return decode_answer(self.fake.handle(httpx2.Request("POST", url, content=json.dumps(body).encode())))

    def error_body(self, status: int) -> Any:
        return {"type": "error", "error": {"type": "api_error", "message": f"simulated {status}"},
                "request_id": "req_011CVerr"}
