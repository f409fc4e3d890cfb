"""What a deployment runs once before (and on every upgrade of) the services: the topics and
the migrations. ``socialseed up`` does the same for the local stack; containers and
Kubernetes run it as a one-shot job (``socialseed topics``, ``socialseed migrate``).

Both are idempotent: a topic that exists is left as it is (its partition count is reported
when it differs from the one asked for, never changed), a migrated schema is upgraded to head
or left alone.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from socialseed.stack import SERVICES, ServiceSpec, all_topics

# Kafka's error code for a topic that is already there (CreateTopics).
TOPIC_ALREADY_EXISTS = 36


class ProvisioningError(RuntimeError):
    """A topic or a schema could not be provisioned; the message says which and why."""


def database_urls(
    specs: Iterable[ServiceSpec], env: Mapping[str, str] | None = None
) -> dict[ServiceSpec, str]:
    """Each service's own ``<PREFIX>DATABASE_URL``, as the service itself reads it: the
    migrations run as the service's role, so the objects they create are its own."""
    env = os.environ if env is None else env
    urls: dict[ServiceSpec, str] = {}
    missing: list[str] = []
    for spec in specs:
        if not spec.schema:
            continue
        url = env.get(f"{spec.env_prefix}DATABASE_URL", "")
        if url:
            urls[spec] = url
        else:
            missing.append(f"{spec.env_prefix}DATABASE_URL")
    if missing:
        raise ProvisioningError(f"set {', '.join(missing)} (the service's own database URL)")
    return urls


def migrate_all(
    names: Iterable[str] = (),
    *,
    admin_url: str | None = None,
    env: Mapping[str, str] | None = None,
) -> list[str]:
    """Migrate the named services (all with a database when none is named) to head.

    With ``admin_url`` (a role that may create roles and schemas) each service's login role
    and schema are created first, with the password of its database URL; without it they must
    exist (a managed PostgreSQL where an operator made them)."""
    from socialseed.migrate import migrate_service

    wanted = set(names)
    unknown = wanted - {s.name for s in SERVICES if s.schema}
    if unknown:
        raise ProvisioningError(f"no service with a database named {', '.join(sorted(unknown))}")
    specs = [s for s in SERVICES if s.schema and (not wanted or s.name in wanted)]
    done: list[str] = []
    for spec, url in database_urls(specs, env).items():
        assert spec.schema
        migrate_service(
            admin_url=admin_url,
            service_url=url,
            schema=spec.schema,
            script_location=spec.migrations,
        )
        done.append(spec.name)
    return done


@dataclass(frozen=True)
class TopicReport:
    created: list[str]
    existing: list[str]
    # Topics that exist with another partition count than asked: name -> count found.
    other_partitions: dict[str, int]


async def _admin(bootstrap: str, wait: float) -> Any:
    from aiokafka.admin import AIOKafkaAdminClient

    deadline = time.monotonic() + wait
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30_000)
        try:
            await admin.start()
            return admin
        except Exception as exc:
            await admin.close()
            if time.monotonic() > deadline:
                raise ProvisioningError(f"Kafka at {bootstrap} unreachable: {exc!r}") from exc
            await asyncio.sleep(1.0)


async def create_topics(
    bootstrap: str,
    *,
    partitions: int,
    replication_factor: int,
    overrides: Mapping[str, int] | None = None,
    configs: Mapping[str, str] | None = None,
    wait: float = 120.0,
) -> TopicReport:
    """Every topic of the events and its dead-letter topic. ``overrides``: partitions of a
    busier topic (``{"metrics.fetched": 48}``); ``configs``: topic settings for all
    (``min.insync.replicas``, ``retention.ms``)."""
    from aiokafka.admin import NewTopic

    overrides = dict(overrides or {})
    topics = all_topics()
    unknown = set(overrides) - set(topics)
    if unknown:
        raise ProvisioningError(f"no topic named {', '.join(sorted(unknown))}")
    wanted = {t: overrides.get(t, partitions) for t in topics}
    admin = await _admin(bootstrap, wait)
    try:
        response: Any = await admin.create_topics(
            [
                NewTopic(
                    t,
                    num_partitions=n,
                    replication_factor=replication_factor,
                    topic_configs=dict(configs or {}),
                )
                for t, n in wanted.items()
            ]
        )
        errors = {err[0]: err for err in response.topic_errors}
        failures = [
            f"{name}: error {err[1]} {err[2] if len(err) > 2 and err[2] else ''}".strip()
            for name, err in errors.items()
            if err[1] not in (0, TOPIC_ALREADY_EXISTS)
        ]
        if failures:
            raise ProvisioningError("creating topics failed: " + "; ".join(failures))
        created = [t for t in topics if errors.get(t, (t, 0))[1] == 0]
        existing = [t for t in topics if t not in created]
        described = await admin.describe_topics(existing) if existing else []
        other = {
            d["topic"]: len(d["partitions"])
            for d in described
            if d["error_code"] == 0 and len(d["partitions"]) != wanted[d["topic"]]
        }
        return TopicReport(created=created, existing=existing, other_partitions=other)
    finally:
        await admin.close()
