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

# openai 3.x sends through httpx2, 2.x through httpx: serve the simulated API with whichever the SDK uses.
http: Any = importlib.import_module(openai.DefaultHttpxClient.__mro__[1].__module__.split(".")[0])
OPENAI_MAJOR = int(openai.__version__.split(".")[0])

SNAPSHOTS = {"gpt-4o-mini": "gpt-4o-mini-2024-07-18", "gpt-4o": "gpt-4o-2024-08-06", "o4-mini": "o4-mini-2025-04-16",
             "gpt-5": "gpt-5-2025-08-07"}
PROMPT, CACHED, COMPLETION, REASONING = 1500, 1024, 300, 192
# gpt-4o-mini list prices (USD per 1M): 0.15 input, 0.075 cached input, 0.60 output
GPT_4O_MINI_COST = ((PROMPT - CACHED) * 0.15 + CACHED * 0.075 + COMPLETION * 0.60) / 1e6


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


def sse(events: list[dict[str, Any]], done: bool = True, named: bool = False) -> bytes:
    body = "".join((f"event: {e['type']}\n" if named else "") + f"data: {json.dumps(e)}\n\n" for e in events)
    return (body + ("data: [DONE]\n\n" if done else "")).encode()


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
            return http.Response(200, json={
                "object": "list", "model": SNAPSHOTS.get(model, model),
                "data": [{"object": "embedding", "index": i, "embedding": [0.01, -0.02, 0.03]} for i in range(n)],
                "usage": {"prompt_tokens": 8 * n, "total_tokens": 8 * n}})
        if path.endswith("/completions"):
            return self._legacy(body, model)
        return http.Response(404, json={"error": {"message": "not found", "type": "invalid_request_error"}})

    def _usage(self, model: str) -> dict[str, Any]:
        return {**chat_usage(model), **self.extra_usage}

    def _chat(self, body: dict[str, Any], model: str) -> Any:
        served = SNAPSHOTS.get(model, model)
        if not body.get("stream"):
            return http.Response(200, json={
                "id": "chatcmpl-abc123", "object": "chat.completion", "created": 1763900000, "model": served,
                "service_tier": served_tier(body), "system_fingerprint": "fp_1",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "{\"answer\": \"Paris\"}",
                                                     "refusal": None}, "logprobs": None, "finish_reason": "stop"}],
                "usage": self._usage(model), **self.override_chat})

        def chunk(delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
            return {"id": "chatcmpl-abc123", "object": "chat.completion.chunk", "created": 1763900000,
                    "model": served, "service_tier": served_tier(body), "system_fingerprint": "fp_1",
                    "choices": [] if delta is None else [{"index": 0, "delta": delta, "logprobs": None,
                                                          "finish_reason": finish}], **extra}

        events = [chunk({"role": "assistant", "content": ""}), chunk({"content": "{\"answer\": "}),
                  chunk({"content": "\"Paris\"}"}), chunk({}, "stop")]
        asked = bool((body.get("stream_options") or {}).get("include_usage"))
        if self.edit_chunks is not None:
            events = self.edit_chunks(events)
        events = with_stream_usage(events, chunk(None), self._usage(model), self.stream_usage_style, asked)
        return self._stream_response(sse(events))

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
        message = {"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
                   "content": [{"type": "output_text", "text": "{\"answer\": \"Paris\"}", "annotations": []}]}
        final = {"id": "resp_abc123", "object": "response", "created_at": 1763900000, "model": served,
                 "status": "completed", "service_tier": served_tier(body), "output": [message],
                 "parallel_tool_calls": True, "tool_choice": "auto", "tools": [], "usage": usage}
        if not body.get("stream"):
            return http.Response(200, json=final)
        created = {**final, "status": "in_progress", "usage": None, "output": []}
        events = [
            {"type": "response.created", "sequence_number": 0, "response": created},
            {"type": "response.output_item.added", "sequence_number": 1, "output_index": 0,
             "item": {**message, "status": "in_progress", "content": []}},
            {"type": "response.content_part.added", "sequence_number": 2, "item_id": "msg_1", "output_index": 0,
             "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}},
            {"type": "response.output_text.delta", "sequence_number": 3, "item_id": "msg_1", "output_index": 0,
             "content_index": 0, "delta": "{\"answer\": \"Paris\"}", "logprobs": []},
            {"type": "response.output_text.done", "sequence_number": 4, "item_id": "msg_1", "output_index": 0,
             "content_index": 0, "text": "{\"answer\": \"Paris\"}", "logprobs": []},
            {"type": "response.completed", "sequence_number": 5, "response": final},
        ]
        return self._stream_response(sse(events, done=False, named=True))

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
        return self._stream_response(sse(events))
