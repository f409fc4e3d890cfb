"""What the accounts domain works with, built once by the app factory (no web framework here:
jobs and the CLI use it as the endpoints do)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from accounts.cipher import TokenCipher
from accounts.settings import AccountsSettings
from socialseed.db import Database
from socialseed.outbox import Outbox
from socialseed.platforms import Clock, Platform, Provider
from socialseed.runtime import Runtime


@dataclass
class AccountsContext:
    """The accounts service's own resources beside its ``Runtime`` (settings, database,
    broker, jobs), which it references instead of copying."""

    runtime: Runtime[AccountsSettings]
    cipher: TokenCipher
    outbox: Outbox
    providers: dict[Platform, Provider]
    # The service's notion of "now" (token due dates, failures, sync times, health); tests
    # inject one they can advance instead of sleeping.
    clock: Clock
    _refresh_slots: dict[Platform, asyncio.Semaphore] = field(default_factory=dict)

    @property
    def settings(self) -> AccountsSettings:
        return self.runtime.settings

    @property
    def db(self) -> Database:
        return self.runtime.database

    def refresh_slot(self, platform: Platform) -> asyncio.Semaphore:
        """At most ``refresh_concurrency`` refreshes of one platform's tokens run at once in
        this process: each holds a pooled connection (and a row lock) for its platform call."""
        slot = self._refresh_slots.get(platform)
        if slot is None:
            slot = self._refresh_slots[platform] = asyncio.Semaphore(
                self.settings.refresh_concurrency
            )
        return slot
