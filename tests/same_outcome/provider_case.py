"""Same outcome with and without us: the provider-case interface and the wire mutations (issue 11).

Every instrumented provider proves the same property, over thousands of seeded scenarios: the application sees
exactly what the SDK gives it without instrumentation (result dump, stream items, exception type and message),
nothing raises from our frames, every call's span ends exactly once when the call is over, and counters,
histogram and span costs agree. ``harness.py`` runs it; a provider plugs in by adding ONE ``ProviderCase``
(``case_openai.py``, ``case_anthropic.py``) to ``CASES`` in ``test_same_outcome.py``:

- ``name``, ``http`` (the httpx-like module its SDK sends through: ``Response``, ``MockTransport``,
  ``ConnectError``, ``ReadTimeout``, ``ReadError``, ``Client``, ``AsyncClient``);
- ``surfaces``: the calls an app makes, each a ``Surface`` (name, async or not, ``shape``, and ``call(client)``:
  the SDK call itself, returning what the SDK returns: awaited by the harness where it is awaitable). Shapes the harness
  knows how to consume: ``plain`` (a parsed result), ``raw`` / ``raw_stream`` (``with_raw_response``: then
  ``parse()``), ``streaming_response`` / ``streaming_response_stream`` (``with_streaming_response``: a context
  manager, then ``parse()``), ``stream`` (an SDK stream), ``generator`` (a plain generator or async generator
  of items, as Ollama's and cohere's ``chat_stream``: closed with ``close()`` / ``aclose()``, never used with
  ``with``) and ``helper`` (a stream manager entered with ``with``; ``final(stream)`` reads its accumulated
  result). A ``stream`` that is a plain generator wrapped by the SDK (google-genai's ``generate_content_stream``)
  says ``context_manager=False``: the application never puts it in a ``with`` block nor calls ``close()`` on an
  async one (it has neither); it closes it with ``close()`` / ``aclose()`` and raises mid-iteration outside any
  ``with``, and the stream the SDK's generator was reading ends when collected;
- ``client(handler, is_async)``: the real SDK client on a mock transport that answers every request with
  ``handler(request)``;
- ``answer(body, url)``: the wire answer of a well-behaved API for that request (``Wire``: status and
  JSON body, or SSE events), taken from the provider's fake server in ``tests/<provider>/`` (streams are SSE
  by default; a provider with another framing overrides ``encode_event`` and ``stream_content_type``, as
  Ollama's NDJSON does);
- ``unasked(body)``: the request body as the application sent it, without what the instrumentation adds
  (OpenAI: the injected ``stream_options``), so that a mutation planned on the answer the application would
  have had applies, index for index, to the answer the instrumented call gets;
- ``styles``: provider behaviours the fake can be switched to per scenario (``set_style(style)``), e.g. how
  OpenAI-compatible hosts report stream usage; ``error_body(status)``: the provider's JSON error body;
  ``early_end``: the SSE event that ends a stream early (OpenAI ``[DONE]``, Anthropic ``message_stop``);
- ``indistinguishable(wire, style, url)``: True for a damaged answer that no observer could tell apart from
  what the instrumentation's own request addition brings back (OpenAI: a chunk without choices after the finish
  reason looks exactly like the usage chunk it asked for); such plans are drawn again. Default: none.

A ``Plan`` (drawn from a seed) is what goes wrong on the wire: JSON mutations (a field deleted, nulled,
mistyped, negative, huge; an unknown model), SSE damage (truncated mid-event, a malformed event, events reordered,
dropped or duplicated, an early end), an HTTP error status or a transport error (before the answer, or mid-stream).
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SHAPES = ("plain", "raw", "raw_stream", "streaming_response", "streaming_response_stream", "stream", "generator",
          "helper")
STREAMED = ("raw_stream", "streaming_response_stream", "stream", "generator", "helper")


@dataclass(frozen=True)
class Surface:
    """One call an application makes: ``call(client)`` returns what the SDK returns (an awaitable if async)."""

    name: str
    is_async: bool
    shape: str
    call: Callable[[Any], Any]
    final: Callable[[Any], Any] | None = None  # helpers: the accumulated result (get_final_...)
    # False for a stream that is a plain (async) generator: no ``with``, no ``close()`` on an async one
    context_manager: bool = True


# An SSE event as sent: (event name or None, data line). A JSON event's data is kept parsed until encoded.
Event = tuple[str | None, Any]


@dataclass
class Wire:
    """What the server sends for one call."""

    status: int = 200
    body: Any = None  # JSON-able (a plain answer or an error)
    events: list[Event] | None = None  # a stream
    raw_tail: bytes = b""  # bytes sent after the events (a truncated event)
    trailer: Event | None = None  # a closing non-JSON event (OpenAI's [DONE]): sent last, unless cut before


class ProviderCase:
    """The interface a provider implements to get the same-outcome suite (see the module docstring)."""

    name = "provider"
    http: Any = None
    surfaces: tuple[Surface, ...] = ()
    styles: tuple[str, ...] = ("default",)
    early_end: Event = (None, "[DONE]")

    def client(self, handler: Callable[[Any], Any], is_async: bool) -> Any:
        raise NotImplementedError

    def answer(self, body: dict[str, Any], url: Any) -> Wire:
        raise NotImplementedError

    def unasked(self, body: dict[str, Any]) -> dict[str, Any]:
        return body

    def set_style(self, style: str) -> None:
        """Switch the fake server to one of ``styles`` for the next calls."""

    def indistinguishable(self, wire: Wire, style: str, url: Any) -> bool:
        return False

    def error_body(self, status: int) -> Any:
        return {"error": {"message": f"status {status}", "type": "server_error"}}

    stream_content_type = "text/event-stream"

    def encode_event(self, event: Event) -> bytes:
        """One streamed event as sent (SSE; NDJSON for Ollama)."""
        return encode_event(event)


# -- SSE -------------------------------------------------------------------------------------------------

def decode_answer(response: Any) -> Wire:
    """A fake server's http response as a ``Wire`` (an SSE body parsed into events, else JSON)."""
    payload = response.read()
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        events = parse_sse(payload)
        trailer = events.pop() if events and isinstance(events[-1][1], str) else None
        return Wire(status=response.status_code, events=events, trailer=trailer)
    return Wire(status=response.status_code, body=json.loads(payload))


