"""A simulated Mistral API behind the real ``mistralai`` SDK's HTTP client (httpx2 from mistralai 3, httpx before;
the SDK's classes from ``mistralai.client``, or ``mistralai`` in 1.x, exported here with its ``errors``):
chat, FIM and agents completions plain and streamed (usage on the final chunk, always), embeddings, OCR, audio
transcriptions, error bodies and broken streams. Bodies come from the shared wire builder
(``otel_llm_cost.demo.wire.mistral``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

try:
    from mistralai.client import Mistral, errors, httpclient
    from mistralai.client.sdkconfiguration import SERVERS
except ImportError:  # mistralai 1.x: the SDK at the package's top level
    from mistralai import Mistral, httpclient  # type: ignore[no-redef]
    from mistralai import models as errors  # type: ignore[no-redef]
    from mistralai.sdkconfiguration import SERVERS  # type: ignore[no-redef]

from otel_llm_cost.demo.wire import mistral as wire

__all__ = ["SERVERS", "FakeMistral", "Mistral", "errors", "http", "rate_limited", "wire"]
http: Any = httpclient.httpx  # the HTTP package this SDK release sends through (httpx2 or httpx)

LARGE, SMALL, CODESTRAL, EMBED = "mistral-large-latest", "mistral-small-latest", "codestral-latest", "mistral-embed"
OCR_MODEL, VOXTRAL = "mistral-ocr-latest", "voxtral-mini-latest"
PROMPT, CACHED, COMPLETION = 1200, 400, 150
EMBED_TOKENS, OCR_PAGES, AUDIO_SECONDS = 40, 3, 90
# Mistral's prices (https://mistral.ai/pricing), USD per 1M tokens:
#   mistral-large-latest (Mistral Large 3): 0.5 input, 0.05 cached input, 1.5 output
#   mistral-small-latest: 0.15 input, 0.015 cached input, 0.6 output
#   codestral: 0.3 input, 0.9 output; mistral-embed: 0.1 input
# OCR: mistral-ocr-latest (now Mistral OCR 4) USD 4 per 1,000 pages; Voxtral Mini Transcribe: USD 0.003 per audio
# minute (0.18 per hour)
LARGE_COST = (PROMPT * 0.5 + COMPLETION * 1.5) / 1e6
LARGE_CACHED_COST = ((PROMPT - CACHED) * 0.5 + CACHED * 0.05 + COMPLETION * 1.5) / 1e6
SMALL_COST = ((PROMPT - CACHED) * 0.15 + CACHED * 0.015 + COMPLETION * 0.6) / 1e6
CODESTRAL_COST = (PROMPT * 0.3 + COMPLETION * 0.9) / 1e6
EMBED_COST = EMBED_TOKENS * 0.1 / 1e6
OCR_COST = OCR_PAGES * 4 / 1000
VOXTRAL_COST = AUDIO_SECONDS / 60 * 0.003
PIECES = ("Par", "is")


class FakeMistral:
    """Serves ``/v1/chat/completions``, ``/v1/fim/completions``, ``/v1/agents/completions``, ``/v1/embeddings``,
    ``/v1/ocr`` and ``/v1/audio/transcriptions``. ``fail`` injects an error response (status, body) or a transport
    exception; ``break_stream_after`` drops the connection after that many events; ``usage`` False leaves usage
    out of streams; ``cached`` is the cached subset of the prompt; ``model`` overrides the answering model."""

    def __init__(self, cached: int = 0) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.fail: tuple[int, dict[str, Any]] | Exception | None = None
        self.break_stream_after: int | None = None
        self.usage = True
        self.cached = cached
        self.model: str | None = None
        self.service_tier: str | None = None
        # mistralai 1.x closes its HTTP clients when the Mistral object is collected, even while one of its
        # resources (``client.chat``) is still sending: the fake keeps the clients it made alive
        self.clients: list[Mistral] = []

    def client(self, **kw: Any) -> Mistral:
        client = Mistral(api_key="mistral-test", client=http.Client(transport=http.MockTransport(self.handle)), **kw)
        self.clients.append(client)
        return client

    def async_client(self, **kw: Any) -> Mistral:
        client = Mistral(api_key="mistral-test",
                         async_client=http.AsyncClient(transport=http.MockTransport(self.handle_async)), **kw)
        client._fake_async = True  # type: ignore[attr-defined]  # for the shared suite's one call (case_mistral)
        self.clients.append(client)
        return client

    async def handle_async(self, request: Any) -> Any:
        return self.handle(request, is_async=True)

    def handle(self, request: Any, is_async: bool = False) -> Any:
        path = request.url.path
        content = request.content or b"{}"
        body = json.loads(content) if content.startswith(b"{") else {}
        self.requests.append((path, body))
        if isinstance(self.fail, Exception):
            raise self.fail
        if self.fail is not None:
            status, payload = self.fail
            return http.Response(status, json=payload)
        if path in ("/v1/chat/completions", "/v1/fim/completions", "/v1/agents/completions"):
            return self._completion(body, is_async)
        if path == "/v1/embeddings":
            return http.Response(200, json=wire.embeddings("emb-1", body["model"], [[0.1, 0.2]], EMBED_TOKENS))
        if path == "/v1/ocr":
            return http.Response(200, json=wire.ocr(body["model"], [f"# Page {i}" for i in range(OCR_PAGES)], 52_000))
        if path == "/v1/audio/transcriptions":
            return http.Response(200, json=wire.transcription(VOXTRAL, "Bonjour.", AUDIO_SECONDS, 5, 3))
        return http.Response(404, json={"detail": "Not Found"})

    def _usage(self) -> dict[str, Any]:
        return wire.usage(PROMPT, COMPLETION, self.cached, self.service_tier)

    def _completion(self, body: dict[str, Any], is_async: bool) -> Any:
        model = self.model or body.get("model") or LARGE
        text = '{"answer": "Paris"}' if body.get("response_format") else "Paris"  # parse() asks for JSON
        if not body.get("stream"):
            return http.Response(200, json=wire.chat_completion("cmpl-m1", 1765000000, model, text, self._usage()))
        chunks = wire.chat_stream("cmpl-m1", 1765000000, model, PIECES, self._usage() if self.usage else None)
        parts = [wire.frame(c) for c in [*chunks, "[DONE]"]]
        keep = self.break_stream_after

        def stream() -> Iterator[bytes]:
            for i, part in enumerate(parts):
                if keep is not None and i >= keep:
                    raise http.ReadError("connection reset by peer")
                yield part

        async def async_stream() -> AsyncIterator[bytes]:
            for part in stream():
                yield part

        return http.Response(200, headers={"content-type": "text/event-stream"},
                             content=async_stream() if is_async else stream())


def rate_limited() -> tuple[int, dict[str, Any]]:
    return 429, wire.error(429, "Requests rate limit exceeded")
