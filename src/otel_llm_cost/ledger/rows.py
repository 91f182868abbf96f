"""One finished span -> one ledger row (a tuple in ``schema.COLUMNS`` order), or None for any other span.

Kept: the spans of our GenAI calls, i.e. those our instrumentation opened, and a peer instrumentation's GenAI
span that we priced (it carries our cost or unpriced reason). Attribution keys are the span's string attributes
outside the namespaces instrumentations use (``gen_ai.``, ``llm_cost.``, ``server.`` ...): what
``otel_llm_cost.attributes(...)`` and the baggage keys put there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from ..core import telemetry as t
from .schema import ATTRIBUTION_COLUMNS, Row

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# Span attribute namespaces that are never attribution (ours, the conventions', peers').
NOT_ATTRIBUTION = ("gen_ai.", "llm_cost.", "llm.", "server.", "error.", "openai.", "anthropic.", "traceloop.",
                   "http.", "url.", "net.", "network.", "aws.", "gcp.", "azure.", "az.", "cloud.", "code.",
                   "thread.", "exception.", "otel.", "telemetry.", "db.", "rpc.")
_SERVICE_TIERS = (t.SERVICE_TIER, *dict.fromkeys(t.SERVICE_TIER_BY_PROVIDER.values()))
_ALIAS_OF = {alias: column for column, aliases in ATTRIBUTION_COLUMNS.items() for alias in aliases}


def is_ledger_span(scope: str | None, attrs: Mapping[str, Any]) -> bool:
    if t.OPERATION not in attrs:
        return False
    return scope == t.SCOPE or t.COST_AMOUNT in attrs or t.UNPRICED_REASON in attrs


def attribution(attrs: Mapping[str, Any]) -> dict[str, str]:
    return {key: value for key, value in attrs.items()
            if value.__class__ is str and not key.startswith(NOT_ATTRIBUTION)}


def _int(value: Any) -> int | None:
    return value if value.__class__ is int else None


def _float(value: Any) -> float | None:
    return float(value) if value.__class__ in (float, int) else None


def _str(value: Any) -> str | None:
    return value if value.__class__ is str else None


def span_row(span: Any) -> Row | None:
    """The ledger row of a finished ``ReadableSpan``, or None when it is not one of our GenAI calls."""
    raw: Mapping[str, Any] = span.attributes or {}
    scope = getattr(getattr(span, "instrumentation_scope", None), "name", None)
    if not is_ledger_span(scope, raw):
        return None
    attrs = dict(raw)  # one pass through the SDK's locked mapping, then plain dict lookups
    context = span.context
    start_ns = span.start_time or 0
    end_ns = span.end_time or start_ns
    resource: Mapping[str, Any] = getattr(getattr(span, "resource", None), "attributes", None) or {}
    keys = attribution(attrs)
    by_column: dict[str, str] = {}
    for key, value in keys.items():
        column = _ALIAS_OF.get(key)
        if column is not None and (key == column or column not in by_column):
            by_column[column] = value
    return (
        format(context.span_id, "016x"),
        format(context.trace_id, "032x"),
        _EPOCH + timedelta(microseconds=start_ns // 1000),
        (end_ns - start_ns) / 1e9,
        _str(resource.get("service.name")),
        _str(resource.get("deployment.environment.name") or resource.get("deployment.environment")),
        _str(attrs.get(t.PROVIDER)),
        _str(attrs.get(t.OPERATION)),
        _str(attrs.get(t.REQUEST_MODEL)),
        _str(attrs.get(t.RESPONSE_MODEL)),
        _str(attrs.get(t.SERVER_ADDRESS)),
        _str(attrs.get(t.RESPONSE_ID)),
        next((_str(attrs[name]) for name in _SERVICE_TIERS if name in attrs), None),
        _int(attrs.get(t.INPUT_TOKENS)),
        _int(attrs.get(t.OUTPUT_TOKENS)),
        _int(attrs.get(t.CACHE_READ_TOKENS)),
        _int(attrs.get(t.CACHE_WRITE_TOKENS)),
        _int(attrs.get(t.REASONING_TOKENS)),
        _float(attrs.get(t.COST_AMOUNT)),
        *(_float(attrs.get(name)) for name in t.COST_PARTS.values()),
        _str(attrs.get(t.COST_SOURCE)),
        _str(attrs.get(t.PRICE_TABLE)),
        _str(attrs.get(t.UNPRICED_REASON)),
        _str(attrs.get(t.ERROR_TYPE)),
        by_column.get("user_id"),
        by_column.get("tenant"),
        by_column.get("feature"),
        by_column.get("team"),
        json.dumps(keys, ensure_ascii=False, separators=(",", ":"), sort_keys=True),
    )
