"""A simulated OpenAI API behind the real SDK's transport: realistic JSON and SSE bodies, usage and errors.

Streams honour ``stream_options.include_usage`` like the real API (the usage chunk has no choices), so the
tests see exactly what an application would see.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from typing import Any

import openai
from otel_llm_cost.demo.wire import openai as wire
from otel_llm_cost.demo.wire import sse

# openai 3.x sends through httpx2, 2.x through httpx: serve the simulated API with whichever the SDK uses.
http: Any = importlib.import_module(openai.DefaultHttpxClient.__mro__[1].__module__.split(".")[0])
OPENAI_MAJOR = int(openai.__version__.split(".")[0])

SNAPSHOTS = {"gpt-4o-mini": "gpt-4o-mini-2024-07-18", "gpt-4o": "gpt-4o-2024-08-06", "o4-mini": "o4-mini-2025-04-16",
             "gpt-5": "gpt-5-2025-08-07"}
PROMPT, CACHED, COMPLETION, REASONING = 1500, 1024, 300, 192
# gpt-4o-mini list prices (USD per 1M): 0.15 input, 0.075 cached input, 0.60 output
GPT_4O_MINI_COST = ((PROMPT - CACHED) * 0.15 + CACHED * 0.075 + COMPLETION * 0.60) / 1e6
ANSWER_PIECES = ("{\"answer\": ", "\"Paris\"}")
ANSWER = "".join(ANSWER_PIECES)


def chat_usage(model: str) -> dict[str, Any]:
    reasoning = REASONING if model.startswith("o") or model.startswith("gpt-5") else 0
    return {"prompt_tokens": PROMPT, "completion_tokens": COMPLETION, "total_tokens": PROMPT + COMPLETION,
            "prompt_tokens_details": {"cached_tokens": CACHED, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": reasoning, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}


def served_tier(body: dict[str, Any]) -> str:
    """The tier the API reports back: ``auto`` is served as ``default``, ``fast`` as ``priority``."""
    requested = body.get("service_tier") or "auto"
    return {"auto": "default", "fast": "priority"}.get(requested, requested)


# How providers behind the OpenAI SDK report a chat stream's usage, asked (stream_options.include_usage) or not:
# "openai": only when asked, "usage": null on every chunk then a usage chunk without choices;
# "last_chunk_when_asked": when asked, the usage on the last content chunk instead;
# "empty_chunk_when_asked": when asked, a final chunk with no choices and "usage": null;
# "always": a usage chunk without choices whether asked or not (OpenRouter).
STREAM_USAGE_STYLES = ("openai", "last_chunk_when_asked", "empty_chunk_when_asked", "always")


def with_stream_usage(events: list[dict[str, Any]], final: dict[str, Any], usage: dict[str, Any], style: str,
                      asked: bool) -> list[dict[str, Any]]:
    """A chat stream's ``events`` as the provider sends them in ``style``; ``final`` is a chunk without choices."""
    if style == "always":
        return [*events, {**final, "usage": usage}]
    if not asked:
        return events
    nulled = [{**e, "usage": None} for e in events]
    if style == "last_chunk_when_asked":
        return [*nulled[:-1], {**nulled[-1], "usage": usage}] if nulled else nulled
    return [*nulled, {**final, "usage": None if style == "empty_chunk_when_asked" else usage}]


