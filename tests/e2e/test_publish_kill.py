"""The publisher's exactly-once claims against real processes: a worker SIGKILLed inside the
platform call (after the platform acted, or before) leaves a target that the next process
reconciles and publishes once; two replicas on one database share the due posts, each
published once.

Each deployment here is ``python -m socialseed.run`` processes of the publisher on a database
of its own, with a consumer group of its own (``PUBLISHER_CONSUMER_GROUP``): the shared
stack's in-process publisher reads the same topics, and in one group its workers would take
these commands, find no such target and drop them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import DefaultPartitioner

from socialseed.bus import kafka_group
from socialseed.contracts import PostPublishRequested
from socialseed.devstack.procs import open_log, terminate
from socialseed.testing import Infra, free_port
from tests.conftest import (
    Stack,
    User,
    connect_account,
    own_publisher_database,
    owner_with_workspace,
    until,
)

# Short, so a dead worker's target is handed on quickly; the step stays well inside the lease
# and long enough for the test to kill the worker while it waits on the platform.
LEASE, STEP_TIMEOUT = 20.0, 15.0
# The text-only publish call of each platform (the flows with media are left to the provider
# tests, which drop answers after accept at every step).
PUBLISH_CALLS = {
    "x": "/2/tweets",
    "facebook": "*/feed",
    "linkedin": "/rest/posts",
}
ATTEMPTS = """
SELECT a.worker, a.ended_at, a.outcome FROM publisher.attempts a
JOIN publisher.targets t ON t.id = a.target_id
WHERE t.post_id = $1 ORDER BY a.started_at
"""


@dataclass
class Deployment:
    """Publisher processes sharing one database and one consumer group, as replicas do."""

    stack: Stack
    kafka_bootstrap: str
    database_url: str
    group: str
    log: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self) -> Publisher:
        port = free_port()
        env = os.environ | {
            "PUBLISHER_DEV_MODE": "true",
            "PUBLISHER_DATABASE_URL": self.database_url,
            "PUBLISHER_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "PUBLISHER_CONSUMER_GROUP": self.group,
            "PUBLISHER_JWKS_URL": f"{self.stack.auth_url}/.well-known/jwks.json",
            "PUBLISHER_AUTH_URL": self.stack.auth_url,
            "PUBLISHER_ACCOUNTS_URL": self.stack.accounts_url,
            "PUBLISHER_PLATFORMS__SANDBOX_URL": self.stack.sandbox_url,
            "PUBLISHER_PUBLIC_MEDIA_URL": f"http://127.0.0.1:{port}",
            "PUBLISHER_MEDIA_DIR": str(self.log.parent / "media"),
            "PUBLISHER_OUTBOX_POLL_INTERVAL": "0.1",
            "PUBLISHER_PUBLISH_LEASE": str(LEASE),
            "PUBLISHER_PUBLISH_STEP_TIMEOUT": str(STEP_TIMEOUT),
            "PUBLISHER_WORKERS": "1",
        }
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        cmd = [
            sys.executable, "-m", "socialseed.run", "publisher.app:create_app",
            "--port", str(port),
        ]  # fmt: skip
        proc = subprocess.Popen(
            cmd,
            env=env,
            stdout=open_log(self.log),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append(proc)
        return Publisher(proc, f"http://127.0.0.1:{port}", self.log)

    def stop(self) -> None:
        for proc in self.procs:
            terminate(proc, timeout=15)


@dataclass
class Publisher:
    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    @property
    def worker(self) -> str:
        """How its attempts name it (one process: uvicorn serves in the parent)."""
        return f"{socket.gethostname()}/{self.proc.pid}"

    async def ready(self) -> None:
        async def healthy() -> bool | None:
            try:
                async with httpx.AsyncClient(timeout=10) as client:
                    return (await client.get(f"{self.url}/healthz")).status_code == 200 or None
            except httpx.TransportError:
                return None

        await until(healthy, "the publisher to answer", self.log)

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    async def post(self, user: User, ws: str, account: str, text: str) -> str:
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as client:
            r = await client.post(
                "/api/v1/posts",
                json={"workspace_id": ws, "text": text, "targets": [{"account_id": account}]},
                headers=user.headers,
            )
        assert r.status_code == 201, r.text
        return str(r.json()["id"])


@asynccontextmanager
async def deployment(
    infra: Infra, stack: Stack, tmp_path: Path, name: str
) -> AsyncIterator[Deployment]:
    url = await own_publisher_database(infra, f"socialseed_{name}")
    group = f"publisher-{name}-{uuid.uuid4().hex[:6]}"
    deployed = Deployment(stack, infra.kafka_bootstrap, url, group, tmp_path / "publisher.log")
    try:
        yield deployed
    finally:
        deployed.stop()


@asynccontextmanager
async def database(url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        yield conn
    finally:
        await conn.close()


class Sandbox:
    def __init__(self, stack: Stack) -> None:
        self.url = stack.sandbox_url

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as client:
            r = await client.request(method, path, **kwargs)
        assert r.is_success, r.text
        return r.json() if r.content else None

    async def fault_on_publish(self, platform: str, **spec: object) -> int:
        body = {"platform": platform, "endpoint": PUBLISH_CALLS[platform], "method": "POST"}
        return int((await self._call("POST", "/_sandbox/faults", json=body | spec))["id"])

    async def applied(self, fault_id: int) -> int:
        faults = (await self._call("GET", "/_sandbox/faults"))["faults"]
        return int(next(f["applied"] for f in faults if f["id"] == fault_id))

    async def clear(self, fault_ids: list[int]) -> None:
        for fault_id in fault_ids:
            await self._call("DELETE", f"/_sandbox/faults/{fault_id}")

    async def ledger(self, account: str) -> list[dict[str, Any]]:
        return list(
            (await self._call("GET", "/_sandbox/ledger", params={"account": account}))["entries"]
        )


@dataclass
class Target:
    """One post on one connected account of the stack."""

    platform: str
    account_id: str
    platform_user_id: str
    text: str = ""
    post_id: str = ""


@pytest.fixture
async def owner(api: httpx.AsyncClient) -> tuple[User, str]:
    return await owner_with_workspace(api)


async def accounts_per_platform(api: httpx.AsyncClient, owner: tuple[User, str]) -> list[Target]:
    user, ws = owner
    targets = []
    for platform in PUBLISH_CALLS:
        accounts = await connect_account(api, user, ws, platform, f"kill-{uuid.uuid4().hex[:8]}")
        first = accounts[0]  # Facebook grants every page: one is enough
        targets.append(Target(platform, str(first["id"]), str(first["platform_user_id"])))
    return targets


async def published(publisher: Publisher, user: User, post_id: str) -> dict[str, Any] | None:
    async with httpx.AsyncClient(base_url=publisher.url, timeout=30) as client:
        r = await client.get(f"/api/v1/posts/{post_id}", headers=user.headers)
    assert r.status_code == 200, r.text
    post = r.json()
    assert post["status"] in ("scheduled", "publishing", "published"), post
    return dict(post) if post["status"] == "published" else None


async def killed_mid_call(
    api: httpx.AsyncClient,
    infra: Infra,
    stack: Stack,
    tmp_path: Path,
    owner: tuple[User, str],
    *,
    name: str,
    fault: dict[str, object],
    inside_call: str,
) -> None:
    """Post on each platform with ``fault`` on its publish call, SIGKILL the publisher once
    every worker is inside its call (``inside_call``: "acted", the post is on the platform;
    "arrived", the request reached it), start another: each post ends published exactly once,
    the killed process's attempt never ended, and the next one reconciled before acting."""
    user, ws = owner
    sandbox = Sandbox(stack)
    targets = await accounts_per_platform(api, owner)
    async with deployment(infra, stack, tmp_path, name) as deployed:
        first = deployed.start()
        await first.ready()
        faults = [await sandbox.fault_on_publish(t.platform, count=1, **fault) for t in targets]
        try:
            for t in targets:
                # Plain words: LinkedIn's text format escapes the likes of "_".
                t.text = f"said once on {t.platform} {uuid.uuid4().hex[:6]}"
                t.post_id = await first.post(user, ws, t.account_id, t.text)

            async def all_inside() -> bool | None:
                if inside_call == "acted":
                    seen = [len(await sandbox.ledger(t.platform_user_id)) for t in targets]
                else:
                    seen = [await sandbox.applied(f) for f in faults]
                return True if all(n == 1 for n in seen) else None

            await until(all_inside, f"every worker inside its call ({inside_call})", first.log)
            first.kill()
        finally:
            await sandbox.clear(faults)
        second = deployed.start()
        await second.ready()
        async with database(deployed.database_url) as db:
            for t in targets:
                post = await until(
                    lambda t=t: published(second, user, t.post_id),  # type: ignore[misc]
                    f"the {t.platform} post published",
                    deployed.log,
                )
                [target] = post["targets"]
                entries = await sandbox.ledger(t.platform_user_id)
                assert [(e["platform_post_id"], e["text"]) for e in entries] == [
                    (target["platform_post_id"], t.text)
                ], t.platform
                attempts = await db.fetch(ATTEMPTS, uuid.UUID(t.post_id))
                killed, *_, last = attempts
                assert killed["worker"] == first.worker and killed["ended_at"] is None, attempts
                assert last["worker"] == second.worker, attempts
                expected = {"reconciled"} if inside_call == "acted" else {"reconciled", "published"}
                assert last["outcome"] in expected, (t.platform, attempts)


