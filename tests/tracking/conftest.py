"""The tracking tests drive both simulated APIs (tests/openai, tests/anthropic)."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
for folder in ("openai", "anthropic"):
    if str(TESTS / folder) not in sys.path:
        sys.path.append(str(TESTS / folder))
