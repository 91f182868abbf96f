"""Mistral API wire formats: chat / FIM / agents completions (plain and chunk streams), embeddings, OCR, audio
transcriptions and error bodies.

Usage sits where Mistral puts it: ``prompt_tokens`` includes the cached subset, reported under
``prompt_tokens_details.cached_tokens``; a stream always ends with a chunk carrying ``usage`` (nothing asks for
it) before ``data: [DONE]``. OCR reports ``usage_info.pages_processed``, transcriptions
``usage.prompt_audio_seconds``. The callers choose ids, models, texts and counts; these functions only shape them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from . import sse, sse_frame

__all__ = ["chat_chunk", "chat_completion", "chat_stream", "embeddings", "error", "ocr", "sse", "sse_frame",
           "transcription", "usage"]


def usage(prompt: int, completion: int | None, cached: int = 0, service_tier: str | None = None,
          audio_seconds: int | None = None) -> dict[str, Any]:
    """A ``UsageInfo``: ``cached`` is the cached subset of ``prompt`` (reported only when there is one)."""
    body: dict[str, Any] = {"prompt_tokens": prompt, "total_tokens": prompt + (completion or 0)}
    if completion is not None:
        body["completion_tokens"] = completion
    if cached:
        body["prompt_tokens_details"] = {"cached_tokens": cached}
    if service_tier is not None:
        body["service_tier"] = service_tier
    if audio_seconds is not None:
        body["prompt_audio_seconds"] = audio_seconds
    return body


def chat_completion(ident: str, created: int, model: str, content: str, usage: dict[str, Any],
                    finish: str = "stop") -> dict[str, Any]:
    """A ``chat.completion`` body (chat, FIM and agents answer alike) with one choice."""
    return {"id": ident, "object": "chat.completion", "created": created, "model": model, "usage": usage,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "tool_calls": None,
                                                 "prefix": False}, "finish_reason": finish}]}


def chat_chunk(ident: str, created: int, model: str, delta: dict[str, Any], finish: str | None = None,
               usage: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ``chat.completion.chunk``; the last one carries ``usage``."""
    chunk: dict[str, Any] = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
                             "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    if usage is not None:
        chunk["usage"] = usage
    return chunk


def chat_stream(ident: str, created: int, model: str, pieces: Iterable[str],
                usage: dict[str, Any] | None) -> Iterator[dict[str, Any]]:
    """A stream's chunks: the role chunk, one per text piece, the ``stop`` chunk with the usage (None: a stream
    that ends without one, as a broken proxy's may)."""
    yield chat_chunk(ident, created, model, {"role": "assistant", "content": ""})
    for piece in pieces:
        yield chat_chunk(ident, created, model, {"content": piece})
    yield chat_chunk(ident, created, model, {"content": ""}, "stop", usage)


def stream_body(chunks: Iterable[dict[str, Any]]) -> bytes:
    """The whole event stream: one ``data:`` frame per chunk, then ``data: [DONE]``."""
    return sse(chunks, done=True)


def embeddings(ident: str, model: str, vectors: Iterable[list[float]], tokens: int) -> dict[str, Any]:
    """An embeddings ``list`` body, usage in prompt tokens."""
    return {"id": ident, "object": "list", "model": model, "usage": usage(tokens, 0),
            "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]}


def ocr(model: str, pages: Iterable[str], size_bytes: int | None = None) -> dict[str, Any]:
    """An OCR response: one page object per markdown text, ``usage_info.pages_processed`` counting them."""
    texts = list(pages)
    return {"model": model, "document_annotation": None,
            "pages": [{"index": i, "markdown": text, "images": [],
                       "dimensions": {"dpi": 200, "height": 2200, "width": 1700}} for i, text in enumerate(texts)],
            "usage_info": {"pages_processed": len(texts), "doc_size_bytes": size_bytes}}


def transcription(model: str, text: str, audio_seconds: int, prompt: int, completion: int) -> dict[str, Any]:
    """A transcription response: the text and usage with the audio's duration in seconds."""
    return {"model": model, "text": text, "language": "en", "segments": [],
            "usage": usage(prompt, completion, audio_seconds=audio_seconds)}


def error(status: int, message: str) -> dict[str, Any]:
    """Mistral's error body (``object: error``) for ``status``."""
    kinds = {429: "rate_limited", 401: "unauthorized", 400: "invalid_request_error"}
    return {"object": "error", "message": message, "type": kinds.get(status, "internal_server_error"),
            "param": None, "code": str(status)}


def frame(chunk: dict[str, Any] | str) -> bytes:
    """One stream frame (a chunk or ``[DONE]``)."""
    return sse_frame(chunk)
