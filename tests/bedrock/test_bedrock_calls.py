"""Bedrock calls through real boto3 against the local fake: what the app gets back is what boto3 gives it, every
call is recorded once with the usage it reported, and bad answers are errors or unpriced, never $0."""

from __future__ import annotations

import gc
import io
import json
import logging
import threading
from typing import Any

import boto3
import botocore
import pytest
from botocore.eventstream import EventStream
from botocore.exceptions import ClientError, EventStreamError
from botocore.response import StreamingBody
from botocore.stub import Stubber
from fake_bedrock import MESSAGES, FakeBedrock, botocore_knows, client, wire

import otel_llm_cost
from otel_llm_cost.core.calls import RUNTIME
from telemetry_fixtures import Otel

CLAUDE = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
NOVA = "amazon.nova-lite-v1:0"
USAGE = {"inputTokens": 40, "outputTokens": 12}


def _span(otel: Otel) -> Any:
    (span,) = otel.finished()
    return span


def test_converse_span_facts(otel: Otel, fake: FakeBedrock) -> None:
    fake.answer("converse", wire.converse_body("ok", USAGE, stop_reason="max_tokens"))
    response = client(fake, region="eu-west-1").converse(
        modelId=NOVA, messages=MESSAGES,
        inferenceConfig={"maxTokens": 12, "temperature": 0.2, "topP": 0.9, "stopSequences": ["##"]})
    assert response["output"]["message"]["content"] == [{"text": "ok"}]
    attrs = _span(otel).attributes
    assert attrs["gen_ai.provider.name"] == "aws.bedrock"
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.request.model"] == NOVA
    assert attrs["server.address"] == "127.0.0.1"
    assert attrs["server.port"] == fake.port
    assert attrs["cloud.region"] == "eu-west-1"
    assert attrs["gen_ai.request.max_tokens"] == 12
    assert attrs["gen_ai.request.temperature"] == 0.2
    assert attrs["gen_ai.request.top_p"] == 0.9
    assert attrs["gen_ai.request.stop_sequences"] == ("##",)
    assert attrs["gen_ai.response.finish_reasons"] == ("max_tokens",)
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (40, 12)
    assert attrs["gen_ai.usage.cost.amount"] > 0
    provider = {"gen_ai.provider.name": "aws.bedrock"}
    assert otel.metric_sum("gen_ai.client.inference.usage.input_tokens", **provider) == 40


