"""OpenAI API wire formats: chat completions (plain and chunk streams), the Responses API and embeddings.

Usage sits where the real API puts it: cached tokens inside ``prompt_tokens``, reasoning inside
``completion_tokens``; a streamed chat reports usage only when asked (``stream_options.include_usage``), in a
final chunk without choices. The callers choose ids, models, texts and usage; these functions only shape them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from . import sse, sse_frame

__all__ = ["chat_chunk", "chat_completion", "chat_stream", "embeddings", "output_message", "response",
           "response_events", "sse", "sse_frame"]


def chat_completion(ident: str, created: int, model: str, content: str, usage: dict[str, Any],
                    service_tier: str = "default", fingerprint: str = "fp_1",
                    message_extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ``chat.completion`` body with one choice that stopped normally."""
    message = {"role": "assistant", "content": content, "refusal": None, **(message_extra or {})}
    return {"id": ident, "object": "chat.completion", "created": created, "model": model,
            "service_tier": service_tier, "system_fingerprint": fingerprint,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}],
            "usage": usage}


def chat_chunk(ident: str, created: int, model: str, delta: dict[str, Any] | None, finish: str | None = None,
               service_tier: str = "default", fingerprint: str = "fp_1", **extra: Any) -> dict[str, Any]:
    """A ``chat.completion.chunk``; ``delta=None`` makes the chunk without choices that carries the usage."""
    return {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
            "service_tier": service_tier, "system_fingerprint": fingerprint,
            "choices": [] if delta is None else [{"index": 0, "delta": delta, "logprobs": None,
                                                  "finish_reason": finish}], **extra}


def chat_stream(ident: str, created: int, model: str, pieces: Iterable[str], first_delta: dict[str, Any] | None = None,
                **chunk_fields: Any) -> Iterator[dict[str, Any]]:
    """A chat stream's content chunks: the role chunk, one chunk per text piece, the ``stop`` chunk (usage is the
    caller's to add, since providers differ in where they put it)."""
    yield chat_chunk(ident, created, model, first_delta or {"role": "assistant", "content": ""}, **chunk_fields)
    for piece in pieces:
        yield chat_chunk(ident, created, model, {"content": piece}, **chunk_fields)
    yield chat_chunk(ident, created, model, {}, "stop", **chunk_fields)


def embeddings(model: str, vectors: Iterable[Any], tokens: int) -> dict[str, Any]:
    """An embeddings ``list`` body: one ``embedding`` per input (floats or base64), usage in prompt tokens."""
    return {"object": "list", "model": model,
            "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


def response(ident: str, created_at: int, model: str, message: dict[str, Any], usage: dict[str, Any] | None,
             service_tier: str = "default", **extra: Any) -> dict[str, Any]:
    """A completed Responses API ``response`` holding one output ``message``; ``extra`` fields come before the
    tool settings, as the API orders them."""
    return {"id": ident, "object": "response", "created_at": created_at, "model": model, "status": "completed",
            "service_tier": service_tier, "output": [message], **extra,
            "parallel_tool_calls": True, "tool_choice": "auto", "tools": [], "usage": usage}


def output_message(message_id: str, text: str, **part_extra: Any) -> dict[str, Any]:
    """A completed assistant ``message`` output item with one ``output_text`` part."""
    return {"type": "message", "id": message_id, "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": [], **part_extra}]}


def response_events(final: dict[str, Any], pieces: Iterable[str], **part_extra: Any) -> Iterator[dict[str, Any]]:
    """The streamed Responses API events for ``final`` (one message output): created, item and part added, one
    text delta per piece, text done, completed; numbered by ``sequence_number``."""
    message = final["output"][0]
    item_id, text = message["id"], message["content"][0]["text"]
    seq = iter(range(1_000_000))
    where = {"item_id": item_id, "output_index": 0, "content_index": 0}
    yield {"type": "response.created", "sequence_number": next(seq),
           "response": {**final, "status": "in_progress", "usage": None, "output": []}}
    yield {"type": "response.output_item.added", "sequence_number": next(seq), "output_index": 0,
           "item": {**message, "status": "in_progress", "content": []}}
    yield {"type": "response.content_part.added", "sequence_number": next(seq), **where,
           "part": {"type": "output_text", "text": "", "annotations": [], **part_extra}}
    for piece in pieces:
        yield {"type": "response.output_text.delta", "sequence_number": next(seq), **where, "delta": piece,
               "logprobs": []}
    yield {"type": "response.output_text.done", "sequence_number": next(seq), **where, "text": text, "logprobs": []}
    yield {"type": "response.completed", "sequence_number": next(seq), "response": final}
