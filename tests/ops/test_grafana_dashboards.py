"""deploy/grafana: the committed dashboards are what deploy/grafana/generate.py makes (no drift),
there is one for each thing an operator watches, and each is well formed for provisioning.
Whether their queries return data is tests/ops/test_live_queries.py's."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
GRAFANA = REPO / "deploy" / "grafana"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("grafana_generate", GRAFANA / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def committed() -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text()) for p in (GRAFANA / "dashboards").glob("*.json")}


def panels(model: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in model["panels"] if p["type"] != "row"]


def test_the_committed_dashboards_are_the_generated_ones() -> None:
    gen = generator()
    made = {name: gen.render(model) for name, model in gen.dashboards().items()}
    on_disk = {p.name: p.read_text() for p in (GRAFANA / "dashboards").glob("*.json")}
    assert sorted(on_disk) == sorted(made), "run: uv run python deploy/grafana/generate.py"
    for name, text in made.items():
        assert on_disk[name] == text, f"{name} differs: uv run python deploy/grafana/generate.py"


def test_there_is_a_dashboard_for_each_area_and_each_service() -> None:
    titles = {model["title"] for model in committed().values()}
    assert {
        "SocialSeed / Overview",
        "SocialSeed / Publishing",
        "SocialSeed / Analytics sync",
        "SocialSeed / Kafka & outbox",
        *(
            f"SocialSeed / {job}"
            for job in ("auth", "accounts", "publisher", "analytics-sync", "gateway")
        ),
    } <= titles


def test_every_panel_queries_the_provisioned_prometheus() -> None:
    uids = set()
    for name, model in committed().items():
        assert model["uid"] not in uids, name
        uids.add(model["uid"])
        ids = [p["id"] for p in model["panels"]]
        assert len(ids) == len(set(ids)), f"{name}: panel ids repeat"
        [variable] = model["templating"]["list"]
        assert (variable["type"], variable["query"]) == ("datasource", "prometheus")
        for panel in panels(model):
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, name
            assert panel["targets"], f"{name}: {panel['title']} has no query"
            assert all(t["expr"].strip() for t in panel["targets"]), name


def test_the_provisioning_files() -> None:
    source = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yml").read_text())
    [datasource] = source["datasources"]
    assert datasource["type"] == "prometheus" and datasource["isDefault"]
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/socialseed.yml").read_text())
    [files] = provider["providers"]
    assert files["type"] == "file" and files["options"]["path"]
