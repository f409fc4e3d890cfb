"""The auth service and the gateway served over real HTTP against the real harness."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

import httpx
import pytest
from pydantic import SecretStr

from accounts.app import create_app as create_accounts
from accounts.settings import AccountsSettings
from analytics.app import create_app as create_analytics
from analytics.context import AnalyticsContext
from analytics.settings import AnalyticsSettings
from auth.app import create_app as create_auth
from auth.context import AuthContext
from auth.keys import generate_pem
from auth.settings import AuthSettings
from gateway.app import create_app as create_gateway
from gateway.settings import GatewaySettings
from publisher.app import create_app as create_publisher
from publisher.settings import PublisherSettings
from sandbox.settings import SandboxSettings
from sandbox.testing import running_sandbox
from socialseed.devstack.procs import tail
from socialseed.platforms import Clock
from socialseed.platforms.base import PlatformsConfig
from socialseed.platforms.parsing import utcnow
from socialseed.settings import CallerSettings
from socialseed.testing import Infra, free_port, own_database, serve
from webhooks.app import create_app as create_webhooks
from webhooks.settings import WebhooksSettings

T = TypeVar("T")

REPO = Path(__file__).resolve().parent.parent
# The web app's build: the shared gateway serves it at / once it exists (tests/web builds it).
WEB_DIST = REPO / "web" / "dist"
RELAXED = "100000/minute"  # the session's shared apps; throttling tests build their own
# The shared gateway runs outside dev mode: its /metrics and health details need this.
GATEWAY_METRICS_TOKEN = "test-stack-metrics-token"
# The gateway's secret for exchanging API keys at auth (the gateway runs outside dev mode).
GATEWAY_EXCHANGE_SECRET = "test-stack-gateway-exchange"
# The shared publisher's circuit breakers (per platform).
BREAKER_THRESHOLD = 3
BREAKER_COOLDOWN = 8.0
# The shared webhooks service's retry delays (seconds): three attempts in well under a second.
WEBHOOK_RETRIES = [0.3, 0.3]


def auth_settings(infra: Infra, **overrides: object) -> AuthSettings:
    values: dict[str, object] = {
        "dev_mode": True,
        "database_url": infra.service_url("auth"),
        "kafka_bootstrap": infra.kafka_bootstrap,
        "jwt_private_key": SecretStr(generate_pem().decode()),
        "outbox_poll_interval": 0.1,
        "login_limit_per_ip": RELAXED,
        "login_limit_per_ip_and_email": RELAXED,
        "login_limit_per_email": RELAXED,
        "internal_tokens": {"gateway": SecretStr(GATEWAY_EXCHANGE_SECRET)},
    } | overrides
    return AuthSettings(**values)  # type: ignore[arg-type]


def accounts_settings(
    infra: Infra, *, sandbox_url: str, gateway_url: str, jwks_url: str, **overrides: object
) -> AccountsSettings:
    values: dict[str, object] = {
        "dev_mode": True,
        "database_url": infra.service_url("accounts"),
        "kafka_bootstrap": infra.kafka_bootstrap,
        "jwks_url": jwks_url,
        "public_base_url": gateway_url,
        "platforms": PlatformsConfig(sandbox_url=sandbox_url),
        "outbox_poll_interval": 0.1,
    } | overrides
    return AccountsSettings(**values)  # type: ignore[arg-type]


@contextmanager
def own_accounts_service(
    infra: Infra,
    stack: Stack,
    sandbox: SandboxSettings,
    *,
    database_url: str,
    background: bool = True,
    clock: Clock = utcnow,
    **overrides: object,
) -> Iterator[tuple[str, str]]:
    """An accounts service of a test's own, on its own database and with its own sandbox
    (``sandbox``'s settings, its OAuth redirects allowed to the service: the platforms call the
    service directly, no gateway between), publishing nothing. Yields (accounts, sandbox) URLs."""
    port = free_port()
    accounts_url = f"http://127.0.0.1:{port}"
    with ExitStack() as servers:
        sandbox_url = servers.enter_context(
            running_sandbox(sandbox.model_copy(update={"redirect_hosts": [accounts_url]}))
        )
        settings = accounts_settings(
            infra,
            sandbox_url=sandbox_url,
            gateway_url=accounts_url,
            jwks_url=f"{stack.auth_url}/.well-known/jwks.json",
            database_url=database_url,
            kafka_enabled=False,
            **overrides,
        )
        app = create_accounts(settings, background=background, clock=clock)
        servers.enter_context(serve(app, port=port))
        yield accounts_url, sandbox_url


S = TypeVar("S", bound=CallerSettings)


def _calling_service_settings(
    cls: type[S],
    infra: Infra,
    service: str,
    *,
    sandbox_url: str,
    auth_url: str,
    accounts_url: str,
    **overrides: object,
) -> S:
    """Settings of a service that calls auth, accounts' vault and the platforms."""
    values: dict[str, object] = {
        "dev_mode": True,
        "database_url": infra.service_url(service),
        "kafka_bootstrap": infra.kafka_bootstrap,
        "jwks_url": f"{auth_url}/.well-known/jwks.json",
        "auth_url": auth_url,
        "accounts_url": accounts_url,
        "platforms": PlatformsConfig(sandbox_url=sandbox_url),
        "outbox_poll_interval": 0.1,
    } | overrides
    return cls(**values)  # type: ignore[arg-type]


