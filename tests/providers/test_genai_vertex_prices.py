"""Vertex AI prices against the Gemini API's. What the table and Google's pages say (reference/pricing.md, the
table's google rows, LiteLLM's vertex_ai entries):

- gemini-2.5-pro and gemini-2.5-flash cost the same on Vertex (cloud.google.com/vertex-ai/generative-ai/pricing)
  as on the paid Gemini API, standard, long-context, batch, flex and priority alike: one row prices both, on a
  regional endpoint and on ``global`` (golden costs below, from Vertex's page).
- The newer models (gemini-3.1-flash-lite, 3.5-flash, 3.6/3.7/3.8-flash, 4-argon) cost 10% more on a regional
  Vertex endpoint than on ``global`` (LiteLLM's ``regional_endpoint_uplift_multiplier``; genai-prices has no
  regional uplift): not priced here, a README limit (a price file's [[discount]] can add it).
- Provisioned Throughput (``trafficType: PROVISIONED_THROUGHPUT``) is a subscription billed apart: the call is
  priced at its on-demand equivalent and says its tier.
"""

from __future__ import annotations

from typing import Any

import cases  # noqa: F401  (the simulated APIs' path)
import pytest
from fake_genai import FakeGenAI, usage
from google import genai
from google.oauth2.credentials import Credentials

from telemetry_fixtures import Otel

COST = "gen_ai.usage.cost.amount"


def _vertex_client(fake: FakeGenAI, location: str) -> genai.Client:
    return genai.Client(vertexai=True, project="acme-prod", location=location,
                        credentials=Credentials(token="ya29.test"), http_options=fake._options())


def _attrs(otel: Otel) -> Any:
    (span,) = otel.finished()
    return span.attributes


@pytest.mark.parametrize(("location", "host"), [("us-central1", "us-central1-aiplatform.googleapis.com"),
                                                ("global", "aiplatform.googleapis.com")])
def test_gemini_2_5_pro_on_vertex_at_vertex_prices(otel: Otel, location: str, host: str) -> None:
    fake = FakeGenAI(vertex=True)
    fake.final_usage = usage(prompt=10_000, cached=8_000, tool_use=0, candidates=500, thoughts=1_500, vertex=True)
    _vertex_client(fake, location).models.generate_content(model="gemini-2.5-pro", contents="hi")
    attrs = _attrs(otel)
    assert attrs["gen_ai.provider.name"] == "gcp.vertex_ai"
    assert attrs["server.address"] == host
    # Vertex, gemini-2.5-pro up to 200k input, USD per 1M: input 1.25, cached input 0.125, output (thinking
    # included) 10.00: 2,000 x 1.25 + 8,000 x 0.125 + 2,000 x 10
    assert attrs[COST] == pytest.approx((2_000 * 1.25 + 8_000 * 0.125 + 2_000 * 10.00) / 1e6)
    assert attrs[COST] == pytest.approx(0.0235)


def test_gemini_2_5_pro_long_context_on_vertex(otel: Otel) -> None:
    fake = FakeGenAI(vertex=True)
    fake.final_usage = usage(prompt=300_000, cached=0, tool_use=0, candidates=2_000, thoughts=0, vertex=True)
    _vertex_client(fake, "global").models.generate_content(model="gemini-2.5-pro", contents="hi")
    # above 200k input on Vertex: input 2.50, output 15.00, for the whole call
    assert _attrs(otel)[COST] == pytest.approx((300_000 * 2.50 + 2_000 * 15.00) / 1e6)


def test_gemini_2_5_flash_audio_on_vertex(otel: Otel) -> None:
    fake = FakeGenAI(vertex=True)
    fake.final_usage = usage(prompt=4_000, audio=3_000, cached=0, tool_use=0, candidates=200, thoughts=0, vertex=True)
    _vertex_client(fake, "us-central1").models.generate_content(model="gemini-2.5-flash", contents="hi")
    # Vertex gemini-2.5-flash: text input 0.30, audio input 1.00, output 2.50
    assert _attrs(otel)[COST] == pytest.approx((1_000 * 0.30 + 3_000 * 1.00 + 200 * 2.50) / 1e6)


def test_provisioned_throughput_is_priced_at_its_on_demand_equivalent_and_says_so(otel: Otel) -> None:
    fake = FakeGenAI(vertex=True)
    fake.final_usage = {**usage(prompt=1_000, cached=0, tool_use=0, candidates=100, thoughts=0, vertex=True),
                        "trafficType": "PROVISIONED_THROUGHPUT"}
    _vertex_client(fake, "us-central1").models.generate_content(model="gemini-2.5-flash", contents="hi")
    attrs = _attrs(otel)
    assert attrs["llm_cost.service_tier"] == "provisioned_throughput"
    assert attrs[COST] == pytest.approx((1_000 * 0.30 + 100 * 2.50) / 1e6)
