"""The chat every test sends. The simulated APIs answer with fixed usage whatever the prompt, so one conversation
serves every provider whose messages take ``{"role", "content"}`` (Bedrock's Converse shape is its own)."""

from __future__ import annotations

from typing import Any

MESSAGES: list[dict[str, Any]] = [{"role": "user", "content": "Capital of France? Answer in JSON."}]
