"""deploy/k8s: the base and every overlay, rendered (tests/deploy/kustomize.py) and validated
against the Kubernetes API's schemas (kubernetes-validate, which ships them: no network), then
held to what running SocialSeed needs: probes on /healthz, requests and limits, a disruption
budget per Deployment, secrets only by reference, the publisher autoscaled, scraping, and a
Job for the topics and the migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from socialseed import cli
from socialseed.stack import SERVICES
from tests.deploy.kustomize import build, containers, pod_spec
from tests.deploy.settings_names import unknown_settings

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
KUBERNETES_VERSION = "1.32.0"
TREES = [K8S / "base", *sorted((K8S / "overlays").iterdir())]
SECRET_WORDS = ("TOKEN", "KEY", "SECRET", "PASSWORD", "DATABASE_URL")


def rendered(tree: Path) -> list[dict[str, Any]]:
    return build(tree)


def of_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


@pytest.mark.parametrize("tree", TREES, ids=lambda p: p.name)
def test_every_manifest_is_valid_against_the_kubernetes_schemas(tree: Path) -> None:
    docs = rendered(tree)
    assert docs
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_a_field_the_api_does_not_know_is_refused() -> None:
    deployment = of_kind(rendered(K8S / "base"), "Deployment")["gateway"]
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("tree", TREES, ids=lambda p: p.name)
def test_every_service_is_deployed_with_probes_resources_and_a_disruption_budget(
    tree: Path,
) -> None:
    docs = rendered(tree)
    deployments = of_kind(docs, "Deployment")
    budgets = of_kind(docs, "PodDisruptionBudget")
    services = of_kind(docs, "Service")
    assert set(deployments) == {s.name for s in SERVICES}
    for spec in SERVICES:
        deployment = deployments[spec.name]
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["command"][:4] == ["python", "-m", "socialseed.run", spec.app]
        assert {"containerPort": spec.port, "name": "http"} in container["ports"]
        for probe in ("readinessProbe", "livenessProbe"):
            assert container[probe]["httpGet"] == {"path": spec.health, "port": "http"}
        for kind in ("requests", "limits"):
            assert set(container["resources"][kind]) == {"cpu", "memory"}, (spec.name, kind)
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert budgets[spec.name]["spec"]["selector"]["matchLabels"] == selector
        assert services[spec.name]["spec"]["selector"] == selector
        assert services[spec.name]["spec"]["ports"][0]["port"] == spec.port
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/port"] == str(spec.port)
        context = container["securityContext"]
        assert context["runAsNonRoot"] and context["readOnlyRootFilesystem"]


@pytest.mark.parametrize("tree", TREES, ids=lambda p: p.name)
def test_secrets_are_only_referenced_never_committed(tree: Path) -> None:
    docs = rendered(tree)
    assert of_kind(docs, "Secret") == {}
    for container in containers(docs):
        for variable in container.get("env", []):
            if any(word in variable["name"] for word in SECRET_WORDS):
                assert "value" not in variable, variable["name"]
                assert "secretKeyRef" in variable["valueFrom"], variable["name"]


@pytest.mark.parametrize("tree", TREES, ids=lambda p: p.name)
def test_every_variable_names_a_setting_of_its_service(tree: Path) -> None:
    names = [v["name"] for c in containers(rendered(tree)) for v in c.get("env", [])]
    assert unknown_settings(names) == []


def test_the_publisher_scales_on_cpu_with_its_media_on_shared_storage() -> None:
    docs = rendered(K8S / "base")
    (hpa,) = of_kind(docs, "HorizontalPodAutoscaler").values()
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "publisher",
    }
    assert hpa["spec"]["minReplicas"] >= 2
    claim = of_kind(docs, "PersistentVolumeClaim")["publisher-media"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]


def test_a_job_creates_the_topics_then_migrates(capsys: pytest.CaptureFixture[str]) -> None:
    (job,) = of_kind(rendered(K8S / "base"), "Job").values()
    spec = pod_spec(job)
    assert spec is not None
    steps = [c["command"] for c in spec["initContainers"] + spec["containers"]]
    assert "socialseed topics" in " ".join(steps[0])
    assert steps[-1] == ["socialseed", "migrate"]
    for sub in ("topics", "migrate"):
        with pytest.raises(SystemExit) as parsed:
            cli.main([sub, "--help"])
        assert parsed.value.code == 0
    capsys.readouterr()
    urls = {v["name"] for v in spec["containers"][0]["env"]}
    assert urls >= {f"{s.env_prefix}DATABASE_URL" for s in SERVICES if s.schema}


def test_an_overlay_using_what_the_reader_does_not_know_fails(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: []\npatches: []\n")
    with pytest.raises(ValueError, match="patches"):
        build(tmp_path)
