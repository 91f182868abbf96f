"""End-to-end harness: our built collector, Prometheus and Alertmanager on loopback, for real pipeline tests.

Every process binds 127.0.0.1 on a free port, keeps its data in a temporary directory, runs under
``timeout`` (so it dies by itself even if pytest is killed) and is stopped by its PID.

Binaries (env override, else the default place):
  collector     OTEL_LLM_COST_OTELCOL     else the path ``scripts/build-collector.sh`` prints for the current
                                          manifest (the script is NOT run here: scripts/setup.d builds it)
  prometheus    OTEL_LLM_COST_PROMETHEUS  else ``prometheus`` on PATH
  promtool      OTEL_LLM_COST_PROMTOOL    else ``promtool`` on PATH
  alertmanager  OTEL_LLM_COST_ALERTMANAGER else ``prometheus-alertmanager`` (Debian) or ``alertmanager``
  amtool        OTEL_LLM_COST_AMTOOL      else ``amtool``
A missing binary skips the test, or fails it when ``OTEL_LLM_COST_E2E_REQUIRED=1`` (CI): see ``require()``.

API (stable: other test modules import it; tests/e2e/conftest.py exposes the fixtures):
  REPO, COLLECTOR_CONFIG, RULES_DIR                      paths in the checkout
  find_binary(name) -> Path | None;  require(*names) -> dict[str, Path]   (skip/fail when missing)
  free_port() -> int;  http_get_json(url) -> Any;  http_get_text(url) -> str
  listening_sockets(pid) -> [(address, port)]
  Webhook()           in-process Alertmanager webhook receiver: .url, .received() (payloads), .alerts()
                      (flattened alerts), .close()
  Prometheus(...)     .start() .stop() .restart() .url .remote_write_url .pid .query(expr, at=None) -> list
                      of {"metric": {...}, "value": [ts, "str"]}  .query_value(expr, at=None) -> float|None
                      .wait_for(expr, predicate, timeout) -> result  .rules() .alerts() .reload()
  Alertmanager(...)   .start() .stop() .url .alerts()  (its config routes everything to a Webhook)
  Collector(...)      .start() .stop() .otlp_http_endpoint .otlp_grpc_endpoint .health_url .log()
  Stack               all of the above wired together (collector -> remote write -> Prometheus -> rules ->
                      Alertmanager -> webhook): .query .query_value .wait_for .received_alerts
                      .firing_alerts(name) .stop_prometheus() .start_prometheus() .restart_prometheus()
                      .app_env(service_name, environment) -> env for ``opentelemetry-instrument`` apps
                      .run_instrumented_app(script, args, service_name, environment, timeout, **env)
                      .listening_sockets() -> {component: [(address, port)]}  .wait_for_alert(name, timeout)
                      .close()
  start_stack(tmp_path, **options) -> Stack   (context-managed by the fixtures; see its docstring)
  run_instrumented_app(script, args, env, timeout) -> CompletedProcess   runs a script under the real
                      ``opentelemetry-instrument`` with tests/ and tests/openai on PYTHONPATH
  spawn_instrumented_app(script, args, env) -> Popen (stdout+stderr merged);  finish_app(proc, timeout) -> output
Fixtures (conftest.py): ``e2e_binaries`` (session), ``stack`` (function scoped, default options),
``stack_factory`` (function scoped: call it with options; every stack it made is closed afterwards).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
COLLECTOR_CONFIG = REPO / "collector-config" / "otelcol.yaml"
BUILDER_MANIFEST = REPO / "collector-config" / "builder-config.yaml"
RULES_DIR = REPO / "prometheus" / "rules"
LOOPBACK = "127.0.0.1"
# Upper bound on the life of every process started here (seconds); `timeout` enforces it.
LIFETIME = float(os.environ.get("OTEL_LLM_COST_E2E_LIFETIME", "900"))

_ENV_OVERRIDES = {"otelcol": "OTEL_LLM_COST_OTELCOL", "prometheus": "OTEL_LLM_COST_PROMETHEUS",
                  "promtool": "OTEL_LLM_COST_PROMTOOL", "alertmanager": "OTEL_LLM_COST_ALERTMANAGER",
                  "amtool": "OTEL_LLM_COST_AMTOOL"}
_PATH_NAMES = {"prometheus": ("prometheus",), "promtool": ("promtool",),
               "alertmanager": ("prometheus-alertmanager", "alertmanager"), "amtool": ("amtool",)}


# -- binaries -------------------------------------------------------------------------------------------------
def collector_cache_path() -> Path:
    """Where scripts/build-collector.sh puts the binary for the current manifest (same hashing)."""
    import hashlib

    digest = hashlib.sha256(BUILDER_MANIFEST.read_bytes()).hexdigest()[:16]
    root = os.environ.get("OTEL_LLM_COST_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "otel-llm-cost")
    return Path(root) / f"otelcol-{digest}" / "otelcol-llm-cost"


def find_binary(name: str) -> Path | None:
    """Locate one of otelcol/prometheus/promtool/alertmanager/amtool (env override first)."""
    override = os.environ.get(_ENV_OVERRIDES[name])
    if override:
        path = Path(override)
        return path if path.is_file() and os.access(path, os.X_OK) else None
    if name == "otelcol":
        path = collector_cache_path()
        return path if path.is_file() and os.access(path, os.X_OK) else None
    for candidate in _PATH_NAMES[name]:
        found = shutil.which(candidate)
        if found:
            return Path(found)
    return None


def require(*names: str) -> dict[str, Path]:
    """Binaries by name; a missing one skips the test, or fails it when OTEL_LLM_COST_E2E_REQUIRED=1."""
    found = {name: find_binary(name) for name in names}
    missing = [n for n, p in found.items() if p is None]
    if missing:
        hint = ("run scripts/setup.d/10-observability.sh (apt packages + scripts/build-collector.sh), or set "
                + ", ".join(_ENV_OVERRIDES[n] for n in missing))
        message = f"e2e binaries missing: {', '.join(missing)}; {hint}"
        if os.environ.get("OTEL_LLM_COST_E2E_REQUIRED") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return {n: p for n, p in found.items() if p is not None}


# -- small helpers --------------------------------------------------------------------------------------------
def free_port() -> int:
    """A free TCP port on 127.0.0.1 (the OS picks; a tiny race with other processes is acceptable)."""
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def http_get_text(url: str, timeout: float = 5.0) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return str(response.read().decode())


def http_get_json(url: str, timeout: float = 5.0) -> Any:
    return json.loads(http_get_text(url, timeout))


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return 200 <= int(response.status) < 300
    except (OSError, urllib.error.URLError):
        return False


def _descendants(pid: int) -> list[int]:
    """pid and every process below it (``timeout`` is the parent of each server)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                todo.extend(int(c) for c in (task / "children").read_text().split())
            except OSError:
                continue
    return found


