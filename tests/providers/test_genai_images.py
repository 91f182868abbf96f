"""Imagen through google-genai (``models.generate_images``; Vertex AI in google-genai 3.x, both backends before):
billed per image generated, not per token (Imagen 4 $0.04, Fast $0.02, Ultra $0.06 per image:
ai.google.dev/gemini-api/docs/pricing, cloud.google.com/vertex-ai/generative-ai/pricing), priced from the
table's per-image unit (corrections.toml). Images withheld by the safety filter are not billed."""

from __future__ import annotations

import asyncio
from typing import Any

import cases  # noqa: F401  (the simulated APIs' path)
import pytest
from fake_genai import FakeGenAI, images_body

from telemetry_fixtures import Otel

# google-genai 3.x deprecates generate_images (Imagen models move to generate_content); it still works
pytestmark = pytest.mark.filterwarnings("ignore:The generate_images method is deprecated")

COST = "gen_ai.usage.cost.amount"


@pytest.mark.parametrize(("model", "per_image"), [("imagen-4.0-generate-001", 0.04),
                                                  ("imagen-4.0-fast-generate-001", 0.02),
                                                  ("imagen-4.0-ultra-generate-001", 0.06)])
def test_imagen_is_priced_per_image(otel: Otel, model: str, per_image: float) -> None:
    fake = FakeGenAI(vertex=True)
    result = fake.client().models.generate_images(model=model, prompt="a red bicycle",
                                                  config={"number_of_images": 3})
    assert len(result.generated_images) == 3 and result.generated_images[0].image.image_bytes
    (span,) = otel.finished()
    attrs = span.attributes
    assert span.name == f"generate_content {model}"
    assert attrs["gen_ai.provider.name"] == "gcp.vertex_ai"
    assert "gen_ai.usage.input_tokens" not in attrs  # no token count is reported: none is invented
    assert attrs[COST] == pytest.approx(3 * per_image)
    assert otel.metric_sum("gen_ai.client.cost", **{"gen_ai.cost.type": "other"}) == pytest.approx(3 * per_image)


def test_filtered_images_are_not_billed(otel: Otel) -> None:
    fake = FakeGenAI(vertex=True)
    fake.images_body = images_body({"parameters": {"sampleCount": 4}}, filtered=1)
    result = fake.client().models.generate_images(model="imagen-4.0-generate-001", prompt="a red bicycle",
                                                  config={"number_of_images": 4})
    assert [g.rai_filtered_reason is None for g in result.generated_images] == [True, True, True, False]
    (span,) = otel.finished()
    assert span.attributes[COST] == pytest.approx(3 * 0.04)


def test_async_imagen(otel: Otel) -> None:
    client = FakeGenAI(vertex=True).async_client()
    asyncio.run(client.models.generate_images(model="imagen-4.0-fast-generate-001", prompt="a red bicycle",
                                              config={"number_of_images": 2}))
    (span,) = otel.finished()
    assert span.attributes[COST] == pytest.approx(2 * 0.02)


def test_an_unknown_image_model_is_unpriced_and_counted(otel: Otel) -> None:
    FakeGenAI(vertex=True).client().models.generate_images(model="imagen-9.0-imaginary", prompt="a red bicycle",
                                                           config={"number_of_images": 1})
    (span,) = otel.finished()
    assert COST not in span.attributes
    assert span.attributes["llm_cost.unpriced_reason"] == "unknown_model"


def test_an_answer_without_predictions_is_unpriced_never_zero(otel: Otel) -> None:
    fake = FakeGenAI(vertex=True)
    fake.images_body = {}
    result = fake.client().models.generate_images(model="imagen-4.0-generate-001", prompt="a red bicycle")
    assert result.generated_images is None
    (span,) = otel.finished()
    assert COST not in span.attributes
    assert span.attributes["llm_cost.unpriced_reason"] == "no_usage"


def test_a_price_file_can_price_images(otel: Otel, tmp_path: Any) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text('[[price]]\nprovider = "gcp.vertex_ai"\nmodel = "imagen-acme-tuned"\ninput = 0\noutput = 0\n'
                      'per_image = 0.05\n')
    otel.reinstrument(prices_file=str(prices))
    FakeGenAI(vertex=True).client().models.generate_images(model="imagen-acme-tuned", prompt="a red bicycle",
                                                           config={"number_of_images": 2})
    (span,) = otel.finished()
    assert span.attributes[COST] == pytest.approx(2 * 0.05)
