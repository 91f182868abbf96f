"""The newcomer's first five minutes, in a fresh virtual environment (no system site-packages):

1. install the package from the checkout with no extras: ``doctor`` says what is missing and exits 1, ``demo``
   says what to pip install and exits 2;
2. install ``<checkout>[demo]`` (what scripts/demo.sh does) and run ``otel-llm-cost demo --duration 5`` with
   ``--prometheus-port``: the printed table equals the exported metrics, row by row, and both providers'
   calls are priced.
The package index (or pip's cache) must be reachable, as for ``./scripts/demo.sh`` itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from cli.demo_harness import DemoProcess, assert_rows_match, exported_by_row, parse_printed, scrape
from e2e.stack import free_port

REPO = Path(__file__).resolve().parents[2]


def _clean_env(venv: Path) -> dict[str, str]:
    drop = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("OTEL_")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def _pip(venv: Path, env: dict[str, str], *args: str) -> None:
    done = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                           "--disable-pip-version-check", *args], capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stdout + done.stderr


def test_fresh_venv_install_doctor_and_demo(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"  # the package files of the checkout (no build debris in the real one)
    checkout.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, checkout / name)
    shutil.copytree(REPO / "src", checkout / "src",
                    ignore=shutil.ignore_patterns("*.egg-info", "__pycache__", "*.pyc"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=180)
    env = _clean_env(venv)
    command = venv / "bin" / "otel-llm-cost"

    _pip(venv, env, str(checkout))
    doctor = subprocess.run([str(command), "doctor"], capture_output=True, text=True, timeout=120, env=env)
    assert doctor.returncode == 1, doctor.stdout + doctor.stderr
    assert "no supported LLM SDK is installed and instrumented" in doctor.stdout
    assert "opentelemetry-sdk is not installed: spans and metrics go nowhere" in doctor.stdout
    bare = subprocess.run([str(command), "demo"], capture_output=True, text=True, timeout=120, env=env)
    assert bare.returncode == 2
    assert "pip install 'otel-llm-cost[demo]'" in bare.stderr

    _pip(venv, env, f"{checkout}[demo]")
    # the demo extra has the HTTP exporter only: plain `otlp` (gRPC by default) is the classic trap
    doctor = subprocess.run([str(command), "doctor"], capture_output=True, text=True, timeout=120,
                            env={**env, "OTEL_METRICS_EXPORTER": "otlp", "OTEL_SERVICE_NAME": "fresh"})
    assert doctor.returncode == 1, doctor.stdout
    assert "instrumented by entry point llm_cost_openai" in doctor.stdout
    assert "instrumented by entry point llm_cost_anthropic" in doctor.stdout
    assert "instrumented by entry point llm_cost_google_genai" in doctor.stdout
    assert "exporter 'otlp_proto_grpc' is not installed, so metrics are dropped" in doctor.stdout
    assert "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf" in doctor.stdout
    port = free_port()
    demo = DemoProcess(command, ["--duration", "5", "--prometheus-port", str(port), "--linger", "60"], env)
    try:
        printed = parse_printed(demo.wait_for("still serving", timeout=120))
        exported = exported_by_row(scrape(f"http://127.0.0.1:{port}/metrics"))
    finally:
        demo.stop()
    assert "provider: SIMULATED" in demo.output
    assert_rows_match(printed, exported)
    priced = {provider for (provider, _model, _feature), row in printed.rows.items() if row["cost"] > 0}
    assert priced == {"openai", "anthropic", "gcp.gemini", "mistral_ai"}, printed.rows  # the demo extra has them all
    assert printed.unpriced >= 1 and printed.calls >= 20
    assert "note:" not in demo.output  # every call the demo made was recorded (no SDK left uninstrumented)


def test_readme_opens_with_the_two_commands() -> None:
    head = (REPO / "README.md").read_text().split("\n## ", 1)[0]
    assert "./scripts/demo.sh" in head and "./scripts/test.sh" in head
    assert head.index("./scripts/demo.sh") < head.index("./scripts/test.sh")
    assert "scripts/test.sh" in (REPO / ".ci" / "run").read_text()
    demo_sh = (REPO / "scripts" / "demo.sh").read_text()
    assert "OTEL_LLM_COST_EXTRAS:-demo" in demo_sh and "otel-llm-cost demo" in demo_sh
