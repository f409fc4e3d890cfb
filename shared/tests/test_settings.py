"""Development credentials (public in this repo) are refused outside dev mode, wherever they sit
in the settings, and the refusal names the setting, never its value."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel, Field, SecretStr, ValidationError

from socialseed.settings import ServiceSettings

FERNET = "dev-only" + "A" * 35 + "="
CLIENT_SECRET = "socialseed-local-secret"


class Client(BaseModel):
    client_id: str = "app"
    client_secret: SecretStr = SecretStr("real")


class Platforms(BaseModel):
    x: Client = Client()


class Sample(ServiceSettings):
    token: SecretStr = SecretStr("real-secret")
    token_keys: list[SecretStr] = Field(default_factory=lambda: [SecretStr("real-key")])
    internal_tokens: dict[str, SecretStr] = Field(default_factory=dict)
    pair: tuple[str, ...] = ()
    platforms: Platforms = Platforms()


def refusal(**values: object) -> str:
    with pytest.raises(ValidationError) as caught:
        Sample(**values)  # type: ignore[arg-type]
    return str(caught.value)


@pytest.mark.parametrize(
    ("values", "path", "secret"),
    [
        ({"token": SecretStr("dev-only-x")}, "token", "dev-only-x"),
        ({"token_keys": [SecretStr("real"), SecretStr(FERNET)]}, "token_keys[1]", FERNET),
        (
            {"internal_tokens": {"publisher": SecretStr("dev-only-publisher")}},
            "internal_tokens.publisher",
            "dev-only-publisher",
        ),
        ({"pair": ("a", "dev-only-b")}, "pair[1]", "dev-only-b"),
        (
            {"platforms": Platforms(x=Client(client_secret=SecretStr(CLIENT_SECRET)))},
            "platforms.x.client_secret",
            CLIENT_SECRET,
        ),
        (
            {"database_url": "postgresql+asyncpg://accounts:dev-only-accounts@db/s"},
            "database_url",
            "dev-only-accounts",
        ),
    ],
)
def test_a_development_secret_is_refused_by_path_without_its_value(
    values: dict[str, object], path: str, secret: str
) -> None:
    message = refusal(**values)
    assert path in message
    assert secret not in message


def test_dev_mode_is_off_by_default_and_allows_the_development_secrets() -> None:
    assert Sample().dev_mode is False
    assert Sample(dev_mode=True, token=SecretStr("dev-only-x")).dev_mode is True


def test_a_service_started_without_dev_mode_on_development_secrets_exits(tmp_path: object) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCOUNTS_")}
    proc = subprocess.run(
        [sys.executable, "-m", "uvicorn", "accounts.app:create_app", "--factory", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "token_keys[0]" in proc.stderr
    assert "internal_tokens.publisher" in proc.stderr
    assert "dev-only-publisher" not in proc.stderr
    assert FERNET not in proc.stderr
    assert "dev-only-accounts" not in proc.stderr


# --- no dead settings ---------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_FILES = [
    ROOT / "shared/src/socialseed/settings.py",
    *sorted(ROOT.glob("services/*/src/*/settings.py")),
    ROOT / "sandbox/src/sandbox/settings.py",
]


def _fields(path: Path) -> list[str]:
    """The fields of the ``...Settings`` classes a settings module declares."""
    tree = ast.parse(path.read_text())
    return [
        node.target.id
        for cls in tree.body
        if isinstance(cls, ast.ClassDef) and cls.name.endswith("Settings")
        for node in cls.body
        if isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and node.target.id != "model_config"
    ]


def test_every_setting_is_read_somewhere() -> None:
    """A setting nothing reads misleads whoever sets it: each field's name appears in the code
    (``src/`` of the shared library, the services and the sandbox) beyond its declaration."""
    sources = [
        p.read_text()
        for tree in ("shared/src", "services", "sandbox/src")
        for p in (ROOT / tree).rglob("*.py")
        if "/tests/" not in str(p) and "/migrations/" not in str(p)
    ]
    dead = []
    for path in SETTINGS_FILES:
        for name in _fields(path):
            uses = sum(len(re.findall(rf"\b{name}\b", text)) for text in sources)
            declarations = sum(
                name in _fields(p) for p in SETTINGS_FILES
            )  # a subclass may redeclare a default
            if uses <= declarations:
                dead.append(f"{path.relative_to(ROOT)}: {name}")
    assert dead == []
