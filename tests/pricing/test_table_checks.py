"""The checks every table passes before use (bundled, built, downloaded), and what they name when it fails."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from otel_llm_cost.pricing.genai_data import PriceDataError, convert_providers
from otel_llm_cost.pricing.merge import check_table

BUNDLED = Path(__file__).resolve().parents[2] / "src" / "otel_llm_cost" / "pricing" / "data" / "prices.json"


@pytest.fixture(scope="module")
def bundled() -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(BUNDLED.read_text())
    return raw


def test_the_bundled_table_passes(bundled: dict[str, Any]) -> None:
    table = check_table(bundled)
    assert len(table.providers) == 47
    sources = {m.source for p in table.providers.values() for m in p.models}
    assert sources == {"genai-prices", "litellm", "correction"}  # a correction may add a model (an alias)
    rows = {row.source for p in table.providers.values() for m in p.models for _, row in m.history}
    assert rows == {"genai-prices", "litellm", "correction"}


def _broken(bundled: dict[str, Any], change: Any) -> dict[str, Any]:
    raw = copy.deepcopy(bundled)
    change(raw)
    return raw


@pytest.mark.parametrize(("change", "message"), [
    (lambda raw: raw.update(schema=2), "price table schema 2: this version reads schema 1"),
    (lambda raw: raw.pop("units"), "price table without 'units'"),
    (lambda raw: raw["providers"][0]["models"][0].update(match={"glob": "claude*"}), "malformed"),
    (lambda raw: raw["providers"][0]["models"][0]["prices"][0].update(when={"weekday": "mon"}), "malformed"),
    (lambda raw: raw.update(generated_at="yesterday"), "malformed"),
])
def test_a_broken_table_is_named(bundled: dict[str, Any], change: Any, message: str) -> None:
    with pytest.raises(PriceDataError, match=message):
        check_table(_broken(bundled, change))


def test_genai_data_problems_name_provider_model_and_field(bundled: dict[str, Any]) -> None:
    units = bundled["units"]
    model = {"id": "m1", "match": {"equals": "m1"}, "prices": {"input_mtok": -1}}
    with pytest.raises(PriceDataError, match=r"provider 'p', model 'm1', prices, input_mtok: a price must be a "
                                             r"finite number >= 0, got -1"):
        convert_providers([{"id": "p", "name": "P", "models": [model]}], units)
    with pytest.raises(PriceDataError, match="unknown constraint"):
        convert_providers([{"id": "p", "name": "P", "models": [dict(model, prices=[
            {"constraint": {"weekday": "mon"}, "prices": {"input_mtok": 1}}])]}], units)
    with pytest.raises(PriceDataError, match="time-of-day '09:00:00\\+08:00' is not UTC"):
        convert_providers([{"id": "p", "name": "P", "models": [dict(model, prices=[
            {"constraint": {"start_time": "09:00:00+08:00", "end_time": "10:00:00Z"}, "prices": {"input_mtok": 1}}
        ])]}], units)
    with pytest.raises(PriceDataError, match="provider id 'p' appears twice"):
        convert_providers([{"id": "p", "name": "P", "models": []}, {"id": "p", "name": "P", "models": []}], units)
