"""The simulated Anthropic API every test in this folder talks to, fresh for each test."""

from __future__ import annotations

import pytest
from fake_anthropic import FakeAnthropic


@pytest.fixture
def fake() -> FakeAnthropic:
    return FakeAnthropic()
