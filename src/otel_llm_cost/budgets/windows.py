"""Calendar windows (hour, day, week from Monday, month) in a budget's time zone, as UTC epoch seconds.

A budget's counters belong to one window: the store key names the window's start, so a new window starts
from zero at the boundary by construction (no reset job, nothing to miss when every replica is down).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo


def window_bounds(now: float, window: str, tz: tzinfo) -> tuple[float, float]:
    """(start, end) epoch seconds of the calendar window containing ``now`` (epoch seconds)."""
    local = datetime.fromtimestamp(now, tz)
    if window == "hour":
        # local, for zones offset by a fraction of an hour; 3,600 s long even across a DST change
        start = local.replace(minute=0, second=0, microsecond=0).timestamp()
        return start, start + 3600.0
    day = datetime(local.year, local.month, local.day)
    if window == "day":
        first, following = day, day + timedelta(days=1)
    elif window == "week":
        first = day - timedelta(days=local.weekday())
        following = first + timedelta(days=7)
    elif window == "month":
        first = datetime(local.year, local.month, 1)
        following = datetime(local.year + (local.month == 12), local.month % 12 + 1, 1)
    else:
        raise ValueError(f"unknown window {window!r}")
    return _aware(first, tz).timestamp(), _aware(following, tz).timestamp()


def _aware(naive_local: datetime, tz: tzinfo) -> datetime:
    """A local wall-clock time in ``tz`` (the first of two at a DST fold)."""
    return naive_local.replace(tzinfo=tz, fold=0)


def window_label(start: float) -> str:
    """The window's start as a compact UTC stamp, for store keys: 20261207T000000Z."""
    return datetime.fromtimestamp(start, timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def as_utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, timezone.utc)
