"""deploy/kubernetes/, checked offline: generated from one source each (scripts/gen_kubernetes.py --check),
decoded strictly into the Kubernetes and prometheus-operator types by k8scheck (scripts/setup.d/22-k8s-check.sh),
the embedded rules through promtool, and the Helm chart's collector config through ``otelcol validate`` with the
environment the values give the pod."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from go_checker import require_checker, required

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from stack import find_binary

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "kubernetes"
RULES = ROOT / "prometheus" / "rules"
COLLECTOR = ROOT / "collector-config"
OVERLAYS = sorted((COLLECTOR / "remote-write").glob("*.yaml"))
ENV_REF = re.compile(r"\$\{env:([A-Z0-9_]+)(:-[^}]*)?\}")


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def k8scheck(mode: str, *files: Path) -> subprocess.CompletedProcess[str]:
    checker = require_checker("k8scheck", "22-k8s-check.sh")
    return subprocess.run([str(checker), mode, *map(str, files)], capture_output=True, text=True, timeout=60,
                          check=False)


def values_env() -> dict[str, Any]:
    """extraEnvs of collector-values.yaml by name: a plain value, or the valueFrom mapping."""
    values = yaml.safe_load((K8S / "collector-values.yaml").read_text())
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in values["extraEnvs"]}


# -- one source each ----------------------------------------------------------------------------------------------
def test_generated_files_are_current() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_kubernetes.py"), "--check"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr


def test_one_prometheus_rule_per_rule_file_with_its_groups_unchanged() -> None:
    rules = {doc["metadata"]["name"]: doc for doc in documents(K8S / "prometheus-rules.yaml")}
    sources = sorted(RULES.glob("*.yaml"))
    assert set(rules) == {f"otel-llm-cost-{path.stem}" for path in sources}
    for path in sources:
        rule = rules[f"otel-llm-cost-{path.stem}"]
        assert rule["spec"]["groups"] == yaml.safe_load(path.read_text())["groups"], path.name
        assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"


def test_one_dashboard_configmap_per_dashboard_with_the_sidecar_label() -> None:
    maps = {doc["metadata"]["name"]: doc for doc in documents(K8S / "grafana-dashboards.yaml")}
    sources = sorted((ROOT / "grafana-dashboards").glob("*.json"))
    assert set(maps) == {f"otel-llm-cost-dashboard-{path.stem}" for path in sources}
    for path in sources:
        config_map = maps[f"otel-llm-cost-dashboard-{path.stem}"]
        assert config_map["data"] == {path.name: path.read_text()}
        assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
        json.loads(config_map["data"][path.name])


def test_collector_values_carry_our_config_and_overlays() -> None:
    base = yaml.safe_load((K8S / "collector-config-values.yaml").read_text())["alternateConfig"]
    assert base == yaml.safe_load((COLLECTOR / "otelcol.yaml").read_text())
    for overlay in OVERLAYS:
        values = yaml.safe_load((K8S / f"remote-write-{overlay.stem}-values.yaml").read_text())
        assert values == {"alternateConfig": yaml.safe_load(overlay.read_text())}, overlay.name


# -- schemas ------------------------------------------------------------------------------------------------------
def test_manifests_decode_strictly_into_the_kubernetes_and_prometheus_operator_types() -> None:
    done = k8scheck("manifests", K8S / "prometheus-rules.yaml", K8S / "grafana-dashboards.yaml")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("PrometheusRule otel-llm-cost-") == len(list(RULES.glob("*.yaml")))
    assert done.stdout.count("ConfigMap otel-llm-cost-dashboard-") == 3


def test_helm_values_decode_strictly_into_the_kubernetes_types() -> None:
    done = k8scheck("helm-values", K8S / "collector-values.yaml")
    assert done.returncode == 0, done.stderr


BROKEN = {
    "misspelt field": ("apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: x}\n"
                       "spec:\n  groups:\n  - name: g\n    rulez: []\n", 'unknown field "rulez"'),
    "wrong type": ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a.json: {nested: 1}}\n",
                   "ConfigMap"),
    "bad name": ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Not_A_Name}\ndata: {a: b}\n",
                 "metadata.name"),
    "bad label": ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, labels: {'bad label': v}}\n",
                  "metadata.labels"),
    "bad key": ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {'a/b.json': '{}'}\n", "data[a/b.json]"),
    "misspelt pod field": ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n"
                           "spec: {template: {spec: {containerz: []}}}\n", 'unknown field "containerz"'),
    "record and alert": ("apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: x}\n"
                         "spec:\n  groups:\n  - name: g\n    rules:\n    - {record: a, alert: B, expr: up}\n",
                         "exactly one of record and alert"),
}


@pytest.mark.parametrize("mistake", list(BROKEN))
def test_k8scheck_rejects_what_the_api_server_would(mistake: str, tmp_path: Path) -> None:
    text, message = BROKEN[mistake]
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    done = k8scheck("manifests", path)
    assert done.returncode == 1 and message in done.stderr, done.stderr


def test_k8scheck_rejects_a_misspelt_env_field_in_helm_values(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text("extraEnvs:\n  - name: OTELCOL_LISTEN_HOST\n    valuFrom: {fieldRef: {fieldPath: status.podIP}}\n")
    done = k8scheck("helm-values", path)
    assert done.returncode == 1 and 'unknown field "valuFrom"' in done.stderr, done.stderr


def test_embedded_rules_pass_promtool(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        required("promtool missing: run scripts/setup.d/10-observability.sh")
    files = []
    for doc in documents(K8S / "prometheus-rules.yaml"):
        path = tmp_path / f"{doc['metadata']['name']}.yaml"
        path.write_text(yaml.safe_dump(doc["spec"]))
        files.append(str(path))
    done = subprocess.run([str(promtool), "check", "rules", *files], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr


# -- the collector the chart runs ---------------------------------------------------------------------------------
def test_every_setting_the_values_give_is_one_the_config_reads() -> None:
    """A misspelt OTELCOL_* name in the values would be silently ignored by the collector."""
    read = set()
    for path in (COLLECTOR / "otelcol.yaml", *OVERLAYS):
        read |= {m.group(1) for m in ENV_REF.finditer(path.read_text())}
    given = set(values_env())
    assert given <= read, sorted(given - read)
    required_by_overlays = {m.group(1) for path in OVERLAYS for m in ENV_REF.finditer(path.read_text())
                            if m.group(2) is None}
    assert required_by_overlays <= given, sorted(required_by_overlays - given)


@pytest.mark.parametrize("overlay", [None, *(path.stem for path in OVERLAYS)])
def test_the_chart_config_validates_with_the_values_environment(overlay: str | None, tmp_path: Path) -> None:
    otelcol = find_binary("otelcol")
    if otelcol is None:
        required("the collector is not built: run scripts/build-collector.sh")
    env: dict[str, str] = {"PATH": "/usr/bin:/bin", "AWS_EC2_METADATA_DISABLED": "true",
                           "AWS_ACCESS_KEY_ID": "AKIDOTELLLMCOSTTEST", "AWS_SECRET_ACCESS_KEY": "fake",
                           "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}
    for name, value in values_env().items():
        if isinstance(value, dict):  # valueFrom: the pod IP
            env[name] = "127.0.0.1"
        elif value.startswith("/etc/otel-llm-cost/secrets/"):  # the Secret's files
            secret = tmp_path / Path(value).name
            secret.write_text("s3cret\n")
            env[name] = str(secret)
        else:
            env[name] = value
    configs = [tmp_path / "base.yaml"]
    configs[0].write_text(yaml.safe_dump(
        yaml.safe_load((K8S / "collector-config-values.yaml").read_text())["alternateConfig"]))
    if overlay:
        configs.append(tmp_path / "overlay.yaml")
        configs[1].write_text(yaml.safe_dump(
            yaml.safe_load((K8S / f"remote-write-{overlay}-values.yaml").read_text())["alternateConfig"]))
    done = subprocess.run([str(otelcol), "validate", *(f"--config={c}" for c in configs)], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
