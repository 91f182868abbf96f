"""``otel-llm-cost budgets status`` (what the store holds now) and ``budgets rules FILE`` (Prometheus series)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from .file import BudgetFileError, load_budget_files


def _files(args: argparse.Namespace) -> list[str]:
    if args.file:
        return list(args.file)
    from ..core.settings import Settings

    return list(Settings().budgets_file)


def cmd_status(args: argparse.Namespace) -> int:
    from ..core.settings import Settings
    from .setup import open_store
    from .status import print_status
    from .store import StoreUnavailable

    files = _files(args)
    if not files:
        print("otel-llm-cost: no budget file: pass --file FILE or set OTEL_LLM_COST_BUDGETS_FILE", file=sys.stderr)
        return 2
    try:
        budgets = load_budget_files(files)
    except BudgetFileError as error:
        print(f"otel-llm-cost: {error}", file=sys.stderr)
        return 2
    store = open_store(args.store or Settings().budget_store)
    try:
        return print_status(budgets, store)
    except StoreUnavailable as error:
        print(f"otel-llm-cost: budget store {store.url} cannot be read: {error}", file=sys.stderr)
        return 1
    finally:
        store.close()


def cmd_rules(args: argparse.Namespace) -> int:
    from .rules import budget_rules

    try:
        budgets = load_budget_files(args.files)
    except BudgetFileError as error:
        print(f"otel-llm-cost: {error}", file=sys.stderr)
        return 2
    text = budget_rules(budgets, " ".join(args.files))
    if args.output in (None, "-"):
        sys.stdout.write(text)
    else:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
        print(f"wrote {args.output}: load it in Prometheus beside prometheus/rules/llm-budgets.yaml "
              f"(check: promtool check rules {os.path.basename(args.output)})", file=sys.stderr)
    return 0


def add_parser(sub: Any) -> None:
    """Register ``budgets status`` and ``budgets rules`` on the main command's subparsers."""
    budgets = sub.add_parser("budgets", help="budgets enforced before each call: what is left, alert rules")
    budgets_sub = budgets.add_subparsers(dest="budgets_command", required=True)
    status = budgets_sub.add_parser("status", help="spend, in-flight reservations and what is left per budget "
                                                   "in the current window, read from the budget store")
    status.add_argument("--file", action="append", metavar="FILE",
                        help="budget file (default: OTEL_LLM_COST_BUDGETS_FILE)")
    status.add_argument("--store", metavar="URL", default=None,
                        help="budget store, e.g. redis://127.0.0.1:6379/0 (default: OTEL_LLM_COST_BUDGET_STORE)")
    status.set_defaults(func=cmd_status)
    rules = budgets_sub.add_parser("rules", help="write the Prometheus budget series (llm-budgets.yaml format) "
                                                 "for the budgets the alerts can compare with")
    rules.add_argument("files", nargs="+", metavar="FILE")
    rules.add_argument("-o", "--output", default=None, metavar="PATH", help="write here instead of stdout")
    rules.set_defaults(func=cmd_rules)
