"""What a request will send and may get back, read from the SDK call's keyword arguments (any provider).

The content keys cover the OpenAI (chat, responses, completions, embeddings) and Anthropic (messages) APIs;
everything under them counts towards the input bound, tool schemas included, because it is all sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

CONTENT_KEYS = ("messages", "input", "instructions", "prompt", "system", "tools", "functions", "tool_choice",
                "response_format", "text", "contents")
MAX_OUTPUT_KEYS = ("max_tokens", "max_completion_tokens", "max_output_tokens")
NO_OUTPUT_OPERATIONS = ("embeddings",)


def _given(value: Any) -> bool:
    return value is not None and type(value).__name__ not in ("NotGiven", "Omit")


def request_content(kwargs: Mapping[str, Any]) -> list[Any]:
    """Everything the request sends the model (for the input-token bound)."""
    return [kwargs[key] for key in CONTENT_KEYS if key in kwargs and _given(kwargs[key])]


def max_output_tokens(operation: str, kwargs: Mapping[str, Any]) -> int | None:
    """The most output tokens the call can be billed for, or None when the request sets no limit.
    With ``n`` choices the model writes up to ``n`` times the limit."""
    if operation in NO_OUTPUT_OPERATIONS:
        return 0
    for key in MAX_OUTPUT_KEYS:
        value = kwargs.get(key)
        if value.__class__ is int and value >= 0:
            choices = kwargs.get("n")
            return value * choices if choices.__class__ is int and choices > 1 else value
    return None
