"""Fixtures for the end-to-end tests (see stack.py for the harness and its API)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Protocol

import pytest
from stack import Stack, require, start_stack


class StackFactory(Protocol):
    def __call__(self, **options: Any) -> Stack: ...


@pytest.fixture(scope="session")
def e2e_binaries() -> dict[str, Path]:
    """The collector, Prometheus, promtool, Alertmanager and amtool binaries (skip/fail when missing)."""
    return require("otelcol", "prometheus", "promtool", "alertmanager", "amtool")


@pytest.fixture
def stack_factory(tmp_path: Path) -> Iterator[StackFactory]:
    """``stack_factory(**options)`` starts a Stack (options of ``start_stack``); all are stopped afterwards."""
    with ExitStack() as stacks:
        count = 0

        def make(**options: Any) -> Stack:
            nonlocal count
            count += 1
            workdir = tmp_path / f"stack{count}"
            workdir.mkdir()
            return stacks.enter_context(start_stack(workdir, **options))

        yield make


@pytest.fixture
def stack(stack_factory: StackFactory) -> Stack:
    """A running stack with default options: repo rules, collector, Alertmanager and webhook."""
    return stack_factory()
