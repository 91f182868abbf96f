"""A toy LLM SDK for the core's tests: one class method answering with a dict."""

from __future__ import annotations

from typing import Any

USAGE = {"prompt_tokens": 1000, "completion_tokens": 100}


class Chat:
    def create(self, *, model: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
        return {"id": "toy-1", "model": model, "usage": dict(USAGE)}
