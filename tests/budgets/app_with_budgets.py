"""An application run under ``opentelemetry-instrument`` with a budget file: it calls until a budget refuses,
and prints what it saw (the app knows nothing of otel-llm-cost but the exception it catches)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "openai"))

from fake_openai import FakeOpenAI

import otel_llm_cost

fake = FakeOpenAI()
client = fake.client()
refused = None
for _attempt in range(10):
    try:
        with otel_llm_cost.attributes(user_id="u-7"):
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}],
                                           max_tokens=100)
    except otel_llm_cost.BudgetExceeded as error:
        refused = error
        break
print(f"SENT {len(fake.requests)} REFUSED {refused.budget if refused else None} {refused.scope if refused else ''}")
print("READY", flush=True)
