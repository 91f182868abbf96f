"""README's configuration table lists every ``OTEL_LLM_COST_*`` setting with its real default."""

from __future__ import annotations

from pathlib import Path

from otel_llm_cost.core.settings import ENV_VARS

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_in_the_readme_table_with_its_default() -> None:
    section = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = {line.split("|")[1].strip().strip("`"): line.split("|")[2].strip()
            for line in section.splitlines() if line.startswith("| `OTEL_LLM_COST_")}
    assert set(rows) == set(ENV_VARS), sorted(set(ENV_VARS) ^ set(rows))
    for var, (default, _kind, _help) in ENV_VARS.items():
        assert rows[var] == (f"`{default}`" if default else "(none)"), (var, rows[var], default)


def test_the_cli_commands_of_the_readme_exist() -> None:
    from otel_llm_cost.cli.command import build_parser

    text = README.read_text()
    commands = set(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    for command in ("demo", "report", "doctor", "price", "models", "prices", "budgets", "export"):
        assert command in commands and f"otel-llm-cost {command}" in text
