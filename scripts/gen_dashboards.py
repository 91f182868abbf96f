#!/usr/bin/env python3
"""Write grafana-dashboards/*.json from scripts/dashboards/ (or, with --check, fail if they differ).

The JSON is committed so that users can import it directly; this generator keeps the three dashboards
consistent (same variables, filters and PromQL helpers). Run it after editing scripts/dashboards/.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dashboards import DASHBOARDS

OUT = Path(__file__).resolve().parent.parent / "grafana-dashboards"


def render(name: str) -> str:
    """The exact file content of one dashboard (stable key order, trailing newline)."""
    return json.dumps(DASHBOARDS[name](), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a committed dashboard is stale")
    parser.add_argument("--out", type=Path, default=OUT, help="output directory (default: %(default)s)")
    args = parser.parse_args(argv)
    stale = []
    for name in DASHBOARDS:
        path = args.out / f"{name}.json"
        text = render(name)
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print("stale (run python scripts/gen_dashboards.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
