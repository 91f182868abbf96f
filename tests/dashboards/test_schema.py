"""The committed dashboards are what the generator produces, and satisfy Grafana's published dashboard types."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from schema_check import ROOT, tools_dir, tsc_path, typecheck

DASH_DIR = ROOT / "grafana-dashboards"
NAMES = ("llm-spend-overview", "llm-spend-attribution", "llm-usage-performance")


def load(name: str) -> dict[str, Any]:
    return json.loads((DASH_DIR / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def tsc_available() -> None:
    if tsc_path().exists() and subprocess.run(["node", "--version"], capture_output=True).returncode == 0:
        return
    message = f"tsc/@grafana/schema not installed in {tools_dir()}: run scripts/setup.d/20-dashboard-schema.sh"
    if os.environ.get("OTEL_LLM_COST_E2E_REQUIRED") == "1":
        pytest.fail(message)
    pytest.skip(message)


def test_committed_json_equals_generator_output() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_dashboards.py"), "--check"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_dashboards_are_distinct_and_linked() -> None:
    dashboards = [load(n) for n in NAMES]
    assert len({d["uid"] for d in dashboards}) == 3
    for d in dashboards:
        names = [v["name"] for v in d["templating"]["list"]]
        assert names == ["datasource", "service", "environment", "provider", "model", "feature", "team"]
        ids = [p["id"] for p in d["panels"]]
        assert len(ids) == len(set(ids)), d["uid"]
        for p in d["panels"]:
            assert p["gridPos"]["x"] + p["gridPos"]["w"] <= 24, p.get("title")
            for t in p.get("targets", []):
                assert t["datasource"] == {"type": "prometheus", "uid": "${datasource}"}


def test_dashboards_satisfy_grafana_schema(tsc_available: None, tmp_path: Path) -> None:
    result = typecheck({n: load(n) for n in NAMES}, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def _broken() -> dict[str, dict[str, Any]]:
    """Mistakes the type check must catch, one per dashboard copy."""
    base = load("llm-spend-overview")
    cases: dict[str, dict[str, Any]] = {}
    d = copy.deepcopy(base)
    d["panels"][1]["gridPos"]["h"] = "5"
    cases["grid_h_string"] = d
    d = copy.deepcopy(base)
    d["graphTooltip"] = 7
    cases["cursor_sync_enum"] = d
    d = copy.deepcopy(base)
    d["panels"][1]["fieldConfig"]["defaults"]["color"]["mode"] = "rainbow"
    cases["color_mode_enum"] = d
    d = copy.deepcopy(base)
    d["templating"]["list"][1]["refreshOnLoad"] = True
    cases["unknown_variable_field"] = d
    d = copy.deepcopy(base)
    stat = next(p for p in d["panels"] if p["type"] == "stat")
    stat["options"]["colorMode"] = "sparkles"
    cases["stat_option_enum"] = d
    d = copy.deepcopy(base)
    del d["schemaVersion"]
    cases["missing_schema_version"] = d
    return cases


def test_type_check_catches_broken_dashboards(tsc_available: None, tmp_path: Path) -> None:
    cases = _broken()
    result = typecheck(cases, tmp_path)
    assert result.returncode != 0
    for name in cases:  # every broken copy produced its own error
        assert f"{name}.ts(" in result.stdout, f"{name} not flagged:\n{result.stdout}"
