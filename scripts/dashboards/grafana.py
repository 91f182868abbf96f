"""Small builders for Grafana v1 dashboard JSON (schemaVersion 41), as plain dicts.

Plain dicts keep the output exactly what Grafana's published ``Dashboard`` type accepts (the tests type-check it
with ``@grafana/schema`` and tsc), with no builder library between us and the JSON. Panels are laid out left to
right in a 24-column grid; ``Layout`` assigns ids and grid positions so that the dashboards read top-down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 41
DATASOURCE: dict[str, str] = {"type": "prometheus", "uid": "${datasource}"}
USD = "currencyUSD"
TOKENS = "suffix: tokens"
TOKEN_RATE = "suffix: tokens/s"
SECONDS = "s"


def target(expr: str, legend: str = "__auto", ref: str = "A", *, instant: bool = False, fmt: str = "time_series",
           interval: str | None = None) -> dict[str, Any]:
    """One Prometheus query. Instant queries feed stats and tables, range queries feed graphs."""
    out: dict[str, Any] = {"datasource": DATASOURCE, "editorMode": "code", "expr": expr, "format": fmt,
                           "instant": instant, "legendFormat": legend, "range": not instant, "refId": ref}
    if interval:
        out["interval"] = interval
    return out


def legend(*labels: str) -> str:
    """Grafana legend format showing the given labels' values, space-separated: ``{{a}} {{b}}``."""
    return " ".join(f"{{{{{label}}}}}" for label in labels)


def thresholds(*steps: tuple[float | None, str]) -> dict[str, Any]:
    return {"mode": "absolute", "steps": [{"color": color, "value": value} for value, color in steps]}


GREEN = thresholds((None, "green"))


def field_defaults(unit: str, *, decimals: int | None = None, steps: dict[str, Any] | None = None,
                   custom: dict[str, Any] | None = None, no_value: str | None = None,
                   min_value: float | None = None, max_value: float | None = None,
                   color_mode: str = "thresholds") -> dict[str, Any]:
    out: dict[str, Any] = {"color": {"mode": color_mode}, "thresholds": steps or GREEN, "unit": unit}
    if decimals is not None:
        out["decimals"] = decimals
    if custom is not None:
        out["custom"] = custom
    if no_value is not None:
        out["noValue"] = no_value
    if min_value is not None:
        out["min"] = min_value
    if max_value is not None:
        out["max"] = max_value
    return out


def unit_override(name: str, unit: str, decimals: int | None = None) -> dict[str, Any]:
    """A per-column unit in a table (matched by the column's display name after ``organize``)."""
    props: list[dict[str, Any]] = [{"id": "unit", "value": unit}]
    if decimals is not None:
        props.append({"id": "decimals", "value": decimals})
    return {"matcher": {"id": "byName", "options": name}, "properties": props}


def _panel(kind: str, title: str, description: str, targets: list[dict[str, Any]], defaults: dict[str, Any],
           options: dict[str, Any], overrides: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"datasource": DATASOURCE, "description": description,
            "fieldConfig": {"defaults": defaults, "overrides": overrides or []},
            "options": options, "targets": targets, "title": title, "type": kind}


def _reduce(calcs: str = "lastNotNull") -> dict[str, Any]:
    return {"calcs": [calcs], "fields": "", "values": False}


def stat(title: str, description: str, targets: list[dict[str, Any]], unit: str, *, decimals: int | None = None,
         steps: dict[str, Any] | None = None, no_value: str | None = None,
         time_from: str | None = None) -> dict[str, Any]:
    options = {"colorMode": "value", "graphMode": "none", "justifyMode": "auto", "orientation": "auto",
               "reduceOptions": _reduce(), "showPercentChange": False, "textMode": "value_and_name"
               if len(targets) > 1 else "value", "wideLayout": True}
    panel = _panel("stat", title, description, targets,
                   field_defaults(unit, decimals=decimals, steps=steps, no_value=no_value), options)
    if time_from:
        panel["timeFrom"] = time_from
    return panel


def gauge(title: str, description: str, targets: list[dict[str, Any]], unit: str, *, steps: dict[str, Any],
          max_value: float) -> dict[str, Any]:
    options = {"minVizHeight": 75, "minVizWidth": 75, "orientation": "auto", "reduceOptions": _reduce(),
               "showThresholdLabels": False, "showThresholdMarkers": True, "sizing": "auto"}
    return _panel("gauge", title, description, targets,
                  field_defaults(unit, steps=steps, min_value=0, max_value=max_value, decimals=0), options)


def timeseries(title: str, description: str, targets: list[dict[str, Any]], unit: str, *, stacked: bool = False,
               decimals: int | None = None) -> dict[str, Any]:
    custom = {"axisPlacement": "auto", "drawStyle": "line", "fillOpacity": 60 if stacked else 10,
              "lineWidth": 1, "showPoints": "never", "spanNulls": True,
              "stacking": {"group": "A", "mode": "normal" if stacked else "none"}}
    options = {"legend": {"calcs": ["mean", "max"], "displayMode": "table", "placement": "right",
                          "showLegend": True},
               "tooltip": {"mode": "multi", "sort": "desc"}}
    return _panel("timeseries", title, description, targets,
                  field_defaults(unit, decimals=decimals, custom=custom, color_mode="palette-classic"), options)


