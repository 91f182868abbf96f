"""``otel-llm-cost demo`` as a newcomer meets it: the progress bar on a terminal, plain lines in a log, Ctrl-C,
and clear messages when an option cannot work."""

from __future__ import annotations

import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from cli.demo_harness import parse_printed

BIN = Path(sys.executable).with_name("otel-llm-cost")


def test_terminal_progress_bar_and_ctrl_c_still_prints_the_table() -> None:
    master, slave = os.openpty()  # stderr is a terminal: the ANSI bar; stdout a pipe: the table
    # The demo itself gets the signal, once, as from a terminal. (Under `timeout` it got two: timeout forwards
    # a SIGINT to its child and to its process group, and the second one could land while the demo was
    # already finishing.)
    proc = subprocess.Popen([str(BIN), "demo", "--duration", "60"],
                            stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL, text=True)
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 60
        while b"calls," not in seen and time.monotonic() < deadline:  # the bar is drawing
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                seen += os.read(master, 4096)
        time.sleep(1.5)
        proc.send_signal(signal.SIGINT)  # like a Ctrl-C
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        while select.select([master], [], [], 0.2)[0]:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        os.close(master)
    assert b"\r\x1b[2K[" in seen and b"] " in seen, seen[-300:]
    assert proc.returncode == 0, out
    assert "interrupted after" in out
    printed = parse_printed(out)
    assert printed.calls > 0 and printed.total_cost > 0


def test_log_friendly_progress_lines() -> None:
    done = subprocess.run([str(BIN), "demo", "--duration", "4", "--rate", "8"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "\x1b[" not in done.stderr
    # The last progress line counts what the table counts: LLM calls (the asyncio tagging task makes three per
    # task, so they outnumber the 32 tasks), failed calls and cost.
    last = re.findall(r"^  100% +[\d.]+s  (\d+) calls, (\d+) failed, \$([\d.]+) so far$", done.stderr, re.M)
    assert last, done.stderr
    calls, failed, cost = last[-1]
    printed = parse_printed(done.stdout)
    assert printed.calls > 32
    assert (int(calls), int(failed)) == (printed.calls, printed.failed)
    assert float(cost) == round(printed.total_cost, 4)
    assert "provider: SIMULATED, on http://127.0.0.1:" in done.stdout
    assert "instrumentors: llm_cost_openai on" in done.stdout


def test_options_that_cannot_work_say_why() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    otlp = subprocess.run([str(BIN), "demo", "--otlp", f"http://127.0.0.1:{dead}"], capture_output=True,
                          text=True, timeout=60)
    assert otlp.returncode == 2
    assert f"cannot reach the OTLP endpoint http://127.0.0.1:{dead}" in otlp.stderr
    assert "scripts/local-stack.sh start" in otlp.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        taken = busy.getsockname()[1]
        port = subprocess.run([str(BIN), "demo", "--prometheus-port", str(taken)], capture_output=True, text=True,
                              timeout=60)
    assert port.returncode == 2 and f"cannot serve metrics on 127.0.0.1:{taken}" in port.stderr
    rate = subprocess.run([str(BIN), "demo", "--rate", "0"], capture_output=True, text=True, timeout=60)
    assert rate.returncode == 2 and "must be above 0" in rate.stderr


def test_demo_under_opentelemetry_instrument_with_peer_instrumentations() -> None:
    """Run under the real ``opentelemetry-instrument`` (the official and OpenLLMetry OpenAI instrumentations of
    the dev environment load too): the demo re-instruments onto its own providers and still counts every call."""
    env = {**os.environ, "OTEL_METRICS_EXPORTER": "none", "OTEL_TRACES_EXPORTER": "none", "OTEL_LOGS_EXPORTER": "none"}
    done = subprocess.run([str(BIN.with_name("opentelemetry-instrument")), str(BIN), "demo", "--duration", "2",
                           "--rate", "6"], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    printed = parse_printed(done.stdout)
    assert printed.calls == sum(row["calls"] for row in printed.rows.values()) >= 8
    assert all(row["calls"] >= row["unpriced"] for row in printed.rows.values())
    assert printed.total_cost > 0 and "note:" not in done.stdout
