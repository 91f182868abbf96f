"""README's "Spend of one run" example runs as printed (the real SDK against the simulated API)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fake_openai import GPT_4O_MINI_COST, FakeOpenAI

import openai
from telemetry_fixtures import Otel

README = Path(__file__).resolve().parents[2] / "README.md"


def example() -> str:
    section = README.read_text(encoding="utf-8").split("## Spend of one run", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "no python example under 'Spend of one run'"
    return match.group(1)


def test_the_ten_line_example_runs(otel: Otel, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    code = example()
    assert len([line for line in code.splitlines() if line.strip()]) <= 10
    fake = FakeOpenAI()
    monkeypatch.setattr(openai, "OpenAI", lambda: fake.client())  # the real SDK client, on the simulated API
    namespace: dict[str, object] = {}
    exec(compile(code, str(README), "exec"), namespace)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"${2 * GPT_4O_MINI_COST:.4f} over 2 calls (0 unpriced)"
    assert out[1] == "spend of 'eval':"
    assert any(line.split()[:4] == ["openai", "gpt-4o-mini", "grading", "2"] for line in out)
    assert len(fake.requests) == 2
