"""What the publisher domain works with, built once by the app factory (no web framework here:
the dispatcher and workers use it as the endpoints do)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from publisher.directory.service import Directory
from publisher.media.probe import Prober
from publisher.media.storage import MediaStore
from publisher.settings import PublisherSettings
from socialseed.db import Database
from socialseed.outbox import Outbox
from socialseed.platforms import Clock
from socialseed.runtime import Runtime
from socialseed.security import Principal


@dataclass
class PublisherContext:
    """The publisher's own resources beside its ``Runtime`` (settings, database, broker,
    jobs), which it references instead of copying."""

    runtime: Runtime[PublisherSettings]
    outbox: Outbox
    directory: Directory
    media: MediaStore
    # Decides what an upload is, in a bounded child process.
    prober: Prober
    # The service's "now" (schedules, leases, retries); tests inject one they can move.
    clock: Clock

    @property
    def settings(self) -> PublisherSettings:
        return self.runtime.settings

    @property
    def db(self) -> Database:
        return self.runtime.database


@dataclass(frozen=True)
class Caller:
    """Who asks, and the bearer token to ask other services with on their behalf."""

    principal: Principal
    authorization: str

    @property
    def workspaces(self) -> set[uuid.UUID]:
        return set(self.principal.roles)
