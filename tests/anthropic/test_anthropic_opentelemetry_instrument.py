"""``opentelemetry-instrument python app.py`` with the anthropic SDK's own spans on by default: our span is the
GenAI call with the cost, the SDK's span is its child (or absent with ``disable``), and cost is counted once.
Also with the official genai-anthropic instrumentation loaded by the same command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_anthropic_calls import SONNET_COST

from subprocess_app import cost_points, json_documents, run_to_exit

APP = Path(__file__).parent / "app_under_otel_anthropic.py"
# claude-sonnet-4-5 twice + the Bedrock us. profile (+10%, no web-search price in the Bedrock table):
# 1,200 x 3.3 + 2,000 x 4.125 + 1,000 x 6.6 + 10,000 x 0.33 + 800 x 16.5 = 35,310 per 1M
EXPECTED_TOTAL = 2 * SONNET_COST + 0.03531


def _run(env: dict[str, str]) -> list[Any]:
    out = run_to_exit(APP, env={"OTEL_LOGS_EXPORTER": "none", "OTEL_SERVICE_NAME": "support-bot",
                                "OTEL_TRACES_EXPORTER": "console", "OTEL_METRICS_EXPORTER": "console", **env},
                      unset=["ANTHROPIC_OPEN_TELEMETRY"], timeout=90)
    return list(json_documents(out))  # the batch processor may export some spans before READY


@pytest.mark.parametrize("native", ["keep", "disable"])
def test_native_spans_policy_under_opentelemetry_instrument(native: str) -> None:
    docs = _run({"OTEL_LLM_COST_ANTHROPIC_NATIVE_SPANS": native, "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "anthropic"})
    spans = [d for d in docs if d.get("kind") == "SpanKind.CLIENT"]
    ours = [s for s in spans if s["name"].startswith("chat ")]
    theirs = [s for s in spans if s["name"] == "anthropic.messages.create"]
    assert len(ours) == 3
    assert sum(s["attributes"]["gen_ai.usage.cost.amount"] for s in ours) == pytest.approx(EXPECTED_TOTAL, rel=1e-9)
    if native == "keep":
        assert len(theirs) == 3
        assert {s["parent_id"] for s in theirs} == {s["context"]["span_id"] for s in ours}
        assert all("gen_ai.usage.cost.amount" not in s["attributes"] for s in theirs)
    else:
        assert theirs == []
    assert sum(p["value"] for p in cost_points(docs)) == pytest.approx(EXPECTED_TOTAL, rel=1e-9)


def test_with_the_official_genai_anthropic_instrumentation() -> None:
    pytest.importorskip("opentelemetry.instrumentation.genai.anthropic")
    docs = _run({"OTEL_LLM_COST_ANTHROPIC_NATIVE_SPANS": "disable"})
    genai = [d for d in docs if d.get("kind") == "SpanKind.CLIENT" and d["name"].startswith("chat ")]
    # genai-anthropic wraps the first-party client's messages: one GenAI span each, enriched with our cost
    assert len(genai) == 3, [(s["name"], s["attributes"].get("gen_ai.provider.name")) for s in genai]
    assert sum(s["attributes"]["gen_ai.usage.cost.amount"] for s in genai) == pytest.approx(EXPECTED_TOTAL, rel=1e-9)
    assert sum(p["value"] for p in cost_points(docs)) == pytest.approx(EXPECTED_TOTAL, rel=1e-9)
