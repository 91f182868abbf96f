"""A simulated Cohere API behind the real ``cohere`` SDK's httpx transport: v2 chat (JSON, and SSE streams whose
``message-end`` event carries the usage), v1 chat (JSON, and NDJSON streams whose ``stream-end`` event carries the
response with its ``meta``), embed and rerank on both versions, and errors.

Bodies are shaped like Cohere's: ``usage`` / ``meta`` report ``billed_units`` (what Cohere bills) beside ``tokens``
(what the model saw, prompt template included, so more input tokens) and ``cached_tokens``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import cohere
import httpx

CHAT_MODEL, V1_MODEL = "command-a-03-2025", "command-r-plus-08-2024"
EMBED_MODEL, RERANK_MODEL = "embed-v4.0", "rerank-v3.5"
# raw token counts (on the span) and billed ones (priced)
TOKENS_IN, BILLED_IN, OUTPUT, CACHED = 1262, 1200, 180, 512
# Command A (command-a-03-2025) and Command R+ (command-r-plus-08-2024), USD per 1M tokens: 2.50 input, 10.00
# output (cohere.com/pricing); billed tokens, not raw ones
CHAT_COST = (BILLED_IN * 2.50 + OUTPUT * 10.00) / 1e6
EMBED_TOKENS = 24
# Embed 4 (embed-v4.0), USD per 1M text tokens: 0.12
EMBED_COST = EMBED_TOKENS * 0.12 / 1e6
SEARCH_UNITS = 3
# Rerank 3.5 (rerank-v3.5): USD 2.00 per 1K searches
RERANK_COST = SEARCH_UNITS * 2.00 / 1000


def usage(billed_in: float = BILLED_IN, tokens_in: float = TOKENS_IN, output: float = OUTPUT,
          cached: float | None = CACHED) -> dict[str, Any]:
    """A v2 ``usage`` object (the v1 ``meta`` has the same counts, plus ``api_version``)."""
    body: dict[str, Any] = {"billed_units": {"input_tokens": billed_in, "output_tokens": output},
                            "tokens": {"input_tokens": tokens_in, "output_tokens": output}}
    if cached is not None:
        body["cached_tokens"] = cached
    return body


def meta(**counts: Any) -> dict[str, Any]:
    return {"api_version": {"version": "2"}, **counts}


def sse(event: dict[str, Any]) -> bytes:
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


def ndjson(event: dict[str, Any]) -> bytes:
    return (json.dumps(event) + "\n").encode()


class FakeCohere:
    """Serves ``/v2/chat``, ``/v2/embed``, ``/v2/rerank`` and their ``/v1`` counterparts; ``fail`` injects an error
    response (status, body) or a transport exception; ``break_stream_after`` drops the connection after that many
    events; ``usage_body`` replaces the usage of every answer (None: an answer without usage)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.fail: tuple[int, dict[str, Any]] | Exception | None = None
        self.break_stream_after: int | None = None
        self.usage_body: dict[str, Any] | None = usage()
        self.embed_meta: dict[str, Any] | None = meta(billed_units={"input_tokens": EMBED_TOKENS})
        self.rerank_meta: dict[str, Any] | None = meta(billed_units={"search_units": SEARCH_UNITS})

    # -- clients --------------------------------------------------------------------------------------

    def client(self, **kw: Any) -> cohere.ClientV2:
        return cohere.ClientV2(api_key="co-test", httpx_client=httpx.Client(transport=self.transport()), **kw)

    def async_client(self, **kw: Any) -> cohere.AsyncClientV2:
        return cohere.AsyncClientV2(api_key="co-test", httpx_client=httpx.AsyncClient(
            transport=self.async_transport()), **kw)

    def v1_client(self, **kw: Any) -> cohere.Client:
        return cohere.Client(api_key="co-test", httpx_client=httpx.Client(transport=self.transport()), **kw)

    def v1_async_client(self, **kw: Any) -> cohere.AsyncClient:
        return cohere.AsyncClient(api_key="co-test", httpx_client=httpx.AsyncClient(
            transport=self.async_transport()), **kw)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def async_transport(self) -> httpx.MockTransport:
        async def handle(request: httpx.Request) -> httpx.Response:
            return self.handle(request, is_async=True)

        return httpx.MockTransport(handle)

    # -- the API --------------------------------------------------------------------------------------

    def handle(self, request: httpx.Request, is_async: bool = False) -> httpx.Response:
        body = json.loads(request.content or b"{}")
        self.requests.append((request.url.path, body))
        if isinstance(self.fail, Exception):
            raise self.fail
        if self.fail is not None:
            status, payload = self.fail
            # a short Retry-After, as rate-limited APIs send: the SDK retries a 429/5xx twice, after 1 s and 2 s
            # without one (the retries still happen, and the test still sees the SDK's final error)
            return httpx.Response(status, json=payload, headers={"retry-after-ms": "1"})
        path = request.url.path
        if path == "/v2/chat":
            return self._stream(self._v2_events(), sse, is_async) if body.get("stream") else \
                httpx.Response(200, json=self._v2_chat())
        if path == "/v1/chat":
            return self._stream(self._v1_events(body), ndjson, is_async) if body.get("stream") else \
                httpx.Response(200, json=self._v1_chat(body))
        if path in ("/v1/embed", "/v2/embed"):
            return httpx.Response(200, json=self._embed(body, path.startswith("/v2")))
        if path in ("/v1/rerank", "/v2/rerank"):
            return httpx.Response(200, json=self._rerank(body))
        return httpx.Response(404, json={"message": "not found"})

    def _v2_chat(self) -> dict[str, Any]:
        answer = {"id": "c14c80c3-18eb-4519-9460-6c92edd8cfb4", "finish_reason": "COMPLETE",
                  "message": {"role": "assistant", "content": [{"type": "text", "text": "Paris"}]}}
        if self.usage_body is not None:
            answer["usage"] = self.usage_body
        return answer

    def _v2_events(self) -> list[dict[str, Any]]:
        end: dict[str, Any] = {"finish_reason": "COMPLETE"}
        if self.usage_body is not None:
            end["usage"] = self.usage_body
        return [
            {"type": "message-start", "id": "29f14a5a-11de-4cae-9800-25e4747408ed",
             "delta": {"message": {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [],
                                   "citations": []}}},
            {"type": "content-start", "index": 0, "delta": {"message": {"content": {"type": "text", "text": ""}}}},
            {"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "Par"}}}},
            {"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "is"}}}},
            {"type": "content-end", "index": 0},
            {"type": "message-end", "delta": end},
        ]

    def _v1_meta(self) -> dict[str, Any]:
        return meta(**self.usage_body) if self.usage_body is not None else meta()

    def _v1_chat(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"response_id": "5e6b1f2c-0b0e-4a8c-9f38-2d7a1c3f9b10", "text": "Paris",
                "generation_id": "0d2b3c5e-6f1a-4b7c-8d9e-0a1b2c3d4e5f",
                "chat_history": [{"role": "USER", "message": body.get("message", "")},
                                 {"role": "CHATBOT", "message": "Paris"}],
                "finish_reason": "COMPLETE", "meta": self._v1_meta()}

    def _v1_events(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {"is_finished": False, "event_type": "stream-start",
             "generation_id": "0d2b3c5e-6f1a-4b7c-8d9e-0a1b2c3d4e5f"},
            {"is_finished": False, "event_type": "text-generation", "text": "Par"},
            {"is_finished": False, "event_type": "text-generation", "text": "is"},
            {"is_finished": True, "event_type": "stream-end", "finish_reason": "COMPLETE",
             "response": self._v1_chat(body)},
        ]

    def _embed(self, body: dict[str, Any], v2: bool) -> dict[str, Any]:
        texts = body.get("texts") or []
        answer: dict[str, Any] = {"id": "e5c3c1b4-7d0a-4f5e-8a2b-3c4d5e6f7a8b", "texts": texts}
        vectors = [[0.016, -0.008, 0.031] for _ in texts]
        if v2 or body.get("embedding_types"):
            answer.update(response_type="embeddings_by_type", embeddings={"float": vectors})
        else:
            answer.update(response_type="embeddings_floats", embeddings=vectors)
        if self.embed_meta is not None:
            answer["meta"] = self.embed_meta
        return answer

    def _rerank(self, body: dict[str, Any]) -> dict[str, Any]:
        documents = body.get("documents") or []
        answer: dict[str, Any] = {"id": "07734bd2-2473-4f07-94e1-0d9f0e6843cf", "results": [
            {"index": i, "relevance_score": round(0.9 / (i + 1), 4)} for i in range(len(documents))]}
        if self.rerank_meta is not None:
            answer["meta"] = self.rerank_meta
        return answer

    def _stream(self, events: list[dict[str, Any]], frame: Any, is_async: bool) -> httpx.Response:
        parts = [frame(e) for e in events]
        keep = self.break_stream_after

        def stream() -> Iterator[bytes]:
            for i, part in enumerate(parts):
                if keep is not None and i >= keep:
                    raise httpx.ReadError("connection reset by peer")
                yield part

        async def async_stream() -> AsyncIterator[bytes]:
            for part in stream():
                yield part

        content_type = "text/event-stream" if frame is sse else "application/stream+json"
        return httpx.Response(200, headers={"content-type": content_type},
                              content=async_stream() if is_async else stream())


def rate_limited() -> tuple[int, dict[str, Any]]:
    return 429, {"message": "You are using a Trial key, which is limited to 10 API calls / minute."}
