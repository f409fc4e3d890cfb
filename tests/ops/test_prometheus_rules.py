"""deploy/prometheus checked by Prometheus's own tool: the config loads, the rules parse, and the
rules' unit tests (synthetic series, tests/alerts_test.yml) pass — with every alert covered both
firing and quiet, labelled with a severity and linked to its runbook entry in docs/operations.md."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from socialseed.devstack.prometheus import DEPLOY_DIR, ensure_prometheus, local_config

REPO = Path(__file__).resolve().parents[2]
RULES = DEPLOY_DIR / "rules" / "alerts.yml"
RULE_TESTS = DEPLOY_DIR / "tests" / "alerts_test.yml"
OPERATIONS = REPO / "docs" / "operations.md"
SEVERITIES = {"page", "ticket"}


@pytest.fixture(scope="module")
def promtool() -> Path:
    return ensure_prometheus()[1]


def _promtool(promtool: Path, *args: str) -> str:
    res = subprocess.run(
        [str(promtool), *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert res.returncode == 0, f"promtool {' '.join(args)}:\n{res.stdout}\n{res.stderr}"
    return res.stdout


def _alerts() -> list[dict[str, object]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def test_the_committed_config_loads(promtool: Path, tmp_path: Path) -> None:
    """As an operator deploys it: the directory as committed plus their token file."""
    deployed = tmp_path / "prometheus"
    shutil.copytree(DEPLOY_DIR, deployed)
    (deployed / "metrics-token").write_text("a-token\n")
    out = _promtool(promtool, "check", "config", str(deployed / "prometheus.yml"))
    assert "SUCCESS" in out


def test_the_local_config_loads(promtool: Path, tmp_path: Path) -> None:
    """What `socialseed up` and the dashboard test run: the committed file with this machine's
    targets, token file and interval."""
    token = tmp_path / "metrics-token"
    token.write_text("a-token\n")
    jobs = ["auth", "accounts", "publisher", "analytics-sync", "webhooks", "gateway"]
    config = local_config(
        {job: f"127.0.0.1:{9100 + i}" for i, job in enumerate(jobs)},
        token_file=token,
        scrape_interval="1s",
    )
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    _promtool(promtool, "check", "config", str(path))


def test_the_rules_parse(promtool: Path) -> None:
    out = _promtool(promtool, "check", "rules", str(RULES))
    assert f"{len(_alerts())} rules found" in out


def test_the_rules_unit_tests_pass(promtool: Path) -> None:
    out = _promtool(promtool, "test", "rules", str(RULE_TESTS))
    assert "SUCCESS" in out


def test_every_alert_is_tested_firing_and_quiet() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for case in yaml.safe_load(RULE_TESTS.read_text())["tests"]:
        for check in case.get("alert_rule_test", []):
            (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = {str(rule["alert"]) for rule in _alerts()}
    assert names - firing == set(), "alerts never tested firing"
    assert names - quiet == set(), "alerts never tested quiet"


def test_every_alert_has_a_severity_and_a_runbook_entry() -> None:
    headings = {
        re.sub(r"[^a-z0-9 -]", "", line[4:].strip().lower()).replace(" ", "-")
        for line in OPERATIONS.read_text().splitlines()
        if line.startswith("### ")
    }
    for rule in _alerts():
        labels = rule.get("labels") or {}
        annotations = rule.get("annotations") or {}
        assert isinstance(labels, dict) and isinstance(annotations, dict)
        assert labels.get("severity") in SEVERITIES, rule["alert"]
        assert annotations.get("summary"), rule["alert"]
        url = str(annotations.get("runbook_url", ""))
        page, _, anchor = url.partition("#")
        assert page == "docs/operations.md", rule["alert"]
        assert anchor == str(rule["alert"]).lower() and anchor in headings, rule["alert"]
