"""A simulated Groq API behind the real ``groq`` SDK's httpx transport: OpenAI-shaped chat completions whose stream
reports usage on its final chunk under ``x_groq.usage`` (``usage`` stays absent), embeddings, and errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import groq
import httpx

from otel_llm_cost.demo.wire import sse_frame

MODEL = "llama-3.3-70b-versatile"
PROMPT, CACHED, COMPLETION = 1200, 200, 150
# llama-3.3-70b-versatile on Groq, USD per 1M tokens: 0.59 input, 0.79 output (no cache discount in the table)
LLAMA_COST = (PROMPT * 0.59 + COMPLETION * 0.79) / 1e6


def usage() -> dict[str, Any]:
    return {"prompt_tokens": PROMPT, "completion_tokens": COMPLETION, "total_tokens": PROMPT + COMPLETION,
            "prompt_tokens_details": {"cached_tokens": CACHED}, "queue_time": 0.01, "prompt_time": 0.02,
            "completion_time": 0.1, "total_time": 0.13}


def chunk(delta: dict[str, Any], finish: str | None = None, **x_groq: Any) -> dict[str, Any]:
    return {"id": "chatcmpl-groq1", "object": "chat.completion.chunk", "created": 1763900000, "model": MODEL,
            "system_fingerprint": "fp_g", "x_groq": {"id": "req_01", **x_groq},
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}


class FakeGroq:
    """Serves ``/openai/v1/chat/completions`` and ``/openai/v1/embeddings``; ``fail`` injects an error response
    (status, body) or a transport exception; ``break_stream_after`` drops the connection after that many events."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail: tuple[int, dict[str, Any]] | Exception | None = None
        self.break_stream_after: int | None = None

    def client(self, **kw: Any) -> groq.Groq:
        kw.setdefault("max_retries", 0)
        return groq.Groq(api_key="gsk-test", http_client=httpx.Client(transport=httpx.MockTransport(self.handle)),
                         **kw)

    def async_client(self, **kw: Any) -> groq.AsyncGroq:
        kw.setdefault("max_retries", 0)
        return groq.AsyncGroq(api_key="gsk-test",
                              http_client=httpx.AsyncClient(transport=httpx.MockTransport(self.handle_async)), **kw)

    async def handle_async(self, request: httpx.Request) -> httpx.Response:
        return self.handle(request, is_async=True)

    def handle(self, request: httpx.Request, is_async: bool = False) -> httpx.Response:
        body = json.loads(request.content or b"{}")
        self.requests.append(body)
        if isinstance(self.fail, Exception):
            raise self.fail
        if self.fail is not None:
            status, payload = self.fail
            return httpx.Response(status, json=payload)
        if request.url.path == "/openai/v1/chat/completions":
            return self._chat(body, is_async)
        if request.url.path == "/openai/v1/embeddings":
            return httpx.Response(200, json={"object": "list", "model": body["model"],
                                             "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}],
                                             "usage": {"prompt_tokens": 9, "total_tokens": 9}})
        return httpx.Response(404, json={"error": {"message": "not found", "type": "invalid_request_error"}})

    def _chat(self, body: dict[str, Any], is_async: bool) -> httpx.Response:
        tier = body.get("service_tier") or "on_demand"
        if not body.get("stream"):
            return httpx.Response(200, json={
                "id": "chatcmpl-groq1", "object": "chat.completion", "created": 1763900000, "model": MODEL,
                "service_tier": tier, "system_fingerprint": "fp_g",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris"}, "logprobs": None,
                             "finish_reason": "stop"}],
                "usage": usage(), "x_groq": {"id": "req_01", "usage": {"dram_cached_tokens": 0,
                                                                      "sram_cached_tokens": CACHED}}})
        events = [chunk({"role": "assistant", "content": ""}), chunk({"content": "Par"}), chunk({"content": "is"}),
                  chunk({}, "stop", usage=usage())]
        parts = [sse_frame(e) for e in [*events, "[DONE]"]]
        keep = self.break_stream_after

        def stream() -> Iterator[bytes]:
            for i, part in enumerate(parts):
                if keep is not None and i >= keep:
                    raise httpx.ReadError("connection reset by peer")
                yield part

        async def async_stream() -> AsyncIterator[bytes]:
            for part in stream():
                yield part

        return httpx.Response(200, headers={"content-type": "text/event-stream"},
                              content=async_stream() if is_async else stream())


def rate_limited() -> tuple[int, dict[str, Any]]:
    return 429, {"error": {"message": "Rate limit reached for model", "type": "tokens", "code": "rate_limit_exceeded"}}
