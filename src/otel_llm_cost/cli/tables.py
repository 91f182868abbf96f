"""Aligned plain-text tables and USD formatting for the terminal commands (``demo``, ``report``)."""

from __future__ import annotations

from collections.abc import Sequence


def usd(value: float, decimals: int = 6) -> str:
    """``$1,234.567890``: six decimals by default, so a cheap call never rounds to $0."""
    return f"${value:,.{decimals}f}"


def tokens(value: float) -> str:
    return f"{round(value):,}"


def render(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool],
           footer: Sequence[str] | None = None) -> str:
    """A table with one space-padded column per header; ``right`` aligns numbers to the right."""
    body = [list(headers), *[list(r) for r in rows], *([list(footer)] if footer else [])]
    widths = [max(len(r[i]) for r in body) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        padded = (c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=False))
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * w for w in widths)
    out = [line(headers), rule, *(line(r) for r in rows)]
    if footer:
        out += [rule, line(footer)]
    return "\n".join(out)
