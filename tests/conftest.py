"""Fixtures shared by every provider's tests."""

from telemetry_fixtures import otel  # noqa: F401
