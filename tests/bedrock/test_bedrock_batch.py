"""Bedrock batch inference outputs: the JSONL records a job writes to S3, priced at batch rates and recorded once.

Golden costs from AWS's public prices: batch inference is 50% of the on-demand price.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import otel_llm_cost
from otel_llm_cost.cli.command import main
from otel_llm_cost.core.batches import SEEN
from telemetry_fixtures import Otel

CLAUDE_US = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
NOVA_PRO = "amazon.nova-pro-v1:0"
JOB = "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/k2x8c1v4b7n0"


@pytest.fixture(autouse=True)
def _forget_recorded_records() -> Iterator[None]:
    SEEN.keys.clear()  # each test reads its outputs afresh (the process remembers what it recorded)
    level = logging.getLogger("otel_llm_cost.pricing").level
    yield
    logging.getLogger("otel_llm_cost.pricing").setLevel(level)  # the CLI quietens it for its own run


def _claude(record_id: str, input_tokens: int, output_tokens: int, **usage: int) -> dict[str, Any]:
    """One record of a Claude job's ``.jsonl.out`` (modelOutput: the InvokeModel response body)."""
    return {"recordId": record_id,
            "modelInput": {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 1024,
                           "messages": [{"role": "user", "content": [{"type": "text", "text": "Summarise."}]}]},
            "modelOutput": {"id": f"msg_bdrk_{record_id}", "type": "message", "role": "assistant",
                            "model": "claude-sonnet-4-5-20250929",
                            "content": [{"type": "text", "text": "A summary."}], "stop_reason": "end_turn",
                            "stop_sequence": None,
                            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens, **usage}}}


def _failed(record_id: str) -> dict[str, Any]:
    return {"recordId": record_id, "modelInput": {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10,
                                                   "messages": []},
            "error": {"errorCode": 400, "errorMessage": "messages: at least one message is required"}}


def _write(tmp_path: Path, records: list[dict[str, Any]], extra: str = "") -> Path:
    path = tmp_path / "input.jsonl.out"
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + extra)
    return path


def test_claude_batch_output_at_batch_rates(otel: Otel, tmp_path: Path) -> None:
    path = _write(tmp_path, [_claude("CALL0000001", 1000, 500), _claude("CALL0000002", 2000, 100), _failed("CALL3")])
    summary = otel_llm_cost.price_batch_output(path, CLAUDE_US, job=JOB, region="us-east-1")
    # us. Claude Sonnet 4.5 on-demand $3.30 / $16.50 per 1M, batch 50%: $1.65 / $8.25
    # 1000 x 1.65 + 500 x 8.25 = 1650 + 4125 = 5775; 2000 x 1.65 + 100 x 8.25 = 3300 + 825 = 4125 / 1M
    assert summary.cost_usd == pytest.approx(0.0099)
    assert (summary.records, summary.succeeded, summary.errored, summary.recorded) == (3, 2, 1, 2)
    assert (summary.input_tokens, summary.output_tokens) == (3000, 600)
    spans = sorted(otel.finished(), key=lambda s: s.attributes["gen_ai.usage.input_tokens"])
    assert [s.attributes["gen_ai.usage.cost.amount"] for s in spans] == pytest.approx([0.005775, 0.004125])
    first = spans[0].attributes
    assert first["llm_cost.service_tier"] == "batch"
    assert first["gen_ai.provider.name"] == "aws.bedrock"
    assert first["gen_ai.request.model"] == CLAUDE_US
    assert first["gen_ai.response.id"] == "msg_bdrk_CALL0000001"
    assert first["server.address"] == "bedrock-runtime.us-east-1.amazonaws.com"
    assert first["cloud.region"] == "us-east-1"
    assert otel.metric_sum("gen_ai.client.cost") == pytest.approx(0.0099)


def test_reading_an_output_twice_counts_it_once(otel: Otel, tmp_path: Path) -> None:
    path = _write(tmp_path, [_claude("CALL0000001", 1000, 500), _claude("CALL0000001", 1000, 500)])
    first = otel_llm_cost.price_batch_output(path, CLAUDE_US, job=JOB + "-twice")
    again = otel_llm_cost.price_batch_output(path, CLAUDE_US, job=JOB + "-twice")
    assert (first.recorded, first.duplicates) == (1, 1)  # the same record twice in one file
    assert (again.recorded, again.duplicates) == (0, 2)
    assert len(otel.finished()) == 1
    assert otel.metric_sum("gen_ai.client.cost") == pytest.approx(0.005775)


def test_the_same_record_id_in_another_job_is_another_call(otel: Otel, tmp_path: Path) -> None:
    path = _write(tmp_path, [_claude("CALL0000001", 1000, 500)])
    otel_llm_cost.price_batch_output(path, CLAUDE_US, job="job-a")
    otel_llm_cost.price_batch_output(path, CLAUDE_US, job="job-b")
    assert len(otel.finished()) == 2


def test_nova_lines_given_directly(otel: Otel) -> None:
    output = {"output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}}, "stopReason": "end_turn",
              "usage": {"inputTokens": 2000, "outputTokens": 300, "totalTokens": 2300}}
    lines = [json.dumps({"recordId": "R1", "modelInput": {"messages": []}, "modelOutput": output}).encode(), b"",
             b"not json"]
    summary = otel_llm_cost.price_batch_output(lines, NOVA_PRO, job="nova-job")
    # Nova Pro on-demand $0.80 / $3.20 per 1M, batch $0.40 / $1.60: 2000 x 0.4 + 300 x 1.6 = 800 + 480 = 1280 / 1M
    assert summary.cost_usd == pytest.approx(0.00128)
    assert summary.skipped_lines == 1
    (span,) = otel.finished()
    assert span.attributes["gen_ai.response.finish_reasons"] == ("end_turn",)


def test_a_record_without_usage_is_unpriced_never_zero(otel: Otel) -> None:
    record = {"recordId": "R1", "modelInput": {}, "modelOutput": {"generation": "ok"}}
    summary = otel_llm_cost.price_batch_output([record], "meta.llama3-1-70b-instruct-v1:0", job="no-usage")
    assert summary.unpriced == {"no_usage": 1} and summary.cost_usd == 0
    (span,) = otel.finished()
    assert span.attributes["llm_cost.unpriced_reason"] == "no_usage"
    assert "gen_ai.usage.cost.amount" not in span.attributes


def test_priced_without_instrumentation_records_nothing(tmp_path: Path) -> None:
    path = _write(tmp_path, [_claude("CALL0000001", 1000, 500)])
    summary = otel_llm_cost.price_batch_output(path, CLAUDE_US, job="plain")
    assert summary.cost_usd == pytest.approx(0.005775) and summary.recorded == 0


def test_cli_prices_an_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, [_claude("CALL0000001", 1000, 500), _failed("CALL2")])
    assert main(["bedrock-batch", str(path), "--model", CLAUDE_US]) == 0
    out = capsys.readouterr().out
    assert "2 records (1 succeeded, 1 failed)" in out and "$0.005775 at batch rates" in out


def test_cli_says_when_records_are_unpriced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    llama = {"recordId": "R1", "modelInput": {"prompt": "hi"},
             "modelOutput": {"generation": "ok", "prompt_token_count": 10, "generation_token_count": 5}}
    path = _write(tmp_path, [llama])
    assert main(["bedrock-batch", str(path), "--model", "acme.unknown-model-v1:0"]) == 1
    assert "unpriced: 1 unknown_model" in capsys.readouterr().out
