"""``otel-llm-cost demo``: what the package computes, with no API key and no network.

This first version prices a realistic, fixed day of calls (several providers, cached prompts, a
reasoning model, a long-context call, a model the table cannot price) and prints the spend table. The
instrumented-SDK demo against a local simulated provider builds on this once the SDK patches land.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone

from .pricing import Cost, PriceBook, load_price_book
from .usage import Usage

# (feature, provider, model, usage, calls) — token counts shaped like real responses
WORKLOAD: list[tuple[str, str, str, Usage, int]] = [
    ("support-chat", "openai", "gpt-4o-mini-2024-07-18",
     Usage(input_tokens=1800, cache_read_tokens=1024, output_tokens=220), 400),
    ("support-chat", "anthropic", "claude-haiku-4-5-20251001",
     Usage(input_tokens=5200, cache_read_tokens=4096, output_tokens=310), 250),
    ("search", "openai", "text-embedding-3-small", Usage(input_tokens=512), 2000),
    ("report-writer", "anthropic", "claude-sonnet-4-5-20250929",
     Usage(input_tokens=24000, cache_write_tokens=20000, cache_write_1h_tokens=20000, output_tokens=1800), 12),
    ("report-writer", "anthropic", "claude-sonnet-4-5-20250929",
     Usage(input_tokens=26000, cache_read_tokens=20000, output_tokens=2100), 60),
    ("code-review", "openai", "o4-mini", Usage(input_tokens=3000, output_tokens=6000, reasoning_tokens=4800), 80),
    ("doc-qa", "gcp.gemini", "gemini-2.5-pro", Usage(input_tokens=250_000, output_tokens=1200), 6),
    ("doc-qa", "aws.bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
     Usage(input_tokens=9000, output_tokens=700), 40),
    ("experiments", "openai", "gpt-9-preview-unreleased", Usage(input_tokens=1000, output_tokens=300), 5),
]


def run_demo(book: PriceBook | None = None, at: datetime | None = None) -> int:
    book = book or load_price_book()
    at = at or datetime.now(timezone.utc)
    rows: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0, 0.0])
    unpriced: dict[tuple[str, str], int] = defaultdict(int)
    for feature, provider, model, usage, calls in WORKLOAD:
        cost = book.cost(provider, model, usage, at=at)
        if not isinstance(cost, Cost):
            unpriced[(provider, model)] += calls
            continue
        row = rows[(provider, cost.model, feature)]
        row[0] += calls
        row[1] += calls * (usage.input_tokens or 0)
        row[2] += calls * (usage.output_tokens or 0)
        row[3] += calls * cost.total
        row[4] += calls * cost.cache_savings
    print(f"otel-llm-cost demo: one simulated day of LLM calls, priced with table {book.table_id}\n")
    print(f"{'provider':<12} {'model':<52} {'feature':<14} {'calls':>6} {'in tok':>11} {'out tok':>9} "
          f"{'cost USD':>11} {'cache saved':>11}")
    total = saved = 0.0
    for (provider, model, feature), (n_calls, tin, tout, cost_sum, save) in sorted(rows.items(),
                                                                              key=lambda kv: -kv[1][3]):
        total += cost_sum
        saved += save
        print(f"{provider:<12} {model:<52} {feature:<14} {int(n_calls):>6} {int(tin):>11,} {int(tout):>9,} "
              f"{cost_sum:>11.4f} {save:>11.4f}")
    print(f"\ntotal spend ${total:,.4f}; prompt caching saved ${saved:,.4f}")
    for (provider, model), calls in unpriced.items():
        print(f"UNPRICED: {calls} calls to {provider}/{model} (not in the price table: counted, never $0; "
              f"add it to a file named by OTEL_LLM_COST_PRICES_FILE)")
    return 0
