"""A SIMULATED LLM provider on 127.0.0.1 for ``otel-llm-cost demo``: no API key, no network, no real model.

It speaks enough of the OpenAI (``/v1/chat/completions``, ``/v1/responses``, ``/v1/embeddings``) and Anthropic
(``/v1/messages``) HTTP APIs, JSON and server-sent events, and of Bedrock's Converse API (AWS event-stream frames),
that the real ``openai``, ``anthropic`` and ``boto3`` SDKs talk to it unchanged. Bodies carry usage the way the
real APIs report it: OpenAI's cached tokens inside ``prompt_tokens`` (a repeated prompt prefix of 1,024+ tokens is
served from the "cache"), reasoning inside ``completion_tokens``; Anthropic's cache reads/writes beside
``input_tokens`` (system blocks marked ``cache_control``), thinking inside ``output_tokens``. Token counts are
estimated from the request text (about four characters a token), so bigger prompts cost more, as they would.

A request header ``x-simulated-error: 429|500|529`` makes it answer with that provider error, so the demo
can show failed calls. Stdlib only: it ships with the package.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import struct
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import simulated_gemini, simulated_mistral
from .wire import anthropic as anthropic_wire
from .wire import openai as openai_wire
from .wire import sse_frame

ERROR_HEADER = "x-simulated-error"
_WORDS = ("the", "customer", "order", "was", "shipped", "on", "time", "and", "refund", "policy", "applies",
          "within", "thirty", "days", "we", "reviewed", "your", "request", "summary", "of", "findings", "for",
          "quarter", "revenue", "grew", "while", "costs", "stayed", "flat", "this", "function", "should",
          "handle", "errors", "before", "returning", "results", "to", "caller", "next", "steps", "are")
# request model -> dated snapshot the "provider" reports back, like the real APIs do
SNAPSHOTS = {
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18", "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
    "o4-mini": "o4-mini-2025-04-16", "gpt-5-mini": "gpt-5-mini-2025-08-07",
    "claude-haiku-4-5": "claude-haiku-4-5-20251001", "claude-sonnet-4-5": "claude-sonnet-4-5-20250929",
}
_REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")


def estimate_tokens(text: str) -> int:
    """About four characters a token, at least one: the usual rule of thumb for English text."""
    return max(1, (len(text) + 3) // 4)


def _text_of(value: Any) -> str:
    """All text inside a message content (string, list of parts, nested dicts)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return " ".join(_text_of(v) for v in value)
    if isinstance(value, dict):
        return " ".join(_text_of(v) for k, v in value.items() if k in ("text", "content", "input"))
    return ""


class _State:
    """What the simulated provider remembers between requests: cached prompt prefixes."""

    def __init__(self, seed: int) -> None:
        self.lock = threading.Lock()
        self.seen_prefixes: set[str] = set()
        self.seed = seed
        self.requests = 0
        self.latency_scale = 1.0

    def cache_hit(self, key: str) -> bool:
        """True when this prefix was sent before (and remember it)."""
        with self.lock:
            hit = key in self.seen_prefixes
            self.seen_prefixes.add(key)
            return hit

    def rng(self, body: bytes) -> random.Random:
        with self.lock:
            self.requests += 1
            n = self.requests
        digest = hashlib.sha256(body).digest()
        return random.Random(int.from_bytes(digest[:8], "big") ^ self.seed ^ n)


def _words(rng: random.Random, tokens: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(max(1, int(tokens * 0.75))))


def _chunks(text: str, per: int = 8) -> Iterator[str]:
    words = text.split(" ")
    for i in range(0, len(words), per):
        yield (" " if i else "") + " ".join(words[i:i + per])


def _output_tokens(rng: random.Random, body: dict[str, Any]) -> int:
    limit = body.get("max_tokens") or body.get("max_completion_tokens") or body.get("max_output_tokens") or 800
    return max(8, int(rng.uniform(0.25, 0.75) * int(limit)))


