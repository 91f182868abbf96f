"""Who may write our numbers, and how they travel: the shipped collector config with the real collector.

- The receivers listen on loopback unless OTELCOL_LISTEN_HOST opens them.
- OTELCOL_OTLP_BEARER_AUTH: OTLP without the token (or with a wrong one) is refused, with it accepted, over
  HTTP and gRPC; what was refused never reaches Prometheus.
- OTELCOL_OTLP_TLS + client CA (mTLS): no certificate, or one from another CA, is refused.
- Remote write over TLS with basic auth into a Prometheus that requires both (--web.config.file); a wrong
  password, an unknown CA or an expired certificate is refused and named in the collector's log.
- SigV4: the collector signs remote write for Amazon Managed Prometheus (checked on a local receiver).
- ``otelcol validate`` accepts every documented combination; bad settings stop the collector with a message
  that names them.
Certificates are made by the test (tests/e2e/certs.py); AWS credentials are fake and static, and the SDK is
told never to ask an instance-metadata service.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import ssl
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from certs import CertificateAuthority, KeyPair
from otlp_probe import PROBE_METRIC, send_probe
from stack import COLLECTOR_CONFIG, LOOPBACK, REPO, Collector, Prometheus, free_port, listening_sockets, require

REMOTE_WRITE_OVERLAYS = {name: REPO / "collector-config" / "remote-write" / f"{name}.yaml"
                         for name in ("basic-auth", "bearer-token", "sigv4")}
PROTOCOLS = ("http", "grpc")
COST_APP = Path(__file__).with_name("cost_app.py")
# Hermetic AWS credentials: static and fake, no shared config files, never the instance-metadata service.
FAKE_AWS = {"AWS_ACCESS_KEY_ID": "AKIDOTELLLMCOSTTEST", "AWS_SECRET_ACCESS_KEY": "fake-secret-for-tests",
            "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/nonexistent/aws-config",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials"}


# -- fixtures -------------------------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _exporter_trusts_only_what_it_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    """requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override the OTLP/HTTP exporter's certificate_file."""
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


class Pki:
    """One CA with server and client certificates, an expired server certificate, and a foreign CA."""

    def __init__(self, directory: Path) -> None:
        self.ca = CertificateAuthority(directory, "ca")
        self.server = self.ca.issue("server", server=True)
        self.expired_server = self.ca.issue("expired-server", server=True, days=-1)
        self.client = self.ca.issue("client", server=False)
        self.foreign_ca = CertificateAuthority(directory, "foreign-ca")
        self.foreign_client = self.foreign_ca.issue("foreign-client", server=False)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def otelcol() -> Path:
    return require("otelcol")["otelcol"]


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[Prometheus]:
    """A plain Prometheus (remote-write receiver on, no rules) for the receiver-side tests."""
    server = Prometheus(require("prometheus")["prometheus"], tmp_path, rule_files=[])
    server.start()
    yield server
    server.stop()


def start_collector(otelcol: Path, workdir: Path, env: Mapping[str, str],
                    overlays: tuple[Path, ...] = ()) -> Collector:
    collector = Collector(otelcol, workdir, configs=(COLLECTOR_CONFIG, *overlays), env=env)
    collector.start()
    return collector


def endpoint(collector: Collector, protocol: str, scheme: str = "http") -> str:
    url = collector.otlp_http_endpoint if protocol == "http" else collector.otlp_grpc_endpoint
    return url.replace("http://", f"{scheme}://", 1)


def probe_cases(prometheus: Prometheus, *, expected: str, timeout: float = 30.0) -> set[str]:
    """The ``case`` labels Prometheus holds once ``expected`` arrived (the collector batches for 1 s)."""
    prometheus.wait_for(f'{PROBE_METRIC}{{case="{expected}"}}', timeout=timeout)
    time.sleep(2)  # anything refused earlier would have been exported in the same or the next batch
    return {r["metric"]["case"] for r in prometheus.query(PROBE_METRIC)}


