"""The demo's simulated provider, through the real openai and anthropic SDKs (no instrumentation): the bodies
parse into the SDKs' own types, usage follows each API's accounting, errors become the SDKs' exceptions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import anthropic
import openai
from otel_llm_cost.demo.simulated_provider import ERROR_HEADER, SimulatedProviderServer, estimate_tokens
from otel_llm_cost.demo.workload import SUPPORT_POLICY


@pytest.fixture
def server() -> Iterator[SimulatedProviderServer]:
    with SimulatedProviderServer(seed=3, latency_scale=0.0) as running:
        assert running.base_url.startswith("http://127.0.0.1:")
        yield running


def clients(server: SimulatedProviderServer) -> tuple[openai.OpenAI, anthropic.Anthropic]:
    return (openai.OpenAI(base_url=f"{server.base_url}/v1", api_key="sk-sim", max_retries=0),
            anthropic.Anthropic(base_url=server.base_url, api_key="sk-ant-sim", max_retries=0))


def test_openai_chat_caches_a_repeated_long_system_prompt(server: SimulatedProviderServer) -> None:
    oai, _ = clients(server)
    messages = [{"role": "system", "content": SUPPORT_POLICY}, {"role": "user", "content": "Where is my refund?"}]
    first = oai.chat.completions.create(model="gpt-4o-mini", messages=messages, max_tokens=200)  # type: ignore[arg-type]
    second = oai.chat.completions.create(model="gpt-4o-mini", messages=messages, max_tokens=200)  # type: ignore[arg-type]
    assert first.model == "gpt-4o-mini-2024-07-18" and first.choices[0].finish_reason == "stop"
    assert first.usage is not None and second.usage is not None
    assert first.usage.prompt_tokens == second.usage.prompt_tokens > estimate_tokens(SUPPORT_POLICY)
    assert first.usage.prompt_tokens_details.cached_tokens == 0  # type: ignore[union-attr]
    cached = second.usage.prompt_tokens_details.cached_tokens  # type: ignore[union-attr]
    assert cached and cached % 128 == 0 and 1024 <= cached <= second.usage.prompt_tokens  # inside prompt_tokens
    assert 8 <= first.usage.completion_tokens <= 200


def test_openai_stream_reports_usage_only_when_asked(server: SimulatedProviderServer) -> None:
    oai, _ = clients(server)
    plain = list(oai.chat.completions.create(model="gpt-4o-mini", stream=True,
                                             messages=[{"role": "user", "content": "hi"}]))
    assert all(chunk.usage is None for chunk in plain) and plain[-1].choices[0].finish_reason == "stop"
    asked = list(oai.chat.completions.create(model="o4-mini", stream=True, stream_options={"include_usage": True},
                                             messages=[{"role": "user", "content": "hi"}]))
    last = asked[-1]
    assert last.choices == [] and last.usage is not None
    reasoning = last.usage.completion_tokens_details.reasoning_tokens  # type: ignore[union-attr]
    assert reasoning and 0 < reasoning < last.usage.completion_tokens  # inside completion_tokens


def test_openai_responses_stream_and_embeddings(server: SimulatedProviderServer) -> None:
    oai, _ = clients(server)
    with oai.responses.stream(model="gpt-5-mini", input="Explain caching", max_output_tokens=400) as stream:
        final = stream.get_final_response()
    assert final.status == "completed" and final.usage is not None and final.output_text
    assert final.usage.output_tokens_details.reasoning_tokens < final.usage.output_tokens
    vectors = oai.embeddings.create(model="text-embedding-3-small", input=["one doc", "another doc"], dimensions=32)
    assert [len(item.embedding) for item in vectors.data] == [32, 32]  # the SDK asked for base64 and decoded it
    assert vectors.usage.prompt_tokens == estimate_tokens("one doc") + estimate_tokens("another doc")


def test_anthropic_cache_write_then_read_and_thinking_stream(server: SimulatedProviderServer) -> None:
    _, ant = clients(server)
    system = [{"type": "text", "text": SUPPORT_POLICY, "cache_control": {"type": "ephemeral", "ttl": "1h"}}]
    first = ant.messages.create(model="claude-haiku-4-5", max_tokens=300, system=system,  # type: ignore[arg-type]
                                messages=[{"role": "user", "content": "q"}])
    assert first.model == "claude-haiku-4-5-20251001"
    assert first.usage.cache_creation_input_tokens == estimate_tokens(SUPPORT_POLICY)
    assert first.usage.cache_creation.ephemeral_1h_input_tokens == estimate_tokens(SUPPORT_POLICY)  # type: ignore[union-attr]
    assert first.usage.cache_read_input_tokens == 0 and first.usage.input_tokens < 20  # input EXCLUDES the cache
    with ant.messages.stream(model="claude-sonnet-4-6", max_tokens=3000, system=system,  # type: ignore[arg-type]
                             thinking={"type": "enabled", "budget_tokens": 1500},
                             messages=[{"role": "user", "content": "q"}]) as stream:
        message = stream.get_final_message()
    assert [block.type for block in message.content] == ["thinking", "text"]
    assert message.usage.output_tokens >= 8


def test_error_header_gives_each_sdk_its_own_exception(server: SimulatedProviderServer) -> None:
    oai, ant = clients(server)
    with pytest.raises(openai.RateLimitError) as limited:
        oai.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}],
                                    extra_headers={ERROR_HEADER: "429"})
    assert limited.value.status_code == 429 and "simulated" in str(limited.value)
    with pytest.raises(openai.InternalServerError):
        oai.embeddings.create(model="text-embedding-3-small", input="x", extra_headers={ERROR_HEADER: "500"})
    with pytest.raises(anthropic.OverloadedError):
        ant.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=[{"role": "user", "content": "x"}],
                            extra_headers={ERROR_HEADER: "529"})


def test_a_client_hanging_up_prints_no_traceback(capfd: pytest.CaptureFixture[str]) -> None:
    """An app that resets the connection (e.g. closes a stream early) is normal demo traffic: the server
    must not print socketserver's traceback over the demo's progress bar; it keeps serving."""
    import socket
    import struct

    with SimulatedProviderServer(seed=3, latency_scale=0.0) as running:
        port = int(running.base_url.rsplit(":", 1)[1])
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", port)) as sock:
                sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
                # SO_LINGER 0: close() sends RST, so the server's read fails with ConnectionResetError
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        oai, _ = clients(running)
        reply = oai.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        assert reply.choices[0].message.content
    assert "Traceback" not in capfd.readouterr().err


def test_gemini_generate_and_stream_with_implicit_cache_and_thinking(server: SimulatedProviderServer) -> None:
    from google import genai
    from google.genai import errors

    client = genai.Client(api_key="sim", http_options={"base_url": server.base_url})
    config = {"system_instruction": SUPPORT_POLICY, "max_output_tokens": 300}
    first = client.models.generate_content(model="gemini-2.5-flash", contents="Where is my refund?", config=config)
    chunks = list(client.models.generate_content_stream(model="gemini-2.5-flash", contents="Where is my refund?",
                                                        config=config))
    assert first.text and first.model_version == "gemini-2.5-flash"
    assert first.usage_metadata is not None and first.usage_metadata.cached_content_token_count is None
    assert first.usage_metadata.thoughts_token_count  # a thinking model
    last = chunks[-1].usage_metadata
    assert last is not None and last.prompt_token_count == first.usage_metadata.prompt_token_count
    assert last.cached_content_token_count == estimate_tokens(SUPPORT_POLICY)  # the second time: read from cache
    assert all(c.usage_metadata.prompt_token_count == last.prompt_token_count for c in chunks)  # running totals
    with pytest.raises(errors.ClientError) as limited:
        client.models.generate_content(model="gemini-2.5-flash", contents="hi",
                                       config={"http_options": {"headers": {ERROR_HEADER: "429"}}})
    assert limited.value.code == 429 and "simulated" in str(limited.value)


def test_mistral_chat_and_fim_stream_with_cache_and_errors(server: SimulatedProviderServer) -> None:
    from mistralai.client import Mistral, errors

    from otel_llm_cost.demo.simulated_mistral import PREFIX

    client = Mistral(api_key="sim", server_url=server.base_url + PREFIX)
    messages = [{"role": "system", "content": SUPPORT_POLICY}, {"role": "user", "content": "Where is my refund?"}]
    first = client.chat.complete(model="mistral-small-latest", messages=messages, max_tokens=200)
    second = client.chat.complete(model="mistral-small-latest", messages=messages, max_tokens=200)
    assert first.choices[0].message.content and first.model == "mistral-small-latest"
    assert "prompt_tokens_details" not in first.usage.additional_properties  # nothing cached the first time
    cached = second.usage.additional_properties["prompt_tokens_details"]["cached_tokens"]
    assert cached == estimate_tokens(SUPPORT_POLICY) and second.usage.prompt_tokens > cached
    events = list(client.fim.stream(model="codestral-latest", prompt="def f(x):", suffix="return y", max_tokens=80))
    assert events[-1].data.usage is not None and events[-1].data.usage.completion_tokens > 0  # usage: last chunk
    assert all(e.data.usage is None for e in events[:-1])
    with pytest.raises(errors.SDKError) as limited:
        client.chat.complete(model="mistral-small-latest", messages=messages, http_headers={ERROR_HEADER: "429"})
    assert limited.value.status_code == 429 and "simulated" in limited.value.body