def publisher_settings(
    infra: Infra, *, sandbox_url: str, auth_url: str, accounts_url: str, **overrides: object
) -> PublisherSettings:
    return _calling_service_settings(
        PublisherSettings, infra, "publisher", sandbox_url=sandbox_url, auth_url=auth_url,
        accounts_url=accounts_url, **overrides,
    )  # fmt: skip


def analytics_settings(
    infra: Infra, *, sandbox_url: str, auth_url: str, accounts_url: str, **overrides: object
) -> AnalyticsSettings:
    return _calling_service_settings(
        AnalyticsSettings, infra, "analytics", sandbox_url=sandbox_url, auth_url=auth_url,
        accounts_url=accounts_url, **overrides,
    )  # fmt: skip


async def own_accounts_database(infra: Infra, database: str) -> str:
    return await own_database(infra, "accounts", database)


async def own_publisher_database(infra: Infra, database: str) -> str:
    return await own_database(infra, "publisher", database)


async def until(
    probe: Callable[[], Awaitable[T | None]], what: str, log: Path, timeout: float = 180
) -> T:
    """Poll ``probe`` until it returns something (a positive signal); fail after ``timeout``
    (generous: spawning workers on a busy 2-core machine can take a minute) with the log."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (value := await probe()) is None:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}; log:\n{tail(log)}")
        await asyncio.sleep(0.1)
    return value


@dataclass
class Stack:
    auth_url: str
    accounts_url: str
    publisher_url: str
    analytics_url: str
    gateway_url: str
    sandbox_url: str
    media_dir: Path  # where the publisher stores uploads (one folder per workspace)
    settings: AuthSettings
    accounts: AccountsSettings
    auth: AuthContext  # the auth app's context: tests move its clock
    analytics: AnalyticsContext  # analytics' context (background jobs off: tests drive them)
    webhooks_url: str = ""  # its sender runs (retries on WEBHOOK_RETRIES, no jitter)


@pytest.fixture(scope="session")
def stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Sandbox, auth, accounts, publisher, analytics and the gateway, each over real HTTP. The sandbox registers the
    gateway's (test) callback URLs, as a developer registers theirs at each platform."""
    gateway_port = free_port()
    gateway_url = f"http://127.0.0.1:{gateway_port}"
    settings = auth_settings(infra)
    with ExitStack() as servers:
        sandbox_url = servers.enter_context(
            running_sandbox(SandboxSettings(redirect_hosts=[gateway_url]))
        )
        auth_app = create_auth(settings)
        auth_url = servers.enter_context(serve(auth_app))
        acc = accounts_settings(
            infra,
            sandbox_url=sandbox_url,
            gateway_url=gateway_url,
            jwks_url=f"{auth_url}/.well-known/jwks.json",
        )
        # Background jobs off: tests drive the refresher themselves, deterministically.
        accounts_url = servers.enter_context(serve(create_accounts(acc, background=False)))
        publisher_port = free_port()
        media_dir = tmp_path_factory.mktemp("media")
        pub = publisher_settings(
            infra,
            sandbox_url=sandbox_url,
            auth_url=auth_url,
            accounts_url=accounts_url,
            media_dir=str(media_dir),
            public_media_url=f"http://127.0.0.1:{publisher_port}",
            # A breaker that opens after a few failures and recovers within a test.
            breaker_threshold=BREAKER_THRESHOLD,
            breaker_cooldown=BREAKER_COOLDOWN,
        )
        publisher_url = servers.enter_context(serve(create_publisher(pub), port=publisher_port))
        ana = analytics_settings(
            infra,
            sandbox_url=sandbox_url,
            auth_url=auth_url,
            accounts_url=accounts_url,
            # A published post's first fetch after seconds, not 15 minutes: the browser
            # journeys wait for its numbers (the delay itself is tested with this value).
            first_fetch_after=timedelta(seconds=5),
        )
        analytics_app = create_analytics(ana, background=False)
        analytics_url = servers.enter_context(serve(analytics_app))
        hooks = WebhooksSettings(
            dev_mode=True,
            database_url=infra.service_url("webhooks"),
            kafka_bootstrap=infra.kafka_bootstrap,
            jwks_url=f"{auth_url}/.well-known/jwks.json",
            outbox_poll_interval=0.1,
            retry_schedule=WEBHOOK_RETRIES,
            retry_jitter=0.0,
            poll_interval=0.1,
            timeout=5.0,
        )
        webhooks_url = servers.enter_context(serve(create_webhooks(hooks)))
        gw = GatewaySettings(
            upstreams={
                "auth": auth_url,
                "accounts": accounts_url,
                "publisher": publisher_url,
                "analytics": analytics_url,
                "webhooks": webhooks_url,
            },
            limit_per_ip=RELAXED,
            limit_per_user=RELAXED,
            limit_login_per_ip=RELAXED,
            metrics_token=SecretStr(GATEWAY_METRICS_TOKEN),
            api_key_exchange_secret=SecretStr(GATEWAY_EXCHANGE_SECRET),
            web_dist=WEB_DIST,
        )
        servers.enter_context(serve(create_gateway(gw), port=gateway_port))
        yield Stack(
            auth_url=auth_url,
            accounts_url=accounts_url,
            publisher_url=publisher_url,
            analytics_url=analytics_url,
            gateway_url=gateway_url,
            sandbox_url=sandbox_url,
            media_dir=media_dir,
            settings=settings,
            accounts=acc,
            auth=auth_app.state.auth,
            analytics=analytics_app.state.analytics,
            webhooks_url=webhooks_url,
        )


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=20) as client:
        yield client