# -- listening addresses ----------------------------------------------------------------------------------------
def test_every_listener_is_on_loopback_unless_opened(otelcol: Path, tmp_path: Path) -> None:
    collector = Collector(otelcol, tmp_path, env={"OTELCOL_PROMETHEUS_RW_ENDPOINT": "http://127.0.0.1:9/"})
    del collector.env["OTELCOL_LISTEN_HOST"]  # the config's own default
    collector.start()
    try:
        assert collector.pid is not None
        sockets = listening_sockets(collector.pid)
        assert len(sockets) >= 4, sockets  # OTLP gRPC + HTTP, health check, own metrics
        assert {address for address, _ in sockets} == {LOOPBACK}, sockets
    finally:
        collector.stop()


# -- OTLP receivers: bearer token --------------------------------------------------------------------------------
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_otlp_without_the_token_is_refused_and_with_it_accepted(otelcol: Path, prometheus: Prometheus,
                                                                 tmp_path: Path, protocol: str) -> None:
    tokens = tmp_path / "otlp-tokens"
    tokens.write_text("current-token  # the new one\nprevious-token\n")
    collector = start_collector(otelcol, tmp_path, {
        "OTELCOL_PROMETHEUS_RW_ENDPOINT": prometheus.remote_write_url,
        "OTELCOL_OTLP_BEARER_AUTH": "true", "OTELCOL_OTLP_BEARER_TOKEN_FILE": str(tokens)})
    try:
        url = endpoint(collector, protocol)
        assert not send_probe(url, protocol, "no-token")
        assert not send_probe(url, protocol, "wrong-token", token="guessed-token")
        assert not send_probe(url, protocol, "placeholder-token", token="never-compared")
        assert not send_probe(url, protocol, "comment-word", token="#")
        assert send_probe(url, protocol, "current-token", token="current-token")
        assert send_probe(url, protocol, "previous-token", token="previous-token")  # rotation: both valid
        assert probe_cases(prometheus, expected="previous-token") == {"current-token", "previous-token"}
    finally:
        collector.stop()


def _secret_volume(directory: Path, version: str, token: str) -> None:
    """Write the token the way the kubelet updates a Secret volume: a new timestamped directory, then an
    atomic swap of the ``..data`` symlink that the key's own symlink goes through."""
    data = directory / f"..{version}"
    data.mkdir()
    (data / "otlp-tokens").write_text(token + "\n")
    current = directory / "..data"
    previous = directory / os.readlink(current) if current.is_symlink() else None
    link = directory / "..data_tmp"
    link.symlink_to(data.name)
    link.replace(current)
    if previous is not None:  # the kubelet then removes the old version
        shutil.rmtree(previous)
    key = directory / "otlp-tokens"
    if not key.is_symlink():
        key.symlink_to("..data/otlp-tokens")


@pytest.mark.parametrize("update", ["file moved in", "kubernetes secret volume"])
def test_a_rewritten_token_file_takes_effect_without_a_restart(otelcol: Path, prometheus: Prometheus,
                                                               tmp_path: Path, update: str) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    tokens = secrets / "otlp-tokens"
    if update == "kubernetes secret volume":
        _secret_volume(secrets, "v1", "first-token")
    else:
        tokens.write_text("first-token\n")
    collector = start_collector(otelcol, tmp_path, {
        "OTELCOL_PROMETHEUS_RW_ENDPOINT": prometheus.remote_write_url,
        "OTELCOL_OTLP_BEARER_AUTH": "true", "OTELCOL_OTLP_BEARER_TOKEN_FILE": str(tokens)})
    try:
        url = endpoint(collector, "http")
        assert send_probe(url, "http", "first", token="first-token")
        if update == "kubernetes secret volume":
            _secret_volume(secrets, "v2", "second-token")
        else:
            replacement = secrets / "otlp-tokens.new"
            replacement.write_text("second-token\n")
            replacement.replace(tokens)  # how most secret tools update a file: a new file moved in
        deadline = time.monotonic() + 15
        while not send_probe(url, "http", "second", token="second-token", timeout=1):
            assert time.monotonic() < deadline, "the rewritten token file was not picked up:\n" + collector.log()
            time.sleep(0.5)
        assert not send_probe(url, "http", "first-after-rotation", token="first-token")
        assert probe_cases(prometheus, expected="second") == {"first", "second"}
    finally:
        collector.stop()


