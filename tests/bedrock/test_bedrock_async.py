"""aiobotocore (and aioboto3 over it) clients: the same Bedrock calls, awaited, against the local fake.

aiobotocore pins botocore to a narrow window, so it cannot share the main test venv with the newest boto3;
scripts/test-compat-aiobotocore.sh runs this file (and the rest of tests/bedrock) in its own venv."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

aiobotocore = pytest.importorskip("aiobotocore")

from aiobotocore.config import AioConfig  # noqa: E402
from aiobotocore.eventstream import AioEventStream  # noqa: E402
from aiobotocore.session import get_session  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from fake_bedrock import MESSAGES, FakeBedrock, wire  # noqa: E402

from telemetry_fixtures import Otel  # noqa: E402

NOVA = "amazon.nova-pro-v1:0"
USAGE = {"inputTokens": 1000, "outputTokens": 200}
NOVA_COST = 0.00144  # 1000 x 0.8 + 200 x 3.2 = 1440 / 1M


def _run(fake: FakeBedrock, work: Callable[[Any], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        async with get_session().create_client(
                "bedrock-runtime", region_name="us-west-2", endpoint_url=fake.url, aws_access_key_id="a",
                aws_secret_access_key="b", config=AioConfig(retries={"total_max_attempts": 1})) as client:
            return await work(client)

    return asyncio.run(main())


def _span(otel: Otel) -> Any:
    (span,) = otel.finished()
    return span


def test_converse(otel: Otel, fake: FakeBedrock) -> None:
    fake.answer("converse", wire.converse_body("Paris", USAGE))
    response = _run(fake, lambda c: c.converse(modelId=NOVA, messages=MESSAGES))
    assert response["output"]["message"]["content"] == [{"text": "Paris"}]
    attrs = _span(otel).attributes
    assert attrs["gen_ai.provider.name"] == "aws.bedrock"
    assert attrs["cloud.region"] == "us-west-2"
    assert attrs["gen_ai.usage.cost.amount"] == pytest.approx(NOVA_COST)


def test_converse_stream(otel: Otel, fake: FakeBedrock) -> None:
    fake.answer("converse-stream", wire.converse_stream("Paris is the capital", USAGE))

    async def work(client: Any) -> list[Any]:
        response = await client.converse_stream(modelId=NOVA, messages=MESSAGES)
        assert isinstance(response["stream"], AioEventStream)
        return [event async for event in response["stream"]]

    events = _run(fake, work)
    assert list(events[-1]) == ["metadata"]
    assert _span(otel).attributes["gen_ai.usage.cost.amount"] == pytest.approx(NOVA_COST)


def test_stream_closed_early_with_its_own_sync_close(otel: Otel, fake: FakeBedrock) -> None:
    fake.answer("converse-stream", wire.converse_stream("Paris is the capital", USAGE))

    async def work(client: Any) -> Any:
        response = await client.converse_stream(modelId=NOVA, messages=MESSAGES)
        async for _ in response["stream"]:
            break
        return response["stream"].close()  # aiobotocore's close is a plain call

    assert _run(fake, work) is None
    assert _span(otel).attributes["llm_cost.unpriced_reason"] == "no_usage"
    assert otel.metric_sum("gen_ai.client.operation.unpriced") == 1


def test_invoke_model_counted_from_headers_body_untouched(otel: Otel, fake: FakeBedrock) -> None:
    body = {"output": {"message": {"role": "assistant", "content": [{"text": "Paris"}]}}, "stopReason": "end_turn",
            "usage": {"inputTokens": 1000, "outputTokens": 200, "totalTokens": 1200}}
    fake.answer("invoke", body, headers=wire.token_headers(1000, 200))

    async def work(client: Any) -> Any:
        response = await client.invoke_model(modelId=NOVA, body=json.dumps({"messages": []}))
        return json.loads(await response["body"].read())

    assert _run(fake, work) == body
    assert _span(otel).attributes["gen_ai.usage.cost.amount"] == pytest.approx(NOVA_COST)


def test_invoke_model_stream(otel: Otel, fake: FakeBedrock) -> None:
    fake.answer("invoke-with-response-stream", [
        wire.chunk({"contentBlockDelta": {"delta": {"text": "Paris"}, "contentBlockIndex": 0}}),
        wire.chunk({"messageStop": {"stopReason": "end_turn"},
                    "amazon-bedrock-invocationMetrics": wire.invocation_metrics(1000, 200)})])

    async def work(client: Any) -> int:
        response = await client.invoke_model_with_response_stream(modelId=NOVA, body=b"{}")
        return len([event async for event in response["body"]])

    assert _run(fake, work) == 2
    assert _span(otel).attributes["gen_ai.usage.cost.amount"] == pytest.approx(NOVA_COST)


def test_throttling_reaches_the_app_unchanged(otel: Otel, fake: FakeBedrock) -> None:
    fake.throttle("converse")
    with pytest.raises(ClientError) as caught:
        _run(fake, lambda c: c.converse(modelId=NOVA, messages=MESSAGES))
    assert caught.value.response["Error"]["Code"] == "ThrottlingException"
    assert _span(otel).attributes["error.type"] == "botocore.ThrottlingException"
