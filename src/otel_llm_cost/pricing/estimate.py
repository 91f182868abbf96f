"""A call's cost before it is made: low (input only) and high (input + the most output it may produce).

MINIMAL STAND-IN written by the budgets work (issue #17) with exactly the shared interface of issue #23,
whose fuller estimator replaces this module at merge. ``messages`` is a prompt, a list of messages, or (as the
budget guard passes it) the request's whole keyword arguments, whose content fields and output limit count.
Input tokens are bounded from the request text: a byte-level tokenizer never makes more tokens than UTF-8
bytes, so ``bytes + per-message overhead`` is an upper bound; about four characters a token is the usual guess
for the low end. Output is bounded by the request's maximum (times its ``n`` choices), else by the model's
context window (when the table knows it), else unknown (``high_usd`` None).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..usage import Usage
from . import default_price_book
from .result import Cost

# what a request's keyword arguments send the model (OpenAI chat/responses/completions/embeddings, Anthropic)
_CONTENT_KEYS = ("messages", "input", "instructions", "prompt", "system", "tools", "functions", "tool_choice",
                 "response_format", "text", "contents")
_MAX_OUTPUT_KEYS = ("max_tokens", "max_completion_tokens", "max_output_tokens")
_PER_MESSAGE_OVERHEAD = 8  # role markers and separators the API adds around each message
_PER_REQUEST_OVERHEAD = 16


@dataclass(frozen=True)
class Estimate:
    provider: str
    model: str
    low_usd: float | None  # None when unpriced
    high_usd: float | None  # None when unpriced or no output bound is known
    input_tokens_low: int
    input_tokens_high: int
    max_output_tokens: int | None  # the bound used for high_usd (request's max tokens, else model limit if known)
    price_row: str | None  # which table row priced it
    unpriced_reason: str | None


def _text_size(value: Any) -> tuple[int, int, int]:
    """(characters, UTF-8 bytes, messages) of everything sent in ``messages``-like structures."""
    if isinstance(value, str):
        return len(value), len(value.encode("utf-8", "surrogatepass")), 0
    if isinstance(value, (list, tuple)):
        chars = size = count = 0
        for item in value:
            c, b, n = _text_size(item)
            chars, size, count = chars + c, size + b, count + n + (1 if isinstance(item, dict) else 0)
        return chars, size, count
    if isinstance(value, dict):
        text = json.dumps(value, default=str, ensure_ascii=False)  # keys, tool schemas, images: all sent
        return len(text), len(text.encode("utf-8", "surrogatepass")), 0
    if value is None:
        return 0, 0, 0
    text = str(value)
    return len(text), len(text.encode("utf-8", "surrogatepass")), 0


def input_token_bounds(messages: Any) -> tuple[int, int]:
    """(low, high) input tokens of a request's content; ``high`` is an upper bound for byte-level tokenizers."""
    chars, size, count = _text_size(messages)
    return (chars + 3) // 4, size + _PER_MESSAGE_OVERHEAD * count + _PER_REQUEST_OVERHEAD


def _requested_output(request: Mapping[str, Any]) -> int | None:
    for key in _MAX_OUTPUT_KEYS:
        value = request.get(key)
        if value.__class__ is int and value >= 0:
            choices = request.get("n")
            return int(value * (choices if choices.__class__ is int and choices > 1 else 1))
    return None


def estimate_cost(*, provider: str, model: str, messages: Any = None, input_tokens: int | None = None,
                  max_output_tokens: int | None = None, at: datetime | None = None) -> Estimate:
    """The cost range of a call not made yet, at the table's prices on ``at`` (default now)."""
    if isinstance(messages, Mapping):  # a request's keyword arguments
        if max_output_tokens is None:
            max_output_tokens = _requested_output(messages)
        messages = [messages[key] for key in _CONTENT_KEYS if key in messages
                    and type(messages[key]).__name__ not in ("NotGiven", "Omit")]
    if input_tokens is not None:
        low_in = high_in = input_tokens
    else:
        low_in, high_in = input_token_bounds(messages)
    book = default_price_book()
    low = book.cost(provider, model, Usage(input_tokens=low_in, output_tokens=0), at=at)
    if not isinstance(low, Cost):
        return Estimate(provider, model, None, None, low_in, high_in, max_output_tokens, None,
                        f"{low.reason}: {low.detail}" if low.detail else low.reason)
    bound = max_output_tokens
    if bound is None:
        resolved = book.resolve(provider, model)
        window = getattr(getattr(resolved, "entry", None), "context_window", None)
        if isinstance(window, int) and window > 0:
            bound = window  # input and output together fit in it: a true (if generous) output bound
    high: float | None = None
    if bound is not None:
        found = book.cost(provider, model, Usage(input_tokens=high_in, output_tokens=bound), at=at)
        high = found.total if isinstance(found, Cost) else None
    return Estimate(provider, model, low.total, high, low_in, high_in, bound, low.price_table, None)
