"""Auth's own tests: the app in-process (``ASGITransport``) on the harness's real PostgreSQL."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from auth.keys import generate_pem
from auth.settings import AuthSettings
from socialseed.testing import Infra


@pytest.fixture
def settings(infra: Infra) -> AuthSettings:
    """Auth on the test database, without Kafka, with a signing key of its own."""
    return AuthSettings(
        database_url=infra.service_url("auth"),
        kafka_enabled=False,
        dev_mode=True,
        jwt_private_key=SecretStr(generate_pem().decode()),
    )