def test_an_instrumented_app_sending_the_token_gets_its_cost_through(stack_factory: Any, tmp_path: Path) -> None:
    """The real path: an app under opentelemetry-instrument with OTEL_EXPORTER_OTLP_HEADERS (a literal space
    after Bearer), over OTLP/HTTP (gRPC is covered by the probes above)."""
    protocol = "http/protobuf"
    tokens = tmp_path / "otlp-tokens"
    tokens.write_text("app-token\n")
    stack = stack_factory(with_alertmanager=False, collector_env={
        "OTELCOL_OTLP_BEARER_AUTH": "true", "OTELCOL_OTLP_BEARER_TOKEN_FILE": str(tokens)})
    endpoint = stack.collector.otlp_http_endpoint if protocol == "http/protobuf" else stack.collector.otlp_grpc_endpoint
    common = {"OTEL_EXPORTER_OTLP_PROTOCOL": protocol, "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint}
    refused = stack.run_instrumented_app(COST_APP, ["--out", str(tmp_path / "refused.json"), "--rounds", "1"],
                                         service_name="app-without-token", **common)
    assert "Failed to export" in refused.stderr, refused.stderr
    accepted = stack.run_instrumented_app(COST_APP, ["--out", str(tmp_path / "accepted.json"), "--rounds", "1"],
                                          service_name="app-with-token", **common,
                                          OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer app-token")
    assert "Failed to export" not in accepted.stderr, accepted.stderr
    calls = json.loads((tmp_path / "accepted.json").read_text())["calls"]
    expected = sum(call["cost"] for call in calls if call["cost"] is not None)
    assert expected > 0
    stack.wait_for('sum(gen_ai_client_cost_USD_total{service_name="app-with-token"})',
                   lambda r: bool(r) and abs(float(r[0]["value"][1]) - expected) <= 1e-9 * expected)
    assert stack.query('gen_ai_client_cost_USD_total{service_name="app-without-token"}') == []


def test_bearer_auth_without_a_token_file_stops_the_collector_naming_the_setting(otelcol: Path,
                                                                                 tmp_path: Path) -> None:
    collector = Collector(otelcol, tmp_path, env={"OTELCOL_OTLP_BEARER_AUTH": "true"})
    with pytest.raises(RuntimeError, match="exited") as failure:
        collector.start()
    assert "OTELCOL_OTLP_BEARER_TOKEN_FILE" in str(failure.value)


# -- OTLP receivers: TLS and client certificates ------------------------------------------------------------------
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_mtls_refuses_clients_without_a_certificate_of_our_ca(otelcol: Path, prometheus: Prometheus, pki: Pki,
                                                              tmp_path: Path, protocol: str) -> None:
    collector = start_collector(otelcol, tmp_path, {
        "OTELCOL_PROMETHEUS_RW_ENDPOINT": prometheus.remote_write_url, "OTELCOL_OTLP_TLS": "true",
        "OTELCOL_OTLP_TLS_CERT_FILE": str(pki.server.cert), "OTELCOL_OTLP_TLS_KEY_FILE": str(pki.server.key),
        "OTELCOL_OTLP_TLS_CLIENT_CA_FILE": str(pki.ca.cert)})
    try:
        tls = endpoint(collector, protocol, "https")
        assert not send_probe(endpoint(collector, protocol), protocol, "plaintext", timeout=2)
        assert not send_probe(tls, protocol, "no-client-cert", ca=pki.ca.cert, timeout=2)
        assert not send_probe(tls, protocol, "foreign-client-cert", ca=pki.ca.cert, client=pki.foreign_client,
                              timeout=2)
        assert not send_probe(tls, protocol, "unknown-server-ca", client=pki.client, timeout=2)
        assert send_probe(tls, protocol, "our-client-cert", ca=pki.ca.cert, client=pki.client)
        assert probe_cases(prometheus, expected="our-client-cert") == {"our-client-cert"}
    finally:
        collector.stop()


def test_tls_with_bearer_token_needs_both(otelcol: Path, prometheus: Prometheus, pki: Pki,
                                          tmp_path: Path) -> None:
    tokens = tmp_path / "otlp-token"
    tokens.write_text("tls-token\n")
    collector = start_collector(otelcol, tmp_path, {
        "OTELCOL_PROMETHEUS_RW_ENDPOINT": prometheus.remote_write_url, "OTELCOL_OTLP_TLS": "true",
        "OTELCOL_OTLP_TLS_CERT_FILE": str(pki.server.cert), "OTELCOL_OTLP_TLS_KEY_FILE": str(pki.server.key),
        "OTELCOL_OTLP_BEARER_AUTH": "true", "OTELCOL_OTLP_BEARER_TOKEN_FILE": str(tokens)})
    try:
        tls = endpoint(collector, "http", "https")
        assert not send_probe(tls, "http", "tls-no-token", ca=pki.ca.cert)
        assert send_probe(tls, "http", "tls-and-token", ca=pki.ca.cert, token="tls-token")
        assert probe_cases(prometheus, expected="tls-and-token") == {"tls-and-token"}
    finally:
        collector.stop()


def test_tls_without_a_certificate_is_a_config_error(otelcol: Path, tmp_path: Path) -> None:
    result = Collector(otelcol, tmp_path, env={"OTELCOL_OTLP_TLS": "true"}).validate()
    assert result.returncode != 0
    assert "tls: TLS configuration must include both certificate and key" in result.stderr


def test_a_missing_certificate_file_stops_the_collector_naming_it(otelcol: Path, tmp_path: Path) -> None:
    collector = Collector(otelcol, tmp_path, env={
        "OTELCOL_OTLP_TLS": "true", "OTELCOL_OTLP_TLS_CERT_FILE": str(tmp_path / "renamed-server.pem"),
        "OTELCOL_OTLP_TLS_KEY_FILE": str(tmp_path / "renamed-server.key")})
    with pytest.raises(RuntimeError, match="exited") as failure:
        collector.start()
    assert "renamed-server.pem: no such file or directory" in str(failure.value)


def test_a_typo_in_a_switch_is_a_config_error_naming_the_value(otelcol: Path, tmp_path: Path) -> None:
    result = Collector(otelcol, tmp_path, env={"OTELCOL_OTLP_BEARER_AUTH": "yes"}).validate()
    assert result.returncode != 0
    assert "got 'yes'" in result.stderr and "expected 'true' or 'false'" in result.stderr


# -- remote write: TLS and basic auth into a Prometheus that requires them ----------------------------------------
class GuardedPrometheus(Prometheus):
    """Prometheus whose every endpoint, remote write included, wants TLS and basic auth (--web.config.file)."""

    def __init__(self, binary: Path, workdir: Path, server: KeyPair, ca: Path, user: str, password: str,
                 *, verify_queries: bool = True) -> None:
        import bcrypt

        web_config = workdir / "web-config.yml"
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
        web_config.write_text(json.dumps({"tls_server_config": {"cert_file": str(server.cert),
                                                                "key_file": str(server.key)},
                                          "basic_auth_users": {user: hashed}}))
        super().__init__(binary, workdir, rule_files=[], extra_args=[f"--web.config.file={web_config}"])
        self.url = self.url.replace("http://", "https://", 1)
        self.remote_write_url = f"{self.url}/api/v1/write"
        self._tls = ssl.create_default_context(cafile=str(ca))
        if not verify_queries:  # the test's own queries to a server whose certificate is bad on purpose
            self._tls.check_hostname, self._tls.verify_mode = False, ssl.CERT_NONE
        self._authorization = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def _get(self, path: str) -> Any:
        request = urllib.request.Request(f"{self.url}{path}", headers={"Authorization": self._authorization})
        with urllib.request.urlopen(request, timeout=10, context=self._tls) as response:
            return response.read()

    def _ready(self) -> bool:
        try:
            self._get("/-/ready")
            return True
        except OSError:
            return False

    def _launch(self, name: str, argv: Any, ready_url: str, env: Mapping[str, str] | None = None,
                ready: Any = None) -> None:
        super()._launch(name, argv, ready_url, env, ready=self._ready)

    def api(self, path: str, **params: str) -> Any:
        query = urllib.parse.urlencode(params)
        body = json.loads(self._get(path + (f"?{query}" if query else "")))
        assert body.get("status") == "success", body
        return body["data"]


@pytest.fixture
def guarded_prometheus(pki: Pki, tmp_path: Path) -> Iterator[GuardedPrometheus]:
    server = GuardedPrometheus(require("prometheus")["prometheus"], tmp_path, pki.server, pki.ca.cert,
                               "llm-cost", "remote-write-password")
    server.start()
    yield server
    server.stop()


def basic_auth_env(tmp_path: Path, prometheus: Prometheus, ca: Path | None, password: str) -> dict[str, str]:
    password_file = tmp_path / "rw-password"
    password_file.write_text(password + "\n")
    return {"OTELCOL_PROMETHEUS_RW_ENDPOINT": prometheus.remote_write_url,
            "OTELCOL_PROMETHEUS_RW_USERNAME": "llm-cost", "OTELCOL_PROMETHEUS_RW_PASSWORD_FILE": str(password_file),
            **({"OTELCOL_PROMETHEUS_RW_TLS_CA_FILE": str(ca)} if ca else {})}


def test_remote_write_with_basic_auth_over_tls(otelcol: Path, guarded_prometheus: GuardedPrometheus, pki: Pki,
                                              tmp_path: Path) -> None:
    collector = start_collector(otelcol, tmp_path,
                                basic_auth_env(tmp_path, guarded_prometheus, pki.ca.cert, "remote-write-password"),
                                (REMOTE_WRITE_OVERLAYS["basic-auth"],))
    try:
        assert send_probe(collector.otlp_http_endpoint, "http", "over-tls-with-basic-auth")
        assert probe_cases(guarded_prometheus, expected="over-tls-with-basic-auth") == {"over-tls-with-basic-auth"}
    finally:
        collector.stop()


def wait_for_log(collector: Collector, needle: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        log = collector.log(tail=400)
        if needle in log:
            return log
        if time.monotonic() > deadline:
            raise AssertionError(f"{needle!r} not in the collector's log:\n{log}")
        time.sleep(0.25)


MISTAKES = {  # what goes wrong -> what the collector's log says about it
    "wrong password": "401 Unauthorized",
    "no CA file": "x509: certificate signed by unknown authority",
    "expired server certificate": "x509: certificate has expired",
}


def test_remote_write_refused_for_a_bad_credential_or_certificate(otelcol: Path, pki: Pki, tmp_path: Path) -> None:
    """All three at once: a refused password is logged at once; a TLS failure is retried like an outage and
    logged when the batch is given up (OTELCOL_PROMETHEUS_RW_MAX_OUTAGE, here its 30 s minimum)."""
    running: list[tuple[str, GuardedPrometheus, Collector]] = []
    try:
        for mistake in MISTAKES:
            workdir = tmp_path / mistake.replace(" ", "-")
            workdir.mkdir()
            expired = mistake == "expired server certificate"
            guarded = GuardedPrometheus(require("prometheus")["prometheus"], workdir,
                                        pki.expired_server if expired else pki.server, pki.ca.cert,
                                        "llm-cost", "remote-write-password", verify_queries=not expired)
            guarded.start()
            password = "not-the-password" if mistake == "wrong password" else "remote-write-password"
            ca = None if mistake == "no CA file" else pki.ca.cert
            collector = start_collector(otelcol, workdir, {**basic_auth_env(workdir, guarded, ca, password),
                                                           "OTELCOL_PROMETHEUS_RW_MAX_OUTAGE": "30s"},
                                        (REMOTE_WRITE_OVERLAYS["basic-auth"],))
            running.append((mistake, guarded, collector))
            assert send_probe(collector.otlp_http_endpoint, "http", "must-not-arrive")  # the collector took it
        for mistake, guarded, collector in running:
            wait_for_log(collector, MISTAKES[mistake], timeout=60)
            assert guarded.query(PROBE_METRIC) == [], mistake
    finally:
        for _, guarded, collector in running:
            collector.stop()
            guarded.stop()


# -- remote write: bearer token and SigV4 on a local receiver that records what arrives ---------------------------
class RecordingReceiver:
    """A remote-write endpoint on 127.0.0.1 that answers 204 and keeps each request's headers."""

    def __init__(self) -> None:
        seen: list[dict[str, str]] = []
        self.seen = seen

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                seen.append({k.lower(): v for k, v in self.headers.items()})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((LOOPBACK, free_port()), Handler)
        self.url = f"http://{LOOPBACK}:{self._server.server_address[1]}/api/v1/write"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def wait(self, timeout: float = 20.0) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while not self.seen:
            assert time.monotonic() < deadline, "no remote-write request arrived"
            time.sleep(0.1)
        return self.seen[0]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[RecordingReceiver]:
    server = RecordingReceiver()
    yield server
    server.close()


def test_remote_write_sends_the_bearer_token(otelcol: Path, receiver: RecordingReceiver, tmp_path: Path) -> None:
    token = tmp_path / "rw-token"
    token.write_text("remote-write-token\n")
    collector = start_collector(otelcol, tmp_path, {"OTELCOL_PROMETHEUS_RW_ENDPOINT": receiver.url,
                                                    "OTELCOL_PROMETHEUS_RW_BEARER_TOKEN_FILE": str(token)},
                                (REMOTE_WRITE_OVERLAYS["bearer-token"],))
    try:
        assert send_probe(collector.otlp_http_endpoint, "http", "bearer")
        assert receiver.wait()["authorization"] == "Bearer remote-write-token"
    finally:
        collector.stop()


def test_remote_write_is_signed_with_sigv4_for_amazon_managed_prometheus(otelcol: Path, receiver: RecordingReceiver,
                                                                        tmp_path: Path) -> None:
    collector = start_collector(otelcol, tmp_path, {"OTELCOL_PROMETHEUS_RW_ENDPOINT": receiver.url,
                                                    "OTELCOL_PROMETHEUS_RW_SIGV4_REGION": "eu-west-1", **FAKE_AWS},
                                (REMOTE_WRITE_OVERLAYS["sigv4"],))
    try:
        assert send_probe(collector.otlp_http_endpoint, "http", "sigv4")
        headers = receiver.wait()
        authorization = headers["authorization"]
        assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDOTELLLMCOSTTEST/"), authorization
        assert "/eu-west-1/aps/aws4_request" in authorization and "Signature=" in authorization
        assert "x-amz-date" in headers
    finally:
        collector.stop()


def test_sigv4_without_aws_credentials_is_a_config_error(otelcol: Path, tmp_path: Path) -> None:
    collector = Collector(otelcol, tmp_path, configs=(COLLECTOR_CONFIG, REMOTE_WRITE_OVERLAYS["sigv4"]),
                          env={"OTELCOL_PROMETHEUS_RW_SIGV4_REGION": "eu-west-1", **FAKE_AWS})
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        collector.env.pop(name, None)
    result = collector.validate()
    assert result.returncode != 0
    assert "sigv4auth/remote_write: could not retrieve credential provider" in result.stderr


def test_remote_write_bearer_token_without_its_file_stops_the_collector_naming_the_setting(
        otelcol: Path, tmp_path: Path) -> None:
    collector = Collector(otelcol, tmp_path, configs=(COLLECTOR_CONFIG, REMOTE_WRITE_OVERLAYS["bearer-token"]))
    with pytest.raises(RuntimeError, match="exited") as failure:
        collector.start()
    assert "OTELCOL_PROMETHEUS_RW_BEARER_TOKEN_FILE" in str(failure.value)


def test_basic_auth_with_unset_credentials_is_named_in_the_log(otelcol: Path, tmp_path: Path) -> None:
    collector = Collector(otelcol, tmp_path, configs=(COLLECTOR_CONFIG, REMOTE_WRITE_OVERLAYS["basic-auth"]),
                          env={"OTELCOL_PROMETHEUS_RW_ENDPOINT": "http://127.0.0.1:9/api/v1/write"})
    collector.start()
    try:
        log = wait_for_log(collector, "OTELCOL_PROMETHEUS_RW_USERNAME")
        assert "unset environment variable" in log and "OTELCOL_PROMETHEUS_RW_PASSWORD_FILE" in log
    finally:
        collector.stop()


# -- every documented combination validates ------------------------------------------------------------------------
COMBINATIONS = [(overlay, bearer, tls) for overlay in (None, *REMOTE_WRITE_OVERLAYS)
                for bearer in (False, True) for tls in ("off", "tls", "mtls")]


def test_otelcol_validate_accepts_every_documented_combination(otelcol: Path, pki: Pki, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    failures = []
    for overlay, bearer, tls in COMBINATIONS:
        env = {"OTELCOL_OTLP_BEARER_AUTH": str(bearer).lower(), "OTELCOL_OTLP_BEARER_TOKEN_FILE": str(secret),
               "OTELCOL_PROMETHEUS_RW_ENDPOINT": "https://prometheus.example/api/v1/write",
               "OTELCOL_PROMETHEUS_RW_TLS_CA_FILE": str(pki.ca.cert),
               "OTELCOL_PROMETHEUS_RW_USERNAME": "user", "OTELCOL_PROMETHEUS_RW_PASSWORD_FILE": str(secret),
               "OTELCOL_PROMETHEUS_RW_BEARER_TOKEN_FILE": str(secret),
               "OTELCOL_PROMETHEUS_RW_SIGV4_REGION": "us-east-1", **FAKE_AWS}
        if tls != "off":
            env |= {"OTELCOL_OTLP_TLS": "true", "OTELCOL_OTLP_TLS_CERT_FILE": str(pki.server.cert),
                    "OTELCOL_OTLP_TLS_KEY_FILE": str(pki.server.key)}
        if tls == "mtls":
            env["OTELCOL_OTLP_TLS_CLIENT_CA_FILE"] = str(pki.ca.cert)
        overlays = (REMOTE_WRITE_OVERLAYS[overlay],) if overlay else ()
        result = Collector(otelcol, tmp_path, configs=(COLLECTOR_CONFIG, *overlays), env=env).validate()
        if result.returncode != 0:
            failures.append(f"{overlay} bearer={bearer} tls={tls}: {result.stderr[-500:]}")
    assert not failures, "\n".join(failures)


def test_each_remote_write_overlay_lists_the_base_extensions_plus_its_authenticator() -> None:
    base = yaml.safe_load(COLLECTOR_CONFIG.read_text())["service"]["extensions"]
    for name, path in REMOTE_WRITE_OVERLAYS.items():
        overlay = yaml.safe_load(path.read_text())
        authenticator = overlay["exporters"]["prometheus_remote_write"]["http"]["auth"]["authenticator"]
        assert overlay["service"]["extensions"] == [*base, authenticator], name
        assert set(overlay["extensions"]) == {authenticator}, name


def test_the_built_collector_has_every_authenticator(otelcol: Path) -> None:
    result = subprocess.run([str(otelcol), "components"], capture_output=True, text=True, timeout=30, check=True)
    for component in ("bearertokenauth", "basicauth", "sigv4auth"):
        assert component in result.stdout
