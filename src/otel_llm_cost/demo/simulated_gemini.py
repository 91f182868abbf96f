"""The simulated provider's Gemini API: ``models/{model}:generateContent`` and ``:streamGenerateContent?alt=sse``
answered as Google does (``usageMetadata`` with the cached subset inside the prompt, thinking tokens beside the
answer's, the running total on every streamed chunk), and Google's error bodies. The real ``google-genai`` SDK
talks to it unchanged (``HttpOptions(base_url=...)``)."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from typing import Any

_THINKING_PREFIXES = ("gemini-2.5", "gemini-3")
_STATUS = {429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE", 500: "INTERNAL"}


def is_gemini(path: str) -> bool:
    return path.endswith((":generateContent", ":streamGenerateContent"))


def error_body(status: int) -> dict[str, Any]:
    message = "Resource has been exhausted (e.g. check quota). (simulated)" if status == 429 else \
        "The model is overloaded. Please try again later. (simulated)"
    return {"error": {"code": status, "message": message, "status": _STATUS.get(status, "INTERNAL")}}


def _texts(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [value["text"]] if isinstance(value.get("text"), str) else \
            [t for v in value.values() for t in _texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return []


def answer(handler: Any, path: str, body: dict[str, Any], rng: random.Random) -> None:
    """Answer one Gemini API request on ``handler`` (the simulated provider's request handler)."""
    from .simulated_provider import _chunks, _output_tokens, _words, estimate_tokens

    model = path.rsplit("/", 1)[-1].split(":", 1)[0]
    system = " ".join(_texts(body.get("systemInstruction")))
    prompt = estimate_tokens(system) + sum(estimate_tokens(t) for t in _texts(body.get("contents")))
    # implicit caching: a 1,024+ token system instruction seen before is read from the cache
    cached = 0
    if estimate_tokens(system) >= 1024 and handler.server.state.cache_hit(
            f"gemini:{model}:" + hashlib.sha1(system.encode()).hexdigest()):
        cached = estimate_tokens(system)
    config = body.get("generationConfig") or {}
    answer_tokens = _output_tokens(rng, {"max_tokens": config.get("maxOutputTokens")})
    thoughts = int(answer_tokens * rng.uniform(0.3, 0.6)) if model.startswith(_THINKING_PREFIXES) else 0
    usage: dict[str, Any] = {"promptTokenCount": prompt, "candidatesTokenCount": answer_tokens,
                             "totalTokenCount": prompt + answer_tokens + thoughts,
                             "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}]}
    if cached:
        usage["cachedContentTokenCount"] = cached
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    text = _words(rng, answer_tokens)

    def reply(part: str, metadata: dict[str, Any], finish: bool) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": part}]}, "index": 0}
        if finish:
            candidate["finishReason"] = "STOP"
        return {"candidates": [candidate], "usageMetadata": metadata, "modelVersion": model,
                "responseId": f"sim-{rng.getrandbits(48):x}"}

    if path.endswith(":generateContent"):
        handler._latency(rng, 0.05, 0.3)
        handler._send_json(200, reply(text, usage, True))
        return
    parts = list(_chunks(text))

    def events() -> Iterator[tuple[str | None, dict[str, Any]]]:
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            running = usage if last else {"promptTokenCount": prompt, "totalTokenCount": prompt}
            yield None, reply(part, running, last)

    handler._latency(rng, 0.05, 0.2)
    handler._send_sse(events(), 0.01 * handler.server.state.latency_scale)