def test_default_endpoint_names_the_regional_host() -> None:
    """A client without endpoint_url: server.address is Bedrock's regional host (answered by botocore's Stubber)."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    otel_llm_cost.instrument(tracer_provider=provider)
    try:
        bedrock = boto3.client("bedrock-runtime", region_name="ap-northeast-1", aws_access_key_id="a",
                               aws_secret_access_key="b")
        with Stubber(bedrock) as stub:
            stub.add_response("converse", wire.converse_body("ok", USAGE))
            bedrock.converse(modelId=NOVA, messages=MESSAGES)
    finally:
        otel_llm_cost.uninstrument()
    (span,) = spans.get_finished_spans()
    assert span.attributes["server.address"] == "bedrock-runtime.ap-northeast-1.amazonaws.com"
    assert "server.port" not in span.attributes


def test_invoke_model_body_reads_as_before(otel: Otel, fake: FakeBedrock) -> None:
    body = {"id": "msg_bdrk_7", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
            "content": [{"type": "text", "text": "Nile"}], "stop_reason": "end_turn",
            "usage": {"input_tokens": 30, "cache_read_input_tokens": 500, "cache_creation_input_tokens": 100,
                      "output_tokens": 9}}
    fake.answer("invoke", body, headers=wire.token_headers(30, 9, 500, 100))
    response = client(fake).invoke_model(modelId=CLAUDE, body=json.dumps({"messages": []}))
    assert isinstance(response["body"], StreamingBody)
    assert json.loads(response["body"].read()) == body
    assert response["body"].read() == b""  # one-shot, as boto3's own
    attrs = _span(otel).attributes
    assert attrs["gen_ai.response.model"] == "claude-sonnet-4-5-20250929"
    assert attrs["gen_ai.response.id"] == "msg_bdrk_7"
    assert attrs["gen_ai.usage.input_tokens"] == 630
    assert (attrs["gen_ai.usage.cache_read.input_tokens"], attrs["gen_ai.usage.cache_write.input_tokens"]) == (500, 100)


@pytest.mark.parametrize(("model", "body"), [
    ("mistral.mistral-large-2402-v1:0", {"outputs": [{"text": "Nile", "stop_reason": "stop"}]}),
    ("cohere.command-r-plus-v1:0", {"text": "Nile", "finish_reason": "COMPLETE", "generation_id": "g1"}),
    ("us.deepseek.r1-v1:0", {"choices": [{"text": "Nile", "stop_reason": "stop"}]}),
])
def test_any_model_is_counted_from_the_token_headers(otel: Otel, fake: FakeBedrock, model: str,
                                                     body: dict[str, Any]) -> None:
    fake.answer("invoke", body, headers=wire.token_headers(21, 4))
    client(fake).invoke_model(modelId=model, body=json.dumps({"prompt": "hi"}))
    attrs = _span(otel).attributes
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (21, 4)
    assert attrs["gen_ai.response.finish_reasons"]


def test_gpt_oss_openai_shaped_body(otel: Otel, fake: FakeBedrock) -> None:
    fake.answer("invoke", {"id": "chatcmpl-1", "model": "openai.gpt-oss-120b-1:0", "object": "chat.completion",
                           "choices": [{"index": 0, "message": {"role": "assistant", "content": "Nile"},
                                        "finish_reason": "stop"}],
                           "usage": {"prompt_tokens": 70, "completion_tokens": 20, "total_tokens": 90}})
    client(fake).invoke_model(modelId="openai.gpt-oss-120b-1:0", body=json.dumps({"messages": []}))
    attrs = _span(otel).attributes
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (70, 20)
    # 70 x 0.15 + 20 x 0.6 = 10.5 + 12 = 22.5 / 1M
    assert attrs["gen_ai.usage.cost.amount"] == pytest.approx(22.5e-6)


def test_converse_stream_is_botocores_event_stream(otel: Otel, fake: FakeBedrock) -> None:
    fake.answer("converse-stream", wire.converse_stream("Nile Amazon Yangtze", USAGE,
                                                        serviceTier={"type": "flex"}))
    response = client(fake).converse_stream(modelId=NOVA, messages=MESSAGES)
    assert isinstance(response["stream"], EventStream)
    text = "".join(e["contentBlockDelta"]["delta"]["text"] for e in response["stream"] if "contentBlockDelta" in e)
    assert text == "Nile Amazon Yangtze "
    attrs = _span(otel).attributes
    assert attrs["gen_ai.request.stream"] is True
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (40, 12)
    if botocore_knows("ConverseStream", "ConverseStreamMetadataEvent", "serviceTier"):
        assert attrs["llm_cost.service_tier"] == "flex"
    assert attrs["gen_ai.response.finish_reasons"] == ("end_turn",)
    assert "gen_ai.response.time_to_first_chunk" in attrs


def test_invoke_stream_of_any_model_uses_invocation_metrics(otel: Otel, fake: FakeBedrock) -> None:
    fake.answer("invoke-with-response-stream", [
        wire.chunk({"outputs": [{"text": "Nile", "stop_reason": None}]}),
        wire.chunk({"outputs": [{"text": "", "stop_reason": "stop"}],
                    "amazon-bedrock-invocationMetrics": wire.invocation_metrics(33, 5)})])
    response = client(fake).invoke_model_with_response_stream(modelId="mistral.mistral-large-2402-v1:0",
                                                               body=json.dumps({"prompt": "hi"}))
    chunks = [json.loads(e["chunk"]["bytes"]) for e in response["body"]]
    assert chunks[0]["outputs"][0]["text"] == "Nile"
    attrs = _span(otel).attributes
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (33, 5)
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)


@pytest.mark.skipif(not botocore_knows("InvokeModel", "InvokeModelRequest", "serviceTier"),
                    reason="this botocore has no service tiers")
def test_service_tier_from_request_and_header(otel: Otel, fake: FakeBedrock) -> None:
    fake.answer("invoke", {"generation": "x", "prompt_token_count": 3, "generation_token_count": 1},
                headers={**wire.token_headers(3, 1), "X-Amzn-Bedrock-Service-Tier": "priority"})
    client(fake).invoke_model(modelId="meta.llama3-1-70b-instruct-v1:0", body=b"{}", serviceTier="priority")
    assert _span(otel).attributes["llm_cost.service_tier"] == "priority"


@pytest.mark.parametrize(("arn", "reason"), [
    ("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6", "application_profile"),
    ("arn:aws:bedrock:us-east-1:123456789012:provisioned-model/7k3q9x2m1abc", "provisioned_throughput")])
def test_account_resource_arns_are_unpriced_with_their_own_reason(otel: Otel, fake: FakeBedrock, arn: str,
                                                                   reason: str,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="otel_llm_cost.pricing")  # the CLI's tests quieten it
    fake.answer("converse", wire.converse_body("ok", USAGE))
    client(fake).converse(modelId=arn, messages=MESSAGES)
    attrs = _span(otel).attributes
    assert "gen_ai.usage.cost.amount" not in attrs
    assert attrs["llm_cost.unpriced_reason"] == reason
    assert attrs["gen_ai.usage.input_tokens"] == 40
    assert otel.metric_sum("gen_ai.client.operation.unpriced", **{"gen_ai.request.model": arn,
                                                                  "llm_cost.unpriced_reason": reason}) == 1
    # the one warning names the ARN and the alias that prices it
    assert f'[[alias]] provider = "aws.bedrock", model = "{arn}"' in caplog.text


# --- bad answers: the app sees exactly what boto3 gives it ---------------------------------------------------


def test_throttling_reaches_the_app_unchanged(otel: Otel, fake: FakeBedrock) -> None:
    fake.throttle("converse")
    with pytest.raises(ClientError) as caught:
        client(fake).converse(modelId=NOVA, messages=MESSAGES)
    assert caught.value.response["Error"]["Code"] == "ThrottlingException"
    assert type(caught.value).__name__ == "ThrottlingException"
    attrs = _span(otel).attributes
    assert attrs["error.type"] == "botocore.ThrottlingException"
    assert "llm_cost.unpriced_reason" not in attrs  # nothing billed
    assert otel.metric_sum("gen_ai.client.operation.unpriced") == 0


def test_body_without_usage_is_unpriced_never_zero(otel: Otel, fake: FakeBedrock) -> None:
    fake.answer("invoke", {"outputs": [{"text": "Nile", "stop_reason": "stop"}]})  # no token headers either
    response = client(fake).invoke_model(modelId="mistral.mistral-large-2402-v1:0", body=b"{}")
    assert json.loads(response["body"].read())["outputs"][0]["text"] == "Nile"
    attrs = _span(otel).attributes
    assert "gen_ai.usage.cost.amount" not in attrs
    assert attrs["llm_cost.unpriced_reason"] == "no_usage"
    assert otel.metric_sum("gen_ai.client.operation.unpriced") == 1


def test_body_that_is_not_json_is_handed_back(otel: Otel, fake: FakeBedrock) -> None:
    fake.answer("invoke", b"\x89PNG not json", headers={"Content-Type": "application/json",
                                                         **wire.token_headers(5, 2)})
    response = client(fake).invoke_model(modelId="mistral.mistral-large-2402-v1:0", body=b"{}")
    assert response["body"].read() == b"\x89PNG not json"
    assert _span(otel).attributes["gen_ai.usage.input_tokens"] == 5


def test_malformed_frame_raises_botocores_error(otel: Otel, fake: FakeBedrock) -> None:
    good = wire.converse_stream("Nile", USAGE)
    broken = bytearray(good[1])
    broken[-1] ^= 0xFF  # the message CRC no longer matches
    fake.answer("converse-stream", [good[0], bytes(broken), *good[2:]])
    response = client(fake).converse_stream(modelId=NOVA, messages=MESSAGES)
    with pytest.raises(botocore.eventstream.ChecksumMismatch):
        list(response["stream"])
    attrs = _span(otel).attributes
    assert attrs["error.type"] == "botocore.ChecksumMismatch"
    assert "gen_ai.usage.cost.amount" not in attrs


def test_in_stream_exception_raises_event_stream_error(otel: Otel, fake: FakeBedrock) -> None:
    events = wire.converse_stream("Nile", USAGE)
    fake.answer("converse-stream", [*events[:2], wire.exception("modelStreamErrorException", "model failed")])
    response = client(fake).converse_stream(modelId=NOVA, messages=MESSAGES)
    seen = []
    with pytest.raises(EventStreamError) as caught:
        for event in response["stream"]:
            seen.append(event)
    assert len(seen) == 2
    assert caught.value.response["Error"]["Code"] == "modelStreamErrorException"
    assert _span(otel).attributes["error.type"] == "botocore.EventStreamError"


def test_abandoned_stream_is_finished_once_with_what_was_seen(otel: Otel, fake: FakeBedrock) -> None:
    start = {"type": "message_start", "message": {"id": "m1", "model": "claude-sonnet-4-5-20250929",
                                                  "usage": {"input_tokens": 80, "output_tokens": 1}}}
    fake.answer("invoke-with-response-stream", [
        wire.chunk(start), wire.chunk({"type": "content_block_delta", "delta": {"text": "Nile"}}),
        wire.chunk({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 9},
                    "amazon-bedrock-invocationMetrics": wire.invocation_metrics(80, 9)})])
    response = client(fake).invoke_model_with_response_stream(modelId=CLAUDE, body=b"{}")
    first = next(iter(response["body"]))
    assert json.loads(first["chunk"]["bytes"])["type"] == "message_start"
    del response, first
    gc.collect()
    attrs = _span(otel).attributes
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (80, 1)
    assert otel.metric_sum("gen_ai.client.inference.usage.input_tokens") == 80


def test_closed_stream_is_finished_once(otel: Otel, fake: FakeBedrock) -> None:
    fake.answer("converse-stream", wire.converse_stream("Nile", USAGE))
    response = client(fake).converse_stream(modelId=NOVA, messages=MESSAGES)
    response["stream"].close()
    response["stream"].close()
    attrs = _span(otel).attributes
    assert attrs["llm_cost.unpriced_reason"] == "no_usage"  # closed before the usage event: nothing invented
    assert otel.metric_sum("gen_ai.client.operation.unpriced") == 1


def test_instrumentation_failure_never_reaches_the_app(otel: Otel, fake: FakeBedrock,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from otel_llm_cost.providers import bedrock

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("bug in the instrumentation")

    monkeypatch.setattr(bedrock.BedrockAdapter, "read_result", broken)
    monkeypatch.setattr(bedrock.BedrockAdapter, "read_item", broken)
    fake.answer("converse", wire.converse_body("ok", USAGE))
    fake.answer("converse-stream", wire.converse_stream("Nile", USAGE))
    bedrock_client = client(fake)
    assert bedrock_client.converse(modelId=NOVA, messages=MESSAGES)["usage"]["inputTokens"] == 40
    assert len(list(bedrock_client.converse_stream(modelId=NOVA, messages=MESSAGES)["stream"])) == 5
    assert len(otel.finished()) == 2


# --- scope: other services, clients made before instrument(), uninstrument -------------------------------------


def test_other_services_and_operations_pass_through(otel: Otel) -> None:
    sts = boto3.client("sts", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    with Stubber(sts) as stub:
        stub.add_response("get_caller_identity", {"UserId": "u", "Account": "123456789012",
                                                  "Arn": "arn:aws:iam::123456789012:user/app"})
        assert sts.get_caller_identity()["Account"] == "123456789012"
    bedrock = boto3.client("bedrock-runtime", region_name="us-east-1", aws_access_key_id="a",
                           aws_secret_access_key="b")
    if hasattr(bedrock, "count_tokens"):  # not billable: no record
        with Stubber(bedrock) as stub:
            stub.add_response("count_tokens", {"inputTokens": 12})
            bedrock.count_tokens(modelId=NOVA, input={"converse": {"messages": MESSAGES}})
    assert otel.finished() == []


def test_clients_made_before_instrument_and_uninstrument(fake: FakeBedrock, otel: Otel) -> None:
    fake.answer("converse", wire.converse_body("ok", USAGE), always=True)
    otel_llm_cost.uninstrument()
    early = client(fake)
    early.converse(modelId=NOVA, messages=MESSAGES)
    assert otel.finished() == []
    otel.reinstrument()
    early.converse(modelId=NOVA, messages=MESSAGES)
    client(fake).converse(modelId=NOVA, messages=MESSAGES)
    assert len(otel.finished()) == 2
    otel_llm_cost.uninstrument()
    early.converse(modelId=NOVA, messages=MESSAGES)
    assert len(otel.finished()) == 2
    otel.reinstrument()


def test_exact_totals_under_threads(otel: Otel, fake: FakeBedrock) -> None:
    fake.answer("converse", wire.converse_body("ok", USAGE), always=True)
    fake.answer("converse-stream", wire.converse_stream("Nile", USAGE), always=True)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            mine = client(fake)
            for _ in range(5):
                mine.converse(modelId=NOVA, messages=MESSAGES)
                list(mine.converse_stream(modelId=NOVA, messages=MESSAGES)["stream"])
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(otel.finished()) == 80
    assert otel.metric_sum("gen_ai.client.inference.usage.input_tokens") == 80 * 40
    assert otel.metric_sum("gen_ai.client.inference.usage.output_tokens") == 80 * 12
    assert RUNTIME.telemetry is not None


def test_stubbed_invoke_model_body(otel: Otel) -> None:
    """botocore's Stubber hands back the StreamingBody given to it: it is read once and replaced by an equal one."""
    bedrock = boto3.client("bedrock-runtime", region_name="us-east-1", aws_access_key_id="a",
                           aws_secret_access_key="b")
    raw = json.dumps({"embedding": [0.5], "inputTextTokenCount": 17}).encode()
    with Stubber(bedrock) as stub:
        stub.add_response("invoke_model", {"body": StreamingBody(io.BytesIO(raw), len(raw)),
                                           "contentType": "application/json"})
        response = bedrock.invoke_model(modelId="amazon.titan-embed-text-v2:0", body=b"{}")
    assert response["body"].read() == raw
    assert _span(otel).attributes["gen_ai.usage.input_tokens"] == 17


