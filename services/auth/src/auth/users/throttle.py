"""Login throttling, counted in PostgreSQL: however many auth processes (workers, replicas)
answer, one address or one email gets the same number of attempts."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from limits import RateLimitItem, parse

from auth.settings import AuthSettings
from auth.users.repository import LoginAttemptRepository
from socialseed import telemetry
from socialseed.db import Database
from socialseed.errors import RateLimited


class TooManyLoginAttempts(RateLimited):
    default_detail = "Too many login attempts; wait a minute and try again."


@dataclass(frozen=True)
class LoginLimit:
    name: str
    item: RateLimitItem  # ``"10/minute"`` parsed by the `limits` library

    def key_hash(self, *parts: str) -> bytes:
        # The limit is part of the key: apps with different limits do not share counts.
        return hashlib.sha256("\0".join((self.name, str(self.item), *parts)).encode()).digest()

    @property
    def window(self) -> timedelta:
        return timedelta(seconds=self.item.get_expiry())


class LoginThrottle:
    def __init__(self, settings: AuthSettings) -> None:
        self.per_ip = LoginLimit("login-ip", parse(settings.login_limit_per_ip))
        self.per_ip_email = LoginLimit(
            "login-ip-email", parse(settings.login_limit_per_ip_and_email)
        )
        self.per_email = LoginLimit("login-email", parse(settings.login_limit_per_email))

    @property
    def longest_window(self) -> timedelta:
        return max(limit.window for limit in (self.per_ip, self.per_ip_email, self.per_email))

    async def hit(self, db: Database, now: datetime, *, ip: str, email: str) -> None:
        """Count one attempt per address, per address and email, and per email across every
        address (an unknown email is counted the same way); 429 ``TooManyLoginAttempts`` with
        Retry-After at the first limit reached. Committed in a transaction of its own, before
        the password is checked: the attempt counts whatever the answer."""
        checks = (
            (self.per_ip, (ip,)),
            (self.per_ip_email, (ip, email)),
            (self.per_email, (email,)),
        )
        async with db.transaction() as session:
            attempts = LoginAttemptRepository(session)
            for limit, parts in checks:
                retry = await attempts.hit(
                    limit.key_hash(*parts), amount=limit.item.amount, window=limit.window, now=now
                )
                if retry is not None:
                    break
        if retry is not None:
            telemetry.RATE_LIMITED.labels("auth", limit.name).inc()
            raise TooManyLoginAttempts(headers={"Retry-After": str(max(1, math.ceil(retry)))})