class FakeOpenAI:
    """Serves /chat/completions, /responses, /embeddings and /completions; ``fail`` injects an error."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail: tuple[int, dict[str, Any]] | Exception | None = None
        self.break_stream_after: int | None = None
        self.extra_usage: dict[str, Any] = {}
        self.override_chat: dict[str, Any] = {}  # top-level fields of a plain chat answer, replaced as given
        # How a chat stream reports usage (see STREAM_USAGE_STYLES): what OpenAI does, unless a test says otherwise
        self.stream_usage_style = "openai"
        self.edit_chunks: Any = None  # a function changing a chat stream's content chunks before usage is added
        self.azure_deployments = {"prod-gpt4o-mini": "gpt-4o-mini"}

    # -- clients --------------------------------------------------------------------------------------
    def client(self, cls: type = openai.OpenAI, **kw: Any) -> Any:
        kw.setdefault("api_key", "sk-test")
        kw.setdefault("max_retries", 0)
        return cls(http_client=http.Client(transport=http.MockTransport(self.handle)), **kw)

    def async_client(self, cls: type = openai.AsyncOpenAI, **kw: Any) -> Any:
        kw.setdefault("api_key", "sk-test")
        kw.setdefault("max_retries", 0)
        return cls(http_client=http.AsyncClient(transport=http.MockTransport(self.handle_async)), **kw)

    # -- server ---------------------------------------------------------------------------------------
    async def handle_async(self, request: Any) -> Any:
        return self.handle(request)

    def handle(self, request: Any) -> Any:
        body = json.loads(request.content or b"{}")
        self.requests.append(body)
        if isinstance(self.fail, Exception):
            raise self.fail
        if self.fail is not None:
            status, payload = self.fail
            return http.Response(status, json=payload, headers={"x-request-id": "req_err"})
        path = request.url.path
        model = body.get("model", "")
        if "/deployments/" in path:  # Azure: the body names the deployment, the response the real model
            model = self.azure_deployments.get(path.split("/deployments/")[1].split("/")[0], model)
        if path.endswith("/chat/completions"):
            return self._chat(body, model)
        if path.endswith("/responses"):
            return self._responses(body, model)
        if path.endswith("/embeddings"):
            n = len(body["input"]) if isinstance(body["input"], list) else 1
            return http.Response(200, json=wire.embeddings(SNAPSHOTS.get(model, model), [[0.01, -0.02, 0.03]] * n,
                                                           8 * n))
        if path.endswith("/completions"):
            return self._legacy(body, model)
        return http.Response(404, json={"error": {"message": "not found", "type": "invalid_request_error"}})

    def _usage(self, model: str) -> dict[str, Any]:
        return {**chat_usage(model), **self.extra_usage}

    def _chat(self, body: dict[str, Any], model: str) -> Any:
        served = SNAPSHOTS.get(model, model)
        tier = served_tier(body)
        if not body.get("stream"):
            return http.Response(200, json={**wire.chat_completion(
                "chatcmpl-abc123", 1763900000, served, ANSWER, self._usage(model), tier), **self.override_chat})
        events = list(wire.chat_stream("chatcmpl-abc123", 1763900000, served, ANSWER_PIECES, service_tier=tier))
        asked = bool((body.get("stream_options") or {}).get("include_usage"))
        if self.edit_chunks is not None:
            events = self.edit_chunks(events)
        final = wire.chat_chunk("chatcmpl-abc123", 1763900000, served, None, service_tier=tier)
        events = with_stream_usage(events, final, self._usage(model), self.stream_usage_style, asked)
        return self._stream_response(sse(events, done=True))

    def _stream_response(self, payload: bytes) -> Any:
        if self.break_stream_after is None:
            return http.Response(200, headers={"content-type": "text/event-stream"}, content=payload)
        parts = payload.split(b"\n\n")
        keep = self.break_stream_after

        def broken() -> Iterator[bytes]:
            for part in parts[:keep]:
                yield part + b"\n\n"
            raise http.ReadError("connection reset by peer")

        return http.Response(200, headers={"content-type": "text/event-stream"}, content=broken())

    def _responses(self, body: dict[str, Any], model: str) -> Any:
        served = SNAPSHOTS.get(model, model)
        usage = {"input_tokens": PROMPT, "output_tokens": COMPLETION, "total_tokens": PROMPT + COMPLETION,
                 "input_tokens_details": {"cached_tokens": CACHED},
                 "output_tokens_details": {"reasoning_tokens": REASONING}}
        final = wire.response("resp_abc123", 1763900000, served, wire.output_message("msg_1", ANSWER), usage,
                              served_tier(body))
        if not body.get("stream"):
            return http.Response(200, json=final)
        return self._stream_response(sse(wire.response_events(final, [ANSWER]), named=True))

    def _legacy(self, body: dict[str, Any], model: str) -> Any:
        usage = {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}
        if not body.get("stream"):
            return http.Response(200, json={
                "id": "cmpl-1", "object": "text_completion", "created": 1763900000, "model": model,
                "choices": [{"index": 0, "text": " Paris", "logprobs": None, "finish_reason": "stop"}],
                "usage": usage})
        events = [{"id": "cmpl-1", "object": "text_completion", "created": 1763900000, "model": model,
                   "choices": [{"index": 0, "text": t, "logprobs": None, "finish_reason": f}]}
                  for t, f in ((" Par", None), ("is", "stop"))]
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append({"id": "cmpl-1", "object": "text_completion", "created": 1763900000, "model": model,
                           "choices": [], "usage": usage})
        return self._stream_response(sse(events, done=True))
