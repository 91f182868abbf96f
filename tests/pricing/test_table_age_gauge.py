"""The gauge ``llm_cost.price_table.age``: the age in days of the table in force, labelled with its id."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from otel_llm_cost.pricing.table import bundled_table
from telemetry_fixtures import Otel

pytest.importorskip("openai", reason="instrument() builds its telemetry once an instrumented SDK is present")


def test_the_table_age_is_reported_in_days_with_the_table_id(otel: Otel) -> None:
    table = bundled_table()
    made = datetime.combine(date.fromisoformat(table.generated_at), datetime.min.time(), timezone.utc)
    expected = (datetime.now(timezone.utc) - made).total_seconds() / 86400
    metrics = otel.metrics()
    (point,) = metrics["llm_cost.price_table.age"]
    assert metrics["llm_cost.price_table.age#unit"] == ["d"]
    assert dict(point.attributes) == {"llm_cost.price_table": table.table_id}
    assert point.value == pytest.approx(expected, abs=0.01)


def test_instrumenting_again_reports_one_table_not_two(otel: Otel) -> None:
    otel.reinstrument(metric_attributes="feature")
    assert len(otel.metrics()["llm_cost.price_table.age"]) == 1
