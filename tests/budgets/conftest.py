"""Budget fixtures: a real redis-server per test module's use, and budget files."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis_server import RedisServer

# the simulated OpenAI and Anthropic APIs of the provider tests
for _sdk in ("openai", "anthropic"):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / _sdk))


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
