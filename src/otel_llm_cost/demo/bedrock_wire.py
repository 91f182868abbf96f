"""AWS Bedrock runtime wire formats: the response bodies and the ``application/vnd.amazon.eventstream`` frames the
service sends, for the simulated provider and the tests (one builder, so both speak what boto3 really parses).

An event-stream message is: prelude (total length, headers length: big-endian uint32 each), the prelude's CRC32,
headers (name length byte, name, value type 7 = string, value length uint16, value), the payload, and the CRC32 of
everything before it.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
from typing import Any


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return struct.pack("!B", len(raw_name)) + raw_name + b"\x07" + struct.pack("!H", len(raw_value)) + raw_value


def frame(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message with correct lengths and both CRCs."""
    raw_headers = b"".join(_header(k, v) for k, v in headers.items())
    prelude = struct.pack("!II", 12 + len(raw_headers) + len(payload) + 4, len(raw_headers))
    message = prelude + struct.pack("!I", binascii.crc32(prelude)) + raw_headers + payload
    return message + struct.pack("!I", binascii.crc32(message))


def event(event_type: str, payload: dict[str, Any]) -> bytes:
    """An ``event`` message (``messageStart``, ``contentBlockDelta``, ``metadata``, ``chunk``...)."""
    return frame({":event-type": event_type, ":content-type": "application/json", ":message-type": "event"},
                 json.dumps(payload).encode())


def exception(exception_type: str, message: str) -> bytes:
    """An in-stream error (``throttlingException``, ``modelStreamErrorException``...): boto3 raises it mid-stream."""
    return frame({":exception-type": exception_type, ":content-type": "application/json",
                  ":message-type": "exception"}, json.dumps({"message": message}).encode())


def chunk(body: dict[str, Any]) -> bytes:
    """An InvokeModelWithResponseStream ``chunk`` event carrying one model-native JSON object (base64 on the wire)."""
    return event("chunk", {"bytes": base64.b64encode(json.dumps(body).encode()).decode()})


def converse_body(text: str, usage: dict[str, int], stop_reason: str = "end_turn",
                  **extra: Any) -> dict[str, Any]:
    """A Converse response body; ``usage`` in Bedrock's names (``inputTokens``... cache counts excluded from it)."""
    total = sum(usage.values())
    return {"output": {"message": {"role": "assistant", "content": [{"text": text}]}}, "stopReason": stop_reason,
            "usage": {**usage, "totalTokens": total}, "metrics": {"latencyMs": 412}, **extra}


def converse_stream(text: str, usage: dict[str, int], stop_reason: str = "end_turn",
                    **metadata: Any) -> list[bytes]:
    """The ConverseStream events of one answer, its usage on the final ``metadata`` event."""
    words = text.split(" ")
    deltas = [event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": w + " "}}) for w in words]
    return [event("messageStart", {"role": "assistant"}), *deltas,
            event("contentBlockStop", {"contentBlockIndex": 0}), event("messageStop", {"stopReason": stop_reason}),
            event("metadata", {"usage": {**usage, "totalTokens": sum(usage.values())}, "metrics": {"latencyMs": 380},
                               **metadata})]


def invocation_metrics(input_tokens: int, output_tokens: int, cache_read: int = 0,
                       cache_write: int = 0) -> dict[str, int]:
    """The ``amazon-bedrock-invocationMetrics`` Bedrock adds to the last chunk of every model's stream."""
    return {"inputTokenCount": input_tokens, "outputTokenCount": output_tokens, "invocationLatency": 950,
            "firstByteLatency": 310, "cacheReadInputTokenCount": cache_read, "cacheWriteInputTokenCount": cache_write}


def token_headers(input_tokens: int, output_tokens: int, cache_read: int | None = None,
                  cache_write: int | None = None) -> dict[str, str]:
    """The token-count response headers InvokeModel answers carry for any model."""
    headers = {"X-Amzn-Bedrock-Input-Token-Count": str(input_tokens),
               "X-Amzn-Bedrock-Output-Token-Count": str(output_tokens), "X-Amzn-Bedrock-Invocation-Latency": "950"}
    if cache_read is not None:
        headers["X-Amzn-Bedrock-Cache-Read-Input-Token-Count"] = str(cache_read)
    if cache_write is not None:
        headers["X-Amzn-Bedrock-Cache-Write-Input-Token-Count"] = str(cache_write)
    return headers
