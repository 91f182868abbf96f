"""A simulated Ollama server behind the real ``ollama`` SDK's httpx transport: ``/api/chat`` and ``/api/generate``
(JSON, or NDJSON streams whose final ``done`` part carries the counts and durations), ``/api/embed``, the legacy
``/api/embeddings`` (no counts), ``/api/tags`` (not a model call), and errors as Ollama sends them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import ollama

MODEL = "llama3.2"
EMBED_MODEL = "nomic-embed-text"
HOST = "http://localhost:11434"
PROMPT, COMPLETION, EMBED_PROMPT = 26, 9, 8
# what the server reports, in nanoseconds (a short answer on a warm model)
TOTAL_NS, LOAD_NS, PROMPT_NS, EVAL_NS = 2_500_000_000, 20_000_000, 180_000_000, 2_250_000_000
EMBED_TOTAL_NS = 40_000_000
CREATED = "2026-12-07T20:00:00.123456789Z"


def stats() -> dict[str, Any]:
    """The counts and durations of a finished answer (its final part, when streamed)."""
    return {"done_reason": "stop", "done": True, "total_duration": TOTAL_NS, "load_duration": LOAD_NS,
            "prompt_eval_count": PROMPT, "prompt_eval_duration": PROMPT_NS, "eval_count": COMPLETION,
            "eval_duration": EVAL_NS}


def chat_parts(text: str = "Paris is the capital") -> list[dict[str, Any]]:
    words = text.split(" ")
    parts: list[dict[str, Any]] = [
        {"model": MODEL, "created_at": CREATED, "message": {"role": "assistant", "content": w + " "}, "done": False}
        for w in words]
    return [*parts, {"model": MODEL, "created_at": CREATED, "message": {"role": "assistant", "content": ""},
                     **stats()}]


def generate_parts(text: str = "Paris is the capital") -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = [{"model": MODEL, "created_at": CREATED, "response": w + " ", "done": False}
                                   for w in text.split(" ")]
    return [*parts, {"model": MODEL, "created_at": CREATED, "response": "", "context": [128006, 882, 128007],
                     **stats()}]


class FakeOllama:
    """Serves the Ollama API; ``fail`` injects an error response (status, body) or a transport exception;
    ``break_stream_after`` drops the connection after that many NDJSON lines; ``no_counts`` answers without
    counts or durations (as some proxies do)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.fail: tuple[int, dict[str, Any]] | Exception | None = None
        self.break_stream_after: int | None = None
        self.no_counts = False

    def client(self, **kw: Any) -> ollama.Client:
        return ollama.Client(host=HOST, transport=httpx.MockTransport(self.handle), **kw)

    def async_client(self, **kw: Any) -> ollama.AsyncClient:
        return ollama.AsyncClient(host=HOST, transport=httpx.MockTransport(self.handle_async), **kw)

    def http_client(self) -> httpx.Client:
        """An httpx client on this server, for the module-level ``ollama._client`` (``ollama.chat`` & co.)."""
        return httpx.Client(base_url=HOST, transport=httpx.MockTransport(self.handle))

    async def handle_async(self, request: httpx.Request) -> httpx.Response:
        return self.handle(request, is_async=True)

    def handle(self, request: httpx.Request, is_async: bool = False) -> httpx.Response:
        body = json.loads(request.content or b"{}")
        self.requests.append((request.url.path, body))
        if isinstance(self.fail, Exception):
            raise self.fail
        if self.fail is not None:
            status, payload = self.fail
            return httpx.Response(status, json=payload)
        path = request.url.path
        if path in ("/api/chat", "/api/generate"):
            parts = chat_parts() if path == "/api/chat" else generate_parts()
            if self.no_counts:
                parts[-1] = {k: v for k, v in parts[-1].items() if not k.endswith(("_count", "_duration"))}
            if body.get("stream", True):  # Ollama streams unless asked not to
                return self._stream(parts, is_async)
            final = dict(parts[-1])
            if path == "/api/chat":
                final["message"] = {"role": "assistant", "content": "Paris is the capital"}
            else:
                final["response"] = "Paris is the capital"
            return httpx.Response(200, json=final)
        if path == "/api/embed":
            inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
            answer: dict[str, Any] = {"model": body["model"], "embeddings": [[0.01, -0.02, 0.03] for _ in inputs]}
            if not self.no_counts:
                answer |= {"total_duration": EMBED_TOTAL_NS, "load_duration": 1_000_000,
                           "prompt_eval_count": EMBED_PROMPT * len(inputs)}
            return httpx.Response(200, json=answer)
        if path == "/api/embeddings":  # the legacy endpoint: a vector, no counts, no durations
            return httpx.Response(200, json={"embedding": [0.01, -0.02, 0.03]})
        if path == "/api/tags":
            return httpx.Response(200, json={"models": [{"model": MODEL, "name": MODEL, "size": 2019393189}]})
        return httpx.Response(404, text="404 page not found")

    def _stream(self, parts: list[dict[str, Any]], is_async: bool) -> httpx.Response:
        lines = [json.dumps(p).encode() + b"\n" for p in parts]
        keep = self.break_stream_after

        def stream() -> Iterator[bytes]:
            for i, line in enumerate(lines):
                if keep is not None and i >= keep:
                    raise httpx.ReadError("connection reset by peer")
                yield line

        async def async_stream() -> AsyncIterator[bytes]:
            for line in stream():
                yield line

        return httpx.Response(200, headers={"content-type": "application/x-ndjson"},
                              content=async_stream() if is_async else stream())


def not_found() -> tuple[int, dict[str, Any]]:
    """What Ollama answers for a model that was never pulled."""
    return 404, {"error": f"model \"{MODEL}\" not found, try pulling it first"}
