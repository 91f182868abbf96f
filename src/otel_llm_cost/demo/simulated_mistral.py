"""The simulated provider's Mistral API, under ``/mistral`` (the SDK's ``server_url``): ``/v1/chat/completions``
and ``/v1/fim/completions``, plain and streamed, answered as Mistral does (usage on the final chunk, always; the
cached subset of a repeated long prompt under ``prompt_tokens_details``), and Mistral's error bodies. The real
``mistralai`` SDK talks to it unchanged; bodies come from the shared wire builder (``wire.mistral``)."""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Iterator
from typing import Any

from .wire import mistral as wire

PREFIX = "/mistral"


def is_mistral(path: str) -> bool:
    return path.startswith(PREFIX + "/")


def error_body(status: int) -> dict[str, Any]:
    message = "Requests rate limit exceeded (simulated)" if status == 429 else "Service unavailable (simulated)"
    return wire.error(status, message)


def answer(handler: Any, path: str, body: dict[str, Any], rng: random.Random) -> None:
    """Answer one Mistral API request on ``handler`` (the simulated provider's request handler)."""
    from .simulated_provider import _chunks, _output_tokens, _text_of, _words, estimate_tokens

    if not path.endswith(("/v1/chat/completions", "/v1/fim/completions")):
        handler._send_json(404, {"detail": "Not Found"})
        return
    model = str(body.get("model") or "mistral-small-latest")
    texts = [_text_of(m.get("content")) for m in body.get("messages") or () if isinstance(m, dict)]
    texts += [str(body.get(k) or "") for k in ("prompt", "suffix")]
    prompt = sum(estimate_tokens(t) + 4 for t in texts if t) + 3
    cached = 0  # a 1,024+ token first text seen before is read from the cache
    if texts and estimate_tokens(texts[0]) >= 1024 and handler.server.state.cache_hit(
            f"mistral:{model}:" + hashlib.sha1(texts[0].encode()).hexdigest()):
        cached = estimate_tokens(texts[0])
    completion = _output_tokens(rng, body)
    usage = wire.usage(prompt, completion, cached)
    ident, created = f"cmpl-sim{rng.getrandbits(48):012x}", int(time.time())
    text = _words(rng, completion)
    handler._latency(rng, 0.03, 0.15)
    if not body.get("stream"):
        handler._send_json(200, wire.chat_completion(ident, created, model, text, usage))
        return

    def events() -> Iterator[tuple[str | None, dict[str, Any] | str]]:
        for chunk in wire.chat_stream(ident, created, model, _chunks(text), usage):
            yield None, chunk
        yield None, "[DONE]"

    handler._send_sse(events(), 0.002)
