"""What the analytics domain works with, built once by the app factory (no web framework here:
consumers, fetchers and jobs use it as the endpoints do)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from analytics.settings import AnalyticsSettings
from socialseed.db import Database
from socialseed.outbox import Outbox
from socialseed.platforms import Clock, Platform, Provider
from socialseed.runtime import Runtime
from socialseed.vault import TokenVault


@dataclass
class AnalyticsContext:
    """The service's own resources beside its ``Runtime`` (settings, database, broker, jobs),
    which it references instead of copying."""

    runtime: Runtime[AnalyticsSettings]
    outbox: Outbox
    vault: TokenVault
    providers: Mapping[Platform, Provider]
    # The service's "now" (schedules, leases, fetched_at); tests inject one they can move.
    clock: Clock

    @property
    def settings(self) -> AnalyticsSettings:
        return self.runtime.settings

    @property
    def db(self) -> Database:
        return self.runtime.database