class _Handler(BaseHTTPRequestHandler):
    server: SimulatedProviderServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the demo prints its own progress
        return

    # -- plumbing ---------------------------------------------------------------------------------------
    def _send_json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("x-simulated-provider", "otel-llm-cost demo")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_sse(self, events: Iterator[tuple[str | None, dict[str, Any] | str]], pause: float) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.send_header("x-simulated-provider", "otel-llm-cost demo")
        self.end_headers()
        for name, data in events:
            raw = sse_frame(data, name)
            self.wfile.write(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")
            self.wfile.flush()
            if pause:
                time.sleep(pause)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _latency(self, rng: random.Random, low: float, high: float) -> None:
        time.sleep(rng.uniform(low, high) * self.server.state.latency_scale)

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        state = self.server.state
        rng = state.rng(raw)
        path = self.path.split("?", 1)[0]
        anthropic = path.endswith("/messages")
        error = self.headers.get(ERROR_HEADER)
        if error:
            self._latency(rng, 0.01, 0.05)
            if simulated_gemini.is_gemini(path):
                self._send_json(int(error), simulated_gemini.error_body(int(error)))
                return
            if simulated_mistral.is_mistral(path):
                self._send_json(int(error), simulated_mistral.error_body(int(error)))
                return
            self._error(int(error), anthropic, str(body.get("model", "")))
            return
        if simulated_gemini.is_gemini(path):
            simulated_gemini.answer(self, path, body, rng)
        elif simulated_mistral.is_mistral(path):
            simulated_mistral.answer(self, path, body, rng)
        elif path.endswith("/chat/completions"):
            self._chat(body, rng)
        elif path.endswith("/responses"):
            self._responses(body, rng)
        elif path.endswith("/embeddings"):
            self._embeddings(body, rng)
        elif anthropic:
            self._messages(body, rng)
        elif path.endswith(("/converse", "/converse-stream")):
            self._converse(body, rng, path.endswith("-stream"))
        else:
            self._send_json(404, {"error": {"message": f"unknown path {path}", "type": "invalid_request_error"}})

    def _error(self, status: int, anthropic: bool, model: str) -> None:
        if anthropic:
            kind = {429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error")
            message = {429: "Number of request tokens has exceeded your per-minute rate limit",
                       529: "Overloaded"}.get(status, "Internal server error")
            self._send_json(status, {"type": "error", "error": {"type": kind, "message": message}},
                            {"request-id": "req_simulated_error", "retry-after": "1"})
            return
        message = (f"Rate limit reached for {model} on tokens per min (TPM): Limit 200000 (simulated)"
                   if status == 429 else "The server had an error while processing your request (simulated)")
        self._send_json(status, {"error": {"message": message, "type": "requests" if status == 429 else "server_error",
                                           "param": None, "code": "rate_limit_exceeded" if status == 429 else None}},
                        {"x-request-id": "req_simulated_error", "retry-after": "1"})

    # -- OpenAI -----------------------------------------------------------------------------------------
    def _openai_prompt(self, model: str, messages: list[Any]) -> tuple[int, int]:
        """(prompt tokens, cached tokens): a 1,024+ token first message seen before is a cache hit (128 steps)."""
        texts = [_text_of(m.get("content")) if isinstance(m, dict) else _text_of(m) for m in messages]
        prompt = sum(estimate_tokens(t) + 4 for t in texts) + 3
        first = estimate_tokens(texts[0]) if texts else 0
        cached = 0
        if first >= 1024 and self.server.state.cache_hit(f"openai:{model}:" + hashlib.sha1(
                texts[0].encode()).hexdigest()):
            cached = first // 128 * 128
        return prompt, cached

    def _chat(self, body: dict[str, Any], rng: random.Random) -> None:
        model = str(body.get("model", ""))
        served = SNAPSHOTS.get(model, model)
        prompt, cached = self._openai_prompt(model, body.get("messages") or [])
        completion = _output_tokens(rng, body)
        reasoning = int(completion * rng.uniform(0.5, 0.8)) if model.startswith(_REASONING_PREFIXES) else 0
        text = _words(rng, completion - reasoning)
        usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
                 "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
                 "completion_tokens_details": {"reasoning_tokens": reasoning, "audio_tokens": 0,
                                               "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}
        ident = f"chatcmpl-sim{rng.getrandbits(48):012x}"
        created = int(time.time())
        self._latency(rng, 0.05, 0.25 if reasoning else 0.12)
        if not body.get("stream"):
            self._send_json(200, openai_wire.chat_completion(ident, created, served, text, usage, "default",
                                                             "fp_simulated", {"annotations": []}))
            return
        with_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        unasked = {"usage": None} if with_usage else {}  # asked: "usage": null on every chunk until the last

        def events() -> Iterator[tuple[str | None, dict[str, Any] | str]]:
            for chunk in openai_wire.chat_stream(ident, created, served, _chunks(text),
                                                 {"role": "assistant", "content": "", "refusal": None},
                                                 fingerprint="fp_simulated", **unasked):
                yield None, chunk
            if with_usage:
                yield None, openai_wire.chat_chunk(ident, created, served, None, fingerprint="fp_simulated",
                                                   usage=usage)
            yield None, "[DONE]"

        self._send_sse(events(), 0.002)

    def _responses(self, body: dict[str, Any], rng: random.Random) -> None:
        model = str(body.get("model", ""))
        served = SNAPSHOTS.get(model, model)
        items = body.get("input")
        messages = [{"content": body.get("instructions") or ""}] if body.get("instructions") else []
        messages += items if isinstance(items, list) else [{"content": items or ""}]
        prompt, cached = self._openai_prompt(model, messages)
        output = _output_tokens(rng, body)
        reasoning = int(output * rng.uniform(0.4, 0.7)) if model.startswith(_REASONING_PREFIXES) else 0
        text = _words(rng, output - reasoning)
        ident = f"resp_sim{rng.getrandbits(48):012x}"
        usage = {"input_tokens": prompt, "output_tokens": output, "total_tokens": prompt + output,
                 "input_tokens_details": {"cached_tokens": cached},
                 "output_tokens_details": {"reasoning_tokens": reasoning}}
        message = openai_wire.output_message("msg_sim1", text, logprobs=[])
        final = openai_wire.response(ident, int(time.time()), served, message, usage, error=None,
                                     incomplete_details=None, instructions=body.get("instructions"))
        self._latency(rng, 0.08, 0.3)
        if not body.get("stream"):
            self._send_json(200, final)
            return
        events = ((event["type"], event) for event in openai_wire.response_events(final, _chunks(text), logprobs=[]))
        self._send_sse(events, 0.002)

    def _embeddings(self, body: dict[str, Any], rng: random.Random) -> None:
        model = str(body.get("model", ""))
        inputs = body.get("input")
        texts = inputs if isinstance(inputs, list) else [inputs]
        dims = int(body.get("dimensions") or 256)
        vectors: list[Any] = []
        for _ in texts:
            vector = [rng.uniform(-0.1, 0.1) for _ in range(dims)]
            vectors.append(base64.b64encode(struct.pack(f"<{dims}f", *vector)).decode()
                           if body.get("encoding_format") == "base64" else vector)
        tokens = sum(estimate_tokens(_text_of(t)) for t in texts)
        self._latency(rng, 0.02, 0.06)
        self._send_json(200, openai_wire.embeddings(SNAPSHOTS.get(model, model), vectors, tokens))

    # -- Anthropic --------------------------------------------------------------------------------------
    def _anthropic_prompt(self, model: str, body: dict[str, Any]) -> dict[str, Any]:
        """Anthropic usage for the prompt: cached system blocks are written once, then read."""
        uncached, write_5m, write_1h, read = 0, 0, 0, 0
        system = body.get("system") or []
        blocks = [{"type": "text", "text": system}] if isinstance(system, str) else list(system)
        for block in blocks:
            tokens = estimate_tokens(_text_of(block))
            marker = block.get("cache_control") if isinstance(block, dict) else None
            if isinstance(marker, dict) and tokens >= 1024:
                key = f"anthropic:{model}:" + hashlib.sha1(_text_of(block).encode()).hexdigest()
                if self.server.state.cache_hit(key):
                    read += tokens
                elif marker.get("ttl") == "1h":
                    write_1h += tokens
                else:
                    write_5m += tokens
            else:
                uncached += tokens
        for message in body.get("messages") or []:
            uncached += estimate_tokens(_text_of(message.get("content"))) + 4
        return {"input_tokens": uncached, "cache_creation_input_tokens": write_5m + write_1h,
                "cache_read_input_tokens": read,
                "cache_creation": {"ephemeral_5m_input_tokens": write_5m, "ephemeral_1h_input_tokens": write_1h},
                "service_tier": "standard"}

    def _messages(self, body: dict[str, Any], rng: random.Random) -> None:
        model = str(body.get("model", ""))
        served = SNAPSHOTS.get(model, model)
        usage = self._anthropic_prompt(model, body)
        output = _output_tokens(rng, body)
        thinking_cfg = body.get("thinking") or {}
        thinking = 0
        if thinking_cfg.get("type") == "enabled":
            thinking = min(int(thinking_cfg.get("budget_tokens") or 1024), int(output * rng.uniform(0.4, 0.7)))
        text = _words(rng, output - thinking)
        ident = f"msg_sim{rng.getrandbits(48):012x}"
        content: list[dict[str, Any]] = []
        if thinking:
            content.append({"type": "thinking", "thinking": _words(rng, thinking), "signature": "c2ltdWxhdGVk"})
        content.append({"type": "text", "text": text})
        final_usage = {**usage, "output_tokens": output}
        message = anthropic_wire.message(ident, served, content, final_usage)
        self._latency(rng, 0.06, 0.3 if thinking else 0.15)
        if not body.get("stream"):
            self._send_json(200, message, {"request-id": f"req_{ident}"})
            return

        events = [anthropic_wire.message_start(message, {**usage, "output_tokens": 1})]
        for index, block in enumerate(content):
            kind = block["type"]  # thinking streams in longer pieces than text
            pieces = list(_chunks(block[kind], 16 if kind == "thinking" else 8))
            events += anthropic_wire.content_block(index, block, pieces)
        events += [anthropic_wire.message_delta("end_turn", {
            "output_tokens": output, "input_tokens": usage["input_tokens"],
            "cache_read_input_tokens": usage["cache_read_input_tokens"],
            "cache_creation_input_tokens": usage["cache_creation_input_tokens"]}), anthropic_wire.MESSAGE_STOP]
        self._send_sse(((event["type"], event) for event in events), 0.002)

    # -- AWS Bedrock (boto3 Converse) ------------------------------------------------------------------------
    def _converse(self, body: dict[str, Any], rng: random.Random, stream: bool) -> None:
        """Converse / ConverseStream at ``/model/{id}/converse[-stream]``; the stream in AWS event-stream frames."""
        from . import bedrock_wire as wire

        prompt = sum(estimate_tokens(_text_of(block)) for block in body.get("system") or []) + sum(
            estimate_tokens(_text_of(m.get("content"))) + 4 for m in body.get("messages") or [])
        output = _output_tokens(rng, {"max_tokens": (body.get("inferenceConfig") or {}).get("maxTokens")})
        usage, text = {"inputTokens": prompt, "outputTokens": output}, _words(rng, output)
        self._latency(rng, 0.05, 0.15)
        if not stream:
            self._send_json(200, wire.converse_body(text, usage))
            return
        data = b"".join(wire.converse_stream(text, usage))
        self.send_response(200)
        self.send_header("content-type", "application/vnd.amazon.eventstream")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class SimulatedProviderServer(ThreadingHTTPServer):
    """The simulated provider, bound to 127.0.0.1 on a free port, served from a daemon thread."""

    daemon_threads = True

    def __init__(self, seed: int = 7, latency_scale: float = 1.0) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = _State(seed)
        self.state.latency_scale = latency_scale
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="otel-llm-cost-simulated-provider", daemon=True)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (the OpenAI SDK wants ``/v1`` appended, the Anthropic SDK does not)."""
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up (a stream the app closed early, a timed-out request) is normal traffic here:
        no traceback on the demo's screen. Anything else is still reported."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionResetError, BrokenPipeError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    def __enter__(self) -> SimulatedProviderServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)
