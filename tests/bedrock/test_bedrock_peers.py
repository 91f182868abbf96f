"""InvokeModel paths with each peer Bedrock instrumentation, in both orders (Converse is in the shared provider
suite): the app reads the exact body and every event, and each call's cost is on exactly one span and counted once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
# Claude Sonnet 4.5 through the us. profile: 100 x 3.3 + 10 x 16.5 = 495 / 1M per call
COST = (100 * 3.3 + 10 * 16.5) / 1e6


@pytest.mark.parametrize("order", ["peer-first", "ours-first"])
@pytest.mark.parametrize("peer", ["official", "openllmetry"])
def test_invoke_model_with_a_peer_is_priced_once(peer: str, order: str) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parent)])}
    out = subprocess.run([sys.executable, str(HERE / "peer_invoke_app.py"), peer, order], env=env, timeout=120,
                         capture_output=True, text=True, check=True).stdout
    found = json.loads(out.strip().splitlines()[-1])
    assert found["body_intact"] is True
    assert found["events"] == 6
    assert found["costs"] == pytest.approx([COST, COST])
    assert found["counter"] == pytest.approx(2 * COST)
