"""The ledger's command-line options: ``report --ledger URL --by KEY ...`` and ``export --ledger URL ...``.

``cli`` only registers them (``add_report_options``, ``add_export_parser``) and calls ``report_command`` when
``--ledger`` is given, so the Prometheus-based ``report`` stays as it is. The ledger modules (and sqlite3) are
imported when a ledger command runs, not for every ``otel-llm-cost`` command.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .query import Selection
    from .stores import Store

URL_HELP = "the ledger: sqlite:///PATH.db or postgresql://USER:PASSWORD@HOST/DB (as OTEL_LLM_COST_LEDGER_URL)"
KEY_HELP = ("a column (user_id, tenant, feature, team, provider, request_model, service_name ...), day, month, "
            "or any attribution key")


class CommandError(Exception):
    """Bad input or an unusable ledger: printed as one line, exit status 2."""


def add_report_options(report: argparse.ArgumentParser) -> None:
    report.add_argument("--ledger", metavar="URL", default=None,
                        help="report per-call spend from the ledger instead of Prometheus: " + URL_HELP)
    report.add_argument("--by", action="append", metavar="KEY", default=None,
                        help="with --ledger: group by KEY, repeatable (default user_id); " + KEY_HELP)
    report.add_argument("--until", default=None, help="with --ledger: end of the window (default now)")
    report.add_argument("--top", type=int, default=None, metavar="N", help="with --ledger: the N largest groups")
    report.add_argument("--where", action="append", default=None, metavar="KEY=VALUE",
                        help="with --ledger: only calls where KEY (column or attribution key) equals VALUE")


def add_export_parser(sub: Any) -> None:
    export = sub.add_parser("export", help="the ledger's calls, one row each, as CSV, JSON or JSON lines (streamed)")
    export.add_argument("--ledger", metavar="URL", required=True, help=URL_HELP)
    export.add_argument("--since", default=None, help="start of the window: 30d, 24h, 2026-11-01 ... (default: all)")
    export.add_argument("--until", default=None, help="end of the window, excluded (default: now)")
    export.add_argument("--format", choices=("csv", "json", "jsonl"), default="csv")
    export.add_argument("--where", action="append", default=None, metavar="KEY=VALUE",
                        help="only calls where KEY (column or attribution key) equals VALUE; repeatable")
    export.add_argument("--output", "-o", metavar="FILE", default=None, help="write here instead of stdout")
    export.set_defaults(func=export_command)


def _selection(args: argparse.Namespace) -> Selection:
    from .query import Selection, parse_when, parse_where

    return Selection(since=parse_when(args.since, "--since") if args.since else None,
                     until=parse_when(args.until, "--until") if args.until else None,
                     where=[parse_where(w) for w in args.where or ()])


@contextmanager
def _ledger(url: str) -> Iterator[Store]:
    from .location import LedgerUrlError, parse_location
    from .stores import NoLedger, open_store

    try:
        location = parse_location(url, "--ledger")
    except LedgerUrlError as error:
        raise CommandError(str(error)) from None
    try:
        store = open_store(location, create=False)
    except NoLedger as error:
        raise CommandError(str(error)) from None
    except Exception as error:  # unreachable server, bad credentials, not a database, newer schema ...
        raise CommandError(f"cannot open the ledger at {location}: {error}") from None
    try:
        yield store
    finally:
        store.close()


def _guarded(name: str, body: Callable[[], int], err: TextIO) -> int:
    from .query import QueryError

    try:
        return body()
    except (CommandError, QueryError) as error:
        err.write(f"otel-llm-cost {name}: {error}\n")
        return 2


def report_command(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    from . import report
    from .query import check_key

    out, err = out or sys.stdout, err or sys.stderr

    def body() -> int:
        keys = [check_key(k, "--by") for k in (args.by or ["user_id"])]
        selection = _selection(args)
        if args.top is not None and args.top < 1:
            raise CommandError(f"--top {args.top}: must be 1 or more")
        window = f"since {args.since}" + (f" until {args.until}" if args.until else "")
        with _ledger(args.ledger) as store:
            return report.run(store, keys, selection, args.top, window, out, err)

    return _guarded("report", body, err)


def export_command(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    from . import export

    err = err or sys.stderr

    def body() -> int:
        selection = _selection(args)
        with _ledger(args.ledger) as store:
            if args.output:
                with open(args.output, "w", encoding="utf-8", newline="") as file:
                    count = export.run(store, selection, args.format, file)
                err.write(f"otel-llm-cost export: {count:,} calls written to {args.output}\n")
            else:
                try:
                    export.run(store, selection, args.format, out or sys.stdout)
                except BrokenPipeError:  # `... | head`: the reader has all it wants
                    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0

    return _guarded("export", body, err)
