"""The ``otel-llm-cost`` command: look up prices, price a call by hand, validate price files."""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Sequence
from datetime import date, datetime, timezone

from ..core.usage import Usage
from ..ledger import commands as ledger_commands
from ..pricing import Cost, PriceBook, load_price_book
from ..pricing.overrides import PRICE_FIELDS, PriceFileError, load_override_file
from ..pricing.table import PriceRow

# price-table key -> column label, in display order
_PRICE_LABELS = {
    "input_mtok": "input",
    "cache_read_mtok": "cache read",
    "cache_write_mtok": "cache write 5m",
    "cache_write_1h_mtok": "cache write 1h",
    "output_mtok": "output",
    "output_reasoning_mtok": "reasoning",
    "input_audio_mtok": "audio in",
    "output_audio_mtok": "audio out",
    "input_image_mtok": "image in",
    "output_image_mtok": "image out",
    "web_searches_kcount": "web search /1k",
    "rerank_searches_kcount": "rerank search /1k",
    "requests_kcount": "requests /1k",
    "output_image_count": "per image",
}


def _parse_at(value: str) -> datetime:
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=timezone.utc)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date or ISO time: {value!r} (e.g. 2026-11-24)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _count(value: str) -> int:
    try:
        number = int(value.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of tokens: {value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"token counts cannot be negative: {value!r}")
    return number


def _money(value: float) -> str:
    return f"${value:,.6f}".rstrip("0").rstrip(".") if value else "$0"


def _row_prices(row: PriceRow) -> list[tuple[str, str]]:
    out = []
    for key, price in row.prices.items():
        label = _PRICE_LABELS.get(key, key)
        text = f"{price:g}" if isinstance(price, float) else (
            f"{price.base:g} (" + ", ".join(f"{p:g} above {s:,}" for s, p in price.tiers) + ")")
        out.append((label, text))
    return out


def _suggestions(book: PriceBook, provider: str, model: str) -> list[str]:
    from ..pricing.providers import table_provider_id

    table_provider = book.table.provider(table_provider_id(provider)) if provider else None
    providers = [table_provider] if table_provider else list(book.table.providers.values())
    names = {m.id for p in providers for m in p.models}
    return difflib.get_close_matches(model.lower(), sorted(names), n=5, cutoff=0.5)


def cmd_price(args: argparse.Namespace) -> int:
    book = load_price_book()
    found = book.price_row(args.provider, args.model, at=args.at, service_tier=args.service_tier)
    if not isinstance(found, tuple):
        from ..pricing.providers import SELF_HOSTED_TABLE, is_self_hosted

        if found.reason in ("unknown_provider", "unknown_model") and is_self_hosted(args.provider or ""):
            print(f"{args.model} -> self-hosted on {args.provider}, no price declared: every call costs an explicit "
                  f"$0 (table {SELF_HOSTED_TABLE}). Declare per_second / per_hour / per_request or per-token "
                  f"prices in a price file (OTEL_LLM_COST_PRICES_FILE) to count GPU time.")
            return 0
        print(f"otel-llm-cost: cannot price {args.model!r} (provider {args.provider or 'any'}): {found.detail}",
              file=sys.stderr)
        close = _suggestions(book, args.provider, args.model)
        if close:
            print("did you mean: " + ", ".join(close), file=sys.stderr)
        return 1
    resolution, row = found
    entry = resolution.entry
    when = (args.at or datetime.now(timezone.utc)).date()
    source = f"{entry.provider_id}/{entry.id}" if entry else "user price file"
    print(f"{args.model} -> {source}   prices on {when} (USD per 1M tokens"
          f"{', ' + args.service_tier if args.service_tier else ''})")
    for label, text in _row_prices(row):
        print(f"  {label:<16} {text}")
    usage = Usage(input_tokens=args.input, output_tokens=args.output, cache_read_tokens=args.cache_read,
                  cache_write_tokens=args.cache_write + args.cache_write_1h,
                  cache_write_1h_tokens=args.cache_write_1h, reasoning_tokens=args.reasoning)
    if not any((args.input, args.output, args.cache_read, args.cache_write, args.cache_write_1h)):
        return 0
    cost = book.cost(args.provider, args.model, usage, at=args.at, service_tier=args.service_tier)
    if not isinstance(cost, Cost):
        print(f"otel-llm-cost: {cost.reason}: {cost.detail}", file=sys.stderr)
        return 1
    print(f"cost of input {args.input:,} (cache read {args.cache_read:,}, cache write "
          f"{args.cache_write + args.cache_write_1h:,}), output {args.output:,} (reasoning {args.reasoning:,}):")
    for name, value in cost.parts().items():
        if value:
            print(f"  {name:<12} {_money(value)}")
    print(f"  {'total':<12} {_money(cost.total)}   (table {cost.price_table}, prices from {cost.price_source})")
    if cost.cache_savings:
        print(f"  cache saved  {_money(cost.cache_savings)}")
    if cost.discount_savings:
        print(f"  discount     {_money(cost.discount_savings)}")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    book = load_price_book()
    from ..pricing.providers import table_provider_id

    if args.provider:
        provider = book.table.provider(table_provider_id(args.provider))
        if provider is None:
            print(f"otel-llm-cost: unknown provider {args.provider!r}; known: "
                  + ", ".join(sorted(book.table.providers)), file=sys.stderr)
            return 1
        providers = [provider]
    else:
        providers = list(book.table.providers.values())
    query = (args.query or "").lower()
    now = datetime.now(timezone.utc)
    rows = [(p.id, m.id, m.prices_at(now)) for p in providers for m in p.models
            if query in m.id.lower() or query in (m.name or "").lower()]
    if not rows:
        print(f"otel-llm-cost: no model matches {args.query!r}", file=sys.stderr)
        return 1
    print(f"{'provider':<14} {'model':<48} {'input':>9} {'output':>9} {'cache rd':>9} {'cache wr':>9}  per 1M")
    for provider_id, model_id, row in rows:
        cells = [row.unit_price(k) for k in ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok")]
        text = [f"{c:9g}" if c is not None else f"{'-':>9}" for c in cells]
        print(f"{provider_id:<14} {model_id:<48} {' '.join(text)}")
    print(f"{len(rows)} models, table {book.table_id}")
    return 0


def cmd_prices_check(args: argparse.Namespace) -> int:
    status = 0
    for path in args.files:
        try:
            overrides = load_override_file(path)
        except PriceFileError as exc:
            print(f"ERROR {exc}", file=sys.stderr)
            status = 1
            continue
        print(f"OK {path}: {len(overrides.prices)} prices, {len(overrides.discounts)} discounts, "
              f"{len(overrides.aliases)} aliases")
    return status


def cmd_demo(args: argparse.Namespace) -> int:
    from ..demo.run import DemoOptions, run_demo

    return run_demo(DemoOptions(duration=args.duration, rate=args.rate, otlp=args.otlp,
                                prometheus_port=args.prometheus_port, linger=args.linger, seed=args.seed,
                                ledger=args.ledger))


def cmd_doctor(args: argparse.Namespace) -> int:
    from .doctor import run_doctor

    return run_doctor(prometheus=args.prometheus)


def cmd_report(args: argparse.Namespace) -> int:
    from .report import run_report

    if args.ledger:
        from ..ledger.commands import report_command

        return report_command(args)
    if not args.prometheus:
        print("otel-llm-cost report: give --prometheus URL or --ledger URL", file=sys.stderr)
        return 2

    return run_report(args.prometheus, args.since)


def _positive(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be above 0: {value!r}")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="otel-llm-cost", description="LLM call cost: prices and telemetry.")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="realistic LLM traffic through the real SDKs against a local SIMULATED "
                                       "provider, priced and summarised (no API key, no network)")
    demo.add_argument("--duration", type=_positive, default=20.0, metavar="SECONDS", help="how long (default 20)")
    demo.add_argument("--rate", type=_positive, default=6.0, metavar="CALLS", help="calls per second (default 6)")
    demo.add_argument("--otlp", metavar="ENDPOINT", default=None,
                      help="also send metrics and traces over OTLP/HTTP, e.g. http://127.0.0.1:4318 (a collector)")
    demo.add_argument("--prometheus-port", type=int, default=None, metavar="PORT",
                      help="serve the metrics for scraping on 127.0.0.1:PORT/metrics")
    demo.add_argument("--linger", type=float, default=None, metavar="SECONDS",
                      help="with --prometheus-port: keep serving this long after the run (default: until Ctrl-C)")
    demo.add_argument("--seed", type=int, default=7, help="random seed of the workload (default 7)")
    demo.add_argument("--ledger", metavar="URL", default=None,
                      help="also write every call to a ledger, e.g. sqlite:///tmp/demo-ledger.db")
    demo.set_defaults(func=cmd_demo)

    doctor = sub.add_parser("doctor", help="what is installed, instrumented and configured; a fix for each problem")
    doctor.add_argument("--prometheus", metavar="URL", default=None,
                        help="also check that this Prometheus receives otel-llm-cost metrics and has the rules")
    doctor.set_defaults(func=cmd_doctor)

    report = sub.add_parser("report", help="spend by provider, model, service and feature, from Prometheus "
                                           "(or per user, tenant ... from the ledger)")
    report.add_argument("--prometheus", metavar="URL", default=None, help="e.g. http://127.0.0.1:9090")
    report.add_argument("--since", default="24h", help="window, a Prometheus duration (default 24h; 30m, 7d ...); "
                                                     "with --ledger also a date or ISO time")
    report.set_defaults(func=cmd_report)
    ledger_commands.add_report_options(report)
    ledger_commands.add_export_parser(sub)

    price = sub.add_parser("price", help="show a model's prices and the cost of a call")
    price.add_argument("model")
    price.add_argument("--provider", default="", help="gen_ai.provider.name (openai, anthropic, aws.bedrock, ...)")
    for flag in ("input", "output", "cache-read", "cache-write", "cache-write-1h", "reasoning"):
        price.add_argument(f"--{flag}", type=_count, default=0, metavar="N")
    price.add_argument("--at", type=_parse_at, default=None, help="price on this date (default: now)")
    price.add_argument("--service-tier", default=None, help="batch, flex, priority ...")
    price.set_defaults(func=cmd_price)

    models = sub.add_parser("models", help="list models and their prices (USD per 1M tokens)")
    models.add_argument("query", nargs="?", default="")
    models.add_argument("--provider", default="")
    models.set_defaults(func=cmd_models)

    prices = sub.add_parser("prices", help="price override files; update and cross-check the price table")
    prices_sub = prices.add_subparsers(dest="prices_command", required=True)
    check = prices_sub.add_parser("check", help="validate price override files (TOML or JSON); fields: "
                                                + ", ".join(PRICE_FIELDS))
    check.add_argument("files", nargs="+")
    check.set_defaults(func=cmd_prices_check)
    from .prices import register as register_prices

    register_prices(prices_sub)

    from ..budgets.cli import add_parser as add_budgets_parser

    add_budgets_parser(sub)
    from .batch import register as register_batch

    register_batch(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    import logging

    # The command reports unknown models itself; keep the library's one-line warnings for apps.
    logging.getLogger("otel_llm_cost.pricing").setLevel(logging.ERROR)
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except PriceFileError as exc:  # strict mode with a bad OTEL_LLM_COST_PRICES_FILE
        print(f"otel-llm-cost: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
