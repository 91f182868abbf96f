"""InvokeModel request parameters from each model family's own JSON body -> the same gen_ai.request.* attributes
Converse's inferenceConfig gives; the body reaches Bedrock byte for byte whatever form it was given in."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from fake_bedrock import FakeBedrock, client, wire

from telemetry_fixtures import Otel

STOP = "gen_ai.request.stop_sequences"
# (model id, the family's body, the attributes it gives)
FAMILIES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("us.anthropic.claude-sonnet-4-5-20250929-v1:0",
     {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 300, "temperature": 0.3, "top_p": 0.8, "top_k": 40,
      "stop_sequences": ["\n\nHuman:"], "messages": [{"role": "user", "content": "hi"}]},
     {"gen_ai.request.max_tokens": 300, "gen_ai.request.temperature": 0.3, "gen_ai.request.top_p": 0.8,
      "gen_ai.request.top_k": 40, STOP: ("\n\nHuman:",)}),
    ("amazon.nova-pro-v1:0",
     {"schemaVersion": "messages-v1", "messages": [{"role": "user", "content": [{"text": "hi"}]}],
      "inferenceConfig": {"max_new_tokens": 200, "temperature": 0.5, "top_p": 0.9, "top_k": 20,
                          "stopSequences": ["END"]}},
     {"gen_ai.request.max_tokens": 200, "gen_ai.request.temperature": 0.5, "gen_ai.request.top_p": 0.9,
      "gen_ai.request.top_k": 20, STOP: ("END",)}),
    ("meta.llama3-1-70b-instruct-v1:0",
     {"prompt": "hi", "max_gen_len": 512, "temperature": 0.6, "top_p": 0.9},
     {"gen_ai.request.max_tokens": 512, "gen_ai.request.temperature": 0.6, "gen_ai.request.top_p": 0.9}),
    ("amazon.titan-text-express-v1",
     {"inputText": "hi", "textGenerationConfig": {"maxTokenCount": 256, "temperature": 0.7, "topP": 0.95,
                                                  "stopSequences": ["User:"]}},
     {"gen_ai.request.max_tokens": 256, "gen_ai.request.temperature": 0.7, "gen_ai.request.top_p": 0.95,
      STOP: ("User:",)}),
    ("mistral.mistral-large-2402-v1:0",
     {"prompt": "<s>[INST] hi [/INST]", "max_tokens": 100, "temperature": 0.1, "top_p": 0.5, "top_k": 10,
      "stop": ["</s>"]},
     {"gen_ai.request.max_tokens": 100, "gen_ai.request.temperature": 0.1, "gen_ai.request.top_p": 0.5,
      "gen_ai.request.top_k": 10, STOP: ("</s>",)}),
    ("cohere.command-r-plus-v1:0",
     {"message": "hi", "max_tokens": 80, "temperature": 0.3, "p": 0.75, "k": 5, "stop_sequences": ["--"],
      "frequency_penalty": 0.1, "presence_penalty": 0.2, "seed": 7},
     {"gen_ai.request.max_tokens": 80, "gen_ai.request.temperature": 0.3, "gen_ai.request.top_p": 0.75,
      "gen_ai.request.top_k": 5, STOP: ("--",), "gen_ai.request.frequency_penalty": 0.1,
      "gen_ai.request.presence_penalty": 0.2, "gen_ai.request.seed": 7}),
    ("openai.gpt-oss-120b-1:0",
     {"messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 64, "temperature": 1.0,
      "top_p": 1.0, "stop": "###"},
     {"gen_ai.request.max_tokens": 64, "gen_ai.request.temperature": 1.0, "gen_ai.request.top_p": 1.0,
      STOP: ("###",)}),
]
ALL_PARAMS = {name for _, _, attrs in FAMILIES for name in attrs}


def _answer(fake: FakeBedrock) -> None:
    fake.answer("invoke", {"generation": "ok", "prompt_token_count": 10, "generation_token_count": 5},
                headers=wire.token_headers(10, 5))


@pytest.mark.parametrize(("model", "body", "expected"), FAMILIES, ids=[f[0].split(".")[-2][:12] for f in FAMILIES])
@pytest.mark.parametrize("form", ["str", "bytes", "file"])
def test_body_parameters_become_request_attributes(otel: Otel, fake: FakeBedrock, model: str,
                                                   body: dict[str, Any], expected: dict[str, Any],
                                                   form: str) -> None:
    raw = json.dumps(body)
    given: Any = {"str": raw, "bytes": raw.encode(), "file": io.BytesIO(raw.encode())}[form]
    _answer(fake)
    client(fake).invoke_model(modelId=model, body=given)
    (span,) = otel.finished()
    attrs = {k: v for k, v in span.attributes.items() if k in ALL_PARAMS}
    assert attrs == expected
    assert fake.requests[-1][2] == body  # Bedrock got the whole body: nothing consumed


def test_streamed_invoke_body_parameters(otel: Otel, fake: FakeBedrock) -> None:
    fake.answer("invoke-with-response-stream", [
        wire.chunk({"generation": "ok", "prompt_token_count": 10, "generation_token_count": 5, "stop_reason": "stop",
                    "amazon-bedrock-invocationMetrics": wire.invocation_metrics(10, 5)})])
    response = client(fake).invoke_model_with_response_stream(
        modelId="meta.llama3-1-70b-instruct-v1:0", body=json.dumps({"prompt": "hi", "max_gen_len": 99}))
    list(response["body"])
    (span,) = otel.finished()
    assert span.attributes["gen_ai.request.max_tokens"] == 99


def test_a_file_body_is_read_from_where_the_caller_left_it(otel: Otel, fake: FakeBedrock) -> None:
    raw = b"PREFIX" + json.dumps({"prompt": "hi", "max_gen_len": 12}).encode()
    handle = io.BytesIO(raw)
    handle.seek(6)
    _answer(fake)
    client(fake).invoke_model(modelId="meta.llama3-1-70b-instruct-v1:0", body=handle)
    (span,) = otel.finished()
    assert span.attributes["gen_ai.request.max_tokens"] == 12
    assert fake.requests[-1][2] == {"prompt": "hi", "max_gen_len": 12}


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b"", json.dumps({"max_tokens": True}).encode()])
def test_unreadable_or_odd_bodies_give_no_parameters(otel: Otel, fake: FakeBedrock, body: bytes) -> None:
    _answer(fake)
    client(fake).invoke_model(modelId="meta.llama3-1-70b-instruct-v1:0", body=body)
    (span,) = otel.finished()
    assert not {k for k in span.attributes if k in ALL_PARAMS}
    assert span.attributes["gen_ai.usage.input_tokens"] == 10
