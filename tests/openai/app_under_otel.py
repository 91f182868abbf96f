"""A small application run under ``opentelemetry-instrument`` by the tests: it only uses the openai SDK.

It makes a few priced calls (one unpriced), prints READY and waits for the test to scrape its metrics.
"""

from __future__ import annotations

import sys
import time

from fake_openai import FakeOpenAI

from otel_llm_cost import attributes

fake = FakeOpenAI()
client = fake.client()
with attributes(feature="search", team="growth"):
    for _ in range(3):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    list(client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}],
                                        stream=True))
    client.embeddings.create(model="text-embedding-3-small", input="hello")
    client.chat.completions.create(model="gpt-9-preview", messages=[{"role": "user", "content": "hi"}])
print("READY", flush=True)
deadline = time.time() + float(sys.argv[1] if len(sys.argv) > 1 else 30)
while time.time() < deadline and sys.stdin.readline() not in ("", "stop\n"):
    pass
