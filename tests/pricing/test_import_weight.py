"""``import otel_llm_cost.pricing`` stays light: what it must not pull in at import (not a timing test).

The import-time budget (issue: under 30 ms, measured by benchmarks/pricing.py) is mostly stdlib modules;
these are the ones we can keep out, and a stray top-level import would silently bring them back.
"""

from __future__ import annotations

import subprocess
import sys

KEPT_OUT = ("typing", "json", "inspect", "opentelemetry", "tomllib", "otel_llm_cost.pricing.overrides")


def test_importing_the_pricing_package_loads_none_of_the_heavy_modules() -> None:
    code = "import sys, otel_llm_cost.pricing\nprint(' '.join(sorted(sys.modules)))"
    loaded = subprocess.check_output([sys.executable, "-c", code], text=True).split()
    assert "otel_llm_cost.pricing.book" in loaded  # the listing sees our own modules
    heavy = [m for m in loaded if m in KEPT_OUT or m.split(".")[0] in KEPT_OUT]
    assert not heavy, heavy


def test_the_first_priced_call_still_loads_the_table() -> None:
    code = ("import sys, otel_llm_cost.pricing as p\nfrom otel_llm_cost.core.usage import Usage\n"
            "print(p.PriceBook().cost('openai', 'gpt-4o', Usage(input_tokens=1000, output_tokens=10)).total)")
    assert float(subprocess.check_output([sys.executable, "-c", code], text=True)) > 0
