"""The Kubernetes manifests (deploy/kubernetes): valid against Kubernetes' own schemas, offline (kubernetes-validate
bundles them), and consistent with Lanner: real commands and settings, probes on the health endpoints, Services and
budgets that select the pods, a grace period that leaves a worker time to hand its task run back, and a KEDA
ScaledObject on the queue the workers really read."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rq import Queue

from engine.cli import main
from engine.runtime.handover import FORCE_AFTER
from engine.runtime.queue import TASK_QUEUE
from tests.support import ROOT

kubernetes_validate = pytest.importorskip(
    "kubernetes_validate", reason="pip install -e '.[test]' (kubernetes-validate)"
)

FOLDER = ROOT / "deploy" / "kubernetes"
KUBERNETES = "1.30"  # the oldest version the manifests promise to work with (policy/v1 PDBs, autoscaling/v2)
CORE = sorted(path for path in FOLDER.glob("*.yaml") if path.name != "kustomization.yaml")
OPTIONAL = sorted((FOLDER / "optional").glob("*.yaml"))


def _documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _all(kind: str, paths=CORE) -> list[dict]:
    return [doc for path in paths for doc in _documents(path) if doc["kind"] == kind]


def _deployments() -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in _all("Deployment")}


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


@pytest.mark.parametrize("path", CORE, ids=lambda p: p.name)
def test_every_manifest_validates_against_the_kubernetes_schemas(path: Path):
    for doc in _documents(path):
        kubernetes_validate.validate(doc, KUBERNETES, strict=True)  # raises with the field's path


def test_the_validation_catches_a_misspelt_field_and_a_wrong_type():
    """The check above is only as good as the validator: it must refuse what kubectl would."""
    worker = _documents(FOLDER / "worker.yaml")[0]
    misspelt = yaml.safe_load(yaml.safe_dump(worker))
    misspelt["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGett"] = {"path": "/", "port": 1}
    wrong_type = yaml.safe_load(yaml.safe_dump(worker))
    wrong_type["spec"]["replicas"] = "two"
    for broken in (misspelt, wrong_type):
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(broken, KUBERNETES, strict=True)


def test_kustomization_applies_every_core_manifest():
    kustomization = yaml.safe_load((FOLDER / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted(path.name for path in CORE)


def test_each_part_runs_a_real_command_with_probes_resources_and_the_settings():
    settings_source = (ROOT / "engine" / "config.py").read_text()
    config_maps = {doc["metadata"]["name"]: doc for doc in _all("ConfigMap")}
    secrets = {doc["metadata"]["name"]: doc for doc in _all("Secret")}
    for doc in [*config_maps.values(), *secrets.values()]:
        for name in doc.get("data") or doc.get("stringData"):
            assert f'"{name}"' in settings_source, f"{name} is no setting engine/config.py reads"
    deployments = _deployments()
    assert {name.removeprefix("lanner-") for name in deployments} == {
        "studio",
        "api",
        "executor",
        "scheduler",
        "worker",
    }
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]
        assert _matches(deployment["spec"]["selector"]["matchLabels"], pod["metadata"]["labels"]), name
        (container,) = pod["spec"]["containers"]
        command = container["command"]
        assert command[0] == "lanner", name
        main.commands[command[1]].make_context(command[1], list(command[2:]))  # the options exist (click parses)
        ports = {port["name"] for port in container["ports"]}
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live", name
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready", name
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            if probe in container:
                assert container[probe]["httpGet"]["port"] in ports, (name, probe)
        assert container["resources"]["requests"]["cpu"] and container["resources"]["limits"]["memory"], name
        sources = container["envFrom"]
        assert {s["configMapRef"]["name"] for s in sources if "configMapRef" in s} <= set(config_maps), name
        assert {s["secretRef"]["name"] for s in sources if "secretRef" in s} <= set(secrets), name
        if command[1] in ("executor", "scheduler", "worker"):  # their management port: LANNER_METRICS_PORT
            (metrics,) = [port for port in container["ports"] if port["name"] == "metrics"]
            (settings,) = config_maps.values()
            assert str(metrics["containerPort"]) == settings["data"]["LANNER_METRICS_PORT"], name


def test_a_worker_has_the_time_to_hand_its_task_run_back_before_kubernetes_kills_it():
    (settings,) = _all("ConfigMap")
    grace = float(settings["data"]["LANNER_WORKER_GRACE_PERIOD"])
    pod = _deployments()["lanner-worker"]["spec"]["template"]["spec"]
    # the grace period, then a task asked to stop has FORCE_AFTER seconds, then a second for the hand-back itself
    assert grace + FORCE_AFTER + 1 <= pod["terminationGracePeriodSeconds"]


def test_services_and_budgets_select_pods_and_every_service_has_a_metrics_port():
    pods = {name: d["spec"]["template"]["metadata"]["labels"] for name, d in _deployments().items()}
    named_ports = {
        name: {p["name"] for p in d["spec"]["template"]["spec"]["containers"][0]["ports"]}
        for name, d in _deployments().items()
    }
    for service in _all("Service"):
        selected = [name for name, labels in pods.items() if _matches(service["spec"]["selector"], labels)]
        assert len(selected) == 1, service["metadata"]["name"]
        ports = {port["name"]: port for port in service["spec"]["ports"]}
        assert "metrics" in ports and service["metadata"]["labels"]["lanner.io/metrics"] == "true"
        assert {port["targetPort"] for port in ports.values()} <= named_ports[selected[0]]
    budgets = _all("PodDisruptionBudget")
    assert {b["metadata"]["name"] for b in budgets} >= {"lanner-worker", "lanner-executor", "lanner-studio"}
    for budget in budgets:
        selector = budget["spec"]["selector"]["matchLabels"]
        assert [name for name, labels in pods.items() if _matches(selector, labels)], budget["metadata"]["name"]


def test_the_keda_scaled_object_scales_the_workers_on_the_queue_they_read():
    """KEDA's CRDs are not among Kubernetes' schemas: its required fields are checked here (keda.sh/v1alpha1)."""
    (scaled,) = _all("ScaledObject", OPTIONAL)
    assert scaled["apiVersion"] == "keda.sh/v1alpha1" and scaled["metadata"]["namespace"] == "lanner"
    spec = scaled["spec"]
    assert spec["scaleTargetRef"]["name"] in _deployments() and spec["scaleTargetRef"]["name"] == "lanner-worker"
    assert 0 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
    (trigger,) = spec["triggers"]
    assert trigger["type"] == "redis"
    assert trigger["metadata"]["listName"] == Queue.redis_queue_namespace_prefix + TASK_QUEUE
    assert trigger["metadata"]["listLength"].isdigit() and trigger["metadata"]["address"]
    (authentication,) = _all("TriggerAuthentication", OPTIONAL)
    assert trigger["authenticationRef"]["name"] == authentication["metadata"]["name"]
    assert all({"parameter", "name", "key"} <= set(ref) for ref in authentication["spec"]["secretTargetRef"])


def test_the_service_monitor_scrapes_the_metrics_port_of_every_lanner_service():
    (monitor,) = _all("ServiceMonitor", OPTIONAL)
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    selector = monitor["spec"]["selector"]["matchLabels"]
    services = [s for s in _all("Service") if _matches(selector, s["metadata"]["labels"])]
    assert len(services) == len(_all("Service")) and [e["port"] for e in monitor["spec"]["endpoints"]] == ["metrics"]
