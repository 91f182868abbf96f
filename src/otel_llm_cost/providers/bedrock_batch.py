"""Bedrock batch inference outputs: price (and record) the JSONL records a model-invocation job wrote to S3.

What boto3 shows of a batch job is its control calls (``bedrock`` client ``create_model_invocation_job``,
``get_model_invocation_job``): no usage. The usage is in the job's output, ``<input file>.jsonl.out`` in the
job's S3 output folder, one record a line: ``{"recordId", "modelInput", "modelOutput"}`` (``"error"`` instead of
``modelOutput`` for a failed record), ``modelOutput`` being the model-native InvokeModel response body with its
usage. We never read S3 on the user's behalf: the app (or an operator, with the CLI ``otel-llm-cost
bedrock-batch``) hands the downloaded lines to ``price_batch_output``, which reads each record's usage as an
InvokeModel body is read, prices it at the table's batch rates, and records one call per succeeded record
(span and metrics) when otel-llm-cost is instrumented. A record is recorded once per process, however often its
file is read (key: the job, its record id and its output).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from ..core.batches import BATCH, record_batch_item
from ..core.calls import RUNTIME, logger
from ..core.telemetry import CallRecord
from .bedrock import CLOUD_REGION, BedrockAdapter, _is_embedding

PROVIDER = "aws.bedrock"


@dataclass
class BatchSummary:
    """What a batch output held and cost. ``cost_usd`` sums the priced records (batch rates); ``unpriced`` counts
    succeeded records without a price by reason (never counted as $0); ``recorded`` is how many became calls now
    (0 when not instrumented), ``duplicates`` records seen before (in this process, or twice in this output)."""

    records: int = 0
    succeeded: int = 0
    errored: int = 0
    recorded: int = 0
    duplicates: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    unpriced: dict[str, int] = field(default_factory=dict)
    skipped_lines: int = 0  # lines that are not a JSON record


def _records(source: str | os.PathLike[str] | Iterable[Any]) -> Iterable[Any]:
    if isinstance(source, (str, os.PathLike)):
        with open(source, encoding="utf-8") as lines:
            yield from lines
    else:
        yield from source


def _key(job: str | None, record: Mapping[str, Any], output: Mapping[str, Any]) -> str:
    digest = hashlib.sha1(json.dumps(output, sort_keys=True, default=str).encode(), usedforsecurity=False)
    return f"bedrock-batch:{job or ''}:{record.get('recordId')}:{digest.hexdigest()}"


def price_batch_output(source: str | os.PathLike[str] | Iterable[Any], model: str, *, job: str | None = None,
                       region: str | None = None, record: bool = True) -> BatchSummary:
    """Price the records of one Bedrock batch job's output (a path, or its lines as str/bytes/dicts) at batch
    rates. ``model`` is the job's ``modelId`` (``get_model_invocation_job(...)["modelId"]``: the records do not
    name it); ``job`` its ARN or id (part of each record's key); ``region`` the job's region. With ``record`` and
    otel-llm-cost instrumented, each succeeded record not seen before becomes a call (span, metrics, budgets'
    ledger). A line that is not a JSON record is counted in ``skipped_lines``."""
    summary = BatchSummary()
    telemetry = RUNTIME.telemetry if record else None
    book = None
    seen_here: set[str] = set()
    host = f"bedrock-runtime.{region}.amazonaws.com" if region else None
    attrs = {CLOUD_REGION: region} if region else None
    operation = "embeddings" if _is_embedding(model) else "chat"
    for line in _records(source):
        if isinstance(line, Mapping):
            item: Any = line
        else:
            text = line.decode() if isinstance(line, (bytes, bytearray)) else str(line)
            if not text.strip():
                continue
            try:
                item = json.loads(text)
            except ValueError:
                item = None
        if not isinstance(item, Mapping):
            summary.skipped_lines += 1
            continue
        summary.records += 1
        output = item.get("modelOutput")
        if not isinstance(output, Mapping) or item.get("error"):
            summary.errored += 1
            continue
        summary.succeeded += 1
        key = _key(job, item, output)
        if key in seen_here:
            summary.duplicates += 1
            continue
        seen_here.add(key)
        call = CallRecord(operation, PROVIDER, model, host, None, False)
        call.price_request_model_first = True  # the job's id (its us./global. prefix) names the price
        call.service_tier = BATCH
        record_id = item.get("recordId")
        if telemetry is not None:
            try:
                recorded, result = record_batch_item(telemetry, key, call,
                                                     partial(BedrockAdapter.read_body, parsed=output), attrs)
            except Exception:  # never break the app over a record
                logger.debug("otel-llm-cost: could not record a Bedrock batch record", exc_info=True)
                continue
            if not recorded:
                summary.duplicates += 1
                continue
            summary.recorded += 1
        else:
            BedrockAdapter.read_body(call, output)
            if book is None:
                from ..pricing import load_price_book

                book = RUNTIME.telemetry.book if RUNTIME.telemetry is not None else load_price_book([])
            result = None if call.usage is None else book.cost(
                PROVIDER, call.response_model, call.usage, response_model=model, service_tier=BATCH)
        _add(summary, call, result, record_id)
    return summary


def _add(summary: BatchSummary, call: CallRecord, result: Any, record_id: Any) -> None:
    usage = call.usage
    if usage is not None:
        summary.input_tokens += usage.input_tokens or 0
        summary.output_tokens += usage.output_tokens or 0
    if result is None:
        reason = "no_usage"
    elif result:
        summary.cost_usd += result.total
        return
    else:
        reason = result.reason
    summary.unpriced[reason] = summary.unpriced.get(reason, 0) + 1
    logger.debug("otel-llm-cost: Bedrock batch record %r is unpriced (%s)", record_id, reason)