def parse_sse(payload: bytes) -> list[Event]:
    """The events of an SSE body, JSON data parsed (``[DONE]`` and other non-JSON data kept as text)."""
    events: list[Event] = []
    for block in payload.decode().split("\n\n"):
        if not block.strip():
            continue
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[len("event: "):]
            elif line.startswith("data: "):
                data.append(line[len("data: "):])
        text = "\n".join(data)
        try:
            events.append((name, json.loads(text)))
        except ValueError:
            events.append((name, text))
    return events


def encode_event(event: Event) -> bytes:
    name, data = event
    text = data if isinstance(data, str) else json.dumps(data)
    return ((f"event: {name}\n" if name else "") + f"data: {text}\n\n").encode()


# -- mutations --------------------------------------------------------------------------------------------

HUGE = (10**30, 2**63, 10**400, 2**53 + 1)
MISTYPED: tuple[Any, ...] = ("x", [], {}, True, 1.5, [1, 2], {"k": "v"})
UNKNOWN_MODELS = ("totally-unknown-model-9000", "", "MODELS/GPT-4O-MINI", "ft:gpt-4o-mini:acme::abc", "a" * 300)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a JSON document (dict keys and list indices)."""
    out: list[tuple[Any, ...]] = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        out.append((*prefix, key))
        out.extend(_paths(value, (*prefix, key)))
    return out


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        node = node[key]
    return node


@dataclass(frozen=True)
class JsonMutation:
    """Change one value inside a JSON document: op is delete, set (to ``value``)."""

    path: tuple[Any, ...]
    op: str
    value: Any = None

    def apply(self, doc: Any) -> None:
        try:
            parent = _get(doc, self.path[:-1])
            key = self.path[-1]
            if (isinstance(parent, dict) and key not in parent) or (isinstance(parent, list) and key >= len(parent)):
                return
        except (KeyError, IndexError, TypeError):
            return  # an earlier mutation removed the way there
        if self.op == "delete":
            del parent[key]
        else:
            parent[key] = copy.deepcopy(self.value)  # never the shared constant: later mutations may go inside

    def __str__(self) -> str:
        return f"{'/'.join(map(str, self.path))} {self.op}{'' if self.op == 'delete' else ' ' + repr(self.value)[:40]}"


def draw_json_mutation(rng: random.Random, doc: Any) -> JsonMutation | None:
    paths = _paths(doc)
    if not paths:
        return None
    path = rng.choice(paths)
    current = _get(doc, path)
    kind = rng.choice(("delete", "null", "mistype", "negative", "huge", "model") if path[-1] == "model"
                      else ("delete", "null", "mistype", "negative", "huge"))
    if kind == "delete":
        return JsonMutation(path, "delete")
    if kind == "null":
        return JsonMutation(path, "set", None)
    if kind == "model":
        return JsonMutation(path, "set", rng.choice(UNKNOWN_MODELS))
    if kind == "negative" and isinstance(current, (int, float)) and not isinstance(current, bool):
        return JsonMutation(path, "set", -abs(current) - rng.choice((0, 1, 10**6)))
    if kind == "huge":
        return JsonMutation(path, "set", rng.choice(HUGE))
    return JsonMutation(path, "set", rng.choice(MISTYPED))


@dataclass
class Plan:
    """What goes wrong for one call, drawn from a seed against the answer the application would have had."""

    style: str = "default"
    failure: tuple[str, Any] | None = None  # ("status", code) | ("transport", exception name)
    body_mutations: list[JsonMutation] = field(default_factory=list)
    event_mutations: list[tuple[int, JsonMutation]] = field(default_factory=list)
    sse_ops: list[tuple[str, int, int]] = field(default_factory=list)  # (op, index, other index)
    truncate: tuple[int, float] | None = None  # cut inside event i, keeping a fraction of its bytes
    count: int = 0  # events of the answer it was planned on: what the instrumented answer adds (after) is kept
    break_after: int | None = None  # the connection drops after this many events

    def __str__(self) -> str:
        parts = [f"style={self.style}"]
        if self.failure:
            parts.append(f"failure={self.failure}")
        parts += [f"body:{m}" for m in self.body_mutations]
        parts += [f"event[{i}]:{m}" for i, m in self.event_mutations]
        parts += [f"sse:{op}({i},{j})" for op, i, j in self.sse_ops]
        if self.truncate:
            parts.append(f"truncate={self.truncate}")
        if self.break_after is not None:
            parts.append(f"break_after={self.break_after}")
        return " ".join(parts)


def draw_plan(rng: random.Random, case: ProviderCase, wire: Wire, style: str) -> Plan:
    """A plan against ``wire`` (the answer the application would have had, in ``style``): mostly mutations."""
    plan = Plan(style=style)
    roll = rng.random()
    if roll < 0.08:
        plan.failure = ("status", rng.choice((400, 401, 404, 429, 500, 503, 529)))
        return plan
    if roll < 0.12:
        plan.failure = ("transport", rng.choice(("ConnectError", "ReadTimeout")))
        return plan
    if roll < 0.15:
        plan.failure = ("status-not-json", rng.choice((200, 500, 502)))
        return plan
    if wire.events is None:
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            mutation = draw_json_mutation(rng, wire.body)
            if mutation is not None:
                plan.body_mutations.append(mutation)
        return plan
    count = plan.count = len(wire.events)
    for _ in range(rng.choice((0, 1, 1, 2, 3))):
        i = rng.randrange(count)
        data = wire.events[i][1]
        mutation = draw_json_mutation(rng, data) if isinstance(data, (dict, list)) else None
        if mutation is not None:
            plan.event_mutations.append((i, mutation))
    for _ in range(rng.choice((0, 0, 1, 2))):
        plan.sse_ops.append((rng.choice(("malformed", "early_end", "swap", "drop", "duplicate")),
                             rng.randrange(count), rng.randrange(count)))
    extra = rng.random()
    if extra < 0.12:
        plan.truncate = (rng.randrange(count), rng.random())
    elif extra < 0.22:
        plan.break_after = rng.randrange(count + 1)
    return plan


def apply_plan(plan: Plan, case: ProviderCase, wire: Wire) -> Wire:
    """``wire`` (the real answer, asked or not) as damaged by ``plan`` (planned on the unasked answer)."""
    if plan.failure is not None:
        kind, value = plan.failure
        if kind == "status":
            return Wire(status=value, body=case.error_body(value))
        if kind == "status-not-json":
            return Wire(status=value, body="<html>upstream error</html>")
        raise getattr(case.http, value)("simulated " + value)
    if wire.events is None:
        for mutation in plan.body_mutations:
            mutation.apply(wire.body)
        return wire
    events = list(wire.events)
    for i, mutation in plan.event_mutations:
        if i < len(events) and isinstance(events[i][1], (dict, list)):
            mutation.apply(events[i][1])
    for op, i, j in plan.sse_ops:
        if i >= plan.count or j >= plan.count:
            continue
        if op == "malformed":
            events.insert(i, (events[i][0], "{\"truncated\": tr"))
        elif op == "early_end":
            events.insert(i, case.early_end)
        elif op == "swap":
            events[i], events[j] = events[j], events[i]
        elif op == "drop":
            del events[i]
        elif op == "duplicate":
            events.insert(i, (events[i][0], json.loads(json.dumps(events[i][1]))))
    tail, trailer = b"", wire.trailer
    if plan.truncate is not None and plan.truncate[0] < len(events):
        i, fraction = plan.truncate
        cut = case.encode_event(events[i])
        tail = cut[:int(len(cut) * fraction)].rstrip(b"\n")  # never a complete event
        events, trailer = events[:i], None
    return Wire(status=wire.status, events=events, raw_tail=tail, trailer=trailer)


def respond(case: ProviderCase, wire: Wire, break_after: int | None, is_async: bool) -> Any:
    """The http response carrying ``wire`` (an SSE body that may drop the connection after some events)."""
    http = case.http
    if wire.events is None:
        if isinstance(wire.body, str):
            return http.Response(wire.status, content=wire.body.encode(), headers={"content-type": "text/html"})
        return http.Response(wire.status, content=json.dumps(wire.body).encode(),
                             headers={"content-type": "application/json", "x-request-id": "req_1",
                                      "request-id": "req_1"})
    parts = [case.encode_event(e) for e in wire.events]
    if wire.raw_tail:
        parts.append(wire.raw_tail)
    elif wire.trailer is not None and break_after is None:
        parts.append(case.encode_event(wire.trailer))

    def chunks() -> Any:
        for i, part in enumerate(parts):
            if break_after is not None and i >= break_after:
                raise http.ReadError("connection reset by peer")
            yield part
        if break_after is not None and break_after >= len(parts):
            raise http.ReadError("connection reset by peer")

    async def async_chunks() -> Any:
        for part in chunks():
            yield part

    return http.Response(wire.status, headers={"content-type": case.stream_content_type},
                         content=async_chunks() if is_async else chunks())
