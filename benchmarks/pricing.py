#!/usr/bin/env python3
"""Pricing hot-path benchmark: warm ``cost()`` time, import time, table load time and memory.

Targets (issue): warm cost() under 2 µs median for a known and an unknown model, import of
``otel_llm_cost.pricing`` under 30 ms, resident memory added by the table under 10 MB. Also times
genai-prices' own ``calc_price`` on the same calls when it is installed, for scale. Not a test: prints.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import timeit


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _timed_us(fn: object, number: int = 50_000, repeat: int = 7) -> tuple[float, float]:
    """Median and fastest of ``repeat`` runs of ``number`` calls, per call in µs. The fastest is the steadier
    figure on a shared VM whose speed changes from minute to minute."""
    times = timeit.repeat(fn, number=number, repeat=repeat)  # type: ignore[arg-type]
    return statistics.median(times) / number * 1e6, min(times) / number * 1e6


def import_ms(runs: int = 9) -> tuple[float, float]:
    """Median in-process import time of the pricing package, and of the stdlib modules it needs, in ms.

    With bytecode cached, as after ``pip install`` (which compiles .pyc files): a source checkout run with
    PYTHONDONTWRITEBYTECODE=1 would otherwise time the compiler. The cache goes to a temporary prefix, not
    into the checkout; one untimed import fills it."""
    code = ("import time; t=time.perf_counter(); import {}; print((time.perf_counter()-t)*1000)")
    with tempfile.TemporaryDirectory(prefix="pycache-") as prefix:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = prefix

        def timed(modules: str) -> float:
            return float(subprocess.check_output([sys.executable, "-c", code.format(modules)], env=env))

        timed("otel_llm_cost.pricing")
        timed("logging, json, datetime")
        ours, stdlib = [], []
        for _ in range(runs):
            ours.append(timed("otel_llm_cost.pricing"))
            stdlib.append(timed("logging, json, datetime"))
    return statistics.median(ours), statistics.median(stdlib)


def main() -> None:
    from datetime import datetime, timezone

    before = _rss_kib()
    from otel_llm_cost.core.usage import Usage
    from otel_llm_cost.pricing import PriceBook
    from otel_llm_cost.pricing.table import bundled_table

    after_import = _rss_kib()
    t0 = timeit.default_timer()
    bundled_table()
    load_ms = (timeit.default_timer() - t0) * 1000
    book = PriceBook()
    cases = {
        "gpt-4o cached input": ("openai", "gpt-4o-2024-08-06", Usage(input_tokens=1000, cache_read_tokens=400,
                                                                     output_tokens=500)),
        "claude 5m+1h write + read": ("anthropic", "claude-sonnet-4-5", Usage(
            input_tokens=6000, cache_write_tokens=2000, cache_write_1h_tokens=1000, cache_read_tokens=3000,
            output_tokens=500)),
        "gemini 250k (tier)": ("gcp.gemini", "gemini-2.5-pro", Usage(input_tokens=250_000, output_tokens=1000)),
        "bedrock ARN": ("aws.bedrock", "arn:aws:bedrock:us-east-1:1:inference-profile/us.anthropic.claude-sonnet-4"
                        "-20250514-v1:0", Usage(input_tokens=1000, output_tokens=500)),
        "unknown model (memoised miss)": ("openai", "no-such-model", Usage(input_tokens=1000, output_tokens=500)),
    }
    at = datetime(2026, 11, 20, tzinfo=timezone.utc)
    for provider, model, usage in cases.values():  # first sight: resolution + warning, outside timing
        book.cost(provider, model, usage)
    # touch every provider's models so the memory figure covers the whole table
    for p in book.table.providers.values():
        _ = p.models
    after_all = _rss_kib()
    print("warm PriceBook.cost() per call, median of 7 x 50k (fastest of the 7) in µs:")
    for name, (provider, model, usage) in cases.items():
        ours, fastest = _timed_us(lambda p=provider, m=model, u=usage: book.cost(p, m, u))
        ours_at, _ = _timed_us(lambda p=provider, m=model, u=usage: book.cost(p, m, u, at=at,
                                                                             service_tier="default"))
        print(f"  {name:<32} {ours:6.2f} ({fastest:.2f})   as instrumentations call it, with at= and "
              f"service_tier='default': {ours_at:.2f}")
    try:
        import genai_prices
        from genai_prices.data_snapshot import get_snapshot

        snap = get_snapshot()
        gp_usage = genai_prices.Usage(input_tokens=1000, cache_read_tokens=400, output_tokens=500)
        gp, _ = _timed_us(lambda: snap.calc(gp_usage, "gpt-4o-2024-08-06", "openai", None, None), number=2000)
        print(f"  for scale, genai_prices calc_price gpt-4o: {gp:.1f} µs")
    except ImportError:
        pass
    ours_ms, stdlib_ms = import_ms()
    print(f"import otel_llm_cost.pricing: {ours_ms:.1f} ms median (of which stdlib logging/json/datetime alone "
          f"take {stdlib_ms:.1f} ms when imported cold)")
    print(f"bundled table first load: {load_ms:.1f} ms (lazy: on the first priced call)")
    print(f"RSS: +{(after_import - before) / 1024:.1f} MB after import, +{(after_all - before) / 1024:.1f} MB "
          f"with the whole table parsed")


if __name__ == "__main__":
    main()
