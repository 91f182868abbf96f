"""A simulated Anthropic API behind the real SDK's transport: realistic JSON, SSE event sequences and errors.

Serves the first-party API (``/v1/messages``, ``/v1/messages/count_tokens``, message batches), Bedrock
(``/model/{id}/invoke`` and ``invoke-with-response-stream`` in AWS event-stream framing) and Vertex
(``...:rawPredict`` / ``:streamRawPredict``). Streams carry what the real API sends: ``message_start`` with
the input and cache counts and a placeholder ``output_tokens``, ``ping``, thinking blocks with signature
deltas, tool use with ``input_json_delta``, server tool use (web search), and a cumulative ``message_delta``.
Importable on its own (no pytest); the wire shapes come from ``otel_llm_cost.demo.wire.anthropic``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2

import anthropic
from otel_llm_cost.demo import bedrock_wire
from otel_llm_cost.demo.wire import anthropic as wire
from otel_llm_cost.demo.wire import sse_frame

SNAPSHOTS = {"claude-sonnet-4-5": "claude-sonnet-4-5-20250929", "claude-opus-4-7": "claude-opus-4-7",
             "claude-haiku-4-5": "claude-haiku-4-5-20251001"}

# The default usage of every response: a cached, thinking, web-searching call.
INPUT, CACHE_5M, CACHE_1H, CACHE_READ, OUTPUT, THINKING, SEARCHES = 1200, 2000, 1000, 10000, 800, 300, 2


def served_model(model: str) -> str:
    """What the API names in ``message.model``: Bedrock and Vertex answer with the bare Anthropic id."""
    bare = model.split("@")[0]  # Vertex claude-sonnet-4-5@20250929
    if "anthropic." in bare:  # Bedrock [us.|global.]anthropic.claude-...-v1:0
        bare = bare.split("anthropic.", 1)[1].rsplit("-v", 1)[0]
    return SNAPSHOTS.get(bare, bare)


def default_usage() -> dict[str, Any]:
    return {"input_tokens": INPUT, "output_tokens": OUTPUT,
            "cache_creation_input_tokens": CACHE_5M + CACHE_1H, "cache_read_input_tokens": CACHE_READ,
            "cache_creation": {"ephemeral_5m_input_tokens": CACHE_5M, "ephemeral_1h_input_tokens": CACHE_1H},
            "server_tool_use": {"web_search_requests": SEARCHES, "web_fetch_requests": 0},
            "output_tokens_details": {"thinking_tokens": THINKING},
            "service_tier": "standard", "inference_geo": "us"}


def _content(thinking: bool) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if thinking:
        blocks.append({"type": "thinking", "thinking": "The user asks for the capital of France.",
                       "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"})
    blocks += [
        {"type": "server_tool_use", "id": "srvtoolu_01", "name": "web_search", "input": {"query": "capital of France"}},
        {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_01",
         "content": [{"type": "web_search_result", "url": "https://en.wikipedia.org/wiki/Paris", "title": "Paris",
                      "encrypted_content": "EqgfCioIARgB", "page_age": "2 days ago"}]},
        {"type": "text", "text": "{\"answer\": \"Paris\"}"},
    ]
    return blocks


class FakeAnthropic:
    """The simulated API; ``usage``, ``fail``, ``stream_error_after`` and ``break_stream_after`` shape answers."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any], httpx2.Headers]] = []
        self.usage: dict[str, Any] = default_usage()
        self.response_model: str | None = None  # None: the snapshot of the requested model
        self.fail: tuple[int, dict[str, Any]] | Exception | None = None
        self.stream_error_after: int | None = None  # events, then an `error` event (overloaded mid-stream)
        self.break_stream_after: int | None = None  # events, then the connection drops
        self.batch_results: list[dict[str, Any]] = []

    # -- clients --------------------------------------------------------------------------------------
    def client(self, cls: type = anthropic.Anthropic, **kw: Any) -> Any:
        if cls is anthropic.Anthropic:
            kw.setdefault("api_key", "sk-ant-test")
        kw.setdefault("max_retries", 0)
        kw.setdefault("open_telemetry", False)
        return cls(http_client=httpx2.Client(transport=httpx2.MockTransport(self.handle)), **kw)

    def async_client(self, cls: type = anthropic.AsyncAnthropic, **kw: Any) -> Any:
        if cls is anthropic.AsyncAnthropic:
            kw.setdefault("api_key", "sk-ant-test")
        kw.setdefault("max_retries", 0)
        kw.setdefault("open_telemetry", False)
        return cls(http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(self.handle_async)), **kw)

    def bedrock(self, is_async: bool = False, **kw: Any) -> Any:
        kw.setdefault("aws_region", "us-east-1")
        kw.setdefault("api_key", "bedrock-api-key")
        cls = anthropic.AsyncAnthropicBedrock if is_async else anthropic.AnthropicBedrock
        return (self.async_client if is_async else self.client)(cls, **kw)

    def vertex(self, is_async: bool = False, **kw: Any) -> Any:
        kw.setdefault("region", "us-east5")
        kw.setdefault("project_id", "acme-prod")
        kw.setdefault("access_token", "ya29.test")
        cls = anthropic.AsyncAnthropicVertex if is_async else anthropic.AnthropicVertex
        return (self.async_client if is_async else self.client)(cls, **kw)

    # -- server ---------------------------------------------------------------------------------------
    async def handle_async(self, request: httpx2.Request) -> httpx2.Response:
        return self.handle(request, is_async=True)

    def handle(self, request: httpx2.Request, is_async: bool = False) -> httpx2.Response:
        body = json.loads(request.content) if request.content and request.method == "POST" else {}
        path = request.url.path
        self.requests.append((path, body, request.headers))
        if isinstance(self.fail, Exception):
            raise self.fail
        if self.fail is not None:
            status, payload = self.fail
            return httpx2.Response(status, json=payload, headers={"request-id": "req_011CVerr"})
        if path == "/v1/messages/count_tokens":
            return httpx2.Response(200, json={"input_tokens": 42})
        if path == "/v1/messages":
            return self._messages(body, body["model"], bool(body.get("stream")), aws=False, is_async=is_async)
        if path.startswith("/model/"):  # Bedrock: the model is in the path, not the body
            model = path.split("/")[2]
            stream = path.endswith("/invoke-with-response-stream")
            return self._messages(body, model, stream, aws=True, is_async=is_async)
        if ":rawPredict" in path or ":streamRawPredict" in path:  # Vertex
            model = path.rsplit("/", 1)[1].split(":")[0]
            return self._messages(body, model, path.endswith(":streamRawPredict"), aws=False, is_async=is_async)
        if path.startswith("/v1/messages/batches/"):
            batch_id = path.split("/")[4]
            if path.endswith("/results"):
                lines = "".join(json.dumps(r) + "\n" for r in self.batch_results)
                return httpx2.Response(200, content=lines.encode(), headers={"content-type": "application/binary"})
            return httpx2.Response(200, json=self._batch(batch_id, str(request.url.copy_with(path=path + "/results"))))
        return httpx2.Response(404, json={"type": "error", "error": {"type": "not_found_error", "message": path}})

    def message(self, model: str, thinking: bool = False) -> dict[str, Any]:
        served = self.response_model or served_model(model)
        return wire.message("msg_01XFDUDYJgAACzvnptvVoYEL", served, _content(thinking), dict(self.usage))

    def _messages(self, body: dict[str, Any], model: str, stream: bool, aws: bool,
                  is_async: bool) -> httpx2.Response:
        thinking = (body.get("thinking") or {}).get("type") == "enabled"
        message = self.message(model, thinking)
        tool = next((t for t in body.get("tools") or () if "input_schema" in t), None)
        last = (body.get("messages") or [{}])[-1].get("content")
        answered = isinstance(last, list) and any(b.get("type") == "tool_result" for b in last)
        if tool is not None and not answered:  # the model asks for the application's tool first
            message["content"] = [{"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9",
                                   "name": tool["name"], "input": {"city": "Paris"}}]
            message["stop_reason"] = "tool_use"
        if not stream:
            return httpx2.Response(200, json=message, headers={"request-id": "req_011CV1"})
        events = self.events(message)
        if self.stream_error_after is not None:
            events = [*events[:self.stream_error_after],
                      {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}]
        if aws:  # Bedrock wraps each event as a base64 ``chunk`` in AWS event-stream framing
            return self._respond([bedrock_wire.chunk(e) for e in events], "application/vnd.amazon.eventstream",
                                 is_async)
        return self._respond([sse_frame(e, e["type"]) for e in events], "text/event-stream", is_async)

    def _respond(self, parts: list[bytes], content_type: str, is_async: bool) -> httpx2.Response:
        keep = self.break_stream_after

        def body() -> Iterator[bytes]:
            for i, part in enumerate(parts):
                if keep is not None and i >= keep:
                    raise httpx2.ReadError("connection reset by peer")
                yield part

        async def async_body() -> AsyncIterator[bytes]:
            for part in body():
                yield part

        return httpx2.Response(200, headers={"content-type": content_type, "request-id": "req_011CV2"},
                               content=async_body() if is_async else body())

    def events(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        """The SSE events the API sends for ``message``, with its ``ping``s (after the start, inside text)."""
        usage = message["usage"]
        start_usage = {k: v for k, v in usage.items() if k not in ("server_tool_use", "output_tokens_details")}
        start_usage["output_tokens"] = 1  # a placeholder until message_delta
        out: list[dict[str, Any]] = [wire.message_start(message, start_usage), wire.PING]
        for i, block in enumerate(message["content"]):
            if block["type"] == "text":
                half = len(block["text"]) // 2
                events = wire.content_block(i, block, [block["text"][:half], block["text"][half:]])
                out += [*events[:2], wire.PING, *events[2:]]
            else:
                out += wire.content_block(i, block)
        delta_usage = {k: usage[k] for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
                                             "output_tokens", "server_tool_use", "output_tokens_details") if k in usage}
        return [*out, wire.message_delta(message["stop_reason"], delta_usage), wire.MESSAGE_STOP]

    def _batch(self, batch_id: str, results_url: str) -> dict[str, Any]:
        counts = {"processing": 0, "succeeded": sum(r["result"]["type"] == "succeeded" for r in self.batch_results),
                  "errored": sum(r["result"]["type"] == "errored" for r in self.batch_results),
                  "canceled": 0, "expired": 0}
        return {"id": batch_id, "type": "message_batch", "processing_status": "ended", "request_counts": counts,
                "ended_at": "2026-11-24T10:00:00Z", "created_at": "2026-11-24T09:00:00Z",
                "expires_at": "2026-11-25T09:00:00Z", "archived_at": None, "cancel_initiated_at": None,
                "results_url": results_url}

    def batch_item(self, custom_id: str, model: str, message_id: str, **usage: int) -> dict[str, Any]:
        """A succeeded batch result line (usage reported with service_tier "batch")."""
        message = self.message(model)
        message["id"] = message_id
        message["usage"] = {"input_tokens": 0, "output_tokens": 0, **usage, "service_tier": "batch"}
        return {"custom_id": custom_id, "result": {"type": "succeeded", "message": message}}


def overloaded() -> tuple[int, dict[str, Any]]:
    return 529, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"},
                 "request_id": "req_011CVerr"}
