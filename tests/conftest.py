"""Fixtures shared by every provider's tests."""

import os
from collections.abc import Iterator

import pytest

from telemetry_fixtures import otel  # noqa: F401


@pytest.fixture(autouse=True, scope="session")
def _isolated_price_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Tests (and the apps they start) price with the bundled table, never with a table a developer stored
    with `otel-llm-cost prices update` in their own cache."""
    previous = os.environ.get("OTEL_LLM_COST_PRICES_CACHE")
    os.environ["OTEL_LLM_COST_PRICES_CACHE"] = str(tmp_path_factory.mktemp("prices-cache"))
    yield
    if previous is None:
        os.environ.pop("OTEL_LLM_COST_PRICES_CACHE", None)
    else:
        os.environ["OTEL_LLM_COST_PRICES_CACHE"] = previous
