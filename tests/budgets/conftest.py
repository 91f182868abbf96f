"""Budget fixtures: a real redis-server per test module's use, and budget files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from redis_server import RedisServer


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def write_budgets(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)
