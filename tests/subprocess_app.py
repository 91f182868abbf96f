"""Run a test application under the real ``opentelemetry-instrument`` in a child process, and read what the
console exporters printed. Shared by the provider tests (tests/openai, tests/anthropic) so that they start the
app the same way: the app's own directory and tests/ on PYTHONPATH, a bounded lifetime, stdout returned."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

TESTS = Path(__file__).parent
INSTRUMENT = Path(sys.executable).parent / "opentelemetry-instrument"


def app_env(app: Path, env: Mapping[str, str], unset: Iterable[str] = ()) -> dict[str, str]:
    """This process's environment, the app's directory and tests/ on PYTHONPATH, then ``env``, minus ``unset``."""
    full = {**os.environ, "PYTHONPATH": os.pathsep.join([str(app.parent), str(TESTS)]), **env}
    for name in unset:
        full.pop(name, None)
    return full


def app_command(app: Path, *args: str) -> list[str]:
    """``opentelemetry-instrument python app args...`` with this interpreter."""
    return [str(INSTRUMENT), sys.executable, str(app), *args]


def run_to_exit(app: Path, *args: str, env: Mapping[str, str], unset: Iterable[str] = (), stdin: str = "",
                timeout: float = 60) -> str:
    """Run the app until it exits (exporters flush on shutdown); assert it succeeded and said READY; its stdout.

    ``stdin`` is written to the app's standard input, then closed (the app never waits on a terminal)."""
    proc = subprocess.run(app_command(app, *args), input=stdin, capture_output=True, text=True,
                          env=app_env(app, env, unset), timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    assert "READY" in proc.stdout, proc.stderr
    return proc.stdout


def json_documents(text: str) -> Iterator[Any]:
    """The JSON documents the console exporters print one after another (pretty-printed, multi-line)."""
    decoder = json.JSONDecoder()
    i = 0
    while (start := text.find("{", i)) != -1:
        try:
            doc, i = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            i = start + 1
            continue
        yield doc


def cost_points(docs: Iterable[Any]) -> list[Any]:
    """The data points of our gen_ai.client.cost counter in console-exported metric documents."""
    return [p for d in docs for rm in d.get("resource_metrics", ()) for sm in rm["scope_metrics"]
            if sm["scope"]["name"] == "otel_llm_cost" for m in sm["metrics"] if m["name"] == "gen_ai.client.cost"
            for p in m["data"]["data_points"]]