@pytest.mark.timeout(420)
async def test_a_worker_killed_after_the_platform_acted_publishes_once(
    api: httpx.AsyncClient, infra: Infra, stack: Stack, tmp_path: Path, owner: tuple[User, str]
) -> None:
    """The platform made the post and its answer is held: the worker dies never knowing."""
    await killed_mid_call(
        api,
        infra,
        stack,
        tmp_path,
        owner,
        name="kill_acted",
        fault={"hold_answer_ms": 120_000},
        inside_call="acted",
    )


@pytest.mark.timeout(420)
async def test_a_worker_killed_before_the_platform_acted_publishes_once(
    api: httpx.AsyncClient, infra: Infra, stack: Stack, tmp_path: Path, owner: tuple[User, str]
) -> None:
    """The request reached the platform, which has not handled it yet (latency) when the
    worker dies: whether the platform goes on or not, the post is made once."""
    await killed_mid_call(
        api,
        infra,
        stack,
        tmp_path,
        owner,
        name="kill_arrived",
        fault={"latency_ms": int(STEP_TIMEOUT * 1000 / 2)},
        inside_call="arrived",
    )


# Replicas: posts due at once across accounts whose keys cover every partition of the
# commands' topic, so with both replicas in the workers' group both must publish some.
REPLICA_POSTS_PER_ACCOUNT = 5
REPLICA_MIN_ACCOUNTS = 12
REPLICA_GROUP_STATE = "Stable"


