"""Recorded-style request/response pairs whose usage is the real API's count of the request's tokens.

Each request and its usage are as the real APIs answered them (requests and usage blocks as recorded in the
OpenTelemetry Python contrib GenAI instrumentations' test cassettes, 2024-11 to 2026-02). Used to check that
``estimate_cost`` bounds contain the real input token count and the billed cost.
"""

from __future__ import annotations

from typing import Any

WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_current_weather", "description": "Get the current weather in a given location",
    "parameters": {"type": "object", "properties": {"location": {
        "type": "string", "description": "The city and state, e.g. Boston, MA"}},
        "required": ["location"], "additionalProperties": False}}}
TOOL_CALLS = [
    {"id": "call_6YvurIMPOgMo2q6V6KGJDA6g", "type": "function",
     "function": {"name": "get_current_weather", "arguments": "{\"location\": \"Seattle, WA\"}"}},
    {"id": "call_QSiqEulo25M3NtTLVbMGqY91", "type": "function",
     "function": {"name": "get_current_weather", "arguments": "{\"location\": \"San Francisco, CA\"}"}},
]
SYSTEM = {"role": "system", "content": "You're a helpful assistant."}
WEATHER_QUESTION = {"role": "user", "content": "What's the weather in Seattle and San Francisco today?"}


def openai_usage(prompt: int, completion: int) -> dict[str, Any]:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 0}}


# (request keyword arguments of chat.completions.create, usage of the answer)
OPENAI_CHAT: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say this is a test"}], "max_tokens": 50,
      "seed": 42, "temperature": 0.5, "service_tier": "default"}, openai_usage(12, 12)),
    ({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say this is a test"}], "n": 2},
     openai_usage(12, 17)),
    ({"model": "gpt-4o-mini", "messages": [SYSTEM, WEATHER_QUESTION], "tool_choice": "auto",
      "tools": [WEATHER_TOOL]}, openai_usage(75, 51)),
    ({"model": "gpt-4o-mini", "messages": [
        SYSTEM, WEATHER_QUESTION, {"role": "assistant", "tool_calls": TOOL_CALLS},
        {"role": "tool", "content": "50 degrees and raining", "tool_call_id": TOOL_CALLS[0]["id"]},
        {"role": "tool", "content": "70 degrees and sunny", "tool_call_id": TOOL_CALLS[1]["id"]}]},
     openai_usage(99, 25)),
]

# (request keyword arguments of responses.create, usage of the answer)
OPENAI_RESPONSES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"model": "gpt-4o-mini", "input": "Say this is a test", "instructions": "You are a helpful assistant."},
     {"input_tokens": 22, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 6,
      "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 28}),
]


def anthropic_usage(input_tokens: int, output_tokens: int) -> dict[str, Any]:
    return {"input_tokens": input_tokens, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
            "output_tokens": output_tokens, "service_tier": "standard", "inference_geo": "not_available"}


# (request keyword arguments of messages.create, usage of the answer)
ANTHROPIC_MESSAGES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"model": "claude-sonnet-4-20250514", "max_tokens": 50, "messages": [{"role": "user", "content": "Say hello."}],
      "stop_sequences": ["STOP"]}, anthropic_usage(10, 18)),  # (also sent temperature, top_k, top_p)
    ({"model": "claude-sonnet-4-20250514", "max_tokens": 100,
      "messages": [{"role": "user", "content": "Say hello in one word."}]}, anthropic_usage(13, 5)),
    ({"model": "claude-sonnet-4-20250514", "max_tokens": 256,
      "messages": [{"role": "user", "content": "What is the weather in SF?"}],
      "tool_choice": {"type": "tool", "name": "get_weather"},
      "tools": [{"name": "get_weather", "description": "Get weather by city", "input_schema": {
          "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]},
     anthropic_usage(386, 34)),
]
