"""Type-check dashboard JSON against Grafana's published TypeScript types (``@grafana/schema``) with tsc.

There is no JSON Schema for v1 dashboards; the TypeScript types that Grafana publishes are the reference. Each
dashboard becomes ``export const d = <json> satisfies Dashboard`` (wrong types, unknown properties and missing
required fields fail), and each panel's ``options`` and ``fieldConfig.defaults.custom`` are checked against that
panel plugin's own generated types (``Partial<...>``: Grafana fills in the options a dashboard leaves out).
The tools are installed by scripts/setup.d/20-dashboard-schema.sh from tests/dashboards/npm/ (pinned lock file).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
LOCK_DIR = Path(__file__).resolve().parent / "npm"
# panel type -> the plugin's generated types module inside @grafana/schema
PANEL_TYPES = {"stat": "StatPanelCfg", "gauge": "GaugePanelCfg", "bargauge": "BarGaugePanelCfg",
               "timeseries": "TimeSeriesPanelCfg", "table": "TablePanelCfg", "heatmap": "HeatmapPanelCfg",
               "text": "TextPanelCfg"}
# The generated types use TypeScript string enums (FieldColorModeId.Thresholds = 'thresholds', ...), which a JSON
# string literal can never satisfy. JsonOf<T> is T with every string enum replaced by the union of its values
# (`${E}`), so the check is exactly "the JSON holds one of the allowed strings"; everything else is unchanged.
JSON_OF = """type JsonOf<T> =
  T extends string ? (string extends T ? string : `${T}`) :
  T extends readonly (infer U)[] ? JsonOf<U>[] :
  T extends object ? { [K in keyof T]: JsonOf<T[K]> } :
  T;"""
# plugins whose generated types have a FieldConfig (the others only have Options)
HAS_FIELD_CONFIG = {"timeseries", "table", "heatmap"}


def tools_dir() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return Path(os.environ.get("OTEL_LLM_COST_NPM_SCHEMA_DIR") or cache / "otel-llm-cost" / "npm-schema")


def tsc_path() -> Path:
    return tools_dir() / "node_modules" / "typescript" / "bin" / "tsc"


def _module(panel_type: str) -> str:
    name = PANEL_TYPES[panel_type]
    return f"@grafana/schema/dist/esm/raw/composable/{panel_type}/panelcfg/x/{name}_types.gen"


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for panel in dashboard.get("panels", []):
        out.append(panel)
        out.extend(panel.get("panels", []))  # collapsed rows keep their panels inside
    return out


def typescript_source(dashboard: dict[str, Any]) -> str:
    """The .ts file that tsc checks for one dashboard."""
    lines = ["import type { Dashboard } from '@grafana/schema';", JSON_OF]
    used = sorted({p["type"] for p in _panels(dashboard) if p["type"] in PANEL_TYPES})
    for kind in used:
        alias = PANEL_TYPES[kind]
        fc = f", FieldConfig as {alias}Field" if kind in HAS_FIELD_CONFIG else ""
        lines.append(f"import type {{ Options as {alias}Options{fc} }} from '{_module(kind)}';")
    lines.append(f"export const dashboard = {json.dumps(dashboard, indent=1)} satisfies JsonOf<Dashboard>;")
    for panel in _panels(dashboard):
        kind = panel["type"]
        if kind == "row":
            continue
        if kind not in PANEL_TYPES:
            raise ValueError(f"panel {panel.get('title')!r}: no schema known for panel type {kind!r}")
        alias, pid = PANEL_TYPES[kind], panel["id"]
        lines.append(f"export const options{pid} = {json.dumps(panel.get('options', {}))} "
                     f"satisfies Partial<JsonOf<{alias}Options>>;")
        custom = panel.get("fieldConfig", {}).get("defaults", {}).get("custom")
        if custom is not None:
            if kind not in HAS_FIELD_CONFIG:
                raise ValueError(f"panel {panel.get('title')!r}: {kind} has no custom field config")
            lines.append(f"export const custom{pid} = {json.dumps(custom)} satisfies Partial<JsonOf<{alias}Field>>;")
    return "\n".join(lines) + "\n"


def typecheck(dashboards: dict[str, dict[str, Any]], workdir: Path) -> subprocess.CompletedProcess[str]:
    """Run tsc --strict --noEmit over one .ts file per dashboard; returns the finished process."""
    (workdir / "node_modules").symlink_to(tools_dir() / "node_modules", target_is_directory=True)
    files = []
    for name, dashboard in dashboards.items():
        path = workdir / f"{name}.ts"
        path.write_text(typescript_source(dashboard), encoding="utf-8")
        files.append(str(path))
    cmd = ["node", str(tsc_path()), "--noEmit", "--strict", "--skipLibCheck", "--moduleResolution", "bundler",
           "--module", "esnext", "--target", "es2022", *files]
    return subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=300, check=False)