def partition_of(account_id: str, partitions: int) -> int:
    """Where the outbox relay's producer sends an account's commands (keyed by account)."""
    every = list(range(partitions))
    return int(DefaultPartitioner()(account_id.encode(), every, every))


async def command_partitions(bootstrap: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [topic] = await admin.describe_topics([PostPublishRequested.topic])
        return len(topic["partitions"])
    finally:
        await admin.close()


async def workers_group(bootstrap: str, group: str) -> tuple[str, int]:
    """The state of the workers' consumer group of a deployment, and its member count."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        name = kafka_group(f"{group}-workers", PostPublishRequested.topic)
        [response] = await admin.describe_consumer_groups([name])
        [described] = response.to_object()["groups"]
        return str(described["state"]), len(described["members"])
    finally:
        await admin.close()


@pytest.mark.timeout(600)
async def test_two_replicas_share_the_due_posts_and_publish_each_once(
    api: httpx.AsyncClient, infra: Infra, stack: Stack, tmp_path: Path, owner: tuple[User, str]
) -> None:
    user, ws = owner
    sandbox = Sandbox(stack)
    partitions = await command_partitions(infra.kafka_bootstrap)
    accounts: list[Target] = []
    while (
        len(accounts) < REPLICA_MIN_ACCOUNTS
        or len({partition_of(a.account_id, partitions) for a in accounts}) < partitions
    ):
        [account] = await connect_account(api, user, ws, "x", f"rep-{uuid.uuid4().hex[:8]}")
        accounts.append(Target("x", str(account["id"]), str(account["platform_user_id"])))
    async with deployment(infra, stack, tmp_path, "replicas") as deployed:
        replicas = [deployed.start(), deployed.start()]
        for replica in replicas:
            await replica.ready()

        async def both_consuming() -> bool | None:
            state, members = await workers_group(infra.kafka_bootstrap, deployed.group)
            return True if (state, members) == (REPLICA_GROUP_STATE, 2) else None

        await until(both_consuming, "both replicas in the workers' group", deployed.log)
        texts: dict[str, set[str]] = {a.account_id: set() for a in accounts}
        post_ids: list[str] = []
        for i in range(REPLICA_POSTS_PER_ACCOUNT):
            for n, a in enumerate(accounts):
                text = f"replica post {i} of {a.platform_user_id}"
                texts[a.account_id].add(text)
                post_ids.append(await replicas[n % 2].post(user, ws, a.account_id, text))
        async with database(deployed.database_url) as db:

            async def all_published() -> bool | None:
                left = await db.fetchval(
                    "SELECT count(*) FROM publisher.targets WHERE status <> 'published'"
                )
                return True if left == 0 else None

            await until(all_published, "every post published", deployed.log)
            attempts = await db.fetch(
                "SELECT target_id, worker, outcome FROM publisher.attempts ORDER BY target_id"
            )
        # One attempt per target, each a publish: no target was ever taken twice.
        assert len(attempts) == len(post_ids), attempts
        assert {a["outcome"] for a in attempts} == {"published"}
        assert len({a["target_id"] for a in attempts}) == len(post_ids)
        # Both replicas' workers did some of the work.
        assert {a["worker"] for a in attempts} == {r.worker for r in replicas}
        for a in accounts:
            entries = await sandbox.ledger(a.platform_user_id)
            assert sorted(e["text"] for e in entries) == sorted(texts[a.account_id])
