"""PromQL for exact counter totals over a window: per-minute increments instead of ``increase()``.

``increase()`` extrapolates to the window's edges (a run that spent $1.3767 shows as $1.3843 over 24 hours) and
never counts a series' first sample (a script that exports once, at exit, shows as nothing). Adding up what
each counter gained minute by minute is exact instead: at every whole-minute step ``tau`` of a subquery, a
series adds its last value in ``(tau - 1m, tau]`` minus its value at ``tau - 1m`` (what it gained in that
minute), or that whole last value where there is nothing to subtract (born in that minute) or where it went
down (a restart: the new process counts from 0).
The recording rules in prometheus/rules/llm-cost-recording.yaml use the same expression (a test keeps them in
step); ``report`` and the dashboards use :func:`whole_minutes_total`.
"""

from __future__ import annotations

import math
import re

_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_PART = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")


def minute_increments(selector: str) -> str:
    """PromQL: per series, what the counter gained in the minute ending at the evaluation (subquery step).

    The minute's last sample comes from a range (``last_over_time``), which skips the staleness marker a scrape
    writes when its target goes away: a process that exits within the minute still has its last export
    counted. The value before the minute is an instant lookup, which does honour that marker: after it, the
    next sample is a new process, counted from 0.
    """
    last = f"last_over_time({selector}[1m])"
    return f"(({last} - {selector} offset 1m >= 0) or {last} * 1)"


def whole_minutes_total(selector: str, subquery_range: str, after: str) -> str:
    """PromQL: per series, the minute increments of every minute ending after ``after`` (a PromQL number, Unix
    seconds) up to the end of the current minute, so data up to now is in.

    ``subquery_range`` must reach back to ``after``; "offset -59s999ms" moves the subquery's last step to the
    end of the current minute (it is the evaluation time itself when that is a whole minute).
    """
    return (f"sum_over_time(({minute_increments(selector)} and on() vector(time()) > {after})"
            f"[{subquery_range}:1m] offset -59s999ms)")


def duration_seconds(duration: str) -> float:
    """Seconds of a Prometheus duration such as ``90m`` or ``1h30m`` (already validated by ``prom.DURATION``)."""
    return float(sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _PART.findall(duration)))


def minute_end(unix_seconds: float) -> int:
    """The end of the minute that holds ``unix_seconds`` (itself when it is a whole minute)."""
    return int(math.ceil(unix_seconds / 60) * 60)
