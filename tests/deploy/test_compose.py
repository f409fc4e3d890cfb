"""deploy/docker-compose.yml and the Dockerfile, checked without Docker: every long-running
container has a health check, every variable names a setting that exists, ports are unique,
every command is a real entry point with the stack's own module and port, the one-shot steps
run before the services, and hadolint passes on the Dockerfile."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from socialseed import cli
from socialseed.stack import SANDBOX, SERVICES, ServiceSpec
from tests.deploy.settings_names import unknown_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
SPECS = {spec.name: spec for spec in (*SERVICES, SANDBOX)}
# Mounted from directories other work owns (Prometheus's alert rules, Grafana's provisioning
# and dashboards): checked to be inside deploy/, not to exist yet.
OWNED_ELSEWHERE = ("prometheus/", "grafana/")
# Read by our CLI's one-shot commands, not by a service's settings.
CLI_VARIABLES = ("SOCIALSEED_ADMIN_DATABASE_URL",)
DEFAULT = re.compile(r"\$\{[A-Z_]+:?-([^}]*)\}")


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return document


def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose()["services"]
    return found


def one_shots() -> set[str]:
    """Containers that run to completion (the topics and the migrations)."""
    return {name for name, svc in services().items() if svc.get("restart") == "no"}


def app_containers() -> dict[str, dict[str, Any]]:
    """Containers running our image."""
    return {n: s for n, s in services().items() if str(s.get("image", "")).startswith("socialseed")}


def resolved(value: str) -> str:
    """A value as compose gives it when no variable is set (``${X:-default}`` -> default)."""
    return DEFAULT.sub(lambda m: m.group(1), value)


def run_command(svc: dict[str, Any]) -> list[str]:
    command = svc["command"]
    return shlex.split(command) if isinstance(command, str) else [str(c) for c in command]


def served(command: list[str]) -> tuple[str, int, str]:
    """``python -m socialseed.run <app> --port N --name X`` -> (app, port, name)."""
    assert command[:3] == ["python", "-m", "socialseed.run"], command
    options = dict(zip(command[4::2], command[5::2], strict=False))
    assert options.get("--host") == "0.0.0.0", "a container must listen beyond its loopback"
    return command[3], int(options["--port"]), options["--name"]


def test_the_file_parses_with_its_sections() -> None:
    document = compose()
    assert set(document) >= {"services", "volumes", "networks"}
    assert {"kafka", "postgres", "prometheus", "grafana", "topics", "migrate"} <= set(services())


def test_every_long_running_container_has_a_health_check() -> None:
    missing = [
        name
        for name, svc in services().items()
        if name not in one_shots() and not svc.get("healthcheck", {}).get("test")
    ]
    assert missing == []
    assert one_shots() == {"topics", "migrate"}


def test_every_service_and_the_sandbox_run_with_the_stacks_module_port_and_name() -> None:
    running = {n: s for n, s in app_containers().items() if n not in one_shots()}
    assert set(running) == set(SPECS), "every service of socialseed.stack, and the sandbox"
    for name, svc in running.items():
        spec: ServiceSpec = SPECS[name]
        app, port, process = served(run_command(svc))
        assert (app, port, process) == (spec.app, spec.port, spec.name)
        probe = " ".join(svc["healthcheck"]["test"])
        assert f"127.0.0.1:{spec.port}{spec.health}" in probe, name


def test_one_shot_commands_are_subcommands_of_the_socialseed_entry_point(
    capsys: pytest.CaptureFixture[str],
) -> None:
    scripts = (ROOT / "shared" / "pyproject.toml").read_text()
    assert 'socialseed = "socialseed.cli:main"' in scripts
    for name in one_shots():
        command = run_command(services()[name])
        assert command[0] == "socialseed"
        with pytest.raises(SystemExit) as parsed:
            cli.main([command[1], "--help"])
        assert parsed.value.code == 0, f"{name}: `socialseed {command[1]}` is not a command"
    capsys.readouterr()


def test_the_services_start_after_the_topics_and_the_migrations() -> None:
    for name in SPECS:
        if name in ("sandbox", "gateway"):
            continue
        needs = services()[name]["depends_on"]
        for step in ("topics", "migrate"):
            assert needs[step]["condition"] == "service_completed_successfully", (name, step)
    gateway = services()["gateway"]["depends_on"]
    assert {n for n, c in gateway.items() if c["condition"] == "service_healthy"} >= {
        s.name for s in SERVICES if s.name != "gateway"
    }


def test_every_variable_names_a_setting_of_its_service() -> None:
    names: list[str] = []
    for svc in app_containers().values():
        names += list(svc.get("environment", {}))
    for example in ("socialseed.env.example",):
        names += [
            line.split("=", 1)[0]
            for line in (DEPLOY / example).read_text().splitlines()
            if line and not line.startswith("#")
        ]
    assert unknown_settings(names) == []
    cli_source = Path(cli.__file__).read_text()
    for name in names:
        assert name.startswith(tuple(s.env_prefix for s in SPECS.values())) or (
            name in CLI_VARIABLES and name in cli_source
        ), name


def test_a_misspelled_setting_is_caught() -> None:
    assert unknown_settings(
        ["PUBLISHER_PUBLISH_CONCURENCY", "ACCOUNTS_PLATFORMS__X__CLIENT_SECRT", "AUTH_WORKERS"]
    ) == ["PUBLISHER_PUBLISH_CONCURENCY", "ACCOUNTS_PLATFORMS__X__CLIENT_SECRT"]


def test_each_service_reaches_the_others_by_their_names_and_ports() -> None:
    env = {n: s.get("environment", {}) for n, s in services().items()}
    upstreams = yaml.safe_load(env["gateway"]["GATEWAY_UPSTREAMS"])
    assert upstreams == {
        s.name: f"http://{s.name}:{s.port}" for s in SERVICES if s.name != "gateway"
    }
    for name, variables in env.items():
        for variable, value in variables.items():
            if variable.endswith("DATABASE_URL") and "postgres:5432" in str(value):
                spec = SPECS.get(variable.split("_")[0].lower())
                if spec is not None:
                    assert f"://{spec.schema}:" in str(value), (name, variable)
    trusted = yaml.safe_load(env["auth"]["AUTH_TRUSTED_PROXIES"])
    gateway_ip = services()["gateway"]["networks"]["socialseed"]["ipv4_address"]
    assert trusted == [gateway_ip]


def test_published_ports_are_unique() -> None:
    host_ports = []
    for svc in services().values():
        for mapping in svc.get("ports", []):
            host_ports.append(int(resolved(str(mapping)).split(":")[0]))
    assert len(host_ports) == len(set(host_ports)), host_ports
    internal = [served(run_command(s))[1] for n, s in app_containers().items() if n in SPECS]
    assert len(internal) == len(set(internal))


def test_mounted_files_exist_inside_the_repository() -> None:
    for svc in services().values():
        for volume in svc.get("volumes", []):
            source = str(volume).split(":")[0]
            if not source.startswith("."):
                continue  # a named volume
            path = (DEPLOY / source).resolve()
            assert path.is_relative_to(DEPLOY), volume
            relative = path.relative_to(DEPLOY).as_posix() + "/"
            if not relative.startswith(OWNED_ELSEWHERE):
                assert path.exists(), volume


# ------------------------------------------------------------------------------ Dockerfile

DOCKERFILE = ROOT / "Dockerfile"


def stages() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    current = ""
    for line in DOCKERFILE.read_text().splitlines():
        match = re.match(r"FROM\s+\S+\s+AS\s+(\S+)", line, re.IGNORECASE)
        if match:
            current = match.group(1)
            found[current] = []
        elif current and line.strip() and not line.lstrip().startswith("#"):
            found[current].append(line.strip())
    return found


def test_hadolint_passes_on_the_dockerfile() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    result = subprocess.run(
        [hadolint, "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_builds_with_uv_and_node_and_runs_as_a_user_of_its_own() -> None:
    found = stages()
    assert {"web", "build", "runtime"} <= set(found)
    assert any("npm run build" in line for line in found["web"])
    assert any("uv sync --frozen --no-dev" in line for line in found["build"])
    users = [line for line in found["runtime"] if line.startswith("USER ")]
    assert users and users[-1].split()[1].split(":")[0] not in ("root", "0")
    assert any("/web/dist" in line for line in found["runtime"])
    assert any(c["build"]["target"] == "runtime" for c in app_containers().values())


def test_each_service_target_runs_what_compose_runs() -> None:
    found = stages()
    for name, spec in SPECS.items():
        cmd = [line for line in found[name] if line.startswith("CMD ")]
        assert cmd, f"no target {name}"
        command = yaml.safe_load(cmd[-1][4:])  # CMD's JSON form is YAML too
        assert command == run_command(services()[name]), name
        assert f"EXPOSE {spec.port}" in found[name]