def test_application_inference_profile_priced_through_an_alias(otel: Otel, fake: FakeBedrock,
                                                               tmp_path: Any) -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6"
    prices = tmp_path / "prices.toml"
    prices.write_text(f'[[alias]]\nprovider = "aws.bedrock"\nmodel = "{arn}"\nmaps_to = "amazon.nova-pro-v1:0"\n')
    otel.reinstrument(prices_file=str(prices))
    fake.answer("converse", wire.converse_body("ok", {"inputTokens": 1000, "outputTokens": 200}))
    client(fake).converse(modelId=arn, messages=MESSAGES)
    # Nova Pro: 1000 x 0.8 + 200 x 3.2 = 1440 / 1M
    assert _span(otel).attributes["gen_ai.usage.cost.amount"] == pytest.approx(0.00144)


def test_body_read_failure_reaches_the_app_when_it_reads(otel: Otel) -> None:
    """A body whose download fails inside our read: the app's own read raises that same error, the call is failed."""
    from urllib3.exceptions import ReadTimeoutError

    class Dropped(io.RawIOBase):
        def read(self, size: int | None = -1) -> bytes:
            raise ReadTimeoutError(None, "bedrock-runtime", "Read timed out.")  # type: ignore[arg-type]

    bedrock = boto3.client("bedrock-runtime", region_name="us-east-1", aws_access_key_id="a",
                           aws_secret_access_key="b")
    with Stubber(bedrock) as stub:
        stub.add_response("invoke_model", {"body": StreamingBody(Dropped(), 120), "contentType": "application/json"})
        response = bedrock.invoke_model(modelId=NOVA, body=b"{}")
    with pytest.raises(botocore.exceptions.ReadTimeoutError):  # what botocore's own read raises for it
        response["body"].read()
    attrs = _span(otel).attributes
    assert attrs["error.type"] == "botocore.ReadTimeoutError"
    assert "gen_ai.usage.cost.amount" not in attrs
