"""The Bedrock tests' fake service, one per test."""

from __future__ import annotations

from fake_bedrock import fake  # noqa: F401
