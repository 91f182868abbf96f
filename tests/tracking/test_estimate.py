"""``estimate_cost``: bounds that contain the real input token count and the billed cost of recorded calls, made
through the real SDKs (the answers carry the usage the real APIs reported for exactly these requests)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import datetime, timezone
from typing import Any

import httpx2
import pytest
from fake_anthropic import FakeAnthropic
from fake_openai import FakeOpenAI, http
from recorded import ANTHROPIC_MESSAGES, OPENAI_CHAT, OPENAI_RESPONSES

import anthropic
import openai
from otel_llm_cost import estimate_cost, track
from otel_llm_cost.core.usage import Usage
from otel_llm_cost.pricing import PriceBook, Resolution, request_tokens
from telemetry_fixtures import Otel


def openai_client(usage: dict[str, Any]) -> openai.OpenAI:
    def handle(request: Any) -> Any:
        body = json.loads(request.content)
        if request.url.path.endswith("/responses"):
            return http.Response(200, json={
                "id": "resp_1", "object": "response", "created_at": 1771187161, "status": "completed",
                "model": "gpt-4o-mini-2024-07-18", "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
                "output": [{"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
                            "content": [{"type": "output_text", "text": "This is a test.", "annotations": []}]}],
                "usage": usage})
        choices = [{"index": i, "message": {"role": "assistant", "content": "This is a test."}, "logprobs": None,
                    "finish_reason": "stop"} for i in range(body.get("n", 1))]
        return http.Response(200, json={"id": "chatcmpl-1", "object": "chat.completion", "created": 1730680117,
                                        "model": "gpt-4o-mini-2024-07-18", "choices": choices, "usage": usage})

    transport = http.MockTransport(handle)
    return openai.OpenAI(api_key="sk-test", max_retries=0, http_client=http.Client(transport=transport))


def anthropic_client(usage: dict[str, Any]) -> anthropic.Anthropic:
    def handle(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        return httpx2.Response(200, json={
            "id": "msg_1", "type": "message", "role": "assistant", "model": body["model"],
            "content": [{"type": "text", "text": "Hello!"}], "stop_reason": "end_turn", "stop_sequence": None,
            "usage": usage})

    return anthropic.Anthropic(api_key="sk-ant-test", max_retries=0, open_telemetry=False,
                               http_client=httpx2.Client(transport=httpx2.MockTransport(handle)))


def assert_contains(estimate: Any, spend: Any) -> None:
    assert spend.calls == 1 and spend.priced_calls == 1
    assert estimate.input_tokens_low <= spend.input_tokens <= estimate.input_tokens_high
    assert estimate.max_output_tokens is not None and spend.output_tokens <= estimate.max_output_tokens
    assert estimate.low_usd <= spend.total_usd <= estimate.high_usd


@pytest.mark.parametrize(("request_kwargs", "usage"), OPENAI_CHAT)
def test_bounds_contain_recorded_openai_chat_calls(otel: Otel, request_kwargs: dict[str, Any],
                                                   usage: dict[str, Any]) -> None:
    estimate = estimate_cost(provider="openai", model=request_kwargs["model"], messages=request_kwargs)
    with track() as spend:
        openai_client(usage).chat.completions.create(**request_kwargs)
    assert_contains(estimate, spend)
    assert estimate.price_row is not None and estimate.price_row.startswith("openai/gpt-4o-mini (genai-prices-")
    assert estimate.unpriced_reason is None


@pytest.mark.parametrize(("request_kwargs", "usage"), OPENAI_RESPONSES)
def test_bounds_contain_recorded_openai_responses_calls(otel: Otel, request_kwargs: dict[str, Any],
                                                        usage: dict[str, Any]) -> None:
    estimate = estimate_cost(provider="openai", model=request_kwargs["model"], messages=request_kwargs)
    with track() as spend:
        openai_client(usage).responses.create(**request_kwargs)
    assert_contains(estimate, spend)


@pytest.mark.parametrize(("request_kwargs", "usage"), ANTHROPIC_MESSAGES)
def test_bounds_contain_recorded_anthropic_calls(otel: Otel, request_kwargs: dict[str, Any],
                                                 usage: dict[str, Any]) -> None:
    estimate = estimate_cost(provider="anthropic", model=request_kwargs["model"], messages=request_kwargs)
    with track() as spend:
        anthropic_client(usage).messages.create(**request_kwargs)
    assert_contains(estimate, spend)
    assert estimate.max_output_tokens == request_kwargs["max_tokens"]


def test_output_bound_is_the_request_limit_times_its_choices_else_the_context_window() -> None:
    messages = [{"role": "user", "content": "Say this is a test"}]
    assert estimate_cost(provider="openai", model="gpt-4o-mini",
                         messages={"messages": messages, "max_tokens": 50, "n": 3}).max_output_tokens == 150
    assert estimate_cost(provider="openai", model="gpt-4o-mini", messages=messages,
                         max_output_tokens=7).max_output_tokens == 7
    unbounded = estimate_cost(provider="openai", model="gpt-4o-mini", messages=messages)
    resolution = PriceBook().resolve("openai", "gpt-4o-mini")
    assert isinstance(resolution, Resolution) and resolution.entry is not None
    window = resolution.entry.context_window
    assert window and unbounded.max_output_tokens == window - unbounded.input_tokens_low
    assert unbounded.high_usd is not None and unbounded.high_usd > 100 * estimate_cost(
        provider="openai", model="gpt-4o-mini", messages=messages, max_output_tokens=50).high_usd


def test_cache_pricing_widens_the_bounds_only_when_the_call_can_use_a_cache(otel: Otel) -> None:
    """The simulated APIs' default answers read and write prompt caches: the bounds must hold them too."""
    with track() as spend:
        FakeOpenAI().client().chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    openai_estimate = estimate_cost(provider="openai", model="gpt-4o-mini", input_tokens=spend.input_tokens,
                                    max_output_tokens=spend.output_tokens)
    assert openai_estimate.low_usd <= spend.total_usd <= openai_estimate.high_usd

    api = FakeAnthropic()
    api.usage.pop("server_tool_use")  # web-search fees are outside any bound (documented)
    with track() as claude:
        api.client().messages.create(model="claude-sonnet-4-5", max_tokens=800, messages=[
            {"role": "user", "content": "x"}])
    assert claude.cache_read_tokens and claude.cache_write_tokens
    claude_estimate = estimate_cost(provider="anthropic", model="claude-sonnet-4-5", input_tokens=claude.input_tokens,
                                    max_output_tokens=claude.output_tokens)
    assert claude_estimate.low_usd <= claude.total_usd <= claude_estimate.high_usd

    # Anthropic caches only what a request marks: without a marker the floor is the full input price.
    system = "You are a meticulous support agent for Acme. " * 200
    plain = {"model": "claude-sonnet-4-5", "max_tokens": 100, "system": system,
             "messages": [{"role": "user", "content": "Where is my order?"}]}
    marked = {**plain, "system": [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}]}
    unmarked, cached = (estimate_cost(provider="anthropic", model="claude-sonnet-4-5", messages=m)
                        for m in (plain, marked))
    assert cached.input_tokens_low == unmarked.input_tokens_low
    assert cached.low_usd is not None and unmarked.low_usd is not None
    assert cached.low_usd == pytest.approx(unmarked.low_usd / 10)  # cache reads at a tenth of the input price
    assert cached.high_usd is not None and unmarked.high_usd is not None and cached.high_usd > unmarked.high_usd


