"""``otel-llm-cost doctor`` names the price table in force, its age and source, and warns past 60 days."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path

from otel_llm_cost.cli.doctor import run_doctor
from otel_llm_cost.pricing.store import reset_table_in_force
from otel_llm_cost.pricing.table import bundled_table

BUNDLED = Path(__file__).resolve().parents[2] / "src" / "otel_llm_cost" / "pricing" / "data" / "prices.json"


def _doctor(env: dict[str, str], today: date) -> str:
    out = io.StringIO()
    reset_table_in_force()
    try:
        run_doctor(out=out, env=env, today=today)
    finally:
        reset_table_in_force()
    return out.getvalue()


def test_a_table_older_than_60_days_is_a_warning_with_the_fix(tmp_path: Path) -> None:
    made = date.fromisoformat(bundled_table().generated_at)
    fresh = _doctor({"OTEL_LLM_COST_PRICES_CACHE": str(tmp_path)}, made + timedelta(days=60))
    assert "ok    price table in force: " in fresh and "(60 days old; bundled with the package)" in fresh
    stale = _doctor({"OTEL_LLM_COST_PRICES_CACHE": str(tmp_path)}, made + timedelta(days=61))
    assert "(61 days old; bundled with the package): older than 60 days" in stale
    assert "otel-llm-cost prices update (then restart the app)" in stale


def test_an_updated_table_is_shown_with_where_it_came_from(tmp_path: Path) -> None:
    raw = json.loads(BUNDLED.read_text())
    today = date.fromisoformat(raw["generated_at"]) + timedelta(days=1)
    raw.update(table_id=f"genai-prices-data@{today}+abcd1234", generated_at=today.isoformat(),
               source={"package": "genai-prices", "url": "https://example.test/data.json"})
    (tmp_path / "prices.json").write_text(json.dumps(raw))
    out = _doctor({"OTEL_LLM_COST_PRICES_CACHE": str(tmp_path)}, today)
    assert (f"price table in force: genai-prices-data@{today}+abcd1234 (0 days old; updated from "
            f"https://example.test/data.json, stored in {tmp_path / 'prices.json'})") in out
