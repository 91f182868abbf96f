"""``otel-llm-cost bedrock-batch``: what a downloaded Bedrock batch job output cost, at batch rates.

Prices only (this process records no telemetry): an app that wants the records as calls on its dashboards calls
``otel_llm_cost.price_batch_output`` while instrumented.
"""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    batch = sub.add_parser("bedrock-batch", help="price a Bedrock batch job's output records (*.jsonl.out, "
                                                 "downloaded from its S3 output folder) at batch rates")
    batch.add_argument("files", nargs="+", metavar="FILE")
    batch.add_argument("--model", required=True,
                       help="the job's modelId (get-model-invocation-job): the records do not name it")
    batch.add_argument("--job", default=None, help="the job's ARN or id (optional)")
    batch.set_defaults(func=cmd_bedrock_batch)


def cmd_bedrock_batch(args: argparse.Namespace) -> int:
    from ..providers.bedrock_batch import price_batch_output

    total_cost, unpriced, failed = 0.0, 0, False
    for path in args.files:
        try:
            s = price_batch_output(path, args.model, job=args.job, record=False)
        except OSError as exc:
            print(f"otel-llm-cost: {path}: {exc.strerror or exc}", file=sys.stderr)
            failed = True
            continue
        reasons = ", ".join(f"{n} {r}" for r, n in sorted(s.unpriced.items()))
        print(f"{path}: {s.records} records ({s.succeeded} succeeded, {s.errored} failed"
              f"{f', {s.duplicates} duplicate' if s.duplicates else ''}"
              f"{f', {s.skipped_lines} unreadable lines' if s.skipped_lines else ''}); "
              f"{s.input_tokens} input / {s.output_tokens} output tokens; ${s.cost_usd:.6f} at batch rates"
              f"{f'; unpriced: {reasons}' if reasons else ''}")
        total_cost += s.cost_usd
        unpriced += sum(s.unpriced.values())
    if len(args.files) > 1:
        print(f"total: ${total_cost:.6f} at batch rates" + (f", {unpriced} records unpriced" if unpriced else ""))
    return 1 if failed or unpriced else 0
