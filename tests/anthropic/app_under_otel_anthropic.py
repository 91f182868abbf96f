"""An application run under ``opentelemetry-instrument`` by the tests: it only uses the anthropic SDK.

Its clients keep the SDK's default ``open_telemetry`` option, so the SDK's own spans are on (the global
tracer provider is set by ``opentelemetry-instrument``) unless ``ANTHROPIC_OPEN_TELEMETRY=false``.
"""

from __future__ import annotations

import warnings

from fake_anthropic import FakeAnthropic

warnings.simplefilter("ignore", DeprecationWarning)
fake = FakeAnthropic()
client = fake.client(open_telemetry=None)  # the SDK's default: its own spans on
messages = [{"role": "user", "content": "hi"}]
client.messages.create(model="claude-sonnet-4-5", max_tokens=100, messages=messages)
with client.messages.stream(model="claude-sonnet-4-5", max_tokens=100, messages=messages) as stream:
    stream.until_done()
fake.bedrock(open_telemetry=None).messages.create(model="us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                                                  max_tokens=100, messages=messages)
print("READY", flush=True)
