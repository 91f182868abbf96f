"""Straight-line Python for one price row: the per-call pricing path without loops or lookups by name.

Why generated code: a price row is a handful of (usage field, price, divisor) terms fixed when the table is
loaded. Evaluating them generically (a loop over terms, ``getattr`` by name, tuple unpacking, a Breakdown
object) costs several times the arithmetic itself. As ``dataclasses`` and ``attrs`` do for ``__init__``, we
build the source of one function per row once and ``exec`` it, with the prices bound as globals.

The arithmetic is the same as ``PriceRow.cost`` term for term and in the same order, so results are equal
to the last bit (the parity and golden tests run through this path). The compiled function handles only a
clean call: it returns None for anything else (a count that is missing, negative or not an int; a subset
larger than its total; web searches the row has no price for), and the general path then prices it or
says why not, with its messages.
"""

from __future__ import annotations

from collections.abc import Callable

from ..usage import USAGE_FIELDS, Usage
from .result import Cost
from .table import Price, PriceRow, Tiered

CompiledPrice = Callable[[Usage], "Cost | None"]


def compile_row(row: PriceRow, table_id: str, provider_id: str, model_id: str) -> CompiledPrice:
    """A function pricing a ``Usage`` at ``row`` exactly as ``PriceRow.cost`` + ``Cost.local`` would."""
    terms = row.terms()
    scope: dict[str, object] = {"_local": Cost.local, "TABLE": table_id, "PROVIDER": provider_id,
                                "MODEL": model_id}
    lines = ["def price(usage):"]
    # Validate every count, priced or not, as the general path does; None means "not reported".
    lines += ["    ti = usage.input_tokens", "    if ti.__class__ is not int or ti < 0: return None"]
    web_priced = "web_searches_kcount" in row.prices
    for name in USAGE_FIELDS:
        if name == "input_tokens":
            continue
        if name == "web_searches" and not web_priced:  # the general path warns about the unpriced part
            lines.append("    if usage.web_searches is not None: return None")
            continue
        lines += [f"    {name} = usage.{name}",
                  f"    if {name} is None: {name} = 0",
                  f"    elif {name}.__class__ is not int or {name} < 0: return None"]
    bucket_terms: list[list[str]] = [[] for _ in range(5)]
    for i, (field_name, price, per, bucket, more_specific) in enumerate(terms):
        count = "0" if field_name is None else ("ti" if field_name == "input_tokens" else field_name)
        lines.append(f"    l{i} = {count}" + "".join(f" - l{j}" for j in more_specific))
        if more_specific:
            lines.append(f"    if l{i} < 0: return None")
        bucket_terms[bucket].append(f"{_price_expr(f'P{i}', price, scope)} * l{i} / {per}")
    for bucket, parts in enumerate(bucket_terms):
        lines.append(f"    s{bucket} = " + " + ".join(["0.0", *parts]))
    input_price, read_price = row.prices.get("input_mtok"), row.prices.get("cache_read_mtok")
    if input_price is not None and read_price is not None:
        saved = f"{_price_expr('IN', input_price, scope)} - {_price_expr('READ', read_price, scope)}"
        lines.append(f"    savings = max(0.0, ({saved}) * cache_read_tokens / 1000000) if cache_read_tokens else 0.0")
    else:
        lines.append("    savings = 0.0")
    lines.append("    return _local(s0 + s1 + s2 + s3 + s4, s0, s1, s2, s3, s4, TABLE, PROVIDER, MODEL, savings)")
    exec("\n".join(lines), scope)  # our own source, built from the table's numbers only
    function: CompiledPrice = scope["price"]  # type: ignore[assignment]
    return function


def _price_expr(name: str, price: Price, scope: dict[str, object]) -> str:
    """The unit price as an expression of ``ti`` (total input tokens): a name, or for a long-context price the
    conditional ``Tiered.at`` evaluates (the highest threshold exceeded wins), without a method call."""
    if not isinstance(price, Tiered):
        scope[name] = price
        return name
    scope[f"{name}_0"] = price.base
    expr = f"{name}_0"
    for k, (start, tier_price) in enumerate(price.tiers, 1):
        scope[f"{name}_{k}"], scope[f"{name}_{k}_above"] = tier_price, start
        expr = f"({name}_{k} if ti > {name}_{k}_above else {expr})"
    return expr
