"""What the auth domain works with, built once by the app factory (no web framework here)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from auth.keys import SigningKey
from auth.passwords import Hasher
from auth.settings import AuthSettings
from auth.users.throttle import LoginThrottle
from socialseed.db import Database
from socialseed.outbox import Outbox
from socialseed.runtime import Runtime


@dataclass
class AuthContext:
    """The auth service's own resources beside its ``Runtime`` (settings, database, jobs),
    which it references instead of copying."""

    runtime: Runtime[AuthSettings]
    key: SigningKey
    hasher: Hasher
    outbox: Outbox
    # The time invitations are dated and expired by; tests replace it to move time.
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        # Counted in the database: shared by every auth worker and replica.
        self.login_throttle = LoginThrottle(self.settings)

    @property
    def settings(self) -> AuthSettings:
        return self.runtime.settings

    @property
    def db(self) -> Database:
        return self.runtime.database
