"""The openai SDK as a ``ProviderCase``: chat completions and responses, every surface, sync and async."""

from __future__ import annotations

import json
from typing import Any

from fake_openai import STREAM_USAGE_STYLES, FakeOpenAI, http
from provider_case import ProviderCase, Surface, Wire, decode_answer

import openai
from conversation import MESSAGES

CHAT = {"model": "gpt-4o-mini", "messages": MESSAGES}
RESPONSES = {"model": "gpt-4o-mini", "input": "Capital of France?"}


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
            Surface(f"{tag}chat streaming response", is_async, "streaming_response",
                    lambda c: c.chat.completions.with_streaming_response.create(**CHAT)),
            Surface(f"{tag}chat streaming response stream", is_async, "streaming_response_stream",
                    lambda c: c.chat.completions.with_streaming_response.create(**CHAT, stream=True)),
            Surface(f"{tag}chat helper", is_async, "helper", lambda c: c.chat.completions.stream(**CHAT),
                    final=lambda s: s.get_final_completion()),
            Surface(f"{tag}responses", is_async, "plain", lambda c: c.responses.create(**RESPONSES)),
            Surface(f"{tag}responses stream", is_async, "stream",
                    lambda c: c.responses.create(**RESPONSES, stream=True)),
            Surface(f"{tag}responses helper", is_async, "helper", lambda c: c.responses.stream(**RESPONSES),
                    final=lambda s: s.get_final_response()),
        ]
    return tuple(out)


class OpenAICase(ProviderCase):
    """OpenAI itself (``base_url`` None) or an OpenAI-compatible host, which may report usage in other styles."""

    http = http
    surfaces = _surfaces()

    def __init__(self, base_url: str | None = None, styles: tuple[str, ...] = STREAM_USAGE_STYLES) -> None:
        self.name = "openai" if base_url is None else f"openai-compatible {base_url}"
        self.base_url = base_url
        self.styles = styles
        self.fake = FakeOpenAI()

    def client(self, handler: Any, is_async: bool) -> Any:
        kwargs: dict[str, Any] = {"api_key": "sk-test", "max_retries": 0}
        if self.base_url:
            kwargs["base_url"] = self.base_url
        if is_async:
            async def handle(request: Any) -> Any:
                return handler(request)

            return openai.AsyncOpenAI(http_client=http.AsyncClient(transport=http.MockTransport(handle)), **kwargs)
        return openai.OpenAI(http_client=http.Client(transport=http.MockTransport(handler)), **kwargs)

    def answer(self, body: dict[str, Any], url: Any) -> Wire:
        self.fake.requests.clear()
        return decode_answer(self.fake.handle(http.Request("POST", url, content=json.dumps(body).encode())))

    def unasked(self, body: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in body.items() if k != "stream_options"}  # no surface here sets it itself

    def set_style(self, style: str) -> None:
        self.fake.stream_usage_style = style

    def indistinguishable(self, wire: Wire, style: str, url: Any) -> bool:
        """Once usage is asked for, its answer is a chat chunk without choices (OpenAI: with the counts; some hosts:
        ``usage`` null). A chunk without choices after the finish reason (or, where usage comes on the last content
        chunk, anywhere), and an empty answer where no finish reason came first, look exactly like it: nothing
        seen in the stream tells them apart (providers/openai.py hides the former, shows the latter). Such damaged
        answers are not drawn for the styles that answer the option."""
        if wire.events is None or style == "always" or not str(url).endswith("/chat/completions"):
            return False
        finished = style == "last_chunk_when_asked"
        for _, data in wire.events:
            if not isinstance(data, dict):
                continue
            choices = data.get("choices")
            if not choices and data.get("usage") is None and finished:
                return True
            if isinstance(choices, list) and any(isinstance(c, dict) and c.get("finish_reason") for c in choices):
                finished = True
        return style == "empty_chunk_when_asked" and not finished

    def error_body(self, status: int) -> Any:
        return {"error": {"message": f"simulated {status}", "type": "server_error", "param": None, "code": None}}
