"""Wire formats, one builder per API: the JSON bodies and server-sent event sequences the real APIs send.

Shared by the demo's simulated provider, the tests' fake APIs and the benchmarks' mock transports, so all three
speak exactly what the real SDKs parse. Stdlib only; pure functions of their arguments (no clock, no randomness).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any


def sse_frame(data: Mapping[str, Any] | str, event: str | None = None) -> bytes:
    """One server-sent event: an optional ``event:`` line, the ``data:`` line (JSON unless a string), a blank line."""
    text = data if isinstance(data, str) else json.dumps(data)
    return ((f"event: {event}\n" if event else "") + f"data: {text}\n\n").encode()


def sse(events: Iterable[Mapping[str, Any]], done: bool = False, named: bool = False) -> bytes:
    """A whole event stream; ``named`` adds each event's ``type`` as its ``event:`` line (Anthropic, Responses),
    ``done`` ends it with OpenAI's ``data: [DONE]``."""
    body = b"".join(sse_frame(e, e["type"] if named else None) for e in events)
    return body + (sse_frame("[DONE]") if done else b"")