def _decode_address(hex_address: str) -> str:
    raw = bytes.fromhex(hex_address)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    # /proc/net/tcp6: four 32-bit words, each in host (little-endian) order
    return socket.inet_ntop(socket.AF_INET6, b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4)))


def listening_sockets(pid: int) -> list[tuple[str, int]]:
    """(address, port) of every listening TCP socket held by ``pid`` or its descendants (from /proc)."""
    inodes: set[str] = set()
    for proc in _descendants(pid):
        for fd in Path(f"/proc/{proc}/fd").glob("*"):
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A = LISTEN
                address, port = fields[1].split(":")
                found.append((_decode_address(address), int(port, 16)))
    return sorted(found)


class _Process:
    """One server process under `timeout`, output to a log file, stopped by PID."""

    def __init__(self, name: str, argv: Sequence[str], log_path: Path, env: Mapping[str, str] | None = None):
        self.name, self.argv, self.log_path = name, list(argv), log_path
        self.env = dict(env) if env is not None else None
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, ready_url: str, timeout: float = 30.0, ready: Callable[[], bool] | None = None) -> None:
        """Launch and wait until ``ready_url`` answers 2xx (or ``ready()`` holds: servers behind TLS/auth)."""
        is_ready = ready or (lambda: _http_ok(ready_url))
        log = self.log_path.open("ab")
        try:
            self.proc = subprocess.Popen(
                ["timeout", "--signal=TERM", "--kill-after=5", f"{LIFETIME:.0f}", *self.argv],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.env)
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log()}")
            if is_ready():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} not ready at {ready_url} within {timeout} s:\n{self.log()}")

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM by PID (`timeout` passes it on), then SIGKILL to the server and `timeout` if it lingers."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            for pid in reversed(_descendants(proc.pid)):  # the server first, then its `timeout` parent
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            proc.wait(timeout=5)

    def log(self, tail: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-tail:])
        except OSError:
            return ""


