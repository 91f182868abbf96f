"""The template variables every LLM cost dashboard shares: datasource, service, environment, provider, model,
feature, team. Each is chained to the ones before it, multi-value, and "All" is a regex so that series without
the label (a call made outside any ``attributes(feature=...)`` block) are still included."""

from __future__ import annotations

from typing import Any

from . import grafana as g
from .promql import DURATION, VARIABLES

# The duration histogram gets one sample per call, priced or not, failed or not: the widest set of label values.
SOURCE = f"{DURATION}_count"
DESCRIPTIONS = {
    "service": "service.name of the instrumented application (OTEL_SERVICE_NAME)",
    "environment": "deployment.environment(.name) resource attribute; blank when the app sets none",
    "provider": "gen_ai.provider.name (openai, anthropic, aws.bedrock, ...)",
    "model": "gen_ai.request.model as the application asked for it",
    "feature": "attribution key `feature` (otel_llm_cost.attributes(feature=...)); All includes unattributed calls",
    "team": "attribution key `team` (otel_llm_cost.attributes(team=...)); All includes unattributed calls",
}
LABELS = {"service": "Service", "environment": "Environment", "provider": "Provider", "model": "Model",
          "feature": "Feature", "team": "Team"}


def all_variables() -> list[dict[str, Any]]:
    out = [g.datasource_variable()]
    before: list[str] = []
    for label, name in VARIABLES.items():
        scope = ", ".join(f'{prev}=~"${VARIABLES[prev]}"' for prev in before)
        query = f"label_values({SOURCE}{{{scope}}}, {label})" if scope else f"label_values({SOURCE}, {label})"
        out.append(g.query_variable(name, LABELS[name], query, ".*", DESCRIPTIONS[name]))
        before.append(label)
    return out
