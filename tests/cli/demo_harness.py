"""Runs ``otel-llm-cost demo`` as users run it (a subprocess of the installed command) and reads its output.

Shared by tests/cli (report/doctor against real Prometheus) and tests/demo (fresh install). Every process is
bounded by ``timeout`` and stopped by PID.
"""

from __future__ import annotations

import re
import signal
import subprocess
import threading
import time
import urllib.request
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROW = re.compile(r"^(\S+)\s{2,}(\S+)\s{2,}(\S+)\s{2,}(\d+)\s{2,}(\d+)\s{2,}([\d,]+)\s{2,}([\d,]+)\s{2,}([\d,]+)\s{2,}"
                 r"([\d,]+)\s{2,}(\$[\d,.]+|n/a)\s{2,}\$([\d,.]+)\s{2,}(\d+)$")
TOTAL = re.compile(r"^total cost \$([\d,.]+) over (\d+) calls \((\d+) failed, (\d+) unpriced\); "
                   r"prompt caching saved \$([\d,.]+)$", re.M)


def _num(text: str) -> float:
    return float(text.replace(",", "").replace("$", ""))


@dataclass
class Printed:
    """What the demo printed: per (provider, model, feature) row and the totals line."""

    rows: dict[tuple[str, str, str], dict[str, float]] = field(default_factory=dict)
    total_cost: float = 0.0
    calls: int = 0
    failed: int = 0
    unpriced: int = 0
    saved: float = 0.0


def parse_printed(text: str) -> Printed:
    out = Printed()
    for line in text.splitlines():
        match = ROW.match(line.strip())
        if match and match.group(1) != "TOTAL":
            g = match.groups()
            out.rows[(g[0], g[1], g[2])] = {
                "calls": int(g[3]), "errors": int(g[4]), "input": _num(g[5]), "cached": _num(g[6]),
                "output": _num(g[7]), "reasoning": _num(g[8]), "cost": 0.0 if g[9] == "n/a" else _num(g[9]),
                "saved": _num(g[10]), "unpriced": int(g[11])}
    total = TOTAL.search(text)
    assert total, f"no totals line in the demo output:\n{text}"
    out.total_cost, out.saved = _num(total.group(1)), _num(total.group(5))
    out.calls, out.failed, out.unpriced = int(total.group(2)), int(total.group(3)), int(total.group(4))
    return out


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def scrape(url: str) -> list[tuple[str, dict[str, str], float]]:
    """Samples of a Prometheus text exposition: (name, labels, value)."""
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    samples = []
    for line in text.splitlines():
        match = SAMPLE.match(line)
        if match and not line.startswith("#"):
            samples.append((match.group(1), dict(LABEL.findall(match.group(2) or "")), float(match.group(3))))
    return samples


def exported_by_row(samples: Sequence[tuple[str, Mapping[str, str], float]]) -> dict[tuple[str, str, str],
                                                                                      dict[str, float]]:
    """The exported metrics summed like the demo's table: (provider, request model, feature) -> amounts."""
    names = {"gen_ai_client_cost_USD_total": "cost", "gen_ai_client_operation_duration_seconds_count": "calls",
             "gen_ai_client_operation_unpriced_total": "unpriced",
             "gen_ai_client_inference_usage_input_tokens_total": "input",
             "gen_ai_client_inference_usage_output_tokens_total": "output",
             "gen_ai_client_inference_usage_cache_read_input_tokens_total": "cached"}
    rows: dict[tuple[str, str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for name, labels, value in samples:
        key = (labels.get("gen_ai_provider_name", "-"), labels.get("gen_ai_request_model", "-"),
               labels.get("feature", "-"))
        if name in names:
            rows[key][names[name]] += value
        elif name == "gen_ai_client_cost_savings_USD_total" and labels.get("gen_ai_cost_type") == "cache_read":
            rows[key]["saved"] += value
    return rows


# Half the last printed USD digit, plus float slack: 0.0023745 prints as 0.002374 (its binary value is just
# below the half), and 0.0023745 - 0.002374 is 5.000000000001e-07 in floats.
PRINTED_USD_TOLERANCE = 5e-7 + 1e-12


def assert_rows_match(printed: Printed, exported: Mapping[tuple[str, str, str], Mapping[str, float]]) -> None:
    """Every printed row equals the exported metrics (USD to the 6 printed decimals, counts exactly)."""
    assert set(printed.rows) == set(exported), (sorted(printed.rows), sorted(exported))
    for key, row in printed.rows.items():
        got = exported[key]
        assert abs(row["cost"] - got.get("cost", 0.0)) <= PRINTED_USD_TOLERANCE, (key, row, dict(got))
        assert abs(row["saved"] - got.get("saved", 0.0)) <= PRINTED_USD_TOLERANCE, (key, row, dict(got))
        for name in ("calls", "unpriced", "input", "output", "cached"):
            assert row[name] == got.get(name, 0.0), (key, name, row, dict(got))
    assert abs(printed.total_cost - sum(r.get("cost", 0.0) for r in exported.values())) <= PRINTED_USD_TOLERANCE
    assert printed.calls == sum(r.get("calls", 0.0) for r in exported.values())


class DemoProcess:
    """``otel-llm-cost demo ...`` in the background; stdout collected line by line."""

    def __init__(self, command: Path, args: Sequence[str], env: Mapping[str, str], lifetime: int = 180) -> None:
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(["timeout", "--signal=TERM", "--kill-after=5", str(lifetime), str(command),
                                      "demo", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     stdin=subprocess.DEVNULL, env=dict(env))
        self.stderr = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._err_reader = threading.Thread(target=self._read_err, daemon=True)
        self._err_reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._lock:
                self.lines.append(line.rstrip("\n"))

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        self.stderr = self.proc.stderr.read()

    @property
    def output(self) -> str:
        with self._lock:
            return "\n".join(self.lines)

    def wait_for(self, needle: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.output:
                return self.output
            if self.proc.poll() is not None:
                self._reader.join(timeout=5)
                if needle in self.output:
                    return self.output
                raise AssertionError(f"demo exited {self.proc.returncode} before {needle!r}:\n{self.output}\n"
                                     f"{self.stderr}")
            time.sleep(0.1)
        raise AssertionError(f"demo did not print {needle!r} within {timeout}s:\n{self.output}")

    def wait(self, timeout: float) -> int:
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)
        self._err_reader.join(timeout=5)
        return code

    def stop(self) -> None:
        """SIGTERM by PID (``timeout`` passes it on to the demo), then SIGKILL if it lingers."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
