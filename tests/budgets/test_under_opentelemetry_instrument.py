"""Budgets the moment they are configured: an app under the real ``opentelemetry-instrument`` with only
``OTEL_LLM_COST_BUDGETS_FILE`` set gets ``BudgetExceeded``, a budget_exceeded span and the budget metrics."""

from __future__ import annotations

from pathlib import Path

from subprocess_app import json_documents, run_to_exit

APP = Path(__file__).resolve().parent / "app_with_budgets.py"


def test_budget_file_enforced_under_opentelemetry_instrument(tmp_path: Path) -> None:
    budgets = tmp_path / "budgets.toml"
    # each call costs about $0.00033 on the simulated API: the third one no longer fits
    budgets.write_text('[[budget]]\nname = "per-user"\nscope = { user_id = "*", service = "shop" }\n'
                       'limit_usd = 0.0007\nwindow = "day"\n')
    out = run_to_exit(APP, env={"OTEL_LLM_COST_BUDGETS_FILE": str(budgets), "OTEL_SERVICE_NAME": "shop",
                                "OTEL_TRACES_EXPORTER": "console", "OTEL_METRICS_EXPORTER": "console",
                                "OTEL_LOGS_EXPORTER": "none",
                                # the peers' own spans would hide ours (their error.type wins on theirs)
                                "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "openai,anthropic"})
    assert "SENT 2 REFUSED per-user {'user_id': 'u-7', 'service': 'shop'}" in out
    docs = list(json_documents(out))
    spans = [d for d in docs if d.get("kind") == "SpanKind.CLIENT"]
    assert [s["attributes"].get("error.type") for s in spans] == [None, None, "budget_exceeded"]
    metrics = {m["name"]: m["data"]["data_points"] for d in docs for rm in d.get("resource_metrics", ())
               for sm in rm["scope_metrics"] if sm["scope"]["name"] == "otel_llm_cost" for m in sm["metrics"]}
    assert [(p["attributes"], p["value"]) for p in metrics["llm_cost.budget.blocked"]] == [
        ({"llm_cost.budget": "per-user", "llm_cost.budget.reason": "limit"}, 1)]
    assert [p["value"] for p in metrics["llm_cost.budget.limit"]] == [0.0007]
    assert 0.0006 < metrics["llm_cost.budget.spent"][0]["value"] < 0.0007
