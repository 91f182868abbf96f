"""A lean mock OpenAI API for the benchmarks: prebuilt JSON and SSE bodies behind the SDK's own MockTransport.

Unlike ``tests/openai/fake_openai.py`` it keeps no request log (the memory benchmark makes a million calls)
and builds every body once, so the transport costs the same for every configuration measured.
Works with openai 3.x (httpx2) and 2.x (httpx): it uses whichever the installed SDK sends through.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

import openai
from otel_llm_cost.demo.wire import openai as wire

http: Any = importlib.import_module(openai.DefaultHttpxClient.__mro__[1].__module__.split(".")[0])

USAGE = {"prompt_tokens": 1500, "completion_tokens": 300, "total_tokens": 1800,
         "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
         "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                       "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}
ANSWER = "Paris is the capital of France."


def _chat_body(model: str) -> bytes:
    return json.dumps(wire.chat_completion("chatcmpl-bench", 1763900000, model, ANSWER, USAGE)).encode()


def _sse(model: str, chunks: int, include_usage: bool) -> bytes:
    events = list(wire.chat_stream("chatcmpl-bench", 1763900000, model, (f"tok{i} " for i in range(chunks - 2))))
    if include_usage:
        events.append(wire.chat_chunk("chatcmpl-bench", 1763900000, model, None, usage=USAGE))
    return wire.sse(events, done=True)


class MockOpenAI:
    """Answers /chat/completions for any model; streams have ``stream_chunks`` chunks (usage chunk extra)."""

    def __init__(self, stream_chunks: int = 200) -> None:
        self.stream_chunks = stream_chunks
        self._bodies: dict[tuple[str, bool, bool], bytes] = {}

    def _body(self, model: str, stream: bool, include_usage: bool) -> bytes:
        key = (model, stream, include_usage)
        body = self._bodies.get(key)
        if body is None:
            body = self._bodies[key] = (_sse(model, self.stream_chunks, include_usage) if stream
                                        else _chat_body(model))
        return body

    def handle(self, request: Any) -> Any:
        payload = json.loads(request.content)
        stream = payload.get("stream") is True
        include_usage = bool((payload.get("stream_options") or {}).get("include_usage"))
        body = self._body(payload["model"], stream, include_usage)
        content_type = "text/event-stream" if stream else "application/json"
        return http.Response(200, headers={"content-type": content_type}, content=body)

    def client(self) -> Any:
        return openai.OpenAI(api_key="sk-bench", max_retries=0,
                             http_client=http.Client(transport=http.MockTransport(self.handle)))
