"""Argon2id password hashing. Hashing runs in a worker thread: it is deliberately slow."""

from __future__ import annotations

import functools
from pathlib import Path

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from auth.settings import AuthSettings

MIN_LENGTH = 8
MAX_LENGTH = 1024  # generous (ASVS: allow 64+), bounded so hashing cannot be abused


@functools.cache
def common_passwords() -> frozenset[str]:
    path = Path(__file__).with_name("common_passwords.txt")
    return frozenset(line.strip().lower() for line in path.read_text().splitlines() if line)


def weakness(password: str, *, email: str, name: str) -> str | None:
    """Why a password is refused, or None. Unicode is kept as typed; nothing is truncated."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters (15 or more is better)."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    lowered = password.lower()
    if lowered in common_passwords():
        return "This password is among the most common ones; choose another."
    if lowered in {email.lower(), email.split("@")[0].lower(), name.lower()}:
        return "The password must not be your email or name."
    return None


class Hasher:
    def __init__(self, settings: AuthSettings) -> None:
        self._ph = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
        # Verified against when the email is unknown, so timing does not reveal accounts.
        self._dummy = self._ph.hash("socialseed-timing-equaliser")

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self._ph.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        def check() -> bool:
            try:
                return self._ph.verify(stored_hash or self._dummy, password)
            except (VerificationError, InvalidHashError):
                return False

        ok = await anyio.to_thread.run_sync(check)
        return ok and stored_hash is not None

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._ph.check_needs_rehash(stored_hash)