def bargauge(title: str, description: str, targets: list[dict[str, Any]], unit: str) -> dict[str, Any]:
    options = {"displayMode": "gradient", "maxVizHeight": 300, "minVizHeight": 16, "minVizWidth": 8,
               "namePlacement": "left", "orientation": "horizontal", "reduceOptions": _reduce(),
               "showUnfilled": True, "sizing": "auto", "valueMode": "color"}
    return _panel("bargauge", title, description, targets,
                  field_defaults(unit, decimals=2, color_mode="continuous-BlPu"), options)


def table(title: str, description: str, targets: list[dict[str, Any]], columns: dict[str, tuple[str, str]],
          sort_by: str, *, hide: tuple[str, ...] = ()) -> dict[str, Any]:
    """Merge instant table queries on their labels; ``columns`` maps "Value #<ref>" -> (title, unit)."""
    rename = {f"Value #{ref}": name for ref, (name, _unit) in columns.items()}
    exclude = {"Time": True, **{name: True for name in hide}}
    transformations = [
        {"id": "merge", "options": {}},
        {"id": "organize", "options": {"excludeByName": exclude, "indexByName": {}, "renameByName": rename}},
        {"id": "sortBy", "options": {"fields": {}, "sort": [{"desc": True, "field": sort_by}]}},
    ]
    overrides = [unit_override(name, unit) for name, unit in columns.values()]
    options = {"cellHeight": "sm", "showHeader": True, "sortBy": [{"desc": True, "displayName": sort_by}]}
    panel = _panel("table", title, description, targets, field_defaults("short", custom={"filterable": True}),
                   options, overrides)
    panel["transformations"] = transformations
    return panel


def heatmap(title: str, description: str, targets: list[dict[str, Any]], unit: str) -> dict[str, Any]:
    color = {"exponent": 0.5, "fill": "dark-orange", "mode": "scheme", "reverse": False, "scale": "exponential",
             "scheme": "Oranges", "steps": 64}
    options = {"calculate": False, "cellGap": 1, "color": color,
               "exemplars": {"color": "rgba(255,0,255,0.7)"}, "filterValues": {"le": 1e-9},
               "legend": {"show": True}, "rowsFrame": {"layout": "auto"},
               "tooltip": {"mode": "single", "yHistogram": True},
               "yAxis": {"axisPlacement": "left", "reverse": False, "unit": unit}}
    return _panel("heatmap", title, description, targets, field_defaults("short"), options)


@dataclass
class Layout:
    """Places panels row by row on Grafana's 24-column grid and numbers them."""

    panels: list[dict[str, Any]] = field(default_factory=list)
    _y: int = 0
    _x: int = 0
    _row_h: int = 0

    def row(self, title: str) -> None:
        self._newline()
        self.panels.append({"collapsed": False, "gridPos": {"h": 1, "w": 24, "x": 0, "y": self._y},
                            "id": len(self.panels) + 1, "panels": [], "title": title, "type": "row"})
        self._y += 1

    def add(self, panel: dict[str, Any], w: int, h: int) -> None:
        if self._x + w > 24:
            self._newline()
        panel["gridPos"] = {"h": h, "w": w, "x": self._x, "y": self._y}
        panel["id"] = len(self.panels) + 1
        self.panels.append(panel)
        self._x += w
        self._row_h = max(self._row_h, h)

    def _newline(self) -> None:
        self._y += self._row_h
        self._x = self._row_h = 0


def datasource_variable() -> dict[str, Any]:
    return {"hide": 0, "includeAll": False, "label": "Data source", "multi": False,
            "name": "datasource", "options": [], "query": "prometheus", "refresh": 1, "regex": "",
            "type": "datasource"}


def query_variable(name: str, label: str, query: str, all_value: str, description: str) -> dict[str, Any]:
    """A multi-value label variable whose "All" is a regex (so series without the label still match)."""
    return {"allValue": all_value, "current": {"text": ["All"], "value": ["$__all"]}, "datasource": DATASOURCE,
            "description": description, "hide": 0, "includeAll": True, "label": label, "multi": True,
            "name": name, "options": [],
            "query": {"qryType": 1, "query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
            "refresh": 2, "regex": "", "sort": 1, "type": "query"}


def dashboard(uid: str, title: str, description: str, tags: list[str], variables: list[dict[str, Any]],
              layout: Layout, links: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "annotations": {"list": [{"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                                  "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
                                  "name": "Annotations & Alerts", "type": "dashboard"}]},
        "description": description, "editable": True, "fiscalYearStartMonth": 0, "graphTooltip": 1,
        "links": links, "panels": layout.panels, "refresh": "1m", "schemaVersion": SCHEMA_VERSION,
        "tags": tags, "templating": {"list": variables}, "time": {"from": "now-24h", "to": "now"},
        "timepicker": {}, "timezone": "utc", "title": title, "uid": uid, "version": 1,
    }


def dashboard_links() -> list[dict[str, Any]]:
    """Links to the sibling dashboards, keeping time range and variables."""
    return [{"asDropdown": False, "icon": "external link", "includeVars": True, "keepTime": True,
             "tags": ["llm-cost"], "targetBlank": False, "title": "LLM cost dashboards", "tooltip": "",
             "type": "dashboards", "url": ""}]
