"""The tracking tests drive both simulated APIs (tests/openai, tests/anthropic)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
for folder in ("openai", "anthropic"):
    if str(TESTS / folder) not in sys.path:
        sys.path.append(str(TESTS / folder))

from fake_openai import FakeOpenAI  # noqa: E402


@pytest.fixture
def fake() -> FakeOpenAI:
    """The simulated OpenAI API, fresh for each test."""
    return FakeOpenAI()
