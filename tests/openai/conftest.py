"""The simulated OpenAI API every test in this folder talks to, fresh for each test."""

from __future__ import annotations

import pytest
from fake_openai import FakeOpenAI


@pytest.fixture
def fake() -> FakeOpenAI:
    return FakeOpenAI()
