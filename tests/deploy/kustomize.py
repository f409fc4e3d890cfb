"""A small reader of the kustomizations in deploy/k8s, so the manifests are checked as they
would be applied without kubectl: the resources (files, or directories with their own
kustomization), ``namespace``, ``images``, ``replicas`` and ``labels``. Any other field fails
loudly: an overlay that needs more of Kustomize needs more of this reader (or
``kubectl kustomize``) before it can be tested."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

SUPPORTED = {"apiVersion", "kind", "resources", "namespace", "images", "replicas", "labels"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume"}


def build(directory: Path) -> list[dict[str, Any]]:
    spec: dict[str, Any] = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unsupported = set(spec) - SUPPORTED
    if unsupported:
        raise ValueError(f"{directory}: kustomization fields not read here: {sorted(unsupported)}")
    docs: list[dict[str, Any]] = []
    for entry in spec.get("resources", []):
        path = (directory / entry).resolve()
        if path.is_dir():
            docs += build(path)
        else:
            docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    for group in spec.get("labels", []):
        for doc in docs:
            doc.setdefault("metadata", {}).setdefault("labels", {}).update(group["pairs"])
            if group.get("includeSelectors"):
                raise ValueError("labels with includeSelectors are not read here")
    if "namespace" in spec:
        for doc in docs:
            if doc["kind"] not in CLUSTER_SCOPED:
                doc["metadata"]["namespace"] = spec["namespace"]
    for image in spec.get("images", []):
        for container in containers(docs):
            name, _, _ = container["image"].partition(":")
            if name == image["name"]:
                container["image"] = f"{image.get('newName', name)}:{image['newTag']}"
    for replica in spec.get("replicas", []):
        targets = [
            d
            for d in docs
            if d["metadata"]["name"] == replica["name"] and "replicas" in d.get("spec", {})
        ]
        if not targets:
            raise ValueError(f"replicas: no workload named {replica['name']}")
        for doc in targets:
            doc["spec"]["replicas"] = replica["count"]
    return docs


def pod_spec(doc: dict[str, Any]) -> dict[str, Any] | None:
    if doc["kind"] in ("Deployment", "Job", "StatefulSet", "DaemonSet"):
        spec: dict[str, Any] = doc["spec"]["template"]["spec"]
        return spec
    return None


def containers(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for doc in docs:
        spec = pod_spec(doc)
        if spec is not None:
            found += spec.get("initContainers", []) + spec["containers"]
    return found
