"""The Kubernetes manifests pass a security review and agree with the code, for every workload in deploy/k8s
(services added later are held to the same rules): valid against the Kubernetes API schemas, non-root with a
read-only root filesystem and no capabilities, resources set, pinned images, one Secret per service holding only
settings of that service, default-deny network policies, and no metrics or docs on the receiver's public port."""

from __future__ import annotations

import importlib
import inspect
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]  # ships no type information
import pytest
import yaml
from pydantic import SecretStr
from pydantic_settings import BaseSettings

from regpipe.kafka.access import PRINCIPALS
from regpipe.kafka.topics import TOPICS, Topic

_ROOT = Path(__file__).resolve().parents[2]
_K8S = _ROOT / "deploy" / "k8s"
_KUBERNETES_VERSION = "1.33.0"
# Custom resources the API schemas do not cover (KEDA autoscaling); checked by their own tests where generated.
_CRD_GROUPS = ("keda.sh/",)
_POD_OWNERS = ("Deployment", "StatefulSet", "DaemonSet", "Job")
# prometheus_client's own variable (multiprocess mode), not a settings field.
_NOT_SETTINGS = {"PROMETHEUS_MULTIPROC_DIR"}


def _documents() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(_K8S.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                found.append((path.name, document))
    return found


def _scripts() -> dict[str, str]:
    scripts: dict[str, str] = tomllib.loads((_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    return scripts


def _settings_of(command: str) -> type[BaseSettings]:
    package = _scripts()[command].split(":")[0].rsplit(".", 1)[0]
    module = importlib.import_module(f"{package}.settings")
    classes = [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj) and issubclass(obj, BaseSettings) and obj.__module__ == module.__name__
    ]
    assert len(classes) == 1, f"{package}.settings must define exactly one settings class"
    return classes[0]


def _secret_fields(settings: type[BaseSettings]) -> tuple[set[str], set[str]]:
    """(every SecretStr setting, the required ones), as environment variable names."""
    secret = {name.upper() for name, f in settings.model_fields.items() if SecretStr in _types(f.annotation)}
    required = {name.upper() for name, f in settings.model_fields.items() if f.is_required()} & secret
    return secret, required


def _types(annotation: Any) -> set[Any]:
    args = getattr(annotation, "__args__", None)
    return set(args) if args else {annotation}


class _Workload:
    def __init__(self, file: str, document: dict[str, Any]) -> None:
        self.file = file
        self.name: str = document["metadata"]["name"]
        template = document["spec"]["template"]
        self.labels: dict[str, str] = template["metadata"].get("labels", {})
        self.pod: dict[str, Any] = template["spec"]
        self.containers: list[dict[str, Any]] = self.pod["containers"] + self.pod.get("initContainers", [])

    def __repr__(self) -> str:
        return f"{self.file}:{self.name}"


def _workloads() -> Iterator[_Workload]:
    for file, document in _documents():
        if document["kind"] in _POD_OWNERS:
            yield _Workload(file, document)


def _secrets() -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in _documents() if doc["kind"] == "Secret"}


def _config_keys() -> set[str]:
    keys: set[str] = set()
    for _, doc in _documents():
        if doc["kind"] == "ConfigMap":
            keys.update(doc.get("data", {}))
    return keys


def _secret_names(container: dict[str, Any]) -> set[str]:
    names = {source["secretRef"]["name"] for source in container.get("envFrom", []) if "secretRef" in source}
    for env in container.get("env", []):
        ref = env.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            names.add(ref["name"])
    return names


def test_there_is_something_to_check() -> None:
    assert len(list(_workloads())) >= 6


@pytest.mark.parametrize(("file", "document"), _documents(), ids=lambda v: v if isinstance(v, str) else "")
def test_valid_against_the_kubernetes_api_schemas(file: str, document: dict[str, Any]) -> None:
    if document["apiVersion"].startswith(_CRD_GROUPS):
        return
    kubernetes_validate.validate(document, _KUBERNETES_VERSION, strict=True)


def test_every_workload_runs_non_root_read_only_without_capabilities() -> None:
    for workload in _workloads():
        pod_context = workload.pod.get("securityContext", {})
        assert pod_context.get("runAsNonRoot") is True, workload
        assert pod_context.get("seccompProfile", {}).get("type") == "RuntimeDefault", workload
        assert workload.pod.get("automountServiceAccountToken") is False, workload
        for container in workload.containers:
            context = container.get("securityContext", {})
            assert context.get("allowPrivilegeEscalation") is False, workload
            assert context.get("readOnlyRootFilesystem") is True, workload
            assert context.get("privileged", False) is False, workload
            assert "ALL" in context.get("capabilities", {}).get("drop", []), workload
            assert not context.get("capabilities", {}).get("add"), workload


def test_every_container_has_resources_and_a_pinned_image() -> None:
    for workload in _workloads():
        for container in workload.containers:
            resources = container.get("resources", {})
            for kind in ("cpu", "memory"):
                assert kind in resources.get("requests", {}), (workload, "requests", kind)
            assert "memory" in resources.get("limits", {}), (workload, "limits memory")
            image: str = container["image"]
            tag = image.rsplit("/", 1)[-1].partition(":")[2]
            assert "@sha256:" in image or (tag and tag != "latest"), (workload, image)


def test_each_service_gets_its_own_secret_with_only_its_settings() -> None:
    secrets = _secrets()
    config = _config_keys()
    for workload in _workloads():
        for container in workload.containers:
            settings = _settings_of(container["command"][0])
            known = {name.upper() for name in settings.model_fields} | _NOT_SETTINGS
            secret_fields, required_secrets = _secret_fields(settings)
            referenced = _secret_names(container)
            assert referenced <= {workload.name}, f"{workload} reads secrets of others: {referenced}"
            keys = set(secrets[workload.name]["stringData"]) if referenced else set()
            assert keys <= secret_fields, f"{workload}'s Secret holds what it does not read: {keys - secret_fields}"
            assert required_secrets <= keys, f"{workload} lacks required secrets {required_secrets - keys}"
            env = {item["name"] for item in container.get("env", [])}
            assert not env & secret_fields, f"{workload} has secrets in plain env: {env & secret_fields}"
            unknown = (env | config) - known
            assert not unknown, f"{workload} is given variables its settings do not read: {unknown}"
            if "POSTGRES_DSN" in keys:
                assert workload.labels.get("regpipe.io/postgres-client") == "true", workload
            if "kafka_bootstrap_servers" in settings.model_fields:
                assert workload.labels.get("regpipe.io/kafka-client") == "true", workload


def test_every_kafka_client_logs_in_as_its_own_principal() -> None:
    principals = {principal.name for principal in PRINCIPALS}
    secrets = _secrets()
    for workload in _workloads():
        for container in workload.containers:
            if "kafka_bootstrap_servers" not in _settings_of(container["command"][0]).model_fields:
                continue
            env = {item["name"]: item.get("value") for item in container.get("env", [])}
            assert env.get("KAFKA_SASL_USERNAME") == workload.name, f"{workload} does not log in as itself"
            assert workload.name in principals, f"{workload} has no principal in regpipe.kafka.access"
            assert "KAFKA_SASL_PASSWORD" in secrets[workload.name]["stringData"], f"{workload} has no Kafka password"


def _trigger_authentication_secrets() -> set[str]:
    return {
        ref["name"]
        for _, doc in _documents()
        if doc["kind"] == "TriggerAuthentication"
        for ref in doc["spec"]["secretTargetRef"]
    }


def test_every_secret_belongs_to_a_service() -> None:
    scripts = _scripts()
    autoscaler_secrets = _trigger_authentication_secrets()
    for name, secret in _secrets().items():
        if name in autoscaler_secrets:
            continue  # checked by test_lag_autoscalers_log_in_as_a_principal_that_only_watches
        command = name  # the Secret of service X is named like X's console script, regpipe-X
        assert command in scripts, f"Secret {name} belongs to no service"
        secret_fields, _ = _secret_fields(_settings_of(command))
        assert set(secret["stringData"]) <= secret_fields, name
        assert all(value == "" for value in secret["stringData"].values()), f"{name}: no secret values in git"


def test_network_policies_deny_by_default() -> None:
    policies = [doc for _, doc in _documents() if doc["kind"] == "NetworkPolicy"]
    default = [p for p in policies if p["spec"]["podSelector"] == {}]
    assert any(
        set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
        for p in default
    )
    selectors = [p["spec"]["podSelector"].get("matchLabels", {}) for p in policies]
    for workload in _workloads():
        # Every workload's pod is let through by at least one policy beyond the default deny.
        assert any(s and s.items() <= workload.labels.items() for s in selectors), workload


def test_receiver_public_port_serves_no_metrics_and_no_docs() -> None:
    receiver = next(w for w in _workloads() if w.name == "regpipe-webhook-receiver")
    container = receiver.containers[0]
    env = {item["name"]: item.get("value") for item in container.get("env", [])}
    assert env.get("METRICS_PORT") not in (None, "0")
    assert env["METRICS_PORT"] != env["WEBHOOK_PORT"]
    assert env.get("PROMETHEUS_MULTIPROC_DIR")
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports["metrics"] == int(env["METRICS_PORT"])
    services = [doc for _, doc in _documents() if doc["kind"] == "Service"]
    public = [s for s in services if s["spec"]["selector"].get("app") == receiver.name]
    assert public
    for service in public:
        targets = {port["targetPort"] for port in service["spec"]["ports"]}
        assert targets <= {"http", ports["http"]}, targets


def test_lag_autoscalers_watch_what_their_service_consumes() -> None:
    bootstrap = next(doc["data"]["KAFKA_BOOTSTRAP_SERVERS"] for _, doc in _documents() if doc["kind"] == "ConfigMap")
    commands = {w.name: w.containers[0]["command"][0] for w in _workloads()}
    scalers = [doc for _, doc in _documents() if doc["kind"] == "ScaledObject"]
    assert scalers
    for scaler in scalers:
        target = scaler["spec"]["scaleTargetRef"]["name"]
        defaults = {name: f.default for name, f in _settings_of(commands[target]).model_fields.items()}
        for trigger in scaler["spec"]["triggers"]:
            if trigger["type"] != "kafka":
                continue
            metadata = trigger["metadata"]
            assert metadata["bootstrapServers"] == bootstrap, target
            assert metadata["consumerGroup"] in {v for k, v in defaults.items() if k.endswith("_group_id")}, target
            assert metadata["topic"] in {v for k, v in defaults.items() if k.endswith("_input_topic")}, target
            # More consumers than partitions would sit idle.
            assert scaler["spec"]["maxReplicaCount"] <= TOPICS[Topic(metadata["topic"])].partitions, target


def test_prometheus_may_reach_every_metrics_port() -> None:
    policies = [doc for _, doc in _documents() if doc["kind"] == "NetworkPolicy"]
    scrape_ports = {
        port["port"]
        for policy in policies
        for rule in policy["spec"].get("ingress", [])
        if any(
            peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name") == "monitoring"
            for peer in rule.get("from", [])
        )
        for port in rule.get("ports", [])
    }
    for workload in _workloads():
        annotations = {}
        for _, doc in _documents():
            if doc["kind"] in _POD_OWNERS and doc["metadata"]["name"] == workload.name:
                annotations = doc["spec"]["template"]["metadata"].get("annotations", {})
        port = int(annotations.get("prometheus.io/port", 0))
        if not port:
            continue
        names = {p["name"] for c in workload.containers for p in c.get("ports", []) if p["containerPort"] == port}
        assert names & scrape_ports or port in scrape_ports, f"{workload}: Prometheus cannot reach port {port}"


def test_lag_autoscalers_log_in_as_a_principal_that_only_watches() -> None:
    authentications = {
        doc["metadata"]["name"]: doc for _, doc in _documents() if doc["kind"] == "TriggerAuthentication"
    }
    secrets = _secrets()
    principals = {principal.name: principal for principal in PRINCIPALS}
    for scaler in (doc for _, doc in _documents() if doc["kind"] == "ScaledObject"):
        for trigger in scaler["spec"]["triggers"]:
            authentication = authentications[trigger["authenticationRef"]["name"]]
            refs = {ref["parameter"]: ref for ref in authentication["spec"]["secretTargetRef"]}
            assert set(refs) == {"sasl", "username", "password"}
            secret = secrets[refs["password"]["name"]]["stringData"]
            assert secret[refs["password"]["key"]] == "", "no password in git"
            assert secret[refs["sasl"]["key"]] == "scram_sha512"
            principal = principals[secret[refs["username"]["key"]]]
            assert (principal.reads, principal.writes, principal.groups) == ((), (), ()), "an autoscaler only watches"
            assert trigger["metadata"]["consumerGroup"] in principal.watches_groups
            assert trigger["metadata"]["topic"] in {topic.value for topic in principal.watches_topics}
