"""``otel-llm-cost prices update`` and ``prices diff``: keep the price table current, and cross-checked."""

from __future__ import annotations

import argparse
import sys


def register(prices_sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``update`` and ``diff`` subcommands to ``otel-llm-cost prices``."""
    from ..pricing.update import DEFAULT_SOURCE

    update = prices_sub.add_parser(
        "update", help="fetch the newest genai-prices data into the user cache (used from the next start)")
    update.add_argument("--source", metavar="URL|FILE", default=DEFAULT_SOURCE,
                        help="genai-prices' published data file (default: its GitHub raw URL)")
    update.add_argument("--check", action="store_true",
                        help="say how old the table in force is and what would change; write nothing")
    update.set_defaults(func=cmd_prices_update)

    diff = prices_sub.add_parser(
        "diff", help="cross-check the table in force against LiteLLM's price map; exit 1 on an unexplained "
                     ">1%% disagreement")
    diff.add_argument("--litellm", metavar="WHEEL_OR_JSON", default=None,
                      help="LiteLLM's map: a litellm wheel or the JSON (default: the cached pinned wheel, else an "
                           "installed litellm)")
    diff.add_argument("--all", action="store_true", help="also list the explained differences")
    diff.set_defaults(func=cmd_prices_diff)


def cmd_prices_update(args: argparse.Namespace) -> int:
    from ..pricing.store import age_days, cached_table_path, table_in_force
    from ..pricing.update import UpdateError, update

    current = table_in_force()
    print(f"table in force: {current.table_id} ({int(age_days(current))} days old; "
          f"{current.source.get('url') or 'bundled with the package'})")
    try:
        result = update(args.source, check=args.check, in_force=current)
    except UpdateError as exc:
        print(f"otel-llm-cost: price update failed: {exc}", file=sys.stderr)
        print(f"nothing was written; the table in force ({current.table_id}) stays in force", file=sys.stderr)
        return 1
    changes = result.changes
    print(f"{args.source}: {result.table['table_id']}, "
          f"{sum(len(p['models']) for p in result.table['providers'])} models")
    print(f"  {len(changes.added)} models added, {len(changes.removed)} removed, {len(changes.changed)} with "
          "changed prices")
    for label, items in (("added", changes.added), ("removed", changes.removed), ("changed", changes.changed)):
        for item in items[:50]:
            print(f"  {label}: {item}")
        if len(items) > 50:
            print(f"  ... and {len(items) - 50} more {label}")
    if result.written:
        print(f"stored {cached_table_path()}: used by processes started from now on")
    else:
        print("--check: nothing written")
    return 0


def cmd_prices_diff(args: argparse.Namespace) -> int:
    from ..pricing import litellm_map
    from ..pricing.corrections import load_corrections
    from ..pricing.crosscheck import cross_check
    from ..pricing.store import table_in_force

    try:
        data, version = litellm_map.read_map(litellm_map.find_map(args.litellm))
    except litellm_map.LiteLLMMapError as exc:
        print(f"otel-llm-cost: {exc}", file=sys.stderr)
        return 2
    table = table_in_force()
    report = cross_check(table, list(litellm_map.models(data)), load_corrections())
    print(f"table {table.table_id} vs LiteLLM {version}, prices at {report.at:%Y-%m-%d %H:%M} UTC, "
          f"100k input tokens")
    print(f"  {report.compared} models priced by both: {report.agreeing} agree, {report.corrected} agree after a "
          f"correction, {len({(d.provider, d.name) for d in report.disagreements})} differ by more than 1%")
    for d in report.unexplained:
        print(f"  UNEXPLAINED {d.describe()}")
    if args.all:
        for d in report.disagreements:
            if d.explained_by is not None:
                print(f"  explained   {d.describe()}\n              because: {d.explained_by.reason}")
    for model in report.unpriced:
        print(f"  NOT PRICED  {model.provider}/{model.name} (LiteLLM {model.key})")
    for stale in report.stale:
        print(f"  STALE       [[difference]] {stale.provider}/{stale.model}: no such disagreement any more")
    if report.ok:
        print("every disagreement is corrected or explained in pricing/data/corrections.toml")
        return 0
    print("fix: add a [[correction]] (with the provider's page) or a [[difference]] with its reason to "
          "src/otel_llm_cost/pricing/data/corrections.toml, then run scripts/update_prices.py")
    return 1
