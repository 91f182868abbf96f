"""Anthropic Messages API wire formats: the ``message`` body and the server-sent events of its stream.

A stream opens with ``message_start`` (the message without content, its usage carrying the input and cache counts
and a placeholder ``output_tokens``), then per content block ``content_block_start``, its deltas and
``content_block_stop``, then ``message_delta`` with the stop reason and cumulative usage, and ``message_stop``.
The callers choose texts, usage and where to put ``ping`` events; these functions only shape them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from . import sse, sse_frame

__all__ = ["MESSAGE_STOP", "PING", "content_block", "message", "message_delta", "message_start", "sse", "sse_frame"]

PING: dict[str, Any] = {"type": "ping"}
MESSAGE_STOP: dict[str, Any] = {"type": "message_stop"}
_EMPTY_BLOCKS: dict[str, dict[str, Any]] = {"thinking": {"type": "thinking", "thinking": "", "signature": ""},
                                            "text": {"type": "text", "text": ""}}


def message(ident: str, model: str, content: list[dict[str, Any]], usage: dict[str, Any],
            stop_reason: str = "end_turn") -> dict[str, Any]:
    """A complete assistant ``message`` body."""
    return {"id": ident, "type": "message", "role": "assistant", "model": model, "content": content,
            "stop_reason": stop_reason, "stop_sequence": None, "usage": usage}


def message_start(body: dict[str, Any], usage: dict[str, Any]) -> dict[str, Any]:
    """The opening event: ``body`` without content or stop reason, with the usage known before generating."""
    return {"type": "message_start", "message": {**body, "content": [], "stop_reason": None, "usage": usage}}


def content_block(index: int, block: dict[str, Any], pieces: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """One content block's events: its start (empty), one delta per piece of its text (the whole text unless
    ``pieces`` splits it; a thinking block's signature follows as its own delta; tool input arrives as one
    ``input_json_delta``), its stop. Blocks without deltas (tool results) start complete."""
    kind = block["type"]
    if kind in ("tool_use", "server_tool_use"):
        start: dict[str, Any] = {**block, "input": {}}
        deltas = [{"type": "input_json_delta", "partial_json": json.dumps(block["input"])}]
    elif kind in _EMPTY_BLOCKS:
        start = _EMPTY_BLOCKS[kind]
        deltas = [{"type": f"{kind}_delta", kind: piece} for piece in (pieces or [block[kind]])]
        if kind == "thinking":
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
    else:
        start, deltas = block, []
    return [{"type": "content_block_start", "index": index, "content_block": start},
            *({"type": "content_block_delta", "index": index, "delta": delta} for delta in deltas),
            {"type": "content_block_stop", "index": index}]


def message_delta(stop_reason: str, usage: dict[str, Any]) -> dict[str, Any]:
    """The closing event before ``message_stop``: the stop reason and the cumulative usage."""
    return {"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": None}, "usage": usage}
