"""Straight-line Python for one price row: the per-call pricing path without loops or lookups by name.

Why generated code: a price row is a handful of (usage field, price, divisor) terms fixed when the table is
loaded. Evaluating them generically (a loop over terms, ``getattr`` by name, tuple unpacking, a Breakdown
object) costs several times the arithmetic itself. As ``dataclasses`` and ``attrs`` do for ``__init__``, we
build the source of one function per row once and ``exec`` it, with the prices bound as globals.

A (provider, model) no table knows gets a compiled function too, returning its memoised ``Unpriced``.

The arithmetic is the same as ``PriceRow.cost`` term for term and in the same order, so results are equal
to the last bit (the parity and golden tests run through this path). The compiled function handles only a
clean call: it returns None for anything else (a count that is missing, negative or not an int; a subset
larger than its total; web or rerank searches the row has no price for), and the general path then prices it or
says why not, with its messages.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from ..core.usage import USAGE_FIELDS, Usage
from .result import Cost, Unpriced
from .table import Price, PriceRow, Tiered

CompiledPrice = Callable[[Usage], "Cost | Unpriced | None"]


def compile_row(row: PriceRow, table_id: str, provider_id: str, model_id: str) -> CompiledPrice:
    """A function pricing a ``Usage`` at ``row`` exactly as ``PriceRow.cost`` + ``Cost.local`` would."""
    terms = row.terms()
    scope: dict[str, object] = {"_new": Cost.__new__, "_Cost": Cost, "TABLE": table_id, "PROVIDER": provider_id,
                                "MODEL": model_id, "SOURCE": row.source}
    used = {name for name, *_ in terms if name is not None}
    if row.prices.get("cache_read_mtok") is not None:
        used.add("cache_read_tokens")  # for the cache savings
    thresholds: set[int] = set()
    leaves: list[str] = []
    bucket_terms: list[list[str]] = [[] for _ in range(5)]
    for i, (field_name, price, per, bucket, more_specific) in enumerate(terms):
        count = "0" if field_name is None else ("ti" if field_name == "input_tokens" else field_name)
        leaves.append(f"    l{i} = {count}" + "".join(f" - l{j}" for j in more_specific))
        if more_specific:
            leaves.append(f"    if l{i} < 0: return None")
        bucket_terms[bucket].append(f"{_price_expr(f'P{i}', price, scope, thresholds)} * l{i} / {per}")
    input_price, read_price = row.prices.get("input_mtok"), row.prices.get("cache_read_mtok")
    savings = "    savings = 0.0"
    if input_price is not None and read_price is not None:
        saved = (f"{_price_expr('IN', input_price, scope, thresholds)} - "
                 f"{_price_expr('READ', read_price, scope, thresholds)}")
        savings = f"    savings = max(0.0, ({saved}) * cache_read_tokens / 1000000) if cache_read_tokens else 0.0"
    lines = ["def price(usage):", *_validation(used, web_priced="web_searches_kcount" in row.prices,
                                                     rerank_priced="rerank_searches_kcount" in row.prices),
             *(f"    above_{start} = ti > {start}" for start in sorted(thresholds)), *leaves]
    # the general path starts each bucket at 0.0; with non-negative terms 0.0 + t == t, bit for bit
    lines += [f"    s{bucket} = " + (" + ".join(parts) if parts else "0.0")
              for bucket, parts in enumerate(bucket_terms)]
    lines.append(savings)
    # Cost.local's assignments, inlined (a call less per priced call)
    lines += ["    c = _new(_Cost)", "    c.total = s0 + s1 + s2 + s3 + s4", "    c.input = s0", "    c.output = s1",
              "    c.cache_read = s2", "    c.cache_write = s3", "    c.other = s4", "    c.source = 'local'",
              "    c.price_table = TABLE", "    c.provider = PROVIDER", "    c.model = MODEL", "    c.currency = 'USD'",
              "    c.cache_savings = savings", "    c.discount_savings = 0.0", "    c.price_source = SOURCE",
              "    return c"]
    return _function(lines, scope)


def decline(usage: Usage) -> None:
    """The pricer of a key whose price depends on the call (its time, a user price): always the general path."""
    return None


def compile_unpriced(unpriced: Unpriced) -> CompiledPrice:
    """For a (provider, model) no table or override knows: the same ``Unpriced`` for every clean call, without
    the general path's name lookups (its warning was given on the first call). Compiled once per process:
    unknown names can be many."""
    return _unpriced_factory()(unpriced)


@cache
def _unpriced_factory() -> Callable[[Unpriced], CompiledPrice]:
    lines = ["def make(UNPRICED):", "  def price(usage):",
             *("  " + line for line in _validation(set(), web_priced=True, rerank_priced=True)),
             "      return UNPRICED", "  return price"]
    scope: dict[str, object] = {}
    exec("\n".join(lines), scope)  # our own source: field names only
    factory: Callable[[Unpriced], CompiledPrice] = scope["make"]  # type: ignore[assignment]
    return factory


def _validation(used: set[str], *, web_priced: bool, rerank_priced: bool) -> list[str]:
    """Lines checking every count, priced or not, as the general path does (None means "not reported"):
    any count that is not a non-negative int makes the function return None. The counts in ``used`` are
    kept in locals of the same name, None read as 0; the input total is ``ti``."""
    lines = ["    ti = usage.input_tokens", "    if ti.__class__ is not int or ti < 0: return None"]
    for name in USAGE_FIELDS:
        if name == "input_tokens":
            continue
        if name == "web_searches" and not web_priced:  # the general path warns about the unpriced part
            lines.append("    if usage.web_searches is not None: return None")
        elif name == "rerank_searches" and not rerank_priced:  # likewise (or unpriced when all it billed)
            lines.append("    if usage.rerank_searches is not None: return None")
        elif name in used:
            lines += [f"    {name} = usage.{name}",
                      f"    if {name} is None: {name} = 0",
                      f"    elif {name}.__class__ is not int or {name} < 0: return None"]
        else:
            lines += [f"    v = usage.{name}",
                      "    if v is not None and (v.__class__ is not int or v < 0): return None"]
    return lines


def _function(lines: list[str], scope: dict[str, object]) -> CompiledPrice:
    exec("\n".join(lines), scope)  # our own source, built from the table's numbers and field names only
    function: CompiledPrice = scope["price"]  # type: ignore[assignment]
    return function


def _price_expr(name: str, price: Price, scope: dict[str, object], thresholds: set[int]) -> str:
    """The unit price as an expression: a name, or for a long-context price the conditional ``Tiered.at``
    evaluates (the highest threshold exceeded wins) on ``above_N`` flags, computed once per threshold N of the
    row (its prices share them: Claude's 200k, Gemini's 200k), without a method call."""
    if not isinstance(price, Tiered):
        scope[name] = price
        return name
    scope[f"{name}_0"] = price.base
    expr = f"{name}_0"
    for k, (start, tier_price) in enumerate(price.tiers, 1):
        scope[f"{name}_{k}"] = tier_price
        thresholds.add(int(start))
        expr = f"({name}_{k} if above_{int(start)} else {expr})"
    return expr
