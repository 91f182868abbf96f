#!/usr/bin/env python3
"""What ``llm_cost_botocore`` adds to a boto3 call: a Bedrock ``converse`` (recorded and priced) and an STS call
(another service: it passes through our ``_make_api_call`` wrapper untouched).

botocore's own ``Stubber`` answers both (no network), on the OpenTelemetry SDK's tracer and meter providers without
exporters. Batches without and with the instrumentation alternate in one process; the figure is the median over
the rounds of the per-call wall time of each batch. Not a test.

    python benchmarks/bedrock.py [--rounds 5] [--calls 1000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import boto3
from botocore.stub import Stubber
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider

import otel_llm_cost
from otel_llm_cost.demo import bedrock_wire as wire

MESSAGES = [{"role": "user", "content": [{"text": "Capital of France?"}]}]
IDENTITY = {"UserId": "AIDA", "Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/app"}


def _client(service: str) -> Any:
    return boto3.client(service, region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")


def _batch(calls: int) -> dict[str, float]:
    """Microseconds per call of each kind."""
    cases = ((_client("bedrock-runtime"), "converse", wire.converse_body("Paris", {"inputTokens": 40,
                                                                                    "outputTokens": 12}),
              {"modelId": "amazon.nova-lite-v1:0", "messages": MESSAGES}),
             (_client("sts"), "get_caller_identity", IDENTITY, {}))
    out = {}
    for client, operation, response, kwargs in cases:
        with Stubber(client) as stub:
            for _ in range(calls):
                stub.add_response(operation, response)
            method = getattr(client, operation)
            start = time.perf_counter()
            for _ in range(calls):
                method(**kwargs)
            out[operation] = (time.perf_counter() - start) / calls * 1e6
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=1000)
    options = parser.parse_args()
    _batch(200)  # warm up: service models loaded, price memoised
    bare: list[dict[str, float]] = []
    instrumented: list[dict[str, float]] = []
    for _ in range(options.rounds):
        bare.append(_batch(options.calls))
        otel_llm_cost.instrument(tracer_provider=TracerProvider(), meter_provider=MeterProvider())
        instrumented.append(_batch(options.calls))
        otel_llm_cost.uninstrument()
    for operation in ("converse", "get_caller_identity"):
        without = statistics.median(r[operation] for r in bare)
        with_us = statistics.median(r[operation] for r in instrumented)
        print(f"{operation}: {without:.0f} µs/call bare, {with_us:.0f} µs instrumented, {with_us - without:+.0f} µs")


if __name__ == "__main__":
    main()
