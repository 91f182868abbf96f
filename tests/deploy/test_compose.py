"""deploy/compose.yaml, checked without a Docker engine: loaded by compose-go (the library `docker compose`
uses: Compose-spec schema, interpolation, consistency), then every mount, port and URL is followed to the file
or service it names, and the Prometheus and Alertmanager configs go through promtool/amtool."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from go_checker import require_checker, required

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DASHBOARDS = ("llm-spend-overview.json", "llm-spend-attribution.json", "llm-usage-performance.json")


def load(compose: Path) -> subprocess.CompletedProcess[str]:
    path = require_checker("composecheck", "21-compose-check.sh")
    env = {k: v for k, v in os.environ.items() if k not in ("OTELCOL_IMAGE", "GRAFANA_ADMIN_PASSWORD")}
    return subprocess.run([str(path), "-f", str(compose)], capture_output=True, text=True, timeout=60, env=env,
                          check=False)


@pytest.fixture(scope="module")
def project() -> dict[str, Any]:
    done = load(DEPLOY / "compose.yaml")
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def binds(service: dict[str, Any]) -> dict[str, Path]:
    """Container target -> host source of every bind mount."""
    return {v["target"]: Path(v["source"]) for v in service.get("volumes", []) if v["type"] == "bind"}


def flag(service: dict[str, Any], name: str) -> str | None:
    for arg in service.get("command") or []:
        if arg.startswith(f"{name}="):
            return str(arg.split("=", 1)[1])
    return None


def test_services_and_loopback_ports(project: dict[str, Any]) -> None:
    services = project["services"]
    assert set(services) == {"otel-collector", "prometheus", "alertmanager", "alert-webhook", "grafana"}
    for name, service in services.items():
        for port in service.get("ports", []):
            assert port["host_ip"] == "127.0.0.1", f"{name} publishes {port} beyond loopback"


def test_alertmanager_webhook_has_a_receiver_service(project: dict[str, Any]) -> None:
    """deploy/alertmanager.yml posts to a host of the compose network: a service must answer there."""
    from urllib.parse import urlsplit

    import yaml

    config = yaml.safe_load((ROOT / "deploy" / "alertmanager.yml").read_text())
    urls = [hook["url"] for receiver in config["receivers"] for hook in receiver.get("webhook_configs", [])]
    assert urls, "deploy/alertmanager.yml has no webhook receiver"
    for url in urls:
        parts = urlsplit(url)
        assert parts.hostname in project["services"], f"{url}: no compose service named {parts.hostname}"
        command = " ".join(project["services"][parts.hostname].get("command") or [])
        assert f"{parts.port}" in command, f"{url}: the {parts.hostname} service does not listen on {parts.port}"


def test_every_bind_mount_exists(project: dict[str, Any]) -> None:
    for name, service in project["services"].items():
        for target, source in binds(service).items():
            assert source.exists(), f"{name}: {source} (mounted at {target}) does not exist"
            assert ROOT in source.parents, f"{name}: {source} is outside the repository"


def test_collector_wiring(project: dict[str, Any]) -> None:
    collector = project["services"]["otel-collector"]
    mounts = binds(collector)
    config_target = collector["command"][0].split("=", 1)[1]
    assert mounts[config_target] == ROOT / "collector-config" / "otelcol.yaml"
    config_text = mounts[config_target].read_text()
    variables = dict(re.findall(r"\$\{env:(OTELCOL_\w+):-([^}]*)\}", config_text))
    env = collector["environment"]
    assert set(env) <= set(variables), f"unknown collector variables: {set(env) - set(variables)}"
    settings = {**variables, **env}
    published = {int(p["target"]) for p in collector["ports"]}
    assert {int(settings["OTELCOL_OTLP_GRPC_PORT"]), int(settings["OTELCOL_OTLP_HTTP_PORT"]),
            int(settings["OTELCOL_HEALTH_PORT"])} == published
    assert settings["OTELCOL_LISTEN_HOST"] == "0.0.0.0"  # reachable from the host through the published ports
    remote_write = urlparse(settings["OTELCOL_PROMETHEUS_RW_ENDPOINT"])
    prometheus = project["services"]["prometheus"]
    listen = flag(prometheus, "--web.listen-address") or "0.0.0.0:9090"
    assert remote_write.hostname == "prometheus" and remote_write.port == int(listen.rsplit(":", 1)[1])
    assert remote_write.path == "/api/v1/write"
    assert "prometheus" in collector["depends_on"]


def _promtool() -> str:
    found = os.environ.get("OTEL_LLM_COST_PROMTOOL") or shutil.which("promtool")
    if not found:
        required("promtool missing: run scripts/setup.d/10-observability.sh")
    return str(found)


def test_prometheus_wiring(project: dict[str, Any], tmp_path: Path) -> None:
    prometheus = project["services"]["prometheus"]
    assert "--web.enable-remote-write-receiver" in prometheus["command"]
    mounts = binds(prometheus)
    config_path = mounts[flag(prometheus, "--config.file") or ""]
    config = yaml.safe_load(config_path.read_text())
    (rule_glob,) = config["rule_files"]
    rules_source = mounts[str(Path(rule_glob).parent)]
    assert rules_source == ROOT / "prometheus" / "rules"
    assert list(rules_source.glob(Path(rule_glob).name)), "no rule file matches"
    targets = config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert targets == ["alertmanager:9093"] and "alertmanager" in prometheus["depends_on"]
    # promtool checks the config and loads the rule files it names (paths mapped to the checkout).
    config["rule_files"] = [str(rules_source / Path(rule_glob).name)]
    local = tmp_path / "prometheus.yml"
    local.write_text(yaml.safe_dump(config))
    done = subprocess.run([_promtool(), "check", "config", str(local)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout + done.stderr


def test_alertmanager_config(project: dict[str, Any]) -> None:
    alertmanager = project["services"]["alertmanager"]
    config = binds(alertmanager)[flag(alertmanager, "--config.file") or ""]
    amtool = os.environ.get("OTEL_LLM_COST_AMTOOL") or shutil.which("amtool")
    if not amtool:
        required("amtool missing: run scripts/setup.d/10-observability.sh")
    done = subprocess.run([str(amtool), "check-config", str(config)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_grafana_provisioning(project: dict[str, Any]) -> None:
    grafana = project["services"]["grafana"]
    mounts = binds(grafana)
    datasources = mounts["/etc/grafana/provisioning/datasources"]
    providers = mounts["/etc/grafana/provisioning/dashboards"]
    (source,) = yaml.safe_load((datasources / "llm-cost-prometheus.yaml").read_text())["datasources"]
    assert source["type"] == "prometheus" and source["url"] == "${PROMETHEUS_URL}"
    url = urlparse(grafana["environment"]["PROMETHEUS_URL"])
    assert url.hostname == "prometheus" and url.port == 9090
    (provider,) = yaml.safe_load((providers / "llm-cost.yaml").read_text())["providers"]
    dashboard_dir = mounts[provider["options"]["path"]]
    assert dashboard_dir == ROOT / "grafana-dashboards"
    for name in DASHBOARDS:
        assert (dashboard_dir / name).is_file()
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == f"{provider['options']['path']}/llm-spend-overview.json"


@pytest.mark.parametrize(("change", "complaint"), [
    (lambda c: c["services"]["grafana"].update(depends_on=["promethus"]), "promethus"),
    (lambda c: c["services"]["prometheus"].update(restart_policy="always"), "restart_policy"),
    (lambda c: c["services"]["alertmanager"].update(ports=["127.0.0.1:9093:notaport"]), "notaport"),
])
def test_checker_rejects_broken_compose(change: Any, complaint: str, tmp_path: Path) -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    change(compose)
    broken = tmp_path / "compose.yaml"
    broken.write_text(yaml.safe_dump(compose))
    done = load(broken)
    assert done.returncode != 0 and complaint in done.stderr, done.stderr