@dataclass
class User:
    id: str
    email: str
    password: str
    access: str
    refresh: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


async def make_user(api: httpx.AsyncClient, *, name: str = "Ada") -> User:
    email = f"{name.lower()}-{uuid.uuid4().hex[:10]}@example.com"
    password = f"correct horse {uuid.uuid4().hex[:6]} battery"
    r = await api.post(
        "/api/v1/auth/register", json={"email": email, "password": password, "name": name}
    )
    assert r.status_code == 201, r.text
    r = await api.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    tokens = r.json()
    me = await api.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert me.status_code == 200, me.text
    return User(
        id=me.json()["id"],
        email=email,
        password=password,
        access=tokens["access_token"],
        refresh=tokens["refresh_token"],
    )


async def make_workspace(
    api: httpx.AsyncClient, owner: User, **fields: object
) -> dict[str, object]:
    r = await api.post("/api/v1/workspaces", json={"name": "Acme", **fields}, headers=owner.headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def refresh(api: httpx.AsyncClient, user: User) -> User:
    """A new token pair (roles in access tokens are read at issue time)."""
    r = await api.post("/api/v1/auth/refresh", json={"refresh_token": user.refresh})
    assert r.status_code == 200, r.text
    user.access, user.refresh = r.json()["access_token"], r.json()["refresh_token"]
    return user


async def invite(
    api: httpx.AsyncClient, inviter: User, workspace_id: object, email: str, role: str
) -> httpx.Response:
    return await api.post(
        f"/api/v1/workspaces/{workspace_id}/invitations",
        json={"email": email, "role": role},
        headers=inviter.headers,
    )


async def add_member(
    api: httpx.AsyncClient, owner: User, workspace_id: object, user: User, role: str
) -> User:
    """Invite the user, accept as them, and refresh their token so it carries the role."""
    r = await invite(api, owner, workspace_id, user.email, role)
    assert r.status_code == 201, r.text
    r = await api.post(f"/api/v1/invitations/{r.json()['id']}/accept", headers=user.headers)
    assert r.status_code == 201, r.text
    return await refresh(api, user)


async def owner_with_workspace(api: httpx.AsyncClient, name: str = "Owner") -> tuple[User, str]:
    user = await make_user(api, name=name)
    ws = await make_workspace(api, user)
    return await refresh(api, user), str(ws["id"])


async def connect_account(
    api: httpx.AsyncClient,
    user: User,
    workspace_id: str,
    platform: str,
    username: str,
    *,
    scopes: str | None = None,
) -> list[dict[str, object]]:
    """The whole dance: start, consent at the (sandbox) platform, callback (hands back code
    and state), complete as the same signed-in user. ``scopes``: what the user grants instead
    of what was asked (as a connection made before a scope was asked)."""
    r = await api.post(
        "/api/v1/accounts/connect",
        json={"workspace_id": workspace_id, "platform": platform},
        headers=user.headers,
    )
    assert r.status_code == 201, r.text
    authorize = httpx.URL(r.json()["authorize_url"])
    if scopes is not None:
        authorize = authorize.copy_set_param("scope", scopes)
    consent = await api.get(f"{authorize}&sandbox_approve={quote(username)}")
    assert consent.status_code in (302, 303), consent.text
    callback = await api.get(consent.headers["location"])
    assert callback.status_code == 200, callback.text
    done = await api.post(
        "/api/v1/accounts/oauth/complete", json=callback.json(), headers=user.headers
    )
    assert done.status_code == 201, done.text
    return list(done.json()["accounts"])