class _Server:
    """What every server wrapper shares: at most one running `_Process`, stop/pid/running/log over it."""

    workdir: Path
    _process: _Process | None = None
    stop_timeout = 15.0  # seconds SIGTERM has before SIGKILL
    log_tail = 60  # log lines ``log()`` returns by default

    def _launch(self, name: str, argv: Sequence[str], ready_url: str, env: Mapping[str, str] | None = None,
                ready: Callable[[], bool] | None = None) -> None:
        """Start ``argv`` logging to <workdir>/<name>.log and wait until ``ready_url`` answers (or ``ready()``)."""
        self._process = _Process(name, argv, self.workdir / f"{name}.log", env=env)
        self._process.start(ready_url, ready=ready)

    def stop(self) -> None:
        if self._process:
            self._process.stop(timeout=self.stop_timeout)

    @property
    def pid(self) -> int | None:
        """PID of the `timeout` wrapper (its child is the server); None when stopped."""
        return self._process.pid if self._process and self._process.running else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.running

    def log(self, tail: int | None = None) -> str:
        return self._process.log(self.log_tail if tail is None else tail) if self._process else ""


# -- webhook --------------------------------------------------------------------------------------------------
class Webhook:
    """Alertmanager webhook receiver in this process, on 127.0.0.1; keeps every payload it got."""

    def __init__(self) -> None:
        payloads: list[dict[str, Any]] = []
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with lock:
                    payloads.append(json.loads(body or b"{}"))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._payloads, self._lock = payloads, lock
        self._server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.port = int(self._server.server_address[1])
        self.url = f"http://{LOOPBACK}:{self.port}/alerts"
        self._thread = threading.Thread(target=self._server.serve_forever, name="e2e-webhook", daemon=True)
        self._thread.start()

    def received(self) -> list[dict[str, Any]]:
        """Every webhook payload (Alertmanager's JSON: status, groupLabels, alerts, ...) in arrival order."""
        with self._lock:
            return list(self._payloads)

    def alerts(self) -> list[dict[str, Any]]:
        """Every alert of every payload: {"status", "labels", "annotations", "startsAt", ...}."""
        return [alert for payload in self.received() for alert in payload.get("alerts", [])]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