def test_unpriced_models_are_said_so_never_zero(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="otel_llm_cost.pricing"):
        estimate = estimate_cost(provider="openai", model="gpt-7-preview", messages="Hello there")
    assert estimate.low_usd is None and estimate.high_usd is None and estimate.price_row is None
    assert estimate.unpriced_reason is not None and estimate.unpriced_reason.startswith("unknown_model: ")
    assert "gpt-7-preview" in estimate.unpriced_reason
    assert estimate.input_tokens_high >= estimate.input_tokens_low == 2
    assert "no price for model 'gpt-7-preview'" in caplog.text


def test_bad_input_names_the_argument() -> None:
    with pytest.raises(ValueError, match=r"messages=.*input_tokens="):
        estimate_cost(provider="openai", model="gpt-4o-mini")
    with pytest.raises(ValueError, match=r"input_tokens must be a whole number >= 0, not -5"):
        estimate_cost(provider="openai", model="gpt-4o-mini", input_tokens=-5)
    with pytest.raises(ValueError, match=r"max_output_tokens must be a whole number >= 0, not 1\.5"):
        estimate_cost(provider="openai", model="gpt-4o-mini", input_tokens=5, max_output_tokens=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not int"):
        estimate_cost(provider="openai", model="gpt-4o-mini", messages=42)


def test_service_tier_and_date_of_the_request_are_priced() -> None:
    base = {"model": "gpt-5", "input": "Summarise the attached notes.", "max_output_tokens": 1000}
    standard, flex = (estimate_cost(provider="openai", model="gpt-5", messages={**base, "service_tier": tier})
                      for tier in ("default", "flex"))
    assert flex.high_usd is not None and standard.high_usd is not None
    assert flex.high_usd == pytest.approx(standard.high_usd / 2)
    assert flex.price_row is not None and "flex tier" in flex.price_row
    # Claude Sonnet 4.6's long-context premium (over 200k input tokens) ended on 2026-03-13.
    before, after = (estimate_cost(provider="anthropic", model="claude-sonnet-4-6", input_tokens=300_000,
                                   max_output_tokens=1000, at=datetime(2026, month, day, tzinfo=timezone.utc))
                     for month, day in ((3, 1), (11, 20)))
    assert before.low_usd is not None and after.low_usd is not None and before.low_usd > after.low_usd


def test_estimates_use_the_same_prices_as_finished_calls() -> None:
    book = PriceBook()

    def cost(**usage: int) -> float:
        priced = book.cost("anthropic", "claude-haiku-4-5", Usage(**usage))
        assert priced
        return priced.total

    # A bare token count may hit the cache: from all cache reads to all 1-hour cache writes.
    known = estimate_cost(provider="anthropic", model="claude-haiku-4-5", input_tokens=1000, max_output_tokens=0)
    assert known.low_usd == cost(input_tokens=1000, cache_read_tokens=1000, output_tokens=0)
    assert known.high_usd == cost(input_tokens=1000, cache_write_tokens=1000, cache_write_1h_tokens=1000,
                                  output_tokens=0)
    # A request without cache markers cannot: plain input, and the output bound at the output price.
    plain = estimate_cost(provider="anthropic", model="claude-haiku-4-5",
                          messages={"messages": [{"role": "user", "content": "Say hello."}], "max_tokens": 50})
    assert plain.low_usd == cost(input_tokens=plain.input_tokens_low, output_tokens=0)
    assert plain.high_usd == cost(input_tokens=plain.input_tokens_high, output_tokens=50)


# -- counting input tokens ------------------------------------------------------------------------------

def test_without_a_loadable_tiktoken_encoding_the_documented_bound_is_used(tmp_path: Any) -> None:
    """tiktoken is installed (dev extra) but cannot fetch its encoding: every proxy points at a closed port."""
    code = ("import logging, sys; logging.basicConfig(level=logging.INFO, stream=sys.stdout)\n"
            "import tiktoken\n"
            "from otel_llm_cost.pricing.request_tokens import count_request\n"
            "say = [{'role': 'user', 'content': 'Say this is a test'}]\n"
            "r = count_request('openai', 'gpt-4o-mini', {'messages': say})\n"
            "print('RESULT', r.low, r.high, r.counted_by)\n")
    env = {**os.environ, "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
           "TIKTOKEN_CACHE_DIR": str(tmp_path)}
    env.pop("NO_PROXY", None)
    env.pop("no_proxy", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "tiktoken encoding 'o200k_base' not available" in out.stdout
    # "Say this is a test": 5 words; 18 bytes + "user" 4 bytes + one message (8) + the request (16)
    assert "RESULT 5 46 bound" in out.stdout


def test_a_loaded_tiktoken_encoding_counts_openai_models_only(monkeypatch: pytest.MonkeyPatch) -> None:
    tiktoken = pytest.importorskip("tiktoken")
    # A real tiktoken Encoding made offline: every byte one token, words split apart.
    encoding = tiktoken.Encoding(name="bytes-offline", pat_str=r"\S+|\s+",
                                 mergeable_ranks={bytes([i]): i for i in range(256)}, special_tokens={})
    monkeypatch.setattr(request_tokens, "_loaders", {})
    monkeypatch.setattr(request_tokens, "_load_encoding", lambda name: encoding)
    request = {"messages": [{"role": "user", "content": "héllo wörld"}]}
    counted = request_tokens.count_request("openai", "gpt-4o-mini", request)
    assert counted.counted_by == "tiktoken:bytes-offline"
    assert counted.low == len("héllo wörld".encode())
    assert counted.high == len("héllo wörld".encode()) + 4 + request_tokens.MESSAGE_OVERHEAD + \
        request_tokens.REQUEST_OVERHEAD
    assert request_tokens.count_request("anthropic", "claude-haiku-4-5", request).counted_by == "bound"


def test_images_tools_and_cache_markers_are_bounded() -> None:
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo" * 5000}}
    request = {"system": [{"type": "text", "text": "Describe.", "cache_control": {"type": "ephemeral"}}],
               "tools": [{"name": "lookup", "input_schema": {"type": "object"}}],
               "messages": [{"role": "user", "content": [image, {"type": "text", "text": "What is this?"}]}]}
    counted = request_tokens.count_request("anthropic", "claude-haiku-4-5", request)
    assert counted.cache_marked
    assert counted.low == 4  # Describe, What, is, this
    tool_json = len(json.dumps(request["tools"]))
    assert counted.high == (len("Describe.") + len("text") * 2 + len("user") + len("What is this?") + tool_json
                            + 2 * request_tokens.MESSAGE_OVERHEAD + request_tokens.REQUEST_OVERHEAD
                            + request_tokens.TOOL_OVERHEAD + request_tokens.ANTHROPIC_TOOL_PROMPT
                            + request_tokens.IMAGE_TOKENS)
    with_bash = {**request, "tools": [*request["tools"], {"type": "bash_20250124", "name": "bash"}]}
    bash_json = len(json.dumps(with_bash["tools"])) - tool_json
    assert request_tokens.count_request("anthropic", "claude-haiku-4-5", with_bash).high == counted.high + bash_json \
        + request_tokens.TOOL_OVERHEAD + request_tokens.BUILTIN_TOOL_TOKENS


def test_sdk_objects_in_the_conversation_are_counted_like_their_json() -> None:
    """An application often sends back the SDK's own answer objects (pydantic models) as the next turn."""
    answer = anthropic.types.Message.model_validate({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
        "content": [{"type": "text", "text": "Paris is the capital of France."}], "stop_reason": "end_turn",
        "stop_sequence": None, "usage": {"input_tokens": 12, "output_tokens": 9}})
    as_objects = [{"role": "user", "content": "Capital of France?"},
                  {"role": "assistant", "content": answer.content}, {"role": "user", "content": "And Spain?"}]
    as_json = [{**m, "content": [b.model_dump(exclude_none=True) for b in answer.content]}
               if m["role"] == "assistant" else m for m in as_objects]
    objects, plain = (request_tokens.count_request("anthropic", "claude-haiku-4-5", request_tokens.request_of(m))
                      for m in (as_objects, as_json))
    assert objects == plain
    assert objects.low == 3 + 6 + 2  # Capital of France / Paris is the capital of France / And Spain