# -- Prometheus -----------------------------------------------------------------------------------------------
class Prometheus(_Server):
    """Prometheus with the remote-write receiver, our rule files and a short evaluation interval.

    ``rule_files``: paths or globs (default: prometheus/rules/*.yaml of the checkout). ``scrape_targets``:
    extra host:port targets to scrape (job "scrape"), e.g. the collector's scrape endpoint alternative.
    The TSDB directory survives stop()/start(), so a restart keeps the data (outage tests).
    """

    def __init__(self, binary: Path, workdir: Path, *, rule_files: Sequence[str | Path] | None = None,
                 alertmanager_url: str | None = None, evaluation_interval: str = "1s",
                 scrape_interval: str = "1s", scrape_targets: Sequence[str] = (),
                 extra_args: Sequence[str] = ()) -> None:
        self.binary, self.workdir = binary, workdir
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.remote_write_url = f"{self.url}/api/v1/write"
        self.data_dir = workdir / "prometheus-data"
        self.config_path = workdir / "prometheus.yml"
        files = [str(f) for f in (rule_files if rule_files is not None else [RULES_DIR / "*.yaml"])]
        config: dict[str, Any] = {
            "global": {"scrape_interval": scrape_interval, "evaluation_interval": evaluation_interval},
            "rule_files": files,
            "scrape_configs": ([{"job_name": "scrape", "static_configs": [{"targets": list(scrape_targets)}]}]
                               if scrape_targets else []),
        }
        if alertmanager_url:
            target = urllib.parse.urlparse(alertmanager_url).netloc
            config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [target]}]}]}
        # JSON is YAML: no YAML writer needed.
        self.config_path.write_text(json.dumps(config, indent=2))
        self.extra_args = list(extra_args)

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        argv = [str(self.binary), f"--config.file={self.config_path}", f"--storage.tsdb.path={self.data_dir}",
                f"--web.listen-address={LOOPBACK}:{self.port}", "--web.enable-remote-write-receiver",
                "--web.enable-lifecycle",
                # Alerts that fire before the notifier has discovered Alertmanager (its first ~5 s) are
                # dropped and re-sent only after this delay (default 1m): keep tests fast.
                "--rules.alert.resend-delay=1s", *self.extra_args]
        if not any(a.startswith("--log.level") for a in self.extra_args):
            argv.append("--log.level=warn")
        self._launch("prometheus", argv, f"{self.url}/-/ready")

    def restart(self) -> None:
        self.stop()
        self.start()

    def reload(self) -> None:
        """Re-read the config and rule files (POST /-/reload)."""
        request = urllib.request.Request(f"{self.url}/-/reload", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def api(self, path: str, **params: str) -> Any:
        query = urllib.parse.urlencode(params)
        body = http_get_json(f"{self.url}{path}" + (f"?{query}" if query else ""), timeout=10)
        if body.get("status") != "success":
            raise RuntimeError(f"Prometheus {path} {params}: {body}")
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        """Instant query (now, or at unix time ``at``) -> the result vector ([] when empty); raises on a bad
        expression."""
        data = self.api("/api/v1/query", query=expr, **({"time": f"{at:.3f}"} if at is not None else {}))
        if data["resultType"] == "scalar":
            return [{"metric": {}, "value": data["result"]}]
        return list(data["result"])

    def query_value(self, expr: str, at: float | None = None) -> float | None:
        """The value of a one-element result (None when empty); an error when more than one series."""
        result = self.query(expr, at)
        if not result:
            return None
        if len(result) > 1:
            raise AssertionError(f"{expr} returned {len(result)} series: {result}")
        return float(result[0]["value"][1])

    def wait_for(self, expr: str, predicate: Callable[[list[dict[str, Any]]], bool] = bool,
                 timeout: float = 30.0, interval: float = 0.25) -> list[dict[str, Any]]:
        """Poll ``query(expr)`` until ``predicate(result)`` holds; AssertionError with the last result if not."""
        deadline = time.monotonic() + timeout
        result: list[dict[str, Any]] = []
        while True:
            try:
                result = self.query(expr)
                if predicate(result):
                    return result
            except (OSError, urllib.error.URLError):
                pass  # restarting
            if time.monotonic() >= deadline:
                raise AssertionError(f"timed out after {timeout} s waiting on {expr!r}; last result: {result}")
            time.sleep(interval)

    def rules(self) -> list[dict[str, Any]]:
        """Every rule of every group (GET /api/v1/rules), each with its group name under "group"."""
        return [{**rule, "group": group["name"]} for group in self.api("/api/v1/rules")["groups"]
                for rule in group["rules"]]

    def alerts(self) -> list[dict[str, Any]]:
        """Active (pending or firing) alerts as Prometheus sees them."""
        return list(self.api("/api/v1/alerts")["alerts"])


# -- Alertmanager ---------------------------------------------------------------------------------------------
class Alertmanager(_Server):
    """Alertmanager 0.25 with gossip off; everything routes to one webhook with 1 s grouping."""

    def __init__(self, binary: Path, workdir: Path, webhook_url: str) -> None:
        self.binary, self.workdir = binary, workdir
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.config_path = workdir / "alertmanager.yml"
        config = {
            "route": {"receiver": "webhook", "group_by": ["alertname"], "group_wait": "1s",
                      "group_interval": "1s", "repeat_interval": "1h"},
            "receivers": [{"name": "webhook",
                           "webhook_configs": [{"url": webhook_url, "send_resolved": True}]}],
        }
        self.config_path.write_text(json.dumps(config, indent=2))

    def start(self) -> None:
        storage = self.workdir / "alertmanager-data"
        storage.mkdir(parents=True, exist_ok=True)
        # An empty --cluster.listen-address turns gossip off (else it binds 0.0.0.0:9094).
        argv = [str(self.binary), f"--config.file={self.config_path}", f"--storage.path={storage}",
                f"--web.listen-address={LOOPBACK}:{self.port}", "--cluster.listen-address=",
                "--log.level=warn"]
        self._launch("alertmanager", argv, f"{self.url}/-/ready")

    def alerts(self) -> list[dict[str, Any]]:
        """Alerts Alertmanager currently holds (API v2)."""
        return list(http_get_json(f"{self.url}/api/v2/alerts"))


# -- Collector ------------------------------------------------------------------------------------------------
class Collector(_Server):
    """Our built collector running collector-config/otelcol.yaml (or ``configs``), all listeners on loopback.

    ``env`` adds/overrides the OTELCOL_* variables (e.g. OTELCOL_PROMETHEUS_RW_ENDPOINT,
    OTELCOL_METRICS_EXPORTER=prometheus for the scrape alternative: then ``scrape_endpoint`` is served).
    """

    stop_timeout = 30.0  # SIGTERM: the collector drains its pipelines (batch, queue) before it exits
    log_tail = 80

    def __init__(self, binary: Path, workdir: Path, *, configs: Sequence[Path] = (COLLECTOR_CONFIG,),
                 env: Mapping[str, str] | None = None) -> None:
        self.binary, self.workdir, self.configs = binary, workdir, list(configs)
        grpc, http, health, scrape, telemetry = (free_port() for _ in range(5))
        self.otlp_grpc_endpoint = f"http://{LOOPBACK}:{grpc}"
        self.otlp_http_endpoint = f"http://{LOOPBACK}:{http}"
        self.health_url = f"http://{LOOPBACK}:{health}/"
        self.scrape_endpoint = f"{LOOPBACK}:{scrape}"
        self.telemetry_url = f"http://{LOOPBACK}:{telemetry}/metrics"
        self.env = {**os.environ,
                    "OTELCOL_LISTEN_HOST": LOOPBACK, "OTELCOL_OTLP_GRPC_PORT": str(grpc),
                    "OTELCOL_OTLP_HTTP_PORT": str(http), "OTELCOL_HEALTH_PORT": str(health),
                    "OTELCOL_PROMETHEUS_PORT": str(scrape), "OTELCOL_TELEMETRY_PORT": str(telemetry),
                    **(env or {})}

    def argv(self, command: str | None = None) -> list[str]:
        return [str(self.binary), *([command] if command else []), *(f"--config={c}" for c in self.configs)]

    def start(self) -> None:
        self._launch("otelcol", self.argv(), self.health_url, env=self.env)

    def validate(self) -> subprocess.CompletedProcess[str]:
        """``otelcol validate`` on the configs, with this collector's environment."""
        return subprocess.run(self.argv("validate"), env=self.env, capture_output=True, text=True, timeout=60,
                              check=False)


# -- the whole stack ------------------------------------------------------------------------------------------
class Stack:
    """Collector -> remote write -> Prometheus (rules) -> Alertmanager -> Webhook, wired and started."""

    def __init__(self, workdir: Path, binaries: Mapping[str, Path], *, rule_files: Sequence[str | Path] | None,
                 collector_env: Mapping[str, str] | None, with_alertmanager: bool, with_collector: bool,
                 prometheus_args: Sequence[str], scrape_targets: Sequence[str],
                 collector_configs: Sequence[Path] = (COLLECTOR_CONFIG,)) -> None:
        self.workdir = workdir
        self.webhook = Webhook()
        self.alertmanager: Alertmanager | None = None
        self.collector: Collector | None = None
        try:
            if with_alertmanager:
                self.alertmanager = Alertmanager(binaries["alertmanager"], workdir, self.webhook.url)
                self.alertmanager.start()
            self.prometheus = Prometheus(binaries["prometheus"], workdir, rule_files=rule_files,
                                         alertmanager_url=self.alertmanager.url if self.alertmanager else None,
                                         extra_args=prometheus_args, scrape_targets=scrape_targets)
            self.prometheus.start()
            if with_collector:
                env = {"OTELCOL_PROMETHEUS_RW_ENDPOINT": self.prometheus.remote_write_url, **(collector_env or {})}
                self.collector = Collector(binaries["otelcol"], workdir, configs=collector_configs, env=env)
                self.collector.start()
        except BaseException:
            self.close()
            raise

    # Prometheus shortcuts
    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        return self.prometheus.query(expr, at)

    def query_value(self, expr: str, at: float | None = None) -> float | None:
        return self.prometheus.query_value(expr, at)

    def wait_for(self, expr: str, predicate: Callable[[list[dict[str, Any]]], bool] = bool,
                 timeout: float = 30.0) -> list[dict[str, Any]]:
        return self.prometheus.wait_for(expr, predicate, timeout)

    def stop_prometheus(self) -> None:
        self.prometheus.stop()

    def start_prometheus(self) -> None:
        self.prometheus.start()

    def restart_prometheus(self) -> None:
        self.prometheus.restart()

    # alerts
    def received_alerts(self) -> list[dict[str, Any]]:
        """Every alert the webhook received (each payload's "alerts", flattened, in arrival order)."""
        return self.webhook.alerts()

    def firing_alerts(self, name: str) -> list[dict[str, Any]]:
        return [a for a in self.received_alerts()
                if a.get("status") == "firing" and a.get("labels", {}).get("alertname") == name]

    def wait_for_alert(self, name: str, timeout: float = 60.0) -> list[dict[str, Any]]:
        """Wait until the webhook received alert ``name`` firing; AssertionError with context if not."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            firing = self.firing_alerts(name)
            if firing:
                return firing
            time.sleep(0.25)
        raise AssertionError(f"alert {name} did not reach the webhook in {timeout} s; Prometheus alerts: "
                             f"{self.prometheus.alerts()}; webhook got: {self.received_alerts()}")

    def run_instrumented_app(self, script: Path, args: Sequence[str] = (), service_name: str = "e2e-app",
                             environment: str = "test", timeout: float = 120.0,
                             **env: str) -> subprocess.CompletedProcess[str]:
        """``run_instrumented_app`` with this stack's ``app_env`` (plus ``env`` overrides)."""
        return run_instrumented_app(script, args, {**self.app_env(service_name, environment), **env}, timeout)

    def listening_sockets(self) -> dict[str, list[tuple[str, int]]]:
        """Listening TCP sockets of each running server, by component name (to prove loopback-only)."""
        parts = {"collector": self.collector, "prometheus": self.prometheus, "alertmanager": self.alertmanager}
        return {name: listening_sockets(part.pid) for name, part in parts.items()
                if part is not None and part.pid is not None}

    # apps
    def app_env(self, service_name: str = "e2e-app", environment: str = "test",
                protocol: str = "http/protobuf", export_interval_ms: int = 1000) -> dict[str, str]:
        """Environment for an app under ``opentelemetry-instrument`` exporting OTLP to this collector."""
        if self.collector is None:
            raise RuntimeError("this stack has no collector")
        endpoint = self.collector.otlp_http_endpoint if protocol == "http/protobuf" else \
            self.collector.otlp_grpc_endpoint
        return {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
                "OTEL_METRICS_EXPORTER": "otlp", "OTEL_TRACES_EXPORTER": "otlp", "OTEL_LOGS_EXPORTER": "none",
                "OTEL_METRIC_EXPORT_INTERVAL": str(export_interval_ms),
                "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": "cumulative",
                "OTEL_SERVICE_NAME": service_name,
                "OTEL_RESOURCE_ATTRIBUTES": f"deployment.environment={environment}"}

    def close(self) -> None:
        """Stop everything by PID: collector first (so it flushes), then Prometheus, Alertmanager, webhook."""
        for part in (self.collector, getattr(self, "prometheus", None), self.alertmanager):
            if part is not None:
                try:
                    part.stop()
                except Exception as exc:  # keep stopping the others
                    print(f"e2e: stopping {type(part).__name__} failed: {exc}", file=sys.stderr)
        self.webhook.close()


@contextmanager
def start_stack(workdir: Path, *, rule_files: Sequence[str | Path] | None = None,
                collector_env: Mapping[str, str] | None = None, with_alertmanager: bool = True,
                with_collector: bool = True, prometheus_args: Sequence[str] = (),
                scrape_targets: Sequence[str] = (),
                collector_configs: Sequence[Path] = (COLLECTOR_CONFIG,)) -> Iterator[Stack]:
    """Start a stack in ``workdir`` (a temp dir); stop every process when the block ends.

    ``rule_files``: default prometheus/rules/*.yaml; pass your own list (e.g. the repo rules plus a test budget
    file) to change it. ``collector_env``: extra OTELCOL_* settings. ``collector_configs``: config files the
    collector merges in order (default: collector-config/otelcol.yaml alone; add a fragment to override parts).
    The binaries come from ``require()``.
    """
    names = ["prometheus"] + (["alertmanager"] if with_alertmanager else []) + (["otelcol"] if with_collector else [])
    binaries = require(*names)
    stack = Stack(workdir, binaries, rule_files=rule_files, collector_env=collector_env,
                  with_alertmanager=with_alertmanager, with_collector=with_collector,
                  prometheus_args=prometheus_args, scrape_targets=scrape_targets,
                  collector_configs=collector_configs)
    try:
        yield stack
    finally:
        stack.close()


def _app_command(script: Path, args: Sequence[str], env: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    tests = REPO / "tests"
    full_env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tests / "openai"), str(tests)]), **env}
    command = [str(Path(sys.executable).parent / "opentelemetry-instrument"), sys.executable, str(script), *args]
    return command, full_env


def spawn_instrumented_app(script: Path, args: Sequence[str], env: Mapping[str, str]) -> subprocess.Popen[str]:
    """Start ``opentelemetry-instrument python script args`` without waiting: stdout and stderr merged into
    ``proc.stdout`` (text, line by line). The caller bounds it: ``finish_app(proc, timeout)``."""
    command, full_env = _app_command(script, args, env)
    return subprocess.Popen(command, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            stdin=subprocess.DEVNULL)


def finish_app(proc: subprocess.Popen[str], timeout: float = 120.0) -> str:
    """Wait for a spawned app (killed after ``timeout``); its output; AssertionError unless it exited 0."""
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate(timeout=10)
    if proc.returncode != 0:
        raise AssertionError(f"app exited {proc.returncode}:\n{out}")
    return out


def run_instrumented_app(script: Path, args: Sequence[str], env: Mapping[str, str],
                         timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Run ``opentelemetry-instrument python script args`` (the real command) and wait for it, bounded.

    tests/ and tests/openai are on PYTHONPATH, so scripts can ``import fake_openai``. A non-zero exit raises
    with the app's output.
    """
    command, full_env = _app_command(script, args, env)
    done = subprocess.run(command, env=full_env, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise AssertionError(f"app {script.name} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done
